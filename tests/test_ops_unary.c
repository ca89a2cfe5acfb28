/* Unary elementwise kernels through the real executor: every float op on
 * numpy-computed values, attribute defaults and overrides, double /
 * float16 / bfloat16, integer Abs/Neg/Relu (with INT_MIN wrapping), Clip in
 * its opset forms (attributes, constant and runtime bounds, omitted bounds,
 * min > max, integer types), Not, long inputs against double-precision libm
 * (the vectorised math and the threaded path), in-place chains and errors. */
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

/* X -> op -> Y, X a graph input; returns the node id. */
static int build1(op_test *t, int64_t opset, const char *op, int32_t dtype, int rank,
                  const int64_t *dims, const void *x) {
  op_test_init(t, opset);
  int xi = op_test_input(t, "X", dtype, rank, dims, x);
  int y = op_test_value(t, "Y");
  int n = op_test_node(t, op, &xi, 1, &y, 1);
  op_test_output(t, y);
  return n;
}

static void run_expect(op_test *t, int threads, int32_t dtype, int rank, const int64_t *dims,
                       const void *want, double rtol, double atol) {
  if (op_test_run(t, threads) != ONNXI_OK) fail_msg("run failed: %s", t->err.message);
  op_test_expect(t, 0, dtype, rank, dims, want, rtol, atol);
}

static void expect_error(op_test *t, onnxi_status want, const char *needle) {
  assert_int_equal(op_test_run(t, 1), want);
  if (!strstr(t->err.message, needle)) fail_msg("message '%s' lacks '%s'", t->err.message, needle);
  op_test_release(t);
}

/* --- every float op on one input (numpy float64 results rounded to float32) --- */

static const float unary_x[7] = {-3.5f, -1.0f, -0.25f, 0.0f, 0.5f, 2.0f, 7.25f};

typedef struct unary_case {
  const char *op;
  const float *want;
} unary_case;

static const unary_case unary_cases[] = {
    {"Abs", F32(3.5f, 1, 0.25f, 0, 0.5f, 2, 7.25f)},
    {"Neg", F32(3.5f, 1, 0.25f, -0.0f, -0.5f, -2, -7.25f)},
    {"Ceil", F32(-3, -1, -0.0f, 0, 1, 2, 8)},
    {"Floor", F32(-4, -1, -1, 0, 0, 2, 7)},
    {"Reciprocal", F32(-0.285714298f, -1, -4, INFINITY, 2, 0.5f, 0.137931034f)},
    {"Relu", F32(0, 0, 0, 0, 0.5f, 2, 7.25f)},
    {"LeakyRelu", F32(-0.0350000001f, -0.00999999978f, -0.00249999994f, 0, 0.5f, 2, 7.25f)},
    {"Elu", F32(-0.969802618f, -0.63212055f, -0.221199214f, 0, 0.5f, 2, 7.25f)},
    {"Selu",
     F32(-1.70500934f, -1.11133075f, -0.388890207f, 0, 0.525350511f, 2.10140204f, 7.61758232f)},
    {"Sigmoid", F32(0.0293122306f, 0.268941432f, 0.437823504f, 0.5f, 0.622459352f, 0.880797088f,
                    0.999290347f)},
    {"HardSigmoid", F32(0, 0.300000012f, 0.449999988f, 0.5f, 0.600000024f, 0.899999976f, 1)},
    {"HardSwish", F32(0, -0.333333343f, -0.114583336f, 0, 0.291666657f, 1.66666663f, 7.25f)},
    {"Exp",
     F32(0.0301973838f, 0.36787945f, 0.778800786f, 1, 1.64872122f, 7.38905621f, 1408.10486f)},
    {"Sin",
     F32(0.350783229f, -0.841470957f, -0.247403964f, 0, 0.47942555f, 0.909297407f, 0.823080897f)},
    {"Cos",
     F32(-0.93645668f, 0.540302277f, 0.968912423f, 1, 0.87758255f, -0.416146845f, 0.567924201f)},
    {"Tanh",
     F32(-0.998177886f, -0.761594176f, -0.244918659f, 0, 0.462117165f, 0.964027584f, 0.999998987f)},
    {"Erf", F32(-0.999999285f, -0.842700779f, -0.276326388f, 0, 0.520499885f, 0.995322287f, 1)},
    {"Softplus", F32(0.0297504179f, 0.313261688f, 0.575939417f, 0.693147182f, 0.974076986f,
                     2.12692809f, 7.25071001f)},
    {"Mish",
     F32(-0.104095757f, -0.30340147f, -0.129926965f, 0, 0.375245214f, 1.943959f, 7.24999285f)},
    {"Sqrt", F32(NAN, NAN, NAN, 0, 0.707106769f, 1.41421354f, 2.69258237f)},
    {"Log", F32(NAN, NAN, NAN, -INFINITY, -0.693147182f, 0.693147182f, 1.9810015f)},
    {"Round", F32(-4, -1, -0.0f, 0, 0, 2, 7)},
    {"Sign", F32(-1, -1, -1, 0, 1, 1, 1)},
    {"Softsign",
     F32(-0.777777791f, -0.5f, -0.200000003f, 0, 0.333333343f, 0.666666687f, 0.878787875f)},
    {"ThresholdedRelu", F32(0, 0, 0, 0, 0, 2, 7.25f)},
    {"Shrink", F32(-3.5f, -1, 0, 0, 0, 2, 7.25f)},
    {"Celu", F32(-0.969802618f, -0.63212055f, -0.221199214f, 0, 0.5f, 2, 7.25f)},
    {"Tan",
     F32(-0.374585629f, -1.55740774f, -0.255341917f, 0, 0.546302497f, -2.18503976f, 1.44927955f)},
    {"Asin", F32(NAN, -1.57079637f, -0.252680242f, 0, 0.52359879f, NAN, NAN)},
    {"Acos", F32(NAN, 3.14159274f, 1.82347655f, 1.57079637f, 1.04719758f, NAN, NAN)},
    {"Atan",
     F32(-1.29249668f, -0.785398185f, -0.244978666f, 0, 0.463647604f, 1.10714877f, 1.43373013f)},
    {"Sinh",
     F32(-16.5426273f, -1.17520118f, -0.252612323f, 0, 0.521095276f, 3.62686038f, 704.052063f)},
    {"Cosh", F32(16.5728245f, 1.54308069f, 1.03141308f, 1, 1.12762594f, 3.76219559f, 704.052795f)},
    {"Asinh",
     F32(-1.96572042f, -0.881373584f, -0.24746646f, 0, 0.481211811f, 1.44363546f, 2.67887139f)},
    {"Acosh", F32(NAN, NAN, NAN, NAN, NAN, 1.31695795f, 2.66935802f)},
    {"Atanh", F32(NAN, -INFINITY, -0.255412817f, 0, 0.549306154f, NAN, NAN)},
};

static void test_float_ops(void **state) {
  (void)state;
  for (size_t c = 0; c < sizeof unary_cases / sizeof *unary_cases; c++) {
    for (int threads = 1; threads <= 2; threads++) {
      op_test t;
      build1(&t, 14, unary_cases[c].op, ONNXI_DTYPE_FLOAT, 1, D(7), unary_x);
      if (op_test_run(&t, threads) != ONNXI_OK)
        fail_msg("%s: %s", unary_cases[c].op, t.err.message);
      op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 1, D(7), unary_cases[c].want, 2e-6, 1e-7);
      op_test_release(&t);
    }
  }
}

/* Same ops in double (libm reference), float16 and bfloat16 (float math,
 * result rounded to the narrow type). */
static void test_float_ops_other_dtypes(void **state) {
  (void)state;
  for (size_t c = 0; c < sizeof unary_cases / sizeof *unary_cases; c++) {
    const char *op = unary_cases[c].op;
    double xd[7], wd[7];
    uint16_t xh[7], wh[7], xb[7], wb[7];
    for (int i = 0; i < 7; i++) {
      xd[i] = unary_x[i];
      wd[i] = unary_cases[c].want[i];
      xh[i] = op_f32_to_f16(unary_x[i]);
      wh[i] = op_f32_to_f16(unary_cases[c].want[i]);
      xb[i] = op_f32_to_bf16(unary_x[i]);
      wb[i] = op_f32_to_bf16(unary_cases[c].want[i]);
    }
    op_test t;
    build1(&t, 14, op, ONNXI_DTYPE_DOUBLE, 2, D(7, 1), xd);
    run_expect(&t, 1, ONNXI_DTYPE_DOUBLE, 2, D(7, 1), wd, 1e-6, 1e-7); /* want is float-rounded */
    op_test_release(&t);
    build1(&t, 14, op, ONNXI_DTYPE_FLOAT16, 1, D(7), xh);
    run_expect(&t, 1, ONNXI_DTYPE_FLOAT16, 1, D(7), wh, 1e-3, 1e-4);
    op_test_release(&t);
    build1(&t, 14, op, ONNXI_DTYPE_BFLOAT16, 1, D(7), xb);
    run_expect(&t, 1, ONNXI_DTYPE_BFLOAT16, 1, D(7), wb, 1e-2, 1e-3);
    op_test_release(&t);
  }
}

/* --- attributes --- */

static void check_attr(const char *op, const char *a1, float v1, const char *a2, float v2,
                       const float *want) {
  op_test t;
  int n = build1(&t, 14, op, ONNXI_DTYPE_FLOAT, 1, D(7), unary_x);
  if (a1) op_test_attr_float(&t, n, a1, v1);
  if (a2) op_test_attr_float(&t, n, a2, v2);
  run_expect(&t, 1, ONNXI_DTYPE_FLOAT, 1, D(7), want, 2e-6, 1e-7);
  op_test_release(&t);
}

static void test_attributes(void **state) {
  (void)state;
  check_attr("LeakyRelu", "alpha", 0.1f, NULL, 0, F32(-0.35f, -0.1f, -0.025f, 0, 0.5f, 2, 7.25f));
  check_attr("Elu", "alpha", 2.0f, NULL, 0,
             F32(-1.93960524f, -1.2642411f, -0.442398429f, 0, 0.5f, 2, 7.25f));
  /* alpha 0 (XNNPACK refuses it: our loop takes over) */
  check_attr("Elu", "alpha", 0.0f, NULL, 0, F32(0, 0, 0, 0, 0.5f, 2, 7.25f));
  check_attr("Selu", "alpha", 2.0f, "gamma", 3.0f,
             F32(-5.81881571f, -3.79272342f, -1.32719529f, 0, 1.5f, 6, 21.75f));
  check_attr("HardSigmoid", "alpha", 0.5f, "beta", 0.6f, F32(0, 0.1f, 0.475f, 0.6f, 0.85f, 1, 1));
  check_attr("ThresholdedRelu", "alpha", 0.4f, NULL, 0, F32(0, 0, 0, 0, 0.5f, 2, 7.25f));
  check_attr("Shrink", "lambd", 1.5f, "bias", 1.0f, F32(-2.5f, 0, 0, 0, 0, 1, 6.25f));
  /* numpy: np.where(x > 0, x, 2 * np.expm1(x / 2)) */
  check_attr("Celu", "alpha", 2.0f, NULL, 0,
             F32(-1.65245211f, -0.786938667f, -0.235006198f, 0, 0.5f, 2, 7.25f));
}

/* --- integer ops --- */

static void test_int_ops(void **state) {
  (void)state;
  op_test t;
  build1(&t, 14, "Abs", ONNXI_DTYPE_INT8, 1, D(5), I8(-128, -5, 0, 7, 127));
  run_expect(&t, 1, ONNXI_DTYPE_INT8, 1, D(5), I8(-128, 5, 0, 7, 127), 0, 0);
  op_test_release(&t);
  build1(&t, 14, "Neg", ONNXI_DTYPE_INT16, 1, D(4), I16(-32768, -5, 0, 32767));
  run_expect(&t, 1, ONNXI_DTYPE_INT16, 1, D(4), I16(-32768, 5, 0, -32767), 0, 0);
  op_test_release(&t);
  build1(&t, 14, "Neg", ONNXI_DTYPE_INT32, 1, D(3), I32(INT32_MIN, -9, 4));
  run_expect(&t, 1, ONNXI_DTYPE_INT32, 1, D(3), I32(INT32_MIN, 9, -4), 0, 0);
  op_test_release(&t);
  build1(&t, 14, "Abs", ONNXI_DTYPE_INT64, 1, D(3), I64(INT64_MIN, -9, 4));
  run_expect(&t, 1, ONNXI_DTYPE_INT64, 1, D(3), I64(INT64_MIN, 9, 4), 0, 0);
  op_test_release(&t);
  build1(&t, 14, "Relu", ONNXI_DTYPE_INT32, 1, D(4), I32(-3, 0, 5, INT32_MIN));
  run_expect(&t, 1, ONNXI_DTYPE_INT32, 1, D(4), I32(0, 0, 5, 0), 0, 0);
  op_test_release(&t);
  build1(&t, 14, "Sign", INT64, 1, D(4), I64(INT64_MIN, -5, 0, 9));
  run_expect(&t, 1, INT64, 1, D(4), I64(-1, -1, 0, 1), 0, 0);
  op_test_release(&t);
  build1(&t, 14, "Sign", UINT8, 1, D(3), U8(0, 1, 255));
  run_expect(&t, 1, UINT8, 1, D(3), U8(0, 1, 1), 0, 0);
  op_test_release(&t);
  build1(&t, 14, "Abs", ONNXI_DTYPE_UINT8, 1, D(3), U8(0, 200, 255));
  run_expect(&t, 1, ONNXI_DTYPE_UINT8, 1, D(3), U8(0, 200, 255), 0, 0);
  op_test_release(&t);
  /* 37 elements: full 16-element blocks plus a tail */
  int32_t x[37], w[37];
  for (int i = 0; i < 37; i++) x[i] = (i - 18) * 1000, w[i] = x[i] < 0 ? -x[i] : x[i];
  build1(&t, 14, "Abs", ONNXI_DTYPE_INT32, 1, D(37), x);
  run_expect(&t, 2, ONNXI_DTYPE_INT32, 1, D(37), w, 0, 0);
  op_test_release(&t);
}

static void test_not(void **state) {
  (void)state;
  op_test t;
  build1(&t, 14, "Not", ONNXI_DTYPE_BOOL, 2, D(2, 3), U8(1, 0, 0, 1, 1, 0));
  run_expect(&t, 1, ONNXI_DTYPE_BOOL, 2, D(2, 3), U8(0, 1, 1, 0, 0, 1), 0, 0);
  op_test_release(&t);
}

/* --- Clip --- */

static const float clip_x[6] = {-6, -1, 0, 0.5f, 1, 6};

/* Clip(X, min, max) at opset 13: bounds as graph inputs (runtime) or
 * initializers (constant), NULL = omitted. */
static void clip_check(bool constant, const float *lo, const float *hi, const float *want) {
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    op_test_init(&t, 13);
    int ins[3] = {op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 2, D(2, 3), clip_x), IR_NONE, IR_NONE};
    const float *b[2] = {lo, hi};
    for (int k = 0; k < 2; k++)
      if (b[k])
        ins[k + 1] = constant
                         ? op_test_const(&t, k ? "max" : "min", ONNXI_DTYPE_FLOAT, 0, NONE, b[k])
                         : op_test_input(&t, k ? "max" : "min", ONNXI_DTYPE_FLOAT, 0, NONE, b[k]);
    int y = op_test_value(&t, "Y");
    op_test_node(&t, "Clip", ins, hi ? 3 : lo ? 2 : 1, &y, 1);
    op_test_output(&t, y);
    run_expect(&t, threads, ONNXI_DTYPE_FLOAT, 2, D(2, 3), want, 0, 0);
    op_test_release(&t);
  }
}

static void test_clip_inputs(void **state) {
  (void)state;
  for (int constant = 0; constant <= 1; constant++) {
    clip_check(constant, F32(-1), F32(1), F32(-1, -1, 0, 0.5f, 1, 1));
    clip_check(constant, F32(0), NULL, F32(0, 0, 0, 0.5f, 1, 6));
    clip_check(constant, NULL, F32(0.5f), F32(-6, -1, 0, 0.5f, 0.5f, 0.5f));
    clip_check(constant, NULL, NULL, clip_x);
    /* min > max: min(max(x, 2), 1) = 1 everywhere */
    clip_check(constant, F32(2), F32(1), F32(1, 1, 1, 1, 1, 1));
    clip_check(constant, F32(0.5f), F32(0.5f), F32(0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f));
  }
}

static void test_clip_attributes(void **state) {
  (void)state;
  op_test t;
  int n = build1(&t, 6, "Clip", ONNXI_DTYPE_FLOAT, 2, D(2, 3), clip_x);
  op_test_attr_float(&t, n, "min", -0.5f);
  op_test_attr_float(&t, n, "max", 2.0f);
  run_expect(&t, 1, ONNXI_DTYPE_FLOAT, 2, D(2, 3), F32(-0.5f, -0.5f, 0, 0.5f, 1, 2), 0, 0);
  op_test_release(&t);
  n = build1(&t, 6, "Clip", ONNXI_DTYPE_DOUBLE, 1, D(3), F64(-1e300, 0, 1e300));
  op_test_attr_float(&t, n, "max", 3.0f); /* min defaults to no bound */
  run_expect(&t, 1, ONNXI_DTYPE_DOUBLE, 1, D(3), F64(-1e300, 0, 3), 0, 0);
  op_test_release(&t);
}

static void test_clip_dtypes(void **state) {
  (void)state;
  op_test t;
  /* int8 with only min (numpy: clip(x, 0, iinfo.max)) */
  op_test_init(&t, 12);
  int ins[3] = {op_test_input(&t, "X", ONNXI_DTYPE_INT8, 1, D(5), I8(-128, -3, 0, 9, 127)),
                op_test_const(&t, "min", ONNXI_DTYPE_INT8, 0, NONE, I8(0)), IR_NONE};
  int y = op_test_value(&t, "Y");
  op_test_node(&t, "Clip", ins, 2, &y, 1);
  op_test_output(&t, y);
  run_expect(&t, 1, ONNXI_DTYPE_INT8, 1, D(5), I8(0, 0, 0, 9, 127), 0, 0);
  op_test_release(&t);
  /* uint64 and int64 with both bounds beyond double precision */
  op_test_init(&t, 13);
  ins[0] = op_test_input(&t, "X", ONNXI_DTYPE_UINT64, 1, D(3), U64(1, UINT64_MAX - 1, UINT64_MAX));
  ins[1] = op_test_input(&t, "min", ONNXI_DTYPE_UINT64, 0, NONE, U64(2));
  ins[2] = op_test_input(&t, "max", ONNXI_DTYPE_UINT64, 0, NONE, U64(UINT64_MAX - 1));
  y = op_test_value(&t, "Y");
  op_test_node(&t, "Clip", ins, 3, &y, 1);
  op_test_output(&t, y);
  run_expect(&t, 1, ONNXI_DTYPE_UINT64, 1, D(3), U64(2, UINT64_MAX - 1, UINT64_MAX - 1), 0, 0);
  op_test_release(&t);
  op_test_init(&t, 13);
  ins[0] = op_test_input(&t, "X", ONNXI_DTYPE_INT64, 1, D(3), I64(INT64_MIN, 0, INT64_MAX));
  ins[1] = IR_NONE;
  ins[2] = op_test_const(&t, "max", ONNXI_DTYPE_INT64, 1, D(1), I64(INT64_MAX - 1));
  y = op_test_value(&t, "Y");
  op_test_node(&t, "Clip", ins, 3, &y, 1);
  op_test_output(&t, y);
  run_expect(&t, 1, ONNXI_DTYPE_INT64, 1, D(3), I64(INT64_MIN, 0, INT64_MAX - 1), 0, 0);
  op_test_release(&t);
  /* float16 bounds */
  uint16_t xh[4], lo = op_f32_to_f16(-1), hi = op_f32_to_f16(1.5f), wh[4];
  const float xf[4] = {-3, -0.5f, 1, 4}, wf[4] = {-1, -0.5f, 1, 1.5f};
  for (int i = 0; i < 4; i++) xh[i] = op_f32_to_f16(xf[i]), wh[i] = op_f32_to_f16(wf[i]);
  op_test_init(&t, 13);
  ins[0] = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT16, 1, D(4), xh);
  ins[1] = op_test_input(&t, "min", ONNXI_DTYPE_FLOAT16, 0, NONE, &lo);
  ins[2] = op_test_input(&t, "max", ONNXI_DTYPE_FLOAT16, 0, NONE, &hi);
  y = op_test_value(&t, "Y");
  op_test_node(&t, "Clip", ins, 3, &y, 1);
  op_test_output(&t, y);
  run_expect(&t, 1, ONNXI_DTYPE_FLOAT16, 1, D(4), wh, 0, 0);
  op_test_release(&t);
}

/* --- long inputs: vectorised blocks, tails, and the thread pool --- */

typedef double (*ref_fn)(double);
static double ref_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double ref_softplus(double x) { return (x > 0 ? x : 0) + log1p(exp(-fabs(x))); }
static double ref_mish(double x) { return x * tanh(ref_softplus(x)); }
static double ref_elu(double x) { return x < 0 ? expm1(x) : x; }
static double ref_selu(double x) {
  return 1.05070102214813232421875 * (x > 0 ? x : 1.67326319217681884765625 * expm1(x));
}
static double ref_swish(double x) { return x * ref_sigmoid(x); }
static double ref_hardswish(double x) {
  double v = x / 6 + 0.5;
  return x * (v < 0 ? 0 : v > 1 ? 1 : v);
}

static void test_long_inputs(void **state) {
  (void)state;
  static const struct {
    const char *op;
    ref_fn ref;
    double lo, hi, rtol, atol;
  } cases[] = {
      {"Exp", exp, -100, 88, 3e-7, 0},
      {"Log", log, 1e-30, 1e30, 3e-7, 0},
      {"Tanh", tanh, -12, 12, 4e-7, 0},
      {"Erf", erf, -5, 5, 5e-7, 0},
      {"Softplus", ref_softplus, -30, 30, 5e-7, 0},
      {"Mish", ref_mish, -20, 20, 1e-6, 0},
      {"Sigmoid", ref_sigmoid, -30, 30, 1e-5, 0},
      /* below x = -87 the result is ~1e-36 instead of ~1e-40: absolute error */
      {"onnxi.Swish", ref_swish, -100, 100, 4e-7, 1e-35},
      {"Elu", ref_elu, -20, 5, 1e-6, 0},
      {"Selu", ref_selu, -20, 5, 1e-6, 0},
      /* x / 6 + 0.5 cancels near x = -3: absolute error of a float ulp */
      {"HardSwish", ref_hardswish, -8, 8, 1e-6, 1e-7},
      {"Sin", sin, -100, 100, 3e-7, 0},
      {"Sqrt", sqrt, 0, 1e6, 3e-7, 0},
  };
  enum { N = 40003 }; /* > 2 tiles of 16384 so 2 threads split it; odd tail */
  float *x = malloc(N * sizeof(float)), *w = malloc(N * sizeof(float));
  assert_non_null(x);
  assert_non_null(w);
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    bool geometric = cases[c].lo > 0 && cases[c].hi / cases[c].lo > 1e3;
    for (int i = 0; i < N; i++) {
      double f = (double)i / (N - 1);
      x[i] = (float)(geometric ? cases[c].lo * pow(cases[c].hi / cases[c].lo, f)
                               : cases[c].lo + (cases[c].hi - cases[c].lo) * f);
      w[i] = (float)cases[c].ref(x[i]);
    }
    for (int threads = 1; threads <= 2; threads++) {
      op_test t;
      build1(&t, 14, cases[c].op, ONNXI_DTYPE_FLOAT, 1, D(N), x);
      if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s: %s", cases[c].op, t.err.message);
      op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 1, D(N), w, cases[c].rtol,
                     cases[c].atol + 1e-37); /* subnormal results keep fewer bits */
      op_test_release(&t);
    }
  }
  free(x);
  free(w);
}

/* Special values through the vectorised math. */
static void test_special_values(void **state) {
  (void)state;
  const float x[6] = {NAN, INFINITY, -INFINITY, 0.0f, 1e-45f, -1e-45f};
  static const struct {
    const char *op;
    float want[6];
  } cases[] = {
      {"Exp", {NAN, INFINITY, 0, 1, 1, 1}},
      {"Log", {NAN, INFINITY, NAN, -INFINITY, -103.27893f, NAN}},
      {"Tanh", {NAN, 1, -1, 0, 1e-45f, -1e-45f}},
      {"Erf", {NAN, 1, -1, 0, 1e-45f, -1e-45f}},
      {"Softplus", {NAN, INFINITY, 0, 0.693147182f, 0.693147182f, 0.693147182f}},
      {"Sigmoid", {NAN, 1, 0, 0.5f, 0.5f, 0.5f}},
      {"onnxi.Swish", {NAN, INFINITY, NAN, 0, 0, 0}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    op_test t;
    build1(&t, 14, cases[c].op, ONNXI_DTYPE_FLOAT, 1, D(6), x);
    if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%s: %s", cases[c].op, t.err.message);
    op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 1, D(6), cases[c].want, 1e-6, 1e-44);
    op_test_release(&t);
  }
}

/* X -> Relu -> Exp -> Neg -> Y: intermediate buffers may be reused in place. */
static void test_chain_inplace(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 14);
  int x = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 4, D(1, 2, 2, 2),
                        F32(-1, 0, 1, 2, -2, 3, 0.5f, -0.5f));
  int a = op_test_value(&t, "A"), b = op_test_value(&t, "B"), y = op_test_value(&t, "Y");
  op_test_node(&t, "Relu", &x, 1, &a, 1);
  op_test_node(&t, "Exp", &a, 1, &b, 1);
  op_test_node(&t, "Neg", &b, 1, &y, 1);
  op_test_output(&t, y);
  run_expect(&t, 2, ONNXI_DTYPE_FLOAT, 4, D(1, 2, 2, 2),
             F32(-1, -1, -2.71828183f, -7.3890561f, -1, -20.0855369f, -1.64872127f, -1), 1e-6, 0);
  op_test_release(&t);
}

static void test_empty(void **state) {
  (void)state;
  op_test t;
  build1(&t, 14, "Neg", ONNXI_DTYPE_FLOAT, 0, NONE, F32(2.5f)); /* rank 0 */
  run_expect(&t, 1, ONNXI_DTYPE_FLOAT, 0, NONE, F32(-2.5f), 0, 0);
  op_test_release(&t);
  build1(&t, 14, "Exp", ONNXI_DTYPE_FLOAT, 2, D(0, 3), F32(0));
  run_expect(&t, 1, ONNXI_DTYPE_FLOAT, 2, D(0, 3), F32(0), 0, 0);
  op_test_release(&t);
}

static void test_errors(void **state) {
  (void)state;
  op_test t;
  build1(&t, 14, "Exp", ONNXI_DTYPE_INT32, 1, D(2), I32(1, 2));
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "input dtype int32 is not supported");
  build1(&t, 14, "Not", ONNXI_DTYPE_FLOAT, 1, D(2), F32(1, 2));
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "(Not): input dtype float");
  build1(&t, 14, "Neg", ONNXI_DTYPE_UINT16, 1, D(1), U16(1));
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "not supported");
  int n = build1(&t, 14, "LeakyRelu", ONNXI_DTYPE_FLOAT, 1, D(2), F32(1, 2));
  op_test_attr_int(&t, n, "alpha", 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'alpha'");
  n = build1(&t, 6, "Clip", ONNXI_DTYPE_INT32, 1, D(2), I32(1, 2));
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "needs opset 12");

  op_test_init(&t, 13);
  int ins[3] = {op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 1, D(2), F32(1, 2)),
                op_test_const(&t, "min", ONNXI_DTYPE_FLOAT, 1, D(2), F32(0, 1)), IR_NONE};
  int y = op_test_value(&t, "Y");
  op_test_node(&t, "Clip", ins, 2, &y, 1);
  op_test_output(&t, y);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 1 ('min') must be a scalar");

  op_test_init(&t, 13);
  ins[0] = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 1, D(2), F32(1, 2));
  ins[1] = IR_NONE;
  ins[2] = op_test_const(&t, "max", ONNXI_DTYPE_DOUBLE, 0, NONE, F64(1));
  y = op_test_value(&t, "Y");
  op_test_node(&t, "Clip", ins, 3, &y, 1);
  op_test_output(&t, y);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 2 ('max') has dtype float64");

  op_test_init(&t, 13);
  ins[0] = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 1, D(2), F32(1, 2));
  ins[1] = op_test_input(&t, "X2", ONNXI_DTYPE_FLOAT, 1, D(2), F32(1, 2));
  y = op_test_value(&t, "Y");
  op_test_node(&t, "Relu", ins, 2, &y, 1);
  op_test_output(&t, y);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "expects 1 input(s)");
}

/* --- IsNaN / IsInf --- */

static void test_is_nan_inf(void **state) {
  (void)state;
  op_test t;
  const float *x = F32(NAN, INFINITY, -INFINITY, 0, -1e30f, 3);
  build1(&t, 10, "IsNaN", FLOAT, 1, D(6), x);
  run_expect(&t, 1, BOOL, 1, D(6), U8(1, 0, 0, 0, 0, 0), 0, 0);
  op_test_release(&t);
  build1(&t, 10, "IsInf", FLOAT, 1, D(6), x);
  run_expect(&t, 1, BOOL, 1, D(6), U8(0, 1, 1, 0, 0, 0), 0, 0);
  op_test_release(&t);
  int n = build1(&t, 10, "IsInf", DOUBLE, 1, D(3), F64(INFINITY, -INFINITY, NAN));
  op_test_attr_int(&t, n, "detect_positive", 0);
  run_expect(&t, 1, BOOL, 1, D(3), U8(0, 1, 0), 0, 0);
  op_test_release(&t);
  n = build1(&t, 10, "IsInf", FLOAT16, 1, D(3), U16(0x7c00, 0xfc00, 0x7e00)); /* inf -inf nan */
  op_test_attr_int(&t, n, "detect_negative", 0);
  run_expect(&t, 1, BOOL, 1, D(3), U8(1, 0, 0), 0, 0);
  op_test_release(&t);
  build1(&t, 10, "IsNaN", INT32, 1, D(1), I32(1));
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "input dtype int32");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_is_nan_inf),
      cmocka_unit_test(test_float_ops),
      cmocka_unit_test(test_float_ops_other_dtypes),
      cmocka_unit_test(test_attributes),
      cmocka_unit_test(test_int_ops),
      cmocka_unit_test(test_not),
      cmocka_unit_test(test_clip_inputs),
      cmocka_unit_test(test_clip_attributes),
      cmocka_unit_test(test_clip_dtypes),
      cmocka_unit_test(test_long_inputs),
      cmocka_unit_test(test_special_values),
      cmocka_unit_test(test_chain_inplace),
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
