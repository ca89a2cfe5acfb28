/* Plan building: shapes, constant propagation, layouts, memory, setup. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"
#include "exec_work.h"
#include "reorder.h"

#define EXEC_ALIGN 64
/* XNNPACK may read up to XNN_EXTRA_BYTES (16) past an input: every buffer it
 * can see ends with this much slack. */
#define EXEC_SLACK 64

size_t exec_dtype_elem_size(int32_t dtype) {
  return dtype == ONNXI_DTYPE_STRING ? sizeof(ir_string) : ir_dtype_size(dtype);
}

/* --- tensors and steps ---------------------------------------------------- */

static const exec_tensor *plan_tensor_of(const op_tensor *t) {
  return (const exec_tensor *)t; /* op_tensor is the first member */
}

static int32_t plan_tensor_new(exec_plan *p, int32_t value) {
  /* Capacity is reserved up front: kernels hold op_tensor pointers. */
  if (p->n_tensors >= p->cap_tensors) return IR_NONE;
  int32_t id = p->n_tensors++;
  exec_tensor *e = &p->tensors[id];
  memset(e, 0, sizeof *e);
  e->value = value;
  e->group = IR_NONE;
  e->view_of = IR_NONE;
  e->first = e->last = -1;
  e->t.rank = -1;
  return id;
}

static onnxi_status plan_step_add(exec_plan *p, int32_t node, int32_t n_in, int32_t n_out,
                                  exec_step **out, onnxi_error *err) {
  if (p->n_steps == p->cap_steps) {
    int32_t cap = p->cap_steps ? p->cap_steps * 2 : 64;
    exec_step *s = realloc(p->steps, sizeof *s * (size_t)cap);
    if (!s) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory planning");
    p->steps = s;
    p->cap_steps = cap;
  }
  exec_step *s = &p->steps[p->n_steps++];
  s->node = node;
  s->fused = IR_NONE;
  s->n_in = n_in;
  s->n_out = n_out;
  s->ins = arena_alloc(&p->consts, sizeof(int32_t) * (size_t)(n_in + 1), 4);
  s->outs = arena_alloc(&p->consts, sizeof(int32_t) * (size_t)(n_out + 1), 4);
  if (!s->ins || !s->outs) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory planning");
  *out = s;
  return ONNXI_OK;
}

/* Whether `more` bytes of plan constants fit the session's budget (the
 * consts arena's limit: max_memory_bytes less the model's weights). */
static bool plan_budget_fits(const exec_plan *p, size_t more) {
  const arena *a = &p->consts;
  return !a->limit_bytes || (more <= a->limit_bytes && a->used_bytes <= a->limit_bytes - more);
}

/* Sets count and nbytes from dims, with overflow checks. */
static onnxi_status plan_tensor_size(op_tensor *t, const char *what, onnxi_error *err) {
  size_t elem = exec_dtype_elem_size(t->dtype);
  if (!elem) return err_set(err, ONNXI_ERR_UNSUPPORTED, "%s: dtype %d has no storage", what, t->dtype);
  if (!ir_dims_count(t->dims, t->rank, &t->count) || (uint64_t)t->count > SIZE_MAX / elem)
    return err_set(err, ONNXI_ERR_LIMIT, "%s: element count overflows", what);
  t->nbytes = (size_t)t->count * elem;
  return ONNXI_OK;
}

onnxi_status op_tensor_const_alloc(op_context *ctx, op_tensor *t) {
  exec_plan *p = ctx->plan;
  onnxi_status st = plan_tensor_size(t, "constant", ctx->err);
  if (st != ONNXI_OK) return op_error(ctx, st, "%s", ctx->err ? ctx->err->message : "");
  if (!plan_budget_fits(p, t->nbytes))
    return op_error(ctx, ONNXI_ERR_LIMIT,
                    "a constant of %zu bytes would exceed max_memory_bytes (%zu bytes left "
                    "after the weights, %zu used)",
                    t->nbytes, p->consts.limit_bytes, p->consts.used_bytes);
  t->data = arena_alloc(&p->consts, t->nbytes ? t->nbytes : 1, EXEC_ALIGN);
  if (!t->data) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for a plan constant");
  t->is_const = true;
  return ONNXI_OK;
}

onnxi_status op_tensor_plan_value(op_context *ctx, const op_tensor *t, int k, const void **data) {
  exec_plan *p = ctx->plan;
  if (t->is_const) {
    *data = t->data;
    return ONNXI_OK;
  }
  const exec_tensor *e = plan_tensor_of(t);
  const ir_graph *g = ctx->graph;
  for (int32_t i = 0; p && e->value != IR_NONE && i < g->n_inputs; i++) {
    if (g->inputs[i] == e->value && p->feed) {
      p->input_data_used[i] = true;
      *data = p->feed[i];
      return ONNXI_OK;
    }
  }
  return op_error(ctx, ONNXI_ERR_UNSUPPORTED,
                  "input %d ('%s') must be known when planning (a constant or computed from "
                  "shapes), but it depends on run-time data",
                  k, e->value != IR_NONE ? g->values[e->value].name : "?");
}

/* --- graph inputs and constants ------------------------------------------------ */

static onnxi_status plan_input_bind(exec_session *s, exec_plan *p, int32_t i, int32_t rank,
                                    const int64_t *dims, onnxi_error *err) {
  const ir_graph *g = &s->model->graph;
  const ir_value *v = &g->values[g->inputs[i]];
  op_tensor *t = &p->tensors[g->inputs[i]].t;
  if (rank < 0 || rank > IR_MAX_RANK)
    return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: input '%s': rank %d is out of range",
                   s->name, v->name, rank);
  if (v->shape.rank >= 0 && v->shape.rank != rank)
    return err_set(err, ONNXI_ERR_INVALID_ARG,
                   "%s: input '%s': given rank %d, the model declares rank %d", s->name,
                   v->name, rank, v->shape.rank);
  for (int32_t d = 0; d < rank; d++) {
    if (dims[d] < 0)
      return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: input '%s': dim %d is negative", s->name,
                     v->name, d);
    int64_t want = v->shape.rank >= 0 ? v->shape.dims[d].value : -1;
    if (want >= 0 && want != dims[d])
      return err_set(err, ONNXI_ERR_INVALID_ARG,
                     "%s: input '%s': dim %d is %" PRId64 ", the model declares %" PRId64,
                     s->name, v->name, d, dims[d], want);
    t->dims[d] = dims[d];
  }
  t->rank = rank;
  t->dtype = v->dtype;
  t->layout = IR_LAYOUT_PLAIN;
  t->data = (void *)p->feed[i];
  return plan_tensor_size(t, v->name, err);
}

static void plan_const_bind(const ir_value *v, op_tensor *t) {
  t->dtype = v->dtype;
  t->rank = v->shape.rank;
  for (int32_t d = 0; d < v->shape.rank; d++) t->dims[d] = v->shape.dims[d].value;
  ir_dims_count(t->dims, t->rank, &t->count);
  t->data = v->data;
  t->nbytes = v->nbytes;
  t->is_const = true;
  t->layout = IR_LAYOUT_PLAIN;
}

/* --- layouts ---------------------------------------------------------------------- */

/* Returns the tensor holding `src`'s data in `layout`: a relabelled view when
 * both layouts store the same bytes, a plan-time permuted copy for constants,
 * else a reorder step (shared by every consumer that wants it). */
static onnxi_status plan_layout_convert(exec_session *s, exec_plan *p, int32_t src,
                                        ir_layout layout, int32_t *out, onnxi_error *err) {
  exec_tensor *e = &p->tensors[src];
  for (int32_t t = 0; t < p->n_tensors; t++) {
    exec_tensor *c = &p->tensors[t];
    if (c->first == -2 - src && c->t.layout == layout) { /* cached conversion */
      *out = t;
      return ONNXI_OK;
    }
  }
  int32_t id = plan_tensor_new(p, e->value);
  if (id == IR_NONE) return err_set(err, ONNXI_ERR_LIMIT, "%s: too many layout conversions", s->name);
  e = &p->tensors[src];
  exec_tensor *c = &p->tensors[id];
  c->t = e->t;
  c->t.layout = layout;
  c->first = -2 - src; /* marks "conversion of src" until lifetimes are computed */
  if (op_layout_trivial(e->t.dims, e->t.rank)) {
    c->view_of = src;
  } else if (e->t.is_const) {
    if (!plan_budget_fits(p, e->t.nbytes))
      return err_set(err, ONNXI_ERR_LIMIT, "%s: a %zu-byte constant would exceed max_memory_bytes",
                     s->name, e->t.nbytes);
    c->t.data = arena_alloc(&p->consts, e->t.nbytes ? e->t.nbytes : 1, EXEC_ALIGN);
    if (!c->t.data) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory planning");
    reorder_run(&e->t, &c->t, exec_dtype_elem_size(e->t.dtype), NULL);
  } else {
    exec_step *step;
    onnxi_status st = plan_step_add(p, IR_NONE, 1, 1, &step, err);
    if (st != ONNXI_OK) return st;
    step->ins[0] = src;
    step->outs[0] = id;
    c->t.data = NULL;
  }
  *out = id;
  return ONNXI_OK;
}

/* Moves each rank-4 input into the layout the kernel asks for. */
static onnxi_status plan_inputs_layout(exec_session *s, exec_plan *p, op_context *ctx,
                                       int32_t *ins, op_tensor **in, int32_t n_in) {
  const op_kernel *k = s->kernels[ctx->node - s->model->graph.nodes];
  void *state = s->states[ctx->node - s->model->graph.nodes];
  ir_layout want = k->layout ? k->layout(ctx, state, in, n_in) : IR_LAYOUT_PLAIN;
  if (k->flags & OP_KERNEL_LAYOUT_INPUT0) n_in = n_in > 1 ? 1 : n_in;
  for (int32_t i = 0; i < n_in; i++) {
    if (!in[i] || in[i]->rank != 4 || in[i]->layout == want) continue;
    int32_t id;
    onnxi_status st = plan_layout_convert(s, p, ins[i], want, &id, ctx->err);
    if (st != ONNXI_OK) return st;
    ins[i] = id;
    in[i] = &p->tensors[id].t;
  }
  return ONNXI_OK;
}

/* --- nodes -------------------------------------------------------------------------- */

static onnxi_status plan_outputs_check(op_context *ctx, op_tensor **out, int32_t n_out) {
  for (int32_t k = 0; k < n_out; k++) {
    op_tensor *t = out[k];
    if (!t) continue;
    if (!ir_dtype_valid(t->dtype) || t->rank < 0 || t->rank > IR_MAX_RANK)
      return op_error(ctx, ONNXI_ERR_RUNTIME, "kernel left output %d without a type or shape", k);
    for (int32_t d = 0; d < t->rank; d++)
      if (t->dims[d] < 0)
        return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "output %d: dim %d is negative", k, d);
    if (t->layout == IR_LAYOUT_NHWC && t->rank != 4) t->layout = IR_LAYOUT_PLAIN;
    if (!t->is_const) {
      onnxi_status st = plan_tensor_size(t, "output", ctx->err);
      if (st != ONNXI_OK) return op_error(ctx, st, "output %d is too large", k);
    }
  }
  return ONNXI_OK;
}

/* Computes a node whose inputs are all constants now, into plan memory. */
static onnxi_status plan_node_fold(exec_session *s, op_context *ctx, void *state,
                                   op_tensor **in, int32_t n_in, op_tensor **out, int32_t n_out) {
  const op_kernel *k = s->kernels[ctx->node - s->model->graph.nodes];
  for (int32_t i = 0; i < n_out; i++) {
    if (!out[i] || out[i]->is_const) continue;
    onnxi_status st = op_tensor_const_alloc(ctx, out[i]);
    if (st != ONNXI_OK) return st;
  }
  onnxi_status st = k->setup ? k->setup(ctx, state, in, n_in, out, n_out) : ONNXI_OK;
  if (st == ONNXI_OK) st = k->run(ctx, state, in, n_in, out, n_out);
  return st;
}

static bool plan_all_const(op_tensor **t, int32_t n) {
  for (int32_t i = 0; i < n; i++)
    if (t[i] && !t[i]->is_const) return false;
  return true;
}

/* Adds the node's work to the plan's total, checked against max_run_ops
 * before the node is folded or run (folding counts: it runs at plan time). */
static onnxi_status plan_work_add(const exec_session *s, exec_plan *p, op_context *ctx,
                                  op_tensor *const *in, int32_t n_in, op_tensor *const *out,
                                  int32_t n_out) {
  p->work += exec_node_work(ctx->node, in, n_in, out, n_out);
  if (s->max_work > 0 && p->work > s->max_work)
    return op_error(ctx, ONNXI_ERR_LIMIT,
                    "the plan needs ~%.3g operations per run up to this node, over max_run_ops "
                    "(%.3g)", p->work, s->max_work);
  return ONNXI_OK;
}

static onnxi_status plan_node(exec_session *s, exec_plan *p, int32_t n, onnxi_error *err) {
  const ir_node *node = &s->model->graph.nodes[n];
  const op_kernel *k = s->kernels[n];
  op_context ctx;
  exec_context_init(s, n, p, err, &ctx);
  if (node->n_inputs > EXEC_MAX_IO || node->n_outputs > EXEC_MAX_IO)
    return op_error(&ctx, ONNXI_ERR_LIMIT, "more than %d inputs or outputs", EXEC_MAX_IO);
  int32_t ins[EXEC_MAX_IO], outs[EXEC_MAX_IO];
  op_tensor *in[EXEC_MAX_IO], *out[EXEC_MAX_IO];
  for (int32_t i = 0; i < node->n_inputs; i++) {
    ins[i] = node->inputs[i];
    in[i] = ins[i] == IR_NONE ? NULL : &p->tensors[ins[i]].t;
    if (in[i] && in[i]->rank < 0)
      return op_error(&ctx, ONNXI_ERR_INVALID_MODEL, "input %d ('%s') has no value", i,
                      s->model->graph.values[ins[i]].name);
  }
  for (int32_t i = 0; i < node->n_outputs; i++) {
    outs[i] = node->outputs[i];
    out[i] = outs[i] == IR_NONE ? NULL : &p->tensors[outs[i]].t;
  }
  onnxi_status st = plan_inputs_layout(s, p, &ctx, ins, in, node->n_inputs);
  if (st != ONNXI_OK) return st;
  st = k->infer(&ctx, s->states[n], in, node->n_inputs, out, node->n_outputs);
  if (st == ONNXI_OK) st = plan_outputs_check(&ctx, out, node->n_outputs);
  if (st != ONNXI_OK) return st;
  st = plan_work_add(s, p, &ctx, in, node->n_inputs, out, node->n_outputs);
  if (st != ONNXI_OK) return st;
  if (plan_all_const(out, node->n_outputs)) return ONNXI_OK; /* infer computed it */
  if (plan_all_const(in, node->n_inputs) && !(k->flags & OP_KERNEL_NO_FOLD))
    return plan_node_fold(s, &ctx, s->states[n], in, node->n_inputs, out, node->n_outputs);
  exec_step *step;
  st = plan_step_add(p, n, node->n_inputs, node->n_outputs, &step, err);
  if (st != ONNXI_OK) return st;
  memcpy(step->ins, ins, sizeof(int32_t) * (size_t)node->n_inputs);
  memcpy(step->outs, outs, sizeof(int32_t) * (size_t)node->n_outputs);
  if ((k->flags & OP_KERNEL_VIEW) && node->n_outputs > 0 && out[0] && in[0] &&
      !in[0]->is_const && in[0]->layout == IR_LAYOUT_PLAIN && out[0]->nbytes == in[0]->nbytes)
    p->tensors[outs[0]].view_of = ins[0];
  return ONNXI_OK;
}

/* Graph outputs leave in PLAIN layout; a const or input output is copied. */
static onnxi_status plan_outputs_bind(exec_session *s, exec_plan *p, onnxi_error *err) {
  const ir_graph *g = &s->model->graph;
  for (int32_t i = 0; i < g->n_outputs; i++) {
    int32_t id = g->outputs[i];
    exec_tensor *e = &p->tensors[id];
    if (e->t.rank < 0)
      return err_set(err, ONNXI_ERR_INVALID_MODEL, "%s: graph output '%s' is never computed",
                     s->name, g->values[id].name);
    if (e->t.rank == 4 && e->t.layout == IR_LAYOUT_NHWC) {
      onnxi_status st = plan_layout_convert(s, p, id, IR_LAYOUT_PLAIN, &id, err);
      if (st != ONNXI_OK) return st;
    }
    p->output_tensor[i] = id;
  }
  return ONNXI_OK;
}

/* --- residual fusion ------------------------------------------------------------------- */

/* Per-tensor facts the fold needs, gathered in one pass so that a hostile
 * graph of many Adds costs O(steps), not O(steps^2). Step indices are the
 * plan's before the fold; the fold rebuilds the step list once at the end. */
typedef struct plan_fold {
  int32_t *prod;    /* step writing each tensor, or -1 */
  int32_t *readers; /* step inputs reading each tensor; views and graph outputs count too */
  int32_t *hoist;   /* per step: a reorder step to move before it, or -1 */
  bool *dropped;    /* per step: an Add folded away, or a reorder hoisted elsewhere */
} plan_fold;

static void plan_fold_free(plan_fold *f) {
  free(f->prod), free(f->readers), free(f->hoist), free(f->dropped);
}

static bool plan_fold_init(const exec_session *s, const exec_plan *p, plan_fold *f) {
  size_t nt = (size_t)p->n_tensors + 1, ns = (size_t)p->n_steps + 1;
  f->prod = malloc(sizeof(int32_t) * nt);
  f->readers = calloc(nt, sizeof(int32_t));
  f->hoist = malloc(sizeof(int32_t) * ns);
  f->dropped = calloc(ns, sizeof(bool));
  if (!f->prod || !f->readers || !f->hoist || !f->dropped) return false;
  for (int32_t t = 0; t < p->n_tensors; t++) {
    f->prod[t] = -1;
    if (p->tensors[t].view_of != IR_NONE) f->readers[p->tensors[t].view_of]++;
  }
  for (int32_t i = 0; i < s->model->graph.n_outputs; i++) f->readers[p->output_tensor[i]]++;
  for (int32_t si = 0; si < p->n_steps; si++) {
    const exec_step *st = &p->steps[si];
    f->hoist[si] = -1;
    for (int32_t k = 0; k < st->n_out; k++)
      if (st->outs[k] != IR_NONE) f->prod[st->outs[k]] = si;
    for (int32_t k = 0; k < st->n_in; k++)
      if (st->ins[k] != IR_NONE) f->readers[st->ins[k]]++;
  }
  return true;
}

static bool plan_same_shape(const op_tensor *a, const op_tensor *b) {
  if (a->rank != b->rank || a->layout != b->layout || a->dtype != b->dtype) return false;
  for (int32_t d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return false;
  return true;
}

/* Whether tensor t exists before step sc runs: a graph input or constant
 * (no step writes it), written by an earlier step, or a layout reorder of
 * such a tensor planned later (reorders are planned where first needed;
 * *hoist gets that reorder step, to move before sc). */
static bool plan_ready_before(const exec_plan *p, const plan_fold *f, int32_t t, int32_t sc,
                              int32_t *hoist) {
  int32_t sr = f->prod[t];
  *hoist = -1;
  if (sr < sc) return true;
  if (p->steps[sr].node != IR_NONE || f->dropped[sr]) return false;
  if (f->prod[p->steps[sr].ins[0]] >= sc) return false;
  *hoist = sr;
  return true;
}

/* Conv step for Add step `sa` to fold into: input k is a float Conv output
 * read by nothing else, from a Conv without its own clamp and packed for a
 * kernel that adds R itself, and the other input R (same shape: no
 * broadcasting) exists before that Conv runs. */
static int32_t plan_residual_match(const exec_session *s, const exec_plan *p, const plan_fold *f,
                                   int32_t sa, int32_t *k_out, int32_t *hoist) {
  const exec_step *a = &p->steps[sa];
  const ir_graph *g = &s->model->graph;
  if (a->node == IR_NONE || g->nodes[a->node].op != IR_OP_ADD || a->n_in != 2 || a->n_out != 1)
    return -1;
  const op_tensor *y = &p->tensors[a->outs[0]].t;
  for (int32_t k = 0; k < 2; k++) {
    int32_t t = a->ins[k], r = a->ins[1 - k];
    if (t == IR_NONE || r == IR_NONE || t == r || f->readers[t] != 1) continue;
    const op_tensor *x = &p->tensors[t].t, *res = &p->tensors[r].t;
    if (x->is_const || res->is_const || x->dtype != ONNXI_DTYPE_FLOAT ||
        !plan_same_shape(x, res) || !plan_same_shape(x, y))
      continue;
    int32_t sc = f->prod[t];
    if (sc < 0 || p->steps[sc].node == IR_NONE || p->steps[sc].fused != IR_NONE ||
        p->steps[sc].n_out != 1 || p->steps[sc].n_in > 3)
      continue;
    const ir_node *conv = &g->nodes[p->steps[sc].node];
    const op_kernel *ck = s->kernels[p->steps[sc].node];
    if (!(ck->flags & OP_KERNEL_RESIDUAL) ||
        (ck->residual_ok && !ck->residual_ok(s->states[p->steps[sc].node])) ||
        ir_node_attr(conv, "onnxi.clamp_min") || ir_node_attr(conv, "onnxi.clamp_max"))
      continue;
    if (!plan_ready_before(p, f, r, sc, hoist)) continue; /* R is computed later */
    *k_out = k;
    return sc;
  }
  return -1;
}

/* The step list without the folded Adds, hoisted reorders just before the
 * Conv that needs them (into a copy: a hoist moves a later step earlier). */
static bool plan_fold_rebuild(exec_plan *p, const plan_fold *f) {
  exec_step *out = malloc(sizeof *out * (size_t)(p->n_steps + 1));
  if (!out) return false;
  int32_t n = 0;
  for (int32_t si = 0; si < p->n_steps; si++) {
    if (f->hoist[si] >= 0) out[n++] = p->steps[f->hoist[si]];
    if (!f->dropped[si]) out[n++] = p->steps[si];
  }
  memcpy(p->steps, out, sizeof *out * (size_t)n);
  p->n_steps = n;
  free(out);
  return true;
}

/* Add(Conv(...), R) [with the Add's clamp] becomes one Conv step that adds
 * R as its tile leaves the registers (ResNet's residual connections: one
 * pass over memory fewer per block). Shapes are concrete only here, so
 * this runs on the plan, not the graph; ONNXI_FUSE_RESIDUAL=0 disables. */
static onnxi_status plan_residual_fuse(exec_session *s, exec_plan *p, onnxi_error *err) {
  const char *env = getenv("ONNXI_FUSE_RESIDUAL");
  if (env && !strcmp(env, "0")) return ONNXI_OK;
  plan_fold f;
  if (!plan_fold_init(s, p, &f)) {
    plan_fold_free(&f);
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory planning");
  }
  bool any = false;
  for (int32_t sa = 0; sa < p->n_steps; sa++) {
    int32_t k, hoist, sc = plan_residual_match(s, p, &f, sa, &k, &hoist);
    if (sc < 0) continue;
    exec_step *c = &p->steps[sc], *a = &p->steps[sa];
    int32_t *ins = arena_alloc(&p->consts, sizeof(int32_t) * 4, 4);
    if (!ins) {
      plan_fold_free(&f);
      return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory planning");
    }
    for (int32_t i = 0; i < 3; i++) ins[i] = i < c->n_in ? c->ins[i] : IR_NONE;
    ins[3] = a->ins[1 - k];
    c->ins = ins;
    c->n_in = 4;
    c->outs[0] = a->outs[0];
    c->fused = a->node;
    f.prod[a->outs[0]] = sc;
    f.dropped[sa] = true;
    if (hoist >= 0) {
      f.hoist[sc] = hoist;
      f.dropped[hoist] = true;
      f.prod[p->steps[hoist].outs[0]] = sc; /* now before sc: ready for later folds */
    }
    any = true;
  }
  bool ok = !any || plan_fold_rebuild(p, &f);
  plan_fold_free(&f);
  return ok ? ONNXI_OK : err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory planning");
}

/* --- memory ------------------------------------------------------------------------------ */

static int32_t plan_group_find(exec_plan *p, int32_t t) {
  while (p->tensors[t].view_of != IR_NONE) t = p->tensors[t].view_of;
  return t;
}

/* Steps' tensor ranges; every non-constant tensor belongs to the group of
 * the tensor it views (views and relabels share bytes). */
static void plan_lifetimes(exec_session *s, exec_plan *p) {
  const ir_graph *g = &s->model->graph;
  for (int32_t t = 0; t < p->n_tensors; t++) p->tensors[t].first = p->tensors[t].last = -1;
  for (int32_t i = 0; i < g->n_inputs; i++) p->tensors[g->inputs[i]].first = 0;
  for (int32_t si = 0; si < p->n_steps; si++) {
    const exec_step *st = &p->steps[si];
    for (int32_t k = 0; k < st->n_out; k++)
      if (st->outs[k] != IR_NONE && p->tensors[st->outs[k]].first < 0) p->tensors[st->outs[k]].first = si;
    for (int32_t k = 0; k < st->n_in; k++)
      if (st->ins[k] != IR_NONE) p->tensors[st->ins[k]].last = si;
  }
  for (int32_t i = 0; i < g->n_outputs; i++) p->tensors[p->output_tensor[i]].last = p->n_steps;
  for (int32_t t = 0; t < p->n_tensors; t++) {
    exec_tensor *e = &p->tensors[t];
    if (e->t.is_const || e->t.rank < 0) continue;
    if (e->first < 0 && e->last < 0) continue; /* never produced or read at run time */
    if (e->first < 0) e->first = e->last;
    if (e->last < e->first) e->last = e->first;
  }
}

static onnxi_status plan_groups_build(exec_session *s, exec_plan *p, onnxi_error *err) {
  const ir_graph *g = &s->model->graph;
  p->groups = calloc((size_t)p->n_tensors + 1, sizeof *p->groups);
  if (!p->groups) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory planning");
  for (int32_t t = 0; t < p->n_tensors; t++) {
    p->groups[t].first = INT32_MAX;
    p->groups[t].last = -1;
  }
  for (int32_t t = 0; t < p->n_tensors; t++) {
    exec_tensor *e = &p->tensors[t];
    e->group = IR_NONE;
    if (e->t.is_const || e->first < 0) continue;
    int32_t root = plan_group_find(p, t);
    exec_group *gr = &p->groups[root];
    gr->first = e->first < gr->first ? e->first : gr->first;
    gr->last = e->last > gr->last ? e->last : gr->last;
    gr->size = e->t.nbytes > gr->size ? e->t.nbytes : gr->size;
    e->group = root;
  }
  for (int32_t i = 0; i < g->n_inputs; i++) p->groups[p->tensors[g->inputs[i]].group].pinned = true;
  for (int32_t i = 0; i < g->n_outputs; i++) {
    int32_t gr = p->tensors[p->output_tensor[i]].group;
    if (gr != IR_NONE) p->groups[gr].pinned = true;
  }
  p->n_groups = p->n_tensors;
  return ONNXI_OK;
}

/* The input step st may overwrite with its output 0, or -1: input 0 of an
 * in-place kernel, or a folded residual R (input 3), which the own conv
 * kernels read at each element just before they write Y there (ops/conv.c
 * saves R for a path that does not). Y over R spares the stores fetching
 * Y's lines and a buffer: ResNet-50's 16 Add-convs, 2 alternating
 * profiles, 10.3-10.5 -> 9.6-9.7 ms at 1 thread, 5.1-5.3 -> 4.7-5.1 at 2;
 * arena 7.2 -> 6.4 MB. */
static int32_t plan_inplace_input(const exec_session *s, const exec_step *st) {
  if (st->node == IR_NONE || st->n_out < 1 || st->outs[0] == IR_NONE) return -1;
  uint32_t flags = s->kernels[st->node]->flags;
  if ((flags & OP_KERNEL_INPLACE) && st->n_in >= 1) return 0;
  if ((flags & OP_KERNEL_RESIDUAL) && st->fused != IR_NONE && st->n_in == 4) return 3;
  return -1;
}

/* Lets a step write over an input (plan_inplace_input) that dies there. */
static void plan_inplace_merge(exec_session *s, exec_plan *p) {
  for (int32_t si = 0; si < p->n_steps; si++) {
    const exec_step *st = &p->steps[si];
    int32_t k0 = plan_inplace_input(s, st);
    if (k0 < 0 || st->ins[k0] == IR_NONE) continue;
    exec_tensor *a = &p->tensors[st->ins[k0]], *b = &p->tensors[st->outs[0]];
    if (a->group == IR_NONE || b->group == IR_NONE || a->group == b->group) continue;
    exec_group *ga = &p->groups[a->group], *gb = &p->groups[b->group];
    bool used_again = false;
    for (int32_t k = 0; k < st->n_in; k++)
      used_again |= k != k0 && st->ins[k] != IR_NONE && p->tensors[st->ins[k]].group == a->group;
    if (ga->pinned || gb->pinned || ga->last != si || gb->first != si || used_again) continue;
    if (ga->size != gb->size || a->t.layout != b->t.layout) continue;
    ga->last = gb->last;
    int32_t old = b->group;
    for (int32_t t = 0; t < p->n_tensors; t++)
      if (p->tensors[t].group == old) p->tensors[t].group = a->group;
    gb->size = 0;
  }
}

/* Pinned groups get their own buffers, the rest share the arena: everything
 * is sized first and checked against max_memory_bytes, then allocated. */
static onnxi_status plan_memory_place(const exec_session *s, exec_plan *p, onnxi_error *err) {
  plan_init(&p->mem, EXEC_ALIGN);
  bool *used = calloc((size_t)p->n_groups + 1, sizeof *used);
  if (!used) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory planning");
  for (int32_t t = 0; t < p->n_tensors; t++)
    if (p->tensors[t].group != IR_NONE) used[p->tensors[t].group] = true;
  onnxi_status st = ONNXI_OK;
  size_t pinned = 0;
  for (int32_t gi = 0; gi < p->n_groups && st == ONNXI_OK; gi++) {
    exec_group *gr = &p->groups[gi];
    gr->buffer = IR_NONE;
    gr->pinned &= used[gi];
    if (!used[gi]) continue;
    if (gr->pinned) {
      size_t sz = (gr->size + EXEC_ALIGN - 1) & ~(size_t)(EXEC_ALIGN - 1);
      pinned = sz + EXEC_SLACK > SIZE_MAX - pinned ? SIZE_MAX : pinned + sz + EXEC_SLACK;
      continue;
    }
    st = plan_buffer_add(&p->mem, gr->size, gr->first, gr->last, &gr->buffer, err);
  }
  free(used);
  if (st == ONNXI_OK) st = plan_place(&p->mem, err);
  if (st != ONNXI_OK) return st;
  /* allocated even when empty: zero-size tensors still get a real pointer */
  size_t arena_sz = p->mem.arena_bytes + EXEC_SLACK;
  size_t total = arena_sz < p->mem.arena_bytes || arena_sz > SIZE_MAX - pinned
                     ? SIZE_MAX : arena_sz + pinned;
  if (!plan_budget_fits(p, total))
    return err_set(err, ONNXI_ERR_LIMIT,
                   "%s: the plan needs %zu bytes of activations (plus %zu of constants and %zu "
                   "of weights), over max_memory_bytes (%zu)",
                   s->name, total, p->consts.used_bytes, s->model->arena.used_bytes, s->max_bytes);
  for (int32_t gi = 0; gi < p->n_groups; gi++) {
    exec_group *gr = &p->groups[gi];
    if (!gr->pinned) continue;
    size_t sz = (gr->size + EXEC_ALIGN - 1) & ~(size_t)(EXEC_ALIGN - 1);
    gr->pinned_data = aligned_alloc(EXEC_ALIGN, sz + EXEC_SLACK);
    if (!gr->pinned_data) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory: %zu bytes", gr->size);
    memset(gr->pinned_data, 0, sz + EXEC_SLACK);
  }
  p->arena_data = aligned_alloc(EXEC_ALIGN, (arena_sz + EXEC_ALIGN - 1) & ~(size_t)(EXEC_ALIGN - 1));
  if (!p->arena_data)
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory: arena of %zu bytes", p->mem.arena_bytes);
  for (int32_t t = 0; t < p->n_tensors; t++) {
    exec_tensor *e = &p->tensors[t];
    if (e->group == IR_NONE) continue;
    exec_group *gr = &p->groups[e->group];
    e->t.data = gr->pinned ? gr->pinned_data
                           : (char *)p->arena_data + p->mem.bufs[gr->buffer].offset;
  }
  return ONNXI_OK;
}

static onnxi_status plan_setup(exec_session *s, exec_plan *p, onnxi_error *err) {
  for (int32_t si = 0; si < p->n_steps; si++) {
    const exec_step *st = &p->steps[si];
    if (st->node == IR_NONE || !s->kernels[st->node]->setup) continue;
    op_tensor *in[EXEC_MAX_IO], *out[EXEC_MAX_IO];
    for (int32_t k = 0; k < st->n_in; k++) in[k] = st->ins[k] == IR_NONE ? NULL : &p->tensors[st->ins[k]].t;
    for (int32_t k = 0; k < st->n_out; k++) out[k] = st->outs[k] == IR_NONE ? NULL : &p->tensors[st->outs[k]].t;
    op_context ctx;
    exec_context_init(s, st->node, p, err, &ctx);
    ctx.fused = st->fused != IR_NONE ? &s->model->graph.nodes[st->fused] : NULL;
    onnxi_status r = s->kernels[st->node]->setup(&ctx, s->states[st->node], in, st->n_in, out, st->n_out);
    if (r != ONNXI_OK) return r;
  }
  return ONNXI_OK;
}

/* --- key ---------------------------------------------------------------------------------- */

static onnxi_status plan_key_save(exec_plan *p, const ir_graph *g, const int32_t *ranks,
                                  const int64_t (*dims)[IR_MAX_RANK], onnxi_error *err) {
  for (int32_t i = 0; i < g->n_inputs; i++) {
    p->input_rank[i] = ranks[i];
    memcpy(p->input_dims[i], dims[i], sizeof(int64_t) * IR_MAX_RANK);
    if (!p->input_data_used[i]) continue;
    size_t n = p->tensors[g->inputs[i]].t.nbytes;
    p->input_data_copy[i] = malloc(n ? n : 1);
    if (!p->input_data_copy[i]) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
    if (n) memcpy(p->input_data_copy[i], p->feed[i], n);
    p->input_data_bytes[i] = n;
  }
  p->feed = NULL;
  return ONNXI_OK;
}

bool exec_plan_matches(const exec_plan *p, const int32_t *ranks,
                       const int64_t (*dims)[IR_MAX_RANK], const void *const *feed) {
  for (int32_t i = 0; i < p->n_inputs; i++) {
    if (p->input_rank[i] != ranks[i]) return false;
    for (int32_t d = 0; d < ranks[i]; d++)
      if (p->input_dims[i][d] != dims[i][d]) return false;
    if (p->input_data_used[i] &&
        memcmp(p->input_data_copy[i], feed[i], p->input_data_bytes[i]) != 0)
      return false;
  }
  return true;
}

void exec_plan_free(exec_plan *p) {
  if (!p) return;
  for (int32_t i = 0; i < p->n_inputs; i++) free(p->input_data_copy ? p->input_data_copy[i] : NULL);
  for (int32_t gi = 0; p->groups && gi < p->n_groups; gi++) free(p->groups[gi].pinned_data);
  free(p->input_rank);
  free(p->input_dims);
  free(p->input_data_used);
  free(p->input_data_copy);
  free(p->input_data_bytes);
  free(p->tensors);
  free(p->steps);
  free(p->groups);
  free(p->output_tensor);
  free(p->arena_data);
  plan_release(&p->mem);
  arena_release(&p->consts);
  free(p);
}

static onnxi_status plan_alloc(const exec_session *s, const void *const *feed, exec_plan **out,
                               onnxi_error *err) {
  const ir_graph *g = &s->model->graph;
  exec_plan *p = calloc(1, sizeof *p);
  if (!p) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory planning");
  *out = p;
  size_t ni = (size_t)g->n_inputs + 1;
  p->n_inputs = g->n_inputs;
  p->input_rank = calloc(ni, sizeof *p->input_rank);
  p->input_dims = calloc(ni, sizeof *p->input_dims);
  p->input_data_used = calloc(ni, sizeof *p->input_data_used);
  p->input_data_copy = calloc(ni, sizeof *p->input_data_copy);
  p->input_data_bytes = calloc(ni, sizeof *p->input_data_bytes);
  p->output_tensor = calloc((size_t)g->n_outputs + 1, sizeof *p->output_tensor);
  /* every value, one layout conversion of each, and the output reorders */
  p->cap_tensors = g->n_values * 2 + g->n_outputs + 1;
  p->tensors = calloc((size_t)p->cap_tensors, sizeof *p->tensors);
  size_t weights = s->model->arena.used_bytes;
  arena_init(&p->consts, weights < s->max_bytes ? s->max_bytes - weights : 1);
  p->feed = feed;
  if (!p->input_rank || !p->input_dims || !p->input_data_used || !p->input_data_copy ||
      !p->input_data_bytes || !p->output_tensor || !p->tensors)
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory planning");
  for (int32_t v = 0; v < g->n_values; v++) {
    plan_tensor_new(p, v);
    if (g->values[v].flags & IR_VALUE_CONST) plan_const_bind(&g->values[v], &p->tensors[v].t);
  }
  return ONNXI_OK;
}

onnxi_status exec_plan_build(exec_session *s, const int32_t *ranks,
                             const int64_t (*dims)[IR_MAX_RANK], const void *const *feed,
                             exec_plan **out, onnxi_error *err) {
  const ir_graph *g = &s->model->graph;
  exec_plan *p = NULL;
  onnxi_status st = plan_alloc(s, feed, &p, err);
  for (int32_t i = 0; st == ONNXI_OK && i < g->n_inputs; i++)
    st = plan_input_bind(s, p, i, ranks[i], dims[i], err);
  for (int32_t n = 0; st == ONNXI_OK && n < g->n_nodes; n++) st = plan_node(s, p, n, err);
  if (st == ONNXI_OK) st = plan_outputs_bind(s, p, err);
  if (st == ONNXI_OK) st = plan_residual_fuse(s, p, err);
  if (st == ONNXI_OK) {
    plan_lifetimes(s, p);
    st = plan_groups_build(s, p, err);
  }
  if (st == ONNXI_OK) {
    plan_inplace_merge(s, p);
    st = plan_memory_place(s, p, err);
  }
  if (st == ONNXI_OK) st = plan_setup(s, p, err);
  if (st == ONNXI_OK) st = plan_key_save(p, g, ranks, dims, err);
  if (st != ONNXI_OK) {
    exec_plan_free(p);
    return st;
  }
  *out = p;
  return ONNXI_OK;
}
