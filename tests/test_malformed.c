/* Loader: malformed files fail with the right status and a message naming
 * the file, the node and the field. Runs clean under ASan: no leaks on any
 * error path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "model_builder.h"

#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define DIMS(...) (const int64_t[]){__VA_ARGS__}

/* Loads bytes as "bad.onnx" (with and without an error struct) and checks
 * status, the "bad.onnx: " prefix and a substring of the message. */
static void expect_bytes_fail(const void *data, size_t size, onnxi_status want,
                              const char *substr) {
  onnxi_model *model = (onnxi_model *)&model;
  onnxi_error err = {0};
  onnxi_status st = onnxi_model_load_buffer(data, size, "bad.onnx", NULL, &model, &err);
  if (st != want || strncmp(err.message, "bad.onnx: ", 10) != 0 || !strstr(err.message, substr))
    fail_msg("want %s with '%s', got %s: %s", onnxi_status_string(want), substr,
             onnxi_status_string(st), err.message);
  if (err.status != want) fail_msg("status field %d, returned %d: %s", err.status, st, err.message);
  assert_null(model);
  assert_int_equal(onnxi_model_load_buffer(data, size, "bad.onnx", NULL, &model, NULL), want);
}

/* Packs and frees m, then expects the failure. */
static void expect_fail(Onnx__ModelProto *m, onnxi_status want, const char *substr) {
  size_t size;
  uint8_t *buf = mb_model_pack(m, &size);
  mb_model_free(m);
  expect_bytes_fail(buf, size, want, substr);
  free(buf);
}

/* x -> Relu "r" -> y, a weight "w" [2,3] float32: the base most cases break. */
static Onnx__ModelProto *base_model(void) {
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  mb_input(g, "x", F32, 2, DIMS(2, 3));
  mb_initializer_f32(g, "w", 2, DIMS(2, 3), (const float[]){1, 2, 3, 4, 5, 6});
  mb_node(g, "Add", "add", "x,w", "s");
  mb_node(g, "Relu", "r", "s", "y");
  mb_output(g, "y", F32, 2, DIMS(2, 3));
  return m;
}

static void test_base_model_loads(void **state) {
  (void)state;
  size_t size;
  Onnx__ModelProto *m = base_model();
  uint8_t *buf = mb_model_pack(m, &size);
  mb_model_free(m);
  onnxi_model *model = NULL;
  assert_int_equal(onnxi_model_load_buffer(buf, size, "ok.onnx", NULL, &model, NULL), ONNXI_OK);
  onnxi_model_free(model);
  free(buf);
}

/* --- bytes that are not a ModelProto --- */

static void test_truncated(void **state) {
  (void)state;
  size_t size;
  Onnx__ModelProto *m = base_model();
  uint8_t *buf = mb_model_pack(m, &size);
  mb_model_free(m);
  expect_bytes_fail(buf, size - 5, ONNXI_ERR_PARSE,
                    "not a valid ONNX ModelProto (protobuf parse failed)");
  expect_bytes_fail(buf, size / 2, ONNXI_ERR_PARSE, "protobuf parse failed");
  free(buf);
}

static void test_random_bytes(void **state) {
  (void)state;
  uint8_t buf[4096];
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof buf; i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = (uint8_t)(x >> 24);
  }
  expect_bytes_fail(buf, sizeof buf, ONNXI_ERR_PARSE, "protobuf parse failed");
}

static void test_wrong_wire_types(void **state) {
  (void)state;
  /* field 1 (ir_version, varint) sent length-delimited */
  expect_bytes_fail((const uint8_t[]){0x0a, 0x01, 0x00}, 3, ONNXI_ERR_PARSE,
                    "protobuf parse failed");
  /* field 7 (graph, a message) sent as a varint */
  expect_bytes_fail((const uint8_t[]){0x08, 0x08, 0x38, 0x01}, 4, ONNXI_ERR_PARSE,
                    "protobuf parse failed");
  /* length prefix running past the end */
  expect_bytes_fail((const uint8_t[]){0x08, 0x08, 0x3a, 0x7f, 0x00}, 5, ONNXI_ERR_PARSE,
                    "protobuf parse failed");
}

/* Appends a protobuf varint. */
static size_t put_varint(uint8_t *out, uint64_t v) {
  size_t n = 0;
  do {
    out[n] = (uint8_t)(v & 0x7f) | (v > 0x7f ? 0x80 : 0);
    v >>= 7;
    n++;
  } while (v);
  return n;
}

/* Wraps buf[pos..end) as length-delimited field `field`, in place, growing
 * backwards: returns the new start. */
static size_t wrap_field(uint8_t *buf, size_t start, size_t end, unsigned field) {
  uint8_t head[20];
  size_t n = put_varint(head, (uint64_t)field << 3 | 2);
  n += put_varint(head + n, end - start);
  memcpy(buf + start - n, head, n);
  return start - n;
}

/* A graph input whose type is a sequence of a sequence of ... 100000 deep:
 * protobuf-c's recursive unpack would overflow the stack on it. */
static void test_deep_nesting(void **state) {
  (void)state;
  enum { LEVELS = 100000 };
  size_t cap = (size_t)LEVELS * 8 + 64, end = cap;
  uint8_t *buf = malloc(cap);
  size_t start = end;
  buf[--start] = 1;    /* elem_type = FLOAT */
  buf[--start] = 0x08; /* field 1, varint */
  start = wrap_field(buf, start, end, 1); /* TypeProto.tensor_type */
  for (int i = 0; i < LEVELS; i++) {
    start = wrap_field(buf, start, end, 1); /* Sequence.elem_type */
    start = wrap_field(buf, start, end, 4); /* TypeProto.sequence_type */
  }
  start = wrap_field(buf, start, end, 2); /* ValueInfoProto.type */
  start = wrap_field(buf, start, end, 11); /* GraphProto.input */
  start = wrap_field(buf, start, end, 7); /* ModelProto.graph */
  buf[--start] = 8;    /* ir_version 8 */
  buf[--start] = 0x08;
  expect_bytes_fail(buf + start, end - start, ONNXI_ERR_LIMIT,
                    "bad.onnx: protobuf messages are nested more than 100 deep");
  free(buf);
}

/* 2^24 + 1 empty graph messages: 32 MiB of file that would unpack to GBs. */
static void test_message_count(void **state) {
  (void)state;
  size_t n = ((size_t)1 << 24) + 1;
  uint8_t *buf = malloc(2 * n);
  for (size_t i = 0; i < n; i++) {
    buf[2 * i] = 0x3a; /* ModelProto.graph */
    buf[2 * i + 1] = 0;
  }
  expect_bytes_fail(buf, 2 * n, ONNXI_ERR_LIMIT, "bad.onnx: more than 16777216 protobuf messages");
  free(buf);
}

/* 1,000,001 empty nodes: past the node limit before any is converted. */
static void test_node_count(void **state) {
  (void)state;
  size_t n = 1000001, pos = 0;
  uint8_t *buf = malloc(2 * n + 32);
  const uint8_t head[] = {0x08, 0x08, 0x42, 0x02, 0x10, 0x0d}; /* ir_version 8, opset 13 */
  memcpy(buf, head, sizeof head);
  pos = sizeof head;
  buf[pos++] = 0x3a; /* graph */
  pos += put_varint(buf + pos, 2 * n);
  for (size_t i = 0; i < n; i++) {
    buf[pos++] = 0x0a; /* GraphProto.node, empty */
    buf[pos++] = 0;
  }
  expect_bytes_fail(buf, pos, ONNXI_ERR_LIMIT, "bad.onnx: model has more than 1000000 nodes");
  free(buf);
}

static void test_empty_file(void **state) {
  (void)state;
  expect_bytes_fail("", 0, ONNXI_ERR_INVALID_MODEL, "ir_version is missing");
}

/* --- versions --- */

static void test_ir_version(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  m->has_ir_version = 0;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "bad.onnx: ir_version is missing");
  m = base_model();
  m->ir_version = 2;
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "bad.onnx: ir_version 2 is not supported (3..8)");
  m = base_model();
  m->ir_version = 9;
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "ir_version 9 is not supported");
}

static void test_opsets(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  m->opset_import[0]->version = 6;
  /* opset 6 is taken as 7 only when every op is unchanged from 6 to 7; Add is not */
  expect_fail(m, ONNXI_ERR_UNSUPPORTED,
              "bad.onnx: opset 6 is not supported (7..17): node 'add' (Add) had a different definition");
  m = base_model();
  m->opset_import[0]->version = 18;
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "opset 18 for domain '' is not supported");
  m = base_model();
  free(m->opset_import[0]->domain);
  m->opset_import[0]->domain = strdup("ai.onnx");
  m->opset_import[0]->version = 5;
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "opset 5 is not supported (7..17)");
  m = base_model();
  free(m->opset_import[0]->domain);
  m->opset_import[0]->domain = strdup("com.microsoft");
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "is in the default domain, but opset_import has no entry");
  m = base_model();
  m->opset_import[0]->has_version = 0;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "opset_import for domain '' has no version");
  m = base_model();
  mb_opset_add(m, "ai.onnx", 13);
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "lists the default domain twice");
}

static void test_no_graph(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  onnx__graph_proto__free_unpacked(m->graph, NULL);
  m->graph = NULL;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "bad.onnx: model has no graph");
  m = base_model();
  for (size_t i = 0; i < m->graph->n_output; i++)
    onnx__value_info_proto__free_unpacked(m->graph->output[i], NULL);
  m->graph->n_output = 0;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "graph 'g' has no outputs");
}

/* --- tensors --- */

static Onnx__TensorProto *weight(Onnx__ModelProto *m) { return m->graph->initializer[0]; }

static void test_negative_dim(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  weight(m)->dims[1] = -3;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "bad.onnx: initializer 'w': dims[1] is -3 (negative)");
  m = base_model();
  m->graph->input[0]->type->tensor_type->shape->dim[0]->dim_value = -1;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "bad.onnx: input 'x': dim 0 is -1 (negative)");
  m = base_model();
  mb_value_info(m->graph, "s", F32, 1, DIMS(4))->type->tensor_type->shape->dim[0]->dim_value = -7;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "value_info 's': dim 0 is -7");
}

static void test_dims_overflow(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  weight(m)->dims[0] = INT64_C(1) << 40;
  weight(m)->dims[1] = INT64_C(1) << 40;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "initializer 'w': dims [1099511627776,1099511627776] float32: element count "
              "overflows");
  /* count fits int64 but count * 8 bytes does not */
  m = base_model();
  weight(m)->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
  weight(m)->dims[0] = INT64_C(1) << 31;
  weight(m)->dims[1] = INT64_C(1) << 31;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "element count overflows");
  /* huge but representable: refused by the size check before any allocation */
  m = base_model();
  weight(m)->dims[0] = INT64_C(1) << 20;
  weight(m)->dims[1] = INT64_C(1) << 20;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "raw_data has 24 bytes, dims [1048576,1048576] float32 need 4398046511104");
}

static void test_raw_data_mismatch(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  weight(m)->raw_data.len = 12;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "bad.onnx: initializer 'w': raw_data has 12 bytes, dims [2,3] float32 need 24");
}

static void test_typed_data_mismatch(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  Onnx__TensorProto *t = mb_initializer(m->graph, mb_tensor("b", F32, 2, DIMS(2, 3)));
  mb_tensor_set_floats(t, 5, (const float[]){1, 2, 3, 4, 5});
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "initializer 'b': float_data has 5 elements, dims [2,3] float32 need 6");
  m = base_model();
  t = mb_initializer(m->graph, mb_tensor("b", ONNX__TENSOR_PROTO__DATA_TYPE__INT8, 1, DIMS(4)));
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "initializer 'b': has no data, dims [4] int8 need 4");
  m = base_model();
  t = mb_initializer(m->graph, mb_tensor("b", F32, 1, DIMS(2)));
  mb_tensor_set_int64s(t, 2, DIMS(1, 2));
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "initializer 'b': float32 tensor has int64_data (expected raw_data or float_data)");
  m = base_model();
  mb_tensor_set_floats(weight(m), 6, (const float[]){1, 2, 3, 4, 5, 6});
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "initializer 'w': has both raw_data and float_data");
  m = base_model();
  t = mb_initializer(m->graph, mb_tensor_raw("b", ONNX__TENSOR_PROTO__DATA_TYPE__STRING, 1,
                                             DIMS(1), "abc", 3));
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "string tensors cannot use raw_data");
  m = base_model();
  t = mb_initializer(m->graph, mb_tensor("b", ONNX__TENSOR_PROTO__DATA_TYPE__STRING, 1, DIMS(2)));
  mb_tensor_set_strings(t, 1, (const char *const[]){"a"});
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "string_data has 1 elements, dims [2] string need 2");
}

static void test_unsupported_dtype(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  weight(m)->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64;
  expect_fail(m, ONNXI_ERR_UNSUPPORTED,
              "bad.onnx: initializer 'w': data_type 14 (complex64) is not supported");
  m = base_model();
  weight(m)->data_type = 99;
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "data_type 99 (unknown) is not supported");
  m = base_model();
  weight(m)->has_data_type = 0;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "initializer 'w': data_type is missing");
  m = base_model();
  m->graph->input[0]->type->tensor_type->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128;
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "input 'x': elem_type 15 (complex128) is not supported");
}

static void test_rank_too_large(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  int64_t ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  mb_initializer(m->graph, mb_tensor_raw("r9", F32, 9, ones, "abcd", 4));
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "initializer 'r9': rank 9 exceeds the maximum rank 8");
  m = base_model();
  mb_input(m->graph, "big", F32, 9, ones);
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "input 'big': rank 9 exceeds the maximum rank 8");
}

static void test_tensor_misc(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  weight(m)->segment = calloc(1, sizeof *weight(m)->segment);
  onnx__tensor_proto__segment__init(weight(m)->segment);
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "initializer 'w': segmented tensors are not supported");
  m = base_model();
  Onnx__SparseTensorProto *sp = calloc(1, sizeof *sp);
  onnx__sparse_tensor_proto__init(sp);
  m->graph->sparse_initializer = calloc(1, sizeof *m->graph->sparse_initializer);
  m->graph->sparse_initializer[0] = sp;
  m->graph->n_sparse_initializer = 1;
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "sparse_initializer is not supported");
  m = base_model();
  mb_input(m->graph, "w", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 2, DIMS(2, 3));
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "input 'w': declared int64 but its initializer is float32");
}

/* --- graph structure --- */

static void test_dangling_input(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  free(m->graph->node[1]->input[0]);
  m->graph->node[1]->input[0] = strdup("nope");
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "bad.onnx: node 'r' (Relu): input 0 'nope' is not a graph input, an initializer "
              "or the output of any node");
}

static void test_duplicate_value_names(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  mb_initializer_f32(m->graph, "w", 1, DIMS(1), (const float[]){1});
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "bad.onnx: initializer 'w': value 'w' is defined twice");
  m = base_model();
  mb_input(m->graph, "x", F32, 1, DIMS(1));
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "bad.onnx: input 'x': value 'x' is defined twice");
  m = base_model();
  mb_node(m->graph, "Neg", "neg", "x", "x");
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "node 'neg' (Neg): output 'x' is already produced by a graph input");
}

static void test_two_producers(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  mb_node(m->graph, "Neg", "neg", "x", "s");
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "output 's' is already produced by add");
  m = base_model();
  mb_node(m->graph, "Neg", "neg", "x", "w");
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "node 'neg' (Neg): output 'w' is already produced by an initializer");
}

static void test_cycle(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  mb_node(m->graph, "Neg", "n1", "b", "a");
  mb_node(m->graph, "Neg", "n2", "a", "b");
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "is part of a cycle");
  m = base_model();
  mb_node(m->graph, "Add", "self", "x,q", "q");
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "bad.onnx: node 'self' (Add) is part of a cycle");
}

static void test_missing_output(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  mb_output(m->graph, "zz", F32, 1, DIMS(1));
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "bad.onnx: output 'zz': not produced by any node and not an input or initializer");
  m = base_model();
  mb_output(m->graph, "", F32, 1, DIMS(1));
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "output 1 has no name");
}

static void test_bad_nodes(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  mb_node(m->graph, NULL, "noop", "x", "q");
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "bad.onnx: node 2 'noop': op_type is missing");
  m = base_model();
  Onnx__NodeProto *n = mb_node(m->graph, "Neg", "n", "x", "q");
  mb_attr_int(n, "a", 1);
  mb_attr_int(n, "a", 2);
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "node 'n' (Neg): attribute 'a' appears twice");
  m = base_model();
  n = mb_node(m->graph, "Neg", "n", "x", "q");
  Onnx__AttributeProto *a = mb_attr_int(n, "a", 1);
  a->has_type = 0;
  a->has_i = 0;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "node 'n' (Neg): attribute 'a' has no type and no value");
  m = base_model();
  n = mb_node(m->graph, "Neg", "n", "x", "q");
  a = mb_attr_int(n, "a", 1);
  a->type = 42;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "attribute 'a' has unknown type 42");
  m = base_model();
  n = mb_node(m->graph, "Neg", "n", "x", "q");
  mb_attr_int(n, "", 1);
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "node 'n' (Neg): attribute has no name");
  m = base_model();
  n = mb_node(m->graph, "Neg", "n", "x", "q");
  mb_attr_int(n, "g", 1)->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "attribute 'g': type graph but no graph (g)");
  m = base_model();
  n = mb_node(m->graph, "Constant", "k", "", "q");
  Onnx__TensorProto *t = mb_tensor("v", F32, 1, DIMS(2));
  mb_tensor_set_floats(t, 1, (const float[]){1});
  mb_attr_tensor(n, "value", t);
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "bad.onnx: node 'k' (Constant): attribute 'value': float_data has 1 elements");
}

static void test_name_too_long(void **state) {
  (void)state;
  char *name = malloc(5000);
  memset(name, 'n', 4999);
  name[4999] = '\0';
  Onnx__ModelProto *m = base_model();
  mb_node(m->graph, "Neg", name, "x", "q");
  expect_fail(m, ONNXI_ERR_LIMIT, "is longer than 4096 bytes");
  m = base_model();
  mb_node(m->graph, "Neg", "n", "x", name);
  expect_fail(m, ONNXI_ERR_LIMIT, "is longer than 4096 bytes");
  free(name);
}

static void test_sequence_input(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  Onnx__TypeProto *tp = m->graph->input[0]->type;
  Onnx__TypeProto *elem = calloc(1, sizeof *elem);
  onnx__type_proto__init(elem);
  elem->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  elem->tensor_type = tp->tensor_type;
  Onnx__TypeProto__Sequence *seq = calloc(1, sizeof *seq);
  onnx__type_proto__sequence__init(seq);
  seq->elem_type = elem;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
  tp->sequence_type = seq;
  expect_fail(m, ONNXI_ERR_UNSUPPORTED, "input 'x': type is a sequence; only tensors");
}

/* Subgraphs: names must resolve in an enclosing graph; order must hold. */
static void test_subgraph_errors(void **state) {
  (void)state;
  Onnx__ModelProto *m = base_model();
  Onnx__NodeProto *n = mb_node(m->graph, "If", "if1", "x", "q");
  Onnx__GraphProto *sub = mb_graph_new("then");
  mb_node(sub, "Neg", "inner", "ghost", "o");
  mb_output(sub, "o", F32, 0, NULL);
  mb_attr_graph(n, "then_branch", sub);
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "bad.onnx: node 'if1' (If): attribute 'then_branch': graph 'then': node 'inner' "
              "(Neg): input 0 'ghost' is not a graph input, an initializer, the output of any "
              "node or a value of an enclosing graph");
  m = base_model();
  n = mb_node(m->graph, "If", "if1", "x", "q");
  sub = mb_graph_new("then");
  mb_node(sub, "Neg", "second", "a", "o");
  mb_node(sub, "Neg", "first", "x", "a");
  mb_output(sub, "o", F32, 0, NULL);
  mb_attr_graph(n, "then_branch", sub);
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "node 'second' (Neg): input 0 'a' is used before node 'first' produces it");
  /* the main graph, once it has subgraphs, is held to file order too */
  m = base_model();
  n = mb_node(m->graph, "If", "if1", "late", "q");
  mb_attr_graph(n, "then_branch", mb_graph_new("then"));
  mb_node(m->graph, "Neg", "producer", "x", "late");
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "bad.onnx: node 'if1' (If): input 0 'late' is used before node 'producer' "
              "produces it");
  m = base_model();
  n = mb_node(m->graph, "If", "if1", "ghost", "q");
  mb_attr_graph(n, "then_branch", mb_graph_new("then"));
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "bad.onnx: node 'if1' (If): input 0 'ghost' is not a graph input, an initializer "
              "or the output of any node");
  m = base_model();
  n = mb_node(m->graph, "Loop", "loop", "x,q", "q");
  mb_attr_graph(n, "body", mb_graph_new("body"));
  expect_fail(m, ONNXI_ERR_INVALID_MODEL,
              "bad.onnx: node 'loop' (Loop) is part of a cycle: input 1 'q' is its own output");
  m = base_model();
  n = mb_node(m->graph, "If", "if1", "x", "q");
  sub = mb_graph_new("else");
  mb_output(sub, "nothing", F32, 0, NULL);
  mb_attr_graph(n, "else_branch", sub);
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "graph 'else': output 'nothing': not produced");
  m = base_model();
  n = mb_node(m->graph, "If", "if1", "x", "q");
  sub = mb_graph_new("b");
  mb_node(sub, "Neg", "n1", "x", "o");
  mb_node(sub, "Neg", "n2", "x", "o");
  mb_output(sub, "o", F32, 0, NULL);
  mb_attr_graphs(n, "branches", 1, &sub);
  expect_fail(m, ONNXI_ERR_INVALID_MODEL, "node 'n2' (Neg): output 'o' is already produced by n1");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_base_model_loads),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_random_bytes),
      cmocka_unit_test(test_wrong_wire_types),
      cmocka_unit_test(test_deep_nesting),
      cmocka_unit_test(test_message_count),
      cmocka_unit_test(test_node_count),
      cmocka_unit_test(test_empty_file),
      cmocka_unit_test(test_ir_version),
      cmocka_unit_test(test_opsets),
      cmocka_unit_test(test_no_graph),
      cmocka_unit_test(test_negative_dim),
      cmocka_unit_test(test_dims_overflow),
      cmocka_unit_test(test_raw_data_mismatch),
      cmocka_unit_test(test_typed_data_mismatch),
      cmocka_unit_test(test_unsupported_dtype),
      cmocka_unit_test(test_rank_too_large),
      cmocka_unit_test(test_tensor_misc),
      cmocka_unit_test(test_dangling_input),
      cmocka_unit_test(test_duplicate_value_names),
      cmocka_unit_test(test_two_producers),
      cmocka_unit_test(test_cycle),
      cmocka_unit_test(test_missing_output),
      cmocka_unit_test(test_bad_nodes),
      cmocka_unit_test(test_name_too_long),
      cmocka_unit_test(test_sequence_input),
      cmocka_unit_test(test_subgraph_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
