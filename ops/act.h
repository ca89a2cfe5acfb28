/* Activations a producer applies to its own output (the conv-act pass sets
 * them on Conv as attribute onnxi.activation): in the own AVX-512 conv
 * epilogues while the tile is in registers, or as one in-place pass after
 * a path that cannot (XNNPACK). The clamp, if any, comes first. */
#ifndef ONNXI_OPS_ACT_H
#define ONNXI_OPS_ACT_H

#include <stddef.h>

typedef enum op_act {
  OP_ACT_NONE = 0,
  OP_ACT_SWISH = 1,      /* x * sigmoid(x): onnxi.Swish */
  OP_ACT_HARD_SWISH = 2, /* x * clamp(x / 6 + 1/2, 0, 1): HardSwish */
  OP_ACT_COUNT
} op_act;

/* "Swish", "HardSwish", or "" for OP_ACT_NONE and unknown values. */
const char *op_act_name(int act);
/* y[0..n) = act(y[0..n)), vectorised for the CPU (ops/unary.c). */
void op_act_inplace(int act, float *y, size_t n);

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define OP_ACT512 __attribute__((target("avx512f"), always_inline)) static inline

/* x / (1 + e^-x), e^-x as um_expf computes it (range reduction, degree-7
 * Taylor polynomial) with 2^k applied by one vscalefps: ~16 instructions
 * per 16 values. +inf gives inf, -inf NaN, as x * sigmoid(x) does. */
OP_ACT512 __m512 op_act512_swish(__m512 v) {
  const __m512 one = _mm512_set1_ps(1.0f);
  __m512 t = _mm512_sub_ps(_mm512_setzero_ps(), v);
  /* constants first: max/min return the second operand on NaN */
  t = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), t));
  __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(1.44269504f)),
                                  _MM_FROUND_TO_NEAREST_INT);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860677e-6f),
                              _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145752f), t));
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, one)); /* e^r */
  return _mm512_div_ps(v, _mm512_add_ps(one, _mm512_scalef_ps(p, k)));
}

/* x * min(max(x / 6 + 1/2, 0), 1); NaN stays NaN (the gate's max and min
 * keep it, as the scalar CLAMP01 does not: x * anything is NaN anyway). */
OP_ACT512 __m512 op_act512_hard_swish(__m512 v) {
  __m512 g = _mm512_fmadd_ps(v, _mm512_set1_ps(1.0f / 6), _mm512_set1_ps(0.5f));
  g = _mm512_min_ps(_mm512_max_ps(g, _mm512_setzero_ps()), _mm512_set1_ps(1.0f));
  return _mm512_mul_ps(v, g);
}

/* act(v) for an act known at each call site (the epilogues branch once per tile). */
OP_ACT512 __m512 op_act512(int act, __m512 v) {
  if (act == OP_ACT_SWISH) return op_act512_swish(v);
  if (act == OP_ACT_HARD_SWISH) return op_act512_hard_swish(v);
  return v;
}
#endif

#endif
