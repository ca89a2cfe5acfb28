/* Builds ONNX ModelProtos in C for tests, with the generated protobuf-c
 * structs, and packs them to bytes.
 *
 * Every string, array and sub-message is malloc'd, so the whole tree is
 * freed by mb_model_free (protobuf-c's free_unpacked with the default
 * allocator). Functions returning a message let tests corrupt any field.
 * Allocation failure aborts: this is test code. */
#ifndef ONNXI_MODEL_BUILDER_H
#define ONNXI_MODEL_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

/* ir_version 8, producer "onnxi-test", default-domain opset 13, empty graph "g". */
Onnx__ModelProto *mb_model_new(void);
void mb_model_free(Onnx__ModelProto *m);
Onnx__OperatorSetIdProto *mb_opset_add(Onnx__ModelProto *m, const char *domain, int64_t version);
void mb_metadata_add(Onnx__ModelProto *m, const char *key, const char *value);
/* Serialized bytes (malloc'd; free with free()). */
uint8_t *mb_model_pack(const Onnx__ModelProto *m, size_t *size);
/* Packs m into dir/name; returns the malloc'd path. */
char *mb_model_write(const Onnx__ModelProto *m, const char *dir, const char *name);
/* A fresh directory under /tmp (malloc'd path) and its recursive removal. */
char *mb_tmpdir_create(void);
void mb_tmpdir_remove(char *dir); /* also frees dir */
/* Writes raw bytes to dir/name; returns the malloc'd path. */
char *mb_file_write(const char *dir, const char *name, const void *data, size_t size);

Onnx__GraphProto *mb_graph_new(const char *name);

/* Tensor type with `rank` dims; dims[i] < 0 leaves dimension i unset. NULL
 * dims means no shape at all. Returns the ValueInfo appended to g. */
Onnx__ValueInfoProto *mb_input(Onnx__GraphProto *g, const char *name, int32_t dtype, int rank,
                               const int64_t *dims);
Onnx__ValueInfoProto *mb_output(Onnx__GraphProto *g, const char *name, int32_t dtype, int rank,
                                const int64_t *dims);
Onnx__ValueInfoProto *mb_value_info(Onnx__GraphProto *g, const char *name, int32_t dtype,
                                    int rank, const int64_t *dims);
/* Makes dimension i of vi's shape the symbol `param`. */
void mb_dim_param(Onnx__ValueInfoProto *vi, int i, const char *param);

/* `inputs`/`outputs` are comma-separated names; an empty entry ("x,,b") is
 * an omitted optional input; "" means none. NULL name leaves it unset. */
Onnx__NodeProto *mb_node(Onnx__GraphProto *g, const char *op_type, const char *name,
                         const char *inputs, const char *outputs);

Onnx__AttributeProto *mb_attr_float(Onnx__NodeProto *n, const char *name, float v);
Onnx__AttributeProto *mb_attr_int(Onnx__NodeProto *n, const char *name, int64_t v);
Onnx__AttributeProto *mb_attr_string(Onnx__NodeProto *n, const char *name, const char *v);
Onnx__AttributeProto *mb_attr_floats(Onnx__NodeProto *n, const char *name, size_t count,
                                     const float *v);
Onnx__AttributeProto *mb_attr_ints(Onnx__NodeProto *n, const char *name, size_t count,
                                   const int64_t *v);
Onnx__AttributeProto *mb_attr_strings(Onnx__NodeProto *n, const char *name, size_t count,
                                      const char *const *v);
/* The attribute takes ownership of t / g / the elements of ts / gs. */
Onnx__AttributeProto *mb_attr_tensor(Onnx__NodeProto *n, const char *name, Onnx__TensorProto *t);
Onnx__AttributeProto *mb_attr_graph(Onnx__NodeProto *n, const char *name, Onnx__GraphProto *g);
Onnx__AttributeProto *mb_attr_tensors(Onnx__NodeProto *n, const char *name, size_t count,
                                      Onnx__TensorProto *const *ts);
Onnx__AttributeProto *mb_attr_graphs(Onnx__NodeProto *n, const char *name, size_t count,
                                     Onnx__GraphProto *const *gs);
/* SPARSE_TENSOR(S) / TYPE_PROTO(S) with `count` minimal elements. */
Onnx__AttributeProto *mb_attr_sparse(Onnx__NodeProto *n, const char *name, size_t count, int list);
Onnx__AttributeProto *mb_attr_type_protos(Onnx__NodeProto *n, const char *name, size_t count,
                                          int list);

/* A tensor with dims and dtype and no data. */
Onnx__TensorProto *mb_tensor(const char *name, int32_t dtype, int rank, const int64_t *dims);
Onnx__TensorProto *mb_tensor_raw(const char *name, int32_t dtype, int rank, const int64_t *dims,
                                 const void *data, size_t nbytes);
void mb_tensor_set_raw(Onnx__TensorProto *t, const void *data, size_t nbytes);
void mb_tensor_set_floats(Onnx__TensorProto *t, size_t n, const float *v);
void mb_tensor_set_int32s(Onnx__TensorProto *t, size_t n, const int32_t *v);
void mb_tensor_set_int64s(Onnx__TensorProto *t, size_t n, const int64_t *v);
void mb_tensor_set_doubles(Onnx__TensorProto *t, size_t n, const double *v);
void mb_tensor_set_uint64s(Onnx__TensorProto *t, size_t n, const uint64_t *v);
void mb_tensor_set_strings(Onnx__TensorProto *t, size_t n, const char *const *v);
/* Marks t as external: key/value pairs location, offset, length (NULL omits). */
void mb_tensor_external(Onnx__TensorProto *t, const char *location, const char *offset,
                        const char *length);
/* Appends t (ownership moves to g); returns t. */
Onnx__TensorProto *mb_initializer(Onnx__GraphProto *g, Onnx__TensorProto *t);

/* Convenience: a float initializer from values. */
Onnx__TensorProto *mb_initializer_f32(Onnx__GraphProto *g, const char *name, int rank,
                                      const int64_t *dims, const float *v);

#endif
