/* AttributeProto -> ir_attr, every attribute type; graph attributes recurse
 * into onnx_graph_convert with a depth limit. */
#include <string.h>

#include "onnx_internal.h"

/* Files from old exporters may omit `type`: infer it from the field set. */
static ir_attr_type onnx_attr_type_infer(const Onnx__AttributeProto *ap) {
  if (ap->has_type && ap->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
    return (ir_attr_type)ap->type;
  if (ap->has_f) return IR_ATTR_FLOAT;
  if (ap->has_i) return IR_ATTR_INT;
  if (ap->has_s) return IR_ATTR_STRING;
  if (ap->t) return IR_ATTR_TENSOR;
  if (ap->g) return IR_ATTR_GRAPH;
  if (ap->sparse_tensor) return IR_ATTR_SPARSE_TENSOR;
  if (ap->tp) return IR_ATTR_TYPE_PROTO;
  if (ap->n_floats) return IR_ATTR_FLOATS;
  if (ap->n_ints) return IR_ATTR_INTS;
  if (ap->n_strings) return IR_ATTR_STRINGS;
  if (ap->n_tensors) return IR_ATTR_TENSORS;
  if (ap->n_graphs) return IR_ATTR_GRAPHS;
  if (ap->n_sparse_tensors) return IR_ATTR_SPARSE_TENSORS;
  if (ap->n_type_protos) return IR_ATTR_TYPE_PROTOS;
  return IR_ATTR_UNDEFINED;
}

/* Arena array of n elements (at least one byte, so never NULL on success). */
static void *onnx_attr_array(onnx_ctx *c, size_t n, size_t size) {
  return arena_alloc(&c->m->arena, n ? n * size : 1, 8);
}

static onnxi_status onnx_attr_strings(onnx_ctx *c, const ProtobufCBinaryData *src, size_t n,
                                      ir_string *dst, onnxi_error *err) {
  for (size_t i = 0; i < n; i++) {
    dst[i].data = arena_strndup(&c->m->arena, src[i].len ? (const char *)src[i].data : "",
                                src[i].len);
    if (!dst[i].data) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying strings");
    dst[i].len = src[i].len;
  }
  return ONNXI_OK;
}

static onnxi_status onnx_attr_tensors(onnx_ctx *c, Onnx__TensorProto *const *src, size_t n,
                                      ir_attr *a, onnxi_error *err) {
  a->tensors = onnx_attr_array(c, n, sizeof *a->tensors);
  if (!a->tensors) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying tensors");
  for (size_t i = 0; i < n; i++) {
    if (!src[i]) return err_set(err, ONNXI_ERR_INVALID_MODEL, "tensor %zu is missing", i);
    onnxi_status st = onnx_tensor_convert(c, src[i], &a->tensors[i], err);
    if (st) return n > 1 ? ONNX_PREFIXED(st, err, "tensor %zu", i) : st;
  }
  return ONNXI_OK;
}

/* a->graphs, type and n are set before converting so that a failure midway
 * leaves every started subgraph where ir_graph_release finds it. */
static onnxi_status onnx_attr_graphs(onnx_ctx *c, Onnx__GraphProto *const *src, size_t n,
                                     ir_attr *a, int depth, const onnx_scope *scope,
                                     onnxi_error *err) {
  if (depth + 1 > ONNX_SUBGRAPH_DEPTH_MAX)
    return err_set(err, ONNXI_ERR_LIMIT, "subgraphs are nested more than %d deep",
                   ONNX_SUBGRAPH_DEPTH_MAX);
  a->graphs = onnx_attr_array(c, n, sizeof *a->graphs);
  if (!a->graphs) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying graphs");
  for (size_t i = 0; i < n; i++) {
    if (!src[i]) return err_set(err, ONNXI_ERR_INVALID_MODEL, "graph %zu is missing", i);
    a->graphs[i] = arena_alloc(&c->m->arena, sizeof(ir_graph), 8);
    if (!a->graphs[i]) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying graphs");
    ir_graph_init(a->graphs[i], &c->m->arena);
    onnxi_status st = onnx_graph_convert(c, src[i], a->graphs[i], depth + 1, scope, err);
    if (st) {
      const char *name = src[i]->name ? src[i]->name : "";
      return n > 1 ? ONNX_PREFIXED(st, err, "graph %zu '%.200s'", i, name)
                   : ONNX_PREFIXED(st, err, "graph '%.200s'", name);
    }
  }
  return ONNXI_OK;
}

static onnxi_status onnx_attr_scalar(onnx_ctx *c, const Onnx__AttributeProto *ap, ir_attr *a,
                                     int depth, const onnx_scope *scope, onnxi_error *err) {
  a->n = 1;
  switch (a->type) {
  case IR_ATTR_FLOAT: a->f = ap->f; return ONNXI_OK;
  case IR_ATTR_INT: a->i = ap->i; return ONNXI_OK;
  case IR_ATTR_STRING: return onnx_attr_strings(c, &ap->s, 1, &a->s, err);
  case IR_ATTR_TENSOR:
    if (!ap->t) return err_set(err, ONNXI_ERR_INVALID_MODEL, "type tensor but no tensor (t)");
    return onnx_attr_tensors(c, &ap->t, 1, a, err);
  case IR_ATTR_GRAPH:
    if (!ap->g) return err_set(err, ONNXI_ERR_INVALID_MODEL, "type graph but no graph (g)");
    return onnx_attr_graphs(c, &ap->g, 1, a, depth, scope, err);
  case IR_ATTR_SPARSE_TENSOR:
    if (!ap->sparse_tensor)
      return err_set(err, ONNXI_ERR_INVALID_MODEL, "type sparse_tensor but no sparse_tensor");
    return ONNXI_OK;
  case IR_ATTR_TYPE_PROTO:
    if (!ap->tp) return err_set(err, ONNXI_ERR_INVALID_MODEL, "type type_proto but no tp");
    return ONNXI_OK;
  default: return ONNXI_OK;
  }
}

static size_t onnx_attr_list_len(const Onnx__AttributeProto *ap, ir_attr_type type) {
  switch (type) {
  case IR_ATTR_FLOATS: return ap->n_floats;
  case IR_ATTR_INTS: return ap->n_ints;
  case IR_ATTR_STRINGS: return ap->n_strings;
  case IR_ATTR_TENSORS: return ap->n_tensors;
  case IR_ATTR_GRAPHS: return ap->n_graphs;
  case IR_ATTR_SPARSE_TENSORS: return ap->n_sparse_tensors;
  case IR_ATTR_TYPE_PROTOS: return ap->n_type_protos;
  default: return 0;
  }
}

static onnxi_status onnx_attr_list(onnx_ctx *c, const Onnx__AttributeProto *ap, ir_attr *a,
                                   int depth, const onnx_scope *scope, onnxi_error *err) {
  size_t n = onnx_attr_list_len(ap, a->type);
  if (n > ONNX_LIST_MAX)
    return err_set(err, ONNXI_ERR_LIMIT, "%s list has %zu elements (limit %d)",
                   ir_attr_type_name(a->type), n, ONNX_LIST_MAX);
  a->n = (int64_t)n;
  switch (a->type) {
  case IR_ATTR_FLOATS:
    if (!(a->floats = onnx_attr_array(c, n, sizeof *a->floats))) break;
    if (n) memcpy(a->floats, ap->floats, n * sizeof *a->floats);
    return ONNXI_OK;
  case IR_ATTR_INTS:
    if (!(a->ints = onnx_attr_array(c, n, sizeof *a->ints))) break;
    if (n) memcpy(a->ints, ap->ints, n * sizeof *a->ints);
    return ONNXI_OK;
  case IR_ATTR_STRINGS:
    if (!(a->strings = onnx_attr_array(c, n, sizeof *a->strings))) break;
    return onnx_attr_strings(c, ap->strings, n, a->strings, err);
  case IR_ATTR_TENSORS: return onnx_attr_tensors(c, ap->tensors, n, a, err);
  case IR_ATTR_GRAPHS: return onnx_attr_graphs(c, ap->graphs, n, a, depth, scope, err);
  default: return ONNXI_OK; /* sparse tensors, type protos: type and count only */
  }
  return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying a %s list",
                 ir_attr_type_name(a->type));
}

onnxi_status onnx_attr_convert(onnx_ctx *c, const Onnx__AttributeProto *ap, ir_attr *a,
                               int depth, const onnx_scope *scope, onnxi_error *err) {
  const char *name = ap->name ? ap->name : "";
  onnxi_status st = onnx_name_check(name, "attribute name", err);
  if (st) return st;
  if (!*name) return err_set(err, ONNXI_ERR_INVALID_MODEL, "attribute has no name");
  if (!(a->name = arena_strdup(&c->m->arena, name)))
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying attribute '%.200s'", name);
  ir_attr_type type = onnx_attr_type_infer(ap);
  if (type == IR_ATTR_UNDEFINED)
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "attribute '%.200s' has no type and no value",
                   name);
  if ((int)type < 0 || type > IR_ATTR_TYPE_PROTOS)
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "attribute '%.200s' has unknown type %d", name,
                   (int)type);
  a->type = type;
  bool list = type >= IR_ATTR_FLOATS && type != IR_ATTR_SPARSE_TENSOR &&
              type != IR_ATTR_TYPE_PROTO;
  st = list ? onnx_attr_list(c, ap, a, depth, scope, err)
            : onnx_attr_scalar(c, ap, a, depth, scope, err);
  return st ? ONNX_PREFIXED(st, err, "attribute '%.200s'", name) : ONNXI_OK;
}
