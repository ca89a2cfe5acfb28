/* Gemm, MatMul and Einsum.
 *
 * float32 with constant weights runs through XNNPACK's fully_connected
 * (weights packed once at init). Everything else uses an own blocked SGEMM
 * (6x16 register tile written with GCC vector extensions, B packed into
 * 16-column panels when it is not directly readable) parallelised over output
 * tiles, or a generic strided kernel for double and integer types. Einsum
 * maps matmul-shaped equations onto the SGEMM and runs everything else as a
 * generic contraction loop nest. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xnnpack.h>

#include "conv_gemm.h"
#include "kernel.h"

/* --- SGEMM core ------------------------------------------------------------------------ */

#define GEMM_MR 6
#define GEMM_NR 16
#define GEMM_TILE_M (4 * GEMM_MR)
#define GEMM_TILE_N (8 * GEMM_NR)

/* The tile kernel is compiled twice on x86-64 (AVX2+FMA and baseline) and
 * picked at load time; fp-contract lets the AVX2 copy use FMA under -std=c11. */
#ifdef OP_HAVE_TARGET_CLONES
#define GEMM_TARGETS                                                                               \
  __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("fp-contract=fast")))
#else
#define GEMM_TARGETS
#endif

typedef float gemm_v8 __attribute__((vector_size(32)));
typedef float gemm_v8u __attribute__((vector_size(32), aligned(4)));

/* Y(i,j) = clamp(alpha * sum_p A(i,p) B(p,j) + beta * C(i,j)), all operands
 * addressed by element strides (A(i,p) = a[i*a_rs + p*a_cs], ...). Y rows
 * are contiguous. `c` may be NULL. Also used for other dtypes by the
 * reference kernels (pointers are then of that type). */
typedef struct gemm_args {
  int64_t m, n, k;
  const void *a;
  int64_t a_rs, a_cs;
  const void *b;
  int64_t b_rs, b_cs;
  void *y;
  int64_t y_rs;
  float alpha, beta;
  const void *c;
  int64_t c_rs, c_cs;
  float lo, hi;
  bool clamp;
  float *pack; /* float32 only: gemm_pack_floats() floats of scratch */
} gemm_args;

/* Scratch floats for packing B: every panel when B's columns are strided,
 * else only the ragged last panel. */
static size_t gemm_pack_floats(int64_t k, int64_t n, bool b_cols_contiguous) {
  int64_t panels = (n + GEMM_NR - 1) / GEMM_NR;
  if (b_cols_contiguous) panels = n % GEMM_NR ? 1 : 0;
  return (size_t)(k * panels * GEMM_NR);
}

static bool gemm_panel_direct(const gemm_args *g, int64_t j0) {
  return g->b_cs == 1 && j0 + GEMM_NR <= g->n;
}

static const float *gemm_panel(const gemm_args *g, int64_t j0, int64_t *stride) {
  if (gemm_panel_direct(g, j0)) {
    *stride = g->b_rs;
    return (const float *)g->b + j0;
  }
  *stride = GEMM_NR;
  int64_t slot = g->b_cs == 1 ? 0 : j0 / GEMM_NR;
  return g->pack + slot * g->k * GEMM_NR;
}

static void gemm_pack_task(void *ctx, size_t panel) {
  const gemm_args *g = ctx;
  int64_t j0 = (int64_t)panel * GEMM_NR;
  if (gemm_panel_direct(g, j0)) return;
  int64_t stride;
  float *dst = (float *)gemm_panel(g, j0, &stride);
  const float *b = g->b;
  int64_t nr = g->n - j0 < GEMM_NR ? g->n - j0 : GEMM_NR;
  for (int64_t p = 0; p < g->k; p++) {
    const float *src = b + p * g->b_rs + j0 * g->b_cs;
    float *d = dst + p * GEMM_NR;
    for (int64_t j = 0; j < nr; j++) d[j] = src[j * g->b_cs];
    for (int64_t j = nr; j < GEMM_NR; j++) d[j] = 0.0f;
  }
}

GEMM_TARGETS
static void gemm_f32_tile(int64_t k, const float *const *a, int64_t a_cs, const float *restrict b,
                          int64_t b_rs, float *restrict acc) {
  gemm_v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
  gemm_v8 c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  for (int64_t p = 0; p < k; p++) {
    const float *bp = b + p * b_rs;
    gemm_v8 b0 = *(const gemm_v8u *)bp, b1 = *(const gemm_v8u *)(bp + 8);
    int64_t o = p * a_cs;
    c00 += a0[o] * b0;
    c01 += a0[o] * b1;
    c10 += a1[o] * b0;
    c11 += a1[o] * b1;
    c20 += a2[o] * b0;
    c21 += a2[o] * b1;
    c30 += a3[o] * b0;
    c31 += a3[o] * b1;
    c40 += a4[o] * b0;
    c41 += a4[o] * b1;
    c50 += a5[o] * b0;
    c51 += a5[o] * b1;
  }
  gemm_v8u *out = (gemm_v8u *)acc;
  out[0] = c00, out[1] = c01, out[2] = c10, out[3] = c11, out[4] = c20, out[5] = c21;
  out[6] = c30, out[7] = c31, out[8] = c40, out[9] = c41, out[10] = c50, out[11] = c51;
}

static void gemm_f32_store(const gemm_args *g, const float *acc, int64_t i0, int64_t j0, int64_t mr,
                           int64_t nr) {
  const float *c = g->c;
  for (int64_t r = 0; r < mr; r++) {
    float *y = (float *)g->y + (i0 + r) * g->y_rs + j0;
    const float *ar = acc + r * GEMM_NR;
    for (int64_t j = 0; j < nr; j++) y[j] = g->alpha * ar[j];
    if (c) {
      const float *cr = c + (i0 + r) * g->c_rs + j0 * g->c_cs;
      for (int64_t j = 0; j < nr; j++) y[j] += g->beta * cr[j * g->c_cs];
    }
    if (g->clamp)
      for (int64_t j = 0; j < nr; j++) y[j] = y[j] < g->lo ? g->lo : (y[j] > g->hi ? g->hi : y[j]);
  }
}

static void gemm_f32_task(void *ctx, size_t i0, size_t j0, size_t ti, size_t tj) {
  const gemm_args *g = ctx;
  const float *a = g->a;
  for (int64_t j = (int64_t)j0; j < (int64_t)(j0 + tj); j += GEMM_NR) {
    int64_t b_rs;
    const float *bp = gemm_panel(g, j, &b_rs);
    int64_t nr = g->n - j < GEMM_NR ? g->n - j : GEMM_NR;
    for (int64_t i = (int64_t)i0; i < (int64_t)(i0 + ti); i += GEMM_MR) {
      int64_t mr = g->m - i < GEMM_MR ? g->m - i : GEMM_MR;
      const float *rows[GEMM_MR];
      for (int64_t r = 0; r < GEMM_MR; r++) rows[r] = a + (i + (r < mr ? r : 0)) * g->a_rs;
      float acc[GEMM_MR * GEMM_NR];
      gemm_f32_tile(g->k, rows, g->a_cs, bp, b_rs, acc);
      gemm_f32_store(g, acc, i, j, mr, nr);
    }
  }
}

#ifdef ONNXI_HAVE_BLAS
/* Rows [i0, i0 + rows) through BLIS, then C and the clamp while hot. */
static void gemm_blas_task(void *ctx, size_t i0, size_t rows) {
  const gemm_args *g = ctx;
  const float *a = (const float *)g->a + (int64_t)i0 * g->a_rs, *c = g->c;
  float *y = (float *)g->y + (int64_t)i0 * g->y_rs;
  conv_gemm_sgemm((int64_t)rows, g->n, g->k, g->alpha, a, g->a_rs, g->a_cs, g->b, g->b_rs,
                  g->b_cs, y, g->y_rs);
  if (!c && !g->clamp) return;
  for (int64_t r = 0; r < (int64_t)rows; r++, y += g->y_rs) {
    const float *cr = c ? c + ((int64_t)i0 + r) * g->c_rs : NULL;
    for (int64_t j = 0; j < g->n; j++) {
      float v = y[j] + (cr ? g->beta * cr[j * g->c_cs] : 0.0f);
      y[j] = g->clamp ? (v < g->lo ? g->lo : (v > g->hi ? g->hi : v)) : v;
    }
  }
}

static void gemm_blas_run(gemm_args *g, pthreadpool_t pool) {
  size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  size_t tile = (size_t)(g->m + (int64_t)threads - 1) / threads;
  if (tile < 32) tile = 32; /* BLIS packs B per call: keep calls few */
  pthreadpool_parallelize_1d_tile_1d(pool, gemm_blas_task, g, (size_t)g->m, tile, 0);
}
#endif

static void gemm_f32_run(gemm_args *g, pthreadpool_t pool) {
  if (g->m <= 0 || g->n <= 0) return;
#ifdef ONNXI_HAVE_BLAS
  if (conv_gemm_sgemm_wanted(g->m, g->n, g->k)) {
    gemm_blas_run(g, pool);
    return;
  }
#endif
  size_t panels = (size_t)((g->n + GEMM_NR - 1) / GEMM_NR);
  if (g->b_cs != 1 || g->n % GEMM_NR)
    pthreadpool_parallelize_1d(pool, gemm_pack_task, g, panels, 0);
  pthreadpool_parallelize_2d_tile_2d(pool, gemm_f32_task, g, (size_t)g->m, (size_t)g->n,
                                     GEMM_TILE_M, GEMM_TILE_N, 0);
}

/* Reference kernels for double and integer types. Integer products and sums
 * wrap (computed in uint64_t) instead of overflowing; their alpha and beta
 * are 1 (checked in infer). */
#define GEMM_EPI_REAL(acc, cv, g) ((g)->alpha * (acc) + (g)->beta * (cv))
#define GEMM_EPI_INT(acc, cv, g) ((acc) + (cv))
#define GEMM_REF_DEFINE(NAME, T, ACC, EPI)                                                         \
  static void NAME(const gemm_args *g) {                                                           \
    const T *a = g->a, *b = g->b, *c = g->c;                                                       \
    T *y = g->y;                                                                                   \
    for (int64_t i = 0; i < g->m; i++) {                                                           \
      for (int64_t j = 0; j < g->n; j++) {                                                         \
        ACC acc = 0;                                                                               \
        for (int64_t p = 0; p < g->k; p++)                                                         \
          acc += (ACC)a[i * g->a_rs + p * g->a_cs] * (ACC)b[p * g->b_rs + j * g->b_cs];            \
        ACC cv = c ? (ACC)c[i * g->c_rs + j * g->c_cs] : (ACC)0;                                   \
        y[i * g->y_rs + j] = (T)EPI(acc, cv, g);                                                   \
      }                                                                                            \
    }                                                                                              \
  }
GEMM_REF_DEFINE(gemm_ref_f64, double, double, GEMM_EPI_REAL)
GEMM_REF_DEFINE(gemm_ref_i32, int32_t, uint64_t, GEMM_EPI_INT)
GEMM_REF_DEFINE(gemm_ref_i64, int64_t, uint64_t, GEMM_EPI_INT)
GEMM_REF_DEFINE(gemm_ref_u32, uint32_t, uint64_t, GEMM_EPI_INT)
GEMM_REF_DEFINE(gemm_ref_u64, uint64_t, uint64_t, GEMM_EPI_INT)

static bool gemm_dtype_supported(int32_t dtype) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT:
  case ONNXI_DTYPE_DOUBLE:
  case ONNXI_DTYPE_INT32:
  case ONNXI_DTYPE_INT64:
  case ONNXI_DTYPE_UINT32:
  case ONNXI_DTYPE_UINT64: return true;
  default: return false;
  }
}

static bool gemm_dtype_integer(int32_t dtype) {
  return dtype != ONNXI_DTYPE_FLOAT && dtype != ONNXI_DTYPE_DOUBLE;
}

/* Runs one product in g's dtype. */
static void gemm_any_run(int32_t dtype, gemm_args *g, pthreadpool_t pool) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: gemm_f32_run(g, pool); break;
  case ONNXI_DTYPE_DOUBLE: gemm_ref_f64(g); break;
  case ONNXI_DTYPE_INT32: gemm_ref_i32(g); break;
  case ONNXI_DTYPE_INT64: gemm_ref_i64(g); break;
  case ONNXI_DTYPE_UINT32: gemm_ref_u32(g); break;
  case ONNXI_DTYPE_UINT64: gemm_ref_u64(g); break;
  default: break;
  }
}

/* Scratch for one float product; other dtypes need none. */
static onnxi_status gemm_scratch_reserve(const op_context *ctx, float **buf, size_t *cap,
                                         size_t floats) {
  if (floats <= *cap && *buf) return ONNXI_OK;
  free(*buf);
  *buf = malloc((floats ? floats : 1) * sizeof(float));
  *cap = *buf ? floats : 0;
  if (!*buf)
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for %zu floats of scratch", floats);
  return ONNXI_OK;
}

/* Optional output clamp set by the fusion pass. */
static onnxi_status gemm_clamp_attrs(op_context *ctx, float *lo, float *hi, bool *clamp) {
  onnxi_status st = op_attr_float(ctx, "onnxi.clamp_min", -INFINITY, lo);
  if (st == ONNXI_OK) st = op_attr_float(ctx, "onnxi.clamp_max", INFINITY, hi);
  if (st != ONNXI_OK) return st;
  if (!(*lo < *hi)) /* XNNPACK needs a non-empty range */
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attributes 'onnxi.clamp_min' %g and 'onnxi.clamp_max' %g do not form a range",
                    (double)*lo, (double)*hi);
  *clamp = *lo != -INFINITY || *hi != INFINITY;
  return ONNXI_OK;
}

static onnxi_status gemm_xnn_check(const op_context *ctx, enum xnn_status s, const char *what) {
  if (s == xnn_status_success) return ONNXI_OK;
  return op_error(ctx, s == xnn_status_out_of_memory ? ONNXI_ERR_NO_MEMORY : ONNXI_ERR_RUNTIME,
                  "XNNPACK %s failed (status %d)", what, (int)s);
}

/* fully_connected over constant weights W: [k][n] (transposed = true) or
 * [n][k], scaled by alpha, plus an optional bias of n. */
static onnxi_status gemm_fc_create(const op_context *ctx, const float *w, bool transposed,
                                   int64_t k, int64_t n, float alpha, const float *bias, float lo,
                                   float hi, xnn_operator_t *op) {
  float *scaled = NULL;
  if (alpha != 1.0f) {
    size_t count = (size_t)(k * n);
    scaled = malloc(count * sizeof(float));
    if (!scaled) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory scaling weights");
    for (size_t i = 0; i < count; i++) scaled[i] = alpha * w[i];
    w = scaled;
  }
  enum xnn_status s =
      xnn_create_fully_connected_nc_f32((size_t)k, (size_t)n, (size_t)k, (size_t)n, w, bias, lo, hi,
                                        transposed ? XNN_FLAG_TRANSPOSE_WEIGHTS : 0, op);
  free(scaled); /* XNNPACK packed its own copy */
  return gemm_xnn_check(ctx, s, "fully_connected create");
}

/* --- Gemm ----------------------------------------------------------------------------- */

typedef struct gemm_state {
  bool trans_a, trans_b;
  float alpha, beta;
  float lo, hi;
  bool clamp;
  xnn_operator_t fc; /* B constant float32 */
  bool fc_static;    /* built at init from an initializer (else per plan in setup) */
  bool fc_bias;      /* C folded into the operator's bias */
  float *scratch;    /* A transposed (fc path) or packed B (own path) */
  size_t scratch_cap;
} gemm_state;

/* op_tensor view of input k when it is a load-time constant. */
static bool gemm_input_const(const op_context *ctx, int k, op_tensor *t) {
  const ir_value *v = op_input_const(ctx, k);
  if (!v || v->shape.rank < 0) return false;
  memset(t, 0, sizeof *t);
  t->dtype = v->dtype;
  t->rank = v->shape.rank;
  for (int d = 0; d < t->rank; d++) t->dims[d] = v->shape.dims[d].value;
  t->count = (int64_t)(v->nbytes / (ir_dtype_size(v->dtype) ? ir_dtype_size(v->dtype) : 1));
  t->data = v->data;
  t->nbytes = v->nbytes;
  t->is_const = true;
  return true;
}

/* C that is one row of N (or a single value): it folds into the bias. */
static bool gemm_c_is_row(const op_tensor *c, int64_t n) {
  if (c->rank > 2 || c->dtype != ONNXI_DTYPE_FLOAT) return false;
  if (c->count == 1) return true;
  return c->count == n && c->dims[c->rank - 1] == n && (c->rank == 1 || c->dims[0] == 1);
}

/* XNNPACK operator for constant float B (and C when it is a constant row);
 * a C that does not fold is added after XNNPACK, with the clamp. */
static onnxi_status gemm_fc_make(op_context *ctx, gemm_state *s, const op_tensor *b, bool has_c,
                                 const op_tensor *c_const) {
  if (b->dtype != ONNXI_DTYPE_FLOAT || b->rank != 2) return ONNXI_OK;
  int64_t k = b->dims[s->trans_b ? 1 : 0], n = b->dims[s->trans_b ? 0 : 1];
  if (k <= 0 || n <= 0 || b->count != k * n) return ONNXI_OK;
  float *bias = NULL;
  s->fc_bias = c_const && gemm_c_is_row(c_const, n);
  if (s->fc_bias) {
    bias = malloc((size_t)n * sizeof(float));
    if (!bias) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for the bias");
    const float *cd = c_const->data;
    for (int64_t j = 0; j < n; j++) bias[j] = s->beta * cd[c_const->count == 1 ? 0 : j];
  }
  bool post = has_c && !s->fc_bias;
  onnxi_status st = gemm_fc_create(ctx, b->data, !s->trans_b, k, n, s->alpha, bias,
                                   post ? -INFINITY : s->lo, post ? INFINITY : s->hi, &s->fc);
  free(bias);
  return st;
}

static onnxi_status gemm_fc_init(op_context *ctx, gemm_state *s) {
  op_tensor b, c;
  if (!gemm_input_const(ctx, 1, &b)) return ONNXI_OK;
  bool has_c = op_input_count(ctx) > 2;
  bool c_const = has_c && gemm_input_const(ctx, 2, &c);
  onnxi_status st = gemm_fc_make(ctx, s, &b, has_c, c_const ? &c : NULL);
  s->fc_static = s->fc != NULL;
  return st;
}

static onnxi_status gemm_init(op_context *ctx, void *state) {
  gemm_state *s = state;
  int64_t ta, tb;
  onnxi_status st = op_attr_int(ctx, "transA", 0, &ta);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "transB", 0, &tb);
  if (st == ONNXI_OK) st = op_attr_float(ctx, "alpha", 1.0f, &s->alpha);
  if (st == ONNXI_OK) st = op_attr_float(ctx, "beta", 1.0f, &s->beta);
  if (st == ONNXI_OK) st = gemm_clamp_attrs(ctx, &s->lo, &s->hi, &s->clamp);
  if (st != ONNXI_OK) return st;
  if (ta != 0 && ta != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'transA' must be 0 or 1, not %lld",
                    (long long)ta);
  if (tb != 0 && tb != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'transB' must be 0 or 1, not %lld",
                    (long long)tb);
  s->trans_a = ta, s->trans_b = tb;
  int n_in = op_input_count(ctx);
  if (n_in < 2 || n_in > 3 || ctx->node->inputs[0] == IR_NONE || ctx->node->inputs[1] == IR_NONE)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects inputs A, B and optional C, got %d",
                    n_in);
  return gemm_fc_init(ctx, s);
}

/* Strides of C broadcast (unidirectionally) to [m, n]; error if it does not. */
static onnxi_status gemm_c_strides(const op_context *ctx, const op_tensor *c, int64_t m, int64_t n,
                                   int64_t *c_rs, int64_t *c_cs) {
  int64_t d0 = c->rank == 2 ? c->dims[0] : 1, d1 = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
  if (c->rank > 2 || (d0 != 1 && d0 != m) || (d1 != 1 && d1 != n))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "input C of rank %d (%lld x %lld) does not broadcast to [%lld, %lld]", c->rank,
                    (long long)d0, (long long)d1, (long long)m, (long long)n);
  *c_rs = d0 == 1 ? 0 : d1;
  *c_cs = d1 == 1 ? 0 : 1;
  return ONNXI_OK;
}

static onnxi_status gemm_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  gemm_state *s = state;
  (void)n_out;
  const op_tensor *a = in[0], *b = in[1], *c = n_in > 2 ? in[2] : NULL;
  if (a->rank != 2 || b->rank != 2)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "inputs A and B must be matrices, got ranks %d and %d", a->rank, b->rank);
  if (a->dtype != b->dtype || (c && c->dtype != a->dtype))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "inputs have different types (%d, %d%s)",
                    a->dtype, b->dtype, c ? ", C differs or matches" : "");
  if (!gemm_dtype_supported(a->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "dtype %d is not supported", a->dtype);
  if (gemm_dtype_integer(a->dtype) && (s->alpha != 1.0f || s->beta != 1.0f))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "integer Gemm with alpha %g, beta %g (only 1, 1)",
                    (double)s->alpha, (double)s->beta);
  int64_t m = a->dims[s->trans_a], k = a->dims[!s->trans_a];
  int64_t kb = b->dims[s->trans_b], n = b->dims[!s->trans_b];
  if (k != kb)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "inner dimensions do not match: A gives K = %lld, B gives K = %lld",
                    (long long)k, (long long)kb);
  int64_t c_rs, c_cs;
  if (c) {
    onnxi_status st = gemm_c_strides(ctx, c, m, n, &c_rs, &c_cs);
    if (st != ONNXI_OK) return st;
  }
  out[0]->dtype = a->dtype;
  out[0]->rank = 2;
  out[0]->dims[0] = m;
  out[0]->dims[1] = n;
  out[0]->layout = IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

static onnxi_status gemm_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  gemm_state *s = state;
  (void)n_out;
  int64_t m = out[0]->dims[0], n = out[0]->dims[1], k = in[0]->dims[!s->trans_a];
  if (!s->fc_static) { /* B computed at plan time (e.g. through Identity): pack it now */
    if (s->fc) xnn_delete_operator(s->fc);
    s->fc = NULL;
    const op_tensor *c = n_in > 2 ? in[2] : NULL;
    onnxi_status st = in[1]->is_const
                          ? gemm_fc_make(ctx, s, in[1], c != NULL, c && c->is_const ? c : NULL)
                          : ONNXI_OK;
    if (st != ONNXI_OK) return st;
  }
  if (s->fc) {
    if (m == 0) return ONNXI_OK;
    const float *a = in[0]->data;
    if (s->trans_a) {
      onnxi_status st = gemm_scratch_reserve(ctx, &s->scratch, &s->scratch_cap, (size_t)(m * k));
      if (st != ONNXI_OK) return st;
      a = s->scratch;
    }
    return gemm_xnn_check(
        ctx, xnn_setup_fully_connected_nc_f32(s->fc, (size_t)m, a, out[0]->data, ctx->threadpool),
        "fully_connected setup");
  }
  if (in[0]->dtype != ONNXI_DTYPE_FLOAT) return ONNXI_OK;
  return gemm_scratch_reserve(ctx, &s->scratch, &s->scratch_cap,
                              gemm_pack_floats(k, n, !s->trans_b));
}

/* Y += beta * C with the fused clamp, after XNNPACK computed alpha * A B. */
static void gemm_c_add_f32(float *y, int64_t m, int64_t n, const float *c, int64_t c_rs,
                           int64_t c_cs, float beta, float lo, float hi) {
  for (int64_t i = 0; i < m; i++) {
    float *yr = y + i * n;
    const float *cr = c + i * c_rs;
    for (int64_t j = 0; j < n; j++) {
      float v = yr[j] + beta * cr[j * c_cs];
      yr[j] = v < lo ? lo : (v > hi ? hi : v);
    }
  }
}

static void gemm_transpose_f32(const float *src, int64_t rows, int64_t cols, float *dst) {
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j];
}

static onnxi_status gemm_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  gemm_state *s = state;
  (void)n_out;
  const op_tensor *a = in[0], *b = in[1], *c = n_in > 2 ? in[2] : NULL;
  int64_t m = out[0]->dims[0], n = out[0]->dims[1], k = a->dims[!s->trans_a];
  int64_t c_rs = 0, c_cs = 0;
  if (c) gemm_c_strides(ctx, c, m, n, &c_rs, &c_cs);
  if (out[0]->count == 0) return ONNXI_OK;
  if (s->fc) {
    if (s->trans_a) gemm_transpose_f32(a->data, k, m, s->scratch);
    onnxi_status st =
        gemm_xnn_check(ctx, xnn_run_operator(s->fc, ctx->threadpool), "fully_connected run");
    if (st == ONNXI_OK && c && !s->fc_bias)
      gemm_c_add_f32(out[0]->data, m, n, c->data, c_rs, c_cs, s->beta, s->lo, s->hi);
    return st;
  }
  gemm_args g = {
      .m = m,
      .n = n,
      .k = k,
      .a = a->data,
      .a_rs = s->trans_a ? 1 : k,
      .a_cs = s->trans_a ? m : 1,
      .b = b->data,
      .b_rs = s->trans_b ? 1 : n,
      .b_cs = s->trans_b ? k : 1,
      .y = out[0]->data,
      .y_rs = n,
      .alpha = s->alpha,
      .beta = s->beta,
      .c = c ? c->data : NULL,
      .c_rs = c_rs,
      .c_cs = c_cs,
      .lo = s->lo,
      .hi = s->hi,
      .clamp = s->clamp,
      .pack = s->scratch,
  };
  gemm_any_run(a->dtype, &g, ctx->threadpool);
  return ONNXI_OK;
}

static void gemm_release(void *state) {
  gemm_state *s = state;
  if (s->fc) xnn_delete_operator(s->fc);
  free(s->scratch);
}

const op_kernel op_gemm = {
    .name = "Gemm",
    .state_size = sizeof(gemm_state),
    .init = gemm_init,
    .infer = gemm_infer,
    .setup = gemm_setup,
    .run = gemm_run,
    .release = gemm_release,
};

/* --- MatMul ----------------------------------------------------------------------------- */

/* numpy matmul: 1-D operands are promoted to a row (A) or column (B) and the
 * added dim dropped from the result; leading dims broadcast. */
typedef struct matmul_state {
  float lo, hi;
  bool clamp;
  xnn_operator_t fc; /* B constant float32 of rank 1 or 2 */
  bool fc_static;    /* built at init (else per plan in setup) */
  float *scratch;
  size_t scratch_cap;
  /* plan shapes (infer) */
  int64_t m, n, k;
  int brank;
  int64_t bdims[IR_MAX_RANK];
  int64_t a_step[IR_MAX_RANK], b_step[IR_MAX_RANK]; /* element steps per batch dim */
  int64_t batch;
  bool b_shared; /* B has no batch dims: A's batches fold into M */
} matmul_state;

/* XNNPACK operator for a constant float B of rank 1 or 2 ([K] or [K, N]). */
static onnxi_status matmul_fc_make(op_context *ctx, matmul_state *s, const op_tensor *b) {
  if (b->dtype != ONNXI_DTYPE_FLOAT || b->rank < 1 || b->rank > 2) return ONNXI_OK;
  int64_t k = b->dims[0], n = b->rank == 2 ? b->dims[1] : 1;
  if (k <= 0 || n <= 0 || b->count != k * n) return ONNXI_OK;
  return gemm_fc_create(ctx, b->data, true, k, n, 1.0f, NULL, s->lo, s->hi, &s->fc);
}

static onnxi_status matmul_init(op_context *ctx, void *state) {
  matmul_state *s = state;
  onnxi_status st = gemm_clamp_attrs(ctx, &s->lo, &s->hi, &s->clamp);
  if (st != ONNXI_OK) return st;
  if (op_input_count(ctx) != 2 || ctx->node->inputs[0] == IR_NONE)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects inputs A and B, got %d",
                    op_input_count(ctx));
  op_tensor b;
  if (!gemm_input_const(ctx, 1, &b)) return ONNXI_OK;
  st = matmul_fc_make(ctx, s, &b);
  s->fc_static = s->fc != NULL;
  return st;
}

/* Element steps of operand t (matrix of `mat` elements) over the output's batch dims. */
static void matmul_batch_steps(const op_tensor *t, int brank, const int64_t *bdims, int64_t mat,
                               int64_t *steps) {
  int tb = t->rank > 2 ? t->rank - 2 : 0;
  int64_t stride = mat;
  for (int d = brank - 1; d >= 0; d--) {
    int td = d - (brank - tb);
    if (td < 0) {
      steps[d] = 0;
      continue;
    }
    steps[d] = t->dims[td] == 1 && bdims[d] != 1 ? 0 : stride;
    stride *= t->dims[td];
  }
}

static onnxi_status matmul_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                 op_tensor *const *out, int n_out) {
  matmul_state *s = state;
  (void)n_in, (void)n_out;
  const op_tensor *a = in[0], *b = in[1];
  if (a->rank < 1 || b->rank < 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "inputs must have rank >= 1, got %d and %d",
                    a->rank, b->rank);
  if (a->dtype != b->dtype)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "inputs have different types (%d and %d)",
                    a->dtype, b->dtype);
  if (!gemm_dtype_supported(a->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "dtype %d is not supported", a->dtype);
  s->m = a->rank == 1 ? 1 : a->dims[a->rank - 2];
  s->k = a->dims[a->rank - 1];
  int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
  s->n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
  if (s->k != kb)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "inner dimensions do not match: A has K = %lld, B has K = %lld",
                    (long long)s->k, (long long)kb);
  op_tensor ab = *a, bb = *b; /* batch dims only */
  ab.rank = a->rank > 2 ? a->rank - 2 : 0;
  bb.rank = b->rank > 2 ? b->rank - 2 : 0;
  onnxi_status st = op_broadcast_shape(ctx, &ab, &bb, &s->brank, s->bdims);
  if (st != ONNXI_OK) return st;
  matmul_batch_steps(a, s->brank, s->bdims, s->m * s->k, s->a_step);
  matmul_batch_steps(b, s->brank, s->bdims, s->k * s->n, s->b_step);
  s->batch = 1;
  for (int d = 0; d < s->brank; d++) s->batch *= s->bdims[d];
  s->b_shared = b->rank <= 2;
  op_tensor *y = out[0];
  y->dtype = a->dtype;
  y->rank = s->brank;
  memcpy(y->dims, s->bdims, sizeof(int64_t) * (size_t)s->brank);
  if (a->rank > 1) y->dims[y->rank++] = s->m;
  if (b->rank > 1) y->dims[y->rank++] = s->n;
  y->layout = IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

static onnxi_status matmul_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                 op_tensor *const *out, int n_out) {
  matmul_state *s = state;
  (void)n_in, (void)n_out;
  if (!s->fc_static) { /* B computed at plan time (e.g. through Identity): pack it now */
    if (s->fc) xnn_delete_operator(s->fc);
    s->fc = NULL;
    onnxi_status st = in[1]->is_const ? matmul_fc_make(ctx, s, in[1]) : ONNXI_OK;
    if (st != ONNXI_OK) return st;
  }
  if (s->fc) {
    size_t rows = (size_t)(in[0]->count / s->k);
    if (!rows) return ONNXI_OK;
    return gemm_xnn_check(
        ctx,
        xnn_setup_fully_connected_nc_f32(s->fc, rows, in[0]->data, out[0]->data, ctx->threadpool),
        "fully_connected setup");
  }
  if (in[0]->dtype != ONNXI_DTYPE_FLOAT) return ONNXI_OK;
  return gemm_scratch_reserve(ctx, &s->scratch, &s->scratch_cap,
                              gemm_pack_floats(s->k, s->n, true));
}

static onnxi_status matmul_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  matmul_state *s = state;
  (void)n_in, (void)n_out;
  if (out[0]->count == 0) return ONNXI_OK;
  if (s->fc) {
    if (in[0]->count == 0) return ONNXI_OK;
    return gemm_xnn_check(ctx, xnn_run_operator(s->fc, ctx->threadpool), "fully_connected run");
  }
  size_t es = ir_dtype_size(in[0]->dtype);
  gemm_args g = {
      .m = s->m,
      .n = s->n,
      .k = s->k,
      .a_rs = s->k,
      .a_cs = 1,
      .b_rs = s->n,
      .b_cs = 1,
      .y_rs = s->n,
      .alpha = 1.0f,
      .beta = 1.0f,
      .lo = s->lo,
      .hi = s->hi,
      .clamp = s->clamp,
      .pack = s->scratch,
  };
  if (s->b_shared) { /* one product with A's batches stacked as rows */
    g.m = s->m * s->batch;
    g.a = in[0]->data, g.b = in[1]->data, g.y = out[0]->data;
    gemm_any_run(in[0]->dtype, &g, ctx->threadpool);
    return ONNXI_OK;
  }
  for (int64_t bi = 0; bi < s->batch; bi++) {
    int64_t ao = 0, bo = 0, rem = bi;
    for (int d = s->brank - 1; d >= 0; d--) {
      int64_t i = rem % s->bdims[d];
      rem /= s->bdims[d];
      ao += i * s->a_step[d];
      bo += i * s->b_step[d];
    }
    g.a = (const char *)in[0]->data + (size_t)ao * es;
    g.b = (const char *)in[1]->data + (size_t)bo * es;
    g.y = (char *)out[0]->data + (size_t)(bi * s->m * s->n) * es;
    gemm_any_run(in[0]->dtype, &g, ctx->threadpool);
  }
  return ONNXI_OK;
}

static void matmul_release(void *state) {
  matmul_state *s = state;
  if (s->fc) xnn_delete_operator(s->fc);
  free(s->scratch);
}

const op_kernel op_matmul = {
    .name = "MatMul",
    .state_size = sizeof(matmul_state),
    .init = matmul_init,
    .infer = matmul_infer,
    .setup = matmul_setup,
    .run = matmul_run,
    .release = matmul_release,
};

/* --- Einsum ----------------------------------------------------------------------------- */

#define EINSUM_MAX_IN 8
#define EINSUM_LETTERS 52                            /* A-Z then a-z: numpy's order */
#define EINSUM_LABELS (EINSUM_LETTERS + IR_MAX_RANK) /* + one per ellipsis dim */

typedef struct einsum_term {
  int n;                     /* letters */
  int8_t label[IR_MAX_RANK]; /* letter labels in order */
  int ell;                   /* position of "..." among the letters, -1 if none */
} einsum_term;

/* A loop over labels: the output's first (in output order), then the summed ones. */
typedef struct einsum_loops {
  int n, n_out;
  int8_t label[EINSUM_LABELS];
  int64_t size[EINSUM_LABELS];
  int64_t stride[EINSUM_MAX_IN][EINSUM_LABELS]; /* per operand; 0 if absent or broadcast */
  int64_t out_stride[EINSUM_LABELS];
} einsum_loops;

/* The matmul mapping: Y[b][m][n] = sum_k A[b][m][k] B[b][k][n], each group
 * of labels collapsed to (size, stride) or copied to make it so. */
typedef struct einsum_view {
  int64_t size[4]; /* batch, m, n, k */
  int64_t a_st[4], b_st[4], y_st[4];
  bool copy_a, copy_b, copy_y;
  int n_grp[4];
  int8_t grp[4][EINSUM_LABELS]; /* loop indices of each group's labels */
} einsum_view;

enum { EINSUM_B, EINSUM_M, EINSUM_N, EINSUM_K };

typedef struct einsum_state {
  int n_in;
  einsum_term in[EINSUM_MAX_IN];
  einsum_term out;
  einsum_loops loops;
  bool fast;
  einsum_view view;
  float *scratch;
  size_t scratch_cap;
  size_t a_off, b_off, y_off, pack_off; /* float offsets into scratch */
} einsum_state;

static int einsum_letter(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + (c - 'a');
  return -1;
}

static char einsum_char(int label) { return (char)(label < 26 ? 'A' + label : 'a' + (label - 26)); }

/* "i" for a letter, "..." for an ellipsis dim. */
static const char *einsum_label_name(int label, char buf[2]) {
  if (label >= EINSUM_LETTERS) return "...";
  buf[0] = einsum_char(label);
  buf[1] = '\0';
  return buf;
}

/* Parses one term ("ij", "...ii", "b...") of `len` chars (spaces removed). */
static onnxi_status einsum_term_parse(const op_context *ctx, const char *p, size_t len,
                                      einsum_term *t) {
  t->n = 0;
  t->ell = -1;
  for (size_t i = 0; i < len; i++) {
    if (p[i] == '.') {
      if (t->ell >= 0 || i + 2 >= len || p[i + 1] != '.' || p[i + 2] != '.')
        return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                        "attribute 'equation': bad ellipsis in term '%.*s'", (int)len, p);
      t->ell = t->n;
      i += 2;
      continue;
    }
    int l = einsum_letter(p[i]);
    if (l < 0)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "attribute 'equation': invalid character '%c' in term '%.*s'", p[i], (int)len,
                      p);
    if (t->n >= IR_MAX_RANK)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "attribute 'equation': term '%.*s' has more than %d labels", (int)len, p,
                      IR_MAX_RANK);
    t->label[t->n++] = (int8_t)l;
  }
  return ONNXI_OK;
}

/* Implicit output: "..." (if any input has one) then the letters used exactly once, sorted. */
static onnxi_status einsum_implicit_out(const op_context *ctx, einsum_state *s) {
  int count[EINSUM_LETTERS] = {0};
  bool ell = false;
  for (int i = 0; i < s->n_in; i++) {
    for (int j = 0; j < s->in[i].n; j++) count[s->in[i].label[j]]++;
    ell |= s->in[i].ell >= 0;
  }
  s->out.n = 0;
  s->out.ell = ell ? 0 : -1;
  for (int l = 0; l < EINSUM_LETTERS; l++) {
    if (count[l] != 1) continue;
    if (s->out.n == IR_MAX_RANK)
      return op_error(ctx, ONNXI_ERR_UNSUPPORTED,
                      "attribute 'equation': implicit output has more than %d labels", IR_MAX_RANK);
    s->out.label[s->out.n++] = (int8_t)l;
  }
  return ONNXI_OK;
}

static onnxi_status einsum_out_check(const op_context *ctx, const einsum_state *s) {
  bool used[EINSUM_LETTERS] = {false}, seen[EINSUM_LETTERS] = {false};
  for (int i = 0; i < s->n_in; i++)
    for (int j = 0; j < s->in[i].n; j++) used[s->in[i].label[j]] = true;
  for (int j = 0; j < s->out.n; j++) {
    int l = s->out.label[j];
    if (seen[l] || !used[l])
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'equation': output label '%c' is %s",
                      einsum_char(l), seen[l] ? "repeated" : "not in any input");
    seen[l] = true;
  }
  return ONNXI_OK;
}

static onnxi_status einsum_parse(const op_context *ctx, einsum_state *s, const char *eq) {
  char buf[512];
  size_t len = 0;
  for (const char *p = eq; *p; p++) {
    if (*p == ' ') continue;
    if (len + 1 >= sizeof buf)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'equation' is too long");
    buf[len++] = *p;
  }
  buf[len] = '\0';
  char *arrow = strstr(buf, "->");
  size_t lhs_len = arrow ? (size_t)(arrow - buf) : len;
  int terms = 0;
  size_t start = 0;
  for (size_t i = 0; i <= lhs_len; i++) {
    if (i < lhs_len && buf[i] != ',') continue;
    if (terms >= s->n_in)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "attribute 'equation' '%s' has more terms than the %d inputs", eq, s->n_in);
    onnxi_status st = einsum_term_parse(ctx, buf + start, i - start, &s->in[terms++]);
    if (st != ONNXI_OK) return st;
    start = i + 1;
  }
  if (terms != s->n_in)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'equation' '%s' has %d terms for %d inputs", eq, terms, s->n_in);
  if (!arrow) return einsum_implicit_out(ctx, s);
  const char *rhs = arrow + 2;
  if (strchr(rhs, ',') || strstr(rhs, "->"))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'equation' '%s' has more than one output", eq);
  onnxi_status st = einsum_term_parse(ctx, rhs, strlen(rhs), &s->out);
  return st != ONNXI_OK ? st : einsum_out_check(ctx, s);
}

static onnxi_status einsum_init(op_context *ctx, void *state) {
  einsum_state *s = state;
  const char *eq;
  onnxi_status st = op_attr_string(ctx, "equation", NULL, &eq);
  if (st != ONNXI_OK) return st;
  if (!eq) return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'equation' is missing");
  s->n_in = ctx->node->n_inputs;
  if (s->n_in < 1 || s->n_in > EINSUM_MAX_IN)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "%d inputs (1 to %d supported)", s->n_in,
                    EINSUM_MAX_IN);
  for (int i = 0; i < s->n_in; i++)
    if (ctx->node->inputs[i] == IR_NONE)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input %d is missing", i);
  return einsum_parse(ctx, s, eq);
}

/* Label of each dim of operand t under term `term` (ellipsis dims right-aligned to ell_rank). */
static void einsum_dim_labels(const einsum_term *term, int rank, int ell_rank, int *labels) {
  int ne = rank - term->n, d = 0;
  for (int j = 0; j <= term->n; j++) {
    if (j == term->ell)
      for (int e = 0; e < ne; e++) labels[d++] = EINSUM_LETTERS + ell_rank - ne + e;
    if (j < term->n) labels[d++] = term->label[j];
  }
}

/* Sizes of every label (1-sized dims broadcast), checking operands agree. */
static onnxi_status einsum_sizes(const op_context *ctx, const einsum_state *s, op_tensor *const *in,
                                 int ell_rank, int64_t *size) {
  for (int l = 0; l < EINSUM_LABELS; l++) size[l] = -1;
  for (int i = 0; i < s->n_in; i++) {
    int labels[IR_MAX_RANK];
    einsum_dim_labels(&s->in[i], in[i]->rank, ell_rank, labels);
    for (int d = 0; d < in[i]->rank; d++) {
      int64_t *z = &size[labels[d]], v = in[i]->dims[d];
      bool repeat = false; /* diagonal: dims must agree exactly */
      for (int e = 0; e < d; e++) repeat |= labels[e] == labels[d];
      if (*z < 0 || (*z == 1 && !repeat)) {
        *z = v;
      } else if (v != *z && (v != 1 || repeat)) {
        char name[2];
        return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                        "input %d dim %d is %lld but label '%s' has size %lld", i, d, (long long)v,
                        einsum_label_name(labels[d], name), (long long)*z);
      }
    }
  }
  return ONNXI_OK;
}

static void einsum_loops_build(einsum_state *s, op_tensor *const *in, int ell_rank,
                               const int64_t *size, op_tensor *y) {
  einsum_loops *L = &s->loops;
  bool in_out[EINSUM_LABELS] = {false};
  int out_labels[IR_MAX_RANK] = {0};
  einsum_dim_labels(&s->out, y->rank, ell_rank, out_labels);
  L->n = 0;
  for (int d = 0; d < y->rank; d++) {
    L->label[L->n++] = (int8_t)out_labels[d];
    in_out[out_labels[d]] = true;
  }
  L->n_out = L->n;
  for (int l = 0; l < EINSUM_LABELS; l++)
    if (size[l] >= 0 && !in_out[l]) L->label[L->n++] = (int8_t)l;
  int64_t st = 1;
  for (int j = L->n - 1; j >= 0; j--) {
    L->size[j] = size[L->label[j]];
    L->out_stride[j] = j < L->n_out ? st : 0;
    if (j < L->n_out) st *= L->size[j];
  }
  for (int i = 0; i < s->n_in; i++) {
    int labels[IR_MAX_RANK];
    einsum_dim_labels(&s->in[i], in[i]->rank, ell_rank, labels);
    int64_t dstride[IR_MAX_RANK], t = 1;
    for (int d = in[i]->rank - 1; d >= 0; d--) {
      dstride[d] = t;
      t *= in[i]->dims[d];
    }
    for (int j = 0; j < L->n; j++) {
      L->stride[i][j] = 0;
      for (int d = 0; d < in[i]->rank; d++)
        if (labels[d] == L->label[j] && in[i]->dims[d] == L->size[j] && L->size[j] != 1)
          L->stride[i][j] += dstride[d];
    }
  }
}

/* (size, stride) of group g over strides st[] if its labels collapse to one dim. */
static bool einsum_collapse(const einsum_view *v, int g, const int64_t *size, const int64_t *st,
                            int64_t *out_stride) {
  *out_stride = 0;
  int prev = -1;
  for (int j = 0; j < v->n_grp[g]; j++) {
    int l = v->grp[g][j];
    if (size[l] == 1) continue;
    if (prev >= 0 && st[prev] != st[l] * size[l]) return false;
    prev = l;
  }
  if (prev >= 0) *out_stride = st[prev];
  return true;
}

static bool einsum_term_has(const einsum_term *t, int label) {
  if (label >= EINSUM_LETTERS) return t->ell >= 0; /* absent ellipsis dims broadcast (stride 0) */
  for (int a = 0; a < t->n; a++)
    if (t->label[a] == label) return true;
  return false;
}

/* Sorts every loop label into batch / m / n / k; false if some label is
 * summed within one operand. K follows A's dim order, the rest the output's. */
static bool einsum_view_groups(einsum_state *s, int a_rank, int ell_rank) {
  const einsum_loops *L = &s->loops;
  einsum_view *v = &s->view;
  memset(v, 0, sizeof *v);
  for (int j = 0; j < L->n; j++) {
    bool ia = einsum_term_has(&s->in[0], L->label[j]), ib = einsum_term_has(&s->in[1], L->label[j]);
    bool out = j < L->n_out;
    int g;
    if (out && ia && ib)
      g = EINSUM_B;
    else if (out && ia)
      g = EINSUM_M;
    else if (out && ib)
      g = EINSUM_N;
    else if (ia && ib)
      g = EINSUM_K;
    else
      return false;
    v->grp[g][v->n_grp[g]++] = (int8_t)j;
  }
  int labels[IR_MAX_RANK] = {0}, nk = 0;
  einsum_dim_labels(&s->in[0], a_rank, ell_rank, labels);
  for (int d = 0; d < a_rank; d++)
    for (int x = 0; x < v->n_grp[EINSUM_K]; x++)
      if (L->label[v->grp[EINSUM_K][x]] == labels[d]) {
        int8_t t = v->grp[EINSUM_K][x]; /* move to slot nk (labels are distinct in A) */
        v->grp[EINSUM_K][x] = v->grp[EINSUM_K][nk];
        v->grp[EINSUM_K][nk++] = t;
      }
  return true;
}

/* Group sizes, and strides where each operand's groups collapse; copies otherwise. */
static void einsum_view_strides(einsum_state *s) {
  const einsum_loops *L = &s->loops;
  einsum_view *v = &s->view;
  for (int g = 0; g < 4; g++) {
    v->size[g] = 1;
    for (int j = 0; j < v->n_grp[g]; j++) v->size[g] *= L->size[v->grp[g][j]];
  }
  static const int ag[3] = {EINSUM_B, EINSUM_M, EINSUM_K}, bg[3] = {EINSUM_B, EINSUM_K, EINSUM_N},
                   yg[3] = {EINSUM_B, EINSUM_M, EINSUM_N};
  for (int x = 0; x < 3; x++) {
    v->copy_a |= !einsum_collapse(v, ag[x], L->size, L->stride[0], &v->a_st[ag[x]]);
    v->copy_b |= !einsum_collapse(v, bg[x], L->size, L->stride[1], &v->b_st[bg[x]]);
    v->copy_y |= !einsum_collapse(v, yg[x], L->size, L->out_stride, &v->y_st[yg[x]]);
  }
  if (v->size[EINSUM_N] > 1 && v->y_st[EINSUM_N] != 1)
    v->copy_y = true; /* Y rows must be contiguous */
  int64_t m = v->size[EINSUM_M], n = v->size[EINSUM_N], k = v->size[EINSUM_K];
  if (v->copy_a) v->a_st[EINSUM_B] = m * k, v->a_st[EINSUM_M] = k, v->a_st[EINSUM_K] = 1;
  if (v->copy_b) v->b_st[EINSUM_B] = k * n, v->b_st[EINSUM_K] = n, v->b_st[EINSUM_N] = 1;
  if (v->copy_y) v->y_st[EINSUM_B] = m * n, v->y_st[EINSUM_M] = n, v->y_st[EINSUM_N] = 1;
}

/* Matmul-shaped: two float operands without diagonals, every label either
 * in the output or shared by both inputs. */
static bool einsum_view_build(einsum_state *s, int32_t dtype, int a_rank, int ell_rank) {
  if (s->n_in != 2 || dtype != ONNXI_DTYPE_FLOAT) return false;
  for (int i = 0; i < 2; i++)
    for (int a = 0; a < s->in[i].n; a++)
      for (int b = 0; b < a; b++)
        if (s->in[i].label[a] == s->in[i].label[b]) return false;
  if (!einsum_view_groups(s, a_rank, ell_rank)) return false;
  einsum_view_strides(s);
  return true;
}

static onnxi_status einsum_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                 op_tensor *const *out, int n_out) {
  einsum_state *s = state;
  (void)n_in, (void)n_out;
  int ell_rank = 0;
  for (int i = 0; i < s->n_in; i++) {
    if (in[i]->dtype != in[0]->dtype)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input %d has type %d, input 0 has %d", i,
                      in[i]->dtype, in[0]->dtype);
    int ne = in[i]->rank - s->in[i].n;
    if (ne < 0 || (ne > 0 && s->in[i].ell < 0))
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "input %d has rank %d, its equation term has %d labels%s", i, in[i]->rank,
                      s->in[i].n, s->in[i].ell >= 0 ? " and '...'" : "");
    ell_rank = ne > ell_rank ? ne : ell_rank;
  }
  switch (in[0]->dtype) {
  case ONNXI_DTYPE_FLOAT:
  case ONNXI_DTYPE_DOUBLE:
  case ONNXI_DTYPE_INT32:
  case ONNXI_DTYPE_INT64: break;
  default: return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "dtype %d is not supported", in[0]->dtype);
  }
  int64_t size[EINSUM_LABELS];
  onnxi_status st = einsum_sizes(ctx, s, in, ell_rank, size);
  if (st != ONNXI_OK) return st;
  if (ell_rank > 0 && s->out.ell < 0)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'equation': the output needs '...' for the broadcast dims");
  op_tensor *y = out[0];
  y->dtype = in[0]->dtype;
  y->rank = s->out.n + (s->out.ell >= 0 ? ell_rank : 0);
  if (y->rank > IR_MAX_RANK)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "output rank %d exceeds %d", y->rank, IR_MAX_RANK);
  int labels[IR_MAX_RANK] = {0};
  einsum_dim_labels(&s->out, y->rank, ell_rank, labels);
  for (int d = 0; d < y->rank; d++) y->dims[d] = size[labels[d]];
  y->layout = IR_LAYOUT_PLAIN;
  einsum_loops_build(s, in, ell_rank, size, y);
  s->fast = einsum_view_build(s, y->dtype, in[0]->rank, ell_rank);
  return ONNXI_OK;
}

static onnxi_status einsum_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                 op_tensor *const *out, int n_out) {
  einsum_state *s = state;
  (void)in, (void)n_in, (void)out, (void)n_out;
  if (!s->fast) return ONNXI_OK;
  const einsum_view *v = &s->view;
  int64_t bt = v->size[EINSUM_B], m = v->size[EINSUM_M], n = v->size[EINSUM_N],
          k = v->size[EINSUM_K];
  size_t off = 0;
  s->a_off = off;
  off += v->copy_a ? (size_t)(bt * m * k) : 0;
  s->b_off = off;
  off += v->copy_b ? (size_t)(bt * k * n) : 0;
  s->y_off = off;
  off += v->copy_y ? (size_t)(bt * m * n) : 0;
  s->pack_off = off;
  off += gemm_pack_floats(k, n, v->b_st[EINSUM_N] == 1 || n == 1);
  return gemm_scratch_reserve(ctx, &s->scratch, &s->scratch_cap, off ? off : 1);
}

/* Copies between two strided views of the same index space (loop indices idx[]). */
static void einsum_copy_f32(float *dst, const int64_t *dst_st, const float *src,
                            const int64_t *src_st, const int64_t *size, int n) {
  int64_t count = 1, idx[EINSUM_LABELS] = {0}, so = 0, d_o = 0;
  for (int j = 0; j < n; j++) count *= size[j];
  for (int64_t e = 0; e < count; e++) {
    dst[d_o] = src[so];
    for (int j = n - 1; j >= 0; j--) {
      so += src_st[j], d_o += dst_st[j];
      if (++idx[j] < size[j]) break;
      so -= src_st[j] * size[j], d_o -= dst_st[j] * size[j];
      idx[j] = 0;
    }
  }
}

/* Gathers operand (or output) strides of the groups listed, in that order. */
static int einsum_group_dims(const einsum_state *s, const int *groups, const int64_t *st,
                             int64_t *size, int64_t *strides) {
  int n = 0;
  for (int x = 0; x < 3; x++)
    for (int j = 0; j < s->view.n_grp[groups[x]]; j++) {
      int l = s->view.grp[groups[x]][j];
      size[n] = s->loops.size[l];
      strides[n++] = st[l];
    }
  return n;
}

static void einsum_contiguous(const int64_t *size, int n, int64_t *strides) {
  int64_t t = 1;
  for (int j = n - 1; j >= 0; j--) {
    strides[j] = t;
    t *= size[j];
  }
}

static void einsum_fast_run(einsum_state *s, const float *a, const float *b, float *y,
                            pthreadpool_t pool) {
  const einsum_view *v = &s->view;
  static const int ag[3] = {EINSUM_B, EINSUM_M, EINSUM_K}, bg[3] = {EINSUM_B, EINSUM_K, EINSUM_N},
                   yg[3] = {EINSUM_B, EINSUM_M, EINSUM_N};
  int64_t size[EINSUM_LABELS], src[EINSUM_LABELS], dst[EINSUM_LABELS];
  if (v->copy_a) {
    int n = einsum_group_dims(s, ag, s->loops.stride[0], size, src);
    einsum_contiguous(size, n, dst);
    einsum_copy_f32(s->scratch + s->a_off, dst, a, src, size, n);
    a = s->scratch + s->a_off;
  }
  if (v->copy_b) {
    int n = einsum_group_dims(s, bg, s->loops.stride[1], size, src);
    einsum_contiguous(size, n, dst);
    einsum_copy_f32(s->scratch + s->b_off, dst, b, src, size, n);
    b = s->scratch + s->b_off;
  }
  float *yt = v->copy_y ? s->scratch + s->y_off : y;
  gemm_args g = {
      .m = v->size[EINSUM_M],
      .n = v->size[EINSUM_N],
      .k = v->size[EINSUM_K],
      .a_rs = v->a_st[EINSUM_M],
      .a_cs = v->a_st[EINSUM_K],
      .b_rs = v->b_st[EINSUM_K],
      .b_cs = v->size[EINSUM_N] > 1 ? v->b_st[EINSUM_N] : 1,
      .y_rs = v->y_st[EINSUM_M],
      .alpha = 1.0f,
      .beta = 1.0f,
      .pack = s->scratch + s->pack_off,
  };
  for (int64_t bi = 0; bi < v->size[EINSUM_B]; bi++) {
    g.a = a + bi * v->a_st[EINSUM_B];
    g.b = b + bi * v->b_st[EINSUM_B];
    g.y = yt + bi * v->y_st[EINSUM_B];
    gemm_f32_run(&g, pool);
  }
  if (v->copy_y) {
    int n = einsum_group_dims(s, yg, s->loops.out_stride, size, dst);
    einsum_contiguous(size, n, src);
    einsum_copy_f32(y, dst, yt, src, size, n);
  }
}

/* Generic contraction: for each output element, sum over the summed labels
 * of the product of the operands. Integer types wrap (uint64_t arithmetic). */
#define EINSUM_GENERIC_DEFINE(NAME, T, ACC)                                                        \
  static void NAME(const einsum_state *s, op_tensor *const *in, T *y, int64_t out_count) {         \
    const einsum_loops *L = &s->loops;                                                             \
    int64_t red = 1, oidx[EINSUM_LABELS] = {0}, base[EINSUM_MAX_IN] = {0};                         \
    for (int j = L->n_out; j < L->n; j++) red *= L->size[j];                                       \
    for (int64_t o = 0; o < out_count; o++) {                                                      \
      ACC acc = 0;                                                                                 \
      int64_t ridx[EINSUM_LABELS] = {0}, off[EINSUM_MAX_IN];                                       \
      memcpy(off, base, sizeof off);                                                               \
      for (int64_t r = 0; r < red; r++) {                                                          \
        ACC prod = 1;                                                                              \
        for (int i = 0; i < s->n_in; i++) prod *= (ACC)((const T *)in[i]->data)[off[i]];           \
        acc += prod;                                                                               \
        for (int j = L->n - 1; j >= L->n_out; j--) {                                               \
          for (int i = 0; i < s->n_in; i++) off[i] += L->stride[i][j];                             \
          if (++ridx[j] < L->size[j]) break;                                                       \
          for (int i = 0; i < s->n_in; i++) off[i] -= L->stride[i][j] * L->size[j];                \
          ridx[j] = 0;                                                                             \
        }                                                                                          \
      }                                                                                            \
      y[o] = (T)acc;                                                                               \
      for (int j = L->n_out - 1; j >= 0; j--) {                                                    \
        for (int i = 0; i < s->n_in; i++) base[i] += L->stride[i][j];                              \
        if (++oidx[j] < L->size[j]) break;                                                         \
        for (int i = 0; i < s->n_in; i++) base[i] -= L->stride[i][j] * L->size[j];                 \
        oidx[j] = 0;                                                                               \
      }                                                                                            \
    }                                                                                              \
  }
EINSUM_GENERIC_DEFINE(einsum_generic_f32, float, double)
EINSUM_GENERIC_DEFINE(einsum_generic_f64, double, double)
EINSUM_GENERIC_DEFINE(einsum_generic_i32, int32_t, uint64_t)
EINSUM_GENERIC_DEFINE(einsum_generic_i64, int64_t, uint64_t)

static onnxi_status einsum_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  einsum_state *s = state;
  (void)n_in, (void)n_out;
  op_tensor *y = out[0];
  if (y->count == 0) return ONNXI_OK;
  if (s->fast) {
    einsum_fast_run(s, in[0]->data, in[1]->data, y->data, ctx->threadpool);
    return ONNXI_OK;
  }
  switch (y->dtype) {
  case ONNXI_DTYPE_FLOAT: einsum_generic_f32(s, in, y->data, y->count); break;
  case ONNXI_DTYPE_DOUBLE: einsum_generic_f64(s, in, y->data, y->count); break;
  case ONNXI_DTYPE_INT32: einsum_generic_i32(s, in, y->data, y->count); break;
  case ONNXI_DTYPE_INT64: einsum_generic_i64(s, in, y->data, y->count); break;
  default: break;
  }
  return ONNXI_OK;
}

static void einsum_release(void *state) {
  einsum_state *s = state;
  free(s->scratch);
}

const op_kernel op_einsum = {
    .name = "Einsum",
    .state_size = sizeof(einsum_state),
    .init = einsum_init,
    .infer = einsum_infer,
    .setup = einsum_setup,
    .run = einsum_run,
    .release = einsum_release,
};
