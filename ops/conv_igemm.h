/* Dense 2-D convolution in NHWC as an indirect GEMM with an own AVX-512
 * micro-kernel (x86-64 CPUs with AVX-512F; a 6x16 AVX2 + FMA tile on the
 * others; compiled out elsewhere).
 *
 * Debian's 2022 XNNPACK build runs ResNet-50's dense convs at ~100 GFLOP/s
 * on Zen 5, half of the core's ~210: its AVX-512 GEMM tile is 7x16, too few
 * accumulators to hide the FMA latency. This kernel keeps a 12-pixel x
 * 32-channel tile in 24 registers and reaches 160-200 GFLOP/s on the same
 * layer shapes. Y[P x M] = A[P x K] * B[K x M] with A never materialised:
 * each tile gathers, per filter tap, a pointer to each of its 12 input
 * pixels (or to a zero row in the padding), XNNPACK's indirection idea.
 * Weights are packed once into 32-channel panels [tap][c][32]; bias and the
 * fused clamp are applied as the tile leaves the registers. Inputs with
 * fewer than 32 channels (RGB stems) take row mode: see conv_igemm.c. */
#ifndef ONNXI_OPS_CONV_IGEMM_H
#define ONNXI_OPS_CONV_IGEMM_H

#include <stdbool.h>
#include <stdint.h>

#include "conv_gemm.h"
#include "kernel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define ONNXI_HAVE_IGEMM 1

typedef struct conv_igemm conv_igemm;

/* One plan's binding, shared by the own conv kernels (this one and
 * conv_grouped.c): geometry, buffers, the epilogue, and the pixel tiling. */
typedef struct conv_tiles {
  conv_gemm_shape sh;
  const float *x;
  float *y;
  conv_epilogue ep;
  int64_t pixels, tiles, mr; /* mr: pixels per tile, 12 or 7 (7x7 maps) */
  int64_t chunks;            /* runs of work items, one per thread */
} conv_tiles;

/* Fills t for one plan; the tile size follows from the pixel count. */
void conv_tiles_bind(conv_tiles *t, const conv_gemm_shape *sh, const float *x, float *y,
                     const conv_epilogue *ep);

enum {
  CONV_IGEMM_MR = 12,       /* output pixels per tile, at the most */
  CONV_IGEMM_NR = 32,       /* output channels per panel: two zmm registers */
  CONV_IGEMM_MAX_TAPS = 64, /* a tile's pointer table lives on the stack */
};

/* Whether this dense kernel may run: the CPU has AVX-512F or AVX2 + FMA,
 * this is no ThreadSanitizer build, and ONNXI_CONV is not xnn or blas. */
bool conv_igemm_enabled(void);
/* Whether the AVX-512 kernels may run (the depthwise, grouped and Winograd
 * ones have no AVX2 form): as conv_igemm_enabled, with AVX-512F. */
bool conv_igemm_wide(void);
/* Whether a conv with these sizes should take this path: the CPU has
 * AVX-512F, group 1, at least 17 output channels, and either at least 32
 * input channels and at most 64 taps, or (row mode, below) unit horizontal
 * dilation dw and kernel rows (kw > 1) of 16 to 1024 floats. With a fused
 * activation act (op_act other than OP_ACT_NONE), 16 output channels are
 * enough, and 16 input channels for convs with kw == 1. On AVX2 (no own
 * depthwise kernels to leave thin convs to): 16 output channels, 8 input
 * channels at 1x1, kernel rows of 8 floats (ONNXI_CONV=xnn|blas in the
 * environment turns it off). */
bool conv_igemm_wanted(int64_t group, int64_t c, int64_t m, int64_t kh, int64_t kw,
                       int64_t dw, int act);
/* Packs W (logical OIHW addressed by element strides ws) and B (NULL:
 * zeros). */
onnxi_status conv_igemm_create(const op_context *ctx, const float *w, const int64_t *ws,
                               const float *b, int64_t c, int64_t m, int64_t kh, int64_t kw,
                               conv_igemm **out);
/* Whether this plan's geometry suits it (row mode: strides and pads within
 * the kernel width); otherwise the conv takes XNNPACK. */
bool conv_igemm_fits(const conv_igemm *g, const conv_gemm_shape *sh);
/* Binds one plan's geometry, buffers and epilogue (and sizes row mode's
 * padded copy). */
onnxi_status conv_igemm_setup(const op_context *ctx, conv_igemm *g, const conv_gemm_shape *sh,
                              const float *x, float *y, const conv_epilogue *ep);
void conv_igemm_run(conv_igemm *g, pthreadpool_t pool);
/* Runs task(arg, i) for i < *chunks, one chunk per pool thread (at most
 * `items`; on the calling thread without a pool). *chunks is set first:
 * the tasks split the items by it. Shared with conv_grouped.c. */
void conv_igemm_chunks_run(pthreadpool_t pool, int64_t items, int64_t *chunks,
                           pthreadpool_task_1d_t task, void *arg);
/* The input pixel of each filter tap for output pixels [p0, p0 + rows),
 * tap-major: a[tap * CONV_IGEMM_MR + r] points at channel 0 of X's pixel
 * (c floats per pixel), or at `zero` in the padding. Rows from `rows` to
 * CONV_IGEMM_MR repeat the last pixel (computed, never stored). */
void conv_igemm_pointers(const conv_gemm_shape *s, int64_t kh, int64_t kw, const float *x,
                         int64_t c, const float *zero, int64_t p0, int64_t rows,
                         const float **a);
/* Output channels per packed panel: 32 (AVX-512) or 16 (AVX2, or
 * ONNXI_CONV=avx2). */
int64_t conv_igemm_panel_width(void);
/* Y[rows x m] = A[rows x c] * W (plus B) for a g packed as a 1x1 conv,
 * never set up: no epilogue, output channels of panels [p0, p1) only
 * (conv_igemm_panel_width() each). rows <= CONV_IGEMM_MR, A's rows lda
 * floats apart, Y's m. The GEMMs of conv_winograd.c. */
void conv_igemm_rows(const conv_igemm *g, const float *a, int64_t lda, int64_t rows, float *y,
                     int64_t p0, int64_t p1);
void conv_igemm_destroy(conv_igemm *g);
#endif

#endif
