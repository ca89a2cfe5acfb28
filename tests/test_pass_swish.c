/* The swish pass: x*Sigmoid(x) -> onnxi.Swish, x*HardSigmoid(x) -> HardSwish
 * or onnxi.MulHardSigmoid; outputs checked against double-precision formulas
 * and against the unfused graph, and the graphs it must leave alone. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"
#include "pass.h"

#define N 40

static float x_data[N];
static const int64_t x_dims[4] = {1, 5, 2, 4};

static void fill(void) {
  for (int i = 0; i < N; i++) x_data[i] = -12.0f + 0.61f * (float)i; /* both tails and 0 */
}

static int count_op(const op_test *t, ir_op op) {
  int n = 0;
  for (int32_t i = 0; i < t->model.graph.n_nodes; i++) n += t->model.graph.nodes[i].op == op;
  return n;
}

/* x -> gate(x) -> Mul(x, gate) (operands swapped when `swap`). */
static int build(op_test *t, const char *gate, bool swap, float alpha, float beta, int *gate_out) {
  fill();
  op_test_init(t, 13);
  int x = op_test_input(t, "x", ONNXI_DTYPE_FLOAT, 4, x_dims, x_data);
  int gv = op_test_value(t, "gate"), y = op_test_value(t, "y");
  int gn = op_test_node(t, gate, (int[]){x}, 1, (int[]){gv}, 1);
  if (alpha > 0) {
    op_test_attr_float(t, gn, "alpha", alpha);
    op_test_attr_float(t, gn, "beta", beta);
  }
  op_test_node(t, "Mul", swap ? (int[]){gv, x} : (int[]){x, gv}, 2, (int[]){y}, 1);
  if (gate_out) *gate_out = gv;
  return y;
}

/* Unfused run against `want`, then passes, then the same again. */
static void run_both(op_test *t, int want_nodes, const float *want) {
  assert_int_equal(op_test_run(t, 1), ONNXI_OK);
  if (want) op_test_expect(t, 0, ONNXI_DTYPE_FLOAT, 4, x_dims, want, 1e-5, 1e-7);
  float before[N];
  memcpy(before, t->out_data[0], sizeof before);
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t->model, NULL, NULL, &err), ONNXI_OK);
  assert_int_equal(t->model.graph.n_nodes, want_nodes);
  assert_int_equal(op_test_run(t, 1), ONNXI_OK);
  op_test_expect(t, 0, ONNXI_DTYPE_FLOAT, 4, x_dims, before, 1e-5, 1e-7);
  if (want) op_test_expect(t, 0, ONNXI_DTYPE_FLOAT, 4, x_dims, want, 1e-5, 1e-7);
}

static void test_silu_both_orders(void **state) {
  (void)state;
  float want[N];
  fill();
  for (int i = 0; i < N; i++) want[i] = (float)((double)x_data[i] / (1 + exp(-(double)x_data[i])));
  for (int swap = 0; swap < 2; swap++) {
    op_test t;
    int y = build(&t, "Sigmoid", swap, 0, 0, NULL);
    op_test_output(&t, y);
    run_both(&t, 1, want);
    assert_int_equal(t.model.graph.nodes[0].op, IR_OP_SWISH);
    op_test_release(&t);
  }
}

static void test_hard_swish_constants_become_hardswish(void **state) {
  (void)state;
  float want[N];
  fill();
  for (int i = 0; i < N; i++) {
    double x = x_data[i], g = x / 6 + 0.5;
    want[i] = (float)(x * (g < 0 ? 0 : g > 1 ? 1 : g));
  }
  op_test t;
  int y = build(&t, "HardSigmoid", false, 1.0f / 6.0f, 0.5f, NULL);
  op_test_output(&t, y);
  run_both(&t, 1, want);
  assert_int_equal(t.model.graph.nodes[0].op, IR_OP_HARD_SWISH);
  op_test_release(&t);
}

static void test_other_hard_sigmoid_keeps_its_constants(void **state) {
  (void)state;
  float want[N];
  fill();
  for (int i = 0; i < N; i++) {
    double x = x_data[i], g = 0.3 * x + 0.4;
    want[i] = (float)(x * (g < 0 ? 0 : g > 1 ? 1 : g));
  }
  op_test t;
  int y = build(&t, "HardSigmoid", true, 0.3f, 0.4f, NULL);
  op_test_output(&t, y);
  run_both(&t, 1, want);
  assert_int_equal(t.model.graph.nodes[0].op, IR_OP_MUL_HARD_SIGMOID);
  op_test_release(&t);
}

static void test_gate_read_elsewhere_is_left_alone(void **state) {
  (void)state;
  op_test t;
  int gate;
  int y = build(&t, "Sigmoid", false, 0, 0, &gate);
  op_test_output(&t, y);
  op_test_output(&t, gate);
  run_both(&t, 2, NULL);
  assert_int_equal(count_op(&t, IR_OP_SWISH), 0);
  op_test_release(&t);
}

/* Mul(z, Sigmoid(x)) with z != x is a gate (SE block), not a swish. */
static void test_gate_of_another_tensor_is_left_alone(void **state) {
  (void)state;
  fill();
  op_test t;
  op_test_init(&t, 13);
  int x = op_test_input(&t, "x", ONNXI_DTYPE_FLOAT, 4, x_dims, x_data);
  int z = op_test_value(&t, "z"), gv = op_test_value(&t, "gate"), y = op_test_value(&t, "y");
  op_test_node(&t, "Relu", (int[]){x}, 1, (int[]){z}, 1);
  op_test_node(&t, "Sigmoid", (int[]){x}, 1, (int[]){gv}, 1);
  op_test_node(&t, "Mul", (int[]){z, gv}, 2, (int[]){y}, 1);
  op_test_output(&t, y);
  run_both(&t, 3, NULL);
  assert_int_equal(count_op(&t, IR_OP_SWISH), 0);
  op_test_release(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_silu_both_orders),
      cmocka_unit_test(test_hard_swish_constants_become_hardswish),
      cmocka_unit_test(test_other_hard_sigmoid_keeps_its_constants),
      cmocka_unit_test(test_gate_read_elsewhere_is_left_alone),
      cmocka_unit_test(test_gate_of_another_tensor_is_left_alone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
