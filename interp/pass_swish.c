/* x * Sigmoid(x) (SiLU/Swish) and x * HardSigmoid(x) become one elementwise
 * node: onnxi.Swish, HardSwish when HardSigmoid has HardSwish's constants
 * (alpha 1/6, beta 1/2: XNNPACK's kernel), else onnxi.MulHardSigmoid with
 * HardSigmoid's alpha and beta. One pass over memory instead of two, and no
 * intermediate tensor. */
#include <math.h>

#include "passes.h"

static bool swish_gate_ok(const ir_graph *g, int32_t gate_v, int32_t x, int32_t mul) {
  int32_t p = g->values[gate_v].producer;
  if (p == IR_NONE) return false;
  const ir_node *n = &g->nodes[p];
  return (n->op == IR_OP_SIGMOID || n->op == IR_OP_HARD_SIGMOID) && !(n->flags & IR_NODE_DEAD) &&
         n->n_inputs == 1 && n->n_outputs == 1 && n->inputs[0] == x &&
         pass_sole_consumer(g, gate_v) == mul;
}

/* The gate node of Mul `m` (either operand order), or IR_NONE. */
static int32_t swish_match(const ir_graph *g, int32_t m) {
  const ir_node *mul = &g->nodes[m];
  if (mul->op != IR_OP_MUL || (mul->flags & IR_NODE_DEAD) || mul->n_inputs != 2 ||
      mul->n_outputs != 1 || mul->inputs[0] == IR_NONE || mul->inputs[1] == IR_NONE ||
      ir_node_attr(mul, "onnxi.clamp_min") || ir_node_attr(mul, "onnxi.clamp_max"))
    return IR_NONE;
  for (int k = 0; k < 2; k++)
    if (swish_gate_ok(g, mul->inputs[k], mul->inputs[1 - k], m))
      return g->values[mul->inputs[k]].producer;
  return IR_NONE;
}

static bool swish_attr_float(const ir_node *n, const char *name, float def, float *out) {
  const ir_attr *a = ir_node_attr(n, name);
  if (a && a->type != IR_ATTR_FLOAT) return false;
  *out = a ? a->f : def;
  return true;
}

static onnxi_status swish_apply(pass_context *ctx, int32_t m, int32_t gate) {
  ir_graph *g = ctx->graph;
  ir_node *mul = &g->nodes[m], *gn = &g->nodes[gate];
  float alpha = 0, beta = 0;
  ir_op op = IR_OP_SWISH;
  if (gn->op == IR_OP_HARD_SIGMOID) {
    if (!swish_attr_float(gn, "alpha", 0.2f, &alpha) || !swish_attr_float(gn, "beta", 0.5f, &beta))
      return ONNXI_OK; /* malformed: the HardSigmoid kernel reports it */
    bool hardswish = fabsf(alpha - 1.0f / 6.0f) <= 1e-7f && beta == 0.5f;
    op = hardswish ? IR_OP_HARD_SWISH : IR_OP_MUL_HARD_SIGMOID;
  }
  int32_t x = gn->inputs[0];
  mul->op = op;
  mul->op_type = ir_op_name(op);
  mul->inputs[0] = x;
  mul->n_inputs = 1;
  mul->n_attrs = 0;
  onnxi_status st = ONNXI_OK;
  if (op == IR_OP_MUL_HARD_SIGMOID) {
    st = pass_attr_set_float(ctx, mul, "alpha", alpha);
    if (st == ONNXI_OK) st = pass_attr_set_float(ctx, mul, "beta", beta);
    if (st != ONNXI_OK) return st;
  }
  gn->flags |= IR_NODE_DEAD;
  pass_note(ctx, "fused '%s' (%s) and '%s' (Mul) into one %s", gn->name, gn->op_type, mul->name,
            mul->op_type);
  return ONNXI_OK;
}

onnxi_status pass_swish_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    int32_t gate = swish_match(g, i);
    if (gate == IR_NONE) continue;
    onnxi_status st = swish_apply(ctx, i, gate);
    if (st != ONNXI_OK) return st;
  }
  return ONNXI_OK;
}
