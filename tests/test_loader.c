/* Loader: well-formed models built in C import into the expected IR. */
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
#include "onnx_load.h"

#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define DIMS(...) (const int64_t[]){__VA_ARGS__}

/* These tests check the graph as imported: no passes. */
static const onnxi_load_options import_only = {.disable_passes = "all"};

/* Packs m, frees it and loads the bytes as "t.onnx". */
static onnxi_model *load_ok(Onnx__ModelProto *m, const onnxi_load_options *opts) {
  size_t size;
  uint8_t *buf = mb_model_pack(m, &size);
  mb_model_free(m);
  onnxi_model *model = NULL;
  onnxi_error err = {0};
  onnxi_load_options o = opts ? *opts : import_only;
  o.disable_passes = "all";
  onnxi_status st = onnxi_model_load_buffer(buf, size, "t.onnx", &o, &model, &err);
  free(buf);
  if (st != ONNXI_OK) fail_msg("load failed: %s", err.message);
  assert_non_null(model);
  return model;
}

static const ir_value *value(const onnxi_model *model, const char *name) {
  int32_t id = ir_graph_value_find(&model->ir.graph, name);
  if (id == IR_NONE) fail_msg("no value '%s'", name);
  return &model->ir.graph.values[id];
}

static int32_t value_id(const ir_graph *g, const char *name) {
  int32_t id = ir_graph_value_find(g, name);
  if (id == IR_NONE) fail_msg("no value '%s'", name);
  return id;
}

/* Conv -> Relu with weights; the file lists Relu first and leaves it unnamed. */
static Onnx__ModelProto *conv_relu_model(void) {
  Onnx__ModelProto *m = mb_model_new();
  m->producer_version = strdup("1.2");
  m->domain = strdup("org.test");
  m->doc_string = strdup("a test model");
  m->has_model_version = 1;
  m->model_version = 7;
  mb_metadata_add(m, "author", "me");
  Onnx__GraphProto *g = m->graph;
  Onnx__ValueInfoProto *x = mb_input(g, "x", F32, 4, DIMS(-1, 3, 8, 8));
  mb_dim_param(x, 0, "N");
  float w[4 * 3 * 3 * 3];
  for (int i = 0; i < 108; i++) w[i] = (float)i * 0.5f;
  mb_initializer_f32(g, "w", 4, DIMS(4, 3, 3, 3), w);
  Onnx__TensorProto *b = mb_initializer(g, mb_tensor("b", F32, 1, DIMS(4)));
  mb_tensor_set_floats(b, 4, (const float[]){1, 2, 3, 4});
  mb_node(g, "Relu", NULL, "c", "y");
  Onnx__NodeProto *conv = mb_node(g, "Conv", "conv1", "x,w,b", "c");
  mb_attr_ints(conv, "kernel_shape", 2, DIMS(3, 3));
  mb_attr_ints(conv, "pads", 4, DIMS(0, 0, 0, 0));
  Onnx__ValueInfoProto *y = mb_output(g, "y", F32, 4, DIMS(-1, 4, 6, 6));
  mb_dim_param(y, 0, "N");
  return m;
}

static void check_conv_relu(const onnxi_model *model) {
  const ir_model *ir = &model->ir;
  const ir_graph *g = &ir->graph;
  assert_int_equal(ir->ir_version, 8);
  assert_int_equal(ir->opset, 13);
  assert_int_equal(ir->model_version, 7);
  assert_string_equal(ir->producer_name, "onnxi-test");
  assert_string_equal(ir->producer_version, "1.2");
  assert_string_equal(ir->domain, "org.test");
  assert_string_equal(ir->doc, "a test model");
  assert_int_equal(ir->n_metadata, 1);
  assert_string_equal(ir->metadata[0].key, "author");
  assert_string_equal(ir->metadata[0].value, "me");
  assert_string_equal(g->name, "g");

  /* sorted: Conv before Relu; Relu keeps its generated name (file index 0) */
  assert_int_equal(g->n_nodes, 2);
  assert_string_equal(g->nodes[0].name, "conv1");
  assert_int_equal(g->nodes[0].op, IR_OP_CONV);
  assert_string_equal(g->nodes[0].op_type, "Conv");
  assert_string_equal(g->nodes[0].domain, "");
  assert_string_equal(g->nodes[1].name, "Relu_0");
  assert_int_equal(g->nodes[1].op, IR_OP_RELU);
  assert_int_equal(g->nodes[0].n_inputs, 3);
  assert_int_equal(g->nodes[0].inputs[0], value_id(g, "x"));
  assert_int_equal(g->nodes[0].inputs[1], value_id(g, "w"));
  assert_int_equal(g->nodes[0].inputs[2], value_id(g, "b"));
  assert_int_equal(g->nodes[0].outputs[0], value_id(g, "c"));
  assert_int_equal(g->nodes[1].inputs[0], value_id(g, "c"));
  assert_int_equal(value(model, "c")->producer, 0);
  assert_int_equal(value(model, "y")->producer, 1);

  const ir_attr *ks = ir_node_attr(&g->nodes[0], "kernel_shape");
  assert_non_null(ks);
  assert_int_equal(ks->type, IR_ATTR_INTS);
  assert_int_equal(ks->n, 2);
  assert_int_equal(ks->ints[0], 3);
  assert_int_equal(ks->ints[1], 3);

  const ir_value *w = value(model, "w");
  assert_int_equal(w->flags, IR_VALUE_CONST);
  assert_int_equal(w->dtype, ONNXI_DTYPE_FLOAT);
  assert_int_equal(w->shape.rank, 4);
  assert_int_equal(w->shape.dims[0].value, 4);
  assert_int_equal(w->shape.dims[3].value, 3);
  assert_int_equal(w->nbytes, 108 * 4);
  assert_int_equal((uintptr_t)w->data % 64, 0);
  assert_true(((const float *)w->data)[107] == 53.5f);
  const ir_value *b = value(model, "b");
  assert_int_equal(b->nbytes, 16);
  assert_true(((const float *)b->data)[3] == 4.0f);
  assert_int_equal(g->n_initializers, 2);
  assert_int_equal(g->initializer_bytes, 108 * 4 + 16);

  /* symbolic batch dim shared by x and y */
  assert_int_equal(g->n_syms, 1);
  assert_string_equal(g->syms[0], "N");
  const ir_value *x = value(model, "x");
  assert_int_equal(x->flags, IR_VALUE_INPUT);
  assert_int_equal(x->shape.dims[0].value, -1);
  assert_int_equal(x->shape.dims[0].sym, 0);
  assert_int_equal(x->shape.dims[1].value, 3);
  const ir_value *y = value(model, "y");
  assert_int_equal(y->flags, IR_VALUE_OUTPUT);
  assert_int_equal(y->dtype, ONNXI_DTYPE_FLOAT);
  assert_int_equal(y->shape.dims[0].sym, 0);
  assert_int_equal(y->shape.dims[2].value, 6);
  assert_int_equal(g->use_start != NULL, 1);
  assert_int_equal(ir_value_use_count(g, value_id(g, "c")), 1);

  /* public API */
  onnxi_tensor_info info;
  assert_int_equal(onnxi_model_input_count(model), 1);
  assert_int_equal(onnxi_model_output_count(model), 1);
  assert_int_equal(onnxi_model_input_info(model, 0, &info, NULL), ONNXI_OK);
  assert_string_equal(info.name, "x");
  assert_int_equal(info.dtype, ONNXI_DTYPE_FLOAT);
  assert_int_equal(info.rank, 4);
  assert_int_equal(info.dims[0], -1);
  assert_string_equal(info.dim_names[0], "N");
  assert_int_equal(info.dims[1], 3);
  assert_null(info.dim_names[1]);
  assert_int_equal(onnxi_model_output_info(model, 0, &info, NULL), ONNXI_OK);
  assert_string_equal(info.name, "y");
  assert_int_equal(info.dims[1], 4);
}

static void test_conv_relu_buffer(void **state) {
  (void)state;
  onnxi_model *model = load_ok(conv_relu_model(), NULL);
  check_conv_relu(model);
  assert_string_equal(model->ir.path, "t.onnx");
  assert_null(model->ir.dir);
  onnxi_model_free(model);
}

static void test_conv_relu_file(void **state) {
  (void)state;
  char *dir = mb_tmpdir_create();
  Onnx__ModelProto *m = conv_relu_model();
  char *path = mb_model_write(m, dir, "cr.onnx");
  mb_model_free(m);
  onnxi_model *model = NULL;
  onnxi_error err = {0};
  onnxi_status st = onnxi_model_load_file(path, &import_only, &model, &err);
  if (st) fail_msg("%s", err.message);
  check_conv_relu(model);
  assert_string_equal(model->ir.path, path);
  assert_string_equal(model->ir.dir, dir);
  onnxi_model_free(model);
  free(path);
  mb_tmpdir_remove(dir);
}

static void test_public_api_args(void **state) {
  (void)state;
  onnxi_model *model = load_ok(conv_relu_model(), NULL);
  onnxi_tensor_info info;
  onnxi_error err = {0};
  assert_int_equal(onnxi_model_input_info(model, 1, &info, &err), ONNXI_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "input index 1 out of range (1 inputs)"));
  assert_int_equal(onnxi_model_output_info(model, -1, &info, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(onnxi_model_input_info(NULL, 0, &info, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(onnxi_model_input_count(NULL), 0);
  onnxi_model_free(model);
  onnxi_model_free(NULL);
  assert_int_equal(onnxi_model_load_buffer("x", 1, "b", NULL, NULL, &err), ONNXI_ERR_INVALID_ARG);
  onnxi_model *out = (onnxi_model *)&err;
  assert_int_equal(onnxi_model_load_buffer(NULL, 4, "b", NULL, &out, &err), ONNXI_ERR_INVALID_ARG);
  assert_null(out);
  assert_int_equal(onnxi_model_load_file("/nonexistent/x.onnx", NULL, &out, &err), ONNXI_ERR_IO);
  assert_non_null(strstr(err.message, "/nonexistent/x.onnx: cannot open"));
  assert_null(out);
}

/* A node using every attribute type; its graph attributes use outer names. */
static void test_every_attribute_type(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model_new();
  mb_opset_add(m, "com.example", 1);
  Onnx__GraphProto *g = m->graph;
  mb_input(g, "x", F32, 1, DIMS(2));
  Onnx__NodeProto *n = mb_node(g, "Custom", "c0", "x", "y");
  n->domain = strdup("com.example");
  mb_attr_float(n, "f", 1.5f);
  mb_attr_int(n, "i", -42);
  mb_attr_string(n, "s", "hello");
  Onnx__TensorProto *t = mb_tensor("tv", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, DIMS(2));
  mb_tensor_set_int64s(t, 2, DIMS(5, -6));
  mb_attr_tensor(n, "t", t);
  Onnx__GraphProto *sub = mb_graph_new("body");
  mb_node(sub, "Add", "inner", "x,x", "so"); /* x is the outer graph's input */
  mb_output(sub, "so", F32, 1, DIMS(2));
  mb_attr_graph(n, "g", sub);
  mb_attr_floats(n, "fs", 3, (const float[]){0.25f, -1, 8});
  mb_attr_ints(n, "is", 2, DIMS(INT64_MAX, INT64_MIN));
  mb_attr_strings(n, "ss", 2, (const char *const[]){"a", ""});
  Onnx__TensorProto *ts[2] = {mb_tensor("t0", F32, 0, NULL), mb_tensor("t1", F32, 1, DIMS(0))};
  mb_tensor_set_floats(ts[0], 1, (const float[]){3.0f});
  mb_attr_tensors(n, "ts", 2, ts);
  Onnx__GraphProto *gs[2] = {mb_graph_new("g0"), mb_graph_new("g1")};
  mb_input(gs[0], "a", F32, 0, NULL);
  mb_output(gs[0], "a", F32, 0, NULL);
  mb_output(gs[1], "x", F32, 1, DIMS(2)); /* an outer value as subgraph output */
  mb_attr_graphs(n, "gs", 2, gs);
  mb_attr_sparse(n, "sp", 1, 0);
  mb_attr_sparse(n, "sps", 3, 1);
  mb_attr_type_protos(n, "tp", 1, 0);
  mb_attr_type_protos(n, "tps", 2, 1);
  mb_output(g, "y", F32, 1, DIMS(2));
  onnxi_model *model = load_ok(m, NULL);

  const ir_model *ir = &model->ir;
  assert_int_equal(ir->n_opsets, 2);
  assert_string_equal(ir->opsets[1].domain, "com.example");
  assert_int_equal(ir->opsets[1].version, 1);
  const ir_node *node = &ir->graph.nodes[0];
  assert_int_equal(node->op, IR_OP_UNKNOWN);
  assert_string_equal(node->op_type, "Custom");
  assert_string_equal(node->domain, "com.example");
  assert_int_equal(node->n_attrs, 14);
  const ir_attr *a = ir_node_attr(node, "f");
  assert_int_equal(a->type, IR_ATTR_FLOAT);
  assert_true(a->f == 1.5f);
  a = ir_node_attr(node, "i");
  assert_int_equal(a->type, IR_ATTR_INT);
  assert_int_equal(a->i, -42);
  a = ir_node_attr(node, "s");
  assert_int_equal(a->type, IR_ATTR_STRING);
  assert_int_equal(a->s.len, 5);
  assert_string_equal(a->s.data, "hello");
  a = ir_node_attr(node, "t");
  assert_int_equal(a->type, IR_ATTR_TENSOR);
  assert_int_equal(a->n, 1);
  assert_int_equal(a->tensors[0].dtype, ONNXI_DTYPE_INT64);
  assert_int_equal(a->tensors[0].count, 2);
  assert_int_equal(((const int64_t *)a->tensors[0].data)[1], -6);

  a = ir_node_attr(node, "g");
  assert_int_equal(a->type, IR_ATTR_GRAPH);
  assert_int_equal(a->n, 1);
  const ir_graph *sg = a->graphs[0];
  assert_string_equal(sg->name, "body");
  assert_int_equal(sg->n_nodes, 1);
  assert_string_equal(sg->nodes[0].name, "inner");
  int32_t sx = value_id(sg, "x");
  assert_int_equal(sx, sg->nodes[0].inputs[0]);
  assert_int_equal(sg->values[sx].producer, IR_NONE); /* outer-scope reference */
  assert_int_equal(sg->values[sx].flags, 0);
  assert_int_equal(sg->n_outputs, 1);
  assert_int_equal(sg->values[sg->outputs[0]].producer, 0);

  a = ir_node_attr(node, "fs");
  assert_int_equal(a->type, IR_ATTR_FLOATS);
  assert_int_equal(a->n, 3);
  assert_true(a->floats[0] == 0.25f && a->floats[2] == 8.0f);
  a = ir_node_attr(node, "is");
  assert_int_equal(a->type, IR_ATTR_INTS);
  assert_true(a->ints[0] == INT64_MAX && a->ints[1] == INT64_MIN);
  a = ir_node_attr(node, "ss");
  assert_int_equal(a->type, IR_ATTR_STRINGS);
  assert_int_equal(a->n, 2);
  assert_string_equal(a->strings[0].data, "a");
  assert_int_equal(a->strings[1].len, 0);
  assert_string_equal(a->strings[1].data, "");
  a = ir_node_attr(node, "ts");
  assert_int_equal(a->type, IR_ATTR_TENSORS);
  assert_int_equal(a->n, 2);
  assert_int_equal(a->tensors[0].rank, 0);
  assert_int_equal(a->tensors[0].count, 1);
  assert_true(*(const float *)a->tensors[0].data == 3.0f);
  assert_int_equal(a->tensors[1].count, 0);
  assert_int_equal(a->tensors[1].nbytes, 0);
  a = ir_node_attr(node, "gs");
  assert_int_equal(a->type, IR_ATTR_GRAPHS);
  assert_int_equal(a->n, 2);
  assert_string_equal(a->graphs[0]->name, "g0");
  assert_int_equal(a->graphs[0]->n_inputs, 1);
  assert_int_equal(a->graphs[0]->n_outputs, 1);
  assert_int_equal(a->graphs[0]->inputs[0], a->graphs[0]->outputs[0]);
  assert_int_equal(a->graphs[1]->n_outputs, 1);
  assert_string_equal(a->graphs[1]->values[a->graphs[1]->outputs[0]].name, "x");
  a = ir_node_attr(node, "sp");
  assert_int_equal(a->type, IR_ATTR_SPARSE_TENSOR);
  assert_int_equal(a->n, 1);
  a = ir_node_attr(node, "sps");
  assert_int_equal(a->type, IR_ATTR_SPARSE_TENSORS);
  assert_int_equal(a->n, 3);
  a = ir_node_attr(node, "tp");
  assert_int_equal(a->type, IR_ATTR_TYPE_PROTO);
  assert_int_equal(a->n, 1);
  a = ir_node_attr(node, "tps");
  assert_int_equal(a->type, IR_ATTR_TYPE_PROTOS);
  assert_int_equal(a->n, 2);
  onnxi_model_free(model);
}

/* Attributes without `type` (old exporters) get it from the field set. */
static void test_attribute_type_inferred(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  mb_input(g, "x", F32, 1, DIMS(2));
  Onnx__NodeProto *n = mb_node(g, "LeakyRelu", NULL, "x", "y");
  mb_attr_float(n, "alpha", 0.5f)->has_type = 0;
  mb_attr_ints(n, "extra", 1, DIMS(3))->has_type = 0;
  mb_output(g, "y", F32, 1, DIMS(2));
  onnxi_model *model = load_ok(m, NULL);
  const ir_node *node = &model->ir.graph.nodes[0];
  assert_int_equal(ir_node_attr(node, "alpha")->type, IR_ATTR_FLOAT);
  assert_int_equal(ir_node_attr(node, "extra")->type, IR_ATTR_INTS);
  onnxi_model_free(model);
}

typedef struct dtype_case {
  int32_t dtype;
  size_t size;
} dtype_case;

static const dtype_case numeric_dtypes[] = {
    {ONNXI_DTYPE_FLOAT, 4},  {ONNXI_DTYPE_DOUBLE, 8},  {ONNXI_DTYPE_INT8, 1},
    {ONNXI_DTYPE_INT16, 2},  {ONNXI_DTYPE_INT32, 4},   {ONNXI_DTYPE_INT64, 8},
    {ONNXI_DTYPE_UINT8, 1},  {ONNXI_DTYPE_UINT16, 2},  {ONNXI_DTYPE_UINT32, 4},
    {ONNXI_DTYPE_UINT64, 8}, {ONNXI_DTYPE_BOOL, 1},    {ONNXI_DTYPE_FLOAT16, 2},
    {ONNXI_DTYPE_BFLOAT16, 2}};

/* Every numeric dtype as raw_data: bytes arrive unchanged. */
static void test_initializer_dtypes_raw(void **state) {
  (void)state;
  const size_t n_cases = sizeof numeric_dtypes / sizeof *numeric_dtypes;
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  uint8_t bytes[3 * 8];
  for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i * 7 + 1);
  for (size_t i = 0; i < sizeof bytes; i++)
    if (i % 8 == 0) bytes[i] = 1; /* keep the bool tensor 0/1 */
  for (size_t c = 0; c < n_cases; c++) {
    char name[16];
    snprintf(name, sizeof name, "t%zu", c);
    mb_initializer(g, mb_tensor_raw(name, numeric_dtypes[c].dtype, 2, DIMS(3, 1), bytes,
                                    3 * numeric_dtypes[c].size));
    mb_output(g, name, numeric_dtypes[c].dtype, 2, DIMS(3, 1));
  }
  onnxi_model *model = load_ok(m, NULL);
  assert_int_equal(model->ir.graph.n_initializers, n_cases);
  for (size_t c = 0; c < n_cases; c++) {
    char name[16];
    snprintf(name, sizeof name, "t%zu", c);
    const ir_value *v = value(model, name);
    assert_int_equal(v->dtype, numeric_dtypes[c].dtype);
    assert_int_equal(v->flags, IR_VALUE_CONST | IR_VALUE_OUTPUT);
    assert_int_equal(v->nbytes, 3 * numeric_dtypes[c].size);
    assert_memory_equal(v->data, bytes, v->nbytes);
    assert_int_equal((uintptr_t)v->data % 64, 0);
  }
  onnxi_model_free(model);
}

static void add_typed(Onnx__GraphProto *g, const char *name, int32_t dtype, Onnx__TensorProto **t) {
  *t = mb_initializer(g, mb_tensor(name, dtype, 1, DIMS(3)));
}

/* Every dtype through its typed repeated field (int32_data holds the narrow
 * integers, bool and the 16-bit float bit patterns; uint64_data uint32). */
static void test_initializer_dtypes_typed(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  Onnx__TensorProto *t;
  add_typed(g, "f32", ONNXI_DTYPE_FLOAT, &t);
  mb_tensor_set_floats(t, 3, (const float[]){1.5f, -2, 0});
  add_typed(g, "f64", ONNXI_DTYPE_DOUBLE, &t);
  mb_tensor_set_doubles(t, 3, (const double[]){1e300, -0.5, 3});
  add_typed(g, "i8", ONNXI_DTYPE_INT8, &t);
  mb_tensor_set_int32s(t, 3, (const int32_t[]){-1, 2, 127});
  add_typed(g, "u8", ONNXI_DTYPE_UINT8, &t);
  mb_tensor_set_int32s(t, 3, (const int32_t[]){255, 0, 17});
  add_typed(g, "i16", ONNXI_DTYPE_INT16, &t);
  mb_tensor_set_int32s(t, 3, (const int32_t[]){-300, 300, -32768});
  add_typed(g, "u16", ONNXI_DTYPE_UINT16, &t);
  mb_tensor_set_int32s(t, 3, (const int32_t[]){65535, 1, 2});
  add_typed(g, "i32", ONNXI_DTYPE_INT32, &t);
  mb_tensor_set_int32s(t, 3, (const int32_t[]){INT32_MIN, 0, INT32_MAX});
  add_typed(g, "i64", ONNXI_DTYPE_INT64, &t);
  mb_tensor_set_int64s(t, 3, DIMS(INT64_MIN, 1, INT64_MAX));
  add_typed(g, "u32", ONNXI_DTYPE_UINT32, &t);
  mb_tensor_set_uint64s(t, 3, (const uint64_t[]){UINT32_MAX, 0, 9});
  add_typed(g, "u64", ONNXI_DTYPE_UINT64, &t);
  mb_tensor_set_uint64s(t, 3, (const uint64_t[]){UINT64_MAX, 0, 9});
  add_typed(g, "bool", ONNXI_DTYPE_BOOL, &t);
  mb_tensor_set_int32s(t, 3, (const int32_t[]){0, 1, 5});
  add_typed(g, "f16", ONNXI_DTYPE_FLOAT16, &t);
  mb_tensor_set_int32s(t, 3, (const int32_t[]){0x3c00, 0xc000, 0x7bff});
  add_typed(g, "bf16", ONNXI_DTYPE_BFLOAT16, &t);
  mb_tensor_set_int32s(t, 3, (const int32_t[]){0x3f80, 0xbf80, 0x0001});
  add_typed(g, "str", ONNXI_DTYPE_STRING, &t);
  mb_tensor_set_strings(t, 3, (const char *const[]){"ab", "", "xyz"});
  mb_output(g, "f32", F32, 1, DIMS(3));
  onnxi_model *model = load_ok(m, NULL);

  assert_memory_equal(value(model, "f32")->data, ((const float[]){1.5f, -2, 0}), 12);
  assert_memory_equal(value(model, "f64")->data, ((const double[]){1e300, -0.5, 3}), 24);
  assert_memory_equal(value(model, "i8")->data, ((const int8_t[]){-1, 2, 127}), 3);
  assert_memory_equal(value(model, "u8")->data, ((const uint8_t[]){255, 0, 17}), 3);
  assert_memory_equal(value(model, "i16")->data, ((const int16_t[]){-300, 300, -32768}), 6);
  assert_memory_equal(value(model, "u16")->data, ((const uint16_t[]){65535, 1, 2}), 6);
  assert_memory_equal(value(model, "i32")->data, ((const int32_t[]){INT32_MIN, 0, INT32_MAX}), 12);
  assert_memory_equal(value(model, "i64")->data, DIMS(INT64_MIN, 1, INT64_MAX), 24);
  assert_memory_equal(value(model, "u32")->data, ((const uint32_t[]){UINT32_MAX, 0, 9}), 12);
  assert_memory_equal(value(model, "u64")->data, ((const uint64_t[]){UINT64_MAX, 0, 9}), 24);
  assert_memory_equal(value(model, "bool")->data, ((const uint8_t[]){0, 1, 1}), 3);
  assert_memory_equal(value(model, "f16")->data, ((const uint16_t[]){0x3c00, 0xc000, 0x7bff}), 6);
  assert_memory_equal(value(model, "bf16")->data, ((const uint16_t[]){0x3f80, 0xbf80, 1}), 6);
  const ir_value *s = value(model, "str");
  assert_int_equal(s->dtype, ONNXI_DTYPE_STRING);
  const ir_string *strs = s->data;
  assert_int_equal(strs[0].len, 2);
  assert_string_equal(strs[0].data, "ab");
  assert_int_equal(strs[1].len, 0);
  assert_string_equal(strs[2].data, "xyz");
  assert_int_equal(value(model, "u16")->nbytes, 6);
  assert_int_equal(value(model, "i32")->shape.dims[0].value, 3);
  onnxi_model_free(model);
}

/* Scalars, empty tensors and unnamed initializers/inputs. */
static void test_initializer_shapes_and_names(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  Onnx__TensorProto *t = mb_initializer(g, mb_tensor("scalar", F32, 0, NULL));
  mb_tensor_set_floats(t, 1, (const float[]){2.5f});
  mb_initializer(g, mb_tensor_raw("empty", F32, 2, DIMS(0, 5), NULL, 0));
  mb_initializer_f32(g, NULL, 1, DIMS(1), (const float[]){1});
  mb_input(g, "", F32, 1, DIMS(1));
  mb_output(g, "scalar", F32, 0, NULL);
  onnxi_model *model = load_ok(m, NULL);
  const ir_value *s = value(model, "scalar");
  assert_int_equal(s->shape.rank, 0);
  assert_int_equal(s->nbytes, 4);
  assert_true(*(const float *)s->data == 2.5f);
  const ir_value *e = value(model, "empty");
  assert_int_equal(e->shape.rank, 2);
  assert_int_equal(e->nbytes, 0);
  const ir_graph *gr = &model->ir.graph;
  assert_int_equal(gr->n_initializers, 3);
  assert_string_equal(gr->values[2].name, "_v2"); /* generated names */
  assert_int_equal(gr->n_inputs, 1);
  assert_string_equal(gr->values[gr->inputs[0]].name, "_v3");
  onnxi_model_free(model);
}

/* Constant nodes stay nodes; unknown ops keep op_type; "" = omitted input. */
static void test_constant_unknown_optional(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  mb_input(g, "x", F32, 1, DIMS(3));
  Onnx__NodeProto *c = mb_node(g, "Constant", "k", "", "maxv");
  mb_attr_tensor(c, "value", mb_tensor_raw("", F32, 0, NULL, (const float[]){6}, 4));
  mb_node(g, "Clip", "clip", "x,,maxv", "c");
  Onnx__NodeProto *u = mb_node(g, "FancyOp", NULL, "c", "y,");
  u->domain = strdup("ai.onnx"); /* explicit default domain */
  mb_output(g, "y", F32, 1, DIMS(3));
  onnxi_model *model = load_ok(m, NULL);
  const ir_graph *gr = &model->ir.graph;
  assert_int_equal(gr->n_nodes, 3);
  assert_int_equal(gr->nodes[0].op, IR_OP_CONSTANT);
  assert_int_equal(gr->nodes[0].n_inputs, 0);
  const ir_attr *v = ir_node_attr(&gr->nodes[0], "value");
  assert_int_equal(v->type, IR_ATTR_TENSOR);
  assert_true(*(const float *)v->tensors[0].data == 6.0f);
  assert_int_equal(gr->nodes[1].op, IR_OP_CLIP);
  assert_int_equal(gr->nodes[1].n_inputs, 3);
  assert_int_equal(gr->nodes[1].inputs[1], IR_NONE);
  assert_int_equal(gr->nodes[1].inputs[2], value_id(gr, "maxv"));
  assert_int_equal(gr->nodes[2].op, IR_OP_UNKNOWN);
  assert_string_equal(gr->nodes[2].op_type, "FancyOp");
  assert_string_equal(gr->nodes[2].name, "FancyOp_2");
  assert_string_equal(gr->nodes[2].domain, "");
  assert_int_equal(gr->nodes[2].n_outputs, 2);
  assert_int_equal(gr->nodes[2].outputs[1], IR_NONE);
  assert_int_equal(value(model, "maxv")->producer, 0);
  onnxi_model_free(model);
}

/* Old exports list initializers as inputs too: those are constants. */
static void test_inputs_with_initializers(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model_new();
  m->ir_version = 3;
  m->opset_import[0]->version = 7;
  Onnx__GraphProto *g = m->graph;
  mb_input(g, "x", F32, 2, DIMS(1, 2));
  mb_input(g, "w", F32, 2, DIMS(2, 2));
  mb_initializer_f32(g, "w", 2, DIMS(2, 2), (const float[]){1, 2, 3, 4});
  mb_node(g, "MatMul", "mm", "x,w", "y");
  mb_value_info(g, "unused", F32, 1, DIMS(1));
  mb_output(g, "y", F32, 2, DIMS(1, 2));
  onnxi_model *model = load_ok(m, NULL);
  assert_int_equal(onnxi_model_input_count(model), 1);
  assert_int_equal(model->ir.opset, 7);
  assert_int_equal(value(model, "w")->flags, IR_VALUE_CONST);
  assert_int_equal(ir_graph_value_find(&model->ir.graph, "unused"), IR_NONE);
  onnxi_model_free(model);
}

/* value_info gives shapes to intermediate values. */
static void test_value_info(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  Onnx__ValueInfoProto *x = mb_input(g, "x", F32, 2, DIMS(-1, 4));
  mb_dim_param(x, 0, "batch");
  mb_node(g, "Relu", "r", "x", "h");
  mb_node(g, "Relu", "r2", "h", "y");
  Onnx__ValueInfoProto *h = mb_value_info(g, "h", F32, 3, DIMS(-1, 4, -1));
  mb_dim_param(h, 0, "batch");
  mb_dim_param(h, 2, "other");
  mb_output(g, "y", F32, 0, NULL)->type->tensor_type->has_elem_type = 0;
  onnxi_model *model = load_ok(m, NULL);
  const ir_value *hv = value(model, "h");
  assert_int_equal(hv->dtype, ONNXI_DTYPE_FLOAT);
  assert_int_equal(hv->shape.rank, 3);
  assert_int_equal(hv->shape.dims[0].sym, 0);
  assert_int_equal(hv->shape.dims[1].value, 4);
  assert_int_equal(hv->shape.dims[2].sym, 1);
  assert_int_equal(hv->shape.dims[2].value, -1);
  const ir_value *y = value(model, "y");
  assert_int_equal(y->dtype, ONNXI_DTYPE_UNDEFINED);
  assert_int_equal(y->shape.rank, -1);
  onnxi_model_free(model);
}

/* A graph with subgraphs keeps file order: sorting only by explicit inputs
 * would run the If before the Relu whose output its branch reads. */
static void test_subgraph_keeps_file_order(void **state) {
  (void)state;
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  mb_input(g, "x", F32, 1, DIMS(2));
  mb_input(g, "cond", ONNXI_DTYPE_BOOL, 0, NULL);
  mb_node(g, "Relu", "a", "x", "t1");
  mb_node(g, "Relu", "b", "t1", "t2");
  Onnx__NodeProto *n = mb_node(g, "If", "c", "cond", "y");
  Onnx__GraphProto *then = mb_graph_new("then");
  mb_node(then, "Identity", "inner", "t2", "o");
  mb_output(then, "o", F32, 1, DIMS(2));
  mb_attr_graph(n, "then_branch", then);
  mb_output(g, "y", F32, 1, DIMS(2));
  onnxi_model *model = load_ok(m, NULL);
  const ir_graph *gr = &model->ir.graph;
  assert_string_equal(gr->nodes[0].name, "a");
  assert_string_equal(gr->nodes[1].name, "b");
  assert_string_equal(gr->nodes[2].name, "c");
  assert_int_equal(value(model, "t2")->producer, 1);
  assert_int_equal(value(model, "y")->producer, 2);
  assert_int_equal(ir_value_use_count(gr, value_id(gr, "t1")), 1);
  onnxi_model_free(model);
}

/* Graphs nested 16 deep load; the 17th level is refused. */
static Onnx__ModelProto *nested_model(int depth) {
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  mb_input(g, "x", F32, 1, DIMS(1));
  Onnx__GraphProto *cur = g;
  for (int d = 0; d < depth; d++) {
    char name[16];
    snprintf(name, sizeof name, "y%d", d);
    Onnx__NodeProto *n = mb_node(cur, "Wrap", NULL, "x", name);
    mb_output(cur, name, F32, 1, DIMS(1));
    Onnx__GraphProto *sub = mb_graph_new("sub");
    mb_attr_graph(n, "body", sub);
    cur = sub;
  }
  mb_node(cur, "Identity", "leaf", "x", "z");
  mb_output(cur, "z", F32, 1, DIMS(1));
  return m;
}

static void test_subgraph_depth(void **state) {
  (void)state;
  onnxi_model *model = load_ok(nested_model(16), NULL);
  const ir_graph *g = &model->ir.graph;
  for (int d = 0; d < 16; d++) g = g->nodes[0].attrs[0].graphs[0];
  assert_string_equal(g->nodes[0].name, "leaf");
  onnxi_model_free(model);

  Onnx__ModelProto *m = nested_model(17);
  size_t size;
  uint8_t *buf = mb_model_pack(m, &size);
  mb_model_free(m);
  onnxi_error err = {0};
  assert_int_equal(onnxi_model_load_buffer(buf, size, "deep.onnx", NULL, &model, &err),
                   ONNXI_ERR_LIMIT);
  assert_non_null(strstr(err.message, "subgraphs are nested more than 16 deep"));
  assert_non_null(strstr(err.message, "deep.onnx: node 'Wrap_0' (Wrap): attribute 'body': "));
  free(buf);
}

static void test_max_weight_bytes(void **state) {
  (void)state;
  onnxi_load_options opts = {.max_weight_bytes = 1 << 20};
  onnxi_model *model = load_ok(conv_relu_model(), &opts);
  onnxi_model_free(model);
  opts.max_weight_bytes = 300; /* w alone is 432 bytes */
  Onnx__ModelProto *m = conv_relu_model();
  size_t size;
  uint8_t *buf = mb_model_pack(m, &size);
  mb_model_free(m);
  onnxi_error err = {0};
  assert_int_equal(onnxi_model_load_buffer(buf, size, "big.onnx", &opts, &model, &err),
                   ONNXI_ERR_LIMIT);
  assert_non_null(strstr(err.message, "big.onnx: "));
  assert_non_null(strstr(err.message, "max_weight_bytes"));
  assert_null(model);
  free(buf);
}

/* Files whose initializer payloads stay in the file buffer (onnx_strip.c):
 * several payloads and a small one between them keep their bytes, alignment
 * and order; a file with its graph split over two fields (protobuf merges
 * them) takes the plain path and reads the same. */
static void test_payloads_in_file_buffer(void **state) {
  (void)state;
  enum { N = 5000, SMALL = 7 };
  float *f = malloc(N * sizeof *f);
  for (int i = 0; i < N; i++) f[i] = (float)i - 0.5f;
  Onnx__ModelProto *m = mb_model_new();
  mb_initializer_f32(m->graph, "a", 1, DIMS(N), f);
  mb_initializer_f32(m->graph, "small", 1, DIMS(SMALL), f + 1);
  mb_initializer_f32(m->graph, "b", 1, DIMS(N - 1), f + 1);
  mb_output(m->graph, "a", F32, 1, DIMS(N));
  size_t size;
  uint8_t *one = mb_model_pack(m, &size);
  mb_model_free(m);
  /* the same bytes with a second, empty graph field appended: field 7, length 0 */
  uint8_t *two = malloc(size + 2);
  memcpy(two, one, size);
  two[size] = 7 << 3 | 2;
  two[size + 1] = 0;
  for (int k = 0; k < 2; k++) {
    onnxi_model *model = NULL;
    onnxi_error err;
    if (onnxi_model_load_buffer(k ? two : one, size + (size_t)(2 * k), "p.onnx", NULL, &model,
                                &err) != ONNXI_OK)
      fail_msg("%s", err.message);
    const ir_value *a = value(model, "a"), *sm = value(model, "small"), *b = value(model, "b");
    assert_int_equal((uintptr_t)a->data % 64, 0);
    assert_int_equal((uintptr_t)b->data % 64, 0);
    assert_memory_equal(a->data, f, N * 4);
    assert_memory_equal(sm->data, f + 1, SMALL * 4);
    assert_memory_equal(b->data, f + 1, (N - 1) * 4);
    assert_int_equal(model->ir.graph.initializer_bytes, (2 * N - 1 + SMALL) * 4);
    onnxi_model_free(model);
  }
  free(one);
  free(two);
  free(f);
}

/* Tensors past the size protobuf-c allocates in the model arena are adopted
 * rather than copied: the bytes must still be right, raw and typed. */
static void test_large_tensors(void **state) {
  (void)state;
  enum { N = 20000 };
  float *f = malloc(N * sizeof *f);
  int64_t *l = malloc(N * sizeof *l);
  for (int i = 0; i < N; i++) {
    f[i] = (float)i * 0.25f;
    l[i] = (int64_t)i * 1000003;
  }
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  mb_initializer_f32(g, "raw", 1, DIMS(N), f);
  mb_tensor_set_floats(mb_initializer(g, mb_tensor("floats", F32, 2, DIMS(100, N / 100))), N, f);
  mb_tensor_set_int64s(mb_initializer(g, mb_tensor("int64s", ONNXI_DTYPE_INT64, 1, DIMS(N))), N, l);
  mb_output(g, "raw", F32, 1, DIMS(N));
  onnxi_model *model = load_ok(m, NULL);
  const ir_value *v = value(model, "raw");
  assert_int_equal(v->nbytes, N * 4);
  assert_int_equal((uintptr_t)v->data % 64, 0);
  assert_memory_equal(v->data, f, N * 4);
  v = value(model, "floats");
  assert_int_equal((uintptr_t)v->data % 64, 0);
  assert_memory_equal(v->data, f, N * 4);
  v = value(model, "int64s");
  assert_int_equal((uintptr_t)v->data % 64, 0);
  assert_memory_equal(v->data, l, N * 8);
  assert_int_equal(model->ir.graph.initializer_bytes, N * 16);
  /* one copy of the weights: the arena holds little besides them */
  assert_true(model->ir.arena.used_bytes < N * 16 + 16384);
  onnxi_model_free(model);

  /* the weight cap also applies to payloads taken from the file's bytes */
  m = mb_model_new();
  mb_initializer_f32(m->graph, "raw", 1, DIMS(N), f);
  mb_output(m->graph, "raw", F32, 1, DIMS(N));
  size_t size;
  uint8_t *buf = mb_model_pack(m, &size);
  mb_model_free(m);
  onnxi_load_options opts = {.max_weight_bytes = 50000};
  onnxi_error err = {0};
  assert_int_equal(onnxi_model_load_buffer(buf, size, "cap.onnx", &opts, &model, &err),
                   ONNXI_ERR_LIMIT);
  if (!strstr(err.message, "cap.onnx: initializer 'raw': 80000 more bytes of weights exceed "
                           "max_weight_bytes (50000"))
    fail_msg("%s", err.message);
  free(buf);
  free(f);
  free(l);
}

/* onnx_model_import directly: the IR-level entry point other modules use. */
static void test_import_ir(void **state) {
  (void)state;
  Onnx__ModelProto *m = conv_relu_model();
  size_t size;
  uint8_t *buf = mb_model_pack(m, &size);
  mb_model_free(m);
  ir_model ir;
  onnxi_error err = {0};
  assert_int_equal(onnx_model_import(buf, size, "direct.onnx", "/tmp", NULL, &ir, &err), ONNXI_OK);
  assert_string_equal(ir.path, "direct.onnx");
  assert_string_equal(ir.dir, "/tmp");
  assert_int_equal(ir.graph.n_nodes, 2);
  ir_model_release(&ir);
  assert_int_equal(onnx_model_import(buf, size / 2, "half.onnx", NULL, NULL, &ir, &err),
                   ONNXI_ERR_PARSE);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conv_relu_buffer),
      cmocka_unit_test(test_conv_relu_file),
      cmocka_unit_test(test_public_api_args),
      cmocka_unit_test(test_every_attribute_type),
      cmocka_unit_test(test_attribute_type_inferred),
      cmocka_unit_test(test_initializer_dtypes_raw),
      cmocka_unit_test(test_initializer_dtypes_typed),
      cmocka_unit_test(test_initializer_shapes_and_names),
      cmocka_unit_test(test_constant_unknown_optional),
      cmocka_unit_test(test_inputs_with_initializers),
      cmocka_unit_test(test_value_info),
      cmocka_unit_test(test_subgraph_keeps_file_order),
      cmocka_unit_test(test_subgraph_depth),
      cmocka_unit_test(test_max_weight_bytes),
      cmocka_unit_test(test_large_tensors),
      cmocka_unit_test(test_payloads_in_file_buffer),
      cmocka_unit_test(test_import_ir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
