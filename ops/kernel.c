/* Helpers shared by all kernels: attribute access, errors, shapes, layouts,
 * half-precision conversions. */
#include "kernel.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

onnxi_status op_error(const op_context *ctx, onnxi_status status, const char *fmt, ...) {
  char msg[ONNXI_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *name = ctx->node ? ctx->node->name : "?";
  const char *op = ctx->node ? ctx->node->op_type : "?";
  if (ctx->model)
    return err_set(ctx->err, status, "%s: node '%s' (%s): %s", ctx->model, name, op, msg);
  return err_set(ctx->err, status, "node '%s' (%s): %s", name, op, msg);
}

onnxi_status op_init_unimplemented(op_context *ctx, void *state) {
  (void)state;
  return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "op '%s' is not implemented", ctx->node->op_type);
}

static const ir_attr *op_attr_typed(const op_context *ctx, const char *name, ir_attr_type type,
                                     onnxi_status *st) {
  *st = ONNXI_OK;
  const ir_attr *a = ir_node_attr(ctx->node, name);
  if (a && a->type != type) {
    *st = op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute '%s' has type %s, expected %s", name,
                   ir_attr_type_name(a->type), ir_attr_type_name(type));
    return NULL;
  }
  return a;
}

onnxi_status op_attr_int(const op_context *ctx, const char *name, int64_t def, int64_t *out) {
  onnxi_status st;
  const ir_attr *a = op_attr_typed(ctx, name, IR_ATTR_INT, &st);
  *out = a ? a->i : def;
  return st;
}

onnxi_status op_attr_float(const op_context *ctx, const char *name, float def, float *out) {
  onnxi_status st;
  const ir_attr *a = op_attr_typed(ctx, name, IR_ATTR_FLOAT, &st);
  *out = a ? a->f : def;
  return st;
}

onnxi_status op_attr_string(const op_context *ctx, const char *name, const char *def,
                            const char **out) {
  onnxi_status st;
  const ir_attr *a = op_attr_typed(ctx, name, IR_ATTR_STRING, &st);
  *out = a ? a->s.data : def;
  return st;
}

onnxi_status op_attr_ints(const op_context *ctx, const char *name, const int64_t **out,
                          int64_t *n) {
  onnxi_status st;
  const ir_attr *a = op_attr_typed(ctx, name, IR_ATTR_INTS, &st);
  *out = a ? a->ints : NULL;
  *n = a ? a->n : -1;
  return st;
}

onnxi_status op_attr_floats(const op_context *ctx, const char *name, const float **out,
                            int64_t *n) {
  onnxi_status st;
  const ir_attr *a = op_attr_typed(ctx, name, IR_ATTR_FLOATS, &st);
  *out = a ? a->floats : NULL;
  *n = a ? a->n : -1;
  return st;
}

onnxi_status op_io_check(const op_context *ctx, int min_in, int max_in, int min_out, int max_out) {
  const ir_node *n = ctx->node;
  if (n->n_inputs < min_in || n->n_inputs > max_in)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "%d inputs given, expected %d to %d", n->n_inputs,
                    min_in, max_in);
  if (n->n_outputs < min_out || n->n_outputs > max_out)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "%d outputs given, expected %d to %d",
                    n->n_outputs, min_out, max_out);
  for (int i = 0; i < min_in; i++)
    if (n->inputs[i] == IR_NONE)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input %d is missing", i);
  for (int i = 0; i < min_out; i++)
    if (n->outputs[i] == IR_NONE)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "output %d is missing", i);
  return ONNXI_OK;
}

onnxi_status op_node_check(const op_context *ctx) {
  const ir_node *n = ctx->node;
  if (n->n_outputs < 1 || n->outputs[0] == IR_NONE)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "output 0 is missing (required)");
  return ONNXI_OK;
}

const ir_value *op_input_const(const op_context *ctx, int k) {
  if (k < 0 || k >= ctx->node->n_inputs || ctx->node->inputs[k] == IR_NONE) return NULL;
  const ir_value *v = &ctx->graph->values[ctx->node->inputs[k]];
  return (v->flags & IR_VALUE_CONST) ? v : NULL;
}

int op_input_count(const op_context *ctx) {
  int n = ctx->node->n_inputs;
  while (n > 0 && ctx->node->inputs[n - 1] == IR_NONE) n--;
  return n;
}

int64_t op_tensor_int_at(const op_tensor *t, int64_t i) {
  const void *d = t->data;
  switch (t->dtype) {
  case ONNXI_DTYPE_INT64: return ((const int64_t *)d)[i];
  case ONNXI_DTYPE_INT32: return ((const int32_t *)d)[i];
  case ONNXI_DTYPE_INT16: return ((const int16_t *)d)[i];
  case ONNXI_DTYPE_INT8: return ((const int8_t *)d)[i];
  case ONNXI_DTYPE_UINT8: case ONNXI_DTYPE_BOOL: return ((const uint8_t *)d)[i];
  case ONNXI_DTYPE_UINT16: return ((const uint16_t *)d)[i];
  case ONNXI_DTYPE_UINT32: return ((const uint32_t *)d)[i];
  case ONNXI_DTYPE_UINT64: return (int64_t)((const uint64_t *)d)[i];
  case ONNXI_DTYPE_FLOAT: return (int64_t)((const float *)d)[i];
  case ONNXI_DTYPE_DOUBLE: return (int64_t)((const double *)d)[i];
  default: return 0;
  }
}

void op_tensor_like(op_tensor *out, const op_tensor *x) {
  out->dtype = x->dtype;
  out->rank = x->rank;
  memcpy(out->dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  out->layout = x->rank == 4 ? x->layout : IR_LAYOUT_PLAIN;
}

bool op_dims_count(const int64_t *dims, int rank, int64_t *count) {
  return ir_dims_count(dims, rank, count);
}

onnxi_status op_axis_normalize(const op_context *ctx, const char *what, int64_t axis, int rank,
                               int *out) {
  if (axis < -rank || axis >= rank || (rank == 0 && axis != 0))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "%s %lld is out of range for rank %d", what,
                    (long long)axis, rank);
  *out = (int)(axis < 0 ? axis + rank : axis);
  return ONNXI_OK;
}

static void op_dims_format(char *buf, size_t len, const int64_t *dims, int rank) {
  size_t o = 0;
  o += (size_t)snprintf(buf + o, len - o, "[");
  for (int i = 0; i < rank && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, i ? ",%lld" : "%lld", (long long)dims[i]);
  if (o < len) snprintf(buf + o, len - o, "]");
}

onnxi_status op_broadcast_shape(const op_context *ctx, const op_tensor *a, const op_tensor *b,
                                int *rank, int64_t *dims) {
  int r = a->rank > b->rank ? a->rank : b->rank;
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char sa[128], sb[128];
      op_dims_format(sa, sizeof sa, a->dims, a->rank);
      op_dims_format(sb, sizeof sb, b->dims, b->rank);
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "shapes %s and %s do not broadcast", sa, sb);
    }
    dims[i] = da == 1 ? db : da;
  }
  *rank = r;
  return ONNXI_OK;
}

bool op_layout_trivial(const int64_t *dims, int rank) {
  if (rank != 4) return true;
  return dims[1] == 1 || dims[2] * dims[3] == 1;
}

void op_storage_dims(const op_tensor *t, int rank, ir_layout layout, int64_t *dims) {
  int64_t padded[IR_MAX_RANK];
  for (int i = 0; i < rank; i++) {
    int src = i - (rank - t->rank);
    padded[i] = src >= 0 ? t->dims[src] : 1;
  }
  if (layout == IR_LAYOUT_NHWC && rank == 4) {
    dims[0] = padded[0];
    dims[1] = padded[2];
    dims[2] = padded[3];
    dims[3] = padded[1];
  } else {
    memcpy(dims, padded, sizeof(int64_t) * (size_t)rank);
  }
}

int op_storage_axis(int axis, int rank, ir_layout layout) {
  static const int nhwc_of_nchw[4] = {0, 3, 1, 2};
  return (layout == IR_LAYOUT_NHWC && rank == 4) ? nhwc_of_nchw[axis] : axis;
}

ir_layout op_layout_nhwc(const op_context *ctx, const void *state, op_tensor *const *in,
                         int n_in) {
  (void)ctx, (void)state, (void)in, (void)n_in;
  return IR_LAYOUT_NHWC;
}

/* NHWC when it saves a reorder: some non-trivial rank-4 input is already
 * NHWC, and every lower-rank input pads to a layout-trivial shape. */
ir_layout op_layout_follow(const op_context *ctx, const void *state, op_tensor *const *in,
                           int n_in) {
  (void)ctx, (void)state;
  bool nhwc = false;
  for (int i = 0; i < n_in; i++) {
    const op_tensor *t = in[i];
    if (!t) continue;
    if (t->rank == 4 && t->layout == IR_LAYOUT_NHWC && !op_layout_trivial(t->dims, 4)) nhwc = true;
    if (t->rank > 4) return IR_LAYOUT_PLAIN;
    if (t->rank < 4) {
      int64_t padded[4] = {1, 1, 1, 1};
      for (int k = 0; k < t->rank; k++) padded[4 - t->rank + k] = t->dims[k];
      if (!op_layout_trivial(padded, 4)) return IR_LAYOUT_PLAIN;
    }
  }
  return nhwc ? IR_LAYOUT_NHWC : IR_LAYOUT_PLAIN;
}

float op_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp == 0) {
    float f = ldexpf((float)man, -24);
    return sign ? -f : f;
  } else {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t op_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0);
  if (ax >= 0x477ff000u) return sign | 0x7c00; /* rounds past 65504 */
  if (ax < 0x38800000u) { /* subnormal or zero in half */
    float a;
    memcpy(&a, &ax, sizeof a);
    return sign | (uint16_t)lrintf(a * 16777216.0f); /* a / 2^-24, ties to even */
  }
  uint32_t mant_odd = (ax >> 13) & 1;
  ax += 0xfffu + mant_odd;
  return sign | (uint16_t)((ax - 0x38000000u) >> 13);
}

float op_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t op_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
  x += 0x7fffu + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}
