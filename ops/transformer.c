/* The two transformer ops that exporters spell as chains of small nodes:
 * LayerNormalization (ONNX opset 17) and Gelu (ONNX opset 20). The passes
 * layernorm and gelu rewrite torch 1.13's decompositions (ReduceMean, Sub,
 * Pow, Add, Sqrt, Div, Mul, Add and Div, Erf, Add, Mul, Mul) into them, so a
 * normalization or an activation is one pass over memory instead of up to
 * nine. float32 only (the decompositions run the other types).
 *
 * LayerNormalization normalizes each row of the trailing dims X.shape[axis:]
 * (contiguous in plain layout, which the kernel asks for):
 * y = (x - mean) / sqrt(var + epsilon) * Scale + B, with mean and the biased
 * variance of the row, computed in float32 (stash_type 1). The optional
 * outputs Mean and InvStdDev have X's dims with those from axis on set to 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "unary_math.h"

/* Rows per pthreadpool task: enough work to amortize a dispatch. */
static size_t tr_tile(int64_t row_len) {
  int64_t t = 16384 / (row_len > 0 ? row_len : 1);
  return t > 1 ? (size_t)t : 1;
}

/* --- LayerNormalization ------------------------------------------------------------------ */

typedef struct ln_state {
  int64_t axis;
  float eps;
  int64_t rows, len; /* plan shapes */
} ln_state;

typedef struct ln_job {
  const float *x, *scale, *bias;
  float *y, *mean, *inv_std; /* the last two optional */
  int64_t len;
  float eps;
} ln_job;

/* Sum of n floats in 8 independent lanes (vectorizes without reassociation). */
static float ln_sum(const float *x, int64_t n) {
  float acc[8] = {0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) acc[l] += x[i + l];
  float s = 0;
  for (; i < n; i++) s += x[i];
  for (int l = 0; l < 8; l++) s += acc[l];
  return s;
}

static float ln_sq_dev_sum(const float *x, int64_t n, float mean) {
  float acc[8] = {0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) {
      float d = x[i + l] - mean;
      acc[l] += d * d;
    }
  float s = 0;
  for (; i < n; i++) s += (x[i] - mean) * (x[i] - mean);
  for (int l = 0; l < 8; l++) s += acc[l];
  return s;
}

static void ln_task(void *arg, size_t start, size_t count) {
  const ln_job *j = arg;
  int64_t n = j->len;
  for (size_t r = start; r < start + count; r++) {
    const float *x = j->x + (int64_t)r * n;
    float *y = j->y + (int64_t)r * n;
    float mean = ln_sum(x, n) / (float)n;
    float var = ln_sq_dev_sum(x, n, mean) / (float)n;
    float inv = 1.0f / sqrtf(var + j->eps);
    if (j->mean) j->mean[r] = mean;
    if (j->inv_std) j->inv_std[r] = inv;
    if (j->bias) {
      for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mean) * inv * j->scale[i] + j->bias[i];
    } else {
      for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mean) * inv * j->scale[i];
    }
  }
}

static onnxi_status ln_init(op_context *ctx, void *state) {
  ln_state *s = state;
  onnxi_status st = op_io_check(ctx, 2, 3, 1, 3);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "axis", -1, &s->axis);
  if (st == ONNXI_OK) st = op_attr_float(ctx, "epsilon", 1e-5f, &s->eps);
  if (st != ONNXI_OK) return st;
  int64_t stash;
  if (st == ONNXI_OK) st = op_attr_int(ctx, "stash_type", 1, &stash);
  if (st != ONNXI_OK) return st;
  if (stash != 1)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "attribute 'stash_type' %lld is not supported (1)",
                    (long long)stash);
  if (!(s->eps >= 0))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'epsilon' must be >= 0, not %g",
                    (double)s->eps);
  return ONNXI_OK;
}

/* Scale or B: float32 with one value per element of a normalized row. */
static onnxi_status ln_param_check(op_context *ctx, const op_tensor *p, const char *name,
                                   int64_t len) {
  if (p->dtype != ONNXI_DTYPE_FLOAT)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input '%s' dtype %d is not supported (float32)",
                    name, p->dtype);
  if (p->count != len)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED,
                    "input '%s' has %lld elements, expected one per normalized element (%lld)",
                    name, (long long)p->count, (long long)len);
  return ONNXI_OK;
}

static onnxi_status ln_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  ln_state *s = state;
  const op_tensor *x = in[0];
  if (x->dtype != ONNXI_DTYPE_FLOAT)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input dtype %d is not supported (float32)",
                    x->dtype);
  if (x->rank < 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input must have rank >= 1");
  int axis;
  onnxi_status st = op_axis_normalize(ctx, "attribute 'axis'", s->axis, x->rank, &axis);
  if (st != ONNXI_OK) return st;
  s->rows = 1;
  s->len = 1;
  for (int d = 0; d < x->rank; d++) *(d < axis ? &s->rows : &s->len) *= x->dims[d];
  for (int k = 1; k < n_in && st == ONNXI_OK; k++)
    if (in[k]) st = ln_param_check(ctx, in[k], k == 1 ? "Scale" : "B", s->len);
  if (st != ONNXI_OK) return st;
  op_tensor_like(out[0], x);
  out[0]->layout = IR_LAYOUT_PLAIN;
  for (int k = 1; k < n_out; k++) {
    if (!out[k]) continue;
    op_tensor_like(out[k], x);
    out[k]->layout = IR_LAYOUT_PLAIN;
    for (int d = axis; d < x->rank; d++) out[k]->dims[d] = 1;
  }
  return ONNXI_OK;
}

static onnxi_status ln_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                           op_tensor *const *out, int n_out) {
  ln_state *s = state;
  if (s->rows == 0) return ONNXI_OK;
  if (s->len == 0) { /* empty rows: Y is empty, their mean is NaN */
    for (int k = 1; k < n_out; k++)
      for (int64_t r = 0; out[k] && r < s->rows; r++) ((float *)out[k]->data)[r] = NAN;
    return ONNXI_OK;
  }
  ln_job j = {.x = in[0]->data,
              .scale = in[1]->data,
              .bias = n_in > 2 && in[2] ? in[2]->data : NULL,
              .y = out[0]->data,
              .mean = n_out > 1 && out[1] ? out[1]->data : NULL,
              .inv_std = n_out > 2 && out[2] ? out[2]->data : NULL,
              .len = s->len,
              .eps = s->eps};
  pthreadpool_parallelize_1d_tile_1d(ctx->threadpool, ln_task, &j, (size_t)s->rows,
                                     tr_tile(s->len), 0);
  return ONNXI_OK;
}

const op_kernel op_layer_normalization = {
    .name = "LayerNormalization",
    .state_size = sizeof(ln_state),
    .flags = OP_KERNEL_INPLACE,
    .init = ln_init,
    .infer = ln_infer,
    .run = ln_run,
};

/* --- Gelu ---------------------------------------------------------------------------------- */

typedef struct gelu_state {
  bool tanh_approx; /* approximate = "tanh" */
} gelu_state;

typedef struct gelu_job {
  const float *x;
  float *y;
  bool tanh_approx;
} gelu_job;

enum { GELU_BLOCK = 4096 };

/* x * Phi(x) = x/2 * erfc(-x / sqrt 2). Through erfc rather than 1 + erf:
 * for x < 0, 1 + erf(x / sqrt 2) cancels and an erf with 1e-7 absolute
 * error gives 1e-4 relative error at x = -3. erfc(z), z >= 0: Chebyshev
 * fit with fractional error < 1.2e-7 (Numerical Recipes' erfcc). */
static inline __attribute__((always_inline)) float gelu_erf(float x) {
  float z = um_absf(x) * 0.70710678f;
  z = um_self(z > 9.0f, 9.0f, z); /* erfc(9) ~ 4e-37: keeps exp() out of subnormals */
  float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  float ec = t * um_expf(p - z * z); /* erfc(|x| / sqrt 2) */
  return 0.5f * x * um_self(x < 0.0f, ec, 2.0f - ec);
}

static inline __attribute__((always_inline)) float gelu_tanh(float v) {
  return 0.5f * v * (1.0f + um_tanhf(0.7978845608f * (v + 0.044715f * v * v * v)));
}

/* Through fixed blocks copied in and out, as ops/unary.c does: the form
 * GCC's -O2 cost model vectorizes (the plain loop stays scalar and, on
 * real activations, 4x slower); inlining forced, as GCC otherwise calls
 * gelu_erf once per element. */
#define GELU_LOOP(name, f)                                                  \
  OP_VECTOR_LOOP static void name(const float *x, float *y, size_t n) {    \
    size_t i = 0;                                                           \
    for (; i + 16 <= n; i += 16) {                                          \
      float b[16];                                                          \
      memcpy(b, x + i, sizeof b);                                           \
      for (size_t l = 0; l < 16; l++) b[l] = f(b[l]);                       \
      memcpy(y + i, b, sizeof b);                                           \
    }                                                                       \
    for (; i < n; i++) y[i] = f(x[i]);                                      \
  }
GELU_LOOP(gelu_erf_loop, gelu_erf)
GELU_LOOP(gelu_tanh_loop, gelu_tanh)

static void gelu_task(void *arg, size_t start, size_t count) {
  const gelu_job *j = arg;
  (j->tanh_approx ? gelu_tanh_loop : gelu_erf_loop)(j->x + start, j->y + start, count);
}

static onnxi_status gelu_init(op_context *ctx, void *state) {
  gelu_state *s = state;
  const char *approx;
  onnxi_status st = op_io_check(ctx, 1, 1, 1, 1);
  if (st == ONNXI_OK) st = op_attr_string(ctx, "approximate", "none", &approx);
  if (st != ONNXI_OK) return st;
  if (strcmp(approx, "none") && strcmp(approx, "tanh"))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'approximate' must be \"none\" or \"tanh\", not \"%s\"", approx);
  s->tanh_approx = !strcmp(approx, "tanh");
  return ONNXI_OK;
}

static onnxi_status gelu_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  (void)state, (void)n_in, (void)n_out;
  if (in[0]->dtype != ONNXI_DTYPE_FLOAT)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input dtype %d is not supported (float32)",
                    in[0]->dtype);
  op_tensor_like(out[0], in[0]);
  return ONNXI_OK;
}

static onnxi_status gelu_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  const gelu_state *s = state;
  (void)n_in, (void)n_out;
  gelu_job j = {in[0]->data, out[0]->data, s->tanh_approx};
  if (in[0]->count > 0)
    pthreadpool_parallelize_1d_tile_1d(ctx->threadpool, gelu_task, &j, (size_t)in[0]->count,
                                       GELU_BLOCK, 0);
  return ONNXI_OK;
}

const op_kernel op_gelu = {
    .name = "Gelu",
    .state_size = sizeof(gelu_state),
    .flags = OP_KERNEL_INPLACE,
    .layout = op_layout_follow,
    .init = gelu_init,
    .infer = gelu_infer,
    .run = gelu_run,
};
