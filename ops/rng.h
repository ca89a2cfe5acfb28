/* MT19937, seeded and read the way numpy's legacy global generator does
 * (np.random.seed(int) then np.random.random_sample / uniform(0, 1)), so
 * that ops whose ONNX reference draws from numpy (training Dropout) give
 * the reference's exact numbers. */
#ifndef ONNXI_OPS_RNG_H
#define ONNXI_OPS_RNG_H

#include <stdint.h>

#define OP_RNG_N 624

typedef struct op_rng {
  uint32_t mt[OP_RNG_N];
  int pos;
} op_rng;

/* numpy's RandomState.seed(seed) for 0 <= seed < 2^32 (MT's init_genrand). */
void op_rng_seed(op_rng *r, uint32_t seed);
/* The next raw 32-bit output. */
uint32_t op_rng_u32(op_rng *r);
/* A double in [0, 1) with 53 random bits from two outputs (random_sample). */
double op_rng_double(op_rng *r);

#endif
