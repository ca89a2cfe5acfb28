/* Elementwise ops with numpy broadcasting: arithmetic, Pow, Mod, the
 * variadic Sum/Mean/Min/Max, comparisons, logic, Where, PRelu and BitShift.
 *
 * float32 Add/Sub/Mul/Div/Min/Max/Sum run on XNNPACK's broadcasting
 * *_nd_f32 operators (and PRelu on prelu_nc_f32 when the slope is one
 * constant per innermost channel). Everything else runs on one broadcasting
 * engine (ew_plan): the iteration space is collapsed to as few dims as the
 * operands' broadcast patterns allow, and a per-dtype inner loop handles the
 * innermost contiguous run, with fast paths when an operand is a scalar
 * there. The inner loops of every dtype come from one macro per op.
 *
 * Rank-4 operands may be NHWC (op_layout_follow): broadcasting is then done
 * on each operand's storage dims and the output is NHWC too. */
#include "kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xnnpack.h>

/* gcc 12 at -O2 only vectorizes loops whose trip count it can prove; these
 * kernels are all runtime-length loops. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif

#define EW_DTYPE_SLOTS 17 /* onnxi_dtype values are < 17 */
#define EW_MAX_SRC 3
#define EW_PAR_MIN 32768 /* elements below which threading does not pay */

/* --- dtype lists -----------------------------------------------------------
 * X(arg, ENUM, sfx, T, C, W, CLS, LD, ST): storage type T, compute type C,
 * unsigned type W in which integer +,-,* wrap (no signed overflow), class F
 * (floating), S (signed), U (unsigned), B (bool); LD loads a T as C, ST
 * stores a C as T. float16/bfloat16 compute in float. */
#define EW_LD(x) (x)
#define EW_ST(T, x) ((T)(x))
#define EW_LD_F16(x) op_f16_to_f32(x)
#define EW_ST_F16(T, x) op_f32_to_f16(x)
#define EW_LD_BF16(x) op_bf16_to_f32(x)
#define EW_ST_BF16(T, x) op_f32_to_bf16(x)

#define EW_FLOATS(X, a)                                                      \
  X(a, FLOAT, f32, float, float, float, F, EW_LD, EW_ST)                     \
  X(a, DOUBLE, f64, double, double, double, F, EW_LD, EW_ST)                 \
  X(a, FLOAT16, f16, uint16_t, float, float, F, EW_LD_F16, EW_ST_F16)        \
  X(a, BFLOAT16, bf16, uint16_t, float, float, F, EW_LD_BF16, EW_ST_BF16)
#define EW_INTS(X, a)                                                        \
  X(a, INT8, i8, int8_t, int8_t, uint32_t, S, EW_LD, EW_ST)                  \
  X(a, INT16, i16, int16_t, int16_t, uint32_t, S, EW_LD, EW_ST)              \
  X(a, INT32, i32, int32_t, int32_t, uint32_t, S, EW_LD, EW_ST)              \
  X(a, INT64, i64, int64_t, int64_t, uint64_t, S, EW_LD, EW_ST)              \
  X(a, UINT8, u8, uint8_t, uint8_t, uint32_t, U, EW_LD, EW_ST)               \
  X(a, UINT16, u16, uint16_t, uint16_t, uint32_t, U, EW_LD, EW_ST)           \
  X(a, UINT32, u32, uint32_t, uint32_t, uint32_t, U, EW_LD, EW_ST)           \
  X(a, UINT64, u64, uint64_t, uint64_t, uint64_t, U, EW_LD, EW_ST)
#define EW_UINTS(X, a)                                                       \
  X(a, UINT8, u8, uint8_t, uint8_t, uint32_t, U, EW_LD, EW_ST)               \
  X(a, UINT16, u16, uint16_t, uint16_t, uint32_t, U, EW_LD, EW_ST)           \
  X(a, UINT32, u32, uint32_t, uint32_t, uint32_t, U, EW_LD, EW_ST)           \
  X(a, UINT64, u64, uint64_t, uint64_t, uint64_t, U, EW_LD, EW_ST)
#define EW_BOOLS(X, a) X(a, BOOL, b8, uint8_t, uint8_t, uint32_t, B, EW_LD, EW_ST)
#define EW_NUMERIC(X, a) EW_FLOATS(X, a) EW_INTS(X, a)
#define EW_ALL(X, a) EW_NUMERIC(X, a) EW_BOOLS(X, a)

/* --- element expressions: EWX_<op>_<class>(x, y, C, W) ---------------------- */
#define EW_GFMOD(x, y) _Generic((x), float: fmodf, default: fmod)(x, y)
#define EW_GPOW(x, y) _Generic((x), float: powf, default: pow)(x, y)

#define EWX_add_F(x, y, C, W) ((x) + (y))
#define EWX_add_S(x, y, C, W) ((C)((W)(x) + (W)(y)))
#define EWX_add_U EWX_add_S
#define EWX_sub_F(x, y, C, W) ((x) - (y))
#define EWX_sub_S(x, y, C, W) ((C)((W)(x) - (W)(y)))
#define EWX_sub_U EWX_sub_S
#define EWX_mul_F(x, y, C, W) ((x) * (y))
#define EWX_mul_S(x, y, C, W) ((C)((W)(x) * (W)(y)))
#define EWX_mul_U EWX_mul_S
/* Integer divisors are checked for zero before the loop runs; MIN / -1
 * wraps instead of trapping. */
#define EWX_div_F(x, y, C, W) ((x) / (y))
#define EWX_div_S(x, y, C, W) ((y) == -1 ? (C)(0u - (W)(x)) : (C)((x) / (y)))
#define EWX_div_U(x, y, C, W) ((C)((x) / (y)))
/* Mod, fmod=0: the result takes the divisor's sign (Python's %). */
#define EWX_mod_S(x, y, C, W) ((C)ew_pymod((int64_t)(x), (int64_t)(y)))
#define EWX_mod_U(x, y, C, W) ((C)((x) % (y)))
/* Mod, fmod=1: C's fmod, the result takes the dividend's sign. */
#define EWX_fmod_F(x, y, C, W) EW_GFMOD(x, y)
#define EWX_fmod_S(x, y, C, W) ((y) == -1 ? (C)0 : (C)((x) % (y)))
#define EWX_fmod_U EWX_mod_U
/* Min/Max propagate NaN like numpy's minimum/maximum. */
#define EWX_min_F(x, y, C, W) (((x) < (y) || (x) != (x)) ? (x) : (y))
#define EWX_min_S(x, y, C, W) ((x) < (y) ? (x) : (y))
#define EWX_min_U EWX_min_S
#define EWX_max_F(x, y, C, W) (((x) > (y) || (x) != (x)) ? (x) : (y))
#define EWX_max_S(x, y, C, W) ((x) > (y) ? (x) : (y))
#define EWX_max_U EWX_max_S
/* PRelu computes the product unconditionally: a select between two computed
 * values vectorizes, a multiply under a branch does not (it may trap). */
#define EWX_prelu_F(x, y, C, W) _Generic((x), float: ew_prelu_f, default: ew_prelu_d)(x, y)
#define EWX_prelu_S(x, y, C, W) ((x) < 0 ? (C)((W)(x) * (W)(y)) : (x))
#define EWX_prelu_U(x, y, C, W) ((void)(y), (x))
#define EWX_eq_F(x, y, C, W) ((x) == (y))
#define EWX_eq_S EWX_eq_F
#define EWX_eq_U EWX_eq_F
#define EWX_eq_B(x, y, C, W) (((x) != 0) == ((y) != 0))
#define EWX_lt_F(x, y, C, W) ((x) < (y))
#define EWX_lt_S EWX_lt_F
#define EWX_lt_U EWX_lt_F
#define EWX_gt_F(x, y, C, W) ((x) > (y))
#define EWX_gt_S EWX_gt_F
#define EWX_gt_U EWX_gt_F
#define EWX_le_F(x, y, C, W) ((x) <= (y))
#define EWX_le_S EWX_le_F
#define EWX_le_U EWX_le_F
#define EWX_ge_F(x, y, C, W) ((x) >= (y))
#define EWX_ge_S EWX_ge_F
#define EWX_ge_U EWX_ge_F
/* BitShift: shifting by the width or more gives 0 (C leaves it undefined). */
#define EWX_shl_U(x, y, C, W) ((y) >= sizeof(C) * 8 ? (C)0 : (C)((W)(x) << (y)))
#define EWX_shr_U(x, y, C, W) ((y) >= sizeof(C) * 8 ? (C)0 : (C)((x) >> (y)))
#define EWX_land_B(x, y, C, W) (((x) != 0) & ((y) != 0))
#define EWX_lor_B(x, y, C, W) (((x) != 0) | ((y) != 0))
#define EWX_lxor_B(x, y, C, W) (((x) != 0) ^ ((y) != 0))

static inline float ew_prelu_f(float x, float y) {
  float p = x * y;
  return x < 0 ? p : x;
}
static inline double ew_prelu_d(double x, double y) {
  double p = x * y;
  return x < 0 ? p : x;
}

static inline int64_t ew_pymod(int64_t a, int64_t b) {
  if (b == -1) return 0; /* INT64_MIN % -1 traps */
  int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

/* --- inner loops -------------------------------------------------------------
 * One contiguous run of n outputs; st[k] is 1 when source k advances with
 * the output and 0 when it is broadcast (a scalar over the run). */
typedef void (*ew_fn)(size_t n, const void *const *src, const size_t *st, void *dst);

#define EW_FN_BODY(op, sfx, T, C, W, CLS, LD, ST, OT, OST)                       \
  static void ew_##op##_##sfx(size_t n, const void *const *src, const size_t *st, \
                              void *dst) {                                        \
    const T *a = src[0], *b = src[1];                                             \
    OT *o = dst;                                                                  \
    if (st[0] && st[1]) {                                                         \
      for (size_t i = 0; i < n; i++) {                                            \
        C x = LD(a[i]), y = LD(b[i]);                                             \
        o[i] = OST(OT, EWX_##op##_##CLS(x, y, C, W));                             \
      }                                                                           \
    } else if (st[0]) {                                                           \
      const C y = LD(b[0]);                                                       \
      for (size_t i = 0; i < n; i++) {                                            \
        C x = LD(a[i]);                                                           \
        o[i] = OST(OT, EWX_##op##_##CLS(x, y, C, W));                             \
      }                                                                           \
    } else if (st[1]) {                                                           \
      const C x = LD(a[0]);                                                       \
      for (size_t i = 0; i < n; i++) {                                            \
        C y = LD(b[i]);                                                           \
        o[i] = OST(OT, EWX_##op##_##CLS(x, y, C, W));                             \
      }                                                                           \
    } else {                                                                      \
      C x = LD(a[0]), y = LD(b[0]);                                               \
      const OT v = OST(OT, EWX_##op##_##CLS(x, y, C, W));                         \
      for (size_t i = 0; i < n; i++) o[i] = v;                                    \
    }                                                                             \
  }
#define EW_FN_SAME(op, E, sfx, T, C, W, CLS, LD, ST) \
  EW_FN_BODY(op, sfx, T, C, W, CLS, LD, ST, T, ST)
#define EW_FN_BOOL(op, E, sfx, T, C, W, CLS, LD, ST) \
  EW_FN_BODY(op, sfx, T, C, W, CLS, LD, ST, uint8_t, EW_ST)
#define EW_TAB_ENTRY(op, E, sfx, ...) [ONNXI_DTYPE_##E] = ew_##op##_##sfx,

/* One op: its inner loop for every dtype of TYPES and the dtype table. */
#define EW_DEFINE(op, TYPES, OUT)  \
  TYPES(EW_FN_##OUT, op)           \
  static const ew_fn ew_tab_##op[EW_DTYPE_SLOTS] = {TYPES(EW_TAB_ENTRY, op)};

EW_DEFINE(add, EW_NUMERIC, SAME)
EW_DEFINE(sub, EW_NUMERIC, SAME)
EW_DEFINE(mul, EW_NUMERIC, SAME)
EW_DEFINE(div, EW_NUMERIC, SAME)
EW_DEFINE(mod, EW_INTS, SAME)
EW_DEFINE(fmod, EW_NUMERIC, SAME)
EW_DEFINE(min, EW_NUMERIC, SAME)
EW_DEFINE(max, EW_NUMERIC, SAME)
EW_DEFINE(prelu, EW_NUMERIC, SAME)
EW_DEFINE(eq, EW_ALL, BOOL)
EW_DEFINE(lt, EW_NUMERIC, BOOL)
EW_DEFINE(gt, EW_NUMERIC, BOOL)
EW_DEFINE(le, EW_NUMERIC, BOOL)
EW_DEFINE(ge, EW_NUMERIC, BOOL)
EW_DEFINE(shl, EW_UINTS, SAME)
EW_DEFINE(shr, EW_UINTS, SAME)
EW_DEFINE(land, EW_BOOLS, SAME)
EW_DEFINE(lor, EW_BOOLS, SAME)
EW_DEFINE(lxor, EW_BOOLS, SAME)

/* --- Pow: base T (int32, int64, floats) by exponent T1 (any numeric) ---------
 * Floats use powf/pow; integer bases with integer exponents multiply
 * exactly (wrapping), with float exponents go through double like numpy. */
static int64_t ew_ipow(int64_t base, int64_t e) {
  if (e < 0) return base == 1 ? 1 : base == -1 ? ((e & 1) ? -1 : 1) : 0;
  uint64_t r = 1, b = (uint64_t)base;
  for (; e; e >>= 1, b *= b)
    if (e & 1) r *= b;
  return (int64_t)r;
}
static int64_t ew_d2i(double v) { /* saturating: out-of-range casts are UB */
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}
static int64_t ew_u2i(uint64_t v) { return v > INT64_MAX ? INT64_MAX : (int64_t)v; }

#define EWP_FF(x, y, C, W) EW_GPOW(x, (C)(y))
#define EWP_FS EWP_FF
#define EWP_FU EWP_FF
#define EWP_SF(x, y, C, W) ((C)ew_d2i(pow((double)(x), (double)(y))))
#define EWP_SS(x, y, C, W) ((C)ew_ipow((int64_t)(x), (int64_t)(y)))
#define EWP_SU(x, y, C, W) ((C)ew_ipow((int64_t)(x), ew_u2i((uint64_t)(y))))
#define EWP_SQ_F(x, C, W) ((x) * (x))
#define EWP_SQ_S(x, C, W) ((C)((W)(x) * (W)(x)))

/* Bases as (ENUM, sfx, T, C, W, CLS, LD, ST) tuples. */
#define EW_POW_BASES(X)                                                        \
  X((FLOAT, f32, float, float, float, F, EW_LD, EW_ST))                        \
  X((DOUBLE, f64, double, double, double, F, EW_LD, EW_ST))                    \
  X((FLOAT16, f16, uint16_t, float, float, F, EW_LD_F16, EW_ST_F16))           \
  X((BFLOAT16, bf16, uint16_t, float, float, F, EW_LD_BF16, EW_ST_BF16))       \
  X((INT32, i32, int32_t, int32_t, uint32_t, S, EW_LD, EW_ST))                 \
  X((INT64, i64, int64_t, int64_t, uint64_t, S, EW_LD, EW_ST))
#define EW_UNPACK(...) __VA_ARGS__
#define EW_POW_FN(base, E, sfx, T, C, W, CLS, LD, ST) \
  EW_POW_FN_(EW_UNPACK base, E, sfx, T, C, CLS, LD)
#define EW_POW_FN_(...) EW_POW_FN_BODY(__VA_ARGS__)
#define EW_POW_FN_BODY(bE, bs, bT, bC, bW, bK, bLD, bST, eE, es, eT, eC, eK, eLD)   \
  static void ew_pow_##bs##_##es(size_t n, const void *const *src, const size_t *st, \
                                 void *dst) {                                        \
    const bT *a = src[0];                                                            \
    const eT *b = src[1];                                                            \
    bT *o = dst;                                                                     \
    if (!st[1] && (eC)eLD(b[0]) == 2) { /* x^2 is common and exact */               \
      for (size_t i = 0; i < n; i++) {                                               \
        bC x = bLD(a[st[0] ? i : 0]);                                                \
        o[i] = bST(bT, EWP_SQ_##bK(x, bC, bW));                                      \
      }                                                                              \
    } else if (st[0] && st[1]) {                                                     \
      for (size_t i = 0; i < n; i++) {                                               \
        bC x = bLD(a[i]);                                                            \
        eC y = eLD(b[i]);                                                            \
        o[i] = bST(bT, EWP_##bK##eK(x, y, bC, bW));                                  \
      }                                                                              \
    } else {                                                                         \
      for (size_t i = 0; i < n; i++) {                                               \
        bC x = bLD(a[st[0] ? i : 0]);                                                \
        eC y = eLD(b[st[1] ? i : 0]);                                                \
        o[i] = bST(bT, EWP_##bK##eK(x, y, bC, bW));                                  \
      }                                                                              \
    }                                                                                \
  }
#define EW_POW_ROW(base) EW_NUMERIC(EW_POW_FN, base)
EW_POW_BASES(EW_POW_ROW)

#define EW_POW_TAB_ENTRY(base, E, sfx, ...) EW_POW_TAB_ENTRY_(EW_UNPACK base, E, sfx)
#define EW_POW_TAB_ENTRY_(...) EW_POW_TAB_ENTRY_BODY(__VA_ARGS__)
#define EW_POW_TAB_ENTRY_BODY(bE, bs, bT, bC, bW, bK, bLD, bST, eE, es) \
  [ONNXI_DTYPE_##bE][ONNXI_DTYPE_##eE] = ew_pow_##bs##_##es,
#define EW_POW_TAB_ROW(base) EW_NUMERIC(EW_POW_TAB_ENTRY, base)
static const ew_fn ew_tab_pow[EW_DTYPE_SLOTS][EW_DTYPE_SLOTS] = {EW_POW_BASES(EW_POW_TAB_ROW)};

/* --- Where: a select by element size; cond is bool ---------------------------- */
#define EW_WHERE_SIZES(X) X(1, uint8_t) X(2, uint16_t) X(4, uint32_t) X(8, uint64_t)
#define EW_WHERE_FN(size, T)                                                         \
  static void ew_where_##size(size_t n, const void *const *src, const size_t *st,    \
                              void *dst) {                                           \
    const uint8_t *c = src[0];                                                       \
    const T *x = src[1], *y = src[2];                                                \
    T *o = dst;                                                                      \
    if (st[0] && st[1] && st[2]) { /* both loads unconditional: a vector blend */    \
      for (size_t i = 0; i < n; i++) {                                               \
        T xv = x[i], yv = y[i];                                                      \
        o[i] = c[i] ? xv : yv;                                                       \
      }                                                                              \
    } else {                                                                         \
      size_t sc = st[0], sx = st[1], sy = st[2];                                     \
      for (size_t i = 0; i < n; i++) {                                               \
        T xv = x[i * sx], yv = y[i * sy];                                            \
        o[i] = c[i * sc] ? xv : yv;                                                  \
      }                                                                              \
    }                                                                                \
  }
EW_WHERE_SIZES(EW_WHERE_FN)

static ew_fn ew_where_fn(size_t size) {
  switch (size) {
#define EW_WHERE_CASE(s, T) case s: return ew_where_##s;
    EW_WHERE_SIZES(EW_WHERE_CASE)
#undef EW_WHERE_CASE
  default: return NULL;
  }
}

/* --- whole-tensor passes: fused clamp, Mean's scale, zero divisors ------------ */
typedef void (*ew_clamp_fn)(size_t n, void *p, float lo, float hi);
typedef void (*ew_scale_fn)(size_t n, void *p, double s);
typedef bool (*ew_zero_fn)(size_t n, const void *p);

#define EW_CLAMP_FN(a, E, sfx, T, C, W, CLS, LD, ST)                        \
  static void ew_clamp_##sfx(size_t n, void *p, float lo, float hi) {       \
    T *o = p;                                                               \
    const C l = (C)lo, h = (C)hi;                                           \
    for (size_t i = 0; i < n; i++) {                                        \
      C v = LD(o[i]);                                                       \
      v = v < l ? l : v;                                                    \
      o[i] = ST(T, v > h ? h : v);                                          \
    }                                                                       \
  }                                                                         \
  static void ew_scale_##sfx(size_t n, void *p, double s) {                 \
    T *o = p;                                                               \
    const C k = (C)s;                                                       \
    for (size_t i = 0; i < n; i++) o[i] = ST(T, LD(o[i]) * k);              \
  }
EW_FLOATS(EW_CLAMP_FN, _)
#define EW_ZERO_FN(a, E, sfx, T, C, W, CLS, LD, ST)                         \
  static bool ew_zero_##sfx(size_t n, const void *p) {                      \
    const T *v = p;                                                         \
    unsigned z = 0;                                                         \
    for (size_t i = 0; i < n; i++) z |= v[i] == 0;                          \
    return z != 0;                                                          \
  }
EW_INTS(EW_ZERO_FN, _)

#define EW_CLAMP_ENTRY(a, E, sfx, ...) [ONNXI_DTYPE_##E] = ew_clamp_##sfx,
#define EW_SCALE_ENTRY(a, E, sfx, ...) [ONNXI_DTYPE_##E] = ew_scale_##sfx,
#define EW_ZERO_ENTRY(a, E, sfx, ...) [ONNXI_DTYPE_##E] = ew_zero_##sfx,
static const ew_clamp_fn ew_tab_clamp[EW_DTYPE_SLOTS] = {EW_FLOATS(EW_CLAMP_ENTRY, _)};
static const ew_scale_fn ew_tab_scale[EW_DTYPE_SLOTS] = {EW_FLOATS(EW_SCALE_ENTRY, _)};
static const ew_zero_fn ew_tab_zero[EW_DTYPE_SLOTS] = {EW_INTS(EW_ZERO_ENTRY, _)};

/* --- the broadcasting engine ---------------------------------------------------- */

/* Iteration over the output in storage order, collapsed: adjacent dims merge
 * when every source broadcasts over both or over neither; size-1 dims drop.
 * str[k][d] is source k's element stride (0 = broadcast); the innermost
 * stride is 0 or 1. */
typedef struct ew_plan {
  int ndim, n_src;
  int64_t dims[IR_MAX_RANK];
  int64_t str[EW_MAX_SRC][IR_MAX_RANK];
  size_t esize[EW_MAX_SRC], osize;
  int64_t count;
} ew_plan;

static void ew_plan_build(ew_plan *p, int rank, const int64_t *odims, int n_src,
                          int64_t (*sdims)[IR_MAX_RANK]) {
  bool bc[EW_MAX_SRC][IR_MAX_RANK];
  int nd = 0;
  p->n_src = n_src;
  p->count = 1;
  for (int i = 0; i < rank; i++) {
    p->count *= odims[i];
    if (odims[i] == 1) continue;
    bool same = nd > 0;
    for (int k = 0; k < n_src && same; k++) same = bc[k][nd - 1] == (sdims[k][i] == 1);
    if (same) {
      p->dims[nd - 1] *= odims[i];
      continue;
    }
    for (int k = 0; k < n_src; k++) bc[k][nd] = sdims[k][i] == 1;
    p->dims[nd++] = odims[i];
  }
  if (nd == 0) {
    p->dims[nd] = 1;
    for (int k = 0; k < n_src; k++) bc[k][nd] = true;
    nd = 1;
  }
  p->ndim = nd;
  for (int k = 0; k < n_src; k++) {
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) {
      p->str[k][d] = bc[k][d] ? 0 : s;
      if (!bc[k][d]) s *= p->dims[d];
    }
  }
}

/* True when, in every collapsed dim, source 0 or 1 covers the output (so an
 * XNNPACK nd op, whose output is broadcast(a, b), writes the whole output). */
static bool ew_plan_pair_covers(const ew_plan *p) {
  for (int d = 0; d < p->ndim; d++)
    if (p->dims[d] > 1 && !p->str[0][d] && !p->str[1][d]) return false;
  return true;
}

/* Computes output elements [e0, e1) (storage order). */
static void ew_plan_span(const ew_plan *p, ew_fn fn, const char *const *base, char *out,
                         int64_t e0, int64_t e1) {
  const int last = p->ndim - 1;
  int64_t idx[IR_MAX_RANK], off[EW_MAX_SRC] = {0};
  int64_t rem = e0;
  for (int d = last; d >= 0; d--) {
    idx[d] = rem % p->dims[d];
    rem /= p->dims[d];
  }
  for (int k = 0; k < p->n_src; k++)
    for (int d = 0; d < last; d++) off[k] += idx[d] * p->str[k][d];
  size_t st[EW_MAX_SRC] = {0};
  for (int k = 0; k < p->n_src; k++) st[k] = p->str[k][last] != 0;
  int64_t e = e0, i0 = idx[last];
  while (e < e1) {
    int64_t n = p->dims[last] - i0;
    if (n > e1 - e) n = e1 - e;
    const void *src[EW_MAX_SRC] = {NULL};
    for (int k = 0; k < p->n_src; k++)
      src[k] = base[k] + (size_t)(off[k] + i0 * p->str[k][last]) * p->esize[k];
    fn((size_t)n, src, st, out + (size_t)e * p->osize);
    e += n;
    i0 = 0;
    for (int d = last - 1; d >= 0; d--) { /* next row: carry through outer dims */
      idx[d]++;
      for (int k = 0; k < p->n_src; k++) off[k] += p->str[k][d];
      if (idx[d] < p->dims[d]) break;
      for (int k = 0; k < p->n_src; k++) off[k] -= p->str[k][d] * p->dims[d];
      idx[d] = 0;
    }
  }
}

typedef struct ew_job {
  const ew_plan *plan;
  ew_fn fn;
  const char *const *base;
  char *out;
  int64_t chunk;
} ew_job;

static void ew_job_task(void *ctx, size_t i) {
  const ew_job *j = ctx;
  int64_t e0 = (int64_t)i * j->chunk, e1 = e0 + j->chunk;
  if (e1 > j->plan->count) e1 = j->plan->count;
  ew_plan_span(j->plan, j->fn, j->base, j->out, e0, e1);
}

static void ew_plan_run(const ew_plan *p, ew_fn fn, const void *const *src, void *out,
                        pthreadpool_t pool) {
  const char *base[EW_MAX_SRC] = {NULL};
  for (int k = 0; k < p->n_src; k++) base[k] = src[k];
  size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  if (threads <= 1 || p->count < EW_PAR_MIN) {
    ew_plan_span(p, fn, base, out, 0, p->count);
    return;
  }
  int64_t tasks = (int64_t)threads * 4;
  ew_job job = {p, fn, base, out, ((p->count + tasks - 1) / tasks + 63) & ~(int64_t)63};
  pthreadpool_parallelize_1d(pool, ew_job_task, &job,
                             (size_t)((p->count + job.chunk - 1) / job.chunk), 0);
}

/* --- per-channel scale: X[rows][c] * S[c] (squeeze-excitation blocks) -----------
 * XNNPACK's multiply_nd ran these at 2 threads slower than at 1 (EfficientNet-B0's
 * 16: 0.58 vs 0.30 ms): one work item per row of c floats, and rows dealt out
 * unlike the conv before them, so each core read rows the other had written.
 * Here each thread takes one contiguous block of rows, as the own conv
 * kernels split pixels. */
#if defined(__x86_64__) && defined(__GNUC__)
#define EW_HAVE_SCALE512 1
#include <immintrin.h>

#include "simd512.h"

typedef struct ew_scale_job {
  const float *x, *s;
  float *out;
  int64_t rows, c, chunks;
} ew_scale_job;

__attribute__((target("avx512f"))) static void ew_scale_task(void *arg, size_t chunk) {
  const ew_scale_job *j = arg;
  int64_t r0 = (int64_t)chunk * j->rows / j->chunks, r1 = (int64_t)(chunk + 1) * j->rows / j->chunks;
  const int64_t c = j->c;
  for (int64_t r = r0; r < r1; r++) {
    const float *x = j->x + r * c;
    float *o = j->out + r * c;
    for (int64_t i = 0; i < c; i += 16) {
      __mmask16 m = c - i >= 16 ? 0xffff : (__mmask16)((1u << (c - i)) - 1);
      op_store16(o + i, m, _mm512_mul_ps(op_load16(x + i, m), op_load16(j->s + i, m)));
    }
  }
}

/* Which source is X in a float [rows, c] x [c] Mul plan (the other is S),
 * or -1 when the plan is not one. */
static int ew_scale_full(const ew_plan *p) {
  if (p->n_src != 2 || p->ndim != 2 || !__builtin_cpu_supports("avx512f")) return -1;
  for (int k = 0; k < 2; k++)
    if (p->str[k][0] == p->dims[1] && p->str[k][1] == 1 && p->str[1 - k][0] == 0 &&
        p->str[1 - k][1] == 1)
      return k;
  return -1;
}

static void ew_scale_run(const ew_plan *p, int full, const void *const *src, void *out,
                         pthreadpool_t pool) {
  size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  ew_scale_job j = {src[full], src[1 - full], out, p->dims[0], p->dims[1], 1};
  if (threads > 1 && p->count >= EW_PAR_MIN)
    j.chunks = (int64_t)threads < j.rows ? (int64_t)threads : j.rows;
  if (j.chunks > 1)
    pthreadpool_parallelize_1d(pool, ew_scale_task, &j, (size_t)j.chunks, 0);
  else
    ew_scale_task(&j, 0);
}
#endif

/* --- op descriptions and state -------------------------------------------------- */

typedef enum ew_kind {
  EW_ADD, EW_SUB, EW_MUL, EW_DIV, EW_POW, EW_MOD, EW_MIN, EW_MAX, EW_SUM, EW_MEAN,
  EW_EQ, EW_LT, EW_GT, EW_LE, EW_GE, EW_AND, EW_OR, EW_XOR, EW_WHERE, EW_PRELU, EW_BITSHIFT
} ew_kind;

typedef enum ew_xnn { EW_XNN_NONE, EW_XNN_ADD, EW_XNN_SUB, EW_XNN_MUL, EW_XNN_DIV,
                      EW_XNN_MIN, EW_XNN_MAX } ew_xnn;

typedef struct ew_desc {
  int min_in, max_in;
  const ew_fn *tab; /* inner loops by dtype; NULL: chosen in infer */
  bool to_bool;     /* comparisons */
  bool clamp;       /* may carry a fused clamp (float outputs) */
  ew_xnn xnn;       /* float32 XNNPACK operator, if any */
} ew_desc;

#define EW_VARIADIC 0x7fffffff
static const ew_desc ew_descs[] = {
    [EW_ADD] = {2, 2, ew_tab_add, false, true, EW_XNN_ADD},
    [EW_SUB] = {2, 2, ew_tab_sub, false, true, EW_XNN_SUB},
    [EW_MUL] = {2, 2, ew_tab_mul, false, true, EW_XNN_MUL},
    [EW_DIV] = {2, 2, ew_tab_div, false, true, EW_XNN_DIV},
    [EW_POW] = {2, 2, NULL, false, false, EW_XNN_NONE},
    [EW_MOD] = {2, 2, NULL, false, false, EW_XNN_NONE},
    [EW_MIN] = {1, EW_VARIADIC, ew_tab_min, false, true, EW_XNN_MIN},
    [EW_MAX] = {1, EW_VARIADIC, ew_tab_max, false, true, EW_XNN_MAX},
    [EW_SUM] = {1, EW_VARIADIC, ew_tab_add, false, true, EW_XNN_ADD},
    [EW_MEAN] = {1, EW_VARIADIC, ew_tab_add, false, true, EW_XNN_ADD},
    [EW_EQ] = {2, 2, ew_tab_eq, true, false, EW_XNN_NONE},
    [EW_LT] = {2, 2, ew_tab_lt, true, false, EW_XNN_NONE},
    [EW_GT] = {2, 2, ew_tab_gt, true, false, EW_XNN_NONE},
    [EW_LE] = {2, 2, ew_tab_le, true, false, EW_XNN_NONE},
    [EW_GE] = {2, 2, ew_tab_ge, true, false, EW_XNN_NONE},
    [EW_AND] = {2, 2, ew_tab_land, false, false, EW_XNN_NONE},
    [EW_OR] = {2, 2, ew_tab_lor, false, false, EW_XNN_NONE},
    [EW_XOR] = {2, 2, ew_tab_lxor, false, false, EW_XNN_NONE},
    [EW_WHERE] = {3, 3, NULL, false, false, EW_XNN_NONE},
    [EW_PRELU] = {2, 2, ew_tab_prelu, false, false, EW_XNN_NONE},
    [EW_BITSHIFT] = {2, 2, NULL, false, false, EW_XNN_NONE},
};

/* A pass over the output: out = op(src...) (step 0), then out = op(out, in_k)
 * for the variadic ops. */
typedef struct ew_step {
  ew_plan plan;
  const void *src[EW_MAX_SRC];
  xnn_operator_t xop; /* NULL: the own inner loop */
  bool xnn_clamped;   /* xop applies the fused clamp */
  int scale_full;     /* >= 0: a per-channel scale, X is src[scale_full] (ew_scale_run) */
} ew_step;

typedef struct ew_state {
  ew_kind kind;
  const ew_desc *desc;
  int n_in;
  int64_t fmod;
  bool shift_right; /* BitShift direction RIGHT */
  bool has_clamp;
  float clamp_lo, clamp_hi;
  /* infer */
  ew_fn fn;
  size_t esize, osize;
  /* setup */
  ew_step *steps;
  int n_steps;
  void *out;
  int64_t count;
  xnn_operator_t prelu_op;
  bool clamp_pass;   /* clamp after the steps (not fused into XNNPACK) */
  void *scratch;     /* copy of input 0 when a later step re-reads it from out */
  size_t scratch_bytes;
  const void *scratch_src;
} ew_state;

/* --- init ------------------------------------------------------------------------ */

static onnxi_status ew_clamp_init(op_context *ctx, ew_state *s) {
  const bool lo = ir_node_attr(ctx->node, "onnxi.clamp_min") != NULL;
  const bool hi = ir_node_attr(ctx->node, "onnxi.clamp_max") != NULL;
  onnxi_status st = op_attr_float(ctx, "onnxi.clamp_min", -INFINITY, &s->clamp_lo);
  if (st == ONNXI_OK) st = op_attr_float(ctx, "onnxi.clamp_max", INFINITY, &s->clamp_hi);
  if (st != ONNXI_OK) return st;
  s->has_clamp = lo || hi;
  if (s->has_clamp && !s->desc->clamp)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "a fused clamp is not supported on this op");
  if (isnan(s->clamp_lo) || isnan(s->clamp_hi) || s->clamp_lo > s->clamp_hi)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "fused clamp [%g, %g] is empty",
                    (double)s->clamp_lo, (double)s->clamp_hi);
  return ONNXI_OK;
}

static onnxi_status ew_init(op_context *ctx, void *state, ew_kind kind) {
  ew_state *s = state;
  const ir_node *node = ctx->node;
  s->kind = kind;
  s->desc = &ew_descs[kind];
  s->n_in = node->n_inputs;
  if (s->n_in < s->desc->min_in || s->n_in > s->desc->max_in) {
    if (s->desc->min_in == s->desc->max_in)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects %d inputs, got %d",
                      s->desc->min_in, s->n_in);
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects at least %d input, got %d",
                    s->desc->min_in, s->n_in);
  }
  for (int k = 0; k < s->n_in; k++)
    if (node->inputs[k] == IR_NONE)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input %d is required", k);
  if (node->n_outputs != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects 1 output, got %d", node->n_outputs);
  onnxi_status st = kind == EW_MOD ? op_attr_int(ctx, "fmod", 0, &s->fmod) : ONNXI_OK;
  if (st != ONNXI_OK) return st;
  if (kind == EW_MOD && s->fmod != 0 && s->fmod != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'fmod' must be 0 or 1, got %lld",
                    (long long)s->fmod);
  if (kind == EW_BITSHIFT) {
    const char *dir;
    st = op_attr_string(ctx, "direction", "", &dir);
    if (st != ONNXI_OK) return st;
    if (strcmp(dir, "LEFT") != 0 && strcmp(dir, "RIGHT") != 0)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "attribute 'direction' must be LEFT or RIGHT, not '%s'", dir);
    s->shift_right = dir[0] == 'R';
  }
  st = ew_clamp_init(ctx, s);
  if (st != ONNXI_OK) return st;
  s->n_steps = s->n_in > 2 && s->desc->max_in == EW_VARIADIC ? s->n_in - 1 : 1;
  s->steps = calloc((size_t)s->n_steps, sizeof *s->steps);
  if (!s->steps) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory");
  return ONNXI_OK;
}

static void ew_release(void *state) {
  ew_state *s = state;
  for (int i = 0; s->steps && i < s->n_steps; i++)
    if (s->steps[i].xop) xnn_delete_operator(s->steps[i].xop);
  if (s->prelu_op) xnn_delete_operator(s->prelu_op);
  free(s->steps);
  free(s->scratch);
}

/* --- infer ------------------------------------------------------------------------- */

static bool ew_dtype_float(int32_t dt) {
  return dt == ONNXI_DTYPE_FLOAT || dt == ONNXI_DTYPE_DOUBLE || dt == ONNXI_DTYPE_FLOAT16 ||
         dt == ONNXI_DTYPE_BFLOAT16;
}

static const char *ew_dtype_name(int32_t dt) { return onnxi_dtype_name((onnxi_dtype)dt); }

static bool ew_dtype_slot(int32_t dt) { return dt > 0 && dt < EW_DTYPE_SLOTS; }

/* Inputs that must share a dtype do (Where's condition and Pow's exponent
 * are separate). */
static onnxi_status ew_infer_same_dtype(op_context *ctx, const ew_state *s,
                                        op_tensor *const *in, int first) {
  const int last = s->kind == EW_POW ? 1 : s->n_in;
  for (int k = first + 1; k < last; k++)
    if (in[k]->dtype != in[first]->dtype)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input %d has dtype %s, input %d has %s",
                      k, ew_dtype_name(in[k]->dtype), first, ew_dtype_name(in[first]->dtype));
  if (s->kind == EW_WHERE && in[0]->dtype != ONNXI_DTYPE_BOOL)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "condition has dtype %s, expected bool",
                    ew_dtype_name(in[0]->dtype));
  return ONNXI_OK;
}

/* The inner loop for dtype dt (NULL: unsupported). */
static ew_fn ew_infer_pick(const ew_state *s, op_tensor *const *in, int32_t dt) {
  if (!ew_dtype_slot(dt) || s->esize == 0) return NULL;
  switch (s->kind) {
  case EW_WHERE: return ew_where_fn(s->esize);
  case EW_POW: return ew_dtype_slot(in[1]->dtype) ? ew_tab_pow[dt][in[1]->dtype] : NULL;
  case EW_MOD: return (s->fmod ? ew_tab_fmod : ew_tab_mod)[dt];
  case EW_MEAN: return ew_dtype_float(dt) ? ew_tab_add[dt] : NULL;
  case EW_BITSHIFT: return (s->shift_right ? ew_tab_shr : ew_tab_shl)[dt];
  default: return s->desc->tab[dt];
  }
}

/* Picks the inner loop for the inputs' dtypes; sets the output dtype. */
static onnxi_status ew_infer_fn(op_context *ctx, ew_state *s, op_tensor *const *in,
                                op_tensor *out) {
  const int first = s->kind == EW_WHERE ? 1 : 0;
  const int32_t dt = in[first]->dtype;
  onnxi_status st = ew_infer_same_dtype(ctx, s, in, first);
  if (st != ONNXI_OK) return st;
  s->esize = ir_dtype_size(dt);
  out->dtype = s->desc->to_bool ? ONNXI_DTYPE_BOOL : dt;
  s->osize = ir_dtype_size(out->dtype);
  s->fn = ew_infer_pick(s, in, dt);
  if (!s->fn && s->kind == EW_POW && ew_dtype_slot(dt) && ew_tab_pow[dt][ONNXI_DTYPE_FLOAT])
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "exponent dtype %s is not supported",
                    ew_dtype_name(in[1]->dtype));
  if (!s->fn && s->kind == EW_MOD && ew_dtype_float(dt))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'fmod' must be 1 for floating-point inputs (%s)", ew_dtype_name(dt));
  if (!s->fn)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "dtype %s is not supported", ew_dtype_name(dt));
  if (s->has_clamp && !ew_dtype_float(out->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED,
                    "a fused clamp needs a floating-point output, not %s",
                    ew_dtype_name(out->dtype));
  return ONNXI_OK;
}

/* Output shape: all inputs broadcast together; PRelu's slope broadcasts to X. */
static onnxi_status ew_infer_shape(op_context *ctx, ew_state *s, op_tensor *const *in,
                                   op_tensor *out) {
  op_tensor acc = *in[0];
  for (int k = 1; k < s->n_in; k++) {
    op_tensor next = acc;
    onnxi_status st = op_broadcast_shape(ctx, &acc, in[k], &next.rank, next.dims);
    if (st != ONNXI_OK) return st;
    acc = next;
  }
  if (s->kind == EW_PRELU) {
    bool same = acc.rank == in[0]->rank;
    for (int i = 0; same && i < acc.rank; i++) same = acc.dims[i] == in[0]->dims[i];
    if (!same)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                      "slope does not broadcast to the shape of X (rank %d)", in[0]->rank);
  }
  out->rank = acc.rank;
  memcpy(out->dims, acc.dims, sizeof out->dims);
  return ONNXI_OK;
}

/* NHWC output when some non-trivial rank-4 input is NHWC; every other
 * non-trivial rank-4 input must then be NHWC too (the executor reorders
 * inputs to what op_layout_follow asked for). */
static onnxi_status ew_infer_layout(op_context *ctx, ew_state *s, op_tensor *const *in,
                                    op_tensor *out) {
  bool nhwc = false;
  for (int k = 0; k < s->n_in; k++)
    if (in[k]->rank == 4 && in[k]->layout == IR_LAYOUT_NHWC && !op_layout_trivial(in[k]->dims, 4))
      nhwc = true;
  if (nhwc && out->rank != 4)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "NHWC input with a rank-%d output", out->rank);
  for (int k = 0; k < s->n_in; k++) {
    const op_tensor *t = in[k];
    if (t->rank == 4 && !op_layout_trivial(t->dims, 4) && t->layout != IR_LAYOUT_NHWC && nhwc)
      return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input %d is NCHW, another input NHWC", k);
    if (nhwc && t->rank < 4) {
      int64_t padded[4] = {1, 1, 1, 1};
      for (int i = 0; i < t->rank; i++) padded[4 - t->rank + i] = t->dims[i];
      if (!op_layout_trivial(padded, 4))
        return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input %d cannot broadcast against NHWC", k);
    }
  }
  out->layout = nhwc ? IR_LAYOUT_NHWC : IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

static onnxi_status ew_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  ew_state *s = state;
  if (n_in != s->n_in || n_out != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "got %d inputs and %d outputs", n_in, n_out);
  for (int k = 0; k < n_in; k++)
    if (!in[k]) return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input %d is required", k);
  onnxi_status st = ew_infer_fn(ctx, s, in, out[0]);
  if (st == ONNXI_OK) st = ew_infer_shape(ctx, s, in, out[0]);
  if (st == ONNXI_OK) st = ew_infer_layout(ctx, s, in, out[0]);
  return st;
}

/* --- setup -------------------------------------------------------------------------- */

static onnxi_status ew_xnn_create(ew_xnn x, float lo, float hi, xnn_operator_t *op) {
  enum xnn_status xs = xnn_status_invalid_parameter;
  switch (x) {
  case EW_XNN_ADD: xs = xnn_create_add_nd_f32(lo, hi, 0, op); break;
  case EW_XNN_SUB: xs = xnn_create_subtract_nd_f32(lo, hi, 0, op); break;
  case EW_XNN_MUL: xs = xnn_create_multiply_nd_f32(lo, hi, 0, op); break;
  case EW_XNN_DIV: xs = xnn_create_divide_nd_f32(lo, hi, 0, op); break;
  case EW_XNN_MIN: xs = xnn_create_minimum_nd_f32(0, op); break;
  case EW_XNN_MAX: xs = xnn_create_maximum_nd_f32(0, op); break;
  case EW_XNN_NONE: break;
  }
  return xs == xnn_status_success ? ONNXI_OK : ONNXI_ERR_RUNTIME;
}

static onnxi_status ew_xnn_setup(ew_xnn x, xnn_operator_t op, const ew_plan *p,
                                 const void *a, const void *b, void *out, pthreadpool_t pool) {
  size_t sa[XNN_MAX_TENSOR_DIMS], sb[XNN_MAX_TENSOR_DIMS], n = (size_t)p->ndim;
  for (int d = 0; d < p->ndim; d++) {
    sa[d] = p->str[0][d] ? (size_t)p->dims[d] : 1;
    sb[d] = p->str[1][d] ? (size_t)p->dims[d] : 1;
  }
  enum xnn_status xs = xnn_status_invalid_parameter;
  switch (x) {
  case EW_XNN_ADD: xs = xnn_setup_add_nd_f32(op, n, sa, n, sb, a, b, out, pool); break;
  case EW_XNN_SUB: xs = xnn_setup_subtract_nd_f32(op, n, sa, n, sb, a, b, out, pool); break;
  case EW_XNN_MUL: xs = xnn_setup_multiply_nd_f32(op, n, sa, n, sb, a, b, out, pool); break;
  case EW_XNN_DIV: xs = xnn_setup_divide_nd_f32(op, n, sa, n, sb, a, b, out, pool); break;
  case EW_XNN_MIN: xs = xnn_setup_minimum_nd_f32(op, n, sa, n, sb, a, b, out, pool); break;
  case EW_XNN_MAX: xs = xnn_setup_maximum_nd_f32(op, n, sa, n, sb, a, b, out, pool); break;
  case EW_XNN_NONE: break;
  }
  return xs == xnn_status_success ? ONNXI_OK : ONNXI_ERR_RUNTIME;
}

/* Binds step i to XNNPACK when it can run it, except per-channel scales
 * (ew_scale_run); otherwise the own loop runs. */
static onnxi_status ew_step_bind_xnn(op_context *ctx, ew_state *s, int i, int32_t dtype) {
  ew_step *step = &s->steps[i];
  const bool last = i == s->n_steps - 1;
  step->scale_full = -1;
  if (s->desc->xnn == EW_XNN_NONE || dtype != ONNXI_DTYPE_FLOAT ||
      step->plan.ndim > XNN_MAX_TENSOR_DIMS || !ew_plan_pair_covers(&step->plan))
    return ONNXI_OK;
#ifdef EW_HAVE_SCALE512
  if (s->kind == EW_MUL && (step->scale_full = ew_scale_full(&step->plan)) >= 0) return ONNXI_OK;
#endif
  /* the fused clamp belongs to the final result only */
  const bool clamp = s->has_clamp && last && s->kind != EW_MEAN && s->desc->xnn != EW_XNN_MIN &&
                     s->desc->xnn != EW_XNN_MAX;
  if (ew_xnn_create(s->desc->xnn, clamp ? s->clamp_lo : -INFINITY,
                    clamp ? s->clamp_hi : INFINITY, &step->xop) != ONNXI_OK)
    return op_error(ctx, ONNXI_ERR_RUNTIME, "XNNPACK operator creation failed");
  step->xnn_clamped = clamp;
  if (ew_xnn_setup(s->desc->xnn, step->xop, &step->plan, step->src[0], step->src[1], s->out,
                   ctx->threadpool) != ONNXI_OK)
    return op_error(ctx, ONNXI_ERR_RUNTIME, "XNNPACK operator setup failed");
  return ONNXI_OK;
}

static void ew_step_unbind_xnn(ew_step *step) {
  if (step->xop) xnn_delete_operator(step->xop);
  step->xop = NULL;
  step->xnn_clamped = false;
  step->scale_full = -1;
}

/* PRelu with one constant slope per innermost channel: XNNPACK prelu_nc. */
static onnxi_status ew_prelu_bind_xnn(op_context *ctx, ew_state *s, op_tensor *const *in) {
  const ew_plan *p = &s->steps[0].plan;
  if (s->prelu_op) xnn_delete_operator(s->prelu_op);
  s->prelu_op = NULL;
  if (in[0]->dtype != ONNXI_DTYPE_FLOAT || !in[1]->is_const || p->ndim != 2 || p->str[1][0] ||
      !p->str[1][1] || !p->str[0][0])
    return ONNXI_OK;
  size_t c = (size_t)p->dims[1];
  if (xnn_create_prelu_nc_f32(c, c, c, in[1]->data, 0, &s->prelu_op) != xnn_status_success ||
      xnn_setup_prelu_nc_f32(s->prelu_op, (size_t)p->dims[0], in[0]->data, s->out,
                             ctx->threadpool) != xnn_status_success)
    return op_error(ctx, ONNXI_ERR_RUNTIME, "XNNPACK prelu setup failed");
  return ONNXI_OK;
}

static bool ew_overlaps(const op_tensor *t, const void *p, size_t bytes) {
  const char *a = t->data, *b = p;
  return t->nbytes && bytes && a < b + bytes && b < a + t->nbytes;
}

/* In place over input 0 (OP_KERNEL_INPLACE), the variadic ops overwrite it
 * at step 0; a later input naming the same buffer then reads a copy. */
static onnxi_status ew_setup_scratch(op_context *ctx, ew_state *s, op_tensor *const *in,
                                     size_t out_bytes) {
  s->scratch_src = NULL;
  bool hazard = false;
  for (int k = 2; k < s->n_in; k++) hazard |= ew_overlaps(in[k], s->out, out_bytes);
  if (!hazard) return ONNXI_OK;
  if (s->scratch_bytes < in[0]->nbytes) {
    free(s->scratch);
    s->scratch = malloc(in[0]->nbytes);
    s->scratch_bytes = s->scratch ? in[0]->nbytes : 0;
    if (!s->scratch) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory");
  }
  s->scratch_src = in[0]->data;
  for (int i = 1; i < s->n_steps; i++) /* src[0] of later steps is the output itself */
    if (s->steps[i].src[1] == in[0]->data) s->steps[i].src[1] = s->scratch;
  return ONNXI_OK;
}

/* Source k's storage dims padded to the output's storage rank. */
static void ew_setup_dims(const op_tensor *t, const op_tensor *out, int64_t *dims) {
  op_storage_dims(t, out->rank, out->layout, dims);
}

/* Step 0 reads inputs 0..per_step-1; step i > 0 reads the output so far and
 * input i + 1. Every plan spans the whole output. */
static void ew_setup_steps(ew_state *s, op_tensor *const *in, const op_tensor *out) {
  int64_t odims[IR_MAX_RANK], sd[EW_MAX_SRC][IR_MAX_RANK];
  ew_setup_dims(out, out, odims);
  const int per_step = s->kind == EW_WHERE ? 3 : s->n_in == 1 ? 1 : 2;
  for (int i = 0; i < s->n_steps; i++) {
    ew_step *step = &s->steps[i];
    for (int k = 0; k < per_step; k++) {
      const op_tensor *t = i == 0 ? in[k] : k == 0 ? out : in[i + 1];
      ew_setup_dims(t, out, sd[k]);
      step->src[k] = t->data;
      step->plan.esize[k] = ir_dtype_size(t->dtype);
    }
    ew_plan_build(&step->plan, out->rank, odims, per_step, sd);
    step->plan.osize = s->osize;
  }
}

static onnxi_status ew_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  ew_state *s = state;
  (void)n_in, (void)n_out;
  s->out = out[0]->data;
  if (!op_dims_count(out[0]->dims, out[0]->rank, &s->count))
    return op_error(ctx, ONNXI_ERR_LIMIT, "output size overflows");
  ew_setup_steps(s, in, out[0]);
  onnxi_status st = ew_setup_scratch(ctx, s, in, (size_t)s->count * s->osize);
  bool clamped = false;
  for (int i = 0; st == ONNXI_OK && i < s->n_steps; i++) {
    ew_step_unbind_xnn(&s->steps[i]);
    if (s->count == 0 || s->n_in == 1) continue;
    st = ew_step_bind_xnn(ctx, s, i, in[0]->dtype);
    clamped |= s->steps[i].xnn_clamped;
  }
  if (st == ONNXI_OK && s->kind == EW_PRELU && s->count > 0) st = ew_prelu_bind_xnn(ctx, s, in);
  s->clamp_pass = s->has_clamp && !clamped;
  return st;
}

/* --- run ------------------------------------------------------------------------------ */

/* Integer Div and Mod by zero are undefined in ONNX: report them. */
static onnxi_status ew_run_check_divisor(op_context *ctx, ew_state *s, const op_tensor *b) {
  if ((s->kind != EW_DIV && s->kind != EW_MOD) || !ew_dtype_slot(b->dtype)) return ONNXI_OK;
  ew_zero_fn zero = ew_tab_zero[b->dtype];
  int64_t n;
  if (!zero || !op_dims_count(b->dims, b->rank, &n)) return ONNXI_OK;
  if (zero((size_t)n, b->data))
    return op_error(ctx, ONNXI_ERR_RUNTIME, "integer %s by zero",
                    s->kind == EW_DIV ? "division" : "modulo");
  return ONNXI_OK;
}

static onnxi_status ew_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                           op_tensor *const *out, int n_out) {
  ew_state *s = state;
  (void)n_in, (void)n_out;
  if (s->count == 0) return ONNXI_OK;
  onnxi_status st = ew_run_check_divisor(ctx, s, in[s->n_in - 1]);
  if (st != ONNXI_OK) return st;
  const size_t bytes = (size_t)s->count * s->osize;
  if (s->scratch_src) memcpy(s->scratch, s->scratch_src, in[0]->nbytes);
  if (s->n_in == 1) {
    if (out[0]->data != in[0]->data) memcpy(out[0]->data, in[0]->data, bytes);
  } else if (s->prelu_op) {
    if (xnn_run_operator(s->prelu_op, ctx->threadpool) != xnn_status_success)
      return op_error(ctx, ONNXI_ERR_RUNTIME, "XNNPACK prelu failed");
  } else {
    for (int i = 0; i < s->n_steps; i++) {
      const ew_step *step = &s->steps[i];
      if (step->xop) {
        if (xnn_run_operator(step->xop, ctx->threadpool) != xnn_status_success)
          return op_error(ctx, ONNXI_ERR_RUNTIME, "XNNPACK operator failed");
#ifdef EW_HAVE_SCALE512
      } else if (step->scale_full >= 0) {
        ew_scale_run(&step->plan, step->scale_full, step->src, out[0]->data, ctx->threadpool);
#endif
      } else {
        ew_plan_run(&step->plan, s->fn, step->src, out[0]->data, ctx->threadpool);
      }
    }
  }
  if (s->kind == EW_MEAN && s->n_in > 1)
    ew_tab_scale[out[0]->dtype]((size_t)s->count, out[0]->data, 1.0 / s->n_in);
  if (s->clamp_pass)
    ew_tab_clamp[out[0]->dtype]((size_t)s->count, out[0]->data, s->clamp_lo, s->clamp_hi);
  return ONNXI_OK;
}

/* --- kernels ---------------------------------------------------------------------------- */

#define EW_KERNEL(sym, onnx, kind)                                                  \
  static onnxi_status ew_init_##sym(op_context *ctx, void *state) {                 \
    return ew_init(ctx, state, kind);                                               \
  }                                                                                 \
  const op_kernel op_##sym = {.name = onnx,                                         \
                              .state_size = sizeof(ew_state),                       \
                              .flags = OP_KERNEL_INPLACE,                           \
                              .init = ew_init_##sym,                                \
                              .layout = op_layout_follow,                           \
                              .infer = ew_infer,                                    \
                              .setup = ew_setup,                                    \
                              .run = ew_run,                                        \
                              .release = ew_release};

EW_KERNEL(add, "Add", EW_ADD)
EW_KERNEL(sub, "Sub", EW_SUB)
EW_KERNEL(mul, "Mul", EW_MUL)
EW_KERNEL(div, "Div", EW_DIV)
EW_KERNEL(pow, "Pow", EW_POW)
EW_KERNEL(mod, "Mod", EW_MOD)
EW_KERNEL(min, "Min", EW_MIN)
EW_KERNEL(max, "Max", EW_MAX)
EW_KERNEL(sum, "Sum", EW_SUM)
EW_KERNEL(mean, "Mean", EW_MEAN)
EW_KERNEL(equal, "Equal", EW_EQ)
EW_KERNEL(less, "Less", EW_LT)
EW_KERNEL(greater, "Greater", EW_GT)
EW_KERNEL(less_or_equal, "LessOrEqual", EW_LE)
EW_KERNEL(greater_or_equal, "GreaterOrEqual", EW_GE)
EW_KERNEL(and, "And", EW_AND)
EW_KERNEL(or, "Or", EW_OR)
EW_KERNEL(xor, "Xor", EW_XOR)
EW_KERNEL(where, "Where", EW_WHERE)
EW_KERNEL(prelu, "PRelu", EW_PRELU)
EW_KERNEL(bit_shift, "BitShift", EW_BITSHIFT)
