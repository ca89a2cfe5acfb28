/* BatchNormalization and InstanceNormalization: numpy-computed cases for
 * NHWC (rank 4) and PLAIN (rank 2, 3) inputs, constant and run-time
 * parameters, training mode, opset-7 spatial=0, and error cases.
 * GroupNormalization: numpy's reshape-to-groups reference, per-channel and
 * per-group parameters, the fused clamp, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"
#include "test_literals.h"

static const float S3[] = {1, 0.5f, 2}, B3[] = {0, 1, -1}, M3[] = {0.5f, -1, 2},
                   V3[] = {1, 4, 0.25f};

static float X4[12];

static void x4_fill(void) {
  for (int i = 0; i < 12; i++) X4[i] = (float)i * 0.5f - 2;
}

/* BatchNormalization on x with S3, B3, M3, V3; params const when const_params. */
static void bn_case(int64_t opset, int rank, const int64_t *dims, const float *x, bool const_params,
                    float eps, const float *want, int threads) {
  op_test t;
  op_test_init(&t, opset);
  int ids[5];
  ids[0] = op_test_input(&t, "X", FLOAT, rank, dims, x);
  const float *p[4] = {S3, B3, M3, V3};
  static const char *names[4] = {"scale", "B", "mean", "var"};
  for (int k = 0; k < 4; k++)
    ids[k + 1] = const_params ? op_test_const(&t, names[k], FLOAT, 1, D(3), p[k])
                              : op_test_input(&t, names[k], FLOAT, 1, D(3), p[k]);
  int y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "BatchNormalization", ids, 5, (int[]){y}, 1);
  if (eps != 1e-5f) op_test_attr_float(&t, n, "epsilon", eps);
  op_test_output(&t, y);
  if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, FLOAT, rank, dims, want, 1e-5, 1e-5);
  op_test_release(&t);
}

static void test_bn_nhwc_and_plain(void **state) {
  (void)state;
  x4_fill();
  static const float want4[] = {-2.4999876f, -1.99999f,   -1.4999925f, -0.999995f,
                                1.2499998f,  1.3749995f,  1.4999994f,  1.6249993f,
                                -1.0f,       0.99995995f, 2.9999199f,  4.9998798f};
  static const float want4_eps[] = {-2.0412414f, -1.6329931f, -1.2247448f, -0.8164966f,
                                    1.2357023f,  1.3535534f,  1.4714046f,  1.5892557f,
                                    -1.0f,       0.1547005f,  1.309401f,   2.4641018f};
  static const float x3[] = {-2, -1.5f, 0, 0.5f, 2, 2.5f, -2, -1.5f, 0, 0.5f, 2, 2.5f};
  static const float want3[] = {-2.4999876f, -1.99999f, 1.2499998f, 1.3749995f, -1.0f, 0.99995995f,
                                -2.4999876f, -1.99999f, 1.2499998f, 1.3749995f, -1.0f, 0.99995995f};
  static const float x2[] = {1, 2, 3, 4, 5, 6};
  static const float want2[] = {0.4999975f, 1.749999f, 2.9999199f,
                                3.4999826f, 2.499998f, 14.99968f};
  for (int v = 0; v < 4; v++) {
    bool c = v & 1;
    int threads = 1 + (v >> 1);
    bn_case(15, 4, D(1, 3, 2, 2), X4, c, 1e-5f, want4, threads);
    bn_case(9, 4, D(1, 3, 2, 2), X4, c, 0.5f, want4_eps, threads);
    bn_case(13, 3, D(2, 3, 2), x3, c, 1e-5f, want3, threads);
    bn_case(7, 2, D(2, 3), x2, c, 1e-5f, want2, threads);
  }
}

static void test_bn_training(void **state) {
  (void)state;
  x4_fill();
  static const float want_y[] = {-1.3416193f, -0.44720644f, 0.44720644f,  1.3416193f,
                                 0.32919037f, 0.77639675f,  1.2236032f,   1.6708096f,
                                 -3.6832385f, -1.8944129f,  -0.10558712f, 1.6832385f};
  static const float want_m[] = {0.325f, -0.825f, 2.075f},
                     want_v[] = {0.93125f, 3.63125f, 0.25625f};
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    op_test_init(&t, 15);
    int ids[5] = {
        op_test_input(&t, "X", FLOAT, 4, D(1, 3, 2, 2), X4),
        op_test_const(&t, "s", FLOAT, 1, D(3), S3), op_test_const(&t, "b", FLOAT, 1, D(3), B3),
        op_test_input(&t, "m", FLOAT, 1, D(3), M3), op_test_input(&t, "v", FLOAT, 1, D(3), V3)};
    int y = op_test_value(&t, "Y"), rm = op_test_value(&t, "rm"), rv = op_test_value(&t, "rv");
    int n = op_test_node(&t, "BatchNormalization", ids, 5, (int[]){y, rm, rv}, 3);
    op_test_attr_int(&t, n, "training_mode", 1);
    op_test_output(&t, y);
    op_test_output(&t, rm);
    op_test_output(&t, rv);
    if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s", t.err.message);
    op_test_expect(&t, 0, FLOAT, 4, D(1, 3, 2, 2), want_y, 1e-5, 1e-5);
    op_test_expect(&t, 1, FLOAT, 1, D(3), want_m, 1e-6, 1e-6);
    op_test_expect(&t, 2, FLOAT, 1, D(3), want_v, 1e-6, 1e-6);
    op_test_release(&t);
  }
}

static void test_bn_spatial0_and_double(void **state) {
  (void)state;
  float x[12], p[6], b[6], m[6];
  for (int i = 0; i < 12; i++) x[i] = (float)i - 5;
  for (int i = 0; i < 6; i++) p[i] = (float)i * 0.5f + 0.5f, b[i] = -p[i], m[i] = p[i] * 0.1f;
  static const float want[] = {-4.0708537f, -5.0999794f, -5.357934f, -5.1112623f,
                               -4.4764194f, -3.5196145f, 0.1717447f, 0.8999904f,
                               1.990511f,   3.373998f,   5.0103946f, 6.872672f};
  op_test t;
  op_test_init(&t, 7);
  int ids[5] = {
      op_test_input(&t, "X", FLOAT, 3, D(2, 2, 3), x), op_test_const(&t, "s", FLOAT, 2, D(2, 3), p),
      op_test_const(&t, "b", FLOAT, 2, D(2, 3), b), op_test_const(&t, "m", FLOAT, 2, D(2, 3), m),
      op_test_const(&t, "v", FLOAT, 2, D(2, 3), p)};
  int y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "BatchNormalization", ids, 5, (int[]){y}, 1);
  op_test_attr_int(&t, n, "spatial", 0);
  op_test_output(&t, y);
  if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, FLOAT, 3, D(2, 2, 3), want, 1e-5, 1e-5);
  op_test_release(&t);

  /* double input with float parameters (opset 15 allows mixed T, T1, T2) */
  x4_fill();
  double xd[12], wd[12];
  static const float want4[] = {-2.4999876f, -1.99999f,   -1.4999925f, -0.999995f,
                                1.2499998f,  1.3749995f,  1.4999994f,  1.6249993f,
                                -1.0f,       0.99995995f, 2.9999199f,  4.9998798f};
  for (int i = 0; i < 12; i++) xd[i] = X4[i], wd[i] = want4[i];
  op_test_init(&t, 15);
  int idd[5] = {
      op_test_input(&t, "X", ONNXI_DTYPE_DOUBLE, 4, D(1, 3, 2, 2), xd),
      op_test_const(&t, "s", FLOAT, 1, D(3), S3), op_test_const(&t, "b", FLOAT, 1, D(3), B3),
      op_test_const(&t, "m", FLOAT, 1, D(3), M3), op_test_const(&t, "v", FLOAT, 1, D(3), V3)};
  y = op_test_value(&t, "Y");
  op_test_node(&t, "BatchNormalization", idd, 5, (int[]){y}, 1);
  op_test_output(&t, y);
  if (op_test_run(&t, 2) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, ONNXI_DTYPE_DOUBLE, 4, D(1, 3, 2, 2), wd, 1e-6, 1e-6);
  op_test_release(&t);
}

static void bn_error(int64_t opset, int64_t c_params, const char *attr, int64_t v,
                     const char *msg) {
  x4_fill();
  op_test t;
  op_test_init(&t, opset);
  int ids[5] = {op_test_input(&t, "X", FLOAT, 4, D(1, 3, 2, 2), X4)};
  static const char *names[4] = {"scale", "B", "mean", "var"};
  for (int k = 0; k < 4; k++) ids[k + 1] = op_test_const(&t, names[k], FLOAT, 1, D(c_params), X4);
  int y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "BatchNormalization", ids, 5, (int[]){y}, 1);
  if (attr) op_test_attr_int(&t, n, attr, v);
  op_test_output(&t, y);
  assert_int_not_equal(op_test_run(&t, 1), ONNXI_OK);
  if (!strstr(t.err.message, msg)) fail_msg("message '%s' lacks '%s'", t.err.message, msg);
  op_test_release(&t);
}

static void test_bn_errors(void **state) {
  (void)state;
  bn_error(15, 4, NULL, 0, "input 'scale' has 4 elements, expected 3");
  bn_error(15, 3, "training_mode", 2, "attribute 'training_mode' must be 0 or 1");
  op_test t;
  op_test_init(&t, 15);
  x4_fill();
  int ids[3] = {op_test_input(&t, "X", FLOAT, 4, D(1, 3, 2, 2), X4),
                op_test_const(&t, "s", FLOAT, 1, D(3), S3),
                op_test_const(&t, "b", FLOAT, 1, D(3), B3)};
  int y = op_test_value(&t, "Y");
  op_test_node(&t, "BatchNormalization", ids, 3, (int[]){y}, 1);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_ERR_INVALID_MODEL);
  assert_non_null(strstr(t.err.message, "expects 5 inputs"));
  op_test_release(&t);
}

/* --- InstanceNormalization ---------------------------------------------------------------- */

static const float XI[] = {1, 5, 2, 8, 0, 0, 1, 3, -1, 2,  4, 4,
                           3, 3, 3, 3, 9, 1, 0, 2, 5,  -5, 2, 0};

static void in_case(int rank, const int64_t *dims, const float *x, bool const_params, float eps,
                    const float *want, int threads) {
  op_test t;
  op_test_init(&t, 13);
  int ids[3] = {op_test_input(&t, "X", FLOAT, rank, dims, x)};
  ids[1] = const_params ? op_test_const(&t, "s", FLOAT, 1, D(dims[1]), S3)
                        : op_test_input(&t, "s", FLOAT, 1, D(dims[1]), S3);
  ids[2] = const_params ? op_test_const(&t, "b", FLOAT, 1, D(dims[1]), B3)
                        : op_test_input(&t, "b", FLOAT, 1, D(dims[1]), B3);
  int y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "InstanceNormalization", ids, 3, (int[]){y}, 1);
  if (eps != 1e-5f) op_test_attr_float(&t, n, "epsilon", eps);
  op_test_output(&t, y);
  if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, FLOAT, rank, dims, want, 1e-5, 1e-5);
  op_test_release(&t);
}

static void test_in_nhwc_and_plain(void **state) {
  (void)state;
  static const float want4[] = {-1.0954444f,
                                0.36514813f,
                                -0.73029625f,
                                1.4605925f,
                                0.59175307f,
                                0.59175307f,
                                1.0f,
                                1.8164939f,
                                -4.1764016f,
                                -1.2443386f,
                                0.71037006f,
                                0.71037006f,
                                0,
                                0,
                                0,
                                0,
                                1.8485278f,
                                0.71715736f,
                                0.5757361f,
                                0.8585787f,
                                1.4724891f,
                                -4.021931f,
                                -0.17583692f,
                                -1.274721f};
  static const float want3[] = {-1.0882144f,
                                0.36273813f,
                                -0.72547626f,
                                1.4509525f,
                                0.6047153f,
                                0.6047153f,
                                1.0f,
                                1.7905694f,
                                -4.1391444f,
                                -1.2414726f,
                                0.69030845f,
                                0.69030845f,
                                0,
                                0,
                                0,
                                0,
                                1.8451543f,
                                0.7182819f,
                                0.5774229f,
                                0.859141f,
                                1.4632125f,
                                -4.010593f,
                                -0.17892915f,
                                -1.2736902f};
  for (int v = 0; v < 4; v++) {
    in_case(4, D(2, 3, 2, 2), XI, v & 1, 1e-5f, want4, 1 + (v >> 1));
    in_case(3, D(2, 3, 4), XI, v & 1, 0.1f, want3, 1 + (v >> 1));
  }
}

static void fill(float *x, int64_t n, unsigned seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float)((s >> 8) & 0xffff) / 8192.0f + 100.0f; /* offset: tests the two-pass variance */
  }
}

static void test_in_random_many_channels(void **state) {
  (void)state;
  enum { N = 2, C = 70, H = 5, W = 7, S = H * W };
  float *x = malloc(sizeof(float) * N * C * S), *want = malloc(sizeof(float) * N * C * S);
  float sc[C], bi[C];
  fill(x, N * C * S, 3);
  for (int c = 0; c < C; c++) sc[c] = 0.5f + (float)c / C, bi[c] = (float)c * 0.1f - 1;
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      const float *p = x + (n * C + c) * S;
      double m = 0, v = 0;
      for (int i = 0; i < S; i++) m += p[i];
      m /= S;
      for (int i = 0; i < S; i++) v += (p[i] - m) * (p[i] - m);
      v /= S;
      for (int i = 0; i < S; i++)
        want[(n * C + c) * S + i] = (float)(sc[c] * (p[i] - m) / sqrt(v + 1e-5) + bi[c]);
    }
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    op_test_init(&t, 13);
    int ids[3] = {op_test_input(&t, "X", FLOAT, 4, D(N, C, H, W), x),
                  op_test_const(&t, "s", FLOAT, 1, D(C), sc),
                  op_test_const(&t, "b", FLOAT, 1, D(C), bi)};
    int y = op_test_value(&t, "Y");
    op_test_node(&t, "InstanceNormalization", ids, 3, (int[]){y}, 1);
    op_test_output(&t, y);
    if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s", t.err.message);
    op_test_expect(&t, 0, FLOAT, 4, D(N, C, H, W), want, 1e-4, 1e-4);
    op_test_release(&t);
  }
  free(x), free(want);
}

static void test_in_errors(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 13);
  int ids[3] = {op_test_input(&t, "X", FLOAT, 4, D(2, 3, 2, 2), XI),
                op_test_const(&t, "s", FLOAT, 1, D(2), S3),
                op_test_const(&t, "b", FLOAT, 1, D(3), B3)};
  int y = op_test_value(&t, "Y");
  op_test_node(&t, "InstanceNormalization", ids, 3, (int[]){y}, 1);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_ERR_INVALID_MODEL);
  assert_non_null(strstr(t.err.message, "input 'scale' must be a vector of 3 channels"));
  op_test_release(&t);

  op_test_init(&t, 13);
  int ids2[3] = {op_test_input(&t, "X", FLOAT, 2, D(2, 3), XI),
                 op_test_const(&t, "s", FLOAT, 1, D(3), S3),
                 op_test_const(&t, "b", FLOAT, 1, D(3), B3)};
  y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "InstanceNormalization", ids2, 3, (int[]){y}, 1);
  op_test_attr_float(&t, n, "epsilon", -1.0f);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_ERR_INVALID_MODEL);
  assert_non_null(strstr(t.err.message, "attribute 'epsilon' must be >= 0"));
  op_test_release(&t);
}

/* --- GroupNormalization ------------------------------------------------------------------- */

/* numpy: x.reshape(N, G, -1), (x - mean) / sqrt(var + eps), back to x's shape,
 * * scale + bias per channel (per-group parameters repeated C/G times). */
static const float XG4[] = {-3, 4.25, 0.5, 7, 3.25, -0.5, 6, 2.25, -1.5, 5, 1.25, -2.5, 4, 0.25, 7.5, 3,
                            -0.75, 6.5, 2, -1.75, 5.5, 1, -2.75, 4.5, 0, 7.25, 3.5, -1, 6.25, 2.5, -2, 5.25};
static const float SG4[] = {0.5f, -1, 2, 1.5f}, BG4[] = {0.1f, 0.2f, -0.3f, 0};
static const float WG4[] = {
    -0.76778357f, 0.38264951f,  -0.21240208f, 0.81902067f, -0.047938159f, 1.142165f,   -0.92068049f,
    0.26942269f,  -2.5890763f,  1.5154743f,   -0.85253566f, -3.2205456f,  0.88800373f, -0.88800373f,
    2.5456107f,   0.41440174f,  -0.2916196f,  0.8300563f,   0.13384367f,  -0.44633352f, -0.95068475f,
    0.4417405f,   1.6020949f,   -0.64125692f, -1.9825139f,  2.5041897f,   0.18348098f,  -2.6013695f,
    1.6390006f,   -0.10153101f, -2.1901689f,  1.1748588f};
static const float XG3[] = {-6, -1, 4, -4, 1, 6, -2, 3, -5, 0, 5, -3, 2, -6, -1, 4, -4, 1,
                            6,  -2, 3, -5, 0, 5, -3, 2, -6, -1, 4, -4, 1, 6, -2, 3, -5, 0};
static const float SG3[] = {1.5f, -0.5f, 2}, BG3[] = {0, 1, -1}; /* per group */
static const float WG3[] = {
    -2.1352048f, -0.35586746f, 1.4234699f,  -1.4234699f,  0.35586746f, 2.1352048f,  1.2406741f,
    0.51865188f, 1.6738874f,   0.95186519f, 0.229843f,    1.3850785f,  0.54031399f, -4.080628f,
    -1.1925392f, 1.6955495f,   -2.9253925f, -0.037303755f, 1.8572115f, -1.2167937f, 0.70445952f,
    -2.3695457f, -0.44829242f, 1.4729608f,  1.2406741f,   0.51865188f, 1.6738874f,  0.95186519f,
    0.229843f,   1.3850785f,   -0.7154448f, 2.1301072f,   -2.422776f,  0.42277598f, -4.1301072f,
    -1.2845552f};

typedef struct gn_case_def {
  int rank;
  const int64_t *dims;
  const float *x, *scale, *bias, *want;
  int64_t groups, n_params;
  float eps, clamp_min; /* clamp_min NAN: no clamp */
} gn_case_def;

static onnxi_status gn_build_run(const gn_case_def *d, bool const_params, int threads, op_test *t) {
  op_test_init(t, 18);
  int (*param)(op_test *, const char *, int32_t, int, const int64_t *, const void *) =
      const_params ? op_test_const : op_test_input;
  int ids[3] = {op_test_input(t, "X", FLOAT, d->rank, d->dims, d->x),
                param(t, "scale", FLOAT, 1, D(d->n_params), d->scale),
                param(t, "bias", FLOAT, 1, D(d->n_params), d->bias)};
  int y = op_test_value(t, "Y");
  int n = op_test_node(t, "GroupNormalization", ids, 3, (int[]){y}, 1);
  if (d->groups) op_test_attr_int(t, n, "num_groups", d->groups);
  if (d->eps != 1e-5f) op_test_attr_float(t, n, "epsilon", d->eps);
  if (!isnan(d->clamp_min)) op_test_attr_float(t, n, "onnxi.clamp_min", d->clamp_min);
  op_test_output(t, y);
  return op_test_run(t, threads);
}

static void gn_case(const gn_case_def *d) {
  for (int v = 0; v < 4; v++) {
    op_test t;
    if (gn_build_run(d, v & 1, 1 + (v >> 1), &t) != ONNXI_OK) fail_msg("%s", t.err.message);
    op_test_expect(&t, 0, FLOAT, d->rank, d->dims, d->want, 1e-5, 1e-5);
    op_test_release(&t);
  }
}

static void test_gn_nhwc_and_plain(void **state) {
  (void)state;
  gn_case(&(gn_case_def){4, D(2, 4, 2, 2), XG4, SG4, BG4, WG4, 2, 4, 1e-5f, NAN});
  gn_case(&(gn_case_def){3, D(2, 6, 3), XG3, SG3, BG3, WG3, 3, 3, 0.1f, NAN});
  float relu[32];
  for (int i = 0; i < 32; i++) relu[i] = WG4[i] > 0 ? WG4[i] : 0;
  gn_case(&(gn_case_def){4, D(2, 4, 2, 2), XG4, SG4, BG4, relu, 2, 4, 1e-5f, 0.0f});
}

/* Many channels per group and an offset mean, against a direct double loop
 * over each group's channels (PLAIN order of the logical tensor). */
static void test_gn_random_groups(void **state) {
  (void)state;
  enum { N = 2, C = 96, G = 32, H = 5, W = 7, S = H * W, CG = C / G };
  float *x = malloc(sizeof(float) * N * C * S), *want = malloc(sizeof(float) * N * C * S);
  float sc[C], bi[C];
  fill(x, N * C * S, 5);
  for (int c = 0; c < C; c++) sc[c] = 0.5f + (float)c / C, bi[c] = (float)c * 0.1f - 1;
  for (int n = 0; n < N; n++)
    for (int g = 0; g < G; g++) {
      const float *p = x + (n * C + g * CG) * S;
      double m = 0, v = 0;
      for (int i = 0; i < CG * S; i++) m += p[i];
      m /= CG * S;
      for (int i = 0; i < CG * S; i++) v += (p[i] - m) * (p[i] - m);
      v /= CG * S;
      for (int i = 0; i < CG * S; i++) {
        int c = g * CG + i / S;
        want[(n * C + g * CG) * S + i] = (float)(sc[c] * (p[i] - m) / sqrt(v + 1e-5) + bi[c]);
      }
    }
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    gn_case_def d = {4, D(N, C, H, W), x, sc, bi, want, G, C, 1e-5f, NAN};
    if (gn_build_run(&d, true, threads, &t) != ONNXI_OK) fail_msg("%s", t.err.message);
    op_test_expect(&t, 0, FLOAT, 4, D(N, C, H, W), want, 1e-4, 1e-4);
    op_test_release(&t);
  }
  free(x), free(want);
}

static void gn_error(const gn_case_def *d, onnxi_status want, const char *msg) {
  op_test t;
  assert_int_equal(gn_build_run(d, true, 1, &t), want);
  if (!strstr(t.err.message, msg)) fail_msg("'%s' lacks '%s'", t.err.message, msg);
  op_test_release(&t);
}

static void test_gn_errors(void **state) {
  (void)state;
  gn_error(&(gn_case_def){4, D(2, 4, 2, 2), XG4, SG4, BG4, WG4, 0, 4, 1e-5f, NAN},
           ONNXI_ERR_INVALID_MODEL, "attribute 'num_groups' must be given and > 0");
  gn_error(&(gn_case_def){4, D(2, 4, 2, 2), XG4, SG4, BG4, WG4, 3, 4, 1e-5f, NAN},
           ONNXI_ERR_INVALID_MODEL, "num_groups 3 does not divide 4 channels");
  gn_error(&(gn_case_def){4, D(2, 4, 2, 2), XG4, SG4, BG4, WG4, 2, 3, 1e-5f, NAN},
           ONNXI_ERR_INVALID_MODEL, "input 'scale' must be a vector of 4 channels or 2 groups");
  gn_error(&(gn_case_def){4, D(2, 4, 2, 2), XG4, SG4, BG4, WG4, 2, 4, -1.0f, NAN},
           ONNXI_ERR_INVALID_MODEL, "attribute 'epsilon' must be >= 0");
  gn_error(&(gn_case_def){1, D(4), XG4, SG4, BG4, WG4, 2, 4, 1e-5f, NAN},
           ONNXI_ERR_INVALID_MODEL, "input X must have rank >= 2");
}

/* LayerNormalization against numpy: x.reshape(rows, cols); m = mean(1); d = x - m;
 * inv = 1 / sqrt(mean(d*d, 1) + eps); y = (d * inv).reshape(X.shape) * W + B. */
static void test_layer_norm(void **state) {
  (void)state;
  const float *x = F32(1, 2, 4, -3, 0, 9);
  for (int konst = 0; konst <= 1; konst++) {
    op_test t;
    op_test_init(&t, 17);
    int in[3];
    in[0] = op_test_input(&t, "X", FLOAT, 2, D(2, 3), x);
    in[1] = konst ? op_test_const(&t, "W", FLOAT, 1, D(3), F32(1, 0.5f, -2))
                  : op_test_input(&t, "W", FLOAT, 1, D(3), F32(1, 0.5f, -2));
    in[2] = op_test_const(&t, "B", FLOAT, 1, D(3), F32(0.1f, 0.2f, 0.3f));
    int out[3] = {op_test_value(&t, "Y"), op_test_value(&t, "M"), op_test_value(&t, "I")};
    op_test_node(&t, "LayerNormalization", in, 3, out, 3);
    for (int k = 0; k < 3; k++) op_test_output(&t, out[k]);
    if (op_test_run(&t, 1 + konst) != ONNXI_OK) fail_msg("%s", t.err.message);
    op_test_expect(&t, 0, FLOAT, 2, D(2, 3),
                   F32(-0.969041526f, 0.0663698092f, -2.37260389f, -0.880580485f,
                       0.00388390268f, -2.44562531f),
                   1e-5, 1e-6);
    op_test_expect(&t, 1, FLOAT, 2, D(2, 1), F32(2.33333325f, 2), 1e-6, 1e-6);
    op_test_expect(&t, 2, FLOAT, 2, D(2, 1), F32(0.801781178f, 0.196116105f), 1e-6, 1e-6);
    op_test_release(&t);
  }
  /* axis 0, epsilon 0.5, no B, Scale over the whole [2, 3] */
  op_test t;
  op_test_init(&t, 17);
  int in[2] = {op_test_input(&t, "X", FLOAT, 2, D(2, 3), x),
               op_test_const(&t, "W", FLOAT, 2, D(2, 3), F32(2, 1, 1, 2, 1, 1))};
  int y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "LayerNormalization", in, 2, &y, 1);
  op_test_attr_int(&t, n, "axis", 0);
  op_test_attr_float(&t, n, "epsilon", 0.5f);
  op_test_output(&t, y);
  if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 3),
                 F32(-0.616913736f, -0.0440652631f, 0.484717906f, -2.73204637f, -0.572848439f,
                     1.80667591f),
                 1e-5, 1e-6);
  op_test_release(&t);
  /* Scale with the wrong element count */
  op_test_init(&t, 17);
  in[0] = op_test_input(&t, "X", FLOAT, 2, D(2, 3), x);
  in[1] = op_test_const(&t, "W", FLOAT, 1, D(2), F32(1, 1));
  y = op_test_value(&t, "Y");
  op_test_node(&t, "LayerNormalization", in, 2, &y, 1);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_ERR_UNSUPPORTED);
  assert_non_null(strstr(t.err.message, "expected one per normalized element"));
  op_test_release(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layer_norm),
      cmocka_unit_test(test_bn_nhwc_and_plain),
      cmocka_unit_test(test_bn_training),
      cmocka_unit_test(test_bn_spatial0_and_double),
      cmocka_unit_test(test_bn_errors),
      cmocka_unit_test(test_in_nhwc_and_plain),
      cmocka_unit_test(test_in_random_many_channels),
      cmocka_unit_test(test_in_errors),
      cmocka_unit_test(test_gn_nhwc_and_plain),
      cmocka_unit_test(test_gn_random_groups),
      cmocka_unit_test(test_gn_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
