/* The AVX2 + FMA tile of the own conv kernels on x86-64 CPUs without
 * AVX-512 (conv_igemm.c's dense convs, conv_grouped.c's groups of 8 or
 * more): 6 output pixels x 16 output channels, 12 sums in ymm0-ymm11.
 * Zen 3's two FMA pipes of latency 4 want 8 or more independent sums;
 * 12 leave 4 registers for two weight vectors and two broadcasts. */
#ifndef ONNXI_OPS_TILE256_H
#define ONNXI_OPS_TILE256_H

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "act.h"
#include "conv_gemm.h"

#define T256_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline

enum {
  T256_MR = 6,      /* pixels per tile */
  T256_NR = 16,     /* channels per tile: two ymm */
  T256_TAB = 12,    /* pointers per tap in the tables (CONV_IGEMM_MR) */
};

/* Lanes below n (of 8) set, as AVX2's masked loads and stores want. */
T256_INLINE __m256i t256_mask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 0 ? 0 : n < 8 ? n : 8)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

T256_INLINE __m256 t256_load(const float *p, __m256i m, bool full) {
  return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

T256_INLINE void t256_store(float *p, __m256i m, bool full, __m256 v) {
  if (full) _mm256_storeu_ps(p, v);
  else _mm256_maskstore_ps(p, m, v);
}

/* One reduction step j in asm: two weight vectors, per row a broadcast of
 * its input element for both (dense: one group's 16 outputs) or one for
 * each half (pair: two groups of 8, the second's inputs 8 floats on). Row
 * r's sums are ymm 2r and 2r + 1; r8-r13 hold the rows' input pointers. */
#define T256_ROW(j, reg, lo, hi)                                  \
  "vbroadcastss " #j "*4(%%" #reg "), %%ymm14\n\t"                \
  "vfmadd231ps %%ymm12, %%ymm14, %%ymm" #lo "\n\t"                \
  "vfmadd231ps %%ymm13, %%ymm14, %%ymm" #hi "\n\t"
#define T256_ROW2(j, reg, lo, hi)                                 \
  "vbroadcastss " #j "*4(%%" #reg "), %%ymm14\n\t"                \
  "vbroadcastss " #j "*4+32(%%" #reg "), %%ymm15\n\t"             \
  "vfmadd231ps %%ymm12, %%ymm14, %%ymm" #lo "\n\t"                \
  "vfmadd231ps %%ymm13, %%ymm15, %%ymm" #hi "\n\t"
#define T256_STEP(R, j)                                           \
  "vmovaps " #j "*64(%[w]), %%ymm12\n\t"                          \
  "vmovaps " #j "*64+32(%[w]), %%ymm13\n\t"                       \
  R(j, r8, 0, 1) R(j, r9, 2, 3) R(j, r10, 4, 5)                   \
  R(j, r11, 6, 7) R(j, r12, 8, 9) R(j, r13, 10, 11)
#define T256_BUMP(n)                                                       \
  "add $" #n "*4, %%r8\n\tadd $" #n "*4, %%r9\n\tadd $" #n "*4, %%r10\n\t" \
  "add $" #n "*4, %%r11\n\tadd $" #n "*4, %%r12\n\tadd $" #n "*4, %%r13\n\t" \
  "add $" #n "*64, %[w]\n\t"

/* The whole reduction: per tap, six row pointers from the table (plus
 * `in` bytes), then four steps per pointer bump and a prefetch of pf as
 * it advances pfs bytes a step (the next panel's share, conv_igemm.c). */
#define T256_LOOP(R)                                                          \
  "vmovaps %[b0], %%ymm0\n\tvmovaps %[b1], %%ymm1\n\t"                       \
  "vmovaps %%ymm0, %%ymm2\n\tvmovaps %%ymm1, %%ymm3\n\t"                      \
  "vmovaps %%ymm0, %%ymm4\n\tvmovaps %%ymm1, %%ymm5\n\t"                      \
  "vmovaps %%ymm0, %%ymm6\n\tvmovaps %%ymm1, %%ymm7\n\t"                      \
  "vmovaps %%ymm0, %%ymm8\n\tvmovaps %%ymm1, %%ymm9\n\t"                      \
  "vmovaps %%ymm0, %%ymm10\n\tvmovaps %%ymm1, %%ymm11\n\t"                    \
  "1:\n\t"                                                                    \
  "mov 0(%[tab]), %%r8\n\tmov 8(%[tab]), %%r9\n\tmov 16(%[tab]), %%r10\n\t"  \
  "mov 24(%[tab]), %%r11\n\tmov 32(%[tab]), %%r12\n\tmov 40(%[tab]), %%r13\n\t" \
  "add %[in], %%r8\n\tadd %[in], %%r9\n\tadd %[in], %%r10\n\t"                \
  "add %[in], %%r11\n\tadd %[in], %%r12\n\tadd %[in], %%r13\n\t"              \
  "add $96, %[tab]\n\t"                                                       \
  "mov %[klen], %%r14\n\t"                                                    \
  "cmp $4, %%r14\n\tjb 3f\n\t"                                                \
  "2:\n\t"                                                                    \
  "prefetcht1 (%[pf])\n\tprefetcht1 (%[pf], %[pfs], 2)\n\t"                   \
  T256_STEP(R, 0) T256_STEP(R, 1) T256_STEP(R, 2) T256_STEP(R, 3)             \
  T256_BUMP(4)                                                                \
  "lea (%[pf], %[pfs], 4), %[pf]\n\t"                                         \
  "sub $4, %%r14\n\tcmp $4, %%r14\n\tjae 2b\n\t"                              \
  "3:\n\t"                                                                    \
  "test %%r14, %%r14\n\tjz 5f\n\t"                                            \
  "4:\n\t"                                                                    \
  "prefetcht1 (%[pf])\n\t"                                                    \
  T256_STEP(R, 0) T256_BUMP(1)                                                \
  "add %[pfs], %[pf]\n\t"                                                     \
  "dec %%r14\n\tjnz 4b\n\t"                                                   \
  "5:\n\t"                                                                    \
  "dec %[taps]\n\tjnz 1b\n\t"

_Static_assert(T256_TAB * sizeof(float *) == 96, "the asm steps 96 bytes of table per tap");

/* acc = bias + sum over taps t < ktaps and k < klen of a[t][r][in + k] *
 * w[t][k][...], w packed [tap][k][16] (64-byte aligned), for 6 rows r.
 * In asm: GCC's code for the same intrinsics bumped six pointers a step
 * (~70 GFLOP/s on Zen 3), and unrolled it spilled sums to the stack; this
 * loop reached 83-91 of the core's ~92 in a micro-benchmark (K = 256, L2). */
T256_INLINE void t256_reduce(const float *const *a, int64_t ktaps, int64_t klen, int64_t in,
                             const float *w, const float *bias, const char *pf, int64_t pfs,
                             const bool pair, __m256 *acc0, __m256 *acc1) {
  register __m256 c0 __asm__("ymm0"), c1 __asm__("ymm1"), c2 __asm__("ymm2"),
      c3 __asm__("ymm3"), c4 __asm__("ymm4"), c5 __asm__("ymm5"), c6 __asm__("ymm6"),
      c7 __asm__("ymm7"), c8 __asm__("ymm8"), c9 __asm__("ymm9"), c10 __asm__("ymm10"),
      c11 __asm__("ymm11");
  int64_t in_bytes = in * (int64_t)sizeof(float);
#define T256_OPERANDS                                                                    \
  : "=x"(c0), "=x"(c1), "=x"(c2), "=x"(c3), "=x"(c4), "=x"(c5), "=x"(c6), "=x"(c7),      \
    "=x"(c8), "=x"(c9), "=x"(c10), "=x"(c11), [tab] "+r"(a), [taps] "+r"(ktaps),          \
    [w] "+r"(w), [pf] "+r"(pf)                                                            \
  : [klen] "m"(klen), [in] "m"(in_bytes), [pfs] "r"(pfs),                 \
    [b0] "m"(*(const __m256 *)bias), [b1] "m"(*(const __m256 *)(bias + 8))       \
  : "r8", "r9", "r10", "r11", "r12", "r13", "r14", "xmm12", "xmm13", "xmm14", "xmm15", "cc", \
    "memory"
  if (pair)
    __asm__ volatile(T256_LOOP(T256_ROW2) T256_OPERANDS);
  else
    __asm__ volatile(T256_LOOP(T256_ROW) T256_OPERANDS);
#undef T256_OPERANDS
  acc0[0] = c0, acc1[0] = c1, acc0[1] = c2, acc1[1] = c3, acc0[2] = c4, acc1[2] = c5;
  acc0[3] = c6, acc1[3] = c7, acc0[4] = c8, acc1[4] = c9, acc0[5] = c10, acc1[5] = c11;
}

/* t256_reduce for 8 channels, the first half of each packed [k][16] row
 * (a last panel or group of at most 8): intrinsics suffice. */
T256_INLINE void t256_reduce8(const float *const *a, int64_t ktaps, int64_t klen, int64_t in,
                              const float *w, const float *bias, __m256 *acc) {
  __m256 b = _mm256_load_ps(bias);
  acc[0] = acc[1] = acc[2] = acc[3] = acc[4] = acc[5] = b;
  for (int64_t t = 0; t < ktaps; t++, a += T256_TAB) {
    const float *a0 = a[0] + in, *a1 = a[1] + in, *a2 = a[2] + in, *a3 = a[3] + in,
                *a4 = a[4] + in, *a5 = a[5] + in;
    for (int64_t k = 0; k < klen; k++, w += T256_NR) {
      __m256 wk = _mm256_load_ps(w);
      acc[0] = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + k), wk, acc[0]);
      acc[1] = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + k), wk, acc[1]);
      acc[2] = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + k), wk, acc[2]);
      acc[3] = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + k), wk, acc[3]);
      acc[4] = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + k), wk, acc[4]);
      acc[5] = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + k), wk, acc[5]);
    }
  }
}

/* The tile leaving the registers: rows < rows of 8 * nv channels, those
 * past cols masked; Y's and R's rows ldy floats apart. In the epilogue's
 * order (conv_gemm.h): add R (NULL: none), clamp (max(lo, v) then
 * min(hi, v): NaN propagates), activation. Constant row indices only: a
 * loop over acc made GCC keep the sums in memory. */
T256_INLINE void t256_store_tile(__m256 *acc0, __m256 *acc1, const int nv, int64_t rows,
                                 int64_t cols, float *y, const float *res, int64_t ldy,
                                 const conv_epilogue *ep) {
  __m256 lo = _mm256_set1_ps(ep->lo), hi = _mm256_set1_ps(ep->hi);
  const int act = ep->act;
  bool f0 = cols >= 8, f1 = cols >= 16;
  __m256i m0 = t256_mask(cols), m1 = t256_mask(cols - 8);
#define T256_RES(r)                                                                    \
  if (r < rows) {                                                                      \
    acc0[r] = _mm256_add_ps(acc0[r], t256_load(res + r * ldy, m0, f0));                \
    if (nv == 2) acc1[r] = _mm256_add_ps(acc1[r], t256_load(res + r * ldy + 8, m1, f1)); \
  }
#define T256_OUT(r)                                                                     \
  if (r < rows) {                                                                       \
    float *yr = y + r * ldy;                                                            \
    t256_store(yr, m0, f0, op_act256(act, _mm256_min_ps(hi, _mm256_max_ps(lo, acc0[r])))); \
    if (nv == 2)                                                                        \
      t256_store(yr + 8, m1, f1,                                                        \
                 op_act256(act, _mm256_min_ps(hi, _mm256_max_ps(lo, acc1[r]))));        \
  }
  /* every residual load before the first store (conv_igemm.c: 4 KB aliasing) */
  if (res) {
    T256_RES(0) T256_RES(1) T256_RES(2) T256_RES(3) T256_RES(4) T256_RES(5)
  }
  T256_OUT(0) T256_OUT(1) T256_OUT(2) T256_OUT(3) T256_OUT(4) T256_OUT(5)
#undef T256_RES
#undef T256_OUT
}
#endif

#endif
