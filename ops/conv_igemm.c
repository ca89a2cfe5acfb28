/* Dense NHWC convolution as an indirect GEMM, own AVX-512 tile (see conv_igemm.h). */
#include "conv_igemm.h"

#ifdef ONNXI_HAVE_IGEMM

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "arena.h"
#include "simd512.h"
#include "tile256.h"

enum {
  IG_MR = CONV_IGEMM_MR, /* output pixels per tile */
  IG_MR_SMALL = 7,       /* ... when 12 would waste rows: 7x7 maps, 49 pixels */
  IG_NR = CONV_IGEMM_NR,
  IG_MAX_TAPS = CONV_IGEMM_MAX_TAPS,
  IG2_MR = T256_MR, /* AVX2: 6 pixels x 16 channels (tile256.h) */
  IG2_NR = T256_NR,
  IG2_MIN_C = 32, /* the AVX2 tile's thresholds, as IG_MIN_* */
  IG2_MIN_C_1X1 = 8,
  IG2_MIN_M = 16,
  IG2_MIN_ROW = 8,
  IG_MIN_C = 32,    /* thinner inputs: too few FMAs per tile to pay for its setup */
  IG_MIN_M = 17,    /* one 16-wide panel: broadcasts outnumber FMAs, XNNPACK is faster */
  IG_MIN_C_ACT = 16, /* ... unless XNNPACK needs a pass of its own for the activation */
  IG_MIN_M_ACT = 16,
  IG_MIN_ROW = 16,  /* row mode: floats one kernel row covers (kw * c, kw > 1) at the least */
};

/* With fewer pixel tiles per thread than this, threads split big weights
 * by panels rather than pixels: both cores pulling every panel from DRAM
 * for 3-4 tiles each made ResNet-50's 7x7 layers scale 1.44x at 2 threads
 * (1.8x split by panels); at 14x14 (17 tiles) the pixel split was ~3%
 * faster. */
#define IG_SPLIT_PANELS_TILES 4

/* Panels of weights above this size stream from L3 anyway: walk pixel
 * tiles inside each panel so the panel stays in L2 instead. */
#define IG_PANEL_OUTER_BYTES (512 * 1024)

/* Pointer tables of a plan up to this size are built once at setup (X's
 * address is fixed per plan): building them per tile and panel took ~3% of
 * ResNet-18 at 1 thread, more where a tile runs once per panel. */
#define IG_PTRS_MAX_BYTES (8u << 20)

/* Thin inputs (RGB stems: c = 3) run in row mode: the kw taps of one
 * kernel row are kw*c contiguous floats of a copy of X padded left and
 * right, so a tile walks kh pointers of kw*c floats instead of kh*kw
 * pointers of c (ResNet's 7x7 stem: 7 of 21, not 49 of 3). The packed
 * weights are the same: (ky, kx, ci) order either way. */
struct conv_igemm {
  int64_t c, m, kh, kw, taps, panels;
  int64_t nr, mr; /* channels per panel, pixels per tile at the most: the ISA's tile */
  bool row_mode;
  int64_t ktaps, klen; /* pointers per pixel and floats per pointer */
  float *w;    /* [panel][tap][c][nr], zero past m */
  float *bias; /* [panel * nr], zero past m */
  float *zero; /* klen zeros: the input of every tap in the padding */
  float *xp;   /* row mode: X padded to iwp pixels per row */
  size_t xp_cap;
  int64_t iwp;
  const float **ptrs; /* the plan's pointer tables, tile after tile; NULL: built per tile */
  size_t ptrs_cap;
  conv_tiles t;
  bool panel_outer;
};

/* Not under ThreadSanitizer: the tasks' every weight and input read looks
 * racy to it (pthreadpool's ordering is invisible, tests/tsan.supp), and
 * symbolising each report to match the suppression made test_digits run
 * for minutes. The TSan subset runs these convs through XNNPACK instead. */
static int ig_cpu_isa(void) {
#ifdef __SANITIZE_THREAD__
  return 0;
#else
  if (__builtin_cpu_supports("avx512f")) return 512;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 256 : 0;
#endif
}

/* 512, 256 (AVX2 + FMA), or 0: none of the own kernels. ONNXI_CONV=avx2
 * caps an AVX-512 CPU at the AVX2 kernels, so that they are tested there. */
static int ig_isa(void) {
  const char *env = getenv("ONNXI_CONV");
  if (env && (!strcmp(env, "xnn") || !strcmp(env, "blas"))) return 0;
  int isa = ig_cpu_isa();
  return env && !strcmp(env, "avx2") && isa > 256 ? 256 : isa;
}

bool conv_igemm_enabled(void) { return ig_isa() != 0; }

bool conv_igemm_wide(void) { return ig_isa() == 512; }

bool conv_igemm_wanted(int64_t group, int64_t c, int64_t m, int64_t kh, int64_t kw,
                       int64_t dw, int act) {
  /* XNNPACK cannot apply Swish or HardSwish: it writes Y, then a second pass
   * reads it back. On thin convs that pass costs more than the thin tile
   * loses (EfficientNet-B0's 16->96 at 112x112 with Swish: 0.57 vs 0.61 ms
   * at 1 thread, 0.35 vs 0.55 at 2). */
  int isa = ig_isa();
  if (isa == 256) { /* no AVX-512 depthwise kernels to beat: measured per layer */
    if (group != 1 || kh > IG_MAX_TAPS || m < IG2_MIN_M) return false;
    if (c >= IG2_MIN_C || (kw == 1 && c >= IG2_MIN_C_1X1)) return kh * kw <= IG_MAX_TAPS;
    return dw == 1 && kw > 1 && kw * c >= IG2_MIN_ROW && kw * c <= 1024;
  }
  bool thin_ok = act != OP_ACT_NONE && kw == 1 && c >= IG_MIN_C_ACT;
  if (!isa || group != 1 || kh > IG_MAX_TAPS ||
      m < (act != OP_ACT_NONE ? IG_MIN_M_ACT : IG_MIN_M))
    return false;
  if (c >= IG_MIN_C || thin_ok) return kh * kw <= IG_MAX_TAPS;
  return dw == 1 && kw > 1 && kw * c >= IG_MIN_ROW && kw * c <= 1024;
}

void conv_igemm_destroy(conv_igemm *g) {
  if (!g) return;
  free(g->w);
  free(g->bias);
  free(g->zero);
  free(g->xp);
  free(g->ptrs);
  free(g);
}

/* 64-byte aligned; packed weights of 2 MB and more on huge pages */
static float *ig_alloc(size_t floats) {
  return arena_os_alloc(sizeof(float) * (floats ? floats : 1));
}

onnxi_status conv_igemm_create(const op_context *ctx, const float *w, const int64_t *ws,
                               const float *b, int64_t c, int64_t m, int64_t kh, int64_t kw,
                               conv_igemm **out) {
  *out = NULL;
  conv_igemm *g = calloc(1, sizeof *g);
  if (!g) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for the conv GEMM");
  g->c = c, g->m = m, g->kh = kh, g->kw = kw, g->taps = kh * kw;
  bool wide = conv_igemm_wide(); /* not the CPU's: ONNXI_CONV=avx2 packs for the AVX2 tile */
  g->nr = wide ? IG_NR : IG2_NR, g->mr = wide ? IG_MR : IG2_MR;
  g->panels = (m + g->nr - 1) / g->nr;
  g->row_mode = c < IG_MIN_C && kw > 1; /* 1x1: the pointers are the pixels already */
  g->ktaps = g->row_mode ? kh : kh * kw;
  g->klen = g->row_mode ? kw * c : c;
  size_t panel_floats = (size_t)(g->taps * c * g->nr);
  g->w = ig_alloc(panel_floats * (size_t)g->panels);
  g->bias = ig_alloc((size_t)(g->panels * g->nr));
  g->zero = ig_alloc((size_t)g->klen);
  if (!g->w || !g->bias || !g->zero) {
    conv_igemm_destroy(g);
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory packing conv weights");
  }
  memset(g->zero, 0, sizeof(float) * (size_t)g->klen);
  memset(g->bias, 0, sizeof(float) * (size_t)(g->panels * g->nr));
  g->t.ep = (conv_epilogue){NULL, -INFINITY, INFINITY, 0}; /* conv_igemm_rows' */
  if (b) memcpy(g->bias, b, sizeof(float) * (size_t)m);
  for (int64_t p = 0; p < g->panels; p++) {
    float *dst = g->w + (size_t)p * panel_floats;
    for (int64_t t = 0; t < g->taps; t++)
      for (int64_t ci = 0; ci < c; ci++, dst += g->nr)
        for (int64_t j = 0; j < g->nr; j++) {
          int64_t o = p * g->nr + j;
          dst[j] = o < m ? w[o * ws[0] + ci * ws[1] + (t / kw) * ws[2] + (t % kw) * ws[3]] : 0.0f;
        }
  }
  *out = g;
  return ONNXI_OK;
}

bool conv_igemm_fits(const conv_igemm *g, const conv_gemm_shape *sh) {
  /* row mode copies X padded: pads or strides past the kernel width (a
   * hostile file's 2^30 stride) would make that copy far larger than X */
  int64_t span = (sh->ow - 1) * sh->sw + g->kw;
  return !g->row_mode || (sh->sw <= g->kw && sh->pl <= g->kw && span <= sh->iw + 2 * g->kw);
}

/* Row mode's padded copy of X: [n][ih][iwp][c], iwp spanning every window. */
static onnxi_status ig_setup_rows(const op_context *ctx, conv_igemm *g) {
  const conv_gemm_shape *s = &g->t.sh;
  g->iwp = (s->ow - 1) * s->sw + g->kw;
  size_t need = (size_t)(s->n * s->ih * g->iwp * g->c);
  if (need <= g->xp_cap) return ONNXI_OK;
  free(g->xp);
  g->xp = ig_alloc(need);
  g->xp_cap = g->xp ? need : 0;
  if (!g->xp)
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for %zu floats of padded input",
                    need);
  return ONNXI_OK;
}

static void ig_rows_fill(const conv_igemm *g) {
  const conv_gemm_shape *s = &g->t.sh;
  size_t c = (size_t)g->c;
  for (int64_t r = 0; r < s->n * s->ih; r++) {
    float *dst = g->xp + (size_t)(r * g->iwp) * c;
    const float *src = g->t.x + (size_t)(r * s->iw) * c;
    int64_t lo = s->pl < g->iwp ? s->pl : g->iwp;
    int64_t n = s->iw < g->iwp - lo ? s->iw : g->iwp - lo;
    memset(dst, 0, sizeof(float) * (size_t)lo * c);
    memcpy(dst + lo * c, src, sizeof(float) * (size_t)n * c);
    memset(dst + (lo + n) * c, 0, sizeof(float) * (size_t)(g->iwp - lo - n) * c);
  }
}

static void ig_pointers_tile(const conv_igemm *g, int64_t tile, const float **a);

/* The plan's pointer tables, when they fit IG_PTRS_MAX_BYTES (and memory
 * allows; otherwise every tile builds its own as it runs). */
static void ig_setup_ptrs(conv_igemm *g) {
  size_t per = (size_t)(g->ktaps * IG_MR), n = (size_t)g->t.tiles * per;
  const char *env = getenv("ONNXI_IGEMM_TABLES"); /* "0": per tile, as a check of that path */
  if (n * sizeof *g->ptrs > IG_PTRS_MAX_BYTES || (env && !strcmp(env, "0"))) {
    free(g->ptrs);
    g->ptrs = NULL, g->ptrs_cap = 0;
    return;
  }
  if (n > g->ptrs_cap) {
    free(g->ptrs);
    g->ptrs = malloc(n * sizeof *g->ptrs);
    g->ptrs_cap = g->ptrs ? n : 0;
    if (!g->ptrs) return;
  }
  for (int64_t t = 0; t < g->t.tiles; t++) ig_pointers_tile(g, t, g->ptrs + (size_t)t * per);
}

onnxi_status conv_igemm_setup(const op_context *ctx, conv_igemm *g, const conv_gemm_shape *sh,
                              const float *x, float *y, const conv_epilogue *ep) {
  conv_tiles_bind(&g->t, sh, x, y, ep);
  if (g->mr != IG_MR) g->t.mr = g->mr, g->t.tiles = (g->t.pixels + g->mr - 1) / g->mr;
  g->panel_outer = sizeof(float) * (size_t)(g->taps * g->c * g->nr * g->panels) >
                   IG_PANEL_OUTER_BYTES;
  onnxi_status st = g->row_mode ? ig_setup_rows(ctx, g) : ONNXI_OK;
  if (st == ONNXI_OK) ig_setup_ptrs(g);
  return st;
}

/* Pixels per tile for a plan of this many output pixels: 12, or 7 where
 * 12 would waste rows (7x7 maps). */
static int64_t ig_tile_rows(int64_t pixels) {
  /* the 7-row tile is ~8% slower per row: take it where it saves more */
  int64_t big = (pixels + IG_MR - 1) / IG_MR * IG_MR;
  int64_t small = (pixels + IG_MR_SMALL - 1) / IG_MR_SMALL * IG_MR_SMALL;
  return small * 108 < big * 100 ? IG_MR_SMALL : IG_MR;
}

void conv_tiles_bind(conv_tiles *t, const conv_gemm_shape *sh, const float *x, float *y,
                     const conv_epilogue *ep) {
  t->sh = *sh;
  t->x = x;
  t->y = y;
  t->ep = *ep;
  t->pixels = sh->n * sh->oh * sh->ow;
  t->mr = ig_tile_rows(t->pixels);
  t->tiles = (t->pixels + t->mr - 1) / t->mr;
}

/* One division per tile: the pixel walk steps x, then y, then the image. */
void conv_igemm_pointers(const conv_gemm_shape *s, int64_t kh, int64_t kw, const float *x,
                         int64_t c, const float *zero, int64_t p0, int64_t rows,
                         const float **a) {
  /* rows past mr are loaded by no kernel; they repeat the last pixel too */
  int64_t pix = s->oh * s->ow, n = p0 / pix, oy = (p0 % pix) / s->ow, ox = p0 % s->ow;
  int64_t row_step = s->dh * s->iw * c, col_step = s->dw * c;
  for (int64_t r = 0; r < IG_MR; r++) {
    int64_t iy0 = oy * s->sh - s->pt, ix0 = ox * s->sw - s->pl;
    if (iy0 >= 0 && iy0 + (kh - 1) * s->dh < s->ih && ix0 >= 0 &&
        ix0 + (kw - 1) * s->dw < s->iw) {
      /* the whole window inside X (most pixels): steps, no tests */
      const float *p = x + ((n * s->ih + iy0) * s->iw + ix0) * c;
      for (int64_t ky = 0; ky < kh; ky++, p += row_step)
        for (int64_t kx = 0; kx < kw; kx++) a[(ky * kw + kx) * IG_MR + r] = p + kx * col_step;
    } else {
      for (int64_t ky = 0; ky < kh; ky++) {
        int64_t iy = iy0 + ky * s->dh;
        bool row_in = iy >= 0 && iy < s->ih;
        for (int64_t kx = 0; kx < kw; kx++) {
          int64_t ix = ix0 + kx * s->dw;
          bool in = row_in && ix >= 0 && ix < s->iw;
          a[(ky * kw + kx) * IG_MR + r] = in ? x + ((n * s->ih + iy) * s->iw + ix) * c : zero;
        }
      }
    }
    if (r + 1 >= rows) continue; /* stay on the last pixel */
    if (++ox == s->ow) {
      ox = 0;
      if (++oy == s->oh) oy = 0, n++;
    }
  }
}

/* Row mode's pointers: one per kernel row, into the padded copy. */
static void ig_pointers_rows(const conv_igemm *g, int64_t p0, int64_t rows, const float **a) {
  const conv_gemm_shape *s = &g->t.sh;
  int64_t pix = s->oh * s->ow, n = p0 / pix, oy = (p0 % pix) / s->ow, ox = p0 % s->ow;
  for (int64_t r = 0; r < IG_MR; r++) {
    for (int64_t ky = 0; ky < g->kh; ky++) {
      int64_t iy = oy * s->sh - s->pt + ky * s->dh;
      a[ky * IG_MR + r] = iy >= 0 && iy < s->ih
                              ? g->xp + ((n * s->ih + iy) * g->iwp + ox * s->sw) * g->c
                              : g->zero;
    }
    if (r + 1 >= rows) continue;
    if (++ox == s->ow) {
      ox = 0;
      if (++oy == s->oh) oy = 0, n++;
    }
  }
}

/* Tile `tile`'s pointer table, in row mode or not. */
static void ig_pointers_tile(const conv_igemm *g, int64_t tile, const float **a) {
  int64_t px = tile * g->t.mr, rows = g->t.pixels - px < g->t.mr ? g->t.pixels - px : g->t.mr;
  if (g->row_mode)
    ig_pointers_rows(g, px, rows, a);
  else
    conv_igemm_pointers(&g->t.sh, g->kh, g->kw, g->t.x, g->c, g->zero, px, rows, a);
}

#define IG_TARGET __attribute__((target("avx512f"), always_inline)) static inline

/* acc[r] += a_r[k] * w[k][0..16*nv) for one tap. */
#define IG_ROW(r)                                                     \
  if (r < mr) do {                                                    \
    __m512 v = _mm512_set1_ps(a##r[k]);                               \
    acc0[r] = _mm512_fmadd_ps(v, b0, acc0[r]);                        \
    if (nv == 2) acc1[r] = _mm512_fmadd_ps(v, b1, acc1[r]);           \
  } while (0)

/* One tile of mr pixels x 16*nv channels; stores rows < rows and channels
 * < cols. mr and nv are constants at each call, so unused rows and the
 * unused half disappear. */
IG_TARGET void ig_tile(const conv_igemm *g, const float *const *a, const float *w,
                       const float *bias, float *y, int64_t rows, int64_t cols, const char *pf,
                       int64_t pfs, const int mr, const int nv) {
  __m512 acc0[IG_MR], acc1[IG_MR];
  __m512 b0 = _mm512_load_ps(bias), b1 = nv == 2 ? _mm512_load_ps(bias + 16) : b0;
  /* the residual rows the epilogue adds are cold (written layers ago):
   * ask for them now, so they arrive while the FMAs run */
  const float *res = g->t.ep.res ? g->t.ep.res + (y - g->t.y) : NULL;
  for (int64_t r = 0; res && r < rows; r++) {
    _mm_prefetch((const char *)(res + r * g->m), _MM_HINT_T0);
    if (nv == 2) _mm_prefetch((const char *)(res + r * g->m + 16), _MM_HINT_T0);
  }
  for (int r = 0; r < IG_MR; r++) acc0[r] = b0, acc1[r] = b1;
  const int64_t c = g->klen;
  for (int64_t t = 0; t < g->ktaps; t++, a += IG_MR) {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    const float *a6 = a[6], *a7 = a[7], *a8 = a[8], *a9 = a[9], *a10 = a[10], *a11 = a[11];
    for (int64_t k = 0; k < c; k++, w += IG_NR, pf += pfs) {
      _mm_prefetch(pf, _MM_HINT_T1);
      b0 = _mm512_load_ps(w);
      if (nv == 2) b1 = _mm512_load_ps(w + 16);
      IG_ROW(0); IG_ROW(1); IG_ROW(2); IG_ROW(3); IG_ROW(4); IG_ROW(5);
      IG_ROW(6); IG_ROW(7); IG_ROW(8); IG_ROW(9); IG_ROW(10); IG_ROW(11);
    }
  }
  /* max(lo, v) then min(hi, v): x86 returns the second operand on NaN, so
   * NaN propagates as it does in the reference kernel */
  __m512 lo = _mm512_set1_ps(g->t.ep.lo), hi = _mm512_set1_ps(g->t.ep.hi);
  const int act = g->t.ep.act;
  __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
  __mmask16 m1 = cols >= 32 ? 0xffff : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
  /* every residual load before the first store: Y and R rows often sit at
   * the same offset modulo 4 KB, and a load after a store that aliases it
   * there waits for the store */
  for (int64_t r = 0; res && r < rows; r++) {
    acc0[r] = _mm512_add_ps(acc0[r], op_load16(res + r * g->m, m0));
    if (nv == 2) acc1[r] = _mm512_add_ps(acc1[r], op_load16(res + r * g->m + 16, m1));
  }
  for (int64_t r = 0; r < rows; r++, y += g->m) {
    op_store16(y, m0, op_act512(act, _mm512_min_ps(hi, _mm512_max_ps(lo, acc0[r]))));
    if (nv == 2) op_store16(y + 16, m1, op_act512(act, _mm512_min_ps(hi, _mm512_max_ps(lo, acc1[r]))));
  }
}

#define IG_TILE_FN(name, mr, nv)                                                             \
  __attribute__((target("avx512f"))) static void name(const conv_igemm *g,                 \
                                                      const float *const *a, const float *w, \
                                                      const float *bias, float *y,           \
                                                      int64_t rows, int64_t cols,            \
                                                      const char *pf, int64_t pfs) {         \
    ig_tile(g, a, w, bias, y, rows, cols, pf, pfs, mr, nv);                                  \
  }
IG_TILE_FN(ig_tile_12x32, IG_MR, 2)
IG_TILE_FN(ig_tile_12x16, IG_MR, 1)
IG_TILE_FN(ig_tile_7x32, IG_MR_SMALL, 2)
IG_TILE_FN(ig_tile_7x16, IG_MR_SMALL, 1)

/* ig_tile for AVX2 + FMA (tile256.h): 6 pixels x 8 * nv channels of a
 * 16-channel panel. */
T256_INLINE void ig2_tile(const conv_igemm *g, const float *const *a, const float *w,
                          const float *bias, float *y, int64_t rows, int64_t cols,
                          const char *pf, int64_t pfs, const int nv) {
  __m256 acc0[T256_MR], acc1[T256_MR];
  const float *res = g->t.ep.res ? g->t.ep.res + (y - g->t.y) : NULL;
  for (int64_t r = 0; res && r < rows; r++) _mm_prefetch((const char *)(res + r * g->m), _MM_HINT_T0);
  if (nv == 2) {
    t256_reduce(a, g->ktaps, g->klen, 0, w, bias, pf, pfs, false, acc0, acc1);
  } else { /* a last panel of at most 8 channels */
    t256_reduce8(a, g->ktaps, g->klen, 0, w, bias, acc0);
  }
  t256_store_tile(acc0, acc1, nv, rows, cols, y, res, g->m, &g->t.ep);
}

#define IG2_TILE_FN(name, nv)                                                              \
  __attribute__((target("avx2,fma"))) static void name(const conv_igemm *g,               \
                                                       const float *const *a,              \
                                                       const float *w, const float *bias,  \
                                                       float *y, int64_t rows, int64_t cols, \
                                                       const char *pf, int64_t pfs) {      \
    ig2_tile(g, a, w, bias, y, rows, cols, pf, pfs, nv);                                   \
  }
IG2_TILE_FN(ig2_tile_6x16, 2)
IG2_TILE_FN(ig2_tile_6x8, 1)

/* Pixel tile `tile` over panels [p0, p1), its pointer table built once.
 * With pass_tiles > 0 (panel-outer walks: this tile is number `pass` of
 * pass_tiles over the panel), the tile also prefetches its share of the
 * next panel into L2: weights past L2 stream from DRAM at 128 bytes per 24 FMAs
 * on a panel's first tile, faster than one core's DRAM bandwidth (cold,
 * ResNet-50's 512->2048 1x1 ran 40% slower than warm). */
static void ig_run_tile(const conv_igemm *g, int64_t tile, int64_t p0, int64_t p1,
                        int64_t pass, int64_t pass_tiles) {
  const float *table[IG_MAX_TAPS * IG_MR], *const *a = table;
  int64_t px = tile * g->t.mr, rows = g->t.pixels - px < g->t.mr ? g->t.pixels - px : g->t.mr;
  int64_t steps = g->ktaps * g->klen, panel_floats = steps * g->nr;
  if (g->ptrs)
    a = g->ptrs + (size_t)(tile * g->ktaps * IG_MR);
  else
    ig_pointers_tile(g, tile, table);
  for (int64_t panel = p0; panel < p1; panel++) {
    int64_t o0 = panel * g->nr, cols = g->m - o0 < g->nr ? g->m - o0 : g->nr;
    const float *w = g->w + (size_t)(panel * panel_floats);
    const float *bias = g->bias + o0;
    float *y = g->t.y + px * g->m + o0;
    const char *pf = (const char *)w;
    int64_t pfs = 0;
    if (pass_tiles && panel + 1 < g->panels) {
      pfs = (int64_t)sizeof(float) * g->nr / pass_tiles;
      pf = (const char *)(w + panel_floats) + pass * steps * pfs;
    }
    if (g->nr == IG2_NR)
      (cols > 8 ? ig2_tile_6x16 : ig2_tile_6x8)(g, a, w, bias, y, rows, cols, pf, pfs);
    else if (g->t.mr == IG_MR)
      (cols > 16 ? ig_tile_12x32 : ig_tile_12x16)(g, a, w, bias, y, rows, cols, pf, pfs);
    else
      (cols > 16 ? ig_tile_7x32 : ig_tile_7x16)(g, a, w, bias, y, rows, cols, pf, pfs);
  }
}

/* One thread's share: a contiguous run of the tiles x panels work items,
 * tile-major, so it covers a contiguous run of pixels. The same split of
 * pixels in every layer keeps each thread on the rows it wrote in the
 * layer before (on this 2-core VM, a split by channels made the next step
 * read half its input from the other core: 2 threads ran ResNet-50 only
 * 1.45x faster than 1). Splitting items rather than whole tiles balances
 * maps with few tiles: a 7x7 map is 7 tiles, 4 + 3 between two threads.
 * Big weights over few tiles go panel-major instead (IG_SPLIT_PANELS_TILES);
 * panel-outer walks take their share of the next panel into L2 as they go. */
static void ig_task_chunk(void *arg, size_t chunk) {
  const conv_igemm *g = arg;
  int64_t items = g->t.tiles * g->panels, np = g->panels;
  int64_t w0 = (int64_t)chunk * items / g->t.chunks;
  int64_t w1 = (int64_t)(chunk + 1) * items / g->t.chunks;
  if (w1 <= w0) return;
  if (g->panel_outer && g->t.tiles < IG_SPLIT_PANELS_TILES * g->t.chunks) {
    for (int64_t w = w0; w < w1; w++) {
      int64_t tile = w % g->t.tiles, panel = w / g->t.tiles;
      ig_run_tile(g, tile, panel, panel + 1, tile, g->t.tiles);
    }
    return;
  }
  int64_t t0 = w0 / np, t1 = (w1 - 1) / np;
  if (g->panel_outer) {
    for (int64_t p = 0; p < np; p++)
      for (int64_t t = t0; t <= t1; t++)
        if (t * np + p >= w0 && t * np + p < w1) ig_run_tile(g, t, p, p + 1, t - t0, t1 - t0 + 1);
    return;
  }
  for (int64_t t = t0; t <= t1; t++) {
    int64_t p0 = w0 - t * np, p1 = w1 - t * np;
    ig_run_tile(g, t, p0 > 0 ? p0 : 0, p1 < np ? p1 : np, 0, 0);
  }
}

int64_t conv_igemm_panel_width(void) { return conv_igemm_wide() ? IG_NR : IG2_NR; }

/* conv_igemm_rows on the AVX2 tile: 6 rows at a time. */
static void ig2_rows(const conv_igemm *g, const float *a, int64_t lda, int64_t rows, float *y,
                     int64_t p0, int64_t p1) {
  const float *table[IG_MR];
  for (int64_t r0 = 0; r0 < rows; r0 += IG2_MR, a += IG2_MR * lda, y += IG2_MR * g->m) {
    int64_t n = rows - r0 < IG2_MR ? rows - r0 : IG2_MR;
    for (int64_t r = 0; r < IG_MR; r++) table[r] = a + (r < n ? r : n - 1) * lda;
    for (int64_t panel = p0; panel < p1; panel++) {
      int64_t o0 = panel * IG2_NR, cols = g->m - o0 < IG2_NR ? g->m - o0 : IG2_NR;
      const float *w = g->w + (size_t)(panel * g->c * IG2_NR);
      (cols > 8 ? ig2_tile_6x16 : ig2_tile_6x8)(g, table, w, g->bias + o0, y + o0, n, cols,
                                                (const char *)w, 0);
    }
  }
}

void conv_igemm_rows(const conv_igemm *g, const float *a, int64_t lda, int64_t rows, float *y,
                     int64_t p0, int64_t p1) {
  if (g->nr == IG2_NR) {
    ig2_rows(g, a, lda, rows, y, p0, p1);
    return;
  }
  const float *table[IG_MR];
  for (int64_t r = 0; r < IG_MR; r++) table[r] = a + (r < rows ? r : rows - 1) * lda;
  for (int64_t panel = p0; panel < p1; panel++) {
    int64_t o0 = panel * IG_NR, cols = g->m - o0 < IG_NR ? g->m - o0 : IG_NR;
    const float *w = g->w + (size_t)(panel * g->c * IG_NR);
    const char *pf = (const char *)(panel + 1 < p1 ? w + g->c * IG_NR : w);
    (cols > 16 ? ig_tile_12x32 : ig_tile_12x16)(g, table, w, g->bias + o0, y + o0, rows, cols,
                                                pf, panel + 1 < p1 ? IG_NR * 4 : 0);
  }
}

void conv_igemm_chunks_run(pthreadpool_t pool, int64_t items, int64_t *chunks,
                           pthreadpool_task_1d_t task, void *arg) {
  size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  *chunks = (int64_t)threads < items ? (int64_t)threads : items;
  if (*chunks <= 1) {
    *chunks = 1;
    task(arg, 0);
    return;
  }
  pthreadpool_parallelize_1d(pool, task, arg, (size_t)*chunks, 0);
}

void conv_igemm_run(conv_igemm *g, pthreadpool_t pool) {
  if (g->row_mode) ig_rows_fill(g);
  conv_igemm_chunks_run(pool, g->t.tiles * g->panels, &g->t.chunks, ig_task_chunk, g);
}

#endif
