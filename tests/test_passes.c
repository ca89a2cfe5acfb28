/* Graph passes: node counts after each pass and equal outputs with and
 * without it, plus the cases where a pass must leave the graph alone. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"
#include "pass.h"

#define C 3

static const int64_t x_dims[4] = {1, 2, 4, 4};
static const int64_t w_dims[4] = {C, 2, 3, 3};
static const int64_t c_dims[1] = {C};

static void fill(float *v, int n, float scale, float bias) {
  for (int i = 0; i < n; i++) v[i] = bias + scale * sinf((float)i * 1.7f + bias);
}

typedef struct graph_ids {
  int x, conv_out, bn_out, act_out;
  int conv, bn, act;
} graph_ids;

/* x -> Conv(pads 1) -> BatchNormalization -> Relu/Clip. */
static graph_ids build_conv_bn_act(op_test *t, const char *act, int opset) {
  graph_ids g;
  float x[32], w[C * 18], b[C], scale[C], shift[C], mean[C], var[C];
  fill(x, 32, 1.0f, 0.1f);
  fill(w, C * 18, 0.5f, 0.0f);
  fill(b, C, 0.2f, 0.3f);
  fill(scale, C, 0.4f, 1.0f);
  fill(shift, C, 0.3f, -0.2f);
  fill(mean, C, 0.5f, 0.1f);
  for (int i = 0; i < C; i++) var[i] = 0.5f + 0.25f * (float)i;
  op_test_init(t, opset);
  g.x = op_test_input(t, "x", ONNXI_DTYPE_FLOAT, 4, x_dims, x);
  int wi = op_test_const(t, "w", ONNXI_DTYPE_FLOAT, 4, w_dims, w);
  int bi = op_test_const(t, "b", ONNXI_DTYPE_FLOAT, 1, c_dims, b);
  int si = op_test_const(t, "scale", ONNXI_DTYPE_FLOAT, 1, c_dims, scale);
  int hi = op_test_const(t, "shift", ONNXI_DTYPE_FLOAT, 1, c_dims, shift);
  int mi = op_test_const(t, "mean", ONNXI_DTYPE_FLOAT, 1, c_dims, mean);
  int vi = op_test_const(t, "var", ONNXI_DTYPE_FLOAT, 1, c_dims, var);
  g.conv_out = op_test_value(t, "conv_out");
  g.bn_out = op_test_value(t, "bn_out");
  g.conv = op_test_node(t, "Conv", (int[]){g.x, wi, bi}, 3, (int[]){g.conv_out}, 1);
  op_test_attr_ints(t, g.conv, "pads", 4, (const int64_t[]){1, 1, 1, 1});
  g.bn = op_test_node(t, "BatchNormalization", (int[]){g.conv_out, si, hi, mi, vi}, 5,
                      (int[]){g.bn_out}, 1);
  op_test_attr_float(t, g.bn, "epsilon", 1e-3f);
  g.act = -1;
  g.act_out = g.bn_out;
  if (act) {
    g.act_out = op_test_value(t, "act_out");
    if (strcmp(act, "Clip") == 0) {
      int lo = op_test_const(t, "lo", ONNXI_DTYPE_FLOAT, 0, NULL, (float[]){0.0f});
      int hi6 = op_test_const(t, "hi", ONNXI_DTYPE_FLOAT, 0, NULL, (float[]){0.5f});
      g.act = op_test_node(t, "Clip", (int[]){g.bn_out, lo, hi6}, 3, (int[]){g.act_out}, 1);
    } else {
      g.act = op_test_node(t, act, (int[]){g.bn_out}, 1, (int[]){g.act_out}, 1);
    }
  }
  return g;
}

/* Runs t as built, runs the passes, runs again: outputs must agree. */
static void run_with_and_without(op_test *t, const char *disabled, int want_nodes) {
  assert_int_equal(op_test_run(t, 1), ONNXI_OK);
  int n_out = t->n_outputs;
  void *before[OP_TEST_MAX_IO];
  int64_t dims[OP_TEST_MAX_IO][ONNXI_MAX_RANK];
  int rank[OP_TEST_MAX_IO];
  for (int k = 0; k < n_out; k++) {
    before[k] = t->out_data[k];
    t->out_data[k] = NULL;
    rank[k] = t->out_rank[k];
    memcpy(dims[k], t->out_dims[k], sizeof dims[k]);
  }
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t->model, disabled, NULL, &err), ONNXI_OK);
  assert_int_equal(t->model.graph.n_nodes, want_nodes);
  assert_int_equal(op_test_run(t, 1), ONNXI_OK);
  for (int k = 0; k < n_out; k++) {
    op_test_expect(t, k, ONNXI_DTYPE_FLOAT, rank[k], dims[k], before[k], 1e-5, 1e-6);
    free(before[k]);
  }
}

static bool graph_has_op(const op_test *t, ir_op op) {
  for (int32_t i = 0; i < t->model.graph.n_nodes; i++)
    if (t->model.graph.nodes[i].op == op) return true;
  return false;
}

static void test_conv_bn_relu_fuses_to_one_conv(void **state) {
  (void)state;
  op_test t;
  graph_ids g = build_conv_bn_act(&t, "Relu", 13);
  op_test_output(&t, g.act_out);
  run_with_and_without(&t, NULL, 1);
  assert_int_equal(t.model.graph.nodes[0].op, IR_OP_CONV);
  assert_non_null(ir_node_attr(&t.model.graph.nodes[0], "onnxi.clamp_min"));
  op_test_release(&t);
}

static void test_conv_bn_clip_fuses_bounds(void **state) {
  (void)state;
  op_test t;
  graph_ids g = build_conv_bn_act(&t, "Clip", 13);
  op_test_output(&t, g.act_out);
  run_with_and_without(&t, NULL, 1);
  const ir_attr *hi = ir_node_attr(&t.model.graph.nodes[0], "onnxi.clamp_max");
  assert_non_null(hi);
  assert_true(fabsf(hi->f - 0.5f) < 1e-7f);
  op_test_release(&t);
}

static void test_bn_output_is_graph_output_keeps_relu(void **state) {
  (void)state;
  op_test t;
  graph_ids g = build_conv_bn_act(&t, "Relu", 13);
  op_test_output(&t, g.bn_out); /* BN's output is read outside: Relu cannot fuse into it */
  op_test_output(&t, g.act_out);
  run_with_and_without(&t, NULL, 2);
  assert_false(graph_has_op(&t, IR_OP_BATCH_NORMALIZATION));
  assert_true(graph_has_op(&t, IR_OP_RELU));
  op_test_release(&t);
}

static void test_conv_with_two_consumers_keeps_bn(void **state) {
  (void)state;
  op_test t;
  graph_ids g = build_conv_bn_act(&t, NULL, 13);
  int side = op_test_value(&t, "side");
  op_test_node(&t, "Relu", (int[]){g.conv_out}, 1, (int[]){side}, 1);
  op_test_output(&t, g.bn_out);
  op_test_output(&t, side);
  run_with_and_without(&t, NULL, 3);
  assert_true(graph_has_op(&t, IR_OP_BATCH_NORMALIZATION));
  op_test_release(&t);
}

static void test_disabled_pass_leaves_graph(void **state) {
  (void)state;
  op_test t;
  graph_ids g = build_conv_bn_act(&t, "Relu", 13);
  op_test_output(&t, g.act_out);
  run_with_and_without(&t, "bn-fold,act-fuse", 3);
  op_test_release(&t);
}

static void test_unknown_pass_name_is_an_error(void **state) {
  (void)state;
  op_test t;
  graph_ids g = build_conv_bn_act(&t, NULL, 13);
  op_test_output(&t, g.bn_out);
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t.model, "bn-fold,nonsense", NULL, &err), ONNXI_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "nonsense"));
  op_test_release(&t);
}

static void test_identity_and_dropout_vanish(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 13);
  float x[4] = {1, -2, 3, -4};
  int xi = op_test_input(&t, "x", ONNXI_DTYPE_FLOAT, 1, (const int64_t[]){4}, x);
  int a = op_test_value(&t, "a"), b = op_test_value(&t, "b"), y = op_test_value(&t, "y");
  op_test_node(&t, "Identity", (int[]){xi}, 1, (int[]){a}, 1);
  op_test_node(&t, "Dropout", (int[]){a}, 1, (int[]){b}, 1);
  op_test_node(&t, "Relu", (int[]){b}, 1, (int[]){y}, 1);
  op_test_output(&t, y);
  run_with_and_without(&t, NULL, 1);
  op_test_release(&t);
}

static void test_identity_to_graph_output_renames_producer(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 13);
  float x[4] = {1, -2, 3, -4};
  int xi = op_test_input(&t, "x", ONNXI_DTYPE_FLOAT, 1, (const int64_t[]){4}, x);
  int a = op_test_value(&t, "a"), y = op_test_value(&t, "y");
  op_test_node(&t, "Relu", (int[]){xi}, 1, (int[]){a}, 1);
  op_test_node(&t, "Identity", (int[]){a}, 1, (int[]){y}, 1);
  op_test_output(&t, y);
  run_with_and_without(&t, NULL, 1);
  assert_int_equal(t.model.graph.nodes[0].outputs[0], y);
  op_test_release(&t);
}

static void test_constant_subgraph_folds(void **state) {
  (void)state;
  op_test t;
  op_test_init(&t, 13);
  float x[4] = {1, 2, 3, 4}, w[4] = {0.5f, 1.5f, -1, 2};
  int xi = op_test_input(&t, "x", ONNXI_DTYPE_FLOAT, 1, (const int64_t[]){4}, x);
  int wi = op_test_const(&t, "w", ONNXI_DTYPE_FLOAT, 1, (const int64_t[]){4}, w);
  int ws = op_test_value(&t, "w_sq"), y = op_test_value(&t, "y");
  op_test_node(&t, "Mul", (int[]){wi, wi}, 2, (int[]){ws}, 1); /* constant: folds */
  op_test_node(&t, "Add", (int[]){xi, ws}, 2, (int[]){y}, 1);
  op_test_output(&t, y);
  run_with_and_without(&t, NULL, 1);
  assert_int_equal(t.model.graph.nodes[0].op, IR_OP_ADD);
  op_test_release(&t);
}


/* Gemm -> BatchNormalization (BatchNorm1d after Linear), both B layouts. */
static void check_gemm_bn(int trans_b, float beta, int want_nodes) {
  op_test t;
  float x[2 * 3], w[4 * 3], b[4], scale[4], shift[4], mean[4], var[4];
  fill(x, 6, 1.0f, 0.2f);
  fill(w, 12, 0.7f, 0.1f);
  fill(b, 4, 0.3f, 0.5f);
  fill(scale, 4, 0.4f, 1.0f);
  fill(shift, 4, 0.3f, -0.2f);
  fill(mean, 4, 0.5f, 0.1f);
  for (int i = 0; i < 4; i++) var[i] = 0.5f + 0.25f * (float)i;
  op_test_init(&t, 13);
  const int64_t four[1] = {4};
  int xi = op_test_input(&t, "x", ONNXI_DTYPE_FLOAT, 2, (const int64_t[]){2, 3}, x);
  int wi = op_test_const(&t, "w", ONNXI_DTYPE_FLOAT, 2,
                         trans_b ? (const int64_t[]){4, 3} : (const int64_t[]){3, 4}, w);
  int bi = op_test_const(&t, "b", ONNXI_DTYPE_FLOAT, 1, four, b);
  int si = op_test_const(&t, "scale", ONNXI_DTYPE_FLOAT, 1, four, scale);
  int hi = op_test_const(&t, "shift", ONNXI_DTYPE_FLOAT, 1, four, shift);
  int mi = op_test_const(&t, "mean", ONNXI_DTYPE_FLOAT, 1, four, mean);
  int vi = op_test_const(&t, "var", ONNXI_DTYPE_FLOAT, 1, four, var);
  int y = op_test_value(&t, "y"), z = op_test_value(&t, "z");
  int gemm = op_test_node(&t, "Gemm", (int[]){xi, wi, bi}, 3, (int[]){y}, 1);
  op_test_attr_int(&t, gemm, "transB", trans_b);
  op_test_attr_float(&t, gemm, "beta", beta);
  op_test_node(&t, "BatchNormalization", (int[]){y, si, hi, mi, vi}, 5, (int[]){z}, 1);
  op_test_output(&t, z);
  run_with_and_without(&t, NULL, want_nodes);
  op_test_release(&t);
}

static void test_gemm_bn_folds(void **state) {
  (void)state;
  check_gemm_bn(1, 1.0f, 1);
  check_gemm_bn(0, 1.0f, 1);
}

static void test_gemm_bn_with_beta_kept(void **state) {
  (void)state;
  check_gemm_bn(1, 0.5f, 2); /* beta scales C: not folded */
}


/* Relu(Concat(pooled Relu output, Conv)): the pooled half is non-negative,
 * the Conv takes the clamp, the Relu goes. With the raw input in place of
 * the pooled half the Relu must stay. */
static void check_relu_concat(bool pooled, int want_nodes) {
  op_test t;
  float x[32], w[C * 18];
  fill(x, 32, 1.0f, 0.1f);
  fill(w, C * 18, 0.5f, 0.0f);
  op_test_init(&t, 13);
  int xi = op_test_input(&t, "x", ONNXI_DTYPE_FLOAT, 4, x_dims, x);
  int wi = op_test_const(&t, "w", ONNXI_DTYPE_FLOAT, 4, w_dims, w);
  int conv = op_test_value(&t, "conv"), cat = op_test_value(&t, "cat"), y = op_test_value(&t, "y");
  int side = xi;
  if (pooled) {
    int r = op_test_value(&t, "r");
    side = op_test_value(&t, "pool");
    op_test_node(&t, "Relu", (int[]){xi}, 1, (int[]){r}, 1);
    int mp = op_test_node(&t, "MaxPool", (int[]){r}, 1, (int[]){side}, 1);
    op_test_attr_ints(&t, mp, "kernel_shape", 2, (const int64_t[]){3, 3});
    op_test_attr_ints(&t, mp, "pads", 4, (const int64_t[]){1, 1, 1, 1});
  }
  int cn = op_test_node(&t, "Conv", (int[]){xi, wi}, 2, (int[]){conv}, 1);
  op_test_attr_ints(&t, cn, "pads", 4, (const int64_t[]){1, 1, 1, 1});
  int cc = op_test_node(&t, "Concat", (int[]){side, conv}, 2, (int[]){cat}, 1);
  op_test_attr_int(&t, cc, "axis", 1);
  op_test_node(&t, "Relu", (int[]){cat}, 1, (int[]){y}, 1);
  op_test_output(&t, y);
  run_with_and_without(&t, NULL, want_nodes);
  op_test_release(&t);
}

static void test_relu_after_concat_moves_into_inputs(void **state) {
  (void)state;
  check_relu_concat(true, 4); /* Relu, MaxPool, Conv+clamp, Concat */
}

static void test_relu_after_concat_of_raw_input_stays(void **state) {
  (void)state;
  check_relu_concat(false, 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conv_bn_relu_fuses_to_one_conv),
      cmocka_unit_test(test_conv_bn_clip_fuses_bounds),
      cmocka_unit_test(test_bn_output_is_graph_output_keeps_relu),
      cmocka_unit_test(test_conv_with_two_consumers_keeps_bn),
      cmocka_unit_test(test_disabled_pass_leaves_graph),
      cmocka_unit_test(test_unknown_pass_name_is_an_error),
      cmocka_unit_test(test_identity_and_dropout_vanish),
      cmocka_unit_test(test_identity_to_graph_output_renames_producer),
      cmocka_unit_test(test_constant_subgraph_folds),
      cmocka_unit_test(test_gemm_bn_folds),
      cmocka_unit_test(test_gemm_bn_with_beta_kept),
      cmocka_unit_test(test_relu_after_concat_moves_into_inputs),
      cmocka_unit_test(test_relu_after_concat_of_raw_input_stays),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
