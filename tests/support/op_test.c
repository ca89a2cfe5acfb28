/* Kernel test harness: builds a graph with the IR API and runs it through
 * the real executor (session create -> plan -> run). */
#include "op_test.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec.h"
#include "session_stats.h"

#define OP_TEST_MAX_ATTRS 16

static size_t op_test_elem(int32_t dtype) {
  return dtype == ONNXI_DTYPE_STRING ? sizeof(ir_string) : ir_dtype_size(dtype);
}

void op_test_init(op_test *t, int64_t opset) {
  memset(t, 0, sizeof *t);
  arena_init(&t->model.arena, 0);
  ir_graph_init(&t->model.graph, &t->model.arena);
  t->model.path = "op_test";
  t->model.ir_version = 8;
  t->model.opset = opset;
  t->model.graph.inputs = arena_alloc(&t->model.arena, sizeof(int32_t) * OP_TEST_MAX_IO, 4);
  t->model.graph.outputs = arena_alloc(&t->model.arena, sizeof(int32_t) * OP_TEST_MAX_IO, 4);
  assert_non_null(t->model.graph.inputs);
  assert_non_null(t->model.graph.outputs);
}

static void op_test_outputs_free(op_test *t) {
  for (int k = 0; k < OP_TEST_MAX_IO; k++) {
    if (t->out_data[k] && t->out_dtype[k] == ONNXI_DTYPE_STRING) {
      int64_t count = 1;
      for (int d = 0; d < t->out_rank[k]; d++) count *= t->out_dims[k][d];
      ir_string *s = t->out_data[k];
      for (int64_t i = 0; i < count; i++) free(s[i].data);
    }
    free(t->out_data[k]);
    t->out_data[k] = NULL;
  }
}

void op_test_release(op_test *t) {
  op_test_outputs_free(t);
  ir_model_release(&t->model);
}

static int op_test_value_new(op_test *t, const char *name, int32_t dtype, int rank,
                             const int64_t *dims) {
  int32_t id;
  assert_int_equal(ir_graph_value_add(&t->model.graph, name, &id, &t->err), ONNXI_OK);
  ir_value *v = &t->model.graph.values[id];
  v->dtype = dtype;
  v->shape.rank = rank;
  for (int d = 0; d < rank; d++) {
    v->shape.dims[d].value = dims[d];
    v->shape.dims[d].sym = -1;
  }
  return id;
}

static void *op_test_copy(op_test *t, int32_t dtype, int rank, const int64_t *dims,
                          const void *data, size_t *nbytes) {
  int64_t count;
  assert_true(ir_dims_count(dims, rank, &count));
  *nbytes = (size_t)count * op_test_elem(dtype);
  void *p = arena_alloc(&t->model.arena, *nbytes ? *nbytes : 1, 64);
  assert_non_null(p);
  if (*nbytes) memcpy(p, data, *nbytes);
  if (dtype == ONNXI_DTYPE_STRING) { /* deep copy so tests may pass literals */
    ir_string *s = p;
    for (int64_t i = 0; i < count; i++) {
      s[i].data = arena_strndup(&t->model.arena, s[i].data, s[i].len);
      assert_non_null(s[i].data);
    }
  }
  return p;
}

int op_test_input(op_test *t, const char *name, int32_t dtype, int rank, const int64_t *dims,
                  const void *data) {
  assert_true(t->n_inputs < OP_TEST_MAX_IO);
  int id = op_test_value_new(t, name, dtype, rank, dims);
  size_t nbytes;
  t->input_data[t->n_inputs] = op_test_copy(t, dtype, rank, dims, data, &nbytes);
  t->model.graph.values[id].flags |= IR_VALUE_INPUT;
  t->inputs[t->n_inputs++] = id;
  t->model.graph.inputs[t->model.graph.n_inputs++] = id;
  return id;
}

int op_test_const(op_test *t, const char *name, int32_t dtype, int rank, const int64_t *dims,
                  const void *data) {
  int id = op_test_value_new(t, name, dtype, rank, dims);
  ir_value *v = &t->model.graph.values[id];
  v->data = op_test_copy(t, dtype, rank, dims, data, &v->nbytes);
  v->flags |= IR_VALUE_CONST;
  return id;
}

int op_test_value(op_test *t, const char *name) {
  int32_t id;
  assert_int_equal(ir_graph_value_add(&t->model.graph, name, &id, &t->err), ONNXI_OK);
  return id;
}

void op_test_output(op_test *t, int value) {
  assert_true(t->n_outputs < OP_TEST_MAX_IO);
  t->outputs[t->n_outputs++] = value;
  t->model.graph.outputs[t->model.graph.n_outputs++] = value;
  t->model.graph.values[value].flags |= IR_VALUE_OUTPUT;
}

int op_test_node(op_test *t, const char *op_type, const int *inputs, int n_inputs,
                 const int *outputs, int n_outputs) {
  int32_t id;
  ir_graph *g = &t->model.graph;
  assert_int_equal(ir_graph_node_add(g, ir_op_from_name(op_type), op_type, n_inputs, n_outputs,
                                     OP_TEST_MAX_ATTRS, &id, &t->err),
                   ONNXI_OK);
  ir_node *n = &g->nodes[id];
  n->n_attrs = 0;
  for (int i = 0; i < n_inputs; i++) n->inputs[i] = inputs[i];
  for (int i = 0; i < n_outputs; i++) n->outputs[i] = outputs[i];
  return id;
}

static ir_attr *op_test_attr_new(op_test *t, int node, const char *name, ir_attr_type type) {
  ir_node *n = &t->model.graph.nodes[node];
  assert_true(n->n_attrs < OP_TEST_MAX_ATTRS);
  ir_attr *a = &n->attrs[n->n_attrs++];
  a->name = arena_strdup(&t->model.arena, name);
  a->type = type;
  a->n = 1;
  return a;
}

void op_test_attr_int(op_test *t, int node, const char *name, int64_t v) {
  op_test_attr_new(t, node, name, IR_ATTR_INT)->i = v;
}

void op_test_attr_float(op_test *t, int node, const char *name, float v) {
  op_test_attr_new(t, node, name, IR_ATTR_FLOAT)->f = v;
}

void op_test_attr_string(op_test *t, int node, const char *name, const char *v) {
  ir_attr *a = op_test_attr_new(t, node, name, IR_ATTR_STRING);
  a->s.len = strlen(v);
  a->s.data = arena_strdup(&t->model.arena, v);
}

void op_test_attr_ints(op_test *t, int node, const char *name, int n, const int64_t *v) {
  ir_attr *a = op_test_attr_new(t, node, name, IR_ATTR_INTS);
  a->n = n;
  a->ints = arena_alloc(&t->model.arena, sizeof(int64_t) * (size_t)(n ? n : 1), 8);
  if (n) memcpy(a->ints, v, sizeof(int64_t) * (size_t)n);
}

void op_test_attr_floats(op_test *t, int node, const char *name, int n, const float *v) {
  ir_attr *a = op_test_attr_new(t, node, name, IR_ATTR_FLOATS);
  a->n = n;
  a->floats = arena_alloc(&t->model.arena, sizeof(float) * (size_t)(n ? n : 1), 8);
  if (n) memcpy(a->floats, v, sizeof(float) * (size_t)n);
}

void op_test_attr_tensor(op_test *t, int node, const char *name, int32_t dtype, int rank,
                         const int64_t *dims, const void *data) {
  ir_attr *a = op_test_attr_new(t, node, name, IR_ATTR_TENSOR);
  a->tensors = arena_alloc(&t->model.arena, sizeof(ir_tensor), 8);
  ir_tensor *x = a->tensors;
  x->dtype = dtype;
  x->rank = rank;
  memcpy(x->dims, dims, sizeof(int64_t) * (size_t)rank);
  assert_true(ir_dims_count(dims, rank, &x->count));
  x->data = op_test_copy(t, dtype, rank, dims, data, &x->nbytes);
}

static void op_test_output_keep(op_test *t, int k, const op_tensor *o) {
  t->out_dtype[k] = o->dtype;
  t->out_rank[k] = o->rank;
  memcpy(t->out_dims[k], o->dims, sizeof(int64_t) * (size_t)o->rank);
  t->out_data[k] = malloc(o->nbytes ? o->nbytes : 1);
  assert_non_null(t->out_data[k]);
  if (o->nbytes) memcpy(t->out_data[k], o->data, o->nbytes);
  if (o->dtype == ONNXI_DTYPE_STRING) {
    ir_string *s = t->out_data[k];
    for (int64_t i = 0; i < o->count; i++) {
      char *c = malloc(s[i].len + 1);
      assert_non_null(c);
      if (s[i].len) memcpy(c, s[i].data, s[i].len);
      c[s[i].len] = '\0';
      s[i].data = c;
    }
  }
}

static void op_test_paths_keep(op_test *t, const exec_session *s) {
  t->steps = exec_session_step_count(s);
  t->conv_in_place = 0;
  size_t len = 0;
  t->paths[0] = '\0';
  for (int32_t i = 0; i < t->steps; i++) {
    exec_step_info info = {.path = ""};
    exec_step_describe(s, i, &info);
    t->conv_in_place += info.in_place && !strncmp(info.op, "Conv", 4);
    if (!*info.path) continue;
    int n = snprintf(t->paths + len, sizeof t->paths - len, "%s%s", len ? "," : "", info.path);
    if (n < 0 || (size_t)n >= sizeof t->paths - len) break;
    len += (size_t)n;
  }
}

onnxi_status op_test_run(op_test *t, int threads) {
  op_test_outputs_free(t);
  err_clear(&t->err);
  exec_session *s = NULL;
  onnxi_status st = ir_graph_sort(&t->model.graph, &t->err);
  if (st == ONNXI_OK) st = exec_session_create(&t->model, threads, &s, &t->err);
  int32_t ranks[OP_TEST_MAX_IO];
  int64_t dims[OP_TEST_MAX_IO][IR_MAX_RANK];
  for (int i = 0; i < t->n_inputs; i++) {
    const ir_value *v = &t->model.graph.values[t->inputs[i]];
    ranks[i] = v->shape.rank;
    for (int d = 0; d < v->shape.rank; d++) dims[i][d] = v->shape.dims[d].value;
  }
  if (st == ONNXI_OK)
    st = exec_session_prepare(s, ranks, (const int64_t(*)[IR_MAX_RANK])dims, t->input_data, &t->err);
  if (st == ONNXI_OK) op_test_paths_keep(t, s);
  if (st == ONNXI_OK) st = exec_session_run(s, t->input_data, &t->err);
  for (int k = 0; st == ONNXI_OK && k < t->n_outputs; k++)
    op_test_output_keep(t, k, exec_session_output(s, k));
  exec_session_free(s);
  return st;
}

static double op_test_float_at(int32_t dtype, const void *p, int64_t i) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: return ((const float *)p)[i];
  case ONNXI_DTYPE_DOUBLE: return ((const double *)p)[i];
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(((const uint16_t *)p)[i]);
  case ONNXI_DTYPE_BFLOAT16: return op_bf16_to_f32(((const uint16_t *)p)[i]);
  default: return 0;
  }
}

void op_test_expect(op_test *t, int k, int32_t dtype, int rank, const int64_t *dims,
                    const void *want, double rtol, double atol) {
  assert_true(k < t->n_outputs);
  assert_non_null(t->out_data[k]);
  assert_int_equal(t->out_dtype[k], dtype);
  assert_int_equal(t->out_rank[k], rank);
  int64_t count = 1;
  for (int d = 0; d < rank; d++) {
    if (t->out_dims[k][d] != dims[d])
      fail_msg("output %d dim %d: got %lld, want %lld", k, d, (long long)t->out_dims[k][d],
               (long long)dims[d]);
    count *= dims[d];
  }
  bool is_float = dtype == ONNXI_DTYPE_FLOAT || dtype == ONNXI_DTYPE_DOUBLE ||
                  dtype == ONNXI_DTYPE_FLOAT16 || dtype == ONNXI_DTYPE_BFLOAT16;
  for (int64_t i = 0; i < count; i++) {
    if (is_float) {
      double g = op_test_float_at(dtype, t->out_data[k], i), w = op_test_float_at(dtype, want, i);
      if (isnan(g) && isnan(w)) continue;
      if (isinf(w) && g == w) continue;
      if (!(fabs(g - w) <= atol + rtol * fabs(w)))
        fail_msg("output %d element %lld: got %.9g, want %.9g", k, (long long)i, g, w);
    } else if (dtype == ONNXI_DTYPE_STRING) {
      const ir_string *g = &((const ir_string *)t->out_data[k])[i];
      const ir_string *w = &((const ir_string *)want)[i];
      if (g->len != w->len || memcmp(g->data, w->data, g->len) != 0)
        fail_msg("output %d element %lld: got '%.*s', want '%.*s'", k, (long long)i,
                 (int)g->len, g->data, (int)w->len, w->data);
    } else {
      size_t e = ir_dtype_size(dtype);
      if (memcmp((const char *)t->out_data[k] + (size_t)i * e, (const char *)want + (size_t)i * e, e) != 0)
        fail_msg("output %d element %lld differs", k, (long long)i);
    }
  }
}
