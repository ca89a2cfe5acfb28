/* The backend-test runner behind `onnxi test`. */
#ifndef ONNXI_TEST_CASES_H
#define ONNXI_TEST_CASES_H

#include <stdbool.h>

#define TEST_MAX_PATHS 256
#define TEST_MAX_FILTERS 32

typedef struct test_options {
  double rtol, atol, atol_scale;
  int threads;
  bool json, by_op, quiet;
  const char *expect, *write_expect;
  const char *disable_passes; /* NULL, names, or "all" */
  const char *paths[TEST_MAX_PATHS];
  int n_paths;
  const char *filters[TEST_MAX_FILTERS];
  int n_filters;
} test_options;

/* Runs every case under o->paths; returns the CLI exit code. */
int test_cases_run(const test_options *o);

#endif
