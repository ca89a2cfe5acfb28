/* Softmax, LogSoftmax and Hardmax.
 *
 * Opset < 13 coerces the input to 2-D at `axis` (default 1) and normalises
 * each row; opset >= 13 normalises along the one axis `axis` (default -1).
 * Either way the work is `outer` groups of `n` values spaced `inner` apart
 * in storage. float32 with inner == 1 (the axis innermost in storage, which
 * includes the channel axis of an NHWC tensor) uses XNNPACK's softmax; the
 * rest (LogSoftmax, other axes, double, float16, bfloat16) uses our own
 * max-subtracting kernels, vectorised across `inner` or along the row. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xnnpack.h>

#include "kernel.h"
#include "unary_math.h"

typedef struct softmax_state {
  bool log;    /* LogSoftmax */
  bool legacy; /* opset < 13: coerce to 2-D */
  int64_t axis;
  int32_t dtype;
  size_t outer, n, inner;
  xnn_operator_t xnn;
  size_t xnn_channels;
  bool xnn_ready;
  float *scratch; /* float16/bfloat16 computed in float32 */
  size_t scratch_cap;
} softmax_state;

/* --- kernels, generated for float and double ------------------------------------
 * Rows (inner == 1): 16 independent partial maxima/sums so the reductions
 * vectorise without reassociating. Columns (inner > 1): a tile of 16
 * neighbouring groups processed side by side. Both are safe in place. */
#define SOFTMAX_LANES 16
#define SOFTMAX_EXP_f32 um_expf
#define SOFTMAX_EXP_f64 exp
#define SOFTMAX_LOG_f32 logf
#define SOFTMAX_LOG_f64 log

#define SOFTMAX_GEN(sfx, T)                                                              \
  static void softmax_row_##sfx(const T *x, T *y, size_t n, bool lg) {                   \
    T mx[SOFTMAX_LANES], acc[SOFTMAX_LANES];                                             \
    size_t full = n / SOFTMAX_LANES * SOFTMAX_LANES, i;                                  \
    T m = x[0], sum = 0;                                                                 \
    for (size_t j = 0; j < SOFTMAX_LANES; j++) mx[j] = x[0], acc[j] = 0;                 \
    for (i = 0; i < full; i += SOFTMAX_LANES)                                            \
      for (size_t j = 0; j < SOFTMAX_LANES; j++) mx[j] = x[i + j] > mx[j] ? x[i + j] : mx[j]; \
    for (size_t j = 0; j < SOFTMAX_LANES; j++) m = mx[j] > m ? mx[j] : m;                \
    for (; i < n; i++) m = x[i] > m ? x[i] : m;                                          \
    if (lg) { /* y = (x - m) - log(sum): x must survive until the last pass */          \
      for (i = 0; i < full; i += SOFTMAX_LANES)                                          \
        for (size_t j = 0; j < SOFTMAX_LANES; j++) acc[j] += SOFTMAX_EXP_##sfx(x[i + j] - m); \
      for (; i < n; i++) sum += SOFTMAX_EXP_##sfx(x[i] - m);                             \
    } else {                                                                             \
      for (i = 0; i < full; i += SOFTMAX_LANES)                                          \
        for (size_t j = 0; j < SOFTMAX_LANES; j++) {                                     \
          T e = SOFTMAX_EXP_##sfx(x[i + j] - m);                                         \
          y[i + j] = e;                                                                  \
          acc[j] += e;                                                                   \
        }                                                                                \
      for (; i < n; i++) sum += y[i] = SOFTMAX_EXP_##sfx(x[i] - m);                      \
    }                                                                                    \
    for (size_t j = 0; j < SOFTMAX_LANES; j++) sum += acc[j];                            \
    if (lg) {                                                                            \
      T lse = SOFTMAX_LOG_##sfx(sum);                                                    \
      for (i = 0; i < n; i++) y[i] = (x[i] - m) - lse;                                   \
    } else {                                                                             \
      T r = 1 / sum;                                                                     \
      for (i = 0; i < n; i++) y[i] *= r;                                                 \
    }                                                                                    \
  }                                                                                      \
  /* w groups starting at x, each n values `inner` apart; w <= SOFTMAX_LANES */          \
  static inline void softmax_cols_##sfx(const T *x, T *y, size_t n, size_t inner,         \
                                        size_t w, bool lg) {                             \
    T mx[SOFTMAX_LANES], acc[SOFTMAX_LANES];                                             \
    for (size_t j = 0; j < w; j++) mx[j] = x[j], acc[j] = 0;                             \
    for (size_t k = 1; k < n; k++) {                                                     \
      const T *r = x + k * inner;                                                        \
      for (size_t j = 0; j < w; j++) mx[j] = r[j] > mx[j] ? r[j] : mx[j];                \
    }                                                                                    \
    for (size_t k = 0; k < n; k++) {                                                     \
      const T *r = x + k * inner;                                                        \
      T *o = y + k * inner;                                                              \
      if (lg) {                                                                          \
        for (size_t j = 0; j < w; j++) acc[j] += SOFTMAX_EXP_##sfx(r[j] - mx[j]);        \
      } else {                                                                           \
        for (size_t j = 0; j < w; j++) {                                                 \
          T e = SOFTMAX_EXP_##sfx(r[j] - mx[j]);                                         \
          o[j] = e;                                                                      \
          acc[j] += e;                                                                   \
        }                                                                                \
      }                                                                                  \
    }                                                                                    \
    for (size_t j = 0; j < w; j++)                                                       \
      acc[j] = lg ? mx[j] + SOFTMAX_LOG_##sfx(acc[j]) : 1 / acc[j];                      \
    for (size_t k = 0; k < n; k++) {                                                     \
      const T *r = x + k * inner;                                                        \
      T *o = y + k * inner;                                                              \
      if (lg)                                                                            \
        for (size_t j = 0; j < w; j++) o[j] = r[j] - acc[j];                             \
      else                                                                               \
        for (size_t j = 0; j < w; j++) o[j] *= acc[j];                                   \
    }                                                                                    \
  }                                                                                      \
  /* Task (group index o, inner offset i0): constant-width calls let the     \
   * compiler vectorise the full tiles. */                                               \
  static void softmax_tile_##sfx(const T *x, T *y, size_t n, size_t inner, size_t o,      \
                                 size_t i0, bool lg) {                                   \
    size_t off = o * n * inner + i0;                                                     \
    if (inner == 1)                                                                      \
      softmax_row_##sfx(x + off, y + off, n, lg);                                        \
    else if (inner - i0 >= SOFTMAX_LANES)                                                \
      softmax_cols_##sfx(x + off, y + off, n, inner, SOFTMAX_LANES, lg);                 \
    else                                                                                 \
      softmax_cols_##sfx(x + off, y + off, n, inner, inner - i0, lg);                    \
  }
SOFTMAX_GEN(f32, float)
SOFTMAX_GEN(f64, double)

typedef struct softmax_task {
  const void *x;
  void *y;
  size_t n, inner;
  bool lg, f64;
} softmax_task;

static void softmax_task_run(void *arg, size_t o, size_t tile) {
  const softmax_task *t = arg;
  size_t i0 = tile * SOFTMAX_LANES;
  if (t->f64)
    softmax_tile_f64(t->x, t->y, t->n, t->inner, o, i0, t->lg);
  else
    softmax_tile_f32(t->x, t->y, t->n, t->inner, o, i0, t->lg);
}

static void softmax_own(const softmax_state *s, const void *x, void *y, bool f64,
                        pthreadpool_t pool) {
  softmax_task t = {.x = x, .y = y, .n = s->n, .inner = s->inner, .lg = s->log, .f64 = f64};
  size_t tiles = s->inner == 1 ? 1 : (s->inner + SOFTMAX_LANES - 1) / SOFTMAX_LANES;
  /* tiny tensors: skip the pool's dispatch cost */
  if (s->outer * s->n * s->inner < 4096) pool = NULL;
  pthreadpool_parallelize_2d(pool, softmax_task_run, &t, s->outer, tiles, 0);
}

/* --- hooks ----------------------------------------------------------------------- */
static onnxi_status softmax_init(op_context *ctx, void *state) {
  softmax_state *s = state;
  s->log = ctx->node->op == IR_OP_LOG_SOFTMAX;
  s->legacy = ctx->opset < 13;
  return op_attr_int(ctx, "axis", s->legacy ? 1 : -1, &s->axis);
}

/* Elementwise along rows, so any layout works as long as each group keeps
 * its meaning: in the legacy 2-D view only axis 0 or 1 keep NHWC groups
 * contiguous (their elements are just permuted within the group). */
static ir_layout softmax_layout(const op_context *ctx, const void *state, op_tensor *const *in,
                                int n_in) {
  const softmax_state *s = state;
  ir_layout l = op_layout_follow(ctx, state, in, n_in);
  if (l == IR_LAYOUT_NHWC && s->legacy && (s->axis < 0 ? s->axis + 4 : s->axis) > 1)
    return IR_LAYOUT_PLAIN;
  return l;
}

static onnxi_status softmax_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                  op_tensor *const *out, int n_out) {
  softmax_state *s = state;
  if (n_in != 1 || !in[0] || n_out != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects 1 input and 1 output, got %d and %d",
                    n_in, n_out);
  const op_tensor *x = in[0];
  if (x->dtype != ONNXI_DTYPE_FLOAT && x->dtype != ONNXI_DTYPE_DOUBLE &&
      x->dtype != ONNXI_DTYPE_FLOAT16 && x->dtype != ONNXI_DTYPE_BFLOAT16)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input dtype %s is not supported",
                    onnxi_dtype_name((onnxi_dtype)x->dtype));
  if (x->rank < 1) return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input must have rank >= 1");
  int axis;
  onnxi_status st = op_axis_normalize(ctx, "attribute 'axis'", s->axis, x->rank, &axis);
  if (st != ONNXI_OK) return st;
  int64_t sd[IR_MAX_RANK];
  op_storage_dims(x, x->rank, x->layout, sd);
  int sa = s->legacy ? axis : op_storage_axis(axis, x->rank, x->layout);
  int64_t outer = 1, n = 1, inner = 1;
  for (int d = 0; d < x->rank; d++) {
    if (d < sa)
      outer *= sd[d];
    else if (d == sa || s->legacy)
      n *= sd[d]; /* legacy: everything from axis on is one row */
    else
      inner *= sd[d];
  }
  s->outer = (size_t)outer, s->n = (size_t)n, s->inner = (size_t)inner;
  s->dtype = x->dtype;
  op_tensor_like(out[0], x);
  return ONNXI_OK;
}

static onnxi_status softmax_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                  op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  softmax_state *s = state;
  s->xnn_ready = false;
  size_t count = s->outer * s->n * s->inner;
  if (count == 0) return ONNXI_OK;
  if (s->dtype == ONNXI_DTYPE_FLOAT16 || s->dtype == ONNXI_DTYPE_BFLOAT16) {
    if (count > s->scratch_cap) {
      free(s->scratch);
      s->scratch = malloc(count * sizeof(float));
      s->scratch_cap = s->scratch ? count : 0;
      if (!s->scratch) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "no memory for %zu floats", count);
    }
    return ONNXI_OK;
  }
  if (s->dtype != ONNXI_DTYPE_FLOAT || s->log || s->inner != 1) return ONNXI_OK;
  enum xnn_status xs = xnn_status_success;
  if (s->xnn && s->xnn_channels != s->n) {
    xnn_delete_operator(s->xnn);
    s->xnn = NULL;
  }
  if (!s->xnn) {
    xs = xnn_create_softmax_nc_f32(s->n, s->n, s->n, 0, &s->xnn);
    if (xs != xnn_status_success) {
      s->xnn = NULL;
      return ONNXI_OK; /* own kernel */
    }
    s->xnn_channels = s->n;
  }
  xs = xnn_setup_softmax_nc_f32(s->xnn, s->outer, in[0]->data, out[0]->data, ctx->threadpool);
  if (xs != xnn_status_success)
    return op_error(ctx, ONNXI_ERR_RUNTIME, "XNNPACK softmax setup failed (status %d)", (int)xs);
  s->xnn_ready = true;
  return ONNXI_OK;
}

static onnxi_status softmax_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  softmax_state *s = state;
  size_t count = s->outer * s->n * s->inner;
  if (count == 0) return ONNXI_OK;
  if (s->xnn_ready) {
    enum xnn_status xs = xnn_run_operator(s->xnn, ctx->threadpool);
    if (xs != xnn_status_success)
      return op_error(ctx, ONNXI_ERR_RUNTIME, "XNNPACK softmax failed (status %d)", (int)xs);
    return ONNXI_OK;
  }
  if (s->dtype == ONNXI_DTYPE_FLOAT || s->dtype == ONNXI_DTYPE_DOUBLE) {
    softmax_own(s, in[0]->data, out[0]->data, s->dtype == ONNXI_DTYPE_DOUBLE, ctx->threadpool);
    return ONNXI_OK;
  }
  const uint16_t *x = in[0]->data;
  uint16_t *y = out[0]->data;
  bool f16 = s->dtype == ONNXI_DTYPE_FLOAT16;
  for (size_t i = 0; i < count; i++)
    s->scratch[i] = f16 ? op_f16_to_f32(x[i]) : op_bf16_to_f32(x[i]);
  softmax_own(s, s->scratch, s->scratch, false, ctx->threadpool);
  for (size_t i = 0; i < count; i++)
    y[i] = f16 ? op_f32_to_f16(s->scratch[i]) : op_f32_to_bf16(s->scratch[i]);
  return ONNXI_OK;
}

static void softmax_release(void *state) {
  softmax_state *s = state;
  if (s->xnn) xnn_delete_operator(s->xnn);
  free(s->scratch);
  s->xnn = NULL;
  s->scratch = NULL;
}

const op_kernel op_softmax = {.name = "Softmax",
                              .state_size = sizeof(softmax_state),
                              .flags = OP_KERNEL_INPLACE,
                              .init = softmax_init,
                              .layout = softmax_layout,
                              .infer = softmax_infer,
                              .setup = softmax_setup,
                              .run = softmax_run,
                              .release = softmax_release};

const op_kernel op_log_softmax = {.name = "LogSoftmax",
                                  .state_size = sizeof(softmax_state),
                                  .flags = OP_KERNEL_INPLACE,
                                  .init = softmax_init,
                                  .layout = softmax_layout,
                                  .infer = softmax_infer,
                                  .setup = softmax_setup,
                                  .run = softmax_run,
                                  .release = softmax_release};

/* --- Hardmax: 1 at the first maximum of each group, 0 elsewhere --------------------------- */

static double hardmax_get(int32_t dt, const void *p, size_t i) {
  switch (dt) {
  case ONNXI_DTYPE_FLOAT: return ((const float *)p)[i];
  case ONNXI_DTYPE_DOUBLE: return ((const double *)p)[i];
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(((const uint16_t *)p)[i]);
  default: return op_bf16_to_f32(((const uint16_t *)p)[i]);
  }
}

static void hardmax_put(int32_t dt, void *p, size_t i, bool one) {
  switch (dt) {
  case ONNXI_DTYPE_FLOAT: ((float *)p)[i] = one; break;
  case ONNXI_DTYPE_DOUBLE: ((double *)p)[i] = one; break;
  case ONNXI_DTYPE_FLOAT16: ((uint16_t *)p)[i] = one ? 0x3c00 : 0; break;
  default: ((uint16_t *)p)[i] = one ? 0x3f80 : 0; break;
  }
}

static onnxi_status hardmax_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                op_tensor *const *out, int n_out) {
  (void)ctx, (void)n_in, (void)n_out;
  const softmax_state *s = state;
  for (size_t o = 0; o < s->outer; o++) {
    for (size_t i = 0; i < s->inner; i++) {
      size_t base = o * s->n * s->inner + i, best = 0;
      double m = -INFINITY;
      for (size_t k = 0; k < s->n; k++) {
        double v = hardmax_get(s->dtype, in[0]->data, base + k * s->inner);
        if (v > m || (k == 0 && !(v <= m))) m = v, best = k; /* first maximum */
      }
      for (size_t k = 0; k < s->n; k++)
        hardmax_put(s->dtype, out[0]->data, base + k * s->inner, k == best);
    }
  }
  return ONNXI_OK;
}

/* PLAIN layout only (no layout hook): groups are logical rows. */
const op_kernel op_hardmax = {.name = "Hardmax",
                              .state_size = sizeof(softmax_state),
                              .init = softmax_init,
                              .infer = softmax_infer,
                              .run = hardmax_run,
                              .release = softmax_release};
