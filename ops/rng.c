/* MT19937 (Matsumoto & Nishimura 1998) with numpy's legacy seeding and
 * 53-bit doubles; see rng.h. */
#include "rng.h"

enum { RNG_M = 397 };
#define RNG_UPPER 0x80000000u
#define RNG_LOWER 0x7fffffffu
#define RNG_MATRIX 0x9908b0dfu

void op_rng_seed(op_rng *r, uint32_t seed) {
  r->mt[0] = seed;
  for (int i = 1; i < OP_RNG_N; i++)
    r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
  r->pos = OP_RNG_N;
}

/* Regenerates all 624 words of state. */
static void rng_twist(op_rng *r) {
  uint32_t *mt = r->mt;
  for (int i = 0; i < OP_RNG_N; i++) {
    uint32_t y = (mt[i] & RNG_UPPER) | (mt[(i + 1) % OP_RNG_N] & RNG_LOWER);
    mt[i] = mt[(i + RNG_M) % OP_RNG_N] ^ (y >> 1) ^ ((y & 1u) ? RNG_MATRIX : 0u);
  }
  r->pos = 0;
}

uint32_t op_rng_u32(op_rng *r) {
  if (r->pos >= OP_RNG_N) rng_twist(r);
  uint32_t y = r->mt[r->pos++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

double op_rng_double(op_rng *r) {
  uint32_t a = op_rng_u32(r) >> 5, b = op_rng_u32(r) >> 6;
  return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}
