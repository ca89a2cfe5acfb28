/* LayerNormalization and Gelu (ops/transformer.c) against numpy-computed
 * values and a double-precision reference, and the layernorm and gelu passes:
 * torch 1.13's decompositions become one node with the same outputs, and
 * chains whose intermediates escape are left alone. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"
#include "pass.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define F32(...) ((const float[]){__VA_ARGS__})

static void fill(float *x, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    x[i] = (float)((seed >> 8) % 20000) / 2000.0f - 5.0f;
  }
}

/* X [rows, len] normalized per row, double precision. */
static void ref_layernorm(const float *x, const float *s, const float *b, float eps, int64_t rows,
                          int64_t len, float *y) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * len;
    double m = 0, v = 0;
    for (int64_t i = 0; i < len; i++) m += xr[i];
    m /= (double)len;
    for (int64_t i = 0; i < len; i++) v += (xr[i] - m) * (xr[i] - m);
    v /= (double)len;
    for (int64_t i = 0; i < len; i++)
      y[r * len + i] = (float)((xr[i] - m) / sqrt(v + eps) * s[i] + (b ? b[i] : 0));
  }
}

static void expect_error(op_test *t, onnxi_status want, const char *needle) {
  assert_int_equal(op_test_run(t, 1), want);
  if (!strstr(t->err.message, needle)) fail_msg("message '%s' lacks '%s'", t->err.message, needle);
  op_test_release(t);
}

/* X -> LayerNormalization(X, Scale, [B]) -> Y. */
static void ln_build(op_test *t, int rank, const int64_t *dims, const float *x, int64_t axis,
                     float eps, int p_rank, const int64_t *p_dims, const float *s, const float *b) {
  op_test_init(t, 17);
  int in[3];
  in[0] = op_test_input(t, "X", ONNXI_DTYPE_FLOAT, rank, dims, x);
  in[1] = op_test_const(t, "S", ONNXI_DTYPE_FLOAT, p_rank, p_dims, s);
  if (b) in[2] = op_test_const(t, "B", ONNXI_DTYPE_FLOAT, p_rank, p_dims, b);
  int y = op_test_value(t, "Y");
  int n = op_test_node(t, "LayerNormalization", in, b ? 3 : 2, &y, 1);
  if (axis != INT64_MIN) op_test_attr_int(t, n, "axis", axis);
  op_test_attr_float(t, n, "epsilon", eps);
  op_test_output(t, y);
}

static void test_layernorm_numpy(void **state) {
  (void)state;
  const float x[10] = {1, 2, 3, 4, 10, -1, 0.5f, 0.25f, -3, 2};
  const float s[5] = {1, 0.5f, 2, -1, 1.5f}, b[5] = {0, 0.1f, -0.2f, 0.3f, 1};
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    ln_build(&t, 2, D(2, 5), x, INT64_MIN, 1e-5f, 1, D(5), s, b);
    if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s", t.err.message);
    op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 2, D(2, 5),
                   F32(-0.948682824f, -0.216227608f, -0.832455216f, 0.3f, 3.84604847f,
                       -0.448209928f, 0.324104964f, 0.397613238f, 1.9434364f, 3.01694468f),
                   1e-5, 1e-6);
    op_test_release(&t);
    /* no B, large epsilon */
    ln_build(&t, 2, D(2, 5), x, 1, 0.5f, 1, D(5), s, NULL);
    if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s", t.err.message);
    op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 2, D(2, 5),
                   F32(-0.9258201f, -0.3086067f, -0.6172134f, 0.0f, 2.7774603f, -0.412861412f,
                       0.206430706f, 0.550481883f, 1.51382518f, 1.85787635f),
                   1e-5, 1e-6);
    op_test_release(&t);
  }
}

/* Rank 4 over the last axis (Swin's layout) and over the last two axes
 * (axis 2: rows of 7 * 37, past the 8-lane sums' tail). */
static void test_layernorm_reference(void **state) {
  (void)state;
  enum { N = 2 * 3 * 7 * 37 };
  static float x[N], want[N], s[7 * 37], b[7 * 37];
  fill(x, N, 3);
  fill(s, 7 * 37, 5);
  fill(b, 7 * 37, 9);
  op_test t;
  ref_layernorm(x, s, b, 1e-6f, 2 * 3 * 7, 37, want);
  ln_build(&t, 4, D(2, 3, 7, 37), x, -1, 1e-6f, 1, D(37), s, b);
  if (op_test_run(&t, 2) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 4, D(2, 3, 7, 37), want, 1e-5, 1e-5);
  op_test_release(&t);
  ref_layernorm(x, s, b, 1e-5f, 2 * 3, 7 * 37, want);
  ln_build(&t, 4, D(2, 3, 7, 37), x, 2, 1e-5f, 2, D(7, 37), s, b);
  if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 4, D(2, 3, 7, 37), want, 1e-5, 1e-5);
  op_test_release(&t);
}

static void test_layernorm_errors(void **state) {
  (void)state;
  const float x[6] = {1, 2, 3, 4, 5, 6}, s[3] = {1, 1, 1};
  op_test t;
  ln_build(&t, 2, D(2, 3), x, -1, 1e-5f, 1, D(2), s, NULL);
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "one per normalized element");
  ln_build(&t, 2, D(2, 3), x, 2, 1e-5f, 1, D(3), s, NULL);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "axis");
  ln_build(&t, 2, D(2, 3), x, -1, -1.0f, 1, D(3), s, NULL);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "epsilon");
  ln_build(&t, 2, D(2, 3), x, -1, 1e-5f, 1, D(3), s, NULL);
  op_test_attr_int(&t, 0, "stash_type", 10);
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "stash_type");
}

/* The optional Mean and InvStdDev outputs: X's dims, 1 from axis on. */
static void test_layernorm_stats(void **state) {
  (void)state;
  const float x[6] = {1, 2, 3, 4, 5, 6}, s[3] = {1, 1, 1};
  op_test t;
  op_test_init(&t, 17);
  int in[2] = {op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 2, D(2, 3), x),
               op_test_const(&t, "S", ONNXI_DTYPE_FLOAT, 1, D(3), s)};
  int out[3] = {op_test_value(&t, "Y"), op_test_value(&t, "Mean"), op_test_value(&t, "Inv")};
  op_test_node(&t, "LayerNormalization", in, 2, out, 3);
  for (int k = 0; k < 3; k++) op_test_output(&t, out[k]);
  if (op_test_run(&t, 2) != ONNXI_OK) fail_msg("%s", t.err.message);
  const float y = 1.22473569f;
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 2, D(2, 3), F32(-y, 0, y, -y, 0, y), 1e-5, 1e-6);
  op_test_expect(&t, 1, ONNXI_DTYPE_FLOAT, 2, D(2, 1), F32(2, 5), 1e-6, 0);
  op_test_expect(&t, 2, ONNXI_DTYPE_FLOAT, 2, D(2, 1), F32(y, y), 1e-5, 0);
  op_test_release(&t);
}

static void gelu_check(const char *approx, const float *want) {
  const float x[9] = {-6, -3, -1, -0.5f, 0, 0.3f, 1, 2.5f, 7};
  op_test t;
  op_test_init(&t, 20);
  int xi = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 1, D(9), x);
  int y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "Gelu", &xi, 1, &y, 1);
  if (approx) op_test_attr_string(&t, n, "approximate", approx);
  op_test_output(&t, y);
  if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%s", t.err.message);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 1, D(9), want, 1e-5, 1e-7);
  op_test_release(&t);
}

static void test_gelu_numpy(void **state) {
  (void)state;
  gelu_check(NULL, F32(-5.91952587e-09f, -0.00404969409f, -0.158655254f, -0.154268769f, 0.0f,
                       0.185373427f, 0.841344746f, 2.48447584f, 7.0f));
  gelu_check("tanh", F32(-8.43964898e-11f, -0.00363739208f, -0.158808009f, -0.15428599f, 0.0f,
                         0.185370924f, 0.841191991f, 2.48491573f, 7.0f));
  op_test t;
  op_test_init(&t, 20);
  int xi = op_test_input(&t, "X", ONNXI_DTYPE_FLOAT, 1, D(1), F32(1));
  int y = op_test_value(&t, "Y");
  int n = op_test_node(&t, "Gelu", &xi, 1, &y, 1);
  op_test_attr_string(&t, n, "approximate", "fast");
  op_test_output(&t, y);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "approximate");
}

/* --- passes ----------------------------------------------------------------------------- */

/* Runs t, then the passes, then t again: the graph must have want_nodes
 * nodes, one of op `fused` (IR_OP_UNKNOWN: none required), and the same
 * output as before. */
static void passes_check(op_test *t, int want_nodes, ir_op fused) {
  if (op_test_run(t, 1) != ONNXI_OK) fail_msg("%s", t->err.message);
  void *before = t->out_data[0];
  t->out_data[0] = NULL;
  int rank = t->out_rank[0];
  int64_t dims[ONNXI_MAX_RANK];
  memcpy(dims, t->out_dims[0], sizeof dims);
  onnxi_error err = {0};
  assert_int_equal(passes_run(&t->model, NULL, NULL, &err), ONNXI_OK);
  assert_int_equal(t->model.graph.n_nodes, want_nodes);
  bool found = fused == IR_OP_UNKNOWN;
  for (int32_t i = 0; i < t->model.graph.n_nodes; i++) found |= t->model.graph.nodes[i].op == fused;
  assert_true(found);
  if (op_test_run(t, 2) != ONNXI_OK) fail_msg("%s", t->err.message);
  op_test_expect(t, 0, ONNXI_DTYPE_FLOAT, rank, dims, before, 1e-5, 1e-5);
  free(before);
}

typedef struct ln_chain {
  int x, d, y; /* input, X - mean, output */
} ln_chain;

/* torch 1.13's LayerNorm over the last axis of [2, 4, 24] (affine if gamma). */
static ln_chain ln_chain_build(op_test *t, const float *x, const float *gamma, const float *beta,
                               int64_t axis) {
  ln_chain c;
  op_test_init(t, 13);
  c.x = op_test_input(t, "x", ONNXI_DTYPE_FLOAT, 3, D(2, 4, 24), x);
  int two = op_test_const(t, "two", ONNXI_DTYPE_FLOAT, 0, NULL, F32(2));
  int eps = op_test_const(t, "eps", ONNXI_DTYPE_FLOAT, 0, NULL, F32(1e-5f));
  int m = op_test_value(t, "m"), p = op_test_value(t, "p"), v = op_test_value(t, "v");
  int ve = op_test_value(t, "ve"), sd = op_test_value(t, "sd"), n = op_test_value(t, "n");
  c.d = op_test_value(t, "d");
  int r1 = op_test_node(t, "ReduceMean", &c.x, 1, &m, 1);
  op_test_node(t, "Sub", (int[]){c.x, m}, 2, &c.d, 1);
  op_test_node(t, "Pow", (int[]){c.d, two}, 2, &p, 1);
  int r2 = op_test_node(t, "ReduceMean", &p, 1, &v, 1);
  op_test_attr_ints(t, r1, "axes", 1, &axis);
  op_test_attr_ints(t, r2, "axes", 1, &axis);
  op_test_node(t, "Add", (int[]){v, eps}, 2, &ve, 1);
  op_test_node(t, "Sqrt", &ve, 1, &sd, 1);
  op_test_node(t, "Div", (int[]){c.d, sd}, 2, &n, 1);
  c.y = n;
  if (gamma) {
    int g = op_test_const(t, "gamma", ONNXI_DTYPE_FLOAT, 1, D(24), gamma);
    c.y = op_test_value(t, "scaled");
    op_test_node(t, "Mul", (int[]){n, g}, 2, &c.y, 1);
  }
  if (beta) {
    int b = op_test_const(t, "beta", ONNXI_DTYPE_FLOAT, 1, D(24), beta);
    int y = op_test_value(t, "y");
    op_test_node(t, "Add", (int[]){b, c.y}, 2, &y, 1);
    c.y = y;
  }
  return c;
}

static void test_pass_layernorm(void **state) {
  (void)state;
  float x[2 * 4 * 24], gamma[24], beta[24], want[2 * 4 * 24];
  fill(x, 2 * 4 * 24, 1);
  fill(gamma, 24, 2);
  fill(beta, 24, 4);
  op_test t;
  ln_chain c = ln_chain_build(&t, x, gamma, beta, -1);
  op_test_output(&t, c.y);
  passes_check(&t, 1, IR_OP_LAYER_NORMALIZATION);
  ref_layernorm(x, gamma, beta, 1e-5f, 8, 24, want);
  op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 3, D(2, 4, 24), want, 1e-5, 1e-5);
  op_test_release(&t);
  /* without beta; axes given as the last axis' index */
  c = ln_chain_build(&t, x, gamma, NULL, 2);
  op_test_output(&t, c.y);
  t.model.graph.values[c.x].shape.rank = 3; /* the rank a positive axis is checked against */
  passes_check(&t, 1, IR_OP_LAYER_NORMALIZATION);
  op_test_release(&t);
}

static void test_pass_layernorm_left_alone(void **state) {
  (void)state;
  float x[2 * 4 * 24], gamma[24];
  fill(x, 2 * 4 * 24, 1);
  fill(gamma, 24, 2);
  op_test t;
  /* no gamma */
  ln_chain c = ln_chain_build(&t, x, NULL, NULL, -1);
  op_test_output(&t, c.y);
  passes_check(&t, 7, IR_OP_UNKNOWN);
  op_test_release(&t);
  /* X - mean is also a graph output */
  c = ln_chain_build(&t, x, gamma, NULL, -1);
  op_test_output(&t, c.y);
  op_test_output(&t, c.d);
  passes_check(&t, 8, IR_OP_UNKNOWN);
  op_test_release(&t);
  /* reduced over axis 1, not the last */
  c = ln_chain_build(&t, x, gamma, NULL, 1);
  op_test_output(&t, c.y);
  passes_check(&t, 8, IR_OP_UNKNOWN);
  op_test_release(&t);
}

/* GELU as torch exports it (half_first: Mul(Mul(x, 0.5), 1 + erf) instead). */
static void gelu_chain_check(bool mul_scale, bool half_first, int want_nodes) {
  float x[3 * 50];
  fill(x, 3 * 50, 6);
  op_test t;
  op_test_init(&t, 13);
  int xi = op_test_input(&t, "x", ONNXI_DTYPE_FLOAT, 2, D(3, 50), x);
  int k = op_test_const(&t, "k", ONNXI_DTYPE_FLOAT, 0, NULL,
                        F32(mul_scale ? 0.70710678f : 1.41421356f));
  int one = op_test_const(&t, "one", ONNXI_DTYPE_FLOAT, 0, NULL, F32(1));
  int half = op_test_const(&t, "half", ONNXI_DTYPE_FLOAT, 0, NULL, F32(0.5f));
  int u = op_test_value(&t, "u"), e = op_test_value(&t, "e"), a = op_test_value(&t, "a");
  int h = op_test_value(&t, "h"), y = op_test_value(&t, "y");
  op_test_node(&t, mul_scale ? "Mul" : "Div", (int[]){xi, k}, 2, &u, 1);
  op_test_node(&t, "Erf", &u, 1, &e, 1);
  op_test_node(&t, "Add", (int[]){one, e}, 2, &a, 1);
  if (half_first) {
    op_test_node(&t, "Mul", (int[]){half, xi}, 2, &h, 1);
    op_test_node(&t, "Mul", (int[]){h, a}, 2, &y, 1);
  } else {
    op_test_node(&t, "Mul", (int[]){xi, a}, 2, &h, 1);
    op_test_node(&t, "Mul", (int[]){h, half}, 2, &y, 1);
  }
  op_test_output(&t, y);
  passes_check(&t, want_nodes, want_nodes == 1 ? IR_OP_GELU : IR_OP_UNKNOWN);
  if (want_nodes == 1) {
    float want[3 * 50];
    for (int i = 0; i < 3 * 50; i++)
      want[i] = (float)(0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0))));
    op_test_expect(&t, 0, ONNXI_DTYPE_FLOAT, 2, D(3, 50), want, 1e-5, 1e-6);
  }
  op_test_release(&t);
}

static void test_pass_gelu(void **state) {
  (void)state;
  gelu_chain_check(false, false, 1);
  gelu_chain_check(true, false, 1);
  gelu_chain_check(false, true, 1);
}

/* A scale that is not 1/sqrt(2) is not GELU. */
static void test_pass_gelu_left_alone(void **state) {
  (void)state;
  float x[4] = {-1, 0, 1, 2};
  op_test t;
  op_test_init(&t, 13);
  int xi = op_test_input(&t, "x", ONNXI_DTYPE_FLOAT, 1, D(4), x);
  int k = op_test_const(&t, "k", ONNXI_DTYPE_FLOAT, 0, NULL, F32(1.5f));
  int one = op_test_const(&t, "one", ONNXI_DTYPE_FLOAT, 0, NULL, F32(1));
  int half = op_test_const(&t, "half", ONNXI_DTYPE_FLOAT, 0, NULL, F32(0.5f));
  int u = op_test_value(&t, "u"), e = op_test_value(&t, "e"), a = op_test_value(&t, "a");
  int h = op_test_value(&t, "h"), y = op_test_value(&t, "y");
  op_test_node(&t, "Div", (int[]){xi, k}, 2, &u, 1);
  op_test_node(&t, "Erf", &u, 1, &e, 1);
  op_test_node(&t, "Add", (int[]){e, one}, 2, &a, 1);
  op_test_node(&t, "Mul", (int[]){xi, a}, 2, &h, 1);
  op_test_node(&t, "Mul", (int[]){h, half}, 2, &y, 1);
  op_test_output(&t, y);
  passes_check(&t, 5, IR_OP_UNKNOWN);
  op_test_release(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layernorm_numpy),   cmocka_unit_test(test_layernorm_reference),
      cmocka_unit_test(test_layernorm_errors),  cmocka_unit_test(test_layernorm_stats),
      cmocka_unit_test(test_gelu_numpy),
      cmocka_unit_test(test_pass_layernorm),    cmocka_unit_test(test_pass_layernorm_left_alone),
      cmocka_unit_test(test_pass_gelu),         cmocka_unit_test(test_pass_gelu_left_alone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
