/* Dense 2-D convolution as SGEMM through BLIS (see conv_gemm.h). */
#include "conv_gemm.h"

#ifdef ONNXI_HAVE_BLAS

#include <blis.h>
#include <stdlib.h>
#include <string.h>

/* im2col scratch per thread, in floats: large enough that BLIS's repacking
 * of B per call stays small against the GEMM itself, small enough to stay
 * near L2 and keep peak RSS modest. */
#define CONV_GEMM_SCRATCH_FLOATS (256 * 1024)
#define CONV_GEMM_MIN_ROWS 64
/* Below this reduction length BLIS runs faster on the transposed problem
 * (Y^T = B^T A^T) on Zen 3, measured on ResNet/MobileNet shapes. */
#define CONV_GEMM_SWAP_K 512
#define CONV_GEMM_MAX_SLICES 64

struct conv_gemm {
  int64_t c, m, group, cg, mg, kh, kw, k; /* k = kh*kw*cg */
  float *w;                               /* [group][k][mg] */
  float *bias;                            /* [m] or NULL */
  float lo, hi;
  bool clamp;
  /* plan */
  conv_gemm_shape sh;
  const float *x;
  float *y;
  bool direct; /* 1x1, stride 1, no pad: A is X itself */
  int64_t rows, chunk;
  float *scratch;
  size_t scratch_floats, scratch_cap;
  int slices;
};

/* XNNPACK (Debian's 2022 build) has AVX-512F GEMM kernels that run dense
 * convs at 50-85 GFLOP/s on Zen 4, ahead of BLIS's AVX2 kernels (measured
 * per layer, ResNet-50 shapes); without AVX-512 it falls back to an FMA3
 * kernel that spills (~33 GFLOP/s on Zen 3) where BLIS reaches 50-100. */
static bool conv_gemm_cpu_prefers_blas(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  return !__builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

bool conv_gemm_wanted(int64_t group, int64_t k, int64_t mg) {
  const char *env = getenv("ONNXI_CONV");
  if (env && !strcmp(env, "xnn")) return false;
  if (env && !strcmp(env, "blas")) return true;
  bool avx2 = env && !strcmp(env, "avx2"); /* as on an AVX2 CPU (conv_igemm.c) */
  return (avx2 || conv_gemm_cpu_prefers_blas()) && group == 1 && k >= 16 && mg >= 16;
}

onnxi_status conv_gemm_create(const op_context *ctx, const float *w, const int64_t *ws,
                              const float *b, int64_t c, int64_t m, int64_t group, int64_t kh,
                              int64_t kw, float lo, float hi, conv_gemm **out) {
  conv_gemm *g = calloc(1, sizeof *g);
  if (!g) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for the conv GEMM");
  g->c = c, g->m = m, g->group = group, g->cg = c / group, g->mg = m / group;
  g->kh = kh, g->kw = kw, g->k = kh * kw * g->cg;
  g->lo = lo, g->hi = hi;
  g->clamp = lo > -__builtin_inff() || hi < __builtin_inff();
  g->w = malloc(sizeof(float) * (size_t)(g->k * m) + 1);
  g->bias = b ? malloc(sizeof(float) * (size_t)m) : NULL;
  if (!g->w || (b && !g->bias)) {
    conv_gemm_destroy(g);
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory packing conv weights");
  }
  if (b) memcpy(g->bias, b, sizeof(float) * (size_t)m);
  /* B[grp][(ky*kw + kx)*cg + ci][o] = W[grp*mg + o][ci][ky][kx]: im2col order */
  for (int64_t o = 0; o < m; o++) {
    int64_t grp = o / g->mg, oo = o - grp * g->mg;
    float *dst = g->w + grp * g->k * g->mg + oo;
    for (int64_t ky = 0; ky < kh; ky++)
      for (int64_t kx = 0; kx < kw; kx++)
        for (int64_t ci = 0; ci < g->cg; ci++)
          dst[((ky * kw + kx) * g->cg + ci) * g->mg] =
              w[o * ws[0] + ci * ws[1] + ky * ws[2] + kx * ws[3]];
  }
  *out = g;
  return ONNXI_OK;
}

void conv_gemm_destroy(conv_gemm *cg) {
  if (!cg) return;
  free(cg->w);
  free(cg->bias);
  free(cg->scratch);
  free(cg);
}

const char *conv_gemm_path(const conv_gemm *cg) {
  return cg->direct ? "blas-gemm" : "blas-im2col";
}

onnxi_status conv_gemm_setup(const op_context *ctx, conv_gemm *cg, const conv_gemm_shape *sh,
                             const float *x, float *y) {
  size_t threads = ctx->threadpool ? pthreadpool_get_threads_count(ctx->threadpool) : 1;
  cg->sh = *sh;
  cg->x = x, cg->y = y;
  cg->rows = sh->n * sh->oh * sh->ow;
  cg->direct = cg->kh == 1 && cg->kw == 1 && sh->sh == 1 && sh->sw == 1 && sh->pt == 0 &&
               sh->pl == 0 && sh->oh == sh->ih && sh->ow == sh->iw;
  /* one slice per thread, unless that leaves slivers of rows */
  int64_t slices = (int64_t)threads;
  while (slices > 1 && cg->rows / slices < CONV_GEMM_MIN_ROWS / 2) slices--;
  if (slices > CONV_GEMM_MAX_SLICES) slices = CONV_GEMM_MAX_SLICES;
  cg->slices = (int)(slices > 0 ? slices : 1);
  int64_t per = (cg->rows + cg->slices - 1) / cg->slices;
  cg->chunk = per;
  cg->scratch_floats = 0;
  if (cg->direct) return ONNXI_OK;
  int64_t cap = CONV_GEMM_SCRATCH_FLOATS / cg->k;
  if (cap < CONV_GEMM_MIN_ROWS) cap = CONV_GEMM_MIN_ROWS;
  if (cg->chunk > cap) cg->chunk = cap;
  cg->scratch_floats = (size_t)(cg->chunk * cg->k);
  size_t need = cg->scratch_floats * (size_t)cg->slices;
  if (need > cg->scratch_cap) {
    free(cg->scratch);
    cg->scratch = malloc(sizeof(float) * need);
    cg->scratch_cap = cg->scratch ? need : 0;
    if (!cg->scratch)
      return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for %zu floats of im2col scratch",
                      need);
  }
  return ONNXI_OK;
}

/* Gathers output rows [p0, p0 + rows) of group grp into a [rows x k] A. */
static void conv_gemm_im2col(const conv_gemm *cg, int64_t grp, int64_t p0, int64_t rows,
                             float *a) {
  const conv_gemm_shape *s = &cg->sh;
  int64_t pix = s->oh * s->ow, cgc = cg->cg, c = cg->c;
  bool whole_rows = cg->group == 1 && s->dw == 1; /* a kernel row is kw*c contiguous floats */
  for (int64_t r = 0; r < rows; r++) {
    int64_t p = p0 + r, b = p / pix, oy = (p % pix) / s->ow, ox = p % s->ow;
    int64_t ix0 = ox * s->sw - s->pl;
    float *dst = a + r * cg->k;
    for (int64_t ky = 0; ky < cg->kh; ky++, dst += cg->kw * cgc) {
      int64_t iy = oy * s->sh - s->pt + ky * s->dh;
      if (iy < 0 || iy >= s->ih) {
        memset(dst, 0, sizeof(float) * (size_t)(cg->kw * cgc));
        continue;
      }
      const float *src = cg->x + ((b * s->ih + iy) * s->iw) * c + grp * cgc;
      if (whole_rows && ix0 >= 0 && ix0 + cg->kw <= s->iw) {
        memcpy(dst, src + ix0 * c, sizeof(float) * (size_t)(cg->kw * c));
        continue;
      }
      for (int64_t kx = 0; kx < cg->kw; kx++) {
        int64_t ix = ix0 + kx * s->dw;
        if (ix < 0 || ix >= s->iw)
          memset(dst + kx * cgc, 0, sizeof(float) * (size_t)cgc);
        else
          memcpy(dst + kx * cgc, src + ix * c, sizeof(float) * (size_t)cgc);
      }
    }
  }
}

/* Y[rows x mg] (row stride m) = A[rows x k] (row stride lda) * B[k x mg]. */
static void conv_gemm_call(const conv_gemm *cg, const float *a, int64_t lda, const float *b,
                           float *y, int64_t rows) {
  float one = 1.0f, zero = 0.0f;
  /* BLIS's unpacked "sup" kernels for skinny shapes only win with operands
   * already in cache; a network's layers arrive cold, so always pack. */
  rntm_t rntm = BLIS_RNTM_INITIALIZER;
  bli_rntm_disable_l3_sup(&rntm);
  if (cg->k < CONV_GEMM_SWAP_K) /* Y^T = B^T A^T */
    bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, cg->mg, rows, cg->k, &one, (float *)b, 1,
                 cg->mg, (float *)a, 1, lda, &zero, y, 1, cg->m, NULL, &rntm);
  else
    bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, rows, cg->mg, cg->k, &one, (float *)a, lda,
                 1, (float *)b, cg->mg, 1, &zero, y, cg->m, 1, NULL, &rntm);
}

/* Bias and clamp over rows of Y while they are in cache. */
static void conv_gemm_epilogue(const conv_gemm *cg, float *y, int64_t rows) {
  if (!cg->bias && !cg->clamp) return;
  float lo = cg->lo, hi = cg->hi;
  for (int64_t r = 0; r < rows; r++, y += cg->m) {
    if (cg->bias)
      for (int64_t o = 0; o < cg->m; o++)
        y[o] += cg->bias[o];
    if (cg->clamp)
      for (int64_t o = 0; o < cg->m; o++) {
        float v = y[o] < lo ? lo : y[o];
        y[o] = v > hi ? hi : v;
      }
  }
}

static void conv_gemm_slice(void *arg, size_t slice) {
  conv_gemm *cg = arg;
  int64_t per = (cg->rows + cg->slices - 1) / cg->slices;
  int64_t p = (int64_t)slice * per, end = p + per < cg->rows ? p + per : cg->rows;
  float *a = cg->scratch ? cg->scratch + slice * cg->scratch_floats : NULL;
  for (; p < end; p += cg->chunk) {
    int64_t rows = end - p < cg->chunk ? end - p : cg->chunk;
    float *y = cg->y + p * cg->m;
    for (int64_t grp = 0; grp < cg->group; grp++) {
      const float *b = cg->w + grp * cg->k * cg->mg;
      if (cg->direct) {
        conv_gemm_call(cg, cg->x + p * cg->c + grp * cg->cg, cg->c, b, y + grp * cg->mg, rows);
        continue;
      }
      conv_gemm_im2col(cg, grp, p, rows, a);
      conv_gemm_call(cg, a, cg->k, b, y + grp * cg->mg, rows);
    }
    conv_gemm_epilogue(cg, y, rows);
  }
}

void conv_gemm_sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t a_rs,
                     int64_t a_cs, const float *b, int64_t b_rs, int64_t b_cs, float *y,
                     int64_t y_rs) {
  float zero = 0.0f;
  rntm_t rntm = BLIS_RNTM_INITIALIZER;
  bli_rntm_disable_l3_sup(&rntm);
  bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, (float *)a, a_rs, a_cs,
               (float *)b, b_rs, b_cs, &zero, y, y_rs, 1, NULL, &rntm);
}

/* BLIS (AVX2 or AVX-512 kernels by CPU) outruns the own 6x16 AVX2 tile
 * (~53 GFLOP/s) once a product has ~1M multiply-adds (its packing costs). */
bool conv_gemm_sgemm_wanted(int64_t m, int64_t n, int64_t k) {
  const char *env = getenv("ONNXI_GEMM");
  if (env && !strcmp(env, "own")) return false;
  if (env && !strcmp(env, "blas")) return m > 0 && n > 0 && k > 0;
  return m >= 16 && n >= 16 && k >= 16 && (double)m * (double)n * (double)k >= 1048576.0;
}

void conv_gemm_run(conv_gemm *cg, pthreadpool_t pool) {
  if (cg->rows <= 0) return;
  if (cg->slices == 1 || !pool) {
    for (int i = 0; i < cg->slices; i++)
      conv_gemm_slice(cg, (size_t)i);
    return;
  }
  pthreadpool_parallelize_1d(pool, conv_gemm_slice, cg, (size_t)cg->slices, 0);
}

#endif
