/* Dispatch table generated from the one op list. */
#include "kernel.h"

#define OP(e, n, k, f, s) extern const op_kernel op_##k;
#include "op_list.inc"
#undef OP

static const op_kernel *const op_kernel_table[IR_OP_COUNT] = {
    [IR_OP_UNKNOWN] = NULL,
#define OP(e, n, k, f, s) [IR_OP_##e] = &op_##k,
#include "op_list.inc"
#undef OP
};

const op_kernel *op_kernel_find(ir_op op) {
  return (op > IR_OP_UNKNOWN && op < IR_OP_COUNT) ? op_kernel_table[op] : NULL;
}
