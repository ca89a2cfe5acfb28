/* GlobalAveragePool over float NHWC with an own AVX-512 loop (x86-64 with
 * AVX-512F; XNNPACK elsewhere). XNNPACK's global pooling parallelises over
 * images only, so at batch 1 one core read the whole map, half of it from
 * the other core's cache: EfficientNet-B0's 17 took 0.30 ms at 2 threads,
 * 0.17 at 1. Here each thread sums the block of pixels it wrote in the
 * step before (the own convs split pixels the same way) into its own row
 * of partial sums, and the calling thread adds the rows. */
#ifndef ONNXI_OPS_POOL_GAP_H
#define ONNXI_OPS_POOL_GAP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"

typedef struct pool_gap {
  const float *x;
  float *y;
  float *part; /* [n][POOL_GAP_CHUNKS][c] partial sums */
  size_t part_cap;
  int64_t n, hw, c, chunks;
} pool_gap;

/* Whether this CPU runs the own loop. */
bool pool_gap_available(void);
/* Binds X [n, hw, c] and Y [n, c]; sizes the partial sums. */
onnxi_status pool_gap_setup(const op_context *ctx, pool_gap *g, const float *x, float *y,
                            int64_t n, int64_t hw, int64_t c);
void pool_gap_run(pool_gap *g, pthreadpool_t pool);
void pool_gap_release(pool_gap *g);

#endif
