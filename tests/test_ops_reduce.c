/* ReduceSum/Mean/Max/Min and ArgMax/ArgMin through the real executor:
 * axes as attribute (< 13) and as input (ReduceSum >= 13), keepdims,
 * negative axes, reduce-all, noop_with_empty_axes, several dtypes,
 * select_last_index, larger shapes through every inner-loop path, errors.
 * Expected values are hand-computed or computed with numpy. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel.h"
#include "op_test.h"
#include "test_literals.h"

/* x[3,2,2] of the ONNX reduce examples */
static const float x322[] = {5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2};

/* op(X) with X a graph input; axes (if n_axes >= 0) as attribute; returns the node. */
static int build(op_test *t, int64_t opset, const char *op, int32_t dt, int rank,
                 const int64_t *dims, const void *data, int n_axes, const int64_t *axes) {
  op_test_init(t, opset);
  int x = op_test_input(t, "X", dt, rank, dims, data);
  int y = op_test_value(t, "Y");
  int n = op_test_node(t, op, &x, 1, &y, 1);
  if (n_axes >= 0) op_test_attr_ints(t, n, "axes", n_axes, axes);
  op_test_output(t, y);
  return n;
}

/* ReduceSum opset 13: axes as a constant input (n_axes < 0: omitted). */
static int build_sum13(op_test *t, int rank, const int64_t *dims, const void *data, int n_axes,
                       const int64_t *axes) {
  op_test_init(t, 13);
  int in[2];
  in[0] = op_test_input(t, "X", ONNXI_DTYPE_FLOAT, rank, dims, data);
  if (n_axes >= 0) in[1] = op_test_const(t, "axes", ONNXI_DTYPE_INT64, 1, D(n_axes), axes);
  int y = op_test_value(t, "Y");
  int n = op_test_node(t, "ReduceSum", in, n_axes >= 0 ? 2 : 1, &y, 1);
  op_test_output(t, y);
  return n;
}

static void run_ok(op_test *t, int32_t dt, int rank, const int64_t *dims, const void *want) {
  assert_int_equal(op_test_run(t, 1), ONNXI_OK);
  op_test_expect(t, 0, dt, rank, dims, want, 1e-6, 1e-6);
  op_test_release(t);
}

static void expect_error(op_test *t, onnxi_status want, const char *needle) {
  assert_int_equal(op_test_run(t, 1), want);
  if (!strstr(t->err.message, needle)) fail_msg("message '%s' lacks '%s'", t->err.message, needle);
  op_test_release(t);
}

static void test_reduce_sum_axes_input(void **state) {
  (void)state;
  op_test t;
  build_sum13(&t, 3, D(3, 2, 2), x322, 1, I64(1));
  run_ok(&t, ONNXI_DTYPE_FLOAT, 3, D(3, 1, 2), F32(25, 3, 70, 3, 115, 3));
  int n = build_sum13(&t, 3, D(3, 2, 2), x322, 1, I64(-1));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 2, D(3, 2), F32(6, 22, 31, 42, 56, 62));
  /* no axes: everything; empty axes: everything unless noop_with_empty_axes */
  build_sum13(&t, 3, D(3, 2, 2), x322, -1, NULL);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 3, D(1, 1, 1), F32(219));
  n = build_sum13(&t, 3, D(3, 2, 2), x322, 0, I64(0));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 0, NONE, F32(219));
  n = build_sum13(&t, 3, D(3, 2, 2), x322, 0, I64(0));
  op_test_attr_int(&t, n, "noop_with_empty_axes", 1);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322);
  /* axes fed as a graph input: read at plan time */
  op_test_init(&t, 13);
  int in[2] = {op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322),
               op_test_input(&t, "A", ONNXI_DTYPE_INT64, 1, D(2), I64(0, 2))};
  int y = op_test_value(&t, "Y");
  op_test_node(&t, "ReduceSum", in, 2, &y, 1);
  op_test_output(&t, y);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 3, D(1, 2, 1), F32(93, 126));
}

static void test_reduce_sum_opset11(void **state) {
  (void)state;
  op_test t;
  int n = build(&t, 11, "ReduceSum", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, 1, I64(-2));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 2, D(3, 2), F32(25, 3, 70, 3, 115, 3));
  build(&t, 11, "ReduceSum", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, -1, NULL);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 3, D(1, 1, 1), F32(219));
}

static void test_reduce_mean(void **state) {
  (void)state;
  op_test t;
  int n = build(&t, 13, "ReduceMean", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, 2, I64(0, 2));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 1, D(2), F32(15.5f, 21));
  /* NCHW global average pool: over H,W keeping dims, and over C dropping it */
  float y[24];
  for (int i = 0; i < 24; i++) y[i] = 0.5f * (float)i - 3;
  build(&t, 13, "ReduceMean", ONNXI_DTYPE_FLOAT, 4, D(1, 2, 3, 4), y, 2, I64(2, 3));
  run_ok(&t, ONNXI_DTYPE_FLOAT, 4, D(1, 2, 1, 1), F32(-0.25f, 5.75f));
  n = build(&t, 13, "ReduceMean", ONNXI_DTYPE_FLOAT, 4, D(1, 2, 3, 4), y, 1, I64(-3));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 3, D(1, 3, 4),
         F32(0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f, 4, 4.5f, 5, 5.5f));
  const double d[] = {1, 2, 4, 8};
  build(&t, 13, "ReduceMean", ONNXI_DTYPE_DOUBLE, 2, D(2, 2), d, 1, I64(0));
  run_ok(&t, ONNXI_DTYPE_DOUBLE, 2, D(1, 2), (const double[]){2.5, 5});
}

static void test_reduce_max_min(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "ReduceMax", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, 1, I64(1));
  run_ok(&t, ONNXI_DTYPE_FLOAT, 3, D(3, 1, 2), F32(20, 2, 40, 2, 60, 2));
  int n = build(&t, 13, "ReduceMin", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, 2, I64(2, 0));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 1, D(2), F32(1, 2));
  build(&t, 13, "ReduceMax", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, -1, NULL);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 3, D(1, 1, 1), F32(60));
  /* NaN wins like numpy's max */
  build(&t, 13, "ReduceMax", ONNXI_DTYPE_FLOAT, 1, D(3), F32(1, NAN, 3), -1, NULL);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 1, D(1), F32(NAN));
}

static void test_reduce_int_dtypes(void **state) {
  (void)state;
  op_test t;
  const int32_t i[] = {3, -7, 2, 9, 9, -1};
  int n = build(&t, 13, "ReduceMean", ONNXI_DTYPE_INT32, 2, D(2, 3), i, 1, I64(1));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, ONNXI_DTYPE_INT32, 1, D(2), I32(0, 5));
  n = build(&t, 13, "ReduceMax", ONNXI_DTYPE_INT32, 2, D(2, 3), i, 1, I64(1));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, ONNXI_DTYPE_INT32, 1, D(2), I32(3, 9));
  build(&t, 13, "ReduceMin", ONNXI_DTYPE_INT32, 2, D(2, 3), i, 1, I64(0));
  run_ok(&t, ONNXI_DTYPE_INT32, 2, D(1, 3), I32(3, -7, -1));
  build(&t, 11, "ReduceSum", ONNXI_DTYPE_INT64, 1, D(3), I64(INT64_MAX, 1, 5), 1, I64(0));
  run_ok(&t, ONNXI_DTYPE_INT64, 1, D(1), I64(INT64_MIN + 5));
  build(&t, 13, "ReduceMax", ONNXI_DTYPE_UINT8, 1, D(3), (const uint8_t[]){7, 255, 0}, -1, NULL);
  run_ok(&t, ONNXI_DTYPE_UINT8, 1, D(1), (const uint8_t[]){255});
  build(&t, 13, "ReduceMin", ONNXI_DTYPE_INT8, 2, D(2, 2), (const int8_t[]){-128, 5, 127, -3}, 1,
        I64(1));
  run_ok(&t, ONNXI_DTYPE_INT8, 2, D(2, 1), (const int8_t[]){-128, -3});
  /* float16 sums accumulate in float: 1 + 2 + 3 = 6 (0x4600) */
  build(&t, 13, "ReduceMean", ONNXI_DTYPE_FLOAT16, 1, D(3),
        (const uint16_t[]){0x3c00, 0x4000, 0x4200}, -1, NULL);
  run_ok(&t, ONNXI_DTYPE_FLOAT16, 1, D(1), (const uint16_t[]){0x4000});
}

static void test_argmax_argmin(void **state) {
  (void)state;
  const float a[] = {2, 1, 5, 5, 0, 5};
  op_test t;
  int n = build(&t, 13, "ArgMax", ONNXI_DTYPE_FLOAT, 2, D(2, 3), a, -1, NULL);
  op_test_attr_int(&t, n, "axis", 1);
  run_ok(&t, ONNXI_DTYPE_INT64, 2, D(2, 1), I64(2, 0));
  n = build(&t, 13, "ArgMax", ONNXI_DTYPE_FLOAT, 2, D(2, 3), a, -1, NULL);
  op_test_attr_int(&t, n, "axis", -1);
  op_test_attr_int(&t, n, "keepdims", 0);
  op_test_attr_int(&t, n, "select_last_index", 1);
  run_ok(&t, ONNXI_DTYPE_INT64, 1, D(2), I64(2, 2));
  build(&t, 13, "ArgMin", ONNXI_DTYPE_FLOAT, 2, D(2, 3), a, -1, NULL);
  run_ok(&t, ONNXI_DTYPE_INT64, 2, D(1, 3), I64(0, 1, 0));
  n = build(&t, 13, "ArgMin", ONNXI_DTYPE_FLOAT, 2, D(2, 3), a, -1, NULL);
  op_test_attr_int(&t, n, "select_last_index", 1);
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, ONNXI_DTYPE_INT64, 1, D(3), I64(0, 1, 1));
  /* middle axis of a rank-3 int32 tensor */
  const int32_t b[] = {1, 9, 4, 3, 7, 3, 0, 8, 2, 2, 6, 6};
  n = build(&t, 13, "ArgMax", ONNXI_DTYPE_INT32, 3, D(2, 3, 2), b, -1, NULL);
  op_test_attr_int(&t, n, "axis", 1);
  run_ok(&t, ONNXI_DTYPE_INT64, 3, D(2, 1, 2), I64(2, 0, 2, 0));
  n = build(&t, 11, "ArgMin", ONNXI_DTYPE_UINT8, 1, D(4), (const uint8_t[]){9, 3, 3, 200}, -1,
            NULL);
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, ONNXI_DTYPE_INT64, 0, NONE, I64(1));
}

/* [8,300,17]: reduced innermost run, kept innermost run, both, and all. */
static void test_reduce_large(void **state) {
  (void)state;
  enum { A = 8, B = 300, C = 17 };
  float *x = malloc(sizeof(float) * A * B * C);
  for (int i = 0; i < A * B * C; i++) x[i] = (float)((i * 37) % 101) * 0.125f - 5;
  float s1[A * C], s2[A * B], s02[B], mx = -INFINITY;
  memset(s1, 0, sizeof s1), memset(s2, 0, sizeof s2), memset(s02, 0, sizeof s02);
  for (int a = 0; a < A; a++)
    for (int b = 0; b < B; b++)
      for (int c = 0; c < C; c++) {
        float v = x[(a * B + b) * C + c];
        s1[a * C + c] += v, s2[a * B + b] += v, s02[b] += v;
        mx = v > mx ? v : mx;
      }
  for (int i = 0; i < A * C; i++) s1[i] /= B;
  op_test t;
  build(&t, 13, "ReduceMean", ONNXI_DTYPE_FLOAT, 3, D(A, B, C), x, 1, I64(1));
  assert_int_equal(op_test_run(&t, 2), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 3, D(A, 1, C), s1, 1e-4, 1e-4);
  op_test_release(&t);
  build(&t, 11, "ReduceSum", ONNXI_DTYPE_FLOAT, 3, D(A, B, C), x, 1, I64(2));
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 3, D(A, B, 1), s2, 1e-4, 1e-4);
  op_test_release(&t);
  int n = build(&t, 11, "ReduceSum", ONNXI_DTYPE_FLOAT, 3, D(A, B, C), x, 2, I64(0, 2));
  op_test_attr_int(&t, n, "keepdims", 0);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 1, D(B), s02, 1e-4, 1e-3);
  op_test_release(&t);
  build(&t, 13, "ReduceMax", ONNXI_DTYPE_FLOAT, 3, D(A, B, C), x, -1, NULL);
  run_ok(&t, ONNXI_DTYPE_FLOAT, 3, D(1, 1, 1), &mx);
  free(x);
}

/* --- NHWC input, driving the kernel hooks directly (graph inputs are
 * always plain, so the harness cannot feed NHWC) --- */

typedef struct direct {
  ir_node node;
  int32_t ids[3];
  ir_attr attrs[3];
  onnxi_error err;
  op_context ctx;
  const op_kernel *k;
  void *state;
} direct;

/* axes (n_axes >= 0) or axis (n_axes < 0, value axes[0]) and keepdims. */
static void direct_init(direct *d, ir_op op, int n_axes, int64_t *axes, int64_t keepdims) {
  memset(d, 0, sizeof *d);
  for (int i = 0; i < 3; i++) d->ids[i] = i;
  int na = 0;
  d->attrs[na++] = (ir_attr){.name = "keepdims", .type = IR_ATTR_INT, .n = 1, .i = keepdims};
  if (n_axes >= 0)
    d->attrs[na++] = (ir_attr){.name = "axes", .type = IR_ATTR_INTS, .n = n_axes, .ints = axes};
  else
    d->attrs[na++] = (ir_attr){.name = "axis", .type = IR_ATTR_INT, .n = 1, .i = axes[0]};
  d->node = (ir_node){.name = "n", .op_type = ir_op_name(op), .domain = "", .op = op,
                      .n_inputs = 1, .n_outputs = 1, .inputs = d->ids, .outputs = d->ids + 1,
                      .n_attrs = na, .attrs = d->attrs};
  d->ctx = (op_context){.model = "direct", .node = &d->node, .opset = 11, .err = &d->err};
  d->k = op_kernel_find(op);
  assert_non_null(d->k);
  d->state = calloc(1, d->k->state_size);
  assert_int_equal(d->k->init(&d->ctx, d->state), ONNXI_OK);
}

/* Runs on x (NHWC) and compares output bytes; frees everything. */
static void direct_check(direct *d, op_tensor *x, ir_layout want_layout, int rank,
                         const int64_t *dims, ir_layout out_layout, const void *want) {
  op_tensor out = {0}, *in[1] = {x}, *outs[1] = {&out};
  assert_int_equal(d->k->layout(&d->ctx, d->state, in, 1), want_layout);
  assert_int_equal(d->k->infer(&d->ctx, d->state, in, 1, outs, 1), ONNXI_OK);
  assert_int_equal(out.rank, rank);
  assert_memory_equal(out.dims, dims, sizeof(int64_t) * (size_t)rank);
  assert_int_equal(out.layout, out_layout);
  assert_true(op_dims_count(out.dims, out.rank, &out.count));
  out.nbytes = (size_t)out.count * ir_dtype_size(out.dtype);
  out.data = calloc(1, out.nbytes);
  assert_int_equal(d->k->setup(&d->ctx, d->state, in, 1, outs, 1), ONNXI_OK);
  assert_int_equal(d->k->run(&d->ctx, d->state, in, 1, outs, 1), ONNXI_OK);
  assert_memory_equal(out.data, want, out.nbytes);
  free(out.data);
  d->k->release(d->state);
  free(d->state);
}

enum { N = 2, C = 3, H = 2, W = 4 };
#define XV(n, c, h, w) ((float)((((n) * C + (c)) * H + (h)) * W + (w)) * 0.5f - 7)

static void test_reduce_nhwc(void **state) {
  (void)state;
  float x[N * H * W * C];
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++) x[((n * H + h) * W + w) * C + c] = XV(n, c, h, w);
  op_tensor tx = {.dtype = ONNXI_DTYPE_FLOAT, .rank = 4, .dims = {N, C, H, W},
                  .layout = IR_LAYOUT_NHWC, .data = x, .nbytes = sizeof x};
  float gap[N * C], sum_c[N * H * W], max_h[N * C * W], min_w[N * H * C];
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      float s = 0;
      for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++) s += XV(n, c, h, w);
      gap[n * C + c] = s / (H * W);
      for (int w = 0; w < W; w++)
        max_h[(n * C + c) * W + w] = fmaxf(XV(n, c, 0, w), XV(n, c, 1, w));
      for (int h = 0; h < H; h++) { /* NHWC storage [N,H,1,C] */
        float m = INFINITY;
        for (int w = 0; w < W; w++) m = fminf(m, XV(n, c, h, w));
        min_w[(n * H + h) * C + c] = m;
      }
    }
  for (int n = 0; n < N; n++)
    for (int h = 0; h < H; h++)
      for (int w = 0; w < W; w++)
        sum_c[(n * H + h) * W + w] = XV(n, 0, h, w) + XV(n, 1, h, w) + XV(n, 2, h, w);
  direct d;
  /* global average pool: over H,W keeping dims (NHWC out), and dropping them */
  direct_init(&d, IR_OP_REDUCE_MEAN, 2, (int64_t[]){2, 3}, 1);
  direct_check(&d, &tx, IR_LAYOUT_NHWC, 4, D(N, C, 1, 1), IR_LAYOUT_NHWC, gap);
  direct_init(&d, IR_OP_REDUCE_MEAN, 2, (int64_t[]){-1, -2}, 0);
  direct_check(&d, &tx, IR_LAYOUT_NHWC, 2, D(N, C), IR_LAYOUT_PLAIN, gap);
  /* over C, dropped: plain [N,H,W] */
  direct_init(&d, IR_OP_REDUCE_SUM, 1, (int64_t[]){1}, 0);
  direct_check(&d, &tx, IR_LAYOUT_NHWC, 3, D(N, H, W), IR_LAYOUT_PLAIN, sum_c);
  /* over H, dropped: plain [N,C,W] written with a channel stride */
  direct_init(&d, IR_OP_REDUCE_MAX, 1, (int64_t[]){2}, 0);
  direct_check(&d, &tx, IR_LAYOUT_NHWC, 3, D(N, C, W), IR_LAYOUT_PLAIN, max_h);
  /* over W, kept: NHWC [N,C,H,1] */
  direct_init(&d, IR_OP_REDUCE_MIN, 1, (int64_t[]){3}, 1);
  direct_check(&d, &tx, IR_LAYOUT_NHWC, 4, D(N, C, H, 1), IR_LAYOUT_NHWC, min_w);
}

static void test_argmax_nhwc(void **state) {
  (void)state;
  /* [1,3,2,2] stored NHWC: pixels (1,5,9) (7,2,3) (4,6,8) (3,3,9) */
  const float x[] = {1, 5, 9, 7, 2, 3, 4, 6, 8, 3, 3, 9};
  op_tensor tx = {.dtype = ONNXI_DTYPE_FLOAT, .rank = 4, .dims = {1, 3, 2, 2},
                  .layout = IR_LAYOUT_NHWC, .data = (void *)x, .nbytes = sizeof x};
  direct d;
  direct_init(&d, IR_OP_ARGMAX, -1, (int64_t[]){1}, 0);
  direct_check(&d, &tx, IR_LAYOUT_NHWC, 3, D(1, 2, 2), IR_LAYOUT_PLAIN, I64(2, 0, 2, 2));
  /* ArgMin over W, kept: NHWC [1,2,1,3] */
  direct_init(&d, IR_OP_ARGMIN, -1, (int64_t[]){3}, 1);
  int64_t want[6];
  for (int c = 0; c < 3; c++)
    for (int h = 0; h < 2; h++) {
      float a = x[(h * 2 + 0) * 3 + c], b = x[(h * 2 + 1) * 3 + c];
      want[h * 3 + c] = b < a ? 1 : 0;
    }
  direct_check(&d, &tx, IR_LAYOUT_NHWC, 4, D(1, 3, 2, 1), IR_LAYOUT_NHWC, want);
  /* over H without keepdims the [outer, inner] order is not plain: ask for NCHW */
  direct_init(&d, IR_OP_ARGMAX, -1, (int64_t[]){2}, 0);
  assert_int_equal(d.k->layout(&d.ctx, d.state, (op_tensor *[]){&tx}, 1), IR_LAYOUT_PLAIN);
  d.k->release(d.state);
  free(d.state);
}

static void test_reduce_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "ReduceMax", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, 1, I64(3));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "out of range");
  build(&t, 13, "ReduceMean", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, 2, I64(1, -2));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "repeated");
  build(&t, 13, "ReduceSum", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, 1, I64(1));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "'axes' is not allowed");
  int n = build(&t, 13, "ReduceMin", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, -1, NULL);
  op_test_attr_int(&t, n, "keepdims", 2);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "keepdims");
  n = build(&t, 13, "ArgMax", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322, -1, NULL);
  op_test_attr_int(&t, n, "axis", -4);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "axis");
  build(&t, 13, "ReduceSum", ONNXI_DTYPE_BOOL, 1, D(2), (const uint8_t[]){1, 0}, -1, NULL);
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "dtype bool");
  op_test_init(&t, 13);
  int in[2] = {op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 3, D(3, 2, 2), x322),
               op_test_const(&t, "axes", ONNXI_DTYPE_INT32, 1, D(1), I32(1))};
  int y = op_test_value(&t, "Y");
  op_test_node(&t, "ReduceSum", in, 2, &y, 1);
  op_test_output(&t, y);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "int64");
}

/* ReduceProd/SumSquare/L1/L2/LogSum/LogSumExp on x322 / 10 (numpy float64 references:
 * np.prod, np.sum(x*x), np.sum(np.abs), np.sqrt(np.sum(x*x)), np.log(np.sum),
 * np.log(np.sum(np.exp))) and on int64. */
static void test_reduce_more_ops(void **state) {
  (void)state;
  op_test t;
  const float *x = F32(0.5f, 0.1f, 2, 0.2f, 3, 0.1f, 4, 0.2f, 5.5f, 0.1f, 6, 0.2f);
  build(&t, 13, "ReduceProd", FLOAT, 3, D(3, 2, 2), x, 1, I64(1));
  run_ok(&t, FLOAT, 3, D(3, 1, 2), F32(1, 0.0199999996f, 12, 0.0199999996f, 33, 0.0199999996f));
  int n = build(&t, 13, "ReduceSumSquare", FLOAT, 3, D(3, 2, 2), x, 2, I64(0, 2));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, FLOAT, 1, D(2), F32(39.5299988f, 56.1199989f));
  build(&t, 13, "ReduceL1", FLOAT, 3, D(3, 2, 2),
        F32(-2.5f, -2.9f, -1, -2.8f, 0, -2.9f, 1, -2.8f, 2.5f, -2.9f, 3, -2.8f), 1, I64(-1));
  run_ok(&t, FLOAT, 3, D(3, 2, 1), F32(5.4000001f, 3.79999995f, 2.9000001f, 3.79999995f, 5.4000001f,
                                       5.80000019f));
  build(&t, 13, "ReduceL2", FLOAT, 3, D(3, 2, 2), x, 1, I64(1));
  run_ok(&t, FLOAT, 3, D(3, 1, 2),
         F32(2.06155276f, 0.223606795f, 5, 0.223606795f, 8.13941002f, 0.223606795f));
  n = build(&t, 13, "ReduceLogSum", FLOAT, 3, D(3, 2, 2), x, 2, I64(1, 2));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, FLOAT, 1, D(3), F32(1.02961946f, 1.98787439f, 2.46809959f));
  /* exp(60) overflows float32: the double accumulator does not */
  build(&t, 13, "ReduceLogSumExp", FLOAT, 3, D(3, 2, 2), x322, 1, I64(1));
  run_ok(&t, FLOAT, 3, D(3, 1, 2), F32(20, 2.31326175f, 40.0000458f, 2.31326175f, 60.0067139f,
                                       2.31326175f));
  /* int64: np.prod / np.sum(x*x) / np.sum(np.abs) of [[-3, 2, 5], [-7, 1, 4]] */
  const int64_t *xi = I64(-3, 2, 5, -7, 1, 4);
  n = build(&t, 13, "ReduceProd", INT64, 2, D(2, 3), xi, 1, I64(1));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, INT64, 1, D(2), I64(-30, -28));
  build(&t, 13, "ReduceSumSquare", INT64, 2, D(2, 3), xi, 1, I64(0));
  run_ok(&t, INT64, 2, D(1, 3), I64(58, 5, 41));
  n = build(&t, 13, "ReduceL1", INT64, 2, D(2, 3), xi, 1, I64(1));
  op_test_attr_int(&t, n, "keepdims", 0);
  run_ok(&t, INT64, 1, D(2), I64(10, 12));
  /* no axes: all; the product of nothing is 1 */
  build(&t, 13, "ReduceProd", FLOAT, 2, D(2, 2), F32(1, 2, 3, 4), -1, NULL);
  run_ok(&t, FLOAT, 2, D(1, 1), F32(24));
  build(&t, 13, "ReduceProd", FLOAT, 2, D(0, 2), F32(0), 1, I64(0));
  run_ok(&t, FLOAT, 2, D(1, 2), F32(1, 1));
}

/* --- CumSum (numpy np.cumsum; reverse = flip, cumsum, flip; exclusive = cumsum - x) --- */

static void cumsum_check(int32_t dt, const void *x, int rank, const int64_t *dims, int64_t axis,
                         int exclusive, int reverse, const void *want) {
  op_test t;
  op_test_init(&t, 14);
  int in[2] = {op_test_input(&t, "X", dt, rank, dims, x),
               op_test_const(&t, "A", INT32, 0, NONE, I32((int32_t)axis))};
  int y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "CumSum", in, 2, &y, 1);
  if (exclusive) op_test_attr_int(&t, n, "exclusive", 1);
  if (reverse) op_test_attr_int(&t, n, "reverse", 1);
  op_test_output(&t, y);
  if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, dt, rank, dims, want, 0, 0);
  op_test_release(&t);
}

static void test_cumsum(void **state) {
  (void)state;
  const float *x = F32(1, 2, 3, 4, 5, 6);
  cumsum_check(FLOAT, x, 2, D(2, 3), 1, 0, 0, F32(1, 3, 6, 4, 9, 15));
  cumsum_check(FLOAT, x, 2, D(2, 3), -1, 1, 0, F32(0, 1, 3, 0, 4, 9));
  cumsum_check(FLOAT, x, 2, D(2, 3), 0, 0, 1, F32(5, 7, 9, 4, 5, 6));
  cumsum_check(FLOAT, x, 2, D(2, 3), 0, 1, 1, F32(4, 5, 6, 0, 0, 0));
  /* int64 beyond 2^53 stays exact; the sum wraps like numpy */
  cumsum_check(INT64, I64(INT64_C(1) << 62, INT64_C(1) << 62, 5), 1, D(3), 0, 0, 0,
               I64(INT64_C(1) << 62, INT64_MIN, INT64_MIN + 5));
  cumsum_check(INT32, I32(-1, 2, -3), 1, D(3), 0, 0, 1, I32(-2, -1, -3));
}

/* --- TopK (hand-checked; ties keep the lower index first) --- */

static void topk_check(int64_t opset, int32_t dt, int rank, const int64_t *dims, const void *x,
                       int64_t k, int64_t axis, int largest, int orank, const int64_t *odims,
                       const void *want, const int64_t *want_idx) {
  op_test t;
  op_test_init(&t, opset);
  int in[2];
  in[0] = op_test_input(&t, "X", dt, rank, dims, x);
  if (opset >= 10) in[1] = op_test_const(&t, "K", INT64, 1, D(1), &k);
  int out[2] = {op_test_value(&t, "V"), op_test_value(&t, "I")};
  int n = op_test_node(&t, "TopK", in, opset >= 10 ? 2 : 1, out, 2);
  if (opset < 10) op_test_attr_int(&t, n, "k", k);
  op_test_attr_int(&t, n, "axis", axis);
  if (!largest) op_test_attr_int(&t, n, "largest", 0);
  op_test_output(&t, out[0]);
  op_test_output(&t, out[1]);
  if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, dt, orank, odims, want, 0, 0);
  op_test_expect(&t, 1, INT64, orank, odims, want_idx, 0, 0);
  op_test_release(&t);
}

static void test_topk(void **state) {
  (void)state;
  const float *x = F32(3, 1, 3, 2, 0, 5, 5, 4);
  topk_check(11, FLOAT, 2, D(2, 4), x, 2, -1, 1, 2, D(2, 2), F32(3, 3, 5, 5), I64(0, 2, 1, 2));
  topk_check(11, FLOAT, 2, D(2, 4), x, 3, 1, 0, 2, D(2, 3), F32(1, 2, 3, 0, 4, 5),
             I64(1, 3, 0, 0, 3, 1));
  /* axis 0 of [2, 4]; opset 9 takes k as an attribute */
  topk_check(9, FLOAT, 2, D(2, 4), x, 1, 0, 1, 2, D(1, 4), F32(3, 5, 5, 4), I64(0, 1, 1, 1));
  /* int64 values beyond 2^53 are copied exactly */
  topk_check(11, INT64, 1, D(3), I64(INT64_MAX, 7, INT64_MIN), 2, 0, 1, 1, D(2),
             I64(INT64_MAX, 7), I64(0, 1));
  /* K = 0 gives empty outputs */
  topk_check(11, FLOAT, 1, D(3), x, 0, 0, 1, 1, D(0), F32(0), I64(0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reduce_sum_axes_input),
      cmocka_unit_test(test_reduce_sum_opset11),
      cmocka_unit_test(test_reduce_mean),
      cmocka_unit_test(test_reduce_max_min),
      cmocka_unit_test(test_reduce_int_dtypes),
      cmocka_unit_test(test_argmax_argmin),
      cmocka_unit_test(test_reduce_large),
      cmocka_unit_test(test_reduce_nhwc),
      cmocka_unit_test(test_argmax_nhwc),
      cmocka_unit_test(test_reduce_errors),
      cmocka_unit_test(test_reduce_more_ops),
      cmocka_unit_test(test_cumsum),
      cmocka_unit_test(test_topk),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
