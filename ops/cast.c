/* Cast: every pair among bool, int8..64, uint8..64, float, double, float16,
 * bfloat16 and string.
 *
 * One macro generates the 11 x 11 matrix of numeric loops (bool, the eight
 * integers, float, double); float16/bfloat16 go through float32 in chunks.
 * Float to integer saturates (NaN -> 0) where C would be undefined; integer
 * narrowing wraps like numpy. Numbers become strings the way numpy's str()
 * prints them (shortest round-trip digits, "1e-05", "0.5", "nan", "True"),
 * which is what the ONNX node tests expect; strings parse with strtod and
 * friends ("INF", "NaN", "+1.5"). String characters produced here live in a
 * buffer sized at setup (CAST_STR_MAX bytes per element); string to string
 * shares the input's characters. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kernel.h"

/* --- numeric conversion matrix ----------------------------------------------------
 * Type descriptors: suffix, C type, kind (B bool, I integer, F floating),
 * minimum, maximum, and 2^bits-ish exclusive upper bound for saturation. */
#define CAST_T_b b, uint8_t, B, 0, 1, 2.0
#define CAST_T_i8 i8, int8_t, I, INT8_MIN, INT8_MAX, 128.0
#define CAST_T_i16 i16, int16_t, I, INT16_MIN, INT16_MAX, 32768.0
#define CAST_T_i32 i32, int32_t, I, INT32_MIN, INT32_MAX, 2147483648.0
#define CAST_T_i64 i64, int64_t, I, INT64_MIN, INT64_MAX, 9223372036854775808.0
#define CAST_T_u8 u8, uint8_t, I, 0, UINT8_MAX, 256.0
#define CAST_T_u16 u16, uint16_t, I, 0, UINT16_MAX, 65536.0
#define CAST_T_u32 u32, uint32_t, I, 0, UINT32_MAX, 4294967296.0
#define CAST_T_u64 u64, uint64_t, I, 0, UINT64_MAX, 18446744073709551616.0
#define CAST_T_f32 f32, float, F, 0, 0, 0
#define CAST_T_f64 f64, double, F, 0, 0, 0

/* The list twice: the matrix nests one inside the other, and a macro cannot
 * expand inside its own expansion. */
#define CAST_TYPES(X, A)                                                                  \
  X(A, CAST_T_b) X(A, CAST_T_i8) X(A, CAST_T_i16) X(A, CAST_T_i32) X(A, CAST_T_i64)      \
  X(A, CAST_T_u8) X(A, CAST_T_u16) X(A, CAST_T_u32) X(A, CAST_T_u64) X(A, CAST_T_f32)    \
  X(A, CAST_T_f64)
#define CAST_TYPES_INNER(X, ...)                                                         \
  X(CAST_T_b, __VA_ARGS__) X(CAST_T_i8, __VA_ARGS__) X(CAST_T_i16, __VA_ARGS__)          \
  X(CAST_T_i32, __VA_ARGS__) X(CAST_T_i64, __VA_ARGS__) X(CAST_T_u8, __VA_ARGS__)        \
  X(CAST_T_u16, __VA_ARGS__) X(CAST_T_u32, __VA_ARGS__) X(CAST_T_u64, __VA_ARGS__)       \
  X(CAST_T_f32, __VA_ARGS__) X(CAST_T_f64, __VA_ARGS__)
#define CAST_CALL(M, ...) M(__VA_ARGS__)

/* Element conversion by (source kind, destination kind). */
#define CAST_CONV_BB(ST, DT, x, lo, hi, lim) (DT)((x) != 0)
#define CAST_CONV_IB(ST, DT, x, lo, hi, lim) (DT)((x) != 0)
#define CAST_CONV_FB(ST, DT, x, lo, hi, lim) (DT)((x) != 0) /* NaN is true, as in numpy */
#define CAST_CONV_BI(ST, DT, x, lo, hi, lim) (DT)(x)
#define CAST_CONV_II(ST, DT, x, lo, hi, lim) (DT)(x)
#define CAST_CONV_BF(ST, DT, x, lo, hi, lim) (DT)(x)
#define CAST_CONV_IF(ST, DT, x, lo, hi, lim) (DT)(x)
#define CAST_CONV_FF(ST, DT, x, lo, hi, lim) (DT)(x)
/* Saturating: only values in [lo, lim) reach the conversion; NaN -> 0. */
#define CAST_CONV_FI(ST, DT, x, lo, hi, lim) \
  ((x) >= (ST)(lim) ? (DT)(hi)               \
                    : (DT)((x) < (ST)(lo) ? (ST)(lo) : ((x) < (ST)(lim) ? (x) : (ST)0)))

#define CAST_BLOCK 16
#define CAST_PAIR_(ds, DT, DK, dmin, dmax, dlim, ss, ST, SK, smin, smax, slim)           \
  static void cast_##ss##_##ds(size_t n, const void *vx, void *vy) {                     \
    const ST *restrict x = vx;                                                           \
    DT *restrict y = vy;                                                                 \
    size_t i = 0;                                                                        \
    for (; i + CAST_BLOCK <= n; i += CAST_BLOCK)                                         \
      for (size_t j = 0; j < CAST_BLOCK; j++)                                            \
        y[i + j] = CAST_CONV_##SK##DK(ST, DT, x[i + j], dmin, dmax, dlim);               \
    for (; i < n; i++) y[i] = CAST_CONV_##SK##DK(ST, DT, x[i], dmin, dmax, dlim);        \
  }
#define CAST_PAIR(...) CAST_CALL(CAST_PAIR_, __VA_ARGS__) /* (dst..., src...) */
#define CAST_ROW(unused, S) CAST_TYPES_INNER(CAST_PAIR, S)
CAST_TYPES(CAST_ROW, ~)

typedef void (*cast_fn)(size_t n, const void *x, void *y);

#define CAST_IDX_(ss, ...) CAST_IDX_##ss,
#define CAST_IDX(unused, S) CAST_CALL(CAST_IDX_, S)
enum { CAST_TYPES(CAST_IDX, ~) CAST_N };

#define CAST_ENTRY_(ds, DT, DK, dmin, dmax, dlim, ss, ...) \
  [CAST_IDX_##ss][CAST_IDX_##ds] = cast_##ss##_##ds,
#define CAST_ENTRY(...) CAST_CALL(CAST_ENTRY_, __VA_ARGS__)
#define CAST_ENTRY_ROW(unused, S) CAST_TYPES_INNER(CAST_ENTRY, S)
static const cast_fn cast_matrix[CAST_N][CAST_N] = {CAST_TYPES(CAST_ENTRY_ROW, ~)};

/* Matrix index of a dtype; -1 for float16, bfloat16, string. */
static int cast_index(int32_t dtype) {
  switch (dtype) {
  case ONNXI_DTYPE_BOOL: return CAST_IDX_b;
  case ONNXI_DTYPE_INT8: return CAST_IDX_i8;
  case ONNXI_DTYPE_INT16: return CAST_IDX_i16;
  case ONNXI_DTYPE_INT32: return CAST_IDX_i32;
  case ONNXI_DTYPE_INT64: return CAST_IDX_i64;
  case ONNXI_DTYPE_UINT8: return CAST_IDX_u8;
  case ONNXI_DTYPE_UINT16: return CAST_IDX_u16;
  case ONNXI_DTYPE_UINT32: return CAST_IDX_u32;
  case ONNXI_DTYPE_UINT64: return CAST_IDX_u64;
  case ONNXI_DTYPE_FLOAT: return CAST_IDX_f32;
  case ONNXI_DTYPE_DOUBLE: return CAST_IDX_f64;
  default: return -1;
  }
}

static bool cast_is_half(int32_t dtype) {
  return dtype == ONNXI_DTYPE_FLOAT16 || dtype == ONNXI_DTYPE_BFLOAT16;
}

static float cast_half_to_f32(int32_t dtype, uint16_t h) {
  return dtype == ONNXI_DTYPE_FLOAT16 ? op_f16_to_f32(h) : op_bf16_to_f32(h);
}

/* float -> bfloat16 truncates (keeps the top 16 bits, NaN stays NaN): ONNX
 * 1.12's Cast reference does so, unlike PyTorch's round-to-nearest-even. */
static uint16_t cast_f32_to_bf16_trunc(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
  return (uint16_t)(x >> 16);
}

static uint16_t cast_f32_to_half(int32_t dtype, float f) {
  return dtype == ONNXI_DTYPE_FLOAT16 ? op_f32_to_f16(f) : cast_f32_to_bf16_trunc(f);
}

/* Numeric cast of n elements; float16/bfloat16 on either side pass through
 * a float32 chunk. */
#define CAST_CHUNK 256
static void cast_numeric(int32_t from, int32_t to, size_t n, const void *x, void *y) {
  size_t es = ir_dtype_size(from), ed = ir_dtype_size(to);
  if (!cast_is_half(from) && !cast_is_half(to)) {
    cast_matrix[cast_index(from)][cast_index(to)](n, x, y);
    return;
  }
  if (from == to) {
    memcpy(y, x, n * es);
    return;
  }
  float buf[CAST_CHUNK];
  for (size_t i = 0; i < n; i += CAST_CHUNK) {
    size_t m = n - i < CAST_CHUNK ? n - i : CAST_CHUNK;
    const unsigned char *xs = (const unsigned char *)x + i * es;
    unsigned char *yd = (unsigned char *)y + i * ed;
    if (cast_is_half(from)) {
      const uint16_t *h = (const uint16_t *)(const void *)xs;
      for (size_t j = 0; j < m; j++) buf[j] = cast_half_to_f32(from, h[j]);
    } else {
      cast_matrix[cast_index(from)][CAST_IDX_f32](m, xs, buf);
    }
    if (cast_is_half(to)) {
      uint16_t *h = (uint16_t *)(void *)yd;
      for (size_t j = 0; j < m; j++) h[j] = cast_f32_to_half(to, buf[j]);
    } else {
      cast_matrix[CAST_IDX_f32][cast_index(to)](m, buf, yd);
    }
  }
}

/* --- numbers to strings ------------------------------------------------------------ */
#define CAST_STR_MAX 32 /* bytes per element: longest is "-1.2345678901234567e-308" */

/* Round-trip test for the shortest-digits search, per source type. */
static bool cast_roundtrips(int32_t dtype, const char *s, double v) {
  switch (dtype) {
  case ONNXI_DTYPE_DOUBLE: return strtod(s, NULL) == v;
  case ONNXI_DTYPE_FLOAT: return strtof(s, NULL) == (float)v;
  default: {
    float f = strtof(s, NULL);
    return cast_f32_to_half(dtype, f) == cast_f32_to_half(dtype, (float)v);
  }
  }
}

/* numpy's str() of a float scalar: the shortest digits that read back as
 * the same value, positional for 1e-4 <= |v| < 1e16 ("0.5", "100.0"),
 * scientific otherwise ("1e-05", "3.4e+38"). */
static size_t cast_format_float(int32_t dtype, double v, char *out) {
  if (v != v) return (size_t)snprintf(out, CAST_STR_MAX, "nan");
  if (isinf(v)) return (size_t)snprintf(out, CAST_STR_MAX, v < 0 ? "-inf" : "inf");
  if (v == 0) return (size_t)snprintf(out, CAST_STR_MAX, signbit(v) ? "-0.0" : "0.0");
  int maxp = dtype == ONNXI_DTYPE_DOUBLE ? 17 : 9;
  char e[40];
  for (int p = 1; p <= maxp; p++) {
    snprintf(e, sizeof e, "%.*e", p - 1, v);
    if (cast_roundtrips(dtype, e, v)) break;
  }
  /* e is "-d.ddde+XX": collect the digits and the exponent */
  char digits[24];
  int nd = 0;
  const char *c = e;
  bool neg = *c == '-';
  if (neg) c++;
  for (; *c && *c != 'e'; c++)
    if (isdigit((unsigned char)*c) && nd < (int)sizeof digits - 1) digits[nd++] = *c;
  int exp10 = *c == 'e' ? atoi(c + 1) : 0;
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  digits[nd] = '\0';
  size_t o = 0;
  if (neg) out[o++] = '-';
  double a = fabs(v);
  if (a >= 1e-4 && a < 1e16) {
    if (exp10 >= 0) {
      for (int i = 0; i <= exp10; i++) out[o++] = i < nd ? digits[i] : '0';
      out[o++] = '.';
      if (nd > exp10 + 1)
        for (int i = exp10 + 1; i < nd; i++) out[o++] = digits[i];
      else
        out[o++] = '0';
    } else {
      out[o++] = '0';
      out[o++] = '.';
      for (int i = 0; i < -exp10 - 1; i++) out[o++] = '0';
      for (int i = 0; i < nd; i++) out[o++] = digits[i];
    }
    out[o] = '\0';
    return o;
  }
  out[o++] = digits[0];
  if (nd > 1) {
    out[o++] = '.';
    for (int i = 1; i < nd; i++) out[o++] = digits[i];
  }
  o += (size_t)snprintf(out + o, CAST_STR_MAX - o, "e%c%02d", exp10 < 0 ? '-' : '+',
                        exp10 < 0 ? -exp10 : exp10);
  return o;
}

/* Element i of a numeric tensor as text. */
static size_t cast_format(int32_t dtype, const void *data, size_t i, char *out) {
  const unsigned char *e = (const unsigned char *)data + i * ir_dtype_size(dtype);
  switch (dtype) {
  case ONNXI_DTYPE_BOOL: return (size_t)snprintf(out, CAST_STR_MAX, *e ? "True" : "False");
  case ONNXI_DTYPE_INT8:
  case ONNXI_DTYPE_INT16:
  case ONNXI_DTYPE_INT32:
  case ONNXI_DTYPE_INT64: {
    int64_t v;
    cast_numeric(dtype, ONNXI_DTYPE_INT64, 1, e, &v);
    return (size_t)snprintf(out, CAST_STR_MAX, "%lld", (long long)v);
  }
  case ONNXI_DTYPE_UINT8:
  case ONNXI_DTYPE_UINT16:
  case ONNXI_DTYPE_UINT32:
  case ONNXI_DTYPE_UINT64: {
    uint64_t v;
    cast_numeric(dtype, ONNXI_DTYPE_UINT64, 1, e, &v);
    return (size_t)snprintf(out, CAST_STR_MAX, "%llu", (unsigned long long)v);
  }
  case ONNXI_DTYPE_FLOAT: {
    float v;
    memcpy(&v, e, sizeof v);
    return cast_format_float(dtype, v, out);
  }
  case ONNXI_DTYPE_DOUBLE: {
    double v;
    memcpy(&v, e, sizeof v);
    return cast_format_float(dtype, v, out);
  }
  default: { /* float16, bfloat16 */
    uint16_t h;
    memcpy(&h, e, sizeof h);
    return cast_format_float(dtype, cast_half_to_f32(dtype, h), out);
  }
  }
}

/* --- strings to numbers ------------------------------------------------------------ */
#define CAST_PARSE_MAX 128

/* Parses s as the numeric dtype into dst; false if it is not a number. */
static bool cast_parse(const ir_string *s, int32_t dtype, void *dst) {
  char buf[CAST_PARSE_MAX];
  if (!s->data || s->len >= sizeof buf) return false;
  memcpy(buf, s->data, s->len);
  buf[s->len] = '\0';
  if (strlen(buf) != s->len) return false; /* embedded NUL */
  size_t end = s->len;
  while (end > 0 && isspace((unsigned char)buf[end - 1])) buf[--end] = '\0';
  const char *p = buf;
  while (isspace((unsigned char)*p)) p++;
  if (!*p) return false;
  char *stop;
  errno = 0;
  if (dtype == ONNXI_DTYPE_BOOL) {
    uint8_t b;
    if (!strcasecmp(p, "true") || !strcasecmp(p, "false")) {
      b = (p[0] == 't' || p[0] == 'T');
    } else {
      double d = strtod(p, &stop);
      if (*stop) return false;
      b = d != 0;
    }
    memcpy(dst, &b, 1);
    return true;
  }
  bool is_unsigned = dtype == ONNXI_DTYPE_UINT8 || dtype == ONNXI_DTYPE_UINT16 ||
                     dtype == ONNXI_DTYPE_UINT32 || dtype == ONNXI_DTYPE_UINT64;
  bool is_int = is_unsigned || dtype == ONNXI_DTYPE_INT8 || dtype == ONNXI_DTYPE_INT16 ||
                dtype == ONNXI_DTYPE_INT32 || dtype == ONNXI_DTYPE_INT64;
  if (is_int && *p != '-' && is_unsigned) { /* exact for the whole uint64 range */
    unsigned long long u = strtoull(p, &stop, 10);
    if (!*stop && errno == 0) {
      uint64_t v = u;
      cast_numeric(ONNXI_DTYPE_UINT64, dtype, 1, &v, dst);
      return true;
    }
  } else if (is_int) {
    long long l = strtoll(p, &stop, 10);
    if (!*stop && errno == 0) {
      int64_t v = l;
      cast_numeric(ONNXI_DTYPE_INT64, dtype, 1, &v, dst);
      return true;
    }
  }
  errno = 0;
  if (dtype == ONNXI_DTYPE_FLOAT || cast_is_half(dtype)) { /* strtof: one rounding */
    float f = strtof(p, &stop);
    if (*stop) return false;
    cast_numeric(ONNXI_DTYPE_FLOAT, dtype, 1, &f, dst);
    return true;
  }
  double d = strtod(p, &stop); /* double, or "1e3" / "2.5" for an integer type */
  if (*stop) return false;
  cast_numeric(ONNXI_DTYPE_DOUBLE, dtype, 1, &d, dst);
  return true;
}

/* --- kernel ------------------------------------------------------------------------ */
typedef struct cast_state {
  int32_t to;
  char *chars; /* string output characters, CAST_STR_MAX per element */
  size_t chars_cap;
} cast_state;

static onnxi_status cast_init(op_context *ctx, void *state) {
  cast_state *s = state;
  int64_t to;
  onnxi_status st = op_attr_int(ctx, "to", 0, &to);
  if (st != ONNXI_OK) return st;
  if (!ir_node_attr(ctx->node, "to"))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'to' is required");
  if (to <= 0 || to > INT32_MAX || !ir_dtype_valid((int32_t)to))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "attribute 'to': data type %lld is not supported",
                    (long long)to);
  s->to = (int32_t)to;
  return ONNXI_OK;
}

static bool cast_dtype_ok(int32_t dtype) {
  return dtype == ONNXI_DTYPE_STRING || cast_is_half(dtype) || cast_index(dtype) >= 0;
}

/* Output: x's dims and layout in dtype s->to (`what` names where `to` came from). */
static onnxi_status cast_shape(op_context *ctx, const cast_state *s, const char *what,
                               const op_tensor *x, op_tensor *y) {
  if (!cast_dtype_ok(x->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input dtype %s is not supported",
                    onnxi_dtype_name((onnxi_dtype)x->dtype));
  if (!cast_dtype_ok(s->to))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "%s: %s is not supported", what,
                    onnxi_dtype_name((onnxi_dtype)s->to));
  y->dtype = s->to;
  y->rank = x->rank;
  memcpy(y->dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
  y->layout = x->rank == 4 ? x->layout : IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

static onnxi_status cast_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  cast_state *s = state;
  if (n_in != 1 || !in[0] || n_out != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects 1 input and 1 output, got %d and %d",
                    n_in, n_out);
  return cast_shape(ctx, s, "attribute 'to'", in[0], out[0]);
}

/* Number -> string needs room for the characters; sized here so run does
 * not allocate. */
static onnxi_status cast_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out, (void)out;
  cast_state *s = state;
  if (s->to != ONNXI_DTYPE_STRING || in[0]->dtype == ONNXI_DTYPE_STRING) return ONNXI_OK;
  size_t count = (size_t)in[0]->count;
  if (count > SIZE_MAX / CAST_STR_MAX)
    return op_error(ctx, ONNXI_ERR_LIMIT, "%zu string elements are too many", count);
  size_t need = count * CAST_STR_MAX;
  if (need <= s->chars_cap) return ONNXI_OK;
  free(s->chars);
  s->chars = malloc(need ? need : 1);
  s->chars_cap = s->chars ? need : 0;
  if (!s->chars)
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "no memory for %zu string elements", count);
  return ONNXI_OK;
}

static onnxi_status cast_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  cast_state *s = state;
  const op_tensor *x = in[0];
  op_tensor *y = out[0];
  size_t count = (size_t)x->count;
  if (x->dtype == ONNXI_DTYPE_STRING && s->to == ONNXI_DTYPE_STRING) {
    if (y->data != x->data) memcpy(y->data, x->data, count * sizeof(ir_string));
    return ONNXI_OK;
  }
  if (s->to == ONNXI_DTYPE_STRING) {
    ir_string *ys = y->data;
    for (size_t i = 0; i < count; i++) {
      char *c = s->chars + i * CAST_STR_MAX;
      ys[i].len = cast_format(x->dtype, x->data, i, c);
      ys[i].data = c;
    }
    return ONNXI_OK;
  }
  if (x->dtype == ONNXI_DTYPE_STRING) {
    const ir_string *xs = x->data;
    size_t es = ir_dtype_size(s->to);
    for (size_t i = 0; i < count; i++)
      if (!cast_parse(&xs[i], s->to, (unsigned char *)y->data + i * es))
        return op_error(ctx, ONNXI_ERR_RUNTIME, "element %zu (\"%.40s\") is not a %s number", i,
                        xs[i].data ? xs[i].data : "", onnxi_dtype_name((onnxi_dtype)s->to));
    return ONNXI_OK;
  }
  cast_numeric(x->dtype, s->to, count, x->data, y->data);
  return ONNXI_OK;
}

static void cast_release(void *state) {
  cast_state *s = state;
  free(s->chars);
  s->chars = NULL;
  s->chars_cap = 0;
}

const op_kernel op_cast = {.name = "Cast",
                           .state_size = sizeof(cast_state),
                           .init = cast_init,
                           .layout = op_layout_follow,
                           .infer = cast_infer,
                           .setup = cast_setup,
                           .run = cast_run,
                           .release = cast_release};

/* --- CastLike (opset 15): Cast to the dtype of input 'target_type' ------------------------ */

static onnxi_status cast_like_init(op_context *ctx, void *state) {
  (void)state;
  return op_io_check(ctx, 2, 2, 1, 1);
}

static onnxi_status cast_like_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                    op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  cast_state *s = state;
  s->to = in[1]->dtype;
  return cast_shape(ctx, s, "input 'target_type' dtype", in[0], out[0]);
}

/* Only input 0 follows the layout: target_type's contents are never read. */
const op_kernel op_cast_like = {.name = "CastLike",
                                .state_size = sizeof(cast_state),
                                .flags = OP_KERNEL_LAYOUT_INPUT0,
                                .init = cast_like_init,
                                .layout = op_layout_follow,
                                .infer = cast_like_infer,
                                .setup = cast_setup,
                                .run = cast_run,
                                .release = cast_release};
