#define _XOPEN_SOURCE 700 /* nftw */

#include "model_builder.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *mb_realloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) abort();
  return p;
}

static void *mb_calloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) abort();
  return p;
}

static char *mb_strdup(const char *s) {
  size_t n = strlen(s);
  char *p = mb_calloc(n + 1);
  memcpy(p, s, n);
  return p;
}

static void *mb_memdup(const void *src, size_t n) {
  void *p = mb_calloc(n);
  if (n) memcpy(p, src, n);
  return p;
}

/* Appends value to a protobuf-c repeated field (array + count). */
#define MB_APPEND(arr, n, value)                                     \
  do {                                                               \
    (arr) = mb_realloc((arr), ((n) + 1) * sizeof *(arr));            \
    (arr)[(n)++] = (value);                                          \
  } while (0)

Onnx__ModelProto *mb_model_new(void) {
  Onnx__ModelProto *m = mb_calloc(sizeof *m);
  onnx__model_proto__init(m);
  m->has_ir_version = 1;
  m->ir_version = 8;
  m->producer_name = mb_strdup("onnxi-test");
  mb_opset_add(m, "", 13);
  m->graph = mb_graph_new("g");
  return m;
}

void mb_model_free(Onnx__ModelProto *m) {
  if (m) onnx__model_proto__free_unpacked(m, NULL);
}

Onnx__OperatorSetIdProto *mb_opset_add(Onnx__ModelProto *m, const char *domain, int64_t version) {
  Onnx__OperatorSetIdProto *o = mb_calloc(sizeof *o);
  onnx__operator_set_id_proto__init(o);
  o->domain = mb_strdup(domain);
  o->has_version = 1;
  o->version = version;
  MB_APPEND(m->opset_import, m->n_opset_import, o);
  return o;
}

void mb_metadata_add(Onnx__ModelProto *m, const char *key, const char *value) {
  Onnx__StringStringEntryProto *e = mb_calloc(sizeof *e);
  onnx__string_string_entry_proto__init(e);
  e->key = mb_strdup(key);
  e->value = mb_strdup(value);
  MB_APPEND(m->metadata_props, m->n_metadata_props, e);
}

uint8_t *mb_model_pack(const Onnx__ModelProto *m, size_t *size) {
  *size = onnx__model_proto__get_packed_size(m);
  uint8_t *buf = mb_calloc(*size);
  onnx__model_proto__pack(m, buf);
  return buf;
}

char *mb_tmpdir_create(void) {
  char *dir = mb_strdup("/tmp/onnxi_test_XXXXXX");
  if (!mkdtemp(dir)) abort();
  return dir;
}

static int mb_remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  return type == FTW_DP ? rmdir(path) : unlink(path);
}

void mb_tmpdir_remove(char *dir) {
  if (!dir) return;
  nftw(dir, mb_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

char *mb_file_write(const char *dir, const char *name, const void *data, size_t size) {
  size_t len = strlen(dir) + strlen(name) + 2;
  char *path = mb_calloc(len);
  snprintf(path, len, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) abort();
  return path;
}

char *mb_model_write(const Onnx__ModelProto *m, const char *dir, const char *name) {
  size_t size;
  uint8_t *buf = mb_model_pack(m, &size);
  char *path = mb_file_write(dir, name, buf, size);
  free(buf);
  return path;
}

Onnx__GraphProto *mb_graph_new(const char *name) {
  Onnx__GraphProto *g = mb_calloc(sizeof *g);
  onnx__graph_proto__init(g);
  if (name) g->name = mb_strdup(name);
  return g;
}

static Onnx__ValueInfoProto *mb_vi_new(const char *name, int32_t dtype, int rank,
                                       const int64_t *dims) {
  Onnx__ValueInfoProto *vi = mb_calloc(sizeof *vi);
  onnx__value_info_proto__init(vi);
  if (name) vi->name = mb_strdup(name);
  Onnx__TypeProto *tp = mb_calloc(sizeof *tp);
  onnx__type_proto__init(tp);
  Onnx__TypeProto__Tensor *tt = mb_calloc(sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = dtype;
  if (dims) {
    tt->shape = mb_calloc(sizeof *tt->shape);
    onnx__tensor_shape_proto__init(tt->shape);
    for (int i = 0; i < rank; i++) {
      Onnx__TensorShapeProto__Dimension *d = mb_calloc(sizeof *d);
      onnx__tensor_shape_proto__dimension__init(d);
      if (dims[i] >= 0) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = dims[i];
      }
      MB_APPEND(tt->shape->dim, tt->shape->n_dim, d);
    }
  }
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  return vi;
}

Onnx__ValueInfoProto *mb_input(Onnx__GraphProto *g, const char *name, int32_t dtype, int rank,
                               const int64_t *dims) {
  Onnx__ValueInfoProto *vi = mb_vi_new(name, dtype, rank, dims);
  MB_APPEND(g->input, g->n_input, vi);
  return vi;
}

Onnx__ValueInfoProto *mb_output(Onnx__GraphProto *g, const char *name, int32_t dtype, int rank,
                                const int64_t *dims) {
  Onnx__ValueInfoProto *vi = mb_vi_new(name, dtype, rank, dims);
  MB_APPEND(g->output, g->n_output, vi);
  return vi;
}

Onnx__ValueInfoProto *mb_value_info(Onnx__GraphProto *g, const char *name, int32_t dtype,
                                    int rank, const int64_t *dims) {
  Onnx__ValueInfoProto *vi = mb_vi_new(name, dtype, rank, dims);
  MB_APPEND(g->value_info, g->n_value_info, vi);
  return vi;
}

void mb_dim_param(Onnx__ValueInfoProto *vi, int i, const char *param) {
  Onnx__TensorShapeProto__Dimension *d = vi->type->tensor_type->shape->dim[i];
  if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) free(d->dim_param);
  d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
  d->dim_param = mb_strdup(param);
}

/* Splits "a,,b" into malloc'd names; "" gives none. */
static void mb_names_add(char ***arr, size_t *n, const char *list) {
  if (!*list) return;
  for (const char *p = list;;) {
    size_t len = strcspn(p, ",");
    char *name = mb_calloc(len + 1);
    memcpy(name, p, len);
    MB_APPEND(*arr, *n, name);
    if (!p[len]) break;
    p += len + 1;
  }
}

Onnx__NodeProto *mb_node(Onnx__GraphProto *g, const char *op_type, const char *name,
                         const char *inputs, const char *outputs) {
  Onnx__NodeProto *n = mb_calloc(sizeof *n);
  onnx__node_proto__init(n);
  if (op_type) n->op_type = mb_strdup(op_type);
  if (name) n->name = mb_strdup(name);
  mb_names_add(&n->input, &n->n_input, inputs);
  mb_names_add(&n->output, &n->n_output, outputs);
  MB_APPEND(g->node, g->n_node, n);
  return n;
}

static Onnx__AttributeProto *mb_attr_new(Onnx__NodeProto *n, const char *name,
                                         Onnx__AttributeProto__AttributeType type) {
  Onnx__AttributeProto *a = mb_calloc(sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = mb_strdup(name);
  a->has_type = 1;
  a->type = type;
  MB_APPEND(n->attribute, n->n_attribute, a);
  return a;
}

Onnx__AttributeProto *mb_attr_float(Onnx__NodeProto *n, const char *name, float v) {
  Onnx__AttributeProto *a = mb_attr_new(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = 1;
  a->f = v;
  return a;
}

Onnx__AttributeProto *mb_attr_int(Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = mb_attr_new(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = 1;
  a->i = v;
  return a;
}

static ProtobufCBinaryData mb_bytes(const char *s) {
  ProtobufCBinaryData b = {strlen(s), NULL};
  b.data = mb_memdup(s, b.len);
  return b;
}

Onnx__AttributeProto *mb_attr_string(Onnx__NodeProto *n, const char *name, const char *v) {
  Onnx__AttributeProto *a = mb_attr_new(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = 1;
  a->s = mb_bytes(v);
  return a;
}

Onnx__AttributeProto *mb_attr_floats(Onnx__NodeProto *n, const char *name, size_t count,
                                     const float *v) {
  Onnx__AttributeProto *a = mb_attr_new(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
  a->n_floats = count;
  a->floats = mb_memdup(v, count * sizeof *v);
  return a;
}

Onnx__AttributeProto *mb_attr_ints(Onnx__NodeProto *n, const char *name, size_t count,
                                   const int64_t *v) {
  Onnx__AttributeProto *a = mb_attr_new(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = count;
  a->ints = mb_memdup(v, count * sizeof *v);
  return a;
}

Onnx__AttributeProto *mb_attr_strings(Onnx__NodeProto *n, const char *name, size_t count,
                                      const char *const *v) {
  Onnx__AttributeProto *a = mb_attr_new(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
  for (size_t i = 0; i < count; i++) MB_APPEND(a->strings, a->n_strings, mb_bytes(v[i]));
  return a;
}

Onnx__AttributeProto *mb_attr_tensor(Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t) {
  Onnx__AttributeProto *a = mb_attr_new(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  a->t = t;
  return a;
}

Onnx__AttributeProto *mb_attr_graph(Onnx__NodeProto *n, const char *name, Onnx__GraphProto *g) {
  Onnx__AttributeProto *a = mb_attr_new(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
  a->g = g;
  return a;
}

Onnx__AttributeProto *mb_attr_tensors(Onnx__NodeProto *n, const char *name, size_t count,
                                      Onnx__TensorProto *const *ts) {
  Onnx__AttributeProto *a = mb_attr_new(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS);
  for (size_t i = 0; i < count; i++) MB_APPEND(a->tensors, a->n_tensors, ts[i]);
  return a;
}

Onnx__AttributeProto *mb_attr_graphs(Onnx__NodeProto *n, const char *name, size_t count,
                                     Onnx__GraphProto *const *gs) {
  Onnx__AttributeProto *a = mb_attr_new(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS);
  for (size_t i = 0; i < count; i++) MB_APPEND(a->graphs, a->n_graphs, gs[i]);
  return a;
}

static Onnx__SparseTensorProto *mb_sparse_new(void) {
  Onnx__SparseTensorProto *s = mb_calloc(sizeof *s);
  onnx__sparse_tensor_proto__init(s);
  int64_t dim = 4;
  MB_APPEND(s->dims, s->n_dims, dim);
  return s;
}

Onnx__AttributeProto *mb_attr_sparse(Onnx__NodeProto *n, const char *name, size_t count,
                                     int list) {
  Onnx__AttributeProto *a =
      mb_attr_new(n, name, list ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS
                                : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR);
  if (!list) {
    a->sparse_tensor = mb_sparse_new();
    return a;
  }
  for (size_t i = 0; i < count; i++)
    MB_APPEND(a->sparse_tensors, a->n_sparse_tensors, mb_sparse_new());
  return a;
}

static Onnx__TypeProto *mb_type_new(void) {
  Onnx__ValueInfoProto *vi = mb_vi_new("t", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1,
                                       (const int64_t[]){3});
  Onnx__TypeProto *tp = vi->type;
  vi->type = NULL;
  onnx__value_info_proto__free_unpacked(vi, NULL);
  return tp;
}

Onnx__AttributeProto *mb_attr_type_protos(Onnx__NodeProto *n, const char *name, size_t count,
                                          int list) {
  Onnx__AttributeProto *a =
      mb_attr_new(n, name, list ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS
                                : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO);
  if (!list) {
    a->tp = mb_type_new();
    return a;
  }
  for (size_t i = 0; i < count; i++) MB_APPEND(a->type_protos, a->n_type_protos, mb_type_new());
  return a;
}

Onnx__TensorProto *mb_tensor(const char *name, int32_t dtype, int rank, const int64_t *dims) {
  Onnx__TensorProto *t = mb_calloc(sizeof *t);
  onnx__tensor_proto__init(t);
  if (name) t->name = mb_strdup(name);
  t->has_data_type = 1;
  t->data_type = dtype;
  for (int i = 0; i < rank; i++) MB_APPEND(t->dims, t->n_dims, dims[i]);
  return t;
}

void mb_tensor_set_raw(Onnx__TensorProto *t, const void *data, size_t nbytes) {
  free(t->raw_data.data);
  t->has_raw_data = 1;
  t->raw_data.len = nbytes;
  t->raw_data.data = mb_memdup(data, nbytes);
}

Onnx__TensorProto *mb_tensor_raw(const char *name, int32_t dtype, int rank, const int64_t *dims,
                                 const void *data, size_t nbytes) {
  Onnx__TensorProto *t = mb_tensor(name, dtype, rank, dims);
  mb_tensor_set_raw(t, data, nbytes);
  return t;
}

void mb_tensor_set_floats(Onnx__TensorProto *t, size_t n, const float *v) {
  free(t->float_data);
  t->n_float_data = n;
  t->float_data = mb_memdup(v, n * sizeof *v);
}

void mb_tensor_set_int32s(Onnx__TensorProto *t, size_t n, const int32_t *v) {
  free(t->int32_data);
  t->n_int32_data = n;
  t->int32_data = mb_memdup(v, n * sizeof *v);
}

void mb_tensor_set_int64s(Onnx__TensorProto *t, size_t n, const int64_t *v) {
  free(t->int64_data);
  t->n_int64_data = n;
  t->int64_data = mb_memdup(v, n * sizeof *v);
}

void mb_tensor_set_doubles(Onnx__TensorProto *t, size_t n, const double *v) {
  free(t->double_data);
  t->n_double_data = n;
  t->double_data = mb_memdup(v, n * sizeof *v);
}

void mb_tensor_set_uint64s(Onnx__TensorProto *t, size_t n, const uint64_t *v) {
  free(t->uint64_data);
  t->n_uint64_data = n;
  t->uint64_data = mb_memdup(v, n * sizeof *v);
}

void mb_tensor_set_strings(Onnx__TensorProto *t, size_t n, const char *const *v) {
  for (size_t i = 0; i < n; i++) MB_APPEND(t->string_data, t->n_string_data, mb_bytes(v[i]));
}

static void mb_kv_add(Onnx__TensorProto *t, const char *key, const char *value) {
  if (!value) return;
  Onnx__StringStringEntryProto *e = mb_calloc(sizeof *e);
  onnx__string_string_entry_proto__init(e);
  e->key = mb_strdup(key);
  e->value = mb_strdup(value);
  MB_APPEND(t->external_data, t->n_external_data, e);
}

void mb_tensor_external(Onnx__TensorProto *t, const char *location, const char *offset,
                        const char *length) {
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  mb_kv_add(t, "location", location);
  mb_kv_add(t, "offset", offset);
  mb_kv_add(t, "length", length);
}

Onnx__TensorProto *mb_initializer(Onnx__GraphProto *g, Onnx__TensorProto *t) {
  MB_APPEND(g->initializer, g->n_initializer, t);
  return t;
}

Onnx__TensorProto *mb_initializer_f32(Onnx__GraphProto *g, const char *name, int rank,
                                      const int64_t *dims, const float *v) {
  size_t count = 1;
  for (int i = 0; i < rank; i++) count *= (size_t)dims[i];
  return mb_initializer(
      g, mb_tensor_raw(name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims, v, count * 4));
}
