/* Acceptance through the public C API: every case directory under
 * $ONNXI_INTERP_CASES (written by models/export_interp_cases.py, see
 * tests/test_interp_models.sh) is loaded once with onnxi_model_load_file;
 * a 1-thread and a 2-thread session are created on that one model and each
 * runs test_data_set_0, 1, ... in order, then data set 0 again, so input
 * shapes switch (batch 1 -> 2 -> 1, 64 -> 96 -> 80 -> 64 px) on a live
 * session. Outputs must match PyTorch's within rtol 1e-3 and
 * atol 1e-4 x max|expected| (the `onnxi test --atol-scale` rule).
 *
 * Environment: ONNXI_INTERP_CASES (required, else every case is skipped),
 * ONNXI_INTERP_FILTER (glob on case names), ONNXI_DISABLE_PASSES (passed
 * as onnxi_load_options.disable_passes, e.g. "all", to bisect a failure). */
#include <dirent.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "arena.h"
#include "onnxi.h"
#include "tensor_io.h"

#define API_RTOL 1e-3
#define API_ATOL_SCALE 1e-4
#define API_PATH_MAX 4096
#define API_IO_MAX 8
#define API_SETS_MAX 16

typedef struct api_set {
  onnxi_tensor in[API_IO_MAX], want[API_IO_MAX];
  int n_in, n_out;
} api_set;

typedef struct api_case {
  char name[256];
  char dir[API_PATH_MAX];
  arena a; /* every tensor read for this case */
  api_set sets[API_SETS_MAX];
  int n_sets;
  onnxi_model *model;
  onnxi_session *sessions[2]; /* freed by teardown, also after a failed assert */
} api_case;

/* --- discovery ------------------------------------------------------------- */

static bool api_is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool api_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int api_name_cmp(const void *a, const void *b) {
  return strcmp(((const api_case *)a)->name, ((const api_case *)b)->name);
}

/* Sorted subdirectories of root holding model.onnx and matching the filter. */
static api_case *api_cases_find(const char *root, const char *filter, int *n) {
  *n = 0;
  DIR *d = opendir(root);
  if (!d) return NULL;
  api_case *cases = NULL;
  int cap = 0;
  struct dirent *e;
  char path[API_PATH_MAX];
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof cases->name) continue;
    if (filter && fnmatch(filter, e->d_name, 0) != 0) continue;
    snprintf(path, sizeof path, "%s/%s/model.onnx", root, e->d_name);
    if (!api_is_file(path)) continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 64;
      api_case *nc = realloc(cases, sizeof *nc * (size_t)cap);
      if (!nc) break;
      cases = nc;
    }
    api_case *c = &cases[(*n)++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", e->d_name);
    snprintf(c->dir, sizeof c->dir, "%s/%s", root, e->d_name);
  }
  closedir(d);
  if (cases) qsort(cases, (size_t)*n, sizeof *cases, api_name_cmp);
  return cases;
}

/* --- reading a case -------------------------------------------------------- */

/* Reads set/prefix_K.pb for K = 0.. ; returns the count or -1. names[K] get
 * the TensorProto names. */
static int api_tensors_read(const char *set, const char *prefix, arena *a, onnxi_tensor *ts,
                            const char **names, onnxi_error *err) {
  char path[API_PATH_MAX];
  int n = 0;
  for (; n < API_IO_MAX; n++) {
    int len = snprintf(path, sizeof path, "%s/%s_%d.pb", set, prefix, n);
    if (len < 0 || (size_t)len >= sizeof path || !api_is_file(path)) break;
    if (tensor_pb_read(path, a, &ts[n], &names[n], err) != ONNXI_OK) return -1;
  }
  return n;
}

/* Puts the inputs read from a data set into the model's declared order
 * (matched by TensorProto name, else by position). */
static void api_inputs_order(const onnxi_model *m, onnxi_tensor *in, const char **names,
                             int n) {
  onnxi_tensor ordered[API_IO_MAX];
  for (int k = 0; k < n; k++) {
    onnxi_tensor_info info;
    ordered[k] = in[k];
    if (onnxi_model_input_info(m, k, &info, NULL) != ONNXI_OK) continue;
    for (int j = 0; j < n; j++)
      if (names[j] && info.name && strcmp(names[j], info.name) == 0) ordered[k] = in[j];
  }
  memcpy(in, ordered, sizeof *in * (size_t)n);
}

static void api_sets_read(api_case *c) {
  onnxi_error err = {0};
  char set[API_PATH_MAX + 32];
  for (int i = 0; i < API_SETS_MAX; i++) {
    snprintf(set, sizeof set, "%s/test_data_set_%d", c->dir, i);
    if (!api_is_dir(set)) break;
    api_set *s = &c->sets[c->n_sets++];
    const char *in_names[API_IO_MAX] = {0}, *out_names[API_IO_MAX] = {0};
    s->n_in = api_tensors_read(set, "input", &c->a, s->in, in_names, &err);
    if (s->n_in >= 0) s->n_out = api_tensors_read(set, "output", &c->a, s->want, out_names, &err);
    if (s->n_in < 0 || s->n_out < 0) fail_msg("%s: %s", c->name, err.message);
    assert_int_equal(s->n_in, onnxi_model_input_count(c->model));
    assert_int_equal(s->n_out, onnxi_model_output_count(c->model));
    api_inputs_order(c->model, s->in, in_names, s->n_in);
  }
  if (c->n_sets == 0) fail_msg("%s: no test_data_set_0", c->dir);
}

/* --- running and comparing ------------------------------------------------- */

static int64_t api_count(const onnxi_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

static void api_output_check(const char *what, const onnxi_tensor *got, const onnxi_tensor *want) {
  assert_int_equal(got->dtype, ONNXI_DTYPE_FLOAT);
  assert_int_equal(want->dtype, ONNXI_DTYPE_FLOAT);
  assert_int_equal(got->rank, want->rank);
  for (int i = 0; i < want->rank; i++)
    if (got->dims[i] != want->dims[i])
      fail_msg("%s: dim %d is %" PRId64 ", expected %" PRId64, what, i, got->dims[i], want->dims[i]);
  const float *g = got->data, *w = want->data;
  int64_t n = api_count(want);
  double scale = 0;
  for (int64_t i = 0; i < n; i++)
    if (isfinite(w[i]) && fabs(w[i]) > scale) scale = fabs(w[i]);
  double atol = API_ATOL_SCALE * scale, worst_excess = 0, max_abs = 0;
  int64_t worst = -1;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)g[i] - w[i]);
    if (isnan(d)) d = INFINITY;
    if (d > max_abs) max_abs = d;
    double excess = d - (atol + API_RTOL * fabs(w[i]));
    if (excess > 0 && (worst < 0 || excess > worst_excess)) {
      worst = i;
      worst_excess = excess;
    }
  }
  if (worst >= 0)
    fail_msg("%s: element %" PRId64 " got %.9g expected %.9g (max abs err %.3g, atol %.3g, "
             "rtol %.3g)", what, worst, g[worst], w[worst], max_abs, atol, API_RTOL);
}

/* Runs data set `i` on s and checks every output. Library-owned outputs, or,
 * with caller_owned, buffers (from the case's arena) sized from the expected
 * outputs. */
static void api_set_run(api_case *c, onnxi_session *s, int threads, int i, bool caller_owned) {
  const api_set *set = &c->sets[i];
  onnxi_tensor got[API_IO_MAX];
  void *bufs[API_IO_MAX] = {0};
  memset(got, 0, sizeof got);
  for (int k = 0; caller_owned && k < set->n_out; k++) {
    got[k].nbytes = (size_t)api_count(&set->want[k]) * sizeof(float);
    bufs[k] = got[k].data = arena_alloc(&c->a, got[k].nbytes ? got[k].nbytes : 1, 64);
    assert_non_null(bufs[k]);
  }
  char what[512];
  snprintf(what, sizeof what, "%s test_data_set_%d, %d thread(s), %s outputs", c->name, i,
           threads, caller_owned ? "caller-owned" : "library-owned");
  onnxi_error err = {0};
  onnxi_status st = onnxi_session_run(s, set->in, set->n_in, got, set->n_out, &err);
  if (st != ONNXI_OK)
    fail_msg("%s: onnxi_session_run: %s: %s", what, onnxi_status_string(st), err.message);
  for (int k = 0; k < set->n_out; k++) {
    if (caller_owned) assert_ptr_equal(got[k].data, bufs[k]);
    api_output_check(what, &got[k], &set->want[k]);
  }
}

static void api_session_create(const api_case *c, int threads, onnxi_session **out) {
  onnxi_session_options so = {.threads = threads};
  onnxi_error err = {0};
  onnxi_status st = onnxi_session_create(c->model, &so, out, &err);
  if (st != ONNXI_OK)
    fail_msg("%s: onnxi_session_create(threads=%d): %s: %s", c->name, threads,
             onnxi_status_string(st), err.message);
  assert_int_equal(onnxi_session_threads(*out), threads);
}

/* --- the tests ------------------------------------------------------------- */

static int api_case_setup(void **state) {
  api_case *c = *state;
  char path[API_PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/model.onnx", c->dir);
  onnxi_load_options lo = {.disable_passes = getenv("ONNXI_DISABLE_PASSES")};
  onnxi_error err = {0};
  arena_init(&c->a, 0);
  if (onnxi_model_load_file(path, &lo, &c->model, &err) != ONNXI_OK) {
    print_error("%s: onnxi_model_load_file: %s\n", c->name, err.message);
    arena_release(&c->a); /* cmocka runs no teardown after a failed setup */
    return -1;
  }
  return 0;
}

static int api_case_teardown(void **state) {
  api_case *c = *state;
  for (int t = 0; t < 2; t++) {
    onnxi_session_free(c->sessions[t]);
    c->sessions[t] = NULL;
  }
  onnxi_model_free(c->model);
  c->model = NULL;
  arena_release(&c->a);
  c->n_sets = 0;
  return 0;
}

/* Two sessions on one model, both alive: each runs every set in order, then
 * set 0 again into caller-owned buffers (shape switches back). */
static void test_case_api(void **state) {
  api_case *c = *state;
  api_sets_read(c);
  static const int threads[2] = {1, 2};
  onnxi_session **s = c->sessions;
  for (int t = 0; t < 2; t++) {
    api_session_create(c, threads[t], &s[t]);
    for (int i = 0; i < c->n_sets; i++) api_set_run(c, s[t], threads[t], i, false);
    api_set_run(c, s[t], threads[t], 0, true);
  }
  /* the first session still works after the second one ran */
  api_set_run(c, s[0], threads[0], c->n_sets - 1, false);
}

static void test_cases_unset(void **state) {
  (void)state;
  print_message("ONNXI_INTERP_CASES is not set: no interpreter acceptance cases to run "
                "(tests/test_interp_models.sh exports them; ctest sets the variable)\n");
  skip();
}

static int api_run_unset(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_cases_unset)};
  return cmocka_run_group_tests_name("api_models", tests, NULL, NULL);
}

int main(void) {
  const char *root = getenv("ONNXI_INTERP_CASES");
  if (!root || !*root) return api_run_unset();
  const char *filter = getenv("ONNXI_INTERP_FILTER");
  int n = 0;
  api_case *cases = api_cases_find(root, filter && *filter ? filter : NULL, &n);
  if (n == 0) {
    fprintf(stderr, "test_api_models: no case directory (NAME/model.onnx) under %s%s%s\n", root,
            filter ? " matching " : "", filter ? filter : "");
    free(cases);
    return 1;
  }
  struct CMUnitTest *tests = calloc((size_t)n, sizeof *tests);
  if (!tests) {
    free(cases);
    return 1;
  }
  for (int i = 0; i < n; i++)
    tests[i] = (struct CMUnitTest){cases[i].name, test_case_api, api_case_setup,
                                   api_case_teardown, &cases[i]};
  int rc = _cmocka_run_group_tests("api_models", tests, (size_t)n, NULL, NULL);
  free(tests);
  free(cases);
  return rc;
}
