/* Swish and HardSwish after a Conv become the Conv's activation (attribute
 * onnxi.activation, an op_act): the own AVX-512 conv kernels apply it to
 * the tile in registers, saving a read and a write of the activation
 * (EfficientNet-B0 has 49 Swish steps, MobileNet v3 21 HardSwish; the
 * first of them touch 1.2M elements). Other conv paths apply it as one
 * in-place pass after the conv, which costs what the separate step did.
 * Runs after the swish pass, which makes the Swish and HardSwish nodes of
 * exported x * Sigmoid(x) and x * HardSigmoid(x). */
#include "passes.h"

#include "act.h"

static int conv_act_of(const ir_node *n) {
  if (n->op == IR_OP_SWISH) return OP_ACT_SWISH;
  if (n->op == IR_OP_HARD_SWISH) return OP_ACT_HARD_SWISH;
  return OP_ACT_NONE;
}

/* The Conv whose output only activation node `a` reads, or IR_NONE. A Conv
 * with a clamp keeps it and the activation node: clamp-then-act would be
 * right, but act_fuse could not move a later Relu in after them. */
static int32_t conv_act_match(const ir_graph *g, int32_t a) {
  const ir_node *n = &g->nodes[a];
  if ((n->flags & IR_NODE_DEAD) || !conv_act_of(n) || n->n_inputs != 1 || n->n_outputs != 1 ||
      n->inputs[0] == IR_NONE)
    return IR_NONE;
  int32_t x = n->inputs[0], p = g->values[x].producer;
  if (p == IR_NONE || pass_sole_consumer(g, x) != a) return IR_NONE;
  const ir_node *c = &g->nodes[p];
  if (c->op != IR_OP_CONV || (c->flags & IR_NODE_DEAD) || c->n_outputs != 1 ||
      c->outputs[0] != x || ir_node_attr(c, "onnxi.clamp_min") ||
      ir_node_attr(c, "onnxi.clamp_max") || ir_node_attr(c, "onnxi.activation"))
    return IR_NONE;
  return p;
}

static onnxi_status conv_act_apply(pass_context *ctx, int32_t conv, int32_t a) {
  ir_graph *g = ctx->graph;
  ir_node *c = &g->nodes[conv], *n = &g->nodes[a];
  onnxi_status st = pass_attr_set_int(ctx, c, "onnxi.activation", conv_act_of(n));
  if (st != ONNXI_OK) return st;
  c->outputs[0] = n->outputs[0];
  g->values[n->outputs[0]].producer = conv;
  n->flags |= IR_NODE_DEAD;
  pass_note(ctx, "fused '%s' (%s) into '%s' (Conv) as its activation", n->name, n->op_type,
            c->name);
  return ONNXI_OK;
}

onnxi_status pass_conv_act_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    int32_t conv = conv_act_match(g, i);
    if (conv == IR_NONE) continue;
    onnxi_status st = conv_act_apply(ctx, conv, i);
    if (st != ONNXI_OK) return st;
  }
  return ONNXI_OK;
}
