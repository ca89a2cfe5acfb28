/* NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss against ONNX's own numpy
 * reference functions (onnx/backend/test/case/node/negativeloglikelihoodloss.py and
 * softmaxcrossentropy.py, run with python3-onnx 1.12): reductions, weights,
 * ignore_index, [N, C, D] inputs, the log_prob output, and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"
#include "test_literals.h"

static const float x23[] = {0.5f, -1, 2, 1.5f, 0.25f, -3};
/* np.arange(12).reshape(2, 3, 2) / 4 - 1 */
static const float x322[] = {-1, -0.75f, -0.5f, -0.25f, 0, 0.25f, 0.5f, 0.75f, 1, 1.25f, 1.5f, 1.75f};

/* op(X, T[, W]) -> outputs; returns the node. */
static int build(op_test *t, const char *op, tin x, tin target, const float *w, int n_out) {
  op_test_init(t, 13);
  int in[3], out[2];
  in[0] = op_test_input(t, "X", x.dtype, x.rank, x.dims, x.data);
  in[1] = op_test_input(t, "T", target.dtype, target.rank, target.dims, target.data);
  if (w) in[2] = op_test_const(t, "W", FLOAT, 1, D(3), w);
  out[0] = op_test_value(t, "L");
  out[1] = op_test_value(t, "P");
  int n = op_test_node(t, op, in, w ? 3 : 2, out, n_out);
  for (int k = 0; k < n_out; k++) op_test_output(t, out[k]);
  return n;
}

static void run_ok(op_test *t) {
  if (op_test_run(t, 1) != ONNXI_OK) fail_msg("run failed: %s", t->err.message);
}

static void test_nll(void **state) {
  (void)state;
  op_test t;
  const float *w = F32(0.5f, 2, 4);
  int n = build(&t, "NegativeLogLikelihoodLoss", IN(FLOAT, 2, D(2, 3), x23),
                IN(INT64, 1, D(2), I64(2, 0)), NULL, 1);
  op_test_attr_string(&t, n, "reduction", "none");
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 1, D(2), F32(-2, -1.5f), 1e-6, 0);
  op_test_release(&t);
  n = build(&t, "NegativeLogLikelihoodLoss", IN(FLOAT, 2, D(2, 3), x23),
            IN(INT32, 1, D(2), I32(2, 0)), w, 1);
  op_test_attr_string(&t, n, "reduction", "sum");
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 0, NONE, F32(-8.75f), 1e-6, 0);
  op_test_release(&t);
  build(&t, "NegativeLogLikelihoodLoss", IN(FLOAT, 2, D(2, 3), x23), IN(INT64, 1, D(2), I64(2, 0)),
        w, 1); /* mean = sum(w * loss) / sum(w) */
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 0, NONE, F32(-1.94444442f), 1e-6, 0);
  op_test_release(&t);
  n = build(&t, "NegativeLogLikelihoodLoss", IN(FLOAT, 3, D(2, 3, 2), x322),
            IN(INT64, 2, D(2, 2), I64(0, 2, 1, 1)), NULL, 1);
  op_test_attr_int(&t, n, "ignore_index", 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 0, NONE, F32(0.375f), 1e-6, 0);
  op_test_release(&t);
}

static void test_sce(void **state) {
  (void)state;
  op_test t;
  build(&t, "SoftmaxCrossEntropyLoss", IN(FLOAT, 2, D(2, 3), x23), IN(INT64, 1, D(2), I64(2, 0)),
        NULL, 2);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 0, NONE, F32(0.250919133f), 1e-6, 0);
  op_test_expect(&t, 1, FLOAT, 2, D(2, 3),
                 F32(-1.74131143f, -3.24131131f, -0.241311327f, -0.260526955f, -1.51052701f,
                     -4.76052713f),
                 1e-6, 0);
  op_test_release(&t);
  int n = build(&t, "SoftmaxCrossEntropyLoss", IN(FLOAT, 3, D(2, 3, 2), x322),
                IN(INT64, 2, D(2, 2), I64(0, 2, 1, 1)), F32(0.5f, 2, 4), 1);
  op_test_attr_string(&t, n, "reduction", "none");
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), F32(0.840134859f, 2.72107863f, 2.3605392f, 2.3605392f),
                 1e-6, 0);
  op_test_release(&t);
}

static void expect_error(op_test *t, onnxi_status want, const char *needle) {
  assert_int_equal(op_test_run(t, 1), want);
  if (!strstr(t->err.message, needle)) fail_msg("message '%s' lacks '%s'", t->err.message, needle);
  op_test_release(t);
}

static void test_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, "NegativeLogLikelihoodLoss", IN(FLOAT, 2, D(2, 3), x23), IN(INT64, 1, D(2), I64(3, 0)),
        NULL, 1);
  expect_error(&t, ONNXI_ERR_RUNTIME, "target 3 (at 0) is not a class in [0, 3)");
  build(&t, "NegativeLogLikelihoodLoss", IN(FLOAT, 2, D(2, 3), x23), IN(INT64, 1, D(3), I64(0, 0, 0)),
        NULL, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'target' must have the input's shape");
  int n = build(&t, "SoftmaxCrossEntropyLoss", IN(FLOAT, 2, D(2, 3), x23),
                IN(INT64, 1, D(2), I64(0, 0)), NULL, 1);
  op_test_attr_string(&t, n, "reduction", "max");
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'reduction'");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nll),
      cmocka_unit_test(test_sce),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
