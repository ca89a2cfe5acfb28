/* Resize (opsets 10 and 11-17) and Upsample (7-9).
 *
 * Every mode is separable: output coordinate x maps to an input coordinate
 * per axis, then nearest picks one input index, linear two and cubic four,
 * each with a weight. Tables of (index, weight) per output position are
 * built at setup; the kernels then work on storage axes, so NHWC (the layout
 * asked for rank-4 float inputs) and PLAIN share one code path:
 *   nearest: one gather pass, copying contiguous runs of unresized trailing
 *            dims (any dtype);
 *   linear / cubic: one pass per resized axis through ping-pong scratch;
 *   bilinear on H and W of NHWC float with matching coordinates: XNNPACK. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xnnpack.h>

#include "kernel.h"

typedef enum rz_mode { RZ_NEAREST, RZ_LINEAR, RZ_CUBIC } rz_mode;

typedef enum rz_coord {
  RZ_HALF_PIXEL,
  RZ_PYTORCH_HALF_PIXEL,
  RZ_ALIGN_CORNERS,
  RZ_ASYMMETRIC,
  RZ_TF_HALF_PIXEL_FOR_NN,
  RZ_TF_CROP_AND_RESIZE
} rz_coord;

typedef enum rz_round {
  RZ_ROUND_PREFER_FLOOR,
  RZ_ROUND_PREFER_CEIL,
  RZ_FLOOR,
  RZ_CEIL,
  RZ_ROUND_LEGACY /* opset < 11 (onnxruntime's choice): floor upsampling, ceil downsampling */
} rz_round;

#define RZ_MAX_TAPS 4
#define RZ_TILE_ELEMS 4096

/* One storage axis of the resize: out[x] = sum_t w[x][t] * in[idx[x][t]];
 * idx[x][0] < 0 marks an extrapolated position. */
typedef struct rz_axis {
  int64_t in, out;
  int logical;
  int taps; /* 0: not resized */
  int64_t *idx;
  double *w;
} rz_axis;

typedef struct rz_state {
  const char *op;
  bool upsample_attr; /* Upsample-7: scales attribute */
  bool v10;           /* Upsample-9 and Resize-10: inputs (X, scales) */
  rz_mode mode;
  rz_coord coord;
  rz_round round;
  float cubic_a;
  bool exclude_outside;
  float extrapolation;
  const float *attr_scales;
  int64_t n_attr_scales;
  /* plan (infer) */
  int rank;
  double scale[IR_MAX_RANK];
  double roi[2 * IR_MAX_RANK];
  /* setup */
  rz_axis ax[IR_MAX_RANK];
  void *tables;
  size_t tables_cap;
  void *scratch;
  size_t scratch_cap;
  size_t scratch_half; /* bytes of each ping-pong half */
  uint8_t fill[8];     /* extrapolation_value in the output dtype */
  xnn_operator_t xnn;
} rz_state;

/* --- attributes ------------------------------------------------------------------------------ */

static int rz_lookup(const char *s, const char *const *names, int n) {
  for (int i = 0; i < n; i++)
    if (names[i] && strcmp(s, names[i]) == 0) return i;
  return -1;
}

static onnxi_status rz_string_attr(op_context *ctx, const char *attr, const char *def,
                                   const char *const *names, int n, int *out) {
  const char *v;
  onnxi_status st = op_attr_string(ctx, attr, def, &v);
  if (st != ONNXI_OK) return st;
  *out = rz_lookup(v, names, n);
  if (*out < 0)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute '%s': unknown value '%s'", attr, v);
  return ONNXI_OK;
}

static onnxi_status rz_mode_attr(op_context *ctx, rz_state *s) {
  static const char *const modes[] = {"nearest", "linear", "cubic", "bilinear"};
  int m;
  onnxi_status st =
      rz_string_attr(ctx, "mode", "nearest", modes, s->v10 || s->upsample_attr ? 4 : 3, &m);
  if (st != ONNXI_OK) return st;
  s->mode = m == 3 ? RZ_LINEAR : (rz_mode)m; /* "bilinear": early Upsample spelling */
  if (s->mode == RZ_CUBIC && (s->v10 || s->upsample_attr))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'mode': 'cubic' needs Resize from opset 11");
  return ONNXI_OK;
}

static onnxi_status rz_attrs_v11(op_context *ctx, rz_state *s) {
  static const char *const coords[] = {"half_pixel", "pytorch_half_pixel",   "align_corners",
                                       "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  static const char *const rounds[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  int c, r;
  int64_t excl;
  onnxi_status st =
      rz_string_attr(ctx, "coordinate_transformation_mode", "half_pixel", coords, 6, &c);
  if (st == ONNXI_OK) st = rz_string_attr(ctx, "nearest_mode", "round_prefer_floor", rounds, 4, &r);
  if (st == ONNXI_OK) st = op_attr_float(ctx, "cubic_coeff_a", -0.75f, &s->cubic_a);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "exclude_outside", 0, &excl);
  if (st == ONNXI_OK) st = op_attr_float(ctx, "extrapolation_value", 0.0f, &s->extrapolation);
  if (st != ONNXI_OK) return st;
  if (c == RZ_TF_HALF_PIXEL_FOR_NN && ctx->opset >= 13)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'coordinate_transformation_mode': 'tf_half_pixel_for_nn' was "
                    "removed in opset 13");
  if (excl != 0 && excl != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'exclude_outside' must be 0 or 1, not %lld", (long long)excl);
  s->coord = (rz_coord)c;
  s->round = (rz_round)r;
  s->exclude_outside = excl;
  return ONNXI_OK;
}

static onnxi_status rz_init_common(op_context *ctx, rz_state *s) {
  onnxi_status st = rz_mode_attr(ctx, s);
  if (st != ONNXI_OK) return st;
  int n_in = op_input_count(ctx);
  if (ctx->node->n_inputs < 1 || ctx->node->inputs[0] == IR_NONE)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input X is missing");
  if (s->upsample_attr) {
    s->coord = RZ_ASYMMETRIC;
    s->round = RZ_ROUND_LEGACY;
    st = op_attr_floats(ctx, "scales", &s->attr_scales, &s->n_attr_scales);
    if (st != ONNXI_OK) return st;
    if (s->n_attr_scales < 0)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'scales' is missing");
    return ONNXI_OK;
  }
  if (s->v10) {
    s->coord = RZ_ASYMMETRIC;
    s->round = RZ_ROUND_LEGACY;
    if (n_in != 2 || ctx->node->inputs[1] == IR_NONE)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects inputs X and scales, got %d", n_in);
    return ONNXI_OK;
  }
  if (n_in < 2 || n_in > 4)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects inputs X, roi, scales, sizes; got %d",
                    n_in);
  return rz_attrs_v11(ctx, s);
}

static onnxi_status rz_resize_init(op_context *ctx, void *state) {
  rz_state *s = state;
  s->op = "Resize";
  s->v10 = ctx->opset < 11;
  return rz_init_common(ctx, s);
}

static onnxi_status rz_upsample_init(op_context *ctx, void *state) {
  rz_state *s = state;
  s->op = "Upsample";
  s->upsample_attr = ctx->opset < 9;
  s->v10 = !s->upsample_attr;
  return rz_init_common(ctx, s);
}

/* --- plan ---------------------------------------------------------------------------------- */

static double rz_float_at(const op_tensor *t, int64_t i) {
  switch (t->dtype) {
  case ONNXI_DTYPE_FLOAT: return ((const float *)t->data)[i];
  case ONNXI_DTYPE_DOUBLE: return ((const double *)t->data)[i];
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(((const uint16_t *)t->data)[i]);
  default: return NAN;
  }
}

static onnxi_status rz_float_input(op_context *ctx, const op_tensor *t, int k, const char *name,
                                   op_tensor *view) {
  const void *data;
  onnxi_status st = op_tensor_plan_value(ctx, t, k, &data);
  if (st != ONNXI_OK) return st;
  if (t->dtype != ONNXI_DTYPE_FLOAT && t->dtype != ONNXI_DTYPE_DOUBLE &&
      t->dtype != ONNXI_DTYPE_FLOAT16)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input '%s' must be floating point, not dtype %d",
                    name, t->dtype);
  *view = *t;
  view->data = (void *)data;
  return ONNXI_OK;
}

/* Fills s->scale from scales (attribute or input) or sizes, and out dims. */
static onnxi_status rz_scales(op_context *ctx, rz_state *s, op_tensor *const *in, int n_in,
                              int64_t *out) {
  const op_tensor *x = in[0];
  const op_tensor *scales = NULL, *sizes = NULL;
  op_tensor sv = {0};
  if (!s->upsample_attr) {
    int k = s->v10 ? 1 : 2;
    if (k < n_in && in[k] && in[k]->count > 0) scales = in[k];
    if (!s->v10 && n_in > 3 && in[3] && in[3]->count > 0) sizes = in[3];
    if (scales && sizes)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "inputs 'scales' and 'sizes' are both given");
    if (!scales && !sizes)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "one of inputs 'scales' and 'sizes' must be given");
  }
  if (sizes) {
    const void *data;
    onnxi_status st = op_tensor_plan_value(ctx, sizes, 3, &data);
    if (st != ONNXI_OK) return st;
    if (sizes->dtype != ONNXI_DTYPE_INT64 || sizes->count != x->rank)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'sizes' must hold %d int64 values",
                      x->rank);
    for (int d = 0; d < x->rank; d++) {
      out[d] = ((const int64_t *)data)[d];
      if (out[d] < 0)
        return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'sizes': %lld for axis %d is negative",
                        (long long)out[d], d);
      s->scale[d] = x->dims[d] ? (double)out[d] / (double)x->dims[d] : 1.0;
    }
    return ONNXI_OK;
  }
  int64_t count = s->upsample_attr ? s->n_attr_scales : scales->count;
  if (count != x->rank)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "%s 'scales' has %lld values for rank %d",
                    s->upsample_attr ? "attribute" : "input", (long long)count, x->rank);
  if (scales) {
    onnxi_status st = rz_float_input(ctx, scales, s->v10 ? 1 : 2, "scales", &sv);
    if (st != ONNXI_OK) return st;
  }
  for (int d = 0; d < x->rank; d++) {
    double v = s->upsample_attr ? s->attr_scales[d] : rz_float_at(&sv, d);
    if (!(v > 0) || !isfinite(v))
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "scale %g for axis %d must be > 0", v, d);
    double o = floor(v * (double)x->dims[d]);
    if (o > (double)INT64_MAX / 4)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "scale %g for axis %d is too large", v, d);
    s->scale[d] = v;
    out[d] = (int64_t)o;
  }
  return ONNXI_OK;
}

static onnxi_status rz_roi(op_context *ctx, rz_state *s, op_tensor *const *in, int n_in, int rank) {
  if (s->coord != RZ_TF_CROP_AND_RESIZE) return ONNXI_OK;
  if (n_in < 2 || !in[1] || in[1]->count != 2 * rank)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "'tf_crop_and_resize' needs input 'roi' of %d values", 2 * rank);
  op_tensor rv = {0};
  onnxi_status st = rz_float_input(ctx, in[1], 1, "roi", &rv);
  if (st != ONNXI_OK) return st;
  for (int i = 0; i < 2 * rank; i++) s->roi[i] = rz_float_at(&rv, i);
  return ONNXI_OK;
}

static bool rz_dtype_interpolates(int32_t dtype) {
  return dtype == ONNXI_DTYPE_FLOAT || dtype == ONNXI_DTYPE_DOUBLE;
}

static onnxi_status rz_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  rz_state *s = state;
  (void)n_out;
  const op_tensor *x = in[0];
  if (x->rank < 1) return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input X must have rank >= 1");
  if (s->mode != RZ_NEAREST && !rz_dtype_interpolates(x->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "%s mode on dtype %d (float and double only)",
                    s->mode == RZ_LINEAR ? "linear" : "cubic", x->dtype);
  if (!ir_dtype_size(x->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "dtype %d is not supported", x->dtype);
  op_tensor *y = out[0];
  onnxi_status st = rz_scales(ctx, s, in, n_in, y->dims);
  if (st == ONNXI_OK) st = rz_roi(ctx, s, in, n_in, x->rank);
  if (st != ONNXI_OK) return st;
  s->rank = x->rank;
  y->dtype = x->dtype;
  y->rank = x->rank;
  y->layout = x->layout;
  return ONNXI_OK;
}

static ir_layout rz_layout(const op_context *ctx, const void *state, op_tensor *const *in,
                           int n_in) {
  (void)ctx, (void)state, (void)n_in;
  return in[0]->rank == 4 && in[0]->dtype == ONNXI_DTYPE_FLOAT ? IR_LAYOUT_NHWC : IR_LAYOUT_PLAIN;
}

/* --- coefficient tables ------------------------------------------------------------------------
 */

/* Input coordinate of output position x on one logical axis (ONNX's formulas;
 * "length_resized" is scale * in as the reference implementation computes it). */
static double rz_coord_of(const rz_state *s, int axis, double x, int64_t in, int64_t out) {
  double sc = s->scale[axis], out_f = sc * (double)in;
  switch (s->coord) {
  case RZ_HALF_PIXEL: return (x + 0.5) / sc - 0.5;
  case RZ_PYTORCH_HALF_PIXEL: return out > 1 ? (x + 0.5) / sc - 0.5 : 0.0;
  case RZ_ALIGN_CORNERS: return out_f == 1.0 ? 0.0 : x * (double)(in - 1) / (out_f - 1.0);
  case RZ_ASYMMETRIC: return x / sc;
  case RZ_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / sc;
  case RZ_TF_CROP_AND_RESIZE: {
    double r0 = s->roi[axis], r1 = s->roi[s->rank + axis];
    if (out_f == 1.0) return 0.5 * (r0 + r1) * (double)(in - 1);
    return r0 * (double)(in - 1) + x * (r1 - r0) * (double)(in - 1) / (out_f - 1.0);
  }
  }
  return 0;
}

static int64_t rz_nearest(const rz_state *s, double c, bool down) {
  double f = floor(c);
  switch (s->round) {
  case RZ_ROUND_PREFER_FLOOR: return (int64_t)(c - f <= 0.5 ? f : f + 1);
  case RZ_ROUND_PREFER_CEIL: return (int64_t)(c - f < 0.5 ? f : f + 1);
  case RZ_FLOOR: return (int64_t)f;
  case RZ_CEIL: return (int64_t)ceil(c);
  case RZ_ROUND_LEGACY: return (int64_t)(down ? ceil(c) : trunc(c));
  }
  return (int64_t)f;
}

static void rz_cubic_weights(double t, double a, double *w) {
  double u = 1.0 - t;
  w[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  w[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  w[2] = ((a + 2) * u - (a + 3)) * u * u + 1;
  w[3] = ((a * (u + 1) - 5 * a) * (u + 1) + 8 * a) * (u + 1) - 4 * a;
}

static int64_t rz_clamp(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

/* Taps of output position x of axis a. */
static void rz_taps(const rz_state *s, const rz_axis *a, int64_t x, int64_t *idx, double *w) {
  double c = rz_coord_of(s, a->logical, (double)x, a->in, a->out);
  if (s->coord == RZ_TF_CROP_AND_RESIZE && (c < 0 || c > (double)(a->in - 1))) {
    idx[0] = -1;
    for (int t = 0; t < a->taps; t++) w[t] = 0, idx[t] = t ? 0 : -1;
    return;
  }
  if (s->mode == RZ_NEAREST) {
    idx[0] = rz_clamp(rz_nearest(s, c, s->scale[a->logical] < 1.0), a->in);
    w[0] = 1;
    return;
  }
  double f = floor(c), t = c - f;
  int64_t i0 = (int64_t)f;
  if (s->mode == RZ_LINEAR) {
    idx[0] = rz_clamp(i0, a->in), idx[1] = rz_clamp(i0 + 1, a->in);
    w[0] = 1 - t, w[1] = t;
    return;
  }
  rz_cubic_weights(t, s->cubic_a, w);
  double sum = 0;
  for (int k = 0; k < 4; k++) {
    int64_t i = i0 - 1 + k;
    if (s->exclude_outside && (i < 0 || i >= a->in)) w[k] = 0;
    sum += w[k];
    idx[k] = rz_clamp(i, a->in);
  }
  if (s->exclude_outside && sum != 0)
    for (int k = 0; k < 4; k++) w[k] /= sum;
}

/* Storage axis j of a tensor in `layout` is logical axis rz_logical(j). */
static int rz_logical(int j, int rank, ir_layout layout) {
  static const int nchw_of_nhwc[4] = {0, 2, 3, 1};
  return layout == IR_LAYOUT_NHWC && rank == 4 ? nchw_of_nhwc[j] : j;
}

/* False when the axis maps every output index to itself. */
static bool rz_axis_resized(const rz_state *s, int logical, int64_t in, int64_t out) {
  if (s->coord == RZ_TF_CROP_AND_RESIZE || in != out) return true;
  if (in == 1) return false; /* every index clamps to 0 */
  return s->scale[logical] != 1.0 || s->coord == RZ_TF_HALF_PIXEL_FOR_NN;
}

static onnxi_status rz_tables_build(const op_context *ctx, rz_state *s, const op_tensor *x,
                                    const op_tensor *y) {
  int rank = x->rank;
  int taps = s->mode == RZ_NEAREST ? 1 : s->mode == RZ_LINEAR ? 2 : RZ_MAX_TAPS;
  size_t total = 0;
  for (int j = 0; j < rank; j++) {
    rz_axis *a = &s->ax[j];
    a->logical = rz_logical(j, rank, x->layout);
    a->in = x->dims[a->logical];
    a->out = y->dims[a->logical];
    a->taps = rz_axis_resized(s, a->logical, a->in, a->out) && a->in > 0 ? taps : 0;
    total += (size_t)(a->out * a->taps);
  }
  size_t bytes = total * (sizeof(int64_t) + sizeof(double)) + 1;
  if (bytes > s->tables_cap) {
    free(s->tables);
    s->tables = malloc(bytes);
    s->tables_cap = s->tables ? bytes : 0;
    if (!s->tables) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for resize tables");
  }
  int64_t *idx = s->tables;
  double *w = (double *)(idx + total);
  for (int j = 0; j < rank; j++) {
    rz_axis *a = &s->ax[j];
    a->idx = idx, a->w = w;
    for (int64_t o = 0; o < a->out && a->taps; o++)
      rz_taps(s, a, o, a->idx + o * a->taps, a->w + o * a->taps);
    idx += a->out * a->taps, w += a->out * a->taps;
  }
  return ONNXI_OK;
}

/* --- kernels ------------------------------------------------------------------------------------
 */

typedef struct rz_gather_args {
  const rz_state *s;
  int last;      /* last resized storage axis */
  int64_t inner; /* elements after it (not resized) */
  size_t es;
  const char *x;
  char *y;
  int64_t in_stride[IR_MAX_RANK];
  int64_t out_stride[IR_MAX_RANK];
} rz_gather_args;

static void rz_copy(char *dst, const char *src, size_t n, size_t es) {
  switch (n == es ? es : 0) {
  case 1: *dst = *src; break;
  case 2: memcpy(dst, src, 2); break;
  case 4: memcpy(dst, src, 4); break;
  case 8: memcpy(dst, src, 8); break;
  default: memcpy(dst, src, n); break;
  }
}

static void rz_fill(char *dst, const uint8_t *fill, int64_t count, size_t es) {
  for (int64_t i = 0; i < count; i++) memcpy(dst + (size_t)i * es, fill, es);
}

/* Nearest: one output row (all axes before `last` fixed) per task. */
static void rz_gather_task(void *ctx, size_t row) {
  const rz_gather_args *g = ctx;
  const rz_state *s = g->s;
  int64_t src = 0, dst = 0, rem = (int64_t)row;
  bool ext = false;
  for (int j = g->last - 1; j >= 0; j--) {
    const rz_axis *a = &s->ax[j];
    int64_t o = rem % a->out;
    rem /= a->out;
    int64_t i = a->taps ? a->idx[o] : o;
    ext |= i < 0;
    src += i * g->in_stride[j];
    dst += o * g->out_stride[j];
  }
  const rz_axis *a = &s->ax[g->last];
  size_t run = (size_t)g->inner * g->es;
  char *y = g->y + (size_t)dst * g->es;
  const char *x = g->x + (size_t)src * g->es;
  for (int64_t o = 0; o < a->out; o++, y += run) {
    int64_t i = a->idx[o];
    if (ext || i < 0)
      rz_fill(y, s->fill, g->inner, g->es);
    else
      rz_copy(y, x + (size_t)(i * g->in_stride[g->last]) * g->es, run, g->es);
  }
}

static void rz_strides(const rz_state *s, int rank, bool out, int64_t *st) {
  int64_t t = 1;
  for (int j = rank - 1; j >= 0; j--) {
    st[j] = t;
    t *= out ? s->ax[j].out : s->ax[j].in;
  }
}

static void rz_nearest_run(const rz_state *s, const op_tensor *x, op_tensor *y,
                           pthreadpool_t pool) {
  rz_gather_args g = {
      .s = s, .last = -1, .es = ir_dtype_size(x->dtype), .x = x->data, .y = y->data};
  for (int j = 0; j < x->rank; j++)
    if (s->ax[j].taps) g.last = j;
  if (g.last < 0) { /* nothing resized */
    if (y->data != x->data) memcpy(y->data, x->data, y->nbytes);
    return;
  }
  rz_strides(s, x->rank, false, g.in_stride);
  rz_strides(s, x->rank, true, g.out_stride);
  g.inner = g.in_stride[g.last];
  int64_t rows = 1;
  for (int j = 0; j < g.last; j++) rows *= s->ax[j].out;
  pthreadpool_parallelize_1d(pool, rz_gather_task, &g, (size_t)rows, 0);
}

/* One separable pass along storage axis `a`: [outer, in, inner] -> [outer, out, inner]. */
typedef struct rz_pass_args {
  const rz_axis *a;
  int64_t inner;
  const void *x;
  void *y;
  const uint8_t *fill;
} rz_pass_args;

#define RZ_PASS_DEFINE(NAME, T)                                                                    \
  static void NAME(void *ctx, size_t r0, size_t nr) {                                              \
    const rz_pass_args *g = ctx;                                                                   \
    const rz_axis *a = g->a;                                                                       \
    int64_t inner = g->inner, taps = a->taps;                                                      \
    T fillv;                                                                                       \
    memcpy(&fillv, g->fill, sizeof fillv);                                                         \
    for (int64_t r = (int64_t)r0; r < (int64_t)(r0 + nr); r++) {                                   \
      int64_t o = r % a->out, outer = r / a->out;                                                  \
      T *restrict y = (T *)g->y + r * inner;                                                       \
      const T *x = (const T *)g->x + outer * a->in * inner;                                        \
      const int64_t *idx = a->idx + o * taps;                                                      \
      const double *w = a->w + o * taps;                                                           \
      if (idx[0] < 0) {                                                                            \
        for (int64_t i = 0; i < inner; i++) y[i] = fillv;                                          \
        continue;                                                                                  \
      }                                                                                            \
      T w0 = (T)w[0];                                                                              \
      const T *restrict x0 = x + idx[0] * inner;                                                   \
      for (int64_t i = 0; i < inner; i++) y[i] = w0 * x0[i];                                       \
      for (int64_t t = 1; t < taps; t++) {                                                         \
        T wt = (T)w[t];                                                                            \
        const T *restrict xt = x + idx[t] * inner;                                                 \
        for (int64_t i = 0; i < inner; i++) y[i] += wt * xt[i];                                    \
      }                                                                                            \
    }                                                                                              \
  }
RZ_PASS_DEFINE(rz_pass_f32, float)
RZ_PASS_DEFINE(rz_pass_f64, double)

/* Order of the passes: most shrinking axis first (least work after it). */
static int rz_pass_order(const rz_state *s, int rank, int *order) {
  int n = 0;
  for (int j = 0; j < rank; j++)
    if (s->ax[j].taps) order[n++] = j;
  for (int i = 1; i < n; i++)
    for (int k = i; k > 0; k--) {
      const rz_axis *p = &s->ax[order[k - 1]], *q = &s->ax[order[k]];
      if ((double)q->out / (double)q->in >= (double)p->out / (double)p->in) break;
      int t = order[k];
      order[k] = order[k - 1];
      order[k - 1] = t;
    }
  return n;
}

/* Bytes of the largest intermediate between passes. */
static size_t rz_interp_scratch(const rz_state *s, int rank, size_t es) {
  int order[IR_MAX_RANK], n = rz_pass_order(s, rank, order);
  int64_t dims[IR_MAX_RANK];
  for (int j = 0; j < rank; j++) dims[j] = s->ax[j].in;
  size_t most = 0;
  for (int p = 0; p + 1 < n; p++) {
    dims[order[p]] = s->ax[order[p]].out;
    int64_t count = 1;
    for (int j = 0; j < rank; j++) count *= dims[j];
    if ((size_t)count * es > most) most = (size_t)count * es;
  }
  return most;
}

static void rz_interp_run(rz_state *s, const op_tensor *x, op_tensor *y, pthreadpool_t pool) {
  int rank = x->rank, order[IR_MAX_RANK], n = rz_pass_order(s, rank, order);
  size_t es = ir_dtype_size(x->dtype);
  if (n == 0) {
    if (y->data != x->data) memcpy(y->data, x->data, y->nbytes);
    return;
  }
  int64_t dims[IR_MAX_RANK];
  for (int j = 0; j < rank; j++) dims[j] = s->ax[j].in;
  const void *src = x->data;
  for (int p = 0; p < n; p++) {
    int j = order[p];
    rz_pass_args g = {.a = &s->ax[j], .inner = 1, .x = src, .fill = s->fill};
    int64_t outer = 1;
    for (int k = 0; k < j; k++) outer *= dims[k];
    for (int k = j + 1; k < rank; k++) g.inner *= dims[k];
    g.y = p + 1 == n ? y->data : (char *)s->scratch + (p % 2) * s->scratch_half;
    int64_t rows = outer * s->ax[j].out;
    size_t tile = (size_t)(g.inner >= RZ_TILE_ELEMS ? 1 : RZ_TILE_ELEMS / g.inner);
    if (rows > 0 && g.inner > 0)
      pthreadpool_parallelize_1d_tile_1d(pool, es == 4 ? rz_pass_f32 : rz_pass_f64, &g,
                                         (size_t)rows, tile, 0);
    dims[j] = s->ax[j].out;
    src = g.y;
  }
}

/* --- XNNPACK bilinear
 * ----------------------------------------------------------------------------- */

/* XNNPACK's resize_bilinear2d maps with scale in/out and half pixels (or
 * align_corners), clamping like ONNX: usable when only H and W change and
 * ONNX's scale agrees with out/in. */
static bool rz_xnn_fits(const rz_state *s, const op_tensor *x, const op_tensor *y) {
  if (s->mode != RZ_LINEAR || x->dtype != ONNXI_DTYPE_FLOAT || x->rank != 4 ||
      x->layout != IR_LAYOUT_NHWC)
    return false;
  if (x->dims[0] != y->dims[0] || x->dims[1] != y->dims[1] || s->scale[0] != 1.0 ||
      s->scale[1] != 1.0)
    return false;
  for (int d = 2; d < 4; d++) {
    double exact = (double)y->dims[d] / (double)x->dims[d];
    if (x->dims[d] == 0 || y->dims[d] == 0 || fabs(s->scale[d] - exact) > 1e-7 * exact)
      return false;
    if (s->coord == RZ_PYTORCH_HALF_PIXEL && y->dims[d] == 1) return false;
  }
  return s->coord == RZ_HALF_PIXEL || s->coord == RZ_PYTORCH_HALF_PIXEL ||
         s->coord == RZ_ALIGN_CORNERS;
}

static onnxi_status rz_xnn_setup(const op_context *ctx, rz_state *s, const op_tensor *x,
                                 const op_tensor *y) {
  size_t c = (size_t)x->dims[1];
  enum xnn_status st = xnn_create_resize_bilinear2d_nhwc_f32(
      c, c, c, s->coord == RZ_ALIGN_CORNERS ? XNN_FLAG_ALIGN_CORNERS : 0, &s->xnn);
  if (st == xnn_status_success)
    st = xnn_setup_resize_bilinear2d_nhwc_f32(
        s->xnn, (size_t)x->dims[0], (size_t)x->dims[2], (size_t)x->dims[3], (size_t)y->dims[2],
        (size_t)y->dims[3], x->data, y->data, ctx->threadpool);
  if (st == xnn_status_success) return ONNXI_OK;
  return op_error(ctx, st == xnn_status_out_of_memory ? ONNXI_ERR_NO_MEMORY : ONNXI_ERR_RUNTIME,
                  "XNNPACK resize_bilinear2d setup failed (status %d)", (int)st);
}

/* --- hooks --------------------------------------------------------------------------------------
 */

static void rz_fill_value(rz_state *s, int32_t dtype) {
  double v = s->extrapolation;
  double c = v < -9.2e18 ? -9.2e18 : (v > 9.2e18 ? 9.2e18 : (isnan(v) ? 0 : v));
  memset(s->fill, 0, sizeof s->fill);
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: {
    float f = (float)v;
    memcpy(s->fill, &f, 4);
    break;
  }
  case ONNXI_DTYPE_DOUBLE: memcpy(s->fill, &v, 8); break;
  case ONNXI_DTYPE_FLOAT16: {
    uint16_t h = op_f32_to_f16((float)v);
    memcpy(s->fill, &h, 2);
    break;
  }
  case ONNXI_DTYPE_BFLOAT16: {
    uint16_t h = op_f32_to_bf16((float)v);
    memcpy(s->fill, &h, 2);
    break;
  }
  default: { /* integers: truncated, little-endian low bytes */
    int64_t i = (int64_t)c;
    uint64_t u = (uint64_t)i;
    for (size_t b = 0; b < sizeof s->fill; b++) s->fill[b] = (uint8_t)(u >> (8 * b));
  }
  }
}

static onnxi_status rz_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  rz_state *s = state;
  (void)n_in, (void)n_out;
  const op_tensor *x = in[0];
  op_tensor *y = out[0];
  if (s->xnn) {
    xnn_delete_operator(s->xnn);
    s->xnn = NULL;
  }
  rz_fill_value(s, x->dtype);
  if (y->count == 0 || x->count == 0) return ONNXI_OK;
  if (rz_xnn_fits(s, x, y)) return rz_xnn_setup(ctx, s, x, y);
  onnxi_status st = rz_tables_build(ctx, s, x, y);
  if (st != ONNXI_OK || s->mode == RZ_NEAREST) return st;
  size_t half = rz_interp_scratch(s, x->rank, ir_dtype_size(x->dtype));
  half = (half + 63) & ~(size_t)63;
  if (2 * half + 1 > s->scratch_cap) {
    free(s->scratch);
    s->scratch = malloc(2 * half + 1);
    s->scratch_cap = s->scratch ? 2 * half + 1 : 0;
    if (!s->scratch)
      return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for %zu bytes of scratch", 2 * half);
  }
  s->scratch_half = half;
  return ONNXI_OK;
}

static onnxi_status rz_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                           op_tensor *const *out, int n_out) {
  rz_state *s = state;
  (void)n_in, (void)n_out;
  const op_tensor *x = in[0];
  op_tensor *y = out[0];
  if (y->count == 0) return ONNXI_OK;
  if (x->count == 0)
    return op_error(ctx, ONNXI_ERR_RUNTIME, "cannot resize an empty input to a non-empty output");
  if (s->xnn) {
    enum xnn_status st = xnn_run_operator(s->xnn, ctx->threadpool);
    if (st != xnn_status_success)
      return op_error(ctx, ONNXI_ERR_RUNTIME, "XNNPACK resize_bilinear2d run failed (status %d)",
                      (int)st);
    return ONNXI_OK;
  }
  if (s->mode == RZ_NEAREST)
    rz_nearest_run(s, x, y, ctx->threadpool);
  else
    rz_interp_run(s, x, y, ctx->threadpool);
  return ONNXI_OK;
}

static void rz_release(void *state) {
  rz_state *s = state;
  if (s->xnn) xnn_delete_operator(s->xnn);
  free(s->tables);
  free(s->scratch);
}

const op_kernel op_resize = {
    .name = "Resize",
    .state_size = sizeof(rz_state),
    .init = rz_resize_init,
    .layout = rz_layout,
    .infer = rz_infer,
    .setup = rz_setup,
    .run = rz_run,
    .release = rz_release,
};

const op_kernel op_upsample = {
    .name = "Upsample",
    .state_size = sizeof(rz_state),
    .init = rz_upsample_init,
    .layout = rz_layout,
    .infer = rz_infer,
    .setup = rz_setup,
    .run = rz_run,
    .release = rz_release,
};
