/* Identity, inference-mode Dropout and Cast-to-the-same-type copy bytes for
 * nothing: their consumers read the input instead. */
#include <string.h>

#include "passes.h"

/* The value the node passes through unchanged, or IR_NONE. */
static int32_t identity_match(const ir_graph *g, const ir_node *n) {
  if (n->n_inputs < 1 || n->inputs[0] == IR_NONE || n->n_outputs < 1 || n->outputs[0] == IR_NONE)
    return IR_NONE;
  switch (n->op) {
  case IR_OP_IDENTITY:
    return n->inputs[0];
  case IR_OP_DROPOUT: {
    if (n->n_outputs > 1 && n->outputs[1] != IR_NONE &&
        (ir_value_use_count(g, n->outputs[1]) || (g->values[n->outputs[1]].flags & IR_VALUE_OUTPUT)))
      return IR_NONE; /* the mask is used */
    if (n->n_inputs > 2 && n->inputs[2] != IR_NONE) { /* training_mode must be a constant false */
      const ir_value *t = &g->values[n->inputs[2]];
      if (!(t->flags & IR_VALUE_CONST) || t->nbytes < 1 || ((const unsigned char *)t->data)[0]) return IR_NONE;
    }
    return n->inputs[0];
  }
  case IR_OP_CAST: {
    const ir_attr *to = ir_node_attr(n, "to");
    int32_t dt = g->values[n->inputs[0]].dtype;
    return to && to->type == IR_ATTR_INT && dt != ONNXI_DTYPE_UNDEFINED && to->i == dt ? n->inputs[0] : IR_NONE;
  }
  default:
    return IR_NONE;
  }
}

static void identity_apply(pass_context *ctx, int32_t node, int32_t in) {
  ir_graph *g = ctx->graph;
  ir_node *n = &g->nodes[node];
  int32_t out = n->outputs[0];
  const ir_value *vin = &g->values[in], *vout = &g->values[out];
  if (!(vout->flags & IR_VALUE_OUTPUT)) {
    pass_value_replace(g, out, in);
  } else if (vin->producer != IR_NONE && !(vin->flags & (IR_VALUE_OUTPUT | IR_VALUE_INPUT))) {
    /* keep the graph output's name: the producer writes it directly */
    ir_node *p = &g->nodes[vin->producer];
    for (int32_t k = 0; k < p->n_outputs; k++)
      if (p->outputs[k] == in) p->outputs[k] = out;
    g->values[out].producer = vin->producer;
    pass_value_replace(g, in, out);
  } else {
    return; /* graph input or constant straight to an output: keep the copy */
  }
  n->flags |= IR_NODE_DEAD;
  pass_note(ctx, "removed '%s' (%s)", n->name, n->op_type);
}

onnxi_status pass_identity_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i].flags & IR_NODE_DEAD) continue;
    int32_t in = identity_match(g, &g->nodes[i]);
    if (in != IR_NONE) identity_apply(ctx, i, in);
  }
  return ONNXI_OK;
}
