/* 3x3 stride-1 dense convolution by Winograd's F(2x2, 3x3), NHWC, own
 * code for AVX-512F or AVX2 + FMA (x86-64, next to conv_igemm.h).
 *
 * Each 2x2 block of output pixels comes from a 4x4 input patch d: with the
 * transforms V = B^T d B (input), U = G g G^T (filter, once at packing) and
 * Y = A^T M A (output), M[xi] = sum over c of V[xi][c] * U[xi][c][k] at each
 * of the 16 positions xi is 16 plain GEMMs of 16 multiply-adds per block
 * and channel pair, against 36 for the direct conv: 2.25x fewer FLOPs.
 * The transforms' constants are 0, +-1 and 1/2, so the rounding error stays
 * that of a sum of a few more terms. The GEMMs run on the own dense tile
 * (conv_igemm_rows: 12x32, or 6x16 on AVX2), a block of pixel tiles at a
 * time so V and M stay in L2; bias, residual, clamp and activation are
 * applied in the output transform. */
#ifndef ONNXI_OPS_CONV_WINOGRAD_H
#define ONNXI_OPS_CONV_WINOGRAD_H

#include "conv_igemm.h"

#ifdef ONNXI_HAVE_IGEMM
#define ONNXI_HAVE_WINOGRAD 1

typedef struct conv_wino conv_wino;

/* Whether a conv the own dense kernel would take should take this path in
 * this plan: 3x3, stride and dilation 1, at least 32 input channels, both
 * counts multiples of 16, at least WN_MIN_TILES (conv_winograd.c) 2x2
 * output blocks per thread, or at least WN_MIN_TILES in all and
 * WN_SPLIT_M_PANELS panels of conv_igemm_panel_width() channels per thread,
 * which then split the channels.
 * ONNXI_WINOGRAD=0 turns it off; ONNXI_WINOGRAD=1
 * drops the size rule (tests). */
bool conv_wino_wanted(int64_t group, int64_t c, int64_t m, int64_t kh, int64_t kw,
                      const conv_gemm_shape *sh, size_t threads);
/* Transforms and packs W (logical OIHW addressed by element strides ws, 3x3)
 * and B (NULL: zeros). */
onnxi_status conv_wino_create(const op_context *ctx, const float *w, const int64_t *ws,
                              const float *b, int64_t c, int64_t m, conv_wino **out);
/* Binds one plan's geometry, buffers and epilogue; sizes the scratch for
 * ctx's pool threads. */
onnxi_status conv_wino_setup(const op_context *ctx, conv_wino *wn, const conv_gemm_shape *sh,
                             const float *x, float *y, const conv_epilogue *ep);
void conv_wino_run(conv_wino *wn, pthreadpool_t pool);
void conv_wino_destroy(conv_wino *wn);
#endif

#endif
