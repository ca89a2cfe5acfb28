/* Loads and stores of 16 floats for the own AVX-512 kernels, masked only
 * when the mask leaves lanes out. On Zen 5 the masked forms cost more even
 * with every lane set: the Swish pass over EfficientNet-B0's activations
 * took 1.65 ms with them and 1.20 without, the depthwise row strips of
 * conv_dw.c 1.6-1.9x as long. */
#ifndef ONNXI_OPS_SIMD512_H
#define ONNXI_OPS_SIMD512_H

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define OP_SIMD512 __attribute__((target("avx512f"), always_inline)) static inline

OP_SIMD512 __m512 op_load16(const float *p, __mmask16 m) {
  return m == 0xffff ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}

OP_SIMD512 void op_store16(float *p, __mmask16 m, __m512 v) {
  if (m == 0xffff) _mm512_storeu_ps(p, v);
  else _mm512_mask_storeu_ps(p, m, v);
}
#endif

#endif
