/* Window geometry shared by Conv, ConvTranspose and the pools (private to
 * ops/conv.c and ops/pool.c; implemented in ops/conv.c).
 *
 * Attributes are parsed once at init (conv_attrs) and resolved against a
 * concrete input shape at plan time (conv_geom): explicit pads, auto_pad
 * SAME_UPPER / SAME_LOWER / VALID, strides, dilations and ceil_mode. */
#ifndef ONNXI_OPS_CONV_UTIL_H
#define ONNXI_OPS_CONV_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <xnnpack.h>

#include "kernel.h"

#define CONV_MAX_SP (IR_MAX_RANK - 2) /* spatial dims of a rank-8 tensor */

typedef enum conv_auto_pad {
  CONV_AUTO_PAD_NOTSET = 0,
  CONV_AUTO_PAD_SAME_UPPER,
  CONV_AUTO_PAD_SAME_LOWER,
  CONV_AUTO_PAD_VALID
} conv_auto_pad;

/* Window attributes as written on the node; n_* is -1 when absent. Every
 * value is range-checked (kernel, strides, dilations >= 1, pads >= 0, all
 * below 2^31 so XNNPACK's uint32 parameters and int64 sums cannot overflow). */
typedef struct conv_attrs {
  int64_t kernel[CONV_MAX_SP];
  int64_t strides[CONV_MAX_SP];
  int64_t dilations[CONV_MAX_SP];
  int64_t pads[2 * CONV_MAX_SP];
  int n_kernel, n_strides, n_dilations, n_pads;
  conv_auto_pad auto_pad;
  bool ceil_mode;
} conv_attrs;

/* Geometry for one input shape. pad_end may be negative for ConvTranspose
 * (output extended past the last input contribution). */
typedef struct conv_geom {
  int nsp;
  int64_t in[CONV_MAX_SP], out[CONV_MAX_SP];
  int64_t kernel[CONV_MAX_SP], stride[CONV_MAX_SP], dilation[CONV_MAX_SP];
  int64_t pad_begin[CONV_MAX_SP], pad_end[CONV_MAX_SP];
} conv_geom;

/* Reads kernel_shape, strides, dilations (if allow_dilations), pads,
 * auto_pad and ceil_mode (if allow_ceil). */
onnxi_status conv_attrs_parse(const op_context *ctx, conv_attrs *a, bool allow_dilations,
                              bool allow_ceil);
/* Reads an INTS attribute of at most `max` values, each in [lo, 2^31);
 * *n = -1 when absent. */
onnxi_status conv_attr_dims(const op_context *ctx, const char *name, int64_t lo, int max,
                            int64_t *v, int *n);

/* Fills g->kernel/stride/dilation for nsp spatial dims: the kernel comes from
 * the attribute or from `wkernel` (W's spatial dims, NULL for pools) and both
 * must agree; list lengths must match nsp. */
onnxi_status conv_geom_window(const op_context *ctx, const conv_attrs *a, int nsp,
                              const int64_t *wkernel, conv_geom *g);
/* Forward (conv / pool) output sizes and pads for spatial input `in`; fails
 * when the dilated kernel exceeds the padded input. */
onnxi_status conv_geom_forward(const op_context *ctx, const conv_attrs *a, const int64_t *in,
                               conv_geom *g);

/* Element strides of each logical dim of t given its storage layout. */
void conv_tensor_strides(const op_tensor *t, int64_t *strides);
/* Product of n values (callers have bounded them). */
int64_t conv_prod(const int64_t *v, int n);

/* Optional output clamp set by fusion passes: node attributes
 * "onnxi.clamp_min" / "onnxi.clamp_max" (floats), default -inf / +inf. */
onnxi_status conv_clamp_parse(const op_context *ctx, float *lo, float *hi);

/* Status and message for a failed XNNPACK call. */
onnxi_status conv_xnn_error(const op_context *ctx, const char *what, enum xnn_status st);

/* Runs fn over [0, range) in tiles on the pool (NULL: calling thread). */
void conv_parallelize(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t fn, void *arg,
                      size_t range);

#endif
