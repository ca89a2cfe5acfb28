/* Shared between exec.c (session, run) and exec_plan.c (planning). */
#ifndef ONNXI_EXEC_INTERNAL_H
#define ONNXI_EXEC_INTERNAL_H

#include "exec.h"

#define EXEC_MAX_IO 1024 /* inputs or outputs of one node (Concat/Sum fan-in) */

/* One-time XNNPACK initialisation (thread-safe). */
onnxi_status exec_xnnpack_init(onnxi_error *err);
void exec_context_init(const exec_session *s, int32_t node, exec_plan *p, onnxi_error *err,
                       op_context *ctx);
size_t exec_dtype_elem_size(int32_t dtype);
bool exec_plan_matches(const exec_plan *p, const int32_t *ranks,
                       const int64_t (*dims)[IR_MAX_RANK], const void *const *feed);
onnxi_status exec_plan_build(exec_session *s, const int32_t *ranks,
                             const int64_t (*dims)[IR_MAX_RANK], const void *const *feed,
                             exec_plan **out, onnxi_error *err);
void exec_plan_free(exec_plan *p);
/* Runs one step of the current plan (exec_session_run's loop body; also used
 * by the profiled run in session_stats.c). */
onnxi_status exec_step_run(exec_session *s, const exec_step *step, onnxi_error *err);
/* "Swish" or "HardSwish" for a node carrying onnxi.activation (the conv-act
 * pass), else "": for profiles and plan dumps. */
const char *exec_node_act_name(const ir_node *n);

#endif
