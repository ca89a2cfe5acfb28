/* Constant folding at load: a node whose inputs are all constants is run once
 * through its own kernel and replaced by its outputs (Constant nodes, weight
 * standardization on initializers, shape arithmetic on constants).
 *
 * Peak memory: weight standardization makes three weight-sized intermediates
 * per convolution (w - mean, its square, the quotient), which the model
 * arena would keep for good (~4x the weights on BiT). Results are therefore
 * held on the heap while the pass runs and freed as soon as their last
 * consumer is folded; the survivors then move into the arena, reusing the
 * bytes of initializers nothing reads any more (the raw weights). */
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"
#include "passes.h"

#define FOLD_MAX_BYTES ((size_t)256 << 20) /* larger results stay computed at run time */

static bool fold_match(const ir_graph *g, const ir_node *n) {
  if ((n->flags & IR_NODE_DEAD) || !op_kernel_find(n->op) || n->n_outputs < 1) return false;
  if (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0) return false;
  if (op_kernel_find(n->op)->flags & OP_KERNEL_NO_FOLD) return false;
  for (int32_t k = 0; k < n->n_inputs; k++)
    if (n->inputs[k] != IR_NONE && !(g->values[n->inputs[k]].flags & IR_VALUE_CONST)) return false;
  return true;
}

static void fold_tensor_from_value(const ir_value *v, op_tensor *t) {
  memset(t, 0, sizeof *t);
  t->dtype = v->dtype;
  t->rank = v->shape.rank;
  for (int d = 0; d < v->shape.rank; d++) t->dims[d] = v->shape.dims[d].value;
  ir_dims_count(t->dims, t->rank, &t->count);
  t->data = v->data;
  t->nbytes = v->nbytes;
  t->is_const = true;
}

/* Per-pass bookkeeping: heap[v] owns value v's data while the pass runs;
 * spare lists arena bytes of initializers whose every reader was folded. */
typedef struct fold_state {
  void **heap;
  int32_t *spare;
  int32_t n_spare;
  bool reclaim; /* false when subgraphs may read outer values by name */
} fold_state;

#define FOLD_SLACK 64 /* XNNPACK may read 16 bytes past a constant input */

static unsigned char fold_empty[FOLD_SLACK]; /* data of a value whose bytes were reclaimed */

static void fold_value_set(ir_value *v, const op_tensor *t, void *data) {
  v->dtype = t->dtype;
  v->shape.rank = t->rank;
  for (int d = 0; d < t->rank; d++) v->shape.dims[d] = (ir_dim){t->dims[d], -1};
  v->data = data;
  v->nbytes = t->nbytes;
  v->flags |= IR_VALUE_CONST;
  v->producer = IR_NONE;
}

/* Copies a computed output into a constant value: on the heap (numbers), or
 * into the model arena (strings, whose bytes live in plan memory too). */
static onnxi_status fold_value_store(pass_context *ctx, fold_state *fs, int32_t id,
                                     const op_tensor *t) {
  ir_graph *g = ctx->graph;
  ir_value *v = &g->values[id];
  void *data;
  if (t->dtype != ONNXI_DTYPE_STRING && fs->heap) {
    data = aligned_alloc(64, (t->nbytes + FOLD_SLACK + 63) & ~(size_t)63);
    if (!data) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory folding '%s'", v->name);
    free(fs->heap[id]); /* a value is produced once, but stay safe */
    fs->heap[id] = data;
  } else {
    data = arena_alloc(g->arena, t->nbytes ? t->nbytes : 1, 64);
    if (!data) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory folding '%s'", v->name);
  }
  if (t->nbytes) memcpy(data, t->data, t->nbytes);
  if (t->dtype == ONNXI_DTYPE_STRING) {
    ir_string *s = data;
    for (int64_t i = 0; i < t->count; i++) {
      s[i].data = arena_strndup(g->arena, s[i].data ? s[i].data : "", s[i].len);
      if (!s[i].data) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory");
    }
  }
  fold_value_set(v, t, data);
  return ONNXI_OK;
}

/* True when nothing will read v again: every consumer is folded (dead). */
static bool fold_value_unread(const ir_graph *g, int32_t v) {
  const ir_value *val = &g->values[v];
  if (!(val->flags & IR_VALUE_CONST) || (val->flags & (IR_VALUE_INPUT | IR_VALUE_OUTPUT)) ||
      val->data == fold_empty)
    return false;
  const int32_t *uses = ir_value_uses(g, v);
  for (int32_t k = 0; k < ir_value_use_count(g, v); k++)
    if (!(g->nodes[uses[k]].flags & IR_NODE_DEAD)) return false;
  return true;
}

/* Leaves v a constant with no elements (its bytes freed or given away). */
static void fold_value_empty(ir_value *v) {
  v->shape.rank = 1;
  v->shape.dims[0] = (ir_dim){0, -1};
  v->data = fold_empty;
  v->nbytes = 0;
}

/* After node n folded: frees heap results nothing reads any more (its inputs,
 * or its own unread outputs) and records such arena initializers as spare
 * bytes (initializers are arena copies, written in place by bn-fold too). */
static void fold_inputs_release(ir_graph *g, fold_state *fs, const ir_node *n) {
  if (!fs->reclaim) return;
  for (int32_t k = 0; k < n->n_inputs + n->n_outputs; k++) {
    int32_t v = k < n->n_inputs ? n->inputs[k] : n->outputs[k - n->n_inputs];
    if (v == IR_NONE || !fold_value_unread(g, v)) continue;
    if (fs->heap[v]) {
      free(fs->heap[v]);
      fs->heap[v] = NULL;
      fold_value_empty(&g->values[v]);
    } else if (g->values[v].nbytes >= 4096 && g->values[v].dtype != ONNXI_DTYPE_STRING) {
      fs->spare[fs->n_spare++] = v;
      g->values[v].flags &= ~IR_VALUE_CONST; /* listed once; restored when not reused */
    }
  }
}

/* The smallest spare initializer holding at least `bytes`, or -1. */
static int fold_spare_fit(const ir_graph *g, const fold_state *fs, size_t bytes) {
  int best = -1;
  for (int i = 0; i < fs->n_spare; i++) {
    int32_t v = fs->spare[i];
    if (v == IR_NONE || g->values[v].nbytes < bytes) continue;
    if (best < 0 || g->values[v].nbytes < g->values[fs->spare[best]].nbytes) best = i;
  }
  return best;
}

/* Moves every heap result into the arena (into spare initializer bytes when
 * one is large enough) and frees the bookkeeping. */
static onnxi_status fold_state_finish(pass_context *ctx, fold_state *fs, onnxi_status st) {
  ir_graph *g = ctx->graph;
  for (int32_t v = 0; fs->heap && v < g->n_values; v++) {
    if (!fs->heap[v]) continue;
    ir_value *val = &g->values[v];
    void *dst = NULL;
    int i = st == ONNXI_OK ? fold_spare_fit(g, fs, val->nbytes) : -1;
    if (i >= 0) {
      dst = g->values[fs->spare[i]].data;
      fold_value_empty(&g->values[fs->spare[i]]);
      g->values[fs->spare[i]].flags |= IR_VALUE_CONST;
      fs->spare[i] = IR_NONE;
    } else if (st == ONNXI_OK) {
      dst = arena_alloc(g->arena, val->nbytes ? val->nbytes : 1, 64);
      if (!dst) st = err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory folding '%s'", val->name);
    }
    if (dst && val->nbytes) memcpy(dst, fs->heap[v], val->nbytes);
    if (!dst) fold_value_empty(val); /* failing: the model is released anyway */
    else val->data = dst;
    free(fs->heap[v]);
  }
  for (int i = 0; i < fs->n_spare; i++)
    if (fs->spare[i] != IR_NONE) g->values[fs->spare[i]].flags |= IR_VALUE_CONST;
  free(fs->heap);
  free(fs->spare);
  return st;
}

/* Subgraphs name outer values directly (not through use lists): freeing
 * anything would be unsafe then. */
static bool fold_graph_has_subgraphs(const ir_graph *g) {
  for (int32_t i = 0; i < g->n_nodes; i++)
    for (int32_t a = 0; a < g->nodes[i].n_attrs; a++)
      if (g->nodes[i].attrs[a].type == IR_ATTR_GRAPH || g->nodes[i].attrs[a].type == IR_ATTR_GRAPHS)
        return true;
  return false;
}

/* Runs one node's kernel on constant inputs. UNSUPPORTED and shape errors
 * leave the node for the executor, which reports them in context. */
static onnxi_status fold_node(pass_context *ctx, fold_state *fs, int32_t id, bool *folded) {
  ir_graph *g = ctx->graph;
  ir_node *n = &g->nodes[id];
  const op_kernel *k = op_kernel_find(n->op);
  *folded = false;
  if (n->n_inputs > EXEC_MAX_IO || n->n_outputs > EXEC_MAX_IO) return ONNXI_OK;
  exec_plan plan;
  memset(&plan, 0, sizeof plan);
  arena_init(&plan.consts, FOLD_MAX_BYTES);
  op_tensor in_t[EXEC_MAX_IO], out_t[EXEC_MAX_IO];
  op_tensor *in[EXEC_MAX_IO], *out[EXEC_MAX_IO];
  for (int32_t i = 0; i < n->n_inputs; i++) {
    in[i] = n->inputs[i] == IR_NONE ? NULL : &in_t[i];
    if (in[i]) fold_tensor_from_value(&g->values[n->inputs[i]], in[i]);
  }
  for (int32_t i = 0; i < n->n_outputs; i++) {
    memset(&out_t[i], 0, sizeof out_t[i]);
    out_t[i].rank = -1;
    out[i] = n->outputs[i] == IR_NONE ? NULL : &out_t[i];
  }
  onnxi_error local = {0};
  op_context c = {.model = ctx->model->path, .graph = g, .node = n, .opset = ctx->model->opset,
                  .err = &local, .plan = &plan};
  void *state = k->state_size ? calloc(1, k->state_size) : NULL;
  onnxi_status st = k->state_size && !state ? ONNXI_ERR_NO_MEMORY : ONNXI_OK;
  if (st == ONNXI_OK) st = op_node_check(&c);
  if (st == ONNXI_OK && k->init) st = k->init(&c, state);
  if (st == ONNXI_OK) st = k->infer(&c, state, in, n->n_inputs, out, n->n_outputs);
  bool all_const = true; /* infer may have computed everything (Constant, Shape) */
  for (int32_t i = 0; st == ONNXI_OK && i < n->n_outputs; i++) {
    if (!out[i] || out[i]->is_const) continue;
    all_const = false;
    st = op_tensor_const_alloc(&c, out[i]);
  }
  if (st == ONNXI_OK && !all_const && k->setup) st = k->setup(&c, state, in, n->n_inputs, out, n->n_outputs);
  if (st == ONNXI_OK && !all_const) st = k->run(&c, state, in, n->n_inputs, out, n->n_outputs);
  for (int32_t i = 0; st == ONNXI_OK && i < n->n_outputs; i++)
    if (out[i]) st = fold_value_store(ctx, fs, n->outputs[i], out[i]);
  if (k->release) k->release(state);
  free(state);
  arena_release(&plan.consts);
  if (st == ONNXI_ERR_NO_MEMORY && local.status != ONNXI_ERR_NO_MEMORY) return err_set(ctx->err, st, "out of memory folding");
  *folded = st == ONNXI_OK;
  return ONNXI_OK; /* a node that cannot fold now is the executor's to judge */
}

onnxi_status pass_fold_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  onnxi_status st = exec_xnnpack_init(ctx->err);
  if (st != ONNXI_OK) return st;
  fold_state fs = {.reclaim = !fold_graph_has_subgraphs(g)};
  fs.heap = calloc((size_t)g->n_values + 1, sizeof *fs.heap);
  fs.spare = calloc((size_t)g->n_values + 1, sizeof *fs.spare);
  if (!fs.heap || !fs.spare)
    return fold_state_finish(ctx, &fs, err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory"));
  for (int32_t i = 0; i < g->n_nodes && st == ONNXI_OK; i++) {
    if (!fold_match(g, &g->nodes[i])) continue;
    bool folded;
    st = fold_node(ctx, &fs, i, &folded);
    if (st != ONNXI_OK || !folded) continue;
    g->nodes[i].flags |= IR_NODE_DEAD;
    fold_inputs_release(g, &fs, &g->nodes[i]);
    pass_note(ctx, "folded '%s' (%s) into a constant", g->nodes[i].name, g->nodes[i].op_type);
  }
  return fold_state_finish(ctx, &fs, st);
}
