/* Dense 2-D convolution as SGEMM through BLIS (x86-64 builds with
 * ONNXI_BLAS; compiled out elsewhere, where XNNPACK runs every conv).
 *
 * Debian's XNNPACK runs f32 GEMM at ~33 GFLOP/s on x86-64 (its FMA3 kernel
 * spills); BLIS's reaches 70-100 on ResNet layer shapes. A conv over NHWC
 * input is Y[P x M] = A[P x K] * B[K x M] per group, P = output pixels,
 * K = kh*kw*C/group: 1x1 stride-1 unpadded convs read A straight from X,
 * others gather it (im2col) chunk by chunk into scratch sized at setup. The
 * weights are packed to B once at create; bias and the fused clamp are
 * applied to each chunk while it is hot in cache. Threads split P; each
 * calls the (serial, reentrant) BLIS on its own rows. */
#ifndef ONNXI_OPS_CONV_GEMM_H
#define ONNXI_OPS_CONV_GEMM_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

typedef struct conv_gemm conv_gemm;

/* Geometry of one plan: NHWC X [n, ih, iw, c] -> NHWC Y [n, oh, ow, m]. */
typedef struct conv_gemm_shape {
  int64_t n, ih, iw, oh, ow;
  int64_t sh, sw, dh, dw; /* strides, dilations */
  int64_t pt, pl;         /* top and left padding */
} conv_gemm_shape;

/* What the own kernels do to a tile as it leaves the registers, in this
 * order: add res (NULL: none; a folded residual Add, in Y's layout), clamp
 * to [lo, hi], apply act (op_act, ops/act.h). */
typedef struct conv_epilogue {
  const float *res;
  float lo, hi;
  int act;
} conv_epilogue;

#ifdef ONNXI_HAVE_BLAS
/* Whether the GEMM path should run a conv with these sizes (per group:
 * k = kh*kw*c/group reduction, mg = output channels). ONNXI_CONV=xnn in the
 * environment turns it off (for side-by-side measurements). */
bool conv_gemm_wanted(int64_t group, int64_t k, int64_t mg);
/* Packs W (logical OIHW addressed by element strides ws) and copies B
 * (NULL: none). c, m: input and output channels. */
onnxi_status conv_gemm_create(const op_context *ctx, const float *w, const int64_t *ws,
                              const float *b, int64_t c, int64_t m, int64_t group, int64_t kh,
                              int64_t kw, float lo, float hi, conv_gemm **out);
/* Binds one plan's shape and buffers; sizes scratch for the pool's threads. */
onnxi_status conv_gemm_setup(const op_context *ctx, conv_gemm *cg, const conv_gemm_shape *sh,
                             const float *x, float *y);
void conv_gemm_run(conv_gemm *cg, pthreadpool_t pool);
void conv_gemm_destroy(conv_gemm *cg);
/* "blas-gemm" (X read in place) or "blas-im2col", for profiles. */
const char *conv_gemm_path(const conv_gemm *cg);

/* Y = alpha A B for ops/gemm.c's float products (element strides; Y rows
 * contiguous), single-threaded: callers split rows over their pool. */
void conv_gemm_sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t a_rs,
                     int64_t a_cs, const float *b, int64_t b_rs, int64_t b_cs, float *y,
                     int64_t y_rs);
/* Whether a float product of these sizes should go to BLIS rather than
 * the own AVX2 SGEMM (ONNXI_GEMM=own|blas overrides). */
bool conv_gemm_sgemm_wanted(int64_t m, int64_t n, int64_t k);
#endif

#endif
