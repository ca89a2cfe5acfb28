/* NCHW <-> NHWC reorders inserted by the planner where a kernel wants the
 * other layout. Element size is all that matters, so one routine per
 * element width serves every dtype (and string structs). */
#include "reorder.h"

#include <string.h>

typedef struct reorder_job {
  const unsigned char *src;
  unsigned char *dst;
  size_t c, hw, elem;
  bool to_nhwc;
} reorder_job;

/* Transposes one image [rows x cols] -> [cols x rows] in tiles so both sides
 * stay in cache. */
#define REORDER_TILE 32
#define REORDER_DEFINE(bits, type)                                                         \
  static void reorder_image_##bits(const type *restrict src, type *restrict dst,           \
                                   size_t rows, size_t cols) {                             \
    for (size_t r0 = 0; r0 < rows; r0 += REORDER_TILE) {                                   \
      size_t r1 = r0 + REORDER_TILE < rows ? r0 + REORDER_TILE : rows;                     \
      for (size_t c0 = 0; c0 < cols; c0 += REORDER_TILE) {                                 \
        size_t c1 = c0 + REORDER_TILE < cols ? c0 + REORDER_TILE : cols;                   \
        for (size_t r = r0; r < r1; r++)                                                   \
          for (size_t c = c0; c < c1; c++) dst[c * rows + r] = src[r * cols + c];          \
      }                                                                                    \
    }                                                                                      \
  }
REORDER_DEFINE(8, uint8_t)
REORDER_DEFINE(16, uint16_t)
REORDER_DEFINE(32, uint32_t)
REORDER_DEFINE(64, uint64_t)

static void reorder_image_bytes(const unsigned char *src, unsigned char *dst, size_t rows,
                                size_t cols, size_t elem) {
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) memcpy(dst + (c * rows + r) * elem, src + (r * cols + c) * elem, elem);
}

static void reorder_batch(void *ctx, size_t n) {
  const reorder_job *j = ctx;
  size_t img = j->c * j->hw * j->elem;
  const void *s = j->src + n * img;
  void *d = j->dst + n * img;
  size_t rows = j->to_nhwc ? j->c : j->hw, cols = j->to_nhwc ? j->hw : j->c;
  switch (j->elem) {
  case 1: reorder_image_8(s, d, rows, cols); break;
  case 2: reorder_image_16(s, d, rows, cols); break;
  case 4: reorder_image_32(s, d, rows, cols); break;
  case 8: reorder_image_64(s, d, rows, cols); break;
  default: reorder_image_bytes(s, d, rows, cols, j->elem); break;
  }
}

void reorder_run(const op_tensor *src, op_tensor *dst, size_t elem, pthreadpool_t pool) {
  reorder_job j = {src->data, dst->data, (size_t)src->dims[1],
                   (size_t)(src->dims[2] * src->dims[3]), elem, dst->layout == IR_LAYOUT_NHWC};
  size_t n = (size_t)src->dims[0];
  if (pool && n > 1)
    pthreadpool_parallelize_1d(pool, reorder_batch, &j, n, 0);
  else
    for (size_t i = 0; i < n; i++) reorder_batch(&j, i);
}
