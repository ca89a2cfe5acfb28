/* Placeholder kernels: replaced by the real family implementation. */
#include "kernel.h"

const op_kernel op_gemm = {.name = "Gemm", .init = op_init_unimplemented};
const op_kernel op_matmul = {.name = "MatMul", .init = op_init_unimplemented};
const op_kernel op_einsum = {.name = "Einsum", .init = op_init_unimplemented};
