/* TensorProto -> ir_tensor: checks dims, dtype and data size, then makes the
 * one copy of the data into the model arena (none at all when protobuf-c
 * already placed it there, see onnx_pbuf.c). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "onnx_internal.h"

/* Little-endian raw_data is copied as is. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "onnxi's loader assumes a little-endian host"
#endif

/* Which typed repeated field holds each dtype (TensorProto comments). */
typedef enum onnx_field {
  ONNX_FIELD_FLOAT,
  ONNX_FIELD_INT32,
  ONNX_FIELD_INT64,
  ONNX_FIELD_DOUBLE,
  ONNX_FIELD_UINT64,
  ONNX_FIELD_STRING,
  ONNX_FIELD_COUNT
} onnx_field;

static const char *const onnx_field_names[ONNX_FIELD_COUNT] = {
    "float_data", "int32_data", "int64_data", "double_data", "uint64_data", "string_data"};

const char *onnx_dtype_name(int32_t dtype) {
  if (dtype == ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64) return "complex64";
  if (dtype == ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128) return "complex128";
  if (!ir_dtype_valid(dtype)) return "unknown";
  return onnxi_dtype_name((onnxi_dtype)dtype);
}

onnxi_status onnx_dtype_check(int32_t dtype, onnxi_error *err) {
  if (dtype == ONNXI_DTYPE_UNDEFINED)
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "data_type is missing (0, undefined)");
  if (!ir_dtype_valid(dtype))
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "data_type %" PRId32 " (%s) is not supported",
                   dtype, onnx_dtype_name(dtype));
  return ONNXI_OK;
}

void onnx_dims_format(char *buf, size_t size, const int64_t *dims, int rank) {
  if (size < 32) {
    if (size) buf[0] = '\0';
    return;
  }
  size_t pos = 0;
  buf[pos++] = '[';
  for (int i = 0; i < rank; i++) {
    if (size - pos < 28) { /* room for one more int64, "...]" and the NUL */
      memcpy(buf + pos, "...", 3);
      pos += 3;
      break;
    }
    pos += (size_t)snprintf(buf + pos, size - pos, i ? ",%" PRId64 : "%" PRId64, dims[i]);
  }
  buf[pos++] = ']';
  buf[pos] = '\0';
}

static onnx_field onnx_field_of(int32_t dtype) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: return ONNX_FIELD_FLOAT;
  case ONNXI_DTYPE_INT64: return ONNX_FIELD_INT64;
  case ONNXI_DTYPE_DOUBLE: return ONNX_FIELD_DOUBLE;
  case ONNXI_DTYPE_UINT32: case ONNXI_DTYPE_UINT64: return ONNX_FIELD_UINT64;
  case ONNXI_DTYPE_STRING: return ONNX_FIELD_STRING;
  default: return ONNX_FIELD_INT32; /* (u)int8/16, int32, bool, float16, bfloat16 */
  }
}

static void onnx_field_counts(const Onnx__TensorProto *t, size_t counts[ONNX_FIELD_COUNT]) {
  counts[ONNX_FIELD_FLOAT] = t->n_float_data;
  counts[ONNX_FIELD_INT32] = t->n_int32_data;
  counts[ONNX_FIELD_INT64] = t->n_int64_data;
  counts[ONNX_FIELD_DOUBLE] = t->n_double_data;
  counts[ONNX_FIELD_UINT64] = t->n_uint64_data;
  counts[ONNX_FIELD_STRING] = t->n_string_data;
}

/* Validates dims and dtype into out (no data yet). */
static onnxi_status onnx_tensor_header(const Onnx__TensorProto *t, ir_tensor *out,
                                       onnxi_error *err) {
  if (t->segment) return err_set(err, ONNXI_ERR_UNSUPPORTED, "segmented tensors are not supported");
  out->dtype = t->has_data_type ? t->data_type : ONNXI_DTYPE_UNDEFINED;
  onnxi_status st = onnx_dtype_check(out->dtype, err);
  if (st) return st;
  if (t->n_dims > IR_MAX_RANK)
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "rank %zu exceeds the maximum rank %d", t->n_dims,
                   IR_MAX_RANK);
  out->rank = (int32_t)t->n_dims;
  for (int i = 0; i < out->rank; i++) {
    if (t->dims[i] < 0)
      return err_set(err, ONNXI_ERR_INVALID_MODEL, "dims[%d] is %" PRId64 " (negative)", i,
                     t->dims[i]);
    out->dims[i] = t->dims[i];
  }
  size_t esize = out->dtype == ONNXI_DTYPE_STRING ? sizeof(ir_string) : ir_dtype_size(out->dtype);
  if (!ir_dims_count(out->dims, out->rank, &out->count) ||
      (uint64_t)out->count > (uint64_t)INT64_MAX / esize ||
      (uint64_t)out->count > SIZE_MAX / esize) {
    char dims[128];
    onnx_dims_format(dims, sizeof dims, out->dims, out->rank);
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "dims %s %s: element count overflows", dims,
                   onnx_dtype_name(out->dtype));
  }
  out->nbytes = (size_t)out->count * esize;
  return ONNXI_OK;
}

/* Data already in the arena (see onnx_pbuf.c) or aligned in the file buffer
 * the model will own (onnx_strip.c) becomes the tensor's as is; anything
 * else is copied to the arena. */
static onnxi_status onnx_data_take(onnx_ctx *c, const void *src, ir_tensor *out,
                                   onnxi_error *err) {
  /* a stripped payload (onnx_strip.c)? Compared as integers: src is usually
   * not in that buffer, and relational pointer comparison across objects is
   * undefined */
  uintptr_t p = (uintptr_t)src;
  bool in_file = p >= (uintptr_t)c->file_lo && p < (uintptr_t)c->file_hi;
  if (in_file && out->nbytes && (p & 63) == 0) {
    onnxi_status st = onnx_data_budget(c, out->nbytes, err);
    if (st) return st;
    out->data = (void *)src;
    c->adopted_bytes += out->nbytes;
    return ONNXI_OK;
  }
  /* (the arena tag sits before the data: not to be read inside the file buffer) */
  if (!in_file && c->pb_arena && out->nbytes && onnx_pb_in_arena(src)) {
    out->data = (void *)src;
    return ONNXI_OK;
  }
  onnxi_status st = onnx_data_alloc(c, out->nbytes, &out->data, err);
  if (!st && out->nbytes) memcpy(out->data, src, out->nbytes);
  return st;
}

static onnxi_status onnx_tensor_raw(onnx_ctx *c, const Onnx__TensorProto *t, ir_tensor *out,
                                    onnxi_error *err) {
  size_t counts[ONNX_FIELD_COUNT];
  onnx_field_counts(t, counts);
  for (int f = 0; f < ONNX_FIELD_COUNT; f++)
    if (counts[f])
      return err_set(err, ONNXI_ERR_INVALID_MODEL, "has both raw_data and %s", onnx_field_names[f]);
  if (out->dtype == ONNXI_DTYPE_STRING)
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "string tensors cannot use raw_data");
  if (t->raw_data.len != out->nbytes) {
    char dims[128];
    onnx_dims_format(dims, sizeof dims, out->dims, out->rank);
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "raw_data has %zu bytes, dims %s %s need %zu",
                   t->raw_data.len, dims, onnx_dtype_name(out->dtype), out->nbytes);
  }
  return onnx_data_take(c, t->raw_data.data, out, err);
}

/* int32_data also holds the 8- and 16-bit integers, bool and the 16-bit
 * float bit patterns, one element per int32. */
static void onnx_int32_narrow(const int32_t *src, size_t n, int32_t dtype, void *dst) {
  switch (ir_dtype_size(dtype)) {
  case 1:
    for (size_t i = 0; i < n; i++)
      ((uint8_t *)dst)[i] = dtype == ONNXI_DTYPE_BOOL ? src[i] != 0 : (uint8_t)src[i];
    break;
  default: /* 2 bytes */
    for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = (uint16_t)src[i];
    break;
  }
}

static onnxi_status onnx_tensor_strings(onnx_ctx *c, const Onnx__TensorProto *t, ir_tensor *out,
                                        onnxi_error *err) {
  ir_string *s = arena_alloc(&c->m->arena, out->nbytes ? out->nbytes : 1, 8);
  if (!s) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying string_data");
  for (size_t i = 0; i < t->n_string_data; i++) {
    const ProtobufCBinaryData *b = &t->string_data[i];
    s[i].data = arena_strndup(&c->m->arena, b->len ? (const char *)b->data : "", b->len);
    if (!s[i].data) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying string_data");
    s[i].len = b->len;
  }
  out->data = s;
  return ONNXI_OK;
}

static onnxi_status onnx_tensor_typed(onnx_ctx *c, const Onnx__TensorProto *t, ir_tensor *out,
                                      onnxi_error *err) {
  size_t counts[ONNX_FIELD_COUNT];
  onnx_field_counts(t, counts);
  onnx_field want = onnx_field_of(out->dtype);
  const char *dtype = onnx_dtype_name(out->dtype);
  for (int f = 0; f < ONNX_FIELD_COUNT; f++)
    if (f != (int)want && counts[f])
      return err_set(err, ONNXI_ERR_INVALID_MODEL, "%s tensor has %s (expected raw_data or %s)",
                     dtype, onnx_field_names[f], onnx_field_names[want]);
  if ((uint64_t)counts[want] != (uint64_t)out->count) {
    char dims[128];
    onnx_dims_format(dims, sizeof dims, out->dims, out->rank);
    if (counts[want] == 0)
      return err_set(err, ONNXI_ERR_INVALID_MODEL, "has no data, dims %s %s need %" PRId64
                     " elements", dims, dtype, out->count);
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "%s has %zu elements, dims %s %s need %" PRId64,
                   onnx_field_names[want], counts[want], dims, dtype, out->count);
  }
  if (want == ONNX_FIELD_STRING) return onnx_tensor_strings(c, t, out, err);
  switch (out->dtype) { /* the field holds exactly the tensor's elements */
  case ONNXI_DTYPE_FLOAT: return onnx_data_take(c, t->float_data, out, err);
  case ONNXI_DTYPE_INT32: return onnx_data_take(c, t->int32_data, out, err);
  case ONNXI_DTYPE_INT64: return onnx_data_take(c, t->int64_data, out, err);
  case ONNXI_DTYPE_DOUBLE: return onnx_data_take(c, t->double_data, out, err);
  case ONNXI_DTYPE_UINT64: return onnx_data_take(c, t->uint64_data, out, err);
  default: break;
  }
  onnxi_status st = onnx_data_alloc(c, out->nbytes, &out->data, err);
  if (st || out->count == 0) return st;
  size_t n = (size_t)out->count;
  if (want == ONNX_FIELD_INT32) {
    onnx_int32_narrow(t->int32_data, n, out->dtype, out->data);
  } else { /* uint32 in uint64_data */
    for (size_t i = 0; i < n; i++) ((uint32_t *)out->data)[i] = (uint32_t)t->uint64_data[i];
  }
  return ONNXI_OK;
}

onnxi_status onnx_tensor_convert(onnx_ctx *c, const Onnx__TensorProto *t, ir_tensor *out,
                                 onnxi_error *err) {
  memset(out, 0, sizeof *out);
  onnxi_status st = onnx_tensor_header(t, out, err);
  if (st) return st;
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    if (t->has_raw_data)
      return err_set(err, ONNXI_ERR_INVALID_MODEL, "has both raw_data and external data");
    return onnx_external_read(c, t, out, err);
  }
  if (t->has_data_location && t->data_location != ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT)
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "data_location %d is not DEFAULT or EXTERNAL",
                   (int)t->data_location);
  return t->has_raw_data ? onnx_tensor_raw(c, t, out, err) : onnx_tensor_typed(c, t, out, err);
}
