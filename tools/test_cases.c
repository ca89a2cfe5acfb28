/* Backend-test runner: discovery, one case's run and comparison, reports. */
#include "test_cases.h"

#include <dirent.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "kernel.h"
#include "model.h"
#include "tensor_io.h"

#define TEST_PATH_MAX 4096
#define TEST_IO_MAX 64

typedef enum test_status { TEST_PASS, TEST_FAIL, TEST_SKIP } test_status;
static const char *const test_status_names[] = {"pass", "fail", "skip"};

typedef struct test_result {
  char *name;
  char *dir;
  test_status status;
  char message[ONNXI_ERROR_MAX + 256];
  double ms;
  char **ops; /* distinct op types of the model */
  int n_ops;
} test_result;

typedef struct test_run {
  const test_options *o;
  test_result *results;
  int n, cap;
} test_run;

/* --- discovery ------------------------------------------------------------- */

/* printf into a path buffer; false when the path does not fit. */
static bool test_path_format(char *out, size_t n, const char *fmt, ...) ONNXI_PRINTF(3, 4);
static bool test_path_format(char *out, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(out, n, fmt, ap);
  va_end(ap);
  return r >= 0 && (size_t)r < n;
}

static bool test_path_is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool test_path_is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int test_name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of a directory (excluding dot files); caller frees. */
static char **test_dir_list(const char *dir, int *n) {
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  char **names = NULL;
  int cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(names, sizeof *names * (size_t)cap);
      if (!nn) break;
      names = nn;
    }
    names[(*n)++] = strdup(e->d_name);
  }
  closedir(d);
  if (names) qsort(names, (size_t)*n, sizeof *names, test_name_cmp);
  return names;
}

static void test_list_free(char **names, int n) {
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

static bool test_name_selected(const test_options *o, const char *name) {
  if (!o->n_filters) return true;
  for (int i = 0; i < o->n_filters; i++)
    if (fnmatch(o->filters[i], name, 0) == 0) return true;
  return false;
}

static test_result *test_result_add(test_run *r, const char *dir) {
  if (r->n == r->cap) {
    int cap = r->cap ? r->cap * 2 : 256;
    test_result *nr = realloc(r->results, sizeof *nr * (size_t)cap);
    if (!nr) return NULL;
    r->results = nr;
    r->cap = cap;
  }
  test_result *t = &r->results[r->n++];
  memset(t, 0, sizeof *t);
  const char *slash = strrchr(dir, '/');
  t->name = strdup(slash && slash[1] ? slash + 1 : dir);
  t->dir = strdup(dir);
  return t;
}

/* --- one case ---------------------------------------------------------------- */

static void test_ops_collect(test_result *t, const onnxi_model *m) {
  const ir_graph *g = &m->ir.graph;
  t->ops = calloc((size_t)g->n_nodes + 1, sizeof *t->ops);
  if (!t->ops) return;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    const char *op = g->nodes[i].op_type;
    bool seen = false;
    for (int k = 0; k < t->n_ops && !seen; k++) seen = strcmp(t->ops[k], op) == 0;
    if (!seen) t->ops[t->n_ops++] = strdup(op);
  }
}

static double test_float_at(const onnxi_tensor *t, int64_t i) {
  switch (t->dtype) {
  case ONNXI_DTYPE_FLOAT: return ((const float *)t->data)[i];
  case ONNXI_DTYPE_DOUBLE: return ((const double *)t->data)[i];
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(((const uint16_t *)t->data)[i]);
  case ONNXI_DTYPE_BFLOAT16: return op_bf16_to_f32(((const uint16_t *)t->data)[i]);
  default: return 0;
  }
}

static bool test_dtype_is_float(onnxi_dtype d) {
  return d == ONNXI_DTYPE_FLOAT || d == ONNXI_DTYPE_DOUBLE || d == ONNXI_DTYPE_FLOAT16 ||
         d == ONNXI_DTYPE_BFLOAT16;
}

static void test_dims_str(char *buf, size_t n, const onnxi_tensor *t) {
  size_t o = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < t->rank && o < n; i++)
    o += (size_t)snprintf(buf + o, n - o, i ? ",%" PRId64 : "%" PRId64, t->dims[i]);
  if (o < n) snprintf(buf + o, n - o, "]");
}

/* Compares one output; on mismatch fills msg and returns false. */
static bool test_output_compare(const test_options *o, const char *name, const onnxi_tensor *got,
                                const onnxi_tensor *want, char *msg, size_t len) {
  char gs[160], ws[160];
  test_dims_str(gs, sizeof gs, got);
  test_dims_str(ws, sizeof ws, want);
  if (got->dtype != want->dtype) {
    snprintf(msg, len, "output '%s': dtype %s, expected %s", name, onnxi_dtype_name(got->dtype),
             onnxi_dtype_name(want->dtype));
    return false;
  }
  if (got->rank != want->rank || memcmp(got->dims, want->dims, sizeof(int64_t) * (size_t)got->rank)) {
    snprintf(msg, len, "output '%s': shape %s, expected %s", name, gs, ws);
    return false;
  }
  int64_t count = 1;
  for (int i = 0; i < got->rank; i++) count *= got->dims[i];
  if (test_dtype_is_float(got->dtype)) {
    double scale = 0;
    for (int64_t i = 0; i < count; i++) {
      double w = fabs(test_float_at(want, i));
      if (isfinite(w) && w > scale) scale = w;
    }
    double atol = o->atol_scale > 0 ? o->atol_scale * scale : o->atol;
    double max_abs = 0, max_rel = 0, worst_excess = 0;
    int64_t worst = -1;
    for (int64_t i = 0; i < count; i++) {
      double g = test_float_at(got, i), w = test_float_at(want, i);
      if (isnan(g) && isnan(w)) continue;
      if (isinf(w) && g == w) continue;
      double d = fabs(g - w);
      if (isnan(d)) d = INFINITY;
      if (d > max_abs) max_abs = d;
      if (w != 0 && d / fabs(w) > max_rel) max_rel = d / fabs(w);
      double excess = d - (atol + o->rtol * fabs(w));
      if (excess > 0 && (worst < 0 || excess > worst_excess)) {
        worst = i;
        worst_excess = excess;
      }
    }
    if (worst >= 0) {
      snprintf(msg, len,
               "output '%s' %s: element %" PRId64 " got %.9g expected %.9g (max abs err %.3g, "
               "max rel err %.3g, atol %.3g, rtol %.3g)",
               name, ws, worst, test_float_at(got, worst), test_float_at(want, worst), max_abs,
               max_rel, atol, o->rtol);
      return false;
    }
    return true;
  }
  if (got->dtype == ONNXI_DTYPE_STRING) {
    const onnxi_string *g = got->data, *w = want->data;
    for (int64_t i = 0; i < count; i++) {
      if (g[i].len != w[i].len || memcmp(g[i].data, w[i].data, g[i].len)) {
        snprintf(msg, len, "output '%s' %s: element %" PRId64 " got '%.*s' expected '%.*s'", name,
                 ws, i, (int)(g[i].len > 64 ? 64 : g[i].len), g[i].data,
                 (int)(w[i].len > 64 ? 64 : w[i].len), w[i].data);
        return false;
      }
    }
    return true;
  }
  size_t e = onnxi_dtype_size(got->dtype);
  for (int64_t i = 0; i < count; i++) {
    if (memcmp((const char *)got->data + (size_t)i * e, (const char *)want->data + (size_t)i * e, e)) {
      int64_t gv = 0, wv = 0;
      memcpy(&gv, (const char *)got->data + (size_t)i * e, e);
      memcpy(&wv, (const char *)want->data + (size_t)i * e, e);
      snprintf(msg, len, "output '%s' %s: element %" PRId64 " got %" PRId64 " expected %" PRId64
               " (raw %s bits)", name, ws, i, gv, wv, onnxi_dtype_name(got->dtype));
      return false;
    }
  }
  return true;
}

/* Reads prefix_K.pb for K = 0.. into ts; returns the count, -1 on error. */
static int test_tensors_read(const char *set, const char *prefix, arena *a, onnxi_tensor *ts,
                             const char **names, onnxi_error *err) {
  int n = 0;
  char path[TEST_PATH_MAX];
  for (; n < TEST_IO_MAX; n++) {
    if (!test_path_format(path, sizeof path, "%s/%s_%d.pb", set, prefix, n) ||
        !test_path_is_file(path))
      break;
    if (tensor_pb_read(path, a, &ts[n], &names[n], err) != ONNXI_OK) return -1;
  }
  return n;
}

/* ONNX 1.12's test generator stores bfloat16 data as uint16 TensorProtos:
 * take such data as the bfloat16 bits the model declares. */
static void test_bf16_relabel(onnxi_tensor *t, onnxi_dtype want) {
  if (t->dtype == ONNXI_DTYPE_UINT16 && want == ONNXI_DTYPE_BFLOAT16) t->dtype = want;
}

/* Orders the data set's inputs like the model's: by name when every file
 * names a model input, else by position. */
static onnxi_status test_inputs_order(const onnxi_model *m, onnxi_tensor *in, const char **names,
                                      int n, onnxi_tensor *ordered, onnxi_error *err) {
  int want = onnxi_model_input_count(m);
  if (n != want)
    return err_set(err, ONNXI_ERR_INVALID_ARG, "data set has %d inputs, the model has %d", n, want);
  bool by_name = true;
  for (int i = 0; i < want && by_name; i++) {
    onnxi_tensor_info info;
    onnxi_model_input_info(m, i, &info, NULL);
    bool found = false;
    for (int k = 0; k < n && !found; k++) {
      if (names[k] && strcmp(names[k], info.name) == 0) {
        ordered[i] = in[k];
        found = true;
      }
    }
    by_name = found;
  }
  if (!by_name) memcpy(ordered, in, sizeof *in * (size_t)n);
  for (int i = 0; i < n; i++) {
    onnxi_tensor_info info;
    onnxi_model_input_info(m, i, &info, NULL);
    test_bf16_relabel(&ordered[i], info.dtype);
  }
  return ONNXI_OK;
}

/* Test data whose shape contradicts the model's declared input (a few
 * generated ONNX 1.12 cases) cannot be run by a conforming engine. */
static bool test_inputs_declared(const onnxi_model *m, const onnxi_tensor *in, int n, char *msg,
                                 size_t len) {
  for (int i = 0; i < n; i++) {
    onnxi_tensor_info info;
    onnxi_model_input_info(m, i, &info, NULL);
    bool ok = info.rank < 0 || info.rank == in[i].rank;
    for (int d = 0; ok && d < info.rank; d++) ok = info.dims[d] < 0 || info.dims[d] == in[i].dims[d];
    if (!ok) {
      snprintf(msg, len, "invalid test data: input '%.200s' does not have the shape the model declares",
               info.name);
      return false;
    }
  }
  return true;
}

static test_status test_data_set_run(const test_options *o, onnxi_session *s,
                                     const onnxi_model *m, const char *set, char *msg,
                                     size_t len) {
  arena a;
  arena_init(&a, 0);
  onnxi_error err = {0};
  onnxi_tensor in[TEST_IO_MAX], ordered[TEST_IO_MAX], want[TEST_IO_MAX], got[TEST_IO_MAX];
  const char *in_names[TEST_IO_MAX] = {0}, *out_names[TEST_IO_MAX] = {0};
  test_status status = TEST_FAIL;
  int n_in = test_tensors_read(set, "input", &a, in, in_names, &err);
  int n_out = n_in < 0 ? -1 : test_tensors_read(set, "output", &a, want, out_names, &err);
  if (n_in < 0 || n_out < 0) {
    snprintf(msg, len, "%s", err.message);
    goto done;
  }
  if (n_out != onnxi_model_output_count(m)) {
    snprintf(msg, len, "%.512s: %d expected outputs, the model has %d", set, n_out,
             onnxi_model_output_count(m));
    goto done;
  }
  onnxi_status st = test_inputs_order(m, in, in_names, n_in, ordered, &err);
  if (st == ONNXI_OK && !test_inputs_declared(m, ordered, n_in, msg, len)) {
    status = TEST_SKIP; /* the case itself is inconsistent, not the engine */
    goto done;
  }
  memset(got, 0, sizeof got);
  if (st == ONNXI_OK) st = onnxi_session_run(s, ordered, n_in, got, n_out, &err);
  if (st != ONNXI_OK) {
    snprintf(msg, len, "%s", err.message);
    status = st == ONNXI_ERR_UNSUPPORTED ? TEST_SKIP : TEST_FAIL;
    goto done;
  }
  for (int k = 0; k < n_out; k++) {
    onnxi_tensor_info info;
    onnxi_model_output_info(m, k, &info, NULL);
    test_bf16_relabel(&want[k], got[k].dtype);
    if (!test_output_compare(o, info.name, &got[k], &want[k], msg, len)) goto done;
  }
  status = TEST_PASS;
done:
  arena_release(&a);
  return status;
}

static void test_case_run(const test_options *o, test_result *t) {
  char path[TEST_PATH_MAX];
  if (!test_path_format(path, sizeof path, "%s/model.onnx", t->dir)) {
    t->status = TEST_FAIL;
    snprintf(t->message, sizeof t->message, "path too long");
    return;
  }
  double t0 = cli_now_ms();
  onnxi_error err = {0};
  onnxi_model *m = NULL;
  onnxi_session *s = NULL;
  onnxi_session_options so = {.threads = o->threads};
  onnxi_load_options lo = {.disable_passes = o->disable_passes};
  onnxi_status st = onnxi_model_load_file(path, &lo, &m, &err);
  if (st == ONNXI_OK) test_ops_collect(t, m);
  if (st == ONNXI_OK) st = onnxi_session_create(m, &so, &s, &err);
  if (st != ONNXI_OK) {
    t->status = st == ONNXI_ERR_UNSUPPORTED ? TEST_SKIP : TEST_FAIL;
    snprintf(t->message, sizeof t->message, "%s", err.message);
    goto done;
  }
  int n_sets = 0;
  char **entries = test_dir_list(t->dir, &n_sets);
  t->status = TEST_PASS;
  int ran = 0;
  for (int i = 0; i < n_sets && t->status == TEST_PASS; i++) {
    if (strncmp(entries[i], "test_data_set_", 14) != 0) continue;
    if (!test_path_format(path, sizeof path, "%s/%s", t->dir, entries[i])) continue;
    t->status = test_data_set_run(o, s, m, path, t->message, sizeof t->message);
    ran++;
  }
  test_list_free(entries, n_sets);
  if (!ran) {
    t->status = TEST_FAIL;
    snprintf(t->message, sizeof t->message, "no test_data_set_N directory");
  }
done:
  onnxi_session_free(s);
  onnxi_model_free(m);
  t->ms = cli_now_ms() - t0;
}

static void test_case_print(const test_options *o, const test_result *t) {
  if (o->json || (o->quiet && t->status != TEST_FAIL)) return;
  static const char *const tags[] = {"PASS", "FAIL", "SKIP"};
  printf("%s %s (%.1f ms)%s%s\n", tags[t->status], t->name, t->ms, t->message[0] ? ": " : "",
         t->message);
  fflush(stdout);
}

/* Walks dir: a case if it holds model.onnx, else its subdirectories. */
static void test_walk(test_run *r, const char *dir, int depth) {
  char path[TEST_PATH_MAX];
  if (!test_path_format(path, sizeof path, "%s/model.onnx", dir)) return;
  if (test_path_is_file(path)) {
    const char *slash = strrchr(dir, '/');
    if (!test_name_selected(r->o, slash && slash[1] ? slash + 1 : dir)) return;
    test_result *t = test_result_add(r, dir);
    if (!t) return;
    test_case_run(r->o, t);
    test_case_print(r->o, t);
    return;
  }
  if (depth > 16) return;
  int n = 0;
  char **entries = test_dir_list(dir, &n);
  for (int i = 0; i < n; i++) {
    if (test_path_format(path, sizeof path, "%s/%s", dir, entries[i]) && test_path_is_dir(path))
      test_walk(r, path, depth + 1);
  }
  test_list_free(entries, n);
}

/* --- reports ------------------------------------------------------------------ */

static void test_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}

static void test_json_print(const test_run *r, const int counts[3]) {
  printf("{\"cases\": [");
  for (int i = 0; i < r->n; i++) {
    const test_result *t = &r->results[i];
    printf("%s\n  {\"name\": ", i ? "," : "");
    test_json_string(stdout, t->name);
    printf(", \"status\": \"%s\", \"ms\": %.3f, \"message\": ", test_status_names[t->status], t->ms);
    test_json_string(stdout, t->message);
    printf("}");
  }
  printf("\n], \"passed\": %d, \"failed\": %d, \"skipped\": %d}\n", counts[0], counts[1], counts[2]);
}

static int test_op_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Markdown table: per op type, how many cases using it passed/failed/skipped. */
static void test_by_op_print(const test_run *r) {
  const char **ops = NULL;
  int n_ops = 0, cap = 0;
  for (int i = 0; i < r->n; i++) {
    for (int k = 0; k < r->results[i].n_ops; k++) {
      const char *op = r->results[i].ops[k];
      bool seen = false;
      for (int j = 0; j < n_ops && !seen; j++) seen = strcmp(ops[j], op) == 0;
      if (seen) continue;
      if (n_ops == cap) {
        cap = cap ? cap * 2 : 64;
        const char **no = realloc(ops, sizeof *ops * (size_t)cap);
        if (!no) break;
        ops = no;
      }
      ops[n_ops++] = op;
    }
  }
  if (ops) qsort(ops, (size_t)n_ops, sizeof *ops, test_op_cmp);
  printf("\n| op | cases | passed | failed | skipped |\n|---|---:|---:|---:|---:|\n");
  for (int j = 0; j < n_ops; j++) {
    int c[3] = {0, 0, 0};
    for (int i = 0; i < r->n; i++)
      for (int k = 0; k < r->results[i].n_ops; k++)
        if (strcmp(r->results[i].ops[k], ops[j]) == 0) c[r->results[i].status]++;
    printf("| %s | %d | %d | %d | %d |\n", ops[j], c[0] + c[1] + c[2], c[0], c[1], c[2]);
  }
  free(ops);
}

static int test_expect_write(const test_run *r, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return cli_fail("%s: cannot write", path);
  fprintf(f, "# onnxi test expectations: NAME pass|skip [reason]. Regenerate with\n"
             "# onnxi test ... --write-expect FILE; a failure is never an expectation.\n");
  for (int i = 0; i < r->n; i++) {
    const test_result *t = &r->results[i];
    if (t->status == TEST_FAIL) continue;
    fprintf(f, "%s %s", t->name, test_status_names[t->status]);
    if (t->status == TEST_SKIP) {
      char reason[200];
      const char *msg = t->message;
      size_t dl = strlen(t->dir); /* drop "DIR/model.onnx: ": the file must not depend on paths */
      if (strncmp(msg, t->dir, dl) == 0 && strncmp(msg + dl, "/model.onnx: ", 13) == 0) msg += dl + 13;
      snprintf(reason, sizeof reason, "%.199s", msg);
      for (char *p = reason; *p; p++)
        if (*p == '\n') *p = ' ';
      fprintf(f, " %s", reason);
    }
    fputc('\n', f);
  }
  return fclose(f) == 0 ? 0 : cli_fail("%s: write failed", path);
}

/* Every listed case must have its listed status; every case run must be listed. */
static int test_expect_check(const test_run *r, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return cli_fail("%s: cannot open expectations", path);
  char line[1024];
  int mismatches = 0, listed = 0;
  bool *seen = calloc((size_t)r->n + 1, sizeof *seen);
  while (fgets(line, sizeof line, f)) {
    char name[512], status[16];
    if (line[0] == '#' || sscanf(line, "%511s %15s", name, status) != 2) continue;
    listed++;
    int found = -1;
    for (int i = 0; i < r->n && found < 0; i++)
      if (strcmp(r->results[i].name, name) == 0) found = i;
    if (found < 0) {
      if (!r->o->n_filters) {
        fprintf(stderr, "expectation mismatch: %s is listed as %s but was not found\n", name, status);
        mismatches++;
      }
      continue;
    }
    if (seen) seen[found] = true;
    if (strcmp(test_status_names[r->results[found].status], status) != 0) {
      fprintf(stderr, "expectation mismatch: %s is %s, listed as %s\n", name,
              test_status_names[r->results[found].status], status);
      mismatches++;
    }
  }
  fclose(f);
  for (int i = 0; seen && i < r->n; i++) {
    if (!seen[i]) {
      fprintf(stderr, "expectation mismatch: %s (%s) is not listed in %s\n", r->results[i].name,
              test_status_names[r->results[i].status], path);
      mismatches++;
    }
  }
  free(seen);
  if (mismatches) fprintf(stderr, "%d expectation mismatches against %s (%d listed)\n", mismatches, path, listed);
  return mismatches ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int test_cases_run(const test_options *o) {
  test_run r = {.o = o};
  for (int i = 0; i < o->n_paths; i++) {
    if (!test_path_is_dir(o->paths[i])) {
      fprintf(stderr, "onnxi test: %s is not a directory\n", o->paths[i]);
      return CLI_EXIT_USAGE;
    }
    size_t len = strlen(o->paths[i]);
    char dir[TEST_PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(len > 1 && o->paths[i][len - 1] == '/' ? len - 1 : len),
             o->paths[i]);
    test_walk(&r, dir, 0);
  }
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < r.n; i++) counts[r.results[i].status]++;
  int rc = counts[TEST_FAIL] ? CLI_EXIT_FAIL : CLI_EXIT_OK;
  if (o->json) test_json_print(&r, counts);
  if (o->by_op) test_by_op_print(&r);
  if (o->write_expect && test_expect_write(&r, o->write_expect)) rc = CLI_EXIT_FAIL;
  if (o->expect && test_expect_check(&r, o->expect)) rc = CLI_EXIT_FAIL;
  if (!o->json) printf("%d passed, %d failed, %d skipped\n", counts[0], counts[1], counts[2]);
  for (int i = 0; i < r.n; i++) {
    for (int k = 0; k < r.results[i].n_ops; k++) free(r.results[i].ops[k]);
    free(r.results[i].ops);
    free(r.results[i].name);
    free(r.results[i].dir);
  }
  free(r.results);
  return rc;
}
