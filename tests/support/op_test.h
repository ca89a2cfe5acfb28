/* One-node (or few-node) graph harness for kernel tests: build a graph with
 * the IR API, run it through the real executor, compare outputs.
 *
 *   op_test t;
 *   op_test_init(&t, 13);                              // opset
 *   int x = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 4, (int64_t[]){1,1,3,3}, xdata);
 *   int w = op_test_const(&t, "W", ONNXI_DTYPE_FLOAT, 4, (int64_t[]){1,1,2,2}, wdata);
 *   int y = op_test_value(&t, "Y");
 *   int n = op_test_node(&t, "Conv", (int[]){x, w}, 2, (int[]){y}, 1);
 *   op_test_attr_ints(&t, n, "pads", 4, (int64_t[]){1,1,1,1});
 *   op_test_output(&t, y);
 *   assert_int_equal(op_test_run(&t, 1), ONNXI_OK);   // threads; t.err has the message
 *   op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 4, (int64_t[]){1,1,4,4}, expected, 1e-5, 1e-6);
 *   op_test_release(&t);
 *
 * Inputs are graph inputs (fed at run time) unless added with op_test_const
 * (initializers). An omitted optional input is IR_NONE in the input list. */
#ifndef ONNXI_OP_TEST_H
#define ONNXI_OP_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"
#include "onnxi.h"

#define OP_TEST_MAX_IO 16

typedef struct op_test {
  ir_model model;
  int n_inputs;
  int32_t inputs[OP_TEST_MAX_IO];
  const void *input_data[OP_TEST_MAX_IO];
  int n_outputs;
  int32_t outputs[OP_TEST_MAX_IO];
  /* results of op_test_run, owned by the harness */
  int32_t out_dtype[OP_TEST_MAX_IO];
  int out_rank[OP_TEST_MAX_IO];
  int64_t out_dims[OP_TEST_MAX_IO][ONNXI_MAX_RANK];
  void *out_data[OP_TEST_MAX_IO];
  int steps; /* steps of the plan op_test_run ran (fusions show as fewer) */
  char paths[256]; /* their kernel paths, comma-separated ("own-igemm,...") */
  int conv_in_place; /* Conv steps writing over an input (a folded residual) */
  onnxi_error err;
} op_test;

void op_test_init(op_test *t, int64_t opset);
void op_test_release(op_test *t);
/* Each returns the new value id. Data is copied. */
int op_test_input(op_test *t, const char *name, int32_t dtype, int rank, const int64_t *dims,
                  const void *data);
int op_test_const(op_test *t, const char *name, int32_t dtype, int rank, const int64_t *dims,
                  const void *data);
int op_test_value(op_test *t, const char *name);
void op_test_output(op_test *t, int value);
/* Returns the node id. */
int op_test_node(op_test *t, const char *op_type, const int *inputs, int n_inputs,
                 const int *outputs, int n_outputs);
void op_test_attr_int(op_test *t, int node, const char *name, int64_t v);
void op_test_attr_float(op_test *t, int node, const char *name, float v);
void op_test_attr_string(op_test *t, int node, const char *name, const char *v);
void op_test_attr_ints(op_test *t, int node, const char *name, int n, const int64_t *v);
void op_test_attr_floats(op_test *t, int node, const char *name, int n, const float *v);
void op_test_attr_tensor(op_test *t, int node, const char *name, int32_t dtype, int rank,
                         const int64_t *dims, const void *data);

/* Loads the graph into a session (all load-time checks), plans and runs it
 * once with `threads` threads. Returns the status; t->err holds the message. */
onnxi_status op_test_run(op_test *t, int threads);
/* cmocka-asserts output k's dtype, shape, and values: floats within
 * |got - want| <= atol + rtol * |want| (NaN == NaN), other dtypes exactly. */
void op_test_expect(op_test *t, int k, int32_t dtype, int rank, const int64_t *dims,
                    const void *want, double rtol, double atol);

#endif
