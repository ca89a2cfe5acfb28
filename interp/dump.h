/* Graph dump: onnxi's EXPLAIN. Prints an ir_model or a bare ir_graph as
 * human-readable text, one JSON object, or a Graphviz digraph.
 *
 * The same entry points serve every stage: the model as imported
 * (dump_model), the graph after a pass (dump_graph with a title such as
 * "after fuse_conv_bn"), and the execution plan (any of them with
 * options.plan set). The dump never trusts the graph: ids out of range print
 * as "<bad N>" instead of being followed, so a broken pass can be inspected. */
#ifndef ONNXI_DUMP_H
#define ONNXI_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ir.h"

typedef enum dump_format {
  DUMP_FORMAT_TEXT = 0,
  DUMP_FORMAT_JSON = 1,
  DUMP_FORMAT_DOT = 2
} dump_format;

/* Where one value lives during execution. Offsets use plan.h's convention:
 * SIZE_MAX (PLAN_OFFSET_NONE) for a buffer outside the arena (pinned graph
 * input/output, weight), so plan_buffer.offset can be copied as is. */
#define DUMP_OFFSET_NONE SIZE_MAX

typedef struct dump_buffer {
  size_t offset; /* byte offset in the activation arena, or DUMP_OFFSET_NONE */
  size_t bytes;
} dump_buffer;

/* An execution plan as the planner describes it to the dump: the planner's
 * own types stay private to it. */
typedef struct dump_plan {
  const int32_t *steps;       /* node ids in execution order */
  int32_t n_steps;
  const dump_buffer *buffers; /* indexed by value id; NULL: no placement yet */
  int32_t n_buffers;
  size_t arena_bytes;         /* total activation arena size */
} dump_plan;

#define DUMP_TENSOR_VALUES_DEFAULT 8

typedef struct dump_options {
  const char *title;      /* e.g. "after fuse_conv_bn"; NULL: none */
  const dump_plan *plan;  /* non-NULL: also print the execution plan */
  int max_tensor_values;  /* tensor attributes with at most this many elements
                             print their values; 0: DUMP_TENSOR_VALUES_DEFAULT,
                             < 0: never */
} dump_options;

/* "text", "json", "dot" -> format; false for anything else. */
bool dump_format_parse(const char *name, dump_format *fmt);
const char *dump_format_name(dump_format fmt);

/* Model metadata (file, producer, opsets, ...) followed by its main graph.
 * opts may be NULL. Fails with ONNXI_ERR_IO if `out` reports a write error,
 * ONNXI_ERR_NO_MEMORY if scratch space cannot be allocated. */
onnxi_status dump_model(FILE *out, const ir_model *m, dump_format fmt,
                        const dump_options *opts, onnxi_error *err);

/* A bare graph (e.g. between passes): inputs, outputs, nodes, initializer
 * totals, op histogram, and the plan if given. */
onnxi_status dump_graph(FILE *out, const ir_graph *g, dump_format fmt,
                        const dump_options *opts, onnxi_error *err);

#endif
