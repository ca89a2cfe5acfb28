/* Depthwise NHWC convolution: every filter on AVX-512 CPUs, filters over
 * 25 taps elsewhere (see conv_dw.h). */
#include "conv_dw.h"

#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "arena.h"
#include "conv_igemm.h"
#include "conv_util.h"

#ifdef ONNXI_HAVE_IGEMM
#include <immintrin.h>
#endif

enum {
  DW_TAPS_XNN_MAX = 25, /* XNNPACK's unipass kernels stop here */
  DW_BLOCK = 64,        /* generic loop: channels of one pixel in registers */
  DW_LANES = 16,        /* AVX-512 kernel: channels per block, one zmm */
  DW_STRIP = 8,         /* ... output pixels per strip, one accumulator each */
  DW_ITEMS_PER_THREAD = 8, /* ... (row, block group) items per thread, at the least */
  DW_ROWS_MIN_PIXELS = 56 * 56 + 1, /* ... and, with no activation to fuse, output pixels */
};

struct conv_dw {
  int64_t c, kh, kw;
  float lo, hi;
  float *w;    /* generic loop: [kh][kw][c] */
  float *bias; /* [c], or [blocks * 16] (zero past c) for the AVX-512 kernel */
  conv_gemm_shape sh;
  const float *x;
  float *y;
  bool wide;      /* the AVX-512 kernel runs: w is [block][tap][16], zero past c */
  int64_t blocks; /* 16-channel blocks of c */
  conv_epilogue ep;
  int64_t groups; /* block groups per row: items are (row, group) */
  int64_t chunks; /* runs of items, one per thread */
};

bool conv_dw_wide(void) {
#ifdef ONNXI_HAVE_IGEMM
  return conv_igemm_wide();
#else
  return false;
#endif
}

bool conv_dw_wanted(int64_t group, int64_t c, int64_t m, int64_t kh, int64_t kw) {
  const char *env = getenv("ONNXI_DWCONV");
  if (env && !strcmp(env, "xnn")) return false;
  return group > 1 && group == c && m == c && (conv_dw_wide() || kh * kw > DW_TAPS_XNN_MAX);
}

/* Row strips against XNNPACK at 1 thread where it fuses the activation
 * too: MobileNet v2's 32x112x112 (Relu6) 0.125 vs 0.182 ms, 56x56 maps
 * 1.08-1.12x slower, 28x28 ones 1.07-1.2x; MobileNet v3's 16x112x112
 * (Relu) 0.062 vs 0.129, its 56x56 ones 0.91-1.09x. */
bool conv_dw_rows_fit(int64_t taps, int64_t pixels, int act) {
  return act != OP_ACT_NONE || taps > DW_TAPS_XNN_MAX || pixels >= DW_ROWS_MIN_PIXELS;
}

bool conv_dw_fuses_epilogue(const conv_dw *d) { return d->wide; }

/* The generic loop's layout, [tap][c]. */
static void dw_pack_taps(conv_dw *d, const float *w, const int64_t *ws, const float *b) {
  for (int64_t ch = 0; ch < d->c; ch++) {
    for (int64_t ky = 0; ky < d->kh; ky++)
      for (int64_t kx = 0; kx < d->kw; kx++)
        d->w[(ky * d->kw + kx) * d->c + ch] = w[ch * ws[0] + ky * ws[2] + kx * ws[3]];
    if (b) d->bias[ch] = b[ch];
  }
}

/* The AVX-512 kernel's, [block][tap][16]: one aligned load per tap. */
static void dw_pack_blocks(conv_dw *d, const float *w, const int64_t *ws, const float *b) {
  int64_t taps = d->kh * d->kw;
  for (int64_t ch = 0; ch < d->c; ch++) {
    float *dst = d->w + ch / DW_LANES * taps * DW_LANES + ch % DW_LANES;
    for (int64_t t = 0; t < taps; t++)
      dst[t * DW_LANES] = w[ch * ws[0] + t / d->kw * ws[2] + t % d->kw * ws[3]];
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
  d->wide = conv_dw_wide();
  d->blocks = (c + DW_LANES - 1) / DW_LANES;
  size_t cp = d->wide ? (size_t)(d->blocks * DW_LANES) : (size_t)c;
  size_t wbytes = sizeof(float) * (size_t)(kh * kw) * cp;
  d->w = arena_os_alloc(wbytes);
  d->bias = arena_os_alloc(sizeof(float) * cp);
  if (!d->w || !d->bias) {
    conv_dw_destroy(d);
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory packing depthwise weights");
  }
  memset(d->w, 0, wbytes);
  memset(d->bias, 0, sizeof(float) * cp);
  if (d->wide) dw_pack_blocks(d, w, ws, b);
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
/* --- AVX-512 kernel ----------------------------------------------------------
 * Work items are (output row, group of 16-channel blocks). Along the row,
 * strips of 8 pixels whose taps all lie inside the input keep one
 * accumulator each; per tap one weight load serves the strip's 8 input
 * loads and FMAs. The other pixels (the padded edges, a strip's remainder)
 * take 4 channel blocks at a time instead, so that they too have
 * independent accumulators, over the taps inside the input. The epilogue
 * (residual, clamp, activation) runs on the registers. Loads and stores
 * are masked only in a last, partial block: on Zen 5 the masked loads made
 * the whole kernel 1.6-1.9x slower. */
#define DW_TARGET __attribute__((target("avx512f"), always_inline)) static inline

enum { DW_PIXEL_BLOCKS = 4 };

/* One output row's geometry. */
typedef struct dw_row {
  const float *x;   /* input row iy = 0 of the row's image */
  float *y;         /* the output row */
  const float *res; /* the residual at y, or NULL */
  int64_t ky0, ky1; /* taps inside the input rows */
  int64_t iy0;      /* input row of tap ky = 0 */
} dw_row;

DW_TARGET __m512 dw16_load(const float *p, __mmask16 mask, const bool full) {
  return full ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(mask, p);
}

/* Lanes of block cb inside c. */
DW_TARGET __mmask16 dw16_mask(const conv_dw *d, int64_t cb) {
  int64_t left = d->c - cb * DW_LANES;
  return left >= DW_LANES ? 0xffff : (__mmask16)((1u << left) - 1);
}

/* Output pixel ox's channels from off on (a block's start): epilogue, store. */
DW_TARGET void dw16_store(const conv_dw *d, const dw_row *row, __m512 v, int64_t ox,
                          int64_t off, __mmask16 mask, const bool full) {
  off += ox * d->c;
  if (row->res) v = _mm512_add_ps(v, dw16_load(row->res + off, mask, full));
  v = _mm512_min_ps(_mm512_set1_ps(d->ep.hi), _mm512_max_ps(_mm512_set1_ps(d->ep.lo), v));
  v = op_act512(d->ep.act, v);
  if (full) _mm512_storeu_ps(row->y + off, v);
  else _mm512_mask_storeu_ps(row->y + off, mask, v);
}

#define DW_EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DW_INIT(j) __m512 acc##j = b;
#define DW_FMA(j) \
  if (j < DW_STRIP) acc##j = _mm512_fmadd_ps(dw16_load(xr + j * step, mask, full), wv, acc##j);
#define DW_STORE(j) dw16_store(d, row, acc##j, ox + j, off, mask, full);

/* DW_STRIP pixels from ox on, every tap inside the input, channel block cb. */
DW_TARGET void dw16_strip(const conv_dw *d, const dw_row *row, int64_t ox, int64_t cb,
                          const bool full) {
  const conv_gemm_shape *sh = &d->sh;
  int64_t c = d->c, step = sh->sw * c, off = cb * DW_LANES;
  __mmask16 mask = dw16_mask(d, cb);
  __m512 b = _mm512_load_ps(d->bias + off);
  DW_EACH(DW_INIT)
  for (int64_t ky = row->ky0; ky < row->ky1; ky++) {
    const float *xr = row->x + ((row->iy0 + ky * sh->dh) * sh->iw + ox * sh->sw - sh->pl) * c + off;
    const float *w = d->w + (cb * d->kh + ky) * d->kw * DW_LANES;
    for (int64_t kx = 0; kx < d->kw; kx++, xr += sh->dw * c, w += DW_LANES) {
      __m512 wv = _mm512_load_ps(w);
      DW_EACH(DW_FMA)
    }
  }
  /* The input rows the next output row adds: its loads then hit cache
   * (XNNPACK streams whole pixels; a strip reads one block of many). */
  for (int64_t iy = row->iy0 + d->kh * sh->dh; iy < row->iy0 + d->kh * sh->dh + sh->sh; iy++) {
    if (iy >= sh->ih) break;
    const float *xr = row->x + (iy * sh->iw + ox * sh->sw - sh->pl) * c + off;
    for (int64_t p = 0; p < DW_STRIP * sh->sw; p++) _mm_prefetch((const char *)(xr + p * c), _MM_HINT_T0);
  }
  DW_EACH(DW_STORE)
}

#define DW_EACH_BLOCK(X) X(0) X(1) X(2) X(3)
#define DW_PINIT(j) __m512 acc##j = j < nb ? _mm512_load_ps(d->bias + off + j * DW_LANES) : b0;
#define DW_PFMA(j)                                                                      \
  if (j < nb)                                                                           \
    acc##j = _mm512_fmadd_ps(dw16_load(xp + j * DW_LANES, mask, full),                  \
                             _mm512_load_ps(wp + j * wstep), acc##j);
#define DW_PSTORE(j) \
  if (j < nb) dw16_store(d, row, acc##j, ox, off + j * DW_LANES, mask, full);

/* Pixel ox, channel blocks cb .. cb + nb (nb a constant at each call, at
 * most DW_PIXEL_BLOCKS), over the taps inside the input. */
DW_TARGET void dw16_pixel(const conv_dw *d, const dw_row *row, int64_t ox, int64_t cb,
                          const int nb, const bool full) {
  const conv_gemm_shape *sh = &d->sh;
  int64_t c = d->c, ix0 = ox * sh->sw - sh->pl, kx0 = 0, kx1 = d->kw, off = cb * DW_LANES;
  int64_t wstep = d->kh * d->kw * DW_LANES;
  while (kx0 < kx1 && ix0 + kx0 * sh->dw < 0) kx0++;
  while (kx1 > kx0 && ix0 + (kx1 - 1) * sh->dw >= sh->iw) kx1--;
  __mmask16 mask = dw16_mask(d, cb);
  __m512 b0 = _mm512_setzero_ps();
  DW_EACH_BLOCK(DW_PINIT)
  for (int64_t ky = row->ky0; ky < row->ky1; ky++) {
    const float *xr = row->x + ((row->iy0 + ky * sh->dh) * sh->iw + ix0) * c + off;
    const float *w = d->w + cb * wstep + ky * d->kw * DW_LANES;
    for (int64_t kx = kx0; kx < kx1; kx++) {
      const float *xp = xr + kx * sh->dw * c, *wp = w + kx * DW_LANES;
      DW_EACH_BLOCK(DW_PFMA)
    }
  }
  DW_EACH_BLOCK(DW_PSTORE)
}

/* Pixel ox, blocks [b0, b1): 4 at a time, a partial last block alone. */
DW_TARGET void dw16_pixel_blocks(const conv_dw *d, const dw_row *row, int64_t ox, int64_t b0,
                                 int64_t b1) {
  int64_t full_end = d->c / DW_LANES < b1 ? d->c / DW_LANES : b1, cb = b0;
  for (; cb + DW_PIXEL_BLOCKS <= full_end; cb += DW_PIXEL_BLOCKS)
    dw16_pixel(d, row, ox, cb, DW_PIXEL_BLOCKS, true);
  for (; cb < full_end; cb++) dw16_pixel(d, row, ox, cb, 1, true);
  if (cb < b1) dw16_pixel(d, row, ox, cb, 1, false);
}

/* The first output column whose taps all lie inside the input, and the
 * end of that run (ox_hi >= ox_lo). */
static void dw_interior(const conv_gemm_shape *sh, int64_t kw, int64_t *ox_lo, int64_t *ox_hi) {
  int64_t lo = (sh->pl + sh->sw - 1) / sh->sw, last = sh->iw - 1 + sh->pl - (kw - 1) * sh->dw;
  int64_t hi = last < 0 ? 0 : last / sh->sw + 1;
  *ox_lo = lo < sh->ow ? lo : sh->ow;
  *ox_hi = hi < *ox_lo ? *ox_lo : hi > sh->ow ? sh->ow : hi;
}

/* Output row r (of n * oh), channel blocks [b0, b1): pixel-major, so the
 * blocks of a pixel read and write whole cache lines one after the other. */
DW_TARGET void dw16_item(const conv_dw *d, int64_t r, int64_t b0, int64_t b1) {
  const conv_gemm_shape *sh = &d->sh;
  int64_t n = r / sh->oh, oy = r % sh->oh, c = d->c;
  dw_row row = {
      .x = d->x + n * sh->ih * sh->iw * c,
      .y = d->y + r * sh->ow * c,
      .iy0 = oy * sh->sh - sh->pt,
      .ky1 = d->kh,
  };
  row.res = d->ep.res ? d->ep.res + (row.y - d->y) : NULL;
  while (row.ky0 < row.ky1 && row.iy0 + row.ky0 * sh->dh < 0) row.ky0++;
  while (row.ky1 > row.ky0 && row.iy0 + (row.ky1 - 1) * sh->dh >= sh->ih) row.ky1--;
  int64_t lo, hi, ox = 0, full_end = c / DW_LANES < b1 ? c / DW_LANES : b1;
  dw_interior(sh, d->kw, &lo, &hi);
  for (; ox < lo; ox++) dw16_pixel_blocks(d, &row, ox, b0, b1);
  for (; ox + DW_STRIP <= hi; ox += DW_STRIP) {
    int64_t cb = b0;
    for (; cb < full_end; cb++) dw16_strip(d, &row, ox, cb, true);
    if (cb < b1) dw16_strip(d, &row, ox, cb, false);
  }
  for (; ox < sh->ow; ox++) dw16_pixel_blocks(d, &row, ox, b0, b1);
}

/* Chunk i of the (row, block group) items, row-major. */
__attribute__((target("avx512f"))) static void dw16_chunk(void *arg, size_t i) {
  const conv_dw *d = arg;
  int64_t items = d->sh.n * d->sh.oh * d->groups;
  int64_t i0 = items * (int64_t)i / d->chunks, i1 = items * ((int64_t)i + 1) / d->chunks;
  for (int64_t k = i0; k < i1; k++) {
    int64_t g = k % d->groups;
    dw16_item(d, k / d->groups, d->blocks * g / d->groups, d->blocks * (g + 1) / d->groups);
  }
}
#endif

void conv_dw_run(conv_dw *d, pthreadpool_t pool) {
#ifdef ONNXI_HAVE_IGEMM
  if (d->wide) {
    /* rows split in block groups where they are too few to share out */
    size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
    int64_t rows = d->sh.n * d->sh.oh, want = (int64_t)threads * DW_ITEMS_PER_THREAD;
    d->groups = threads < 2 || rows >= want ? 1 : (want + rows - 1) / rows;
    if (d->groups > d->blocks) d->groups = d->blocks;
    conv_igemm_chunks_run(pool, rows * d->groups, &d->chunks, dw16_chunk, d);
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
