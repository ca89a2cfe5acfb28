/* The executor: a session binds kernels to one model's graph; a plan is the
 * graph specialised to concrete input shapes (tensors, steps, memory).
 *
 * Session creation runs every kernel's init (attribute checks, weight
 * packing). The first run with given input shapes builds a plan: shape
 * inference node by node, constant propagation (nodes whose inputs are all
 * known are computed now), layout assignment with NCHW<->NHWC reorder steps
 * only where a kernel needs them, then a static memory plan and kernel setup.
 * Runs with the same input shapes reuse the plan; nothing allocates in run. */
#ifndef ONNXI_EXEC_H
#define ONNXI_EXEC_H

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"
#include "ir.h"
#include "kernel.h"
#include "plan.h"

typedef struct exec_step {
  int32_t node;      /* IR_NONE: a layout reorder of ins[0] into outs[0] */
  int32_t n_in, n_out;
  int32_t *ins;      /* tensor ids; IR_NONE for an omitted input */
  int32_t *outs;
  int32_t fused;     /* node of an Add folded into this Conv step (plan_residual_fuse), or IR_NONE */
} exec_step;

typedef struct exec_tensor {
  op_tensor t;
  int32_t value;      /* IR value it stands for (also for its layout conversions) */
  int32_t view_of;    /* tensor whose bytes this one shares, IR_NONE if its own */
  int32_t group;      /* buffer group (views and in-place share one), IR_NONE for consts */
  int32_t first, last; /* step range it is live over (set for produced tensors) */
} exec_tensor;

typedef struct exec_group {
  size_t size;
  int32_t first, last;
  bool pinned;   /* graph input or output: own storage, not in the arena */
  int32_t buffer; /* memory_plan buffer id */
  void *pinned_data;
} exec_group;

typedef struct exec_plan {
  /* the key: input shapes, and input contents that shapes were computed from */
  int32_t n_inputs;
  int32_t *input_rank;
  int64_t (*input_dims)[IR_MAX_RANK];
  bool *input_data_used;
  void **input_data_copy;
  size_t *input_data_bytes;
  const void *const *feed; /* caller's input data while planning */

  exec_tensor *tensors;  /* [0, n_values) mirror IR values; then temporaries */
  int32_t n_tensors, cap_tensors;
  exec_step *steps;
  int32_t n_steps, cap_steps;
  exec_group *groups;
  int32_t n_groups, cap_groups;
  int32_t *output_tensor; /* per graph output: tensor holding its PLAIN bytes */
  memory_plan mem;
  void *arena_data;
  arena consts; /* plan-time constants, step arrays */
  double work;  /* estimated operations per run, plan-time folds included */
} exec_plan;

typedef struct exec_session {
  const ir_model *model;
  const char *name; /* model file name for messages */
  pthreadpool_t pool;
  int threads;
  const op_kernel **kernels; /* per node */
  void **states;             /* per node */
  bool *inited;
  exec_plan *plan;
  size_t max_bytes; /* cap on model weights + plan memory (onnxi_session_options) */
  double max_work;  /* cap on exec_plan.work; 0 = none (onnxi_session_options) */
} exec_session;

/* Every node must have a kernel; errors name the first one that has none. */
onnxi_status exec_model_check(const ir_model *m, onnxi_error *err);

/* threads: 0 = all cores, 1 = the calling thread only. */
onnxi_status exec_session_create(const ir_model *m, int threads, exec_session **out,
                                 onnxi_error *err);
void exec_session_free(exec_session *s);

/* Builds (or reuses) the plan for these input shapes; `feed[i]` is the data
 * of graph input i (needed when shapes depend on input contents). */
onnxi_status exec_session_prepare(exec_session *s, const int32_t *ranks,
                                  const int64_t (*dims)[IR_MAX_RANK], const void *const *feed,
                                  onnxi_error *err);
/* Copies inputs in, runs every step, leaves outputs in plan tensors. The
 * inputs must match the shapes given to exec_session_prepare. */
onnxi_status exec_session_run(exec_session *s, const void *const *feed, onnxi_error *err);
/* Output i of the last run (PLAIN layout): valid until the next prepare/run. */
const op_tensor *exec_session_output(const exec_session *s, int i);

/* Prints the plan: step, op, node, inputs, outputs, layout, arena offset, bytes. */
void exec_plan_print(FILE *f, const exec_session *s);
/* Concrete shape of an IR value in the current plan: its rank (dims filled),
 * or -1 when there is no plan or the value was never computed. */
int32_t exec_plan_value_shape(const exec_session *s, int32_t value, int64_t *dims);

#endif
