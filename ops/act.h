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

/* x / (1 + e^-x). e^-x = 2^k e^r with k = round(-x log2 e), r = -x - k ln2
 * (one FMA), e^r by a degree-5 polynomial fitted for relative error on
 * |r| <= ln2/2 (1.05e-7), 2^k by one vscalefps: ~14 instructions per 16
 * values, 1.7-1.9 ns against 2.8 for the degree-7 Taylor form with two-part
 * ln2 it replaced; largest relative error over [-100, 100] 4.2e-7 (3.5e-7
 * before; float expf's own is in both). x is clamped for the exponent
 * only: +inf gives inf, -inf NaN (e^89 overflows), as x * sigmoid(x) does. */
OP_ACT512 __m512 op_act512_swish(__m512 v) {
  const __m512 one = _mm512_set1_ps(1.0f);
  /* constants first: max/min return the second operand on NaN */
  __m512 xc = _mm512_min_ps(_mm512_set1_ps(104.0f), _mm512_max_ps(_mm512_set1_ps(-89.0f), v));
  __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(-1.44269504f)),
                                  _MM_FROUND_TO_NEAREST_INT);
  __m512 r = _mm512_fnmsub_ps(k, _mm512_set1_ps(0.693147181f), xc); /* -(k ln2) - xc */
  __m512 p = _mm512_set1_ps(8.312525451e-03f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.189011513e-02f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.666711447e-01f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.999923178e-01f));
  p = _mm512_fmadd_ps(p, r, one);
  p = _mm512_fmadd_ps(p, r, one); /* e^r */
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

#define OP_ACT256 __attribute__((target("avx2,fma"), always_inline)) static inline

/* op_act512_swish for AVX2 + FMA: the same polynomial; 2^k is built in the
 * exponent field, in two halves, as k spans [-150, 128] and one power of
 * two covers [-126, 127] only. */
OP_ACT256 __m256 op_act256_swish(__m256 v) {
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 xc = _mm256_min_ps(_mm256_set1_ps(104.0f), _mm256_max_ps(_mm256_set1_ps(-89.0f), v));
  __m256 k = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(-1.44269504f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmsub_ps(k, _mm256_set1_ps(0.693147181f), xc);
  __m256 p = _mm256_set1_ps(8.312525451e-03f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.189011513e-02f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.666711447e-01f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.999923178e-01f));
  p = _mm256_fmadd_ps(p, r, one);
  p = _mm256_fmadd_ps(p, r, one);
  __m256i ki = _mm256_cvtps_epi32(k), k1 = _mm256_srai_epi32(ki, 1);
  __m256i k2 = _mm256_sub_epi32(ki, k1), bias = _mm256_set1_epi32(127);
  __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
  __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
  return _mm256_div_ps(v, _mm256_add_ps(one, _mm256_mul_ps(_mm256_mul_ps(p, s1), s2)));
}

OP_ACT256 __m256 op_act256_hard_swish(__m256 v) {
  __m256 g = _mm256_fmadd_ps(v, _mm256_set1_ps(1.0f / 6), _mm256_set1_ps(0.5f));
  g = _mm256_min_ps(_mm256_max_ps(g, _mm256_setzero_ps()), _mm256_set1_ps(1.0f));
  return _mm256_mul_ps(v, g);
}

OP_ACT256 __m256 op_act256(int act, __m256 v) {
  if (act == OP_ACT_SWISH) return op_act256_swish(v);
  if (act == OP_ACT_HARD_SWISH) return op_act256_hard_swish(v);
  return v;
}
#endif

#endif
