/* GELU as torch 1.13 exports it below opset 20, five nodes:
 *
 *   Y = Mul(Mul(X, Add(Erf(Div(X, sqrt 2)), 1)), 0.5)
 *
 * (also with Mul by 1/sqrt 2 for the Div, operands of Add and Mul in either
 * order, or the 0.5 applied to X first: Mul(Mul(X, 0.5), Add(...))) becomes
 * one Gelu(X) node (ops/transformer.c): one pass over memory instead of
 * five. Every intermediate must be used only inside the chain; the tail
 * node is rewritten in place, so the graph stays in topological order. */
#include <math.h>

#include "passes.h"

typedef struct gelu_match {
  int32_t x;
  int32_t nodes[5]; /* tail last */
  int n_nodes;
} gelu_match;

static bool gelu_near(float v, double want) { return fabs((double)v - want) <= 1e-5 * want; }

/* Node n (binary, live, one output) reads v; *k = the other operand's index. */
static bool gelu_reads(const ir_graph *g, int32_t node, ir_op op, int32_t v, int *k) {
  if (node == IR_NONE) return false;
  const ir_node *n = &g->nodes[node];
  if (n->op != op || (n->flags & IR_NODE_DEAD) || n->n_inputs != 2 || n->n_outputs != 1)
    return false;
  *k = n->inputs[0] == v ? 1 : n->inputs[1] == v ? 0 : -1;
  return *k >= 0;
}

static bool gelu_const_is(const ir_graph *g, int32_t v, double want) {
  int64_t count;
  const float *d = pass_const_f32(g, v, &count);
  return d && count == 1 && gelu_near(d[0], want);
}

/* The Erf's input u = X / sqrt 2 or X * (1 / sqrt 2): sets m->x. */
static bool gelu_match_scale(const ir_graph *g, int32_t u, gelu_match *m) {
  int32_t p = g->values[u].producer;
  if (p == IR_NONE || (g->nodes[p].flags & IR_NODE_DEAD) || g->nodes[p].n_outputs != 1 ||
      g->nodes[p].n_inputs != 2)
    return false;
  const ir_node *n = &g->nodes[p];
  if (n->op == IR_OP_DIV && gelu_const_is(g, n->inputs[1], sqrt(2.0))) {
    m->x = n->inputs[0];
  } else if (n->op == IR_OP_MUL && gelu_const_is(g, n->inputs[1], sqrt(0.5))) {
    m->x = n->inputs[0];
  } else if (n->op == IR_OP_MUL && gelu_const_is(g, n->inputs[0], sqrt(0.5))) {
    m->x = n->inputs[1];
  } else {
    return false;
  }
  m->nodes[m->n_nodes++] = p;
  return m->x != IR_NONE;
}

/* From the Add (1 + erf) on: Mul by X then by 0.5, or by Mul(X, 0.5). */
static bool gelu_match_tail(const ir_graph *g, int32_t add, gelu_match *m) {
  int32_t s = g->nodes[add].outputs[0];
  int32_t mul = pass_sole_consumer(g, s);
  int k;
  if (!gelu_reads(g, mul, IR_OP_MUL, s, &k)) return false;
  int32_t other = g->nodes[mul].inputs[k];
  if (other == m->x) { /* Mul(X, 1 + erf) then Mul(., 0.5) */
    int32_t y = g->nodes[mul].outputs[0];
    int32_t half = pass_sole_consumer(g, y);
    if (!gelu_reads(g, half, IR_OP_MUL, y, &k) ||
        !gelu_const_is(g, g->nodes[half].inputs[k], 0.5))
      return false;
    m->nodes[m->n_nodes++] = mul;
    m->nodes[m->n_nodes++] = half;
    return true;
  }
  if (other == IR_NONE) return false;
  int32_t h = g->values[other].producer; /* Mul(X, 0.5) */
  if (h == IR_NONE || pass_sole_consumer(g, other) != mul ||
      !gelu_reads(g, h, IR_OP_MUL, m->x, &k) || !gelu_const_is(g, g->nodes[h].inputs[k], 0.5))
    return false;
  m->nodes[m->n_nodes++] = h;
  m->nodes[m->n_nodes++] = mul;
  return true;
}

static bool gelu_match_at(const ir_graph *g, int32_t erf, gelu_match *m) {
  *m = (gelu_match){.x = IR_NONE};
  const ir_node *e = &g->nodes[erf];
  if (e->op != IR_OP_ERF || (e->flags & IR_NODE_DEAD) || e->n_inputs != 1 || e->n_outputs != 1 ||
      e->inputs[0] == IR_NONE || pass_sole_consumer(g, e->inputs[0]) != erf ||
      !gelu_match_scale(g, e->inputs[0], m))
    return false;
  m->nodes[m->n_nodes++] = erf;
  int32_t add = pass_sole_consumer(g, e->outputs[0]);
  int k;
  if (!gelu_reads(g, add, IR_OP_ADD, e->outputs[0], &k) ||
      !gelu_const_is(g, g->nodes[add].inputs[k], 1.0))
    return false;
  m->nodes[m->n_nodes++] = add;
  return gelu_match_tail(g, add, m);
}

onnxi_status pass_gelu_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    gelu_match m;
    if (!gelu_match_at(g, i, &m)) continue;
    ir_node *tail = &g->nodes[m.nodes[m.n_nodes - 1]];
    for (int j = 0; j < m.n_nodes - 1; j++) g->nodes[m.nodes[j]].flags |= IR_NODE_DEAD;
    tail->op = IR_OP_GELU;
    tail->op_type = ir_op_name(IR_OP_GELU);
    tail->inputs[0] = m.x;
    tail->n_inputs = 1;
    tail->n_attrs = 0;
    pass_note(ctx, "fused %d nodes from '%s' into Gelu '%s'", m.n_nodes, g->nodes[m.nodes[0]].name,
              tail->name);
  }
  return ONNXI_OK;
}
