/* `onnxi test PATH...`: runs directories in the ONNX backend-test layout
 * (model.onnx + test_data_set_N/input_K.pb, output_K.pb), recursing into
 * folders of such directories, and compares outputs with tolerances. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "test_cases.h"

static const char cmd_test_usage[] =
    "usage: onnxi test PATH... [options]\n"
    "\n"
    "Runs every test case under PATH: a directory holding model.onnx and\n"
    "test_data_set_N/{input,output}_K.pb (ONNX's backend-test layout), or a folder of\n"
    "such directories (searched recursively). Prints PASS, FAIL (output, worst element,\n"
    "got vs expected, errors) or SKIP (the load error naming what is unsupported) per\n"
    "case, then 'N passed, N failed, N skipped'. Exits 1 if anything failed.\n"
    "\n"
    "  --rtol R          relative tolerance (default 1e-3)\n"
    "  --atol A          absolute tolerance (default 1e-7)\n"
    "  --atol-scale X    absolute tolerance = X * max |expected| of each output\n"
    "  --threads N       threads per session (default 1)\n"
    "  --filter GLOB     only cases whose name matches GLOB (repeatable)\n"
    "  --disable-pass NAMES  skip these graph passes (comma-separated, or 'all')\n"
    "  --json            one JSON object with every result instead of text\n"
    "  --expect FILE     fail when a case's status differs from FILE's\n"
    "                    ('NAME pass' or 'NAME skip' lines; '#' comments)\n"
    "  --write-expect F  write the statuses of this run to F in that format\n"
    "  --by-op           print a markdown table of results per op type\n"
    "  -q, --quiet       print only failures and the summary\n";

static int cmd_test_parse(int argc, char **argv, test_options *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDS_VALUE                                                                 \
  do {                                                                              \
    if (!v) return cli_usage_error("test", "%s needs a value", a);                  \
    i++;                                                                            \
  } while (0)
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(cmd_test_usage, stdout);
      return CLI_EXIT_OK;
    } else if (!strcmp(a, "--rtol")) {
      NEEDS_VALUE;
      o->rtol = strtod(v, NULL);
    } else if (!strcmp(a, "--atol")) {
      NEEDS_VALUE;
      o->atol = strtod(v, NULL);
    } else if (!strcmp(a, "--atol-scale")) {
      NEEDS_VALUE;
      o->atol_scale = strtod(v, NULL);
    } else if (!strcmp(a, "--threads")) {
      NEEDS_VALUE;
      o->threads = atoi(v);
      if (o->threads < 0) return cli_usage_error("test", "--threads must be >= 0");
    } else if (!strcmp(a, "--disable-pass")) {
      NEEDS_VALUE;
      o->disable_passes = v;
    } else if (!strcmp(a, "--filter")) {
      NEEDS_VALUE;
      if (o->n_filters == TEST_MAX_FILTERS) return cli_usage_error("test", "too many --filter");
      o->filters[o->n_filters++] = v;
    } else if (!strcmp(a, "--json")) {
      o->json = true;
    } else if (!strcmp(a, "--by-op")) {
      o->by_op = true;
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
      o->quiet = true;
    } else if (!strcmp(a, "--expect")) {
      NEEDS_VALUE;
      o->expect = v;
    } else if (!strcmp(a, "--write-expect")) {
      NEEDS_VALUE;
      o->write_expect = v;
    } else if (a[0] == '-') {
      return cli_usage_error("test", "unknown option '%s'", a);
    } else {
      if (o->n_paths == TEST_MAX_PATHS) return cli_usage_error("test", "too many paths");
      o->paths[o->n_paths++] = a;
    }
#undef NEEDS_VALUE
  }
  if (!o->n_paths) return cli_usage_error("test", "no test directory given");
  return -1;
}

int cmd_test(int argc, char **argv) {
  test_options o = {.rtol = 1e-3, .atol = 1e-7, .threads = 1};
  int rc = cmd_test_parse(argc, argv, &o);
  if (rc >= 0) return rc;
  return test_cases_run(&o);
}
