/* The op kernel contract (TFLite Micro's init/prepare/invoke/free and
 * XNNPACK's create/setup/run are the models).
 *
 *   init     load time, once per session: validate attributes and static
 *            inputs, parse them into `state`; may pack constant weights.
 *   layout   plan time: the storage layout wanted for rank-4 inputs (NULL =
 *            always IR_LAYOUT_PLAIN). The executor reorders inputs to match.
 *   infer    plan time, per input shape: set every output's dtype, rank, dims
 *            and layout (default PLAIN; NHWC only for rank 4). May mark an
 *            output constant and fill it now (op_tensor_const_alloc), e.g. Shape.
 *   setup    plan time, after memory is placed: every data pointer is final
 *            (and stays so for the plan): bind buffers (xnn_setup_*), size
 *            scratch. Nothing may allocate in run.
 *   run      run time: compute outputs from inputs.
 *   release  free whatever init/setup allocated.
 *
 * Nodes whose inputs are all constant are computed at plan time by calling
 * setup + run once into plan-owned memory (constant propagation of shape
 * math). Tensors carry logical ONNX dims; `layout` says how data is stored. */
#ifndef ONNXI_OPS_KERNEL_H
#define ONNXI_OPS_KERNEL_H

#include <pthreadpool.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* Loops worth vectorising beyond the baseline ISA: on x86-64 with GCC,
 * compiled for x86-64-v4 (AVX-512), v3 (AVX2+FMA) and baseline, picked at
 * load time (ifunc). Not under ThreadSanitizer: the ifunc resolver runs
 * (instrumented) before the TSan runtime is up and crashes the process.
 * Elsewhere GCC's full cost model still vectorises them for the baseline. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define OP_HAVE_TARGET_CLONES 1
#define OP_VECTOR_LOOP                                                              \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"),       \
                 optimize("fp-contract=fast", "vect-cost-model=dynamic")))
#elif defined(__GNUC__) && !defined(__clang__)
#define OP_VECTOR_LOOP __attribute__((optimize("fp-contract=fast", "vect-cost-model=dynamic")))
#else
#define OP_VECTOR_LOOP
#endif

typedef struct op_tensor {
  int32_t dtype;
  int32_t rank;
  int64_t dims[IR_MAX_RANK]; /* logical (ONNX) dims */
  int64_t count;             /* product of dims, set by the executor after infer */
  ir_layout layout;          /* storage order of data */
  bool is_const;             /* contents known at plan time */
  void *data;                /* const: from infer on; otherwise bound before setup */
  size_t nbytes;
} op_tensor;

struct exec_plan;

typedef struct op_context {
  const char *model;    /* file name, for messages */
  const ir_graph *graph;
  const ir_node *node;
  int64_t opset;        /* default-domain opset of the model */
  pthreadpool_t threadpool; /* NULL: run on the calling thread */
  onnxi_error *err;
  struct exec_plan *plan; /* plan being built (infer/setup only) */
  const ir_node *fused;   /* setup only: an Add folded into this step (OP_KERNEL_RESIDUAL) */
} op_context;

enum {
  OP_KERNEL_VIEW = 1u << 0,    /* output 0 may share input 0's bytes (Reshape, Identity...) */
  OP_KERNEL_INPLACE = 1u << 1, /* output 0 may overwrite input 0 (same size) */
  OP_KERNEL_NO_FOLD = 1u << 2, /* never evaluate at plan time even if inputs are const */
  OP_KERNEL_LAYOUT_INPUT0 = 1u << 3, /* only input 0 follows `layout` (Conv: weights stay OIHW) */
  /* a following Add(Y, R) may fold in at plan time: R arrives as input 3
   * (after X, W, B), in Y's shape and layout, and setup sees ctx->fused, the
   * Add node, whose clamp then applies to Y + R */
  OP_KERNEL_RESIDUAL = 1u << 4
};

typedef struct op_kernel {
  const char *name;
  size_t state_size; /* zeroed before init */
  uint32_t flags;
  onnxi_status (*init)(op_context *ctx, void *state);
  ir_layout (*layout)(const op_context *ctx, const void *state, op_tensor *const *in, int n_in);
  onnxi_status (*infer)(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                        op_tensor *const *out, int n_out);
  onnxi_status (*setup)(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                        op_tensor *const *out, int n_out);
  onnxi_status (*run)(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                      op_tensor *const *out, int n_out);
  void (*release)(void *state);
  /* Kernel path the current plan took ("xnn-conv", "blas-im2col", "ref"...)
   * for profiles; NULL hook or NULL result: not reported. */
  const char *(*path)(const void *state);
  /* OP_KERNEL_RESIDUAL kernels: whether folding the Add in pays here (Conv:
   * only its own AVX-512 kernels add R in their epilogue; elsewhere the fold
   * would be one more pass, as the Add is). */
  bool (*residual_ok)(const void *state);
} op_kernel;

/* The dispatch table generated from interp/op_list.inc; NULL for ops that
 * only import (IR_OP_UNKNOWN). */
const op_kernel *op_kernel_find(ir_op op);

/* --- helpers for kernels (ops/kernel.c) --- */

/* Error prefixed with "node 'NAME' (OpType): ". Returns status. */
onnxi_status op_error(const op_context *ctx, onnxi_status status, const char *fmt, ...)
    ONNXI_PRINTF(3, 4);

/* Attributes: a missing attribute yields the default; a present one of the
 * wrong type is an error naming it. Lists point into the model arena. */
onnxi_status op_attr_int(const op_context *ctx, const char *name, int64_t def, int64_t *out);
onnxi_status op_attr_float(const op_context *ctx, const char *name, float def, float *out);
onnxi_status op_attr_string(const op_context *ctx, const char *name, const char *def,
                            const char **out);
onnxi_status op_attr_ints(const op_context *ctx, const char *name, const int64_t **out,
                          int64_t *n); /* *n = -1 when absent */
onnxi_status op_attr_floats(const op_context *ctx, const char *name, const float **out,
                            int64_t *n); /* *n = -1 when absent */

/* Input/output counts between min and max of each, the first `min` present;
 * otherwise an error naming what is wrong. */
onnxi_status op_io_check(const op_context *ctx, int min_in, int max_in, int min_out, int max_out);
/* What every kernel may assume before init: output 0 is present (each op
 * supported has a required first output; ONNX's "" marks an omitted one). */
onnxi_status op_node_check(const op_context *ctx);
/* Input k's IR value when it is a load-time constant, else NULL. */
const ir_value *op_input_const(const op_context *ctx, int k);
/* Number of inputs actually given (trailing omitted ones dropped). */
int op_input_count(const op_context *ctx);

/* Plan time: make `t` constant with fresh zeroed plan-owned storage for its
 * dtype and dims (call after setting dtype/rank/dims). */
onnxi_status op_tensor_const_alloc(op_context *ctx, op_tensor *t);
/* Plan time: input data needed to compute shapes (Reshape's shape, Slice's
 * starts...). Returns the data of a constant tensor, or of a graph input
 * (the plan then depends on that input's contents), else an error naming the
 * input. */
onnxi_status op_tensor_plan_value(op_context *ctx, const op_tensor *t, int k, const void **data);
/* Reads element i of an integer tensor (int32/int64/uint8... any integer dtype) as int64. */
int64_t op_tensor_int_at(const op_tensor *t, int64_t i);

/* Gives out x's dtype, dims and (for rank 4) layout: elementwise outputs. */
void op_tensor_like(op_tensor *out, const op_tensor *x);
/* Element count with overflow check; false on overflow or negative dims. */
bool op_dims_count(const int64_t *dims, int rank, int64_t *count);
/* ONNX axis normalisation: axis in [-rank, rank) -> [0, rank), else error. */
onnxi_status op_axis_normalize(const op_context *ctx, const char *what, int64_t axis, int rank,
                               int *out);
/* Numpy broadcasting of two shapes; error naming both when incompatible. */
onnxi_status op_broadcast_shape(const op_context *ctx, const op_tensor *a, const op_tensor *b,
                                int *rank, int64_t *dims);

/* Layout helpers. A rank-4 tensor whose C == 1 or H*W == 1 has the same
 * bytes in both layouts ("trivial"). */
bool op_layout_trivial(const int64_t *dims, int rank);
/* Logical dims padded on the left to `rank` then permuted to storage order
 * of `layout` (NHWC: N,H,W,C when rank == 4). */
void op_storage_dims(const op_tensor *t, int rank, ir_layout layout, int64_t *dims);
/* Storage axis of logical axis `axis` in a rank-4 tensor of `layout`. */
int op_storage_axis(int axis, int rank, ir_layout layout);
/* layout callbacks: always NHWC; NHWC when some rank-4 input is NHWC and
 * every other input can be viewed that way (elementwise, concat...). */
ir_layout op_layout_nhwc(const op_context *ctx, const void *state, op_tensor *const *in, int n_in);
ir_layout op_layout_follow(const op_context *ctx, const void *state, op_tensor *const *in,
                           int n_in);

/* float16 / bfloat16 conversions (round to nearest even). */
float op_f16_to_f32(uint16_t h);
uint16_t op_f32_to_f16(float f);
float op_bf16_to_f32(uint16_t h);
uint16_t op_f32_to_bf16(float f);

#define OP_KERNELS_DECLARE(k) extern const op_kernel op_##k;

/* init hook of an op that is listed but not implemented yet. */
onnxi_status op_init_unimplemented(op_context *ctx, void *state);

#endif
