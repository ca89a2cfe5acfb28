/* The hostile-model corpus (tests/hostile/, written by make_corpus.py): each
 * file is loaded, planned and run through the public API and must fail with
 * the error substring MANIFEST gives for it: no crash, no abort, no read out
 * of bounds (run under ASan by tools/test.sh --sanitize). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "onnxi.h"

#define HOSTILE_DIR ONNXI_TEST_GOLDEN_DIR "/../hostile"
#define FIELDS 4

/* How the inputs of one case are fed (MANIFEST's fourth column). */
typedef struct feed_opts {
  int rank0; /* -1: input 0 gets its declared dims */
  int64_t dims0[ONNXI_MAX_RANK];
  int64_t int_fill;
} feed_opts;

static void feed_opts_parse(const char *s, feed_opts *f) {
  f->rank0 = -1;
  f->int_fill = 0;
  while (s && *s) {
    if (strncmp(s, "shape0=", 7) == 0) {
      char *end = (char *)s + 7;
      f->rank0 = 0;
      do f->dims0[f->rank0++] = strtoll(end + (*end == 'x'), &end, 10);
      while (*end == 'x' && f->rank0 < ONNXI_MAX_RANK);
      s = end;
    } else if (strncmp(s, "int=", 4) == 0) {
      char *end;
      f->int_fill = strtoll(s + 4, &end, 10);
      s = end;
    } else {
      fail_msg("unknown feed option '%s'", s);
    }
    while (*s == ' ') s++;
  }
}

/* Input i filled per f: floats 1.0, integers f->int_fill, others zero. */
static onnxi_status feed_make(const onnxi_model *model, int i, const feed_opts *f,
                              onnxi_tensor *t, onnxi_error *err) {
  onnxi_tensor_info info;
  onnxi_status st = onnxi_model_input_info(model, i, &info, err);
  if (st) return st;
  memset(t, 0, sizeof *t);
  t->dtype = info.dtype;
  t->rank = i == 0 && f->rank0 >= 0 ? f->rank0 : info.rank < 0 ? 1 : info.rank;
  size_t count = 1, elem = onnxi_dtype_size(info.dtype);
  for (int d = 0; d < t->rank; d++) {
    t->dims[d] = i == 0 && f->rank0 >= 0 ? f->dims0[d] : info.dims[d] < 0 ? 1 : info.dims[d];
    count *= (size_t)t->dims[d];
  }
  assert_true(elem > 0 && count < (1u << 20));
  t->nbytes = count * elem;
  t->data = calloc(count + 1, elem);
  for (size_t k = 0; k < count; k++) {
    if (info.dtype == ONNXI_DTYPE_FLOAT) ((float *)t->data)[k] = 1.0f;
    if (info.dtype == ONNXI_DTYPE_INT64) ((int64_t *)t->data)[k] = f->int_fill;
    if (info.dtype == ONNXI_DTYPE_INT32) ((int32_t *)t->data)[k] = (int32_t)f->int_fill;
  }
  return ONNXI_OK;
}

/* One run with every input fed per f, outputs library-owned. */
static onnxi_status hostile_run(const onnxi_model *model, const feed_opts *f, onnxi_error *err) {
  onnxi_session *s = NULL;
  onnxi_session_options so = {.threads = 1};
  onnxi_status st = onnxi_session_create(model, &so, &s, err);
  int ni = onnxi_model_input_count(model), no = onnxi_model_output_count(model);
  onnxi_tensor *in = calloc((size_t)ni + 1, sizeof *in), *out = calloc((size_t)no + 1, sizeof *out);
  for (int i = 0; st == ONNXI_OK && i < ni; i++) st = feed_make(model, i, f, &in[i], err);
  if (st == ONNXI_OK) st = onnxi_session_run(s, in, ni, out, no, err);
  for (int i = 0; i < ni; i++) free(in[i].data);
  free(in);
  free(out);
  onnxi_session_free(s);
  return st;
}

/* Loads, plans, runs one file: returns whether it failed as expected. */
static int hostile_case(char **field) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s.onnx", HOSTILE_DIR, field[0]);
  feed_opts f;
  feed_opts_parse(field[3], &f);
  onnxi_error err = {0};
  onnxi_model *model = NULL;
  onnxi_status st = onnxi_model_load_file(path, NULL, &model, &err);
  if (st == ONNXI_OK) st = hostile_run(model, &f, &err);
  onnxi_model_free(model);
  int ok = st != ONNXI_OK && err.status == st && strstr(err.message, field[1]) != NULL;
  printf("%-36s %s %s: %s\n", field[0], ok ? "ok  " : "FAIL", onnxi_status_string(st),
         st ? err.message : "(no error)");
  if (!ok) printf("%-36s      wanted an error containing '%s' (%s)\n", "", field[1], field[2]);
  return ok;
}

/* Files in the directory: each must have its MANIFEST line. */
static int hostile_files_count(void) {
  DIR *d = opendir(HOSTILE_DIR);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    n += len > 5 && strcmp(e->d_name + len - 5, ".onnx") == 0;
  }
  closedir(d);
  return n;
}

static void test_hostile_corpus(void **state) {
  (void)state;
  FILE *mf = fopen(HOSTILE_DIR "/MANIFEST", "r");
  assert_non_null(mf);
  char line[1024];
  int n = 0, failed = 0;
  while (fgets(line, sizeof line, mf)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    line[strcspn(line, "\n")] = '\0';
    char *field[FIELDS] = {NULL, NULL, NULL, NULL}, *save = NULL;
    char *tok = strtok_r(line, "\t", &save);
    for (int k = 0; tok && k < FIELDS; k++, tok = strtok_r(NULL, "\t", &save)) field[k] = tok;
    assert_non_null(field[2]);
    failed += !hostile_case(field);
    n++;
  }
  fclose(mf);
  printf("%d hostile models, %d failed as expected\n", n, n - failed);
  assert_true(n >= 50);
  assert_int_equal(failed, 0);
  assert_int_equal(hostile_files_count(), n); /* no file without its expectation */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hostile_corpus),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
