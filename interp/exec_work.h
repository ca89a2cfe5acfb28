/* How much arithmetic a node costs, from its planned shapes: the FLOP count
 * `onnxi bench --profile` reports, and the bound the planner checks against
 * onnxi_session_options.max_run_ops so that an untrusted model cannot ask
 * for hours of compute with a few bytes of attributes. */
#ifndef ONNXI_EXEC_WORK_H
#define ONNXI_EXEC_WORK_H

#include "ir.h"
#include "kernel.h"

/* 2 x multiply-adds of Conv, ConvTranspose, Gemm and MatMul; else 0.
 * a, w: the node's first two inputs, y: its first output (NULL: 0). */
double exec_node_flops(const ir_node *node, const op_tensor *a, const op_tensor *w,
                       const op_tensor *y);

/* An upper estimate of the work of one run of the node: its FLOPs where
 * known, every (input element, filter tap) for pooling, the product of the
 * input sizes for Einsum (each index's extent appears in some input), every
 * (output element, filter tap) for ConvTranspose, and the elements read plus
 * written otherwise. */
double exec_node_work(const ir_node *node, op_tensor *const *in, int32_t n_in,
                      op_tensor *const *out, int32_t n_out);

#endif
