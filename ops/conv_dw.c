/* Depthwise NHWC convolution: every filter on x86-64 CPUs with AVX-512,
 * filters over 25 taps elsewhere (see conv_dw.h). */
#include "conv_dw.h"

#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "arena.h"
#include "conv_igemm.h"
#include "conv_util.h"

#ifdef ONNXI_HAVE_IGEMM
#include <immintrin.h>

#include "tile256.h"
#endif

enum {
  DW_TAPS_XNN_MAX = 25, /* XNNPACK's unipass kernels stop here */
  DW_BLOCK = 64,        /* generic loop: channels of one pixel in registers */
  DW_STRIP = 8,         /* SIMD kernel: output pixels per strip, one accumulator each */
  DW_ITEMS_PER_THREAD = 8, /* ... (row, block group) items per thread, at the least */
  DW_ROWS_MIN_PIXELS = 56 * 56 + 1, /* ... and, with no activation to fuse, output pixels */
};

struct conv_dw {
  int64_t c, kh, kw;
  float lo, hi;
  float *w;    /* generic loop: [kh][kw][c] */
  float *bias; /* [c], or [blocks * lanes] (zero past c) for the SIMD kernel */
  conv_gemm_shape sh;
  const float *x;
  float *y;
  bool simd;      /* the SIMD kernel runs: w is [block][tap][lanes], zero past c */
  int64_t lanes;  /* ... 16 (AVX-512) or 8 (AVX2) channels per block */
  int64_t blocks; /* blocks of c */
  conv_epilogue ep;
  int64_t groups; /* block groups per row: items are (row, group) */
  int64_t chunks; /* runs of items, one per thread */
};

bool conv_dw_simd(void) {
#ifdef ONNXI_HAVE_IGEMM
  return conv_igemm_enabled();
#else
  return false;
#endif
}

/* The AVX-512 form of the SIMD kernel, 16 lanes (else 8). */
static bool dw_wide(void) {
#ifdef ONNXI_HAVE_IGEMM
  return conv_igemm_wide();
#else
  return false;
#endif
}

bool conv_dw_wanted(int64_t group, int64_t c, int64_t m, int64_t kh, int64_t kw) {
  const char *env = getenv("ONNXI_DWCONV");
  if (env && !strcmp(env, "xnn")) return false;
  return group > 1 && group == c && m == c && (conv_dw_simd() || kh * kw > DW_TAPS_XNN_MAX);
}

/* Row strips against XNNPACK at 1 thread where it fuses the activation
 * too: MobileNet v2's 32x112x112 (Relu6) 0.125 vs 0.182 ms, 56x56 maps
 * 1.08-1.12x slower, 28x28 ones 1.07-1.2x; MobileNet v3's 16x112x112
 * (Relu) 0.062 vs 0.129, its 56x56 ones 0.91-1.09x. On AVX2 CPUs the
 * kernel takes only the filters over 25 taps, which XNNPACK runs at a
 * tenth of its speed (ConvNeXt-Tiny's 7x7 ones, AVX2 on Zen 5, 1 thread:
 * 4.9 ms against 9.9-10.6 for the generic loop's AVX2 clone, which had
 * them before). Nothing measured there yet says the strips beat
 * XNNPACK's FMA3 kernel plus the activation pass on a 3x3 or 5x5 one
 * (on Zen 5, AVX2 strips with EfficientNet-B0's Swish fused took 3.7 ms
 * against 2.4 for XNNPACK's AVX-512 kernel and the pass). */
bool conv_dw_rows_fit(int64_t taps, int64_t pixels, int act) {
  if (taps > DW_TAPS_XNN_MAX) return true;
  return dw_wide() && (act != OP_ACT_NONE || pixels >= DW_ROWS_MIN_PIXELS);
}

bool conv_dw_fuses_epilogue(const conv_dw *d) { return d->simd; }

/* The generic loop's layout, [tap][c]. */
static void dw_pack_taps(conv_dw *d, const float *w, const int64_t *ws, const float *b) {
  for (int64_t ch = 0; ch < d->c; ch++) {
    for (int64_t ky = 0; ky < d->kh; ky++)
      for (int64_t kx = 0; kx < d->kw; kx++)
        d->w[(ky * d->kw + kx) * d->c + ch] = w[ch * ws[0] + ky * ws[2] + kx * ws[3]];
    if (b) d->bias[ch] = b[ch];
  }
}

/* The SIMD kernel's, [block][tap][lanes]: one aligned load per tap. */
static void dw_pack_blocks(conv_dw *d, const float *w, const int64_t *ws, const float *b) {
  int64_t taps = d->kh * d->kw;
  for (int64_t ch = 0; ch < d->c; ch++) {
    float *dst = d->w + ch / d->lanes * taps * d->lanes + ch % d->lanes;
    for (int64_t t = 0; t < taps; t++)
      dst[t * d->lanes] = w[ch * ws[0] + t / d->kw * ws[2] + t % d->kw * ws[3]];
    if (b) d->bias[ch] = b[ch];
  }
}

onnxi_status conv_dw_create(const op_context *ctx, const float *w, const int64_t *ws,
                            const float *b, int64_t c, int64_t kh, int64_t kw, float lo, float hi,
                            conv_dw **out) {
  *out = NULL;
  conv_dw *d = calloc(1, sizeof *d);
  if (!d) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory packing depthwise weights");
  d->c = c, d->kh = kh, d->kw = kw, d->lo = lo, d->hi = hi;
  d->simd = conv_dw_simd();
  d->lanes = dw_wide() ? 16 : 8; /* unused without the SIMD kernel */
  d->blocks = (c + d->lanes - 1) / d->lanes;
  size_t cp = d->simd ? (size_t)(d->blocks * d->lanes) : (size_t)c;
  size_t wbytes = sizeof(float) * (size_t)(kh * kw) * cp;
  d->w = arena_os_alloc(wbytes);
  d->bias = arena_os_alloc(sizeof(float) * cp);
  if (!d->w || !d->bias) {
    conv_dw_destroy(d);
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory packing depthwise weights");
  }
  memset(d->w, 0, wbytes);
  memset(d->bias, 0, sizeof(float) * cp);
  if (d->simd) dw_pack_blocks(d, w, ws, b);
  else dw_pack_taps(d, w, ws, b);
  *out = d;
  return ONNXI_OK;
}

void conv_dw_setup(conv_dw *d, const conv_gemm_shape *sh, const float *x, float *y,
                   const conv_epilogue *ep) {
  d->sh = *sh;
  d->x = x;
  d->y = y;
  d->ep = *ep;
}

/* acc[0..n) += x * w: the loop the ISA clones vectorise. */
static inline void dw_fma(float *restrict acc, const float *restrict x, const float *restrict w,
                          int64_t n) {
  for (int64_t j = 0; j < n; j++) acc[j] += x[j] * w[j];
}

/* One output pixel: channel blocks of DW_BLOCK accumulate over the valid
 * taps in a local array (registers), then clamp and store. */
OP_VECTOR_LOOP
static void dw_pixel(const conv_dw *d, int64_t n, int64_t oy, int64_t ox) {
  const conv_gemm_shape *sh = &d->sh;
  int64_t c = d->c, iy0 = oy * sh->sh - sh->pt, ix0 = ox * sh->sw - sh->pl;
  float *y = d->y + ((n * sh->oh + oy) * sh->ow + ox) * c;
  for (int64_t c0 = 0; c0 < c; c0 += DW_BLOCK) {
    int64_t cb = c - c0 < DW_BLOCK ? c - c0 : DW_BLOCK;
    float acc[DW_BLOCK];
    memcpy(acc, d->bias + c0, sizeof(float) * (size_t)cb);
    for (int64_t ky = 0; ky < d->kh; ky++) {
      int64_t iy = iy0 + ky * sh->dh;
      if (iy < 0 || iy >= sh->ih) continue;
      for (int64_t kx = 0; kx < d->kw; kx++) {
        int64_t ix = ix0 + kx * sh->dw;
        if (ix < 0 || ix >= sh->iw) continue;
        dw_fma(acc, d->x + ((n * sh->ih + iy) * sh->iw + ix) * c + c0,
               d->w + (ky * d->kw + kx) * c + c0, cb);
      }
    }
    for (int64_t j = 0; j < cb; j++) {
      float v = acc[j] < d->lo ? d->lo : acc[j];
      y[c0 + j] = v > d->hi ? d->hi : v;
    }
  }
}

/* Rows of output pixels: [start, start + count) of n * oh. */
static void dw_rows(void *arg, size_t start, size_t count) {
  const conv_dw *d = arg;
  for (size_t r = start; r < start + count; r++) {
    int64_t n = (int64_t)r / d->sh.oh, oy = (int64_t)r % d->sh.oh;
    for (int64_t ox = 0; ox < d->sh.ow; ox++) dw_pixel(d, n, oy, ox);
  }
}

#ifdef ONNXI_HAVE_IGEMM
/* --- SIMD kernel (AVX-512, or AVX2 + FMA) --------------------------------
 * Work items are (output row, group of channel blocks of one vector).
 * Along the row, strips of 8 pixels whose taps all lie inside the input
 * keep one accumulator each; per tap one weight load serves the strip's 8
 * input loads and FMAs. The other pixels (the padded edges, a strip's
 * remainder) take 4 channel blocks at a time instead, so that they too
 * have independent accumulators, over the taps inside the input. The
 * epilogue (residual, clamp, activation) runs on the registers. Loads and
 * stores are masked only in a last, partial block: on Zen 5 the masked
 * loads made the whole kernel 1.6-1.9x slower. */
enum { DW_PIXEL_BLOCKS = 4 };

/* One output row's geometry. */
typedef struct dw_row {
  const float *x;   /* input row iy = 0 of the row's image */
  float *y;         /* the output row */
  const float *res; /* the residual at y, or NULL */
  int64_t ky0, ky1; /* taps inside the input rows */
  int64_t iy0;      /* input row of tap ky = 0 */
} dw_row;

/* The first output column whose taps all lie inside the input, and the
 * end of that run (ox_hi >= ox_lo). */
static void dw_interior(const conv_gemm_shape *sh, int64_t kw, int64_t *ox_lo, int64_t *ox_hi) {
  int64_t lo = (sh->pl + sh->sw - 1) / sh->sw, last = sh->iw - 1 + sh->pl - (kw - 1) * sh->dw;
  int64_t hi = last < 0 ? 0 : last / sh->sw + 1;
  *ox_lo = lo < sh->ow ? lo : sh->ow;
  *ox_hi = hi < *ox_lo ? *ox_lo : hi > sh->ow ? sh->ow : hi;
}

/* Output row r (of n * oh): its geometry, and the run of interior columns. */
static inline void dw_row_of(const conv_dw *d, int64_t r, dw_row *row, int64_t *lo, int64_t *hi) {
  const conv_gemm_shape *sh = &d->sh;
  int64_t n = r / sh->oh, oy = r % sh->oh, c = d->c;
  *row = (dw_row){
      .x = d->x + n * sh->ih * sh->iw * c,
      .y = d->y + r * sh->ow * c,
      .iy0 = oy * sh->sh - sh->pt,
      .ky1 = d->kh,
  };
  row->res = d->ep.res ? d->ep.res + (row->y - d->y) : NULL;
  while (row->ky0 < row->ky1 && row->iy0 + row->ky0 * sh->dh < 0) row->ky0++;
  while (row->ky1 > row->ky0 && row->iy0 + (row->ky1 - 1) * sh->dh >= sh->ih) row->ky1--;
  dw_interior(sh, d->kw, lo, hi);
}

#define DWT_NAME(f) f##_512
#define DWT_T __attribute__((target("avx512f"), always_inline)) static inline
#define DWT_TF __attribute__((target("avx512f")))
#define DWT_V __m512
#define DWT_M __mmask16
#define DWT_L 16
#define DWT_MASK(left) ((left) >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (left)) - 1))
#define DWT_LOAD(p, m, full) ((full) ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p))
#define DWT_STORE(p, m, full, v) \
  ((full) ? _mm512_storeu_ps(p, v) : _mm512_mask_storeu_ps(p, m, v))
#define DWT_ALOAD _mm512_load_ps
#define DWT_FMA _mm512_fmadd_ps
#define DWT_ADD _mm512_add_ps
#define DWT_MIN _mm512_min_ps
#define DWT_MAX _mm512_max_ps
#define DWT_SET1 _mm512_set1_ps
#define DWT_ZERO _mm512_setzero_ps
#define DWT_ACT op_act512
#include "conv_dw_tile.h"
#undef DWT_NAME
#undef DWT_T
#undef DWT_TF
#undef DWT_V
#undef DWT_M
#undef DWT_L
#undef DWT_MASK
#undef DWT_LOAD
#undef DWT_STORE
#undef DWT_ALOAD
#undef DWT_FMA
#undef DWT_ADD
#undef DWT_MIN
#undef DWT_MAX
#undef DWT_SET1
#undef DWT_ZERO
#undef DWT_ACT

#define DWT_NAME(f) f##_256
#define DWT_T __attribute__((target("avx2,fma"), always_inline)) static inline
#define DWT_TF __attribute__((target("avx2,fma")))
#define DWT_V __m256
#define DWT_M __m256i
#define DWT_L 8
#define DWT_MASK t256_mask
#define DWT_LOAD(p, m, full) t256_load(p, m, full)
#define DWT_STORE(p, m, full, v) t256_store(p, m, full, v)
#define DWT_ALOAD _mm256_load_ps
#define DWT_FMA _mm256_fmadd_ps
#define DWT_ADD _mm256_add_ps
#define DWT_MIN _mm256_min_ps
#define DWT_MAX _mm256_max_ps
#define DWT_SET1 _mm256_set1_ps
#define DWT_ZERO _mm256_setzero_ps
#define DWT_ACT op_act256
#include "conv_dw_tile.h"
#endif

void conv_dw_run(conv_dw *d, pthreadpool_t pool) {
#ifdef ONNXI_HAVE_IGEMM
  if (d->simd) {
    /* rows split in block groups where they are too few to share out */
    size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
    int64_t rows = d->sh.n * d->sh.oh, want = (int64_t)threads * DW_ITEMS_PER_THREAD;
    d->groups = threads < 2 || rows >= want ? 1 : (want + rows - 1) / rows;
    if (d->groups > d->blocks) d->groups = d->blocks;
    conv_igemm_chunks_run(pool, rows * d->groups, &d->chunks,
                          d->lanes == 8 ? dwt_chunk_256 : dwt_chunk_512, d);
    return;
  }
#endif
  conv_parallelize(pool, dw_rows, d, (size_t)(d->sh.n * d->sh.oh));
}

void conv_dw_destroy(conv_dw *d) {
  if (!d) return;
  free(d->w);
  free(d->bias);
  free(d);
}
