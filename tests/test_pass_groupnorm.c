/* Pass groupnorm: PyTorch's GroupNorm export (Reshape [0, G, -1],
 * InstanceNormalization, Reshape to Shape(x), Mul, Add, Relu) becomes one
 * GroupNormalization node computing the same outputs; reshapes that are not
 * a split into whole-channel groups are left alone. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"
#include "pass.h"

#define F ONNXI_DTYPE_FLOAT
#define I64 ONNXI_DTYPE_INT64
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})
#define NC 4 /* channels */

static void fill(float *v, int n, float scale, float bias) {
  for (int i = 0; i < n; i++) v[i] = bias + scale * sinf((float)i * 1.7f + bias);
}

typedef struct gn_graph {
  const int64_t *split; /* the first Reshape's shape (3 values) */
  int64_t groups;       /* InstanceNormalization's parameter count */
  bool unit_in;         /* InstanceNormalization scale 1, bias 0 (as exported) */
  bool relu;
} gn_graph;

/* x[2, 4, 3, 3] -> Reshape(split) -> InstanceNormalization -> Reshape(Shape(x))
 *   -> Mul(gamma[4,1,1]) -> Add(beta[4,1,1]) [-> Relu]. */
static void gn_build(op_test *t, const gn_graph *d) {
  float x[72], gamma[NC], beta[NC], s[8], b[8];
  fill(x, 72, 2.0f, 0.7f);
  fill(gamma, NC, 0.8f, 0.5f);
  fill(beta, NC, 0.4f, -0.1f);
  for (int i = 0; i < d->groups; i++) {
    s[i] = d->unit_in ? 1.0f : 0.5f + 0.25f * (float)i;
    b[i] = d->unit_in ? 0.0f : 0.1f * (float)i - 0.05f;
  }
  op_test_init(t, 13);
  int xi = op_test_input(t, "x", F, 4, DIMS(2, NC, 3, 3), x);
  int split = op_test_const(t, "split", I64, 1, DIMS(3), d->split);
  int si = op_test_const(t, "s", F, 1, DIMS(d->groups), s);
  int bi = op_test_const(t, "b", F, 1, DIMS(d->groups), b);
  int gi = op_test_const(t, "gamma", F, 3, DIMS(NC, 1, 1), gamma);
  int be = op_test_const(t, "beta", F, 3, DIMS(NC, 1, 1), beta);
  int r1 = op_test_value(t, "r1"), in = op_test_value(t, "in"), sh = op_test_value(t, "sh");
  int r2 = op_test_value(t, "r2"), mul = op_test_value(t, "mul"), add = op_test_value(t, "add");
  op_test_node(t, "Reshape", (int[]){xi, split}, 2, (int[]){r1}, 1);
  int n = op_test_node(t, "InstanceNormalization", (int[]){r1, si, bi}, 3, (int[]){in}, 1);
  op_test_attr_float(t, n, "epsilon", 1e-3f);
  op_test_node(t, "Shape", (int[]){xi}, 1, (int[]){sh}, 1);
  op_test_node(t, "Reshape", (int[]){in, sh}, 2, (int[]){r2}, 1);
  op_test_node(t, "Mul", (int[]){r2, gi}, 2, (int[]){mul}, 1);
  op_test_node(t, "Add", (int[]){mul, be}, 2, (int[]){add}, 1);
  int y = add;
  if (d->relu) {
    y = op_test_value(t, "y");
    op_test_node(t, "Relu", (int[]){add}, 1, (int[]){y}, 1);
  }
  op_test_output(t, y);
}

/* Runs t as built, runs the passes, runs again: outputs must agree. */
static void run_with_and_without(op_test *t, int want_nodes) {
  assert_int_equal(op_test_run(t, 1), ONNXI_OK);
  void *before = t->out_data[0];
  t->out_data[0] = NULL;
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t->model, NULL, NULL, &err), ONNXI_OK);
  assert_int_equal(t->model.graph.n_nodes, want_nodes);
  for (int threads = 1; threads <= 2; threads++) {
    if (op_test_run(t, threads) != ONNXI_OK) fail_msg("%s", t->err.message);
    op_test_expect(t, 0, F, 4, DIMS(2, NC, 3, 3), before, 1e-5, 1e-6);
  }
  free(before);
}

static const ir_node *gn_only_node(const op_test *t) {
  assert_int_equal(t->model.graph.n_nodes, 1);
  const ir_node *n = &t->model.graph.nodes[0];
  assert_int_equal(n->op, IR_OP_GROUP_NORMALIZATION);
  return n;
}

static void test_exported_groupnorm_relu_is_one_node(void **state) {
  (void)state;
  op_test t;
  gn_build(&t, &(gn_graph){DIMS(0, 2, -1), 2, true, true});
  run_with_and_without(&t, 1);
  const ir_node *n = gn_only_node(&t);
  const ir_attr *g = ir_node_attr(n, "num_groups"), *lo = ir_node_attr(n, "onnxi.clamp_min");
  assert_non_null(g);
  assert_int_equal(g->i, 2);
  assert_non_null(lo);
  assert_true(lo->f == 0.0f);
  op_test_release(&t);
}

/* InstanceNormalization's own per-group scale and bias fold into the channels'. */
static void test_group_params_fold_into_channels(void **state) {
  (void)state;
  op_test t;
  gn_build(&t, &(gn_graph){DIMS(0, 4, -1), 4, false, false});
  run_with_and_without(&t, 1);
  assert_null(ir_node_attr(gn_only_node(&t), "onnxi.clamp_min"));
  op_test_release(&t);
}

/* Pass groupnorm disabled: act-fuse still runs, the pattern stays. */
static void test_disabled_pass_keeps_pattern(void **state) {
  (void)state;
  op_test t;
  gn_build(&t, &(gn_graph){DIMS(0, 2, -1), 2, true, true});
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t.model, "groupnorm", NULL, &err), ONNXI_OK);
  assert_int_equal(t.model.graph.n_nodes, 6); /* Relu fused into the Add */
  op_test_release(&t);
}

/* Reshapes that do not split each image into whole-channel groups: the
 * batch folded into the groups ([1, 2, -1] of a batch of 2), and 3 groups
 * of 4 channels (groups straddle channels). Both are valid graphs the
 * lowering would change: the pass must leave them (6 nodes: Relu fused). */
static void test_non_group_split_left_alone(void **state) {
  (void)state;
  static const int64_t splits[2][3] = {{1, 2, -1}, {0, 3, -1}};
  static const int64_t groups[2] = {2, 3};
  for (int i = 0; i < 2; i++) {
    op_test t;
    gn_build(&t, &(gn_graph){splits[i], groups[i], true, true});
    run_with_and_without(&t, 6);
    for (int32_t k = 0; k < t.model.graph.n_nodes; k++)
      assert_int_not_equal(t.model.graph.nodes[k].op, IR_OP_GROUP_NORMALIZATION);
    op_test_release(&t);
  }
}

/* An opset-18 GroupNormalization followed by Relu: the Relu becomes its clamp. */
static void test_onnx_groupnorm_relu_fuses(void **state) {
  (void)state;
  float x[72], s[2] = {1.5f, -0.5f}, b[2] = {0.25f, 0.5f};
  fill(x, 72, 2.0f, 0.3f);
  op_test t;
  op_test_init(&t, 18);
  int ids[3] = {op_test_input(&t, "x", F, 4, DIMS(2, NC, 3, 3), x),
                op_test_const(&t, "s", F, 1, DIMS(2), s), op_test_const(&t, "b", F, 1, DIMS(2), b)};
  int g = op_test_value(&t, "g"), y = op_test_value(&t, "y");
  int n = op_test_node(&t, "GroupNormalization", ids, 3, (int[]){g}, 1);
  op_test_attr_int(&t, n, "num_groups", 2);
  op_test_node(&t, "Relu", (int[]){g}, 1, (int[]){y}, 1);
  op_test_output(&t, y);
  run_with_and_without(&t, 1);
  assert_non_null(ir_node_attr(gn_only_node(&t), "onnxi.clamp_min"));
  op_test_release(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exported_groupnorm_relu_is_one_node),
      cmocka_unit_test(test_group_params_fold_into_channels),
      cmocka_unit_test(test_disabled_pass_keeps_pattern),
      cmocka_unit_test(test_non_group_split_left_alone),
      cmocka_unit_test(test_onnx_groupnorm_relu_fuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
