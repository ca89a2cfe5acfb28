#ifndef ONNXI_REORDER_H
#define ONNXI_REORDER_H

#include <stddef.h>

#include "kernel.h"

/* Copies a rank-4 tensor into dst's layout (src and dst differ in layout,
 * share dims). elem: bytes per element. */
void reorder_run(const op_tensor *src, op_tensor *dst, size_t elem, pthreadpool_t pool);

#endif
