/* GraphProto -> ir_graph: initializers, inputs, nodes (two passes, so that
 * subgraph attributes see every name of the enclosing graph), outputs and
 * value_info shapes, then ordering and validation. */
#include <inttypes.h>
#include <string.h>

#include "onnx_internal.h"

static const char *onnx_str(const char *s) { return s ? s : ""; }

static bool onnx_scope_find(const onnx_scope *s, const char *name) {
  for (; s; s = s->outer)
    if (ir_graph_value_find(s->g, name) != IR_NONE) return true;
  return false;
}

/* Finds `name` or adds it as a value to be produced or resolved later. */
static onnxi_status onnx_value_ref(ir_graph *g, const char *name, int32_t *id, onnxi_error *err) {
  onnxi_status st = onnx_name_check(name, "value name", err);
  if (st) return st;
  *id = ir_graph_value_find(g, name);
  return *id != IR_NONE ? ONNXI_OK : ir_graph_value_add(g, name, id, err);
}

/* NULL for a tensor type (or none), else what the type is. */
static const char *onnx_type_kind(const Onnx__TypeProto *tp) {
  if (!tp) return NULL;
  switch (tp->value_case) {
  case ONNX__TYPE_PROTO__VALUE__NOT_SET: case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE: return NULL;
  case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: return "a sequence";
  case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: return "a map";
  case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: return "an optional";
  case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: return "a sparse tensor";
  default: return "an unknown type";
  }
}

static onnxi_status onnx_dim_convert(ir_graph *g, const Onnx__TensorShapeProto__Dimension *d,
                                     int i, ir_dim *out, onnxi_error *err) {
  out->value = -1;
  out->sym = -1;
  if (!d) return ONNXI_OK;
  if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
    if (d->dim_value < 0)
      return err_set(err, ONNXI_ERR_INVALID_MODEL, "dim %d is %" PRId64 " (negative)", i,
                     d->dim_value);
    out->value = d->dim_value;
  } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
             d->dim_param && *d->dim_param) {
    onnxi_status st = onnx_name_check(d->dim_param, "dim_param", err);
    if (st) return st;
    out->sym = ir_graph_sym_intern(g, d->dim_param);
    if (out->sym < 0)
      return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory adding dim_param '%s'",
                     d->dim_param);
  }
  return ONNXI_OK;
}

/* Tensor element type and shape; anything else stays unknown. */
static onnxi_status onnx_type_convert(ir_graph *g, const Onnx__TypeProto *tp, int32_t *dtype,
                                      ir_shape *shape, onnxi_error *err) {
  *dtype = ONNXI_DTYPE_UNDEFINED;
  shape->rank = -1;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    return ONNXI_OK;
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  int32_t elem = tt->has_elem_type ? tt->elem_type : ONNXI_DTYPE_UNDEFINED;
  if (elem != ONNXI_DTYPE_UNDEFINED && !ir_dtype_valid(elem))
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "elem_type %" PRId32 " (%s) is not supported",
                   elem, onnx_dtype_name(elem));
  *dtype = elem;
  if (!tt->shape) return ONNXI_OK;
  if (tt->shape->n_dim > IR_MAX_RANK)
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "rank %zu exceeds the maximum rank %d",
                   tt->shape->n_dim, IR_MAX_RANK);
  for (int i = 0; i < (int)tt->shape->n_dim; i++) {
    onnxi_status st = onnx_dim_convert(g, tt->shape->dim[i], i, &shape->dims[i], err);
    if (st) return st;
  }
  shape->rank = (int32_t)tt->shape->n_dim;
  return ONNXI_OK;
}

/* Declared types fill in what is still unknown; constants keep their own. */
static onnxi_status onnx_value_type_apply(ir_graph *g, int32_t id, const Onnx__TypeProto *tp,
                                          onnxi_error *err) {
  int32_t dtype;
  ir_shape shape;
  onnxi_status st = onnx_type_convert(g, tp, &dtype, &shape, err);
  if (st) return st;
  ir_value *v = &g->values[id];
  if (v->flags & IR_VALUE_CONST) return ONNXI_OK;
  if (v->dtype == ONNXI_DTYPE_UNDEFINED) v->dtype = dtype;
  if (v->shape.rank < 0) v->shape = shape;
  return ONNXI_OK;
}

/* The caller-facing interface of the main graph must be tensors. */
static onnxi_status onnx_io_check(const Onnx__ValueInfoProto *vi, int depth, onnxi_error *err) {
  const char *kind = onnx_type_kind(vi->type);
  if (depth > 0 || !kind) return ONNXI_OK;
  return err_set(err, ONNXI_ERR_UNSUPPORTED, "type is %s; only tensors are supported", kind);
}

static onnxi_status onnx_graph_header(onnx_ctx *c, const Onnx__GraphProto *gp, ir_graph *g,
                                      onnxi_error *err) {
  onnxi_status st = onnx_name_check(onnx_str(gp->name), "graph name", err);
  if (st) return st;
  if (!(g->name = arena_strdup(&c->m->arena, onnx_str(gp->name))))
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying the graph name");
  if (gp->n_sparse_initializer)
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "sparse_initializer is not supported (%zu found)",
                   gp->n_sparse_initializer);
  const size_t counts[] = {gp->n_initializer, gp->n_input, gp->n_output, gp->n_value_info};
  const char *const fields[] = {"initializer", "input", "output", "value_info"};
  for (int i = 0; i < 4; i++)
    if (counts[i] > ONNX_LIST_MAX)
      return err_set(err, ONNXI_ERR_LIMIT, "graph has %zu %s entries (limit %d)", counts[i],
                     fields[i], ONNX_LIST_MAX);
  if (gp->n_node > (size_t)(ONNX_NODES_MAX - c->n_nodes))
    return err_set(err, ONNXI_ERR_LIMIT, "model has more than %d nodes", ONNX_NODES_MAX);
  c->n_nodes += (int64_t)gp->n_node;
  g->inputs = arena_alloc(&c->m->arena, sizeof(int32_t) * (gp->n_input + 1), 4);
  g->outputs = arena_alloc(&c->m->arena, sizeof(int32_t) * (gp->n_output + 1), 4);
  if (!g->inputs || !g->outputs)
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory adding graph inputs");
  return ONNXI_OK;
}

static onnxi_status onnx_initializer_add(onnx_ctx *c, const Onnx__TensorProto *t, ir_graph *g,
                                         onnxi_error *err) {
  int32_t id;
  ir_tensor tensor;
  const char *name = onnx_str(t->name);
  onnxi_status st = onnx_name_check(name, "name", err);
  if (!st) st = ir_graph_value_add(g, name, &id, err);
  if (!st) st = onnx_tensor_convert(c, t, &tensor, err);
  if (st) return ONNX_PREFIXED(st, err, "initializer '%.200s'", name);
  ir_value *v = &g->values[id];
  v->flags |= IR_VALUE_CONST;
  v->dtype = tensor.dtype;
  v->shape.rank = tensor.rank;
  for (int i = 0; i < tensor.rank; i++) v->shape.dims[i] = (ir_dim){tensor.dims[i], -1};
  v->data = tensor.data;
  v->nbytes = tensor.nbytes;
  g->n_initializers++;
  g->initializer_bytes += tensor.nbytes;
  return ONNXI_OK;
}

/* An input that also has an initializer is a constant (the initializer is
 * its value), not something the caller feeds. */
static onnxi_status onnx_input_add(const Onnx__ValueInfoProto *vi, ir_graph *g, int depth,
                                   onnxi_error *err) {
  const char *name = onnx_str(vi->name);
  int32_t id = *name ? ir_graph_value_find(g, name) : IR_NONE;
  onnxi_status st = onnx_io_check(vi, depth, err);
  if (!st && id != IR_NONE && (g->values[id].flags & IR_VALUE_CONST)) {
    const Onnx__TypeProto *tp = vi->type;
    int32_t declared = tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
                       tp->tensor_type && tp->tensor_type->has_elem_type
                           ? tp->tensor_type->elem_type : ONNXI_DTYPE_UNDEFINED;
    if (declared != ONNXI_DTYPE_UNDEFINED && declared != g->values[id].dtype)
      st = err_set(err, ONNXI_ERR_INVALID_MODEL, "declared %s but its initializer is %s",
                   onnx_dtype_name(declared), onnx_dtype_name(g->values[id].dtype));
    return st ? ONNX_PREFIXED(st, err, "input '%.200s'", name) : ONNXI_OK;
  }
  if (!st) st = onnx_name_check(name, "name", err);
  if (!st) st = ir_graph_value_add(g, name, &id, err);
  if (!st) st = onnx_value_type_apply(g, id, vi->type, err);
  if (st) return ONNX_PREFIXED(st, err, "input '%.200s'", name);
  g->values[id].flags |= IR_VALUE_INPUT;
  g->inputs[g->n_inputs++] = id;
  return ONNXI_OK;
}

static onnxi_status onnx_node_names_check(const Onnx__NodeProto *np, onnxi_error *err) {
  onnxi_status st = onnx_name_check(onnx_str(np->name), "name", err);
  if (!st) st = onnx_name_check(onnx_str(np->op_type), "op_type", err);
  if (!st) st = onnx_name_check(onnx_str(np->domain), "domain", err);
  if (!st && !*onnx_str(np->op_type))
    st = err_set(err, ONNXI_ERR_INVALID_MODEL, "op_type is missing");
  if (!st && (np->n_input > ONNX_ARITY_MAX || np->n_output > ONNX_ARITY_MAX))
    st = err_set(err, ONNXI_ERR_LIMIT, "%zu inputs, %zu outputs (limit %d each)", np->n_input,
                 np->n_output, ONNX_ARITY_MAX);
  if (!st && np->n_attribute > ONNX_ATTRS_MAX)
    st = err_set(err, ONNXI_ERR_LIMIT, "%zu attributes (limit %d)", np->n_attribute,
                 ONNX_ATTRS_MAX);
  return st;
}

/* Value ids for a node's input or output names; "" is an omitted optional. */
static onnxi_status onnx_node_refs(ir_graph *g, char *const *names, size_t n, int32_t *ids,
                                   const char *what, onnxi_error *err) {
  for (size_t k = 0; k < n; k++) {
    ids[k] = IR_NONE;
    if (!names[k] || !*names[k]) continue;
    onnxi_status st = onnx_value_ref(g, names[k], &ids[k], err);
    if (st) return ONNX_PREFIXED(st, err, "%s %zu", what, k);
  }
  return ONNXI_OK;
}

static onnxi_status onnx_node_add(onnx_ctx *c, const Onnx__NodeProto *np, size_t index,
                                  ir_graph *g, onnxi_error *err) {
  onnxi_status st = onnx_node_names_check(np, err);
  if (st) return ONNX_PREFIXED(st, err, "node %zu '%.200s'", index, onnx_str(np->name));
  const char *domain = onnx_str(np->domain);
  bool onnx_domain = !*domain || strcmp(domain, "ai.onnx") == 0;
  ir_op op = onnx_domain ? ir_op_from_name(np->op_type) : IR_OP_UNKNOWN;
  int32_t id;
  st = ir_graph_node_add(g, op, np->op_type, (int32_t)np->n_input, (int32_t)np->n_output,
                         (int32_t)np->n_attribute, &id, err);
  if (st) return ONNX_PREFIXED(st, err, "node %zu '%.200s'", index, onnx_str(np->name));
  ir_node *n = &g->nodes[id];
  if ((np->name && *np->name && !(n->name = arena_strdup(&c->m->arena, np->name))) ||
      (!onnx_domain && !(n->domain = arena_strdup(&c->m->arena, domain))))
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory adding node %zu", index);
  st = onnx_node_refs(g, np->input, np->n_input, n->inputs, "input", err);
  if (!st) st = onnx_node_refs(g, np->output, np->n_output, n->outputs, "output", err);
  return st ? ONNX_PREFIXED(st, err, "node '%.200s' (%.200s)", n->name, n->op_type) : ONNXI_OK;
}

static onnxi_status onnx_node_attrs(onnx_ctx *c, const Onnx__NodeProto *np, ir_node *n,
                                    int depth, const onnx_scope *scope, onnxi_error *err) {
  onnxi_status st = ONNXI_OK;
  for (int32_t a = 0; a < n->n_attrs && !st; a++) {
    if (!np->attribute[a]) {
      st = err_set(err, ONNXI_ERR_INVALID_MODEL, "attribute %d is missing", a);
      break;
    }
    st = onnx_attr_convert(c, np->attribute[a], &n->attrs[a], depth, scope, err);
    for (int32_t b = 0; b < a && !st; b++)
      if (strcmp(n->attrs[b].name, n->attrs[a].name) == 0)
        st = err_set(err, ONNXI_ERR_INVALID_MODEL, "attribute '%s' appears twice",
                     n->attrs[a].name);
  }
  return st ? ONNX_PREFIXED(st, err, "node '%.200s' (%.200s)", n->name, n->op_type) : ONNXI_OK;
}

/* Subgraph outputs may name a value of an enclosing graph directly. */
static onnxi_status onnx_output_add(const Onnx__ValueInfoProto *vi, ir_graph *g, int depth,
                                    const onnx_scope *outer, onnxi_error *err) {
  const char *name = onnx_str(vi->name);
  if (!*name) return err_set(err, ONNXI_ERR_INVALID_MODEL, "output %d has no name", g->n_outputs);
  int32_t id = ir_graph_value_find(g, name);
  onnxi_status st = onnx_io_check(vi, depth, err);
  if (!st && id == IR_NONE && onnx_scope_find(outer, name))
    st = ir_graph_value_add(g, name, &id, err);
  if (!st && id == IR_NONE)
    st = err_set(err, ONNXI_ERR_INVALID_MODEL,
                 "not produced by any node and not an input or initializer");
  /* Results are matched to outputs by position: a repeated name is a
   * malformed graph (exporters insert an Identity instead). */
  if (!st && (g->values[id].flags & IR_VALUE_OUTPUT))
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "graph output '%.200s' is listed twice", name);
  if (!st) st = onnx_value_type_apply(g, id, vi->type, err);
  if (st) return ONNX_PREFIXED(st, err, "output '%.200s'", name);
  g->values[id].flags |= IR_VALUE_OUTPUT;
  g->outputs[g->n_outputs++] = id;
  return ONNXI_OK;
}

static onnxi_status onnx_value_info_apply(const Onnx__ValueInfoProto *vi, ir_graph *g,
                                          onnxi_error *err) {
  const char *name = onnx_str(vi->name);
  int32_t id = *name ? ir_graph_value_find(g, name) : IR_NONE;
  if (id == IR_NONE) return ONNXI_OK; /* describes nothing in this graph */
  onnxi_status st = onnx_value_type_apply(g, id, vi->type, err);
  return st ? ONNX_PREFIXED(st, err, "value_info '%.200s'", name) : ONNXI_OK;
}

/* Producers for file order; a value produced twice is an error. */
static onnxi_status onnx_producers_set(ir_graph *g, onnxi_error *err) {
  for (int32_t v = 0; v < g->n_values; v++) g->values[v].producer = IR_NONE;
  for (int32_t n = 0; n < g->n_nodes; n++) {
    const ir_node *node = &g->nodes[n];
    for (int32_t k = 0; k < node->n_outputs; k++) {
      if (node->outputs[k] == IR_NONE) continue;
      ir_value *val = &g->values[node->outputs[k]];
      if (val->producer != IR_NONE || (val->flags & (IR_VALUE_INPUT | IR_VALUE_CONST)))
        return err_set(err, ONNXI_ERR_INVALID_MODEL,
                       "node '%s' (%s): output '%s' is already produced by %s", node->name,
                       node->op_type, val->name,
                       val->producer != IR_NONE ? g->nodes[val->producer].name
                       : (val->flags & IR_VALUE_CONST) ? "an initializer" : "a graph input");
      val->producer = n;
    }
  }
  return ONNXI_OK;
}

static onnxi_status onnx_input_check(const ir_graph *g, int32_t n, int32_t k,
                                     const onnx_scope *outer, onnxi_error *err) {
  const ir_node *node = &g->nodes[n];
  const ir_value *val = &g->values[node->inputs[k]];
  if (val->producer == n)
    return err_set(err, ONNXI_ERR_INVALID_MODEL,
                   "node '%s' (%s) is part of a cycle: input %d '%s' is its own output",
                   node->name, node->op_type, k, val->name);
  if (val->producer > n)
    return err_set(err, ONNXI_ERR_INVALID_MODEL,
                   "node '%s' (%s): input %d '%s' is used before node '%s' produces it "
                   "(graphs with subgraphs must list nodes in topological order)",
                   node->name, node->op_type, k, val->name, g->nodes[val->producer].name);
  if (val->producer != IR_NONE || (val->flags & (IR_VALUE_INPUT | IR_VALUE_CONST)) ||
      onnx_scope_find(outer, val->name))
    return ONNXI_OK;
  return err_set(err, ONNXI_ERR_INVALID_MODEL,
                 "node '%s' (%s): input %d '%s' is not a graph input, an initializer%s the "
                 "output of any node%s", node->name, node->op_type, k, val->name,
                 outer ? "," : " or", outer ? " or a value of an enclosing graph" : "");
}

/* Graphs that are or contain subgraphs keep file order, which ONNX requires
 * to be topological: ir_graph_sort cannot see the outer names a subgraph
 * uses, so it could move a node ahead of what its subgraph reads. This
 * checks the order, sets producers and links. */
static onnxi_status onnx_file_order_check(ir_graph *g, const onnx_scope *outer,
                                          onnxi_error *err) {
  onnxi_status st = onnx_producers_set(g, err);
  for (int32_t n = 0; n < g->n_nodes && !st; n++)
    for (int32_t k = 0; k < g->nodes[n].n_inputs && !st; k++)
      if (g->nodes[n].inputs[k] != IR_NONE) st = onnx_input_check(g, n, k, outer, err);
  return st ? st : ir_graph_link(g, err);
}

static bool onnx_graph_has_subgraphs(const ir_graph *g) {
  for (int32_t n = 0; n < g->n_nodes; n++)
    for (int32_t a = 0; a < g->nodes[n].n_attrs; a++)
      if (g->nodes[n].attrs[a].type == IR_ATTR_GRAPH || g->nodes[n].attrs[a].type == IR_ATTR_GRAPHS)
        return true;
  return false;
}

static onnxi_status onnx_graph_values(onnx_ctx *c, const Onnx__GraphProto *gp, ir_graph *g,
                                      int depth, onnxi_error *err) {
  onnxi_status st = ONNXI_OK;
  for (size_t i = 0; i < gp->n_initializer && !st; i++)
    st = onnx_initializer_add(c, gp->initializer[i], g, err);
  for (size_t i = 0; i < gp->n_input && !st; i++)
    st = onnx_input_add(gp->input[i], g, depth, err);
  for (size_t i = 0; i < gp->n_node && !st; i++)
    st = onnx_node_add(c, gp->node[i], i, g, err);
  return st;
}

onnxi_status onnx_graph_convert(onnx_ctx *c, const Onnx__GraphProto *gp, ir_graph *g, int depth,
                                const onnx_scope *outer, onnxi_error *err) {
  onnxi_status st = onnx_graph_header(c, gp, g, err);
  if (!st) st = onnx_graph_values(c, gp, g, depth, err);
  /* nodes of g are all added: g->nodes[i] is gp->node[i] and stays put */
  const onnx_scope scope = {g, outer};
  for (size_t i = 0; i < gp->n_node && !st; i++)
    st = onnx_node_attrs(c, gp->node[i], &g->nodes[i], depth, &scope, err);
  for (size_t i = 0; i < gp->n_output && !st; i++)
    st = onnx_output_add(gp->output[i], g, depth, outer, err);
  for (size_t i = 0; i < gp->n_value_info && !st; i++)
    st = onnx_value_info_apply(gp->value_info[i], g, err);
  if (st) return st;
  if (depth > 0 || onnx_graph_has_subgraphs(g)) return onnx_file_order_check(g, outer, err);
  /* a graph of initializers only has nothing to order (and ir_graph_sort
   * would memcpy to a NULL node array) */
  return g->n_nodes ? ir_graph_sort(g, err) : ir_graph_link(g, err);
}
