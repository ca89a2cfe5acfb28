/* `onnxi dump MODEL [--format text|json|dot] [--time]`: loads a model and
 * prints its graph (see interp/dump.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dump.h"
#include "exec.h"
#include "onnx_load.h"
#include "pass.h"

static const char cmd_dump_usage[] =
    "usage: onnxi dump MODEL [--format text|json|dot] [--time] [--passes]\n"
    "                        [--after-passes] [--disable-pass NAMES] [--plan]\n"
    "\n"
    "Prints a model as imported: metadata, inputs and outputs, every node with\n"
    "its attributes and known output shapes, initializer totals and an op\n"
    "histogram.\n"
    "\n"
    "  -f, --format FMT     text (default), json (one JSON object) or dot (Graphviz)\n"
    "  -t, --time           print the load time as 'load_ms: X' on stderr\n"
    "  --passes             run the graph passes and print what each one fused or\n"
    "                       removed, with the node count after it (then stop)\n"
    "  --after-passes       print the graph the passes produce instead of the import\n"
    "  --disable-pass NAMES skip these passes (comma-separated, or 'all')\n"
    "  --plan               plan one run (symbolic dims = 1) and print the execution\n"
    "                       plan (step, op, inputs, outputs, arena offset, bytes) and\n"
    "                       the shapes it infers; implies --after-passes\n"
    "  --threads N          threads for --plan (default 1)\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 ok, 1 the model could not be loaded, 2 usage error.\n";

/* The pass list comes from the pass table so the help never goes stale. */
static void cmd_dump_help(void) {
  fputs(cmd_dump_usage, stdout);
  int n;
  const pass_def *defs = pass_table(&n);
  fputs("\nPasses, in the order they run:\n", stdout);
  for (int i = 0; i < n; i++) printf("  %-14s %s\n", defs[i].name, defs[i].help);
}

typedef struct cmd_dump_args {
  const char *model;
  dump_format format;
  bool time, passes, after_passes, plan;
  const char *disable;
  int threads;
} cmd_dump_args;

/* Fills args from argv; returns -1 to go on, else the exit code. */
static int cmd_dump_parse(int argc, char **argv, cmd_dump_args *args) {
  bool options_done = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *fmt = NULL;
    if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
      if (args->model) return cli_usage_error("dump", "more than one model given ('%s')", a);
      args->model = a;
    } else if (strcmp(a, "--") == 0) {
      options_done = true;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      cmd_dump_help();
      return CLI_EXIT_OK;
    } else if (strcmp(a, "-t") == 0 || strcmp(a, "--time") == 0) {
      args->time = true;
    } else if (strcmp(a, "--passes") == 0) {
      args->passes = true;
    } else if (strcmp(a, "--after-passes") == 0) {
      args->after_passes = true;
    } else if (strcmp(a, "--plan") == 0) {
      args->plan = args->after_passes = true;
    } else if (strcmp(a, "--disable-pass") == 0 || strcmp(a, "--threads") == 0) {
      if (i + 1 >= argc) return cli_usage_error("dump", "%s needs a value", a);
      if (a[2] == 'd') args->disable = argv[++i];
      else if ((args->threads = atoi(argv[++i])) < 0) return cli_usage_error("dump", "bad --threads");
    } else if (strncmp(a, "--format=", 9) == 0) {
      fmt = a + 9;
    } else if (strcmp(a, "-f") == 0 || strcmp(a, "--format") == 0) {
      if (i + 1 >= argc) return cli_usage_error("dump", "%s needs a value: text, json or dot", a);
      fmt = argv[++i];
    } else {
      return cli_usage_error("dump", "unknown option '%s'", a);
    }
    if (fmt && !dump_format_parse(fmt, &args->format))
      return cli_usage_error("dump", "--format must be text, json or dot, not '%s'", fmt);
  }
  if (!args->model) return cli_usage_error("dump", "no model given");
  return -1;
}

/* Plans one run with the declared input shapes (symbolic dims = 1), writes
 * the inferred shapes into the IR for the dump and prints the plan. */
static onnxi_status cmd_dump_plan(ir_model *m, int threads, FILE *out, onnxi_error *err) {
  const ir_graph *g = &m->graph;
  exec_session *s = NULL;
  onnxi_status st = exec_session_create(m, threads ? threads : 1, &s, err);
  int32_t *ranks = calloc((size_t)g->n_inputs + 1, sizeof *ranks);
  int64_t(*dims)[IR_MAX_RANK] = calloc((size_t)g->n_inputs + 1, sizeof *dims);
  const void **feed = calloc((size_t)g->n_inputs + 1, sizeof *feed);
  void **data = calloc((size_t)g->n_inputs + 1, sizeof *data);
  if (st == ONNXI_OK && (!ranks || !dims || !feed || !data)) st = err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
  for (int32_t i = 0; st == ONNXI_OK && i < g->n_inputs; i++) {
    const ir_value *v = &g->values[g->inputs[i]];
    int64_t count = 1;
    ranks[i] = v->shape.rank < 0 ? 0 : v->shape.rank;
    for (int d = 0; d < ranks[i]; d++) {
      dims[i][d] = v->shape.dims[d].value >= 0 ? v->shape.dims[d].value : 1;
      count *= dims[i][d];
    }
    size_t elem = v->dtype == ONNXI_DTYPE_STRING ? sizeof(ir_string) : ir_dtype_size(v->dtype);
    data[i] = calloc((size_t)count + 1, elem ? elem : 1); /* zeros: shapes only */
    if (!data[i]) st = err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
    feed[i] = data[i];
  }
  if (st == ONNXI_OK)
    st = exec_session_prepare(s, ranks, (const int64_t(*)[IR_MAX_RANK])dims, feed, err);
  if (st == ONNXI_OK) {
    for (int32_t v = 0; v < g->n_values; v++) {
      int64_t d[IR_MAX_RANK];
      int32_t r = exec_plan_value_shape(s, v, d);
      if (r < 0 || m->graph.values[v].shape.rank >= 0) continue;
      m->graph.values[v].shape.rank = r;
      for (int k = 0; k < r; k++) m->graph.values[v].shape.dims[k] = (ir_dim){d[k], -1};
    }
    exec_plan_print(out, s);
  }
  for (int32_t i = 0; data && i < g->n_inputs; i++) free(data[i]);
  free(data);
  free(feed);
  free(dims);
  free(ranks);
  exec_session_free(s);
  return st;
}

int cmd_dump(int argc, char **argv) {
  cmd_dump_args args = {.format = DUMP_FORMAT_TEXT};
  int rc = cmd_dump_parse(argc, argv, &args);
  if (rc >= 0) return rc;
  ir_model m;
  memset(&m, 0, sizeof m);
  onnxi_error err = {0};
  double t0 = cli_now_ms();
  onnxi_status st = onnx_model_load_file(args.model, NULL, &m, &err);
  double t1 = cli_now_ms();
  if (args.time) fprintf(stderr, "load_ms: %.3f\n", t1 - t0);
  if (st != ONNXI_OK) return cli_fail("%s", err.message);
  if (args.passes || args.after_passes)
    st = passes_run(&m, args.disable, args.passes ? stdout : NULL, &err);
  /* the plan goes to stderr for json/dot so stdout stays one document */
  if (st == ONNXI_OK && args.plan)
    st = cmd_dump_plan(&m, args.threads, args.format == DUMP_FORMAT_TEXT ? stdout : stderr, &err);
  if (st == ONNXI_OK && (!args.passes || args.after_passes)) {
    dump_options o = {.title = args.after_passes ? "after passes" : NULL};
    st = dump_model(stdout, &m, args.format, &o, &err);
  }
  ir_model_release(&m);
  if (st != ONNXI_OK) return cli_fail("%s", err.message);
  return CLI_EXIT_OK;
}
