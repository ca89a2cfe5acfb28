/* BatchNormalization, InstanceNormalization and GroupNormalization (LayerNormalization: ops/transformer.c).
 *
 * Both reduce to y = x * a[n][c] + b[n][c] over an [N, C, spatial] tensor
 * stored either PLAIN (spatial contiguous per channel) or NHWC (channels
 * contiguous per pixel, the vectorised loop). BatchNormalization folds its
 * constant parameters into a and b once at init; InstanceNormalization
 * computes per-(n, c) statistics each run in two passes with double
 * accumulators. BatchNormalization's training mode normalises with the batch
 * statistics and also outputs the updated running mean and variance.
 * GroupNormalization pools the per-channel statistics of InstanceNormalization
 * over each group of channels, then applies per-channel scale and shift with
 * an optional fused clamp (pass groupnorm lowers PyTorch's export to it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conv_util.h" /* conv_clamp_parse: the fused output clamp */
#include "kernel.h"

/* --- shared ------------------------------------------------------------------------------ */

#define NORM_TILE_ELEMS 16384 /* elements per parallel task */
#define NORM_CBLOCK 64        /* channels per NHWC statistics task */

static bool norm_dtype_ok(int32_t dtype) {
  return dtype == ONNXI_DTYPE_FLOAT || dtype == ONNXI_DTYPE_DOUBLE;
}

static bool norm_param_dtype_ok(int32_t dtype) {
  return dtype == ONNXI_DTYPE_FLOAT || dtype == ONNXI_DTYPE_DOUBLE ||
         dtype == ONNXI_DTYPE_FLOAT16 || dtype == ONNXI_DTYPE_BFLOAT16;
}

static double norm_param_at(int32_t dtype, const void *p, int64_t i) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: return ((const float *)p)[i];
  case ONNXI_DTYPE_DOUBLE: return ((const double *)p)[i];
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(((const uint16_t *)p)[i]);
  case ONNXI_DTYPE_BFLOAT16: return op_bf16_to_f32(((const uint16_t *)p)[i]);
  default: return 0;
  }
}

static void norm_param_store(int32_t dtype, void *p, int64_t i, double v) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: ((float *)p)[i] = (float)v; break;
  case ONNXI_DTYPE_DOUBLE: ((double *)p)[i] = v; break;
  case ONNXI_DTYPE_FLOAT16: ((uint16_t *)p)[i] = op_f32_to_f16((float)v); break;
  case ONNXI_DTYPE_BFLOAT16: ((uint16_t *)p)[i] = op_f32_to_bf16((float)v); break;
  default: break;
  }
}

/* The [N, C, S] view of x: NHWC puts C innermost. */
typedef struct norm_shape {
  int64_t n, c, s;
  bool chan_last;
} norm_shape;

static void norm_shape_of(const op_tensor *x, int64_t c_count, norm_shape *sh) {
  sh->n = x->dims[0];
  sh->c = c_count;
  int64_t count = 1;
  for (int d = 0; d < x->rank; d++) count *= x->dims[d];
  sh->s = sh->n && c_count ? count / (sh->n * c_count) : 0;
  sh->chan_last = x->rank == 4 && x->layout == IR_LAYOUT_NHWC;
}

/* y = (x - m[n*ab_n + c]) * a[...] + b[...] over rows [r0, r0 + nr): a row
 * is one (n, c) plane (PLAIN) or one pixel of C channels (NHWC). Centering
 * first keeps precision when the mean is large against the deviation. */
typedef struct norm_apply_args {
  norm_shape sh;
  const void *x;
  void *y;
  const void *m, *a, *b;
  int64_t ab_n; /* 0: shared by every n (BatchNormalization) */
} norm_apply_args;

#define NORM_APPLY_DEFINE(NAME, T)                                                                 \
  static void NAME(void *ctx, size_t r0, size_t nr) {                                              \
    const norm_apply_args *g = ctx;                                                                \
    const T *x = g->x, *m = g->m, *a = g->a, *b = g->b;                                            \
    T *y = g->y;                                                                                   \
    int64_t C = g->sh.c, S = g->sh.s;                                                              \
    for (int64_t r = (int64_t)r0; r < (int64_t)(r0 + nr); r++) {                                   \
      if (g->sh.chan_last) {                                                                       \
        int64_t n = r / S, o = r * C;                                                              \
        const T *restrict mr = m + n * g->ab_n, *restrict ar = a + n * g->ab_n;                    \
        const T *restrict br = b + n * g->ab_n;                                                    \
        const T *restrict xr = x + o;                                                              \
        T *restrict yr = y + o;                                                                    \
        for (int64_t c = 0; c < C; c++) yr[c] = (xr[c] - mr[c]) * ar[c] + br[c];                   \
      } else {                                                                                     \
        int64_t n = r / C, c = r % C, o = r * S;                                                   \
        T mv = m[n * g->ab_n + c], av = a[n * g->ab_n + c], bv = b[n * g->ab_n + c];               \
        const T *restrict xr = x + o;                                                              \
        T *restrict yr = y + o;                                                                    \
        for (int64_t s = 0; s < S; s++) yr[s] = (xr[s] - mv) * av + bv;                            \
      }                                                                                            \
    }                                                                                              \
  }
NORM_APPLY_DEFINE(norm_apply_f32, float)
NORM_APPLY_DEFINE(norm_apply_f64, double)

static void norm_apply(int32_t dtype, norm_apply_args *g, pthreadpool_t pool) {
  int64_t rows = g->sh.chan_last ? g->sh.n * g->sh.s : g->sh.n * g->sh.c;
  int64_t row_len = g->sh.chan_last ? g->sh.c : g->sh.s;
  if (rows == 0 || row_len == 0) return;
  size_t tile = (size_t)(NORM_TILE_ELEMS / row_len);
  if (!tile) tile = 1;
  pthreadpool_parallelize_1d_tile_1d(
      pool, dtype == ONNXI_DTYPE_FLOAT ? norm_apply_f32 : norm_apply_f64, g, (size_t)rows, tile, 0);
}

/* Per-(n, c) mean and variance (population) over S, or over N and S when
 * `over_batch` (BatchNormalization training): two passes in double. */
typedef struct norm_stats_args {
  norm_shape sh;
  const void *x;
  double *mean, *var; /* [N][C], or [C] when over_batch */
  bool over_batch;
} norm_stats_args;

/* One (n, c) plane, PLAIN layout; or the channels [c0, c0 + nc) of image n, NHWC. */
#define NORM_STATS_DEFINE(NAME, T)                                                                 \
  static void NAME(const norm_stats_args *g, int64_t n, int64_t c0, int64_t nc, double *sum,       \
                   double *sq) {                                                                   \
    const T *x = g->x;                                                                             \
    int64_t C = g->sh.c, S = g->sh.s;                                                              \
    if (!g->sh.chan_last) {                                                                        \
      const T *xr = x + (n * C + c0) * S;                                                          \
      double s = 0, q = 0;                                                                         \
      for (int64_t i = 0; i < S; i++) s += xr[i];                                                  \
      double m = S ? s / (double)S : 0;                                                            \
      for (int64_t i = 0; i < S; i++) q += ((double)xr[i] - m) * ((double)xr[i] - m);              \
      sum[0] += s, sq[0] += q;                                                                     \
      return;                                                                                      \
    }                                                                                              \
    double acc[NORM_CBLOCK] = {0}, m[NORM_CBLOCK];                                                 \
    for (int64_t p = 0; p < S; p++) {                                                              \
      const T *xr = x + (n * S + p) * C + c0;                                                      \
      for (int64_t c = 0; c < nc; c++) acc[c] += xr[c];                                            \
    }                                                                                              \
    for (int64_t c = 0; c < nc; c++)                                                               \
      m[c] = S ? acc[c] / (double)S : 0, sum[c] += acc[c], acc[c] = 0;                             \
    for (int64_t p = 0; p < S; p++) {                                                              \
      const T *xr = x + (n * S + p) * C + c0;                                                      \
      for (int64_t c = 0; c < nc; c++) acc[c] += ((double)xr[c] - m[c]) * ((double)xr[c] - m[c]);  \
    }                                                                                              \
    for (int64_t c = 0; c < nc; c++) sq[c] += acc[c];                                              \
  }
NORM_STATS_DEFINE(norm_stats_f32, float)
NORM_STATS_DEFINE(norm_stats_f64, double)

static void norm_stats_block(const norm_stats_args *g, int32_t dtype, int64_t n, int64_t c0,
                             int64_t nc, double *sum, double *sq) {
  if (dtype == ONNXI_DTYPE_FLOAT)
    norm_stats_f32(g, n, c0, nc, sum, sq);
  else
    norm_stats_f64(g, n, c0, nc, sum, sq);
}

typedef struct norm_stats_task_args {
  norm_stats_args g;
  int32_t dtype;
} norm_stats_task_args;

/* Instance statistics: task (n, channel block). */
static void norm_stats_task(void *ctx, size_t n, size_t c0, size_t nc) {
  const norm_stats_task_args *t = ctx;
  const norm_stats_args *g = &t->g;
  int64_t C = g->sh.c, S = g->sh.s;
  double *mean = g->mean + (int64_t)n * C, *var = g->var + (int64_t)n * C;
  for (size_t c = c0; c < c0 + nc; c++) mean[c] = var[c] = 0;
  if (g->sh.chan_last) {
    norm_stats_block(g, t->dtype, (int64_t)n, (int64_t)c0, (int64_t)nc, mean + c0, var + c0);
  } else {
    for (size_t c = c0; c < c0 + nc; c++)
      norm_stats_block(g, t->dtype, (int64_t)n, (int64_t)c, 1, mean + c, var + c);
  }
  for (size_t c = c0; c < c0 + nc; c++) {
    mean[c] = S ? mean[c] / (double)S : 0;
    var[c] = S ? var[c] / (double)S : 0;
  }
}

static void norm_stats_instance(int32_t dtype, const norm_stats_args *g, pthreadpool_t pool) {
  norm_stats_task_args t = {*g, dtype};
  if (g->sh.n == 0 || g->sh.c == 0) return;
  pthreadpool_parallelize_2d_tile_1d(pool, norm_stats_task, &t, (size_t)g->sh.n, (size_t)g->sh.c,
                                     g->sh.chan_last ? NORM_CBLOCK : 1, 0);
}

/* Batch statistics over N and S per channel (BatchNormalization training):
 * per-image means and squared deviations pooled with Chan's formula. */
static void norm_stats_batch(int32_t dtype, const norm_stats_args *g) {
  int64_t N = g->sh.n, C = g->sh.c, S = g->sh.s;
  for (int64_t c = 0; c < C; c++) g->mean[c] = g->var[c] = 0;
  if (N * S == 0) return;
  for (int64_t c0 = 0; c0 < C; c0 += NORM_CBLOCK) {
    int64_t nc = C - c0 < NORM_CBLOCK ? C - c0 : NORM_CBLOCK;
    double *mean = g->mean + c0, *m2 = g->var + c0;
    for (int64_t n = 0; n < N; n++) {
      double sum[NORM_CBLOCK] = {0}, sq[NORM_CBLOCK] = {0};
      if (g->sh.chan_last)
        norm_stats_block(g, dtype, n, c0, nc, sum, sq);
      else
        for (int64_t c = 0; c < nc; c++) norm_stats_block(g, dtype, n, c0 + c, 1, sum + c, sq + c);
      double seen = (double)(n * S), total = (double)((n + 1) * S);
      for (int64_t c = 0; c < nc; c++) {
        double d = sum[c] / (double)S - mean[c];
        mean[c] += d * (double)S / total;
        m2[c] += sq[c] + d * d * seen * (double)S / total;
      }
    }
  }
  for (int64_t c = 0; c < C; c++) g->var[c] /= (double)(N * S);
}

static onnxi_status norm_alloc(const op_context *ctx, void **buf, size_t *cap, size_t bytes) {
  if (bytes <= *cap) return ONNXI_OK;
  free(*buf);
  *buf = malloc(bytes);
  *cap = *buf ? bytes : 0;
  if (!*buf)
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for %zu bytes of scratch", bytes);
  return ONNXI_OK;
}

/* --- BatchNormalization ------------------------------------------------------------------- */

typedef struct bn_state {
  float eps, momentum;
  bool spatial;
  bool training;
  double *fold; /* m[C], a[C], b[C] from constant parameters (init) */
  int64_t fold_c;
  void *ab; /* m[C], a[C], b[C] in X's dtype */
  size_t ab_cap;
  double *stats; /* batch mean[C], var[C] (training) */
  size_t stats_cap;
  double *tmp; /* m[C], a[C], b[C] computed at run time */
  size_t tmp_cap;
} bn_state;

/* m = mean, a = scale / sqrt(var + eps), b = bias: out = (x - m) * a + b. */
static void bn_fold(const bn_state *s, int64_t C, int32_t const *dt, const void *const *p,
                    const double *mean, const double *var, double *mab) {
  for (int64_t c = 0; c < C; c++) {
    double v = var ? var[c] : norm_param_at(dt[4], p[4], c);
    mab[c] = mean ? mean[c] : norm_param_at(dt[3], p[3], c);
    mab[C + c] = norm_param_at(dt[1], p[1], c) / sqrt(v + (double)s->eps);
    mab[2 * C + c] = norm_param_at(dt[2], p[2], c);
  }
}

static onnxi_status bn_init_fold(op_context *ctx, bn_state *s) {
  int32_t dt[5] = {0};
  const void *p[5] = {NULL};
  int64_t C = -1;
  for (int k = 1; k < 5; k++) {
    const ir_value *v = op_input_const(ctx, k);
    if (!v || !norm_param_dtype_ok(v->dtype) || v->shape.rank < 1) return ONNXI_OK;
    int64_t count = 1;
    for (int d = 0; d < v->shape.rank; d++) count *= v->shape.dims[d].value;
    if (C >= 0 && count != C) return ONNXI_OK; /* infer reports it */
    C = count;
    dt[k] = v->dtype;
    p[k] = v->data;
  }
  s->fold = malloc(sizeof(double) * (size_t)(3 * C + 1));
  if (!s->fold) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory folding parameters");
  s->fold_c = C;
  bn_fold(s, C, dt, p, NULL, NULL, s->fold);
  return ONNXI_OK;
}

static onnxi_status bn_init(op_context *ctx, void *state) {
  bn_state *s = state;
  int64_t spatial = 1, training = 0;
  onnxi_status st = op_attr_float(ctx, "epsilon", 1e-5f, &s->eps);
  if (st == ONNXI_OK) st = op_attr_float(ctx, "momentum", 0.9f, &s->momentum);
  if (st == ONNXI_OK && ctx->opset < 9) st = op_attr_int(ctx, "spatial", 1, &spatial);
  if (st == ONNXI_OK && ctx->opset >= 14) st = op_attr_int(ctx, "training_mode", 0, &training);
  if (st != ONNXI_OK) return st;
  if (!(s->eps >= 0))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'epsilon' must be >= 0, not %g",
                    (double)s->eps);
  if (training != 0 && training != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'training_mode' must be 0 or 1, not %lld", (long long)training);
  s->spatial = spatial != 0;
  int n_out = ctx->node->n_outputs;
  while (n_out > 1 && ctx->node->outputs[n_out - 1] == IR_NONE) n_out--;
  /* before opset 14 the extra outputs are what selects training */
  s->training = ctx->opset >= 14 ? training == 1 : n_out > 1;
  if (!s->training && n_out > 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "%d outputs in inference mode (only Y)", n_out);
  if (ctx->node->n_inputs != 5 || op_input_count(ctx) != 5)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "expects 5 inputs (X, scale, B, mean, var), got %d", op_input_count(ctx));
  for (int k = 0; k < 5; k++)
    if (ctx->node->inputs[k] == IR_NONE)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input %d is missing", k);
  return s->training ? ONNXI_OK : bn_init_fold(ctx, s);
}

static ir_layout bn_layout(const op_context *ctx, const void *state, op_tensor *const *in,
                           int n_in) {
  const bn_state *s = state;
  (void)ctx, (void)n_in;
  return s->spatial && norm_dtype_ok(in[0]->dtype) ? IR_LAYOUT_NHWC : IR_LAYOUT_PLAIN;
}

static int64_t bn_channels(const bn_state *s, const op_tensor *x) {
  if (s->spatial) return x->dims[1];
  int64_t c = 1;
  for (int d = 1; d < x->rank; d++) c *= x->dims[d];
  return c;
}

static onnxi_status bn_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  bn_state *s = state;
  (void)n_in;
  const op_tensor *x = in[0];
  if (x->rank < 2)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input X must have rank >= 2 (N, C, ...), got %d",
                    x->rank);
  if (!norm_dtype_ok(x->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input X dtype %d is not supported", x->dtype);
  int64_t C = bn_channels(s, x);
  static const char *names[5] = {"X", "scale", "B", "input_mean", "input_var"};
  for (int k = 1; k < 5; k++) {
    if (!norm_param_dtype_ok(in[k]->dtype))
      return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input '%s' dtype %d is not supported", names[k],
                      in[k]->dtype);
    if (in[k]->count != C || (s->spatial && in[k]->rank != 1))
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "input '%s' has %lld elements, expected %lld (one per channel)", names[k],
                      (long long)in[k]->count, (long long)C);
  }
  out[0]->dtype = x->dtype;
  out[0]->rank = x->rank;
  memcpy(out[0]->dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  out[0]->layout = x->layout;
  for (int k = 1; k < n_out; k++) { /* running/saved mean and variance */
    if (!out[k]) continue;
    out[k]->dtype = in[(k % 2) ? 3 : 4]->dtype;
    out[k]->rank = 1;
    out[k]->dims[0] = C;
    out[k]->layout = IR_LAYOUT_PLAIN;
  }
  return ONNXI_OK;
}

static onnxi_status bn_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  bn_state *s = state;
  (void)n_in, (void)out, (void)n_out;
  int64_t C = bn_channels(s, in[0]);
  size_t es = ir_dtype_size(in[0]->dtype);
  onnxi_status st = norm_alloc(ctx, &s->ab, &s->ab_cap, es * (size_t)(3 * C + 1));
  if (st == ONNXI_OK && s->training)
    st = norm_alloc(ctx, (void **)&s->stats, &s->stats_cap, sizeof(double) * (size_t)(2 * C + 1));
  if (st == ONNXI_OK && (!s->fold || s->fold_c != C))
    st = norm_alloc(ctx, (void **)&s->tmp, &s->tmp_cap, sizeof(double) * (size_t)(3 * C + 1));
  if (st != ONNXI_OK || !s->fold || s->fold_c != C) return st;
  for (int64_t i = 0; i < 3 * C; i++) norm_param_store(in[0]->dtype, s->ab, i, s->fold[i]);
  return ONNXI_OK;
}

static onnxi_status bn_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                           op_tensor *const *out, int n_out) {
  bn_state *s = state;
  (void)n_in;
  const op_tensor *x = in[0];
  int64_t C = bn_channels(s, x);
  norm_shape sh;
  norm_shape_of(x, C, &sh);
  int32_t dt[5];
  const void *p[5];
  for (int k = 0; k < 5; k++) dt[k] = in[k]->dtype, p[k] = in[k]->data;
  const double *mean = NULL, *var = NULL;
  if (s->training) {
    norm_stats_args g = {sh, x->data, s->stats, s->stats + C, true};
    norm_stats_batch(x->dtype, &g);
    mean = g.mean, var = g.var;
  }
  if (!s->fold || s->fold_c != C) { /* parameters known only now */
    bn_fold(s, C, dt, p, mean, var, s->tmp);
    for (int64_t i = 0; i < 3 * C; i++) norm_param_store(x->dtype, s->ab, i, s->tmp[i]);
  }
  size_t es = ir_dtype_size(x->dtype);
  const char *ab = s->ab;
  norm_apply_args g = {
      sh, x->data, out[0]->data, ab, ab + (size_t)C * es, ab + (size_t)(2 * C) * es, 0};
  norm_apply(x->dtype, &g, ctx->threadpool);
  for (int k = 1; k < n_out && s->training; k++) {
    if (!out[k]) continue;
    int src = (k % 2) ? 3 : 4; /* 1, 3: means; 2, 4: variances */
    const double *batch = src == 3 ? mean : var;
    for (int64_t c = 0; c < C; c++) {
      double v =
          k <= 2 ? norm_param_at(dt[src], p[src], c) * s->momentum + batch[c] * (1.0 - s->momentum)
                 : batch[c];
      norm_param_store(out[k]->dtype, out[k]->data, c, v);
    }
  }
  return ONNXI_OK;
}

static void bn_release(void *state) {
  bn_state *s = state;
  free(s->fold);
  free(s->ab);
  free(s->stats);
  free(s->tmp);
}

const op_kernel op_batch_normalization = {
    .name = "BatchNormalization",
    .state_size = sizeof(bn_state),
    .flags = OP_KERNEL_INPLACE,
    .init = bn_init,
    .layout = bn_layout,
    .infer = bn_infer,
    .setup = bn_setup,
    .run = bn_run,
    .release = bn_release,
};

/* --- InstanceNormalization ------------------------------------------------------------------ */

typedef struct in_state {
  float eps;
  double *stats; /* mean[N*C], var[N*C] */
  size_t stats_cap;
  void *ab; /* m[N*C], a[N*C], b[N*C] in X's dtype */
  size_t ab_cap;
} in_state;

static onnxi_status in_init(op_context *ctx, void *state) {
  in_state *s = state;
  onnxi_status st = op_attr_float(ctx, "epsilon", 1e-5f, &s->eps);
  if (st != ONNXI_OK) return st;
  if (!(s->eps >= 0))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'epsilon' must be >= 0, not %g",
                    (double)s->eps);
  if (op_input_count(ctx) != 3 || ctx->node->inputs[0] == IR_NONE ||
      ctx->node->inputs[1] == IR_NONE)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects 3 inputs (input, scale, B), got %d",
                    op_input_count(ctx));
  return ONNXI_OK;
}

static ir_layout in_layout(const op_context *ctx, const void *state, op_tensor *const *in,
                           int n_in) {
  (void)ctx, (void)state, (void)n_in;
  return norm_dtype_ok(in[0]->dtype) ? IR_LAYOUT_NHWC : IR_LAYOUT_PLAIN;
}

static onnxi_status in_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  (void)state, (void)n_in, (void)n_out;
  const op_tensor *x = in[0];
  if (x->rank < 3)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "input must have rank >= 3 (N, C, D1, ...), got %d", x->rank);
  if (!norm_dtype_ok(x->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input dtype %d is not supported", x->dtype);
  for (int k = 1; k < 3; k++) {
    const char *name = k == 1 ? "scale" : "B";
    if (!norm_param_dtype_ok(in[k]->dtype))
      return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input '%s' dtype %d is not supported", name,
                      in[k]->dtype);
    if (in[k]->rank != 1 || in[k]->dims[0] != x->dims[1])
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input '%s' must be a vector of %lld channels",
                      name, (long long)x->dims[1]);
  }
  out[0]->dtype = x->dtype;
  out[0]->rank = x->rank;
  memcpy(out[0]->dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  out[0]->layout = x->layout;
  return ONNXI_OK;
}

static onnxi_status in_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  in_state *s = state;
  (void)n_in, (void)out, (void)n_out;
  size_t nc = (size_t)(in[0]->dims[0] * in[0]->dims[1]);
  onnxi_status st =
      norm_alloc(ctx, (void **)&s->stats, &s->stats_cap, sizeof(double) * (2 * nc + 1));
  if (st == ONNXI_OK)
    st = norm_alloc(ctx, &s->ab, &s->ab_cap, ir_dtype_size(in[0]->dtype) * (3 * nc + 1));
  return st;
}

static onnxi_status in_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                           op_tensor *const *out, int n_out) {
  in_state *s = state;
  (void)n_in, (void)n_out;
  const op_tensor *x = in[0];
  norm_shape sh;
  norm_shape_of(x, x->dims[1], &sh);
  int64_t nc = sh.n * sh.c;
  norm_stats_args g = {sh, x->data, s->stats, s->stats + nc, false};
  norm_stats_instance(x->dtype, &g, ctx->threadpool);
  for (int64_t i = 0; i < nc; i++) {
    int64_t c = i % sh.c;
    norm_param_store(x->dtype, s->ab, i, g.mean[i]);
    norm_param_store(x->dtype, s->ab, nc + i,
                     norm_param_at(in[1]->dtype, in[1]->data, c) / sqrt(g.var[i] + (double)s->eps));
    norm_param_store(x->dtype, s->ab, 2 * nc + i, norm_param_at(in[2]->dtype, in[2]->data, c));
  }
  size_t es = ir_dtype_size(x->dtype);
  const char *ab = s->ab;
  norm_apply_args ga = {
      sh, x->data, out[0]->data, ab, ab + (size_t)nc * es, ab + (size_t)(2 * nc) * es, sh.c};
  norm_apply(x->dtype, &ga, ctx->threadpool);
  return ONNXI_OK;
}

static void in_release(void *state) {
  in_state *s = state;
  free(s->stats);
  free(s->ab);
}

const op_kernel op_instance_normalization = {
    .name = "InstanceNormalization",
    .state_size = sizeof(in_state),
    .flags = OP_KERNEL_INPLACE,
    .init = in_init,
    .layout = in_layout,
    .infer = in_infer,
    .setup = in_setup,
    .run = in_run,
    .release = in_release,
};

/* --- GroupNormalization --------------------------------------------------------------------- */

/* ONNX GroupNormalization (opset 18: scale and bias per group; opset 21: per
 * channel; both accepted, told apart by length, which agree when G == C) and
 * the node pass groupnorm lowers PyTorch's export to. Statistics come from
 * the NHWC-friendly per-(n, c) pass of InstanceNormalization pooled over the
 * C/G channels of each group (equal counts: group variance = mean of the
 * channel variances + variance of the channel means), so every task reads
 * contiguous channel blocks instead of striding over one group's channels. */
typedef struct gn_state {
  float eps, lo, hi; /* lo/hi: fused clamp (onnxi.clamp_min/max) */
  int64_t groups;
  int64_t rank; /* onnxi.input_rank: the input rank the lowering was proved for, or 0 */
  double *stats; /* mean[N*C], var[N*C] */
  size_t stats_cap;
  void *ab; /* m[N*C], a[N*C], b[N*C] in X's dtype */
  size_t ab_cap;
} gn_state;

static onnxi_status gn_init(op_context *ctx, void *state) {
  gn_state *s = state;
  onnxi_status st = op_attr_float(ctx, "epsilon", 1e-5f, &s->eps);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "num_groups", 0, &s->groups);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "onnxi.input_rank", 0, &s->rank);
  if (st == ONNXI_OK) st = conv_clamp_parse(ctx, &s->lo, &s->hi);
  if (st != ONNXI_OK) return st;
  if (!(s->eps >= 0))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'epsilon' must be >= 0, not %g",
                    (double)s->eps);
  if (s->groups <= 0)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'num_groups' must be given and > 0, not %lld", (long long)s->groups);
  if (op_input_count(ctx) != 3 || ctx->node->inputs[1] == IR_NONE ||
      ctx->node->inputs[2] == IR_NONE)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects 3 inputs (X, scale, bias), got %d",
                    op_input_count(ctx));
  return ONNXI_OK;
}

static onnxi_status gn_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  const gn_state *s = state;
  (void)n_in, (void)n_out;
  const op_tensor *x = in[0];
  if (x->rank < 2)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input X must have rank >= 2 (N, C, ...), got %d",
                    x->rank);
  if (s->rank && x->rank != s->rank)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "input X has rank %d, but the group norm was lowered for rank %lld "
                    "(load with pass groupnorm disabled)", x->rank, (long long)s->rank);
  if (!norm_dtype_ok(x->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input X dtype %d is not supported", x->dtype);
  int64_t C = x->dims[1];
  if (C % s->groups != 0)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "num_groups %lld does not divide %lld channels",
                    (long long)s->groups, (long long)C);
  for (int k = 1; k < 3; k++) {
    const char *name = k == 1 ? "scale" : "bias";
    if (!norm_param_dtype_ok(in[k]->dtype))
      return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input '%s' dtype %d is not supported", name,
                      in[k]->dtype);
    /* a lowered node (rank recorded) always has per-channel parameters */
    if (in[k]->rank != 1 || (in[k]->dims[0] != C && (s->rank || in[k]->dims[0] != s->groups)))
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "input '%s' must be a vector of %lld channels or %lld groups", name,
                      (long long)C, (long long)s->groups);
  }
  op_tensor_like(out[0], x);
  return ONNXI_OK;
}

static onnxi_status gn_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  gn_state *s = state;
  (void)n_in, (void)out, (void)n_out;
  size_t nc = (size_t)(in[0]->dims[0] * in[0]->dims[1]);
  onnxi_status st =
      norm_alloc(ctx, (void **)&s->stats, &s->stats_cap, sizeof(double) * (2 * nc + 1));
  if (st == ONNXI_OK)
    st = norm_alloc(ctx, &s->ab, &s->ab_cap, ir_dtype_size(in[0]->dtype) * (3 * nc + 1));
  return st;
}

/* Pools channel statistics into group statistics and writes m, a, b per (n, c). */
static void gn_fold(const gn_state *s, const norm_shape *sh, const norm_stats_args *g,
                    const op_tensor *scale, const op_tensor *bias, int32_t dtype) {
  int64_t C = sh->c, cg = C / s->groups, nc = sh->n * C;
  for (int64_t n = 0; n < sh->n; n++)
    for (int64_t c0 = 0; c0 < C; c0 += cg) {
      const double *mean = g->mean + n * C + c0, *var = g->var + n * C + c0;
      double m = 0, v = 0;
      for (int64_t c = 0; c < cg; c++) m += mean[c];
      m /= (double)cg;
      for (int64_t c = 0; c < cg; c++) v += var[c] + (mean[c] - m) * (mean[c] - m);
      double r = 1.0 / sqrt(v / (double)cg + (double)s->eps);
      for (int64_t c = c0; c < c0 + cg; c++) {
        int64_t ks = scale->dims[0] == C ? c : c / cg, kb = bias->dims[0] == C ? c : c / cg;
        norm_param_store(dtype, s->ab, n * C + c, m);
        norm_param_store(dtype, s->ab, nc + n * C + c,
                         norm_param_at(scale->dtype, scale->data, ks) * r);
        norm_param_store(dtype, s->ab, 2 * nc + n * C + c,
                         norm_param_at(bias->dtype, bias->data, kb));
      }
    }
}

typedef struct gn_apply_args {
  norm_apply_args g;
  int32_t dtype;
  float lo, hi;
} gn_apply_args;

/* The shared apply, then the clamp on the rows just written (still in cache). */
static void gn_apply_task(void *ctx, size_t r0, size_t nr) {
  gn_apply_args *t = ctx;
  int64_t row_len = t->g.sh.chan_last ? t->g.sh.c : t->g.sh.s;
  size_t i0 = r0 * (size_t)row_len, i1 = (r0 + nr) * (size_t)row_len;
  if (t->dtype == ONNXI_DTYPE_FLOAT) {
    norm_apply_f32(&t->g, r0, nr);
    float *y = t->g.y;
    if (t->lo > -INFINITY)
      for (size_t i = i0; i < i1; i++) y[i] = y[i] < t->lo ? t->lo : y[i];
    if (t->hi < INFINITY)
      for (size_t i = i0; i < i1; i++) y[i] = y[i] > t->hi ? t->hi : y[i];
  } else {
    norm_apply_f64(&t->g, r0, nr);
    double *y = t->g.y;
    for (size_t i = i0; i < i1; i++) y[i] = y[i] < t->lo ? t->lo : y[i] > t->hi ? t->hi : y[i];
  }
}

static onnxi_status gn_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                           op_tensor *const *out, int n_out) {
  gn_state *s = state;
  (void)n_in, (void)n_out;
  const op_tensor *x = in[0];
  norm_shape sh;
  norm_shape_of(x, x->dims[1], &sh);
  int64_t nc = sh.n * sh.c;
  norm_stats_args g = {sh, x->data, s->stats, s->stats + nc, false};
  norm_stats_instance(x->dtype, &g, ctx->threadpool);
  gn_fold(s, &sh, &g, in[1], in[2], x->dtype);
  size_t es = ir_dtype_size(x->dtype);
  const char *ab = s->ab;
  gn_apply_args t = {
      {sh, x->data, out[0]->data, ab, ab + (size_t)nc * es, ab + (size_t)(2 * nc) * es, sh.c},
      x->dtype, s->lo, s->hi};
  int64_t rows = sh.chan_last ? sh.n * sh.s : nc, row_len = sh.chan_last ? sh.c : sh.s;
  if (rows == 0 || row_len == 0) return ONNXI_OK;
  size_t tile = (size_t)(NORM_TILE_ELEMS / row_len);
  pthreadpool_parallelize_1d_tile_1d(ctx->threadpool, gn_apply_task, &t, (size_t)rows,
                                     tile ? tile : 1, 0);
  return ONNXI_OK;
}

static void gn_release(void *state) {
  gn_state *s = state;
  free(s->stats);
  free(s->ab);
}

const op_kernel op_group_normalization = {
    .name = "GroupNormalization",
    .state_size = sizeof(gn_state),
    .flags = OP_KERNEL_INPLACE,
    .init = gn_init,
    .layout = in_layout,
    .infer = gn_infer,
    .setup = gn_setup,
    .run = gn_run,
    .release = gn_release,
};
