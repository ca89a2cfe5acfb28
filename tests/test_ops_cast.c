/* Cast through the real executor: every pair of numeric dtypes on small
 * integers, float -> integer truncation and saturation, integer wrapping,
 * bool, float16/bfloat16 rounding, numbers to strings the way numpy's str()
 * prints them, strings to numbers, constant folding, old opsets, errors.
 * Expected strings and bit patterns come from numpy. */
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

/* X (dtype `from`, graph input or initializer) -> Cast(to) -> Y. */
static void build_cast(op_test *t, int64_t opset, int32_t from, int32_t to, int n, const void *x,
                       bool constant) {
  op_test_init(t, opset);
  int xi =
      constant ? op_test_const(t, "X", from, 1, D(n), x) : op_test_input(t, "X", from, 1, D(n), x);
  int y = op_test_value(t, "Y");
  int node = op_test_node(t, "Cast", &xi, 1, &y, 1);
  op_test_attr_int(t, node, "to", to);
  op_test_output(t, y);
}

static void cast_check(int32_t from, int32_t to, int n, const void *x, const void *want) {
  for (int constant = 0; constant <= 1; constant++) {
    op_test t;
    build_cast(&t, 13, from, to, n, x, constant);
    if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%d -> %d: %s", from, to, t.err.message);
    op_test_expect(&t, 0, to, 1, D(n), want, 0, 0);
    op_test_release(&t);
  }
}

static void expect_error(op_test *t, onnxi_status want, const char *needle) {
  assert_int_equal(op_test_run(t, 1), want);
  if (!strstr(t->err.message, needle)) fail_msg("message '%s' lacks '%s'", t->err.message, needle);
  op_test_release(t);
}

/* --- the whole numeric matrix --- */

static const int32_t numeric_types[] = {
    ONNXI_DTYPE_BOOL,    ONNXI_DTYPE_INT8,  ONNXI_DTYPE_INT16,  ONNXI_DTYPE_INT32,
    ONNXI_DTYPE_INT64,   ONNXI_DTYPE_UINT8, ONNXI_DTYPE_UINT16, ONNXI_DTYPE_UINT32,
    ONNXI_DTYPE_UINT64,  ONNXI_DTYPE_FLOAT, ONNXI_DTYPE_DOUBLE, ONNXI_DTYPE_FLOAT16,
    ONNXI_DTYPE_BFLOAT16};

/* Writes small integer v as element i of a dtype buffer. */
static void put(int32_t dtype, void *buf, int i, int v) {
  switch (dtype) {
  case ONNXI_DTYPE_BOOL: ((uint8_t *)buf)[i] = v != 0; break;
  case ONNXI_DTYPE_INT8: ((int8_t *)buf)[i] = (int8_t)v; break;
  case ONNXI_DTYPE_INT16: ((int16_t *)buf)[i] = (int16_t)v; break;
  case ONNXI_DTYPE_INT32: ((int32_t *)buf)[i] = v; break;
  case ONNXI_DTYPE_INT64: ((int64_t *)buf)[i] = v; break;
  case ONNXI_DTYPE_UINT8: ((uint8_t *)buf)[i] = (uint8_t)v; break;
  case ONNXI_DTYPE_UINT16: ((uint16_t *)buf)[i] = (uint16_t)v; break;
  case ONNXI_DTYPE_UINT32: ((uint32_t *)buf)[i] = (uint32_t)v; break;
  case ONNXI_DTYPE_UINT64: ((uint64_t *)buf)[i] = (uint64_t)v; break;
  case ONNXI_DTYPE_FLOAT: ((float *)buf)[i] = (float)v; break;
  case ONNXI_DTYPE_DOUBLE: ((double *)buf)[i] = v; break;
  case ONNXI_DTYPE_FLOAT16: ((uint16_t *)buf)[i] = op_f32_to_f16((float)v); break;
  case ONNXI_DTYPE_BFLOAT16: ((uint16_t *)buf)[i] = op_f32_to_bf16((float)v); break;
  default: fail();
  }
}

/* 169 pairs on values every type holds exactly; 21 elements so the
 * 16-element blocks and the tail both run. */
static void test_matrix(void **state) {
  (void)state;
  enum { N = 21 };
  size_t nt = sizeof numeric_types / sizeof *numeric_types;
  for (size_t a = 0; a < nt; a++) {
    for (size_t b = 0; b < nt; b++) {
      int32_t from = numeric_types[a], to = numeric_types[b];
      uint64_t x[N], want[N];
      for (int i = 0; i < N; i++) {
        int v = from == ONNXI_DTYPE_BOOL ? i % 2 : (i * 37) % 121;
        put(from, x, i, v);
        put(to, want, i, v);
      }
      cast_check(from, to, N, x, want);
    }
  }
}

/* --- semantics of lossy conversions --- */

static void test_float_to_int(void **state) {
  (void)state;
  /* truncation toward zero; out of range saturates; NaN -> 0 */
  cast_check(ONNXI_DTYPE_FLOAT, ONNXI_DTYPE_INT32, 8,
             F32(2.9f, -2.9f, -0.5f, 3e9f, -3e9f, NAN, INFINITY, 2147483520.0f),
             I32(2, -2, 0, INT32_MAX, INT32_MIN, 0, INT32_MAX, 2147483520));
  cast_check(ONNXI_DTYPE_FLOAT, ONNXI_DTYPE_UINT8, 5, F32(-1, 300, 255.9f, 0.5f, NAN),
             U8(0, 255, 255, 0, 0));
  cast_check(ONNXI_DTYPE_DOUBLE, ONNXI_DTYPE_INT64, 4,
             F64(-9.3e18, 9.3e18, -1.5, 4503599627370497.0),
             I64(INT64_MIN, INT64_MAX, -1, 4503599627370497));
  cast_check(ONNXI_DTYPE_DOUBLE, ONNXI_DTYPE_UINT64, 3, F64(-5, 2e19, 1e19),
             U64(0, UINT64_MAX, 10000000000000000000u));
  cast_check(ONNXI_DTYPE_FLOAT16, ONNXI_DTYPE_INT8, 3,
             U16(op_f32_to_f16(-200), op_f32_to_f16(-7.75f), op_f32_to_f16(1000)),
             I8(-128, -7, 127));
}

static void test_int_and_bool(void **state) {
  (void)state;
  /* integer narrowing wraps (numpy astype) */
  cast_check(ONNXI_DTYPE_INT32, ONNXI_DTYPE_INT8, 4, I32(300, -129, 127, -1), I8(44, 127, 127, -1));
  cast_check(ONNXI_DTYPE_INT32, ONNXI_DTYPE_UINT8, 2, I32(-1, 256), U8(255, 0));
  cast_check(ONNXI_DTYPE_UINT64, ONNXI_DTYPE_DOUBLE, 2, U64(UINT64_MAX, 1),
             F64(18446744073709551616.0, 1));
  cast_check(ONNXI_DTYPE_INT64, ONNXI_DTYPE_FLOAT, 2, I64(16777217, -3), F32(16777216, -3));
  /* bool: any non-zero (and NaN) is true */
  cast_check(ONNXI_DTYPE_FLOAT, ONNXI_DTYPE_BOOL, 5, F32(0.5f, 0, -0.0f, NAN, -3),
             U8(1, 0, 0, 1, 1));
  cast_check(ONNXI_DTYPE_INT64, ONNXI_DTYPE_BOOL, 3, I64(0, 256, INT64_MIN), U8(0, 1, 1));
  cast_check(ONNXI_DTYPE_BOOL, ONNXI_DTYPE_FLOAT, 2, U8(1, 0), F32(1, 0));
  cast_check(ONNXI_DTYPE_DOUBLE, ONNXI_DTYPE_FLOAT, 3, F64(1e300, -1e300, 0.1),
             F32(INFINITY, -INFINITY, 0.1f));
}

static void test_half(void **state) {
  (void)state;
  /* numpy: float16(0.1) = 0x2e66, float16(65504) = 0x7bff, float16(1e-7) = 0x0002 */
  cast_check(ONNXI_DTYPE_FLOAT, ONNXI_DTYPE_FLOAT16, 5, F32(0.1f, 65504, 1e-7f, -3.14159f, 1e6f),
             U16(0x2e66, 0x7bff, 0x0002, 0xc248, 0x7c00));
  cast_check(ONNXI_DTYPE_FLOAT16, ONNXI_DTYPE_DOUBLE, 3, U16(0x2e66, 0x0001, 0xfc00),
             F64(0.0999755859375, 5.9604644775390625e-08, -INFINITY));
  /* bfloat16 truncates like ONNX 1.12's reference: 1 + 2^-8 -> 1, 1 + 3 * 2^-8 -> 1 + 2^-7 */
  cast_check(ONNXI_DTYPE_FLOAT, ONNXI_DTYPE_BFLOAT16, 4,
             F32(1.00390625f, 1.01171875f, NAN, -INFINITY), U16(0x3f80, 0x3f81, 0x7fc0, 0xff80));
  cast_check(ONNXI_DTYPE_BFLOAT16, ONNXI_DTYPE_FLOAT, 2, U16(0x3ef5, 0xc000),
             F32(0.478515625f, -2));
  cast_check(ONNXI_DTYPE_FLOAT16, ONNXI_DTYPE_BFLOAT16, 1, U16(0x3c00), U16(0x3f80));
}

/* --- strings --- */

static void test_to_string(void **state) {
  (void)state;
  cast_check(ONNXI_DTYPE_FLOAT, ONNXI_DTYPE_STRING, 18,
             F32(0.5f, 1, 100, 1e16f, 1.5e-5f, 1e-4f, 123456789.0f, 0.1f, -0.0f, NAN, INFINITY,
                 -INFINITY, 3.4e38f, 1e-45f, 0.039187793f, 16777216.0f, -2.5e-7f, 1234.5678f),
             ((const ir_string[]){S("0.5"), S("1.0"), S("100.0"), S("1e+16"), S("1.5e-05"),
                                  S("1e-04"), S("123456790.0"), S("0.1"), S("-0.0"), S("nan"),
                                  S("inf"), S("-inf"), S("3.4e+38"), S("1e-45"), S("0.039187793"),
                                  S("16777216.0"), S("-2.5e-07"), S("1234.5677")}));
  cast_check(ONNXI_DTYPE_DOUBLE, ONNXI_DTYPE_STRING, 7,
             F64(0.1, 1.0 / 3, 1e300, 123456789.0, -1e-5, 5e-324, 1152921504606846976.0),
             ((const ir_string[]){S("0.1"), S("0.3333333333333333"), S("1e+300"), S("123456789.0"),
                                  S("-1e-05"), S("5e-324"), S("1.152921504606847e+18")}));
  cast_check(ONNXI_DTYPE_FLOAT16, ONNXI_DTYPE_STRING, 5,
             U16(0x2e66, 0x7bff, 0x0002, 0xc248, 0x068e),
             ((const ir_string[]){S("0.1"), S("65500.0"), S("1e-07"), S("-3.14"), S("0.0001")}));
  cast_check(ONNXI_DTYPE_INT64, ONNXI_DTYPE_STRING, 3, I64(-5, INT64_MIN, 0),
             ((const ir_string[]){S("-5"), S("-9223372036854775808"), S("0")}));
  cast_check(ONNXI_DTYPE_UINT64, ONNXI_DTYPE_STRING, 1, U64(UINT64_MAX),
             ((const ir_string[]){S("18446744073709551615")}));
  cast_check(ONNXI_DTYPE_BOOL, ONNXI_DTYPE_STRING, 2, U8(1, 0),
             ((const ir_string[]){S("True"), S("False")}));
}

static void test_from_string(void **state) {
  (void)state;
  /* the node test's strings */
  const ir_string in[] = {S("0.47892547"), S("INF"), S("+INF"), S("-INF"), S("NaN"), S(" 2.5 ")};
  cast_check(ONNXI_DTYPE_STRING, ONNXI_DTYPE_FLOAT, 6, in,
             F32(0.47892547f, INFINITY, INFINITY, -INFINITY, NAN, 2.5f));
  cast_check(ONNXI_DTYPE_STRING, ONNXI_DTYPE_DOUBLE, 2,
             ((const ir_string[]){S("0.1"), S("-1e-300")}), F64(0.1, -1e-300));
  cast_check(ONNXI_DTYPE_STRING, ONNXI_DTYPE_INT64, 4,
             ((const ir_string[]){S("-9223372036854775808"), S("42"), S("1e3"), S("-2.7")}),
             I64(INT64_MIN, 42, 1000, -2));
  cast_check(ONNXI_DTYPE_STRING, ONNXI_DTYPE_UINT64, 1,
             ((const ir_string[]){S("18446744073709551615")}), U64(UINT64_MAX));
  cast_check(ONNXI_DTYPE_STRING, ONNXI_DTYPE_INT8, 2, ((const ir_string[]){S("-7"), S("300")}),
             I8(-7, 44));
  cast_check(ONNXI_DTYPE_STRING, ONNXI_DTYPE_BOOL, 4,
             ((const ir_string[]){S("True"), S("false"), S("0"), S("2.5")}), U8(1, 0, 0, 1));
  cast_check(ONNXI_DTYPE_STRING, ONNXI_DTYPE_FLOAT16, 1, ((const ir_string[]){S("0.1")}),
             U16(0x2e66));
  /* string -> string keeps the text */
  cast_check(ONNXI_DTYPE_STRING, ONNXI_DTYPE_STRING, 2, ((const ir_string[]){S("a b"), S("")}),
             ((const ir_string[]){S("a b"), S("")}));
  /* float -> string -> float is exact */
  op_test t;
  op_test_init(&t, 13);
  const float xs[4] = {0.1f, 3.4028235e38f, 1.17549435e-38f, -7.0e-45f};
  int x = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 1, D(4), xs);
  int s = op_test_value(&t, "S"), y = op_test_value(&t, "Y");
  op_test_attr_int(&t, op_test_node(&t, "Cast", &x, 1, &s, 1), "to", ONNXI_DTYPE_STRING);
  op_test_attr_int(&t, op_test_node(&t, "Cast", &s, 1, &y, 1), "to", ONNXI_DTYPE_FLOAT);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 1, D(4), xs, 0, 0);
  op_test_release(&t);
}

static void test_old_opsets(void **state) {
  (void)state;
  for (int64_t opset = 6; opset <= 13; opset += 3) {
    op_test t;
    build_cast(&t, opset, ONNXI_DTYPE_FLOAT, ONNXI_DTYPE_INT64, 3, F32(1.5f, -2.5f, 7), false);
    assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
    op_test_expect(&t, 0, ONNXI_DTYPE_INT64, 1, D(3), I64(1, -2, 7), 0, 0);
    op_test_release(&t);
  }
}

/* A rank-4 tensor and an empty one. */
static void test_shapes(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 13);
  int x = op_test_input(&t, "X", ONNXI_DTYPE_UINT8, 4, D(1, 2, 1, 2), U8(0, 128, 255, 7));
  int y = op_test_value(&t, "Y");
  op_test_attr_int(&t, op_test_node(&t, "Cast", &x, 1, &y, 1), "to", ONNXI_DTYPE_FLOAT);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 2), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 4, D(1, 2, 1, 2), F32(0, 128, 255, 7), 0, 0);
  op_test_release(&t);
  op_test_init(&t, 13);
  x = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 2, D(0, 4), F32(0));
  y = op_test_value(&t, "Y");
  op_test_attr_int(&t, op_test_node(&t, "Cast", &x, 1, &y, 1), "to", ONNXI_DTYPE_STRING);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_STRING, 2, D(0, 4), NULL, 0, 0);
  op_test_release(&t);
}

static void test_errors(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 13);
  int x = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 1, D(1), F32(1));
  int y = op_test_value(&t, "Y");
  op_test_node(&t, "Cast", &x, 1, &y, 1);
  op_test_output(&t, y);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'to' is required");

  build_cast(&t, 13, ONNXI_DTYPE_FLOAT, 14, 1, F32(1), false); /* COMPLEX64 */
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "attribute 'to'");

  op_test_init(&t, 13);
  x = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 1, D(1), F32(1));
  y = op_test_value(&t, "Y");
  op_test_attr_float(&t, op_test_node(&t, "Cast", &x, 1, &y, 1), "to", 1.0f);
  op_test_output(&t, y);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'to' has type");

  build_cast(&t, 13, ONNXI_DTYPE_STRING, ONNXI_DTYPE_FLOAT, 2,
             ((const ir_string[]){S("1.5"), S("one")}), false);
  expect_error(&t, ONNXI_ERR_RUNTIME, "element 1 (\"one\") is not a float32 number");
  build_cast(&t, 13, ONNXI_DTYPE_STRING, ONNXI_DTYPE_INT32, 1, ((const ir_string[]){S("12abc")}),
             false);
  expect_error(&t, ONNXI_ERR_RUNTIME, "is not a int32 number");
  build_cast(&t, 13, ONNXI_DTYPE_STRING, ONNXI_DTYPE_FLOAT, 1, ((const ir_string[]){S("")}), false);
  expect_error(&t, ONNXI_ERR_RUNTIME, "element 0");
}

/* --- CastLike: the dtype comes from input 2, whose values are never read --- */

static void castlike_check(int32_t from, int32_t like, int n, const void *x, const void *like_data,
                           const void *want) {
  for (int constant = 0; constant <= 1; constant++) {
    op_test t;
    op_test_init(&t, 15);
    int in[2];
    in[0] = op_test_input(&t, "X", from, 1, D(n), x);
    in[1] = constant ? op_test_const(&t, "L", like, 1, D(1), like_data)
                     : op_test_input(&t, "L", like, 1, D(1), like_data);
    int y = op_test_value(&t, "Y");
    op_test_node(&t, "CastLike", in, 2, &y, 1);
    op_test_output(&t, y);
    if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%d like %d: %s", from, like, t.err.message);
    op_test_expect(&t, 0, like, 1, D(n), want, 0, 0);
    op_test_release(&t);
  }
}

static void test_castlike(void **state) {
  (void)state;
  /* numpy: np.float32([1, .5, -2, 65504, 1e-8]).astype(np.float16) */
  castlike_check(FLOAT, FLOAT16, 5, F32(1, 0.5f, -2, 65504, 1e-8f), U16(0),
                 U16(0x3c00, 0x3800, 0xc000, 0x7bff, 0x0000));
  /* np.float64([2.7, -2.7, 300.5]).astype(np.int32) truncates toward zero */
  castlike_check(DOUBLE, INT32, 3, F64(2.7, -2.7, 300.5), I32(99), I32(2, -2, 300));
  castlike_check(INT64, FLOAT, 2, I64(3, -1), F32(0.25f), F32(3, -1));
  castlike_check(FLOAT, STRING, 2, F32(0.5f, -3), STR(S("x")), STR(S("0.5"), S("-3.0")));

  op_test t;
  op_test_init(&t, 15);
  int x = op_test_input(&t, "X", FLOAT, 1, D(1), F32(1));
  int y = op_test_value(&t, "Y");
  op_test_node(&t, "CastLike", &x, 1, &y, 1);
  op_test_output(&t, y);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "CastLike");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matrix),       cmocka_unit_test(test_float_to_int),
      cmocka_unit_test(test_int_and_bool), cmocka_unit_test(test_half),
      cmocka_unit_test(test_to_string),    cmocka_unit_test(test_from_string),
      cmocka_unit_test(test_old_opsets),   cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_errors),       cmocka_unit_test(test_castlike),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
