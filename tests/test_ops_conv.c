/* Conv and ConvTranspose: hand-computed cases for each attribute, then
 * randomized cases checked against a naive NCHW reference written here
 * (weights constant -> XNNPACK path, weights fed at run time -> reference
 * kernel), re-planning with a new input shape, and load/plan errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "act.h"
#include "conv_igemm.h"
#include "exec.h"
#include "op_test.h"
#include "pass.h"

#define F ONNXI_DTYPE_FLOAT

static const float ramp25[25] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};
static const float ones9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};

/* Each case runs with W (and B) as initializers and as graph inputs, on 1
 * and 2 threads. */
typedef void (*conv_attrs_fn)(op_test *t, int node);

static void conv_check(const char *op, int rank, const int64_t *xd, const float *x,
                       const int64_t *wd, const float *w, const int64_t *bd, const float *b,
                       conv_attrs_fn attrs, const int64_t *yd, const float *y) {
  for (int w_const = 0; w_const < 2; w_const++)
    for (int threads = 1; threads <= 2; threads++) {
      op_test t;
      op_test_init(&t, 13);
      int in[3];
      in[0] = op_test_input(&t, "X", F, rank, xd, x);
      in[1] =
          w_const ? op_test_const(&t, "W", F, rank, wd, w) : op_test_input(&t, "W", F, rank, wd, w);
      if (b)
        in[2] = w_const ? op_test_const(&t, "B", F, 1, bd, b) : op_test_input(&t, "B", F, 1, bd, b);
      int out = op_test_value(&t, "Y");
      int node = op_test_node(&t, op, in, b ? 3 : 2, &out, 1);
      if (attrs) attrs(&t, node);
      op_test_output(&t, out);
      onnxi_status st = op_test_run(&t, threads);
      if (st != ONNXI_OK)
        fail_msg("%s (w_const %d, %d threads): %s", op, w_const, threads, t.err.message);
      op_test_expect(&t, 0, F, rank, yd, y, 1e-4, 1e-4);
      op_test_release(&t);
    }
}

/* --- hand-computed cases (ONNX's conv examples: 5x5 ramp, 3x3 ones) ----- */

static void attrs_pad1(op_test *t, int n) {
  op_test_attr_ints(t, n, "kernel_shape", 2, (int64_t[]){3, 3});
  op_test_attr_ints(t, n, "pads", 4, (int64_t[]){1, 1, 1, 1});
}

static void test_conv_basic(void **state) {
  (void)state;
  static const float y0[9] = {54, 63, 72, 99, 108, 117, 144, 153, 162};
  conv_check("Conv", 4, (int64_t[]){1, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             NULL, (int64_t[]){1, 1, 3, 3}, y0);
  static const float y1[25] = {12,  21, 27, 33,  24,  33,  54,  63, 72,  51,  63,  99, 108,
                               117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
  conv_check("Conv", 4, (int64_t[]){1, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_pad1, (int64_t[]){1, 1, 5, 5}, y1);
}

static void attrs_s2_pad1(op_test *t, int n) {
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){2, 2});
  op_test_attr_ints(t, n, "pads", 4, (int64_t[]){1, 1, 1, 1});
}
static void attrs_s2(op_test *t, int n) {
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){2, 2});
}
static void attrs_s2_asym(op_test *t, int n) {
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){2, 2});
  op_test_attr_ints(t, n, "pads", 4, (int64_t[]){1, 0, 1, 0});
}

static void test_conv_strides(void **state) {
  (void)state;
  float x[35];
  for (int i = 0; i < 35; i++)
    x[i] = (float)i;
  static const float y0[12] = {12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124};
  conv_check("Conv", 4, (int64_t[]){1, 1, 7, 5}, x, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_s2_pad1, (int64_t[]){1, 1, 4, 3}, y0);
  static const float y1[6] = {54, 72, 144, 162, 234, 252};
  conv_check("Conv", 4, (int64_t[]){1, 1, 7, 5}, x, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_s2, (int64_t[]){1, 1, 3, 2}, y1);
  static const float y2[8] = {21, 33, 99, 117, 189, 207, 171, 183};
  conv_check("Conv", 4, (int64_t[]){1, 1, 7, 5}, x, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_s2_asym, (int64_t[]){1, 1, 4, 2}, y2);
}

static void attrs_same_lower_s2(op_test *t, int n) {
  op_test_attr_string(t, n, "auto_pad", "SAME_LOWER");
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){2, 2});
}
static void attrs_same_upper_s2(op_test *t, int n) {
  op_test_attr_string(t, n, "auto_pad", "SAME_UPPER");
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){2, 2});
}
static void attrs_valid(op_test *t, int n) {
  op_test_attr_string(t, n, "auto_pad", "VALID");
}

static void test_conv_auto_pad(void **state) {
  (void)state;
  static const float same3[9] = {12, 27, 24, 63, 108, 81, 72, 117, 84};
  conv_check("Conv", 4, (int64_t[]){1, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_same_lower_s2, (int64_t[]){1, 1, 3, 3}, same3);
  conv_check("Conv", 4, (int64_t[]){1, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_same_upper_s2, (int64_t[]){1, 1, 3, 3}, same3);
  /* a 2x2 kernel makes the total padding odd: the extra pixel goes last
   * (SAME_UPPER) or first (SAME_LOWER) */
  static const float ones4[4] = {1, 1, 1, 1};
  static const float up[9] = {12, 20, 13, 52, 60, 33, 41, 45, 24};
  static const float lo[9] = {0, 3, 7, 15, 36, 44, 35, 76, 84};
  conv_check("Conv", 4, (int64_t[]){1, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 2, 2}, ones4, NULL, NULL,
             attrs_same_upper_s2, (int64_t[]){1, 1, 3, 3}, up);
  conv_check("Conv", 4, (int64_t[]){1, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 2, 2}, ones4, NULL, NULL,
             attrs_same_lower_s2, (int64_t[]){1, 1, 3, 3}, lo);
  static const float valid[9] = {54, 63, 72, 99, 108, 117, 144, 153, 162};
  conv_check("Conv", 4, (int64_t[]){1, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_valid, (int64_t[]){1, 1, 3, 3}, valid);
}

static void attrs_dil2(op_test *t, int n) {
  op_test_attr_ints(t, n, "dilations", 2, (int64_t[]){2, 2});
}
static void attrs_dil2_pad2(op_test *t, int n) {
  op_test_attr_ints(t, n, "dilations", 2, (int64_t[]){2, 2});
  op_test_attr_ints(t, n, "pads", 4, (int64_t[]){2, 2, 2, 2});
}

static void test_conv_dilations(void **state) {
  (void)state;
  static const float y0[1] = {108};
  conv_check("Conv", 4, (int64_t[]){1, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_dil2, (int64_t[]){1, 1, 1, 1}, y0);
  static const float y1[25] = {24, 28, 42, 28, 32, 44, 48, 72, 48, 52,  66, 72, 108,
                               72, 78, 44, 48, 72, 48, 52, 64, 68, 102, 68, 72};
  conv_check("Conv", 4, (int64_t[]){1, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_dil2_pad2, (int64_t[]){1, 1, 5, 5}, y1);
}

static void attrs_group2(op_test *t, int n) {
  op_test_attr_int(t, n, "group", 2);
}

/* Two images, two channels, 1x1-free 2x2 kernels: groups and bias. */
static void test_conv_groups_bias_batch(void **state) {
  (void)state;
  /* X [2,2,2,2]: image 0 channel 0 = 1..4, channel 1 = 5..8; image 1 negated */
  float x[16];
  for (int i = 0; i < 8; i++)
    x[i] = (float)(i + 1), x[8 + i] = -(float)(i + 1);
  /* group 2, W [2,1,2,2]: out 0 sums channel 0, out 1 takes 2*top-left of channel 1 */
  static const float w[8] = {1, 1, 1, 1, 2, 0, 0, 0};
  static const float b[2] = {0.5f, -1};
  static const float y[4] = {10.5f, 9, -9.5f, -11};
  conv_check("Conv", 4, (int64_t[]){2, 2, 2, 2}, x, (int64_t[]){2, 1, 2, 2}, w, (int64_t[]){2}, b,
             attrs_group2, (int64_t[]){2, 2, 1, 1}, y);
  /* group 1, W [1,2,2,2]: everything summed, no bias */
  static const float w1[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  static const float y1[2] = {36, -36};
  conv_check("Conv", 4, (int64_t[]){2, 2, 2, 2}, x, (int64_t[]){1, 2, 2, 2}, w1, NULL, NULL, NULL,
             (int64_t[]){2, 1, 1, 1}, y1);
}

static void attrs_k3(op_test *t, int n) {
  op_test_attr_ints(t, n, "kernel_shape", 1, (int64_t[]){3});
}

static void test_conv_1d_3d(void **state) {
  (void)state;
  static const float x[5] = {1, 2, 3, 4, 5}, w[3] = {1, 0, -1}, y[3] = {-2, -2, -2};
  conv_check("Conv", 3, (int64_t[]){1, 1, 5}, x, (int64_t[]){1, 1, 3}, w, NULL, NULL, attrs_k3,
             (int64_t[]){1, 1, 3}, y);
  float x3[27], w3[8];
  for (int i = 0; i < 27; i++)
    x3[i] = (float)i;
  for (int i = 0; i < 8; i++)
    w3[i] = 1;
  /* 2x2x2 box sums of a 3x3x3 ramp: sum = 8 * mean of the corner cube */
  float y3[8];
  for (int z = 0; z < 2; z++)
    for (int r = 0; r < 2; r++)
      for (int c = 0; c < 2; c++)
        y3[(z * 2 + r) * 2 + c] = 8.0f * (9 * z + 3 * r + c + 6.5f);
  conv_check("Conv", 5, (int64_t[]){1, 1, 3, 3, 3}, x3, (int64_t[]){1, 1, 2, 2, 2}, w3, NULL, NULL,
             NULL, (int64_t[]){1, 1, 2, 2, 2}, y3);
}

static void attrs_clamp(op_test *t, int n) {
  op_test_attr_ints(t, n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  op_test_attr_float(t, n, "onnxi.clamp_min", 30);
  op_test_attr_float(t, n, "onnxi.clamp_max", 100);
}

static void test_conv_clamp(void **state) {
  (void)state;
  static const float y[25] = {30,  30, 30, 33,  30,  33,  54,  63, 72,  51,  63,  99, 100,
                              100, 81, 93, 100, 100, 100, 100, 72, 100, 100, 100, 84};
  conv_check("Conv", 4, (int64_t[]){1, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_clamp, (int64_t[]){1, 1, 5, 5}, y);
}

/* An empty batch plans and runs (nothing to compute). */
static void test_conv_empty_batch(void **state) {
  (void)state;
  conv_check("Conv", 4, (int64_t[]){0, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 3, 3}, ones9, NULL, NULL,
             attrs_pad1, (int64_t[]){0, 1, 5, 5}, NULL);
  conv_check("ConvTranspose", 4, (int64_t[]){0, 1, 5, 5}, ramp25, (int64_t[]){1, 1, 3, 3}, ones9,
             NULL, NULL, NULL, (int64_t[]){0, 1, 7, 7}, NULL);
}

/* --- ConvTranspose: ONNX's examples (3x3 ramp, ones kernel) ------------- */

static const float ramp9[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
static const float ones18[18] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

static void test_conv_transpose_basic(void **state) {
  (void)state;
  static const float plane[25] = {0,  1,  3, 3,  2,  3,  8,  15, 12, 7,  9,  21, 36,
                                  27, 15, 9, 20, 33, 24, 13, 6,  13, 21, 15, 8};
  float y[50];
  memcpy(y, plane, sizeof plane);
  memcpy(y + 25, plane, sizeof plane);
  conv_check("ConvTranspose", 4, (int64_t[]){1, 1, 3, 3}, ramp9, (int64_t[]){1, 2, 3, 3}, ones18,
             NULL, NULL, NULL, (int64_t[]){1, 2, 5, 5}, y);
}

static void attrs_t_out_shape(op_test *t, int n) {
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){3, 2});
  op_test_attr_ints(t, n, "output_shape", 2, (int64_t[]){10, 8});
}
static void attrs_t_out_pad(op_test *t, int n) {
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){3, 2});
  op_test_attr_ints(t, n, "output_padding", 2, (int64_t[]){1, 1});
}
static void attrs_t_pads(op_test *t, int n) {
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){3, 2});
  op_test_attr_ints(t, n, "pads", 4, (int64_t[]){1, 2, 1, 2});
}
static void attrs_t_same(op_test *t, int n) {
  op_test_attr_string(t, n, "auto_pad", "SAME_UPPER");
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){2, 2});
}

static void test_conv_transpose_attrs(void **state) {
  (void)state;
  static const float rows[4][8] = {{0, 0, 1, 1, 3, 2, 2, 0},
                                   {3, 3, 7, 4, 9, 5, 5, 0},
                                   {6, 6, 13, 7, 15, 8, 8, 0},
                                   {0, 0, 0, 0, 0, 0, 0, 0}};
  float y[160];
  for (int c = 0; c < 2; c++)
    for (int r = 0; r < 10; r++)
      memcpy(y + (c * 10 + r) * 8, rows[r == 9 ? 3 : r / 3], 8 * sizeof(float));
  conv_check("ConvTranspose", 4, (int64_t[]){1, 1, 3, 3}, ramp9, (int64_t[]){1, 2, 3, 3}, ones18,
             NULL, NULL, attrs_t_out_shape, (int64_t[]){1, 2, 10, 8}, y);
  conv_check("ConvTranspose", 4, (int64_t[]){1, 1, 3, 3}, ramp9, (int64_t[]){1, 2, 3, 3}, ones18,
             NULL, NULL, attrs_t_out_pad, (int64_t[]){1, 2, 10, 8}, y);
  static const float prow[3][3] = {{1, 1, 3}, {7, 4, 9}, {13, 7, 15}};
  static const int prow_of[7] = {0, 0, 1, 1, 1, 2, 2};
  float yp[42];
  for (int c = 0; c < 2; c++)
    for (int r = 0; r < 7; r++)
      memcpy(yp + (c * 7 + r) * 3, prow[prow_of[r]], 3 * sizeof(float));
  conv_check("ConvTranspose", 4, (int64_t[]){1, 1, 3, 3}, ramp9, (int64_t[]){1, 2, 3, 3}, ones18,
             NULL, NULL, attrs_t_pads, (int64_t[]){1, 2, 7, 3}, yp);
  static const float srows[6][6] = {{0, 0, 1, 1, 3, 2},     {0, 0, 1, 1, 3, 2},
                                    {3, 3, 8, 5, 12, 7},    {3, 3, 7, 4, 9, 5},
                                    {9, 9, 20, 11, 24, 13}, {6, 6, 13, 7, 15, 8}};
  float ys[72];
  for (int c = 0; c < 2; c++)
    memcpy(ys + c * 36, srows, sizeof srows);
  conv_check("ConvTranspose", 4, (int64_t[]){1, 1, 3, 3}, ramp9, (int64_t[]){1, 2, 3, 3}, ones18,
             NULL, NULL, attrs_t_same, (int64_t[]){1, 2, 6, 6}, ys);
}

static void test_conv_transpose_dilations_bias(void **state) {
  (void)state;
  static const float x[9] = {3, 8, 1, 9, 5, 7, 3, 2, 6}, w[4] = {7, 2, 1, 9}, b[1] = {1};
  static const float y[25] = {22, 57, 14, 17, 3,  64, 36, 68, 11, 15, 25, 23, 77,
                              77, 22, 10, 6,  89, 46, 64, 4,  3,  34, 19, 55};
  conv_check("ConvTranspose", 4, (int64_t[]){1, 1, 3, 3}, x, (int64_t[]){1, 1, 2, 2}, w,
             (int64_t[]){1}, b, attrs_dil2, (int64_t[]){1, 1, 5, 5}, y);
  static const float x1[3] = {0, 1, 2}, w1[6] = {1, 1, 1, 1, 1, 1};
  static const float y1[10] = {0, 1, 3, 3, 2, 0, 1, 3, 3, 2};
  conv_check("ConvTranspose", 3, (int64_t[]){1, 1, 3}, x1, (int64_t[]){1, 2, 3}, w1, NULL, NULL,
             NULL, (int64_t[]){1, 2, 5}, y1);
}

/* --- randomized cases against a naive reference ------------------------- */

typedef struct conv_case {
  bool transposed;
  int nsp;
  int64_t n, c, m, group;
  int64_t in[3], k[3], s[3], d[3], pads[6], out_pad[3];
  const char *auto_pad; /* NULL: explicit pads */
  bool bias;
} conv_case;

static uint32_t rng_state = 12345;
static float rng_value(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float)((int)(rng_state >> 24) % 9 - 4) * 0.25f;
}

static int64_t ref_pads(const conv_case *cc, int i, int64_t *pb, int64_t *pe) {
  int64_t dk = (cc->k[i] - 1) * cc->d[i] + 1, s = cc->s[i], in = cc->in[i];
  if (cc->transposed) {
    int64_t natural = s * (in - 1) + cc->out_pad[i] + dk;
    if (cc->auto_pad && strcmp(cc->auto_pad, "VALID")) {
      int64_t total = natural - in * s;
      if (total < 0) total = 0;
      *pb = !strcmp(cc->auto_pad, "SAME_UPPER") ? total / 2 : total - total / 2;
      return in * s; /* output past the last contribution holds the bias */
    } else {
      *pb = cc->auto_pad ? 0 : cc->pads[i];
      *pe = cc->auto_pad ? 0 : cc->pads[i + cc->nsp];
    }
    return natural - *pb - *pe;
  }
  if (cc->auto_pad && strcmp(cc->auto_pad, "VALID")) {
    int64_t out = (in + s - 1) / s, total = (out - 1) * s + dk - in;
    if (total < 0) total = 0;
    *pb = !strcmp(cc->auto_pad, "SAME_UPPER") ? total / 2 : total - total / 2;
    *pe = total - *pb;
    return out;
  }
  *pb = cc->auto_pad ? 0 : cc->pads[i];
  *pe = cc->auto_pad ? 0 : cc->pads[i + cc->nsp];
  return (in + *pb + *pe - dk) / s + 1;
}

/* Plain NCHW loops over every (output, input channel, tap); transposed
 * convolution scatters each input pixel into the output instead. */
static void ref_conv(const conv_case *cc, const float *x, const float *w, const float *b, float *y,
                     int64_t *yd) {
  int64_t pb[3] = {0}, out[3] = {1, 1, 1}, in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1},
          d[3] = {1, 1, 1}, pe;
  for (int i = 0; i < cc->nsp; i++) {
    out[i] = ref_pads(cc, i, &pb[i], &pe);
    in[i] = cc->in[i], k[i] = cc->k[i], s[i] = cc->s[i], d[i] = cc->d[i];
  }
  yd[0] = cc->n, yd[1] = cc->m;
  for (int i = 0; i < cc->nsp; i++)
    yd[2 + i] = out[i];
  int64_t cg = cc->c / cc->group, mg = cc->m / cc->group, osz = out[0] * out[1] * out[2];
  int64_t isz = in[0] * in[1] * in[2], ksz = k[0] * k[1] * k[2];
  for (int64_t n = 0; n < cc->n; n++)
    for (int64_t m = 0; m < cc->m; m++)
      for (int64_t p = 0; p < osz; p++)
        y[(n * cc->m + m) * osz + p] = b ? b[m] : 0;
  for (int64_t n = 0; n < cc->n; n++)
    for (int64_t m = 0; m < cc->m; m++) {
      int64_t g = m / mg;
      for (int64_t ci = 0; ci < cg; ci++)
        for (int64_t a = 0; a < (cc->transposed ? in[0] : out[0]); a++)
          for (int64_t bb = 0; bb < (cc->transposed ? in[1] : out[1]); bb++)
            for (int64_t e = 0; e < (cc->transposed ? in[2] : out[2]); e++)
              for (int64_t ka = 0; ka < k[0]; ka++)
                for (int64_t kb = 0; kb < k[1]; kb++)
                  for (int64_t ke = 0; ke < k[2]; ke++) {
                    int64_t q[3], src[3] = {a, bb, e}, kk[3] = {ka, kb, ke};
                    const int64_t *lim = cc->transposed ? out : in;
                    bool ok = true;
                    for (int i = 0; i < 3; i++) {
                      q[i] = src[i] * s[i] + kk[i] * d[i] - pb[i];
                      ok = ok && q[i] >= 0 && q[i] < lim[i];
                    }
                    if (!ok) continue;
                    int64_t kidx = (ka * k[1] + kb) * k[2] + ke;
                    if (cc->transposed) {
                      float xv =
                          x[((n * cc->c + g * cg + ci) * isz) + (a * in[1] + bb) * in[2] + e];
                      float wv = w[((g * cg + ci) * mg + (m - g * mg)) * ksz + kidx];
                      y[(n * cc->m + m) * osz + (q[0] * out[1] + q[1]) * out[2] + q[2]] += xv * wv;
                    } else {
                      float xv = x[((n * cc->c + g * cg + ci) * isz) +
                                   (q[0] * in[1] + q[1]) * in[2] + q[2]];
                      float wv = w[(m * cg + ci) * ksz + kidx];
                      y[(n * cc->m + m) * osz + (a * out[1] + bb) * out[2] + e] += xv * wv;
                    }
                  }
    }
}

/* The kernel path the runs with constant weights must take where the own
 * AVX-512 kernels run (NULL: any); set by test_conv_winograd and
 * test_conv_grouped_wide. */
static const char *case_want_path;

static void conv_path_check(const op_test *t, const conv_case *cc, bool w_const) {
#ifdef ONNXI_HAVE_IGEMM
  /* on AVX2 the depthwise kernel takes only filters over 25 taps (XNNPACK
   * the others); the other kernels have AVX2 forms throughout */
  bool big = cc->nsp == 2 && cc->k[0] * cc->k[1] > 25;
  bool any = case_want_path && (strcmp(case_want_path, "own-dwconv") || big);
  bool own = case_want_path && (any ? conv_igemm_enabled() : conv_igemm_wide());
  if (own && w_const && !strstr(t->paths, case_want_path))
    fail_msg("paths '%s', want %s", t->paths, case_want_path);
#else
  (void)t, (void)cc, (void)w_const;
#endif
}

static void conv_case_run(const conv_case *cc) {
  int rank = cc->nsp + 2;
  int64_t xd[5] = {cc->n, cc->c}, wd[5], yd[5], xn = cc->n * cc->c, wn;
  wd[0] = cc->transposed ? cc->c : cc->m;
  wd[1] = cc->transposed ? cc->m / cc->group : cc->c / cc->group;
  wn = wd[0] * wd[1];
  for (int i = 0; i < cc->nsp; i++)
    xd[2 + i] = cc->in[i], wd[2 + i] = cc->k[i], xn *= cc->in[i], wn *= cc->k[i];
  float *x = malloc(sizeof(float) * (size_t)xn), *w = malloc(sizeof(float) * (size_t)wn);
  float *b = malloc(sizeof(float) * (size_t)cc->m), *y = malloc(sizeof(float) * 200000);
  assert_true(x && w && b && y);
  for (int64_t i = 0; i < xn; i++)
    x[i] = rng_value();
  for (int64_t i = 0; i < wn; i++)
    w[i] = rng_value();
  for (int64_t i = 0; i < cc->m; i++)
    b[i] = rng_value();
  ref_conv(cc, x, w, cc->bias ? b : NULL, y, yd);
  /* run 3: 2 threads, the own dense kernel's pointer tables built per tile */
  for (int w_const = 0; w_const < 2; w_const++)
    for (int run = 1; run <= 3; run++) {
      int threads = run < 3 ? run : 2;
      if (run == 3) setenv("ONNXI_IGEMM_TABLES", "0", 1);
      op_test t;
      op_test_init(&t, 13);
      int in[3];
      in[0] = op_test_input(&t, "X", F, rank, xd, x);
      in[1] =
          w_const ? op_test_const(&t, "W", F, rank, wd, w) : op_test_input(&t, "W", F, rank, wd, w);
      if (cc->bias) in[2] = op_test_const(&t, "B", F, 1, (int64_t[]){cc->m}, b);
      int out = op_test_value(&t, "Y");
      int node = op_test_node(&t, cc->transposed ? "ConvTranspose" : "Conv", in, cc->bias ? 3 : 2,
                              &out, 1);
      op_test_attr_ints(&t, node, "strides", cc->nsp, cc->s);
      op_test_attr_ints(&t, node, "dilations", cc->nsp, cc->d);
      op_test_attr_int(&t, node, "group", cc->group);
      if (cc->auto_pad)
        op_test_attr_string(&t, node, "auto_pad", cc->auto_pad);
      else
        op_test_attr_ints(&t, node, "pads", 2 * cc->nsp, cc->pads);
      if (cc->transposed) op_test_attr_ints(&t, node, "output_padding", cc->nsp, cc->out_pad);
      op_test_output(&t, out);
      onnxi_status st = op_test_run(&t, threads);
      unsetenv("ONNXI_IGEMM_TABLES");
      if (st != ONNXI_OK) fail_msg("case failed: %s", t.err.message);
      op_test_expect(&t, 0, F, rank, yd, y, 1e-4, 1e-4);
      conv_path_check(&t, cc, w_const);
      op_test_release(&t);
    }
  free(x);
  free(w);
  free(b);
  free(y);
}

static void test_conv_random(void **state) {
  (void)state;
  /* clang-format off */
  static const conv_case cases[] = {
      /* dense, padded asymmetrically, strided, dilated, batch 2 */
      {false, 2, 2, 3, 4, 1, {7, 6}, {3, 2}, {2, 1}, {1, 2}, {1, 0, 2, 1}, {0}, NULL, true},
      /* grouped */
      {false, 2, 1, 6, 4, 2, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      /* depthwise, and depthwise with multiplier 2 */
      {false, 2, 2, 8, 8, 8, {6, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      {false, 2, 1, 4, 8, 4, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0}, "SAME_LOWER", false},
      /* depthwise over 25 taps (own NHWC kernel): 70 channels = a 64-block and a tail,
       * batch 2, strided, dilated, asymmetric pads; and 5x6 SAME_UPPER without bias */
      {false, 2, 2, 70, 70, 70, {13, 12}, {7, 7}, {2, 1}, {2, 1}, {3, 2, 4, 3}, {0}, NULL, true},
      {false, 2, 1, 16, 16, 16, {9, 9}, {5, 6}, {1, 1}, {1, 1}, {0}, {0}, "SAME_UPPER", false},
      /* 1x1, many channels */
      {false, 2, 1, 70, 33, 1, {3, 4}, {1, 1}, {1, 1}, {1, 1}, {0}, {0}, NULL, true},
      /* 1x1 strided; 3x3 with k = 630 (GEMM not transposed) over 2 slices of 2 chunks each */
      {false, 2, 2, 20, 24, 1, {9, 8}, {1, 1}, {2, 2}, {1, 1}, {0, 0, 0, 0}, {0}, NULL, true},
      {false, 2, 1, 70, 8, 1, {30, 30}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      /* own AVX-512 indirect GEMM (ops/conv_igemm.c, on CPUs with AVX-512F): 3x3
       * strided, dilated, asymmetric pads, batch 2 (tiles span both images),
       * a 16-wide last panel; a 7x7 map (49 pixels: 7-pixel tiles) over a
       * 32 + 32 + 6 channel split; 1x1 over a pixel count no tile size divides */
      {false, 2, 2, 40, 48, 1, {11, 10}, {3, 3}, {2, 1}, {2, 1}, {2, 1, 1, 0}, {0}, NULL, true},
      {false, 2, 1, 32, 70, 1, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      {false, 2, 1, 96, 40, 1, {5, 11}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0}, NULL, false},
      /* its row mode (thin inputs, kernel rows contiguous in a padded copy):
       * a 7x7 stride-2 RGB stem, batch 2; 5x5 SAME_UPPER over 8 channels with
       * vertical dilation 2 */
      {false, 2, 2, 3, 40, 1, {17, 19}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 2}, {0}, NULL, true},
      {false, 2, 1, 8, 33, 1, {9, 10}, {5, 5}, {1, 1}, {2, 1}, {0}, {0}, "SAME_UPPER", false},
      /* ... and a geometry it leaves to XNNPACK: stride and pads past the kernel width */
      {false, 2, 1, 8, 20, 1, {6, 7}, {3, 3}, {1, 4}, {1, 1}, {4, 5, 4, 5}, {0}, NULL, true},
      /* own narrow-group kernel (ops/conv_grouped.c): 4 channels per
       * group over 40 (two 16-lane blocks and a masked 8), strided, asymmetric
       * pads, batch 2; 8 per group over 24, dilated, 7x7 output (7-pixel
       * tiles); 2 per group, 5x5 SAME_UPPER; depthwise 600 channels (37
       * blocks and a half) 3x3 and 480 at 5x5 strided, batch 2 */
      {false, 2, 2, 40, 40, 10, {11, 10}, {3, 3}, {2, 1}, {1, 1}, {1, 0, 2, 1}, {0}, NULL, true},
      {false, 2, 1, 24, 24, 3, {11, 11}, {3, 3}, {1, 1}, {2, 2}, {0, 0, 0, 0}, {0}, NULL, false},
      /* 4 per group over 36: the AVX2 tile's last half is one group (masked loads) */
      {false, 2, 1, 36, 36, 9, {7, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      {false, 2, 1, 32, 32, 16, {6, 7}, {5, 5}, {1, 1}, {1, 1}, {0}, {0}, "SAME_UPPER", true},
      {false, 2, 1, 600, 600, 600, {5, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      {false, 2, 2, 480, 480, 480, {6, 7}, {5, 5}, {2, 2}, {1, 1}, {2, 2, 2, 2}, {0}, NULL, false},
      /* grouped 3x3 dilated, channels per group 8 -> 16 */
      {false, 2, 1, 16, 32, 2, {12, 11}, {3, 3}, {1, 2}, {2, 1}, {2, 1, 2, 1}, {0}, NULL, false},
      {false, 2, 1, 2, 3, 1, {6, 5}, {2, 3}, {2, 3}, {2, 1}, {0}, {0}, "SAME_UPPER", true},
      {false, 2, 1, 2, 3, 1, {6, 5}, {2, 3}, {2, 2}, {1, 1}, {0}, {0}, "VALID", false},
      /* 1-D and 3-D (reference kernel) */
      {false, 1, 2, 4, 6, 2, {9}, {3}, {2}, {2}, {2, 1}, {0}, NULL, true},
      {false, 3, 1, 2, 2, 1, {4, 3, 5}, {2, 2, 3}, {1, 2, 1}, {1, 1, 2}, {1, 0, 0, 0, 1, 1}, {0}, NULL, true},
      /* transposed: grouped, strided, padded, output_padding, dilated */
      {true, 2, 2, 4, 6, 2, {3, 4}, {3, 2}, {2, 3}, {1, 1}, {1, 0, 0, 1}, {1, 2}, NULL, true},
      {true, 2, 1, 3, 2, 1, {4, 4}, {3, 3}, {2, 2}, {2, 1}, {0}, {1, 0}, "SAME_LOWER", false},
      {true, 2, 1, 2, 2, 1, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, NULL, true},
      {true, 1, 1, 2, 3, 1, {5}, {3}, {2}, {1}, {1, 0}, {1}, NULL, true},
      {true, 3, 1, 2, 2, 2, {2, 3, 2}, {2, 2, 2}, {2, 1, 2}, {1, 1, 1}, {0, 1, 0, 0, 0, 1}, {0}, NULL, true},
  };
  /* clang-format on */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    conv_case_run(&cases[i]);
}

/* --- residual Add folded into the Conv step at plan time ------------------ */

/* Random X, W, B and R of a 2-D case, and Y = the reference conv; Y and R
 * hold up to 200000 floats. conv_data_free releases them. */
typedef struct conv_data {
  float *x, *w, *b, *y, *r;
  int64_t yd[5], yn;
} conv_data;

static void conv_data_make(const conv_case *cc, conv_data *d) {
  int64_t xn = cc->n * cc->c * cc->in[0] * cc->in[1];
  int64_t wn = cc->m * (cc->c / cc->group) * cc->k[0] * cc->k[1];
  d->x = malloc(sizeof(float) * (size_t)xn), d->w = malloc(sizeof(float) * (size_t)wn);
  d->b = malloc(sizeof(float) * (size_t)cc->m), d->y = malloc(sizeof(float) * 200000);
  d->r = malloc(sizeof(float) * 200000);
  assert_true(d->x && d->w && d->b && d->y && d->r);
  for (int64_t i = 0; i < xn; i++) d->x[i] = rng_value();
  for (int64_t i = 0; i < wn; i++) d->w[i] = rng_value();
  for (int64_t i = 0; i < cc->m; i++) d->b[i] = rng_value();
  ref_conv(cc, d->x, d->w, cc->bias ? d->b : NULL, d->y, d->yd);
  d->yn = d->yd[0] * d->yd[1] * d->yd[2] * d->yd[3];
  assert_true(d->yn <= 200000);
  for (int64_t i = 0; i < d->yn; i++) d->r[i] = rng_value();
}

static void conv_data_free(conv_data *d) {
  free(d->x), free(d->w), free(d->b), free(d->y), free(d->r);
}

/* Inputs X, W (a constant when w_const) and B of a 2-D case, and the Conv
 * node writing value y; returns the node. */
static int conv_data_node(op_test *t, const conv_case *cc, const conv_data *d, bool w_const,
                          int y) {
  int64_t xd[4] = {cc->n, cc->c, cc->in[0], cc->in[1]};
  int64_t wd[4] = {cc->m, cc->c / cc->group, cc->k[0], cc->k[1]};
  int in[3];
  in[0] = op_test_input(t, "X", F, 4, xd, d->x);
  in[1] = w_const ? op_test_const(t, "W", F, 4, wd, d->w) : op_test_input(t, "W", F, 4, wd, d->w);
  if (cc->bias) in[2] = op_test_const(t, "B", F, 1, (int64_t[]){cc->m}, d->b);
  int conv = op_test_node(t, "Conv", in, cc->bias ? 3 : 2, &y, 1);
  op_test_attr_ints(t, conv, "strides", 2, cc->s);
  op_test_attr_ints(t, conv, "dilations", 2, cc->d);
  op_test_attr_ints(t, conv, "pads", 4, cc->pads);
  op_test_attr_int(t, conv, "group", cc->group);
  return conv;
}

/* Conv(X, W, B) then Add(Y, R) (operands in either order), the Add
 * clamped as act-fuse leaves it; R in Y's shape, or [1, m, 1, 1] (`bcast`,
 * not folded). With `y_out`, Y is a graph output too (not folded). Checks
 * the values against the reference plus R, and that the fold removed
 * exactly the Add step (ONNXI_FUSE_RESIDUAL=0 plans it unfused) where the
 * conv was packed for an own AVX-512 kernel, and nothing elsewhere; a
 * fold writes the sum in place over R's NHWC copy, which dies there. */
typedef struct residual_case {
  conv_case cc;
  bool w_const, r_first, bcast, y_out;
  float lo, hi;
  int own; /* packed for an own kernel: the fold applies where it runs */
} residual_case;

/* residual_case.own: none, a kernel with an AVX2 form too, an AVX-512 one */
enum { OWN_NONE, OWN_ANY, OWN_WIDE };

static bool residual_own_kernels(int own) {
#ifdef ONNXI_HAVE_IGEMM
  return own == OWN_WIDE ? conv_igemm_wide() : own == OWN_ANY && conv_igemm_enabled();
#else
  (void)own;
  return false;
#endif
}

static int residual_run(const residual_case *rc, const conv_data *d, const float *want,
                        int threads, int *in_place) {
  const conv_case *cc = &rc->cc;
  int64_t rd[4] = {1, cc->m, 1, 1};
  op_test t;
  op_test_init(&t, 13);
  int y = op_test_value(&t, "Y"), z = op_test_value(&t, "Z");
  conv_data_node(&t, cc, d, rc->w_const, y);
  int ri = op_test_input(&t, "R", F, 4, rc->bcast ? rd : d->yd, d->r);
  int add = op_test_node(&t, "Add", rc->r_first ? (int[]){ri, y} : (int[]){y, ri}, 2, &z, 1);
  if (rc->lo > -INFINITY) op_test_attr_float(&t, add, "onnxi.clamp_min", rc->lo);
  if (rc->hi < INFINITY) op_test_attr_float(&t, add, "onnxi.clamp_max", rc->hi);
  op_test_output(&t, z);
  if (rc->y_out) op_test_output(&t, y);
  onnxi_status st = op_test_run(&t, threads);
  if (st != ONNXI_OK) fail_msg("residual case failed: %s", t.err.message);
  op_test_expect(&t, 0, F, 4, d->yd, want, 1e-4, 1e-4);
  conv_path_check(&t, &rc->cc, rc->w_const);
  int steps = t.steps;
  *in_place = t.conv_in_place;
  op_test_release(&t);
  return steps;
}

static void residual_case_check(const residual_case *rc) {
  const conv_case *cc = &rc->cc;
  conv_data d;
  conv_data_make(cc, &d);
  float *want = malloc(sizeof(float) * (size_t)d.yn);
  assert_true(want);
  int64_t plane = d.yd[2] * d.yd[3];
  for (int64_t i = 0; i < d.yn; i++) {
    float v = d.y[i] + (rc->bcast ? d.r[(i / plane) % cc->m] : d.r[i]);
    want[i] = v < rc->lo ? rc->lo : v > rc->hi ? rc->hi : v;
  }
  for (int threads = 1; threads <= 2; threads++) {
    int fused_in_place, plain_in_place;
    int fused = residual_run(rc, &d, want, threads, &fused_in_place);
    setenv("ONNXI_FUSE_RESIDUAL", "0", 1);
    int plain = residual_run(rc, &d, want, threads, &plain_in_place);
    unsetenv("ONNXI_FUSE_RESIDUAL");
    bool folds = residual_own_kernels(rc->own) && !rc->bcast && !rc->y_out;
    assert_int_equal(fused, plain - (folds ? 1 : 0));
    assert_int_equal(fused_in_place, folds);
    assert_int_equal(plain_in_place, 0);
  }
  free(want);
  conv_data_free(&d);
}

static void test_conv_residual(void **state) {
  (void)state;
  /* clang-format off */
  static const residual_case cases[] = {
      /* dense 3x3 (own AVX-512 GEMM where the CPU has it, else XNNPACK and
       * no fold): a 16-wide last panel, batch 2, Relu; R first, no bias,
       * Clip(-0.5, 1) */
      {{false, 2, 2, 40, 48, 1, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       true, false, false, false, 0.0f, INFINITY, OWN_ANY},
      {{false, 2, 1, 40, 48, 1, {9, 8}, {3, 3}, {2, 1}, {1, 1}, {1, 0, 1, 2}, {0}, NULL, false},
       true, true, false, false, -0.5f, 1.0f, OWN_ANY},
      /* narrow groups (own kernel), no clamp */
      {{false, 2, 1, 32, 32, 8, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       true, false, false, false, -INFINITY, INFINITY, OWN_ANY},
      /* packed for the own kernel's row mode, but a stride past the kernel
       * width sends this plan to XNNPACK: folded, then the residual pass
       * (R saved first: Y is written over it) */
      {{false, 2, 1, 8, 20, 1, {6, 7}, {3, 3}, {1, 4}, {1, 1}, {4, 5, 4, 5}, {0}, NULL, true},
       true, false, false, false, 0.0f, 6.0f, OWN_ANY},
      /* not folded: 3 channels per group (XNNPACK), weights fed at run time
       * (reference kernel), R broadcast from [1, m, 1, 1], Y a graph output */
      {{false, 2, 2, 6, 6, 2, {6, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       true, false, false, false, 0.0f, INFINITY, OWN_NONE},
      {{false, 2, 1, 8, 12, 1, {5, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, false},
       false, true, false, false, 0.0f, 6.0f, OWN_NONE},
      {{false, 2, 1, 40, 48, 1, {6, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       true, false, true, false, 0.0f, INFINITY, OWN_ANY},
      {{false, 2, 1, 40, 48, 1, {6, 6}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0}, NULL, true},
       true, false, false, true, 0.0f, INFINITY, OWN_ANY},
  };
  /* clang-format on */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) residual_case_check(&cases[i]);
}

/* --- Swish / HardSwish fused into the Conv (conv-act pass) ---------------- */

/* Conv -> gate -> Mul(Y, gate), gate Sigmoid (Swish) or HardSigmoid(1/6,
 * 1/2) (HardSwish); `relu` puts a Relu between Conv and the gate, `add`
 * adds R after the Mul. The passes must leave `want_nodes` nodes, the
 * Conv carrying the activation when `fused`; the values are checked
 * against the reference conv and the activation in double, at 1 and 2
 * threads, and with `add` the residual fold must not apply (an activation
 * comes before the Add). */
typedef struct act_case {
  conv_case cc;
  bool hard, w_const, relu, add;
  int want_nodes;
  bool fused;
} act_case;

static double act_ref(bool hard, double v) {
  if (!hard) return v / (1 + exp(-v));
  double g = v / 6 + 0.5;
  return v * (g < 0 ? 0 : g > 1 ? 1 : g);
}

static int act_run(const act_case *ac, const conv_data *d, const float *want, int threads) {
  const conv_case *cc = &ac->cc;
  op_test t;
  op_test_init(&t, 13);
  int y = op_test_value(&t, "Y"), yr = op_test_value(&t, "Yr"), gv = op_test_value(&t, "G");
  int z = op_test_value(&t, "Z"), out = ac->add ? op_test_value(&t, "O") : z;
  conv_data_node(&t, cc, d, ac->w_const, y);
  if (ac->relu) op_test_node(&t, "Relu", &y, 1, &yr, 1);
  int a = ac->relu ? yr : y;
  int gate = op_test_node(&t, ac->hard ? "HardSigmoid" : "Sigmoid", &a, 1, &gv, 1);
  if (ac->hard) {
    op_test_attr_float(&t, gate, "alpha", 1.0f / 6.0f);
    op_test_attr_float(&t, gate, "beta", 0.5f);
  }
  op_test_node(&t, "Mul", (int[]){a, gv}, 2, &z, 1);
  if (ac->add) {
    int ri = op_test_input(&t, "R", F, 4, d->yd, d->r);
    op_test_node(&t, "Add", (int[]){z, ri}, 2, &out, 1);
  }
  op_test_output(&t, out);
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t.model, NULL, NULL, &err), ONNXI_OK);
  assert_int_equal(t.model.graph.n_nodes, ac->want_nodes);
  const ir_attr *act = ir_node_attr(&t.model.graph.nodes[0], "onnxi.activation");
  assert_int_equal(act != NULL, ac->fused);
  if (act) assert_int_equal(act->i, ac->hard ? OP_ACT_HARD_SWISH : OP_ACT_SWISH);
  if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("act case failed: %s", t.err.message);
  op_test_expect(&t, 0, F, 4, d->yd, want, 1e-4, 1e-4);
  conv_path_check(&t, &ac->cc, ac->w_const);
  int steps = t.steps;
  op_test_release(&t);
  return steps;
}

static void act_case_check(const act_case *ac) {
  conv_data d;
  conv_data_make(&ac->cc, &d);
  float *want = malloc(sizeof(float) * (size_t)d.yn);
  assert_true(want);
  for (int64_t i = 0; i < d.yn; i++) {
    double v = ac->relu && d.y[i] < 0 ? 0 : d.y[i];
    want[i] = (float)(act_ref(ac->hard, v) + (ac->add ? d.r[i] : 0));
  }
  for (int threads = 1; threads <= 2; threads++) {
    int steps = act_run(ac, &d, want, threads);
    if (!ac->add) continue;
    setenv("ONNXI_FUSE_RESIDUAL", "0", 1);
    assert_int_equal(act_run(ac, &d, want, threads), steps);
    unsetenv("ONNXI_FUSE_RESIDUAL");
  }
  free(want);
  conv_data_free(&d);
}

static void test_conv_act(void **state) {
  (void)state;
  /* clang-format off */
  static const act_case cases[] = {
      /* own dense kernel (XNNPACK without AVX-512): a 16-wide last panel,
       * batch 2; 7x7 output (7-pixel tiles), strided */
      {{false, 2, 2, 40, 48, 1, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       false, true, false, false, 1, true},
      {{false, 2, 1, 40, 80, 1, {14, 13}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       true, true, false, false, 1, true},
      /* own narrow-group and depthwise kernels */
      {{false, 2, 1, 32, 32, 8, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       false, true, false, false, 1, true},
      {{false, 2, 1, 600, 600, 600, {5, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, false},
       true, true, false, false, 1, true},
      /* own depthwise kernel on a small map; XNNPACK (3 input channels),
       * then the pass over Y */
      {{false, 2, 1, 16, 16, 16, {9, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       false, true, false, false, 1, true},
      {{false, 2, 2, 3, 8, 1, {10, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       true, true, false, false, 1, true},
      /* weights fed at run time: the reference kernel, then the pass */
      {{false, 2, 1, 8, 12, 1, {5, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, false},
       false, false, false, false, 1, true},
      /* a Relu first: the Conv takes the clamp and the Swish stays */
      {{false, 2, 1, 40, 48, 1, {6, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       false, true, true, false, 2, false},
      /* an Add after it: fused act, and no residual fold on top */
      {{false, 2, 1, 40, 48, 1, {6, 6}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0}, NULL, true},
       false, true, false, true, 2, true},
  };
  /* thin 1x1 convs take the own dense kernel only with an activation to
   * fuse: 16 input channels (Swish), 16 output channels (HardSwish), 24 ->
   * 20 (a 4-wide tail) with batch 2 */
  static const act_case thin[] = {
      {{false, 2, 1, 16, 48, 1, {11, 9}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0}, NULL, true},
       false, true, false, false, 1, true},
      {{false, 2, 1, 40, 16, 1, {7, 8}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0}, NULL, false},
       true, true, false, false, 1, true},
      {{false, 2, 2, 24, 20, 1, {5, 13}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0}, NULL, true},
       false, true, false, false, 1, true},
  };
  /* clang-format on */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) act_case_check(&cases[i]);
  case_want_path = "own-igemm";
  for (size_t i = 0; i < sizeof thin / sizeof thin[0]; i++) act_case_check(&thin[i]);
  case_want_path = NULL;
}

/* --- Winograd F(2x2, 3x3) (ops/conv_winograd.c) -------------------------- */

/* ONNXI_WINOGRAD=1 takes small maps too. Each case must run on the path
 * (with constant weights, where the own kernels run) and match the
 * reference conv, plus the residual and its clamp, or the Swish. */
static void test_conv_winograd(void **state) {
  (void)state;
  /* clang-format off */
  static const conv_case cases[] = {
      /* odd output sizes (edge blocks stored in part), batch 2 (blocks of
       * both images in one GEMM), a 32 + 16 channel split */
      {false, 2, 2, 32, 48, 1, {9, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      /* no padding, 64 -> 64 channels, no bias */
      {false, 2, 1, 64, 64, 1, {8, 10}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0}, NULL, false},
      /* asymmetric pads of 2: blocks whose patch is mostly padding */
      {false, 2, 1, 48, 32, 1, {6, 5}, {3, 3}, {1, 1}, {1, 1}, {2, 1, 0, 2}, {0}, NULL, true},
      /* 225 blocks: several GEMM passes per thread, the last one partial */
      {false, 2, 1, 32, 32, 1, {30, 30}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
  };
  static const residual_case res = {
      {false, 2, 2, 32, 48, 1, {7, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      true, false, false, false, 0.0f, 6.0f, OWN_ANY};
  static const act_case act = {
      {false, 2, 1, 32, 32, 1, {11, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      false, true, false, false, 1, true};
  /* clang-format on */
  setenv("ONNXI_WINOGRAD", "1", 1);
  case_want_path = "own-winograd";
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) conv_case_run(&cases[i]);
  residual_case_check(&res);
  act_case_check(&act);
  case_want_path = NULL;
  unsetenv("ONNXI_WINOGRAD");
}

/* --- wide groups, multiples of 16 channels (ops/conv_grouped.c) --------- */

/* Each case must run on the own grouped kernel (constant weights) and
 * match the reference conv, plus the residual and its clamp, or the Swish. */
static void test_conv_grouped_wide(void **state) {
  (void)state;
  /* clang-format off */
  static const conv_case cases[] = {
      /* 16 per group, 9x8 batch 2 (144 pixels <= 2 * 9 * 16: unit-major) */
      {false, 2, 2, 32, 32, 2, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      /* 16 per group, 20x18 strided (360 input pixels: tile-major), no bias */
      {false, 2, 1, 48, 48, 3, {20, 18}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, false},
      /* 32 per group, 7x7 (7-pixel tiles), batch 2: the group's two blocks as a pair */
      {false, 2, 2, 64, 64, 2, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      /* 48 per group, dilated, asymmetric pads: a pair and a single block per group */
      {false, 2, 1, 96, 96, 2, {6, 5}, {3, 3}, {1, 1}, {2, 2}, {2, 1, 0, 2}, {0}, NULL, true},
      /* 64 per group, 1x1 */
      {false, 2, 1, 128, 128, 2, {4, 5}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {0}, NULL, true},
  };
  static const residual_case res = {
      {false, 2, 2, 64, 64, 2, {5, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      true, false, false, false, 0.0f, 6.0f, OWN_ANY};
  static const act_case act = {
      {false, 2, 1, 48, 48, 3, {20, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      false, true, false, false, 1, true};
  /* clang-format on */
  case_want_path = "own-grouped";
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) conv_case_run(&cases[i]);
  residual_case_check(&res);
  act_case_check(&act);
  case_want_path = NULL;
}

/* --- depthwise row strips for big maps (ops/conv_dw.c) ------------------ */

/* Each case must run on the own depthwise kernel (constant weights, where
 * the CPU has AVX-512F: more than 25 taps, an activation to fuse, or at
 * more than 56x56 output pixels) and match the reference conv, plus the
 * residual and its clamp, or the activation. */
static void test_conv_depthwise(void **state) {
  (void)state;
  /* clang-format off */
  static const conv_case cases[] = {
      /* 40 channels (two blocks and a masked 8): strips and edges */
      {false, 2, 1, 40, 40, 40, {56, 57}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      /* stride 2, asymmetric pads, no bias */
      {false, 2, 1, 16, 16, 16, {112, 113}, {3, 3}, {2, 2}, {1, 1}, {1, 0, 2, 1}, {0}, NULL, false},
      /* 5x5 dilated by 2, batch 2 */
      {false, 2, 2, 16, 16, 16, {57, 56}, {5, 5}, {1, 1}, {2, 2}, {4, 4, 4, 4}, {0}, NULL, true},
      /* 7x7 over 9 rows: at 2 threads rows split in block groups */
      {false, 2, 1, 48, 48, 48, {9, 50}, {7, 7}, {1, 1}, {1, 1}, {3, 3, 3, 3}, {0}, NULL, true},
      /* 5 columns: no strip, every pixel on the 4-block path (24 = a block and 8) */
      {false, 2, 1, 24, 24, 24, {700, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
  };
  static const residual_case res = {
      {false, 2, 1, 40, 40, 40, {56, 57}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
      true, false, false, false, 0.0f, 6.0f, OWN_WIDE};
  static const act_case act[] = {
      {{false, 2, 1, 40, 40, 40, {21, 22}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, {0}, NULL, true},
       false, true, false, false, 1, true},
      {{false, 2, 2, 24, 24, 24, {45, 41}, {5, 5}, {2, 2}, {1, 1}, {2, 2, 2, 2}, {0}, NULL, true},
       true, true, false, false, 1, true},
  };
  /* clang-format on */
  case_want_path = "own-dwconv";
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) conv_case_run(&cases[i]);
  residual_case_check(&res);
  for (size_t i = 0; i < sizeof act / sizeof act[0]; i++) act_case_check(&act[i]);
  case_want_path = NULL;
}

/* --- layout reorders split in pixel blocks between threads ------------- */

/* A 1x1 identity conv on maps big enough for the NCHW -> NHWC and NHWC ->
 * NCHW reorders around it to split (interp/reorder.c): Y must equal X. An
 * odd pixel count makes the blocks uneven; batch 2 interleaves images and
 * blocks. */
static void test_conv_reorder_split(void **state) {
  (void)state;
  enum { C = 8 };
  static float x[2 * C * 63 * 41], w[C * C];
  for (int i = 0; i < 2 * C * 63 * 41; i++) x[i] = (float)(i % 1001) - 500.0f;
  for (int i = 0; i < C; i++) w[i * C + i] = 1.0f;
  for (int64_t n = 1; n <= 2; n++)
    for (int threads = 1; threads <= 2; threads++) {
      int64_t xd[4] = {n, C, 63, 41};
      op_test t;
      op_test_init(&t, 13);
      int in[2] = {op_test_input(&t, "X", F, 4, xd, x),
                   op_test_const(&t, "W", F, 4, (int64_t[]){C, C, 1, 1}, w)};
      int y = op_test_value(&t, "Y");
      op_test_node(&t, "Conv", in, 2, &y, 1);
      op_test_output(&t, y);
      if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s", t.err.message);
      op_test_expect(&t, 0, F, 4, xd, x, 0, 0);
      op_test_release(&t);
    }
}

/* --- re-planning: one session, two input shapes ------------------------- */

static void test_conv_replan(void **state) {
  (void)state;
  for (int pass = 0; pass < 2; pass++) {
    op_test t;
    op_test_init(&t, 13);
    int x = op_test_input(&t, "X", F, 4, (int64_t[]){1, 1, 5, 5}, ramp25);
    int w = op_test_const(&t, "W", F, 4, (int64_t[]){1, 1, 3, 3}, ones9);
    int y = op_test_value(&t, "Y");
    int node = op_test_node(&t, "Conv", (int[]){x, w}, 2, &y, 1);
    op_test_attr_string(&t, node, "auto_pad", pass ? "SAME_LOWER" : "NOTSET");
    op_test_output(&t, y);
    for (int d = 0; d < 4; d++)
      t.model.graph.values[x].shape.dims[d].value = -1;
    exec_session *s = NULL;
    onnxi_error err = {0};
    assert_int_equal(ir_graph_sort(&t.model.graph, &err), ONNXI_OK);
    assert_int_equal(exec_session_create(&t.model, 2, &s, &err), ONNXI_OK);
    for (int round = 0; round < 3; round++) {
      int64_t side = round == 1 ? 4 : 5, dims[1][IR_MAX_RANK] = {{1, 1, side, side}};
      int32_t rank = 4;
      float xin[25];
      for (int i = 0; i < side * side; i++)
        xin[i] = (float)i;
      const void *feed[1] = {xin};
      if (exec_session_prepare(s, &rank, (const int64_t(*)[IR_MAX_RANK])dims, feed, &err) ||
          exec_session_run(s, feed, &err))
        fail_msg("%s", err.message);
      const op_tensor *o = exec_session_output(s, 0);
      int64_t want_side = pass ? side : side - 2;
      assert_int_equal(o->dims[2], want_side);
      /* the centre pixel of a 3x3 box sum over a ramp is 9x its value */
      float centre = ((const float *)o->data)[want_side + 1];
      assert_true(centre == 9.0f * (float)(pass ? side + 1 : 2 * side + 2));
    }
    exec_session_free(s);
    op_test_release(&t);
  }
}

/* --- errors ----------------------------------------------------------- */

typedef struct err_case {
  const char *op;
  int64_t xd[4], wd[4];
  int wrank;
  const char *attr;
  int n_vals;
  int64_t vals[4];
  const char *str_attr, *str_val;
  const char *want;
} err_case;

static void err_case_run(const err_case *ec) {
  static float data[4096];
  op_test t;
  op_test_init(&t, 13);
  int x = op_test_input(&t, "X", F, 4, ec->xd, data);
  int w = op_test_const(&t, "W", F, ec->wrank, ec->wd, data);
  int y = op_test_value(&t, "Y");
  int node = op_test_node(&t, ec->op, (int[]){x, w}, 2, &y, 1);
  if (ec->attr && ec->n_vals == 1)
    op_test_attr_int(&t, node, ec->attr, ec->vals[0]);
  else if (ec->attr)
    op_test_attr_ints(&t, node, ec->attr, ec->n_vals, ec->vals);
  if (ec->str_attr) op_test_attr_string(&t, node, ec->str_attr, ec->str_val);
  op_test_output(&t, y);
  onnxi_status st = op_test_run(&t, 1);
  assert_int_not_equal(st, ONNXI_OK);
  if (!strstr(t.err.message, ec->want))
    fail_msg("message '%s' lacks '%s'", t.err.message, ec->want);
  op_test_release(&t);
}

static void test_conv_errors(void **state) {
  (void)state;
  /* clang-format off */
  static const err_case cases[] = {
      {"Conv", {1, 6, 5, 5}, {4, 2, 3, 3}, 4, "group", 1, {4}, NULL, NULL, "4 does not divide 6 input channels"},
      {"Conv", {1, 6, 5, 5}, {3, 3, 3, 3}, 4, "group", 1, {2}, NULL, NULL, "2 does not divide 3 output channels"},
      {"Conv", {1, 6, 5, 5}, {4, 2, 3, 3}, 4, NULL, 0, {0}, NULL, NULL, "input channels per group"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 7, 3}, 4, NULL, 0, {0}, NULL, NULL, "exceeds the padded input"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, 4, "dilations", 2, {3, 1}, NULL, NULL, "exceeds the padded input"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, 4, "strides", 2, {0, 1}, NULL, NULL, "attribute 'strides'"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, 4, "strides", 2, {-1, 1}, NULL, NULL, "attribute 'strides'"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, 4, "pads", 4, {-1, 0, 0, 0}, NULL, NULL, "attribute 'pads'"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, 4, "pads", 3, {1, 1, 1}, NULL, NULL, "attribute 'pads'"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, 4, "strides", 3, {1, 1, 1}, NULL, NULL, "attribute 'strides' has 3 values"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, 4, "kernel_shape", 2, {2, 2}, NULL, NULL, "attribute 'kernel_shape'"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, 4, "group", 1, {0}, NULL, NULL, "attribute 'group'"},
      {"Conv", {1, 1, 5, 5}, {1, 9}, 2, NULL, 0, {0}, NULL, NULL, "weight 'W' has rank 2"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 3}, 3, NULL, 0, {0}, NULL, NULL, "weight 'W' has rank 3, expected 4"},
      {"Conv", {1, 1, 5, 5}, {1, 1, 3, 3}, 4, NULL, 0, {0}, "auto_pad", "SAME", "attribute 'auto_pad'"},
      {"ConvTranspose", {1, 2, 3, 3}, {3, 1, 3, 3}, 4, NULL, 0, {0}, NULL, NULL, "input channels"},
      {"ConvTranspose", {1, 2, 3, 3}, {2, 1, 3, 3}, 4, "group", 1, {3}, NULL, NULL, "3 does not divide 2 input channels"},
      {"ConvTranspose", {1, 1, 3, 3}, {1, 1, 3, 3}, 4, "pads", 4, {4, 4, 4, 4}, NULL, NULL, "is not positive"},
      {"ConvTranspose", {1, 1, 3, 3}, {1, 1, 3, 3}, 4, "output_padding", 3, {1, 1, 1}, NULL, NULL, "attribute 'output_padding'"},
  };
  /* clang-format on */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    err_case_run(&cases[i]);
}

static void test_conv_error_types(void **state) {
  (void)state;
  static const double xd[25] = {0};
  static const float w[9] = {0}, b[2] = {0};
  op_test t;
  op_test_init(&t, 13);
  int x = op_test_input(&t, "X", ONNXI_DTYPE_DOUBLE, 4, (int64_t[]){1, 1, 5, 5}, xd);
  int wv = op_test_const(&t, "W", F, 4, (int64_t[]){1, 1, 3, 3}, w);
  int y = op_test_value(&t, "Y");
  op_test_node(&t, "Conv", (int[]){x, wv}, 2, &y, 1);
  op_test_output(&t, y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_ERR_UNSUPPORTED);
  assert_non_null(strstr(t.err.message, "input 'X' has type"));
  op_test_release(&t);
  /* bias of the wrong size */
  op_test_init(&t, 13);
  x = op_test_input(&t, "X", F, 4, (int64_t[]){1, 1, 5, 5}, ramp25);
  wv = op_test_const(&t, "W", F, 4, (int64_t[]){1, 1, 3, 3}, w);
  int bv = op_test_const(&t, "B", F, 1, (int64_t[]){2}, b);
  y = op_test_value(&t, "Y");
  op_test_node(&t, "Conv", (int[]){x, wv, bv}, 3, &y, 1);
  op_test_output(&t, y);
  assert_int_not_equal(op_test_run(&t, 1), ONNXI_OK);
  assert_non_null(strstr(t.err.message, "bias 'B' has 2 values, expected 1"));
  op_test_release(&t);
}

static int conv_force_blas(void **state) {
  (void)state;
  return setenv("ONNXI_CONV", "blas", 1);
}

static int conv_force_xnn(void **state) {
  (void)state;
  return setenv("ONNXI_CONV", "xnn", 1);
}

static int conv_force_avx2(void **state) {
  (void)state;
  return setenv("ONNXI_CONV", "avx2", 1);
}

static int conv_unforce(void **state) {
  (void)state;
  return unsetenv("ONNXI_CONV");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conv_basic),
      cmocka_unit_test(test_conv_strides),
      cmocka_unit_test(test_conv_auto_pad),
      cmocka_unit_test(test_conv_dilations),
      cmocka_unit_test(test_conv_groups_bias_batch),
      cmocka_unit_test(test_conv_1d_3d),
      cmocka_unit_test(test_conv_clamp),
      cmocka_unit_test(test_conv_empty_batch),
      cmocka_unit_test(test_conv_transpose_basic),
      cmocka_unit_test(test_conv_transpose_attrs),
      cmocka_unit_test(test_conv_transpose_dilations_bias),
      cmocka_unit_test(test_conv_random),
      cmocka_unit_test(test_conv_residual),
      cmocka_unit_test(test_conv_act),
      cmocka_unit_test(test_conv_winograd),
      cmocka_unit_test(test_conv_grouped_wide),
      cmocka_unit_test(test_conv_depthwise),
      cmocka_unit_test(test_conv_reorder_split),
      cmocka_unit_test(test_conv_replan),
      cmocka_unit_test(test_conv_errors),
      cmocka_unit_test(test_conv_error_types),
  };
  int failed = cmocka_run_group_tests_name("conv (default paths)", tests, NULL, NULL);
#if defined(__x86_64__)
  /* again with every 2-D forward conv on the BLAS GEMM path, then on
   * XNNPACK (the BLAS path exists in x86-64 builds only) */
  failed += cmocka_run_group_tests_name("conv (ONNXI_CONV=blas)", tests, conv_force_blas,
                                        conv_unforce);
  failed += cmocka_run_group_tests_name("conv (ONNXI_CONV=xnn)", tests, conv_force_xnn,
                                        conv_unforce);
  /* on AVX-512 CPUs, the AVX2 kernels as well (the default on AVX2 ones) */
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma"))
    failed += cmocka_run_group_tests_name("conv (ONNXI_CONV=avx2)", tests, conv_force_avx2,
                                          conv_unforce);
#else
  (void)conv_force_blas, (void)conv_force_xnn, (void)conv_force_avx2, (void)conv_unforce;
#endif
  return failed;
}
