/* Conv -> BatchNormalization becomes one Conv: with s = scale / sqrt(var + eps),
 * W'[o] = W[o] * s[o] and B'[o] = (B[o] - mean[o]) * s[o] + shift[o]
 * (onnxruntime's conv_bn_fusion does the same). Gemm -> BatchNormalization
 * (BatchNorm1d after Linear) folds the same way into B's output columns when
 * alpha = beta = 1 and C is a per-column bias. */
#include <math.h>
#include <string.h>

#include "passes.h"

typedef struct bn_match {
  int32_t conv, bn;
  const float *w, *b, *scale, *shift, *mean, *var;
  int64_t channels, per_channel; /* output channels; weights per output channel */
  bool columns;                  /* Gemm with transB = 0: channel o is column o of B (K x M) */
  float eps;
} bn_match;

static bool bn_params_match(const ir_graph *g, const ir_node *bn, bn_match *m) {
  if (bn->n_inputs != 5 || bn->n_outputs < 1) return false;
  for (int32_t k = 1; k < bn->n_outputs; k++) /* training outputs must be unused */
    if (bn->outputs[k] != IR_NONE && (ir_value_use_count(g, bn->outputs[k]) ||
                                      (g->values[bn->outputs[k]].flags & IR_VALUE_OUTPUT)))
      return false;
  const ir_attr *tm = ir_node_attr(bn, "training_mode");
  if (tm && (tm->type != IR_ATTR_INT || tm->i != 0)) return false;
  const ir_attr *eps = ir_node_attr(bn, "epsilon");
  if (eps && eps->type != IR_ATTR_FLOAT) return false;
  m->eps = eps ? eps->f : 1e-5f;
  const float **p[4] = {&m->scale, &m->shift, &m->mean, &m->var};
  for (int k = 0; k < 4; k++) {
    int64_t n;
    *p[k] = pass_const_f32(g, bn->inputs[k + 1], &n);
    if (!*p[k] || n != m->channels) return false;
  }
  return true;
}

static bool bn_attr_float_is(const ir_node *n, const char *name, float want) {
  const ir_attr *a = ir_node_attr(n, name);
  return !a || (a->type == IR_ATTR_FLOAT && a->f == want);
}

/* Gemm(A, B[, C]) whose output channels (columns) BN can scale. */
static bool bn_gemm_ok(const ir_graph *g, const ir_node *gemm, bn_match *m) {
  const ir_attr *tb = ir_node_attr(gemm, "transB");
  if ((tb && tb->type != IR_ATTR_INT) || !bn_attr_float_is(gemm, "alpha", 1.0f) ||
      !bn_attr_float_is(gemm, "beta", 1.0f))
    return false;
  const ir_value *w = &g->values[gemm->inputs[1]];
  if (w->shape.rank != 2 || w->shape.dims[0].value <= 0 || w->shape.dims[1].value <= 0) return false;
  m->columns = !tb || tb->i == 0;
  m->channels = w->shape.dims[m->columns ? 1 : 0].value;
  m->per_channel = w->shape.dims[m->columns ? 0 : 1].value;
  if (gemm->n_inputs > 2 && gemm->inputs[2] != IR_NONE) { /* C must be one bias per column */
    const ir_value *c = &g->values[gemm->inputs[2]];
    if (c->shape.rank == 2 && c->shape.dims[0].value != 1) return false;
    if (c->shape.rank < 1 || c->shape.rank > 2) return false;
  }
  return true;
}

static bool bn_match_at(const ir_graph *g, int32_t bn_id, bn_match *m) {
  const ir_node *bn = &g->nodes[bn_id];
  if (bn->op != IR_OP_BATCH_NORMALIZATION || bn->inputs[0] == IR_NONE) return false;
  int32_t conv_id = g->values[bn->inputs[0]].producer;
  if (conv_id == IR_NONE || pass_sole_consumer(g, bn->inputs[0]) != bn_id) return false;
  const ir_node *conv = &g->nodes[conv_id];
  if ((conv->op != IR_OP_CONV && conv->op != IR_OP_GEMM) || (conv->flags & IR_NODE_DEAD) ||
      conv->n_inputs < 2 || conv->outputs[0] != bn->inputs[0])
    return false;
  if (ir_node_attr(conv, "onnxi.clamp_min") || ir_node_attr(conv, "onnxi.clamp_max")) return false;
  const ir_value *w = &g->values[conv->inputs[1]];
  int64_t wn, bn_count = 0;
  m->w = pass_const_f32(g, conv->inputs[1], &wn);
  m->columns = false;
  if (!m->w) return false;
  if (conv->op == IR_OP_GEMM) {
    if (!bn_gemm_ok(g, conv, m) || m->channels * m->per_channel != wn) return false;
  } else {
    if (w->shape.rank < 3 || w->shape.dims[0].value <= 0) return false;
    m->channels = w->shape.dims[0].value;
    m->per_channel = wn / m->channels;
  }
  m->b = NULL;
  if (conv->n_inputs > 2 && conv->inputs[2] != IR_NONE) {
    m->b = pass_const_f32(g, conv->inputs[2], &bn_count);
    if (!m->b || bn_count != m->channels) return false;
  }
  m->conv = conv_id;
  m->bn = bn_id;
  return bn_params_match(g, bn, m);
}

static onnxi_status bn_apply(pass_context *ctx, const bn_match *m) {
  ir_graph *g = ctx->graph;
  ir_node *conv = &g->nodes[m->conv], *bn = &g->nodes[m->bn];
  int32_t w_id = conv->inputs[1], b_id = IR_NONE;
  const ir_value *wv = &g->values[w_id];
  float *w = wv->data, *b = NULL;
  onnxi_status st = ONNXI_OK;
  char name[512];
  /* Weights only this conv reads are scaled in place: no second copy. */
  if (ir_value_use_count(g, w_id) != 1) {
    int64_t dims[IR_MAX_RANK];
    for (int d = 0; d < wv->shape.rank; d++) dims[d] = wv->shape.dims[d].value;
    snprintf(name, sizeof name, "%.400s.bn_folded", wv->name);
    st = pass_const_add(ctx, name, wv->shape.rank, dims, &w, &w_id);
  }
  snprintf(name, sizeof name, "%.400s.bias_bn_folded", conv->name);
  if (st == ONNXI_OK) st = pass_const_add(ctx, name, 1, &m->channels, &b, &b_id);
  if (st != ONNXI_OK) return st;
  for (int64_t o = 0; o < m->channels; o++) {
    float s = m->scale[o] / sqrtf(m->var[o] + m->eps);
    for (int64_t i = 0; i < m->per_channel; i++) {
      int64_t at = m->columns ? i * m->channels + o : o * m->per_channel + i;
      w[at] = m->w[at] * s;
    }
    b[o] = ((m->b ? m->b[o] : 0.0f) - m->mean[o]) * s + m->shift[o];
  }
  if (conv->n_inputs < 3) {
    int32_t *ins = arena_alloc(g->arena, sizeof(int32_t) * 3, 4);
    if (!ins) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory in a pass");
    memcpy(ins, conv->inputs, sizeof(int32_t) * (size_t)conv->n_inputs);
    conv->inputs = ins;
    conv->n_inputs = 3;
  }
  conv->inputs[1] = w_id;
  conv->inputs[2] = b_id;
  conv->outputs[0] = bn->outputs[0];
  g->values[bn->outputs[0]].producer = m->conv;
  bn->flags |= IR_NODE_DEAD;
  pass_note(ctx, "folded '%s' (BatchNormalization) into '%s' (%s)", bn->name, conv->name,
            conv->op_type);
  return ONNXI_OK;
}

onnxi_status pass_bn_fold_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    bn_match m;
    if ((g->nodes[i].flags & IR_NODE_DEAD) || !bn_match_at(g, i, &m)) continue;
    onnxi_status st = bn_apply(ctx, &m);
    if (st != ONNXI_OK) return st;
  }
  return ONNXI_OK;
}
