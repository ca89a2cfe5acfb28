/* Public API misuse: NULL pointers, wrong counts, dtypes and buffer sizes
 * give ONNXI_ERR_INVALID_ARG with a message; memory caps give
 * ONNXI_ERR_LIMIT before allocating; a model file changing size while it
 * loads gives an error, not a SIGBUS; two threads running two sessions of
 * one model get the same numbers as a naive C reference (also run under
 * ThreadSanitizer: tools/test.sh --tsan). */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "model_builder.h"
#include "onnxi.h"
#include "tensor_io.h"

#define F32 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define DIMS(...) (const int64_t[]){__VA_ARGS__}

/* The test network: x[1,3,8,8] -> Conv(4 filters 3x3, pads 1) + bias -> Relu
 * -> Flatten -> MatMul [256,10] -> y[1,10]. Weights are a fixed function of
 * their index so the reference below can recompute them. */
enum { C_IN = 3, C_OUT = 4, HW = 8, K = 3, FLAT = C_OUT * HW * HW, N_OUT = 10 };
static float net_w(int i) { return (float)((i * 37 % 23) - 11) / 32.0f; }
static float net_b(int i) { return (float)(i - 2) / 8.0f; }
static float net_w2(int i) { return (float)((i * 53 % 29) - 14) / 64.0f; }

static uint8_t *net_pack(size_t *size) {
  float w[C_OUT * C_IN * K * K], b[C_OUT], w2[FLAT * N_OUT];
  for (int i = 0; i < C_OUT * C_IN * K * K; i++) w[i] = net_w(i);
  for (int i = 0; i < C_OUT; i++) b[i] = net_b(i);
  for (int i = 0; i < FLAT * N_OUT; i++) w2[i] = net_w2(i);
  Onnx__ModelProto *m = mb_model_new();
  Onnx__GraphProto *g = m->graph;
  mb_input(g, "x", F32, 4, DIMS(1, C_IN, HW, HW));
  mb_initializer_f32(g, "w", 4, DIMS(C_OUT, C_IN, K, K), w);
  mb_initializer_f32(g, "b", 1, DIMS(C_OUT), b);
  mb_initializer_f32(g, "w2", 2, DIMS(FLAT, N_OUT), w2);
  Onnx__NodeProto *conv = mb_node(g, "Conv", "conv", "x,w,b", "c");
  mb_attr_ints(conv, "pads", 4, DIMS(1, 1, 1, 1));
  mb_node(g, "Relu", "relu", "c", "r");
  mb_node(g, "Flatten", "flat", "r", "f");
  mb_node(g, "MatMul", "mm", "f,w2", "y");
  mb_output(g, "y", F32, 2, DIMS(1, N_OUT));
  uint8_t *buf = mb_model_pack(m, size);
  mb_model_free(m);
  return buf;
}

/* Naive reference in double. */
static void net_ref(const float *x, double *y) {
  double flat[FLAT];
  for (int co = 0; co < C_OUT; co++)
    for (int oy = 0; oy < HW; oy++)
      for (int ox = 0; ox < HW; ox++) {
        double acc = net_b(co);
        for (int ci = 0; ci < C_IN; ci++)
          for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
              int iy = oy + ky - 1, ix = ox + kx - 1;
              if (iy < 0 || ix < 0 || iy >= HW || ix >= HW) continue;
              acc += (double)x[(ci * HW + iy) * HW + ix] *
                     net_w(((co * C_IN + ci) * K + ky) * K + kx);
            }
        flat[(co * HW + oy) * HW + ox] = acc > 0 ? acc : 0;
      }
  for (int j = 0; j < N_OUT; j++) {
    y[j] = 0;
    for (int i = 0; i < FLAT; i++) y[j] += flat[i] * net_w2(i * N_OUT + j);
  }
}

static void net_input(float *x, unsigned seed) {
  for (int i = 0; i < C_IN * HW * HW; i++) x[i] = (float)((i * 31 + seed * 17) % 41) / 20.0f - 1.0f;
}

static bool net_close(const float *got, const double *want) {
  for (int j = 0; j < N_OUT; j++)
    if (fabs(got[j] - want[j]) > 1e-4 + 1e-4 * fabs(want[j])) return false;
  return true;
}

static onnxi_model *net_load(void) {
  size_t size;
  uint8_t *buf = net_pack(&size);
  onnxi_model *m = NULL;
  onnxi_error err;
  if (onnxi_model_load_buffer(buf, size, "net.onnx", NULL, &m, &err) != ONNXI_OK)
    fail_msg("%s", err.message);
  free(buf);
  return m;
}

static onnxi_tensor net_x(float *x) {
  onnxi_tensor t = {.dtype = ONNXI_DTYPE_FLOAT, .rank = 4, .dims = {1, C_IN, HW, HW},
                    .data = x, .nbytes = sizeof(float) * C_IN * HW * HW};
  return t;
}

/* Runs and expects failure with status and message substring. */
static void expect_run_fail(onnxi_session *s, const onnxi_tensor *in, int n_in, onnxi_tensor *out,
                            int n_out, onnxi_status want, const char *substr) {
  onnxi_error err = {0};
  onnxi_status st = onnxi_session_run(s, in, n_in, out, n_out, &err);
  if (st != want || !strstr(err.message, substr))
    fail_msg("want %s '%s', got %s: %s", onnxi_status_string(want), substr,
             onnxi_status_string(st), err.message);
  assert_int_equal(onnxi_session_run(s, in, n_in, out, n_out, NULL), want);
}

/* A session with these options runs the net on x and matches the reference. */
static void expect_net_runs(const onnxi_model *m, const onnxi_session_options *so, float *x) {
  onnxi_session *s = NULL;
  onnxi_error err;
  float y[N_OUT];
  onnxi_tensor in = net_x(x), out = {.data = y, .nbytes = sizeof y};
  if (onnxi_session_create(m, so, &s, &err) != ONNXI_OK ||
      onnxi_session_run(s, &in, 1, &out, 1, &err) != ONNXI_OK)
    fail_msg("%s", err.message);
  double want[N_OUT];
  net_ref(x, want);
  assert_true(net_close(y, want));
  onnxi_session_free(s);
}

/* --- NULL and wrong arguments ------------------------------------------------- */

static void test_null_pointers(void **state) {
  (void)state;
  onnxi_error err;
  onnxi_model *m = NULL;
  onnxi_session *s = NULL;
  assert_int_equal(onnxi_model_load_file(NULL, NULL, &m, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(onnxi_model_load_file("x.onnx", NULL, NULL, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(onnxi_model_load_buffer(NULL, 10, "b", NULL, &m, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(onnxi_model_load_buffer("", 0, "b", NULL, NULL, &err), ONNXI_ERR_INVALID_ARG);
  assert_null(m);
  assert_int_equal(onnxi_session_create(NULL, NULL, &s, &err), ONNXI_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "must not be NULL"));
  assert_int_equal(onnxi_session_run(NULL, NULL, 0, NULL, 0, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(onnxi_model_input_count(NULL), 0);
  assert_int_equal(onnxi_model_output_count(NULL), 0);
  onnxi_tensor_info info;
  assert_int_equal(onnxi_model_input_info(NULL, 0, &info, &err), ONNXI_ERR_INVALID_ARG);
  onnxi_model_free(NULL);
  onnxi_session_free(NULL);
  assert_int_equal(onnxi_session_threads(NULL), 0);

  m = net_load();
  assert_int_equal(onnxi_model_input_info(m, 0, NULL, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(onnxi_model_input_info(m, 1, &info, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(onnxi_model_output_info(m, -1, &info, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(onnxi_session_create(m, NULL, NULL, &err), ONNXI_ERR_INVALID_ARG);
  onnxi_session_options so = {.threads = -3};
  assert_int_equal(onnxi_session_create(m, &so, &s, &err), ONNXI_ERR_INVALID_ARG);
  assert_null(s);
  onnxi_model_free(m);
}

static void test_wrong_inputs(void **state) {
  (void)state;
  onnxi_model *m = net_load();
  onnxi_session *s = NULL;
  onnxi_session_options so = {.threads = 1};
  assert_int_equal(onnxi_session_create(m, &so, &s, NULL), ONNXI_OK);
  float x[C_IN * HW * HW];
  net_input(x, 1);
  onnxi_tensor in = net_x(x), out = {0}, bad;
  expect_run_fail(s, &in, 2, &out, 1, ONNXI_ERR_INVALID_ARG, "2 inputs and 1 outputs given");
  expect_run_fail(s, &in, 1, &out, 0, ONNXI_ERR_INVALID_ARG, "model has 1 and 1");
  expect_run_fail(s, NULL, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "1 inputs and 1 outputs given");
  expect_run_fail(s, &in, 1, NULL, 1, ONNXI_ERR_INVALID_ARG, "1 inputs and 1 outputs given");
  bad = in, bad.dtype = ONNXI_DTYPE_INT32;
  expect_run_fail(s, &bad, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "dtype int32 given, model wants float32");
  bad = in, bad.dtype = (onnxi_dtype)77;
  expect_run_fail(s, &bad, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "dtype");
  bad = in, bad.nbytes -= 4;
  expect_run_fail(s, &bad, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "nbytes 764 does not match its dims");
  bad = in, bad.nbytes = SIZE_MAX;
  expect_run_fail(s, &bad, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "does not match its dims");
  bad = in, bad.data = NULL;
  expect_run_fail(s, &bad, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "data is NULL");
  bad = in, bad.rank = -1;
  expect_run_fail(s, &bad, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "rank -1 out of range");
  bad = in, bad.rank = ONNXI_MAX_RANK + 1;
  expect_run_fail(s, &bad, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "rank 9 out of range");
  bad = in, bad.dims[2] = -8, bad.dims[3] = -8;
  expect_run_fail(s, &bad, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "invalid dims");
  bad = in, bad.dims[0] = INT64_MAX / 2, bad.dims[1] = 4;
  expect_run_fail(s, &bad, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "invalid dims");
  bad = in, bad.dims[2] = 4, bad.dims[3] = 16; /* same count, other shape */
  expect_run_fail(s, &bad, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "dim 2 is 4, the model declares 8");
  /* output buffer too small: error, buffer untouched */
  float small[N_OUT - 1];
  memset(small, 0x7f, sizeof small);
  out.data = small, out.nbytes = sizeof small;
  expect_run_fail(s, &in, 1, &out, 1, ONNXI_ERR_INVALID_ARG, "buffer of 36 bytes, 40 needed");
  for (size_t i = 0; i < sizeof small; i++) assert_int_equal(((uint8_t *)small)[i], 0x7f);
  /* after all that, a correct run still gives the right numbers */
  float y[N_OUT];
  double want[N_OUT];
  out = (onnxi_tensor){.data = y, .nbytes = sizeof y};
  assert_int_equal(onnxi_session_run(s, &in, 1, &out, 1, NULL), ONNXI_OK);
  assert_int_equal(out.dtype, ONNXI_DTYPE_FLOAT);
  assert_int_equal(out.rank, 2);
  assert_int_equal(out.dims[1], N_OUT);
  net_ref(x, want);
  assert_true(net_close(y, want));
  onnxi_session_free(s);
  onnxi_model_free(m);
}

/* Debug builds (no NDEBUG) keep a registry of loaded models: a freed model
 * passed back is INVALID_ARG instead of a use after free. */
static void test_freed_model(void **state) {
  (void)state;
#ifdef NDEBUG
  skip();
#else
  onnxi_model *m = net_load(), *other = net_load();
  onnxi_model_free(m);
  onnxi_session *s = NULL;
  onnxi_error err;
  assert_int_equal(onnxi_session_create(m, NULL, &s, &err), ONNXI_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "is not loaded (freed already?)"));
  assert_null(s);
  onnxi_tensor_info info;
  assert_int_equal(onnxi_model_input_info(m, 0, &info, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(onnxi_model_input_count(m), 0);
  onnxi_model_free(m); /* a double free is ignored */
  assert_int_equal(onnxi_model_input_count(other), 1); /* the live one still works */
  onnxi_model_free(other);
#endif
}

/* --- memory caps -------------------------------------------------------------- */

static void test_memory_caps(void **state) {
  (void)state;
  size_t size;
  uint8_t *buf = net_pack(&size);
  onnxi_model *m = NULL;
  onnxi_error err;
  /* the weights are ~10.5 KB */
  onnxi_load_options lo = {.max_weight_bytes = 4096};
  assert_int_equal(onnxi_model_load_buffer(buf, size, "net.onnx", &lo, &m, &err), ONNXI_ERR_LIMIT);
  if (!strstr(err.message, "exceed max_weight_bytes (4096")) fail_msg("%s", err.message);
  assert_null(m);
  assert_int_equal(onnxi_model_load_buffer(buf, size, "net.onnx", NULL, &m, &err), ONNXI_OK);
  free(buf);
  /* weights ~11 KB + a few KB of activations: 12 KB fails at the first run */
  onnxi_session_options so = {.threads = 1, .max_memory_bytes = 12 * 1024};
  onnxi_session *s = NULL;
  assert_int_equal(onnxi_session_create(m, &so, &s, &err), ONNXI_OK);
  float x[C_IN * HW * HW], y[N_OUT];
  net_input(x, 2);
  onnxi_tensor in = net_x(x), out = {.data = y, .nbytes = sizeof y};
  expect_run_fail(s, &in, 1, &out, 1, ONNXI_ERR_LIMIT, "over max_memory_bytes (12288)");
  onnxi_session_free(s);
  so.max_memory_bytes = 1 << 20;
  expect_net_runs(m, &so, x);
  onnxi_model_free(m);
}

/* --- work cap ------------------------------------------------------------------ */

/* The conv alone needs 2 x 256 outputs x 27 taps = 13824 FLOPs plus 560
 * elements read and written (x 192, w 108, b 4, y 256) = 14384: a cap of
 * 14000 stops the plan at the conv, before anything runs; the whole net is
 * ~2.3e4, so 1e5 runs it. */
static void test_work_cap(void **state) {
  (void)state;
  onnxi_model *m = net_load();
  onnxi_session_options so = {.threads = 1, .max_run_ops = 14000};
  onnxi_session *s = NULL;
  onnxi_error err;
  assert_int_equal(onnxi_session_create(m, &so, &s, &err), ONNXI_OK);
  float x[C_IN * HW * HW], y[N_OUT];
  net_input(x, 3);
  onnxi_tensor in = net_x(x), out = {.data = y, .nbytes = sizeof y};
  expect_run_fail(s, &in, 1, &out, 1, ONNXI_ERR_LIMIT,
                  "~1.44e+04 operations per run up to this node, over max_run_ops (1.4e+04)");
  onnxi_session_free(s);
  so.max_run_ops = 100000;
  expect_net_runs(m, &so, x);
  onnxi_model_free(m);
}

/* --- a model file changing size while it loads ---------------------------------- */

typedef struct flipper {
  const char *path;
  const uint8_t *data;
  size_t size;
  int stop; /* atomic */
} flipper;

/* Rewrites the file over and over: truncated to a random length, then whole. */
static void *flipper_main(void *arg) {
  flipper *f = arg;
  unsigned seed = 7;
  while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
    FILE *fp = fopen(f->path, "r+b");
    if (!fp) continue;
    seed = seed * 1103515245u + 12345u;
    /* errors here only make the race less likely; the loader is what is tested */
    if (ftruncate(fileno(fp), (off_t)(seed % f->size)) == 0 && fseek(fp, 0, SEEK_SET) == 0)
      (void)!fwrite(f->data, 1, f->size, fp);
    fclose(fp);
    nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL); /* whole for a while: some loads succeed */
  }
  return NULL;
}

static void test_file_changes_size(void **state) {
  (void)state;
  /* a 4 MB initializer makes each load long enough to overlap a rewrite */
  enum { BIG = 1 << 20 };
  float *w = calloc(BIG, sizeof *w);
  Onnx__ModelProto *mp = mb_model_new();
  mb_input(mp->graph, "x", F32, 1, DIMS(BIG));
  mb_initializer_f32(mp->graph, "w", 1, DIMS(BIG), w);
  mb_node(mp->graph, "Add", "add", "x,w", "y");
  mb_output(mp->graph, "y", F32, 1, DIMS(BIG));
  size_t size;
  uint8_t *buf = mb_model_pack(mp, &size);
  char *dir = mb_tmpdir_create();
  char *path = mb_model_write(mp, dir, "flip.onnx");
  mb_model_free(mp);
  free(w);
  flipper f = {.path = path, .data = buf, .size = size};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, flipper_main, &f), 0);
  int n_ok = 0, n_err = 0;
  for (int i = 0; i < 60; i++) {
    onnxi_model *m = NULL;
    onnxi_error err;
    onnxi_status st = onnxi_model_load_file(path, NULL, &m, &err);
    if (st == ONNXI_OK) {
      n_ok++;
      onnxi_model_free(m);
      continue;
    }
    n_err++;
    if (st != ONNXI_ERR_IO && st != ONNXI_ERR_PARSE && st != ONNXI_ERR_INVALID_MODEL)
      fail_msg("unexpected %s: %s", onnxi_status_string(st), err.message);
  }
  __atomic_store_n(&f.stop, 1, __ATOMIC_RELEASE);
  pthread_join(th, NULL);
  printf("file changing size: %d loads ok, %d failed cleanly\n", n_ok, n_err);
  free(buf);
  free(path);
  mb_tmpdir_remove(dir);
}

/* --- CLI input readers: a header must not make them allocate gigabytes ---------- */

/* Writes `text` to dir/name and reads it as a CLI input: the status, the message
 * in err. */
static onnxi_status image_try(const char *dir, const char *name, const char *text, onnxi_error *err) {
  char *path = mb_file_write(dir, name, text, strlen(text));
  image_options o;
  image_options_default(&o);
  arena a;
  arena_init(&a, 0);
  onnxi_tensor t;
  onnxi_status st = tensor_file_read(path, &o, &a, &t, err);
  arena_release(&a);
  free(path);
  return st;
}

static void test_image_header_bomb(void **state) {
  (void)state;
  char *dir = mb_tmpdir_create();
  onnxi_error err;
  /* 32768 x 32768 RGB would be 3 GB; 8192 x 8193 is just over the 64 Mpx cap */
  assert_int_equal(image_try(dir, "bomb.ppm", "P6\n32768 32768\n255\n", &err), ONNXI_ERR_PARSE);
  assert_non_null(strstr(err.message, "bad PPM header"));
  assert_int_equal(image_try(dir, "bomb.pgm", "P5\n8192 8193\n255\n", &err), ONNXI_ERR_PARSE);
  assert_non_null(strstr(err.message, "bad PPM header"));
  /* 8192 x 8192 passes the header check and fails on the missing pixels */
  assert_int_not_equal(image_try(dir, "short.pgm", "P5\n8192 8192\n255\n", &err), ONNXI_OK);
  assert_null(strstr(err.message, "bad PPM header"));
  mb_tmpdir_remove(dir);
}

/* --- two sessions of one model on two threads ------------------------------------ */

typedef struct runner {
  const onnxi_model *model;
  unsigned seed;
  int threads;
  int bad; /* runs whose numbers were wrong or that failed */
  char message[ONNXI_ERROR_MAX];
} runner;

static void *runner_main(void *arg) {
  runner *r = arg;
  onnxi_session *s = NULL;
  onnxi_error err;
  onnxi_session_options so = {.threads = r->threads};
  if (onnxi_session_create(r->model, &so, &s, &err) != ONNXI_OK) {
    snprintf(r->message, sizeof r->message, "%s", err.message);
    r->bad = -1;
    return NULL;
  }
  for (int it = 0; it < 40; it++) {
    float x[C_IN * HW * HW], y[N_OUT];
    double want[N_OUT];
    net_input(x, r->seed + (unsigned)it);
    onnxi_tensor in = net_x(x), out = {.data = y, .nbytes = sizeof y};
    if (onnxi_session_run(s, &in, 1, &out, 1, &err) != ONNXI_OK) {
      snprintf(r->message, sizeof r->message, "%s", err.message);
      r->bad++;
      continue;
    }
    net_ref(x, want);
    r->bad += !net_close(y, want);
  }
  onnxi_session_free(s);
  return NULL;
}

static void test_two_threads_two_sessions(void **state) {
  (void)state;
  onnxi_model *m = net_load();
  /* one single-threaded pair, one pair with their own 2-thread pools */
  for (int threads = 1; threads <= 2; threads++) {
    runner r[2] = {{.model = m, .seed = 100, .threads = threads},
                   {.model = m, .seed = 900, .threads = threads}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&th[i], NULL, runner_main, &r[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++)
      if (r[i].bad) fail_msg("thread %d (%d threads): %d bad runs %s", i, threads, r[i].bad, r[i].message);
  }
  onnxi_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_null_pointers),
      cmocka_unit_test(test_wrong_inputs),
      cmocka_unit_test(test_freed_model),
      cmocka_unit_test(test_memory_caps),
      cmocka_unit_test(test_work_cap),
      cmocka_unit_test(test_file_changes_size),
      cmocka_unit_test(test_image_header_bomb),
      cmocka_unit_test(test_two_threads_two_sessions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
