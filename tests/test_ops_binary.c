/* Elementwise binary-family kernels through the real executor: broadcasting
 * (scalar, [C,1,1] against NCHW, rank mismatch, both sides), dtypes,
 * Pow/Mod/Div semantics, variadic Sum/Mean/Min/Max, comparisons, logic,
 * Where, PRelu, the fused clamp, threading and error cases. Expected values
 * are hand-computed or computed with numpy. */
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

/* One node `op` over graph inputs X0..Xn-1 with output Y; returns the node. */
static int build(op_test *t, int64_t opset, const char *op, int n, const tin *ins) {
  static const char *names[] = {"X0", "X1", "X2", "X3", "X4", "X5"};
  int ids[6];
  op_test_init(t, opset);
  for (int k = 0; k < n; k++)
    ids[k] = op_test_input(t, names[k], ins[k].dtype, ins[k].rank, ins[k].dims, ins[k].data);
  int y = op_test_value(t, "Y");
  int node = op_test_node(t, op, ids, n, &y, 1);
  op_test_output(t, y);
  return node;
}

/* Runs a two-input op with 1 and 2 threads and checks the output. */
static void check2(const char *op, tin a, tin b, int32_t odt, int orank, const int64_t *odims,
                   const void *want) {
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    build(&t, 14, op, 2, (tin[]){a, b});
    assert_int_equal(op_test_run(&t, threads), ONNXI_OK);
    op_test_expect(&t, 0, odt, orank, odims, want, 1e-6, 1e-6);
    op_test_release(&t);
  }
}

static void expect_error(op_test *t, onnxi_status want, const char *needle) {
  assert_int_equal(op_test_run(t, 1), want);
  if (!strstr(t->err.message, needle)) fail_msg("message '%s' lacks '%s'", t->err.message, needle);
  op_test_release(t);
}

/* --- arithmetic and broadcasting --- */

static void test_add_same_shape(void **state) {
  (void)state;
  check2("Add", IN(FLOAT, 2, D(2, 3), F32(1, 2, 3, 4, 5, 6)),
         IN(FLOAT, 2, D(2, 3), F32(10, 20, 30, 40, 50, 60)), FLOAT, 2,
         D(2, 3), F32(11, 22, 33, 44, 55, 66));
}

static void test_add_scalar_both_sides(void **state) {
  (void)state;
  check2("Add", IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)),
         IN(FLOAT, 0, NONE, F32(0.5f)), FLOAT, 2, D(2, 2),
         F32(1.5f, 2.5f, 3.5f, 4.5f));
  check2("Sub", IN(FLOAT, 1, D(1), F32(10)),
         IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)), FLOAT, 2, D(2, 2),
         F32(9, 8, 7, 6));
  check2("Mul", IN(INT32, 0, NONE, I32(3)),
         IN(INT32, 0, NONE, I32(-4)), INT32, 0, NONE, I32(-12));
}

/* [C,1,1] against [N,C,H,W]: the bias/scale pattern. */
static void test_add_channel_bias(void **state) {
  (void)state;
  check2("Add", IN(FLOAT, 4, D(1, 2, 2, 2), F32(0, 1, 2, 3, 4, 5, 6, 7)),
         IN(FLOAT, 3, D(2, 1, 1), F32(10, -1)), FLOAT, 4,
         D(1, 2, 2, 2), F32(10, 11, 12, 13, 3, 4, 5, 6));
  check2("Add", IN(INT64, 4, D(1, 2, 2, 2), I64(0, 1, 2, 3, 4, 5, 6, 7)),
         IN(INT64, 3, D(2, 1, 1), I64(10, -1)), INT64, 4,
         D(1, 2, 2, 2), I64(10, 11, 12, 13, 3, 4, 5, 6));
}

/* [rows, c] * [c] (an SE block's scale in NHWC): own AVX-512 loop where
 * the CPU has it, row blocks per thread above 32768 elements; c = 200 ends
 * in a masked 8; both operand orders; a small one that runs serially. */
static void test_mul_channel_scale(void **state) {
  (void)state;
  enum { R = 3 * 70, C = 200 };
  static float x[R * C], sc[C], want[R * C];
  for (int i = 0; i < R * C; i++) x[i] = (float)(i % 97) * 0.25f - 12.0f;
  for (int c = 0; c < C; c++) sc[c] = (float)(c % 13) * 0.5f - 3.0f;
  for (int i = 0; i < R * C; i++) want[i] = x[i] * sc[i % C]; /* exact: short mantissas */
  for (int swap = 0; swap < 2; swap++) {
    tin a = IN(FLOAT, 3, D(3, 70, C), x), b = IN(FLOAT, 1, D(C), sc);
    check2("Mul", swap ? b : a, swap ? a : b, FLOAT, 3, D(3, 70, C), want);
  }
  float small[34];
  for (int i = 0; i < 34; i++) small[i] = x[i] * sc[i % 17];
  check2("Mul", IN(FLOAT, 2, D(2, 17), x), IN(FLOAT, 1, D(17), sc), FLOAT, 2, D(2, 17), small);
}

/* [2,1,3] op [4,1] -> [2,4,3]: both sides broadcast, ranks differ (numpy). */
static const float rm_a[] = {-1, -0.5f, 0, 0.5f, 1, 1.5f};
static const float rm_b[] = {1.5f, -2, 0.25f, 4};

static void test_rank_mismatch_f32(void **state) {
  (void)state;
  const tin a = IN(FLOAT, 3, D(2, 1, 3), rm_a), b = IN(FLOAT, 2, D(4, 1), rm_b);
  check2("Add", a, b, FLOAT, 3, D(2, 4, 3),
         F32(0.5, 1.0, 1.5, -3.0, -2.5, -2.0, -0.75, -0.25, 0.25, 3.0, 3.5, 4.0, 2.0, 2.5, 3.0,
             -1.5, -1.0, -0.5, 0.75, 1.25, 1.75, 4.5, 5.0, 5.5));
  check2("Sub", a, b, FLOAT, 3, D(2, 4, 3),
         F32(-2.5, -2.0, -1.5, 1.0, 1.5, 2.0, -1.25, -0.75, -0.25, -5.0, -4.5, -4.0, -1.0, -0.5,
             0.0, 2.5, 3.0, 3.5, 0.25, 0.75, 1.25, -3.5, -3.0, -2.5));
  check2("Mul", a, b, FLOAT, 3, D(2, 4, 3),
         F32(-1.5, -0.75, 0.0, 2.0, 1.0, -0.0, -0.25, -0.125, 0.0, -4.0, -2.0, 0.0, 0.75, 1.5,
             2.25, -1.0, -2.0, -3.0, 0.125, 0.25, 0.375, 2.0, 4.0, 6.0));
  check2("Div", a, b, FLOAT, 3, D(2, 4, 3),
         F32(-0.6666666865348816, -0.3333333432674408, 0.0, 0.5, 0.25, -0.0, -4.0, -2.0, 0.0,
             -0.25, -0.125, 0.0, 0.3333333432674408, 0.6666666865348816, 1.0, -0.25, -0.5, -0.75,
             2.0, 4.0, 6.0, 0.125, 0.25, 0.375));
}

/* The same broadcast through the own kernels (double, float16, bfloat16). */
static void test_rank_mismatch_other_floats(void **state) {
  (void)state;
  const double a64[] = {-1, -0.5, 0, 0.5, 1, 1.5}, b64[] = {1.5, -2, 0.25, 4};
  check2("Mul", IN(DOUBLE, 3, D(2, 1, 3), a64),
         IN(DOUBLE, 2, D(4, 1), b64), DOUBLE, 3, D(2, 4, 3),
         F64(-1.5, -0.75, 0.0, 2.0, 1.0, -0.0, -0.25, -0.125, 0.0, -4.0, -2.0, 0.0,
                          0.75, 1.5, 2.25, -1.0, -2.0, -3.0, 0.125, 0.25, 0.375, 2.0, 4.0, 6.0));
  /* float16: 1.0=0x3c00 2.0=0x4000 0.5=0x3800 -1=0xbc00 3=0x4200 1.5=0x3e00 */
  check2("Add", IN(FLOAT16, 2, D(2, 1), U16(0x3c00, 0xbc00)),
         IN(FLOAT16, 1, D(2), U16(0x4000, 0x3800)),
         FLOAT16, 2, D(2, 2), U16(0x4200, 0x3e00, 0x3c00, 0xb800));
  /* bfloat16: 1.0=0x3f80 2.0=0x4000 3.0=0x4040 -> 1*2, 3*2 */
  check2("Mul", IN(BFLOAT16, 1, D(2), U16(0x3f80, 0x4040)),
         IN(BFLOAT16, 0, NONE, U16(0x4000)), BFLOAT16,
         1, D(2), U16(0x4000, 0x40c0));
}

/* Integer arithmetic wraps (no signed-overflow UB); Div truncates. */
static void test_int_arith(void **state) {
  (void)state;
  check2("Add", IN(INT32, 1, D(3), I32(INT32_MAX, -5, 7)),
         IN(INT32, 1, D(1), I32(1)), INT32, 1, D(3),
         I32(INT32_MIN, -4, 8));
  check2("Mul", IN(INT64, 1, D(2), I64(INT64_MAX, -3)),
         IN(INT64, 1, D(2), I64(2, 5)), INT64, 1, D(2), I64(-2, -15));
  check2("Sub", IN(UINT8, 1, D(3), U8(0, 200, 5)),
         IN(UINT8, 1, D(3), U8(1, 100, 5)), UINT8, 1, D(3),
         U8(255, 100, 0));
  check2("Mul", IN(UINT16, 1, D(1), U16(65535)),
         IN(UINT16, 1, D(1), U16(65535)), UINT16, 1,
         D(1), U16(1));
  check2("Add", IN(INT8, 1, D(2), I8(127, -128)),
         IN(INT8, 0, NONE, I8(1)), INT8, 1, D(2),
         I8(-128, -127));
  check2("Div", IN(INT32, 1, D(4), I32(7, -7, INT32_MIN, 9)),
         IN(INT32, 1, D(4), I32(2, 2, -1, -3)), INT32, 1, D(4),
         I32(3, -3, INT32_MIN, -3));
  check2("Div", IN(UINT8, 1, D(3), U8(200, 7, 0)),
         IN(UINT8, 0, NONE, U8(3)), UINT8, 1, D(3), U8(66, 2, 0));
}

static void test_div_by_zero(void **state) {
  (void)state;
  op_test t;
  build(&t, 14, "Div", 2, (tin[]){IN(INT32, 1, D(2), I32(1, 2)),
                                   IN(INT32, 1, D(2), I32(1, 0))});
  expect_error(&t, ONNXI_ERR_RUNTIME, "division by zero");
  build(&t, 13, "Mod", 2, (tin[]){IN(INT64, 1, D(2), I64(1, 2)),
                                   IN(INT64, 0, NONE, I64(0))});
  expect_error(&t, ONNXI_ERR_RUNTIME, "modulo by zero");
  /* floats divide by zero to inf */
  check2("Div", IN(FLOAT, 1, D(2), F32(1, -1)),
         IN(FLOAT, 0, NONE, F32(0)), FLOAT, 1, D(2),
         F32(INFINITY, -INFINITY));
}

/* --- Mod, Pow --- */

static void test_mod(void **state) {
  (void)state;
  op_test t;
  /* fmod=0: sign of the divisor (numpy.mod) */
  build(&t, 13, "Mod", 2, (tin[]){IN(INT32, 1, D(6), I32(-7, 7, -7, 7, 5, -5)),
                                   IN(INT32, 1, D(6), I32(3, 3, -3, -3, 5, 2))});
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, INT32, 1, D(6), I32(2, 1, -1, -2, 0, 1), 0, 0);
  op_test_release(&t);
  /* fmod=1: sign of the dividend (C fmod) */
  int n = build(&t, 13, "Mod", 2, (tin[]){IN(INT64, 1, D(6), I64(-7, 7, -7, 7, 5, -5)),
                                           IN(INT64, 1, D(6), I64(3, 3, -3, -3, 5, 2))});
  op_test_attr_int(&t, n, "fmod", 1);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, INT64, 1, D(6), I64(-1, 1, -1, 1, 0, -1), 0, 0);
  op_test_release(&t);
  n = build(&t, 13, "Mod", 2, (tin[]){IN(FLOAT, 1, D(3), F32(-4.5f, 7.25f, 5)),
                                       IN(FLOAT, 1, D(3), F32(2, -3, 8))});
  op_test_attr_int(&t, n, "fmod", 1);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, FLOAT, 1, D(3), F32(-0.5f, 1.25f, 5), 1e-6, 1e-6);
  op_test_release(&t);
  /* broadcast scalar divisor, INT_MIN % -1 does not trap */
  build(&t, 13, "Mod", 2, (tin[]){IN(INT32, 2, D(2, 2), I32(INT32_MIN, 9, -9, 10)),
                                   IN(INT32, 1, D(1), I32(-1))});
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, INT32, 2, D(2, 2), I32(0, 0, 0, 0), 0, 0);
  op_test_release(&t);
  /* unsigned */
  build(&t, 13, "Mod", 2, (tin[]){IN(UINT8, 1, D(3), U8(4, 7, 5)),
                                   IN(UINT8, 1, D(3), U8(2, 3, 8))});
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, UINT8, 1, D(3), U8(0, 1, 5), 0, 0);
  op_test_release(&t);
}

static void test_mod_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Mod", 2, (tin[]){IN(FLOAT, 1, D(1), F32(1)),
                                   IN(FLOAT, 1, D(1), F32(2))});
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "'fmod' must be 1");
  int n = build(&t, 13, "Mod", 2, (tin[]){IN(INT32, 1, D(1), I32(1)),
                                           IN(INT32, 1, D(1), I32(2))});
  op_test_attr_int(&t, n, "fmod", 2);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "fmod");
}

static void test_pow(void **state) {
  (void)state;
  check2("Pow", IN(FLOAT, 1, D(3), F32(2, 3, 4)),
         IN(FLOAT, 1, D(3), F32(0.5f, -1, 3)), FLOAT, 1, D(3),
         F32(1.4142135381698608f, 0.3333333432674408f, 64));
  /* scalar exponent 2 (the x*x path), broadcast */
  check2("Pow", IN(FLOAT, 2, D(2, 2), F32(-3, 0.5f, 2, 10)),
         IN(FLOAT, 0, NONE, F32(2)), FLOAT, 2, D(2, 2),
         F32(9, 0.25f, 4, 100));
  /* mixed types: float base, int exponent; int base, float exponent */
  check2("Pow", IN(FLOAT, 1, D(3), F32(1, 2, 3)),
         IN(INT64, 1, D(3), I64(4, 5, -1)), FLOAT, 1, D(3),
         F32(1, 32, 0.3333333432674408f));
  check2("Pow", IN(INT32, 1, D(3), I32(1, 2, 3)),
         IN(FLOAT, 1, D(3), F32(4, 5.5f, 0.5f)), INT32, 1, D(3),
         I32(1, 45, 1));
  check2("Pow", IN(INT64, 1, D(5), I64(3, -2, 2, -1, 7)),
         IN(INT64, 1, D(5), I64(4, 3, -1, -3, 0)), INT64, 1, D(5),
         I64(81, -8, 0, -1, 1));
  check2("Pow", IN(DOUBLE, 1, D(2), F64(2, 9)),
         IN(UINT8, 0, NONE, U8(3)), DOUBLE, 1, D(2),
         F64(8, 729));
}

/* --- variadic Sum, Mean, Min, Max --- */

static const float v_a[] = {1, 5, 3}, v_b[] = {4, 2}, v_c[] = {-1};

/* [3], [2,1], [] -> [2,3]; step 0 ([3] op [2,1]) already covers the output. */
static void run_variadic(const char *op, int32_t dt, const void *a, const void *b, const void *c,
                         const void *want) {
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    build(&t, 13, op, 3,
          (tin[]){IN(dt, 1, D(3), a), IN(dt, 2, D(2, 1), b), IN(dt, 0, NONE, c)});
    assert_int_equal(op_test_run(&t, threads), ONNXI_OK);
    op_test_expect(&t, 0, dt, 2, D(2, 3), want, 1e-6, 1e-6);
    op_test_release(&t);
  }
}

static void test_variadic(void **state) {
  (void)state;
  run_variadic("Sum", FLOAT, v_a, v_b, v_c, F32(4, 8, 6, 2, 6, 4));
  run_variadic("Mean", FLOAT, v_a, v_b, v_c,
               F32(4 / 3.0f, 8 / 3.0f, 2, 2 / 3.0f, 2, 4 / 3.0f));
  run_variadic("Max", FLOAT, v_a, v_b, v_c, F32(4, 5, 4, 2, 5, 3));
  run_variadic("Min", FLOAT, v_a, v_b, v_c, F32(-1, -1, -1, -1, -1, -1));
  run_variadic("Max", INT32, I32(1, 5, 3), I32(4, 2), I32(-1), I32(4, 5, 4, 2, 5, 3));
  run_variadic("Min", UINT64, U64(1, 5, 3),
               U64(4, 2), U64(3),
               U64(1, 3, 3, 1, 2, 2));
  run_variadic("Sum", DOUBLE, F64(1, 5, 3), F64(4, 2),
               F64(-1), F64(4, 8, 6, 2, 6, 4));
}

/* [3,1] and [1,4] do not cover [2,3,4]: step 0 must still fill the whole output. */
static void test_variadic_uncovered(void **state) {
  (void)state;
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    build(&t, 13, "Sum", 3,
          (tin[]){IN(FLOAT, 2, D(3, 1), F32(100, 200, 300)),
                  IN(FLOAT, 2, D(1, 4), F32(1, 2, 3, 4)),
                  IN(FLOAT, 3, D(2, 1, 1), F32(0, 1000))});
    assert_int_equal(op_test_run(&t, threads), ONNXI_OK);
    float want[24];
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 3; j++)
        for (int k = 0; k < 4; k++)
          want[i * 12 + j * 4 + k] = 1000.0f * i + 100.0f * (j + 1) + k + 1;
    op_test_expect(&t, 0, FLOAT, 3, D(2, 3, 4), want, 0, 0);
    op_test_release(&t);
  }
}

static void test_variadic_one_input_and_nan(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Max", 1, (tin[]){IN(FLOAT, 1, D(3), F32(1, -2, 3))});
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, FLOAT, 1, D(3), F32(1, -2, 3), 0, 0);
  op_test_release(&t);
  build(&t, 13, "Mean", 1, (tin[]){IN(DOUBLE, 0, NONE, F64(2.5))});
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, DOUBLE, 0, NONE, F64(2.5), 0, 0);
  op_test_release(&t);
  /* own kernels propagate NaN like numpy.maximum */
  build(&t, 13, "Max", 2, (tin[]){IN(DOUBLE, 1, D(2), F64(NAN, 1)),
                                   IN(DOUBLE, 1, D(2), F64(0, NAN))});
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, DOUBLE, 1, D(2), F64(NAN, NAN), 0, 0);
  op_test_release(&t);
  build(&t, 13, "Mean", 2, (tin[]){IN(INT32, 1, D(1), I32(1)),
                                    IN(INT32, 1, D(1), I32(2))});
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "dtype");
}

/* --- comparisons and logic --- */

static void test_compare(void **state) {
  (void)state;
  const tin a = IN(FLOAT, 2, D(2, 3), F32(1, 2, 3, 4, 5, 6));
  const tin b = IN(FLOAT, 1, D(3), F32(2, 2, 7));
  check2("Equal", a, b, BOOL, 2, D(2, 3), U8(0, 1, 0, 0, 0, 0));
  check2("Less", a, b, BOOL, 2, D(2, 3), U8(1, 0, 1, 0, 0, 1));
  check2("Greater", a, b, BOOL, 2, D(2, 3), U8(0, 0, 0, 1, 1, 0));
  check2("LessOrEqual", a, b, BOOL, 2, D(2, 3), U8(1, 1, 1, 0, 0, 1));
  check2("GreaterOrEqual", a, b, BOOL, 2, D(2, 3), U8(0, 1, 0, 1, 1, 0));
  check2("Equal", IN(INT64, 1, D(3), I64(-1, 5, INT64_MIN)),
         IN(INT64, 0, NONE, I64(5)), BOOL, 1, D(3), U8(0, 1, 0));
  check2("Equal", IN(BOOL, 1, D(2), U8(1, 0)),
         IN(BOOL, 2, D(2, 1), U8(1, 0)), BOOL, 2, D(2, 2),
         U8(1, 0, 0, 1));
  check2("Less", IN(UINT8, 1, D(2), U8(0, 255)),
         IN(UINT8, 1, D(2), U8(255, 0)), BOOL, 1, D(2), U8(1, 0));
  check2("Greater", IN(INT8, 1, D(2), I8(-128, 127)),
         IN(INT8, 0, NONE, I8(0)), BOOL, 1, D(2),
         U8(0, 1));
}

static void test_logic(void **state) {
  (void)state;
  const tin a = IN(BOOL, 2, D(2, 2), U8(0, 1, 0, 1));
  const tin b = IN(BOOL, 2, D(2, 1), U8(0, 1));
  check2("And", a, b, BOOL, 2, D(2, 2), U8(0, 0, 0, 1));
  check2("Or", a, b, BOOL, 2, D(2, 2), U8(0, 1, 1, 1));
  check2("Xor", a, b, BOOL, 2, D(2, 2), U8(0, 1, 1, 0));
  op_test t;
  build(&t, 7, "And", 2, (tin[]){IN(INT32, 1, D(1), I32(1)),
                                  IN(INT32, 1, D(1), I32(1))});
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "dtype int32");
}

/* --- Where --- */

static void test_where(void **state) {
  (void)state;
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    build(&t, 16, "Where", 3,
          (tin[]){IN(BOOL, 2, D(2, 1), U8(1, 0)),
                  IN(INT64, 1, D(3), I64(1, 2, 3)),
                  IN(INT64, 0, NONE, I64(-5))});
    assert_int_equal(op_test_run(&t, threads), ONNXI_OK);
    op_test_expect(&t, 0, INT64, 2, D(2, 3), I64(1, 2, 3, -5, -5, -5), 0, 0);
    op_test_release(&t);
  }
  op_test t;
  build(&t, 16, "Where", 3,
        (tin[]){IN(BOOL, 2, D(2, 2), U8(1, 0, 1, 1)),
                IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)),
                IN(FLOAT, 2, D(2, 2), F32(9, 8, 7, 6))});
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), F32(1, 8, 3, 4), 0, 0);
  op_test_release(&t);
  build(&t, 16, "Where", 3,
        (tin[]){IN(BOOL, 1, D(2), U8(0, 1)),
                IN(UINT16, 1, D(2), U16(1, 2)),
                IN(UINT16, 2, D(2, 1), U16(7, 8))});
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, UINT16, 2, D(2, 2), U16(7, 2, 8, 2), 0, 0);
  op_test_release(&t);
  build(&t, 16, "Where", 3,
        (tin[]){IN(INT32, 1, D(1), I32(1)), IN(FLOAT, 1, D(1), F32(1)),
                IN(FLOAT, 1, D(1), F32(2))});
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "expected bool");
  build(&t, 16, "Where", 3,
        (tin[]){IN(BOOL, 1, D(1), U8(1)), IN(FLOAT, 1, D(1), F32(1)),
                IN(DOUBLE, 1, D(1), F64(2))});
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "dtype");
}

/* --- PRelu --- */

static void test_prelu(void **state) {
  (void)state;
  const float x[] = {-2, -1, 0, 1, -4, 5, -6, 7};
  const float want[] = {-1.0f, -0.5f, 0.0f, 1.0f, -1.0f, 5.0f, -1.5f, 7.0f};
  /* slope [C,1,1] as a graph input and as a constant */
  check2("PRelu", IN(FLOAT, 4, D(1, 2, 2, 2), x),
         IN(FLOAT, 3, D(2, 1, 1), F32(0.5f, 0.25f)), FLOAT, 4,
         D(1, 2, 2, 2), want);
  op_test t;
  op_test_init(&t, 16);
  int xi = op_test_input(&t, "X", FLOAT, 4, D(1, 2, 2, 2), x);
  int si = op_test_const(&t, "S", FLOAT, 3, D(2, 1, 1), F32(0.5f, 0.25f));
  int y = op_test_value(&t, "Y");
  op_test_node(&t, "PRelu", (int[]){xi, si}, 2, &y, 1);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, FLOAT, 4, D(1, 2, 2, 2), want, 0, 0);
  op_test_release(&t);
  /* constant per-last-dim slope on rank 2: XNNPACK's prelu_nc shape */
  op_test_init(&t, 16);
  xi = op_test_input(&t, "X", FLOAT, 2, D(2, 3), F32(-1, -1, -1, 2, -2, 2));
  si = op_test_const(&t, "S", FLOAT, 1, D(3), F32(1, 2, 3));
  y = op_test_value(&t, "Y");
  op_test_node(&t, "PRelu", (int[]){xi, si}, 2, &y, 1);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 2), ONNXI_OK);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 3), F32(-1, -2, -3, 2, -4, 2), 0, 0);
  op_test_release(&t);
  /* the same as graph inputs (own kernel), int32 */
  check2("PRelu", IN(FLOAT, 2, D(2, 3), F32(-1, -1, -1, 2, -2, 2)),
         IN(FLOAT, 1, D(3), F32(1, 2, 3)), FLOAT, 2, D(2, 3),
         F32(-1, -2, -3, 2, -4, 2));
  check2("PRelu", IN(INT32, 1, D(3), I32(-3, 0, 3)),
         IN(INT32, 1, D(1), I32(2)), INT32, 1, D(3), I32(-6, 0, 3));
  /* the slope must broadcast to X, not the other way */
  build(&t, 16, "PRelu", 2, (tin[]){IN(FLOAT, 1, D(3), F32(1, 2, 3)),
                                     IN(FLOAT, 2, D(2, 3), F32(1, 2, 3, 4, 5, 6))});
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "slope");
}

/* --- fused clamp (what the Relu-folding pass writes) --- */

static void test_fused_clamp(void **state) {
  (void)state;
  const char *ops[] = {"Add", "Max", "Sub"};
  const float want[][4] = {{0, 1, 3, 3}, {2, 2, 3, 3}, {0, 0, 1, 2}};
  for (int i = 0; i < 3; i++)
    for (int dt = 0; dt < 2; dt++) {
      op_test t;
      const tin a = IN(FLOAT, 1, D(4), F32(-5, -1, 3, 4));
      const tin b = IN(FLOAT, 1, D(1), F32(2));
      const double a64[] = {-5, -1, 3, 4}, b64[] = {2};
      const tin a2 = IN(DOUBLE, 1, D(4), a64), b2 = IN(DOUBLE, 1, D(1), b64);
      int n = build(&t, 14, ops[i], 2, dt ? (tin[]){a2, b2} : (tin[]){a, b});
      op_test_attr_float(&t, n, "onnxi.clamp_min", 0);
      op_test_attr_float(&t, n, "onnxi.clamp_max", 3);
      assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
      if (dt) {
        double w[4];
        for (int k = 0; k < 4; k++) w[k] = want[i][k];
        op_test_expect(&t, 0, DOUBLE, 1, D(4), w, 0, 0);
      } else {
        op_test_expect(&t, 0, FLOAT, 1, D(4), want[i], 0, 0);
      }
      op_test_release(&t);
    }
  op_test t;
  int n = build(&t, 14, "Add", 2, (tin[]){IN(INT32, 1, D(1), I32(1)),
                                           IN(INT32, 1, D(1), I32(1))});
  op_test_attr_float(&t, n, "onnxi.clamp_min", 0);
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "clamp");
  n = build(&t, 14, "Add", 2, (tin[]){IN(FLOAT, 1, D(1), F32(1)),
                                       IN(FLOAT, 1, D(1), F32(1))});
  op_test_attr_float(&t, n, "onnxi.clamp_min", 1);
  op_test_attr_float(&t, n, "onnxi.clamp_max", 0);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "clamp");
}

/* --- large tensors: threading, XNNPACK vs own kernels, >6 collapsed dims --- */

static void test_large_threads(void **state) {
  (void)state;
  enum { R = 64, C = 1024 };
  int32_t *a = malloc(sizeof(int32_t) * R * C), *want = malloc(sizeof(int32_t) * R * C);
  float *fa = malloc(sizeof(float) * R * C), *fw = malloc(sizeof(float) * R * C);
  int32_t b[C];
  float fb[R];
  for (int j = 0; j < C; j++) b[j] = j * 7 - 3000;
  for (int i = 0; i < R; i++) fb[i] = 0.5f * (float)i - 3;
  for (int i = 0; i < R * C; i++) {
    a[i] = i * 13 - 400000;
    fa[i] = (float)(i % 977) * 0.25f;
    want[i] = a[i] - b[i % C];
    fw[i] = fa[i] * fb[i / C];
  }
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    build(&t, 14, "Sub", 2, (tin[]){IN(INT32, 2, D(R, C), a),
                                     IN(INT32, 1, D(C), b)});
    assert_int_equal(op_test_run(&t, threads), ONNXI_OK);
    op_test_expect(&t, 0, INT32, 2, D(R, C), want, 0, 0);
    op_test_release(&t);
    build(&t, 14, "Mul", 2, (tin[]){IN(FLOAT, 2, D(R, C), fa),
                                     IN(FLOAT, 2, D(R, 1), fb)});
    assert_int_equal(op_test_run(&t, threads), ONNXI_OK);
    op_test_expect(&t, 0, FLOAT, 2, D(R, C), fw, 0, 0);
    op_test_release(&t);
  }
  free(a), free(want), free(fa), free(fw);
}

/* Alternating broadcast over 8 dims cannot collapse below XNNPACK's 6. */
static void test_eight_dims(void **state) {
  (void)state;
  float a[16], b[16], want[256];
  for (int i = 0; i < 16; i++) a[i] = (float)i, b[i] = 100.0f * (float)i;
  for (int i = 0; i < 256; i++) {
    int ia = 0, ib = 0;
    for (int d = 0; d < 8; d++) {
      int bit = (i >> (7 - d)) & 1;
      if (d % 2 == 0) ia = ia * 2 + bit;
      else ib = ib * 2 + bit;
    }
    want[i] = a[ia] + b[ib];
  }
  op_test t;
  build(&t, 14, "Add", 2, (tin[]){IN(FLOAT, 8, D(2, 1, 2, 1, 2, 1, 2, 1), a),
                                   IN(FLOAT, 8, D(1, 2, 1, 2, 1, 2, 1, 2), b)});
  assert_int_equal(op_test_run(&t, 2), ONNXI_OK);
  op_test_expect(&t, 0, FLOAT, 8, D(2, 2, 2, 2, 2, 2, 2, 2), want, 0, 0);
  op_test_release(&t);
}

/* --- in place: an intermediate dying at an INPLACE kernel is overwritten --- */

static void test_inplace_chain(void **state) {
  (void)state;
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    op_test_init(&t, 14);
    int x0 = op_test_input(&t, "X0", FLOAT, 2, D(2, 3), F32(1, 2, 3, 4, 5, 6));
    int x1 = op_test_input(&t, "X1", FLOAT, 2, D(2, 3), F32(1, 1, 1, 1, 1, 1));
    int x2 = op_test_input(&t, "X2", FLOAT, 1, D(3), F32(2, -1, 0.5f));
    int x3 = op_test_input(&t, "X3", FLOAT, 0, NONE, F32(4));
    int t1 = op_test_value(&t, "T1"), t2 = op_test_value(&t, "T2"), t3 = op_test_value(&t, "T3");
    int t4 = op_test_value(&t, "T4"), y = op_test_value(&t, "Y");
    op_test_node(&t, "Add", (int[]){x0, x1}, 2, &t1, 1);     /* 2 3 4 / 5 6 7 */
    op_test_node(&t, "Mul", (int[]){t1, x2}, 2, &t2, 1);     /* 4 -3 2 / 10 -6 3.5 */
    op_test_node(&t, "Max", (int[]){t2, x2, x3}, 3, &t3, 1); /* 4 4 4 / 10 4 4 */
    op_test_node(&t, "Div", (int[]){t3, x2}, 2, &t4, 1);     /* 2 -4 8 / 5 -4 8 */
    op_test_node(&t, "Sub", (int[]){t4, x3}, 2, &y, 1);
    op_test_output(&t, y);
    assert_int_equal(op_test_run(&t, threads), ONNXI_OK);
    op_test_expect(&t, 0, FLOAT, 2, D(2, 3), F32(-2, -8, 4, 1, -8, 4), 0, 0);
    op_test_release(&t);
  }
  /* int8 -> bool (same size) through a comparison, then logic */
  op_test t;
  op_test_init(&t, 14);
  int a = op_test_input(&t, "A", INT8, 1, D(4), I8(1, -2, 3, 120));
  int b = op_test_input(&t, "B", INT8, 1, D(4), I8(1, 1, 1, 10));
  int m = op_test_input(&t, "M", BOOL, 1, D(4), U8(1, 1, 0, 1));
  int t1 = op_test_value(&t, "T1"), t2 = op_test_value(&t, "T2"), y = op_test_value(&t, "Y");
  op_test_node(&t, "Add", (int[]){a, b}, 2, &t1, 1); /* 2 -1 4 -126 */
  op_test_node(&t, "Less", (int[]){t1, b}, 2, &t2, 1);
  op_test_node(&t, "And", (int[]){t2, m}, 2, &y, 1);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, BOOL, 1, D(4), U8(0, 1, 0, 1), 0, 0);
  op_test_release(&t);
}

/* --- NHWC operands, driving the kernel hooks directly (graph inputs are
 * always plain, so the harness cannot feed NHWC) --- */

typedef struct direct {
  ir_node node;
  int32_t ids[4];
  onnxi_error err;
  op_context ctx;
  const op_kernel *k;
  void *state;
} direct;

static void direct_init(direct *d, ir_op op, const char *op_type, int n_in) {
  memset(d, 0, sizeof *d);
  for (int i = 0; i < 4; i++) d->ids[i] = i;
  d->node = (ir_node){.name = "n", .op_type = op_type, .domain = "", .op = op,
                      .n_inputs = n_in, .n_outputs = 1, .inputs = d->ids, .outputs = d->ids + 3};
  d->ctx = (op_context){.model = "direct", .node = &d->node, .opset = 14, .err = &d->err};
  d->k = op_kernel_find(op);
  assert_non_null(d->k);
  d->state = calloc(1, d->k->state_size);
  assert_int_equal(d->k->init(&d->ctx, d->state), ONNXI_OK);
}

/* layout, infer, setup, run; the output buffer is malloc'ed. */
static void direct_run(direct *d, op_tensor **in, int n_in, op_tensor *out, ir_layout want) {
  op_tensor *outs[1] = {out};
  assert_int_equal(d->k->layout(&d->ctx, d->state, in, n_in), want);
  assert_int_equal(d->k->infer(&d->ctx, d->state, in, n_in, outs, 1), ONNXI_OK);
  assert_true(op_dims_count(out->dims, out->rank, &out->count));
  out->nbytes = (size_t)out->count * ir_dtype_size(out->dtype);
  out->data = calloc(1, out->nbytes + 1);
  assert_int_equal(d->k->setup(&d->ctx, d->state, in, n_in, outs, 1), ONNXI_OK);
  assert_int_equal(d->k->run(&d->ctx, d->state, in, n_in, outs, 1), ONNXI_OK);
  d->k->release(d->state);
  free(d->state);
}

/* NCHW index -> NHWC storage index */
static int nhwc_at(int n, int c, int h, int w, int C, int H, int W) {
  return ((n * H + h) * W + w) * C + c;
}

static void test_nhwc_broadcast(void **state) {
  (void)state;
  enum { N = 2, C = 3, H = 2, W = 2, S = N * C * H * W };
  float x[S], bias[C] = {10, 20, 30}, scale[N * C], want_add[S], want_mul[S], want_pr[S];
  int32_t xi[S], want_i[S];
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      scale[n * C + c] = (float)(n * C + c) - 2;
      for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++) {
          int s = nhwc_at(n, c, h, w, C, H, W), v = ((n * C + c) * H + h) * W + w - 11;
          x[s] = (float)v, xi[s] = v;
          want_add[s] = x[s] + bias[c];
          want_mul[s] = x[s] * scale[n * C + c];
          want_pr[s] = x[s] < 0 ? x[s] * bias[c] : x[s];
          want_i[s] = v - (c + 1);
        }
    }
  /* Add: NHWC [N,C,H,W] + plain [C,1,1] (XNNPACK) */
  op_tensor tx = {.dtype = FLOAT, .rank = 4, .dims = {N, C, H, W},
                  .layout = IR_LAYOUT_NHWC, .data = x, .nbytes = sizeof x};
  op_tensor tb = {.dtype = FLOAT, .rank = 3, .dims = {C, 1, 1}, .data = bias,
                  .nbytes = sizeof bias, .is_const = true};
  op_tensor out = {0};
  direct d;
  direct_init(&d, IR_OP_ADD, "Add", 2);
  direct_run(&d, (op_tensor *[]){&tx, &tb}, 2, &out, IR_LAYOUT_NHWC);
  assert_int_equal(out.layout, IR_LAYOUT_NHWC);
  assert_memory_equal(out.data, want_add, sizeof want_add);
  free(out.data);
  /* Mul: NHWC by a rank-4 [N,C,1,1] (layout-trivial) operand */
  op_tensor ts = {.dtype = FLOAT, .rank = 4, .dims = {N, C, 1, 1}, .data = scale,
                  .nbytes = sizeof scale};
  memset(&out, 0, sizeof out);
  direct_init(&d, IR_OP_MUL, "Mul", 2);
  direct_run(&d, (op_tensor *[]){&ts, &tx}, 2, &out, IR_LAYOUT_NHWC);
  assert_int_equal(out.layout, IR_LAYOUT_NHWC);
  assert_memory_equal(out.data, want_mul, sizeof want_mul);
  free(out.data);
  /* PRelu with a constant per-channel slope: XNNPACK prelu_nc */
  memset(&out, 0, sizeof out);
  direct_init(&d, IR_OP_PRELU, "PRelu", 2);
  direct_run(&d, (op_tensor *[]){&tx, &tb}, 2, &out, IR_LAYOUT_NHWC);
  assert_memory_equal(out.data, want_pr, sizeof want_pr);
  free(out.data);
  /* int32 Sub through the own kernel */
  const int32_t ci[C] = {1, 2, 3};
  op_tensor txi = tx, tci = {.dtype = INT32, .rank = 3, .dims = {C, 1, 1},
                             .data = (void *)ci, .nbytes = sizeof ci};
  txi.dtype = INT32, txi.data = xi;
  memset(&out, 0, sizeof out);
  direct_init(&d, IR_OP_SUB, "Sub", 2);
  direct_run(&d, (op_tensor *[]){&txi, &tci}, 2, &out, IR_LAYOUT_NHWC);
  assert_memory_equal(out.data, want_i, sizeof want_i);
  free(out.data);
  /* [H,W] pads to [1,1,H,W]: layout-trivial, so it broadcasts in NHWC */
  float hw[H * W] = {100, 200, 300, 400}, want_hw[S];
  for (int i = 0; i < S; i++) want_hw[i] = x[i] + hw[(i / C) % (H * W)];
  op_tensor thw = {.dtype = FLOAT, .rank = 2, .dims = {H, W}, .data = hw,
                   .nbytes = sizeof hw};
  memset(&out, 0, sizeof out);
  direct_init(&d, IR_OP_ADD, "Add", 2);
  direct_run(&d, (op_tensor *[]){&tx, &thw}, 2, &out, IR_LAYOUT_NHWC);
  assert_memory_equal(out.data, want_hw, sizeof want_hw);
  free(out.data);
  /* a [C,H,W] operand is not layout-trivial: the op stays plain */
  op_tensor tchw = {.dtype = FLOAT, .rank = 3, .dims = {C, H, W}};
  direct_init(&d, IR_OP_ADD, "Add", 2);
  assert_int_equal(d.k->layout(&d.ctx, d.state, (op_tensor *[]){&tx, &tchw}, 2),
                   IR_LAYOUT_PLAIN);
  d.k->release(d.state);
  free(d.state);
}

/* --- errors --- */

static void test_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, 14, "Add", 2, (tin[]){IN(FLOAT, 2, D(2, 3), F32(1, 2, 3, 4, 5, 6)),
                                   IN(FLOAT, 1, D(4), F32(1, 2, 3, 4))});
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "do not broadcast");
  build(&t, 14, "Mul", 2, (tin[]){IN(FLOAT, 1, D(1), F32(1)),
                                   IN(INT32, 1, D(1), I32(1))});
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 1 has dtype int32");
  build(&t, 14, "Add", 1, (tin[]){IN(FLOAT, 1, D(1), F32(1))});
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "expects 2 inputs");
  build(&t, 13, "Less", 2, (tin[]){IN(BOOL, 1, D(1), U8(1)),
                                    IN(BOOL, 1, D(1), U8(1))});
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "dtype bool");
  build(&t, 15, "Pow", 2, (tin[]){IN(INT8, 1, D(1), I8(2)),
                                   IN(INT8, 1, D(1), I8(2))});
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "dtype int8");
  build(&t, 15, "Pow", 2, (tin[]){IN(FLOAT, 1, D(1), F32(2)),
                                   IN(BOOL, 1, D(1), U8(1))});
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "exponent dtype bool");
}

/* --- BitShift (numpy left_shift / right_shift on unsigned types) --- */

static void shift_check(const char *dir, tin a, tin b, int32_t dt, int rank, const int64_t *dims,
                        const void *want) {
  op_test t;
  int n = build(&t, 11, "BitShift", 2, (tin[]){a, b});
  op_test_attr_string(&t, n, "direction", dir);
  if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, dt, rank, dims, want, 0, 0);
  op_test_release(&t);
}

static void test_bitshift(void **state) {
  (void)state;
  shift_check("LEFT", IN(UINT8, 1, D(3), U8(1, 3, 255)), IN(UINT8, 1, D(3), U8(1, 2, 1)), UINT8, 1,
              D(3), U8(2, 12, 254));
  shift_check("RIGHT", IN(UINT32, 1, D(3), U32(16, 4, 0xffffffffu)), IN(UINT32, 0, NONE, U32(2)),
              UINT32, 1, D(3), U32(4, 1, 0x3fffffffu));
  /* shifts of the width or more give 0 */
  shift_check("LEFT", IN(UINT64, 1, D(2), U64(1, 1)), IN(UINT64, 1, D(2), U64(63, 64)), UINT64, 1,
              D(2), U64(UINT64_C(1) << 63, 0));
  shift_check("RIGHT", IN(UINT16, 1, D(2), U16(0x8000, 0x8000)), IN(UINT16, 1, D(2), U16(15, 16)),
              UINT16, 1, D(2), U16(1, 0));
  op_test t;
  int n = build(&t, 11, "BitShift", 2,
                (tin[]){IN(UINT8, 1, D(1), U8(1)), IN(UINT8, 1, D(1), U8(1))});
  op_test_attr_string(&t, n, "direction", "UP");
  assert_int_equal(op_test_run(&t, 1), ONNXI_ERR_INVALID_MODEL);
  op_test_release(&t);
  build(&t, 11, "BitShift", 2, (tin[]){IN(INT32, 1, D(1), I32(1)), IN(INT32, 1, D(1), I32(1))});
  assert_int_equal(op_test_run(&t, 1), ONNXI_ERR_INVALID_MODEL); /* direction is required */
  op_test_release(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bitshift),
      cmocka_unit_test(test_add_same_shape),
      cmocka_unit_test(test_add_scalar_both_sides),
      cmocka_unit_test(test_add_channel_bias),
      cmocka_unit_test(test_mul_channel_scale),
      cmocka_unit_test(test_rank_mismatch_f32),
      cmocka_unit_test(test_rank_mismatch_other_floats),
      cmocka_unit_test(test_int_arith),
      cmocka_unit_test(test_div_by_zero),
      cmocka_unit_test(test_mod),
      cmocka_unit_test(test_mod_errors),
      cmocka_unit_test(test_pow),
      cmocka_unit_test(test_variadic),
      cmocka_unit_test(test_variadic_uncovered),
      cmocka_unit_test(test_variadic_one_input_and_nan),
      cmocka_unit_test(test_compare),
      cmocka_unit_test(test_logic),
      cmocka_unit_test(test_where),
      cmocka_unit_test(test_prelu),
      cmocka_unit_test(test_fused_clamp),
      cmocka_unit_test(test_large_threads),
      cmocka_unit_test(test_eight_dims),
      cmocka_unit_test(test_inplace_chain),
      cmocka_unit_test(test_nhwc_broadcast),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
