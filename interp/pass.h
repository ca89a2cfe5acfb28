/* Graph passes: each in its own file, a pure match plus an apply that leaves
 * the graph unchanged when it cannot rewrite (onnxruntime's optimizers are the
 * model). A static table runs them in order; any can be disabled by name. */
#ifndef ONNXI_PASS_H
#define ONNXI_PASS_H

#include <stdbool.h>
#include <stdio.h>

#include "ir.h"

typedef struct pass_context {
  ir_model *model;
  ir_graph *graph;
  onnxi_error *err;
  FILE *log;         /* NULL, or where `onnxi dump --passes` reports */
  const char *pass;  /* name of the running pass */
  int changes;       /* rewrites the running pass made */
} pass_context;

typedef onnxi_status (*pass_fn)(pass_context *ctx);

typedef struct pass_def {
  const char *name;
  pass_fn run;
  const char *help;
} pass_def;

/* The passes in the order they run. */
const pass_def *pass_table(int *count);

/* Runs every pass not named in `disabled` (comma-separated names, or "all"),
 * compacting the graph after each; unknown names are an error. With `log`,
 * prints what each pass did and the node count after it. */
onnxi_status passes_run(ir_model *m, const char *disabled, FILE *log, onnxi_error *err);

/* --- helpers for passes (pass.c) --- */

/* Reports one rewrite to the log ("  fused 'relu_3' into 'conv_2'"). */
void pass_note(pass_context *ctx, const char *fmt, ...) ONNXI_PRINTF(2, 3);
/* The single node consuming v, or IR_NONE when v has 0 or several consumers
 * or is a graph output. */
int32_t pass_sole_consumer(const ir_graph *g, int32_t v);
/* Makes every node input reading `from` read `to` instead. */
void pass_value_replace(ir_graph *g, int32_t from, int32_t to);
/* Sets a float attribute on a node (adding it if absent). */
onnxi_status pass_attr_set_float(pass_context *ctx, ir_node *n, const char *name, float v);
/* Sets an int attribute on a node (adding it if absent). */
onnxi_status pass_attr_set_int(pass_context *ctx, ir_node *n, const char *name, int64_t v);
/* Float data of a constant value (NULL if not a float32 constant). */
const float *pass_const_f32(const ir_graph *g, int32_t v, int64_t *count);
/* A new float32 constant value holding `count` elements of `dims`. */
onnxi_status pass_const_add(pass_context *ctx, const char *name, int rank, const int64_t *dims,
                            float **data, int32_t *id);

#endif
