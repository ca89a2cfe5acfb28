/* Gemm, MatMul, Einsum: numpy-computed small cases, larger random cases
 * against a naive double-precision reference, both code paths (XNNPACK
 * fully_connected for constant weights, own SGEMM otherwise), error cases. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"

#define F ONNXI_DTYPE_FLOAT
#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

static const float A23[] = {1, 2, 3, 4, 5, 6};
static const float A32[] = {1, 4, 2, 5, 3, 6}; /* A23 transposed */
static const float B34[] = {1, 0, -1, 2, 0.5f, 1, 2, -1, 3, -2, 1, 0};
static const float B43[] = {1, 0.5f, 3, 0, 1, -2, -1, 2, 1, 2, -1, 0}; /* B34 transposed */
static const float C4[] = {1, 2, 3, 4};

static void fill(float *x, int64_t n, unsigned seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
}

/* Builds a one-node graph: inputs are graph inputs unless const_mask bit k is set. */
typedef struct io {
  const char *name;
  int32_t dtype;
  int rank;
  const int64_t *dims;
  const void *data;
} io;

static int node_build(op_test *t, const char *op, const io *ins, int n_in, unsigned const_mask,
                      int *y) {
  int ids[8];
  for (int i = 0; i < n_in; i++) {
    if (!ins[i].name) {
      ids[i] = IR_NONE;
      continue;
    }
    ids[i] =
        (const_mask >> i) & 1
            ? op_test_const(t, ins[i].name, ins[i].dtype, ins[i].rank, ins[i].dims, ins[i].data)
            : op_test_input(t, ins[i].name, ins[i].dtype, ins[i].rank, ins[i].dims, ins[i].data);
  }
  *y = op_test_value(t, "Y");
  int n = op_test_node(t, op, ids, n_in, (int[]){*y}, 1);
  op_test_output(t, *y);
  return n;
}

/* --- Gemm ------------------------------------------------------------------------------- */

static void gemm_case(unsigned const_mask, bool ta, bool tb, float alpha, float beta, const io *c,
                      const float *want, int threads, const float *clamp) {
  op_test t;
  op_test_init(&t, 13);
  io ins[3] = {{"A", F, 2, ta ? DIMS(3, 2) : DIMS(2, 3), ta ? A32 : A23},
               {"B", F, 2, tb ? DIMS(4, 3) : DIMS(3, 4), tb ? B43 : B34}};
  if (c) ins[2] = *c;
  int y, n = node_build(&t, "Gemm", ins, c ? 3 : 2, const_mask, &y);
  if (ta) op_test_attr_int(&t, n, "transA", 1);
  if (tb) op_test_attr_int(&t, n, "transB", 1);
  if (alpha != 1) op_test_attr_float(&t, n, "alpha", alpha);
  if (beta != 1) op_test_attr_float(&t, n, "beta", beta);
  if (clamp) {
    op_test_attr_float(&t, n, "onnxi.clamp_min", clamp[0]);
    op_test_attr_float(&t, n, "onnxi.clamp_max", clamp[1]);
  }
  assert_int_equal(op_test_run(&t, threads), ONNXI_OK);
  op_test_expect(&t, 0, F, 2, DIMS(2, 4), want, 1e-5, 1e-5);
  op_test_release(&t);
}

static void test_gemm_alpha_beta_vector_c(void **state) {
  (void)state;
  static const float want[] = {7.5f, 2, 9, 8, 14.25f, 0.5f, 12, 9.5f};
  io c = {"C", F, 1, DIMS(4), C4};
  for (unsigned mask = 0; mask < 8; mask++) /* own kernel and XNNPACK, C folded or not */
    gemm_case(mask, false, false, 0.5f, 2.0f, &c, want, 1 + (mask == 5), NULL);
}

static void test_gemm_trans_column_c(void **state) {
  (void)state;
  static const float want[] = {-7.25f, -11, -8.5f, -10, -13.875f, -21.75f, -17, -19.25f};
  static const float cm[] = {10, 20};
  io c = {"C", F, 2, DIMS(2, 1), cm};
  for (unsigned mask = 0; mask < 8; mask++) {
    gemm_case(mask, true, true, 0.25f, -1.0f, &c, want, 1, NULL);
    gemm_case(mask, true, false, 0.25f, -1.0f, &c, want, 1 + (mask == 0), NULL);
    gemm_case(mask, false, true, 0.25f, -1.0f, &c, want, 1, NULL);
  }
}

static void test_gemm_scalar_no_c_clamp(void **state) {
  (void)state;
  static const float with_scalar[] = {14, -1, 9, 3, 27.5f, -4, 15, 6};
  static const float no_c[] = {11, -4, 6, 0, 24.5f, -7, 12, 3};
  static const float clamped[] = {6, 0, 6, 4, 6, 0, 6, 6};
  static const float three = 3;
  io c = {"C", F, 0, NULL, &three};
  io c1 = {"C", F, 2, DIMS(1, 1), &three};
  io cv = {"C", F, 2, DIMS(1, 4), C4};
  io cmn = {"C", F, 2, DIMS(2, 4), (const float[]){1, 2, 3, 4, 1, 2, 3, 4}};
  const float clamp[] = {0, 6};
  for (unsigned mask = 0; mask < 8; mask++) {
    gemm_case(mask, false, false, 1, 1, &c, with_scalar, 1, NULL);
    gemm_case(mask, false, false, 1, 1, &c1, with_scalar, 1, NULL);
    gemm_case(mask & 3, false, false, 1, 1, NULL, no_c, 1, NULL);
    gemm_case(mask, false, false, 1, 1, &cv, clamped, 1, clamp);
    gemm_case(mask, false, true, 1, 1, &cmn, clamped, 1 + (mask == 0), clamp);
  }
}

static void gemm_ref(int64_t m, int64_t n, int64_t k, const float *a, bool ta, const float *b,
                     bool tb, float alpha, float beta, const float *c, int64_t c_rs, int64_t c_cs,
                     float *y) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double acc = 0;
      for (int64_t p = 0; p < k; p++)
        acc += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      y[i * n + j] = (float)(alpha * acc + (c ? beta * c[i * c_rs + j * c_cs] : 0));
    }
}

static void test_gemm_random_sizes(void **state) {
  (void)state;
  static const int64_t shapes[][3] = {{1, 1, 1},    {7, 5, 3},    {13, 37, 29},
                                      {50, 16, 64}, {1, 100, 17}, {61, 33, 8}};
  for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
    int64_t m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
    float *a = malloc(sizeof(float) * (size_t)(m * k)),
          *b = malloc(sizeof(float) * (size_t)(k * n));
    float *c = malloc(sizeof(float) * (size_t)n), *want = malloc(sizeof(float) * (size_t)(m * n));
    fill(a, m * k, 1 + (unsigned)si);
    fill(b, k * n, 7 + (unsigned)si);
    fill(c, n, 3);
    for (int v = 0; v < 8; v++) {
      bool ta = v & 1, tb = v & 2, cb = v & 4;
      gemm_ref(m, n, k, a, ta, b, tb, 1.5f, 0.5f, c, 0, 1, want);
      op_test t;
      op_test_init(&t, 13);
      io ins[3] = {{"A", F, 2, ta ? DIMS(k, m) : DIMS(m, k), a},
                   {"B", F, 2, tb ? DIMS(n, k) : DIMS(k, n), b},
                   {"C", F, 1, DIMS(n), c}};
      int y, node = node_build(&t, "Gemm", ins, 3, cb ? 6u : 0u, &y);
      op_test_attr_int(&t, node, "transA", ta);
      op_test_attr_int(&t, node, "transB", tb);
      op_test_attr_float(&t, node, "alpha", 1.5f);
      op_test_attr_float(&t, node, "beta", 0.5f);
      assert_int_equal(op_test_run(&t, 1 + (v == 3 || v == 4)), ONNXI_OK);
      op_test_expect(&t, 0, F, 2, DIMS(m, n), want, 1e-4, 1e-4);
      op_test_release(&t);
    }
    free(a), free(b), free(c), free(want);
  }
}

static void test_gemm_double_and_int(void **state) {
  (void)state;
  double ad[6], bd[12], cd[4], wd[8];
  for (int i = 0; i < 6; i++) ad[i] = A23[i];
  for (int i = 0; i < 12; i++) bd[i] = B34[i];
  for (int i = 0; i < 4; i++) cd[i] = C4[i];
  static const float want[] = {7.5f, 2, 9, 8, 14.25f, 0.5f, 12, 9.5f};
  for (int i = 0; i < 8; i++) wd[i] = want[i];
  op_test t;
  op_test_init(&t, 13);
  io ins[3] = {{"A", ONNXI_DTYPE_DOUBLE, 2, DIMS(2, 3), ad},
               {"B", ONNXI_DTYPE_DOUBLE, 2, DIMS(3, 4), bd},
               {"C", ONNXI_DTYPE_DOUBLE, 1, DIMS(4), cd}};
  int y, n = node_build(&t, "Gemm", ins, 3, 2, &y);
  op_test_attr_float(&t, n, "alpha", 0.5f);
  op_test_attr_float(&t, n, "beta", 2.0f);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_DOUBLE, 2, DIMS(2, 4), wd, 1e-12, 1e-12);
  op_test_release(&t);

  static const int64_t ai[] = {1, -2, 3, 4}, bi[] = {5, 6, -7, 8}, ci[] = {100};
  static const int64_t wi[] = {119, 90, 87, 150};
  op_test_init(&t, 13);
  io iins[3] = {{"A", ONNXI_DTYPE_INT64, 2, DIMS(2, 2), ai},
                {"B", ONNXI_DTYPE_INT64, 2, DIMS(2, 2), bi},
                {"C", ONNXI_DTYPE_INT64, 1, DIMS(1), ci}};
  node_build(&t, "Gemm", iins, 3, 0, &y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_OK);
  op_test_expect(&t, 0, ONNXI_DTYPE_INT64, 2, DIMS(2, 2), wi, 0, 0);
  op_test_release(&t);
}

static void gemm_error(const io *ins, int n_in, unsigned mask, const char *attr, int64_t v,
                       const char *msg) {
  op_test t;
  op_test_init(&t, 13);
  int y, n = node_build(&t, "Gemm", ins, n_in, mask, &y);
  if (attr) op_test_attr_int(&t, n, attr, v);
  assert_int_not_equal(op_test_run(&t, 1), ONNXI_OK);
  if (!strstr(t.err.message, msg)) fail_msg("message '%s' lacks '%s'", t.err.message, msg);
  op_test_release(&t);
}

static void test_gemm_errors(void **state) {
  (void)state;
  io bad_k[2] = {{"A", F, 2, DIMS(2, 3), A23}, {"B", F, 2, DIMS(4, 3), B34}};
  gemm_error(bad_k, 2, 0, NULL, 0, "inner dimensions do not match");
  gemm_error(bad_k, 2, 2, NULL, 0, "inner dimensions do not match");
  io ok[3] = {{"A", F, 2, DIMS(2, 3), A23}, {"B", F, 2, DIMS(3, 4), B34}, {"C", F, 1, DIMS(3), C4}};
  gemm_error(ok, 2, 0, "transA", 2, "attribute 'transA' must be 0 or 1");
  gemm_error(ok, 3, 0, NULL, 0, "does not broadcast to [2, 4]");
  gemm_error(ok, 3, 6, NULL, 0, "does not broadcast to [2, 4]");
  io rank3[2] = {{"A", F, 3, DIMS(1, 2, 3), A23}, {"B", F, 2, DIMS(3, 4), B34}};
  gemm_error(rank3, 2, 0, NULL, 0, "must be matrices");
  io mixed[2] = {{"A", F, 2, DIMS(2, 3), A23}, {"B", ONNXI_DTYPE_INT32, 2, DIMS(3, 4), B34}};
  gemm_error(mixed, 2, 0, NULL, 0, "different types");
  op_test t;
  op_test_init(&t, 13);
  int y, n = node_build(&t, "Gemm", ok, 2, 2, &y);
  op_test_attr_float(&t, n, "onnxi.clamp_min", 6);
  op_test_attr_float(&t, n, "onnxi.clamp_max", 0);
  assert_int_equal(op_test_run(&t, 1), ONNXI_ERR_INVALID_MODEL);
  assert_non_null(
      strstr(t.err.message, "'onnxi.clamp_min' 6 and 'onnxi.clamp_max' 0 do not form a range"));
  op_test_release(&t);
}

/* Weights that reach the node through Identity are constants only at plan
 * time: the XNNPACK operator is then built in setup. */
static void test_gemm_matmul_weights_through_identity(void **state) {
  (void)state;
  static const float want[] = {7.5f, 2, 9, 8, 14.25f, 0.5f, 12, 9.5f};
  static const float want_mm[] = {11, -4, 6, 0, 24.5f, -7, 12, 3};
  for (int op = 0; op < 2; op++) {
    op_test t;
    op_test_init(&t, 13);
    int a = op_test_input(&t, "A", F, 2, DIMS(2, 3), A23);
    int w = op_test_const(&t, "W", F, 2, DIMS(4, 3), B43);
    int c = op_test_const(&t, "C0", F, 1, DIMS(4), C4);
    int wt = op_test_value(&t, "Wt"), ci = op_test_value(&t, "C"), y = op_test_value(&t, "Y");
    if (op == 0) {
      op_test_node(&t, "Identity", (int[]){w}, 1, (int[]){wt}, 1);
      op_test_node(&t, "Identity", (int[]){c}, 1, (int[]){ci}, 1);
      int n = op_test_node(&t, "Gemm", (int[]){a, wt, ci}, 3, (int[]){y}, 1);
      op_test_attr_int(&t, n, "transB", 1);
      op_test_attr_float(&t, n, "alpha", 0.5f);
      op_test_attr_float(&t, n, "beta", 2.0f);
    } else {
      int wb = op_test_const(&t, "WB", F, 2, DIMS(3, 4), B34);
      op_test_node(&t, "Identity", (int[]){wb}, 1, (int[]){wt}, 1);
      op_test_node(&t, "MatMul", (int[]){a, wt}, 2, (int[]){y}, 1);
    }
    op_test_output(&t, y);
    if (op_test_run(&t, 1) != ONNXI_OK) fail_msg("%s", t.err.message);
    op_test_expect(&t, 0, F, 2, DIMS(2, 4), op ? want_mm : want, 1e-5, 1e-5);
    op_test_release(&t);
  }
}

/* --- MatMul ----------------------------------------------------------------------------- */

static void matmul_case(const io *a, const io *b, int out_rank, const int64_t *out_dims,
                        const void *want, int32_t dtype) {
  for (unsigned mask = 0; mask < 4; mask++) {
    op_test t;
    op_test_init(&t, 13);
    io ins[2] = {*a, *b};
    int y;
    node_build(&t, "MatMul", ins, 2, mask & 2, &y);
    assert_int_equal(op_test_run(&t, 1 + (mask & 1)), ONNXI_OK);
    op_test_expect(&t, 0, dtype, out_rank, out_dims, want, 1e-5, 1e-5);
    op_test_release(&t);
  }
}

static void test_matmul_vectors(void **state) {
  (void)state;
  static const float v[] = {1, 2, 3}, m[] = {1, 2, 3, 4, 5, 6}, mt[] = {1, 3, 5, 2, 4, 6};
  static const float vm[] = {22, 28}, vv[] = {14};
  io iv = {"A", F, 1, DIMS(3), v}, im = {"B", F, 2, DIMS(3, 2), m};
  matmul_case(&iv, &im, 1, DIMS(2), vm, F);
  io imt = {"A", F, 2, DIMS(2, 3), mt}, iv2 = {"B", F, 1, DIMS(3), v};
  matmul_case(&imt, &iv2, 1, DIMS(2), vm, F);
  matmul_case(&iv, &iv2, 0, NULL, vv, F);
  io iv3 = {"A", F, 3, DIMS(2, 1, 3), (const float[]){1, 2, 3, 1, 2, 3}};
  matmul_case(&iv3, &iv2, 2, DIMS(2, 1), (const float[]){14, 14}, F);
}

static void test_matmul_batched_broadcast(void **state) {
  (void)state;
  float a[12], b[18];
  for (int i = 0; i < 12; i++) a[i] = (float)i * 0.5f - 1;
  for (int i = 0; i < 18; i++) b[i] = (float)i * 0.25f - 2;
  static const float want[] = {2.75f,  2.375f,  -4,   -3.25f, 0.5f,    0.125f,  0.5f,   1.25f,
                               -1.75f, -2.125f, 5,    5.75f,  -10.75f, -8.875f, -17.5f, -14.5f,
                               0.5f,   2.375f,  0.5f, 3.5f,   11.75f,  13.625f, 18.5f,  21.5f};
  io ia = {"A", F, 4, DIMS(2, 1, 2, 3), a}, ib = {"B", F, 3, DIMS(3, 3, 2), b};
  matmul_case(&ia, &ib, 4, DIMS(2, 3, 2, 2), want, F);
  /* A batched against a constant matrix: rows stacked (XNNPACK path when const) */
  static const float b2[] = {1, 0, 0, 1, 1, 1};
  float a2[12];
  for (int i = 0; i < 12; i++) a2[i] = (float)i;
  io ia2 = {"A", F, 3, DIMS(2, 2, 3), a2}, ib2 = {"B", F, 2, DIMS(3, 2), b2};
  static const float want2b[] = {2, 3, 8, 9, 14, 15, 20, 21};
  matmul_case(&ia2, &ib2, 3, DIMS(2, 2, 2), want2b, F);
}

static void test_matmul_random_batched(void **state) {
  (void)state;
  enum { B = 3, M = 19, K = 23, N = 35 };
  float *a = malloc(sizeof(float) * B * M * K), *b = malloc(sizeof(float) * B * K * N);
  float *want = malloc(sizeof(float) * B * M * N);
  fill(a, B * M * K, 11);
  fill(b, B * K * N, 12);
  for (int bi = 0; bi < B; bi++)
    gemm_ref(M, N, K, a + bi * M * K, false, b + bi * K * N, false, 1, 0, NULL, 0, 0,
             want + bi * M * N);
  io ia = {"A", F, 3, DIMS(B, M, K), a}, ib = {"B", F, 3, DIMS(B, K, N), b};
  matmul_case(&ia, &ib, 3, DIMS(B, M, N), want, F);
  /* shared constant B: A [3*19, 23] @ B[0] */
  for (int bi = 0; bi < B; bi++)
    gemm_ref(M, N, K, a + bi * M * K, false, b, false, 1, 0, NULL, 0, 0, want + bi * M * N);
  io ib2 = {"B", F, 2, DIMS(K, N), b};
  matmul_case(&ia, &ib2, 3, DIMS(B, M, N), want, F);
  free(a), free(b), free(want);
}

static void test_matmul_int_and_errors(void **state) {
  (void)state;
  static const int32_t a[] = {1, 2, 3, 4, 5, 6}, b[] = {1, -1, 2, 0, 0, 3};
  static const int32_t want[] = {5, 8, 14, 14};
  io ia = {"A", ONNXI_DTYPE_INT32, 2, DIMS(2, 3), a},
     ib = {"B", ONNXI_DTYPE_INT32, 2, DIMS(3, 2), b};
  matmul_case(&ia, &ib, 2, DIMS(2, 2), want, ONNXI_DTYPE_INT32);

  op_test t;
  op_test_init(&t, 13);
  io bad[2] = {{"A", F, 2, DIMS(2, 3), A23}, {"B", F, 2, DIMS(2, 3), A23}};
  int y;
  node_build(&t, "MatMul", bad, 2, 0, &y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_ERR_INVALID_MODEL);
  assert_non_null(strstr(t.err.message, "inner dimensions do not match"));
  op_test_release(&t);

  op_test_init(&t, 13);
  io badb[2] = {{"A", F, 3, DIMS(2, 1, 3), A23}, {"B", F, 3, DIMS(3, 3, 1), B34}};
  node_build(&t, "MatMul", badb, 2, 0, &y);
  assert_int_equal(op_test_run(&t, 1), ONNXI_ERR_INVALID_MODEL);
  assert_non_null(strstr(t.err.message, "do not broadcast"));
  op_test_release(&t);
}

/* --- Einsum ----------------------------------------------------------------------------- */

static void einsum_case_threads(const char *eq, const io *ins, int n_in, int out_rank,
                                const int64_t *out_dims, const void *want, int32_t dtype,
                                int max_threads) {
  for (int threads = 1; threads <= max_threads; threads++) {
    op_test t;
    op_test_init(&t, 12);
    int y, n = node_build(&t, "Einsum", ins, n_in, 0, &y);
    op_test_attr_string(&t, n, "equation", eq);
    if (op_test_run(&t, threads) != ONNXI_OK) fail_msg("%s: %s", eq, t.err.message);
    op_test_expect(&t, 0, dtype, out_rank, out_dims, want, 1e-5, 1e-5);
    op_test_release(&t);
  }
}

static void einsum_case(const char *eq, const io *ins, int n_in, int out_rank,
                        const int64_t *out_dims, const void *want, int32_t dtype) {
  einsum_case_threads(eq, ins, n_in, out_rank, out_dims, want, dtype, 1);
}

static float ex[24], ey[24], em[12], ed[18], ez[40];

static void einsum_data(void) {
  for (int i = 0; i < 24; i++) ex[i] = (float)i * 0.5f - 3, ey[i] = (float)i * 0.25f - 1;
  for (int i = 0; i < 12; i++) em[i] = (float)i * 0.5f - 1;
  for (int i = 0; i < 18; i++) ed[i] = (float)i;
  for (int i = 0; i < 40; i++) ez[i] = (float)i * 0.1f - 2;
}

static void test_einsum_matmul_shapes(void **state) {
  (void)state;
  einsum_data();
  static const float bmm[] = {0.75f,  -1.5f, -3.75f, 1.75f,  1.5f,   1.25f,
                              2.75f,  4.5f,  6.25f,  48.75f, 52.5f,  56.25f,
                              73.75f, 79.5f, 85.25f, 98.75f, 106.5f, 114.25f};
  io xy[2] = {{"x", F, 3, DIMS(2, 3, 4), ex}, {"y", F, 3, DIMS(2, 4, 3), ey}};
  einsum_case("bij,bjk->bik", xy, 2, 3, DIMS(2, 3, 3), bmm, F);
  einsum_case("bij, bjk -> bik", xy, 2, 3, DIMS(2, 3, 3), bmm, F);
  static const float mk[] = {1.75f, 1.5f, 1.25f, 2.75f, 4.5f, 6.25f, 3.75f, 7.5f, 11.25f};
  io my[2] = {{"m", F, 2, DIMS(3, 4), em}, {"y", F, 2, DIMS(4, 3), ey}};
  einsum_case("ij,jk", my, 2, 2, DIMS(3, 3), mk, F); /* implicit output "ik" */
  static const float perm[] = {0.75f,  48.75f, 1.75f, 73.75f, 2.75f, 98.75f,
                               -1.5f,  52.5f,  1.5f,  79.5f,  4.5f,  106.5f,
                               -3.75f, 56.25f, 1.25f, 85.25f, 6.25f, 114.25f};
  einsum_case("bij,bjk->kib", xy, 2, 3, DIMS(3, 3, 2), perm, F);
  static const float bt[] = {16.9f,  13.3f, 9.7f,  6.1f,  2.5f,  2.1f, 1.7f,  1.3f,  0.9f,  0.5f,
                             -12.7f, -9.9f, -7.1f, -4.3f, -1.5f, 2.5f, 8.5f,  14.5f, 20.5f, 26.5f,
                             3.7f,   12.9f, 22.1f, 31.3f, 40.5f, 4.9f, 17.3f, 29.7f, 42.1f, 54.5f};
  io xz[2] = {{"x", F, 3, DIMS(2, 3, 4), ex}, {"z", F, 3, DIMS(2, 5, 4), ez}};
  einsum_case("bij,bkj->bik", xz, 2, 3, DIMS(2, 3, 5), bt, F);
  /* broadcast batch dims through the ellipsis */
  float a[12], b[18];
  for (int i = 0; i < 12; i++) a[i] = (float)i * 0.5f - 1;
  for (int i = 0; i < 18; i++) b[i] = (float)i * 0.25f - 2;
  static const float bc[] = {2.75f,  2.375f,  -4,   -3.25f, 0.5f,    0.125f,  0.5f,   1.25f,
                             -1.75f, -2.125f, 5,    5.75f,  -10.75f, -8.875f, -17.5f, -14.5f,
                             0.5f,   2.375f,  0.5f, 3.5f,   11.75f,  13.625f, 18.5f,  21.5f};
  io ab[2] = {{"a", F, 4, DIMS(2, 1, 2, 3), a}, {"b", F, 3, DIMS(3, 3, 2), b}};
  einsum_case("...ij,...jk->...ik", ab, 2, 4, DIMS(2, 3, 2, 2), bc, F);
  static const float v[] = {1, 2, 3, 4}, w[] = {0.5f, -1, 2, 0.25f}, inner[] = {5.5f};
  io vw[2] = {{"v", F, 1, DIMS(4), v}, {"w", F, 1, DIMS(4), w}};
  einsum_case("i,i", vw, 2, 0, NULL, inner, F);
  einsum_case("i,i->", vw, 2, 0, NULL, inner, F);
  io vwv[3] = {{"v", F, 1, DIMS(4), v}, {"w", F, 1, DIMS(4), w}, {"u", F, 1, DIMS(4), v}};
  einsum_case("i,i,i", vwv, 3, 0, NULL, (const float[]){18.5f},
              F); /* three operands: generic loops */
}

static void test_einsum_unary(void **state) {
  (void)state;
  einsum_data();
  static const float tr[] = {-1, 1, 3, -0.5f, 1.5f, 3.5f, 0, 2, 4, 0.5f, 2.5f, 4.5f};
  static const float sum[] = {-1, 7, 15}, diag[] = {0, 4, 8, 9, 13, 17}, trace[] = {12},
                     all[] = {21};
  io m = {"m", F, 2, DIMS(3, 4), em};
  einsum_case("ij->ji", &m, 1, 2, DIMS(4, 3), tr, F);
  einsum_case("ji", &m, 1, 2, DIMS(4, 3), tr, F);
  einsum_case("ij->i", &m, 1, 1, DIMS(3), sum, F);
  einsum_case("ij->", &m, 1, 0, NULL, all, F);
  io d = {"d", F, 3, DIMS(2, 3, 3), ed};
  einsum_case("...ii ->...i", &d, 1, 2, DIMS(2, 3), diag, F);
  io d0 = {"d", F, 2, DIMS(3, 3), ed};
  einsum_case("ii", &d0, 1, 0, NULL, trace, F);
  static const int64_t i64[] = {-2, -1, 0, 1, 2, 3}, want[] = {5, -4, -4, 14};
  io ii[2] = {{"p", ONNXI_DTYPE_INT64, 2, DIMS(2, 3), i64},
              {"q", ONNXI_DTYPE_INT64, 2, DIMS(2, 3), i64}};
  einsum_case("ij,kj->ik", ii, 2, 2, DIMS(2, 2), want, ONNXI_DTYPE_INT64);
}

static void test_einsum_random_against_generic(void **state) {
  (void)state;
  /* "bmk,bkn" through the SGEMM with a 1-broadcast batch, vs naive loops */
  enum { B = 2, M = 9, K = 21, N = 18 };
  float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * B * N * K);
  float *want = malloc(sizeof(float) * B * M * N);
  fill(a, M * K, 5);
  fill(b, B * N * K, 6);
  for (int bi = 0; bi < B; bi++)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        double acc = 0;
        for (int p = 0; p < K; p++) acc += (double)a[i * K + p] * b[bi * N * K + j * K + p];
        want[(i * B + bi) * N + j] = (float)acc; /* output "ibn" */
      }
  io ab[2] = {{"a", F, 3, DIMS(1, M, K), a}, {"b", F, 3, DIMS(B, N, K), b}};
  einsum_case_threads("bik,bjk->ibj", ab, 2, 3, DIMS(M, B, N), want, F, 2);
  free(a), free(b), free(want);
}

static void einsum_error(const char *eq, const io *ins, int n_in, const char *msg) {
  op_test t;
  op_test_init(&t, 12);
  int y, n = node_build(&t, "Einsum", ins, n_in, 0, &y);
  op_test_attr_string(&t, n, "equation", eq);
  assert_int_not_equal(op_test_run(&t, 1), ONNXI_OK);
  if (!strstr(t.err.message, msg)) fail_msg("%s: message '%s' lacks '%s'", eq, t.err.message, msg);
  op_test_release(&t);
}

static void test_einsum_errors(void **state) {
  (void)state;
  einsum_data();
  io xy[2] = {{"x", F, 3, DIMS(2, 3, 4), ex}, {"y", F, 3, DIMS(2, 4, 3), ey}};
  einsum_error("bij,bjk->bi2", xy, 2, "invalid character '2'");
  einsum_error("bij->bi", xy, 2, "1 terms for 2 inputs");
  einsum_error("bij,bjk,k->b", xy, 2, "more terms than the 2 inputs");
  einsum_error("bij,bjk->bq", xy, 2, "output label 'q' is not in any input");
  einsum_error("bij,bjk->bii", xy, 2, "output label 'i' is repeated");
  einsum_error("bij,bkj->bik", xy, 2, "label 'j' has size 4");
  einsum_error("bi,bjk->bik", xy, 2, "input 0 has rank 3");
  einsum_error("b..ij,bjk->bik", xy, 2, "bad ellipsis");
  io m = {"m", F, 2, DIMS(3, 4), em};
  einsum_error("...j->j", &m, 1, "needs '...'");
}

static int gemm_force_blas(void **state) {
  (void)state;
  return setenv("ONNXI_GEMM", "blas", 1);
}

static int gemm_force_own(void **state) {
  (void)state;
  return setenv("ONNXI_GEMM", "own", 1);
}

static int gemm_unforce(void **state) {
  (void)state;
  return unsetenv("ONNXI_GEMM");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gemm_alpha_beta_vector_c),
      cmocka_unit_test(test_gemm_trans_column_c),
      cmocka_unit_test(test_gemm_scalar_no_c_clamp),
      cmocka_unit_test(test_gemm_random_sizes),
      cmocka_unit_test(test_gemm_double_and_int),
      cmocka_unit_test(test_gemm_errors),
      cmocka_unit_test(test_gemm_matmul_weights_through_identity),
      cmocka_unit_test(test_matmul_vectors),
      cmocka_unit_test(test_matmul_batched_broadcast),
      cmocka_unit_test(test_matmul_random_batched),
      cmocka_unit_test(test_matmul_int_and_errors),
      cmocka_unit_test(test_einsum_matmul_shapes),
      cmocka_unit_test(test_einsum_unary),
      cmocka_unit_test(test_einsum_random_against_generic),
      cmocka_unit_test(test_einsum_errors),
  };
  int failed = cmocka_run_group_tests_name("gemm (default paths)", tests, NULL, NULL);
#if defined(__x86_64__)
  /* float products on BLIS, then on the own SGEMM, whatever their size
   * (the BLIS path exists in x86-64 builds only) */
  failed += cmocka_run_group_tests_name("gemm (ONNXI_GEMM=blas)", tests, gemm_force_blas,
                                        gemm_unforce);
  failed += cmocka_run_group_tests_name("gemm (ONNXI_GEMM=own)", tests, gemm_force_own,
                                        gemm_unforce);
#else
  (void)gemm_force_blas, (void)gemm_force_own, (void)gemm_unforce;
#endif
  return failed;
}
