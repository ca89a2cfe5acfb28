/* PyTorch exports GroupNorm(G, C) as
 *   Reshape(x, [0, G, -1]) -> InstanceNormalization(ones[G], zeros[G])
 *     -> Reshape(., Shape(x)) -> Mul(gamma[C,1,1]) -> Add(beta[C,1,1])
 * (five passes over memory and a plain-layout detour); this pass makes it one
 * GroupNormalization node with per-channel scale and bias, keeping the
 * output clamp act-fuse put on the Add, and fuses a Relu that follows any
 * GroupNormalization (onnxruntime's GroupNorm fusion is the model).
 *
 * The rewrite is exact only when the groups are whole channels (C % G == 0)
 * and gamma's broadcast lines up with axis 1; gamma's shape fixes the input
 * rank for which it does, recorded as onnxi.input_rank for the kernel to
 * check (value shapes are not known at pass time). */
#include <math.h>
#include <string.h>

#include "passes.h"

typedef struct gn_match {
  int32_t r1, in, r2, shape, mul, add; /* node ids; shape, add: IR_NONE when absent */
  int32_t x, y;                        /* the pattern's input and output values */
  int64_t groups, channels, rank;      /* rank: x's rank implied by gamma's shape */
  const float *in_scale, *in_bias;     /* [G] */
  const float *gamma, *beta;           /* [C]; beta NULL without the Add */
  float eps;
} gn_match;

/* The only (live) reader of v when it is a single-output node of type op, else IR_NONE. */
static int32_t gn_next(const ir_graph *g, int32_t v, ir_op op) {
  int32_t n = pass_sole_consumer(g, v);
  if (n == IR_NONE || g->nodes[n].op != op || g->nodes[n].n_outputs != 1) return IR_NONE;
  return n;
}

static const int64_t *gn_const_i64(const ir_graph *g, int32_t v, int64_t *count) {
  *count = 0;
  if (v == IR_NONE) return NULL;
  const ir_value *val = &g->values[v];
  if (!(val->flags & IR_VALUE_CONST) || val->dtype != ONNXI_DTYPE_INT64) return NULL;
  *count = (int64_t)(val->nbytes / sizeof(int64_t));
  return val->data;
}

static bool gn_reshape_plain(const ir_node *r) {
  const ir_attr *a = ir_node_attr(r, "allowzero");
  return r->n_inputs == 2 && (!a || (a->type == IR_ATTR_INT && a->i == 0));
}

/* First Reshape: [0, G, -1] (or [N, G, -1] with x's batch known to be N). */
static bool gn_match_split(const ir_graph *g, gn_match *m) {
  const ir_node *r1 = &g->nodes[m->r1];
  int64_t n = 0;
  const int64_t *s = gn_const_i64(g, r1->inputs[1], &n);
  if (!gn_reshape_plain(r1) || !s || n != 3 || s[1] != m->groups || s[2] != -1) return false;
  m->x = r1->inputs[0];
  if (m->x == IR_NONE) return false;
  const ir_shape *xs = &g->values[m->x].shape;
  return s[0] == 0 || (s[0] > 0 && xs->rank >= 1 && xs->dims[0].value == s[0]);
}

/* Second Reshape: back to Shape(x). */
static bool gn_match_merge(const ir_graph *g, gn_match *m) {
  const ir_node *r2 = &g->nodes[m->r2];
  if (!gn_reshape_plain(r2) || r2->inputs[1] == IR_NONE) return false;
  m->shape = g->values[r2->inputs[1]].producer;
  if (m->shape == IR_NONE) return false;
  const ir_node *sh = &g->nodes[m->shape];
  return sh->op == IR_OP_SHAPE && !(sh->flags & IR_NODE_DEAD) && sh->n_inputs == 1 &&
         sh->inputs[0] == m->x && !ir_node_attr(sh, "start") && !ir_node_attr(sh, "end");
}

/* The constant operand of a binary node whose other operand is v. */
static int32_t gn_other_operand(const ir_node *n, int32_t v) {
  if (n->n_inputs != 2) return IR_NONE;
  if (n->inputs[0] == v) return n->inputs[1];
  return n->inputs[1] == v ? n->inputs[0] : IR_NONE;
}

/* A per-channel vector shaped [C, 1, ...] (rank k: x has rank k + 1) or
 * [1, C, 1, ...] (x has rank k). Returns the implied rank of x, 0 if neither. */
static int64_t gn_channel_rank(const ir_graph *g, int32_t v, int64_t c) {
  const ir_shape *s = &g->values[v].shape;
  if (s->rank < 1) return 0;
  int lead = s->rank >= 2 && s->dims[0].value == 1 && s->dims[1].value == c && c != 1;
  if (s->dims[lead].value != c) return 0;
  for (int d = lead + 1; d < s->rank; d++)
    if (s->dims[d].value != 1) return 0;
  return lead ? s->rank : s->rank + 1;
}

/* Mul by gamma, then optionally Add beta of the same shape. */
static bool gn_match_affine(const ir_graph *g, gn_match *m) {
  int32_t r2_out = g->nodes[m->r2].outputs[0];
  m->mul = gn_next(g, r2_out, IR_OP_MUL);
  if (m->mul == IR_NONE) return false;
  int32_t gv = gn_other_operand(&g->nodes[m->mul], r2_out);
  m->gamma = pass_const_f32(g, gv, &m->channels);
  if (!m->gamma || m->channels < 1 || m->channels % m->groups != 0) return false;
  m->rank = gn_channel_rank(g, gv, m->channels);
  if (m->rank < 3) return false; /* a group split needs spatial dims: N, C, D... */
  m->y = g->nodes[m->mul].outputs[0];
  m->add = gn_next(g, m->y, IR_OP_ADD);
  m->beta = NULL;
  if (m->add == IR_NONE || ir_node_attr(&g->nodes[m->mul], "onnxi.clamp_min") ||
      ir_node_attr(&g->nodes[m->mul], "onnxi.clamp_max")) {
    m->add = IR_NONE;
    return true;
  }
  int64_t count;
  int32_t bv = gn_other_operand(&g->nodes[m->add], m->y);
  const float *beta = pass_const_f32(g, bv, &count);
  if (!beta || count != m->channels || gn_channel_rank(g, bv, m->channels) != m->rank) {
    m->add = IR_NONE;
    return true;
  }
  m->beta = beta;
  m->y = g->nodes[m->add].outputs[0];
  return true;
}

static bool gn_match_at(const ir_graph *g, int32_t id, gn_match *m) {
  const ir_node *in = &g->nodes[id];
  if (in->op != IR_OP_INSTANCE_NORMALIZATION || in->n_inputs != 3 || in->n_outputs != 1 ||
      in->inputs[0] == IR_NONE)
    return false;
  const ir_attr *eps = ir_node_attr(in, "epsilon");
  if (eps && eps->type != IR_ATTR_FLOAT) return false;
  m->eps = eps ? eps->f : 1e-5f;
  int64_t ns, nb;
  m->in = id;
  m->in_scale = pass_const_f32(g, in->inputs[1], &ns);
  m->in_bias = pass_const_f32(g, in->inputs[2], &nb);
  if (!m->in_scale || !m->in_bias || ns != nb || ns < 1) return false;
  m->groups = ns;
  m->r1 = g->values[in->inputs[0]].producer;
  if (m->r1 == IR_NONE || g->nodes[m->r1].op != IR_OP_RESHAPE ||
      (g->nodes[m->r1].flags & IR_NODE_DEAD) || pass_sole_consumer(g, in->inputs[0]) != id)
    return false;
  m->r2 = gn_next(g, in->outputs[0], IR_OP_RESHAPE);
  return m->r2 != IR_NONE && g->nodes[m->r2].inputs[0] == in->outputs[0] && gn_match_split(g, m) &&
         gn_match_merge(g, m) && gn_match_affine(g, m);
}

/* Scale and bias per channel: gamma * (IN's scale, bias per group) + beta. */
static onnxi_status gn_params_add(pass_context *ctx, const gn_match *m, int32_t *scale_id,
                                  int32_t *bias_id) {
  const char *base = ctx->graph->nodes[m->in].name;
  char name[512];
  float *sc, *bi;
  snprintf(name, sizeof name, "%.400s.gn_scale", base);
  onnxi_status st = pass_const_add(ctx, name, 1, &m->channels, &sc, scale_id);
  snprintf(name, sizeof name, "%.400s.gn_bias", base);
  if (st == ONNXI_OK) st = pass_const_add(ctx, name, 1, &m->channels, &bi, bias_id);
  if (st != ONNXI_OK) return st;
  int64_t cg = m->channels / m->groups;
  for (int64_t c = 0; c < m->channels; c++) {
    sc[c] = m->gamma[c] * m->in_scale[c / cg];
    bi[c] = m->gamma[c] * m->in_bias[c / cg] + (m->beta ? m->beta[c] : 0.0f);
  }
  return ONNXI_OK;
}

/* epsilon, num_groups, onnxi.input_rank, and the clamp of the last node. */
static onnxi_status gn_attrs_set(pass_context *ctx, ir_node *n, const gn_match *m,
                                 const ir_node *last) {
  ir_attr *a = arena_alloc(ctx->graph->arena, sizeof *a * 5, 8);
  if (!a) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory in a pass");
  memset(a, 0, sizeof *a * 5);
  int k = 0;
  a[k++] = (ir_attr){.name = "epsilon", .type = IR_ATTR_FLOAT, .n = 1, .f = m->eps};
  a[k++] = (ir_attr){.name = "num_groups", .type = IR_ATTR_INT, .n = 1, .i = m->groups};
  a[k++] = (ir_attr){.name = "onnxi.input_rank", .type = IR_ATTR_INT, .n = 1, .i = m->rank};
  static const char *const clamps[2] = {"onnxi.clamp_min", "onnxi.clamp_max"};
  for (int i = 0; i < 2; i++) {
    const ir_attr *c = ir_node_attr(last, clamps[i]);
    if (c && c->type == IR_ATTR_FLOAT) a[k++] = *c;
  }
  n->attrs = a;
  n->n_attrs = k;
  return ONNXI_OK;
}

static onnxi_status gn_lower(pass_context *ctx, const gn_match *m) {
  ir_graph *g = ctx->graph;
  int32_t scale_id, bias_id;
  onnxi_status st = gn_params_add(ctx, m, &scale_id, &bias_id);
  int32_t *ins = arena_alloc(g->arena, sizeof(int32_t) * 3, 4);
  if (st == ONNXI_OK && !ins) st = err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory in a pass");
  ir_node *n = &g->nodes[m->in];
  const ir_node *last = &g->nodes[m->add != IR_NONE ? m->add : m->mul];
  if (st == ONNXI_OK) st = gn_attrs_set(ctx, n, m, last);
  if (st != ONNXI_OK) return st;
  ins[0] = m->x, ins[1] = scale_id, ins[2] = bias_id;
  n->inputs = ins;
  n->n_inputs = 3;
  n->op = IR_OP_GROUP_NORMALIZATION;
  n->op_type = ir_op_name(IR_OP_GROUP_NORMALIZATION);
  n->outputs[0] = m->y;
  g->values[m->y].producer = m->in;
  int32_t dead[5] = {m->r1, m->r2, m->mul, m->add, IR_NONE};
  if (pass_sole_consumer(g, g->nodes[m->shape].outputs[0]) == m->r2) dead[4] = m->shape;
  for (int i = 0; i < 5; i++)
    if (dead[i] != IR_NONE) g->nodes[dead[i]].flags |= IR_NODE_DEAD;
  pass_note(ctx, "lowered '%s' (Reshape, InstanceNormalization, Reshape, Mul%s) to GroupNormalization "
            "(%lld groups of %lld channels)", n->name, m->add != IR_NONE ? ", Add" : "",
            (long long)m->groups, (long long)(m->channels / m->groups));
  return ONNXI_OK;
}

/* GroupNormalization -> Relu: the Relu becomes the clamp's lower bound. */
static onnxi_status gn_relu_fuse(pass_context *ctx, int32_t id) {
  ir_graph *g = ctx->graph;
  ir_node *n = &g->nodes[id];
  if (n->n_outputs != 1 || n->outputs[0] == IR_NONE) return ONNXI_OK;
  int32_t r = gn_next(g, n->outputs[0], IR_OP_RELU);
  if (r == IR_NONE || g->nodes[r].n_inputs != 1) return ONNXI_OK;
  const ir_attr *lo = ir_node_attr(n, "onnxi.clamp_min");
  if (lo && lo->type != IR_ATTR_FLOAT) return ONNXI_OK;
  onnxi_status st = pass_attr_set_float(ctx, n, "onnxi.clamp_min", lo && lo->f > 0 ? lo->f : 0.0f);
  if (st != ONNXI_OK) return st;
  n = &g->nodes[id];
  n->outputs[0] = g->nodes[r].outputs[0];
  g->values[n->outputs[0]].producer = id;
  g->nodes[r].flags |= IR_NODE_DEAD;
  pass_note(ctx, "fused '%s' (Relu) into '%s' (GroupNormalization)", g->nodes[r].name, n->name);
  return ONNXI_OK;
}

onnxi_status pass_groupnorm_run(pass_context *ctx) {
  ir_graph *g = ctx->graph;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i].flags & IR_NODE_DEAD) continue;
    gn_match m;
    onnxi_status st = ONNXI_OK;
    if (gn_match_at(g, i, &m)) st = gn_lower(ctx, &m);
    if (st == ONNXI_OK && g->nodes[i].op == IR_OP_GROUP_NORMALIZATION) st = gn_relu_fuse(ctx, i);
    if (st != ONNXI_OK) return st;
  }
  return ONNXI_OK;
}
