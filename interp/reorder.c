/* NCHW <-> NHWC reorders inserted by the planner where a kernel wants the
 * other layout. Element size is all that matters, so one routine per
 * element width serves every dtype (and string structs). */
#include "reorder.h"

#include <string.h>

typedef struct reorder_job {
  const unsigned char *src;
  unsigned char *dst;
  size_t c, hw, elem;
  size_t blocks; /* pixel blocks per image, one work item each */
  bool to_nhwc;
} reorder_job;

/* Images of fewer bytes than this are one work item: splitting them costs
 * more than it saves. */
#define REORDER_SPLIT_BYTES 65536

/* Transposes the part [r0, r1) x [c0, c1) of one image [rows x cols] ->
 * [cols x rows], in tiles so both sides stay in cache. */
#define REORDER_TILE 32
#define REORDER_DEFINE(bits, type)                                                         \
  static void reorder_image_##bits(const type *restrict src, type *restrict dst,           \
                                   size_t rows, size_t cols, size_t r0, size_t r1,         \
                                   size_t c0, size_t c1) {                                 \
    for (size_t ra = r0; ra < r1; ra += REORDER_TILE) {                                    \
      size_t rb = ra + REORDER_TILE < r1 ? ra + REORDER_TILE : r1;                         \
      for (size_t ca = c0; ca < c1; ca += REORDER_TILE) {                                  \
        size_t cb = ca + REORDER_TILE < c1 ? ca + REORDER_TILE : c1;                       \
        for (size_t r = ra; r < rb; r++)                                                   \
          for (size_t c = ca; c < cb; c++) dst[c * rows + r] = src[r * cols + c];          \
      }                                                                                    \
    }                                                                                      \
  }
REORDER_DEFINE(8, uint8_t)
REORDER_DEFINE(16, uint16_t)
REORDER_DEFINE(32, uint32_t)
REORDER_DEFINE(64, uint64_t)

static void reorder_image_bytes(const unsigned char *src, unsigned char *dst, size_t rows,
                                size_t cols, size_t r0, size_t r1, size_t c0, size_t c1,
                                size_t elem) {
  for (size_t r = r0; r < r1; r++)
    for (size_t c = c0; c < c1; c++)
      memcpy(dst + (c * rows + r) * elem, src + (r * cols + c) * elem, elem);
}

/* Item i: pixel block i % blocks of image i / blocks. A block of pixels is
 * a run of NHWC memory: each thread writes (or reads) the pixels the next
 * (or previous) step's own kernels give the same thread. */
static void reorder_task(void *ctx, size_t i) {
  const reorder_job *j = ctx;
  size_t n = i / j->blocks, b = i % j->blocks, img = j->c * j->hw * j->elem;
  size_t p0 = b * j->hw / j->blocks, p1 = (b + 1) * j->hw / j->blocks;
  const void *s = j->src + n * img;
  void *d = j->dst + n * img;
  size_t rows = j->to_nhwc ? j->c : j->hw, cols = j->to_nhwc ? j->hw : j->c;
  size_t r0 = j->to_nhwc ? 0 : p0, r1 = j->to_nhwc ? j->c : p1;
  size_t c0 = j->to_nhwc ? p0 : 0, c1 = j->to_nhwc ? p1 : j->c;
  switch (j->elem) {
  case 1: reorder_image_8(s, d, rows, cols, r0, r1, c0, c1); break;
  case 2: reorder_image_16(s, d, rows, cols, r0, r1, c0, c1); break;
  case 4: reorder_image_32(s, d, rows, cols, r0, r1, c0, c1); break;
  case 8: reorder_image_64(s, d, rows, cols, r0, r1, c0, c1); break;
  default: reorder_image_bytes(s, d, rows, cols, r0, r1, c0, c1, j->elem); break;
  }
}

void reorder_run(const op_tensor *src, op_tensor *dst, size_t elem, pthreadpool_t pool) {
  reorder_job j = {src->data, dst->data, (size_t)src->dims[1],
                   (size_t)(src->dims[2] * src->dims[3]), elem, 1, dst->layout == IR_LAYOUT_NHWC};
  size_t n = (size_t)src->dims[0], threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  if (threads > 1 && j.c * j.hw * elem >= REORDER_SPLIT_BYTES)
    j.blocks = threads < j.hw ? threads : j.hw;
  if (pool && n * j.blocks > 1)
    pthreadpool_parallelize_1d(pool, reorder_task, &j, n * j.blocks, 0);
  else
    for (size_t i = 0; i < n * j.blocks; i++) reorder_task(&j, i);
}
