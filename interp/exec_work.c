/* Work estimates from planned shapes (see exec_work.h). Doubles: a hostile
 * model's products overflow int64, and only the order of magnitude matters. */
#include "exec_work.h"

/* Elements of a tensor per unit of its leading dim (0 when unknown). */
static double work_per_row(const op_tensor *t) {
  if (!t || t->rank < 1 || t->dims[0] <= 0) return 0;
  return (double)t->count / (double)t->dims[0];
}

/* Every output element of Conv is a dot product of one filter (weights per
 * output channel); ConvTranspose spreads every input element over one
 * filter; Gemm and MatMul reduce over K. */
double exec_node_flops(const ir_node *node, const op_tensor *a, const op_tensor *w,
                       const op_tensor *y) {
  if (!a || !w || !y) return 0;
  switch (node->op) {
  case IR_OP_CONV:
    return 2.0 * (double)y->count * work_per_row(w);
  case IR_OP_CONV_TRANSPOSE:
    return 2.0 * (double)a->count * work_per_row(w);
  case IR_OP_GEMM: {
    const ir_attr *ta = ir_node_attr(node, "transA");
    bool trans = ta && ta->type == IR_ATTR_INT && ta->i != 0;
    if (a->rank != 2) return 0;
    return 2.0 * (double)y->count * (double)a->dims[trans ? 0 : 1];
  }
  case IR_OP_MATMUL:
    if (a->rank < 1) return 0;
    return 2.0 * (double)y->count * (double)a->dims[a->rank - 1];
  default:
    return 0;
  }
}

/* Taps of a pooling window (kernel_shape's product; 1 when absent). */
static double work_pool_taps(const ir_node *node) {
  const ir_attr *k = ir_node_attr(node, "kernel_shape");
  double taps = 1;
  if (k && k->type == IR_ATTR_INTS)
    for (int64_t i = 0; i < k->n; i++) taps *= k->ints[i] > 1 ? (double)k->ints[i] : 1.0;
  return taps;
}

static double work_count(op_tensor *const *t, int32_t n) {
  double sum = 0;
  for (int32_t i = 0; i < n; i++)
    if (t[i]) sum += (double)t[i]->count;
  return sum;
}

double exec_node_work(const ir_node *node, op_tensor *const *in, int32_t n_in,
                      op_tensor *const *out, int32_t n_out) {
  const op_tensor *y = n_out > 0 ? out[0] : NULL;
  double flops = exec_node_flops(node, n_in > 0 ? in[0] : NULL, n_in > 1 ? in[1] : NULL, y);
  double moved = work_count(in, n_in) + work_count(out, n_out);
  switch (node->op) {
  case IR_OP_MAX_POOL:
  case IR_OP_AVERAGE_POOL:
    return moved + (y ? (double)y->count * work_pool_taps(node) : 0);
  case IR_OP_CONV_TRANSPOSE: {
    /* the reference kernel visits every (output position, filter tap) */
    const op_tensor *w = n_in > 1 ? in[1] : NULL;
    double taps = 1;
    for (int32_t d = 2; w && d < w->rank; d++) taps *= (double)w->dims[d];
    return moved + flops + (y ? (double)y->count * taps : 0);
  }
  case IR_OP_EINSUM: {
    double prod = 1;
    for (int32_t i = 0; i < n_in; i++)
      if (in[i]) prod *= (double)in[i]->count;
    return moved + 2.0 * prod;
  }
  default:
    return moved + flops;
  }
}
