/* Reductions: ReduceSum/Mean/Max/Min/Prod/SumSquare/L1/L2/LogSum/LogSumExp
 * over a set of axes, ArgMax/ArgMin along one axis, CumSum and TopK.
 *
 * Reduce* walks the input once in storage order. Its dims are collapsed
 * into runs that are all reduced or all kept (contiguous in the output), so
 * the inner loop either folds a contiguous run into one accumulator (reduced
 * innermost dim) or accumulates a run into consecutive outputs (kept
 * innermost dim, vectorizable). Accumulators live in a scratch buffer of the
 * wider type (float for float16/bfloat16, 64 bits for integer sums) and are
 * converted to the output dtype at the end.
 *
 * NHWC input is reduced in place: each input storage dim maps to its logical
 * axis and from there to the output's stride, so the output can be NHWC
 * (rank 4 kept, e.g. ReduceMean over H,W with keepdims: the global average
 * pool pattern) or plain row-major (rank changes) without a reorder. */
#include "kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
/* gcc 12 -O2 leaves runtime-length loops scalar; selects between computed
 * floats need no-trapping-math to become vector blends */
#pragma GCC optimize("O3", "no-trapping-math")
#endif

#define RD_DTYPE_SLOTS 17

/* --- dtype list -------------------------------------------------------------------
 * X(arg, ENUM, sfx, T, C, SA, CLS, LD, ST, LO, HI): storage T, compute C, sum
 * accumulator SA, class F/S/U, load/store, the range of C. */
#define RD_LD(x) (x)
#define RD_ST(T, x) ((T)(x))
#define RD_LD_F16(x) op_f16_to_f32(x)
#define RD_ST_F16(T, x) op_f32_to_f16(x)
#define RD_LD_BF16(x) op_bf16_to_f32(x)
#define RD_ST_BF16(T, x) op_f32_to_bf16(x)

#define RD_NUMERIC(X, a)                                                                   \
  X(a, FLOAT, f32, float, float, float, F, RD_LD, RD_ST, -INFINITY, INFINITY)              \
  X(a, DOUBLE, f64, double, double, double, F, RD_LD, RD_ST, -INFINITY, INFINITY)          \
  X(a, FLOAT16, f16, uint16_t, float, float, F, RD_LD_F16, RD_ST_F16, -INFINITY, INFINITY) \
  X(a, BFLOAT16, bf16, uint16_t, float, float, F, RD_LD_BF16, RD_ST_BF16, -INFINITY,       \
    INFINITY)                                                                              \
  X(a, INT8, i8, int8_t, int8_t, uint64_t, S, RD_LD, RD_ST, INT8_MIN, INT8_MAX)            \
  X(a, INT16, i16, int16_t, int16_t, uint64_t, S, RD_LD, RD_ST, INT16_MIN, INT16_MAX)      \
  X(a, INT32, i32, int32_t, int32_t, uint64_t, S, RD_LD, RD_ST, INT32_MIN, INT32_MAX)      \
  X(a, INT64, i64, int64_t, int64_t, uint64_t, S, RD_LD, RD_ST, INT64_MIN, INT64_MAX)      \
  X(a, UINT8, u8, uint8_t, uint8_t, uint64_t, U, RD_LD, RD_ST, 0, UINT8_MAX)               \
  X(a, UINT16, u16, uint16_t, uint16_t, uint64_t, U, RD_LD, RD_ST, 0, UINT16_MAX)          \
  X(a, UINT32, u32, uint32_t, uint32_t, uint64_t, U, RD_LD, RD_ST, 0, UINT32_MAX)          \
  X(a, UINT64, u64, uint64_t, uint64_t, uint64_t, U, RD_LD, RD_ST, 0, UINT64_MAX)

/* --- per-op pieces: accumulator type, identity, map, combine, finish ---------------
 * Integer sums and products wrap in uint64 (no signed overflow); Max/Min propagate
 * NaN. Each element is mapped (RDM: x*x, |x|, exp x) before it is combined; the
 * accumulator is finished (RDF: sqrt, log) when converted to the output. L2, LogSum
 * and LogSumExp accumulate in double, like numpy's float64 reference would. */
#define RDA_sum(C, SA) SA
#define RDA_max(C, SA) C
#define RDA_min(C, SA) C
#define RDA_prod(C, SA) SA
#define RDA_sumsq(C, SA) SA
#define RDA_l1(C, SA) SA
#define RDA_l2(C, SA) double
#define RDA_logsum(C, SA) double
#define RDA_lse(C, SA) double
#define RDI_sum(LO, HI) 0
#define RDI_max(LO, HI) LO
#define RDI_min(LO, HI) HI
#define RDI_prod(LO, HI) 1
#define RDI_sumsq RDI_sum
#define RDI_l1 RDI_sum
#define RDI_l2 RDI_sum
#define RDI_logsum RDI_sum
#define RDI_lse RDI_sum
#define RDM_sum(v, A, CLS) (v)
#define RDM_max RDM_sum
#define RDM_min RDM_sum
#define RDM_prod RDM_sum
#define RDM_logsum RDM_sum
#define RDM_sumsq(v, A, CLS) ((A)(v) * (A)(v))
#define RDM_l2 RDM_sumsq
#define RDM_l1(v, A, CLS) RD_ABS_##CLS(v, A)
#define RDM_lse(v, A, CLS) exp((double)(v))
#define RD_ABS_F(v, A) ((A)fabs((double)(v)))
#define RD_ABS_S(v, A) ((v) < 0 ? (A)0 - (A)(v) : (A)(v))
#define RD_ABS_U(v, A) ((A)(v))
#define RDF_sum(a) (a)
#define RDF_max RDF_sum
#define RDF_min RDF_sum
#define RDF_prod RDF_sum
#define RDF_sumsq RDF_sum
#define RDF_l1 RDF_sum
#define RDF_l2(a) sqrt(a)
#define RDF_logsum(a) log(a)
#define RDF_lse(a) log(a)
#define RDC_sum_F(a, v, A) ((a) + (v))
#define RDC_sum_S(a, v, A) ((a) + (A)(v))
#define RDC_sum_U RDC_sum_S
#define RDC_prod_F(a, v, A) ((a) * (v))
#define RDC_prod_S(a, v, A) ((a) * (A)(v))
#define RDC_prod_U RDC_prod_S
#define RDC_sumsq_F RDC_sum_S /* operands are already of the accumulator type */
#define RDC_sumsq_S RDC_sum_S
#define RDC_sumsq_U RDC_sum_S
#define RDC_l1_F RDC_sumsq_F
#define RDC_l1_S RDC_sumsq_S
#define RDC_l1_U RDC_sumsq_U
#define RDC_l2_F RDC_sumsq_F
#define RDC_l2_S RDC_sumsq_S
#define RDC_l2_U RDC_sumsq_U
#define RDC_logsum_F RDC_sumsq_F
#define RDC_logsum_S RDC_sumsq_S
#define RDC_logsum_U RDC_sumsq_U
#define RDC_lse_F RDC_sumsq_F
#define RDC_lse_S RDC_sumsq_S
#define RDC_lse_U RDC_sumsq_U
#define RDC_max_F(a, v, A) (((v) > (a) || (v) != (v)) ? (v) : (a))
#define RDC_max_S(a, v, A) ((v) > (a) ? (v) : (a))
#define RDC_max_U RDC_max_S
#define RDC_min_F(a, v, A) (((v) < (a) || (v) != (v)) ? (v) : (a))
#define RDC_min_S(a, v, A) ((v) < (a) ? (v) : (a))
#define RDC_min_U RDC_min_S

/* Accumulate: init fills the identity, row folds one input run, fin
 * converts to the output dtype (Mean divides by the reduced count). */
typedef void (*rd_init_fn)(size_t n, void *acc);
typedef void (*rd_row_fn)(size_t n, const void *x, void *acc, int64_t ostride);
typedef void (*rd_fin_fn)(size_t n, const void *acc, void *out, int64_t count, bool mean);

#define RD_FNS(op, E, sfx, T, C, SA, CLS, LD, ST, LO, HI)                                \
  static void rd_##op##_init_##sfx(size_t n, void *pacc) {                               \
    RDA_##op(C, SA) *acc = pacc;                                                         \
    for (size_t i = 0; i < n; i++) acc[i] = RDI_##op(LO, HI);                            \
  }                                                                                      \
  static void rd_##op##_row_##sfx(size_t n, const void *px, void *pacc, int64_t s) {     \
    typedef RDA_##op(C, SA) A;                                                           \
    const T *x = px;                                                                     \
    A *acc = pacc;                                                                       \
    if (s == 0) { /* fold a run: 8 partial results for ILP and accuracy */               \
      A p[8];                                                                            \
      for (int j = 0; j < 8; j++) p[j] = RDI_##op(LO, HI);                               \
      size_t i = 0;                                                                      \
      for (; i + 8 <= n; i += 8)                                                         \
        for (int j = 0; j < 8; j++)                                                      \
          p[j] = RDC_##op##_##CLS(p[j], RDM_##op(LD(x[i + j]), A, CLS), A);              \
      for (; i < n; i++) p[0] = RDC_##op##_##CLS(p[0], RDM_##op(LD(x[i]), A, CLS), A);   \
      A r = acc[0];                                                                      \
      for (int j = 0; j < 8; j++) r = RDC_##op##_##CLS(r, p[j], A);                      \
      acc[0] = r;                                                                        \
    } else if (s == 1) {                                                                 \
      for (size_t i = 0; i < n; i++)                                                     \
        acc[i] = RDC_##op##_##CLS(acc[i], RDM_##op(LD(x[i]), A, CLS), A);                \
    } else {                                                                             \
      for (size_t i = 0; i < n; i++)                                                     \
        acc[i * (size_t)s] =                                                             \
            RDC_##op##_##CLS(acc[i * (size_t)s], RDM_##op(LD(x[i]), A, CLS), A);         \
    }                                                                                    \
  }                                                                                      \
  static void rd_##op##_fin_##sfx(size_t n, const void *pacc, void *pout, int64_t cnt,   \
                                  bool mean) {                                           \
    typedef RDA_##op(C, SA) A;                                                           \
    const A *acc = pacc;                                                                 \
    T *out = pout;                                                                       \
    if (mean)                                                                            \
      for (size_t i = 0; i < n; i++) out[i] = ST(T, RD_MEAN_##CLS(acc[i], cnt, C, A));  \
    else                                                                                 \
      for (size_t i = 0; i < n; i++) out[i] = ST(T, RD_CVT_##CLS(RDF_##op(acc[i]), C, LO, HI)); \
  }
/* A finished double (L2, LogSum, LogSumExp of integers) into an integer
 * dtype: NaN gives 0 and values past the type's range saturate, where a
 * plain cast is undefined (LogSumExp of nothing is -inf; found by fuzzing). */
static inline int64_t rd_sat_s(double v, int64_t lo, int64_t hi) {
  if (v != v) return 0;
  if (v <= (double)lo) return lo;
  return v >= (double)hi ? hi : (int64_t)v;
}
static inline uint64_t rd_sat_u(double v, uint64_t hi) {
  if (v != v || v <= 0) return 0;
  return v >= (double)hi ? hi : (uint64_t)v;
}
#define RD_CVT_F(v, C, LO, HI) ((C)(v))
#define RD_CVT_S(v, C, LO, HI) \
  _Generic((v), double: (C)rd_sat_s((double)(v), (LO), (HI)), default: (C)(v))
#define RD_CVT_U(v, C, LO, HI) \
  _Generic((v), double: (C)rd_sat_u((double)(v), (HI)), default: (C)(v))

/* Mean of an empty set: NaN for floats (0/0), 0 for integers (no trap). */
#define RD_MEAN_F(a, cnt, C, A) ((C)((a) / (A)(cnt)))
#define RD_MEAN_S(a, cnt, C, A) ((C)((cnt) ? (int64_t)(a) / (cnt) : 0))
#define RD_MEAN_U(a, cnt, C, A) ((C)((cnt) ? (a) / (uint64_t)(cnt) : 0))

typedef struct rd_fns {
  rd_init_fn init;
  rd_row_fn row;
  rd_fin_fn fin;
  size_t acc_size;
} rd_fns;

#define RD_ENTRY(op, E, sfx, T, C, SA, ...) \
  [ONNXI_DTYPE_##E] = {rd_##op##_init_##sfx, rd_##op##_row_##sfx, rd_##op##_fin_##sfx, \
                       sizeof(RDA_##op(C, SA))},
#define RD_DEFINE(op)   \
  RD_NUMERIC(RD_FNS, op) \
  static const rd_fns rd_tab_##op[RD_DTYPE_SLOTS] = {RD_NUMERIC(RD_ENTRY, op)};

RD_DEFINE(sum)
RD_DEFINE(max)
RD_DEFINE(min)
RD_DEFINE(prod)
RD_DEFINE(sumsq)
RD_DEFINE(l1)
RD_DEFINE(l2)
RD_DEFINE(logsum)
RD_DEFINE(lse)

/* --- ArgMax / ArgMin ---------------------------------------------------------------- */
typedef void (*rd_arg_fn)(int64_t outer, int64_t len, int64_t inner, const void *x,
                          int64_t *out, bool last, void *scratch);

/* Inner size 1 scans each run; otherwise whole rows of `inner` candidates
 * are compared at once (contiguous), keeping the best values in scratch. */
#define RD_ARG_FN(op, E, sfx, T, C, SA, CLS, LD, ST, LO, HI)                                \
  static void rd_##op##_##sfx(int64_t outer, int64_t len, int64_t inner, const void *px,    \
                              int64_t *out, bool last, void *scratch) {                     \
    const T *x = px;                                                                        \
    C *best = scratch;                                                                      \
    for (int64_t o = 0; o < outer; o++) {                                                   \
      const T *p = x + o * len * inner;                                                     \
      int64_t *idx = out + o * inner;                                                       \
      if (inner == 1) {                                                                     \
        C b = LD(p[0]);                                                                     \
        int64_t bi = 0;                                                                     \
        for (int64_t k = 1; k < len; k++) {                                                 \
          C v = LD(p[k]);                                                                   \
          if (last ? RD_##op##_EQ(v, b) : RD_##op##_STRICT(v, b)) b = v, bi = k;            \
        }                                                                                   \
        idx[0] = bi;                                                                        \
        continue;                                                                           \
      }                                                                                     \
      for (int64_t i = 0; i < inner; i++) best[i] = LD(p[i]), idx[i] = 0;                  \
      for (int64_t k = 1; k < len; k++) {                                                   \
        const T *row = p + k * inner;                                                       \
        for (int64_t i = 0; i < inner; i++) {                                               \
          C v = LD(row[i]);                                                                 \
          bool take = last ? RD_##op##_EQ(v, best[i]) : RD_##op##_STRICT(v, best[i]);       \
          best[i] = take ? v : best[i];                                                     \
          idx[i] = take ? k : idx[i];                                                       \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
  }
#define RD_argmax_STRICT(v, b) ((v) > (b))
#define RD_argmax_EQ(v, b) ((v) >= (b))
#define RD_argmin_STRICT(v, b) ((v) < (b))
#define RD_argmin_EQ(v, b) ((v) <= (b))
#define RD_ARG_ENTRY(op, E, sfx, ...) [ONNXI_DTYPE_##E] = rd_##op##_##sfx,
RD_NUMERIC(RD_ARG_FN, argmax)
RD_NUMERIC(RD_ARG_FN, argmin)
static const rd_arg_fn rd_tab_argmax[RD_DTYPE_SLOTS] = {RD_NUMERIC(RD_ARG_ENTRY, argmax)};
static const rd_arg_fn rd_tab_argmin[RD_DTYPE_SLOTS] = {RD_NUMERIC(RD_ARG_ENTRY, argmin)};

/* --- state ------------------------------------------------------------------------- */

typedef enum rd_kind {
  RD_SUM, RD_MEAN, RD_MAX, RD_MIN, RD_PROD, RD_SUMSQ, RD_L1, RD_L2, RD_LOGSUM, RD_LSE,
  RD_ARGMAX, RD_ARGMIN
} rd_kind;

/* Loops of each Reduce* kind (Mean is Sum divided at the end). */
static const rd_fns *const rd_tabs[] = {
    [RD_SUM] = rd_tab_sum,     [RD_MEAN] = rd_tab_sum,    [RD_MAX] = rd_tab_max,
    [RD_MIN] = rd_tab_min,     [RD_PROD] = rd_tab_prod,   [RD_SUMSQ] = rd_tab_sumsq,
    [RD_L1] = rd_tab_l1,       [RD_L2] = rd_tab_l2,       [RD_LOGSUM] = rd_tab_logsum,
    [RD_LSE] = rd_tab_lse};

/* Iteration over the input in storage order, collapsed; ostr[d] is the
 * output (accumulator) stride of dim d, 0 where it is reduced. */
typedef struct rd_plan {
  int ndim;
  int64_t dims[IR_MAX_RANK];
  int64_t ostr[IR_MAX_RANK];
} rd_plan;

typedef struct rd_state {
  rd_kind kind;
  int64_t keepdims, noop_empty, select_last, axis;
  const int64_t *axes_attr;
  int64_t n_axes_attr; /* -1: absent */
  bool axes_input;     /* ReduceSum from opset 13 */
  /* infer */
  bool identity;      /* noop_with_empty_axes with no axes: a copy */
  bool reduced[IR_MAX_RANK]; /* by logical axis */
  rd_fns fns;
  rd_arg_fn arg;
  /* setup */
  rd_plan plan;
  int64_t in_count, out_count, red_count;
  int64_t outer, len, inner; /* ArgMax/ArgMin */
  void *acc;
  size_t acc_bytes;
} rd_state;

/* --- init ---------------------------------------------------------------------------- */

static onnxi_status rd_attr_bool(op_context *ctx, const char *name, int64_t def, int64_t *v) {
  onnxi_status st = op_attr_int(ctx, name, def, v);
  if (st == ONNXI_OK && *v != 0 && *v != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute '%s' must be 0 or 1, got %lld",
                    name, (long long)*v);
  return st;
}

static onnxi_status rd_init_common(op_context *ctx, rd_state *s, rd_kind kind) {
  s->kind = kind;
  if (ctx->node->n_outputs != 1)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects 1 output, got %d",
                    ctx->node->n_outputs);
  if (ctx->node->n_inputs < 1 || ctx->node->inputs[0] == IR_NONE)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 0 (data) is required");
  return rd_attr_bool(ctx, "keepdims", 1, &s->keepdims);
}

static onnxi_status rd_init(op_context *ctx, void *state, rd_kind kind) {
  rd_state *s = state;
  onnxi_status st = rd_init_common(ctx, s, kind);
  if (st != ONNXI_OK) return st;
  s->axes_input = kind == RD_SUM && ctx->opset >= 13;
  int max_in = s->axes_input ? 2 : 1;
  if (ctx->node->n_inputs > max_in)
    return op_error(ctx, ctx->opset >= 18 ? ONNXI_ERR_UNSUPPORTED : ONNXI_ERR_INVALID_MODEL,
                    "expects at most %d input%s at opset %lld, got %d", max_in,
                    max_in > 1 ? "s" : "", (long long)ctx->opset, ctx->node->n_inputs);
  st = op_attr_ints(ctx, "axes", &s->axes_attr, &s->n_axes_attr);
  if (st != ONNXI_OK) return st;
  if (s->axes_input && s->n_axes_attr >= 0)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "attribute 'axes' is not allowed from opset 13; axes is an input");
  if (s->n_axes_attr > IR_MAX_RANK)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'axes' has %lld entries",
                    (long long)s->n_axes_attr);
  return s->axes_input ? rd_attr_bool(ctx, "noop_with_empty_axes", 0, &s->noop_empty)
                       : ONNXI_OK;
}

static onnxi_status rd_arg_init(op_context *ctx, void *state, rd_kind kind) {
  rd_state *s = state;
  onnxi_status st = rd_init_common(ctx, s, kind);
  if (st == ONNXI_OK && ctx->node->n_inputs != 1)
    st = op_error(ctx, ONNXI_ERR_INVALID_MODEL, "expects 1 input, got %d", ctx->node->n_inputs);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "axis", 0, &s->axis);
  if (st == ONNXI_OK) st = rd_attr_bool(ctx, "select_last_index", 0, &s->select_last);
  return st;
}

static void rd_release(void *state) {
  rd_state *s = state;
  free(s->acc);
}

/* --- infer ----------------------------------------------------------------------------- */

/* Marks the reduced logical axes from the attribute or the axes input. */
static onnxi_status rd_infer_axes(op_context *ctx, rd_state *s, op_tensor *const *in, int n_in) {
  const int rank = in[0]->rank;
  const int64_t *axes = s->axes_attr;
  int64_t n = s->n_axes_attr;
  if (s->axes_input) {
    n = -1;
    const op_tensor *t = n_in > 1 ? in[1] : NULL;
    if (t) {
      if (t->dtype != ONNXI_DTYPE_INT64 || t->rank != 1)
        return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'axes' must be a 1-D int64 tensor");
      const void *data;
      onnxi_status st = op_tensor_plan_value(ctx, t, 1, &data);
      if (st != ONNXI_OK) return st;
      axes = data;
      n = t->dims[0];
    }
  }
  memset(s->reduced, 0, sizeof s->reduced);
  s->identity = n <= 0 && s->noop_empty;
  if (n <= 0) {
    for (int i = 0; i < rank; i++) s->reduced[i] = !s->identity;
    return ONNXI_OK;
  }
  if (n > rank)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "%lld axes for rank %d", (long long)n, rank);
  for (int64_t i = 0; i < n; i++) {
    int a;
    onnxi_status st = op_axis_normalize(ctx, "axes entry", axes[i], rank, &a);
    if (st != ONNXI_OK) return st;
    if (s->reduced[a])
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "axis %lld is repeated", (long long)axes[i]);
    s->reduced[a] = true;
  }
  return ONNXI_OK;
}

/* keepdims: reduced dims become 1 and a rank-4 NHWC input stays NHWC;
 * otherwise they are dropped and the output is plain. */
static void rd_infer_shape(const rd_state *s, const op_tensor *x, op_tensor *out) {
  int r = 0;
  for (int i = 0; i < x->rank; i++) {
    if (!s->reduced[i]) out->dims[r++] = x->dims[i];
    else if (s->keepdims) out->dims[r++] = 1;
  }
  out->rank = r;
  out->layout = (r == 4 && x->rank == 4) ? x->layout : IR_LAYOUT_PLAIN;
}

static onnxi_status rd_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  rd_state *s = state;
  (void)n_out;
  const int32_t dt = in[0]->dtype;
  const rd_fns *tab = rd_tabs[s->kind];
  if (dt <= 0 || dt >= RD_DTYPE_SLOTS || !tab[dt].init)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "dtype %s is not supported",
                    onnxi_dtype_name((onnxi_dtype)dt));
  s->fns = tab[dt];
  onnxi_status st = rd_infer_axes(ctx, s, in, n_in);
  if (st != ONNXI_OK) return st;
  out[0]->dtype = dt;
  if (s->identity) {
    out[0]->rank = in[0]->rank;
    memcpy(out[0]->dims, in[0]->dims, sizeof out[0]->dims);
    out[0]->layout = in[0]->layout;
    return ONNXI_OK;
  }
  rd_infer_shape(s, in[0], out[0]);
  return ONNXI_OK;
}

static onnxi_status rd_arg_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                 op_tensor *const *out, int n_out) {
  rd_state *s = state;
  (void)n_in, (void)n_out;
  const int32_t dt = in[0]->dtype;
  const rd_arg_fn *tab = s->kind == RD_ARGMAX ? rd_tab_argmax : rd_tab_argmin;
  if (dt <= 0 || dt >= RD_DTYPE_SLOTS || !tab[dt])
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "dtype %s is not supported",
                    onnxi_dtype_name((onnxi_dtype)dt));
  s->arg = tab[dt];
  int a;
  onnxi_status st = op_axis_normalize(ctx, "attribute 'axis'", s->axis, in[0]->rank, &a);
  if (st != ONNXI_OK) return st;
  if (in[0]->rank == 0 || in[0]->dims[a] == 0)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "cannot take the %s of an empty axis",
                    s->kind == RD_ARGMAX ? "argmax" : "argmin");
  memset(s->reduced, 0, sizeof s->reduced);
  s->reduced[a] = true;
  out[0]->dtype = ONNXI_DTYPE_INT64;
  rd_infer_shape(s, in[0], out[0]);
  return ONNXI_OK;
}

/* --- layout -------------------------------------------------------------------------- */

/* Reduce* handles either layout: keep whatever arrives. */
static ir_layout rd_layout(const op_context *ctx, const void *state, op_tensor *const *in,
                           int n_in) {
  (void)ctx, (void)state, (void)n_in;
  return in[0] && in[0]->rank == 4 ? in[0]->layout : IR_LAYOUT_PLAIN;
}

/* ArgMax/ArgMin write [outer, inner] in input storage order: right for NHWC
 * when the output stays rank 4 or the axis is C (innermost). */
static ir_layout rd_arg_layout(const op_context *ctx, const void *state, op_tensor *const *in,
                               int n_in) {
  const rd_state *s = state;
  (void)ctx, (void)n_in;
  if (!in[0] || in[0]->rank != 4 || in[0]->layout != IR_LAYOUT_NHWC) return IR_LAYOUT_PLAIN;
  return (s->keepdims || s->axis == 1 || s->axis == -3) ? IR_LAYOUT_NHWC : IR_LAYOUT_PLAIN;
}

/* --- setup ----------------------------------------------------------------------------- */

/* Output stride of every logical input axis (0 where reduced). */
static void rd_setup_out_strides(const rd_state *s, const op_tensor *x, const op_tensor *out,
                                 int64_t *by_axis) {
  int64_t sdims[IR_MAX_RANK], sstr[IR_MAX_RANK];
  op_storage_dims(out, out->rank, out->layout, sdims);
  int64_t acc = 1;
  for (int d = out->rank - 1; d >= 0; d--) {
    sstr[d] = acc;
    acc *= sdims[d];
  }
  int j = 0; /* output logical axis of input axis i */
  for (int i = 0; i < x->rank; i++) {
    by_axis[i] = s->reduced[i] ? 0 : sstr[op_storage_axis(j, out->rank, out->layout)];
    if (!s->reduced[i] || s->keepdims) j++;
  }
}

static void rd_setup_plan(rd_state *s, const op_tensor *x, const op_tensor *out) {
  int64_t by_axis[IR_MAX_RANK], sdims[IR_MAX_RANK];
  rd_setup_out_strides(s, x, out, by_axis);
  op_storage_dims(x, x->rank, x->layout, sdims);
  rd_plan *p = &s->plan;
  int nd = 0;
  s->red_count = 1;
  for (int i = 0; i < x->rank; i++) {
    int axis = i; /* logical axis stored at storage position i */
    if (x->rank == 4 && x->layout == IR_LAYOUT_NHWC) axis = (int[]){0, 2, 3, 1}[i];
    if (s->reduced[axis]) s->red_count *= sdims[i];
    if (sdims[i] == 1) continue;
    int64_t os = by_axis[axis];
    if (nd > 0 && p->ostr[nd - 1] == os * sdims[i]) {
      p->dims[nd - 1] *= sdims[i];
      p->ostr[nd - 1] = os;
      continue;
    }
    p->dims[nd] = sdims[i];
    p->ostr[nd++] = os;
  }
  if (nd == 0) {
    p->dims[0] = 1;
    p->ostr[0] = 1;
    nd = 1;
  }
  p->ndim = nd;
}

static onnxi_status rd_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  rd_state *s = state;
  (void)n_in, (void)n_out;
  if (!op_dims_count(in[0]->dims, in[0]->rank, &s->in_count) ||
      !op_dims_count(out[0]->dims, out[0]->rank, &s->out_count))
    return op_error(ctx, ONNXI_ERR_LIMIT, "tensor size overflows");
  if (s->identity) return ONNXI_OK;
  rd_setup_plan(s, in[0], out[0]);
  size_t need = (size_t)s->out_count * s->fns.acc_size;
  if (need > s->acc_bytes) {
    free(s->acc);
    s->acc = malloc(need);
    s->acc_bytes = s->acc ? need : 0;
    if (!s->acc) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory");
  }
  return ONNXI_OK;
}

static onnxi_status rd_arg_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                 op_tensor *const *out, int n_out) {
  rd_state *s = state;
  (void)n_in, (void)n_out, (void)out;
  const op_tensor *x = in[0];
  int64_t sdims[IR_MAX_RANK];
  op_storage_dims(x, x->rank, x->layout, sdims);
  int a = (int)(s->axis < 0 ? s->axis + x->rank : s->axis);
  int sa = op_storage_axis(a, x->rank, x->layout);
  s->outer = s->inner = 1;
  for (int i = 0; i < x->rank; i++) {
    if (i < sa) s->outer *= sdims[i];
    if (i > sa) s->inner *= sdims[i];
  }
  s->len = sdims[sa];
  size_t need = (size_t)s->inner * sizeof(double); /* best values: C is at most 8 bytes */
  if (s->inner > 1 && need > s->acc_bytes) {
    free(s->acc);
    s->acc = malloc(need);
    s->acc_bytes = s->acc ? need : 0;
    if (!s->acc) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory");
  }
  return ONNXI_OK;
}

/* --- run --------------------------------------------------------------------------------- */

/* Feeds every input run to the row loop; rows are contiguous in the input. */
static void rd_run_rows(const rd_state *s, const char *x, char *acc, size_t esize) {
  const rd_plan *p = &s->plan;
  const int last = p->ndim - 1;
  const int64_t n = p->dims[last], rows = s->in_count / n;
  int64_t idx[IR_MAX_RANK] = {0}, off = 0;
  for (int64_t r = 0; r < rows; r++) {
    s->fns.row((size_t)n, x + (size_t)(r * n) * esize, acc + (size_t)off * s->fns.acc_size,
               p->ostr[last]);
    for (int d = last - 1; d >= 0; d--) {
      idx[d]++;
      off += p->ostr[d];
      if (idx[d] < p->dims[d]) break;
      off -= p->ostr[d] * p->dims[d];
      idx[d] = 0;
    }
  }
}

static onnxi_status rd_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                           op_tensor *const *out, int n_out) {
  rd_state *s = state;
  (void)ctx, (void)n_in, (void)n_out;
  if (s->identity) {
    if (out[0]->data != in[0]->data) memcpy(out[0]->data, in[0]->data, in[0]->nbytes);
    return ONNXI_OK;
  }
  if (s->out_count == 0) return ONNXI_OK;
  s->fns.init((size_t)s->out_count, s->acc);
  if (s->in_count > 0) rd_run_rows(s, in[0]->data, s->acc, ir_dtype_size(in[0]->dtype));
  s->fns.fin((size_t)s->out_count, s->acc, out[0]->data, s->red_count, s->kind == RD_MEAN);
  return ONNXI_OK;
}

static onnxi_status rd_arg_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  rd_state *s = state;
  (void)ctx, (void)n_in, (void)n_out;
  s->arg(s->outer, s->len, s->inner, in[0]->data, out[0]->data, s->select_last != 0, s->acc);
  return ONNXI_OK;
}

/* --- kernels ------------------------------------------------------------------------------- */

#define RD_KERNEL(sym, onnx, kind)                                                        \
  static onnxi_status rd_init_##sym(op_context *ctx, void *state) {                       \
    return rd_init(ctx, state, kind);                                                     \
  }                                                                                       \
  const op_kernel op_##sym = {.name = onnx, .state_size = sizeof(rd_state),               \
                              .init = rd_init_##sym, .layout = rd_layout,                 \
                              .infer = rd_infer, .setup = rd_setup, .run = rd_run,        \
                              .release = rd_release};
#define RD_ARG_KERNEL(sym, onnx, kind)                                                    \
  static onnxi_status rd_init_##sym(op_context *ctx, void *state) {                       \
    return rd_arg_init(ctx, state, kind);                                                 \
  }                                                                                       \
  const op_kernel op_##sym = {.name = onnx, .state_size = sizeof(rd_state),               \
                              .init = rd_init_##sym, .layout = rd_arg_layout,             \
                              .infer = rd_arg_infer, .setup = rd_arg_setup,               \
                              .run = rd_arg_run, .release = rd_release};

RD_KERNEL(reduce_sum, "ReduceSum", RD_SUM)
RD_KERNEL(reduce_mean, "ReduceMean", RD_MEAN)
RD_KERNEL(reduce_max, "ReduceMax", RD_MAX)
RD_KERNEL(reduce_min, "ReduceMin", RD_MIN)
RD_KERNEL(reduce_prod, "ReduceProd", RD_PROD)
RD_KERNEL(reduce_sum_square, "ReduceSumSquare", RD_SUMSQ)
RD_KERNEL(reduce_l1, "ReduceL1", RD_L1)
RD_KERNEL(reduce_l2, "ReduceL2", RD_L2)
RD_KERNEL(reduce_log_sum, "ReduceLogSum", RD_LOGSUM)
RD_KERNEL(reduce_log_sum_exp, "ReduceLogSumExp", RD_LSE)
RD_ARG_KERNEL(argmax, "ArgMax", RD_ARGMAX)
RD_ARG_KERNEL(argmin, "ArgMin", RD_ARGMIN)

/* --- CumSum: running sums along one axis (exclusive and/or reverse) ------------------------
 * Floats accumulate in double, integers in uint64 (wrapping like numpy). */

typedef struct cumsum_state {
  int64_t exclusive, reverse;
  size_t outer, n, inner;
} cumsum_state;

static onnxi_status cumsum_init(op_context *ctx, void *state) {
  cumsum_state *s = state;
  onnxi_status st = op_io_check(ctx, 2, 2, 1, 1);
  if (st == ONNXI_OK) st = rd_attr_bool(ctx, "exclusive", 0, &s->exclusive);
  if (st == ONNXI_OK) st = rd_attr_bool(ctx, "reverse", 0, &s->reverse);
  return st;
}

static bool cumsum_is_float(int32_t dt) {
  return dt == ONNXI_DTYPE_FLOAT || dt == ONNXI_DTYPE_DOUBLE || dt == ONNXI_DTYPE_FLOAT16 ||
         dt == ONNXI_DTYPE_BFLOAT16;
}

static onnxi_status cumsum_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                                 op_tensor *const *out, int n_out) {
  (void)n_in, (void)n_out;
  cumsum_state *s = state;
  const op_tensor *x = in[0], *a = in[1];
  int32_t dt = x->dtype;
  if (!cumsum_is_float(dt) && dt != ONNXI_DTYPE_INT32 && dt != ONNXI_DTYPE_INT64 &&
      dt != ONNXI_DTYPE_UINT32 && dt != ONNXI_DTYPE_UINT64)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input dtype %s is not supported",
                    onnxi_dtype_name((onnxi_dtype)dt));
  if ((a->dtype != ONNXI_DTYPE_INT32 && a->dtype != ONNXI_DTYPE_INT64) || a->rank > 1 ||
      (a->rank == 1 && a->dims[0] != 1))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'axis' must be one int32 or int64");
  const void *data;
  onnxi_status st = op_tensor_plan_value(ctx, a, 1, &data);
  if (st != ONNXI_OK) return st;
  op_tensor av = *a;
  av.data = (void *)data;
  int axis;
  st = op_axis_normalize(ctx, "input 'axis'", op_tensor_int_at(&av, 0), x->rank, &axis);
  if (st != ONNXI_OK) return st;
  s->outer = s->n = s->inner = 1;
  for (int d = 0; d < x->rank; d++)
    *(d < axis ? &s->outer : d == axis ? &s->n : &s->inner) *= (size_t)x->dims[d];
  op_tensor_like(out[0], x);
  out[0]->layout = IR_LAYOUT_PLAIN;
  return ONNXI_OK;
}

static double cumsum_getf(const op_tensor *t, size_t i) {
  switch (t->dtype) {
  case ONNXI_DTYPE_FLOAT: return ((const float *)t->data)[i];
  case ONNXI_DTYPE_DOUBLE: return ((const double *)t->data)[i];
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(((const uint16_t *)t->data)[i]);
  default: return op_bf16_to_f32(((const uint16_t *)t->data)[i]);
  }
}

static void cumsum_putf(op_tensor *t, size_t i, double v) {
  switch (t->dtype) {
  case ONNXI_DTYPE_FLOAT: ((float *)t->data)[i] = (float)v; break;
  case ONNXI_DTYPE_DOUBLE: ((double *)t->data)[i] = v; break;
  case ONNXI_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = op_f32_to_f16((float)v); break;
  default: ((uint16_t *)t->data)[i] = op_f32_to_bf16((float)v); break;
  }
}

static uint64_t cumsum_geti(const op_tensor *t, size_t i) {
  switch (t->dtype) {
  case ONNXI_DTYPE_INT32: return (uint64_t)(int64_t)((const int32_t *)t->data)[i];
  case ONNXI_DTYPE_UINT32: return ((const uint32_t *)t->data)[i];
  default: return ((const uint64_t *)t->data)[i]; /* int64 / uint64 bits */
  }
}

static void cumsum_puti(op_tensor *t, size_t i, uint64_t v) {
  switch (t->dtype) {
  case ONNXI_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)(uint32_t)v; break;
  case ONNXI_DTYPE_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)v; break;
  default: ((uint64_t *)t->data)[i] = v; break;
  }
}

static onnxi_status cumsum_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  (void)ctx, (void)n_in, (void)n_out;
  const cumsum_state *s = state;
  bool fl = cumsum_is_float(in[0]->dtype);
  for (size_t o = 0; o < s->outer; o++) {
    for (size_t i = 0; i < s->inner; i++) {
      double af = 0;
      uint64_t ai = 0;
      for (size_t k = 0; k < s->n; k++) {
        size_t kk = s->reverse ? s->n - 1 - k : k, at = (o * s->n + kk) * s->inner + i;
        if (fl) {
          double v = cumsum_getf(in[0], at);
          if (!s->exclusive) af += v;
          cumsum_putf(out[0], at, af);
          if (s->exclusive) af += v;
        } else {
          uint64_t v = cumsum_geti(in[0], at);
          if (!s->exclusive) ai += v;
          cumsum_puti(out[0], at, ai);
          if (s->exclusive) ai += v;
        }
      }
    }
  }
  return ONNXI_OK;
}

/* In place is safe: each element is read before it is written. */
const op_kernel op_cumsum = {.name = "CumSum",
                             .state_size = sizeof(cumsum_state),
                             .flags = OP_KERNEL_INPLACE,
                             .init = cumsum_init,
                             .infer = cumsum_infer,
                             .run = cumsum_run};

/* --- TopK: the k largest (or smallest) of each slice along an axis --------------------------
 * Each slice is sorted as (value, index) pairs, ties by lower index first as the spec asks;
 * values are copied as stored, so ordering alone goes through double. */

typedef struct topk_entry {
  double v;
  int64_t i;
} topk_entry;

typedef struct topk_state {
  int64_t axis, largest, sorted;
  int64_t k;
  size_t outer, n, inner;
  topk_entry *buf;
  size_t buf_cap;
} topk_state;

static onnxi_status topk_init(op_context *ctx, void *state) {
  topk_state *s = state;
  int n_in = ctx->opset < 10 ? 1 : 2; /* opset 1-9: K is attribute 'k' */
  onnxi_status st = op_io_check(ctx, n_in, n_in, 2, 2);
  if (st == ONNXI_OK && n_in == 1) st = op_attr_int(ctx, "k", -1, &s->k);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "axis", -1, &s->axis);
  if (st == ONNXI_OK) st = rd_attr_bool(ctx, "largest", 1, &s->largest);
  if (st == ONNXI_OK) st = rd_attr_bool(ctx, "sorted", 1, &s->sorted);
  return st;
}

static onnxi_status topk_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  (void)n_out;
  topk_state *s = state;
  const op_tensor *x = in[0];
  int32_t dt = x->dtype;
  if (dt <= 0 || dt >= RD_DTYPE_SLOTS || !rd_tab_sum[dt].init)
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "dtype %s is not supported",
                    onnxi_dtype_name((onnxi_dtype)dt));
  int axis;
  onnxi_status st = op_axis_normalize(ctx, "attribute 'axis'", s->axis, x->rank, &axis);
  if (st != ONNXI_OK) return st;
  if (n_in > 1) {
    const op_tensor *k = in[1];
    const void *data;
    if (k->dtype != ONNXI_DTYPE_INT64 || k->rank != 1 || k->dims[0] != 1)
      return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'K' must be a 1-element int64 tensor");
    st = op_tensor_plan_value(ctx, k, 1, &data);
    if (st != ONNXI_OK) return st;
    memcpy(&s->k, data, sizeof s->k);
  }
  if (s->k < 0 || s->k > x->dims[axis])
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "K = %lld is not in [0, %lld]",
                    (long long)s->k, (long long)x->dims[axis]);
  s->outer = s->n = s->inner = 1;
  for (int d = 0; d < x->rank; d++)
    *(d < axis ? &s->outer : d == axis ? &s->n : &s->inner) *= (size_t)x->dims[d];
  for (int j = 0; j < 2; j++) {
    out[j]->dtype = j ? ONNXI_DTYPE_INT64 : dt;
    out[j]->rank = x->rank;
    memcpy(out[j]->dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    out[j]->dims[axis] = s->k;
    out[j]->layout = IR_LAYOUT_PLAIN;
  }
  return ONNXI_OK;
}

static onnxi_status topk_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  (void)in, (void)n_in, (void)out, (void)n_out;
  topk_state *s = state;
  size_t need = sizeof(topk_entry) * (s->n ? s->n : 1);
  if (need <= s->buf_cap) return ONNXI_OK;
  free(s->buf);
  s->buf = malloc(need);
  s->buf_cap = s->buf ? need : 0;
  return s->buf ? ONNXI_OK : op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory");
}

static int topk_cmp_largest(const void *pa, const void *pb) {
  const topk_entry *a = pa, *b = pb;
  if (a->v != b->v) return a->v > b->v ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

static int topk_cmp_smallest(const void *pa, const void *pb) {
  const topk_entry *a = pa, *b = pb;
  if (a->v != b->v) return a->v < b->v ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

/* Element i of any numeric dtype as double (for ordering only). */
static double topk_value(const op_tensor *x, size_t i) {
  const void *p = (const char *)x->data + i * ir_dtype_size(x->dtype);
  switch (x->dtype) {
  case ONNXI_DTYPE_FLOAT: return *(const float *)p;
  case ONNXI_DTYPE_DOUBLE: return *(const double *)p;
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(*(const uint16_t *)p);
  case ONNXI_DTYPE_BFLOAT16: return op_bf16_to_f32(*(const uint16_t *)p);
  case ONNXI_DTYPE_UINT64: return (double)*(const uint64_t *)p;
  default: return (double)op_tensor_int_at(x, (int64_t)i);
  }
}

static onnxi_status topk_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  (void)ctx, (void)n_in, (void)n_out;
  topk_state *s = state;
  const op_tensor *x = in[0];
  size_t es = ir_dtype_size(x->dtype), k = (size_t)s->k;
  for (size_t o = 0; o < s->outer; o++) {
    for (size_t i = 0; i < s->inner; i++) {
      for (size_t j = 0; j < s->n; j++) {
        s->buf[j].v = topk_value(x, (o * s->n + j) * s->inner + i);
        s->buf[j].i = (int64_t)j;
      }
      qsort(s->buf, s->n, sizeof *s->buf, s->largest ? topk_cmp_largest : topk_cmp_smallest);
      for (size_t j = 0; j < k; j++) {
        size_t dst = (o * k + j) * s->inner + i;
        size_t src = (o * s->n + (size_t)s->buf[j].i) * s->inner + i;
        memcpy((char *)out[0]->data + dst * es, (const char *)x->data + src * es, es);
        ((int64_t *)out[1]->data)[dst] = s->buf[j].i;
      }
    }
  }
  return ONNXI_OK;
}

static void topk_release(void *state) {
  topk_state *s = state;
  free(s->buf);
}

/* sorted = 0 may return any order: sorted order is one of them. */
const op_kernel op_topk = {.name = "TopK",
                           .state_size = sizeof(topk_state),
                           .init = topk_init,
                           .infer = topk_infer,
                           .setup = topk_setup,
                           .run = topk_run,
                           .release = topk_release};
