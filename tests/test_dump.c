/* Golden tests of interp/dump.c: small graphs built with the ir_graph API,
 * dumped in every format and compared byte for byte with tests/golden/.
 * ONNXI_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dump.h"
#include "ir.h"

#define GOLDEN_DIR ONNXI_TEST_GOLDEN_DIR

/* Dims below -1 name a symbol: SYM(k) is graph->syms[k]. */
#define SYM(k) (-2 - (k))

/* --- building graphs --- */

static void *test_alloc(ir_model *m, size_t size) {
  void *p = arena_alloc(&m->arena, size, 64);
  assert_non_null(p);
  return p;
}

static const char *test_str(ir_model *m, const char *s) {
  char *p = arena_strdup(&m->arena, s);
  assert_non_null(p);
  return p;
}

static void test_model_init(ir_model *m) {
  memset(m, 0, sizeof *m);
  arena_init(&m->arena, 0);
  ir_graph_init(&m->graph, &m->arena);
}

static void test_shape_set(ir_shape *s, int rank, const int64_t *dims) {
  s->rank = rank;
  for (int i = 0; i < rank; i++) {
    s->dims[i].value = dims[i] >= 0 ? dims[i] : -1;
    s->dims[i].sym = dims[i] < -1 ? (int32_t)(-2 - dims[i]) : -1;
  }
}

static int32_t test_value(ir_graph *g, const char *name, int32_t dtype, int rank,
                          const int64_t *dims) {
  int32_t id;
  onnxi_error err = {0};
  assert_int_equal(ir_graph_value_add(g, name, &id, &err), ONNXI_OK);
  g->values[id].dtype = dtype;
  if (rank >= 0) test_shape_set(&g->values[id].shape, rank, dims);
  return id;
}

/* An initializer with float data 0, 0.5, 1, ... */
static int32_t test_const_f32(ir_model *m, const char *name, int rank, const int64_t *dims) {
  ir_graph *g = &m->graph;
  int32_t v = test_value(g, name, ONNXI_DTYPE_FLOAT, rank, dims);
  int64_t count;
  assert_true(ir_dims_count(dims, rank, &count));
  float *data = test_alloc(m, sizeof(float) * (size_t)count);
  for (int64_t i = 0; i < count; i++) data[i] = 0.5f * (float)i;
  g->values[v].flags |= IR_VALUE_CONST;
  g->values[v].data = data;
  g->values[v].nbytes = sizeof(float) * (size_t)count;
  g->n_initializers++;
  g->initializer_bytes += g->values[v].nbytes;
  return v;
}

static int32_t *test_ids(ir_model *m, int n, ...) {
  int32_t *ids = test_alloc(m, sizeof(int32_t) * (size_t)(n ? n : 1));
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) ids[i] = va_arg(ap, int32_t);
  va_end(ap);
  return ids;
}

static ir_node *test_node(ir_graph *g, const char *name, const char *op_type, int n_in,
                          const int32_t *in, int n_out, const int32_t *out, int n_attrs) {
  int32_t id;
  onnxi_error err = {0};
  assert_int_equal(ir_graph_node_add(g, ir_op_from_name(op_type), op_type, n_in, n_out,
                                     n_attrs, &id, &err),
                   ONNXI_OK);
  ir_node *n = &g->nodes[id];
  if (name) {
    n->name = arena_strdup(g->arena, name);
    assert_non_null(n->name);
  }
  for (int i = 0; i < n_in; i++) n->inputs[i] = in[i];
  for (int i = 0; i < n_out; i++) {
    n->outputs[i] = out[i];
    if (out[i] >= 0 && out[i] < g->n_values) g->values[out[i]].producer = id;
  }
  return n;
}

static void test_attr_ints(ir_model *m, ir_attr *a, const char *name, int n, const int64_t *v) {
  a->name = test_str(m, name);
  a->type = IR_ATTR_INTS;
  a->n = n;
  a->ints = test_alloc(m, sizeof(int64_t) * (size_t)n);
  memcpy(a->ints, v, sizeof(int64_t) * (size_t)n);
}

static void test_attr_int(ir_model *m, ir_attr *a, const char *name, int64_t v) {
  a->name = test_str(m, name);
  a->type = IR_ATTR_INT;
  a->n = 1;
  a->i = v;
}

static void test_io_set(ir_graph *g, int32_t *in, int n_in, int32_t *out, int n_out) {
  g->inputs = in;
  g->n_inputs = n_in;
  g->outputs = out;
  g->n_outputs = n_out;
  for (int i = 0; i < n_in; i++) g->values[in[i]].flags |= IR_VALUE_INPUT;
  for (int i = 0; i < n_out; i++) g->values[out[i]].flags |= IR_VALUE_OUTPUT;
}

/* conv -> relu -> add (residual) -> clip(min omitted) with a symbolic batch. */
static void test_build_conv(ir_model *m) {
  test_model_init(m);
  ir_graph *g = &m->graph;
  m->path = "models/conv_relu_add.onnx";
  m->producer_name = "pytorch";
  m->producer_version = "1.13.1";
  m->ir_version = 8;
  m->model_version = 3;
  m->doc = "A tiny residual block.\nSecond line is not shown.";
  m->opset = 13;
  m->n_opsets = 2;
  m->opsets = test_alloc(m, sizeof(ir_opset) * 2);
  m->opsets[0] = (ir_opset){"", 13};
  m->opsets[1] = (ir_opset){"com.microsoft", 1};
  m->n_metadata = 1;
  m->metadata = test_alloc(m, sizeof(ir_kv));
  m->metadata[0] = (ir_kv){"author", "onnxi tests"};
  g->name = "torch_jit";
  assert_int_equal(ir_graph_sym_intern(g, "N"), 0);

  const int64_t act[] = {SYM(0), 4, 8, 8}, xin[] = {SYM(0), 3, 8, 8};
  const int64_t wd[] = {4, 3, 3, 3}, bd[] = {4};
  int32_t x = test_value(g, "input", ONNXI_DTYPE_FLOAT, 4, xin);
  int32_t w = test_const_f32(m, "conv.weight", 4, wd);
  int32_t b = test_const_f32(m, "conv.bias", 1, bd);
  int32_t six = test_const_f32(m, "six", 0, NULL);
  int32_t y = test_value(g, "conv_out", ONNXI_DTYPE_FLOAT, 4, act);
  int32_t r = test_value(g, "relu_out", ONNXI_DTYPE_FLOAT, 4, act);
  int32_t s = test_value(g, "sum", ONNXI_DTYPE_FLOAT, 4, act);
  int32_t t = test_value(g, "relu2_out", ONNXI_DTYPE_UNDEFINED, -1, NULL);
  int32_t out = test_value(g, "output", ONNXI_DTYPE_FLOAT, 4, act);

  ir_node *conv = test_node(g, "conv0", "Conv", 3, test_ids(m, 3, x, w, b), 1,
                            test_ids(m, 1, y), 4);
  test_attr_ints(m, &conv->attrs[0], "kernel_shape", 2, (const int64_t[]){3, 3});
  test_attr_ints(m, &conv->attrs[1], "pads", 4, (const int64_t[]){1, 1, 1, 1});
  test_attr_ints(m, &conv->attrs[2], "strides", 2, (const int64_t[]){1, 1});
  test_attr_int(m, &conv->attrs[3], "group", 1);
  test_node(g, "relu0", "Relu", 1, test_ids(m, 1, y), 1, test_ids(m, 1, r), 0);
  test_node(g, "add0", "Add", 2, test_ids(m, 2, r, y), 1, test_ids(m, 1, s), 0);
  test_node(g, NULL, "Relu", 1, test_ids(m, 1, s), 1, test_ids(m, 1, t), 0);
  test_node(g, "clip0", "Clip", 3, test_ids(m, 3, t, IR_NONE, six), 1, test_ids(m, 1, out), 0);
  test_io_set(g, test_ids(m, 1, x), 1, test_ids(m, 1, out), 1);
}

/* A subgraph (If/Loop body) with n Identity nodes, in the model arena. */
static ir_graph *test_subgraph(ir_model *m, const char *name, int n) {
  ir_graph *sub = test_alloc(m, sizeof *sub);
  ir_graph_init(sub, &m->arena);
  sub->name = test_str(m, name);
  int32_t prev = test_value(sub, "sub_in", ONNXI_DTYPE_FLOAT, 0, NULL);
  for (int i = 0; i < n; i++) {
    char vname[16];
    snprintf(vname, sizeof vname, "sub_%d", i);
    int32_t v = test_value(sub, vname, ONNXI_DTYPE_FLOAT, 0, NULL);
    test_node(sub, NULL, "Identity", 1, test_ids(m, 1, prev), 1, test_ids(m, 1, v), 0);
    prev = v;
  }
  return sub;
}

static ir_tensor *test_tensors(ir_model *m, int n) {
  return test_alloc(m, sizeof(ir_tensor) * (size_t)n);
}

static void test_tensor_set(ir_model *m, ir_tensor *t, int32_t dtype, int rank,
                            const int64_t *dims, const void *data, size_t nbytes) {
  t->dtype = dtype;
  t->rank = rank;
  t->count = 1;
  for (int i = 0; i < rank; i++) {
    t->dims[i] = dims[i];
    t->count *= dims[i];
  }
  t->nbytes = nbytes;
  t->data = test_alloc(m, nbytes ? nbytes : 1);
  if (nbytes) memcpy(t->data, data, nbytes);
}

static ir_string test_irstr(ir_model *m, const char *s, size_t n) {
  ir_string r = {n, arena_strndup(&m->arena, s, n)};
  assert_non_null(r.data);
  return r;
}

/* Fills attribute a of type `type` with the test's value for that type. */
static void test_attr_fill(ir_model *m, ir_attr *a, ir_attr_type type) {
  static const char tricky[] = "say \"hi\"\n\ttab\\ nul:\0 bad:\xff ok:\xc3\xa9 bell:\x07";
  a->type = type;
  a->n = 1;
  switch (type) {
  case IR_ATTR_FLOAT: a->f = 0.1f; break;
  case IR_ATTR_INT: a->i = INT64_MIN; break;
  case IR_ATTR_STRING: a->s = test_irstr(m, tricky, sizeof tricky - 1); break;
  case IR_ATTR_TENSOR: {
    a->tensors = test_tensors(m, 1);
    const float v[4] = {1.0f, 2.5f, -3.0f, 1e-8f};
    test_tensor_set(m, a->tensors, ONNXI_DTYPE_FLOAT, 2, (const int64_t[]){2, 2}, v, sizeof v);
    break;
  }
  case IR_ATTR_GRAPH:
    a->graphs = test_alloc(m, sizeof(ir_graph *));
    a->graphs[0] = test_subgraph(m, "then_branch", 2);
    break;
  case IR_ATTR_FLOATS:
    a->n = 5;
    a->floats = test_alloc(m, sizeof(float) * 5);
    memcpy(a->floats, (const float[]){1.5f, -0.25f, NAN, INFINITY, -INFINITY}, sizeof(float) * 5);
    break;
  case IR_ATTR_INTS: {
    const int64_t v[3] = {1, -2, INT64_MAX};
    test_attr_ints(m, a, "x", 3, v);
    break;
  }
  case IR_ATTR_STRINGS:
    a->n = 3;
    a->strings = test_alloc(m, sizeof(ir_string) * 3);
    a->strings[0] = test_irstr(m, "a", 1);
    a->strings[1] = test_irstr(m, "b,c", 3);
    a->strings[2] = test_irstr(m, "", 0);
    break;
  case IR_ATTR_TENSORS: {
    a->n = 6;
    a->tensors = test_tensors(m, 6);
    const int8_t i8[2] = {-1, 2};
    const uint16_t f16[2] = {0x3e00, 0xfc00}; /* 1.5, -inf */
    const uint16_t bf16[1] = {0x3fc0};        /* 1.5 */
    const uint8_t b[2] = {1, 0};
    const double d = 0.1;
    int64_t big[9] = {0};
    test_tensor_set(m, &a->tensors[0], ONNXI_DTYPE_INT8, 1, (const int64_t[]){2}, i8, 2);
    test_tensor_set(m, &a->tensors[1], ONNXI_DTYPE_FLOAT16, 1, (const int64_t[]){2}, f16, 4);
    test_tensor_set(m, &a->tensors[2], ONNXI_DTYPE_BFLOAT16, 0, NULL, bf16, 2);
    test_tensor_set(m, &a->tensors[3], ONNXI_DTYPE_BOOL, 1, (const int64_t[]){2}, b, 2);
    test_tensor_set(m, &a->tensors[4], ONNXI_DTYPE_DOUBLE, 0, NULL, &d, sizeof d);
    test_tensor_set(m, &a->tensors[5], ONNXI_DTYPE_INT64, 2, (const int64_t[]){3, 3}, big,
                    sizeof big);
    break;
  }
  case IR_ATTR_GRAPHS:
    a->n = 2;
    a->graphs = test_alloc(m, sizeof(ir_graph *) * 2);
    a->graphs[0] = test_subgraph(m, "body", 1);
    a->graphs[1] = test_subgraph(m, "", 0);
    break;
  case IR_ATTR_SPARSE_TENSORS: case IR_ATTR_TYPE_PROTOS: a->n = 3; break;
  default: break;
  }
}

/* One node carrying an attribute of every type, plus string and uint tensors. */
static void test_build_attrs(ir_model *m) {
  test_model_init(m);
  ir_graph *g = &m->graph;
  m->path = "attrs.onnx";
  m->producer_name = "handmade";
  m->ir_version = 7;
  m->n_opsets = 1;
  m->opsets = test_alloc(m, sizeof(ir_opset));
  m->opsets[0] = (ir_opset){"com.example", 2};
  g->name = "attrs";
  int32_t x = test_value(g, "x", ONNXI_DTYPE_INT64, 0, NULL);
  int32_t y = test_value(g, "y", ONNXI_DTYPE_STRING, 1, (const int64_t[]){-1});
  ir_node *n = test_node(g, "every", "Everything", 1, test_ids(m, 1, x), 1, test_ids(m, 1, y),
                         17);
  n->domain = "com.example";
  static const char *const names[15] = {
      "undefined", "f", "i", "s", "t", "g", "floats", "ints", "strings", "tensors", "graphs",
      "sparse", "sparses", "tp", "tps"};
  for (int k = 0; k < 15; k++) {
    test_attr_fill(m, &n->attrs[k], (ir_attr_type)k);
    n->attrs[k].name = names[k];
  }
  /* string and uint64 tensors */
  ir_attr *a = &n->attrs[15];
  a->name = "strtensor";
  a->type = IR_ATTR_TENSOR;
  a->n = 1;
  a->tensors = test_tensors(m, 1);
  ir_string strs[2] = {test_irstr(m, "x", 1), test_irstr(m, "\"y\"\n", 4)};
  test_tensor_set(m, a->tensors, ONNXI_DTYPE_STRING, 1, (const int64_t[]){2}, strs, sizeof strs);
  a = &n->attrs[16];
  a->name = "u64";
  a->type = IR_ATTR_TENSOR;
  a->n = 1;
  a->tensors = test_tensors(m, 1);
  const uint64_t u[2] = {UINT64_MAX, 7};
  test_tensor_set(m, a->tensors, ONNXI_DTYPE_UINT64, 1, (const int64_t[]){2}, u, sizeof u);
  test_io_set(g, test_ids(m, 1, x), 1, test_ids(m, 1, y), 1);
}

/* Names that need escaping in every format, a dead node, a broken value id
 * and a value that is both a graph input and output. */
static void test_build_escape(ir_model *m) {
  test_model_init(m);
  ir_graph *g = &m->graph;
  m->path = "dir with space/we\"ird\\name.onnx";
  m->producer_name = "tab\there";
  m->producer_version = "";
  m->doc = "\x01" "control\x7f and \xe2\x82\xac euro\r\nrest";
  m->n_metadata = 2;
  m->metadata = test_alloc(m, sizeof(ir_kv) * 2);
  m->metadata[0] = (ir_kv){"key with space", "line1\nline2"};
  m->metadata[1] = (ir_kv){"", "\xff"};
  g->name = "g \"quoted\" {braces} <angle> |bar|";
  assert_int_equal(ir_graph_sym_intern(g, "batch size"), 0);
  assert_int_equal(ir_graph_sym_intern(g, "\xff\"sym"), 1);
  int32_t in = test_value(g, "in put,\"x\"\\", ONNXI_DTYPE_FLOAT, 3,
                          (const int64_t[]){SYM(0), -1, SYM(1)});
  int32_t bad = test_value(g, "\xff\xfe raw bytes", ONNXI_DTYPE_FLOAT, 2,
                           (const int64_t[]){SYM(0), 2});
  int32_t nl = test_value(g, "new\nline\ttab", ONNXI_DTYPE_UNDEFINED, -1, NULL);
  int32_t dead = test_value(g, "dead_out", ONNXI_DTYPE_FLOAT, 0, NULL);
  int32_t weird = test_value(g, "w", 99, 1, (const int64_t[]){5});
  test_node(g, "node\n1 <>{}|\"", "Mul", 2, test_ids(m, 2, in, in), 1, test_ids(m, 1, bad), 0);
  ir_node *d = test_node(g, "removed", "Neg", 1, test_ids(m, 1, bad), 1, test_ids(m, 1, dead), 0);
  d->flags |= IR_NODE_DEAD;
  test_node(g, "broken", "Foo\\Bar", 3, test_ids(m, 3, bad, 999, IR_NONE), 2,
            test_ids(m, 2, nl, weird), 0);
  test_io_set(g, test_ids(m, 1, in), 1, test_ids(m, 3, nl, in, weird), 3);
}

/* --- golden comparison --- */

static char *test_file_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n + 4096 > cap) {
      cap = cap ? cap * 2 : 8192;
      char *p = realloc(buf, cap);
      assert_non_null(p);
      buf = p;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  fclose(f);
  *len = n;
  return buf;
}

static void test_file_write(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

/* Line number of the first difference between got and want. */
static size_t test_diff_line(const char *got, size_t got_len, const char *want, size_t want_len) {
  size_t i = 0, line = 1;
  while (i < got_len && i < want_len && got[i] == want[i]) line += got[i++] == '\n';
  return line;
}

/* Compares with golden/<name>; on a mismatch keeps the actual output in the
 * build dir for `diff` and names the first differing line. */
static void test_golden_check(const char *name, const char *got, size_t got_len) {
  char path[512], actual[512];
  snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, name);
  const char *update = getenv("ONNXI_UPDATE_GOLDEN");
  if (update && strcmp(update, "1") == 0) {
    test_file_write(path, got, got_len);
    return;
  }
  size_t want_len = 0;
  char *want = test_file_read(path, &want_len);
  if (!want) {
    print_error("missing golden file %s (ONNXI_UPDATE_GOLDEN=1 creates it)\n", path);
    fail();
  }
  bool same = want_len == got_len && memcmp(want, got, got_len) == 0;
  size_t line = same ? 0 : test_diff_line(got, got_len, want, want_len);
  free(want);
  if (same) return;
  snprintf(actual, sizeof actual, "%s/%s.actual", ONNXI_BUILD_DIR, name);
  test_file_write(actual, got, got_len);
  print_error("golden %s differs from line %zu on; actual output in %s\n"
              "(ONNXI_UPDATE_GOLDEN=1 rewrites the golden files)\n",
              path, line, actual);
  fail();
}

/* Dumps in `fmt` into memory and compares with golden/<base>.<ext>. */
static void test_golden_dump(const ir_model *m, const ir_graph *g, dump_format fmt,
                             const dump_options *opts, const char *base) {
  static const char *const ext[] = {"txt", "json", "dot"};
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  onnxi_error err = {0};
  onnxi_status st = m ? dump_model(f, m, fmt, opts, &err) : dump_graph(f, g, fmt, opts, &err);
  assert_int_equal(fclose(f), 0);
  if (st != ONNXI_OK) print_error("dump: %s\n", err.message);
  assert_int_equal(st, ONNXI_OK);
  char name[256];
  snprintf(name, sizeof name, "%s.%s", base, ext[fmt]);
  test_golden_check(name, buf, len);
  free(buf);
}

static void test_golden_all(const ir_model *m, const char *base) {
  test_golden_dump(m, NULL, DUMP_FORMAT_TEXT, NULL, base);
  test_golden_dump(m, NULL, DUMP_FORMAT_JSON, NULL, base);
  test_golden_dump(m, NULL, DUMP_FORMAT_DOT, NULL, base);
}

/* --- tests --- */

static void test_dump_conv(void **state) {
  (void)state;
  ir_model m;
  test_build_conv(&m);
  test_golden_all(&m, "conv_relu_add");
  ir_model_release(&m);
}

static void test_dump_attrs(void **state) {
  (void)state;
  ir_model m;
  test_build_attrs(&m);
  test_golden_all(&m, "attrs");
  ir_model_release(&m);
}

static void test_dump_escape(void **state) {
  (void)state;
  ir_model m;
  test_build_escape(&m);
  test_golden_all(&m, "escape");
  ir_model_release(&m);
}

/* dump_graph with a title and an execution plan, as a pass or the planner
 * would print it. */
static void test_dump_plan(void **state) {
  (void)state;
  ir_model m;
  test_build_conv(&m);
  ir_graph *g = &m.graph;
  dump_buffer *bufs = test_alloc(&m, sizeof(dump_buffer) * (size_t)g->n_values);
  for (int32_t v = 0; v < g->n_values; v++) {
    bufs[v].offset = (g->values[v].flags & (IR_VALUE_CONST | IR_VALUE_INPUT | IR_VALUE_OUTPUT))
                         ? DUMP_OFFSET_NONE
                         : (size_t)(v % 2) * 1024;
    bufs[v].bytes = 1024;
  }
  const int32_t steps[] = {0, 1, 2, 3, 4, 77};
  dump_plan plan = {.steps = steps, .n_steps = 6, .buffers = bufs, .n_buffers = g->n_values,
                    .arena_bytes = 2048};
  dump_options opts = {.title = "after fuse \"all\"", .plan = &plan, .max_tensor_values = -1};
  test_golden_dump(NULL, g, DUMP_FORMAT_TEXT, &opts, "conv_plan");
  test_golden_dump(NULL, g, DUMP_FORMAT_JSON, &opts, "conv_plan");
  test_golden_dump(NULL, g, DUMP_FORMAT_DOT, &opts, "conv_plan");
  ir_model_release(&m);
}

static void test_dump_empty(void **state) {
  (void)state;
  ir_model m;
  test_model_init(&m);
  test_golden_all(&m, "empty");
  ir_model_release(&m);
}

static void test_dump_format_names(void **state) {
  (void)state;
  dump_format f = DUMP_FORMAT_TEXT;
  assert_true(dump_format_parse("json", &f));
  assert_int_equal(f, DUMP_FORMAT_JSON);
  assert_true(dump_format_parse("dot", &f));
  assert_int_equal(f, DUMP_FORMAT_DOT);
  assert_true(dump_format_parse("text", &f));
  assert_int_equal(f, DUMP_FORMAT_TEXT);
  assert_false(dump_format_parse("JSON", &f));
  assert_false(dump_format_parse("", &f));
  assert_false(dump_format_parse(NULL, &f));
  assert_string_equal(dump_format_name(DUMP_FORMAT_DOT), "dot");
}

/* A full disk is reported, not ignored. */
static void test_dump_write_error(void **state) {
  (void)state;
  FILE *f = fopen("/dev/full", "w");
  if (!f) skip();
  ir_model m;
  test_build_conv(&m);
  onnxi_error err = {0};
  for (int fmt = DUMP_FORMAT_TEXT; fmt <= DUMP_FORMAT_DOT; fmt++) {
    assert_int_equal(dump_model(f, &m, (dump_format)fmt, NULL, &err), ONNXI_ERR_IO);
    assert_non_null(strstr(err.message, "writing"));
    clearerr(f);
  }
  assert_int_equal(dump_model(f, &m, (dump_format)7, NULL, &err), ONNXI_ERR_INVALID_ARG);
  fclose(f);
  ir_model_release(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dump_conv),         cmocka_unit_test(test_dump_attrs),
      cmocka_unit_test(test_dump_escape),       cmocka_unit_test(test_dump_plan),
      cmocka_unit_test(test_dump_empty),        cmocka_unit_test(test_dump_format_names),
      cmocka_unit_test(test_dump_write_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
