/* Placeholder kernels: replaced by the real family implementation. */
#include "kernel.h"

const op_kernel op_resize = {.name = "Resize", .init = op_init_unimplemented};
const op_kernel op_upsample = {.name = "Upsample", .init = op_init_unimplemented};
