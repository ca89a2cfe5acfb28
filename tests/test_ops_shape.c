/* Shape-family kernels through the real executor: Shape, Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity, Dropout, Constant, ConstantOfShape, Range,
 * Expand, Tile. Plan-time values come both from constants (folded) and from
 * graph inputs (read while planning); opset variants, negative axes, several
 * dtypes including strings, and error messages. Expected values are
 * hand-computed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"
#include "rng.h"
#include "test_literals.h"

static const float iota24[24] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

/* One node `op` with inputs X0.. and outputs Y0..; returns the node id. */
static int build(op_test *t, int64_t opset, const char *op, int n_in, const tin *ins, int n_out) {
  static const char *in_names[] = {"X0", "X1", "X2", "X3", "X4"};
  static const char *out_names[] = {"Y0", "Y1", "Y2"};
  int ids[5], outs[3];
  op_test_init(t, opset);
  for (int k = 0; k < n_in; k++) {
    const tin *i = &ins[k];
    if (!i->dtype)
      ids[k] = IR_NONE;
    else if (i->is_const)
      ids[k] = op_test_const(t, in_names[k], i->dtype, i->rank, i->dims, i->data);
    else
      ids[k] = op_test_input(t, in_names[k], i->dtype, i->rank, i->dims, i->data);
  }
  for (int k = 0; k < n_out; k++) outs[k] = op_test_value(t, out_names[k]);
  int node = op_test_node(t, op, ids, n_in, outs, n_out);
  for (int k = 0; k < n_out; k++) op_test_output(t, outs[k]);
  return node;
}

static void run_ok(op_test *t) {
  if (op_test_run(t, 1) != ONNXI_OK) fail_msg("run failed: %s", t->err.message);
}

static void expect_error(op_test *t, onnxi_status want, const char *needle) {
  onnxi_status got = op_test_run(t, 1);
  if (got != want) fail_msg("status %d, want %d: %s", (int)got, (int)want, t->err.message);
  if (!strstr(t->err.message, needle)) fail_msg("message '%s' lacks '%s'", t->err.message, needle);
  op_test_release(t);
}

/* --- Shape -------------------------------------------------------------------- */

static void check_shape(int64_t start, int64_t end, bool has_start, bool has_end, int64_t n,
                        const int64_t *want) {
  op_test t;
  int node = build(&t, 15, "Shape", 1, &IN(FLOAT, 3, D(2, 3, 4), iota24), 1);
  if (has_start) op_test_attr_int(&t, node, "start", start);
  if (has_end) op_test_attr_int(&t, node, "end", end);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 1, D(n), want, 0, 0);
  op_test_release(&t);
}

static void test_shape(void **state) {
  (void)state;
  check_shape(0, 0, false, false, 3, I64(2, 3, 4));
  check_shape(1, 0, true, false, 2, I64(3, 4));
  check_shape(0, -1, false, true, 2, I64(2, 3));
  check_shape(-10, 10, true, true, 3, I64(2, 3, 4));
  check_shape(-1, 0, true, false, 1, I64(4));
  check_shape(2, 1, true, true, 0, I64(0));
}

/* Shape of an NHWC activation (MaxPool output) reports logical NCHW dims. */
static void test_shape_of_nhwc(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 13);
  int x = op_test_input(&t, "X", FLOAT, 4, D(1, 2, 3, 4), iota24);
  int p = op_test_value(&t, "P"), y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "MaxPool", &x, 1, &p, 1);
  op_test_attr_ints(&t, n, "kernel_shape", 2, D(1, 1));
  op_test_node(&t, "Shape", &p, 1, &y, 1);
  op_test_output(&t, y);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 1, D(4), I64(1, 2, 3, 4), 0, 0);
  op_test_release(&t);
}

/* --- Reshape ------------------------------------------------------------------ */

static void test_reshape(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Reshape", 2,
        (tin[]){IN(FLOAT, 3, D(2, 3, 4), iota24), CONST(INT64, 1, D(2), I64(0, -1))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 12), iota24, 0, 0);
  op_test_release(&t);

  /* shape fed as a graph input: read while planning */
  build(&t, 13, "Reshape", 2,
        (tin[]){IN(FLOAT, 3, D(2, 3, 4), iota24), IN(INT64, 1, D(3), I64(4, -1, 3))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 3, D(4, 2, 3), iota24, 0, 0);
  op_test_release(&t);

  /* int32 shape, int8 data */
  build(&t, 13, "Reshape", 2,
        (tin[]){IN(INT8, 1, D(6), I8(1, -2, 3, -4, 5, -6)), CONST(INT32, 1, D(2), I32(3, 2))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, INT8, 2, D(3, 2), I8(1, -2, 3, -4, 5, -6), 0, 0);
  op_test_release(&t);

  /* 0 copies the input dim */
  build(&t, 14, "Reshape", 2,
        (tin[]){IN(FLOAT, 3, D(2, 3, 4), iota24), CONST(INT64, 1, D(3), I64(0, 0, -1))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 3, D(2, 3, 4), iota24, 0, 0);
  op_test_release(&t);
}

static void test_reshape_allowzero(void **state) {
  (void)state;
  op_test t;
  int n = build(&t, 14, "Reshape", 2,
                (tin[]){IN(FLOAT, 3, D(0, 3, 4), F32(0)), CONST(INT64, 1, D(3), I64(3, 4, 0))}, 1);
  op_test_attr_int(&t, n, "allowzero", 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 3, D(3, 4, 0), F32(0), 0, 0);
  op_test_release(&t);

  n = build(&t, 14, "Reshape", 2,
            (tin[]){IN(FLOAT, 3, D(0, 3, 4), F32(0)), CONST(INT64, 1, D(2), I64(0, -1))}, 1);
  op_test_attr_int(&t, n, "allowzero", 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "-1 together with 0");
}

static void test_reshape_strings(void **state) {
  (void)state;
  op_test t;
  const ir_string s[4] = {S("a"), S("bb"), S(""), S("ccc")};
  build(&t, 13, "Reshape", 2, (tin[]){IN(STRING, 2, D(2, 2), s), CONST(INT64, 1, D(1), I64(4))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, STRING, 1, D(4), s, 0, 0);
  op_test_release(&t);
}

static void test_reshape_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Reshape", 2,
        (tin[]){IN(FLOAT, 3, D(2, 3, 4), iota24), CONST(INT64, 1, D(2), I64(5, -1))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "cannot reshape [2,3,4] (24 elements) to [5,-1]");
  build(&t, 13, "Reshape", 2,
        (tin[]){IN(FLOAT, 3, D(2, 3, 4), iota24), CONST(INT64, 1, D(2), I64(7, 3))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "cannot reshape");
  build(&t, 13, "Reshape", 2,
        (tin[]){IN(FLOAT, 3, D(2, 3, 4), iota24), CONST(INT64, 1, D(3), I64(-1, 2, -1))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "more than one -1");
  build(&t, 13, "Reshape", 2,
        (tin[]){IN(FLOAT, 3, D(2, 3, 4), iota24), CONST(INT64, 1, D(2), I64(-2, -12))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "dim 0 is -2");
  build(&t, 13, "Reshape", 2, (tin[]){IN(FLOAT, 1, D(6), iota24), CONST(INT64, 1, D(2), I64(0, 0))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input has rank 1");
  build(&t, 13, "Reshape", 2, (tin[]){IN(FLOAT, 1, D(6), iota24), CONST(FLOAT, 1, D(1), F32(6))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "expected int64");
}

/* --- Flatten ------------------------------------------------------------------ */

static void check_flatten(int64_t axis, bool has_axis, int64_t d0, int64_t d1) {
  op_test t;
  int n = build(&t, 13, "Flatten", 1, &IN(FLOAT, 3, D(2, 3, 4), iota24), 1);
  if (has_axis) op_test_attr_int(&t, n, "axis", axis);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(d0, d1), iota24, 0, 0);
  op_test_release(&t);
}

static void test_flatten(void **state) {
  (void)state;
  check_flatten(0, false, 2, 12);
  check_flatten(0, true, 1, 24);
  check_flatten(2, true, 6, 4);
  check_flatten(3, true, 24, 1);
  check_flatten(-1, true, 6, 4);
  check_flatten(-3, true, 1, 24);
  op_test t;
  int n = build(&t, 13, "Flatten", 1, &IN(FLOAT, 3, D(2, 3, 4), iota24), 1);
  op_test_attr_int(&t, n, "axis", 4);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'axis': 4 is out of range");
}

/* --- Squeeze / Unsqueeze ---------------------------------------------------------- */

static void test_squeeze(void **state) {
  (void)state;
  op_test t;
  const float *x = F32(1, 2, 3, 4, 5, 6);
  int n = build(&t, 11, "Squeeze", 1, &IN(FLOAT, 4, D(1, 3, 1, 2), x), 1);
  op_test_attr_ints(&t, n, "axes", 2, D(0, 2));
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 2), x, 0, 0);
  op_test_release(&t);

  build(&t, 13, "Squeeze", 2,
        (tin[]){IN(FLOAT, 4, D(1, 3, 1, 2), x), CONST(INT64, 1, D(1), I64(-2))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 3, D(1, 3, 2), x, 0, 0);
  op_test_release(&t);

  build(&t, 13, "Squeeze", 1, &IN(FLOAT, 4, D(1, 3, 1, 2), x), 1); /* all size-1 axes */
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 2), x, 0, 0);
  op_test_release(&t);

  build(&t, 13, "Squeeze", 1, &IN(INT64, 2, D(1, 1), I64(42)), 1); /* to a scalar */
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 0, NONE, I64(42), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Squeeze", 2,
        (tin[]){IN(FLOAT, 4, D(1, 3, 1, 2), x), CONST(INT64, 1, D(1), I64(1))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "axis 1 has size 3, not 1");
  build(&t, 13, "Squeeze", 2,
        (tin[]){IN(FLOAT, 4, D(1, 3, 1, 2), x), CONST(INT64, 1, D(1), I64(4))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "axis 4 is out of range for rank 4");
  build(&t, 13, "Squeeze", 2,
        (tin[]){IN(FLOAT, 4, D(1, 3, 1, 2), x), CONST(INT64, 1, D(2), I64(0, -4))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "given twice");
}

static void test_unsqueeze(void **state) {
  (void)state;
  op_test t;
  const int32_t *x = I32(1, 2, 3, 4, 5, 6);
  int n = build(&t, 11, "Unsqueeze", 1, &IN(INT32, 2, D(2, 3), x), 1);
  op_test_attr_ints(&t, n, "axes", 2, D(0, 3));
  run_ok(&t);
  op_test_expect(&t, 0, INT32, 4, D(1, 2, 3, 1), x, 0, 0);
  op_test_release(&t);

  /* unsorted and negative axes count against the output rank */
  build(&t, 13, "Unsqueeze", 2,
        (tin[]){IN(INT32, 2, D(2, 3), x), CONST(INT64, 1, D(2), I64(-1, 0))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, INT32, 4, D(1, 2, 3, 1), x, 0, 0);
  op_test_release(&t);

  build(&t, 13, "Unsqueeze", 2, (tin[]){IN(INT32, 2, D(2, 3), x), IN(INT64, 1, D(3), I64(1, 3, 4))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, INT32, 5, D(2, 1, 3, 1, 1), x, 0, 0);
  op_test_release(&t);

  build(&t, 13, "Unsqueeze", 2, (tin[]){IN(FLOAT, 0, NONE, F32(3)), CONST(INT64, 1, D(1), I64(0))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 1, D(1), F32(3), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Unsqueeze", 2,
        (tin[]){IN(INT32, 2, D(2, 3), x), CONST(INT64, 1, D(2), I64(0, -4))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "given twice");
  build(&t, 13, "Unsqueeze", 2, (tin[]){IN(INT32, 2, D(2, 3), x), CONST(INT64, 1, D(1), I64(3))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "axis 3 is out of range for rank 3");
  build(&t, 13, "Unsqueeze", 1, &IN(INT32, 2, D(2, 3), x), 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'axes' is missing");
  build(&t, 11, "Unsqueeze", 1, &IN(INT32, 2, D(2, 3), x), 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'axes' is missing");
}

/* --- Identity / Dropout -------------------------------------------------------- */

static void test_identity(void **state) {
  (void)state;
  op_test t;
  const ir_string s[3] = {S("x"), S("hello"), S("")};
  build(&t, 13, "Identity", 1, &IN(STRING, 1, D(3), s), 1);
  run_ok(&t);
  op_test_expect(&t, 0, STRING, 1, D(3), s, 0, 0);
  op_test_release(&t);

  build(&t, 13, "Identity", 1, &IN(INT64, 2, D(1, 2), I64(INT64_MIN, INT64_MAX)), 1);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 2, D(1, 2), I64(INT64_MIN, INT64_MAX), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Identity", 1, &CONST(BOOL, 1, D(3), U8(1, 0, 1)), 1); /* a constant output */
  run_ok(&t);
  op_test_expect(&t, 0, BOOL, 1, D(3), U8(1, 0, 1), 0, 0);
  op_test_release(&t);
}

static void test_dropout(void **state) {
  (void)state;
  op_test t;
  const float *x = F32(1, -2, 3, -4);
  build(&t, 13, "Dropout", 1, &IN(FLOAT, 2, D(2, 2), x), 2);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), x, 0, 0);
  op_test_expect(&t, 1, BOOL, 2, D(2, 2), U8(1, 1, 1, 1), 0, 0);
  op_test_release(&t);

  int n = build(&t, 10, "Dropout", 1, &IN(FLOAT, 2, D(2, 2), x), 2);
  op_test_attr_float(&t, n, "ratio", 0.2f);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), x, 0, 0);
  op_test_expect(&t, 1, BOOL, 2, D(2, 2), U8(1, 1, 1, 1), 0, 0);
  op_test_release(&t);

  build(&t, 7, "Dropout", 1, &IN(DOUBLE, 1, D(3), F64(1, 2, 3)), 2); /* mask of type T */
  run_ok(&t);
  op_test_expect(&t, 1, DOUBLE, 1, D(3), F64(1, 1, 1), 0, 0);
  op_test_release(&t);

  /* training_mode with ratio 0: the identity */
  build(&t, 13, "Dropout", 3,
        (tin[]){IN(FLOAT, 2, D(2, 2), x), CONST(FLOAT, 0, NONE, F32(0)), IN(BOOL, 0, NONE, U8(1))},
        2);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), x, 0, 0);
  op_test_expect(&t, 1, BOOL, 2, D(2, 2), U8(1, 1, 1, 1), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Dropout", 3,
        (tin[]){IN(FLOAT, 2, D(2, 2), x), CONST(FLOAT, 0, NONE, F32(0.5f)),
                CONST(BOOL, 0, NONE, U8(0))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), x, 0, 0);
  op_test_release(&t);

  build(&t, 13, "Dropout", 3,
        (tin[]){IN(FLOAT, 2, D(2, 2), x), IN(FLOAT, 0, NONE, F32(1)), CONST(BOOL, 0, NONE, U8(1))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'ratio': 1 is not in [0, 1)");

  n = build(&t, 10, "Dropout", 1, &IN(FLOAT, 2, D(2, 2), x), 1);
  op_test_attr_float(&t, n, "ratio", 1.5f);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'ratio'");
}

/* numpy's legacy generator: np.random.seed(s); np.random.random_sample(n), printed with
 * float.hex; raw outputs of MT19937 init_genrand(0). */
static void test_rng_numpy(void **state) {
  (void)state;
  op_rng r;
  op_rng_seed(&r, 0);
  static const uint32_t raw[4] = {2357136044u, 2546248239u, 3071714933u, 3626093760u};
  for (int i = 0; i < 4; i++) assert_int_equal(op_rng_u32(&r), raw[i]);
  op_rng_seed(&r, 0);
  assert_true(op_rng_double(&r) == 0x1.18fe1565f12a8p-1);
  assert_true(op_rng_double(&r) == 0x1.6e2d4cf608733p-1);
  assert_true(op_rng_double(&r) == 0x1.349d66b6e894bp-1);
  /* across the first twist (312 doubles = 624 outputs) and further */
  op_rng_seed(&r, 0);
  double d[700];
  for (int i = 0; i < 700; i++) d[i] = op_rng_double(&r);
  assert_true(d[311] == 0x1.2cf25ce2031ccp-3);
  assert_true(d[312] == 0x1.45b8f280519f0p-4);
  assert_true(d[699] == 0x1.af8072ee1d1f7p-1);
  op_rng_seed(&r, 4294967295u);
  assert_true(op_rng_double(&r) == 0x1.8fe69a3924820p-4);
  assert_true(op_rng_double(&r) == 0x1.d323d824032b1p-1);
}

/* Training Dropout against ONNX's reference (numpy): np.random.seed(seed);
 * keep = np.random.uniform(0, 1, x.shape) >= ratio; y = keep * x * (1 / (1 - ratio)). */
static void test_dropout_training(void **state) {
  (void)state;
  op_test t;
  const float *x = F32(-5.5, -4.5, -3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5);
  for (int pass = 0; pass < 2; pass++) { /* seeded: the same mask on every run */
    int n = build(&t, 13, "Dropout", 3,
                  (tin[]){IN(FLOAT, 2, D(2, 6), x), IN(FLOAT, 0, NONE, F32(0.75f)),
                          CONST(BOOL, 0, NONE, U8(1))},
                  2);
    op_test_attr_int(&t, n, "seed", 7);
    run_ok(&t);
    op_test_expect(&t, 0, FLOAT, 2, D(2, 6), F32(0, -18, 0, 0, -6, 0, 0, 0, 0, 0, 0, 22), 0, 0);
    op_test_expect(&t, 1, BOOL, 2, D(2, 6), U8(0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1), 0, 0);
    op_test_release(&t);
  }
  /* double input, ratio 0.5, seed 123: keep = 1 0 0 1 1 0 1 1 0 0 */
  int n = build(&t, 13, "Dropout", 3,
                (tin[]){IN(DOUBLE, 1, D(10), F64(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)),
                        CONST(DOUBLE, 0, NONE, F64(0.5)), CONST(BOOL, 0, NONE, U8(1))},
                2);
  op_test_attr_int(&t, n, "seed", 123);
  run_ok(&t);
  op_test_expect(&t, 0, DOUBLE, 1, D(10), F64(2, 0, 0, 8, 10, 0, 14, 16, 0, 0), 0, 0);
  op_test_expect(&t, 1, BOOL, 1, D(10), U8(1, 0, 0, 1, 1, 0, 1, 1, 0, 0), 0, 0);
  op_test_release(&t);
  /* no seed: some mask, with y = 2x where kept and 0 elsewhere */
  float xs[64];
  for (int i = 0; i < 64; i++) xs[i] = (float)i + 1;
  build(&t, 13, "Dropout", 3,
        (tin[]){IN(FLOAT, 1, D(64), xs), CONST(FLOAT, 0, NONE, F32(0.5f)),
                CONST(BOOL, 0, NONE, U8(1))},
        2);
  run_ok(&t);
  const float *y = t.out_data[0];
  const bool *keep = t.out_data[1];
  int kept = 0;
  for (int i = 0; i < 64; i++) {
    assert_true(y[i] == (keep[i] ? 2 * xs[i] : 0));
    kept += keep[i];
  }
  assert_true(kept > 8 && kept < 56);
  op_test_release(&t);
}

/* --- Constant ------------------------------------------------------------------ */

static void test_constant(void **state) {
  (void)state;
  op_test t;
  int n = build(&t, 13, "Constant", 0, NULL, 1);
  op_test_attr_tensor(&t, n, "value", INT32, 2, D(2, 2), I32(1, 2, 3, -4));
  run_ok(&t);
  op_test_expect(&t, 0, INT32, 2, D(2, 2), I32(1, 2, 3, -4), 0, 0);
  op_test_release(&t);

  n = build(&t, 13, "Constant", 0, NULL, 1);
  op_test_attr_float(&t, n, "value_float", 2.5f);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 0, NONE, F32(2.5f), 0, 0);
  op_test_release(&t);

  n = build(&t, 13, "Constant", 0, NULL, 1);
  op_test_attr_int(&t, n, "value_int", -7);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 0, NONE, I64(-7), 0, 0);
  op_test_release(&t);

  n = build(&t, 13, "Constant", 0, NULL, 1);
  op_test_attr_ints(&t, n, "value_ints", 3, D(5, 6, 7));
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 1, D(3), I64(5, 6, 7), 0, 0);
  op_test_release(&t);

  n = build(&t, 13, "Constant", 0, NULL, 1);
  op_test_attr_floats(&t, n, "value_floats", 2, F32(0.5f, -1));
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 1, D(2), F32(0.5f, -1), 0, 0);
  op_test_release(&t);

  n = build(&t, 13, "Constant", 0, NULL, 1);
  op_test_attr_string(&t, n, "value_string", "abc");
  run_ok(&t);
  op_test_expect(&t, 0, STRING, 0, NONE, STR(S("abc")), 0, 0);
  op_test_release(&t);

  const ir_string s[2] = {S("p"), S("qq")};
  n = build(&t, 13, "Constant", 0, NULL, 1);
  op_test_attr_tensor(&t, n, "value", STRING, 1, D(2), s);
  run_ok(&t);
  op_test_expect(&t, 0, STRING, 1, D(2), s, 0, 0);
  op_test_release(&t);
}

/* A Constant feeding Reshape's shape: the shape is folded at plan time. */
static void test_constant_feeds_reshape(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 13);
  int x = op_test_input(&t, "X", FLOAT, 1, D(6), iota24);
  int c = op_test_value(&t, "C"), y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "Constant", NULL, 0, &c, 1);
  op_test_attr_ints(&t, n, "value_ints", 2, D(3, -1));
  op_test_node(&t, "Reshape", (int[]){x, c}, 2, &y, 1);
  op_test_output(&t, y);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 2), iota24, 0, 0);
  op_test_release(&t);
}

static void test_constant_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Constant", 0, NULL, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "no 'value' attribute");
  int n = build(&t, 13, "Constant", 0, NULL, 1);
  op_test_attr_float(&t, n, "value_float", 1);
  op_test_attr_int(&t, n, "value_int", 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "both give the value");
  n = build(&t, 13, "Constant", 0, NULL, 1);
  op_test_attr_int(&t, n, "value_float", 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "'value_float' of type int is not");
}

/* --- ConstantOfShape ---------------------------------------------------------------- */

static void test_constant_of_shape(void **state) {
  (void)state;
  op_test t;
  build(&t, 9, "ConstantOfShape", 1, &IN(INT64, 1, D(2), I64(2, 3)), 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 3), F32(0, 0, 0, 0, 0, 0), 0, 0);
  op_test_release(&t);

  int n = build(&t, 9, "ConstantOfShape", 1, &CONST(INT64, 1, D(1), I64(3)), 1);
  op_test_attr_tensor(&t, n, "value", INT64, 1, D(1), I64(-7));
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 1, D(3), I64(-7, -7, -7), 0, 0);
  op_test_release(&t);

  n = build(&t, 9, "ConstantOfShape", 1, &IN(INT64, 1, D(2), I64(1, 3)), 1);
  op_test_attr_tensor(&t, n, "value", BOOL, 1, D(1), U8(1));
  run_ok(&t);
  op_test_expect(&t, 0, BOOL, 2, D(1, 3), U8(1, 1, 1), 0, 0);
  op_test_release(&t);

  n = build(&t, 9, "ConstantOfShape", 1, &IN(INT64, 1, D(0), I64(0)), 1); /* a scalar */
  op_test_attr_tensor(&t, n, "value", FLOAT, 1, D(1), F32(1.5f));
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 0, NONE, F32(1.5f), 0, 0);
  op_test_release(&t);

  build(&t, 9, "ConstantOfShape", 1, &IN(INT64, 1, D(2), I64(2, 0)), 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 0), F32(0), 0, 0);
  op_test_release(&t);

  build(&t, 9, "ConstantOfShape", 1, &IN(INT64, 1, D(2), I64(2, -1)), 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "dim 1 is -1");
  n = build(&t, 9, "ConstantOfShape", 1, &IN(INT64, 1, D(1), I64(2)), 1);
  op_test_attr_tensor(&t, n, "value", FLOAT, 1, D(2), F32(1, 2));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "must hold one element");
}

/* --- Range ------------------------------------------------------------------------- */

static void test_range(void **state) {
  (void)state;
  op_test t;
  build(&t, 11, "Range", 3,
        (tin[]){IN(FLOAT, 0, NONE, F32(1)), IN(FLOAT, 0, NONE, F32(2)),
                IN(FLOAT, 0, NONE, F32(0.3f))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 1, D(4), F32(1, 1.3f, 1.6f, 1.9f), 1e-6, 1e-6);
  op_test_release(&t);

  build(
      &t, 11, "Range", 3,
      (tin[]){IN(INT32, 0, NONE, I32(10)), IN(INT32, 0, NONE, I32(4)), IN(INT32, 0, NONE, I32(-3))},
      1);
  run_ok(&t);
  op_test_expect(&t, 0, INT32, 1, D(2), I32(10, 7), 0, 0);
  op_test_release(&t);

  build(&t, 11, "Range", 3, /* constants: folded at plan time */
        (tin[]){CONST(INT16, 0, NONE, I16(0)), CONST(INT16, 0, NONE, I16(5)),
                CONST(INT16, 0, NONE, I16(2))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, INT16, 1, D(3), I16(0, 2, 4), 0, 0);
  op_test_release(&t);

  build(&t, 11, "Range", 3,
        (tin[]){IN(DOUBLE, 0, NONE, F64(-1)), IN(DOUBLE, 0, NONE, F64(1)),
                IN(DOUBLE, 0, NONE, F64(0.5))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, DOUBLE, 1, D(4), F64(-1, -0.5, 0, 0.5), 0, 0);
  op_test_release(&t);

  build(&t, 11, "Range", 3, /* empty, and extreme int64 ends without overflow */
        (tin[]){IN(INT64, 0, NONE, I64(5)), IN(INT64, 0, NONE, I64(5)), IN(INT64, 0, NONE, I64(1))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 1, D(0), I64(0), 0, 0);
  op_test_release(&t);
  build(&t, 11, "Range", 3,
        (tin[]){IN(INT64, 0, NONE, I64(INT64_MIN)), IN(INT64, 0, NONE, I64(INT64_MAX)),
                IN(INT64, 0, NONE, I64(INT64_C(1) << 62))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 1, D(4), I64(INT64_MIN, -(INT64_C(1) << 62), 0, INT64_C(1) << 62), 0,
                 0);
  op_test_release(&t);

  build(&t, 11, "Range", 3,
        (tin[]){IN(INT32, 0, NONE, I32(1)), IN(INT32, 0, NONE, I32(4)), IN(INT32, 0, NONE, I32(0))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'delta' is 0");
  build(&t, 11, "Range", 3,
        (tin[]){IN(INT32, 0, NONE, I32(1)), IN(INT64, 0, NONE, I64(4)), IN(INT32, 0, NONE, I32(1))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'limit' must be a int32 scalar");
}

/* --- Expand / Tile ----------------------------------------------------------------- */

static void test_expand(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Expand", 2,
        (tin[]){IN(FLOAT, 2, D(3, 1), F32(1, 2, 3)), CONST(INT64, 1, D(3), I64(2, 1, 4))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 3, D(2, 3, 4),
                 F32(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), 0, 0);
  op_test_release(&t);

  /* a shape of 1s keeps the input's larger dims */
  build(&t, 13, "Expand", 2,
        (tin[]){IN(FLOAT, 2, D(3, 1), F32(1, 2, 3)), IN(INT64, 1, D(2), I64(1, 1))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 1), F32(1, 2, 3), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Expand", 2,
        (tin[]){IN(INT8, 2, D(1, 3), I8(1, 2, 3)), CONST(INT64, 1, D(2), I64(2, 1))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, INT8, 2, D(2, 3), I8(1, 2, 3, 1, 2, 3), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Expand", 2, (tin[]){IN(INT64, 0, NONE, I64(9)), CONST(INT64, 1, D(2), I64(2, 2))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 2, D(2, 2), I64(9, 9, 9, 9), 0, 0);
  op_test_release(&t);

  /* middle axis broadcast, trailing axis copied whole */
  build(&t, 13, "Expand", 2,
        (tin[]){IN(INT32, 3, D(2, 1, 2), I32(1, 2, 3, 4)), CONST(INT64, 1, D(3), I64(2, 3, 2))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, INT32, 3, D(2, 3, 2), I32(1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4), 0, 0);
  op_test_release(&t);

  const ir_string s[2] = {S("a"), S("b")};
  const ir_string want[4] = {S("a"), S("a"), S("b"), S("b")};
  build(&t, 13, "Expand", 2, (tin[]){IN(STRING, 2, D(2, 1), s), CONST(INT64, 1, D(2), I64(2, 2))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, STRING, 2, D(2, 2), want, 0, 0);
  op_test_release(&t);

  build(&t, 13, "Expand", 2,
        (tin[]){IN(FLOAT, 1, D(3), F32(1, 2, 3)), CONST(INT64, 1, D(1), I64(2))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "shapes [3] and [2] do not broadcast");
}

static void test_tile(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Tile", 2,
        (tin[]){IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)), CONST(INT64, 1, D(2), I64(2, 3))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(4, 6),
                 F32(1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Tile", 2, (tin[]){IN(INT64, 2, D(2, 1), I64(5, 6)), IN(INT64, 1, D(2), I64(1, 3))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 2, D(2, 3), I64(5, 5, 5, 6, 6, 6), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Tile", 2, (tin[]){IN(INT16, 1, D(3), I16(1, 2, 3)), CONST(INT64, 1, D(1), I64(2))},
        1);
  run_ok(&t);
  op_test_expect(&t, 0, INT16, 1, D(6), I16(1, 2, 3, 1, 2, 3), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Tile", 2,
        (tin[]){IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)), CONST(INT64, 1, D(2), I64(1, 0))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 0), F32(0), 0, 0);
  op_test_release(&t);

  const ir_string s[2] = {S("x"), S("yz")};
  const ir_string want[4] = {S("x"), S("yz"), S("x"), S("yz")};
  build(&t, 13, "Tile", 2, (tin[]){IN(STRING, 1, D(2), s), CONST(INT64, 1, D(1), I64(2))}, 1);
  run_ok(&t);
  op_test_expect(&t, 0, STRING, 1, D(4), want, 0, 0);
  op_test_release(&t);

  build(&t, 13, "Tile", 2,
        (tin[]){IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)), CONST(INT64, 1, D(1), I64(2))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'repeats' has 1 values for rank 2");
  build(&t, 13, "Tile", 2,
        (tin[]){IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)), CONST(INT64, 1, D(2), I64(1, -1))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "value -1 for axis 1 is invalid");
}

/* Inputs and outputs the op needs must be there (never read past them). */
static void test_io_counts(void **state) {
  (void)state;
  op_test t;
  build(&t, 11, "Range", 2, (tin[]){IN(INT32, 0, NONE, I32(1)), IN(INT32, 0, NONE, I32(4))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "2 inputs given, expected 3 to 3");
  build(&t, 13, "Reshape", 2, (tin[]){IN(FLOAT, 1, D(6), iota24), OMIT}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 1 is missing");
  build(&t, 13, "Identity", 2, (tin[]){IN(FLOAT, 1, D(6), iota24), IN(FLOAT, 1, D(6), iota24)}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "2 inputs given, expected 1 to 1");
  build(&t, 13, "ConstantOfShape", 0, NULL, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "0 inputs given");
  build(&t, 13, "Shape", 1, &IN(FLOAT, 1, D(6), iota24), 2);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "2 outputs given, expected 1 to 1");
  build(&t, 11, "Dropout", 2, (tin[]){IN(FLOAT, 1, D(6), iota24), IN(FLOAT, 0, NONE, F32(0.5f))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "2 inputs given, expected 1 to 1");
}

/* --- Size ------------------------------------------------------------------------ */

static void test_size(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Size", 1, &IN(FLOAT, 3, D(2, 3, 4), iota24), 1);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 0, NONE, I64(24), 0, 0);
  op_test_release(&t);
  build(&t, 13, "Size", 1, &IN(INT8, 0, NONE, I8(5)), 1); /* a scalar has 1 element */
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 0, NONE, I64(1), 0, 0);
  op_test_release(&t);
  build(&t, 13, "Size", 1, &IN(FLOAT, 2, D(3, 0), iota24), 1);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 0, NONE, I64(0), 0, 0);
  op_test_release(&t);
}

/* --- EyeLike (numpy np.eye(rows, cols, k)) ----------------------------------------- */

static void test_eye_like(void **state) {
  (void)state;
  op_test t;
  int n = build(&t, 9, "EyeLike", 1, &IN(FLOAT, 2, D(3, 4), iota24), 1);
  op_test_attr_int(&t, n, "k", 1);
  run_ok(&t);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 4), F32(0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1), 0, 0);
  op_test_release(&t);
  n = build(&t, 9, "EyeLike", 1, &IN(FLOAT, 2, D(3, 2), iota24), 1);
  op_test_attr_int(&t, n, "k", -1);
  op_test_attr_int(&t, n, "dtype", INT64);
  run_ok(&t);
  op_test_expect(&t, 0, INT64, 2, D(3, 2), I64(0, 0, 1, 0, 0, 1), 0, 0);
  op_test_release(&t);
  n = build(&t, 9, "EyeLike", 1, &IN(INT32, 2, D(2, 2), I32(5, 6, 7, 8)), 1);
  op_test_attr_int(&t, n, "k", INT64_MIN); /* far off the matrix: all zero */
  run_ok(&t);
  op_test_expect(&t, 0, INT32, 2, D(2, 2), I32(0, 0, 0, 0), 0, 0);
  op_test_release(&t);
  build(&t, 9, "EyeLike", 1, &IN(DOUBLE, 2, D(2, 2), F64(5, 6, 7, 8)), 1);
  run_ok(&t);
  op_test_expect(&t, 0, DOUBLE, 2, D(2, 2), F64(1, 0, 0, 1), 0, 0);
  op_test_release(&t);
  build(&t, 9, "EyeLike", 1, &IN(FLOAT, 1, D(3), iota24), 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input must be 2-D");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shape),
      cmocka_unit_test(test_shape_of_nhwc),
      cmocka_unit_test(test_reshape),
      cmocka_unit_test(test_reshape_allowzero),
      cmocka_unit_test(test_reshape_strings),
      cmocka_unit_test(test_reshape_errors),
      cmocka_unit_test(test_flatten),
      cmocka_unit_test(test_squeeze),
      cmocka_unit_test(test_unsqueeze),
      cmocka_unit_test(test_identity),
      cmocka_unit_test(test_dropout),
      cmocka_unit_test(test_rng_numpy),
      cmocka_unit_test(test_size),
      cmocka_unit_test(test_eye_like),
      cmocka_unit_test(test_dropout_training),
      cmocka_unit_test(test_constant),
      cmocka_unit_test(test_constant_feeds_reshape),
      cmocka_unit_test(test_constant_errors),
      cmocka_unit_test(test_constant_of_shape),
      cmocka_unit_test(test_range),
      cmocka_unit_test(test_expand),
      cmocka_unit_test(test_tile),
      cmocka_unit_test(test_io_counts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
