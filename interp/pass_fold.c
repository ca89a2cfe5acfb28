/* Constant folding at load: a node whose inputs are all constants is run once
 * through its own kernel and replaced by its outputs (Constant nodes, weight
 * standardization on initializers, shape arithmetic on constants). */
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

/* Copies a computed output into the model arena as a constant value. */
static onnxi_status fold_value_store(pass_context *ctx, int32_t id, const op_tensor *t) {
  ir_graph *g = ctx->graph;
  ir_value *v = &g->values[id];
  void *data = arena_alloc(g->arena, t->nbytes ? t->nbytes : 1, 64);
  if (!data) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory folding '%s'", v->name);
  if (t->nbytes) memcpy(data, t->data, t->nbytes);
  if (t->dtype == ONNXI_DTYPE_STRING) { /* string bytes live in plan memory: copy them too */
    ir_string *s = data;
    for (int64_t i = 0; i < t->count; i++) {
      s[i].data = arena_strndup(g->arena, s[i].data ? s[i].data : "", s[i].len);
      if (!s[i].data) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory");
    }
  }
  v->dtype = t->dtype;
  v->shape.rank = t->rank;
  for (int d = 0; d < t->rank; d++) v->shape.dims[d] = (ir_dim){t->dims[d], -1};
  v->data = data;
  v->nbytes = t->nbytes;
  v->flags |= IR_VALUE_CONST;
  v->producer = IR_NONE;
  return ONNXI_OK;
}

/* Runs one node's kernel on constant inputs. UNSUPPORTED and shape errors
 * leave the node for the executor, which reports them in context. */
static onnxi_status fold_node(pass_context *ctx, int32_t id, bool *folded) {
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
    if (out[i]) st = fold_value_store(ctx, n->outputs[i], out[i]);
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
  for (int32_t i = 0; i < g->n_nodes; i++) {
    if (!fold_match(g, &g->nodes[i])) continue;
    bool folded;
    st = fold_node(ctx, i, &folded);
    if (st != ONNXI_OK) return st;
    if (!folded) continue;
    g->nodes[i].flags |= IR_NODE_DEAD;
    pass_note(ctx, "folded '%s' (%s) into a constant", g->nodes[i].name, g->nodes[i].op_type);
  }
  return ONNXI_OK;
}
