/* Relu and constant-bound Clip after Conv, Gemm or Add/Sub/Mul/Div become the
 * producer's output clamp (XNNPACK's output_min/output_max), saving a pass
 * over memory. A Relu after a channel Concat (ShuffleNet v1) moves into the
 * Concat's inputs the same way, and vanishes for inputs already known to be
 * non-negative (pooled or padded outputs of a Relu). */
#include <math.h>
#include <string.h>

#include "passes.h"

static bool act_producer_ok(const ir_node *p) {
  switch (p->op) {
  case IR_OP_CONV: case IR_OP_GEMM: case IR_OP_ADD: case IR_OP_SUB: case IR_OP_MUL: case IR_OP_DIV:
    return !(p->flags & IR_NODE_DEAD);
  default:
    return false;
  }
}

/* Float evidence for a value: its declared dtype, or a float-only producer
 * upstream (a clamp must not land on an integer Add). */
static bool act_value_is_float(const ir_graph *g, int32_t v, int depth) {
  if (v == IR_NONE || depth > 16) return false;
  const ir_value *val = &g->values[v];
  if (val->dtype != ONNXI_DTYPE_UNDEFINED) return val->dtype == ONNXI_DTYPE_FLOAT;
  if (val->producer == IR_NONE) return false;
  const ir_node *p = &g->nodes[val->producer];
  switch (p->op) {
  case IR_OP_CONV: case IR_OP_GEMM: case IR_OP_BATCH_NORMALIZATION: case IR_OP_GLOBAL_AVERAGE_POOL:
  case IR_OP_AVERAGE_POOL: case IR_OP_SIGMOID: case IR_OP_HARD_SWISH: case IR_OP_HARD_SIGMOID:
    return true;
  case IR_OP_ADD: case IR_OP_SUB: case IR_OP_MUL: case IR_OP_DIV: case IR_OP_RELU: case IR_OP_CLIP:
  case IR_OP_MAX_POOL: case IR_OP_CONCAT: case IR_OP_RESHAPE: case IR_OP_FLATTEN:
    for (int32_t k = 0; k < p->n_inputs; k++)
      if (act_value_is_float(g, p->inputs[k], depth + 1)) return true;
    return false;
  default:
    return false;
  }
}

static bool act_const_scalar(const ir_graph *g, const ir_node *n, int k, float *out) {
  if (k >= n->n_inputs || n->inputs[k] == IR_NONE) return true; /* omitted: keep default */
  int64_t count;
  const float *d = pass_const_f32(g, n->inputs[k], &count);
  if (!d || count != 1) return false;
  *out = d[0];
  return true;
}

/* Bounds of a Relu or Clip node, false when they are not load-time constants. */
static bool act_bounds(const ir_graph *g, int64_t opset, const ir_node *n, float *lo, float *hi) {
  *lo = -INFINITY;
  *hi = INFINITY;
  if (n->op == IR_OP_RELU) {
    *lo = 0.0f;
    return n->n_inputs == 1;
  }
  if (n->op != IR_OP_CLIP) return false;
  if (opset < 11) {
    const ir_attr *a = ir_node_attr(n, "min"), *b = ir_node_attr(n, "max");
    if ((a && a->type != IR_ATTR_FLOAT) || (b && b->type != IR_ATTR_FLOAT)) return false;
    if (a) *lo = a->f;
    if (b) *hi = b->f;
    return true;
  }
  return act_const_scalar(g, n, 1, lo) && act_const_scalar(g, n, 2, hi);
}

static onnxi_status act_apply(pass_context *ctx, int32_t prod, int32_t act, float lo, float hi) {
  ir_graph *g = ctx->graph;
  ir_node *p = &g->nodes[prod], *a = &g->nodes[act];
  const ir_attr *old_lo = ir_node_attr(p, "onnxi.clamp_min"), *old_hi = ir_node_attr(p, "onnxi.clamp_max");
  if (old_lo && old_lo->f > lo) lo = old_lo->f;
  if (old_hi && old_hi->f < hi) hi = old_hi->f;
  onnxi_status st = ONNXI_OK;
  if (lo > -INFINITY) st = pass_attr_set_float(ctx, p, "onnxi.clamp_min", lo);
  if (st == ONNXI_OK && hi < INFINITY) st = pass_attr_set_float(ctx, p, "onnxi.clamp_max", hi);
  if (st != ONNXI_OK) return st;
  p->outputs[0] = a->outputs[0];
  g->values[a->outputs[0]].producer = prod;
  a->flags |= IR_NODE_DEAD;
  pass_note(ctx, "fused '%s' (%s) into '%s' (%s) as clamp [%g, %g]", a->name, a->op_type, p->name,
            p->op_type, (double)lo, (double)hi);
  return ONNXI_OK;
}

/* True when every element of v is >= 0 whatever the input: a clamp at or
 * above 0, or ops that only move, pool or zero-pad such values. */
static bool act_nonneg(const ir_graph *g, int32_t v, int depth) {
  if (v == IR_NONE || depth > 12 || g->values[v].producer == IR_NONE) return false;
  const ir_node *p = &g->nodes[g->values[v].producer];
  const ir_attr *lo = ir_node_attr(p, "onnxi.clamp_min");
  if (lo && lo->type == IR_ATTR_FLOAT && lo->f >= 0) return true;
  switch (p->op) {
  case IR_OP_RELU: return true;
  case IR_OP_PAD: {
    const ir_attr *mode = ir_node_attr(p, "mode"), *value = ir_node_attr(p, "value");
    if (mode && (mode->type != IR_ATTR_STRING || strcmp(mode->s.data, "constant") != 0)) return false;
    if (value && (value->type != IR_ATTR_FLOAT || !(value->f >= 0))) return false;
    if (p->n_inputs > 2 && p->inputs[2] != IR_NONE) return false; /* a constant_value input */
    return act_nonneg(g, p->inputs[0], depth + 1);
  }
  case IR_OP_MAX_POOL: case IR_OP_AVERAGE_POOL: case IR_OP_GLOBAL_AVERAGE_POOL:
  case IR_OP_GLOBAL_MAX_POOL: case IR_OP_RESHAPE: case IR_OP_FLATTEN: case IR_OP_TRANSPOSE:
  case IR_OP_CHANNEL_SHUFFLE:
    return p->n_inputs >= 1 && act_nonneg(g, p->inputs[0], depth + 1);
  case IR_OP_CONCAT:
    for (int32_t k = 0; k < p->n_inputs; k++)
      if (!act_nonneg(g, p->inputs[k], depth + 1)) return false;
    return p->n_inputs > 0;
  default:
    return false;
  }
}

/* Relu(Concat(a, b...)): each input is non-negative already or gets the
 * clamp from its producer; then the Relu goes. */
static bool act_concat_ok(const ir_graph *g, int32_t relu, int32_t c) {
  const ir_node *n = &g->nodes[c];
  if (n->op != IR_OP_CONCAT || (n->flags & IR_NODE_DEAD) || n->n_outputs != 1 ||
      pass_sole_consumer(g, n->outputs[0]) != relu)
    return false;
  for (int32_t k = 0; k < n->n_inputs; k++) {
    int32_t v = n->inputs[k];
    if (act_nonneg(g, v, 0)) continue;
    int32_t p = v == IR_NONE ? IR_NONE : g->values[v].producer;
    if (p == IR_NONE || !act_producer_ok(&g->nodes[p]) || pass_sole_consumer(g, v) != c ||
        g->nodes[p].outputs[0] != v || !act_value_is_float(g, v, 0))
      return false;
  }
  return true;
}

static onnxi_status act_concat_apply(pass_context *ctx, int32_t relu, int32_t c) {
  ir_graph *g = ctx->graph;
  for (int32_t k = 0; k < g->nodes[c].n_inputs; k++) {
    int32_t v = g->nodes[c].inputs[k];
    if (act_nonneg(g, v, 0)) continue;
    ir_node *p = &g->nodes[g->values[v].producer];
    const ir_attr *old = ir_node_attr(p, "onnxi.clamp_min");
    onnxi_status st = pass_attr_set_float(ctx, p, "onnxi.clamp_min", old && old->f > 0 ? old->f : 0);
    if (st != ONNXI_OK) return st;
  }
  ir_node *r = &g->nodes[relu], *n = &g->nodes[c];
  n->outputs[0] = r->outputs[0];
  g->values[r->outputs[0]].producer = c;
  r->flags |= IR_NODE_DEAD;
  pass_note(ctx, "moved '%s' (Relu) into the inputs of '%s' (Concat)", r->name, n->name);
  return ONNXI_OK;
}

onnxi_status pass_act_fuse_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    ir_node *a = &g->nodes[i];
    float lo, hi;
    if ((a->flags & IR_NODE_DEAD) || a->n_inputs < 1 || a->inputs[0] == IR_NONE ||
        a->n_outputs != 1 || !act_bounds(g, ctx->model->opset, a, &lo, &hi) || !(lo <= hi))
      continue;
    int32_t x = a->inputs[0], prod = g->values[x].producer;
    if (a->op == IR_OP_RELU && prod != IR_NONE && act_concat_ok(g, i, prod)) {
      onnxi_status st = act_concat_apply(ctx, i, prod);
      if (st != ONNXI_OK) return st;
      continue;
    }
    if (prod == IR_NONE || !act_producer_ok(&g->nodes[prod]) || pass_sole_consumer(g, x) != i ||
        g->nodes[prod].outputs[0] != x || !act_value_is_float(g, x, 0))
      continue;
    onnxi_status st = act_apply(ctx, prod, i, lo, hi);
    if (st != ONNXI_OK) return st;
  }
  return ONNXI_OK;
}
