/* AveragePool, MaxPool, GlobalAveragePool, GlobalMaxPool and LRN.
 *
 * Float 2-D pools on NHWC tensors run through XNNPACK where its semantics
 * match ONNX: max pooling (ceil_mode becomes extra end padding), average
 * pooling that excludes padding (XNNPACK divides by the valid pixel count),
 * average pooling that counts padding as a depthwise convolution with
 * weights 1/(kh*kw), global average pooling (an own AVX-512 loop where the
 * CPU has it: pool_gap.h). Everything else (Indices
 * output, other dtypes, 1-D / 3-D, windows that leave the padded input) runs
 * one strided reference kernel per dtype, generated from one macro, that
 * reads NCHW or NHWC storage alike. Global pools are that kernel with the
 * window set to the whole input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xnnpack.h>

#include "conv_util.h"
#include "kernel.h"
#include "pool_gap.h"

typedef enum pool_kind { POOL_MAX, POOL_AVG, POOL_GLOBAL_MAX, POOL_GLOBAL_AVG } pool_kind;

/* ------------------------------------------------------------------------ */
/* Reference kernels                                                        */
/* ------------------------------------------------------------------------ */

#define POOL_BLOCK 64 /* channels accumulated at once */

typedef struct pool_ref {
  conv_geom g;
  int64_t c, out_pos, taps;
  int64_t image; /* input spatial size: Indices are flattened NCHW offsets */
  int64_t xs[IR_MAX_RANK], ys[IR_MAX_RANK], is[IR_MAX_RANK]; /* element strides */
  bool include_pad, col_major;
  const void *x;
  void *y;
  int64_t *idx; /* NULL unless MaxPool's Indices output is wanted */
} pool_ref;

/* Output task t -> batch n, position o, Y offset (and Indices offset). */
static int64_t pool_out_decode(const pool_ref *r, size_t t, int64_t *n, int64_t *o, int64_t *ioff) {
  int64_t p = (int64_t)t % r->out_pos, yoff, io;
  *n = (int64_t)t / r->out_pos;
  yoff = *n * r->ys[0];
  io = *n * r->is[0];
  for (int i = r->g.nsp - 1; i >= 0; i--) {
    o[i] = p % r->g.out[i];
    p /= r->g.out[i];
    yoff += o[i] * r->ys[2 + i];
    io += o[i] * r->is[2 + i];
  }
  *ioff = io;
  return yoff;
}

/* Tap k of output o: input offset and spatial index (row- or column-major
 * per storage_order), false when it falls in the padding. */
static bool pool_tap(const pool_ref *r, const int64_t *o, const int64_t *k, int64_t *xoff,
                     int64_t *sp) {
  const conv_geom *g = &r->g;
  int64_t xo = 0, flat = 0, mul = 1;
  for (int i = 0; i < g->nsp; i++) {
    int64_t pos = o[i] * g->stride[i] - g->pad_begin[i] + k[i] * g->dilation[i];
    if (pos < 0 || pos >= g->in[i]) return false;
    xo += pos * r->xs[2 + i];
    if (r->col_major) {
      flat += pos * mul;
      mul *= g->in[i];
    } else {
      flat = flat * g->in[i] + pos;
    }
  }
  *xoff = xo;
  *sp = flat;
  return true;
}

static void pool_counter_next(int64_t *v, const int64_t *lim, int n) {
  for (int i = n - 1; i >= 0; i--) {
    if (++v[i] < lim[i]) return;
    v[i] = 0;
  }
}

/* count_include_pad divisor: taps inside the padded input (not past it). */
static int64_t pool_padded_taps(const pool_ref *r, const int64_t *o) {
  const conv_geom *g = &r->g;
  int64_t count = 1;
  for (int i = 0; i < g->nsp; i++) {
    int64_t start = o[i] * g->stride[i] - g->pad_begin[i], lim = g->in[i] + g->pad_end[i];
    int64_t d = g->dilation[i], k = start >= lim ? 0 : (lim - start + d - 1) / d;
    count *= k < g->kernel[i] ? k : g->kernel[i];
  }
  return count;
}

/* MaxPool: `best` keeps the compare type A (float for float16); Indices take
 * the first maximum in tap order, like numpy's argmax. */
#define POOL_MAX_DEFINE(sfx, T, A, LOAD, STORE, LOWEST)                                            \
  static void pool_max_##sfx(void *arg, size_t start, size_t count) {                              \
    const pool_ref *r = arg;                                                                       \
    const T *x = r->x;                                                                             \
    T *y = r->y;                                                                                   \
    int64_t xsc = r->xs[1];                                                                        \
    for (size_t t = start; t < start + count; t++) {                                               \
      int64_t n, o[CONV_MAX_SP], ioff, yoff = pool_out_decode(r, t, &n, o, &ioff);                 \
      for (int64_t c0 = 0; c0 < r->c; c0 += POOL_BLOCK) {                                          \
        int64_t cn = r->c - c0 < POOL_BLOCK ? r->c - c0 : POOL_BLOCK, k[CONV_MAX_SP] = {0};        \
        A best[POOL_BLOCK];                                                                        \
        int64_t at[POOL_BLOCK];                                                                    \
        for (int64_t c = 0; c < cn; c++)                                                           \
          best[c] = LOWEST, at[c] = -1;                                                            \
        for (int64_t tap = 0; tap < r->taps; tap++, pool_counter_next(k, r->g.kernel, r->g.nsp)) { \
          int64_t xoff, sp;                                                                        \
          if (!pool_tap(r, o, k, &xoff, &sp)) continue;                                            \
          const T *xp = x + n * r->xs[0] + xoff + c0 * xsc;                                        \
          if (r->idx) {                                                                            \
            for (int64_t c = 0; c < cn; c++) {                                                     \
              A v = LOAD(xp[c * xsc]);                                                             \
              if (v > best[c] || at[c] < 0) best[c] = v, at[c] = sp;                               \
            }                                                                                      \
          } else {                                                                                 \
            for (int64_t c = 0; c < cn; c++) {                                                     \
              A v = LOAD(xp[c * xsc]);                                                             \
              best[c] = v > best[c] ? v : best[c];                                                 \
            }                                                                                      \
          }                                                                                        \
        }                                                                                          \
        for (int64_t c = 0; c < cn; c++)                                                           \
          y[yoff + (c0 + c) * r->ys[1]] = STORE(best[c]);                                          \
        if (r->idx)                                                                                \
          for (int64_t c = 0; c < cn; c++)                                                         \
            r->idx[ioff + (c0 + c) * r->is[1]] =                                                   \
                at[c] < 0 ? -1 : (n * r->c + c0 + c) * r->image + at[c];                           \
      }                                                                                            \
    }                                                                                              \
  }

/* AveragePool: sums in A; an output whose window holds no input is 0. */
#define POOL_AVG_DEFINE(sfx, T, A, LOAD, STORE)                                                    \
  static void pool_avg_##sfx(void *arg, size_t start, size_t count) {                              \
    const pool_ref *r = arg;                                                                       \
    const T *x = r->x;                                                                             \
    T *y = r->y;                                                                                   \
    int64_t xsc = r->xs[1];                                                                        \
    for (size_t t = start; t < start + count; t++) {                                               \
      int64_t n, o[CONV_MAX_SP], ioff, yoff = pool_out_decode(r, t, &n, o, &ioff);                 \
      for (int64_t c0 = 0; c0 < r->c; c0 += POOL_BLOCK) {                                          \
        int64_t cn = r->c - c0 < POOL_BLOCK ? r->c - c0 : POOL_BLOCK, k[CONV_MAX_SP] = {0};        \
        int64_t valid = 0;                                                                         \
        A sum[POOL_BLOCK];                                                                         \
        for (int64_t c = 0; c < cn; c++)                                                           \
          sum[c] = 0;                                                                              \
        for (int64_t tap = 0; tap < r->taps; tap++, pool_counter_next(k, r->g.kernel, r->g.nsp)) { \
          int64_t xoff, sp;                                                                        \
          if (!pool_tap(r, o, k, &xoff, &sp)) continue;                                            \
          const T *xp = x + n * r->xs[0] + xoff + c0 * xsc;                                        \
          valid++;                                                                                 \
          for (int64_t c = 0; c < cn; c++)                                                         \
            sum[c] += LOAD(xp[c * xsc]);                                                           \
        }                                                                                          \
        int64_t div = r->include_pad ? pool_padded_taps(r, o) : valid;                             \
        A scale = div > 0 ? (A)1 / (A)div : (A)0;                                                  \
        for (int64_t c = 0; c < cn; c++)                                                           \
          y[yoff + (c0 + c) * r->ys[1]] = STORE(sum[c] * scale);                                   \
      }                                                                                            \
    }                                                                                              \
  }

#define POOL_ID(v) (v)
#define POOL_F16_LOAD(v) op_f16_to_f32(v)
#define POOL_F16_STORE(v) op_f32_to_f16(v)

POOL_MAX_DEFINE(f32, float, float, POOL_ID, POOL_ID, -INFINITY)
POOL_MAX_DEFINE(f64, double, double, POOL_ID, POOL_ID, -INFINITY)
POOL_MAX_DEFINE(f16, uint16_t, float, POOL_F16_LOAD, POOL_F16_STORE, -INFINITY)
POOL_MAX_DEFINE(i8, int8_t, int8_t, POOL_ID, POOL_ID, INT8_MIN)
POOL_MAX_DEFINE(u8, uint8_t, uint8_t, POOL_ID, POOL_ID, 0)
POOL_AVG_DEFINE(f32, float, float, POOL_ID, POOL_ID)
POOL_AVG_DEFINE(f64, double, double, POOL_ID, POOL_ID)
POOL_AVG_DEFINE(f16, uint16_t, float, POOL_F16_LOAD, POOL_F16_STORE)

static pthreadpool_task_1d_tile_1d_t pool_ref_fn(pool_kind kind, int32_t dtype) {
  bool max = kind == POOL_MAX || kind == POOL_GLOBAL_MAX;
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: return max ? pool_max_f32 : pool_avg_f32;
  case ONNXI_DTYPE_DOUBLE: return max ? pool_max_f64 : pool_avg_f64;
  case ONNXI_DTYPE_FLOAT16: return max ? pool_max_f16 : pool_avg_f16;
  case ONNXI_DTYPE_INT8: return max ? pool_max_i8 : NULL;
  case ONNXI_DTYPE_UINT8: return max ? pool_max_u8 : NULL;
  default: return NULL;
  }
}

/* ------------------------------------------------------------------------ */
/* Pool kernels                                                             */
/* ------------------------------------------------------------------------ */

typedef enum pool_xnn {
  POOL_XNN_NONE,
  POOL_XNN_MAX,
  POOL_XNN_AVG,
  POOL_XNN_AVG_PADDED, /* count_include_pad as a depthwise convolution */
  POOL_XNN_GLOBAL_AVG,
  POOL_OWN_GLOBAL_AVG /* not XNNPACK: pool_gap.h */
} pool_xnn;

typedef struct pool_state {
  pool_kind kind;
  conv_attrs attrs;
  bool include_pad, col_major;
  xnn_operator_t op;
  pool_xnn path;
  pool_gap gap;
  bool skip;
  pthreadpool_task_1d_tile_1d_t fn;
  pool_ref ref;
} pool_state;

static onnxi_status pool_init_common(op_context *ctx, pool_state *s, pool_kind kind) {
  onnxi_status st;
  int64_t v;
  s->kind = kind;
  if (op_input_count(ctx) != 1 || ctx->node->inputs[0] == IR_NONE)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects exactly one input X");
  if (kind == POOL_GLOBAL_MAX || kind == POOL_GLOBAL_AVG) return ONNXI_OK;
  if ((st = conv_attrs_parse(ctx, &s->attrs, kind == POOL_MAX, true))) return st;
  if (s->attrs.n_kernel < 0)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'kernel_shape' is required");
  if (kind == POOL_AVG) {
    if ((st = op_attr_int(ctx, "count_include_pad", 0, &v))) return st;
    if (v != 0 && v != 1)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "attribute 'count_include_pad' is %lld, expected 0 or 1", (long long)v);
    s->include_pad = v == 1;
  } else {
    if ((st = op_attr_int(ctx, "storage_order", 0, &v))) return st;
    if (v != 0 && v != 1)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "attribute 'storage_order' is %lld, expected 0 or 1", (long long)v);
    s->col_major = v == 1;
    if (ctx->node->n_outputs > 2)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "has %d outputs, expected Y and optional Indices", ctx->node->n_outputs);
  }
  return ONNXI_OK;
}

static onnxi_status pool_max_init(op_context *ctx, void *state) {
  return pool_init_common(ctx, state, POOL_MAX);
}
static onnxi_status pool_avg_init(op_context *ctx, void *state) {
  return pool_init_common(ctx, state, POOL_AVG);
}
static onnxi_status pool_global_max_init(op_context *ctx, void *state) {
  return pool_init_common(ctx, state, POOL_GLOBAL_MAX);
}
static onnxi_status pool_global_avg_init(op_context *ctx, void *state) {
  return pool_init_common(ctx, state, POOL_GLOBAL_AVG);
}

/* Float rank-4 tensors flow NHWC; others stay as they come. */
static ir_layout pool_layout(const op_context *ctx, const void *state, op_tensor *const *in,
                             int n_in) {
  (void)ctx, (void)state, (void)n_in;
  if (in[0]->rank != 4) return IR_LAYOUT_PLAIN;
  return in[0]->dtype == ONNXI_DTYPE_FLOAT ? IR_LAYOUT_NHWC : in[0]->layout;
}

/* A pad as wide as the window makes windows of padding only (no element to
 * take the max of); ONNX Runtime refuses these models too. */
static onnxi_status pool_pads_check(const op_context *ctx, const conv_geom *g) {
  for (int i = 0; i < g->nsp; i++) {
    int64_t extent = (g->kernel[i] - 1) * g->dilation[i] + 1;
    if (g->pad_begin[i] >= extent || g->pad_end[i] >= extent)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "pads %lld and %lld on spatial axis %d are not smaller than the window "
                      "extent %lld",
                      (long long)g->pad_begin[i], (long long)g->pad_end[i], i, (long long)extent);
  }
  return ONNXI_OK;
}

static onnxi_status pool_geometry(const op_context *ctx, const pool_state *s, const op_tensor *x,
                                  conv_geom *g) {
  onnxi_status st;
  if (x->rank < 3)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'X' has rank %d, expected at least 3",
                    x->rank);
  if (!pool_ref_fn(s->kind, x->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input 'X' has unsupported type %s",
                    onnxi_dtype_name((onnxi_dtype)x->dtype));
  if (s->kind == POOL_GLOBAL_MAX || s->kind == POOL_GLOBAL_AVG) {
    memset(g, 0, sizeof *g);
    g->nsp = x->rank - 2;
    for (int i = 0; i < g->nsp; i++) {
      g->in[i] = g->kernel[i] = x->dims[2 + i];
      g->stride[i] = g->dilation[i] = g->out[i] = 1;
    }
    return ONNXI_OK;
  }
  if ((st = conv_geom_window(ctx, &s->attrs, x->rank - 2, NULL, g))) return st;
  if ((st = conv_geom_forward(ctx, &s->attrs, x->dims + 2, g))) return st;
  return pool_pads_check(ctx, g);
}

static onnxi_status pool_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  const pool_state *s = state;
  const op_tensor *x = in[0];
  conv_geom g;
  (void)n_in;
  onnxi_status st = pool_geometry(ctx, s, x, &g);
  if (st != ONNXI_OK) return st;
  for (int k = 0; k < n_out; k++) {
    op_tensor *y = out[k];
    if (!y) continue;
    y->dtype = k == 0 ? x->dtype : ONNXI_DTYPE_INT64;
    y->rank = x->rank;
    y->dims[0] = x->dims[0];
    y->dims[1] = x->dims[1];
    for (int i = 0; i < g.nsp; i++)
      y->dims[2 + i] = g.out[i];
    y->layout = k == 0 && x->rank == 4 ? x->layout : IR_LAYOUT_PLAIN;
  }
  return ONNXI_OK;
}

/* End padding XNNPACK needs so its floor-mode size equals ours (ceil_mode). */
static int64_t pool_pad_end_total(const conv_geom *g, int i) {
  int64_t dk = (g->kernel[i] - 1) * g->dilation[i] + 1;
  int64_t need = (g->out[i] - 1) * g->stride[i] + dk - g->in[i] - g->pad_begin[i];
  return need > g->pad_end[i] ? need : g->pad_end[i];
}

/* Which XNNPACK operator computes this pool exactly, if any. */
static pool_xnn pool_xnn_choose(const pool_state *s, const op_tensor *x, const op_tensor *y,
                                bool want_idx, const conv_geom *g) {
  if (x->dtype != ONNXI_DTYPE_FLOAT || x->rank != 4 || x->layout != IR_LAYOUT_NHWC ||
      y->layout != IR_LAYOUT_NHWC || want_idx || x->count == 0)
    return POOL_XNN_NONE;
  if (s->kind == POOL_GLOBAL_AVG)
    return pool_gap_available() ? POOL_OWN_GLOBAL_AVG : POOL_XNN_GLOBAL_AVG;
  if (s->kind == POOL_GLOBAL_MAX || g->kernel[0] * g->kernel[1] < 2) return POOL_XNN_NONE;
  bool padded = false, past_padding = false, dilated = false;
  for (int i = 0; i < 2; i++) {
    int64_t dk = (g->kernel[i] - 1) * g->dilation[i] + 1, pe = pool_pad_end_total(g, i);
    /* XNNPACK clamps padded taps into the image: exact only when every
     * window holds an input pixel */
    if (g->pad_begin[i] >= dk || pe >= dk) return POOL_XNN_NONE;
    if (g->pad_begin[i] > INT32_MAX || pe > INT32_MAX) return POOL_XNN_NONE;
    padded |= g->pad_begin[i] > 0 || pe > 0;
    past_padding |= pe > g->pad_end[i];
    dilated |= g->dilation[i] > 1;
  }
  /* measured: its dilated max pooling is wrong once any axis is padded */
  if (dilated && padded) return POOL_XNN_NONE;
  if (s->kind == POOL_MAX) return POOL_XNN_MAX;
  if (!s->include_pad || !padded) return POOL_XNN_AVG;
  return past_padding ? POOL_XNN_NONE : POOL_XNN_AVG_PADDED;
}

static onnxi_status pool_xnn_create(const op_context *ctx, pool_state *s, const conv_geom *g,
                                    size_t c) {
  uint32_t t = (uint32_t)g->pad_begin[0], l = (uint32_t)g->pad_begin[1];
  uint32_t b = (uint32_t)pool_pad_end_total(g, 0), r = (uint32_t)pool_pad_end_total(g, 1);
  uint32_t kh = (uint32_t)g->kernel[0], kw = (uint32_t)g->kernel[1];
  uint32_t sh = (uint32_t)g->stride[0], sw = (uint32_t)g->stride[1];
  enum xnn_status xs = xnn_status_success;
  float *w = NULL;
  switch (s->path) {
  case POOL_XNN_MAX:
    xs = xnn_create_max_pooling2d_nhwc_f32(t, r, b, l, kh, kw, sh, sw, (uint32_t)g->dilation[0],
                                           (uint32_t)g->dilation[1], c, c, c, -INFINITY, INFINITY,
                                           0, &s->op);
    break;
  case POOL_XNN_AVG:
    xs = xnn_create_average_pooling2d_nhwc_f32(t, r, b, l, kh, kw, sh, sw, c, c, c, -INFINITY,
                                               INFINITY, 0, &s->op);
    break;
  case POOL_XNN_AVG_PADDED:
    w = malloc(sizeof(float) * (size_t)kh * kw * c);
    if (!w) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < (size_t)kh * kw * c; i++)
      w[i] = 1.0f / (float)((size_t)kh * kw);
    xs = xnn_create_convolution2d_nhwc_f32(t, r, b, l, kh, kw, sh, sw, 1, 1, (uint32_t)c, 1, 1, c,
                                           c, w, NULL, -INFINITY, INFINITY,
                                           XNN_FLAG_DEPTHWISE_CONVOLUTION, &s->op);
    free(w);
    break;
  case POOL_XNN_GLOBAL_AVG:
    xs = xnn_create_global_average_pooling_nwc_f32(c, c, c, -INFINITY, INFINITY, 0, &s->op);
    break;
  case POOL_XNN_NONE: case POOL_OWN_GLOBAL_AVG: break;
  }
  if (xs != xnn_status_success) s->op = NULL;
  return xs == xnn_status_success ? ONNXI_OK : conv_xnn_error(ctx, "pooling create", xs);
}

static onnxi_status pool_xnn_setup(const op_context *ctx, pool_state *s, const op_tensor *x,
                                   op_tensor *y) {
  size_t n = (size_t)x->dims[0], h = (size_t)x->dims[2], w = (size_t)x->dims[3];
  enum xnn_status xs = xnn_status_success;
  switch (s->path) {
  case POOL_XNN_MAX:
    xs = xnn_setup_max_pooling2d_nhwc_f32(s->op, n, h, w, x->data, y->data, ctx->threadpool);
    break;
  case POOL_XNN_AVG:
    xs = xnn_setup_average_pooling2d_nhwc_f32(s->op, n, h, w, x->data, y->data, ctx->threadpool);
    break;
  case POOL_XNN_AVG_PADDED:
    xs = xnn_setup_convolution2d_nhwc_f32(s->op, n, h, w, x->data, y->data, ctx->threadpool);
    break;
  case POOL_XNN_GLOBAL_AVG:
    xs = xnn_setup_global_average_pooling_nwc_f32(s->op, n, h * w, x->data, y->data,
                                                  ctx->threadpool);
    break;
  case POOL_XNN_NONE: case POOL_OWN_GLOBAL_AVG: break;
  }
  return xs == xnn_status_success ? ONNXI_OK : conv_xnn_error(ctx, "pooling setup", xs);
}

static void pool_ref_setup(pool_state *s, const op_tensor *x, const op_tensor *y,
                           const op_tensor *idx, const conv_geom *g) {
  pool_ref *r = &s->ref;
  memset(r, 0, sizeof *r);
  r->g = *g;
  r->c = x->dims[1];
  r->out_pos = conv_prod(g->out, g->nsp);
  r->taps = conv_prod(g->kernel, g->nsp);
  r->image = conv_prod(g->in, g->nsp);
  r->include_pad = s->include_pad;
  r->col_major = s->col_major;
  conv_tensor_strides(x, r->xs);
  conv_tensor_strides(y, r->ys);
  if (idx) conv_tensor_strides(idx, r->is);
  s->fn = pool_ref_fn(s->kind, x->dtype);
}

static onnxi_status pool_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  pool_state *s = state;
  const op_tensor *x = in[0];
  const op_tensor *idx = n_out > 1 ? out[1] : NULL;
  conv_geom g;
  (void)n_in;
  onnxi_status st = pool_geometry(ctx, s, x, &g);
  if (st != ONNXI_OK) return st;
  if (s->op) xnn_delete_operator(s->op);
  s->op = NULL;
  s->skip = out[0]->count == 0;
  s->path = s->skip ? POOL_XNN_NONE : pool_xnn_choose(s, x, out[0], idx != NULL, &g);
  if (s->path == POOL_OWN_GLOBAL_AVG)
    return pool_gap_setup(ctx, &s->gap, x->data, out[0]->data, x->dims[0],
                          x->dims[2] * x->dims[3], x->dims[1]);
  if (s->path != POOL_XNN_NONE) {
    op_context quiet = *ctx;
    quiet.err = NULL; /* what XNNPACK refuses runs on the reference kernel */
    st = pool_xnn_create(&quiet, s, &g, (size_t)x->dims[1]);
    if (st == ONNXI_ERR_NO_MEMORY)
      return op_error(ctx, st, "out of memory creating the XNNPACK operator");
    if (st == ONNXI_OK) return pool_xnn_setup(ctx, s, x, out[0]);
    s->path = POOL_XNN_NONE;
  }
  pool_ref_setup(s, x, out[0], idx, &g);
  return ONNXI_OK;
}

static onnxi_status pool_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  pool_state *s = state;
  (void)n_in;
  if (s->skip) return ONNXI_OK;
  if (s->path == POOL_OWN_GLOBAL_AVG) {
    pool_gap_run(&s->gap, ctx->threadpool);
    return ONNXI_OK;
  }
  if (s->path != POOL_XNN_NONE) {
    enum xnn_status xs = xnn_run_operator(s->op, ctx->threadpool);
    return xs == xnn_status_success ? ONNXI_OK : conv_xnn_error(ctx, "pooling run", xs);
  }
  pool_ref *r = &s->ref;
  r->x = in[0]->data;
  r->y = out[0]->data;
  r->idx = n_out > 1 && out[1] ? out[1]->data : NULL;
  conv_parallelize(ctx->threadpool, s->fn, r, (size_t)(in[0]->dims[0] * r->out_pos));
  return ONNXI_OK;
}

static void pool_release(void *state) {
  pool_state *s = state;
  if (s->op) xnn_delete_operator(s->op);
  s->op = NULL;
  pool_gap_release(&s->gap);
}

const op_kernel op_average_pool = {
    .name = "AveragePool",
    .state_size = sizeof(pool_state),
    .init = pool_avg_init,
    .layout = pool_layout,
    .infer = pool_infer,
    .setup = pool_setup,
    .run = pool_run,
    .release = pool_release,
};

const op_kernel op_max_pool = {
    .name = "MaxPool",
    .state_size = sizeof(pool_state),
    .init = pool_max_init,
    .layout = pool_layout,
    .infer = pool_infer,
    .setup = pool_setup,
    .run = pool_run,
    .release = pool_release,
};

const op_kernel op_global_average_pool = {
    .name = "GlobalAveragePool",
    .state_size = sizeof(pool_state),
    .init = pool_global_avg_init,
    .layout = pool_layout,
    .infer = pool_infer,
    .setup = pool_setup,
    .run = pool_run,
    .release = pool_release,
};

const op_kernel op_global_max_pool = {
    .name = "GlobalMaxPool",
    .state_size = sizeof(pool_state),
    .init = pool_global_max_init,
    .layout = pool_layout,
    .infer = pool_infer,
    .setup = pool_setup,
    .run = pool_run,
    .release = pool_release,
};

/* ------------------------------------------------------------------------ */
/* LRN                                                                      */
/* ------------------------------------------------------------------------ */

/* Storage viewed as [N][P][C][S]: NHWC has P pixels with S = 1, NCHW has
 * P = 1 and S spatial elements; a channel window shift is then a shift by
 * j*S over one contiguous run, which vectorizes in both layouts. */
typedef struct lrn_state {
  int64_t size;
  float alpha, beta, bias;
  int64_t n, p, c, sp;
  const float *x;
  float *y;
} lrn_state;

static onnxi_status lrn_init(op_context *ctx, void *state) {
  lrn_state *s = state;
  onnxi_status st;
  if (op_input_count(ctx) != 1 || ctx->node->inputs[0] == IR_NONE)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects exactly one input X");
  if (!ir_node_attr(ctx->node, "size"))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'size' is required");
  if ((st = op_attr_int(ctx, "size", 1, &s->size)) ||
      (st = op_attr_float(ctx, "alpha", 1e-4f, &s->alpha)) ||
      (st = op_attr_float(ctx, "beta", 0.75f, &s->beta)) ||
      (st = op_attr_float(ctx, "bias", 1.0f, &s->bias)))
    return st;
  if (s->size < 1 || s->size > (INT64_C(1) << 31))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'size' is %lld, expected >= 1",
                    (long long)s->size);
  return ONNXI_OK;
}

static ir_layout lrn_layout(const op_context *ctx, const void *state, op_tensor *const *in,
                            int n_in) {
  (void)ctx, (void)state, (void)n_in;
  return in[0]->rank == 4 ? IR_LAYOUT_NHWC : IR_LAYOUT_PLAIN;
}

static onnxi_status lrn_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                              op_tensor *const *out, int n_out) {
  const op_tensor *x = in[0];
  (void)state, (void)n_in, (void)n_out;
  if (x->dtype != ONNXI_DTYPE_FLOAT)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input 'X' has type %s; only float is supported",
                    onnxi_dtype_name((onnxi_dtype)x->dtype));
  if (x->rank < 3)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'X' has rank %d, expected at least 3",
                    x->rank);
  op_tensor *y = out[0];
  y->dtype = x->dtype;
  y->rank = x->rank;
  memcpy(y->dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  y->layout = x->rank == 4 ? x->layout : IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

static onnxi_status lrn_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                              op_tensor *const *out, int n_out) {
  lrn_state *s = state;
  const op_tensor *x = in[0];
  (void)ctx, (void)n_in, (void)out, (void)n_out;
  int64_t spatial = conv_prod(x->dims + 2, x->rank - 2);
  bool nhwc = x->rank == 4 && x->layout == IR_LAYOUT_NHWC;
  s->n = x->dims[0];
  s->c = x->dims[1];
  s->p = nhwc ? spatial : 1;
  s->sp = nhwc ? 1 : spatial;
  return ONNXI_OK;
}

/* Wide windows: a running sum per spatial position (double, so removing
 * squares does not leave rounding residue), O(C) per position whatever the
 * size; the vectorised loop below would be O(C * size). */
static void lrn_block_wide(const lrn_state *s, const float *restrict x, float *restrict y,
                           int64_t lo, int64_t hi) {
  int64_t c = s->c, sp = s->sp;
  float scale = s->alpha / (float)s->size;
  for (int64_t q = 0; q < sp; q++) {
    double sum = 0;
    for (int64_t k = 0; k <= hi && k < c; k++) sum += (double)x[k * sp + q] * x[k * sp + q];
    for (int64_t ch = 0; ch < c; ch++) {
      int64_t e = ch * sp + q;
      y[e] = x[e] * powf(s->bias + scale * (float)sum, -s->beta);
      int64_t in = ch + 1 + hi, outc = ch - lo;
      if (in < c) sum += (double)x[in * sp + q] * x[in * sp + q];
      if (outc >= 0) sum -= (double)x[outc * sp + q] * x[outc * sp + q];
    }
  }
}

/* One [C][S] block: y = x / (bias + alpha/size * sum of squares)^beta over
 * channels [c - (size-1)/2, c + size/2]. */
static void lrn_block(const lrn_state *s, const float *restrict x, float *restrict y) {
  int64_t c = s->c, sp = s->sp, lo = (s->size - 1) / 2, hi = s->size / 2;
  /* offsets past c - 1 select no channel: a huge size must not loop on them */
  if (lo > c - 1) lo = c - 1;
  if (hi > c - 1) hi = c - 1;
  if (lo + hi > 32) {
    lrn_block_wide(s, x, y, lo, hi);
    return;
  }
  for (int64_t e = 0; e < c * sp; e++)
    y[e] = 0.0f;
  for (int64_t j = -lo; j <= hi; j++) {
    int64_t c0 = j < 0 ? -j : 0, c1 = j > 0 ? c - j : c;
    if (c0 >= c1) continue;
    const float *xs = x + j * sp;
    for (int64_t e = c0 * sp; e < c1 * sp; e++)
      y[e] += xs[e] * xs[e];
  }
  float scale = s->alpha / (float)s->size;
  for (int64_t e = 0; e < c * sp; e++)
    y[e] = x[e] * powf(s->bias + scale * y[e], -s->beta);
}

static void lrn_tile(void *arg, size_t start, size_t count) {
  const lrn_state *s = arg;
  int64_t blk = s->c * s->sp;
  for (size_t t = start; t < start + count; t++)
    lrn_block(s, s->x + (int64_t)t * blk, s->y + (int64_t)t * blk);
}

static onnxi_status lrn_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                            op_tensor *const *out, int n_out) {
  lrn_state *s = state;
  (void)n_in, (void)n_out;
  s->x = in[0]->data;
  s->y = out[0]->data;
  if (s->c > 0 && s->sp > 0) conv_parallelize(ctx->threadpool, lrn_tile, s, (size_t)(s->n * s->p));
  return ONNXI_OK;
}

const op_kernel op_lrn = {
    .name = "LRN",
    .state_size = sizeof(lrn_state),
    .init = lrn_init,
    .layout = lrn_layout,
    .infer = lrn_infer,
    .setup = lrn_setup,
    .run = lrn_run,
};
