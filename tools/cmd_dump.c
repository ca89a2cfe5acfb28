/* `onnxi dump MODEL [--format text|json|dot] [--time]`: loads a model and
 * prints its graph (see interp/dump.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dump.h"
#include "onnx_load.h"

static const char cmd_dump_usage[] =
    "usage: onnxi dump MODEL [--format text|json|dot] [--time]\n"
    "\n"
    "Prints a model as imported: metadata, inputs and outputs, every node with\n"
    "its attributes and known output shapes, initializer totals and an op\n"
    "histogram.\n"
    "\n"
    "  -f, --format FMT  text (default), json (one JSON object) or dot (Graphviz)\n"
    "  -t, --time        print the load time as 'load_ms: X' on stderr\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 ok, 1 the model could not be loaded, 2 usage error.\n";

typedef struct cmd_dump_args {
  const char *model;
  dump_format format;
  bool time;
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
      fputs(cmd_dump_usage, stdout);
      return CLI_EXIT_OK;
    } else if (strcmp(a, "-t") == 0 || strcmp(a, "--time") == 0) {
      args->time = true;
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
  st = dump_model(stdout, &m, args.format, NULL, &err);
  ir_model_release(&m);
  if (st != ONNXI_OK) return cli_fail("%s", err.message);
  return CLI_EXIT_OK;
}
