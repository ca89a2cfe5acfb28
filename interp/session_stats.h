/* Executor figures for `onnxi bench`: memory of the current plan, a run that
 * times every step, and a description of each step (label, output, FLOPs).
 * Kept apart from exec.c so the ordinary run loop carries no timing code. */
#ifndef ONNXI_SESSION_STATS_H
#define ONNXI_SESSION_STATS_H

#include "exec.h"

/* Activation arena of the current plan; 0 before the first prepare. */
size_t exec_session_arena_bytes(const exec_session *s);
/* Own storage of graph inputs and outputs (pinned, outside the arena). */
size_t exec_session_pinned_bytes(const exec_session *s);
/* Steps of the current plan (kernel runs and layout reorders); 0 before prepare. */
int32_t exec_session_step_count(const exec_session *s);

/* exec_session_run that also adds each step's wall time, in milliseconds, to
 * step_ms[i] (exec_session_step_count entries). Copying the inputs in is not
 * part of any step. */
onnxi_status exec_session_run_profiled(exec_session *s, const void *const *feed, double *step_ms,
                                       onnxi_error *err);

typedef struct exec_step_info {
  const char *name;     /* node name; for a reorder, the reordered value's name */
  char op[96];          /* "Conv", "Conv+Relu", "Conv+Add+Relu", "Reorder(NCHW>NHWC)" */
  const op_tensor *out; /* first output, NULL when there is none */
  double flops;         /* 2 x multiply-adds of Conv, ConvTranspose, Gemm, MatMul; else 0 */
  const char *path;     /* kernel path the step took ("blas-im2col", "xnn-conv"...), "" unknown */
  bool in_place;        /* output 0 shares an input's bytes: a view, or written over it */
} exec_step_info;

/* step must be in [0, exec_session_step_count). */
void exec_step_describe(const exec_session *s, int32_t step, exec_step_info *info);

#endif
