#include "ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ir_op_names[IR_OP_COUNT] = {
    [IR_OP_UNKNOWN] = "<unknown>",
#define OP(e, n, k, f, s) [IR_OP_##e] = n,
#include "op_list.inc"
#undef OP
};

static const uint8_t ir_op_since7s[IR_OP_COUNT] = {
#define OP(e, n, k, f, s) [IR_OP_##e] = s,
#include "op_list.inc"
#undef OP
};

int ir_op_since7(ir_op op) { return (op > 0 && op < IR_OP_COUNT) ? ir_op_since7s[op] : 0; }

ir_op ir_op_from_name(const char *op_type) {
  /* op_list.inc is sorted by enum name, not by op_type: a linear scan over
   * ~90 short strings per node is far below the protobuf parse cost. */
  for (int i = 1; i < IR_OP_COUNT; i++)
    if (strcmp(ir_op_names[i], op_type) == 0) return (ir_op)i;
  return IR_OP_UNKNOWN;
}

const char *ir_op_name(ir_op op) {
  return (op >= 0 && op < IR_OP_COUNT) ? ir_op_names[op] : "<invalid>";
}

size_t ir_dtype_size(int32_t dtype) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: case ONNXI_DTYPE_INT32: case ONNXI_DTYPE_UINT32: return 4;
  case ONNXI_DTYPE_UINT8: case ONNXI_DTYPE_INT8: case ONNXI_DTYPE_BOOL: return 1;
  case ONNXI_DTYPE_UINT16: case ONNXI_DTYPE_INT16: case ONNXI_DTYPE_FLOAT16:
  case ONNXI_DTYPE_BFLOAT16: return 2;
  case ONNXI_DTYPE_INT64: case ONNXI_DTYPE_DOUBLE: case ONNXI_DTYPE_UINT64: return 8;
  default: return 0;
  }
}

bool ir_dtype_valid(int32_t dtype) {
  return dtype == ONNXI_DTYPE_STRING || ir_dtype_size(dtype) != 0;
}

size_t onnxi_dtype_size(onnxi_dtype dtype) { return ir_dtype_size(dtype); }

const char *onnxi_dtype_name(onnxi_dtype dtype) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: return "float32";
  case ONNXI_DTYPE_UINT8: return "uint8";
  case ONNXI_DTYPE_INT8: return "int8";
  case ONNXI_DTYPE_UINT16: return "uint16";
  case ONNXI_DTYPE_INT16: return "int16";
  case ONNXI_DTYPE_INT32: return "int32";
  case ONNXI_DTYPE_INT64: return "int64";
  case ONNXI_DTYPE_STRING: return "string";
  case ONNXI_DTYPE_BOOL: return "bool";
  case ONNXI_DTYPE_FLOAT16: return "float16";
  case ONNXI_DTYPE_DOUBLE: return "float64";
  case ONNXI_DTYPE_UINT32: return "uint32";
  case ONNXI_DTYPE_UINT64: return "uint64";
  case ONNXI_DTYPE_BFLOAT16: return "bfloat16";
  case ONNXI_DTYPE_UNDEFINED: break;
  }
  return "undefined";
}

const char *ir_attr_type_name(ir_attr_type t) {
  static const char *const names[] = {"undefined", "float", "int", "string", "tensor",
                                      "graph", "floats", "ints", "strings", "tensors",
                                      "graphs", "sparse_tensor", "sparse_tensors",
                                      "type_proto", "type_protos"};
  return (t >= 0 && t <= IR_ATTR_TYPE_PROTOS) ? names[t] : "invalid";
}

bool ir_dims_count(const int64_t *dims, int rank, int64_t *count) {
  /* The nonzero dims must multiply within int64 even when a zero dim makes
   * the count 0: kernels compute strides and partial products from them. */
  int64_t c = 1;
  bool empty = false;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) return false;
    if (dims[i] == 0) {
      empty = true;
      continue;
    }
    if (c > INT64_MAX / dims[i]) return false;
    c *= dims[i];
  }
  *count = empty ? 0 : c;
  return true;
}

bool ir_shape_known(const ir_shape *s) {
  if (s->rank < 0) return false;
  for (int i = 0; i < s->rank; i++)
    if (s->dims[i].value < 0) return false;
  return true;
}

void ir_graph_init(ir_graph *g, arena *a) {
  memset(g, 0, sizeof *g);
  g->arena = a;
  g->name = "";
}

static void ir_attrs_release(ir_attr *attrs, int32_t n) {
  for (int32_t i = 0; i < n; i++) {
    if (attrs[i].type != IR_ATTR_GRAPH && attrs[i].type != IR_ATTR_GRAPHS) continue;
    for (int64_t k = 0; k < attrs[i].n; k++)
      if (attrs[i].graphs && attrs[i].graphs[k]) ir_graph_release(attrs[i].graphs[k]);
  }
}

void ir_graph_release(ir_graph *g) {
  for (int32_t i = 0; i < g->n_nodes; i++) ir_attrs_release(g->nodes[i].attrs, g->nodes[i].n_attrs);
  free(g->values);
  free(g->nodes);
  free(g->syms);
  free(g->index);
  free(g->use_start);
  free(g->uses);
  /* inputs/outputs arrays live in the arena */
  memset(g, 0, sizeof *g);
}

static uint32_t ir_name_hash(const char *s) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static bool ir_index_insert(int32_t *index, int32_t cap, const char *name, int32_t id) {
  uint32_t mask = (uint32_t)cap - 1;
  for (uint32_t h = ir_name_hash(name) & mask;; h = (h + 1) & mask) {
    if (index[h] == 0) {
      index[h] = id + 1;
      return true;
    }
  }
}

static bool ir_index_grow(ir_graph *g) {
  int32_t cap = g->index_cap ? g->index_cap * 2 : 64;
  if (cap <= 0 || cap > (1 << 28)) return false;
  int32_t *idx = calloc((size_t)cap, sizeof *idx);
  if (!idx) return false;
  for (int32_t v = 0; v < g->n_values; v++) ir_index_insert(idx, cap, g->values[v].name, v);
  free(g->index);
  g->index = idx;
  g->index_cap = cap;
  return true;
}

int32_t ir_graph_value_find(const ir_graph *g, const char *name) {
  if (!g->index_cap || !name) return IR_NONE;
  uint32_t mask = (uint32_t)g->index_cap - 1;
  for (uint32_t h = ir_name_hash(name) & mask;; h = (h + 1) & mask) {
    int32_t e = g->index[h];
    if (e == 0) return IR_NONE;
    if (strcmp(g->values[e - 1].name, name) == 0) return e - 1;
  }
}

/* Grows a heap array of `*cap` elements of `size` bytes to hold `need`. */
static bool ir_array_reserve(void **arr, int32_t *cap, int32_t need, size_t size) {
  if (need <= *cap) return true;
  int64_t c = *cap ? (int64_t)*cap * 2 : 16;
  while (c < need) c *= 2;
  if (c > INT32_MAX / 2) return false;
  void *p = realloc(*arr, (size_t)c * size);
  if (!p) return false;
  memset((char *)p + (size_t)*cap * size, 0, (size_t)(c - *cap) * size);
  *arr = p;
  *cap = (int32_t)c;
  return true;
}

onnxi_status ir_graph_value_add(ir_graph *g, const char *name, int32_t *id, onnxi_error *err) {
  char gen[32];
  if (!name || !*name) {
    snprintf(gen, sizeof gen, "_v%d", g->n_values);
    name = gen;
  }
  if (ir_graph_value_find(g, name) != IR_NONE)
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "value '%s' is defined twice", name);
  if (!ir_array_reserve((void **)&g->values, &g->cap_values, g->n_values + 1, sizeof *g->values))
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory adding value '%s'", name);
  if ((g->n_values + 1) * 2 > g->index_cap && !ir_index_grow(g))
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory indexing value '%s'", name);
  const char *copy = arena_strdup(g->arena, name);
  if (!copy) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory adding value '%s'", name);
  int32_t v = g->n_values++;
  ir_value *val = &g->values[v];
  memset(val, 0, sizeof *val);
  val->name = copy;
  val->shape.rank = -1;
  val->producer = IR_NONE;
  ir_index_insert(g->index, g->index_cap, copy, v);
  *id = v;
  return ONNXI_OK;
}

onnxi_status ir_graph_node_add(ir_graph *g, ir_op op, const char *op_type, int32_t n_inputs,
                               int32_t n_outputs, int32_t n_attrs, int32_t *id,
                               onnxi_error *err) {
  if (n_inputs < 0 || n_outputs < 0 || n_attrs < 0)
    return err_set(err, ONNXI_ERR_INVALID_ARG, "negative node arity");
  if (!ir_array_reserve((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes))
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory adding a node");
  ir_node *n = &g->nodes[g->n_nodes];
  memset(n, 0, sizeof *n);
  n->op = op;
  n->op_type = op_type ? arena_strdup(g->arena, op_type) : ir_op_name(op);
  n->domain = "";
  n->inputs = arena_alloc(g->arena, sizeof(int32_t) * (size_t)(n_inputs ? n_inputs : 1), 4);
  n->outputs = arena_alloc(g->arena, sizeof(int32_t) * (size_t)(n_outputs ? n_outputs : 1), 4);
  n->attrs = arena_alloc(g->arena, sizeof(ir_attr) * (size_t)(n_attrs ? n_attrs : 1), 8);
  if (!n->op_type || !n->inputs || !n->outputs || !n->attrs)
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory adding a node");
  for (int32_t i = 0; i < n_inputs; i++) n->inputs[i] = IR_NONE;
  for (int32_t i = 0; i < n_outputs; i++) n->outputs[i] = IR_NONE;
  n->n_inputs = n_inputs;
  n->n_outputs = n_outputs;
  n->n_attrs = n_attrs;
  char gen[64];
  snprintf(gen, sizeof gen, "%s_%d", n->op_type, g->n_nodes);
  n->name = arena_strdup(g->arena, gen);
  if (!n->name) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory adding a node");
  *id = g->n_nodes++;
  return ONNXI_OK;
}

int32_t ir_graph_sym_intern(ir_graph *g, const char *name) {
  for (int32_t i = 0; i < g->n_syms; i++)
    if (strcmp(g->syms[i], name) == 0) return i;
  if (!ir_array_reserve((void **)&g->syms, &g->cap_syms, g->n_syms + 1, sizeof *g->syms))
    return -1;
  const char *copy = arena_strdup(g->arena, name);
  if (!copy) return -1;
  g->syms[g->n_syms] = copy;
  return g->n_syms++;
}

/* Kahn's algorithm over value dependencies. Producers are set first so that
 * a value produced twice or an input nobody produces is reported by name. */
onnxi_status ir_graph_sort(ir_graph *g, onnxi_error *err) {
  onnxi_status st = ONNXI_OK;
  int32_t *pending = NULL, *order = NULL, *queue = NULL;
  ir_node *sorted = NULL;
  for (int32_t v = 0; v < g->n_values; v++) g->values[v].producer = IR_NONE;
  for (int32_t n = 0; n < g->n_nodes; n++) {
    const ir_node *node = &g->nodes[n];
    for (int32_t k = 0; k < node->n_outputs; k++) {
      int32_t v = node->outputs[k];
      if (v == IR_NONE) continue;
      ir_value *val = &g->values[v];
      if (val->producer != IR_NONE || (val->flags & (IR_VALUE_INPUT | IR_VALUE_CONST))) {
        st = err_set(err, ONNXI_ERR_INVALID_MODEL,
                     "node '%s' (%s): output '%s' is already produced by %s", node->name,
                     node->op_type, val->name,
                     val->producer != IR_NONE ? g->nodes[val->producer].name
                     : (val->flags & IR_VALUE_CONST) ? "an initializer" : "a graph input");
        goto fail;
      }
      val->producer = n;
    }
  }
  ir_graph_link(g, NULL);
  if (g->n_nodes && !g->use_start) {
    st = err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory sorting the graph");
    goto fail;
  }
  size_t nn = (size_t)g->n_nodes + 1;
  pending = calloc(nn, sizeof *pending);
  queue = calloc(nn, sizeof *queue);
  order = calloc(nn, sizeof *order);
  sorted = calloc(nn, sizeof *sorted);
  if (!pending || !queue || !order || !sorted) {
    st = err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory sorting the graph");
    goto fail;
  }
  int32_t head = 0, tail = 0;
  for (int32_t n = 0; n < g->n_nodes; n++) {
    const ir_node *node = &g->nodes[n];
    for (int32_t k = 0; k < node->n_inputs; k++) {
      int32_t v = node->inputs[k];
      if (v == IR_NONE) continue;
      const ir_value *val = &g->values[v];
      if (val->producer != IR_NONE) {
        pending[n]++;
      } else if (!(val->flags & (IR_VALUE_INPUT | IR_VALUE_CONST))) {
        st = err_set(err, ONNXI_ERR_INVALID_MODEL,
                     "node '%s' (%s): input %d '%s' is not a graph input, an initializer "
                     "or the output of any node",
                     node->name, node->op_type, k, val->name);
        goto fail;
      }
    }
    if (pending[n] == 0) queue[tail++] = n;
  }
  while (head < tail) {
    int32_t n = queue[head++];
    order[head - 1] = n;
    const ir_node *node = &g->nodes[n];
    for (int32_t k = 0; k < node->n_outputs; k++) {
      int32_t v = node->outputs[k];
      if (v == IR_NONE) continue;
      for (int32_t u = g->use_start[v]; u < g->use_start[v + 1]; u++)
        if (--pending[g->uses[u]] == 0) queue[tail++] = g->uses[u];
    }
  }
  if (tail < g->n_nodes) {
    for (int32_t n = 0; n < g->n_nodes; n++) {
      if (pending[n] > 0) {
        st = err_set(err, ONNXI_ERR_INVALID_MODEL,
                     "node '%s' (%s) is part of a cycle: its inputs depend on its own outputs",
                     g->nodes[n].name, g->nodes[n].op_type);
        goto fail;
      }
    }
  }
  for (int32_t i = 0; i < g->n_nodes; i++) sorted[i] = g->nodes[order[i]];
  if (g->n_nodes) memcpy(g->nodes, sorted, sizeof *sorted * (size_t)g->n_nodes);
  for (int32_t n = 0; n < g->n_nodes; n++)
    for (int32_t k = 0; k < g->nodes[n].n_outputs; k++)
      if (g->nodes[n].outputs[k] != IR_NONE) g->values[g->nodes[n].outputs[k]].producer = n;
  st = ir_graph_link(g, err);
fail:
  free(pending);
  free(queue);
  free(order);
  free(sorted);
  return st;
}

onnxi_status ir_graph_link(ir_graph *g, onnxi_error *err) {
  free(g->use_start);
  free(g->uses);
  g->uses = NULL;
  int64_t total = 0;
  for (int32_t n = 0; n < g->n_nodes; n++) total += g->nodes[n].n_inputs;
  g->use_start = calloc((size_t)g->n_values + 1, sizeof *g->use_start);
  g->uses = malloc(sizeof *g->uses * (size_t)(total ? total : 1));
  if (!g->use_start || !g->uses || total > INT32_MAX) {
    free(g->use_start);
    free(g->uses);
    g->use_start = g->uses = NULL;
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory linking the graph");
  }
  for (int32_t n = 0; n < g->n_nodes; n++)
    for (int32_t k = 0; k < g->nodes[n].n_inputs; k++)
      if (g->nodes[n].inputs[k] != IR_NONE) g->use_start[g->nodes[n].inputs[k] + 1]++;
  for (int32_t v = 0; v < g->n_values; v++) g->use_start[v + 1] += g->use_start[v];
  int32_t *fill = calloc((size_t)g->n_values + 1, sizeof *fill);
  if (!fill) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory linking the graph");
  for (int32_t n = 0; n < g->n_nodes; n++) {
    for (int32_t k = 0; k < g->nodes[n].n_inputs; k++) {
      int32_t v = g->nodes[n].inputs[k];
      if (v != IR_NONE) g->uses[g->use_start[v] + fill[v]++] = n;
    }
  }
  free(fill);
  return ONNXI_OK;
}

int32_t ir_value_use_count(const ir_graph *g, int32_t v) {
  if (!g->use_start || v < 0 || v >= g->n_values) return 0;
  return g->use_start[v + 1] - g->use_start[v];
}

const int32_t *ir_value_uses(const ir_graph *g, int32_t v) {
  return g->uses + g->use_start[v];
}

onnxi_status ir_graph_compact(ir_graph *g, onnxi_error *err) {
  int32_t out = 0;
  for (int32_t n = 0; n < g->n_nodes; n++) {
    if (g->nodes[n].flags & IR_NODE_DEAD) {
      ir_attrs_release(g->nodes[n].attrs, g->nodes[n].n_attrs);
      continue;
    }
    g->nodes[out++] = g->nodes[n];
  }
  g->n_nodes = out;
  for (int32_t v = 0; v < g->n_values; v++) g->values[v].producer = IR_NONE;
  for (int32_t n = 0; n < g->n_nodes; n++)
    for (int32_t k = 0; k < g->nodes[n].n_outputs; k++)
      if (g->nodes[n].outputs[k] != IR_NONE) g->values[g->nodes[n].outputs[k]].producer = n;
  return ir_graph_link(g, err);
}

const ir_attr *ir_node_attr(const ir_node *n, const char *name) {
  for (int32_t i = 0; i < n->n_attrs; i++)
    if (n->attrs[i].name && strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

void ir_model_release(ir_model *m) {
  ir_graph_release(&m->graph);
  arena_release(&m->arena);
}
