/* Grouped and depthwise 2-D convolution with narrow groups (1, 2, 4 or 8
 * channels in and out per group) or wide ones (16, 32, 48 or 64), NHWC,
 * own AVX-512 kernels (x86-64 CPUs with AVX-512F), and AVX2 + FMA tiles
 * for groups of 4, 8 and multiples of 16 (tile256.h; XNNPACK ran
 * ResNeXt-50's at 4-28 GFLOP/s on Zen 3). Compiled out elsewhere, where
 * XNNPACK runs these.
 *
 * Debian's XNNPACK runs ResNeXt-50's grouped 3x3 convs (4 and 8 channels
 * per group) at 19-58 GFLOP/s on Zen 5 and depthwise 3x3/5x5 at 35-45, and
 * splits them across threads by channels where every other step splits by
 * pixels. Here one zmm holds 16 output channels, 16/cg whole groups. Per
 * filter tap a tile loads each pixel's 16 input channels of those groups
 * once; for each input j of a group, a permute spreads element j of every
 * group across that group's lanes (in-lane for cg <= 4, cross-lane for 8)
 * and one FMA with 16 packed weights accumulates: no zero-padded FLOPs. A
 * tile is up to 12 output pixels with their per-tap input pointers built
 * once (conv_igemm_pointers); threads split the pixel tiles, as in
 * conv_igemm.c.
 *
 * Wide groups take the dense kernel's scheme inside each group: a
 * broadcast input element times 16 or 32 packed weights of the group's
 * outputs. XNNPACK ran ResNeXt-50's 16- and 32-channel groups at
 * 140-150 GFLOP/s at 1 thread but only 1.3-1.6x faster at 2 threads
 * (split by channels; 0.15 ms for the 14x14 ones against 0.115 here).
 * ONNXI_CONV=xnn|blas turns both off. */
#ifndef ONNXI_OPS_CONV_GROUPED_H
#define ONNXI_OPS_CONV_GROUPED_H

#include <stdbool.h>
#include <stdint.h>

#include "conv_igemm.h"

#ifdef ONNXI_HAVE_IGEMM
typedef struct conv_grouped conv_grouped;

/* Whether a conv with these sizes should take this path: group > 1 with
 * c/group = m/group in {1, 2, 4, 8, 16, 32, 48, 64} (AVX2: 4 and up), at
 * most 64 taps; depthwise (1) only where conv_grouped_dw_fits. */
bool conv_grouped_wanted(int64_t group, int64_t c, int64_t m, int64_t kh, int64_t kw);
/* Depthwise: whether a plan with c channels, taps filter taps, an output
 * map of this many pixels per image and activation act (op_act) suits this
 * kernel; bigger maps take conv_dw.h's, thin ones without act XNNPACK. */
bool conv_grouped_dw_fits(int64_t c, int64_t taps, int64_t pixels, int act);
/* Packs W (logical [c, c/group, kh, kw] addressed by element strides ws)
 * and B (NULL: zeros). */
onnxi_status conv_grouped_create(const op_context *ctx, const float *w, const int64_t *ws,
                                 const float *b, int64_t c, int64_t group, int64_t kh,
                                 int64_t kw, conv_grouped **out);
/* Binds one plan's geometry, buffers and epilogue (conv_igemm.h). */
void conv_grouped_setup(conv_grouped *g, const conv_gemm_shape *sh, const float *x, float *y,
                        const conv_epilogue *ep);
void conv_grouped_run(conv_grouped *g, pthreadpool_t pool);
void conv_grouped_destroy(conv_grouped *g);
#endif

#endif
