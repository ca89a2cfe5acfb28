/* LayerNorm as torch 1.13 exports it below opset 17, nine nodes:
 *
 *   m = ReduceMean(X, axes=[-1]);  d = Sub(X, m);  v = ReduceMean(Pow(d, 2), axes=[-1])
 *   n = Div(d, Sqrt(Add(v, eps)));  Y = Add(Mul(n, gamma), beta)
 *
 * becomes one LayerNormalization(X, gamma, beta; axis=-1, epsilon=eps) node
 * (ops/transformer.c): one pass over each row instead of nine over the
 * tensor. The Add (beta) is optional; without the Mul by a vector gamma the
 * chain is left alone. Every intermediate must be used only inside the
 * chain (d twice). The tail node is rewritten in place, so the graph stays
 * in topological order. */
#include <math.h>
#include <string.h>

#include "passes.h"

typedef struct ln_match {
  int32_t x;              /* normalized input */
  int32_t gamma, beta;    /* constants, beta IR_NONE when absent */
  float eps;
  int32_t nodes[9], n_nodes; /* chain nodes, tail last */
} ln_match;

/* Input k's other operand when node `n` (binary) reads `v` there: the
 * operand index of the one that is not v, or -1. */
static int ln_other(const ir_node *n, int32_t v) {
  if (n->n_inputs != 2) return -1;
  if (n->inputs[0] == v) return 1;
  if (n->inputs[1] == v) return 0;
  return -1;
}

static bool ln_const_scalar(const ir_graph *g, int32_t v, float *out) {
  int64_t count;
  const float *d = pass_const_f32(g, v, &count);
  if (!d || count != 1) return false;
  *out = d[0];
  return true;
}

/* A ReduceMean over the last axis only of a tensor of X's rank, keeping dims. */
static bool ln_reduce_last(const ir_graph *g, const ir_node *n, int32_t x) {
  if (n->op != IR_OP_REDUCE_MEAN || (n->flags & IR_NODE_DEAD) || n->n_outputs != 1) return false;
  const ir_attr *keep = ir_node_attr(n, "keepdims");
  if (keep && (keep->type != IR_ATTR_INT || keep->i != 1)) return false;
  const int64_t *axes = NULL;
  int64_t n_axes = 0;
  const ir_attr *a = ir_node_attr(n, "axes");
  if (a && a->type == IR_ATTR_INTS) {
    axes = a->ints, n_axes = a->n;
  } else if (!a && n->n_inputs == 2 && n->inputs[1] != IR_NONE) { /* opset 18: axes input */
    const ir_value *av = &g->values[n->inputs[1]];
    if (!(av->flags & IR_VALUE_CONST) || av->dtype != ONNXI_DTYPE_INT64) return false;
    axes = av->data, n_axes = (int64_t)(av->nbytes / sizeof(int64_t));
  }
  if (n_axes != 1 || !axes) return false;
  if (axes[0] == -1) return true;
  const ir_shape *s = &g->values[x].shape;
  return s->rank > 0 && axes[0] == s->rank - 1;
}

/* The sole live consumer of v with op `op`, else IR_NONE. */
static int32_t ln_next(const ir_graph *g, int32_t v, ir_op op) {
  int32_t c = pass_sole_consumer(g, v);
  return c != IR_NONE && g->nodes[c].op == op && g->nodes[c].n_outputs == 1 ? c : IR_NONE;
}

static bool ln_add(ln_match *m, int32_t node) {
  if (node == IR_NONE) return false;
  m->nodes[m->n_nodes++] = node;
  return true;
}

/* The affine tail after Div: Mul by a vector gamma, optionally Add beta. */
static void ln_match_affine(const ir_graph *g, ln_match *m, int32_t div) {
  int32_t mul = ln_next(g, g->nodes[div].outputs[0], IR_OP_MUL);
  if (mul == IR_NONE) return;
  const ir_node *mn = &g->nodes[mul];
  int k = ln_other(mn, g->nodes[div].outputs[0]);
  int64_t count;
  if (k < 0 || !pass_const_f32(g, mn->inputs[k], &count) || count < 2) return;
  m->gamma = mn->inputs[k];
  ln_add(m, mul);
  int32_t add = ln_next(g, mn->outputs[0], IR_OP_ADD);
  if (add == IR_NONE) return;
  const ir_node *an = &g->nodes[add];
  k = ln_other(an, mn->outputs[0]);
  int64_t bcount;
  if (k < 0 || !pass_const_f32(g, an->inputs[k], &bcount) || bcount != count) return;
  m->beta = an->inputs[k];
  ln_add(m, add);
}

/* Matches the chain starting at ReduceMean node r1. */
static bool ln_match_at(const ir_graph *g, int32_t r1, ln_match *m) {
  *m = (ln_match){.gamma = IR_NONE, .beta = IR_NONE};
  const ir_node *rn = &g->nodes[r1];
  if (rn->n_inputs < 1 || rn->inputs[0] == IR_NONE || !ln_reduce_last(g, rn, rn->inputs[0]))
    return false;
  m->x = rn->inputs[0];
  int32_t sub = ln_next(g, rn->outputs[0], IR_OP_SUB);
  if (!ln_add(m, r1) || !ln_add(m, sub)) return false;
  const ir_node *sn = &g->nodes[sub];
  if (sn->n_inputs != 2 || sn->inputs[0] != m->x || sn->inputs[1] != rn->outputs[0]) return false;
  int32_t d = sn->outputs[0];
  const int32_t *uses = ir_value_uses(g, d);
  if ((g->values[d].flags & IR_VALUE_OUTPUT) || ir_value_use_count(g, d) != 2) return false;
  int32_t pow = IR_NONE, div = IR_NONE;
  for (int i = 0; i < 2; i++) {
    const ir_node *u = &g->nodes[uses[i]];
    if (u->op == IR_OP_POW && u->n_inputs == 2 && u->inputs[0] == d) pow = uses[i];
    if (u->op == IR_OP_DIV && u->n_inputs == 2 && u->inputs[0] == d) div = uses[i];
  }
  float two;
  if (pow == IR_NONE || div == IR_NONE || !ln_const_scalar(g, g->nodes[pow].inputs[1], &two) ||
      two != 2.0f || !ln_add(m, pow))
    return false;
  int32_t r2 = ln_next(g, g->nodes[pow].outputs[0], IR_OP_REDUCE_MEAN);
  if (!ln_add(m, r2) || !ln_reduce_last(g, &g->nodes[r2], m->x)) return false;
  int32_t add = ln_next(g, g->nodes[r2].outputs[0], IR_OP_ADD);
  if (!ln_add(m, add)) return false;
  int k = ln_other(&g->nodes[add], g->nodes[r2].outputs[0]);
  if (k < 0 || !ln_const_scalar(g, g->nodes[add].inputs[k], &m->eps) || !(m->eps >= 0))
    return false;
  int32_t sqrt = ln_next(g, g->nodes[add].outputs[0], IR_OP_SQRT);
  if (!ln_add(m, sqrt) || ln_next(g, g->nodes[sqrt].outputs[0], IR_OP_DIV) != div ||
      g->nodes[div].inputs[1] != g->nodes[sqrt].outputs[0] || g->nodes[div].n_outputs != 1)
    return false;
  ln_add(m, div);
  ln_match_affine(g, m, div);
  for (int i = 0; i < m->n_nodes; i++)
    if (g->nodes[m->nodes[i]].flags & IR_NODE_DEAD) return false;
  return m->gamma != IR_NONE;
}

static onnxi_status ln_apply(pass_context *ctx, const ln_match *m) {
  ir_graph *g = ctx->graph;
  ir_node *tail = &g->nodes[m->nodes[m->n_nodes - 1]];
  int32_t n_in = m->beta != IR_NONE ? 3 : 2;
  int32_t *inputs = arena_alloc(g->arena, sizeof *inputs * 3, 8);
  ir_attr *attrs = arena_alloc(g->arena, sizeof *attrs * 2, 8);
  if (!inputs || !attrs) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory in a pass");
  inputs[0] = m->x, inputs[1] = m->gamma, inputs[2] = m->beta;
  attrs[0] = (ir_attr){.name = "axis", .type = IR_ATTR_INT, .n = 1, .i = -1};
  attrs[1] = (ir_attr){.name = "epsilon", .type = IR_ATTR_FLOAT, .n = 1, .f = m->eps};
  for (int i = 0; i < m->n_nodes - 1; i++) g->nodes[m->nodes[i]].flags |= IR_NODE_DEAD;
  tail->op = IR_OP_LAYER_NORMALIZATION;
  tail->op_type = ir_op_name(IR_OP_LAYER_NORMALIZATION);
  tail->inputs = inputs;
  tail->n_inputs = n_in;
  tail->attrs = attrs;
  tail->n_attrs = 2;
  pass_note(ctx, "fused %d nodes from '%s' into LayerNormalization '%s' (epsilon %g)",
            m->n_nodes, g->nodes[m->nodes[0]].name, tail->name, (double)m->eps);
  return ONNXI_OK;
}

onnxi_status pass_layernorm_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    ln_match m;
    if ((g->nodes[i].flags & IR_NODE_DEAD) || !ln_match_at(g, i, &m)) continue;
    onnxi_status st = ln_apply(ctx, &m);
    if (st != ONNXI_OK) return st;
  }
  return ONNXI_OK;
}
