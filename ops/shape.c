/* Shape ops: Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout,
 * Constant, ConstantOfShape, EyeLike, Range, Expand, Tile.
 *
 * Most of these only compute a shape at plan time; values that shapes come
 * from (Reshape's shape, axes inputs, Tile's repeats...) are read with
 * op_tensor_plan_value. Views (Reshape, Flatten, Squeeze, Unsqueeze,
 * Identity) copy in run only when the executor did not alias the
 * buffers. Data is moved by element size, never by dtype, so every dtype
 * (strings too: an element is an ir_string) goes through the same code. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"
#include "rng.h"

/* --- helpers ------------------------------------------------------------------ */

static size_t shape_elem_size(int32_t dtype) {
  return dtype == ONNXI_DTYPE_STRING ? sizeof(ir_string) : ir_dtype_size(dtype);
}

static onnxi_status shape_dtype_check(op_context *ctx, const op_tensor *t, const char *what) {
  if (shape_elem_size(t->dtype)) return ONNXI_OK;
  return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "%s: dtype %d is not supported", what, t->dtype);
}

static bool shape_is_int(int32_t dtype) {
  return dtype == ONNXI_DTYPE_INT64 || dtype == ONNXI_DTYPE_INT32;
}

/* Input k, a 1-D (or scalar) int32/int64 tensor known at plan time, as a
 * tensor whose data can be read with op_tensor_int_at. */
static onnxi_status shape_plan_ints(op_context *ctx, const op_tensor *t, int k, const char *what,
                                    op_tensor *view) {
  if (!shape_is_int(t->dtype))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input '%s' has dtype %s, expected int64", what,
                    onnxi_dtype_name((onnxi_dtype)t->dtype));
  if (t->rank > 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input '%s' must be 1-D, got rank %d", what,
                    t->rank);
  const void *data = NULL;
  onnxi_status st = op_tensor_plan_value(ctx, t, k, &data);
  if (st != ONNXI_OK) return st;
  *view = *t;
  view->data = (void *)data;
  view->count = t->rank == 1 ? t->dims[0] : 1;
  return ONNXI_OK;
}

/* Like shape_plan_ints, copied into vals[0..max); more is an error. */
static onnxi_status shape_plan_list(op_context *ctx, const op_tensor *t, int k, const char *what,
                                    int max, int64_t *vals, int *n) {
  op_tensor v;
  onnxi_status st = shape_plan_ints(ctx, t, k, what, &v);
  if (st != ONNXI_OK) return st;
  if (v.count > max)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED,
                    "input '%s' has %lld elements, at most %d supported", what, (long long)v.count,
                    max);
  for (int64_t i = 0; i < v.count; i++) vals[i] = op_tensor_int_at(&v, i);
  *n = (int)v.count;
  return ONNXI_OK;
}

/* One scalar of a numeric tensor known at plan time, as a double and (for
 * integer dtypes, exactly) as an int64. */
static onnxi_status shape_plan_scalar(op_context *ctx, const op_tensor *t, int k, const char *what,
                                      double *out, int64_t *iout) {
  int64_t count;
  if (!op_dims_count(t->dims, t->rank, &count) || count != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input '%s' must hold one value", what);
  const void *data = NULL;
  onnxi_status st = op_tensor_plan_value(ctx, t, k, &data);
  if (st != ONNXI_OK) return st;
  uint16_t h;
  *iout = 0;
  switch (t->dtype) {
  case ONNXI_DTYPE_FLOAT: {
    float f;
    memcpy(&f, data, sizeof f);
    *out = f;
    break;
  }
  case ONNXI_DTYPE_DOUBLE: memcpy(out, data, sizeof *out); break;
  case ONNXI_DTYPE_FLOAT16:
    memcpy(&h, data, 2);
    *out = op_f16_to_f32(h);
    break;
  case ONNXI_DTYPE_BFLOAT16:
    memcpy(&h, data, 2);
    *out = op_bf16_to_f32(h);
    break;
  case ONNXI_DTYPE_STRING:
  case ONNXI_DTYPE_UNDEFINED:
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input '%s' must be numeric", what);
  default: {
    op_tensor v = *t;
    v.data = (void *)data;
    *iout = op_tensor_int_at(&v, 0);
    *out = (double)*iout;
  }
  }
  return ONNXI_OK;
}

/* Fills n elements of esize bytes with one value: memset when every byte of
 * the value is equal, else doubling copies. */
static void shape_fill(void *dst, int64_t n, const void *value, size_t esize) {
  if (n <= 0) return;
  const unsigned char *v = value;
  size_t total = (size_t)n * esize, i = 1;
  while (i < esize && v[i] == v[0]) i++;
  if (i == esize) {
    memset(dst, v[0], total);
    return;
  }
  char *d = dst;
  memcpy(d, value, esize);
  for (size_t done = esize; done < total;) {
    size_t c = done < total - done ? done : total - done;
    memcpy(d + done, d, c);
    done += c;
  }
}

static void shape_dims_str(char *buf, size_t len, const int64_t *dims, int rank) {
  size_t o = (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < rank && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, i ? ",%lld" : "%lld", (long long)dims[i]);
  if (o < len) snprintf(buf + o, len - o, "]");
}

/* An output with the input's dtype, new dims, stored PLAIN. */
static onnxi_status shape_view_set(op_context *ctx, const op_tensor *in, op_tensor *out, int rank,
                                   const int64_t *dims) {
  onnxi_status st = shape_dtype_check(ctx, in, "input 'data'");
  if (st != ONNXI_OK) return st;
  out->dtype = in->dtype;
  out->rank = rank;
  memcpy(out->dims, dims, sizeof(int64_t) * (size_t)rank);
  out->layout = IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

/* run of every view op: the bytes are the input's, unless not aliased. */
static onnxi_status shape_view_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                   op_tensor *const *out, int n_out) {
  (void)ctx, (void)state, (void)n_in, (void)n_out;
  if (out[0]->data != in[0]->data && in[0]->nbytes)
    memcpy(out[0]->data, in[0]->data, in[0]->nbytes);
  return ONNXI_OK;
}

/* run of ops whose outputs infer already made constant. */
static onnxi_status shape_const_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                    op_tensor *const *out, int n_out) {
  (void)ctx, (void)state, (void)in, (void)n_in, (void)out, (void)n_out;
  return ONNXI_OK;
}

/* --- Shape ------------------------------------------------------------------------- */

typedef struct shape_state {
  int64_t start, end;
} shape_state;

static onnxi_status shape_init(op_context *ctx, void *state) {
  shape_state *s = state;
  onnxi_status st = op_io_check(ctx, 1, 1, 1, 1);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "start", 0, &s->start);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "end", INT64_MAX, &s->end);
  return st;
}

/* Only dims are read: any storage layout will do, so none is reordered. */
static ir_layout shape_layout(const op_context *ctx, const void *state, op_tensor *const *in,
                              int n_in) {
  (void)ctx, (void)state;
  return n_in > 0 && in[0] ? in[0]->layout : IR_LAYOUT_PLAIN;
}

static int64_t shape_clamp_index(int64_t i, int64_t rank) {
  if (i < 0) i = i < -rank ? 0 : i + rank;
  return i > rank ? rank : i;
}

static onnxi_status shape_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  const shape_state *s = state;
  int64_t start = shape_clamp_index(s->start, in[0]->rank);
  int64_t end = shape_clamp_index(s->end, in[0]->rank);
  int64_t n = end > start ? end - start : 0;
  out[0]->dtype = ONNXI_DTYPE_INT64;
  out[0]->rank = 1;
  out[0]->dims[0] = n;
  out[0]->layout = IR_LAYOUT_PLAIN;
  onnxi_status st = op_tensor_const_alloc(ctx, out[0]);
  if (st != ONNXI_OK) return st;
  int64_t *d = out[0]->data;
  for (int64_t i = 0; i < n; i++) d[i] = in[0]->dims[start + i];
  return ONNXI_OK;
}

const op_kernel op_shape = {.name = "Shape",
                            .state_size = sizeof(shape_state),
                            .init = shape_init,
                            .layout = shape_layout,
                            .infer = shape_infer,
                            .run = shape_const_run};

/* --- Size: the element count, a plan-time constant ------------------------------ */

static onnxi_status size_init(op_context *ctx, void *state) {
  (void)state;
  return op_io_check(ctx, 1, 1, 1, 1);
}

static onnxi_status size_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  (void)state, (void)n_in, (void)n_out;
  int64_t count;
  if (!op_dims_count(in[0]->dims, in[0]->rank, &count))
    return op_error(ctx, ONNXI_ERR_LIMIT, "element count overflows");
  out[0]->dtype = ONNXI_DTYPE_INT64;
  out[0]->rank = 0;
  out[0]->layout = IR_LAYOUT_PLAIN;
  onnxi_status st = op_tensor_const_alloc(ctx, out[0]);
  if (st == ONNXI_OK) *(int64_t *)out[0]->data = count;
  return st;
}

const op_kernel op_size = {.name = "Size",
                           .init = size_init,
                           .layout = shape_layout,
                           .infer = size_infer,
                           .run = shape_const_run};

/* --- Reshape ---------------------------------------------------------------------- */

typedef struct reshape_state {
  int64_t allowzero;
} reshape_state;

static onnxi_status reshape_init(op_context *ctx, void *state) {
  reshape_state *s = state;
  onnxi_status st = op_io_check(ctx, 2, 2, 1, 1);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "allowzero", 0, &s->allowzero);
  if (st == ONNXI_OK && s->allowzero != 0 && s->allowzero != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'allowzero': %lld is not 0 or 1",
                    (long long)s->allowzero);
  return st;
}

/* Resolves 0 (copy the input dim, unless allowzero) and one -1 (inferred). */
static onnxi_status reshape_dims_resolve(op_context *ctx, const op_tensor *in, bool allowzero,
                                         int64_t *dims, int rank) {
  int neg = -1;
  bool zero = false;
  int64_t known = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] == -1) {
      if (neg >= 0)
        return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                        "input 'shape': more than one -1 (dims %d and %d)", neg, i);
      neg = i;
      continue;
    }
    if (dims[i] < -1)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'shape': dim %d is %lld", i,
                      (long long)dims[i]);
    if (dims[i] == 0 && !allowzero) {
      if (i >= in->rank)
        return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                        "input 'shape': dim %d is 0 (copy) but the input has rank %d", i, in->rank);
      dims[i] = in->dims[i];
    }
    zero |= dims[i] == 0;
    int64_t one[2] = {known, dims[i]};
    if (!op_dims_count(one, 2, &known))
      return op_error(ctx, ONNXI_ERR_LIMIT, "input 'shape': element count overflows");
  }
  if (neg >= 0 && zero && allowzero)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "input 'shape': -1 together with 0 and allowzero");
  int64_t count = in->count;
  if (neg >= 0 && known != 0 && count % known == 0) {
    dims[neg] = count / known;
    return ONNXI_OK;
  }
  if (neg < 0 && known == count) return ONNXI_OK;
  char a[160], b[160];
  shape_dims_str(a, sizeof a, in->dims, in->rank);
  shape_dims_str(b, sizeof b, dims, rank);
  return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "cannot reshape %s (%lld elements) to %s", a,
                  (long long)count, b);
}

static onnxi_status reshape_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                  op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  const reshape_state *s = state;
  int64_t dims[IR_MAX_RANK];
  int rank;
  onnxi_status st = shape_plan_list(ctx, in[1], 1, "shape", IR_MAX_RANK, dims, &rank);
  if (st == ONNXI_OK)
    st = reshape_dims_resolve(ctx, in[0], s->allowzero && ctx->opset >= 14, dims, rank);
  if (st == ONNXI_OK) st = shape_view_set(ctx, in[0], out[0], rank, dims);
  return st;
}

const op_kernel op_reshape = {.name = "Reshape",
                              .state_size = sizeof(reshape_state),
                              .flags = OP_KERNEL_VIEW,
                              .init = reshape_init,
                              .infer = reshape_infer,
                              .run = shape_view_run};

/* --- Flatten ---------------------------------------------------------------------- */

typedef struct flatten_state {
  int64_t axis;
} flatten_state;

static onnxi_status flatten_init(op_context *ctx, void *state) {
  flatten_state *s = state;
  onnxi_status st = op_io_check(ctx, 1, 1, 1, 1);
  return st == ONNXI_OK ? op_attr_int(ctx, "axis", 1, &s->axis) : st;
}

static onnxi_status flatten_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                  op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  const flatten_state *s = state;
  int rank = in[0]->rank;
  int64_t axis = s->axis;
  if (axis < -rank || axis > rank)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'axis': %lld is out of range for rank %d", (long long)axis, rank);
  if (axis < 0) axis += rank;
  int64_t dims[2];
  op_dims_count(in[0]->dims, (int)axis, &dims[0]);
  op_dims_count(in[0]->dims + axis, rank - (int)axis, &dims[1]);
  return shape_view_set(ctx, in[0], out[0], 2, dims);
}

const op_kernel op_flatten = {.name = "Flatten",
                              .state_size = sizeof(flatten_state),
                              .flags = OP_KERNEL_VIEW,
                              .init = flatten_init,
                              .infer = flatten_infer,
                              .run = shape_view_run};

/* --- Squeeze / Unsqueeze -------------------------------------------------------------- */

typedef struct axes_state {
  const int64_t *axes; /* attribute form (opset < 13), NULL otherwise */
  int64_t n_axes;      /* -1: none given */
} axes_state;

static onnxi_status axes_init(op_context *ctx, void *state, bool required) {
  axes_state *s = state;
  s->n_axes = -1;
  bool input = ctx->opset >= 13;
  if (required && input && op_input_count(ctx) < 2)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'axes' is missing");
  onnxi_status io = op_io_check(ctx, input && required ? 2 : 1, input ? 2 : 1, 1, 1);
  if (io != ONNXI_OK) return io;
  if (!input) {
    onnxi_status st = op_attr_ints(ctx, "axes", &s->axes, &s->n_axes);
    if (st != ONNXI_OK) return st;
    if (required && s->n_axes < 0)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'axes' is missing");
  }
  if (s->n_axes > IR_MAX_RANK)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "attribute 'axes' has %lld entries",
                    (long long)s->n_axes);
  return ONNXI_OK;
}

static onnxi_status squeeze_init(op_context *ctx, void *state) {
  return axes_init(ctx, state, false);
}
static onnxi_status unsqueeze_init(op_context *ctx, void *state) {
  return axes_init(ctx, state, true);
}

/* The axes (attribute or input 1), normalized against `rank`, as flags;
 * *n = -1 when none were given. */
static onnxi_status axes_collect(op_context *ctx, const axes_state *s, op_tensor *const *in,
                                 int n_in, int rank, bool *flag, int *n) {
  int64_t axes[IR_MAX_RANK];
  int count = -1;
  onnxi_status st = ONNXI_OK;
  if (s->n_axes >= 0) {
    count = (int)s->n_axes;
    memcpy(axes, s->axes, sizeof(int64_t) * (size_t)count);
  } else if (ctx->opset >= 13 && n_in > 1 && in[1]) {
    st = shape_plan_list(ctx, in[1], 1, "axes", IR_MAX_RANK, axes, &count);
  }
  memset(flag, 0, sizeof(bool) * IR_MAX_RANK);
  for (int i = 0; st == ONNXI_OK && i < count; i++) {
    int a;
    st = op_axis_normalize(ctx, "axis", axes[i], rank, &a);
    if (st == ONNXI_OK && flag[a])
      st = op_error(ctx, ONNXI_ERR_INVALID_MODEL, "axis %lld is given twice", (long long)axes[i]);
    if (st == ONNXI_OK) flag[a] = true;
  }
  *n = count;
  return st;
}

static onnxi_status squeeze_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                  op_tensor *const *out, int n_out) {
  (void)n_out;
  const op_tensor *x = in[0];
  bool flag[IR_MAX_RANK];
  int n;
  onnxi_status st = axes_collect(ctx, state, in, n_in, x->rank, flag, &n);
  if (st != ONNXI_OK) return st;
  int64_t dims[IR_MAX_RANK];
  int rank = 0;
  for (int i = 0; i < x->rank; i++) {
    if (n >= 0 && flag[i] && x->dims[i] != 1)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "axis %d has size %lld, not 1", i,
                      (long long)x->dims[i]);
    bool drop = n >= 0 ? flag[i] : x->dims[i] == 1;
    if (!drop) dims[rank++] = x->dims[i];
  }
  return shape_view_set(ctx, x, out[0], rank, dims);
}

static onnxi_status unsqueeze_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                    op_tensor *const *out, int n_out) {
  (void)n_out;
  const axes_state *s = state;
  const op_tensor *x = in[0];
  int n_new = (int)s->n_axes;
  if (s->n_axes < 0) {
    if (n_in < 2 || !in[1] || !shape_is_int(in[1]->dtype) || in[1]->rank > 1)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'axes' must be a 1-D int64 tensor");
    n_new = in[1]->rank == 1 && in[1]->dims[0] <= IR_MAX_RANK ? (int)in[1]->dims[0] : 1;
    if (in[1]->rank == 1 && in[1]->dims[0] > IR_MAX_RANK)
      return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input 'axes' has %lld values",
                      (long long)in[1]->dims[0]);
  }
  int rank = x->rank + n_new;
  if (rank > IR_MAX_RANK)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "output rank %d exceeds %d", rank, IR_MAX_RANK);
  bool flag[IR_MAX_RANK];
  int n;
  onnxi_status st = axes_collect(ctx, s, in, n_in, rank, flag, &n);
  if (st != ONNXI_OK) return st;
  int64_t dims[IR_MAX_RANK];
  for (int i = 0, k = 0; i < rank; i++) dims[i] = flag[i] ? 1 : x->dims[k++];
  return shape_view_set(ctx, x, out[0], rank, dims);
}

const op_kernel op_squeeze = {.name = "Squeeze",
                              .state_size = sizeof(axes_state),
                              .flags = OP_KERNEL_VIEW,
                              .init = squeeze_init,
                              .infer = squeeze_infer,
                              .run = shape_view_run};

const op_kernel op_unsqueeze = {.name = "Unsqueeze",
                                .state_size = sizeof(axes_state),
                                .flags = OP_KERNEL_VIEW,
                                .init = unsqueeze_init,
                                .infer = unsqueeze_infer,
                                .run = shape_view_run};

/* --- Identity --------------------------------------------------------------------- */

static onnxi_status identity_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                   op_tensor *const *out, int n_out) {
  (void)state, (void)n_in, (void)n_out;
  return shape_view_set(ctx, in[0], out[0], in[0]->rank, in[0]->dims);
}

static onnxi_status identity_init(op_context *ctx, void *state) {
  (void)state;
  return op_io_check(ctx, 1, 1, 1, 1);
}

const op_kernel op_identity = {.name = "Identity",
                               .flags = OP_KERNEL_VIEW,
                               .init = identity_init,
                               .infer = identity_infer,
                               .run = shape_view_run};

/* --- Dropout ------------------------------------------------------------------------------
 * Inference (and a zero ratio) is the identity with an all-true mask. Training mode
 * draws the keep mask as ONNX's reference does: numpy's legacy MT19937 seeded with the
 * `seed` attribute, keep = uniform[0,1) >= ratio, y = x * keep * 1/(1-ratio), so a
 * seeded node reproduces the reference exactly (reseeded every run, as the reference
 * reseeds per call). Without `seed` the generator is seeded with 0 once per session
 * and runs on, so successive runs draw fresh masks but a session is reproducible. */

typedef struct dropout_state {
  float ratio;    /* opset < 12 attribute */
  bool seeded;    /* `seed` attribute present */
  uint32_t seed;  /* its low 32 bits (numpy accepts [0, 2^32)) */
  bool training;  /* plan time: training_mode with ratio > 0 */
  double p;       /* the ratio then */
  op_rng rng;
} dropout_state;

static onnxi_status dropout_init(op_context *ctx, void *state) {
  dropout_state *s = state;
  onnxi_status st = op_io_check(ctx, 1, ctx->opset >= 12 ? 3 : 1, 1, 2);
  if (st == ONNXI_OK && ctx->opset < 12) st = op_attr_float(ctx, "ratio", 0.5f, &s->ratio);
  if (st == ONNXI_OK && !(s->ratio >= 0.0f && s->ratio < 1.0f))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'ratio': %g is not in [0, 1)",
                    (double)s->ratio);
  int64_t seed = 0;
  if (st == ONNXI_OK) st = op_attr_int(ctx, "seed", 0, &seed);
  s->seeded = ir_node_attr(ctx->node, "seed") != NULL;
  s->seed = (uint32_t)((uint64_t)seed & 0xffffffffu);
  op_rng_seed(&s->rng, s->seed);
  return st;
}

/* training_mode (opset 12+) and ratio, read at plan time (constants or inputs the plan
 * depends on): training with a ratio > 0 draws a mask in run. */
static onnxi_status dropout_training_read(op_context *ctx, dropout_state *s, op_tensor *const *in,
                                          int n_in) {
  s->training = false;
  if (ctx->opset < 12 || n_in < 3 || !in[2]) return ONNXI_OK;
  double training, ratio = 0.5;
  int64_t unused;
  onnxi_status st = shape_plan_scalar(ctx, in[2], 2, "training_mode", &training, &unused);
  if (st != ONNXI_OK || training == 0) return st;
  if (n_in > 1 && in[1]) st = shape_plan_scalar(ctx, in[1], 1, "ratio", &ratio, &unused);
  if (st == ONNXI_OK && !(ratio >= 0 && ratio < 1))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'ratio': %g is not in [0, 1)", ratio);
  if (st == ONNXI_OK && in[1] && in[1]->dtype == ONNXI_DTYPE_FLOAT)
    ratio = (float)ratio; /* numpy keeps a float32 ratio float32 */
  s->training = st == ONNXI_OK && ratio > 0;
  s->p = ratio;
  return st;
}

static onnxi_status dropout_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                  op_tensor *const *out, int n_out) {
  int32_t dt = in[0]->dtype;
  if (dt != ONNXI_DTYPE_FLOAT && dt != ONNXI_DTYPE_DOUBLE && dt != ONNXI_DTYPE_FLOAT16 &&
      dt != ONNXI_DTYPE_BFLOAT16)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "input 'data' has dtype %s, expected a float type",
                    onnxi_dtype_name((onnxi_dtype)dt));
  onnxi_status st = dropout_training_read(ctx, state, in, n_in);
  if (st == ONNXI_OK) st = shape_view_set(ctx, in[0], out[0], in[0]->rank, in[0]->dims);
  if (st != ONNXI_OK || n_out < 2 || !out[1]) return st;
  /* opset 7-9: the mask has the input's type; 10+: bool */
  st = shape_view_set(ctx, in[0], out[1], in[0]->rank, in[0]->dims);
  if (ctx->opset >= 10) out[1]->dtype = ONNXI_DTYPE_BOOL;
  return st;
}

/* Element i of a float-typed tensor as double, and back (rounding to the dtype). */
static double dropout_get(const op_tensor *t, int64_t i) {
  switch (t->dtype) {
  case ONNXI_DTYPE_FLOAT: return ((const float *)t->data)[i];
  case ONNXI_DTYPE_DOUBLE: return ((const double *)t->data)[i];
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(((const uint16_t *)t->data)[i]);
  default: return op_bf16_to_f32(((const uint16_t *)t->data)[i]);
  }
}

static void dropout_put(op_tensor *t, int64_t i, double v) {
  switch (t->dtype) {
  case ONNXI_DTYPE_BOOL: ((bool *)t->data)[i] = v != 0; break;
  case ONNXI_DTYPE_FLOAT: ((float *)t->data)[i] = (float)v; break;
  case ONNXI_DTYPE_DOUBLE: ((double *)t->data)[i] = v; break;
  case ONNXI_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = op_f32_to_f16((float)v); break;
  default: ((uint16_t *)t->data)[i] = op_f32_to_bf16((float)v); break;
  }
}

/* y = (x * keep) * scale, in the input's precision (float32 math for the 16-bit types). */
static void dropout_train_run(dropout_state *s, const op_tensor *x, op_tensor *y, op_tensor *mask) {
  if (s->seeded) op_rng_seed(&s->rng, s->seed);
  bool wide = x->dtype == ONNXI_DTYPE_DOUBLE;
  double scale = 1.0 / (1.0 - s->p);
  float scale_f = (float)(1.0f / (float)(1.0 - s->p));
  for (int64_t i = 0; i < x->count; i++) {
    bool keep = op_rng_double(&s->rng) >= s->p;
    double v = dropout_get(x, i);
    dropout_put(y, i, wide ? v * keep * scale : (double)((float)v * (float)keep * scale_f));
    if (mask) dropout_put(mask, i, keep);
  }
}

static onnxi_status dropout_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                op_tensor *const *out, int n_out) {
  dropout_state *s = state;
  op_tensor *mask = n_out > 1 ? out[1] : NULL;
  if (s->training) {
    dropout_train_run(s, in[0], out[0], mask);
    return ONNXI_OK;
  }
  shape_view_run(ctx, state, in, n_in, out, n_out);
  for (int64_t i = 0; mask && i < mask->count; i++) dropout_put(mask, i, 1.0);
  return ONNXI_OK;
}

/* Not a view: training mode writes new values (the identity pass already removes
 * inference-mode Dropout whose mask is unused). */
const op_kernel op_dropout = {.name = "Dropout",
                              .state_size = sizeof(dropout_state),
                              .flags = OP_KERNEL_NO_FOLD,
                              .init = dropout_init,
                              .infer = dropout_infer,
                              .run = dropout_run};

/* --- Constant ------------------------------------------------------------------------ */

typedef struct constant_state {
  int32_t dtype;
  int32_t rank;
  int64_t dims[IR_MAX_RANK];
  const void *data; /* in the model arena (or the scalar below) */
  size_t nbytes;
  union {
    float f;
    int64_t i;
    ir_string s;
  } scalar;
} constant_state;

static onnxi_status constant_from_attr(op_context *ctx, constant_state *s, const ir_attr *a) {
  const char *n = a->name;
  s->rank = 1;
  s->dims[0] = a->n;
  if (!strcmp(n, "value") && a->type == IR_ATTR_TENSOR) {
    const ir_tensor *t = a->tensors;
    if (!t || t->rank < 0 || t->rank > IR_MAX_RANK)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'value' has no valid tensor");
    s->dtype = t->dtype;
    s->rank = t->rank;
    memcpy(s->dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
    s->data = t->data;
    s->nbytes = t->nbytes;
  } else if (!strcmp(n, "value_float") && a->type == IR_ATTR_FLOAT) {
    s->dtype = ONNXI_DTYPE_FLOAT, s->rank = 0, s->scalar.f = a->f, s->data = &s->scalar.f;
  } else if (!strcmp(n, "value_int") && a->type == IR_ATTR_INT) {
    s->dtype = ONNXI_DTYPE_INT64, s->rank = 0, s->scalar.i = a->i, s->data = &s->scalar.i;
  } else if (!strcmp(n, "value_string") && a->type == IR_ATTR_STRING) {
    s->dtype = ONNXI_DTYPE_STRING, s->rank = 0, s->scalar.s = a->s, s->data = &s->scalar.s;
  } else if (!strcmp(n, "value_floats") && a->type == IR_ATTR_FLOATS) {
    s->dtype = ONNXI_DTYPE_FLOAT, s->data = a->floats;
  } else if (!strcmp(n, "value_ints") && a->type == IR_ATTR_INTS) {
    s->dtype = ONNXI_DTYPE_INT64, s->data = a->ints;
  } else if (!strcmp(n, "value_strings") && a->type == IR_ATTR_STRINGS) {
    s->dtype = ONNXI_DTYPE_STRING, s->data = a->strings;
  } else if (!strcmp(n, "sparse_value")) {
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "attribute 'sparse_value' is not supported");
  } else {
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute '%s' of type %s is not a Constant value", n,
                    ir_attr_type_name(a->type));
  }
  int64_t count;
  size_t esize = shape_elem_size(s->dtype);
  if (!esize || !op_dims_count(s->dims, s->rank, &count))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute '%s' has no valid tensor", n);
  if (a->type != IR_ATTR_TENSOR) s->nbytes = (size_t)count * esize;
  if (s->nbytes != (size_t)count * esize || (count && !s->data))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute '%s': data size does not match its shape", n);
  return ONNXI_OK;
}

static onnxi_status constant_init(op_context *ctx, void *state) {
  const ir_node *node = ctx->node;
  const ir_attr *value = NULL;
  onnxi_status st = op_io_check(ctx, 0, 0, 1, 1);
  if (st != ONNXI_OK) return st;
  for (int32_t i = 0; i < node->n_attrs; i++) {
    if (!strncmp(node->attrs[i].name, "value", 5) || !strcmp(node->attrs[i].name, "sparse_value")) {
      if (value)
        return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                        "attributes '%s' and '%s' both give the value", value->name,
                        node->attrs[i].name);
      value = &node->attrs[i];
    }
  }
  if (!value) return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "no 'value' attribute");
  return constant_from_attr(ctx, state, value);
}

static onnxi_status constant_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                   op_tensor *const *out, int n_out) {
  (void)in, (void)n_in, (void)n_out;
  const constant_state *s = state;
  out[0]->dtype = s->dtype;
  out[0]->rank = s->rank;
  memcpy(out[0]->dims, s->dims, sizeof(int64_t) * (size_t)s->rank);
  out[0]->layout = IR_LAYOUT_PLAIN;
  onnxi_status st = op_tensor_const_alloc(ctx, out[0]);
  if (st == ONNXI_OK && s->nbytes) memcpy(out[0]->data, s->data, s->nbytes);
  return st;
}

const op_kernel op_constant = {.name = "Constant",
                               .state_size = sizeof(constant_state),
                               .init = constant_init,
                               .infer = constant_infer,
                               .run = shape_const_run};

/* --- ConstantOfShape ------------------------------------------------------------------ */

typedef struct constant_of_shape_state {
  int32_t dtype;
  unsigned char value[sizeof(ir_string) > 8 ? sizeof(ir_string) : 8];
} constant_of_shape_state;

static onnxi_status constant_of_shape_init(op_context *ctx, void *state) {
  constant_of_shape_state *s = state;
  s->dtype = ONNXI_DTYPE_FLOAT; /* default: float 0 */
  onnxi_status st = op_io_check(ctx, 1, 1, 1, 1);
  if (st != ONNXI_OK) return st;
  const ir_attr *a = ir_node_attr(ctx->node, "value");
  if (!a) return ONNXI_OK;
  const ir_tensor *t = a->tensors;
  if (a->type != IR_ATTR_TENSOR || !t)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'value' must be a tensor");
  size_t esize = shape_elem_size(t->dtype);
  if (t->count != 1 || !esize || t->nbytes != esize || !t->data)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'value' must hold one element");
  s->dtype = t->dtype;
  memcpy(s->value, t->data, esize);
  return ONNXI_OK;
}

static onnxi_status constant_of_shape_infer(op_context *ctx, void *state, op_tensor *const *in,
                                            int n_in, op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  const constant_of_shape_state *s = state;
  int64_t dims[IR_MAX_RANK];
  int rank;
  onnxi_status st = shape_plan_list(ctx, in[0], 0, "input", IR_MAX_RANK, dims, &rank);
  if (st != ONNXI_OK) return st;
  for (int i = 0; i < rank; i++)
    if (dims[i] < 0)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'input': dim %d is %lld", i,
                      (long long)dims[i]);
  out[0]->dtype = s->dtype;
  out[0]->rank = rank;
  memcpy(out[0]->dims, dims, sizeof(int64_t) * (size_t)rank);
  out[0]->layout = IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

static onnxi_status constant_of_shape_run(op_context *ctx, void *state, op_tensor *const *in,
                                          int n_in, op_tensor *const *out, int n_out) {
  (void)ctx, (void)in, (void)n_in, (void)n_out;
  const constant_of_shape_state *s = state;
  shape_fill(out[0]->data, out[0]->count, s->value, shape_elem_size(s->dtype));
  return ONNXI_OK;
}

const op_kernel op_constant_of_shape = {.name = "ConstantOfShape",
                                        .state_size = sizeof(constant_of_shape_state),
                                        .init = constant_of_shape_init,
                                        .infer = constant_of_shape_infer,
                                        .run = constant_of_shape_run};

/* --- EyeLike: ones on diagonal k of a 2-D tensor shaped like the input ------------------- */

typedef struct eye_like_state {
  int64_t dtype, k; /* dtype 0: the input's */
} eye_like_state;

static onnxi_status eye_like_init(op_context *ctx, void *state) {
  eye_like_state *s = state;
  onnxi_status st = op_io_check(ctx, 1, 1, 1, 1);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "dtype", 0, &s->dtype);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "k", 0, &s->k);
  return st;
}

/* The bytes of 1 in a numeric dtype (false: not numeric). */
static bool shape_one(int32_t dt, unsigned char *one) {
  union {
    float f; double d; uint16_t h; uint64_t u; int64_t i;
  } v = {.u = 0};
  switch (dt) {
  case ONNXI_DTYPE_FLOAT: v.f = 1.0f; break;
  case ONNXI_DTYPE_DOUBLE: v.d = 1.0; break;
  case ONNXI_DTYPE_FLOAT16: v.h = 0x3c00; break;
  case ONNXI_DTYPE_BFLOAT16: v.h = 0x3f80; break;
  case ONNXI_DTYPE_STRING: case ONNXI_DTYPE_UNDEFINED: return false;
  default: /* integers and bool, little-endian: 1 in the lowest byte */
    if (!ir_dtype_size(dt)) return false;
    memset(one, 0, 8);
    one[0] = 1;
    return true;
  }
  memcpy(one, &v, sizeof v);
  return true;
}

static onnxi_status eye_like_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                   op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  const eye_like_state *s = state;
  int32_t dt = s->dtype ? (int32_t)s->dtype : in[0]->dtype;
  unsigned char one[8];
  if (s->dtype < 0 || s->dtype > INT32_MAX || !shape_one(dt, one))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "output dtype %lld is not supported",
                    (long long)dt);
  if (in[0]->rank != 2)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input must be 2-D, got rank %d", in[0]->rank);
  out[0]->dtype = dt;
  out[0]->rank = 2;
  memcpy(out[0]->dims, in[0]->dims, 2 * sizeof(int64_t));
  out[0]->layout = IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

static onnxi_status eye_like_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                 op_tensor *const *out, int n_out) {
  (void)ctx, (void)in, (void)n_in, (void)n_out;
  const eye_like_state *s = state;
  op_tensor *y = out[0];
  size_t es = shape_elem_size(y->dtype);
  unsigned char one[8];
  shape_one(y->dtype, one);
  if (y->nbytes) memset(y->data, 0, y->nbytes);
  int64_t rows = y->dims[0], cols = y->dims[1];
  for (int64_t i = 0; i < rows; i++) {
    if (s->k >= cols - i || s->k < -i) continue; /* column i + k outside [0, cols) */
    memcpy((char *)y->data + (size_t)(i * cols + i + s->k) * es, one, es);
  }
  return ONNXI_OK;
}

const op_kernel op_eye_like = {.name = "EyeLike",
                               .state_size = sizeof(eye_like_state),
                               .init = eye_like_init,
                               .layout = shape_layout,
                               .infer = eye_like_infer,
                               .run = eye_like_run};

/* --- Range --------------------------------------------------------------------------- */

/* Element count of an integer range, exactly (no overflow on extreme ends). */
static int64_t range_int_count(int64_t start, int64_t limit, int64_t delta) {
  uint64_t diff, step;
  if (delta > 0) {
    if (limit <= start) return 0;
    diff = (uint64_t)limit - (uint64_t)start, step = (uint64_t)delta;
  } else {
    if (limit >= start) return 0;
    diff = (uint64_t)start - (uint64_t)limit, step = (uint64_t)0 - (uint64_t)delta;
  }
  uint64_t n = diff / step + (diff % step != 0);
  return n > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

static onnxi_status range_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                op_tensor *const *out, int n_out) {
  (void)state, (void)n_in, (void)n_out;
  static const char *const names[3] = {"start", "limit", "delta"};
  int32_t dtype = in[0]->dtype;
  if (dtype != ONNXI_DTYPE_FLOAT && dtype != ONNXI_DTYPE_DOUBLE && dtype != ONNXI_DTYPE_INT16 &&
      dtype != ONNXI_DTYPE_INT32 && dtype != ONNXI_DTYPE_INT64)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "dtype %s is not supported",
                    onnxi_dtype_name((onnxi_dtype)dtype));
  double v[3];
  int64_t iv[3];
  for (int k = 0; k < 3; k++) {
    if (!in[k] || in[k]->dtype != dtype)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input '%s' must be a %s scalar", names[k],
                      onnxi_dtype_name((onnxi_dtype)dtype));
    onnxi_status st = shape_plan_scalar(ctx, in[k], k, names[k], &v[k], &iv[k]);
    if (st != ONNXI_OK) return st;
  }
  if (v[2] == 0) return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'delta' is 0");
  int64_t n;
  if (dtype == ONNXI_DTYPE_FLOAT || dtype == ONNXI_DTYPE_DOUBLE) {
    double c = ceil((v[1] - v[0]) / v[2]);
    if (!(c < 9.0e15)) /* also NaN */
      return op_error(ctx, ONNXI_ERR_LIMIT, "range of %g to %g step %g is too long", v[0], v[1],
                      v[2]);
    n = c > 0 ? (int64_t)c : 0;
  } else {
    n = range_int_count(iv[0], iv[1], iv[2]);
  }
  out[0]->dtype = dtype;
  out[0]->rank = 1;
  out[0]->dims[0] = n;
  out[0]->layout = IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

/* start + i * delta; integers wrap through unsigned arithmetic (never UB). */
#define RANGE_INT(T)                                                                 \
  static void range_fill_##T(void *dst, int64_t n, const void *s, const void *d) {   \
    T start, delta, *o = dst;                                                        \
    memcpy(&start, s, sizeof start), memcpy(&delta, d, sizeof delta);                \
    for (int64_t i = 0; i < n; i++)                                                  \
      o[i] = (T)((uint64_t)(int64_t)start + (uint64_t)i * (uint64_t)(int64_t)delta); \
  }
#define RANGE_FLOAT(T)                                                             \
  static void range_fill_##T(void *dst, int64_t n, const void *s, const void *d) { \
    T start, delta, *o = dst;                                                      \
    memcpy(&start, s, sizeof start), memcpy(&delta, d, sizeof delta);              \
    for (int64_t i = 0; i < n; i++) o[i] = (T)((double)start + (double)i * delta); \
  }
RANGE_INT(int16_t)
RANGE_INT(int32_t)
RANGE_INT(int64_t)
RANGE_FLOAT(float)
RANGE_FLOAT(double)

static onnxi_status range_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                              op_tensor *const *out, int n_out) {
  (void)ctx, (void)state, (void)n_in, (void)n_out;
  void (*fill)(void *, int64_t, const void *, const void *) = NULL;
  switch (out[0]->dtype) {
  case ONNXI_DTYPE_INT16: fill = range_fill_int16_t; break;
  case ONNXI_DTYPE_INT32: fill = range_fill_int32_t; break;
  case ONNXI_DTYPE_INT64: fill = range_fill_int64_t; break;
  case ONNXI_DTYPE_FLOAT: fill = range_fill_float; break;
  default: fill = range_fill_double; break;
  }
  fill(out[0]->data, out[0]->count, in[0]->data, in[2]->data);
  return ONNXI_OK;
}

static onnxi_status range_init(op_context *ctx, void *state) {
  (void)state;
  return op_io_check(ctx, 3, 3, 1, 1);
}

const op_kernel op_range = {
    .name = "Range", .init = range_init, .infer = range_infer, .run = range_run};

/* --- Expand / Tile: replication by doubling copies ------------------------------------------- */

/* dst (out dims) holds src (in dims) repeated out/in times along each axis.
 * Trailing axes that are not repeated are one contiguous block. */
typedef struct tile_job {
  int rank;
  int64_t in[IR_MAX_RANK], reps[IR_MAX_RANK];
  int64_t in_stride[IR_MAX_RANK], out_stride[IR_MAX_RANK]; /* bytes */
  size_t block;                                            /* bytes copied at the innermost level */
} tile_job;

static void tile_replicate(char *dst, size_t block, int64_t reps) {
  size_t total = block * (size_t)reps;
  for (size_t done = block; done < total;) {
    size_t c = done < total - done ? done : total - done;
    memcpy(dst + done, dst, c);
    done += c;
  }
}

static void tile_level(const tile_job *j, int lvl, const char *src, char *dst) {
  if (lvl == j->rank) {
    memcpy(dst, src, j->block);
    return;
  }
  for (int64_t i = 0; i < j->in[lvl]; i++)
    tile_level(j, lvl + 1, src + i * j->in_stride[lvl], dst + i * j->out_stride[lvl]);
  tile_replicate(dst, (size_t)(j->in[lvl] * j->out_stride[lvl]), j->reps[lvl]);
}

/* Output dims must be multiples of the input's (padded on the left to the
 * output rank); count > 0. */
static void tile_run(const op_tensor *in, op_tensor *out) {
  size_t esize = shape_elem_size(in->dtype);
  int rank = out->rank, lead = out->rank - in->rank;
  tile_job j = {.block = esize};
  int64_t in_dims[IR_MAX_RANK];
  for (int i = 0; i < rank; i++) in_dims[i] = i < lead ? 1 : in->dims[i - lead];
  int last = rank; /* axes >= last are copied whole */
  while (last > 0 && in_dims[last - 1] == out->dims[last - 1]) j.block *= (size_t)in_dims[--last];
  int64_t is = (int64_t)j.block, os = (int64_t)j.block;
  for (int i = last - 1; i >= 0; i--) {
    j.in[i] = in_dims[i];
    j.reps[i] = out->dims[i] / in_dims[i];
    j.in_stride[i] = is, j.out_stride[i] = os;
    is *= in_dims[i], os *= out->dims[i];
  }
  j.rank = last;
  tile_level(&j, 0, in->data, out->data);
}

static onnxi_status expand_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                 op_tensor *const *out, int n_out) {
  (void)state, (void)n_in, (void)n_out;
  op_tensor shape = {.dtype = in[0]->dtype};
  int n;
  onnxi_status st = shape_plan_list(ctx, in[1], 1, "shape", IR_MAX_RANK, shape.dims, &n);
  if (st != ONNXI_OK) return st;
  shape.rank = n;
  for (int i = 0; i < n; i++)
    if (shape.dims[i] < 0)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'shape': dim %d is %lld", i,
                      (long long)shape.dims[i]);
  int64_t dims[IR_MAX_RANK];
  int rank;
  st = op_broadcast_shape(ctx, in[0], &shape, &rank, dims);
  if (st == ONNXI_OK) st = shape_view_set(ctx, in[0], out[0], rank, dims);
  return st;
}

static onnxi_status tile_expand_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                    op_tensor *const *out, int n_out) {
  (void)ctx, (void)state, (void)n_in, (void)n_out;
  if (out[0]->count > 0) tile_run(in[0], out[0]);
  return ONNXI_OK;
}

/* Expand and Tile: data and one shape-like input. */
static onnxi_status tile_init(op_context *ctx, void *state) {
  (void)state;
  return op_io_check(ctx, 2, 2, 1, 1);
}

const op_kernel op_expand = {
    .name = "Expand", .init = tile_init, .infer = expand_infer, .run = tile_expand_run};

static onnxi_status tile_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  (void)state, (void)n_in, (void)n_out;
  int64_t reps[IR_MAX_RANK], dims[IR_MAX_RANK];
  int n;
  onnxi_status st = shape_plan_list(ctx, in[1], 1, "repeats", IR_MAX_RANK, reps, &n);
  if (st != ONNXI_OK) return st;
  if (n != in[0]->rank)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'repeats' has %d values for rank %d", n,
                    in[0]->rank);
  for (int i = 0; i < n; i++) {
    int64_t pair[2] = {in[0]->dims[i], reps[i]};
    if (reps[i] < 0 || !op_dims_count(pair, 2, &dims[i]))
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "input 'repeats': value %lld for axis %d is invalid", (long long)reps[i], i);
  }
  return shape_view_set(ctx, in[0], out[0], n, dims);
}

const op_kernel op_tile = {
    .name = "Tile", .init = tile_init, .infer = tile_infer, .run = tile_expand_run};
