/* conv_dw.c's row-strip kernel, written once for both vector widths:
 * conv_dw.c includes this file twice, with DWT_NAME (a suffix), DWT_T (the
 * target), DWT_V, DWT_M and DWT_L (vector type, mask type and lanes) and
 * the DWT_ operations defined for AVX-512 and for AVX2. Blocks are DWT_L
 * channels; W is [block][tap][DWT_L] and the bias [blocks * DWT_L], zero
 * past c, both aligned. */

/* Lanes of block cb inside c. */
DWT_T DWT_M DWT_NAME(dwt_mask)(const conv_dw *d, int64_t cb) {
  return DWT_MASK(d->c - cb * DWT_L);
}

/* Output pixel ox's channels from off on (a block's start): epilogue, store. */
DWT_T void DWT_NAME(dwt_store)(const conv_dw *d, const dw_row *row, DWT_V v, int64_t ox,
                               int64_t off, DWT_M mask, const bool full) {
  off += ox * d->c;
  if (row->res) v = DWT_ADD(v, DWT_LOAD(row->res + off, mask, full));
  v = DWT_MIN(DWT_SET1(d->ep.hi), DWT_MAX(DWT_SET1(d->ep.lo), v));
  DWT_STORE(row->y + off, mask, full, DWT_ACT(d->ep.act, v));
}

#define DWT_EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DWT_INIT(j) DWT_V acc##j = b;
#define DWT_FMA_J(j) \
  if (j < DW_STRIP) acc##j = DWT_FMA(DWT_LOAD(xr + j * step, mask, full), wv, acc##j);
#define DWT_STORE_J(j) DWT_NAME(dwt_store)(d, row, acc##j, ox + j, off, mask, full);

/* DW_STRIP pixels from ox on, every tap inside the input, channel block cb. */
DWT_T void DWT_NAME(dwt_strip)(const conv_dw *d, const dw_row *row, int64_t ox, int64_t cb,
                               const bool full) {
  const conv_gemm_shape *sh = &d->sh;
  int64_t c = d->c, step = sh->sw * c, off = cb * DWT_L;
  DWT_M mask = DWT_NAME(dwt_mask)(d, cb);
  DWT_V b = DWT_ALOAD(d->bias + off);
  DWT_EACH(DWT_INIT)
  for (int64_t ky = row->ky0; ky < row->ky1; ky++) {
    const float *xr = row->x + ((row->iy0 + ky * sh->dh) * sh->iw + ox * sh->sw - sh->pl) * c + off;
    const float *w = d->w + (cb * d->kh + ky) * d->kw * DWT_L;
    for (int64_t kx = 0; kx < d->kw; kx++, xr += sh->dw * c, w += DWT_L) {
      DWT_V wv = DWT_ALOAD(w);
      DWT_EACH(DWT_FMA_J)
    }
  }
  /* The input rows the next output row adds: its loads then hit cache
   * (XNNPACK streams whole pixels; a strip reads one block of many). */
  for (int64_t iy = row->iy0 + d->kh * sh->dh; iy < row->iy0 + d->kh * sh->dh + sh->sh; iy++) {
    if (iy >= sh->ih) break;
    const float *xr = row->x + (iy * sh->iw + ox * sh->sw - sh->pl) * c + off;
    for (int64_t p = 0; p < DW_STRIP * sh->sw; p++) _mm_prefetch((const char *)(xr + p * c), _MM_HINT_T0);
  }
  DWT_EACH(DWT_STORE_J)
}

#define DWT_EACH_BLOCK(X) X(0) X(1) X(2) X(3)
#define DWT_PINIT(j) DWT_V acc##j = j < nb ? DWT_ALOAD(d->bias + off + j * DWT_L) : b0;
#define DWT_PFMA(j)                                                                     \
  if (j < nb)                                                                           \
    acc##j = DWT_FMA(DWT_LOAD(xp + j * DWT_L, mask, full), DWT_ALOAD(wp + j * wstep), acc##j);
#define DWT_PSTORE(j) \
  if (j < nb) DWT_NAME(dwt_store)(d, row, acc##j, ox, off + j * DWT_L, mask, full);

/* Pixel ox, channel blocks cb .. cb + nb (nb a constant at each call, at
 * most DW_PIXEL_BLOCKS), over the taps inside the input. */
DWT_T void DWT_NAME(dwt_pixel)(const conv_dw *d, const dw_row *row, int64_t ox, int64_t cb,
                               const int nb, const bool full) {
  const conv_gemm_shape *sh = &d->sh;
  int64_t c = d->c, ix0 = ox * sh->sw - sh->pl, kx0 = 0, kx1 = d->kw, off = cb * DWT_L;
  int64_t wstep = d->kh * d->kw * DWT_L;
  while (kx0 < kx1 && ix0 + kx0 * sh->dw < 0) kx0++;
  while (kx1 > kx0 && ix0 + (kx1 - 1) * sh->dw >= sh->iw) kx1--;
  DWT_M mask = DWT_NAME(dwt_mask)(d, cb);
  DWT_V b0 = DWT_ZERO();
  DWT_EACH_BLOCK(DWT_PINIT)
  for (int64_t ky = row->ky0; ky < row->ky1; ky++) {
    const float *xr = row->x + ((row->iy0 + ky * sh->dh) * sh->iw + ix0) * c + off;
    const float *w = d->w + cb * wstep + ky * d->kw * DWT_L;
    for (int64_t kx = kx0; kx < kx1; kx++) {
      const float *xp = xr + kx * sh->dw * c, *wp = w + kx * DWT_L;
      DWT_EACH_BLOCK(DWT_PFMA)
    }
  }
  DWT_EACH_BLOCK(DWT_PSTORE)
}

/* Pixel ox, blocks [b0, b1): 4 at a time, a partial last block alone. */
DWT_T void DWT_NAME(dwt_pixel_blocks)(const conv_dw *d, const dw_row *row, int64_t ox,
                                      int64_t b0, int64_t b1) {
  int64_t full_end = d->c / DWT_L < b1 ? d->c / DWT_L : b1, cb = b0;
  for (; cb + DW_PIXEL_BLOCKS <= full_end; cb += DW_PIXEL_BLOCKS)
    DWT_NAME(dwt_pixel)(d, row, ox, cb, DW_PIXEL_BLOCKS, true);
  for (; cb < full_end; cb++) DWT_NAME(dwt_pixel)(d, row, ox, cb, 1, true);
  if (cb < b1) DWT_NAME(dwt_pixel)(d, row, ox, cb, 1, false);
}

/* Output row r (of n * oh), channel blocks [b0, b1): pixel-major, so the
 * blocks of a pixel read and write whole cache lines one after the other. */
DWT_T void DWT_NAME(dwt_item)(const conv_dw *d, int64_t r, int64_t b0, int64_t b1) {
  dw_row row;
  int64_t lo, hi, ox = 0, full_end = d->c / DWT_L < b1 ? d->c / DWT_L : b1;
  dw_row_of(d, r, &row, &lo, &hi);
  for (; ox < lo; ox++) DWT_NAME(dwt_pixel_blocks)(d, &row, ox, b0, b1);
  for (; ox + DW_STRIP <= hi; ox += DW_STRIP) {
    int64_t cb = b0;
    for (; cb < full_end; cb++) DWT_NAME(dwt_strip)(d, &row, ox, cb, true);
    if (cb < b1) DWT_NAME(dwt_strip)(d, &row, ox, cb, false);
  }
  for (; ox < d->sh.ow; ox++) DWT_NAME(dwt_pixel_blocks)(d, &row, ox, b0, b1);
}

/* Chunk i of the (row, block group) items, row-major. */
DWT_TF static void DWT_NAME(dwt_chunk)(void *arg, size_t i) {
  const conv_dw *d = arg;
  int64_t items = d->sh.n * d->sh.oh * d->groups;
  int64_t i0 = items * (int64_t)i / d->chunks, i1 = items * ((int64_t)i + 1) / d->chunks;
  for (int64_t k = i0; k < i1; k++) {
    int64_t g = k % d->groups;
    DWT_NAME(dwt_item)(d, k / d->groups, d->blocks * g / d->groups,
                       d->blocks * (g + 1) / d->groups);
  }
}

#undef DWT_EACH
#undef DWT_INIT
#undef DWT_FMA_J
#undef DWT_STORE_J
#undef DWT_EACH_BLOCK
#undef DWT_PINIT
#undef DWT_PFMA
#undef DWT_PSTORE
