/* Channel shuffle: Reshape(x, (N, g, C/g, H, W)) -> Transpose(0, 2, 1, 3, 4)
 * -> Reshape(N, C, H, W) becomes one onnxi.ChannelShuffle node that keeps both
 * reshape targets as inputs. Load-time shapes are often unknown (dynamic
 * batch, targets computed by Shape/Gather/Concat), so the pass only checks
 * the structure and reads g from the constant; the kernel resolves the
 * targets at plan time, runs the channel form in the input's layout (NHWC,
 * no reorders) and computes any other targets exactly as the three nodes
 * would. */
#include <string.h>

#include "passes.h"

typedef struct shuffle_match {
  int32_t first, transpose, last; /* Reshape, Transpose, Reshape */
  int64_t group;                  /* 0: not a load-time constant (the kernel resolves it) */
} shuffle_match;

/* Element k of a constant int64 tensor of `len` elements. */
static bool shuffle_const_at(const ir_graph *g, int32_t v, int64_t len, int64_t k, int64_t *out) {
  if (v == IR_NONE) return false;
  const ir_value *val = &g->values[v];
  if (!(val->flags & IR_VALUE_CONST) || val->dtype != ONNXI_DTYPE_INT64 ||
      val->nbytes != (size_t)len * sizeof(int64_t) || !val->data)
    return false;
  memcpy(out, (const char *)val->data + k * (int64_t)sizeof(int64_t), sizeof *out);
  return true;
}

/* A reshape target of `len` entries: a constant, or a Concat of `len` parts
 * (torchvision's Shape/Gather/Unsqueeze form). Sets *group from entry 1 when
 * that is constant. */
static bool shuffle_target(const ir_graph *g, int32_t v, int64_t len, int64_t *group) {
  *group = 0;
  if (v == IR_NONE) return false;
  if (shuffle_const_at(g, v, len, 1, group)) return true;
  int32_t p = g->values[v].producer;
  if (p == IR_NONE) return false;
  const ir_node *c = &g->nodes[p];
  if (c->op != IR_OP_CONCAT || (c->flags & IR_NODE_DEAD) || c->n_inputs != len) return false;
  if (!shuffle_const_at(g, c->inputs[1], 1, 0, group)) *group = 0;
  return true;
}

static bool shuffle_reshape_ok(const ir_graph *g, int32_t id) {
  if (id == IR_NONE) return false;
  const ir_node *r = &g->nodes[id];
  if (r->op != IR_OP_RESHAPE || (r->flags & IR_NODE_DEAD) || r->n_inputs != 2 ||
      r->n_outputs != 1 || r->inputs[0] == IR_NONE)
    return false;
  const ir_attr *az = ir_node_attr(r, "allowzero");
  return !az || (az->type == IR_ATTR_INT && az->i == 0);
}

static bool shuffle_perm_ok(const ir_node *t) {
  static const int64_t want[5] = {0, 2, 1, 3, 4};
  const ir_attr *perm = ir_node_attr(t, "perm");
  return perm && perm->type == IR_ATTR_INTS && perm->n == 5 &&
         memcmp(perm->ints, want, sizeof want) == 0;
}

static bool shuffle_match_at(const ir_graph *g, int32_t t_id, shuffle_match *m) {
  const ir_node *t = &g->nodes[t_id];
  if (t->op != IR_OP_TRANSPOSE || (t->flags & IR_NODE_DEAD) || t->n_inputs != 1 ||
      t->n_outputs != 1 || t->inputs[0] == IR_NONE || !shuffle_perm_ok(t))
    return false;
  m->transpose = t_id;
  m->first = g->values[t->inputs[0]].producer;
  m->last = pass_sole_consumer(g, t->outputs[0]);
  if (!shuffle_reshape_ok(g, m->first) || !shuffle_reshape_ok(g, m->last) ||
      pass_sole_consumer(g, t->inputs[0]) != t_id || g->nodes[m->last].inputs[0] != t->outputs[0])
    return false;
  int64_t g2;
  return shuffle_target(g, g->nodes[m->first].inputs[1], 5, &m->group) &&
         shuffle_target(g, g->nodes[m->last].inputs[1], 4, &g2);
}

/* The last Reshape becomes the fused node: every input it needs is
 * produced before it, so the node order stays topological. */
static onnxi_status shuffle_apply(pass_context *ctx, const shuffle_match *m) {
  ir_graph *g = ctx->graph;
  ir_node *first = &g->nodes[m->first], *t = &g->nodes[m->transpose], *last = &g->nodes[m->last];
  int32_t *ins = arena_alloc(g->arena, sizeof(int32_t) * 3, 4);
  ir_attr *attr = arena_alloc(g->arena, sizeof *attr, 8);
  if (!ins || !attr) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory in a pass");
  ins[0] = first->inputs[0];
  ins[1] = first->inputs[1];
  ins[2] = last->inputs[1];
  *attr = (ir_attr){.name = "group", .type = IR_ATTR_INT, .n = 1, .i = m->group};
  last->op = IR_OP_CHANNEL_SHUFFLE;
  last->op_type = ir_op_name(IR_OP_CHANNEL_SHUFFLE);
  last->inputs = ins;
  last->n_inputs = 3;
  last->attrs = attr;
  last->n_attrs = 1;
  first->flags |= IR_NODE_DEAD;
  t->flags |= IR_NODE_DEAD;
  pass_note(ctx, "fused '%s', '%s' and '%s' into one channel shuffle (group %lld)", first->name,
            t->name, last->name, (long long)m->group);
  return ONNXI_OK;
}

onnxi_status pass_shuffle_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    shuffle_match m;
    if (!shuffle_match_at(g, i, &m)) continue;
    onnxi_status st = shuffle_apply(ctx, &m);
    if (st != ONNXI_OK) return st;
  }
  return ONNXI_OK;
}
