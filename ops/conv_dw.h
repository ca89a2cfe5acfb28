/* Depthwise 2-D convolution in NHWC: every filter size on x86-64 CPUs with
 * AVX-512F, filters of more than 25 taps elsewhere (with AVX2 + FMA, the
 * same row strips 8 channels wide; else a generic loop).
 *
 * Debian's XNNPACK runs 7x7 filters (ConvNeXt's, 49 taps) at ~4 GFLOP/s, a
 * tenth of its 3x3 speed: its unipass depthwise kernels stop at 25 taps.
 * The generic loop keeps 64 channels of one output pixel in registers
 * while it walks the filter, vectorised per ISA. On AVX-512 an own kernel
 * takes the depthwise convs with big maps (conv_grouped.h's the small
 * ones). XNNPACK can apply no Swish or HardSwish, so a second pass over Y
 * followed its 3x3 and 5x5 kernels: EfficientNet-B0's five such layers
 * at 1 thread took 1.08 ms there, 0.85 here (32x112x112 3x3: 0.29 vs
 * 0.19). ONNXI_DWCONV=xnn turns it off (for side-by-side measurements). */
#ifndef ONNXI_OPS_CONV_DW_H
#define ONNXI_OPS_CONV_DW_H

#include <pthreadpool.h>
#include <stdbool.h>
#include <stdint.h>

#include "conv_gemm.h"
#include "kernel.h"

typedef struct conv_dw conv_dw;

/* Whether a conv of this shape (group, input channels c, output channels m,
 * filter kh x kw) should take this path. */
bool conv_dw_wanted(int64_t group, int64_t c, int64_t m, int64_t kh, int64_t kw);
/* Packs W (logical [c, 1, kh, kw] addressed by element strides ws) as
 * and copies B (NULL: zeros); lo/hi is the generic loop's fused clamp. */
onnxi_status conv_dw_create(const op_context *ctx, const float *w, const int64_t *ws,
                            const float *b, int64_t c, int64_t kh, int64_t kw, float lo, float hi,
                            conv_dw **out);
/* Binds the geometry (strides, dilations, top/left padding), buffers and
 * epilogue; the generic loop applies only the clamp given at create. */
void conv_dw_setup(conv_dw *d, const conv_gemm_shape *sh, const float *x, float *y,
                   const conv_epilogue *ep);
/* Whether the SIMD kernel (AVX-512 or AVX2) runs here (else the generic loop). */
bool conv_dw_simd(void);
/* SIMD kernel: whether a plan that conv_dw_wanted (taps filter taps, an
 * output map of this many pixels per image, activation act) suits the
 * kernel, or is better left to XNNPACK (on AVX-512, see
 * conv_grouped_dw_fits first). */
bool conv_dw_rows_fit(int64_t taps, int64_t pixels, int act);
/* Whether the kernel applies all of the epilogue (the AVX-512 one does). */
bool conv_dw_fuses_epilogue(const conv_dw *d);
void conv_dw_run(conv_dw *d, pthreadpool_t pool);
void conv_dw_destroy(conv_dw *d);

#endif
