/* Grouped and depthwise NHWC convolution with narrow groups, own AVX-512
 * and AVX2 kernels (see conv_grouped.h). */
#include "conv_grouped.h"

#ifdef ONNXI_HAVE_IGEMM

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "arena.h"
#include "simd512.h"
#include "tile256.h"

enum {
  GR_MR = CONV_IGEMM_MR, /* output pixels per tile, at the most */
  GR_LANES = 16,         /* output channels per block: one zmm */
  DW_MAX_PIXELS = 400,   /* depthwise: output pixels per image at the most ... */
  DW_MIN_C = 480,        /* ... and, with no activation to fuse, channels at 5x5 ... */
  DW_MIN_C_3X3 = 576,    /* ... and at 3x3 */
  DW_XNN_MAX_TAPS = 25,  /* XNNPACK's unipass depthwise kernels stop here (slow past it) */
  GR_MAX_WIDE = 64,      /* wide groups (multiples of 16) up to this many channels */
};

struct conv_grouped {
  int64_t c, cg, kh, kw, taps, blocks;
  float *w;    /* [block][tap][j < cg][16]: lane l of block b is channel 16b + l */
  float *bias; /* [blocks * 16], zero past c */
  float *zero; /* blocks * 16 zeros: the input of every tap in the padding */
  conv_tiles t;
  const float **ptrs; /* wide groups: the plan's pointer tables, tile after tile (or NULL) */
  size_t ptrs_cap;
  bool unit_major; /* wide groups: walk (and split) the units, each over every tile */
  bool avx2;       /* the AVX2 tiles (tile256.h), 6 pixels x 16 channels */
};

/* Pointer tables of a plan up to this size are built once at setup, as in
 * conv_igemm.c: the unit-major walk of gr_task_wide visits each tile once
 * per unit. */
#define GR_PTRS_MAX_BYTES (4u << 20)

bool conv_grouped_wanted(int64_t group, int64_t c, int64_t m, int64_t kh, int64_t kw) {
  bool wide = conv_igemm_wide();
  if (!(wide || conv_igemm_enabled()) || group < 2 || c % group || m != c) return false;
  int64_t cg = c / group, taps = kh * kw;
  if (taps > CONV_IGEMM_MAX_TAPS) return false;
  if (cg % GR_LANES == 0 && cg <= GR_MAX_WIDE) return true;
  /* AVX2: no depthwise (XNNPACK's is fine there, and fuses Relu) */
  return cg == 4 || cg == 8 || (wide && (cg == 1 || cg == 2));
}

/* Depthwise: 12-pixel tiles that run on across rows beat conv_dw.c's
 * 8-pixel row strips where rows are short, and lose where the map is big
 * (EfficientNet-B0 at 1 thread: 1152x7x7 5x5 0.058 vs 0.095 ms, 240x14x14
 * 3x3 0.036 vs 0.040; 144x28x28 0.137 vs 0.126, 32x112x112 0.41 vs 0.26).
 * Without an activation XNNPACK could not fuse, its kernel keeps the thin
 * ones (MobileNet v2's 384x14x14 3x3 with Relu6: 0.019-0.022 vs 0.023-0.025
 * here; 576x14x14 0.038 vs 0.035). */
bool conv_grouped_dw_fits(int64_t c, int64_t taps, int64_t pixels, int act) {
  if (pixels > DW_MAX_PIXELS) return false;
  return act != OP_ACT_NONE || taps > DW_XNN_MAX_TAPS || c >= DW_MIN_C_3X3 || (taps == 25 && c >= DW_MIN_C);
}

void conv_grouped_destroy(conv_grouped *g) {
  if (!g) return;
  free(g->w);
  free(g->bias);
  free(g->zero);
  free(g->ptrs);
  free(g);
}

onnxi_status conv_grouped_create(const op_context *ctx, const float *w, const int64_t *ws,
                                 const float *b, int64_t c, int64_t group, int64_t kh,
                                 int64_t kw, conv_grouped **out) {
  *out = NULL;
  conv_grouped *g = calloc(1, sizeof *g);
  if (!g) return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for the grouped conv");
  g->c = c, g->cg = c / group, g->kh = kh, g->kw = kw, g->taps = kh * kw;
  g->blocks = (c + GR_LANES - 1) / GR_LANES;
  size_t lanes = (size_t)(g->blocks * GR_LANES);
  g->w = arena_os_alloc(sizeof(float) * lanes * (size_t)(g->taps * g->cg));
  g->bias = arena_os_alloc(sizeof(float) * lanes);
  g->zero = arena_os_alloc(sizeof(float) * lanes);
  if (!g->w || !g->bias || !g->zero) {
    conv_grouped_destroy(g);
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory packing grouped conv weights");
  }
  memset(g->zero, 0, sizeof(float) * lanes);
  memset(g->bias, 0, sizeof(float) * lanes);
  if (b) memcpy(g->bias, b, sizeof(float) * (size_t)c);
  float *dst = g->w;
  for (int64_t blk = 0; blk < g->blocks; blk++)
    for (int64_t t = 0; t < g->taps; t++)
      for (int64_t j = 0; j < g->cg; j++, dst += GR_LANES)
        for (int64_t l = 0; l < GR_LANES; l++) {
          int64_t o = blk * GR_LANES + l;
          dst[l] = o < c ? w[o * ws[0] + j * ws[1] + (t / kw) * ws[2] + (t % kw) * ws[3]] : 0.0f;
        }
  *out = g;
  return ONNXI_OK;
}

/* Tile t's pointer table (conv_igemm_pointers). */
static void gr_pointers_tile(const conv_grouped *g, int64_t t, const float **a) {
  int64_t px = t * g->t.mr, rows = g->t.pixels - px < g->t.mr ? g->t.pixels - px : g->t.mr;
  conv_igemm_pointers(&g->t.sh, g->kh, g->kw, g->t.x, g->c, g->zero, px, rows, a);
}

void conv_grouped_setup(conv_grouped *g, const conv_gemm_shape *sh, const float *x, float *y,
                        const conv_epilogue *ep) {
  conv_tiles_bind(&g->t, sh, x, y, ep);
  g->avx2 = !conv_igemm_wide();
  if (g->avx2) g->t.mr = T256_MR, g->t.tiles = (g->t.pixels + T256_MR - 1) / T256_MR;
  g->unit_major = sh->n * sh->ih * sh->iw <= 2 * g->taps * g->cg;
  size_t per = (size_t)(g->taps * GR_MR), n = (size_t)g->t.tiles * per;
  if (g->cg % GR_LANES || n * sizeof *g->ptrs > GR_PTRS_MAX_BYTES) {
    free(g->ptrs);
    g->ptrs = NULL, g->ptrs_cap = 0;
    return;
  }
  if (n > g->ptrs_cap) {
    free(g->ptrs);
    g->ptrs = malloc(n * sizeof *g->ptrs); /* NULL: built per tile as it runs */
    g->ptrs_cap = g->ptrs ? n : 0;
  }
  for (int64_t t = 0; g->ptrs && t < g->t.tiles; t++) gr_pointers_tile(g, t, g->ptrs + t * per);
}

#define GR_TARGET __attribute__((target("avx512f"), always_inline)) static inline

/* Lane l of the result is element j of l's group: l rounded down to a
 * multiple of cg, plus j. cg <= 4 stays inside 128-bit lanes (vpermilps
 * takes the index modulo 4); cg = 8 crosses them (vpermps). */
GR_TARGET __m512i gr_index0(const int cg) {
  __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  return _mm512_and_epi32(lane, _mm512_set1_epi32(~(cg - 1)));
}

GR_TARGET __m512 gr_spread(__m512 x, __m512i idx, const int cg) {
  if (cg == 1) return x;
  return cg == 8 ? _mm512_permutexvar_ps(idx, x) : _mm512_permutevar_ps(x, idx);
}

/* Rows as named variables, not arrays: GCC -O2 kept arrays indexed in
 * unrolled loops on the stack (a store and a load per FMA, 4x slower). */
#define GR_EACH_ROW(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)
#define GR_INIT(r) __m512 acc##r = b, x##r = b;
#define GR_LOAD(r) \
  if (r < mr) x##r = op_load16(a[r] + off, mask);
#define GR_FMA(r) \
  if (r < mr) acc##r = _mm512_fmadd_ps(gr_spread(x##r, idx, cg), wv, acc##r);
#define GR_STORE(r) \
  if (r < mr && r < rows) gr_store(acc##r, y + r * g->c, res ? res + r * g->c : NULL, mask, ep);

/* What a tile's epilogue needs from the plan, in registers. */
typedef struct gr_epilogue {
  __m512 lo, hi;
  int act;
} gr_epilogue;

GR_TARGET gr_epilogue gr_epilogue_of(const conv_grouped *g) {
  return (gr_epilogue){_mm512_set1_ps(g->t.ep.lo), _mm512_set1_ps(g->t.ep.hi), g->t.ep.act};
}

/* One output vector's epilogue: residual, clamp (max(lo, v) then
 * min(hi, v): NaN propagates, as in conv_igemm.c), activation, store;
 * lanes outside mask untouched. */
GR_TARGET void gr_store(__m512 v, float *y, const float *res, __mmask16 mask, gr_epilogue ep) {
  if (res) v = _mm512_add_ps(v, op_load16(res, mask));
  op_store16(y, mask, op_act512(ep.act, _mm512_min_ps(ep.hi, _mm512_max_ps(ep.lo, v))));
}

/* One 16-channel block (channels off .. off + 16, lanes past c masked) of
 * a tile of mr pixels; stores rows < rows. mr and cg are constants at each
 * call, so unused rows disappear. */
GR_TARGET void gr_block(const conv_grouped *g, const float *const *a, int64_t off,
                        const float *w, const float *bias, float *y, int64_t rows,
                        __mmask16 mask, const int mr, const int cg) {
  __m512 b = _mm512_load_ps(bias);
  __m512i idx0 = gr_index0(cg), one = _mm512_set1_epi32(1);
  GR_EACH_ROW(GR_INIT)
  for (int64_t t = 0; t < g->taps; t++, a += GR_MR) {
    GR_EACH_ROW(GR_LOAD)
    __m512i idx = idx0;
    for (int j = 0; j < cg; j++, w += GR_LANES, idx = _mm512_add_epi32(idx, one)) {
      __m512 wv = _mm512_load_ps(w);
      GR_EACH_ROW(GR_FMA)
    }
  }
  const float *res = g->t.ep.res ? g->t.ep.res + (y - g->t.y) : NULL;
  gr_epilogue ep = gr_epilogue_of(g);
  GR_EACH_ROW(GR_STORE)
}

#define GR_BLOCK_FN(name, mr, cg)                                                              \
  __attribute__((target("avx512f"))) static void name(                                         \
      const conv_grouped *g, const float *const *a, int64_t off, const float *w,               \
      const float *bias, float *y, int64_t rows, __mmask16 mask) {                             \
    gr_block(g, a, off, w, bias, y, rows, mask, mr, cg);                                       \
  }
GR_BLOCK_FN(gr_block_12x1, 12, 1)
GR_BLOCK_FN(gr_block_12x2, 12, 2)
GR_BLOCK_FN(gr_block_12x4, 12, 4)
GR_BLOCK_FN(gr_block_12x8, 12, 8)
GR_BLOCK_FN(gr_block_7x1, 7, 1)
GR_BLOCK_FN(gr_block_7x2, 7, 2)
GR_BLOCK_FN(gr_block_7x4, 7, 4)
GR_BLOCK_FN(gr_block_7x8, 7, 8)

typedef void (*gr_block_fn)(const conv_grouped *, const float *const *, int64_t, const float *,
                            const float *, float *, int64_t, __mmask16);

static gr_block_fn gr_block_for(int64_t mr, int64_t cg) {
  static const gr_block_fn big[4] = {gr_block_12x1, gr_block_12x2, gr_block_12x4, gr_block_12x8};
  static const gr_block_fn small[4] = {gr_block_7x1, gr_block_7x2, gr_block_7x4, gr_block_7x8};
  int i = cg == 1 ? 0 : cg == 2 ? 1 : cg == 4 ? 2 : 3;
  return mr == GR_MR ? big[i] : small[i];
}

/* Wide groups (cg a multiple of 16): the dense kernel's scheme inside the
 * group (conv_igemm.c). Per tap and input j, each pixel's element j is
 * broadcast once and multiplied into nv blocks of 16 outputs of the group
 * (nv = 2: a pair, one broadcast for two FMAs). The group's inputs start
 * at `in`, its outputs at `off`. */
#define GR_WPTR(r) const float *p##r = a[r] + in;
#define GR_WINIT(r) __m512 acc##r = b0, bcc##r = b1;
#define GR_WFMA(r)                                        \
  if (r < mr) {                                           \
    __m512 v = _mm512_set1_ps(p##r[j]);                   \
    acc##r = _mm512_fmadd_ps(v, w0, acc##r);              \
    if (nv == 2) bcc##r = _mm512_fmadd_ps(v, w1, bcc##r); \
  }
#define GR_WSTORE(r)                                                                    \
  if (r < mr && r < rows) {                                                             \
    const float *rr = res ? res + r * g->c : NULL;                                      \
    gr_store(acc##r, y + r * g->c, rr, 0xffff, ep);                                     \
    if (nv == 2) gr_store(bcc##r, y + r * g->c + GR_LANES, rr ? rr + GR_LANES : NULL, 0xffff, ep); \
  }

GR_TARGET void gr_wide(const conv_grouped *g, const float *const *a, int64_t in,
                       const float *w, int64_t w1_at, const float *bias, float *y,
                       int64_t rows, const int mr, const int nv) {
  __m512 b0 = _mm512_load_ps(bias), b1 = nv == 2 ? _mm512_load_ps(bias + GR_LANES) : b0;
  GR_EACH_ROW(GR_WINIT)
  for (int64_t t = 0; t < g->taps; t++, a += GR_MR) {
    GR_EACH_ROW(GR_WPTR)
    for (int64_t j = 0; j < g->cg; j++, w += GR_LANES) {
      __m512 w0 = _mm512_load_ps(w), w1 = nv == 2 ? _mm512_load_ps(w + w1_at) : w0;
      GR_EACH_ROW(GR_WFMA)
    }
  }
  const float *res = g->t.ep.res ? g->t.ep.res + (y - g->t.y) : NULL;
  gr_epilogue ep = gr_epilogue_of(g);
  GR_EACH_ROW(GR_WSTORE)
}

#define GR_WIDE_FN(name, mr, nv)                                                         \
  __attribute__((target("avx512f"))) static void name(                                   \
      const conv_grouped *g, const float *const *a, int64_t in, const float *w,          \
      int64_t w1_at, const float *bias, float *y, int64_t rows) {                        \
    gr_wide(g, a, in, w, w1_at, bias, y, rows, mr, nv);                                  \
  }
GR_WIDE_FN(gr_wide_12x16, 12, 1)
GR_WIDE_FN(gr_wide_12x32, 12, 2)
GR_WIDE_FN(gr_wide_7x16, 7, 1)
GR_WIDE_FN(gr_wide_7x32, 7, 2)

/* Wide groups run in units of one or two blocks of a group (a pair where
 * two remain): unit u of units_per_group in every group. */
static void gr_wide_unit(const conv_grouped *g, const float *const *a, int64_t px,
                         int64_t rows, int64_t u) {
  size_t block_floats = (size_t)(g->taps * g->cg * GR_LANES);
  int64_t per_group = g->cg / GR_LANES, upg = (per_group + 1) / 2;
  int64_t group = u / upg, blk = group * per_group + u % upg * 2;
  int64_t off = blk * GR_LANES, in = group * g->cg;
  const float *w = g->w + (size_t)blk * block_floats;
  float *y = g->t.y + px * g->c + off;
  bool pair = blk + 1 < (group + 1) * per_group, big = g->t.mr == GR_MR;
  if (pair)
    (big ? gr_wide_12x32 : gr_wide_7x32)(g, a, in, w, (int64_t)block_floats, g->bias + off, y,
                                         rows);
  else
    (big ? gr_wide_12x16 : gr_wide_7x16)(g, a, in, w, 0, g->bias + off, y, rows);
}

static int64_t gr_wide_units(const conv_grouped *g) {
  return g->c / g->cg * ((g->cg / GR_LANES + 1) / 2);
}

/* One thread's share of the tiles x units items, tile-major as in
 * gr_task_chunk, or unit-major: each unit's weights are streamed once
 * instead of once per tile, against a read of every input pixel, half of
 * them from the other core's cache at 2 threads. Unit-major where X is at
 * most twice the weights: ResNeXt-50 at 2 threads, 14x14 at 16 per group
 * 0.13 -> 0.115 ms, 7x7 at 32 per group 0.18 -> 0.11, but the stride-2
 * 28x28 -> 14x14 (X 1.6 MB, weights 0.3 MB) 0.15 -> 0.20. */
static void gr_task_wide(void *arg, size_t chunk) {
  const conv_grouped *g = arg;
  const float *a[CONV_IGEMM_MAX_TAPS * GR_MR];
  int64_t nu = gr_wide_units(g), nt = g->t.tiles, items = nt * nu, built = -1;
  int64_t w0 = (int64_t)chunk * items / g->t.chunks;
  int64_t w1 = (int64_t)(chunk + 1) * items / g->t.chunks;
  bool unit_major = g->unit_major;
  for (int64_t w = w0; w < w1; w++) {
    int64_t tile = unit_major ? w % nt : w / nu, u = unit_major ? w / nt : w % nu;
    int64_t px = tile * g->t.mr, rows = g->t.pixels - px < g->t.mr ? g->t.pixels - px : g->t.mr;
    const float *const *tab = a;
    if (g->ptrs)
      tab = g->ptrs + tile * g->taps * GR_MR;
    else if (tile != built)
      gr_pointers_tile(g, tile, a);
    built = tile;
    gr_wide_unit(g, tab, px, rows, u);
  }
}

/* Pixel tile `tile` over channel blocks [b0, b1), its pointers built once. */
static void gr_run_tile(const conv_grouped *g, int64_t tile, int64_t b0, int64_t b1) {
  const float *a[CONV_IGEMM_MAX_TAPS * GR_MR];
  int64_t px = tile * g->t.mr, rows = g->t.pixels - px < g->t.mr ? g->t.pixels - px : g->t.mr;
  conv_igemm_pointers(&g->t.sh, g->kh, g->kw, g->t.x, g->c, g->zero, px, rows, a);
  gr_block_fn fn = gr_block_for(g->t.mr, g->cg);
  size_t block_floats = (size_t)(g->taps * g->cg * GR_LANES);
  for (int64_t blk = b0; blk < b1; blk++) {
    int64_t off = blk * GR_LANES, n = g->c - off < GR_LANES ? g->c - off : GR_LANES;
    __mmask16 mask = n == GR_LANES ? 0xffff : (__mmask16)((1u << n) - 1);
    fn(g, a, off, g->w + (size_t)blk * block_floats, g->bias + off, g->t.y + px * g->c + off,
       rows, mask);
  }
}

/* One thread's share: a contiguous run of the tiles x blocks work items,
 * tile-major, so each thread keeps to the pixels it owns in the layers
 * around (conv_igemm.c splits them the same way). */
static void gr_task_chunk(void *arg, size_t chunk) {
  const conv_grouped *g = arg;
  int64_t nb = g->blocks, items = g->t.tiles * nb;
  int64_t w0 = (int64_t)chunk * items / g->t.chunks;
  int64_t w1 = (int64_t)(chunk + 1) * items / g->t.chunks;
  if (w1 <= w0) return;
  for (int64_t t = w0 / nb; t <= (w1 - 1) / nb; t++) {
    int64_t b0 = w0 - t * nb, b1 = w1 - t * nb;
    gr_run_tile(g, t, b0 > 0 ? b0 : 0, b1 < nb ? b1 : nb);
  }
}

/* --- AVX2 + FMA (tile256.h): 6 pixels x one 16-channel block ---------- */

/* Groups of 4: each half of the block is two groups, whose 8 inputs one
 * load brings; vpermilps spreads input j of each group over its 4 lanes
 * (in-lane), one FMA per row with 8 packed weights. The half's inputs
 * start at `in`, n of them inside X (fewer than 8: masked). */
#define G2_EACH_ROW(F) F(0) F(1) F(2) F(3) F(4) F(5)
#define G2_LOAD(r) __m256 x##r = t256_load(a[r] + in, m, full);
#define G2_FMA(r, j) acc[r] = _mm256_fmadd_ps(_mm256_permute_ps(x##r, (j) * 0x55), wj, acc[r]);
#define G2_FMA0(r) G2_FMA(r, 0)
#define G2_FMA1(r) G2_FMA(r, 1)
#define G2_FMA2(r) G2_FMA(r, 2)
#define G2_FMA3(r) G2_FMA(r, 3)

T256_INLINE void gr2_quad(const conv_grouped *g, const float *const *a, int64_t in, int64_t n,
                          const float *w, const float *bias, __m256 *acc) {
  __m256 b = _mm256_load_ps(bias), wj;
  bool full = n >= 8;
  __m256i m = t256_mask(n);
  acc[0] = acc[1] = acc[2] = acc[3] = acc[4] = acc[5] = b;
  for (int64_t t = 0; t < g->taps; t++, a += GR_MR, w += 4 * GR_LANES) {
    G2_EACH_ROW(G2_LOAD)
    wj = _mm256_load_ps(w);
    G2_EACH_ROW(G2_FMA0)
    wj = _mm256_load_ps(w + GR_LANES);
    G2_EACH_ROW(G2_FMA1)
    wj = _mm256_load_ps(w + 2 * GR_LANES);
    G2_EACH_ROW(G2_FMA2)
    wj = _mm256_load_ps(w + 3 * GR_LANES);
    G2_EACH_ROW(G2_FMA3)
  }
}

/* Block blk of a tile: rows pixels from px, pointer table a. */
__attribute__((target("avx2,fma"))) static void gr2_block(const conv_grouped *g,
                                                          const float *const *a, int64_t px,
                                                          int64_t rows, int64_t blk) {
  __m256 acc0[T256_MR], acc1[T256_MR] = {0}; /* {0}: GCC cannot see nv == 2 sets them */
  int64_t off = blk * GR_LANES, cols = g->c - off < GR_LANES ? g->c - off : GR_LANES;
  const float *w = g->w + (size_t)(blk * g->taps * g->cg * GR_LANES), *bias = g->bias + off;
  int nv = cols > 8 ? 2 : 1;
  if (g->cg >= GR_LANES) /* one group's 16 outputs: the dense scheme */
    t256_reduce(a, g->taps, g->cg, off / g->cg * g->cg, w, bias, (const char *)w, 0, false,
                acc0, acc1);
  else if (g->cg == 8 && nv == 2)
    t256_reduce(a, g->taps, 8, off, w, bias, (const char *)w, 0, true, acc0, acc1);
  else if (g->cg == 8) /* the block's last group, its second half past c */
    t256_reduce8(a, g->taps, 8, off, w, bias, acc0);
  else {
    gr2_quad(g, a, off, g->c - off, w, bias, acc0);
    if (nv == 2) gr2_quad(g, a, off + 8, g->c - off - 8, w + 8, bias + 8, acc1);
  }
  const float *res = g->t.ep.res ? g->t.ep.res + px * g->c + off : NULL;
  float *y = g->t.y + px * g->c + off;
  if (nv == 2)
    t256_store_tile(acc0, acc1, 2, rows, cols, y, res, g->c, &g->t.ep);
  else
    t256_store_tile(acc0, acc1, 1, rows, cols, y, res, g->c, &g->t.ep);
}

/* gr_task_chunk for the AVX2 tiles: tile-major, each tile's pointers built once. */
static void gr2_task_chunk(void *arg, size_t chunk) {
  const conv_grouped *g = arg;
  const float *table[CONV_IGEMM_MAX_TAPS * GR_MR];
  int64_t nb = g->blocks, items = g->t.tiles * nb;
  int64_t w0 = (int64_t)chunk * items / g->t.chunks;
  int64_t w1 = (int64_t)(chunk + 1) * items / g->t.chunks;
  for (int64_t t = w0 / nb; w1 > w0 && t <= (w1 - 1) / nb; t++) {
    int64_t px = t * g->t.mr, rows = g->t.pixels - px < g->t.mr ? g->t.pixels - px : g->t.mr;
    const float *const *a = table;
    if (g->ptrs)
      a = g->ptrs + t * g->taps * GR_MR;
    else
      gr_pointers_tile(g, t, table);
    int64_t b0 = w0 - t * nb, b1 = w1 - t * nb;
    for (int64_t blk = b0 > 0 ? b0 : 0; blk < (b1 < nb ? b1 : nb); blk++)
      gr2_block(g, a, px, rows, blk);
  }
}

void conv_grouped_run(conv_grouped *g, pthreadpool_t pool) {
  if (g->avx2) {
    conv_igemm_chunks_run(pool, g->t.tiles * g->blocks, &g->t.chunks, gr2_task_chunk, g);
    return;
  }
  if (g->cg % GR_LANES == 0) {
    conv_igemm_chunks_run(pool, g->t.tiles * gr_wide_units(g), &g->t.chunks, gr_task_wide, g);
    return;
  }
  conv_igemm_chunks_run(pool, g->t.tiles * g->blocks, &g->t.chunks, gr_task_chunk, g);
}

#endif
