/* MaxPool, AveragePool, global pools and LRN: ONNX's hand-computed examples
 * for every attribute, MaxPool's Indices in both storage orders, non-float
 * dtypes, randomized cases against a naive NCHW reference written here
 * (XNNPACK and reference paths, 1-D/2-D/3-D, channel blocks), and errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel.h"
#include "op_test.h"
#include "test_literals.h"

static float ramp25[25]; /* 1..25 */
static float ramp16[16]; /* 1..16 */

typedef void (*pool_attrs_fn)(op_test *t, int node);

/* Runs a one-node pool on 1 and 2 threads; y2 (Indices) may be NULL. */
static void pool_check(const char *op, int32_t dtype, int rank, const int64_t *xd, const void *x,
                       pool_attrs_fn attrs, const int64_t *yd, const void *y, const int64_t *idx) {
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    op_test_init(&t, 12);
    int in = op_test_input(&t, "X", dtype, rank, xd, x);
    int out[2] = {op_test_value(&t, "Y"), op_test_value(&t, "I")};
    int node = op_test_node(&t, op, &in, 1, out, idx ? 2 : 1);
    if (attrs) attrs(&t, node);
    op_test_output(&t, out[0]);
    if (idx) op_test_output(&t, out[1]);
    if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s: %s", op, t.err.message);
    op_test_expect(&t, 0, dtype, rank, yd, y, 1e-5, 1e-5);
    if (idx) op_test_expect(&t, 1, INT64, rank, yd, idx, 0, 0);
    op_test_release(&t);
  }
}

static void attrs_k5_p2(op_test *t, int n) {
  op_test_attr_ints(t, n, "kernel_shape", 2, (int64_t[]){5, 5});
  op_test_attr_ints(t, n, "pads", 4, (int64_t[]){2, 2, 2, 2});
}
static void attrs_k5_p2_incl(op_test *t, int n) {
  attrs_k5_p2(t, n);
  op_test_attr_int(t, n, "count_include_pad", 1);
}
static void attrs_k2_s2(op_test *t, int n) {
  op_test_attr_ints(t, n, "kernel_shape", 2, (int64_t[]){2, 2});
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){2, 2});
}
static void attrs_k2_s2_col(op_test *t, int n) {
  attrs_k2_s2(t, n);
  op_test_attr_int(t, n, "storage_order", 1);
}
static void attrs_k3_s2_same(op_test *t, int n) {
  op_test_attr_ints(t, n, "kernel_shape", 2, (int64_t[]){3, 3});
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){2, 2});
  op_test_attr_string(t, n, "auto_pad", "SAME_UPPER");
}
static void attrs_k3_s2_ceil(op_test *t, int n) {
  op_test_attr_ints(t, n, "kernel_shape", 2, (int64_t[]){3, 3});
  op_test_attr_ints(t, n, "strides", 2, (int64_t[]){2, 2});
  op_test_attr_int(t, n, "ceil_mode", 1);
}
static void attrs_k2_d2(op_test *t, int n) {
  op_test_attr_ints(t, n, "kernel_shape", 2, (int64_t[]){2, 2});
  op_test_attr_ints(t, n, "dilations", 2, (int64_t[]){2, 2});
}

static const int64_t x5[4] = {1, 1, 5, 5}, x4[4] = {1, 1, 4, 4};

static void test_maxpool_hand(void **state) {
  (void)state;
  static const float pads_y[25] = {13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25,
                                   25, 25, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25};
  int64_t pads_i[25];
  for (int i = 0; i < 25; i++)
    pads_i[i] = (int64_t)pads_y[i] - 1; /* value v sits at v-1 */
  pool_check("MaxPool", FLOAT, 4, x5, ramp25, attrs_k5_p2, x5, pads_y, NULL);
  pool_check("MaxPool", FLOAT, 4, x5, ramp25, attrs_k5_p2, x5, pads_y, pads_i);
  static const float s_y[4] = {7, 9, 17, 19};
  static const int64_t s_row[4] = {6, 8, 16, 18}, s_col[4] = {6, 16, 8, 18};
  pool_check("MaxPool", FLOAT, 4, x5, ramp25, attrs_k2_s2, (int64_t[]){1, 1, 2, 2}, s_y, s_row);
  pool_check("MaxPool", FLOAT, 4, x5, ramp25, attrs_k2_s2_col, (int64_t[]){1, 1, 2, 2}, s_y, s_col);
  static const float same_y[9] = {7, 9, 10, 17, 19, 20, 22, 24, 25};
  pool_check("MaxPool", FLOAT, 4, x5, ramp25, attrs_k3_s2_same, (int64_t[]){1, 1, 3, 3}, same_y, NULL);
  static const float ceil_y[4] = {11, 12, 15, 16};
  pool_check("MaxPool", FLOAT, 4, x4, ramp16, attrs_k3_s2_ceil, (int64_t[]){1, 1, 2, 2}, ceil_y, NULL);
  pool_check("MaxPool", FLOAT, 4, x4, ramp16, attrs_k2_d2, (int64_t[]){1, 1, 2, 2}, ceil_y, NULL);
}

static void test_avgpool_hand(void **state) {
  (void)state;
  static const float pads_y[25] = {7,     7.5f,  8,     8.5f,  9,     9.5f,  10,    10.5f, 11,
                                   11.5f, 12,    12.5f, 13,    13.5f, 14,    14.5f, 15,    15.5f,
                                   16,    16.5f, 17,    17.5f, 18,    18.5f, 19};
  pool_check("AveragePool", FLOAT, 4, x5, ramp25, attrs_k5_p2, x5, pads_y, NULL);
  static const float incl_y[25] = {2.52f,  3.6f,  4.8f,  4.08f, 3.24f, 4.56f, 6.4f,  8.4f, 7.04f,
                                   5.52f,  7.2f,  10,    13,    10.8f, 8.4f,  6.96f, 9.6f, 12.4f,
                                   10.24f, 7.92f, 6.12f, 8.4f,  10.8f, 8.88f, 6.84f};
  pool_check("AveragePool", FLOAT, 4, x5, ramp25, attrs_k5_p2_incl, x5, incl_y, NULL);
  static const float s_y[4] = {4, 6, 14, 16};
  pool_check("AveragePool", FLOAT, 4, x5, ramp25, attrs_k2_s2, (int64_t[]){1, 1, 2, 2}, s_y, NULL);
  static const float same_y[9] = {4, 5.5f, 7, 11.5f, 13, 14.5f, 19, 20.5f, 22};
  pool_check("AveragePool", FLOAT, 4, x5, ramp25, attrs_k3_s2_same, (int64_t[]){1, 1, 3, 3}, same_y,
             NULL);
  static const float ceil_y[4] = {6, 7.5f, 12, 13.5f};
  pool_check("AveragePool", FLOAT, 4, x4, ramp16, attrs_k3_s2_ceil, (int64_t[]){1, 1, 2, 2}, ceil_y,
             NULL);
}

static void attrs_k2(op_test *t, int n) {
  op_test_attr_ints(t, n, "kernel_shape", 1, (int64_t[]){2});
}

static void test_maxpool_dtypes(void **state) {
  (void)state;
  static const uint8_t u8[25] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25};
  static const uint8_t u8_y[25] = {13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25,
                                   25, 25, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25};
  pool_check("MaxPool", ONNXI_DTYPE_UINT8, 4, x5, u8, attrs_k5_p2, x5, u8_y, NULL);
  static const int8_t i8[6] = {-5, -3, -128, 7, 0, -1}, i8_y[4] = {-3, -3, 7, 0};
  pool_check("MaxPool", ONNXI_DTYPE_INT8, 3, (int64_t[]){1, 2, 3}, i8, attrs_k2,
             (int64_t[]){1, 2, 2}, i8_y, (int64_t[]){1, 1, 3, 4});
  static const double f64[5] = {0.5, -1.25, 3.5, 2, -7}, f64_y[4] = {0.5, 3.5, 3.5, 2};
  pool_check("MaxPool", ONNXI_DTYPE_DOUBLE, 3, (int64_t[]){1, 1, 5}, f64, attrs_k2,
             (int64_t[]){1, 1, 4}, f64_y, NULL);
  uint16_t h[5], h_y[4];
  for (int i = 0; i < 5; i++)
    h[i] = op_f32_to_f16((float)f64[i]);
  for (int i = 0; i < 4; i++)
    h_y[i] = op_f32_to_f16((float)f64_y[i]);
  pool_check("MaxPool", ONNXI_DTYPE_FLOAT16, 3, (int64_t[]){1, 1, 5}, h, attrs_k2,
             (int64_t[]){1, 1, 4}, h_y, NULL);
  static const double a64_y[4] = {-0.375, 1.125, 2.75, -2.5};
  pool_check("AveragePool", ONNXI_DTYPE_DOUBLE, 3, (int64_t[]){1, 1, 5}, f64, attrs_k2,
             (int64_t[]){1, 1, 4}, a64_y, NULL);
}

static void test_global_pools(void **state) {
  (void)state;
  /* [2,3,2,2]: image n channel c holds c*4+n .. c*4+n+3 scaled by (n ? -1 : 1) */
  float x[24];
  for (int n = 0; n < 2; n++)
    for (int c = 0; c < 3; c++)
      for (int p = 0; p < 4; p++)
        x[(n * 3 + c) * 4 + p] = (n ? -1.0f : 1.0f) * (float)(c * 4 + p);
  static const float avg[6] = {1.5f, 5.5f, 9.5f, -1.5f, -5.5f, -9.5f};
  static const float max[6] = {3, 7, 11, 0, -4, -8};
  const int64_t yd[4] = {2, 3, 1, 1};
  pool_check("GlobalAveragePool", FLOAT, 4, (int64_t[]){2, 3, 2, 2}, x, NULL, yd, avg, NULL);
  pool_check("GlobalMaxPool", FLOAT, 4, (int64_t[]){2, 3, 2, 2}, x, NULL, yd, max, NULL);
  /* rank 3 (plain layout) */
  pool_check("GlobalAveragePool", FLOAT, 3, (int64_t[]){2, 3, 4}, x, NULL, (int64_t[]){2, 3, 1}, avg,
             NULL);
  pool_check("GlobalMaxPool", FLOAT, 3, (int64_t[]){2, 3, 4}, x, NULL, (int64_t[]){2, 3, 1}, max, NULL);
}

/* Big enough for the own loop to split pixels between threads (pool_gap.c):
 * 70 channels (64 and a masked 6), 255 pixels, batch 2; then one pixel of
 * 40000 channels, which cannot be split. Sums of quarters are exact. */
static void test_global_avg_split(void **state) {
  (void)state;
  enum { N = 2, C = 70, H = 15, W = 17, HW = H * W };
  static float x[N * C * HW], avg[N * C];
  for (int i = 0; i < N * C * HW; i++) x[i] = (float)((i * 7) % 11 - 5) * 0.25f;
  for (int i = 0; i < N * C; i++) {
    double sum = 0;
    for (int p = 0; p < HW; p++) sum += x[i * HW + p];
    avg[i] = (float)(sum / HW);
  }
  pool_check("GlobalAveragePool", FLOAT, 4, (int64_t[]){N, C, H, W}, x, NULL,
             (int64_t[]){N, C, 1, 1}, avg, NULL);
  static float wide[40000];
  for (int i = 0; i < 40000; i++) wide[i] = (float)(i % 9) - 4.0f;
  pool_check("GlobalAveragePool", FLOAT, 4, (int64_t[]){1, 40000, 1, 1}, wide, NULL,
             (int64_t[]){1, 40000, 1, 1}, wide, NULL);
}

/* An empty batch plans and runs (nothing to compute). */
static void test_pool_empty_batch(void **state) {
  (void)state;
  const int64_t xd[4] = {0, 3, 5, 5}, yd[4] = {0, 3, 5, 5};
  pool_check("MaxPool", FLOAT, 4, xd, ramp25, attrs_k5_p2, yd, NULL, NULL);
  pool_check("AveragePool", FLOAT, 4, xd, ramp25, attrs_k5_p2_incl, yd, NULL, NULL);
  pool_check("GlobalAveragePool", FLOAT, 4, xd, ramp25, NULL, (int64_t[]){0, 3, 1, 1}, NULL, NULL);
}

static void attrs_lrn3(op_test *t, int n) {
  op_test_attr_int(t, n, "size", 3);
  op_test_attr_float(t, n, "alpha", 0.3f);
}
static void attrs_lrn2(op_test *t, int n) {
  op_test_attr_int(t, n, "size", 2);
  op_test_attr_float(t, n, "alpha", 0.5f);
  op_test_attr_float(t, n, "beta", 0.5f);
  op_test_attr_float(t, n, "bias", 2.0f);
}

static void test_lrn(void **state) {
  (void)state;
  static const float x[8] = {1, -2, 3, 0.5f, -1, 2, 4, -3};
  static const float y3[8] = {0.5946035385f,  -1.533447266f, 1.719716311f, 0.3184365034f,
                              -0.3826247752f, 1.062215805f,  1.899053454f, -1.606295109f};
  static const float y2[8] = {0.4714045525f,  -1.142857194f, 1.414213657f, 0.2857142985f,
                              -0.4000000060f, 0.8728715181f, 1.632993102f, -1.455213785f};
  pool_check("LRN", FLOAT, 4, (int64_t[]){1, 4, 1, 2}, x, attrs_lrn3, (int64_t[]){1, 4, 1, 2}, y3,
             NULL);
  pool_check("LRN", FLOAT, 4, (int64_t[]){1, 4, 1, 2}, x, attrs_lrn2, (int64_t[]){1, 4, 1, 2}, y2,
             NULL);
  pool_check("LRN", FLOAT, 3, (int64_t[]){1, 4, 2}, x, attrs_lrn2, (int64_t[]){1, 4, 2}, y2, NULL);
}

static void attrs_lrn37(op_test *t, int n) {
  op_test_attr_int(t, n, "size", 37);
  op_test_attr_float(t, n, "alpha", 0.75f);
  op_test_attr_float(t, n, "beta", 0.6f);
  op_test_attr_float(t, n, "bias", 1.5f);
}

/* A window wider than 32 channels takes the running-sum path; the reference
 * is the definition summed directly for every channel. */
static void test_lrn_wide(void **state) {
  (void)state;
  enum { C = 40, S = 3, SIZE = 37 };
  float x[C * S], y[C * S];
  for (int i = 0; i < C * S; i++) x[i] = (float)((i * 37) % 23 - 11) / 7.0f;
  for (int c = 0; c < C; c++)
    for (int q = 0; q < S; q++) {
      double sum = 0;
      for (int k = c - (SIZE - 1) / 2; k <= c + SIZE / 2; k++)
        if (k >= 0 && k < C) sum += (double)x[k * S + q] * x[k * S + q];
      y[c * S + q] = (float)(x[c * S + q] / pow(1.5 + 0.75 / SIZE * sum, 0.6));
    }
  pool_check("LRN", FLOAT, 4, (int64_t[]){1, C, 1, S}, x, attrs_lrn37, (int64_t[]){1, C, 1, S}, y,
             NULL);
  pool_check("LRN", FLOAT, 3, (int64_t[]){1, C, S}, x, attrs_lrn37, (int64_t[]){1, C, S}, y, NULL);
}

/* --- randomized cases against a naive reference ------------------------- */

typedef struct pool_case {
  const char *op;
  int32_t dtype;
  int nsp;
  int64_t n, c, in[3], k[3], s[3], d[3], pads[6];
  const char *auto_pad;
  int ceil_mode, include_pad, storage_order;
  bool indices;
} pool_case;

static uint32_t rng_state = 777;
static double rng_value(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return (double)((int)(rng_state >> 20) % 201 - 100) * 0.5;
}

static void typed_store(int32_t dtype, void *p, int64_t i, double v) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: ((float *)p)[i] = (float)v; break;
  case ONNXI_DTYPE_DOUBLE: ((double *)p)[i] = v; break;
  case ONNXI_DTYPE_FLOAT16: ((uint16_t *)p)[i] = op_f32_to_f16((float)v); break;
  case ONNXI_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)v; break;
  case ONNXI_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; break;
  default: fail();
  }
}

static double typed_load(int32_t dtype, const void *p, int64_t i) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: return ((const float *)p)[i];
  case ONNXI_DTYPE_DOUBLE: return ((const double *)p)[i];
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(((const uint16_t *)p)[i]);
  case ONNXI_DTYPE_INT8: return ((const int8_t *)p)[i];
  case ONNXI_DTYPE_UINT8: return ((const uint8_t *)p)[i];
  default: fail();
  }
  return 0;
}

static int64_t ref_geometry(const pool_case *pc, int i, int64_t *pb, int64_t *pe) {
  int64_t dk = (pc->k[i] - 1) * pc->d[i] + 1, s = pc->s[i], in = pc->in[i];
  if (pc->auto_pad && strcmp(pc->auto_pad, "VALID")) {
    int64_t out = (in + s - 1) / s, total = (out - 1) * s + dk - in;
    if (total < 0) total = 0;
    *pb = !strcmp(pc->auto_pad, "SAME_UPPER") ? total / 2 : total - total / 2;
    *pe = total - *pb;
    return out;
  }
  /* VALID is zero padding; ceil_mode still applies (as in onnxruntime) */
  *pb = pc->auto_pad ? 0 : pc->pads[i], *pe = pc->auto_pad ? 0 : pc->pads[i + pc->nsp];
  int64_t span = in + *pb + *pe - dk;
  if (!pc->ceil_mode) return span / s + 1;
  int64_t out = (span + s - 1) / s + 1;
  return (out - 1) * s >= in + *pb ? out - 1 : out;
}

/* One output element: max (with first-argmax index) or average over taps. */
static double ref_pool_at(const pool_case *pc, const void *x, int64_t nc, const int64_t *o,
                          const int64_t *pb, const int64_t *pe, int64_t *arg) {
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, isz;
  for (int i = 0; i < pc->nsp; i++)
    in[i] = pc->in[i], k[i] = pc->k[i], s[i] = pc->s[i], d[i] = pc->d[i];
  isz = in[0] * in[1] * in[2];
  bool is_max = !strcmp(pc->op, "MaxPool");
  double acc = is_max ? -INFINITY : 0;
  int64_t valid = 0, padded = 0;
  *arg = -1;
  for (int64_t a = 0; a < k[0]; a++)
    for (int64_t b = 0; b < k[1]; b++)
      for (int64_t e = 0; e < k[2]; e++) {
        int64_t kk[3] = {a, b, e}, q[3] = {0, 0, 0};
        bool ok = true, inside_padded = true;
        for (int i = 0; i < pc->nsp; i++) {
          q[i] = o[i] * s[i] + kk[i] * d[i] - pb[i];
          ok = ok && q[i] >= 0 && q[i] < in[i];
          inside_padded = inside_padded && q[i] < in[i] + pe[i];
        }
        padded += inside_padded;
        if (!ok) continue;
        int64_t sp = pc->storage_order ? q[0] + in[0] * (q[1] + in[1] * q[2])
                                       : (q[0] * in[1] + q[1]) * in[2] + q[2];
        double v = typed_load(pc->dtype, x, nc * isz + (q[0] * in[1] + q[1]) * in[2] + q[2]);
        valid++;
        if (is_max && (v > acc || *arg < 0)) acc = v, *arg = nc * isz + sp;
        if (!is_max) acc += v;
      }
  if (is_max) return acc;
  return acc / (double)(pc->include_pad ? padded : valid);
}

static void pool_case_run(const pool_case *pc) {
  int rank = pc->nsp + 2;
  int64_t xd[5] = {pc->n, pc->c}, yd[5] = {pc->n, pc->c}, pb[3] = {0}, pe[3] = {0};
  int64_t out[3] = {1, 1, 1}, xn = pc->n * pc->c, yn = pc->n * pc->c;
  for (int i = 0; i < pc->nsp; i++) {
    out[i] = ref_geometry(pc, i, &pb[i], &pe[i]);
    xd[2 + i] = pc->in[i], yd[2 + i] = out[i], xn *= pc->in[i], yn *= out[i];
  }
  size_t esz = ir_dtype_size(pc->dtype);
  void *x = malloc(esz * (size_t)xn), *y = malloc(esz * (size_t)yn);
  int64_t *idx = malloc(sizeof(int64_t) * (size_t)yn);
  assert_true(x && y && idx);
  for (int64_t i = 0; i < xn; i++)
    typed_store(pc->dtype, x, i, rng_value() + (pc->dtype == ONNXI_DTYPE_UINT8 ? 100 : 0));
  for (int64_t nc = 0; nc < pc->n * pc->c; nc++)
    for (int64_t a = 0; a < out[0]; a++)
      for (int64_t b = 0; b < out[1]; b++)
        for (int64_t e = 0; e < out[2]; e++) {
          int64_t o[3] = {a, b, e}, at = ((nc * out[0] + a) * out[1] + b) * out[2] + e;
          typed_store(pc->dtype, y, at, ref_pool_at(pc, x, nc, o, pb, pe, &idx[at]));
        }
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    op_test_init(&t, 12);
    int in = op_test_input(&t, "X", pc->dtype, rank, xd, x);
    int outs[2] = {op_test_value(&t, "Y"), op_test_value(&t, "I")};
    int node = op_test_node(&t, pc->op, &in, 1, outs, pc->indices ? 2 : 1);
    op_test_attr_ints(&t, node, "kernel_shape", pc->nsp, pc->k);
    op_test_attr_ints(&t, node, "strides", pc->nsp, pc->s);
    if (!strcmp(pc->op, "MaxPool")) {
      op_test_attr_ints(&t, node, "dilations", pc->nsp, pc->d);
      op_test_attr_int(&t, node, "storage_order", pc->storage_order);
    } else {
      op_test_attr_int(&t, node, "count_include_pad", pc->include_pad);
    }
    if (pc->auto_pad)
      op_test_attr_string(&t, node, "auto_pad", pc->auto_pad);
    else
      op_test_attr_ints(&t, node, "pads", 2 * pc->nsp, pc->pads);
    op_test_attr_int(&t, node, "ceil_mode", pc->ceil_mode);
    op_test_output(&t, outs[0]);
    if (pc->indices) op_test_output(&t, outs[1]);
    if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s: %s", pc->op, t.err.message);
    double tol = pc->dtype == ONNXI_DTYPE_FLOAT16 ? 1e-2 : 1e-5;
    op_test_expect(&t, 0, pc->dtype, rank, yd, y, tol, tol);
    if (pc->indices) op_test_expect(&t, 1, INT64, rank, yd, idx, 0, 0);
    op_test_release(&t);
  }
  free(x);
  free(y);
  free(idx);
}

static void test_pool_random(void **state) {
  (void)state;
  /* clang-format off */
  static const pool_case cases[] = {
      /* XNNPACK max: pads, strides, ceil (extra end padding), dilation */
      {"MaxPool", FLOAT, 2, 2, 5, {7, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 0, 0, false},
      {"MaxPool", FLOAT, 2, 1, 70, {6, 5}, {3, 2}, {2, 1}, {1, 2}, {1, 0, 1, 1}, NULL, 0, 0, 0, false},
      {"MaxPool", FLOAT, 2, 1, 3, {9, 9}, {2, 2}, {3, 3}, {1, 1}, {0}, NULL, 1, 0, 0, false},
      {"MaxPool", FLOAT, 2, 1, 3, {8, 7}, {3, 3}, {2, 2}, {1, 1}, {0}, "SAME_LOWER", 0, 0, 0, false},
      {"MaxPool", FLOAT, 2, 1, 3, {8, 7}, {1, 1}, {2, 2}, {1, 1}, {0}, NULL, 0, 0, 0, false},
      /* reference max: Indices, both storage orders, windows past the padding */
      {"MaxPool", FLOAT, 2, 2, 3, {5, 6}, {3, 2}, {2, 2}, {1, 2}, {1, 1, 1, 0}, NULL, 1, 0, 0, true},
      {"MaxPool", FLOAT, 2, 2, 66, {4, 5}, {2, 2}, {2, 1}, {1, 1}, {0, 1, 1, 0}, NULL, 0, 0, 1, true},
      {"MaxPool", FLOAT, 2, 1, 2, {5, 5}, {2, 2}, {1, 1}, {2, 2}, {2, 2, 2, 2}, NULL, 0, 0, 0, false},
      /* other dtypes, 1-D and 3-D */
      {"MaxPool", ONNXI_DTYPE_UINT8, 2, 2, 3, {6, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 0, 0, true},
      {"MaxPool", ONNXI_DTYPE_INT8, 1, 2, 3, {9}, {3}, {2}, {2}, {1, 1}, NULL, 0, 0, 0, true},
      {"MaxPool", ONNXI_DTYPE_FLOAT16, 2, 1, 4, {5, 6}, {2, 3}, {1, 2}, {1, 1}, {0}, "SAME_UPPER", 0, 0, 0, false},
      {"MaxPool", ONNXI_DTYPE_DOUBLE, 3, 1, 2, {4, 5, 3}, {2, 3, 2}, {2, 1, 1}, {1, 1, 1}, {0, 1, 0, 1, 1, 1}, NULL, 1, 0, 0, true},
      /* XNNPACK average: excluding padding, ceil, counting padding (dwconv) */
      {"AveragePool", FLOAT, 2, 2, 5, {7, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 0, 0, false},
      {"AveragePool", FLOAT, 2, 1, 70, {6, 5}, {3, 2}, {1, 1}, {1, 1}, {1, 0, 1, 1}, NULL, 0, 1, 0, false},
      {"AveragePool", FLOAT, 2, 1, 3, {8, 7}, {3, 3}, {2, 2}, {1, 1}, {0}, "SAME_UPPER", 0, 1, 0, false},
      {"AveragePool", FLOAT, 2, 1, 3, {8, 7}, {2, 2}, {2, 2}, {1, 1}, {0}, "VALID", 0, 1, 0, false},
      /* reference average: counting padding with ceil windows past it */
      {"AveragePool", FLOAT, 2, 2, 3, {6, 6}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, 1, 1, 0, false},
      {"AveragePool", ONNXI_DTYPE_DOUBLE, 1, 2, 3, {9}, {3}, {2}, {1}, {1, 2}, NULL, 1, 1, 0, false},
      {"AveragePool", ONNXI_DTYPE_FLOAT16, 2, 1, 4, {5, 6}, {2, 3}, {1, 2}, {1, 1}, {1, 0, 0, 1}, NULL, 0, 0, 0, false},
      {"AveragePool", FLOAT, 3, 1, 2, {4, 5, 3}, {2, 3, 2}, {2, 1, 1}, {1, 1, 1}, {0, 1, 0, 1, 1, 1}, NULL, 1, 0, 0, false},
  };
  /* clang-format on */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    pool_case_run(&cases[i]);
}

/* --- errors ----------------------------------------------------------- */

typedef struct pool_err {
  const char *op;
  int32_t dtype;
  int rank;
  bool kernel; /* add kernel_shape [2, 2] */
  const char *attr;
  int n;
  int64_t v[4];
  const char *want;
} pool_err;

static void test_pool_errors(void **state) {
  (void)state;
  /* clang-format off */
  static const pool_err cases[] = {
      {"MaxPool", FLOAT, 4, false, NULL, 0, {0}, "attribute 'kernel_shape' is required"},
      {"MaxPool", FLOAT, 4, false, "kernel_shape", 2, {6, 2}, "exceeds the padded input"},
      {"MaxPool", FLOAT, 4, true, "strides", 2, {0, 1}, "attribute 'strides'"},
      {"MaxPool", FLOAT, 4, true, "strides", 2, {1, -2}, "attribute 'strides'"},
      {"MaxPool", FLOAT, 4, true, "strides", 1, {1}, "attribute 'strides' has 1 values, expected 2"},
      {"MaxPool", FLOAT, 4, true, "dilations", 2, {0, 1}, "attribute 'dilations'"},
      {"MaxPool", FLOAT, 4, true, "dilations", 2, {4, 1}, "exceeds the padded input"},
      {"MaxPool", FLOAT, 4, true, "storage_order", -1, {2}, "attribute 'storage_order'"},
      {"MaxPool", FLOAT, 4, true, "ceil_mode", -1, {3}, "attribute 'ceil_mode'"},
      {"MaxPool", ONNXI_DTYPE_INT32, 4, true, NULL, 0, {0}, "unsupported type"},
      {"MaxPool", FLOAT, 2, true, NULL, 0, {0}, "rank 2"},
      {"AveragePool", FLOAT, 4, true, "count_include_pad", -1, {5}, "attribute 'count_include_pad'"},
      {"AveragePool", ONNXI_DTYPE_UINT8, 4, true, NULL, 0, {0}, "unsupported type"},
      {"AveragePool", FLOAT, 4, true, "pads", 4, {0, 0, -1, 0}, "attribute 'pads'"},
      {"LRN", FLOAT, 4, false, NULL, 0, {0}, "attribute 'size' is required"},
      {"LRN", FLOAT, 4, false, "size", -1, {0}, "attribute 'size'"},
      {"GlobalMaxPool", FLOAT, 2, false, NULL, 0, {0}, "rank 2"},
  };
  /* clang-format on */
  static const float data[64] = {0};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const pool_err *pe = &cases[i];
    op_test t;
    op_test_init(&t, 12);
    int64_t dims[4] = {1, 1, 4, 4};
    int in = op_test_input(&t, "X", pe->dtype, pe->rank, dims + 4 - pe->rank, data);
    int out = op_test_value(&t, "Y");
    int node = op_test_node(&t, pe->op, &in, 1, &out, 1);
    if (pe->kernel) op_test_attr_ints(&t, node, "kernel_shape", 2, (int64_t[]){2, 2});
    if (pe->attr && pe->n < 0)
      op_test_attr_int(&t, node, pe->attr, pe->v[0]);
    else if (pe->attr)
      op_test_attr_ints(&t, node, pe->attr, pe->n, pe->v);
    op_test_output(&t, out);
    assert_int_not_equal(op_test_run(&t, 1), ONNXI_OK);
    if (!strstr(t.err.message, pe->want))
      fail_msg("message '%s' lacks '%s'", t.err.message, pe->want);
    op_test_release(&t);
  }
}

static int pool_setup_data(void **state) {
  (void)state;
  for (int i = 0; i < 25; i++)
    ramp25[i] = (float)(i + 1);
  for (int i = 0; i < 16; i++)
    ramp16[i] = (float)(i + 1);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_maxpool_hand),
      cmocka_unit_test(test_avgpool_hand),
      cmocka_unit_test(test_maxpool_dtypes),
      cmocka_unit_test(test_global_pools),
      cmocka_unit_test(test_global_avg_split),
      cmocka_unit_test(test_lrn),
      cmocka_unit_test(test_lrn_wide),
      cmocka_unit_test(test_pool_empty_batch),
      cmocka_unit_test(test_pool_random),
      cmocka_unit_test(test_pool_errors),
  };
  return cmocka_run_group_tests(tests, pool_setup_data, NULL);
}
