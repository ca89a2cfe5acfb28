/* Winograd F(2x2, 3x3) convolution, own AVX-512 or AVX2 transforms (see conv_winograd.h). */
#include "conv_winograd.h"

#ifdef ONNXI_HAVE_WINOGRAD

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "arena.h"

enum {
  WN_POS = 16,   /* transform positions: a 4x4 patch */
  WN_LANES = 16, /* channels per vector */
  WN_MR = CONV_IGEMM_MR,
  WN_NR = CONV_IGEMM_NR, /* AVX-512 panels; AVX2 packs 16 */
  WN_MIN_C = 32, /* as the own dense kernel: thinner, the GEMMs are too short */
};

/* Fewer 2x2 blocks than this, the direct kernel wins: a thread streams all
 * of U once per block of tiles. ResNet-50 at 1 thread (thread CPU):
 * 56x56x64 1.13 -> 0.80 ms, 28x28x128 1.14 -> 0.72, 14x14x256 (49 blocks)
 * 1.19 -> 0.88, but 7x7x512 (16 blocks, U 16 MB) 1.31 -> 1.83. With fewer
 * than this per thread, threads split the output channels instead of the
 * blocks (split_m): split by blocks, the 14x14 layers were no faster than
 * the direct kernel at 2 threads (24 and 25 blocks: 3 of the 5 tiles of 12
 * rows, and a U stream for each, fall to one thread); split by channels,
 * each thread streams half of U per tile and both transform every block's
 * input (ResNet-50, 0.64 -> 0.60 ms). */
#define WN_MIN_TILES 36

/* split_m only with at least this many panels per thread: over 1-2 the
 * duplicated input transforms cost more than the halved U saves (16x16x64
 * at 2 threads: 0.08 ms, direct 0.06). */
#define WN_SPLIT_M_PANELS 4

/* Scratch of one block, V and M together: small enough to stay in L2 next
 * to the transformed weights being streamed. */
#define WN_BLOCK_BYTES (256 * 1024)

/* Threads' scratch this far apart: with the two threads' scratch adjacent,
 * ResNet-18's 3x3 convs ran no faster at 2 threads than at 1 (one half
 * 0.44 ms, the other 0.6-0.75, against 0.36 for both 256 KB apart; maybe
 * the prefetchers of one core pulling the other's lines on a 2 MB page).
 * The gap is never touched, so it costs address space only. */
#define WN_GAP_FLOATS (64 * 1024)
#define WN_PAGE_FLOATS 1024

struct conv_wino {
  int64_t c, m;
  conv_igemm *u[WN_POS]; /* U at each position, packed as a 1x1 conv c -> m */
  float *bias;           /* m */
  float *zero;           /* c zeros: the padding's pixels */
  conv_gemm_shape sh;
  const float *x;
  float *y;
  conv_epilogue ep;
  int64_t tw, th, tiles; /* 2x2 blocks per row, per column, over all images */
  int64_t block;         /* blocks per pass through the GEMMs */
  int64_t panels, nr;    /* panels of nr output channels (conv_igemm_panel_width) */
  bool avx2;             /* the AVX2 transforms and tile */
  bool split_m;          /* threads split the panels, not the blocks */
  float *scratch;        /* per chunk: V [WN_POS][block][c], then M [WN_POS][block][m] */
  size_t scratch_cap, per_chunk;
  int64_t chunks;
};

static int wn_env(void) {
  const char *env = getenv("ONNXI_WINOGRAD");
  return env && !strcmp(env, "0") ? 0 : env && !strcmp(env, "1") ? 1 : -1;
}

bool conv_wino_wanted(int64_t group, int64_t c, int64_t m, int64_t kh, int64_t kw,
                      const conv_gemm_shape *sh, size_t threads) {
  int env = wn_env();
  if (env == 0 || !conv_igemm_enabled() || group != 1 || kh != 3 || kw != 3) return false;
  if (c < WN_MIN_C || c % WN_LANES || m % WN_LANES || sh->sh != 1 || sh->sw != 1 ||
      sh->dh != 1 || sh->dw != 1)
    return false;
  int64_t tiles = sh->n * ((sh->oh + 1) / 2) * ((sh->ow + 1) / 2);
  int64_t nr = conv_igemm_panel_width(), panels = (m + nr - 1) / nr;
  int64_t t = threads ? (int64_t)threads : 1;
  return env == 1 || tiles >= WN_MIN_TILES * t ||
         (tiles >= WN_MIN_TILES && panels >= WN_SPLIT_M_PANELS * t);
}

void conv_wino_destroy(conv_wino *wn) {
  if (!wn) return;
  for (int i = 0; i < WN_POS; i++) conv_igemm_destroy(wn->u[i]);
  free(wn->bias);
  free(wn->zero);
  free(wn->scratch);
  free(wn);
}

/* U = G g G^T of one 3x3 filter g (rows 3 apart), G = [1 0 0; .5 .5 .5;
 * .5 -.5 .5; 0 0 1]: out[i * 4 + j]. */
static void wn_filter(const float g[9], float out[WN_POS]) {
  float t[4][3];
  for (int j = 0; j < 3; j++) {
    float a = g[j], b = g[3 + j], c = g[6 + j];
    t[0][j] = a, t[1][j] = 0.5f * (a + b + c), t[2][j] = 0.5f * (a - b + c), t[3][j] = c;
  }
  for (int i = 0; i < 4; i++) {
    float a = t[i][0], b = t[i][1], c = t[i][2];
    out[i * 4 + 0] = a, out[i * 4 + 1] = 0.5f * (a + b + c);
    out[i * 4 + 2] = 0.5f * (a - b + c), out[i * 4 + 3] = c;
  }
}

onnxi_status conv_wino_create(const op_context *ctx, const float *w, const int64_t *ws,
                              const float *b, int64_t c, int64_t m, conv_wino **out) {
  *out = NULL;
  conv_wino *wn = calloc(1, sizeof *wn);
  float *u = malloc(sizeof(float) * WN_POS * (size_t)(c * m));
  if (wn) wn->c = c, wn->m = m;
  if (wn) wn->bias = arena_os_alloc(sizeof(float) * (size_t)m);
  if (wn) wn->zero = arena_os_alloc(sizeof(float) * (size_t)c);
  if (!wn || !u || !wn->bias || !wn->zero) {
    free(u);
    conv_wino_destroy(wn);
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory packing Winograd weights");
  }
  memset(wn->zero, 0, sizeof(float) * (size_t)c);
  for (int64_t o = 0; o < m; o++) {
    wn->bias[o] = b ? b[o] : 0.0f;
    for (int64_t ci = 0; ci < c; ci++) {
      float g[9], t[WN_POS];
      for (int k = 0; k < 9; k++) g[k] = w[o * ws[0] + ci * ws[1] + (k / 3) * ws[2] + (k % 3) * ws[3]];
      wn_filter(g, t);
      for (int i = 0; i < WN_POS; i++) u[((size_t)i * (size_t)m + (size_t)o) * (size_t)c + (size_t)ci] = t[i];
    }
  }
  const int64_t us[4] = {c, 1, 0, 0};
  onnxi_status st = ONNXI_OK;
  for (int i = 0; i < WN_POS && st == ONNXI_OK; i++)
    st = conv_igemm_create(ctx, u + (size_t)i * (size_t)(m * c), us, NULL, c, m, 1, 1, &wn->u[i]);
  free(u);
  if (st != ONNXI_OK) {
    conv_wino_destroy(wn);
    return st;
  }
  *out = wn;
  return ONNXI_OK;
}

onnxi_status conv_wino_setup(const op_context *ctx, conv_wino *wn, const conv_gemm_shape *sh,
                             const float *x, float *y, const conv_epilogue *ep) {
  wn->sh = *sh, wn->x = x, wn->y = y, wn->ep = *ep;
  wn->th = (sh->oh + 1) / 2, wn->tw = (sh->ow + 1) / 2;
  wn->tiles = sh->n * wn->th * wn->tw;
  int64_t per_tile = WN_POS * (int64_t)sizeof(float) * (wn->c + wn->m);
  wn->block = WN_BLOCK_BYTES / per_tile / WN_MR * WN_MR;
  if (wn->block < WN_MR) wn->block = WN_MR;
  size_t threads = ctx->threadpool ? pthreadpool_get_threads_count(ctx->threadpool) : 1;
  wn->nr = conv_igemm_panel_width();
  wn->avx2 = wn->nr != WN_NR;
  wn->panels = (wn->m + wn->nr - 1) / wn->nr;
  /* also where ONNXI_WINOGRAD=1 took a conv below the size rule */
  wn->split_m = threads > 1 && wn->tiles < WN_MIN_TILES * (int64_t)threads &&
                wn->panels >= (int64_t)threads;
  size_t used = (size_t)(wn->block * per_tile) / sizeof(float);
  wn->per_chunk = (used + WN_PAGE_FLOATS - 1) / WN_PAGE_FLOATS * WN_PAGE_FLOATS + WN_GAP_FLOATS;
  size_t need = wn->per_chunk * threads;
  if (need <= wn->scratch_cap) return ONNXI_OK;
  free(wn->scratch);
  wn->scratch = arena_os_alloc(sizeof(float) * need);
  wn->scratch_cap = wn->scratch ? need : 0;
  if (!wn->scratch)
    return op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory for %zu floats of Winograd scratch",
                    need);
  return ONNXI_OK;
}

#define WN_LOAD _mm512_loadu_ps
#define WN_STORE _mm512_storeu_ps
#define WN_ADD _mm512_add_ps
#define WN_SUB _mm512_sub_ps
#define WN_MIN _mm512_min_ps
#define WN_MAX _mm512_max_ps
#define WN_SET1 _mm512_set1_ps
#define WN_ACT op_act512
#define WN_V __m512
#define WN_W 16
#define WN_T __attribute__((target("avx512f")))
#define WN_NAME(f) f##_512
#include "conv_winograd_tile.h"
#undef WN_LOAD
#undef WN_STORE
#undef WN_ADD
#undef WN_SUB
#undef WN_MIN
#undef WN_MAX
#undef WN_SET1
#undef WN_ACT
#undef WN_V
#undef WN_W
#undef WN_T
#undef WN_NAME

/* The same for AVX2 + FMA, 8 channels a vector. */
#define WN_LOAD _mm256_loadu_ps
#define WN_STORE _mm256_storeu_ps
#define WN_ADD _mm256_add_ps
#define WN_SUB _mm256_sub_ps
#define WN_MIN _mm256_min_ps
#define WN_MAX _mm256_max_ps
#define WN_SET1 _mm256_set1_ps
#define WN_ACT op_act256
#define WN_V __m256
#define WN_W 8
#define WN_T __attribute__((target("avx2,fma")))
#define WN_NAME(f) f##_256
#include "conv_winograd_tile.h"

/* Tiles [t0, t0 + nt): transform in, 16 GEMMs of nt rows, transform out;
 * output channels of panels [p0, p1) only. */
static void wn_block_run(const conv_wino *wn, int64_t t0, int64_t nt, float *v, float *mm,
                         int64_t p0, int64_t p1) {
  int64_t vs = wn->block * wn->c, ms = wn->block * wn->m;
  int64_t k0 = p0 * wn->nr, k1 = p1 * wn->nr < wn->m ? p1 * wn->nr : wn->m;
  for (int64_t i = 0; i < nt; i++)
    (wn->avx2 ? wn_input_tile_256 : wn_input_tile_512)(wn, t0 + i, v + i * wn->c, vs);
  for (int p = 0; p < WN_POS; p++)
    for (int64_t r = 0; r < nt; r += WN_MR)
      conv_igemm_rows(wn->u[p], v + p * vs + r * wn->c, wn->c, nt - r < WN_MR ? nt - r : WN_MR,
                      mm + p * ms + r * wn->m, p0, p1);
  for (int64_t i = 0; i < nt; i++)
    (wn->avx2 ? wn_output_tile_256 : wn_output_tile_512)(wn, t0 + i, mm + i * wn->m, ms, k0, k1);
}

/* One thread's share, a block at a time: a contiguous run of tiles and
 * every output channel (the pixel split of the own dense kernel, so each
 * thread reads what it wrote), or with split_m every tile and a run of
 * panels. */
static void wn_task(void *arg, size_t chunk) {
  const conv_wino *wn = arg;
  int64_t t0 = 0, t1 = wn->tiles, p0 = 0, p1 = wn->panels, i = (int64_t)chunk;
  if (wn->split_m)
    p0 = i * wn->panels / wn->chunks, p1 = (i + 1) * wn->panels / wn->chunks;
  else
    t0 = i * wn->tiles / wn->chunks, t1 = (i + 1) * wn->tiles / wn->chunks;
  float *v = wn->scratch + chunk * wn->per_chunk, *mm = v + WN_POS * wn->block * wn->c;
  for (int64_t t = t0; t < t1 && p0 < p1; t += wn->block)
    wn_block_run(wn, t, t1 - t < wn->block ? t1 - t : wn->block, v, mm, p0, p1);
}

void conv_wino_run(conv_wino *wn, pthreadpool_t pool) {
  conv_igemm_chunks_run(pool, wn->split_m ? wn->panels : wn->tiles, &wn->chunks, wn_task, wn);
}

#endif
