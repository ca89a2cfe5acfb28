/* Depthwise NHWC convolution for large filters (see conv_dw.h). */
#include "conv_dw.h"

#include <stdlib.h>
#include <string.h>

#include "conv_util.h"

enum { DW_TAPS_XNN_MAX = 25, DW_BLOCK = 64 };

struct conv_dw {
  int64_t c, kh, kw;
  float lo, hi;
  float *w;    /* [kh][kw][c] */
  float *bias; /* [c] */
  conv_gemm_shape sh;
  const float *x;
  float *y;
};

bool conv_dw_wanted(int64_t group, int64_t c, int64_t m, int64_t kh, int64_t kw) {
  const char *env = getenv("ONNXI_DWCONV");
  if (env && !strcmp(env, "xnn")) return false;
  return group > 1 && group == c && m == c && kh * kw > DW_TAPS_XNN_MAX;
}

onnxi_status conv_dw_create(const op_context *ctx, const float *w, const int64_t *ws,
                            const float *b, int64_t c, int64_t kh, int64_t kw, float lo, float hi,
                            conv_dw **out) {
  *out = NULL;
  conv_dw *d = calloc(1, sizeof *d);
  size_t taps = (size_t)(kh * kw);
  if (d) d->w = malloc(sizeof(float) * taps * (size_t)c + 1);
  if (d) d->bias = calloc((size_t)c + 1, sizeof(float));
  if (!d || !d->w || !d->bias) {
    conv_dw_destroy(d);
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory packing depthwise weights");
  }
  d->c = c, d->kh = kh, d->kw = kw, d->lo = lo, d->hi = hi;
  for (int64_t ch = 0; ch < c; ch++) {
    for (int64_t ky = 0; ky < kh; ky++)
      for (int64_t kx = 0; kx < kw; kx++)
        d->w[(ky * kw + kx) * c + ch] = w[ch * ws[0] + ky * ws[2] + kx * ws[3]];
    if (b) d->bias[ch] = b[ch];
  }
  *out = d;
  return ONNXI_OK;
}

void conv_dw_setup(conv_dw *d, const conv_gemm_shape *sh, const float *x, float *y) {
  d->sh = *sh;
  d->x = x;
  d->y = y;
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

void conv_dw_run(conv_dw *d, pthreadpool_t pool) {
  conv_parallelize(pool, dw_rows, d, (size_t)(d->sh.n * d->sh.oh));
}

void conv_dw_destroy(conv_dw *d) {
  if (!d) return;
  free(d->w);
  free(d->bias);
  free(d);
}
