/* The shuffle pass and onnxi.ChannelShuffle: node counts, outputs equal to
 * the unfused graph and to a hand-written reshape/transpose reference, plain
 * and NHWC inputs, computed (Shape/Gather/Concat) targets, and the graphs the
 * pass must leave alone. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"
#include "pass.h"

#define MAXN 1024

static float x_data[MAXN];

static void fill(float *v, int n) {
  for (int i = 0; i < n; i++) v[i] = (float)i + 0.25f * sinf((float)i);
}

/* Reference: view x as d (5-D, row-major), swap axes 1 and 2. */
static void ref_swap12(const float *x, const int64_t *d, float *y) {
  int64_t inner = d[3] * d[4];
  for (int64_t a = 0; a < d[0]; a++)
    for (int64_t b = 0; b < d[1]; b++)
      for (int64_t c = 0; c < d[2]; c++)
        for (int64_t r = 0; r < inner; r++)
          y[((a * d[2] + c) * d[1] + b) * inner + r] = x[((a * d[1] + b) * d[2] + c) * inner + r];
}

typedef struct shuffle_ids {
  int x, in, mid, out; /* graph input, shuffle input, Reshape output, result */
  int first, transpose, last;
} shuffle_ids;

/* in -> Reshape(t1) -> Transpose(perm) -> Reshape(t2) -> out. */
static shuffle_ids add_shuffle(op_test *t, int in, int t1, int t2, const int64_t *perm) {
  shuffle_ids s = {.in = in};
  s.mid = op_test_value(t, "r1");
  int tr = op_test_value(t, "tr");
  s.out = op_test_value(t, "y");
  s.first = op_test_node(t, "Reshape", (int[]){in, t1}, 2, (int[]){s.mid}, 1);
  s.transpose = op_test_node(t, "Transpose", (int[]){s.mid}, 1, (int[]){tr}, 1);
  op_test_attr_ints(t, s.transpose, "perm", 5, perm);
  s.last = op_test_node(t, "Reshape", (int[]){tr, t2}, 2, (int[]){s.out}, 1);
  return s;
}

static const int64_t shuffle_perm[5] = {0, 2, 1, 3, 4};

static int const_i64(op_test *t, const char *name, int n, const int64_t *v) {
  return op_test_const(t, name, ONNXI_DTYPE_INT64, 1, (const int64_t[]){n}, v);
}

/* Runs with passes disabled, then with them: same outputs, `want_nodes` left. */
static void run_both(op_test *t, int want_nodes, const float *want, int rank, const int64_t *dims) {
  assert_int_equal(op_test_run(t, 1), ONNXI_OK);
  if (want) op_test_expect(t, 0, ONNXI_DTYPE_FLOAT, rank, dims, want, 0, 0);
  float *before[OP_TEST_MAX_IO];
  for (int k = 0; k < t->n_outputs; k++) {
    int64_t count = 1;
    for (int i = 0; i < t->out_rank[k]; i++) count *= t->out_dims[k][i];
    before[k] = malloc(sizeof(float) * (size_t)(count ? count : 1));
    assert_non_null(before[k]);
    memcpy(before[k], t->out_data[k], sizeof(float) * (size_t)count);
  }
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t->model, NULL, NULL, &err), ONNXI_OK);
  assert_int_equal(t->model.graph.n_nodes, want_nodes);
  assert_int_equal(op_test_run(t, 2), ONNXI_OK);
  for (int k = 0; k < t->n_outputs; k++) {
    op_test_expect(t, k, ONNXI_DTYPE_FLOAT, t->out_rank[k], t->out_dims[k], before[k], 1e-5, 0);
    free(before[k]);
  }
}

static int count_op(const op_test *t, ir_op op) {
  int n = 0;
  for (int32_t i = 0; i < t->model.graph.n_nodes; i++) n += t->model.graph.nodes[i].op == op;
  return n;
}

/* A fresh graph whose input x has dims xd (4-D) and fill() values. */
static int graph_with_x(op_test *t, const int64_t *xd) {
  fill(x_data, (int)(xd[0] * xd[1] * xd[2] * xd[3]));
  op_test_init(t, 13);
  return op_test_input(t, "x", ONNXI_DTYPE_FLOAT, 4, xd, x_data);
}

/* in -> the shuffle with constant targets d1 (5-D) and t2d (4-D). */
static shuffle_ids shuffle_const(op_test *t, int in, const int64_t *d1, const int64_t *t2d, const int64_t *perm) {
  int t1 = const_i64(t, "t1", 5, d1), t2 = const_i64(t, "t2", 4, t2d);
  return add_shuffle(t, in, t1, t2, perm);
}

/* run_both against the reference: x viewed as d1 with axes 1 and 2 swapped. */
static void run_vs_ref(op_test *t, int want_nodes, const int64_t *d1, const int64_t *yd) {
  static float want[MAXN];
  ref_swap12(x_data, d1, want);
  run_both(t, want_nodes, want, 4, yd);
}

/* x (xd) -> shuffle with constant targets -> y (yd): fused to one node. */
static void build_fused(op_test *t, const int64_t *xd, const int64_t *d1, const int64_t *yd) {
  int x = graph_with_x(t, xd);
  op_test_output(t, shuffle_const(t, x, d1, yd, shuffle_perm).out);
  run_vs_ref(t, 1, d1, yd);
}

/* The shuffle-shaped chain on x {1, 6, 2, 2} that the pass must keep as 3 nodes. */
static void check_left_alone(const int64_t *perm, bool mid_is_output) {
  op_test t;
  const int64_t xd[4] = {1, 6, 2, 2}, d1[5] = {1, 2, 3, 2, 2};
  int x = graph_with_x(&t, xd);
  shuffle_ids s = shuffle_const(&t, x, d1, xd, perm);
  op_test_output(&t, s.out);
  if (mid_is_output) op_test_output(&t, s.mid); /* the 5-D tensor is a graph output */
  run_both(&t, 3, NULL, 4, xd);
  assert_int_equal(count_op(&t, IR_OP_CHANNEL_SHUFFLE), 0);
  op_test_release(&t);
}

static void test_constant_targets_fuse_plain(void **state) {
  (void)state;
  op_test t;
  build_fused(&t, (const int64_t[]){2, 6, 2, 3}, (const int64_t[]){2, 3, 2, 2, 3}, (const int64_t[]){2, 6, 2, 3});
  const ir_node *n = &t.model.graph.nodes[0];
  assert_int_equal(n->op, IR_OP_CHANNEL_SHUFFLE);
  const ir_attr *g = ir_node_attr(n, "group");
  assert_non_null(g);
  assert_int_equal(g->i, 3);
  op_test_release(&t);
}

/* Conv (NHWC) -> shuffle -> Relu: the shuffle runs on NHWC data. */
static void test_nhwc_input_between_convs(void **state) {
  (void)state;
  op_test t;
  const int64_t xd[4] = {1, 4, 3, 5}, yd[4] = {1, 8, 3, 5}, d1[5] = {0, 2, 4, 3, 5};
  float w[8 * 4];
  for (int i = 0; i < 32; i++) w[i] = (float)((i * 7) % 11) * 0.1f - 0.4f;
  int x = graph_with_x(&t, xd);
  int wi = op_test_const(&t, "w", ONNXI_DTYPE_FLOAT, 4, (const int64_t[]){8, 4, 1, 1}, w);
  int c = op_test_value(&t, "c");
  op_test_node(&t, "Conv", (int[]){x, wi}, 2, (int[]){c}, 1);
  shuffle_ids s = shuffle_const(&t, c, d1, (const int64_t[]){1, -1, 3, 5}, shuffle_perm);
  int y = op_test_value(&t, "out");
  op_test_node(&t, "Relu", (int[]){s.out}, 1, (int[]){y}, 1);
  op_test_output(&t, y);
  run_both(&t, 3, NULL, 4, yd);
  assert_int_equal(count_op(&t, IR_OP_CHANNEL_SHUFFLE), 1);
  assert_int_equal(count_op(&t, IR_OP_TRANSPOSE), 0);
  op_test_release(&t);
}

/* torchvision's form: targets concatenated from Shape/Gather at run time. */
static void test_computed_targets(void **state) {
  (void)state;
  op_test t;
  const int64_t xd[4] = {3, 4, 2, 2}, d1[5] = {3, 2, 2, 2, 2};
  int x = graph_with_x(&t, xd);
  int shape = op_test_value(&t, "shape"), n = op_test_value(&t, "n");
  op_test_node(&t, "Shape", (int[]){x}, 1, (int[]){shape}, 1);
  int zero = const_i64(&t, "zero", 1, (const int64_t[]){0});
  op_test_node(&t, "Gather", (int[]){shape, zero}, 2, (int[]){n}, 1);
  int g = const_i64(&t, "g", 1, (const int64_t[]){2}), m1 = const_i64(&t, "m1", 1, (const int64_t[]){-1});
  int two = const_i64(&t, "two", 1, (const int64_t[]){2});
  int t1 = op_test_value(&t, "t1"), t2 = op_test_value(&t, "t2");
  int c1 = op_test_node(&t, "Concat", (int[]){n, g, m1, two, two}, 5, (int[]){t1}, 1);
  int c2 = op_test_node(&t, "Concat", (int[]){n, m1, two, two}, 4, (int[]){t2}, 1);
  op_test_attr_int(&t, c1, "axis", 0);
  op_test_attr_int(&t, c2, "axis", 0);
  shuffle_ids s = add_shuffle(&t, x, t1, t2, shuffle_perm);
  op_test_output(&t, s.out);
  run_vs_ref(&t, 5, d1, xd); /* Shape, Gather, 2 Concats, the shuffle */
  assert_int_equal(count_op(&t, IR_OP_CHANNEL_SHUFFLE), 1);
  op_test_release(&t);
}

/* Same perm but the split is of H, not C: fused, computed like the 3 nodes. */
static void test_non_channel_split_stays_exact(void **state) {
  (void)state;
  op_test t;
  build_fused(&t, (const int64_t[]){1, 4, 6, 2}, (const int64_t[]){1, 4, 2, 3, 2}, (const int64_t[]){1, 8, 3, 2});
  op_test_release(&t);
}

static void test_other_perm_is_left_alone(void **state) {
  (void)state;
  check_left_alone((const int64_t[]){0, 1, 2, 4, 3}, false);
}

static void test_intermediate_read_elsewhere_is_left_alone(void **state) {
  (void)state;
  check_left_alone(shuffle_perm, true);
}

/* torchvision's ShuffleNet v2 unit: Concat -> shuffle (g = 2) -> Shape ->
 * Gather(1) -> Div 2 -> Slice [0, C/2) and [C/2, C) along channels. With a
 * Conv in front the data is NHWC, without it plain. */
static void build_split(op_test *t, bool nhwc, int64_t c, float *want0, float *want1) {
  const int64_t xd[4] = {2, c, 3, 2}, d1[5] = {2, 2, c / 2, 3, 2};
  int x = graph_with_x(t, xd), in = x;
  if (nhwc) { /* 1x1 identity conv: same values, NHWC storage */
    float w[64 * 64] = {0};
    for (int i = 0; i < c; i++) w[i * c + i] = 1;
    int wi = op_test_const(t, "w", ONNXI_DTYPE_FLOAT, 4, (const int64_t[]){c, c, 1, 1}, w);
    in = op_test_value(t, "c");
    op_test_node(t, "Conv", (int[]){x, wi}, 2, (int[]){in}, 1);
  }
  shuffle_ids s = shuffle_const(t, in, d1, xd, shuffle_perm);
  int shape = op_test_value(t, "shape"), ch = op_test_value(t, "ch"), half = op_test_value(t, "half");
  op_test_node(t, "Shape", (int[]){s.out}, 1, (int[]){shape}, 1);
  int one = const_i64(t, "one", 1, (const int64_t[]){1}), two = const_i64(t, "two", 1, (const int64_t[]){2});
  int zero = const_i64(t, "zero", 1, (const int64_t[]){0}), big = const_i64(t, "big", 1, (const int64_t[]){1000});
  op_test_node(t, "Gather", (int[]){shape, one}, 2, (int[]){ch}, 1);
  op_test_node(t, "Div", (int[]){ch, two}, 2, (int[]){half}, 1);
  int y0 = op_test_value(t, "y0"), y1 = op_test_value(t, "y1");
  op_test_node(t, "Slice", (int[]){s.out, zero, half, one}, 4, (int[]){y0}, 1);
  op_test_node(t, "Slice", (int[]){s.out, half, big, one, one}, 5, (int[]){y1}, 1);
  op_test_output(t, y0);
  op_test_output(t, y1);
  float full[2 * 64 * 6];
  ref_swap12(x_data, d1, full);
  int64_t plane = 6, h = c / 2;
  for (int64_t b = 0; b < 2; b++)
    for (int64_t k = 0; k < h * plane; k++) {
      want0[b * h * plane + k] = full[b * c * plane + k];
      want1[b * h * plane + k] = full[b * c * plane + h * plane + k];
    }
}

static void expect_halves(op_test *t, const int64_t *hd, const float *want0, const float *want1) {
  op_test_expect(t, 0, ONNXI_DTYPE_FLOAT, 4, hd, want0, 1e-6, 0);
  op_test_expect(t, 1, ONNXI_DTYPE_FLOAT, 4, hd, want1, 1e-6, 0);
}

static void check_split(bool nhwc, int64_t c) {
  op_test t;
  float want0[64 * 6], want1[64 * 6];
  build_split(&t, nhwc, c, want0, want1);
  const int64_t hd[4] = {2, c / 2, 3, 2};
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  expect_halves(&t, hd, want0, want1);
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t.model, NULL, NULL, &err), ONNXI_OK);
  /* [Conv,] Shape, Gather, Div and the one shuffle writing both halves */
  assert_int_equal(t.model.graph.n_nodes, nhwc ? 5 : 4);
  assert_int_equal(count_op(&t, IR_OP_SLICE), 0);
  for (int threads = 1; threads <= 2; threads++) {
    assert_int_equal(op_test_run(&t, threads), ONNXI_OK);
    expect_halves(&t, hd, want0, want1);
  }
  op_test_release(&t);
}

static void test_split_plain(void **state) {
  (void)state;
  check_split(false, 12);
}

/* 40 channels: the SSE2 path (8 at a time) and its scalar tail (4). */
static void test_split_nhwc(void **state) {
  (void)state;
  check_split(true, 40);
}

/* A reader of the shuffled tensor that is not a channel Slice keeps it. */
static void test_split_other_reader_is_left_alone(void **state) {
  (void)state;
  op_test t;
  const int64_t xd[4] = {1, 8, 2, 2};
  int x = graph_with_x(&t, xd);
  shuffle_ids s = shuffle_const(&t, x, (const int64_t[]){1, 2, 4, 2, 2}, xd, shuffle_perm);
  int zero = const_i64(&t, "zero", 1, (const int64_t[]){0}), four = const_i64(&t, "four", 1, (const int64_t[]){4});
  int axis2 = const_i64(&t, "axis2", 1, (const int64_t[]){2}), one = const_i64(&t, "one", 1, (const int64_t[]){1});
  int y0 = op_test_value(&t, "y0"), y1 = op_test_value(&t, "y1");
  op_test_node(&t, "Slice", (int[]){s.out, zero, four, one}, 4, (int[]){y0}, 1);
  op_test_node(&t, "Slice", (int[]){s.out, zero, one, axis2}, 4, (int[]){y1}, 1); /* along H */
  op_test_output(&t, y0);
  op_test_output(&t, y1);
  run_both(&t, 3, NULL, 0, NULL);
  assert_int_equal(count_op(&t, IR_OP_SLICE), 2);
  op_test_release(&t);
}

/* The fused op read from a file is checked like any other: targets that do
 * not fit and a bad input count are errors, not crashes. */
static void test_fused_op_from_file_is_checked(void **state) {
  (void)state;
  const int64_t xd[4] = {1, 6, 2, 2};
  for (int bad = 0; bad < 3; bad++) {
    op_test t;
    int x = graph_with_x(&t, xd);
    int t1 = const_i64(&t, "t1", 5, (const int64_t[]){1, 4, 2, 2, 2}); /* 32 != 24 elements */
    int t2 = const_i64(&t, "t2", 4, xd), y = op_test_value(&t, "y");
    if (bad == 0) op_test_node(&t, "onnxi.ChannelShuffle", (int[]){x, t1, t2}, 3, (int[]){y}, 1);
    if (bad == 1) op_test_node(&t, "onnxi.ChannelShuffle", (int[]){x, t1, t2, t2}, 4, (int[]){y}, 1);
    if (bad == 2) op_test_node(&t, "onnxi.ChannelShuffle", (int[]){x, t2, t2}, 3, (int[]){y}, 1);
    op_test_output(&t, y);
    assert_int_not_equal(op_test_run(&t, 1), ONNXI_OK);
    assert_non_null(strstr(t.err.message, "ChannelShuffle"));
    op_test_release(&t);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_constant_targets_fuse_plain),
      cmocka_unit_test(test_nhwc_input_between_convs),
      cmocka_unit_test(test_computed_targets),
      cmocka_unit_test(test_non_channel_split_stays_exact),
      cmocka_unit_test(test_other_perm_is_left_alone),
      cmocka_unit_test(test_intermediate_read_elsewhere_is_left_alone),
      cmocka_unit_test(test_split_plain),
      cmocka_unit_test(test_split_nhwc),
      cmocka_unit_test(test_split_other_reader_is_left_alone),
      cmocka_unit_test(test_fused_op_from_file_is_checked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
