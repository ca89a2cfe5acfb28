/* Conv and ConvTranspose (float32).
 *
 * 2-D convolutions run through XNNPACK (convolution2d / deconvolution2d
 * NHWC): the operator is created at init when the weights are load-time
 * constants and the padding does not depend on the input size, otherwise at
 * setup from plan-time constant weights. Everything else (1-D / 3-D, weights
 * fed at run time, configurations XNNPACK refuses) runs a direct reference
 * kernel that reads any layout through element strides. Dense forward
 * convs leave XNNPACK for an own path where it is measured faster: the
 * AVX-512 indirect GEMM (conv_igemm.h) on CPUs that have it, BLIS on other
 * x86-64 CPUs (conv_gemm.h). Grouped convs take conv_grouped.h on AVX-512;
 * depthwise ones conv_grouped.h (small maps) or conv_dw.h (big maps) there,
 * and conv_dw.h for filters over 25 taps elsewhere.
 *
 * Also home of the window geometry shared with ops/pool.c (conv_util.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xnnpack.h>

#include "act.h"
#include "conv_dw.h"
#include "conv_gemm.h"
#include "conv_grouped.h"
#include "conv_igemm.h"
#include "conv_winograd.h"
#include "conv_util.h"
#include "kernel.h"

#define CONV_INT_MAX INT64_C(2147483647)
#define CONV_POST_CHUNK 4096 /* floats per task of conv_post */

/* ------------------------------------------------------------------------ */
/* Shared geometry                                                          */
/* ------------------------------------------------------------------------ */

onnxi_status conv_attr_dims(const op_context *ctx, const char *name, int64_t lo, int max,
                            int64_t *v, int *n) {
  const int64_t *vals;
  int64_t cnt;
  onnxi_status st = op_attr_ints(ctx, name, &vals, &cnt);
  *n = -1;
  if (st != ONNXI_OK || cnt < 0) return st;
  if (cnt > max)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED,
                    "attribute '%s' has %lld values, at most %d supported", name, (long long)cnt,
                    max);
  for (int64_t i = 0; i < cnt; i++) {
    if (vals[i] < lo || vals[i] > CONV_INT_MAX)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "attribute '%s': value %lld at index %lld is out of range [%lld, 2^31)", name,
                      (long long)vals[i], (long long)i, (long long)lo);
    v[i] = vals[i];
  }
  *n = (int)cnt;
  return ONNXI_OK;
}

static onnxi_status conv_auto_pad_parse(const op_context *ctx, conv_auto_pad *out) {
  const char *s;
  onnxi_status st = op_attr_string(ctx, "auto_pad", "NOTSET", &s);
  if (st != ONNXI_OK) return st;
  if (!s || !*s || !strcmp(s, "NOTSET"))
    *out = CONV_AUTO_PAD_NOTSET;
  else if (!strcmp(s, "SAME_UPPER"))
    *out = CONV_AUTO_PAD_SAME_UPPER;
  else if (!strcmp(s, "SAME_LOWER"))
    *out = CONV_AUTO_PAD_SAME_LOWER;
  else if (!strcmp(s, "VALID"))
    *out = CONV_AUTO_PAD_VALID;
  else
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'auto_pad': unknown value '%s' (expected NOTSET, SAME_UPPER, "
                    "SAME_LOWER or VALID)",
                    s);
  return ONNXI_OK;
}

onnxi_status conv_attrs_parse(const op_context *ctx, conv_attrs *a, bool allow_dilations,
                              bool allow_ceil) {
  onnxi_status st;
  memset(a, 0, sizeof *a);
  a->n_dilations = -1;
  if ((st = conv_attr_dims(ctx, "kernel_shape", 1, CONV_MAX_SP, a->kernel, &a->n_kernel)) ||
      (st = conv_attr_dims(ctx, "strides", 1, CONV_MAX_SP, a->strides, &a->n_strides)) ||
      (st = conv_attr_dims(ctx, "pads", 0, 2 * CONV_MAX_SP, a->pads, &a->n_pads)))
    return st;
  if (allow_dilations &&
      (st = conv_attr_dims(ctx, "dilations", 1, CONV_MAX_SP, a->dilations, &a->n_dilations)))
    return st;
  if (a->n_pads > 0 && a->n_pads % 2)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'pads' has %d values, expected an even count", a->n_pads);
  if ((st = conv_auto_pad_parse(ctx, &a->auto_pad))) return st;
  if (allow_ceil) {
    int64_t ceil_mode;
    if ((st = op_attr_int(ctx, "ceil_mode", 0, &ceil_mode))) return st;
    if (ceil_mode != 0 && ceil_mode != 1)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "attribute 'ceil_mode' is %lld, expected 0 or 1", (long long)ceil_mode);
    a->ceil_mode = ceil_mode == 1;
  }
  return ONNXI_OK;
}

static onnxi_status conv_list_check(const op_context *ctx, const char *name, int n, int want) {
  if (n >= 0 && n != want)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute '%s' has %d values, expected %d", name,
                    n, want);
  return ONNXI_OK;
}

onnxi_status conv_geom_window(const op_context *ctx, const conv_attrs *a, int nsp,
                              const int64_t *wkernel, conv_geom *g) {
  onnxi_status st;
  memset(g, 0, sizeof *g);
  g->nsp = nsp;
  if ((st = conv_list_check(ctx, "kernel_shape", a->n_kernel, nsp)) ||
      (st = conv_list_check(ctx, "strides", a->n_strides, nsp)) ||
      (st = conv_list_check(ctx, "dilations", a->n_dilations, nsp)) ||
      (st = conv_list_check(ctx, "pads", a->n_pads, 2 * nsp)))
    return st;
  if (a->n_kernel < 0 && !wkernel)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'kernel_shape' is required");
  for (int i = 0; i < nsp; i++) {
    int64_t k = a->n_kernel >= 0 ? a->kernel[i] : wkernel[i];
    if (wkernel && (wkernel[i] < 1 || wkernel[i] > CONV_INT_MAX))
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "weight 'W' has kernel size %lld on spatial axis %d, expected 1..2^31-1",
                      (long long)wkernel[i], i);
    if (wkernel && k != wkernel[i])
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "attribute 'kernel_shape' is %lld on spatial axis %d but the weight has %lld",
                      (long long)k, i, (long long)wkernel[i]);
    g->kernel[i] = k;
    g->stride[i] = a->n_strides >= 0 ? a->strides[i] : 1;
    g->dilation[i] = a->n_dilations >= 0 ? a->dilations[i] : 1;
  }
  int64_t taps = 1;
  for (int i = 0; i < nsp; i++)
    if (__builtin_mul_overflow(taps, g->kernel[i], &taps))
      return op_error(ctx, ONNXI_ERR_LIMIT, "attribute 'kernel_shape': too many kernel taps");
  return ONNXI_OK;
}

/* Output size of one explicitly padded axis; PyTorch's rule drops a last
 * ceil-mode window that would start in the end padding. */
static int64_t conv_out_explicit(int64_t in, int64_t pb, int64_t span, int64_t s, bool ceil_mode) {
  int64_t out = (ceil_mode ? span + s - 1 : span) / s + 1;
  if (ceil_mode && (out - 1) * s >= in + pb) out--;
  return out;
}

onnxi_status conv_geom_forward(const op_context *ctx, const conv_attrs *a, const int64_t *in,
                               conv_geom *g) {
  for (int i = 0; i < g->nsp; i++) {
    int64_t dk = (g->kernel[i] - 1) * g->dilation[i] + 1, s = g->stride[i];
    int64_t pb = 0, pe = 0;
    g->in[i] = in[i];
    if (in[i] < 0 || in[i] > (INT64_MAX >> 2))
      return op_error(ctx, ONNXI_ERR_LIMIT, "input size %lld on spatial axis %d is out of range",
                      (long long)in[i], i);
    if (a->auto_pad == CONV_AUTO_PAD_SAME_UPPER || a->auto_pad == CONV_AUTO_PAD_SAME_LOWER) {
      int64_t out = (in[i] + s - 1) / s;
      int64_t total = out > 0 ? (out - 1) * s + dk - in[i] : 0;
      if (total < 0) total = 0;
      pb = a->auto_pad == CONV_AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
      g->pad_begin[i] = pb;
      g->pad_end[i] = total - pb;
      g->out[i] = out;
      continue;
    }
    if (a->auto_pad == CONV_AUTO_PAD_NOTSET && a->n_pads > 0) {
      pb = a->pads[i];
      pe = a->pads[i + g->nsp];
    }
    int64_t padded = in[i] + pb + pe;
    if (padded < dk)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "kernel extent %lld (kernel %lld, dilation %lld) exceeds the padded input "
                      "size %lld on spatial axis %d",
                      (long long)dk, (long long)g->kernel[i], (long long)g->dilation[i],
                      (long long)padded, i);
    g->pad_begin[i] = pb;
    g->pad_end[i] = pe;
    g->out[i] = conv_out_explicit(in[i], pb, padded - dk, s, a->ceil_mode);
  }
  return ONNXI_OK;
}

void conv_tensor_strides(const op_tensor *t, int64_t *strides) {
  if (t->rank == 4 && t->layout == IR_LAYOUT_NHWC) {
    int64_t c = t->dims[1], h = t->dims[2], w = t->dims[3];
    strides[1] = 1;
    strides[3] = c;
    strides[2] = w * c;
    strides[0] = h * w * c;
    return;
  }
  int64_t s = 1;
  for (int i = t->rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= t->dims[i];
  }
}

int64_t conv_prod(const int64_t *v, int n) {
  int64_t p = 1;
  for (int i = 0; i < n; i++)
    p *= v[i];
  return p;
}

onnxi_status conv_clamp_parse(const op_context *ctx, float *lo, float *hi) {
  onnxi_status st;
  if ((st = op_attr_float(ctx, "onnxi.clamp_min", -INFINITY, lo)) ||
      (st = op_attr_float(ctx, "onnxi.clamp_max", INFINITY, hi)))
    return st;
  if (isnan(*lo) || isnan(*hi) || *lo > *hi)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attributes 'onnxi.clamp_min' %g and 'onnxi.clamp_max' %g are not an interval",
                    (double)*lo, (double)*hi);
  return ONNXI_OK;
}

/* onnxi.activation, set by the conv-act pass: an op_act (ops/act.h). */
static onnxi_status conv_act_parse(const op_context *ctx, int *act) {
  int64_t v;
  onnxi_status st = op_attr_int(ctx, "onnxi.activation", OP_ACT_NONE, &v);
  if (st != ONNXI_OK) return st;
  if (v < OP_ACT_NONE || v >= OP_ACT_COUNT)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'onnxi.activation' is %lld, expected 0 to %d", (long long)v,
                    OP_ACT_COUNT - 1);
  *act = (int)v;
  return ONNXI_OK;
}

onnxi_status conv_xnn_error(const op_context *ctx, const char *what, enum xnn_status st) {
  onnxi_status s = st == xnn_status_out_of_memory ? ONNXI_ERR_NO_MEMORY : ONNXI_ERR_UNSUPPORTED;
  return op_error(ctx, s, "XNNPACK %s failed (status %d)", what, (int)st);
}

void conv_parallelize(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t fn, void *arg,
                      size_t range) {
  size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  if (range == 0) return;
  if (threads <= 1) {
    fn(arg, 0, range);
    return;
  }
  size_t tile = range / (threads * 8);
  pthreadpool_parallelize_1d_tile_1d(pool, fn, arg, range, tile ? tile : 1, 0);
}

/* ------------------------------------------------------------------------ */
/* Reference kernel (any rank, any layout, forward and transposed)          */
/* ------------------------------------------------------------------------ */

typedef struct conv_ref {
  conv_geom g;
  bool transposed;
  int64_t c, m, group;   /* input channels, output channels, groups */
  int64_t out_pos, taps; /* output positions per image, kernel taps */
  int64_t xs[IR_MAX_RANK], ys[IR_MAX_RANK], ws[IR_MAX_RANK]; /* element strides */
  const float *x, *w, *b;
  float *y;
  float lo, hi;
} conv_ref;

/* Input offset of tap k for output position o, false when it falls in the
 * padding (or, transposed, between strides). */
static bool conv_ref_tap(const conv_ref *r, const int64_t *o, const int64_t *k, int64_t *xoff,
                         int64_t *woff) {
  const conv_geom *g = &r->g;
  int64_t xo = 0, wo = 0;
  for (int i = 0; i < g->nsp; i++) {
    int64_t pos;
    if (!r->transposed) {
      pos = o[i] * g->stride[i] - g->pad_begin[i] + k[i] * g->dilation[i];
    } else {
      int64_t q = o[i] + g->pad_begin[i] - k[i] * g->dilation[i];
      if (q < 0 || q % g->stride[i]) return false;
      pos = q / g->stride[i];
    }
    if (pos < 0 || pos >= g->in[i]) return false;
    xo += pos * r->xs[2 + i];
    wo += k[i] * r->ws[2 + i];
  }
  *xoff = xo;
  *woff = wo;
  return true;
}

static void conv_counter_next(int64_t *v, const int64_t *lim, int n) {
  for (int i = n - 1; i >= 0; i--) {
    if (++v[i] < lim[i]) return;
    v[i] = 0;
  }
}

/* y[m] += sum over the group's input channels for one valid tap. */
static void conv_ref_accumulate(const conv_ref *r, float *y, const float *x, int64_t woff) {
  int64_t cg = r->c / r->group, mg = r->m / r->group;
  int64_t xsc = r->xs[1], ysc = r->ys[1];
  int64_t wsi = r->transposed ? r->ws[0] : r->ws[1];
  for (int64_t m = 0; m < r->m; m++) {
    int64_t grp = m / mg;
    const float *xp = x + grp * cg * xsc;
    const float *wp =
        r->w + woff +
        (r->transposed ? grp * cg * r->ws[0] + (m - grp * mg) * r->ws[1] : m * r->ws[0]);
    float acc = 0.0f;
    for (int64_t ci = 0; ci < cg; ci++)
      acc += xp[ci * xsc] * wp[ci * wsi];
    y[m * ysc] += acc;
  }
}

static void conv_ref_tile(void *arg, size_t start, size_t count) {
  const conv_ref *r = arg;
  const conv_geom *g = &r->g;
  for (size_t t = start; t < start + count; t++) {
    int64_t n = (int64_t)t / r->out_pos, p = (int64_t)t % r->out_pos;
    int64_t o[CONV_MAX_SP], k[CONV_MAX_SP] = {0};
    float *y = r->y + n * r->ys[0];
    for (int i = g->nsp - 1; i >= 0; i--) {
      o[i] = p % g->out[i];
      p /= g->out[i];
      y += o[i] * r->ys[2 + i];
    }
    for (int64_t m = 0; m < r->m; m++)
      y[m * r->ys[1]] = r->b ? r->b[m] : 0.0f;
    for (int64_t tap = 0; tap < r->taps; tap++, conv_counter_next(k, g->kernel, g->nsp)) {
      int64_t xoff, woff;
      if (conv_ref_tap(r, o, k, &xoff, &woff))
        conv_ref_accumulate(r, y, r->x + n * r->xs[0] + xoff, woff);
    }
    for (int64_t m = 0; m < r->m; m++) {
      float v = y[m * r->ys[1]];
      y[m * r->ys[1]] = v < r->lo ? r->lo : v > r->hi ? r->hi : v;
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Kernel state and shape checks                                            */
/* ------------------------------------------------------------------------ */

typedef struct conv_state {
  bool transposed;
  conv_attrs attrs;
  int64_t group;
  float lo, hi; /* fused output clamp */
  int64_t out_padding[CONV_MAX_SP];
  int64_t out_shape[IR_MAX_RANK];
  int n_out_padding, n_out_shape;
  xnn_operator_t op;
  uint32_t op_pads[4]; /* top, right, bottom, left the operator was made with */
  bool op_reusable;    /* built from load-time constants: valid across plans */
  bool use_xnn, skip;
  conv_ref ref;
#ifdef ONNXI_HAVE_BLAS
  conv_gemm *gemm;     /* dense conv as SGEMM (x86-64): replaces op when set */
  bool gemm_reusable;  /* built from load-time constants */
  bool use_gemm;
#endif
#ifdef ONNXI_HAVE_IGEMM
  conv_igemm *ig;      /* dense conv, own AVX-512 tile: replaces op when set */
  bool ig_reusable;    /* built from load-time constants */
  bool use_ig;
  conv_grouped *gr;    /* narrow-group or depthwise conv, own AVX-512 kernel */
  bool gr_reusable, use_gr;
#endif
#ifdef ONNXI_HAVE_WINOGRAD
  conv_wino *wn;       /* 3x3 stride-1 dense conv by Winograd: replaces ig when set */
  bool wn_reusable, use_wn;
#endif
  const float *res;    /* plan's fused residual (OP_KERNEL_RESIDUAL), NULL without */
  float res_lo, res_hi; /* the fused Add's clamp, applied to Y + res */
  bool res_fused;      /* the path adds res itself; otherwise conv_post after it */
  const float *res_over; /* R's bytes when the plan put Y over R (not res_fused): saved to */
  float *res_copy;       /* ... res_copy before the path writes Y, and res points there */
  size_t res_copy_cap;
  int act;             /* onnxi.activation (op_act), after the clamp */
  bool act_fused;      /* the path applies act itself; otherwise conv_post after it */
  conv_dw *dw;         /* own depthwise kernel (conv_dw.h): replaces op when set */
  bool dw_own;         /* depthwise, for conv_dw.c's or conv_grouped.c's AVX-512 kernel */
  bool use_dw;
  const char *path;    /* kernel path of the current plan, for profiles */
} conv_state;

/* Channel arithmetic between X's channel count c and W's dims. */
static onnxi_status conv_channels(const op_context *ctx, const conv_state *s, int64_t c,
                                  const int64_t *wd, int64_t *m) {
  if (c % s->group)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'group': %lld does not divide %lld input channels",
                    (long long)s->group, (long long)c);
  if (s->transposed) {
    if (wd[0] != c)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "weight 'W' has %lld input channels (dim 0), input 'X' has %lld",
                      (long long)wd[0], (long long)c);
    *m = wd[1] * s->group;
    return ONNXI_OK;
  }
  if (wd[1] * s->group != c)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "weight 'W' has %lld input channels per group, expected %lld (%lld channels / "
                    "group %lld)",
                    (long long)wd[1], (long long)(c / s->group), (long long)c, (long long)s->group);
  if (wd[0] % s->group)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'group': %lld does not divide %lld output channels",
                    (long long)s->group, (long long)wd[0]);
  *m = wd[0];
  return ONNXI_OK;
}

static onnxi_status conv_weight_check(const op_context *ctx, const conv_state *s, int32_t dtype,
                                      int rank, const int64_t *wd) {
  if (dtype != ONNXI_DTYPE_FLOAT)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "weight 'W' has type %s; only float is supported",
                    onnxi_dtype_name((onnxi_dtype)dtype));
  if (rank < 3)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "weight 'W' has rank %d, expected at least 3",
                    rank);
  /* W's dim 0 is the output channels of Conv, the input channels of ConvTranspose */
  if (wd[0] % s->group)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'group': %lld does not divide %lld %s channels", (long long)s->group,
                    (long long)wd[0], s->transposed ? "input" : "output");
  return ONNXI_OK;
}

static onnxi_status conv_bias_check(const op_context *ctx, int32_t dtype, int rank,
                                    const int64_t *dims, int64_t m) {
  if (dtype != ONNXI_DTYPE_FLOAT)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "bias 'B' has type %s; only float is supported",
                    onnxi_dtype_name((onnxi_dtype)dtype));
  if (rank != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "bias 'B' has rank %d, expected 1", rank);
  if (m >= 0 && dims[0] != m)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "bias 'B' has %lld values, expected %lld output channels", (long long)dims[0],
                    (long long)m);
  return ONNXI_OK;
}

static int64_t conv_floor_half(int64_t v) {
  return v >= 0 ? v / 2 : -((1 - v) / 2);
}

/* ConvTranspose output sizes: explicit pads, output_shape or auto_pad (the
 * spec's split of total padding: SAME_UPPER puts the odd pixel at the end,
 * everything else at the start). pad_end is what remains after the output,
 * negative when the output extends past the last contribution. */
static onnxi_status conv_geom_transposed(const op_context *ctx, const conv_state *s,
                                         const int64_t *in, conv_geom *g) {
  const conv_attrs *a = &s->attrs;
  int nsp = g->nsp, shape_off = s->n_out_shape - nsp;
  if (s->n_out_padding >= 0 && s->n_out_padding != nsp)
    return conv_list_check(ctx, "output_padding", s->n_out_padding, nsp);
  if (s->n_out_shape >= 0 && shape_off != 0 && shape_off != 2)
    return conv_list_check(ctx, "output_shape", s->n_out_shape, nsp);
  for (int i = 0; i < nsp; i++) {
    int64_t dk = (g->kernel[i] - 1) * g->dilation[i] + 1, st = g->stride[i];
    int64_t adj = s->n_out_padding > 0 ? s->out_padding[i] : 0, span, out, pb;
    g->in[i] = in[i];
    if (in[i] < 1 || __builtin_mul_overflow(st, in[i] - 1, &span) ||
        __builtin_add_overflow(span, dk, &span) || span > (INT64_MAX >> 2))
      return op_error(ctx, ONNXI_ERR_LIMIT,
                      "input size %lld on spatial axis %d gives no valid output size",
                      (long long)in[i], i);
    if (s->n_out_shape >= 0 || a->auto_pad == CONV_AUTO_PAD_SAME_UPPER ||
        a->auto_pad == CONV_AUTO_PAD_SAME_LOWER) {
      out = s->n_out_shape >= 0 ? s->out_shape[shape_off + i] : in[i] * st;
      int64_t total = span + adj - out;
      pb = a->auto_pad == CONV_AUTO_PAD_SAME_UPPER ? conv_floor_half(total)
                                                   : total - conv_floor_half(total);
      if (pb < 0) pb = 0;
    } else if (a->auto_pad == CONV_AUTO_PAD_VALID || a->n_pads <= 0) {
      pb = 0;
      out = span + adj;
    } else {
      pb = a->pads[i];
      out = span + adj - pb - a->pads[i + nsp];
    }
    if (out < 1)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "output size %lld on spatial axis %d is not positive", (long long)out, i);
    g->out[i] = out;
    g->pad_begin[i] = pb;
    g->pad_end[i] = span - pb - out;
  }
  return ONNXI_OK;
}

/* Shapes of X, W, B -> geometry and channel counts. */
static onnxi_status conv_plan(const op_context *ctx, const conv_state *s, op_tensor *const *in,
                              int n_in, conv_geom *g, int64_t *m) {
  const op_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
  onnxi_status st;
  if (x->dtype != ONNXI_DTYPE_FLOAT)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input 'X' has type %s; only float is supported",
                    onnxi_dtype_name((onnxi_dtype)x->dtype));
  if (x->rank < 3)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'X' has rank %d, expected at least 3",
                    x->rank);
  if ((st = conv_weight_check(ctx, s, w->dtype, w->rank, w->dims))) return st;
  if (w->rank != x->rank)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "weight 'W' has rank %d, expected %d (the rank of X)", w->rank, x->rank);
  if ((st = conv_channels(ctx, s, x->dims[1], w->dims, m))) return st;
  if (b && (st = conv_bias_check(ctx, b->dtype, b->rank, b->dims, *m))) return st;
  if ((st = conv_geom_window(ctx, &s->attrs, x->rank - 2, w->dims + 2, g))) return st;
  if (s->transposed) return conv_geom_transposed(ctx, s, x->dims + 2, g);
  return conv_geom_forward(ctx, &s->attrs, x->dims + 2, g);
}

/* ------------------------------------------------------------------------ */
/* XNNPACK operators                                                        */
/* ------------------------------------------------------------------------ */

/* XNNPACK's pads (top, right, bottom, left) and deconvolution adjustments;
 * false when the geometry does not fit its parameters. */
static bool conv_xnn_config(const conv_geom *g, bool transposed, uint32_t pads[4],
                            uint32_t adj[2]) {
  for (int i = 0; i < 2; i++) {
    int64_t pe = g->pad_end[i] > 0 ? g->pad_end[i] : 0, a = g->pad_end[i] < 0 ? -g->pad_end[i] : 0;
    if (g->pad_begin[i] > CONV_INT_MAX || pe > CONV_INT_MAX) return false;
    if (transposed && a >= g->stride[i]) return false;
    adj[i] = (uint32_t)a;
  }
  pads[0] = (uint32_t)g->pad_begin[0];
  pads[1] = (uint32_t)(g->pad_end[1] > 0 ? g->pad_end[1] : 0);
  pads[2] = (uint32_t)(g->pad_end[0] > 0 ? g->pad_end[0] : 0);
  pads[3] = (uint32_t)g->pad_begin[1];
  return true;
}

/* ONNX weights (strides ws over logical OIHW, or IOHW transposed) into
 * XNNPACK's [group][out][kh][kw][in], or [kh][kw][out] for depthwise. */
static void conv_weights_pack(float *dst, const float *w, const int64_t *ws, const conv_state *s,
                              int64_t m, int64_t cg, int64_t kh, int64_t kw, bool depthwise) {
  int64_t mg = m / s->group;
  for (int64_t o = 0; o < m; o++) {
    int64_t grp = o / mg;
    for (int64_t ky = 0; ky < kh; ky++)
      for (int64_t kx = 0; kx < kw; kx++) {
        const float *src = w + ky * ws[2] + kx * ws[3] +
                           (s->transposed ? grp * cg * ws[0] + (o - grp * mg) * ws[1] : o * ws[0]);
        int64_t ci_stride = s->transposed ? ws[0] : ws[1];
        if (depthwise) {
          dst[(ky * kw + kx) * m + o] = src[0];
          continue;
        }
        float *d = dst + ((o * kh + ky) * kw + kx) * cg;
        for (int64_t ci = 0; ci < cg; ci++)
          d[ci] = src[ci * ci_stride];
      }
  }
}

static onnxi_status conv_xnn_create(const op_context *ctx, conv_state *s, const conv_geom *g,
                                    const float *w, const int64_t *ws, const float *b, int64_t c,
                                    int64_t m) {
  uint32_t pads[4], adj[2];
  int64_t kh = g->kernel[0], kw = g->kernel[1], cg = c / s->group, mg = m / s->group;
  bool depthwise = !s->transposed && cg == 1 && s->group == c;
  enum xnn_status xs;
  if (!conv_xnn_config(g, s->transposed, pads, adj))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "geometry does not fit XNNPACK");
  /* A dense 1x1 filter in OIHW is already XNNPACK's OHWI: no copy (about
   * half of ResNet-50's weights) */
  bool ohwi = !s->transposed && !depthwise && kh == 1 && kw == 1 && ws[1] == 1 && ws[0] == cg;
  float *packed = NULL;
  if (!ohwi) {
    packed = malloc(sizeof(float) * (size_t)(m * kh * kw * cg) + 1);
    if (!packed) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory packing weights");
    conv_weights_pack(packed, w, ws, s, m, cg, kh, kw, depthwise);
  }
  const float *wx = ohwi ? w : packed;
  if (s->op) xnn_delete_operator(s->op);
  s->op = NULL;
  if (s->transposed)
    xs = xnn_create_deconvolution2d_nhwc_f32(
        pads[0], pads[1], pads[2], pads[3], (uint32_t)kh, (uint32_t)kw, (uint32_t)g->stride[0],
        (uint32_t)g->stride[1], (uint32_t)g->dilation[0], (uint32_t)g->dilation[1],
        (uint32_t)s->group, (size_t)cg, (size_t)mg, (size_t)c, (size_t)m, wx, b, s->lo, s->hi,
        0, &s->op);
  else
    xs = xnn_create_convolution2d_nhwc_f32(
        pads[0], pads[1], pads[2], pads[3], (uint32_t)kh, (uint32_t)kw, (uint32_t)g->stride[0],
        (uint32_t)g->stride[1], (uint32_t)g->dilation[0], (uint32_t)g->dilation[1],
        (uint32_t)s->group, (size_t)cg, (size_t)mg, (size_t)c, (size_t)m, wx, b, s->lo, s->hi,
        depthwise ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0, &s->op);
  free(packed);
  if (xs != xnn_status_success) {
    s->op = NULL;
    return conv_xnn_error(ctx, s->transposed ? "deconvolution create" : "convolution create", xs);
  }
  memcpy(s->op_pads, pads, sizeof pads);
  return ONNXI_OK;
}

/* Geometry of a 2-D node whose padding is fixed by its attributes. */
static bool conv_geom_static(const op_context *ctx, const conv_state *s, const int64_t *wkernel,
                             conv_geom *g) {
  const conv_attrs *a = &s->attrs;
  if (a->auto_pad == CONV_AUTO_PAD_SAME_UPPER || a->auto_pad == CONV_AUTO_PAD_SAME_LOWER ||
      s->n_out_shape >= 0 || (s->n_out_padding >= 0 && s->n_out_padding != 2))
    return false;
  op_context quiet = *ctx;
  quiet.err = NULL; /* a bad attribute is reported by infer */
  if (conv_geom_window(&quiet, a, 2, wkernel, g) != ONNXI_OK) return false;
  for (int i = 0; i < 2; i++) {
    bool explicit_pads = a->auto_pad == CONV_AUTO_PAD_NOTSET && a->n_pads > 0;
    g->pad_begin[i] = explicit_pads ? a->pads[i] : 0;
    g->pad_end[i] = explicit_pads ? a->pads[i + 2] : 0;
    if (s->transposed && s->n_out_padding > 0) g->pad_end[i] -= s->out_padding[i];
  }
  return true;
}

#ifdef ONNXI_HAVE_BLAS
/* Dense forward convs whose GEMM BLIS runs faster than XNNPACK (x86-64). */
static bool conv_gemm_wanted_for(const conv_state *s, int64_t c, int64_t m, int64_t kh,
                                 int64_t kw) {
  return !s->transposed && conv_gemm_wanted(s->group, kh * kw * (c / s->group), m / s->group);
}
#endif

/* Init-time operator for constant 2-D weights, so weight packing happens
 * when the session is created rather than at the first plan. */
static onnxi_status conv_prebuild(const op_context *ctx, conv_state *s) {
  const ir_value *w = op_input_const(ctx, 1), *b = op_input_const(ctx, 2);
  int64_t wd[4], ws[4], m, c;
  conv_geom g;
  if (!w || w->shape.rank != 4 || (op_input_count(ctx) > 2 && !b) || !(s->lo < s->hi))
    return ONNXI_OK;
  if (b && (b->dtype != ONNXI_DTYPE_FLOAT || b->shape.rank != 1)) return ONNXI_OK;
  for (int i = 0; i < 4; i++)
    wd[i] = w->shape.dims[i].value;
  if (!conv_geom_static(ctx, s, wd + 2, &g)) return ONNXI_OK;
  c = s->transposed ? wd[0] : wd[1] * s->group;
  m = s->transposed ? wd[1] * s->group : wd[0];
  if (b && b->shape.dims[0].value != m) return ONNXI_OK;
  uint32_t pads[4], adj[2];
  if (c < 1 || m < 1 || !conv_xnn_config(&g, s->transposed, pads, adj)) return ONNXI_OK;
  ws[3] = 1, ws[2] = wd[3], ws[1] = wd[2] * wd[3], ws[0] = wd[1] * ws[1];
#ifdef ONNXI_HAVE_IGEMM
  if (!s->transposed && conv_igemm_wanted(s->group, c, m, wd[2], wd[3], g.dilation[1], s->act)) {
    s->ig_reusable = true;
    return conv_igemm_create(ctx, w->data, ws, b ? b->data : NULL, c, m, wd[2], wd[3], &s->ig);
  }
  /* depthwise ones pick their kernel by map size, at setup */
  if (!s->transposed && s->group != c && conv_grouped_wanted(s->group, c, m, wd[2], wd[3])) {
    s->gr_reusable = true;
    return conv_grouped_create(ctx, w->data, ws, b ? b->data : NULL, c, s->group, wd[2], wd[3],
                               &s->gr);
  }
#endif
#ifdef ONNXI_HAVE_BLAS
  if (conv_gemm_wanted_for(s, c, m, wd[2], wd[3])) {
    s->gemm_reusable = true;
    return conv_gemm_create(ctx, w->data, ws, b ? b->data : NULL, c, m, s->group, wd[2], wd[3],
                            s->lo, s->hi, &s->gemm);
  }
#endif
  if (!s->transposed && conv_dw_wanted(s->group, c, m, wd[2], wd[3])) {
#ifdef ONNXI_HAVE_IGEMM
    /* either own AVX-512 kernel adds R; on AVX2 conv_dw.c's takes only
     * the filters over 25 taps, and R stays a step of its own */
    s->dw_own = conv_igemm_wide();
#endif
    return ONNXI_OK; /* own kernel, packed at setup */
  }
  op_context quiet = *ctx;
  quiet.err = NULL; /* what XNNPACK refuses runs on the reference kernel */
  onnxi_status st = conv_xnn_create(&quiet, s, &g, w->data, ws, b ? b->data : NULL, c, m);
  s->op_reusable = st == ONNXI_OK;
  if (st == ONNXI_ERR_NO_MEMORY)
    return op_error(ctx, st, "out of memory creating the XNNPACK operator");
  return ONNXI_OK;
}

/* ------------------------------------------------------------------------ */
/* Kernel hooks                                                             */
/* ------------------------------------------------------------------------ */

static onnxi_status conv_init_common(op_context *ctx, conv_state *s, bool transposed) {
  onnxi_status st;
  int n = op_input_count(ctx);
  s->transposed = transposed;
  if (n < 2 || n > 3 || ctx->node->inputs[0] == IR_NONE || ctx->node->inputs[1] == IR_NONE)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "expects inputs X, W and optional B, got %d inputs", n);
  if ((st = conv_attrs_parse(ctx, &s->attrs, true, false))) return st;
  if ((st = op_attr_int(ctx, "group", 1, &s->group))) return st;
  if (s->group < 1 || s->group > CONV_INT_MAX)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'group' is %lld, expected >= 1",
                    (long long)s->group);
  if ((st = conv_clamp_parse(ctx, &s->lo, &s->hi))) return st;
  if ((st = conv_act_parse(ctx, &s->act))) return st;
  s->n_out_padding = s->n_out_shape = -1;
  if (transposed &&
      ((st = conv_attr_dims(ctx, "output_padding", 0, CONV_MAX_SP, s->out_padding,
                            &s->n_out_padding)) ||
       (st = conv_attr_dims(ctx, "output_shape", 0, IR_MAX_RANK, s->out_shape, &s->n_out_shape))))
    return st;
  const ir_value *w = op_input_const(ctx, 1), *b = op_input_const(ctx, 2);
  int64_t wd[IR_MAX_RANK];
  if (w) {
    for (int i = 0; i < w->shape.rank; i++)
      wd[i] = w->shape.dims[i].value;
    if ((st = conv_weight_check(ctx, s, w->dtype, w->shape.rank, wd))) return st;
  }
  if (b &&
      (st = conv_bias_check(ctx, b->dtype, b->shape.rank, (int64_t[]){b->shape.dims[0].value}, -1)))
    return st;
  return conv_prebuild(ctx, s);
}

static onnxi_status conv_init(op_context *ctx, void *state) {
  return conv_init_common(ctx, state, false);
}

static onnxi_status conv_transpose_init(op_context *ctx, void *state) {
  return conv_init_common(ctx, state, true);
}

static ir_layout conv_layout(const op_context *ctx, const void *state, op_tensor *const *in,
                             int n_in) {
  (void)ctx, (void)state, (void)n_in;
  return in[0]->rank == 4 ? IR_LAYOUT_NHWC : IR_LAYOUT_PLAIN;
}

static onnxi_status conv_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  conv_state *s = state;
  conv_geom g;
  int64_t m;
  (void)n_out;
  onnxi_status st = conv_plan(ctx, s, in, n_in, &g, &m);
  if (st != ONNXI_OK) return st;
  op_tensor *y = out[0];
  y->dtype = ONNXI_DTYPE_FLOAT;
  y->rank = in[0]->rank;
  y->dims[0] = in[0]->dims[0];
  y->dims[1] = m;
  for (int i = 0; i < g.nsp; i++)
    y->dims[2 + i] = g.out[i];
  y->layout = y->rank == 4 ? IR_LAYOUT_NHWC : IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

static bool conv_xnn_usable(const conv_state *s, op_tensor *const *in, int n_in, const op_tensor *y,
                            const conv_geom *g) {
  const op_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
  uint32_t pads[4], adj[2];
  return x->rank == 4 && x->layout == IR_LAYOUT_NHWC && y->layout == IR_LAYOUT_NHWC &&
         w->is_const && w->data && (!b || (b->is_const && b->data)) && s->lo < s->hi &&
         x->count > 0 && y->count > 0 && conv_xnn_config(g, s->transposed, pads, adj);
}

static onnxi_status conv_setup_xnn(op_context *ctx, conv_state *s, op_tensor *const *in, int n_in,
                                   op_tensor *y, const conv_geom *g) {
  const op_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
  uint32_t pads[4], adj[2];
  int64_t ws[IR_MAX_RANK];
  enum xnn_status xs;
  conv_xnn_config(g, s->transposed, pads, adj);
  bool reusable = op_input_const(ctx, 1) && (!b || op_input_const(ctx, 2));
  if (!(s->op && s->op_reusable && reusable && !memcmp(pads, s->op_pads, sizeof pads))) {
    op_context quiet = *ctx;
    quiet.err = NULL;
    conv_tensor_strides(w, ws);
    s->op_reusable = false;
    onnxi_status st =
        conv_xnn_create(&quiet, s, g, w->data, ws, b ? b->data : NULL, x->dims[1], y->dims[1]);
    if (st == ONNXI_ERR_NO_MEMORY)
      return op_error(ctx, st, "out of memory creating the XNNPACK operator");
    if (st != ONNXI_OK) {
      s->use_xnn = false; /* refused by XNNPACK: reference kernel */
      return ONNXI_OK;
    }
    s->op_reusable = reusable;
  }
  if (s->transposed)
    xs = xnn_setup_deconvolution2d_nhwc_f32(s->op, (size_t)x->dims[0], (size_t)x->dims[2],
                                            (size_t)x->dims[3], adj[0], adj[1], x->data, y->data,
                                            ctx->threadpool);
  else
    xs = xnn_setup_convolution2d_nhwc_f32(s->op, (size_t)x->dims[0], (size_t)x->dims[2],
                                          (size_t)x->dims[3], x->data, y->data, ctx->threadpool);
  if (xs != xnn_status_success)
    return conv_xnn_error(ctx, s->transposed ? "deconvolution setup" : "convolution setup", xs);
  return ONNXI_OK;
}

static void conv_setup_ref(conv_state *s, op_tensor *const *in, int n_in, const op_tensor *y,
                           const conv_geom *g) {
  conv_ref *r = &s->ref;
  r->g = *g;
  r->transposed = s->transposed;
  r->c = in[0]->dims[1];
  r->m = y->dims[1];
  r->group = s->group;
  r->out_pos = conv_prod(g->out, g->nsp);
  r->taps = conv_prod(g->kernel, g->nsp);
  r->lo = s->lo;
  r->hi = s->hi;
  conv_tensor_strides(in[0], r->xs);
  conv_tensor_strides(in[1], r->ws);
  conv_tensor_strides(y, r->ys);
  (void)n_in;
}

/* The GEMM and depthwise paths' view of a 2-D NHWC plan. */
static conv_gemm_shape conv_shape_of(const op_tensor *x, const op_tensor *y, const conv_geom *g) {
  return (conv_gemm_shape){.n = x->dims[0], .ih = x->dims[2], .iw = x->dims[3],
                           .oh = y->dims[2], .ow = y->dims[3], .sh = g->stride[0],
                           .sw = g->stride[1], .dh = g->dilation[0], .dw = g->dilation[1],
                           .pt = g->pad_begin[0], .pl = g->pad_begin[1]};
}

#ifdef ONNXI_HAVE_BLAS
/* The GEMM path for this plan: (re)packs weights unless the init-time pack
 * from load-time constants still applies, then binds shapes and buffers. */
static onnxi_status conv_setup_gemm(op_context *ctx, conv_state *s, op_tensor *const *in,
                                    int n_in, op_tensor *y, const conv_geom *g) {
  const op_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
  bool reusable = op_input_const(ctx, 1) && (!b || op_input_const(ctx, 2));
  if (!(s->gemm && s->gemm_reusable && reusable)) {
    int64_t ws[IR_MAX_RANK];
    conv_tensor_strides(w, ws);
    conv_gemm_destroy(s->gemm);
    s->gemm = NULL;
    onnxi_status st = conv_gemm_create(ctx, w->data, ws, b ? b->data : NULL, x->dims[1],
                                       y->dims[1], s->group, w->dims[2], w->dims[3], s->lo, s->hi,
                                       &s->gemm);
    if (st != ONNXI_OK) return st;
    s->gemm_reusable = reusable;
  }
  conv_gemm_shape sh = conv_shape_of(x, y, g);
  onnxi_status st = conv_gemm_setup(ctx, s->gemm, &sh, x->data, y->data);
  s->path = conv_gemm_path(s->gemm);
  return st;
}
#endif

/* The own kernels' epilogue: a folded residual's Add brings its own clamp
 * (the conv has none then, and no act: plan_residual_fuse checks). */
static conv_epilogue conv_epilogue_of(const conv_state *s) {
  return (conv_epilogue){.res = s->res, .lo = s->res ? s->res_lo : s->lo,
                         .hi = s->res ? s->res_hi : s->hi, .act = s->act};
}

#ifdef ONNXI_HAVE_IGEMM
/* The own AVX-512 path for this plan: repacks unless the init-time pack
 * from load-time constants still applies. */
static onnxi_status conv_setup_igemm(op_context *ctx, conv_state *s, op_tensor *const *in,
                                     int n_in, op_tensor *y, const conv_geom *g, bool *fits) {
  const op_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
  bool reusable = op_input_const(ctx, 1) && (!b || op_input_const(ctx, 2));
  if (!(s->ig && s->ig_reusable && reusable)) {
    int64_t ws[IR_MAX_RANK];
    conv_tensor_strides(w, ws);
    conv_igemm_destroy(s->ig);
    s->ig = NULL;
    onnxi_status st = conv_igemm_create(ctx, w->data, ws, b ? b->data : NULL, x->dims[1],
                                        y->dims[1], w->dims[2], w->dims[3], &s->ig);
    if (st != ONNXI_OK) return st;
    s->ig_reusable = reusable;
  }
  conv_gemm_shape sh = conv_shape_of(x, y, g);
  *fits = conv_igemm_fits(s->ig, &sh);
  if (!*fits) return ONNXI_OK;
  s->path = "own-igemm";
  s->res_fused = s->res != NULL;
  s->act_fused = true;
  conv_epilogue ep = conv_epilogue_of(s);
  return conv_igemm_setup(ctx, s->ig, &sh, x->data, y->data, &ep);
}

#ifdef ONNXI_HAVE_WINOGRAD
/* The Winograd path for this plan, repacking as conv_setup_igemm. The
 * direct packing from load time goes: a plan that wants it again repacks. */
static onnxi_status conv_setup_wino(op_context *ctx, conv_state *s, op_tensor *const *in,
                                    int n_in, op_tensor *y, const conv_gemm_shape *sh) {
  const op_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
  bool reusable = op_input_const(ctx, 1) && (!b || op_input_const(ctx, 2));
  conv_igemm_destroy(s->ig);
  s->ig = NULL;
  if (!(s->wn && s->wn_reusable && reusable)) {
    int64_t ws[IR_MAX_RANK];
    conv_tensor_strides(w, ws);
    conv_wino_destroy(s->wn);
    s->wn = NULL;
    onnxi_status st = conv_wino_create(ctx, w->data, ws, b ? b->data : NULL, x->dims[1],
                                       y->dims[1], &s->wn);
    if (st != ONNXI_OK) return st;
    s->wn_reusable = reusable;
  }
  s->path = "own-winograd";
  s->res_fused = s->res != NULL;
  s->act_fused = true;
  conv_epilogue ep = conv_epilogue_of(s);
  return conv_wino_setup(ctx, s->wn, sh, x->data, y->data, &ep);
}
#endif

/* The own narrow-group path for this plan, repacking as conv_setup_igemm. */
static onnxi_status conv_setup_grouped(op_context *ctx, conv_state *s, op_tensor *const *in,
                                       int n_in, op_tensor *y, const conv_geom *g) {
  const op_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
  bool reusable = op_input_const(ctx, 1) && (!b || op_input_const(ctx, 2));
  if (!(s->gr && s->gr_reusable && reusable)) {
    int64_t ws[IR_MAX_RANK];
    conv_tensor_strides(w, ws);
    conv_grouped_destroy(s->gr);
    s->gr = NULL;
    onnxi_status st = conv_grouped_create(ctx, w->data, ws, b ? b->data : NULL, x->dims[1],
                                          s->group, w->dims[2], w->dims[3], &s->gr);
    if (st != ONNXI_OK) return st;
    s->gr_reusable = reusable;
  }
  conv_gemm_shape sh = conv_shape_of(x, y, g);
  s->res_fused = s->res != NULL;
  s->act_fused = true;
  conv_epilogue ep = conv_epilogue_of(s);
  conv_grouped_setup(s->gr, &sh, x->data, y->data, &ep);
  s->path = "own-grouped";
  return ONNXI_OK;
}
#endif

/* The own depthwise kernel for this plan (weights are small: packed per plan). */
static onnxi_status conv_setup_dw(op_context *ctx, conv_state *s, op_tensor *const *in, int n_in,
                                  op_tensor *y, const conv_geom *g) {
  const op_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
  int64_t ws[IR_MAX_RANK];
  conv_tensor_strides(w, ws);
  conv_dw_destroy(s->dw);
  s->dw = NULL;
  onnxi_status st = conv_dw_create(ctx, w->data, ws, b ? b->data : NULL, x->dims[1], w->dims[2],
                                   w->dims[3], s->lo, s->hi, &s->dw);
  if (st != ONNXI_OK) return st;
  conv_gemm_shape sh = conv_shape_of(x, y, g);
  s->act_fused = conv_dw_fuses_epilogue(s->dw);
  s->res_fused = s->act_fused && s->res != NULL;
  conv_epilogue ep = conv_epilogue_of(s);
  conv_dw_setup(s->dw, &sh, x->data, y->data, &ep);
  s->path = "own-dwconv";
  return ONNXI_OK;
}

/* A residual Add folded in at plan time (exec_plan.c checked R's shape and
 * layout against Y's; rechecked here since the kernel indexes by them). */
static onnxi_status conv_residual_bind(op_context *ctx, conv_state *s, op_tensor *const *in,
                                       int n_in, const op_tensor *y) {
  s->res = NULL;
  s->res_fused = false;
  if (!ctx->fused) return ONNXI_OK;
  const op_tensor *r = n_in > 3 ? in[3] : NULL;
  if (!r || r->count != y->count || r->layout != y->layout || r->dtype != ONNXI_DTYPE_FLOAT)
    return op_error(ctx, ONNXI_ERR_RUNTIME, "fused residual input does not match the output");
  op_context add = *ctx;
  add.node = ctx->fused;
  onnxi_status st = conv_clamp_parse(&add, &s->res_lo, &s->res_hi);
  if (st != ONNXI_OK) return st;
  s->res = r->data;
  return ONNXI_OK;
}

typedef struct conv_post_job {
  float *y;
  const float *r; /* NULL: no residual */
  size_t n;
  float lo, hi;
  int act;
} conv_post_job;

/* Restrict-qualified locals: through the job's pointers GCC assumed y could
 * alias everything and ran this scalar, 5 ns per element. */
OP_VECTOR_LOOP
static void conv_residual_span(float *restrict y, const float *restrict r, size_t n, float lo,
                               float hi) {
  for (size_t i = 0; i < n; i++) {
    float v = y[i] + r[i];
    v = v < lo ? lo : v;
    y[i] = v > hi ? hi : v;
  }
}

static void conv_post_task(void *arg, size_t start, size_t count) {
  const conv_post_job *j = arg;
  size_t i0 = start * CONV_POST_CHUNK, i1 = (start + count) * CONV_POST_CHUNK;
  if (i1 > j->n) i1 = j->n;
  if (j->r) conv_residual_span(j->y + i0, j->r + i0, i1 - i0, j->lo, j->hi);
  op_act_inplace(j->act, j->y + i0, i1 - i0);
}

/* What the path did not do of the epilogue, as one pass over Y: the folded
 * residual's clamp(Y + R) where a plan's geometry sent a conv packed for
 * the own kernel to XNNPACK (conv_igemm_fits refused it), and the fused
 * activation after any path but the own kernels. */
static void conv_post(const conv_state *s, float *y, int64_t count, pthreadpool_t pool) {
  bool res = s->res && !s->res_fused, act = s->act && !s->act_fused;
  if (!res && !act) return;
  conv_post_job j = {y, res ? s->res : NULL, (size_t)count, s->res_lo, s->res_hi,
                     act ? s->act : OP_ACT_NONE};
  conv_parallelize(pool, conv_post_task, &j, (j.n + CONV_POST_CHUNK - 1) / CONV_POST_CHUNK);
}

static const char *conv_xnn_path(const conv_state *s, int64_t c) {
  if (s->transposed) return "xnn-deconv";
  return s->group == c && s->group > 1 ? "xnn-dwconv" : "xnn-conv";
}

static onnxi_status conv_setup_path(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                    op_tensor *const *out, int n_out) {
  conv_state *s = state;
  conv_geom g;
  int64_t m;
  (void)n_out;
  onnxi_status st = conv_plan(ctx, s, in, n_in, &g, &m);
  if (st == ONNXI_OK) st = conv_residual_bind(ctx, s, in, n_in, out[0]);
  if (st != ONNXI_OK) return st;
  s->skip = out[0]->count == 0;
  s->act_fused = false;
  s->use_xnn = !s->skip && conv_xnn_usable(s, in, n_in, out[0], &g);
  s->path = s->skip ? "none" : "ref";
  /* depthwise kernels are picked by filter and map size (2-D only) */
  int64_t taps = g.kernel[0] * g.kernel[1];
  int64_t pixels = out[0]->rank == 4 ? out[0]->dims[2] * out[0]->dims[3] : 0;
#ifdef ONNXI_HAVE_IGEMM
  s->use_ig = s->use_xnn && !s->transposed &&
              conv_igemm_wanted(s->group, in[0]->dims[1], m, g.kernel[0], g.kernel[1],
                                g.dilation[1], s->act);
#ifdef ONNXI_HAVE_WINOGRAD
  conv_gemm_shape sh = conv_shape_of(in[0], out[0], &g);
  size_t threads = ctx->threadpool ? pthreadpool_get_threads_count(ctx->threadpool) : 1;
  s->use_wn = s->use_ig && conv_wino_wanted(s->group, in[0]->dims[1], m, g.kernel[0],
                                            g.kernel[1], &sh, threads);
  if (s->use_wn) {
    s->use_ig = s->use_xnn = false;
    return conv_setup_wino(ctx, s, in, n_in, out[0], &sh);
  }
#endif
  if (s->use_ig) {
    bool fits = false;
    st = conv_setup_igemm(ctx, s, in, n_in, out[0], &g, &fits);
    if (st != ONNXI_OK || fits) {
      s->use_xnn = false;
      return st;
    }
    s->use_ig = false; /* a geometry the own path does not take: XNNPACK below */
  }
  s->use_gr = s->use_xnn && !s->transposed &&
              conv_grouped_wanted(s->group, in[0]->dims[1], m, g.kernel[0], g.kernel[1]) &&
              (s->group != m || conv_grouped_dw_fits(m, taps, pixels, s->act));
  if (s->use_gr) {
    s->use_xnn = false;
    return conv_setup_grouped(ctx, s, in, n_in, out[0], &g);
  }
#endif
#ifdef ONNXI_HAVE_BLAS
  s->use_gemm = s->use_xnn && conv_gemm_wanted_for(s, in[0]->dims[1], m, g.kernel[0], g.kernel[1]);
  if (s->use_gemm) {
    s->use_xnn = false;
    return conv_setup_gemm(ctx, s, in, n_in, out[0], &g);
  }
#endif
  s->use_dw = s->use_xnn && !s->transposed &&
              conv_dw_wanted(s->group, in[0]->dims[1], m, g.kernel[0], g.kernel[1]) &&
              (!conv_dw_simd() || conv_dw_rows_fit(taps, pixels, s->act));
  if (s->use_dw) {
    s->use_xnn = false;
    return conv_setup_dw(ctx, s, in, n_in, out[0], &g);
  }
  if (s->use_xnn && (st = conv_setup_xnn(ctx, s, in, n_in, out[0], &g))) return st;
  if (s->use_xnn) s->path = conv_xnn_path(s, in[0]->dims[1]);
  if (!s->use_xnn) conv_setup_ref(s, in, n_in, out[0], &g);
  return ONNXI_OK;
}

/* The plan may write Y over a folded residual R that dies at this step
 * (exec_plan.c): the own kernels read R at each element just before they
 * write Y there; a path that writes all of Y first needs R saved. */
static onnxi_status conv_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  conv_state *s = state;
  onnxi_status st = conv_setup_path(ctx, state, in, n_in, out, n_out);
  s->res_over = NULL;
  if (st != ONNXI_OK || !s->res || s->res_fused || s->res != out[0]->data) return st;
  size_t n = (size_t)out[0]->count;
  if (n > s->res_copy_cap) {
    free(s->res_copy);
    s->res_copy = malloc(sizeof(float) * n);
    s->res_copy_cap = s->res_copy ? n : 0;
    if (!s->res_copy)
      return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory saving the fused residual");
  }
  s->res_over = s->res;
  s->res = s->res_copy;
  return ONNXI_OK;
}

static onnxi_status conv_run_path(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  conv_state *s = state;
  (void)n_out;
  if (s->skip) return ONNXI_OK;
#ifdef ONNXI_HAVE_IGEMM
  if (s->use_ig) {
    conv_igemm_run(s->ig, ctx->threadpool);
    return ONNXI_OK;
  }
#ifdef ONNXI_HAVE_WINOGRAD
  if (s->use_wn) {
    conv_wino_run(s->wn, ctx->threadpool);
    return ONNXI_OK;
  }
#endif
  if (s->use_gr) {
    conv_grouped_run(s->gr, ctx->threadpool);
    return ONNXI_OK;
  }
#endif
#ifdef ONNXI_HAVE_BLAS
  if (s->use_gemm) {
    conv_gemm_run(s->gemm, ctx->threadpool);
    return ONNXI_OK;
  }
#endif
  if (s->use_dw) {
    conv_dw_run(s->dw, ctx->threadpool);
    return ONNXI_OK;
  }
  if (s->use_xnn) {
    enum xnn_status xs = xnn_run_operator(s->op, ctx->threadpool);
    return xs == xnn_status_success ? ONNXI_OK : conv_xnn_error(ctx, "convolution run", xs);
  }
  conv_ref *r = &s->ref;
  r->x = in[0]->data;
  r->w = in[1]->data;
  r->b = n_in > 2 && in[2] ? in[2]->data : NULL;
  r->y = out[0]->data;
  conv_parallelize(ctx->threadpool, conv_ref_tile, r, (size_t)(in[0]->dims[0] * r->out_pos));
  return ONNXI_OK;
}

static onnxi_status conv_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  conv_state *s = state;
  if (s->res_over) memcpy(s->res_copy, s->res_over, sizeof(float) * (size_t)out[0]->count);
  onnxi_status st = conv_run_path(ctx, state, in, n_in, out, n_out);
  if (st == ONNXI_OK && !s->skip) conv_post(s, out[0]->data, out[0]->count, ctx->threadpool);
  return st;
}

static void conv_release(void *state) {
  conv_state *s = state;
  free(s->res_copy);
  s->res_copy = NULL, s->res_copy_cap = 0;
  if (s->op) xnn_delete_operator(s->op);
  s->op = NULL;
  conv_dw_destroy(s->dw);
  s->dw = NULL;
#ifdef ONNXI_HAVE_IGEMM
  conv_igemm_destroy(s->ig);
  s->ig = NULL;
  conv_grouped_destroy(s->gr);
  s->gr = NULL;
#endif
#ifdef ONNXI_HAVE_WINOGRAD
  conv_wino_destroy(s->wn);
  s->wn = NULL;
#endif
#ifdef ONNXI_HAVE_BLAS
  conv_gemm_destroy(s->gemm);
  s->gemm = NULL;
#endif
}

static const char *conv_path(const void *state) {
  return ((const conv_state *)state)->path;
}

/* Packed at load for an own AVX-512 kernel (depthwise: meant for one, packed
 * at setup), whose epilogue adds R; and no activation, which would have to
 * come before the Add. */
static bool conv_residual_ok(const void *state) {
#ifdef ONNXI_HAVE_IGEMM
  const conv_state *s = state;
  return (s->ig || s->gr || s->wn || s->dw_own) && !s->act; /* wn: ig's replacement after a plan */
#else
  (void)state;
  return false;
#endif
}

const op_kernel op_conv = {
    .name = "Conv",
    .state_size = sizeof(conv_state),
    .init = conv_init,
    .layout = conv_layout,
    .flags = OP_KERNEL_LAYOUT_INPUT0 | OP_KERNEL_RESIDUAL,
    .infer = conv_infer,
    .setup = conv_setup,
    .run = conv_run,
    .release = conv_release,
    .path = conv_path,
    .residual_ok = conv_residual_ok,
};

const op_kernel op_conv_transpose = {
    .name = "ConvTranspose",
    .state_size = sizeof(conv_state),
    .init = conv_transpose_init,
    .layout = conv_layout,
    .flags = OP_KERNEL_LAYOUT_INPUT0,
    .infer = conv_infer,
    .setup = conv_setup,
    .run = conv_run,
    .release = conv_release,
    .path = conv_path,
};
