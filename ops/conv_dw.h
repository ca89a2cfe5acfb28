/* Depthwise 2-D convolution in NHWC for filters of more than 25 taps.
 *
 * Debian's XNNPACK runs these (ConvNeXt's 7x7, 49 taps) at ~4 GFLOP/s, a
 * tenth of its 3x3 speed: its unipass depthwise kernels stop at 25 taps.
 * This loop keeps 64 channels of one output pixel in registers while it
 * walks the filter, vectorised per ISA. ONNXI_DWCONV=xnn turns it off (for
 * side-by-side measurements). */
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
 * [kh][kw][c] and copies B (NULL: zeros); lo/hi is the fused clamp. */
onnxi_status conv_dw_create(const op_context *ctx, const float *w, const int64_t *ws,
                            const float *b, int64_t c, int64_t kh, int64_t kw, float lo, float hi,
                            conv_dw **out);
/* Binds the geometry (strides, dilations, top/left padding) and buffers. */
void conv_dw_setup(conv_dw *d, const conv_gemm_shape *sh, const float *x, float *y);
void conv_dw_run(conv_dw *d, pthreadpool_t pool);
void conv_dw_destroy(conv_dw *d);

#endif
