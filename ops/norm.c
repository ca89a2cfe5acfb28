/* Placeholder kernels: replaced by the real family implementation. */
#include "kernel.h"

const op_kernel op_batch_normalization = {.name = "BatchNormalization", .init = op_init_unimplemented};
const op_kernel op_instance_normalization = {.name = "InstanceNormalization", .init = op_init_unimplemented};
