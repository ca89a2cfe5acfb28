/* Static memory planner for activations, after TensorFlow Lite Micro's greedy
 * planner: every intermediate tensor is a buffer (size, first step, last
 * step); plan_place gives each one an offset in a single arena so that no two
 * buffers live at the same step share bytes.
 *
 * Steps are execution steps (node positions in topological order); a
 * buffer's range is inclusive: written at `first`, last read at `last`. Two
 * buffers whose ranges merely touch (one's last == the other's first) are both
 * live at that step, so they get disjoint memory unless one is declared an
 * in-place alias of the other.
 *
 * Pinned buffers (graph inputs and outputs) have storage of their own and are
 * left out of the arena, like ggml's set_input/set_output. */
#ifndef ONNXI_PLAN_H
#define ONNXI_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define PLAN_OFFSET_NONE SIZE_MAX /* offset of a pinned buffer */

typedef struct plan_buffer {
  size_t size;          /* bytes reserved: the requested size rounded up to align */
  int32_t first, last;  /* step range, inclusive */
  int32_t pinned;       /* 1: own storage, not placed in the arena */
  int32_t alias_of;     /* -1, or the earlier buffer this one overwrites in place */
  int32_t root;         /* read-only: first buffer of its alias group (itself if none) */
  size_t offset;        /* set by plan_place; the root's offset for an alias */
} plan_buffer;

typedef struct memory_plan {
  plan_buffer *bufs;
  int32_t n, cap;
  size_t arena_bytes; /* set by plan_place */
  size_t align;       /* every size and offset is a multiple of it */
} memory_plan;

/* align: any value >= 1 (0 means 1); use 64 for SIMD kernels. */
void plan_init(memory_plan *p, size_t align);
void plan_release(memory_plan *p);

/* Adds a buffer live over steps [first, last]; its id is the insertion index.
 * ONNXI_ERR_LIMIT when the rounded size does not fit in a size_t. */
onnxi_status plan_buffer_add(memory_plan *p, size_t size, int32_t first, int32_t last,
                             int32_t *id, onnxi_error *err);

/* Declares that buffer `id` is computed in place over `of` (an earlier
 * buffer): the whole alias group shares one offset, its block is as large as
 * its largest member and it is live over the union of their ranges. Members
 * must follow one another in time: each starts strictly after the previous
 * ones started and no earlier than they end. Neither buffer may be pinned. */
onnxi_status plan_buffer_alias(memory_plan *p, int32_t id, int32_t of, onnxi_error *err);

/* Excludes a buffer from the arena. Fails on a buffer in an alias group:
 * in-place writes into caller-owned memory must not be planned silently. */
onnxi_status plan_buffer_pin(memory_plan *p, int32_t id, onnxi_error *err);

/* Greedy placement: alias groups by decreasing size (ties: earlier first use,
 * then lower id), each at the lowest aligned offset that does not collide with
 * an already placed group whose range overlaps. O(n^2) time, deterministic.
 * May be called again after adding buffers. */
onnxi_status plan_place(memory_plan *p, onnxi_error *err);

/* Verifies a placed plan independently of plan_place: offsets aligned, every
 * non-pinned buffer inside arena_bytes, no two buffers that are live at the
 * same step overlapping in memory (members of one alias group excepted, which
 * must share an offset and follow one another). On failure writes the reason
 * to why (if non-NULL). */
bool plan_check(const memory_plan *p, char *why, size_t why_len);

/* One line per buffer: id, size, offset, steps, name (names[id], may be NULL). */
void plan_print(FILE *f, const memory_plan *p, const char *const *names);

#endif
