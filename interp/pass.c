/* Pass runner and the helpers passes share. */
#include "pass.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

static const pass_def pass_defs[] = {
    {"identity", pass_identity_run, "remove Identity, inference Dropout and no-op Cast"},
    {"fold", pass_fold_run, "compute nodes whose inputs are all constants at load"},
    {"layernorm", pass_layernorm_run, "fuse LayerNorm decompositions into LayerNormalization"},
    {"gelu", pass_gelu_run, "fuse Erf-based GELU decompositions into Gelu"},
    {"bn-fold", pass_bn_fold_run, "fold BatchNormalization into the preceding Conv/Gemm"},
    {"act-fuse", pass_act_fuse_run, "fuse Relu/Clip into the producer's output clamp"},
    {"groupnorm", pass_groupnorm_run, "lower exported GroupNorm (InstanceNormalization form) to one op"},
    {"shuffle", pass_shuffle_run, "Reshape-Transpose-Reshape channel shuffles as one op"},
    {"shuffle-split", pass_shuffle_split_run, "channel Slices of a shuffle written by the shuffle"},
    {"swish", pass_swish_run, "x*Sigmoid(x) and x*HardSigmoid(x) as one elementwise op"},
    {"conv-act", pass_conv_act_run, "fuse Swish/HardSwish after a Conv into the Conv"},
    {"dce", pass_dce_run, "remove nodes whose outputs nothing reads"},
};

const pass_def *pass_table(int *count) {
  *count = (int)(sizeof pass_defs / sizeof pass_defs[0]);
  return pass_defs;
}

/* True when `name` is in the comma-separated list (or the list is "all"). */
static bool pass_listed(const char *list, const char *name) {
  if (!list) return false;
  if (strcmp(list, "all") == 0) return true;
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, name, n) == 0) return true;
    p += len;
    if (*p == ',') p++;
  }
  return false;
}

static onnxi_status pass_names_check(const char *list, onnxi_error *err) {
  if (!list || strcmp(list, "all") == 0) return ONNXI_OK;
  int n;
  const pass_def *defs = pass_table(&n);
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",");
    bool known = len == 0;
    for (int i = 0; i < n && !known; i++)
      known = strlen(defs[i].name) == len && strncmp(defs[i].name, p, len) == 0;
    if (!known)
      return err_set(err, ONNXI_ERR_INVALID_ARG, "unknown pass '%.*s' (see onnxi dump --help)",
                     (int)len, p);
    p += len;
    if (*p == ',') p++;
  }
  return ONNXI_OK;
}

onnxi_status passes_run(ir_model *m, const char *disabled, FILE *log, onnxi_error *err) {
  onnxi_status st = pass_names_check(disabled, err);
  if (st != ONNXI_OK) return st;
  int n;
  const pass_def *defs = pass_table(&n);
  if (log) fprintf(log, "passes over %s: %d nodes as imported\n", m->path, m->graph.n_nodes);
  for (int i = 0; i < n; i++) {
    if (pass_listed(disabled, defs[i].name)) {
      if (log) fprintf(log, "pass %s: disabled\n", defs[i].name);
      continue;
    }
    pass_context ctx = {.model = m, .graph = &m->graph, .err = err, .log = log, .pass = defs[i].name};
    if (log) fprintf(log, "pass %s:\n", defs[i].name);
    st = ir_graph_link(&m->graph, err);
    if (st == ONNXI_OK) st = defs[i].run(&ctx);
    if (st == ONNXI_OK) st = ir_graph_compact(&m->graph, err);
    if (st != ONNXI_OK) return err_prefix(err, st, "%s: pass %s", m->path, defs[i].name);
    if (log) fprintf(log, "  %d rewrites, %d nodes\n", ctx.changes, m->graph.n_nodes);
  }
  return ONNXI_OK;
}

void pass_note(pass_context *ctx, const char *fmt, ...) {
  ctx->changes++;
  if (!ctx->log) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("  ", ctx->log);
  vfprintf(ctx->log, fmt, ap);
  fputc('\n', ctx->log);
  va_end(ap);
}

int32_t pass_sole_consumer(const ir_graph *g, int32_t v) {
  if (g->values[v].flags & IR_VALUE_OUTPUT) return IR_NONE;
  if (ir_value_use_count(g, v) != 1) return IR_NONE;
  int32_t n = ir_value_uses(g, v)[0];
  return (g->nodes[n].flags & IR_NODE_DEAD) ? IR_NONE : n;
}

void pass_value_replace(ir_graph *g, int32_t from, int32_t to) {
  for (int32_t n = 0; n < g->n_nodes; n++) {
    ir_node *node = &g->nodes[n];
    for (int32_t k = 0; k < node->n_inputs; k++)
      if (node->inputs[k] == from) node->inputs[k] = to;
  }
}

/* Sets scalar attribute `name` to v (its name is ignored), adding it if absent. */
static onnxi_status pass_attr_set(pass_context *ctx, ir_node *n, const char *name, ir_attr v) {
  v.n = 1;
  for (int32_t i = 0; i < n->n_attrs; i++) {
    if (strcmp(n->attrs[i].name, name) == 0) {
      v.name = n->attrs[i].name;
      n->attrs[i] = v;
      return ONNXI_OK;
    }
  }
  arena *a = ctx->graph->arena;
  ir_attr *attrs = arena_alloc(a, sizeof *attrs * (size_t)(n->n_attrs + 1), 8);
  v.name = arena_strdup(a, name);
  if (!attrs || !v.name) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory in a pass");
  memcpy(attrs, n->attrs, sizeof *attrs * (size_t)n->n_attrs);
  attrs[n->n_attrs] = v;
  n->attrs = attrs;
  n->n_attrs++;
  return ONNXI_OK;
}

onnxi_status pass_attr_set_float(pass_context *ctx, ir_node *n, const char *name, float v) {
  return pass_attr_set(ctx, n, name, (ir_attr){.type = IR_ATTR_FLOAT, .f = v});
}

onnxi_status pass_attr_set_int(pass_context *ctx, ir_node *n, const char *name, int64_t v) {
  return pass_attr_set(ctx, n, name, (ir_attr){.type = IR_ATTR_INT, .i = v});
}

const float *pass_const_f32(const ir_graph *g, int32_t v, int64_t *count) {
  if (v == IR_NONE) return NULL;
  const ir_value *val = &g->values[v];
  if (!(val->flags & IR_VALUE_CONST) || val->dtype != ONNXI_DTYPE_FLOAT) return NULL;
  *count = (int64_t)(val->nbytes / sizeof(float));
  return val->data;
}

onnxi_status pass_const_add(pass_context *ctx, const char *name, int rank, const int64_t *dims,
                            float **data, int32_t *id) {
  ir_graph *g = ctx->graph;
  char unique[512];
  snprintf(unique, sizeof unique, "%s", name);
  for (int i = 1; ir_graph_value_find(g, unique) != IR_NONE; i++)
    snprintf(unique, sizeof unique, "%.480s_%d", name, i);
  onnxi_status st = ir_graph_value_add(g, unique, id, ctx->err);
  if (st != ONNXI_OK) return st;
  int64_t count;
  if (!ir_dims_count(dims, rank, &count))
    return err_set(ctx->err, ONNXI_ERR_LIMIT, "constant '%s' is too large", unique);
  ir_value *v = &g->values[*id];
  v->dtype = ONNXI_DTYPE_FLOAT;
  v->flags = IR_VALUE_CONST;
  v->shape.rank = rank;
  for (int d = 0; d < rank; d++) v->shape.dims[d] = (ir_dim){dims[d], -1};
  v->nbytes = (size_t)count * sizeof(float);
  v->data = arena_alloc(g->arena, v->nbytes ? v->nbytes : 1, 64);
  if (!v->data) return err_set(ctx->err, ONNXI_ERR_NO_MEMORY, "out of memory in a pass");
  *data = v->data;
  return ONNXI_OK;
}
