/* Branch-free float32 math for elementwise kernels (unary.c, softmax.c).
 *
 * libm's expf/logf/tanhf/erff are scalar calls that stop the compiler from
 * vectorising a loop; these are plain arithmetic plus selects on the bit
 * pattern, so a loop over them vectorises. Accuracy is about 1-3 ulp over the
 * whole float range (checked against double libm in tests/test_ops_unary.c);
 * NaN and infinities follow C99 Annex F. Range reduction uses the usual
 * Cody-Waite split of ln 2; polynomials are truncated Taylor/atanh series and
 * the Abramowitz-Stegun 7.1.26 form of erfc. Math facts only, no borrowed code. */
#ifndef ONNXI_OPS_UNARY_MATH_H
#define ONNXI_OPS_UNARY_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t um_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static inline float um_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* c ? a : b without a branch. With -ftrapping-math (GCC's default) the
 * compiler may not evaluate a floating-point arm speculatively, so a `?:`
 * whose arms compute anything keeps a loop scalar; a bit select does not. */
static inline float um_self(int c, float a, float b) {
  uint32_t m = 0u - (uint32_t)(c != 0);
  return um_float((um_bits(a) & m) | (um_bits(b) & ~m));
}

static inline double um_seld(int c, double a, double b) {
  uint64_t m = 0u - (uint64_t)(c != 0), ua, ub;
  memcpy(&ua, &a, sizeof ua);
  memcpy(&ub, &b, sizeof ub);
  ua = (ua & m) | (ub & ~m);
  memcpy(&a, &ua, sizeof a);
  return a;
}

static inline float um_absf(float x) { return um_float(um_bits(x) & 0x7fffffffu); }

/* |t| with the sign of s (copysign without the libm call). */
static inline float um_signf(float t, float s) {
  return um_float((um_bits(t) & 0x7fffffffu) | (um_bits(s) & 0x80000000u));
}

/* 2^n for integer-valued n in [-126, 127]. */
static inline float um_pow2i(int32_t n) { return um_float((uint32_t)(n + 127) << 23); }

/* Splits x = n*ln2 + r, |r| <= ln2/2, n integral; x clamped so that n fits
 * the two-step scaling used by the callers. Rounding uses the 1.5*2^23
 * trick rather than a float->int conversion (undefined for NaN). */
static inline float um_exp_reduce(float x, int32_t *n) {
  const float magic = 12582912.0f; /* 1.5 * 2^23 */
  x = um_self(x < -104.0f, -104.0f, x);
  x = um_self(x > 89.0f, 89.0f, x);
  float k = x * 1.44269504f + magic;
  *n = (int32_t)(um_bits(k) - um_bits(magic));
  k -= magic;
  return (x - k * 0.693145752f) - k * 1.42860677e-6f; /* ln2 split hi + lo */
}

/* e^r - 1 for |r| <= ln2/2: Taylor series to r^7 (relative error < 2e-8). */
static inline float um_expm1_poly(float r) {
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  return (p * r * r) + r;
}

static inline float um_expf(float x) {
  int32_t n;
  float r = um_exp_reduce(x, &n);
  float p = um_expm1_poly(r) + 1.0f;
  int32_t n1 = n / 2; /* two steps keep both scale factors normal */
  float y = p * um_pow2i(n1) * um_pow2i(n - n1);
  return um_self(x != x, x, y);
}

/* e^x - 1, accurate near 0 (Elu, Selu, Tanh). */
static inline float um_expm1f(float x) {
  int32_t n;
  float r = um_exp_reduce(x, &n);
  float q = um_expm1_poly(r);
  int32_t n1 = n / 2;
  float s1 = um_pow2i(n1), s2 = um_pow2i(n - n1);
  /* 2^n * (q + 1) - 1 = 2^n * q + (2^n - 1): exact for n == 0; for large n
   * the -1 vanishes and 2^n alone could overflow, so scale step by step */
  float y = (q * s1 * s2) + (s1 * s2 - 1.0f);
  y = um_self(x > 24.0f, (q + 1.0f) * s1 * s2, y);
  y = um_self(x < -17.0f, -1.0f, y);
  return um_self(x != x || x == 0.0f, x, y); /* keeps NaN and -0 */
}

/* Natural log. Subnormals are scaled up first; x < 0 gives NaN, 0 gives
 * -inf, +inf stays. */
static inline float um_logf(float x) {
  int32_t sub = x < 1.17549435e-38f;
  float xs = um_self(sub, x * 8388608.0f, x); /* 2^23 */
  uint32_t u = um_bits(xs);
  int32_t e = (int32_t)((u >> 23) & 0xff) - 127 - 23 * sub;
  float m = um_float((u & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
  int32_t big = m > 1.41421356f;
  m = um_self(big, m * 0.5f, m);
  e += big;
  /* log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716 */
  float f = m - 1.0f;
  float s = f / (2.0f + f), s2 = s * s;
  float p = 1.0f / 11;
  p = p * s2 + 1.0f / 9;
  p = p * s2 + 1.0f / 7;
  p = p * s2 + 1.0f / 5;
  p = p * s2 + 1.0f / 3;
  float lm = f - s * (f - 2.0f * s2 * p); /* = 2s + 2s^3 p, rearranged for precision */
  float fe = (float)e;
  float y = fe * 0.693145752f + (lm + fe * 1.42860677e-6f);
  y = um_self(x == 0.0f, -INFINITY, y);
  y = um_self(x < 0.0f, NAN, y);
  y = um_self(x == INFINITY, x, y);
  return um_self(x != x, x, y);
}

/* log(1 + x) accurate for small x: log(u) * x / (u - 1) with u = 1 + x
 * cancels the rounding of u. */
static inline float um_log1pf(float x) {
  float u = 1.0f + x;
  float d = u - 1.0f;
  float l = um_logf(u);
  float y = um_self(d == 0.0f, x, l * (x / d));
  y = um_self(u == INFINITY, u, y);
  return um_self(x != x, x, y);
}

static inline float um_tanhf(float x) {
  float a = um_absf(x);
  a = um_self(a > 9.0f, 9.0f, a); /* tanh(9) rounds to 1 */
  float em = um_expm1f(2.0f * a);
  float t = em / (em + 2.0f);
  return um_self(x != x, x, um_signf(t, x));
}

/* log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|). */
static inline float um_softplusf(float x) {
  float m = um_self(x > 0.0f, x, 0.0f);
  float y = m + um_log1pf(um_expf(-um_absf(x)));
  return um_self(x != x, x, y);
}

static inline float um_erff(float x) {
  float a = um_absf(x);
  a = um_self(a > 10.0f, 10.0f, a);
  float z = a * a;
  /* |x| <= 1: Maclaurin series, coefficients (-1)^n / (n! (2n + 1)) */
  float p = 1.0f / 76204800;
  p = p * z - 1.0f / 6894720;
  p = p * z + 1.0f / 685440;
  p = p * z - 1.0f / 75600;
  p = p * z + 1.0f / 9360;
  p = p * z - 1.0f / 1320;
  p = p * z + 1.0f / 216;
  p = p * z - 1.0f / 42;
  p = p * z + 1.0f / 10;
  p = p * z - 1.0f / 3;
  p = p * z + 1.0f;
  float small = 1.12837917f * a * p; /* 2 / sqrt(pi) */
  /* |x| > 1: A&S 7.1.26, erf = 1 - t q(t) e^(-x^2), abs. error < 1.5e-7 */
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float q = 1.061405429f;
  q = q * t - 1.453152027f;
  q = q * t + 1.421413741f;
  q = q * t - 0.284496736f;
  q = q * t + 0.254829592f;
  float large = 1.0f - q * t * um_expf(-z);
  float y = um_self(a <= 1.0f, small, large);
  return um_self(x != x, x, um_signf(y, x));
}

#endif
