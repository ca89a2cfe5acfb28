/* GlobalAveragePool, own AVX-512 loop (see pool_gap.h). */
#include "pool_gap.h"

#include <stdlib.h>

enum {
  POOL_GAP_CHUNKS = 8,      /* pixel blocks per image, at the most */
  POOL_GAP_PAR_MIN = 32768, /* elements below which one thread sums it all */
};

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "simd512.h"

bool pool_gap_available(void) { return __builtin_cpu_supports("avx512f"); }

/* part[0..c) = sum of pixels [p0, p1) of x (c floats per pixel), 64
 * channels (four registers) at a time, the last block masked. */
__attribute__((target("avx512f"))) static void pool_gap_sum(const float *x, int64_t c,
                                                            int64_t p0, int64_t p1,
                                                            float *part) {
  for (int64_t c0 = 0; c0 < c; c0 += 64) {
    __mmask16 m[4];
    for (int k = 0; k < 4; k++) {
      int64_t left = c - c0 - 16 * k;
      m[k] = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
    }
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t p = p0; p < p1; p++) {
      const float *row = x + p * c + c0;
      a0 = _mm512_add_ps(a0, op_load16(row, m[0]));
      a1 = _mm512_add_ps(a1, op_load16(row + 16, m[1]));
      a2 = _mm512_add_ps(a2, op_load16(row + 32, m[2]));
      a3 = _mm512_add_ps(a3, op_load16(row + 48, m[3]));
    }
    op_store16(part + c0, m[0], a0);
    op_store16(part + c0 + 16, m[1], a1);
    op_store16(part + c0 + 32, m[2], a2);
    op_store16(part + c0 + 48, m[3], a3);
  }
}
#else
bool pool_gap_available(void) { return false; }

static void pool_gap_sum(const float *x, int64_t c, int64_t p0, int64_t p1, float *part) {
  for (int64_t i = 0; i < c; i++) part[i] = 0;
  for (int64_t p = p0; p < p1; p++)
    for (int64_t i = 0; i < c; i++) part[i] += x[p * c + i];
}
#endif

onnxi_status pool_gap_setup(const op_context *ctx, pool_gap *g, const float *x, float *y,
                            int64_t n, int64_t hw, int64_t c) {
  size_t need = (size_t)n * POOL_GAP_CHUNKS * (size_t)c;
  if (need > g->part_cap) {
    free(g->part);
    g->part_cap = 0;
    g->part = malloc(sizeof(float) * need);
    if (!g->part) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for pooling sums");
    g->part_cap = need;
  }
  g->x = x, g->y = y, g->n = n, g->hw = hw, g->c = c;
  return ONNXI_OK;
}

/* Block `chunk` of every image's pixels. */
static void pool_gap_task(void *arg, size_t chunk) {
  const pool_gap *g = arg;
  int64_t p0 = (int64_t)chunk * g->hw / g->chunks, p1 = (int64_t)(chunk + 1) * g->hw / g->chunks;
  for (int64_t i = 0; i < g->n; i++)
    pool_gap_sum(g->x + i * g->hw * g->c, g->c, p0, p1,
                 g->part + ((size_t)i * POOL_GAP_CHUNKS + chunk) * (size_t)g->c);
}

void pool_gap_run(pool_gap *g, pthreadpool_t pool) {
  size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  g->chunks = 1;
  if (threads > 1 && g->n * g->hw * g->c >= POOL_GAP_PAR_MIN) {
    g->chunks = threads < POOL_GAP_CHUNKS ? (int64_t)threads : POOL_GAP_CHUNKS;
    if (g->chunks > g->hw) g->chunks = g->hw;
  }
  if (g->chunks > 1)
    pthreadpool_parallelize_1d(pool, pool_gap_task, g, (size_t)g->chunks, 0);
  else
    pool_gap_task(g, 0);
  const float scale = 1.0f / (float)g->hw;
  for (int64_t i = 0; i < g->n; i++) {
    const float *part = g->part + (size_t)i * POOL_GAP_CHUNKS * (size_t)g->c;
    for (int64_t ch = 0; ch < g->c; ch++) {
      float sum = part[ch];
      for (int64_t k = 1; k < g->chunks; k++) sum += part[k * g->c + ch];
      g->y[i * g->c + ch] = sum * scale;
    }
  }
}

void pool_gap_release(pool_gap *g) {
  free(g->part);
  g->part = NULL;
  g->part_cap = 0;
}
