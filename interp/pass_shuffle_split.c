/* ChannelShuffle -> Slices along channels (ShuffleNet v2's channel split
 * after the shuffle) becomes one node writing every half straight from the
 * unshuffled input: the shuffled tensor is never stored. Shape nodes that
 * read it are moved to the shuffle's input, which has the same shape in the
 * channel form; the fused kernel checks that form at plan time and reports an
 * error otherwise, so the rewired Shapes can never see a different shape. */
#include <string.h>

#include "passes.h"

#define SPLIT_MAX 8 /* ops/movement.c SHUFFLE_MAX_SPLIT */

/* Constant 1-element integer input k equal to `want` (absent: `absent_ok`). */
static bool split_const_is(const ir_graph *g, const ir_node *n, int k, int64_t want, bool absent_ok) {
  if (k >= n->n_inputs || n->inputs[k] == IR_NONE) return absent_ok;
  const ir_value *v = &g->values[n->inputs[k]];
  if (!(v->flags & IR_VALUE_CONST) || !v->data) return false;
  if (v->dtype == ONNXI_DTYPE_INT64 && v->nbytes == sizeof(int64_t)) {
    int64_t x;
    memcpy(&x, v->data, sizeof x);
    return x == want;
  }
  if (v->dtype == ONNXI_DTYPE_INT32 && v->nbytes == sizeof(int32_t)) {
    int32_t x;
    memcpy(&x, v->data, sizeof x);
    return x == want;
  }
  return false;
}

/* Slice(y, start, end, axes = [1], steps = [1] or absent). */
static bool split_slice_ok(const ir_graph *g, int64_t opset, const ir_node *n, int32_t y) {
  return n->op == IR_OP_SLICE && opset >= 10 && n->n_inputs >= 4 && n->n_inputs <= 5 &&
         n->n_outputs == 1 && n->inputs[0] == y && n->inputs[1] != IR_NONE &&
         n->inputs[2] != IR_NONE && split_const_is(g, n, 3, 1, false) &&
         split_const_is(g, n, 4, 1, true);
}

/* Every reader of y is a channel Slice or a Shape; returns the Slice count. */
static int split_match(const ir_graph *g, int64_t opset, const ir_node *s) {
  if (s->op != IR_OP_CHANNEL_SHUFFLE || (s->flags & IR_NODE_DEAD) || s->n_inputs != 3 ||
      s->n_outputs != 1 || s->outputs[0] == IR_NONE)
    return 0;
  int32_t y = s->outputs[0];
  if (g->values[y].flags & IR_VALUE_OUTPUT) return 0;
  int n_uses = ir_value_use_count(g, y), slices = 0;
  const int32_t *uses = ir_value_uses(g, y);
  for (int i = 0; i < n_uses; i++) {
    const ir_node *u = &g->nodes[uses[i]];
    if (u->flags & IR_NODE_DEAD) return 0;
    if (u->op == IR_OP_SHAPE && u->n_inputs == 1) continue;
    if (!split_slice_ok(g, opset, u, y)) return 0;
    for (int k = 1; k < u->n_inputs; k++) /* y once, as the data */
      if (u->inputs[k] == y) return 0;
    slices++;
  }
  return slices <= SPLIT_MAX ? slices : 0;
}

static onnxi_status split_apply(pass_context *ctx, int32_t sid, int slices) {
  ir_graph *g = ctx->graph;
  ir_node *s = &g->nodes[sid];
  int32_t y = s->outputs[0], x = s->inputs[0];
  int32_t *ins = arena_alloc(g->arena, sizeof(int32_t) * (size_t)(3 + 2 * slices), 4);
  int32_t *outs = arena_alloc(g->arena, sizeof(int32_t) * (size_t)slices, 4);
  if (!ins || !outs) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory in a pass");
  memcpy(ins, s->inputs, sizeof(int32_t) * 3);
  int n_uses = ir_value_use_count(g, y), m = 0;
  const int32_t *uses = ir_value_uses(g, y);
  for (int i = 0; i < n_uses; i++) {
    ir_node *u = &g->nodes[uses[i]];
    if (u->op == IR_OP_SHAPE) {
      u->inputs[0] = x;
      continue;
    }
    if (u->flags & IR_NODE_DEAD) continue; /* listed twice */
    ins[3 + 2 * m] = u->inputs[1];
    ins[4 + 2 * m] = u->inputs[2];
    outs[m++] = u->outputs[0];
    u->flags |= IR_NODE_DEAD;
    pass_note(ctx, "fused '%s' (Slice) into '%s' (channel shuffle)", u->name, s->name);
  }
  s->inputs = ins;
  s->n_inputs = 3 + 2 * m;
  s->outputs = outs;
  s->n_outputs = m;
  return ONNXI_OK;
}

onnxi_status pass_shuffle_split_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  int fused = 0;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    int slices = split_match(g, ctx->model->opset, &g->nodes[i]);
    if (!slices) continue;
    onnxi_status st = split_apply(ctx, i, slices);
    if (st != ONNXI_OK) return st;
    fused++;
  }
  if (!fused) return ONNXI_OK;
  /* The bounds come from Shape math that used to follow the shuffle. */
  onnxi_status st = ir_graph_compact(g, ctx->err);
  if (st == ONNXI_OK) st = ir_graph_sort(g, ctx->err);
  if (st == ONNXI_OK) st = ir_graph_link(g, ctx->err);
  return st;
}
