/* Resize and Upsample: expectations from ONNX's numpy reference
 * (onnx/backend/test/case/node/resize.py, interpolate_nd) for every mode and
 * coordinate transform, NHWC (rank-4 float) and PLAIN paths, XNNPACK-eligible
 * bilinear and the separable fallback, opset variants, and error cases. */
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

/* numpy: x = ((arange(18).reshape(1, 2, 3, 3) * 0.5 - 2) ** 2) * [1, -1] per channel */
static const float RZ_X[] = {4.0f,   2.25f,   1.0f,   0.25f,   0.0f,   0.25f,
                             1.0f,   2.25f,   4.0f,   -6.25f,  -9.0f,  -12.25f,
                             -16.0f, -20.25f, -25.0f, -30.25f, -36.0f, -42.25f};
static const float RZ_LIN_HP_2[] = {
    4.0f,       3.5625f,    2.6875f,    1.9375f,    1.3125f,    1.0f,       3.0625f,    2.71875f,
    2.03125f,   1.46875f,   1.03125f,   0.8125f,    1.1875f,    1.03125f,   0.71875f,   0.53125f,
    0.46875f,   0.4375f,    0.4375f,    0.46875f,   0.53125f,   0.71875f,   1.03125f,   1.1875f,
    0.8125f,    1.03125f,   1.46875f,   2.03125f,   2.71875f,   3.0625f,    1.0f,       1.3125f,
    1.9375f,    2.6875f,    3.5625f,    4.0f,       -6.25f,     -6.9375f,   -8.3125f,   -9.8125f,
    -11.4375f,  -12.25f,    -8.6875f,   -9.46875f,  -11.03125f, -12.71875f, -14.53125f, -15.4375f,
    -13.5625f,  -14.53125f, -16.46875f, -18.53125f, -20.71875f, -21.8125f,  -19.5625f,  -20.71875f,
    -23.03125f, -25.46875f, -28.03125f, -29.3125f,  -26.6875f,  -28.03125f, -30.71875f, -33.53125f,
    -36.46875f, -37.9375f,  -30.25f,    -31.6875f,  -34.5625f,  -37.5625f,  -40.6875f,  -42.25f};
static const float RZ_LIN_HP_17[] = {
    4.0f,          3.33088231f,  2.30147076f,  1.55147064f,  1.0f,         2.56617665f,
    2.1163497f,    1.42430806f,  1.01167822f,  0.713235319f, 0.360294282f, 0.247837514f,
    0.0748270974f, 0.181228414f, 0.272058845f, 0.66911763f,  0.894031048f, 1.24005175f,
    1.86548424f,   2.34558797f,  1.0f,         1.47794116f,  2.21323514f,  3.22794104f,
    4.0f,          -6.25f,       -7.30147076f, -8.91911793f, -10.8161764f, -12.25f,
    -9.97794056f,  -11.248702f,  -13.2037191f, -15.4381485f, -17.125f,     -15.7132349f,
    -17.3213654f,  -19.795414f,  -22.5488739f, -24.625f,     -23.9632339f, -25.9087353f,
    -28.9018154f,  -32.174305f,  -34.6397057f, -30.25f,      -32.4485283f, -35.830883f,
    -39.4926453f,  -42.25f};
static const float RZ_LIN_AC_45[] = {
    4.0f,    3.125f,   2.25f,  1.625f,   1.0f,    1.5f,    1.125f,   0.75f,  0.625f,   0.5f,
    0.5f,    0.625f,   0.75f,  1.125f,   1.5f,    1.0f,    1.625f,   2.25f,  3.125f,   4.0f,
    -6.25f,  -7.625f,  -9.0f,  -10.625f, -12.25f, -12.75f, -14.625f, -16.5f, -18.625f, -20.75f,
    -20.75f, -23.125f, -25.5f, -28.125f, -30.75f, -30.25f, -33.125f, -36.0f, -39.125f, -42.25f};
static const float RZ_LIN_PT_14[] = {4.0f,   2.90625f,  1.78125f,   1.0f,
                                     -6.25f, -7.96875f, -10.21875f, -12.25f};
static const float RZ_CUB_EX[] = {
    4.33088255f,  2.44852948f,  1.06617641f,  3.27189779f,  1.77372265f,  0.775547445f,
    1.02862597f,  0.343511462f, 0.158396944f, 0.158396944f, 0.343511462f, 1.02862597f,
    0.775547445f, 1.77372265f,  3.27189779f,  1.06617641f,  2.44852948f,  4.33088255f,
    -5.38970566f, -8.00735283f, -11.125f,     -7.78832102f, -10.7901459f, -14.2919712f,
    -12.8625956f, -16.6774807f, -20.9923668f, -19.8244267f, -24.5095425f, -29.6946564f,
    -27.7591248f, -33.2572975f, -39.2554741f, -31.5073528f, -37.3897057f, -43.7720604f};
static const float RZ_CUB_ASYM[] = {4.0f,         2.84839654f,  1.54154515f,  0.90160346f,
                                    0.171282828f, 0.453329444f, 1.20026529f,  1.82727027f,
                                    -6.25f,       -7.91909647f, -10.6530609f, -12.5058308f,
                                    -23.0058308f, -26.1085777f, -30.8963299f, -34.0160446f};
static const float RZ_NN_ROUND_PREFER_CEIL[] = {
    4.0f,    2.25f,  2.25f,   1.0f,    4.0f,   2.25f,   2.25f,   1.0f,    0.25f,  0.0f,
    0.0f,    0.25f,  1.0f,    2.25f,   2.25f,  4.0f,    1.0f,    2.25f,   2.25f,  4.0f,
    -6.25f,  -9.0f,  -9.0f,   -12.25f, -6.25f, -9.0f,   -9.0f,   -12.25f, -16.0f, -20.25f,
    -20.25f, -25.0f, -30.25f, -36.0f,  -36.0f, -42.25f, -30.25f, -36.0f,  -36.0f, -42.25f};
static const float RZ_NN_FLOOR[] = {
    4.0f,    4.0f,   2.25f,  1.0f,    4.0f,    4.0f,   2.25f,   1.0f,    0.25f,  0.25f,
    0.0f,    0.25f,  0.25f,  0.25f,   0.0f,    0.25f,  1.0f,    1.0f,    2.25f,  4.0f,
    -6.25f,  -6.25f, -9.0f,  -12.25f, -6.25f,  -6.25f, -9.0f,   -12.25f, -16.0f, -16.0f,
    -20.25f, -25.0f, -16.0f, -16.0f,  -20.25f, -25.0f, -30.25f, -30.25f, -36.0f, -42.25f};
static const float RZ_NN_CEIL[] = {
    4.0f,    2.25f,   1.0f,    1.0f,    0.25f,   0.0f,    0.25f,   0.25f,  1.0f,    2.25f,
    4.0f,    4.0f,    1.0f,    2.25f,   4.0f,    4.0f,    1.0f,    2.25f,  4.0f,    4.0f,
    -6.25f,  -9.0f,   -12.25f, -12.25f, -16.0f,  -20.25f, -25.0f,  -25.0f, -30.25f, -36.0f,
    -42.25f, -42.25f, -30.25f, -36.0f,  -42.25f, -42.25f, -30.25f, -36.0f, -42.25f, -42.25f};
static const float RZ_NN_ROUND_PREFER_FLOOR[] = {
    4.0f,    2.25f,  2.25f,   1.0f,    4.0f,   2.25f,   2.25f,   1.0f,    0.25f,  0.0f,
    0.0f,    0.25f,  1.0f,    2.25f,   2.25f,  4.0f,    1.0f,    2.25f,   2.25f,  4.0f,
    -6.25f,  -9.0f,  -9.0f,   -12.25f, -6.25f, -9.0f,   -9.0f,   -12.25f, -16.0f, -20.25f,
    -20.25f, -25.0f, -30.25f, -36.0f,  -36.0f, -42.25f, -30.25f, -36.0f,  -36.0f, -42.25f};
static const float RZ_NN_C[] = {4.0f,   2.25f, 1.0f,    1.0f,    2.25f,  4.0f,
                                4.0f,   2.25f, 1.0f,    1.0f,    2.25f,  4.0f,
                                -6.25f, -9.0f, -12.25f, -30.25f, -36.0f, -42.25f};
static const float RZ_TF_LIN[] = {
    10.0f,        0.816666603f, 0.446666628f, 0.409999996f, 10.0f, 1.04166663f,
    1.66166663f,  2.61500001f,  10.0f,        10.0f,        10.0f, 10.0f,
    10.0f,        -15.3666668f, -18.2966671f, -21.5599995f, 10.0f, -27.7416668f,
    -31.6616669f, -35.9150009f, 10.0f,        10.0f,        10.0f, 10.0f};
static const float RZ_TF_NN[] = {10.0f, 0.25f,   0.0f,   0.25f,   10.0f, 1.0f,   2.25f,   4.0f,
                                 10.0f, 10.0f,   10.0f,  10.0f,   10.0f, -16.0f, -20.25f, -25.0f,
                                 10.0f, -30.25f, -36.0f, -42.25f, 10.0f, 10.0f,  10.0f,   10.0f};
static const float RZ_R3_LIN[] = {
    4.0f,     3.82500005f,  3.125f,   2.42499995f,  1.875f,       1.375f,       1.0f,
    2.125f,   2.0250001f,   1.625f,   1.22500002f,  0.975000024f, 0.774999976f, 0.625f,
    0.375f,   0.375f,       0.375f,   0.375f,       0.524999976f, 0.725000024f, 0.875f,
    0.875f,   0.975000024f, 1.375f,   1.77499998f,  2.32500005f,  2.92499995f,  3.375f,
    -6.25f,   -6.5250001f,  -7.625f,  -8.72500038f, -9.97500038f, -11.2749996f, -12.25f,
    -11.125f, -11.4750004f, -12.875f, -14.2749996f, -15.8249998f, -17.4249992f, -18.625f,
    -18.375f, -18.8250008f, -20.625f, -22.4249992f, -24.375f,     -26.375f,     -27.875f,
    -27.875f, -28.4249992f, -30.625f, -32.8250008f, -35.1749992f, -37.5750008f, -39.375f};
static const float RZ_UP_LIN[] = {
    4.0f,    2.83333325f,   1.83333337f,   1.0f,    2.125f,   1.45833337f,  0.958333313f, 0.625f,
    0.25f,   0.0833333358f, 0.0833333358f, 0.25f,   0.625f,   0.958333313f, 1.45833337f,  2.125f,
    1.0f,    1.83333337f,   2.83333325f,   4.0f,    1.0f,     1.83333337f,  2.83333325f,  4.0f,
    -6.25f,  -8.08333302f,  -10.083333f,   -12.25f, -11.125f, -13.458333f,  -15.958333f,  -18.625f,
    -16.0f,  -18.833334f,   -21.833334f,   -25.0f,  -23.125f, -26.458334f,  -29.958334f,  -33.625f,
    -30.25f, -34.0833321f,  -38.0833321f,  -42.25f, -30.25f,  -34.0833321f, -38.0833321f, -42.25f};

typedef struct rz_case {
  int64_t opset;
  const char *op;
  const char *mode, *coord, *nearest;
  int rank;
  const int64_t *xdims;
  const void *x;
  int32_t dtype;
  const float *scales; /* rank values, or NULL */
  const int64_t *sizes;
  const float *roi;
  float cubic_a;
  bool exclude_outside;
  float extrapolation;
  bool scales_attr; /* Upsample-7 */
  const int64_t *ydims;
  const void *want;
} rz_case;

/* Runs c with its scales/sizes/roi as constants and as graph inputs, 1 and 2 threads. */
static onnxi_status rz_run(const rz_case *c, bool consts, int threads, op_test *t) {
  op_test_init(t, c->opset);
  int ids[4] = {op_test_input(t, "X", c->dtype, c->rank, c->xdims, c->x), IR_NONE, IR_NONE,
                IR_NONE};
  int n_in = 1;
  int (*add)(op_test *, const char *, int32_t, int, const int64_t *, const void *) =
      consts ? op_test_const : op_test_input;
  bool v10 = c->opset < 11 || !strcmp(c->op, "Upsample");
  if (c->roi) ids[1] = add(t, "roi", FLOAT, 1, D(2 * c->rank), c->roi), n_in = 2;
  if (c->scales && !c->scales_attr) {
    ids[v10 ? 1 : 2] = add(t, "scales", FLOAT, 1, D(c->rank), c->scales);
    n_in = v10 ? 2 : 3;
  }
  if (c->sizes) ids[3] = add(t, "sizes", ONNXI_DTYPE_INT64, 1, D(c->rank), c->sizes), n_in = 4;
  if (!v10 && !c->roi && n_in > 1) ids[1] = IR_NONE;
  int y = op_test_value(t, "Y");
  int n = op_test_node(t, c->op, ids, n_in, (int[]){y}, 1);
  if (c->mode) op_test_attr_string(t, n, "mode", c->mode);
  if (c->coord) op_test_attr_string(t, n, "coordinate_transformation_mode", c->coord);
  if (c->nearest) op_test_attr_string(t, n, "nearest_mode", c->nearest);
  if (c->cubic_a != 0) op_test_attr_float(t, n, "cubic_coeff_a", c->cubic_a);
  if (c->exclude_outside) op_test_attr_int(t, n, "exclude_outside", 1);
  if (c->extrapolation != 0) op_test_attr_float(t, n, "extrapolation_value", c->extrapolation);
  if (c->scales_attr) op_test_attr_floats(t, n, "scales", c->rank, c->scales);
  op_test_output(t, y);
  return op_test_run(t, threads);
}

static void rz_check(const rz_case *c) {
  for (int v = 0; v < 3; v++) { /* run-time inputs, constants, constants on 2 threads */
    op_test t;
    if (rz_run(c, v > 0, 1 + (v == 2), &t) != ONNXI_OK) fail_msg("%s", t.err.message);
    op_test_expect(&t, 0, c->dtype, c->rank, c->ydims, c->want, 1e-5, 1e-5);
    op_test_release(&t);
  }
}

static void test_resize_linear(void **state) {
  (void)state;
  const int64_t *x4 = D(1, 2, 3, 3);
  rz_case c = {
      .opset = 13, .op = "Resize", .mode = "linear", .rank = 4, .xdims = x4, .x = RZ_X, .dtype = FLOAT};
  c.scales = F32(1, 1, 2, 2), c.ydims = D(1, 2, 6, 6), c.want = RZ_LIN_HP_2; /* XNNPACK */
  rz_check(&c);
  c.scales = F32(1, 1, 1.7f, 1.7f), c.ydims = D(1, 2, 5, 5),
  c.want = RZ_LIN_HP_17; /* own kernel */
  rz_check(&c);
  c.scales = NULL, c.sizes = D(1, 2, 4, 5), c.coord = "align_corners",
  c.ydims = D(1, 2, 4, 5);
  c.want = RZ_LIN_AC_45;
  rz_check(&c);
  c.opset = 11, c.sizes = D(1, 2, 1, 4), c.coord = "pytorch_half_pixel",
  c.ydims = D(1, 2, 1, 4);
  c.want = RZ_LIN_PT_14;
  rz_check(&c);
  rz_case r3 = {.opset = 13,
                .op = "Resize",
                .mode = "linear",
                .rank = 3,
                .xdims = D(2, 3, 3),
                .x = RZ_X,
                .dtype = FLOAT,
                .scales = F32(1, 1.5f, 2.5f),
                .ydims = D(2, 4, 7),
                .want = RZ_R3_LIN};
  rz_check(&r3);
}

static void test_resize_linear_double(void **state) {
  (void)state;
  double x[18], want[72];
  for (int i = 0; i < 18; i++) x[i] = RZ_X[i];
  for (int i = 0; i < 72; i++) want[i] = RZ_LIN_HP_2[i];
  rz_case c = {.opset = 13,
               .op = "Resize",
               .mode = "linear",
               .rank = 4,
               .xdims = D(1, 2, 3, 3),
               .x = x,
               .dtype = ONNXI_DTYPE_DOUBLE,
               .scales = F32(1, 1, 2, 2),
               .ydims = D(1, 2, 6, 6),
               .want = want};
  rz_check(&c);
}

static void test_resize_cubic(void **state) {
  (void)state;
  rz_case c = {.opset = 13,
               .op = "Resize",
               .mode = "cubic",
               .rank = 4,
               .xdims = D(1, 2, 3, 3),
               .x = RZ_X,
               .dtype = FLOAT,
               .scales = F32(1, 1, 2, 1),
               .cubic_a = -0.5f,
               .exclude_outside = true,
               .ydims = D(1, 2, 6, 3),
               .want = RZ_CUB_EX};
  rz_check(&c);
  rz_case d = {.opset = 12,
               .op = "Resize",
               .mode = "cubic",
               .coord = "asymmetric",
               .rank = 4,
               .xdims = D(1, 2, 3, 3),
               .x = RZ_X,
               .dtype = FLOAT,
               .scales = F32(1, 1, 0.7f, 1.4f),
               .ydims = D(1, 2, 2, 4),
               .want = RZ_CUB_ASYM};
  rz_check(&d);
}

static void test_resize_nearest_modes(void **state) {
  (void)state;
  static const char *const modes[4][2] = {{"round_prefer_ceil", "half_pixel"},
                                          {"floor", "align_corners"},
                                          {"ceil", "asymmetric"},
                                          {"round_prefer_floor", "pytorch_half_pixel"}};
  const float *want[4] = {RZ_NN_ROUND_PREFER_CEIL, RZ_NN_FLOOR, RZ_NN_CEIL,
                          RZ_NN_ROUND_PREFER_FLOOR};
  for (int m = 0; m < 4; m++) {
    rz_case c = {.opset = 13,
                 .op = "Resize",
                 .nearest = modes[m][0],
                 .coord = modes[m][1],
                 .rank = 4,
                 .xdims = D(1, 2, 3, 3),
                 .x = RZ_X,
                 .dtype = FLOAT,
                 .sizes = D(1, 2, 5, 4),
                 .ydims = D(1, 2, 5, 4),
                 .want = want[m]};
    rz_check(&c);
  }
  /* the channel axis resized too (general gather on NHWC storage) */
  rz_case c = {.opset = 13,
               .op = "Resize",
               .mode = "nearest",
               .rank = 4,
               .xdims = D(1, 2, 3, 3),
               .x = RZ_X,
               .dtype = FLOAT,
               .sizes = D(1, 3, 2, 3),
               .ydims = D(1, 3, 2, 3),
               .want = RZ_NN_C};
  rz_check(&c);
  /* any dtype: int64, rank 2 */
  static const int64_t xi[] = {1, 2, 3, 4, 5, 6},
                       wi[] = {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6};
  rz_case i = {.opset = 13,
               .op = "Resize",
               .rank = 2,
               .xdims = D(2, 3),
               .x = xi,
               .dtype = ONNXI_DTYPE_INT64,
               .scales = F32(1.5f, 2),
               .coord = "asymmetric",
               .nearest = "floor",
               .ydims = D(3, 6),
               .want = wi};
  rz_check(&i);
}

static void test_resize_tf_crop_and_resize(void **state) {
  (void)state;
  const float *roi = F32(0, 0, 0.4f, -0.2f, 1, 1, 1.3f, 0.9f);
  rz_case c = {.opset = 13,
               .op = "Resize",
               .mode = "linear",
               .coord = "tf_crop_and_resize",
               .rank = 4,
               .xdims = D(1, 2, 3, 3),
               .x = RZ_X,
               .dtype = FLOAT,
               .roi = roi,
               .sizes = D(1, 2, 3, 4),
               .extrapolation = 10,
               .ydims = D(1, 2, 3, 4),
               .want = RZ_TF_LIN};
  rz_check(&c);
  c.mode = "nearest", c.want = RZ_TF_NN;
  rz_check(&c);
}

static void test_upsample_and_resize10(void **state) {
  (void)state;
  static const float x[] = {1, 2, 3, 4};
  static const float nn[] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                             3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  rz_case c = {.opset = 9,
               .op = "Upsample",
               .mode = "nearest",
               .rank = 4,
               .xdims = D(1, 1, 2, 2),
               .x = x,
               .dtype = FLOAT,
               .scales = F32(1, 1, 2, 3),
               .ydims = D(1, 1, 4, 6),
               .want = nn};
  rz_check(&c);
  c.opset = 7, c.scales_attr = true;
  rz_check(&c);
  rz_case l = {.opset = 8,
               .op = "Upsample",
               .mode = "linear",
               .rank = 4,
               .xdims = D(1, 2, 3, 3),
               .x = RZ_X,
               .dtype = FLOAT,
               .scales = F32(1, 1, 2, 1.5f),
               .scales_attr = true,
               .ydims = D(1, 2, 6, 4),
               .want = RZ_UP_LIN};
  rz_check(&l);
  l.opset = 10, l.op = "Resize", l.scales_attr = false;
  rz_check(&l);
  /* Resize-10 nearest downsampling rounds up (onnxruntime's legacy rule) */
  static const float x8[] = {1, 2, 3, 4, 5, 6, 7, 8}, down[] = {1, 3};
  rz_case d = {.opset = 10,
               .op = "Resize",
               .mode = "nearest",
               .rank = 4,
               .xdims = D(1, 1, 2, 4),
               .x = x8,
               .dtype = FLOAT,
               .scales = F32(1, 1, 0.6f, 0.6f),
               .ydims = D(1, 1, 1, 2),
               .want = down};
  rz_check(&d);
}

static void rz_error(const rz_case *c, const char *msg) {
  op_test t;
  assert_int_not_equal(rz_run(c, true, 1, &t), ONNXI_OK);
  if (!strstr(t.err.message, msg)) fail_msg("message '%s' lacks '%s'", t.err.message, msg);
  op_test_release(&t);
}

static void test_resize_errors(void **state) {
  (void)state;
  rz_case c = {.opset = 13,
               .op = "Resize",
               .mode = "bicubic",
               .rank = 4,
               .xdims = D(1, 2, 3, 3),
               .x = RZ_X,
               .dtype = FLOAT,
               .scales = F32(1, 1, 2, 2),
               .ydims = D(1, 2, 6, 6)};
  rz_error(&c, "attribute 'mode': unknown value 'bicubic'");
  c.mode = "linear", c.coord = "half_pixels";
  rz_error(&c, "attribute 'coordinate_transformation_mode': unknown value 'half_pixels'");
  c.coord = "tf_half_pixel_for_nn";
  rz_error(&c, "removed in opset 13");
  c.coord = NULL, c.nearest = "round";
  rz_error(&c, "attribute 'nearest_mode': unknown value 'round'");
  c.nearest = NULL, c.sizes = D(1, 2, 6, 6);
  rz_error(&c, "'scales' and 'sizes' are both given");
  c.scales = NULL, c.sizes = NULL;
  rz_error(&c, "expects inputs X, roi, scales, sizes; got 1");
  c.roi = F32(0, 0, 0, 0, 1, 1, 1, 1); /* roi alone: neither scales nor sizes */
  rz_error(&c, "one of inputs 'scales' and 'sizes' must be given");
  c.roi = NULL, c.sizes = D(1, 2, -6, 6);
  rz_error(&c, "input 'sizes': -6 for axis 2 is negative");
  c.sizes = NULL, c.scales = F32(1, 1, -2, 2);
  rz_error(&c, "scale -2 for axis 2 must be > 0");
  c.scales = F32(1, 1, 2, 2), c.coord = "tf_crop_and_resize";
  rz_error(&c, "needs input 'roi' of 8 values");
  rz_case u = {.opset = 9,
               .op = "Upsample",
               .mode = "cubic",
               .rank = 4,
               .xdims = D(1, 2, 3, 3),
               .x = RZ_X,
               .dtype = FLOAT,
               .scales = F32(1, 1, 2, 2),
               .ydims = D(1, 2, 6, 6)};
  rz_error(&u, "attribute 'mode': 'cubic' needs Resize from opset 11");
  static const int32_t xi[] = {1, 2, 3, 4};
  rz_case li = {.opset = 13,
                .op = "Resize",
                .mode = "linear",
                .rank = 2,
                .xdims = D(2, 2),
                .x = xi,
                .dtype = ONNXI_DTYPE_INT32,
                .scales = F32(2, 2),
                .ydims = D(4, 4)};
  rz_error(&li, "linear mode on dtype 6");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resize_linear),
      cmocka_unit_test(test_resize_linear_double),
      cmocka_unit_test(test_resize_cubic),
      cmocka_unit_test(test_resize_nearest_modes),
      cmocka_unit_test(test_resize_tf_crop_and_resize),
      cmocka_unit_test(test_upsample_and_resize10),
      cmocka_unit_test(test_resize_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
