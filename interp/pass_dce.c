/* Dead-node removal: a node none of whose outputs is read by a live node or
 * is a graph output does nothing for the result (ONNX inference ops have no
 * side effects). One walk backwards over the topological order catches whole
 * dead chains, e.g. the shape math fusions leave unread. */
#include <stdlib.h>

#include "passes.h"

static bool dce_node_dead(const ir_graph *g, const ir_node *n, const int32_t *live_uses) {
  for (int32_t k = 0; k < n->n_outputs; k++) {
    int32_t v = n->outputs[k];
    if (v == IR_NONE) continue;
    if ((g->values[v].flags & IR_VALUE_OUTPUT) || live_uses[v] > 0) return false;
  }
  return true;
}

onnxi_status pass_dce_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  int32_t *live_uses = calloc((size_t)g->n_values + 1, sizeof *live_uses);
  if (!live_uses) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory in a pass");
  for (int32_t i = 0; i < g->n_nodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->flags & IR_NODE_DEAD) continue;
    for (int32_t k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] != IR_NONE) live_uses[n->inputs[k]]++;
  }
  for (int32_t i = g->n_nodes - 1; i >= 0; i--) {
    ir_node *n = &g->nodes[i];
    if ((n->flags & IR_NODE_DEAD) || n->n_outputs == 0 || !dce_node_dead(g, n, live_uses)) continue;
    n->flags |= IR_NODE_DEAD;
    for (int32_t k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] != IR_NONE) live_uses[n->inputs[k]]--;
    pass_note(ctx, "removed '%s' (%s): no output is read", n->name, n->op_type);
  }
  free(live_uses);
  return ONNXI_OK;
}
