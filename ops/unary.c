/* Elementwise unary ops: Abs, Ceil, Cos, Elu, Erf, Exp, Floor, HardSigmoid,
 * HardSwish, LeakyRelu, Log, Mish, Neg, Reciprocal, Relu, Selu, Sigmoid, Sin,
 * Softplus, Sqrt, Tanh, Round, Sign, Softsign, ThresholdedRelu, Shrink, Celu,
 * Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh, Clip, Not; IsNaN and
 * IsInf (float to bool); and the fused onnxi.Swish (x * Sigmoid(x), SiLU) and
 * onnxi.MulHardSigmoid (x * HardSigmoid(x)) the swish pass makes.
 *
 * Each op is one line of UNARY_FLOAT_OPS (its math, generic over float and
 * double) plus, where ONNX allows integers, one line of UNARY_SIGNED_OPS;
 * macros expand those lines into blocked loops that GCC vectorises at -O2.
 * float16/bfloat16 run the float32 loop on converted chunks. float32 goes
 * through XNNPACK where it has the op (runtime-dispatched AVX2/AVX-512 code
 * and its own threading); our loop is the fallback when XNNPACK rejects the
 * parameters. Storage layout does not matter to an elementwise op, so the
 * output simply takes the input's layout. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <xnnpack.h>

#include "act.h"
#include "kernel.h"
#include "tile256.h" /* t256_mask: AVX2's masked tails */
#include "unary_math.h"

typedef struct unary_params {
  float alpha, beta, gamma;
  unsigned char lo[8], hi[8]; /* Clip bounds in the compute type's representation */
} unary_params;

typedef void (*unary_fn)(size_t n, const void *x, void *y, const unary_params *p);

typedef enum unary_xnn {
  UNARY_XNN_NONE = 0,
  UNARY_XNN_ABS,
  UNARY_XNN_NEGATE,
  UNARY_XNN_CEILING,
  UNARY_XNN_FLOOR,
  UNARY_XNN_SQUARE_ROOT,
  UNARY_XNN_CLAMP, /* Relu, Clip */
  UNARY_XNN_LEAKY_RELU,
  UNARY_XNN_ELU,
  UNARY_XNN_SIGMOID,
  UNARY_XNN_HARDSWISH
} unary_xnn;

/* --- the op table ---------------------------------------------------------
 * Inside an expression: x is the element, unary_t its type (float or double),
 * p the unary_params. UM(fn, x) picks our vectorisable float32 function or
 * libm's double one; SEL is a branch-free select (see unary_math.h). */
static inline double unary_softplusd(double x) {
  return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

#define UM_F32_abs um_absf
#define UM_F64_abs fabs
#define UM_F32_ceil ceilf
#define UM_F64_ceil ceil
#define UM_F32_floor floorf
#define UM_F64_floor floor
#define UM_F32_sqrt sqrtf
#define UM_F64_sqrt sqrt
#define UM_F32_exp um_expf
#define UM_F64_exp exp
#define UM_F32_expm1 um_expm1f
#define UM_F64_expm1 expm1
#define UM_F32_log um_logf
#define UM_F64_log log
#define UM_F32_tanh um_tanhf
#define UM_F64_tanh tanh
#define UM_F32_erf um_erff
#define UM_F64_erf erf
#define UM_F32_sin sinf /* libm: correct range reduction matters more than speed */
#define UM_F64_sin sin
#define UM_F32_cos cosf
#define UM_F64_cos cos
#define UM_F32_round nearbyintf /* half to even in the default rounding mode */
#define UM_F64_round nearbyint
/* the rarer trigonometric/hyperbolic ops: libm, scalar */
#define UM_F32_tan tanf
#define UM_F64_tan tan
#define UM_F32_asin asinf
#define UM_F64_asin asin
#define UM_F32_acos acosf
#define UM_F64_acos acos
#define UM_F32_atan atanf
#define UM_F64_atan atan
#define UM_F32_sinh sinhf
#define UM_F64_sinh sinh
#define UM_F32_cosh coshf
#define UM_F64_cosh cosh
#define UM_F32_asinh asinhf
#define UM_F64_asinh asinh
#define UM_F32_acosh acoshf
#define UM_F64_acosh acosh
#define UM_F32_atanh atanhf
#define UM_F64_atanh atanh
#define UM_F32_softplus um_softplusf
#define UM_F64_softplus unary_softplusd

#define UM(fn, v) _Generic((unary_t)0, float: UM_F32_##fn, double: UM_F64_##fn)(v)
#define SEL(c, a, b) \
  _Generic((unary_t)0, float: um_self, double: um_seld)((c), (unary_t)(a), (unary_t)(b))
#define CLAMP01(v) SEL((v) < 0, 0, SEL((v) > 1, 1, (v)))

/* X(ENUM, kernel, "OpType", XNNPACK operator, expression) */
#define UNARY_FLOAT_OPS(X)                                                                 \
  X(ABS, abs, "Abs", UNARY_XNN_ABS, UM(abs, x))                                            \
  X(NEG, neg, "Neg", UNARY_XNN_NEGATE, -x)                                                 \
  X(CEIL, ceil, "Ceil", UNARY_XNN_CEILING, UM(ceil, x))                                    \
  X(FLOOR, floor, "Floor", UNARY_XNN_FLOOR, UM(floor, x))                                  \
  X(SQRT, sqrt, "Sqrt", UNARY_XNN_SQUARE_ROOT, UM(sqrt, x))                                \
  X(RECIPROCAL, reciprocal, "Reciprocal", UNARY_XNN_NONE, 1 / x)                           \
  X(RELU, relu, "Relu", UNARY_XNN_CLAMP, SEL(x < 0, 0, x))                                 \
  X(LEAKY_RELU, leaky_relu, "LeakyRelu", UNARY_XNN_LEAKY_RELU, SEL(x < 0, p->alpha * x, x)) \
  X(ELU, elu, "Elu", UNARY_XNN_ELU, SEL(x < 0, p->alpha * UM(expm1, x), x))                \
  X(SELU, selu, "Selu", UNARY_XNN_NONE, p->gamma * SEL(x > 0, x, p->alpha * UM(expm1, x))) \
  X(SIGMOID, sigmoid, "Sigmoid", UNARY_XNN_SIGMOID, 1 / (1 + UM(exp, -x)))                 \
  X(HARD_SIGMOID, hard_sigmoid, "HardSigmoid", UNARY_XNN_NONE, CLAMP01(p->alpha * x + p->beta)) \
  X(HARD_SWISH, hard_swish, "HardSwish", UNARY_XNN_HARDSWISH, x * CLAMP01(x / 6 + (unary_t)0.5)) \
  X(EXP, exp, "Exp", UNARY_XNN_NONE, UM(exp, x))                                           \
  X(LOG, log, "Log", UNARY_XNN_NONE, UM(log, x))                                           \
  X(SIN, sin, "Sin", UNARY_XNN_NONE, UM(sin, x))                                           \
  X(COS, cos, "Cos", UNARY_XNN_NONE, UM(cos, x))                                           \
  X(TANH, tanh, "Tanh", UNARY_XNN_NONE, UM(tanh, x))                                       \
  X(ERF, erf, "Erf", UNARY_XNN_NONE, UM(erf, x))                                           \
  X(SOFTPLUS, softplus, "Softplus", UNARY_XNN_NONE, UM(softplus, x))                       \
  X(MISH, mish, "Mish", UNARY_XNN_NONE, x * UM(tanh, UM(softplus, x)))                     \
  X(SWISH, swish, "onnxi.Swish", UNARY_XNN_NONE, x / (1 + UM(exp, -x)))                    \
  X(MUL_HARD_SIGMOID, mul_hard_sigmoid, "onnxi.MulHardSigmoid", UNARY_XNN_NONE,            \
    x * CLAMP01(p->alpha * x + p->beta))                                                   \
  X(ROUND, round, "Round", UNARY_XNN_NONE, UM(round, x))                                   \
  X(SIGN, sign, "Sign", UNARY_XNN_NONE, SEL(x > 0, 1, SEL(x < 0, -1, x)))                  \
  X(SOFTSIGN, softsign, "Softsign", UNARY_XNN_NONE, x / (1 + UM(abs, x)))                  \
  X(THRESHOLDED_RELU, thresholded_relu, "ThresholdedRelu", UNARY_XNN_NONE,                 \
    SEL(x > p->alpha, x, 0))                                                               \
  X(SHRINK, shrink, "Shrink", UNARY_XNN_NONE,                                              \
    SEL(x < -p->alpha, x + p->beta, SEL(x > p->alpha, x - p->beta, 0)))                    \
  X(CELU, celu, "Celu", UNARY_XNN_NONE,                                                    \
    SEL(x > 0, x, p->alpha * UM(expm1, x / p->alpha)))                                     \
  X(TAN, tan, "Tan", UNARY_XNN_NONE, UM(tan, x))                                           \
  X(ASIN, asin, "Asin", UNARY_XNN_NONE, UM(asin, x))                                       \
  X(ACOS, acos, "Acos", UNARY_XNN_NONE, UM(acos, x))                                       \
  X(ATAN, atan, "Atan", UNARY_XNN_NONE, UM(atan, x))                                       \
  X(SINH, sinh, "Sinh", UNARY_XNN_NONE, UM(sinh, x))                                       \
  X(COSH, cosh, "Cosh", UNARY_XNN_NONE, UM(cosh, x))                                       \
  X(ASINH, asinh, "Asinh", UNARY_XNN_NONE, UM(asinh, x))                                   \
  X(ACOSH, acosh, "Acosh", UNARY_XNN_NONE, UM(acosh, x))                                   \
  X(ATANH, atanh, "Atanh", UNARY_XNN_NONE, UM(atanh, x))

/* Ops ONNX also defines on signed integers; unary_u is the unsigned twin
 * (negation wraps like numpy instead of overflowing). */
#define UNARY_SIGNED_OPS(X)                                    \
  X(ABS, abs, x < 0 ? (unary_t)(0 - (unary_u)x) : x)           \
  X(NEG, neg, (unary_t)(0 - (unary_u)x))                       \
  X(RELU, relu, x < 0 ? 0 : x)                                 \
  X(SIGN, sign, (x > 0) - (x < 0))

/* X(suffix, type, unsigned twin) */
#define UNARY_SIGNED_TYPES(X) \
  X(i8, int8_t, uint8_t)      \
  X(i16, int16_t, uint16_t)   \
  X(i32, int32_t, uint32_t)   \
  X(i64, int64_t, uint64_t)
#define UNARY_UNSIGNED_TYPES(X) \
  X(u8, uint8_t, uint8_t)       \
  X(u16, uint16_t, uint16_t)    \
  X(u32, uint32_t, uint32_t)    \
  X(u64, uint64_t, uint64_t)
#define UNARY_FLOAT_TYPES(X) \
  X(f32, float, float)       \
  X(f64, double, double)

/* --- loop generation ---------------------------------------------------------
 * A fixed-size inner block is what GCC's -O2 cost model agrees to vectorise;
 * copying through `b` also makes in-place operation (y == x) well defined. */
#define UNARY_BLOCK 16

#define UNARY_LOOP(name, T, U, EXPR)                                                  \
  static void name(size_t n, const void *vx, void *vy, const unary_params *params) { \
    typedef T unary_t;                                                                \
    typedef U unary_u;                                                                \
    const unary_t *px = vx;                                                           \
    unary_t *py = vy;                                                                 \
    const unary_params *p = params;                                                   \
    (void)p;                                                                          \
    (void)sizeof(unary_u);                                                            \
    size_t i = 0;                                                                     \
    for (; i + UNARY_BLOCK <= n; i += UNARY_BLOCK) {                                  \
      unary_t b[UNARY_BLOCK];                                                         \
      memcpy(b, px + i, sizeof b);                                                    \
      for (size_t j = 0; j < UNARY_BLOCK; j++) {                                      \
        unary_t x = b[j];                                                             \
        b[j] = (unary_t)(EXPR);                                                       \
      }                                                                               \
      memcpy(py + i, b, sizeof b);                                                    \
    }                                                                                 \
    for (; i < n; i++) {                                                              \
      unary_t x = px[i];                                                              \
      py[i] = (unary_t)(EXPR);                                                        \
    }                                                                                 \
  }

/* Float ops x float types. */
#define UNARY_GEN_FLOAT_TYPE(sfx, T, U, e, k, EXPR) UNARY_LOOP(unary_##k##_##sfx, T, U, EXPR)
#define UNARY_GEN_FLOAT_OP(e, k, n, xnn, EXPR)          \
  UNARY_GEN_FLOAT_TYPE(f32, float, float, e, k, EXPR) \
  UNARY_GEN_FLOAT_TYPE(f64, double, double, e, k, EXPR)
UNARY_FLOAT_OPS(UNARY_GEN_FLOAT_OP)

/* Signed ops x signed integer types. */
#define UNARY_GEN_SIGNED_OP(e, k, EXPR)                      \
  UNARY_LOOP(unary_##k##_i8, int8_t, uint8_t, EXPR)       \
  UNARY_LOOP(unary_##k##_i16, int16_t, uint16_t, EXPR)    \
  UNARY_LOOP(unary_##k##_i32, int32_t, uint32_t, EXPR)    \
  UNARY_LOOP(unary_##k##_i64, int64_t, uint64_t, EXPR)
UNARY_SIGNED_OPS(UNARY_GEN_SIGNED_OP)

/* Abs of unsigned is the identity; Sign is 0 or 1. */
#define UNARY_GEN_UABS(sfx, T, U) UNARY_LOOP(unary_abs_##sfx, T, U, x)
UNARY_UNSIGNED_TYPES(UNARY_GEN_UABS)
#define UNARY_GEN_USIGN(sfx, T, U) UNARY_LOOP(unary_sign_##sfx, T, U, x > 0)
UNARY_UNSIGNED_TYPES(UNARY_GEN_USIGN)

/* Clip on every numeric type; plain selects without arithmetic vectorise
 * as they are. min > max yields max everywhere, as the spec's
 * min(max(x, lo), hi) does. */
#define UNARY_GEN_CLIP(sfx, T, U)                                                    \
  static void unary_clip_##sfx(size_t n, const void *vx, void *vy,                  \
                               const unary_params *p) {                              \
    const T *px = vx;                                                                \
    T *py = vy, lo, hi;                                                              \
    memcpy(&lo, p->lo, sizeof lo);                                                   \
    memcpy(&hi, p->hi, sizeof hi);                                                   \
    size_t i = 0;                                                                    \
    for (; i + UNARY_BLOCK <= n; i += UNARY_BLOCK) {                                 \
      T b[UNARY_BLOCK];                                                              \
      memcpy(b, px + i, sizeof b);                                                   \
      for (size_t j = 0; j < UNARY_BLOCK; j++) {                                     \
        T v = b[j] < lo ? lo : b[j];                                                 \
        b[j] = v > hi ? hi : v;                                                      \
      }                                                                              \
      memcpy(py + i, b, sizeof b);                                                   \
    }                                                                                \
    for (; i < n; i++) {                                                             \
      T v = px[i] < lo ? lo : px[i];                                                 \
      py[i] = v > hi ? hi : v;                                                       \
    }                                                                                \
  }
UNARY_SIGNED_TYPES(UNARY_GEN_CLIP)
UNARY_UNSIGNED_TYPES(UNARY_GEN_CLIP)
UNARY_FLOAT_TYPES(UNARY_GEN_CLIP)

UNARY_LOOP(unary_not_b, uint8_t, uint8_t, !x)

/* --- per-op descriptors, indexed by ir_op ------------------------------------ */
typedef struct unary_desc {
  unary_xnn xnn;
  float alpha, beta, gamma; /* attribute defaults */
  unary_fn f32, f64;        /* f32 also serves float16 and bfloat16 */
  unary_fn i8, i16, i32, i64, u8, u16, u32, u64, b;
} unary_desc;

#define UNARY_DESC_FLOAT(e, k, n, x, EXPR) \
  [IR_OP_##e].xnn = x, [IR_OP_##e].f32 = unary_##k##_f32, [IR_OP_##e].f64 = unary_##k##_f64,
#define UNARY_DESC_SIGNED(e, k, EXPR)                                                 \
  [IR_OP_##e].i8 = unary_##k##_i8, [IR_OP_##e].i16 = unary_##k##_i16,                 \
  [IR_OP_##e].i32 = unary_##k##_i32, [IR_OP_##e].i64 = unary_##k##_i64,
#define UNARY_DESC_CLIP(sfx, T, U) [IR_OP_CLIP].sfx = unary_clip_##sfx,
#define UNARY_DESC_UABS(sfx, T, U) [IR_OP_ABS].sfx = unary_abs_##sfx,
#define UNARY_DESC_USIGN(sfx, T, U) [IR_OP_SIGN].sfx = unary_sign_##sfx,

static const unary_desc unary_descs[IR_OP_COUNT] = {
    UNARY_FLOAT_OPS(UNARY_DESC_FLOAT)
    UNARY_SIGNED_OPS(UNARY_DESC_SIGNED)
    UNARY_UNSIGNED_TYPES(UNARY_DESC_UABS)
    UNARY_UNSIGNED_TYPES(UNARY_DESC_USIGN)
    UNARY_SIGNED_TYPES(UNARY_DESC_CLIP)
    UNARY_UNSIGNED_TYPES(UNARY_DESC_CLIP)
    UNARY_FLOAT_TYPES(UNARY_DESC_CLIP)
    [IR_OP_CLIP].xnn = UNARY_XNN_CLAMP,
    [IR_OP_NOT].b = unary_not_b,
    [IR_OP_LEAKY_RELU].alpha = 0.01f,
    [IR_OP_ELU].alpha = 1.0f,
    [IR_OP_SELU].alpha = 1.67326319217681884765625f,
    [IR_OP_SELU].gamma = 1.05070102214813232421875f,
    [IR_OP_HARD_SIGMOID].alpha = 0.2f,
    [IR_OP_HARD_SIGMOID].beta = 0.5f,
    [IR_OP_MUL_HARD_SIGMOID].alpha = 0.2f,
    [IR_OP_MUL_HARD_SIGMOID].beta = 0.5f,
    [IR_OP_THRESHOLDED_RELU].alpha = 1.0f,
    [IR_OP_CELU].alpha = 1.0f,
    [IR_OP_SHRINK].alpha = 0.5f, /* lambd; beta = bias */
};

/* --- float32 Swish -----------------------------------------------------------
 * x * sigmoid(x) = x / (1 + e^-x) in one pass compiled per ISA (AVX-512,
 * AVX2, baseline): XNNPACK's sigmoid and then a multiply were two passes
 * over memory, 2.7x slower on EfficientNet's 1.2M-element activations.
 * -inf gives NaN, as x * sigmoid(x) does. */
static inline float unary_swish1(float x) { return x / (1.0f + um_expf(-x)); }

OP_VECTOR_LOOP
static void unary_swish_inplace(size_t n, float *y) {
  for (size_t i = 0; i < n; i++) y[i] = unary_swish1(y[i]);
}

OP_VECTOR_LOOP
static void unary_swish_copy(size_t n, const float *restrict x, float *restrict y) {
  for (size_t i = 0; i < n; i++) y[i] = unary_swish1(x[i]);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define UNARY_HAVE_ACT512 1
/* op_act512 (ops/act.h) over n values, the tail by a masked load and
 * store. Swish: ~16 instructions per 16 values where the compiled loop
 * needs ~25 (two scale steps, a NaN select); EfficientNet-B0's 49 Swish
 * steps went 2.57 -> 1.5 ms thread CPU. */
__attribute__((target("avx512f"))) static void unary_act512(int act, size_t n, const float *x,
                                                            float *y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, op_act512(act, _mm512_loadu_ps(x + i)));
  if (i < n) {
    __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, op_act512(act, _mm512_maskz_loadu_ps(m, x + i)));
  }
}

/* The same with op_act256 for AVX2 + FMA CPUs (Zen 3). */
__attribute__((target("avx2,fma"))) static void unary_act256(int act, size_t n, const float *x,
                                                             float *y) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, op_act256(act, _mm256_loadu_ps(x + i)));
  if (i < n) {
    __m256i m = t256_mask((int64_t)(n - i));
    t256_store(y + i, m, false, op_act256(act, t256_load(x + i, m, false)));
  }
}

/* op_act over n values on the widest of the two, false on neither. */
static bool unary_act_simd(int act, size_t n, const float *x, float *y) {
  if (__builtin_cpu_supports("avx512f")) {
    unary_act512(act, n, x, y);
    return true;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    unary_act256(act, n, x, y);
    return true;
  }
  return false;
}
#endif

/* Separate loops for y == x: `restrict` would be a lie there, and without it
 * GCC's overlap check sends exact aliasing to the scalar loop. */
static void unary_swish_fast(size_t n, const void *vx, void *vy, const unary_params *p) {
  (void)p;
#ifdef UNARY_HAVE_ACT512
  if (unary_act_simd(OP_ACT_SWISH, n, vx, vy)) return;
#endif
  if (vx == vy) unary_swish_inplace(n, vy);
  else unary_swish_copy(n, vx, vy);
}

const char *op_act_name(int act) {
  return act == OP_ACT_SWISH ? "Swish" : act == OP_ACT_HARD_SWISH ? "HardSwish" : "";
}

/* The ops' own float loops (both safe in place); HardSwish's generated
 * loop takes no parameters. */
void op_act_inplace(int act, float *y, size_t n) {
  if (act == OP_ACT_SWISH) {
    unary_swish_fast(n, y, y, NULL);
    return;
  }
  if (act != OP_ACT_HARD_SWISH) return;
#ifdef UNARY_HAVE_ACT512
  if (unary_act_simd(act, n, y, y)) return;
#endif
  unary_descs[IR_OP_HARD_SWISH].f32(n, y, y, NULL);
}

/* The loop for a storage dtype; float16/bfloat16 map to the float32 loop. */
static unary_fn unary_desc_fn(const unary_desc *d, int32_t dtype) {
  switch (dtype) {
  case ONNXI_DTYPE_FLOAT: case ONNXI_DTYPE_FLOAT16: case ONNXI_DTYPE_BFLOAT16:
    return d == &unary_descs[IR_OP_SWISH] ? unary_swish_fast : d->f32;
  case ONNXI_DTYPE_DOUBLE: return d->f64;
  case ONNXI_DTYPE_INT8: return d->i8;
  case ONNXI_DTYPE_INT16: return d->i16;
  case ONNXI_DTYPE_INT32: return d->i32;
  case ONNXI_DTYPE_INT64: return d->i64;
  case ONNXI_DTYPE_UINT8: return d->u8;
  case ONNXI_DTYPE_UINT16: return d->u16;
  case ONNXI_DTYPE_UINT32: return d->u32;
  case ONNXI_DTYPE_UINT64: return d->u64;
  case ONNXI_DTYPE_BOOL: return d->b;
  default: return NULL;
  }
}

/* --- kernel state and hooks ----------------------------------------------------- */
typedef struct unary_state {
  const unary_desc *desc;
  unary_params params;
  bool clip_attrs;          /* opset < 11: bounds are attributes */
  float clip_lo, clip_hi;   /* opset < 11 bounds */
  xnn_operator_t xnn;       /* created at init when XNNPACK has the op */
  bool xnn_ready;           /* set up for the current plan */
  unary_fn fn;
  int32_t dtype;
} unary_state;

static enum xnn_status unary_xnn_create(unary_xnn kind, const unary_params *p, float lo,
                                        float hi, xnn_operator_t *op) {
  switch (kind) {
  case UNARY_XNN_ABS: return xnn_create_abs_nc_f32(1, 1, 1, 0, op);
  case UNARY_XNN_NEGATE: return xnn_create_negate_nc_f32(1, 1, 1, 0, op);
  case UNARY_XNN_CEILING: return xnn_create_ceiling_nc_f32(1, 1, 1, 0, op);
  case UNARY_XNN_FLOOR: return xnn_create_floor_nc_f32(1, 1, 1, 0, op);
  case UNARY_XNN_SQUARE_ROOT: return xnn_create_square_root_nc_f32(1, 1, 1, 0, op);
  case UNARY_XNN_CLAMP: return xnn_create_clamp_nc_f32(1, 1, 1, lo, hi, 0, op);
  case UNARY_XNN_LEAKY_RELU: return xnn_create_leaky_relu_nc_f32(1, 1, 1, p->alpha, 0, op);
  case UNARY_XNN_ELU: return xnn_create_elu_nc_f32(1, 1, 1, p->alpha, 0, op);
  case UNARY_XNN_SIGMOID: return xnn_create_sigmoid_nc_f32(1, 1, 1, 0, op);
  case UNARY_XNN_HARDSWISH: return xnn_create_hardswish_nc_f32(1, 1, 1, 0, op);
  case UNARY_XNN_NONE: break;
  }
  return xnn_status_unsupported_parameter;
}

typedef enum xnn_status (*unary_xnn_setup_fn)(xnn_operator_t, size_t, const float *, float *,
                                              pthreadpool_t);
static const unary_xnn_setup_fn unary_xnn_setups[] = {
    [UNARY_XNN_ABS] = xnn_setup_abs_nc_f32,
    [UNARY_XNN_NEGATE] = xnn_setup_negate_nc_f32,
    [UNARY_XNN_CEILING] = xnn_setup_ceiling_nc_f32,
    [UNARY_XNN_FLOOR] = xnn_setup_floor_nc_f32,
    [UNARY_XNN_SQUARE_ROOT] = xnn_setup_square_root_nc_f32,
    [UNARY_XNN_CLAMP] = xnn_setup_clamp_nc_f32,
    [UNARY_XNN_LEAKY_RELU] = xnn_setup_leaky_relu_nc_f32,
    [UNARY_XNN_ELU] = xnn_setup_elu_nc_f32,
    [UNARY_XNN_SIGMOID] = xnn_setup_sigmoid_nc_f32,
    [UNARY_XNN_HARDSWISH] = xnn_setup_hardswish_nc_f32,
};

/* A Clip bound given as a load-time constant float scalar, for XNNPACK. */
static bool unary_clip_const(const op_context *ctx, int k, float def, float *out) {
  if (k >= ctx->node->n_inputs || ctx->node->inputs[k] == IR_NONE) {
    *out = def;
    return true;
  }
  const ir_value *v = op_input_const(ctx, k);
  if (!v || v->dtype != ONNXI_DTYPE_FLOAT || v->nbytes != sizeof(float)) return false;
  memcpy(out, v->data, sizeof *out);
  return true;
}

/* Float32 bounds known at init (attributes, constant inputs, Relu) let
 * XNNPACK's clamp do the work; it needs lo < hi and no NaN. */
static bool unary_xnn_bounds(const op_context *ctx, const unary_state *s, float *lo,
                             float *hi) {
  if (ctx->node->op == IR_OP_RELU) {
    *lo = 0.0f;
    *hi = INFINITY;
    return true;
  }
  if (ctx->node->op != IR_OP_CLIP) return true;
  if (s->clip_attrs) {
    *lo = s->clip_lo;
    *hi = s->clip_hi;
  } else if (!unary_clip_const(ctx, 1, -INFINITY, lo) || !unary_clip_const(ctx, 2, INFINITY, hi)) {
    return false;
  }
  return *lo < *hi;
}

static onnxi_status unary_init(op_context *ctx, void *state) {
  unary_state *s = state;
  ir_op op = ctx->node->op;
  if (op <= IR_OP_UNKNOWN || op >= IR_OP_COUNT)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "not a unary op");
  s->desc = &unary_descs[op];
  onnxi_status st;
  /* Attributes an op does not define are simply never present. */
  if ((st = op_attr_float(ctx, "alpha", s->desc->alpha, &s->params.alpha)) != ONNXI_OK ||
      (st = op_attr_float(ctx, "beta", s->desc->beta, &s->params.beta)) != ONNXI_OK ||
      (st = op_attr_float(ctx, "gamma", s->desc->gamma, &s->params.gamma)) != ONNXI_OK ||
      (st = op_attr_float(ctx, "lambd", s->params.alpha, &s->params.alpha)) != ONNXI_OK ||
      (st = op_attr_float(ctx, "bias", s->params.beta, &s->params.beta)) != ONNXI_OK)
    return st;
  if (op == IR_OP_CLIP && ctx->opset < 11) {
    s->clip_attrs = true;
    if ((st = op_attr_float(ctx, "min", -INFINITY, &s->clip_lo)) != ONNXI_OK ||
        (st = op_attr_float(ctx, "max", INFINITY, &s->clip_hi)) != ONNXI_OK)
      return st;
  }
  float lo = -INFINITY, hi = INFINITY;
  if (s->desc->xnn != UNARY_XNN_NONE && unary_xnn_bounds(ctx, s, &lo, &hi) &&
      unary_xnn_create(s->desc->xnn, &s->params, lo, hi, &s->xnn) != xnn_status_success)
    s->xnn = NULL; /* parameters XNNPACK rejects (e.g. Elu alpha <= 0): own loop */
  return ONNXI_OK;
}

static onnxi_status unary_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                op_tensor *const *out, int n_out) {
  unary_state *s = state;
  int max_in = ctx->node->op == IR_OP_CLIP ? (s->clip_attrs ? 1 : 3) : 1;
  if (n_in < 1 || !in[0] || n_in > max_in || n_out != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects %d input(s) and 1 output, got %d and %d",
                    max_in, n_in, n_out);
  const op_tensor *x = in[0];
  s->fn = unary_desc_fn(s->desc, x->dtype);
  if (!s->fn)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input dtype %s is not supported",
                    onnxi_dtype_name((onnxi_dtype)x->dtype));
  if (s->clip_attrs && x->dtype != ONNXI_DTYPE_FLOAT && x->dtype != ONNXI_DTYPE_DOUBLE &&
      x->dtype != ONNXI_DTYPE_FLOAT16 && x->dtype != ONNXI_DTYPE_BFLOAT16)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED,
                    "input dtype %s needs opset 12 (min/max as inputs)",
                    onnxi_dtype_name((onnxi_dtype)x->dtype));
  for (int k = 1; k < n_in; k++) {
    const op_tensor *b = in[k];
    int64_t count;
    if (!b) continue;
    if (b->dtype != x->dtype)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input %d ('%s') has dtype %s, input has %s",
                      k, k == 1 ? "min" : "max", onnxi_dtype_name((onnxi_dtype)b->dtype),
                      onnxi_dtype_name((onnxi_dtype)x->dtype));
    if (!op_dims_count(b->dims, b->rank, &count) || count != 1)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input %d ('%s') must be a scalar", k,
                      k == 1 ? "min" : "max");
  }
  s->dtype = x->dtype;
  op_tensor_like(out[0], x);
  return ONNXI_OK;
}

static onnxi_status unary_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  unary_state *s = state;
  s->xnn_ready = false;
  if (!s->xnn || s->dtype != ONNXI_DTYPE_FLOAT || in[0]->count == 0) return ONNXI_OK;
  enum xnn_status xs = unary_xnn_setups[s->desc->xnn](s->xnn, (size_t)in[0]->count, in[0]->data,
                                                      out[0]->data, ctx->threadpool);
  if (xs != xnn_status_success)
    return op_error(ctx, ONNXI_ERR_RUNTIME, "XNNPACK setup failed (status %d)", (int)xs);
  s->xnn_ready = true;
  return ONNXI_OK;
}

/* Clip bounds for this run, in the representation the loop computes in
 * (float for float16/bfloat16). Absent bounds are the type's limits. */
static void unary_clip_bound(const unary_state *s, const op_tensor *b, bool upper,
                             unsigned char *dst) {
  int32_t dt = s->dtype;
  float f = upper ? INFINITY : -INFINITY;
  if (s->clip_attrs) f = upper ? s->clip_hi : s->clip_lo;
  if (b && b->data && dt != ONNXI_DTYPE_FLOAT16 && dt != ONNXI_DTYPE_BFLOAT16) {
    memcpy(dst, b->data, ir_dtype_size(dt));
    return;
  }
  if (b && b->data) {
    uint16_t h;
    memcpy(&h, b->data, sizeof h);
    f = dt == ONNXI_DTYPE_FLOAT16 ? op_f16_to_f32(h) : op_bf16_to_f32(h);
  }
  union {
    int8_t i8; int16_t i16; int32_t i32; int64_t i64;
    uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
    float f32; double f64;
  } v = {.u64 = 0};
  switch (dt) {
  case ONNXI_DTYPE_INT8: v.i8 = upper ? INT8_MAX : INT8_MIN; break;
  case ONNXI_DTYPE_INT16: v.i16 = upper ? INT16_MAX : INT16_MIN; break;
  case ONNXI_DTYPE_INT32: v.i32 = upper ? INT32_MAX : INT32_MIN; break;
  case ONNXI_DTYPE_INT64: v.i64 = upper ? INT64_MAX : INT64_MIN; break;
  case ONNXI_DTYPE_UINT8: v.u8 = upper ? UINT8_MAX : 0; break;
  case ONNXI_DTYPE_UINT16: v.u16 = upper ? UINT16_MAX : 0; break;
  case ONNXI_DTYPE_UINT32: v.u32 = upper ? UINT32_MAX : 0; break;
  case ONNXI_DTYPE_UINT64: v.u64 = upper ? UINT64_MAX : 0; break;
  case ONNXI_DTYPE_DOUBLE: v.f64 = f; break;
  default: v.f32 = f; break;
  }
  memcpy(dst, &v, sizeof v);
}

/* Elements per task when our own loops run on the thread pool. */
#define UNARY_TILE 16384
#define UNARY_HALF_CHUNK 256

typedef struct unary_task {
  unary_fn fn;
  const unary_params *params;
  const unsigned char *x;
  unsigned char *y;
  size_t elem;
  int32_t dtype;
} unary_task;

/* float16/bfloat16: widen a chunk, run the float32 loop, narrow back. */
static void unary_run_half(const unary_task *t, size_t start, size_t n) {
  const uint16_t *x = (const uint16_t *)(const void *)t->x + start;
  uint16_t *y = (uint16_t *)(void *)t->y + start;
  bool f16 = t->dtype == ONNXI_DTYPE_FLOAT16;
  float buf[UNARY_HALF_CHUNK];
  for (size_t i = 0; i < n; i += UNARY_HALF_CHUNK) {
    size_t m = n - i < UNARY_HALF_CHUNK ? n - i : UNARY_HALF_CHUNK;
    for (size_t j = 0; j < m; j++)
      buf[j] = f16 ? op_f16_to_f32(x[i + j]) : op_bf16_to_f32(x[i + j]);
    t->fn(m, buf, buf, t->params);
    for (size_t j = 0; j < m; j++)
      y[i + j] = f16 ? op_f32_to_f16(buf[j]) : op_f32_to_bf16(buf[j]);
  }
}

static void unary_task_run(void *arg, size_t start, size_t n) {
  const unary_task *t = arg;
  if (t->dtype == ONNXI_DTYPE_FLOAT16 || t->dtype == ONNXI_DTYPE_BFLOAT16)
    unary_run_half(t, start, n);
  else
    t->fn(n, t->x + start * t->elem, t->y + start * t->elem, t->params);
}

static onnxi_status unary_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                              op_tensor *const *out, int n_out) {
  (void)n_out;
  unary_state *s = state;
  if (in[0]->count == 0) return ONNXI_OK;
  if (s->xnn_ready) {
    enum xnn_status xs = xnn_run_operator(s->xnn, ctx->threadpool);
    if (xs != xnn_status_success)
      return op_error(ctx, ONNXI_ERR_RUNTIME, "XNNPACK run failed (status %d)", (int)xs);
    return ONNXI_OK;
  }
  unary_params params = s->params;
  if (ctx->node->op == IR_OP_CLIP) {
    unary_clip_bound(s, n_in > 1 ? in[1] : NULL, false, params.lo);
    unary_clip_bound(s, n_in > 2 ? in[2] : NULL, true, params.hi);
  }
  unary_task t = {.fn = s->fn, .params = &params, .x = in[0]->data, .y = out[0]->data,
                  .elem = ir_dtype_size(s->dtype), .dtype = s->dtype};
  size_t count = (size_t)in[0]->count;
  if (ctx->threadpool && count > 2 * UNARY_TILE)
    pthreadpool_parallelize_1d_tile_1d(ctx->threadpool, unary_task_run, &t, count, UNARY_TILE, 0);
  else
    unary_task_run(&t, 0, count);
  return ONNXI_OK;
}

static void unary_release(void *state) {
  unary_state *s = state;
  if (s->xnn) xnn_delete_operator(s->xnn);
  s->xnn = NULL;
}

#define UNARY_KERNEL(e, k, n)                                                            \
  const op_kernel op_##k = {.name = n,                                                   \
                            .state_size = sizeof(unary_state),                           \
                            .flags = OP_KERNEL_INPLACE,                                  \
                            .init = unary_init,                                          \
                            .layout = op_layout_follow,                                  \
                            .infer = unary_infer,                                        \
                            .setup = unary_setup,                                        \
                            .run = unary_run,                                            \
                            .release = unary_release};
#define UNARY_KERNEL_FLOAT(e, k, n, xnn, EXPR) UNARY_KERNEL(e, k, n)
UNARY_FLOAT_OPS(UNARY_KERNEL_FLOAT)
UNARY_KERNEL(CLIP, clip, "Clip")
UNARY_KERNEL(NOT, not, "Not")

/* --- IsNaN, IsInf: float classes to bool ------------------------------------------ */

typedef struct unary_class_state {
  bool pos, neg; /* IsInf: detect_positive / detect_negative */
} unary_class_state;

static onnxi_status unary_class_init(op_context *ctx, void *state) {
  unary_class_state *s = state;
  int64_t pos = 1, neg = 1;
  onnxi_status st = op_io_check(ctx, 1, 1, 1, 1);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "detect_positive", 1, &pos);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "detect_negative", 1, &neg);
  s->pos = pos != 0;
  s->neg = neg != 0;
  return st;
}

static onnxi_status unary_class_infer(op_context *ctx, void *state, op_tensor *const *in,
                                      int n_in, op_tensor *const *out, int n_out) {
  (void)state, (void)n_in, (void)n_out;
  int32_t dt = in[0]->dtype;
  if (dt != ONNXI_DTYPE_FLOAT && dt != ONNXI_DTYPE_DOUBLE && dt != ONNXI_DTYPE_FLOAT16 &&
      dt != ONNXI_DTYPE_BFLOAT16)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input dtype %s is not supported",
                    onnxi_dtype_name((onnxi_dtype)dt));
  op_tensor_like(out[0], in[0]);
  out[0]->dtype = ONNXI_DTYPE_BOOL;
  return ONNXI_OK;
}

static double unary_class_get(const op_tensor *t, int64_t i) {
  switch (t->dtype) {
  case ONNXI_DTYPE_FLOAT: return ((const float *)t->data)[i];
  case ONNXI_DTYPE_DOUBLE: return ((const double *)t->data)[i];
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(((const uint16_t *)t->data)[i]);
  default: return op_bf16_to_f32(((const uint16_t *)t->data)[i]);
  }
}

static onnxi_status unary_class_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                    op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  const unary_class_state *s = state;
  bool nan = ctx->node->op == IR_OP_IS_NAN;
  bool *y = out[0]->data;
  for (int64_t i = 0; i < in[0]->count; i++) {
    double v = unary_class_get(in[0], i);
    y[i] = nan ? isnan(v) : (isinf(v) && (v > 0 ? s->pos : s->neg));
  }
  return ONNXI_OK;
}

#define UNARY_CLASS_KERNEL(k, n)                                                    \
  const op_kernel op_##k = {.name = n,                                              \
                            .state_size = sizeof(unary_class_state),                \
                            .init = unary_class_init,                               \
                            .layout = op_layout_follow,                             \
                            .infer = unary_class_infer,                             \
                            .run = unary_class_run};
UNARY_CLASS_KERNEL(is_nan, "IsNaN")
UNARY_CLASS_KERNEL(is_inf, "IsInf")
