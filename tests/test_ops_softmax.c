/* Softmax and LogSoftmax through the real executor: numpy-computed small
 * cases, huge inputs (max subtraction), both opset semantics (coerce to 2-D
 * before 13, single axis from 13) on every axis of a 3-D tensor against a
 * double-precision reference, double / float16 / bfloat16, long rows (the
 * XNNPACK path and ours), NHWC inputs produced by a Conv, 1 and 2 threads,
 * and errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel.h"
#include "op_test.h"
#include "test_literals.h"

/* X -> op(axis) -> Y; axis INT64_MIN = attribute absent. */
static void build(op_test *t, int64_t opset, const char *op, int64_t axis, int32_t dtype, int rank,
                  const int64_t *dims, const void *x) {
  op_test_init(t, opset);
  int xi = op_test_input(t, "X", dtype, rank, dims, x);
  int y = op_test_value(t, "Y");
  int n = op_test_node(t, op, &xi, 1, &y, 1);
  if (axis != INT64_MIN) op_test_attr_int(t, n, "axis", axis);
  op_test_output(t, y);
}

static void check(int64_t opset, const char *op, int64_t axis, int rank, const int64_t *dims,
                  const float *x, const float *want, double rtol, double atol) {
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    build(&t, opset, op, axis, ONNXI_DTYPE_FLOAT, rank, dims, x);
    if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s: %s", op, t.err.message);
    op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, rank, dims, want, rtol, atol);
    op_test_release(&t);
  }
}

static void expect_error(op_test *t, onnxi_status want, const char *needle) {
  assert_int_equal(op_test_run(t, 1), want);
  if (!strstr(t->err.message, needle)) fail_msg("message '%s' lacks '%s'", t->err.message, needle);
  op_test_release(t);
}

/* Double-precision reference: groups of n values `inner` apart. Legacy
 * (opset < 13) flattens [axis, rank) into one row. */
static void ref_softmax(const float *x, float *y, int rank, const int64_t *dims, int axis,
                        bool legacy, bool lg) {
  size_t outer = 1, n = 1, inner = 1;
  for (int d = 0; d < rank; d++) {
    if (d < axis)
      outer *= (size_t)dims[d];
    else if (d == axis || legacy)
      n *= (size_t)dims[d];
    else
      inner *= (size_t)dims[d];
  }
  for (size_t o = 0; o < outer; o++) {
    for (size_t i = 0; i < inner; i++) {
      const float *xs = x + o * n * inner + i;
      float *ys = y + o * n * inner + i;
      double m = -INFINITY, sum = 0;
      for (size_t k = 0; k < n; k++) m = fmax(m, xs[k * inner]);
      for (size_t k = 0; k < n; k++) sum += exp(xs[k * inner] - m);
      for (size_t k = 0; k < n; k++)
        ys[k * inner] = (float)(lg ? (xs[k * inner] - m) - log(sum) : exp(xs[k * inner] - m) / sum);
    }
  }
}

static void fill(float *x, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    x[i] = (float)((seed >> 8) % 20000) / 1000.0f - 10.0f;
  }
}

/* --- numpy cases --- */

static void test_small(void **state) {
  (void)state;
  const float x[6] = {1, 2, 3, -1, 0, 10};
  check(13, "Softmax", INT64_MIN, 2, D(2, 3), x,
        F32(0.0900305733f, 0.244728476f, 0.665240943f, 1.67006638e-05f, 4.53971115e-05f,
            0.999937892f),
        1e-5, 1e-7);
  check(13, "LogSoftmax", INT64_MIN, 2, D(2, 3), x,
        F32(-2.40760589f, -1.40760601f, -0.407605976f, -11.000062f, -10.000062f, -6.20997016e-05f),
        1e-5, 1e-6);
  check(13, "Softmax", 0, 2, D(2, 3), x,
        F32(0.880797088f, 0.880797088f, 0.000911051175f, 0.119202919f, 0.119202919f, 0.999088943f),
        1e-5, 1e-7);
  /* opset 11, default axis 1 on 2-D is the same as the last axis */
  check(11, "Softmax", INT64_MIN, 2, D(2, 3), x,
        F32(0.0900305733f, 0.244728476f, 0.665240943f, 1.67006638e-05f, 4.53971115e-05f,
            0.999937892f),
        1e-5, 1e-7);
}

static void test_large_numbers(void **state) {
  (void)state;
  const float x[8] = {0, 1, 2, 3, 10000, 10001, 10002, 10003};
  check(13, "Softmax", -1, 2, D(2, 4), x,
        F32(0.0320586041f, 0.0871443152f, 0.236882821f, 0.643914282f, 0.0320586041f, 0.0871443152f,
            0.236882821f, 0.643914282f),
        1e-5, 1e-7);
  check(13, "LogSoftmax", -1, 2, D(2, 4), x,
        F32(-3.4401896f, -2.4401896f, -1.44018972f, -0.440189689f, -3.4401896f, -2.4401896f,
            -1.44018972f, -0.440189689f),
        1e-5, 1e-6);
  /* same along axis 0 (our strided kernel) */
  const float xt[8] = {0, 10000, 1, 10001, 2, 10002, 3, 10003};
  check(13, "Softmax", 0, 2, D(4, 2), xt,
        F32(0.0320586041f, 0.0320586041f, 0.0871443152f, 0.0871443152f, 0.236882821f, 0.236882821f,
            0.643914282f, 0.643914282f),
        1e-5, 1e-7);
}

/* --- every axis, both semantics, against the reference --- */

static void test_axes_opsets(void **state) {
  (void)state;
  enum { N = 2 * 3 * 40 };
  const int64_t *dims = D(2, 3, 40); /* inner 40 = two full 16-wide tiles + 8 */
  float x[N], want[N];
  fill(x, N, 7);
  for (int lg = 0; lg <= 1; lg++) {
    const char *op = lg ? "LogSoftmax" : "Softmax";
    for (int64_t opset = 11; opset <= 13; opset += 2) {
      for (int64_t axis = -3; axis < 3; axis++) {
        int a = (int)(axis < 0 ? axis + 3 : axis);
        ref_softmax(x, want, 3, dims, a, opset < 13, lg);
        check(opset, op, axis, 3, dims, x, want, 2e-6, 1e-6);
      }
    }
    /* defaults: axis 1 before 13, -1 from 13 */
    ref_softmax(x, want, 3, dims, 1, true, lg);
    check(11, op, INT64_MIN, 3, dims, x, want, 2e-6, 1e-6);
    ref_softmax(x, want, 3, dims, 2, false, lg);
    check(13, op, INT64_MIN, 3, dims, x, want, 2e-6, 1e-6);
  }
}

/* Long rows (XNNPACK for Softmax float32) and many groups (thread pool). */
static void test_long(void **state) {
  (void)state;
  static const int64_t shapes[][3] = {{3, 1, 1001}, {16, 300, 40}, {1, 5000, 3}};
  static const int axes[] = {2, 1, 1};
  for (int s = 0; s < 3; s++) {
    size_t n = (size_t)(shapes[s][0] * shapes[s][1] * shapes[s][2]);
    float *x = malloc(n * sizeof(float)), *want = malloc(n * sizeof(float));
    assert_non_null(x);
    assert_non_null(want);
    fill(x, n, 99 + (unsigned)s);
    for (int lg = 0; lg <= 1; lg++) {
      ref_softmax(x, want, 3, shapes[s], axes[s], false, lg);
      check(13, lg ? "LogSoftmax" : "Softmax", axes[s], 3, shapes[s], x, want, 1e-5, 1e-7);
    }
    free(x);
    free(want);
  }
}

static void test_dtypes(void **state) {
  (void)state;
  const double xd[6] = {1, 2, 3, -1, 0, 10};
  double wd[6];
  for (int r = 0; r < 2; r++) {
    double m = fmax(fmax(xd[3 * r], xd[3 * r + 1]), xd[3 * r + 2]), sum = 0;
    for (int k = 0; k < 3; k++) sum += exp(xd[3 * r + k] - m);
    for (int k = 0; k < 3; k++) wd[3 * r + k] = exp(xd[3 * r + k] - m) / sum;
  }
  op_test t;
  build(&t, 13, "Softmax", -1, ONNXI_DTYPE_DOUBLE, 2, D(2, 3), xd);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_DOUBLE, 2, D(2, 3), wd, 1e-14, 1e-300);
  op_test_release(&t);
  uint16_t xh[6], wh[6], xb[6], wb[6];
  for (int i = 0; i < 6; i++) {
    xh[i] = op_f32_to_f16((float)xd[i]), wh[i] = op_f32_to_f16((float)wd[i]);
    xb[i] = op_f32_to_bf16((float)xd[i]), wb[i] = op_f32_to_bf16((float)wd[i]);
  }
  build(&t, 13, "Softmax", 1, ONNXI_DTYPE_FLOAT16, 2, D(2, 3), xh);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT16, 2, D(2, 3), wh, 1e-3, 1e-6);
  op_test_release(&t);
  build(&t, 13, "Softmax", 1, ONNXI_DTYPE_BFLOAT16, 2, D(2, 3), xb);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_BFLOAT16, 2, D(2, 3), wb, 1e-2, 1e-5);
  op_test_release(&t);
}

/* Conv (1x1, identity weights) hands Softmax an NHWC tensor: the channel
 * axis is innermost in storage; other axes and the legacy 2-D view must
 * still follow the logical NCHW meaning. */
static void test_nhwc(void **state) {
  (void)state;
  enum { C = 5, H = 3, W = 4, N = C * H * W };
  const int64_t *dims = D(1, C, H, W);
  float x[N], want[N], w[C * C] = {0};
  fill(x, N, 3);
  for (int c = 0; c < C; c++) w[c * C + c] = 1;
  static const struct {
    int64_t opset, axis;
  } cases[] = {{13, 1}, {13, 2}, {13, 3}, {13, -1}, {11, 1}, {11, 2}, {11, 0}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    for (int lg = 0; lg <= 1; lg++) {
      int a = (int)(cases[c].axis < 0 ? cases[c].axis + 4 : cases[c].axis);
      ref_softmax(x, want, 4, dims, a, cases[c].opset < 13, lg);
      for (int threads = 1; threads <= 2; threads++) {
        op_test t;
        op_test_init(&t, cases[c].opset);
        int xi = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 4, dims, x);
        int wi = op_test_const(&t, "W", ONNXI_DTYPE_FLOAT, 4, D(C, C, 1, 1), w);
        int ci = op_test_value(&t, "conv"), y = op_test_value(&t, "Y");
        op_test_node(&t, "Conv", (int[]){xi, wi}, 2, &ci, 1);
        int n = op_test_node(&t, lg ? "LogSoftmax" : "Softmax", &ci, 1, &y, 1);
        op_test_attr_int(&t, n, "axis", cases[c].axis);
        op_test_output(&t, y);
        if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s", t.err.message);
        op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 4, dims, want, 1e-5, 1e-6);
        op_test_release(&t);
      }
    }
  }
}

/* X -> Neg -> Softmax (XNNPACK) -> LogSoftmax (ours) -> Y: intermediates may
 * be computed in place. */
static void test_chain(void **state) {
  (void)state;
  enum { N = 4 * 37 };
  float x[N], nx[N], p[N], want[N];
  fill(x, N, 11);
  for (int i = 0; i < N; i++) nx[i] = -x[i];
  ref_softmax(nx, p, 2, D(4, 37), 1, false, false);
  ref_softmax(p, want, 2, D(4, 37), 1, false, true);
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    op_test_init(&t, 13);
    int xi = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 2, D(4, 37), x);
    int a = op_test_value(&t, "A"), b = op_test_value(&t, "B"), y = op_test_value(&t, "Y");
    op_test_node(&t, "Neg", &xi, 1, &a, 1);
    op_test_node(&t, "Softmax", &a, 1, &b, 1);
    op_test_node(&t, "LogSoftmax", &b, 1, &y, 1);
    op_test_output(&t, y);
    assert_int_equal(op_test_run(&t, threads), ONNXI_OK);
    op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 2, D(4, 37), want, 1e-5, 1e-5);
    op_test_release(&t);
  }
}

static void test_empty(void **state) {
  (void)state;
  op_test t;
  /* groups of one element */
  check(13, "Softmax", -1, 2, D(3, 1), F32(-5, 0, 7), F32(1, 1, 1), 0, 0);
  check(13, "LogSoftmax", 0, 2, D(1, 3), F32(-5, 0, 7), F32(0, 0, 0), 0, 0);
  build(&t, 13, "Softmax", -1, ONNXI_DTYPE_FLOAT, 2, D(0, 3), F32(0));
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 2, D(0, 3), NULL, 0, 0);
  op_test_release(&t);
}

static void test_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Softmax", 2, ONNXI_DTYPE_FLOAT, 2, D(2, 3), F32(1, 2, 3, 4, 5, 6));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'axis' 2 is out of range for rank 2");
  build(&t, 11, "LogSoftmax", -3, ONNXI_DTYPE_FLOAT, 2, D(2, 3), F32(1, 2, 3, 4, 5, 6));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "(LogSoftmax): attribute 'axis' -3");
  build(&t, 13, "Softmax", -1, ONNXI_DTYPE_INT32, 1, D(2), I32(1, 2));
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "input dtype int32 is not supported");
  build(&t, 13, "Softmax", -1, ONNXI_DTYPE_FLOAT, 0, NULL, F32(1));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "rank >= 1");
}

/* --- Hardmax: one-hot of np.argmax (first maximum) along the axis --- */

static void hardmax_check(int64_t opset, int64_t axis, int32_t dt, int rank, const int64_t *dims,
                          const void *x, const void *want) {
  op_test t;
  op_test_init(&t, opset);
  int xi = op_test_input(&t, "X", dt, rank, dims, x);
  int y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "Hardmax", &xi, 1, &y, 1);
  if (axis != 99) op_test_attr_int(&t, n, "axis", axis);
  op_test_output(&t, y);
  if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, dt, rank, dims, want, 0, 0);
  op_test_release(&t);
}

static void test_hardmax(void **state) {
  (void)state;
  /* default axis -1, ties go to the first */
  hardmax_check(13, 99, FLOAT, 2, D(2, 3), F32(1, 3, 3, -1, -2, -5), F32(0, 1, 0, 1, 0, 0));
  hardmax_check(13, 0, DOUBLE, 2, D(2, 2), F64(1, 4, 3, 2), F64(0, 1, 1, 0));
  /* opset 11: coerced to 2-D at axis 1, so rows of 4 */
  hardmax_check(11, 99, FLOAT, 3, D(2, 2, 2), F32(1, 5, 2, 5, 0, 0, 0, 0),
                F32(0, 1, 0, 0, 1, 0, 0, 0));
  /* float16: 1.0 = 0x3c00, 2.0 = 0x4000, -1 = 0xbc00 */
  hardmax_check(13, -1, FLOAT16, 1, D(3), U16(0x3c00, 0x4000, 0xbc00), U16(0, 0x3c00, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hardmax),
      cmocka_unit_test(test_small),       cmocka_unit_test(test_large_numbers),
      cmocka_unit_test(test_axes_opsets), cmocka_unit_test(test_long),
      cmocka_unit_test(test_dtypes),      cmocka_unit_test(test_nhwc),
      cmocka_unit_test(test_chain),       cmocka_unit_test(test_empty),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
