/* Loader: ONNX external data is read from files inside the model directory
 * only, with ranges and sizes checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "model.h"
#include "model_builder.h"

#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define DIMS(...) (const int64_t[]){__VA_ARGS__}

typedef struct fixture {
  char *dir;     /* model directory */
  char *outside; /* a sibling directory the model must not reach */
} fixture;

/* weights.bin: 16 bytes of padding, then w = 1..6 as float32 (24 bytes). */
static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  f->dir = mb_tmpdir_create();
  f->outside = mb_tmpdir_create();
  uint8_t bytes[40] = {0};
  const float w[6] = {1, 2, 3, 4, 5, 6};
  memcpy(bytes + 16, w, sizeof w);
  free(mb_file_write(f->dir, "weights.bin", bytes, sizeof bytes));
  free(mb_file_write(f->outside, "secret.bin", bytes, sizeof bytes));
  char sub[512];
  snprintf(sub, sizeof sub, "%s/sub", f->dir);
  if (mkdir(sub, 0700) != 0) return -1;
  free(mb_file_write(sub, "w.bin", w, sizeof w));
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  mb_tmpdir_remove(f->dir);
  mb_tmpdir_remove(f->outside);
  free(f);
  return 0;
}

/* x + w where w [2,3] float32 is external at location/offset/length. */
static Onnx__ModelProto *ext_model(const char *location, const char *offset,
                                   const char *length) {
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  mb_input(g, "x", F32, 2, DIMS(2, 3));
  Onnx__TensorProto *t = mb_initializer(g, mb_tensor("w", F32, 2, DIMS(2, 3)));
  mb_tensor_external(t, location, offset, length);
  mb_node(g, "Add", "add", "x,w", "y");
  mb_output(g, "y", F32, 2, DIMS(2, 3));
  return m;
}

static onnxi_status load(const fixture *f, Onnx__ModelProto *m, const onnxi_load_options *opts,
                         onnxi_model **model, onnxi_error *err) {
  char *path = mb_model_write(m, f->dir, "model.onnx");
  mb_model_free(m);
  onnxi_status st = onnxi_model_load_file(path, opts, model, err);
  free(path);
  return st;
}

static void expect_w(const onnxi_model *model) {
  int32_t id = ir_graph_value_find(&model->ir.graph, "w");
  assert_int_not_equal(id, IR_NONE);
  const ir_value *v = &model->ir.graph.values[id];
  assert_int_equal(v->flags, IR_VALUE_CONST);
  assert_int_equal(v->nbytes, 24);
  assert_int_equal((uintptr_t)v->data % 64, 0);
  assert_memory_equal(v->data, ((const float[]){1, 2, 3, 4, 5, 6}), 24);
  assert_int_equal(model->ir.graph.initializer_bytes, 24);
}

static void expect_ok(const fixture *f, Onnx__ModelProto *m) {
  onnxi_model *model = NULL;
  onnxi_error err = {0};
  if (load(f, m, NULL, &model, &err) != ONNXI_OK) fail_msg("%s", err.message);
  expect_w(model);
  onnxi_model_free(model);
}

/* The message starts with the model path and names the initializer. */
static void expect_fail(const fixture *f, Onnx__ModelProto *m, onnxi_status want,
                        const char *substr) {
  onnxi_model *model = NULL;
  onnxi_error err = {0};
  onnxi_status st = load(f, m, NULL, &model, &err);
  char head[600];
  snprintf(head, sizeof head, "%s/model.onnx: initializer 'w': ", f->dir);
  if (st != want || strncmp(err.message, head, strlen(head)) != 0 || !strstr(err.message, substr))
    fail_msg("want %s with '%s', got %s: %s", onnxi_status_string(want), substr,
             onnxi_status_string(st), err.message);
  assert_null(model);
}

static void test_offset_and_length(void **state) {
  expect_ok(*state, ext_model("weights.bin", "16", "24"));
}

static void test_length_defaults_to_rest_of_file(void **state) {
  expect_ok(*state, ext_model("weights.bin", "16", NULL));
  expect_ok(*state, ext_model("sub/w.bin", NULL, NULL));
  expect_ok(*state, ext_model("./sub//w.bin", "0", "24"));
}

static void test_symlink_inside_dir(void **state) {
  fixture *f = *state;
  char link[512];
  snprintf(link, sizeof link, "%s/alias.bin", f->dir);
  assert_int_equal(symlink("sub/w.bin", link), 0);
  expect_ok(f, ext_model("alias.bin", NULL, NULL));
}

static void test_absolute_path(void **state) {
  fixture *f = *state;
  char abs[512];
  snprintf(abs, sizeof abs, "%s/weights.bin", f->dir);
  expect_fail(f, ext_model(abs, "16", "24"), ONNXI_ERR_INVALID_MODEL, "is an absolute path");
}

static void test_dotdot(void **state) {
  fixture *f = *state;
  expect_fail(f, ext_model("../x", NULL, NULL), ONNXI_ERR_INVALID_MODEL,
              "external data location '../x' leaves the model directory ('..')");
  expect_fail(f, ext_model("sub/../weights.bin", "16", "24"), ONNXI_ERR_INVALID_MODEL,
              "leaves the model directory");
  expect_fail(f, ext_model("sub/..", NULL, NULL), ONNXI_ERR_INVALID_MODEL,
              "leaves the model directory");
}

static void test_symlink_escaping(void **state) {
  fixture *f = *state;
  char link[512], target[512];
  snprintf(link, sizeof link, "%s/escape.bin", f->dir);
  snprintf(target, sizeof target, "%s/secret.bin", f->outside);
  assert_int_equal(symlink(target, link), 0);
  expect_fail(f, ext_model("escape.bin", "16", "24"), ONNXI_ERR_INVALID_MODEL,
              "external data location 'escape.bin' resolves to");
  expect_fail(f, ext_model("escape.bin", "16", "24"), ONNXI_ERR_INVALID_MODEL,
              "outside the model directory");
  /* a symlinked directory leaving the model directory */
  snprintf(link, sizeof link, "%s/outdir", f->dir);
  assert_int_equal(symlink(f->outside, link), 0);
  expect_fail(f, ext_model("outdir/secret.bin", "16", "24"), ONNXI_ERR_INVALID_MODEL,
              "outside the model directory");
}

static void test_offset_past_eof(void **state) {
  fixture *f = *state;
  expect_fail(f, ext_model("weights.bin", "41", NULL), ONNXI_ERR_INVALID_MODEL,
              "external data offset 41 is past the end of 'weights.bin' (40 bytes)");
  expect_fail(f, ext_model("weights.bin", "18446744073709551615", "24"), ONNXI_ERR_INVALID_MODEL,
              "is past the end");
  expect_fail(f, ext_model("weights.bin", "32", "24"), ONNXI_ERR_INVALID_MODEL,
              "external data range [32, 56) is past the end of 'weights.bin' (40 bytes)");
}

static void test_length_mismatch(void **state) {
  fixture *f = *state;
  expect_fail(f, ext_model("weights.bin", "16", "20"), ONNXI_ERR_INVALID_MODEL,
              "external data length 20 does not match dims [2,3] float32 (24 bytes)");
  expect_fail(f, ext_model("weights.bin", NULL, NULL), ONNXI_ERR_INVALID_MODEL,
              "external data length 40 does not match");
}

static void test_missing_file(void **state) {
  fixture *f = *state;
  expect_fail(f, ext_model("nothere.bin", NULL, NULL), ONNXI_ERR_IO,
              "cannot open external data file 'nothere.bin': No such file or directory");
  expect_fail(f, ext_model("sub", NULL, NULL), ONNXI_ERR_INVALID_MODEL,
              "external data 'sub' is not a regular file");
}

static void test_bad_entries(void **state) {
  fixture *f = *state;
  expect_fail(f, ext_model(NULL, "16", "24"), ONNXI_ERR_INVALID_MODEL,
              "external_data has no 'location'");
  expect_fail(f, ext_model("weights.bin", "1x", "24"), ONNXI_ERR_INVALID_MODEL,
              "external_data offset '1x' is not a non-negative integer");
  expect_fail(f, ext_model("weights.bin", "16", "-24"), ONNXI_ERR_INVALID_MODEL,
              "external_data length '-24' is not a non-negative integer");
  expect_fail(f, ext_model("weights.bin", "99999999999999999999", "24"), ONNXI_ERR_INVALID_MODEL,
              "not a non-negative integer");
  Onnx__ModelProto *m = ext_model("weights.bin", "16", "24");
  mb_tensor_set_raw(m->graph->initializer[0], "abcd", 4);
  expect_fail(f, m, ONNXI_ERR_INVALID_MODEL, "has both raw_data and external data");
}

/* A model loaded from memory has no directory to resolve locations in. */
static void test_from_buffer_refused(void **state) {
  (void)state;
  Onnx__ModelProto *m = ext_model("weights.bin", "16", "24");
  size_t size;
  uint8_t *buf = mb_model_pack(m, &size);
  mb_model_free(m);
  onnxi_model *model = NULL;
  onnxi_error err = {0};
  assert_int_equal(onnxi_model_load_buffer(buf, size, "mem.onnx", NULL, &model, &err),
                   ONNXI_ERR_UNSUPPORTED);
  assert_non_null(strstr(err.message, "mem.onnx: initializer 'w': external data 'weights.bin' "
                                      "needs the model's directory"));
  free(buf);
}

static void test_weight_limit(void **state) {
  fixture *f = *state;
  onnxi_load_options opts = {.max_weight_bytes = 16};
  onnxi_model *model = NULL;
  onnxi_error err = {0};
  assert_int_equal(load(f, ext_model("weights.bin", "16", "24"), &opts, &model, &err),
                   ONNXI_ERR_LIMIT);
  if (!strstr(err.message, "max_weight_bytes")) fail_msg("%s", err.message);
  assert_null(model);
}

/* Relative model paths resolve external data against the model's directory,
 * not the working directory. */
static void test_relative_model_path(void **state) {
  fixture *f = *state;
  Onnx__ModelProto *m = ext_model("sub/w.bin", NULL, NULL);
  free(mb_model_write(m, f->dir, "rel.onnx"));
  mb_model_free(m);
  char cwd[1024];
  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir(f->outside), 0);
  char rel[600];
  snprintf(rel, sizeof rel, "../%s/rel.onnx", strrchr(f->dir, '/') + 1);
  onnxi_model *model = NULL;
  onnxi_error err = {0};
  onnxi_status st = onnxi_model_load_file(rel, NULL, &model, &err);
  assert_int_equal(chdir(cwd), 0);
  if (st) fail_msg("%s", err.message);
  expect_w(model);
  onnxi_model_free(model);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_offset_and_length, setup, teardown),
      cmocka_unit_test_setup_teardown(test_length_defaults_to_rest_of_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symlink_inside_dir, setup, teardown),
      cmocka_unit_test_setup_teardown(test_absolute_path, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dotdot, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symlink_escaping, setup, teardown),
      cmocka_unit_test_setup_teardown(test_offset_past_eof, setup, teardown),
      cmocka_unit_test_setup_teardown(test_length_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_entries, setup, teardown),
      cmocka_unit_test(test_from_buffer_refused),
      cmocka_unit_test_setup_teardown(test_weight_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_relative_model_path, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
