/* Dead-node removal: an unread chain vanishes, graph outputs and everything
 * feeding them stay, and the result is unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"
#include "pass.h"

static void test_unread_chain_removed(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 13);
  const float x[4] = {1, -2, 3, -4}, want[4] = {1, 0, 3, 0};
  int xi = op_test_input(&t, "x", ONNXI_DTYPE_FLOAT, 1, (const int64_t[]){4}, x);
  int y = op_test_value(&t, "y"), a = op_test_value(&t, "a"), b = op_test_value(&t, "b");
  int c = op_test_value(&t, "c");
  op_test_node(&t, "Sigmoid", (int[]){xi}, 1, (int[]){a}, 1); /* a -> b, both unread */
  op_test_node(&t, "Neg", (int[]){a}, 1, (int[]){b}, 1);
  op_test_node(&t, "Relu", (int[]){xi}, 1, (int[]){y}, 1);
  op_test_node(&t, "Abs", (int[]){xi}, 1, (int[]){c}, 1); /* read by nothing but a graph output */
  op_test_output(&t, y);
  op_test_output(&t, c);
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t.model, "identity,fold,bn-fold,act-fuse,shuffle,shuffle-split,swish",
                              NULL, &err), ONNXI_OK);
  assert_int_equal(t.model.graph.n_nodes, 2);
  assert_int_equal(t.model.graph.nodes[0].op, IR_OP_RELU);
  assert_int_equal(t.model.graph.nodes[1].op, IR_OP_ABS);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 1, (const int64_t[]){4}, want, 0, 0);
  op_test_expect(&t, 1, ONNXI_DTYPE_FLOAT, 1, (const int64_t[]){4}, (const float[]){1, 2, 3, 4}, 0, 0);
  op_test_release(&t);
}

static void test_disabled_keeps_them(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 13);
  const float x[2] = {1, -2};
  int xi = op_test_input(&t, "x", ONNXI_DTYPE_FLOAT, 1, (const int64_t[]){2}, x);
  int y = op_test_value(&t, "y"), a = op_test_value(&t, "a");
  op_test_node(&t, "Sigmoid", (int[]){xi}, 1, (int[]){a}, 1);
  op_test_node(&t, "Relu", (int[]){xi}, 1, (int[]){y}, 1);
  op_test_output(&t, y);
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t.model, "dce", NULL, &err), ONNXI_OK);
  assert_int_equal(t.model.graph.n_nodes, 2);
  op_test_release(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unread_chain_removed),
      cmocka_unit_test(test_disabled_keeps_them),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
