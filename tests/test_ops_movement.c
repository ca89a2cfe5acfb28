/* Movement-family kernels through the real executor: Transpose, Concat,
 * Split, Slice, Gather, Pad, DepthToSpace, SpaceToDepth, ScatterND. Covers
 * every element size (strings too), NHWC inputs (made by a 1x1 MaxPool, which
 * stores float activations NHWC), opset variants, negative axes/indices/
 * steps, threading and error cases. Small expectations were computed with
 * numpy and pasted; large transposes are checked against a naive loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "op_test.h"
#include "test_literals.h"

static float iota[64];

/* One node `op` with inputs X0.. and outputs Y0..; with nhwc, input 0 first
 * goes through a 1x1 MaxPool so that it reaches `op` stored NHWC. */
static int build_ex(op_test *t, int64_t opset, const char *op, int n_in, const tin *ins, int n_out,
                    bool nhwc) {
  static const char *in_names[] = {"X0", "X1", "X2", "X3", "X4"};
  static const char *out_names[] = {"Y0", "Y1", "Y2", "Y3"};
  int ids[5], outs[4];
  op_test_init(t, opset);
  for (int k = 0; k < n_in; k++) {
    const tin *i = &ins[k];
    if (!i->dtype)
      ids[k] = IR_NONE;
    else if (i->is_const)
      ids[k] = op_test_const(t, in_names[k], i->dtype, i->rank, i->dims, i->data);
    else
      ids[k] = op_test_input(t, in_names[k], i->dtype, i->rank, i->dims, i->data);
  }
  if (nhwc) {
    int p = op_test_value(t, "P");
    int pool = op_test_node(t, "MaxPool", ids, 1, &p, 1);
    op_test_attr_ints(t, pool, "kernel_shape", 2, D(1, 1));
    ids[0] = p;
  }
  for (int k = 0; k < n_out; k++) outs[k] = op_test_value(t, out_names[k]);
  int node = op_test_node(t, op, ids, n_in, outs, n_out);
  for (int k = 0; k < n_out; k++) op_test_output(t, outs[k]);
  return node;
}

static int build(op_test *t, int64_t opset, const char *op, int n_in, const tin *ins, int n_out) {
  return build_ex(t, opset, op, n_in, ins, n_out, false);
}

static void run_ok(op_test *t, int threads) {
  if (op_test_run(t, threads) != ONNXI_OK) fail_msg("run failed: %s", t->err.message);
}

static void expect_error(op_test *t, onnxi_status want, const char *needle) {
  onnxi_status got = op_test_run(t, 1);
  if (got != want) fail_msg("status %d, want %d: %s", (int)got, (int)want, t->err.message);
  if (!strstr(t->err.message, needle)) fail_msg("message '%s' lacks '%s'", t->err.message, needle);
  op_test_release(t);
}

static int setup_iota(void **state) {
  (void)state;
  for (int i = 0; i < 64; i++) iota[i] = (float)i;
  return 0;
}

/* --- Transpose ------------------------------------------------------------------ */

static void check_transpose(int n_perm, const int64_t *perm, const float *want, int rank,
                            const int64_t *dims) {
  op_test t;
  int n = build(&t, 13, "Transpose", 1, &IN(FLOAT, 3, D(2, 3, 4), iota), 1);
  if (n_perm) op_test_attr_ints(&t, n, "perm", n_perm, perm);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, rank, dims, want, 0, 0);
  op_test_release(&t);
}

static void test_transpose_small(void **state) {
  (void)state;
  check_transpose(
      0, NULL,
      F32(0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23), 3,
      D(4, 3, 2));
  check_transpose(
      3, D(1, 0, 2),
      F32(0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23), 3,
      D(3, 2, 4));
  check_transpose(
      3, D(0, 2, 1),
      F32(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23), 3,
      D(2, 4, 3));
  check_transpose(
      3, D(2, 0, 1),
      F32(0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23), 3,
      D(4, 2, 3));
  check_transpose(3, D(0, 1, 2), iota, 3, D(2, 3, 4));
}

static uint32_t lcg_state = 12345;
static uint32_t lcg(void) {
  lcg_state = lcg_state * 1664525u + 1013904223u;
  return lcg_state >> 8;
}

/* Naive reference: walk the output, read the input through strides. */
static void ref_transpose(size_t es, int rank, const int64_t *dims, const int64_t *perm,
                          const char *src, char *dst, int64_t count) {
  int64_t is[8], od[8];
  is[rank - 1] = 1;
  for (int i = rank - 2; i >= 0; i--) is[i] = is[i + 1] * dims[i + 1];
  for (int i = 0; i < rank; i++) od[i] = dims[perm[i]];
  for (int64_t o = 0; o < count; o++) {
    int64_t rem = o, off = 0;
    for (int i = rank - 1; i >= 0; i--) {
      off += (rem % od[i]) * is[perm[i]];
      rem /= od[i];
    }
    memcpy(dst + o * (int64_t)es, src + off * (int64_t)es, es);
  }
}

static void check_transpose_big(int32_t dtype, int rank, const int64_t *dims, const int64_t *perm,
                                int threads) {
  size_t es = dtype == STRING ? sizeof(ir_string) : ir_dtype_size(dtype);
  int64_t count = 1, od[8];
  for (int i = 0; i < rank; i++) count *= dims[i], od[i] = dims[perm[i]];
  char *src = malloc((size_t)count * es), *want = malloc((size_t)count * es);
  char *text = malloc((size_t)count * 8);
  assert_non_null(src), assert_non_null(want), assert_non_null(text);
  for (int64_t i = 0; i < count; i++) {
    if (dtype == STRING) {
      ir_string s = {(size_t)snprintf(text + i * 8, 8, "s%lld", (long long)i), text + i * 8};
      memcpy(src + i * (int64_t)es, &s, es);
    } else {
      uint64_t v = ((uint64_t)lcg() << 32) ^ lcg();
      memcpy(src + i * (int64_t)es, &v, es);
    }
  }
  ref_transpose(es, rank, dims, perm, src, want, count);
  op_test t;
  int n = build(&t, 13, "Transpose", 1, &IN(dtype, rank, dims, src), 1);
  op_test_attr_ints(&t, n, "perm", rank, perm);
  run_ok(&t, threads);
  op_test_expect(&t, 0, dtype, rank, od, want, 0, 0);
  op_test_release(&t);
  free(src), free(want), free(text);
}

/* Every element size through the copy, strided and blocked 2-D paths. */
static void test_transpose_dtypes(void **state) {
  (void)state;
  static const int32_t dtypes[] = {UINT8, INT16, FLOAT, INT64, STRING};
  for (int k = 0; k < 5; k++) {
    int32_t dt = dtypes[k];
    check_transpose_big(dt, 3, D(3, 37, 41), D(0, 2, 1), 1);
    check_transpose_big(dt, 4, D(5, 6, 7, 8), D(3, 1, 0, 2), 1);
    check_transpose_big(dt, 4, D(4, 1, 6, 5), D(2, 1, 3, 0), 1);
    check_transpose_big(dt, 5, D(2, 3, 4, 5, 6), D(0, 1, 2, 4, 3), 1);
    check_transpose_big(dt, 5, D(2, 3, 4, 5, 6), D(4, 3, 2, 1, 0), 1);
    check_transpose_big(dt, 2, D(7, 9), D(1, 0), 1);
    check_transpose_big(dt, 3, D(3, 2, 2), D(1, 2, 0), 1);
  }
}

/* Large enough for the thread pool (the 1-thread path is the same code the
 * small cases run): blocked, chunked and strided jobs. */
static void test_transpose_threads(void **state) {
  (void)state;
  check_transpose_big(FLOAT, 3, D(8, 128, 96), D(0, 2, 1), 2);
  check_transpose_big(FLOAT, 3, D(32, 130, 64), D(1, 0, 2), 2);
  check_transpose_big(INT64, 4, D(3, 40, 30, 20), D(3, 2, 1, 0), 2);
  check_transpose_big(UINT8, 2, D(700, 513), D(1, 0), 2);
}

static void test_transpose_nhwc(void **state) {
  (void)state;
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    int n = build_ex(&t, 13, "Transpose", 1, &IN(FLOAT, 4, D(1, 2, 3, 4), iota), 1, true);
    op_test_attr_ints(&t, n, "perm", 4, D(0, 2, 3, 1));
    run_ok(&t, threads);
    op_test_expect(
        &t, 0, FLOAT, 4, D(1, 3, 4, 2),
        F32(0, 12, 1, 13, 2, 14, 3, 15, 4, 16, 5, 17, 6, 18, 7, 19, 8, 20, 9, 21, 10, 22, 11, 23),
        0, 0);
    op_test_release(&t);

    n = build_ex(&t, 13, "Transpose", 1, &IN(FLOAT, 4, D(1, 2, 3, 4), iota), 1, true);
    op_test_attr_ints(&t, n, "perm", 4, D(1, 0, 2, 3));
    run_ok(&t, threads);
    op_test_expect(&t, 0, FLOAT, 4, D(2, 1, 3, 4), iota, 0, 0);
    op_test_release(&t);

    /* NHWC -> NCHW of plain data */
    n = build(&t, 13, "Transpose", 1, &IN(FLOAT, 4, D(1, 3, 4, 2), iota), 1);
    op_test_attr_ints(&t, n, "perm", 4, D(0, 3, 1, 2));
    run_ok(&t, threads);
    op_test_expect(
        &t, 0, FLOAT, 4, D(1, 2, 3, 4),
        F32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23),
        0, 0);
    op_test_release(&t);
  }
}

static void test_transpose_errors(void **state) {
  (void)state;
  op_test t;
  int n = build(&t, 13, "Transpose", 1, &IN(FLOAT, 3, D(2, 3, 4), iota), 1);
  op_test_attr_ints(&t, n, "perm", 3, D(0, 0, 1));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'perm' is not a permutation");
  n = build(&t, 13, "Transpose", 1, &IN(FLOAT, 3, D(2, 3, 4), iota), 1);
  op_test_attr_ints(&t, n, "perm", 2, D(1, 0));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'perm' has 2 entries for rank 3");
}

/* --- Concat ----------------------------------------------------------------------- */

static void test_concat(void **state) {
  (void)state;
  op_test t;
  int n =
      build(&t, 13, "Concat", 2,
            (tin[]){IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)), IN(FLOAT, 2, D(2, 1), F32(5, 6))}, 1);
  op_test_attr_int(&t, n, "axis", 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 3), F32(1, 2, 5, 3, 4, 6), 0, 0);
  op_test_release(&t);

  n = build(&t, 13, "Concat", 2,
            (tin[]){IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)), CONST(FLOAT, 2, D(2, 1), F32(5, 6))},
            1);
  op_test_attr_int(&t, n, "axis", -1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 3), F32(1, 2, 5, 3, 4, 6), 0, 0);
  op_test_release(&t);

  /* three inputs, one of them empty */
  n = build(&t, 13, "Concat", 3,
            (tin[]){IN(INT64, 2, D(1, 2), I64(1, 2)), IN(INT64, 2, D(0, 2), I64(0)),
                    IN(INT64, 2, D(2, 2), I64(3, 4, 5, 6))},
            1);
  op_test_attr_int(&t, n, "axis", -2);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT64, 2, D(3, 2), I64(1, 2, 3, 4, 5, 6), 0, 0);
  op_test_release(&t);

  const ir_string a[1] = {S("a")}, bc[2] = {S("b"), S("cc")}, want[3] = {S("a"), S("b"), S("cc")};
  n = build(&t, 13, "Concat", 2, (tin[]){IN(STRING, 1, D(1), a), IN(STRING, 1, D(2), bc)}, 1);
  op_test_attr_int(&t, n, "axis", 0);
  run_ok(&t, 1);
  op_test_expect(&t, 0, STRING, 1, D(3), want, 0, 0);
  op_test_release(&t);

  n = build(&t, 13, "Concat", 2, (tin[]){IN(INT8, 1, D(2), I8(-1, 2)), IN(INT8, 1, D(1), I8(3))},
            1);
  op_test_attr_int(&t, n, "axis", 0);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT8, 1, D(3), I8(-1, 2, 3), 0, 0);
  op_test_release(&t);
}

/* Two NHWC activations (MaxPool outputs), or one and a plain graph input. */
static void check_concat_nhwc(int64_t axis, const int64_t *bdims, const float *b, bool b_pooled,
                              const int64_t *ydims, const float *want) {
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    op_test_init(&t, 13);
    int x0 = op_test_input(&t, "A", FLOAT, 4, D(1, 2, 2, 2), iota);
    int x1 = op_test_input(&t, "B", FLOAT, 4, bdims, b);
    int p0 = op_test_value(&t, "PA"), p1 = op_test_value(&t, "PB"), y = op_test_value(&t, "Y");
    int n = op_test_node(&t, "MaxPool", &x0, 1, &p0, 1);
    op_test_attr_ints(&t, n, "kernel_shape", 2, D(1, 1));
    if (b_pooled) {
      n = op_test_node(&t, "MaxPool", &x1, 1, &p1, 1);
      op_test_attr_ints(&t, n, "kernel_shape", 2, D(1, 1));
    }
    n = op_test_node(&t, "Concat", (int[]){p0, b_pooled ? p1 : x1}, 2, &y, 1);
    op_test_attr_int(&t, n, "axis", axis);
    op_test_output(&t, y);
    run_ok(&t, threads);
    op_test_expect(&t, 0, FLOAT, 4, ydims, want, 0, 0);
    op_test_release(&t);
  }
}

static void test_concat_nhwc(void **state) {
  (void)state;
  float b[12];
  for (int i = 0; i < 12; i++) b[i] = 100.0f + (float)i;
  const float *c1 =
      F32(0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111);
  check_concat_nhwc(1, D(1, 3, 2, 2), b, true, D(1, 5, 2, 2), c1);
  check_concat_nhwc(1, D(1, 3, 2, 2), b, false, D(1, 5, 2, 2), c1);
  check_concat_nhwc(2, D(1, 2, 2, 2), b, true, D(1, 2, 4, 2),
                    F32(0, 1, 2, 3, 100, 101, 102, 103, 4, 5, 6, 7, 104, 105, 106, 107));
}

static void test_concat_errors(void **state) {
  (void)state;
  op_test t;
  int n =
      build(&t, 13, "Concat", 2, (tin[]){IN(FLOAT, 2, D(2, 2), iota), IN(FLOAT, 1, D(2), iota)}, 1);
  op_test_attr_int(&t, n, "axis", 0);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 1 has rank 1, input 0 has rank 2");
  n = build(&t, 13, "Concat", 2, (tin[]){IN(FLOAT, 2, D(2, 2), iota), IN(FLOAT, 2, D(3, 2), iota)},
            1);
  op_test_attr_int(&t, n, "axis", 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 1: dim 0 is 3, input 0 has 2");
  n = build(&t, 13, "Concat", 2, (tin[]){IN(FLOAT, 1, D(2), iota), IN(INT32, 1, D(2), I32(1, 2))},
            1);
  op_test_attr_int(&t, n, "axis", 0);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 1 has dtype int32");
  n = build(&t, 13, "Concat", 2, (tin[]){IN(FLOAT, 1, D(2), iota), IN(FLOAT, 1, D(2), iota)}, 1);
  op_test_attr_int(&t, n, "axis", 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'axis' 1 is out of range for rank 1");
  build(&t, 13, "Concat", 2, (tin[]){IN(FLOAT, 1, D(2), iota), IN(FLOAT, 1, D(2), iota)}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'axis' is missing");
}

/* --- Split ------------------------------------------------------------------------ */

static void test_split(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Split", 1, &IN(FLOAT, 1, D(6), F32(1, 2, 3, 4, 5, 6)), 3);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 1, D(2), F32(1, 2), 0, 0);
  op_test_expect(&t, 1, FLOAT, 1, D(2), F32(3, 4), 0, 0);
  op_test_expect(&t, 2, FLOAT, 1, D(2), F32(5, 6), 0, 0);
  op_test_release(&t);

  int n = build(&t, 11, "Split", 1, &IN(FLOAT, 2, D(2, 6), iota), 2);
  op_test_attr_int(&t, n, "axis", 1);
  op_test_attr_ints(&t, n, "split", 2, D(2, 4));
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), F32(0, 1, 6, 7), 0, 0);
  op_test_expect(&t, 1, FLOAT, 2, D(2, 4), F32(2, 3, 4, 5, 8, 9, 10, 11), 0, 0);
  op_test_release(&t);

  n = build(&t, 13, "Split", 2,
            (tin[]){IN(INT32, 2, D(2, 3), I32(1, 2, 3, 4, 5, 6)), IN(INT64, 1, D(2), I64(1, 2))},
            2);
  op_test_attr_int(&t, n, "axis", -1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT32, 2, D(2, 1), I32(1, 4), 0, 0);
  op_test_expect(&t, 1, INT32, 2, D(2, 2), I32(2, 3, 5, 6), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Split", 2,
        (tin[]){IN(INT16, 1, D(3), I16(1, 2, 3)), CONST(INT64, 1, D(3), I64(2, 0, 1))}, 3);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT16, 1, D(2), I16(1, 2), 0, 0);
  op_test_expect(&t, 1, INT16, 1, D(0), I16(0), 0, 0);
  op_test_expect(&t, 2, INT16, 1, D(1), I16(3), 0, 0);
  op_test_release(&t);

  /* channel split of an NHWC activation */
  for (int threads = 1; threads <= 2; threads++) {
    n = build_ex(&t, 13, "Split", 2,
                 (tin[]){IN(FLOAT, 4, D(1, 4, 2, 2), iota), CONST(INT64, 1, D(2), I64(1, 3))}, 2,
                 true);
    op_test_attr_int(&t, n, "axis", 1);
    run_ok(&t, threads);
    op_test_expect(&t, 0, FLOAT, 4, D(1, 1, 2, 2), F32(0, 1, 2, 3), 0, 0);
    op_test_expect(&t, 1, FLOAT, 4, D(1, 3, 2, 2), iota + 4, 0, 0);
    op_test_release(&t);
  }
}

static void test_split_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Split", 1, &IN(FLOAT, 1, D(6), iota), 4);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "axis size 6 does not split into 4 equal parts");
  build(&t, 13, "Split", 2, (tin[]){IN(FLOAT, 1, D(6), iota), CONST(INT64, 1, D(2), I64(2, 5))}, 2);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "do not add up to axis size 6");
  build(&t, 13, "Split", 2, (tin[]){IN(FLOAT, 1, D(6), iota), CONST(INT64, 1, D(2), I64(-1, 7))},
        2);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "value -1 is negative");
  int n = build(&t, 11, "Split", 1, &IN(FLOAT, 1, D(6), iota), 2);
  op_test_attr_ints(&t, n, "split", 3, D(2, 2, 2));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'split' has 3 values for 2 outputs");
  n = build(&t, 13, "Split", 1, &IN(FLOAT, 1, D(6), iota), 2);
  op_test_attr_int(&t, n, "axis", -2);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "out of range for rank 1");
}

/* --- Slice ------------------------------------------------------------------------- */

static void test_slice(void **state) {
  (void)state;
  op_test t;
  int n = build(&t, 9, "Slice", 1, &IN(FLOAT, 2, D(3, 4), iota), 1);
  op_test_attr_ints(&t, n, "starts", 2, D(1, 0));
  op_test_attr_ints(&t, n, "ends", 2, D(3, -1));
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 3), F32(4, 5, 6, 8, 9, 10), 0, 0);
  op_test_release(&t);

  n = build(&t, 9, "Slice", 1, &IN(FLOAT, 2, D(3, 4), iota), 1);
  op_test_attr_ints(&t, n, "starts", 1, D(1));
  op_test_attr_ints(&t, n, "ends", 1, D(1000));
  op_test_attr_ints(&t, n, "axes", 1, D(1));
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 3), F32(1, 2, 3, 5, 6, 7, 9, 10, 11), 0, 0);
  op_test_release(&t);

  /* negative step from the back down past the front */
  build(&t, 13, "Slice", 5,
        (tin[]){IN(FLOAT, 2, D(4, 5), iota), IN(INT64, 1, D(1), I64(4)),
                IN(INT64, 1, D(1), I64(INT64_MIN)), IN(INT64, 1, D(1), I64(1)),
                IN(INT64, 1, D(1), I64(-2))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(4, 3), F32(4, 2, 0, 9, 7, 5, 14, 12, 10, 19, 17, 15), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Slice", 5,
        (tin[]){IN(FLOAT, 2, D(4, 5), iota), CONST(INT64, 1, D(2), I64(-1, -2)),
                CONST(INT64, 1, D(2), I64(INT64_MIN, 0)), CONST(INT64, 1, D(2), I64(0, -1)),
                CONST(INT64, 1, D(2), I64(-1, -1))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(4, 3), F32(18, 17, 16, 13, 12, 11, 8, 7, 6, 3, 2, 1), 0, 0);
  op_test_release(&t);

  /* int32 parameters, INT32_MAX end, default steps, negative axis */
  build(&t, 13, "Slice", 4,
        (tin[]){IN(INT64, 2, D(3, 2), I64(1, 2, 3, 4, 5, 6)), CONST(INT32, 1, D(1), I32(1)),
                CONST(INT32, 1, D(1), I32(INT32_MAX)), CONST(INT32, 1, D(1), I32(-2))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT64, 2, D(2, 2), I64(3, 4, 5, 6), 0, 0);
  op_test_release(&t);

  /* start past the end: empty */
  build(&t, 13, "Slice", 4,
        (tin[]){IN(FLOAT, 2, D(3, 4), iota), CONST(INT64, 1, D(1), I64(5)),
                CONST(INT64, 1, D(1), I64(INT64_MAX)), CONST(INT64, 1, D(1), I64(0))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(0, 4), iota, 0, 0);
  op_test_release(&t);

  const ir_string s[4] = {S("a"), S("b"), S("c"), S("d")}, want[2] = {S("b"), S("c")};
  build(&t, 13, "Slice", 3,
        (tin[]){IN(STRING, 1, D(4), s), CONST(INT64, 1, D(1), I64(1)),
                CONST(INT64, 1, D(1), I64(-1))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, STRING, 1, D(2), want, 0, 0);
  op_test_release(&t);
}

static void test_slice_nhwc(void **state) {
  (void)state;
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    build_ex(&t, 13, "Slice", 4,
             (tin[]){IN(FLOAT, 4, D(1, 4, 3, 3), iota), CONST(INT64, 1, D(1), I64(1)),
                     CONST(INT64, 1, D(1), I64(3)), CONST(INT64, 1, D(1), I64(1))},
             1, true);
    run_ok(&t, threads);
    op_test_expect(&t, 0, FLOAT, 4, D(1, 2, 3, 3), iota + 9, 0, 0);
    op_test_release(&t);

    build_ex(&t, 13, "Slice", 5,
             (tin[]){IN(FLOAT, 4, D(1, 4, 3, 3), iota), CONST(INT64, 1, D(2), I64(0, 1)),
                     CONST(INT64, 1, D(2), I64(INT64_MAX, INT64_MAX)),
                     CONST(INT64, 1, D(2), I64(2, -1)), CONST(INT64, 1, D(2), I64(2, 1))},
             1, true);
    run_ok(&t, threads);
    op_test_expect(&t, 0, FLOAT, 4, D(1, 4, 2, 2),
                   F32(1, 2, 7, 8, 10, 11, 16, 17, 19, 20, 25, 26, 28, 29, 34, 35), 0, 0);
    op_test_release(&t);
  }
}

static void test_slice_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Slice", 5,
        (tin[]){IN(FLOAT, 2, D(3, 4), iota), CONST(INT64, 1, D(1), I64(0)),
                CONST(INT64, 1, D(1), I64(2)), CONST(INT64, 1, D(1), I64(1)),
                CONST(INT64, 1, D(1), I64(0))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "step for axis 1 is 0");
  build(&t, 13, "Slice", 4,
        (tin[]){IN(FLOAT, 2, D(3, 4), iota), CONST(INT64, 1, D(2), I64(0, 0)),
                CONST(INT64, 1, D(2), I64(2, 2)), CONST(INT64, 1, D(2), I64(1, -1))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "axis -1 is given twice");
  build(&t, 13, "Slice", 4,
        (tin[]){IN(FLOAT, 2, D(3, 4), iota), CONST(INT64, 1, D(1), I64(0)),
                CONST(INT64, 1, D(1), I64(2)), CONST(INT64, 1, D(1), I64(2))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "axis 2 is out of range for rank 2");
  build(&t, 13, "Slice", 3,
        (tin[]){IN(FLOAT, 2, D(3, 4), iota), CONST(INT64, 1, D(2), I64(0, 0)),
                CONST(INT64, 1, D(1), I64(2))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "differ in length");
  build(&t, 13, "Slice", 2, (tin[]){IN(FLOAT, 2, D(3, 4), iota), CONST(INT64, 1, D(1), I64(0))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "inputs 'starts' and 'ends' are required");
}

/* --- Gather ------------------------------------------------------------------------- */

static void test_gather(void **state) {
  (void)state;
  op_test t;
  const float *x = F32(1, 2, 3, 4, 5, 6);
  build(&t, 13, "Gather", 2,
        (tin[]){IN(FLOAT, 2, D(3, 2), x), IN(INT64, 2, D(2, 2), I64(0, 1, 1, 2))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 3, D(2, 2, 2), F32(1, 2, 3, 4, 3, 4, 5, 6), 0, 0);
  op_test_release(&t);

  int n = build(&t, 13, "Gather", 2,
                (tin[]){IN(FLOAT, 2, D(3, 2), x), CONST(INT32, 1, D(2), I32(-1, 0))}, 1);
  op_test_attr_int(&t, n, "axis", 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 2), F32(2, 1, 4, 3, 6, 5), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Gather", 2, (tin[]){IN(FLOAT, 2, D(3, 2), x), IN(INT64, 0, NONE, I64(2))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 1, D(2), F32(5, 6), 0, 0);
  op_test_release(&t);

  /* rows of 12 bytes (any-size chunk) */
  build(&t, 13, "Gather", 2, (tin[]){IN(FLOAT, 2, D(2, 3), x), IN(INT64, 1, D(3), I64(1, 0, -1))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 3), F32(4, 5, 6, 1, 2, 3, 4, 5, 6), 0, 0);
  op_test_release(&t);

  /* single elements of 1, 2 and 8 bytes */
  n = build(&t, 13, "Gather", 2,
            (tin[]){IN(INT8, 2, D(2, 3), I8(1, 2, 3, 4, 5, 6)), IN(INT64, 1, D(2), I64(2, 0))}, 1);
  op_test_attr_int(&t, n, "axis", -1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT8, 2, D(2, 2), I8(3, 1, 6, 4), 0, 0);
  op_test_release(&t);
  n = build(&t, 13, "Gather", 2,
            (tin[]){IN(INT16, 2, D(2, 3), I16(1, 2, 3, 4, 5, 6)), IN(INT32, 1, D(2), I32(2, 0))},
            1);
  op_test_attr_int(&t, n, "axis", 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT16, 2, D(2, 2), I16(3, 1, 6, 4), 0, 0);
  op_test_release(&t);
  build(&t, 13, "Gather", 2,
        (tin[]){IN(INT64, 1, D(4), I64(10, 20, 30, 40)), IN(INT64, 1, D(3), I64(3, 3, -4))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT64, 1, D(3), I64(40, 40, 10), 0, 0);
  op_test_release(&t);

  const ir_string s[3] = {S("a"), S("bb"), S("c")}, want[3] = {S("c"), S("c"), S("a")};
  build(&t, 13, "Gather", 2, (tin[]){IN(STRING, 1, D(3), s), IN(INT64, 1, D(3), I64(2, -1, 0))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, STRING, 1, D(3), want, 0, 0);
  op_test_release(&t);

  /* Gather of a Shape: shape arithmetic folded at plan time */
  op_test_init(&t, 13);
  int xi = op_test_input(&t, "X", FLOAT, 3, D(2, 3, 4), iota);
  int sh = op_test_value(&t, "S"), y = op_test_value(&t, "Y");
  int idx = op_test_const(&t, "I", INT64, 1, D(2), I64(-1, 0));
  op_test_node(&t, "Shape", &xi, 1, &sh, 1);
  op_test_node(&t, "Gather", (int[]){sh, idx}, 2, &y, 1);
  op_test_output(&t, y);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT64, 1, D(2), I64(4, 2), 0, 0);
  op_test_release(&t);
}

static void test_gather_errors(void **state) {
  (void)state;
  op_test t;
  const float *x = F32(1, 2, 3, 4, 5, 6);
  build(&t, 13, "Gather", 2, (tin[]){IN(FLOAT, 2, D(3, 2), x), IN(INT64, 1, D(2), I64(0, 3))}, 1);
  expect_error(&t, ONNXI_ERR_RUNTIME, "index 3 (at position 1) is out of range for size 3");
  build(&t, 13, "Gather", 2, (tin[]){IN(FLOAT, 2, D(3, 2), x), IN(INT32, 1, D(1), I32(-4))}, 1);
  expect_error(&t, ONNXI_ERR_RUNTIME, "index -4 (at position 0) is out of range");
  build(&t, 13, "Gather", 2, (tin[]){IN(FLOAT, 2, D(3, 2), x), CONST(INT64, 1, D(1), I64(7))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "index 7 (at position 0) is out of range for size 3");
  build(&t, 13, "Gather", 2, (tin[]){IN(FLOAT, 2, D(3, 2), x), IN(FLOAT, 1, D(1), F32(0))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'indices' has dtype float");
  int n =
      build(&t, 13, "Gather", 2, (tin[]){IN(FLOAT, 2, D(3, 2), x), IN(INT64, 1, D(1), I64(0))}, 1);
  op_test_attr_int(&t, n, "axis", 2);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'axis' 2 is out of range for rank 2");
}

/* --- Pad ----------------------------------------------------------------------------- */

static void test_pad(void **state) {
  (void)state;
  op_test t;
  const float *pc =
      F32(9.5f, 9.5f, 9.5f, 9.5f, 9.5f, 9.5f, 9.5f, 9.5f, 0, 1, 2, 9.5f, 9.5f, 9.5f, 3, 4, 5, 9.5f);
  build(&t, 13, "Pad", 3,
        (tin[]){IN(FLOAT, 2, D(2, 3), iota), IN(INT64, 1, D(4), I64(1, 2, 0, 1)),
                IN(FLOAT, 0, NONE, F32(9.5f))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 6), pc, 0, 0);
  op_test_release(&t);

  int n = build(&t, 10, "Pad", 1, &IN(FLOAT, 2, D(2, 3), iota), 1); /* attributes */
  op_test_attr_ints(&t, n, "pads", 4, D(1, 2, 0, 1));
  op_test_attr_float(&t, n, "value", 9.5f);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 6), pc, 0, 0);
  op_test_release(&t);

  n = build(&t, 13, "Pad", 2,
            (tin[]){IN(FLOAT, 2, D(2, 3), iota), CONST(INT64, 1, D(4), I64(1, 2, 1, 2))}, 1);
  op_test_attr_string(&t, n, "mode", "reflect");
  run_ok(&t, 1);
  op_test_expect(
      &t, 0, FLOAT, 2, D(4, 7),
      F32(5, 4, 3, 4, 5, 4, 3, 2, 1, 0, 1, 2, 1, 0, 5, 4, 3, 4, 5, 4, 3, 2, 1, 0, 1, 2, 1, 0), 0,
      0);
  op_test_release(&t);

  n = build(
      &t, 13, "Pad", 2,
      (tin[]){IN(INT32, 2, D(2, 3), I32(0, 1, 2, 3, 4, 5)), CONST(INT64, 1, D(4), I64(0, 2, 1, 1))},
      1);
  op_test_attr_string(&t, n, "mode", "edge");
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT32, 2, D(3, 6),
                 I32(0, 0, 0, 1, 2, 2, 3, 3, 3, 4, 5, 5, 3, 3, 3, 4, 5, 5), 0, 0);
  op_test_release(&t);

  /* negative pads crop */
  build(&t, 13, "Pad", 2,
        (tin[]){IN(FLOAT, 2, D(3, 4), iota), CONST(INT64, 1, D(4), I64(-1, 1, 0, -2))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 3), F32(0, 4, 5, 0, 8, 9), 0, 0);
  op_test_release(&t);

  build(&t, 13, "Pad", 3,
        (tin[]){IN(INT8, 1, D(2), I8(5, 6)), CONST(INT64, 1, D(2), I64(2, 1)),
                CONST(INT8, 0, NONE, I8(-1))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT8, 1, D(5), I8(-1, -1, 5, 6, -1), 0, 0);
  op_test_release(&t);

  const ir_string s[2] = {S("a"), S("b")}, want[4] = {S(""), S("a"), S("b"), S("")};
  build(&t, 13, "Pad", 2, (tin[]){IN(STRING, 1, D(2), s), CONST(INT64, 1, D(2), I64(1, 1))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, STRING, 1, D(4), want, 0, 0);
  op_test_release(&t);

  /* an empty axis padded with constants */
  build(&t, 13, "Pad", 2,
        (tin[]){IN(FLOAT, 2, D(2, 0), iota), CONST(INT64, 1, D(4), I64(0, 1, 0, 1))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), F32(0, 0, 0, 0), 0, 0);
  op_test_release(&t);
}

static void test_pad_nhwc(void **state) {
  (void)state;
  for (int threads = 1; threads <= 2; threads++) {
    op_test t;
    build_ex(
        &t, 13, "Pad", 3,
        (tin[]){IN(FLOAT, 4, D(1, 2, 3, 3), iota),
                CONST(INT64, 1, D(8), I64(0, 0, 1, 1, 0, 0, 1, 0)), CONST(FLOAT, 0, NONE, F32(-1))},
        1, true);
    run_ok(&t, threads);
    op_test_expect(&t, 0, FLOAT, 4, D(1, 2, 5, 4),
                   F32(-1, -1, -1, -1, -1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, -1, -1, -1, -1,
                       -1, -1, -1, -1, 9, 10, 11, -1, 12, 13, 14, -1, 15, 16, 17, -1, -1, -1, -1),
                   0, 0);
    op_test_release(&t);

    int n = build_ex(&t, 13, "Pad", 2,
                     (tin[]){IN(FLOAT, 4, D(1, 2, 3, 3), iota),
                             CONST(INT64, 1, D(8), I64(0, 0, 1, 2, 0, 0, 1, 1))},
                     1, true);
    op_test_attr_string(&t, n, "mode", "reflect");
    run_ok(&t, threads);
    op_test_expect(&t, 0, FLOAT, 4, D(1, 2, 5, 6),
                   F32(5, 4, 3, 4, 5, 4, 2, 1, 0, 1, 2, 1, 5, 4, 3, 4, 5, 4, 8, 7, 6, 7, 8, 7, 5, 4,
                       3, 4, 5, 4, 14, 13, 12, 13, 14, 13, 11, 10, 9, 10, 11, 10, 14, 13, 12, 13,
                       14, 13, 17, 16, 15, 16, 17, 16, 14, 13, 12, 13, 14, 13),
                   0, 0);
    op_test_release(&t);

    build_ex(&t, 13, "Pad", 2,
             (tin[]){IN(FLOAT, 4, D(1, 2, 3, 3), iota),
                     CONST(INT64, 1, D(8), I64(0, 1, 0, 0, 0, 0, 0, 0))},
             1, true);
    run_ok(&t, threads);
    op_test_expect(&t, 0, FLOAT, 4, D(1, 3, 3, 3),
                   F32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                       15, 16, 17),
                   0, 0);
    op_test_release(&t);
  }
}

/* Naive pad of a float tensor: mode 0 constant, 1 reflect, 2 edge. */
static void ref_pad(int rank, const int64_t *dims, const int64_t *pads, int mode, float value,
                    const float *x, float *y, int64_t *odims, int64_t *count) {
  int64_t is[8];
  *count = 1;
  for (int i = 0; i < rank; i++) odims[i] = dims[i] + pads[i] + pads[i + rank], *count *= odims[i];
  is[rank - 1] = 1;
  for (int i = rank - 2; i >= 0; i--) is[i] = is[i + 1] * dims[i + 1];
  for (int64_t o = 0; o < *count; o++) {
    int64_t rem = o, off = 0;
    bool pad = false;
    for (int i = rank - 1; i >= 0; i--) {
      int64_t k = rem % odims[i] - pads[i], d = dims[i];
      rem /= odims[i];
      if (k < 0 || k >= d) {
        if (mode == 0)
          pad = true;
        else if (mode == 1)
          k = k < 0 ? -k : 2 * (d - 1) - k;
        else
          k = k < 0 ? 0 : d - 1;
      }
      off += k * is[i];
    }
    y[o] = pad ? value : x[off];
  }
}

static void check_pad_big(int mode, bool nhwc, const int64_t *pads, int threads) {
  static const char *modes[] = {"constant", "reflect", "edge"};
  const int64_t *dims = D(2, 8, 64, 64);
  int64_t count = 2 * 8 * 64 * 64, odims[4], ocount;
  float *x = malloc(sizeof(float) * (size_t)count),
        *want = malloc(sizeof(float) * 3 * (size_t)count);
  assert_non_null(x), assert_non_null(want);
  for (int64_t i = 0; i < count; i++) x[i] = (float)(lcg() % 1000);
  ref_pad(4, dims, pads, mode, 0.5f, x, want, odims, &ocount);
  op_test t;
  int n = build_ex(
      &t, 13, "Pad", 3,
      (tin[]){IN(FLOAT, 4, dims, x), CONST(INT64, 1, D(8), pads), CONST(FLOAT, 0, NONE, F32(0.5f))},
      1, nhwc);
  op_test_attr_string(&t, n, "mode", modes[mode]);
  run_ok(&t, threads);
  op_test_expect(&t, 0, FLOAT, 4, odims, want, 0, 0);
  op_test_release(&t);
  free(x), free(want);
}

/* Large enough for the thread pool, both layouts, every mode. */
static void test_pad_big(void **state) {
  (void)state;
  for (int mode = 0; mode < 3; mode++) {
    check_pad_big(mode, false, D(0, 0, 2, 3, 0, 0, 1, 2), 2);
    check_pad_big(mode, true, D(1, 2, 0, 1, 0, 1, 3, 0), 2);
  }
}

static void test_pad_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Pad", 2, (tin[]){IN(FLOAT, 2, D(2, 3), iota), CONST(INT64, 1, D(2), I64(1, 1))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "'pads' has 2 values for rank 2");
  int n = build(&t, 13, "Pad", 2,
                (tin[]){IN(FLOAT, 2, D(2, 3), iota), CONST(INT64, 1, D(4), I64(0, 3, 0, 0))}, 1);
  op_test_attr_string(&t, n, "mode", "reflect");
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "reflect pads 3,0 need axis 1 larger than 3");
  build(&t, 13, "Pad", 2,
        (tin[]){IN(FLOAT, 2, D(2, 3), iota), CONST(INT64, 1, D(4), I64(-2, 0, -1, 0))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "pads crop more than axis 0's size 2");
  n = build(&t, 13, "Pad", 2,
            (tin[]){IN(FLOAT, 2, D(2, 3), iota), CONST(INT64, 1, D(4), I64(0, 0, 0, 0))}, 1);
  op_test_attr_string(&t, n, "mode", "wrap");
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "attribute 'mode': 'wrap' is not supported");
  n = build(&t, 13, "Pad", 2,
            (tin[]){IN(FLOAT, 2, D(2, 0), iota), CONST(INT64, 1, D(4), I64(0, 1, 0, 0))}, 1);
  op_test_attr_string(&t, n, "mode", "edge");
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "axis 1 is empty");
  build(&t, 13, "Pad", 3,
        (tin[]){IN(FLOAT, 1, D(2), iota), CONST(INT64, 1, D(2), I64(1, 1)),
                CONST(INT32, 0, NONE, I32(1))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'constant_value' must be one float");
}

/* --- DepthToSpace / SpaceToDepth --------------------------------------------------------- */

static void test_depth_to_space(void **state) {
  (void)state;
  const float *dcr = F32(0, 12, 1, 13, 2, 14, 24, 36, 25, 37, 26, 38, 3, 15, 4, 16, 5, 17, 27, 39,
                         28, 40, 29, 41, 6, 18, 7, 19, 8, 20, 30, 42, 31, 43, 32, 44, 9, 21, 10, 22,
                         11, 23, 33, 45, 34, 46, 35, 47);
  const float *crd = F32(0, 6, 1, 7, 2, 8, 12, 18, 13, 19, 14, 20, 3, 9, 4, 10, 5, 11, 15, 21, 16,
                         22, 17, 23, 24, 30, 25, 31, 26, 32, 36, 42, 37, 43, 38, 44, 27, 33, 28, 34,
                         29, 35, 39, 45, 40, 46, 41, 47);
  for (int nhwc = 0; nhwc <= 1; nhwc++) {
    for (int mode = 0; mode <= 1; mode++) {
      op_test t;
      int n = build_ex(&t, 13, "DepthToSpace", 1, &IN(FLOAT, 4, D(1, 8, 2, 3), iota), 1, nhwc);
      op_test_attr_int(&t, n, "blocksize", 2);
      if (mode) op_test_attr_string(&t, n, "mode", "CRD");
      run_ok(&t, 1);
      op_test_expect(&t, 0, FLOAT, 4, D(1, 2, 4, 6), mode ? crd : dcr, 0, 0);
      op_test_release(&t);
    }
  }
  op_test t;
  int n = build(&t, 13, "DepthToSpace", 1, &IN(INT16, 4, D(1, 4, 1, 1), I16(1, 2, 3, 4)), 1);
  op_test_attr_int(&t, n, "blocksize", 2);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT16, 4, D(1, 1, 2, 2), I16(1, 2, 3, 4), 0, 0);
  op_test_release(&t);

  n = build(&t, 13, "DepthToSpace", 1, &IN(FLOAT, 4, D(1, 8, 2, 3), iota), 1);
  op_test_attr_int(&t, n, "blocksize", 3);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "8 channels are not divisible by blocksize^2 9");
  build(&t, 13, "DepthToSpace", 1, &IN(FLOAT, 4, D(1, 8, 2, 3), iota), 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'blocksize' is missing");
  n = build(&t, 13, "DepthToSpace", 1, &IN(FLOAT, 4, D(1, 8, 2, 3), iota), 1);
  op_test_attr_int(&t, n, "blocksize", 2);
  op_test_attr_string(&t, n, "mode", "XYZ");
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "attribute 'mode': 'XYZ' is not DCR or CRD");
}

static void test_space_to_depth(void **state) {
  (void)state;
  const float *want = F32(0, 2, 8, 10, 16, 18, 24, 26, 1, 3, 9, 11, 17, 19, 25, 27, 4, 6, 12, 14,
                          20, 22, 28, 30, 5, 7, 13, 15, 21, 23, 29, 31);
  for (int nhwc = 0; nhwc <= 1; nhwc++) {
    op_test t;
    int n = build_ex(&t, 13, "SpaceToDepth", 1, &IN(FLOAT, 4, D(1, 2, 4, 4), iota), 1, nhwc);
    op_test_attr_int(&t, n, "blocksize", 2);
    run_ok(&t, 1);
    op_test_expect(&t, 0, FLOAT, 4, D(1, 8, 2, 2), want, 0, 0);
    op_test_release(&t);
  }
  op_test t;
  int n = build(&t, 13, "SpaceToDepth", 1, &IN(FLOAT, 4, D(1, 2, 4, 4), iota), 1);
  op_test_attr_int(&t, n, "blocksize", 3);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "spatial dims 4x4 are not divisible by blocksize 3");
  n = build(&t, 13, "SpaceToDepth", 1, &IN(FLOAT, 3, D(2, 4, 4), iota), 1);
  op_test_attr_int(&t, n, "blocksize", 2);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input must be rank 4, got rank 3");
}

/* --- ScatterND ----------------------------------------------------------------------------- */

static void test_scatter_nd(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "ScatterND", 3,
        (tin[]){IN(FLOAT, 1, D(8), F32(1, 2, 3, 4, 5, 6, 7, 8)),
                IN(INT64, 2, D(4, 1), I64(4, 3, 1, 7)), IN(FLOAT, 1, D(4), F32(9, 10, 11, 12))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 1, D(8), F32(1, 11, 3, 10, 9, 6, 7, 12), 0, 0);
  op_test_release(&t);

  /* slices, negative index */
  build(&t, 13, "ScatterND", 3,
        (tin[]){IN(INT32, 3, D(2, 2, 2), I32(1, 2, 3, 4, 5, 6, 7, 8)),
                CONST(INT64, 2, D(1, 1), I64(-2)), IN(INT32, 3, D(1, 2, 2), I32(10, 20, 30, 40))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT32, 3, D(2, 2, 2), I32(10, 20, 30, 40, 5, 6, 7, 8), 0, 0);
  op_test_release(&t);

  /* full index tuples */
  build(&t, 13, "ScatterND", 3,
        (tin[]){IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)), IN(INT64, 2, D(2, 2), I64(0, 1, 1, 0)),
                IN(FLOAT, 1, D(2), F32(5, 6))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), F32(1, 5, 6, 4), 0, 0);
  op_test_release(&t);

  int n = build(&t, 16, "ScatterND", 3,
                (tin[]){IN(INT64, 1, D(4), I64(1, 2, 3, 4)), IN(INT64, 2, D(3, 1), I64(0, 2, 0)),
                        IN(INT64, 1, D(3), I64(10, 20, 5))},
                1);
  op_test_attr_string(&t, n, "reduction", "add");
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT64, 1, D(4), I64(16, 2, 23, 4), 0, 0);
  op_test_release(&t);

  n = build(&t, 16, "ScatterND", 3,
            (tin[]){IN(FLOAT, 1, D(4), F32(1, 2, 3, 4)), IN(INT64, 2, D(2, 1), I64(0, 2)),
                    IN(FLOAT, 1, D(2), F32(10, 0.5f))},
            1);
  op_test_attr_string(&t, n, "reduction", "mul");
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 1, D(4), F32(10, 2, 1.5f, 4), 0, 0);
  op_test_release(&t);
}

static void test_scatter_nd_errors(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "ScatterND", 3,
        (tin[]){IN(FLOAT, 1, D(4), iota), IN(INT64, 2, D(2, 1), I64(0, 4)),
                IN(FLOAT, 1, D(2), F32(1, 2))},
        1);
  expect_error(&t, ONNXI_ERR_RUNTIME, "index tuple 1 is out of range");
  build(&t, 13, "ScatterND", 3,
        (tin[]){IN(FLOAT, 1, D(4), iota), CONST(INT64, 2, D(1, 1), I64(-5)),
                IN(FLOAT, 1, D(1), F32(1))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "index tuple 0 is out of range");
  build(&t, 13, "ScatterND", 3,
        (tin[]){IN(FLOAT, 1, D(4), iota), IN(INT64, 2, D(2, 1), I64(0, 1)),
                IN(FLOAT, 1, D(3), F32(1, 2, 3))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'updates' has the wrong shape");
  build(&t, 13, "ScatterND", 3,
        (tin[]){IN(FLOAT, 1, D(4), iota), IN(INT64, 2, D(1, 2), I64(0, 1)),
                IN(FLOAT, 1, D(1), F32(1))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "must end in a dim of 1..1");
  int n = build(
      &t, 16, "ScatterND", 3,
      (tin[]){IN(FLOAT, 1, D(4), iota), IN(INT64, 2, D(1, 1), I64(0)), IN(FLOAT, 1, D(1), F32(1))},
      1);
  op_test_attr_string(&t, n, "reduction", "max");
  expect_error(&t, ONNXI_ERR_UNSUPPORTED, "attribute 'reduction': 'max' is not supported");
}

/* Inputs and outputs the op needs must be there (never read past them). */
static void test_io_counts(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "Gather", 1, &IN(FLOAT, 1, D(4), iota), 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "1 inputs given, expected 2 to 2");
  build(&t, 13, "ScatterND", 3, (tin[]){IN(FLOAT, 1, D(4), iota), OMIT, IN(FLOAT, 1, D(1), iota)},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 1 is missing");
  build(&t, 13, "Concat", 2, (tin[]){IN(FLOAT, 1, D(4), iota), OMIT}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 1 is missing");
  int n = build(&t, 10, "Pad", 2,
                (tin[]){IN(FLOAT, 1, D(4), iota), CONST(INT64, 1, D(2), I64(1, 1))}, 1);
  op_test_attr_ints(&t, n, "pads", 2, D(1, 1));
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "2 inputs given, expected 1 to 1");
  build(&t, 11, "Pad", 1, &IN(FLOAT, 1, D(4), iota), 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'pads' is missing");
  build(&t, 13, "Slice", 2, (tin[]){IN(FLOAT, 1, D(4), iota), CONST(INT64, 1, D(1), I64(1))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "inputs 'starts' and 'ends' are required");
}

/* --- GatherElements / ScatterElements (numbers from the ONNX operator docs and
 * numpy: np.take_along_axis / np.put_along_axis) --- */

static void test_gather_elements(void **state) {
  (void)state;
  op_test t;
  int n = build(&t, 13, "GatherElements", 2,
                (tin[]){IN(FLOAT, 2, D(2, 2), F32(1, 2, 3, 4)),
                        IN(INT64, 2, D(2, 2), I64(0, 0, 1, 0))},
                1);
  op_test_attr_int(&t, n, "axis", 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), F32(1, 1, 4, 3), 0, 0);
  op_test_release(&t);
  /* axis 0, negative index, indices smaller than data: [[1,2,3],[4,5,6],[7,8,9]] */
  build(&t, 13, "GatherElements", 2,
        (tin[]){IN(INT16, 2, D(3, 3), I16(1, 2, 3, 4, 5, 6, 7, 8, 9)),
                CONST(INT32, 2, D(2, 3), I32(1, 2, 0, 2, 0, -3))},
        1);
  run_ok(&t, 2);
  op_test_expect(&t, 0, INT16, 2, D(2, 3), I16(4, 8, 3, 7, 2, 3), 0, 0);
  op_test_release(&t);
  build(&t, 13, "GatherElements", 2,
        (tin[]){IN(FLOAT, 1, D(3), F32(1, 2, 3)), IN(INT64, 1, D(1), I64(3))}, 1);
  expect_error(&t, ONNXI_ERR_RUNTIME, "index 3 (at position 0) is out of range");
  build(&t, 13, "GatherElements", 2,
        (tin[]){IN(FLOAT, 1, D(3), F32(1, 2, 3)), CONST(INT64, 1, D(1), I64(-4))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "out of range");
  build(&t, 13, "GatherElements", 2,
        (tin[]){IN(FLOAT, 2, D(1, 3), F32(1, 2, 3)), IN(INT64, 2, D(1, 4), I64(0, 0, 0, 0))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "dim 1 is 4, larger than data's 3");
}

static void test_scatter_elements(void **state) {
  (void)state;
  op_test t;
  build(&t, 13, "ScatterElements", 3,
        (tin[]){IN(FLOAT, 2, D(3, 3), F32(0, 0, 0, 0, 0, 0, 0, 0, 0)),
                IN(INT64, 2, D(2, 3), I64(1, 0, 2, 0, 2, 1)),
                IN(FLOAT, 2, D(2, 3), F32(1, 1.1f, 1.2f, 2, 2.1f, 2.2f))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 3), F32(2, 1.1f, 0, 1, 0, 2.2f, 0, 2.1f, 1.2f), 0, 0);
  op_test_release(&t);
  /* axis 1, repeated index with reduction add (opset 16), negative index */
  int n = build(&t, 16, "ScatterElements", 3,
                (tin[]){IN(INT64, 2, D(1, 5), I64(1, 2, 3, 4, 5)),
                        IN(INT32, 2, D(1, 3), I32(1, -4, 4)), IN(INT64, 2, D(1, 3), I64(10, 20, 7))},
                1);
  op_test_attr_int(&t, n, "axis", 1);
  op_test_attr_string(&t, n, "reduction", "add");
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT64, 2, D(1, 5), I64(1, 32, 3, 4, 12), 0, 0);
  op_test_release(&t);
  /* the opset 9 name */
  build(&t, 9, "Scatter", 3,
        (tin[]){IN(FLOAT, 1, D(3), F32(1, 2, 3)), IN(INT64, 1, D(1), I64(2)),
                IN(FLOAT, 1, D(1), F32(9))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 1, D(3), F32(1, 2, 9), 0, 0);
  op_test_release(&t);
  build(&t, 13, "ScatterElements", 3,
        (tin[]){IN(FLOAT, 1, D(3), F32(1, 2, 3)), IN(INT64, 1, D(2), I64(0, 1)),
                IN(FLOAT, 1, D(1), F32(9))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "shape of 'indices'");
  build(&t, 13, "ScatterElements", 3,
        (tin[]){IN(FLOAT, 1, D(3), F32(1, 2, 3)), IN(INT64, 1, D(1), I64(7)),
                IN(FLOAT, 1, D(1), F32(9))},
        1);
  expect_error(&t, ONNXI_ERR_RUNTIME, "index 7");
}

/* --- Trilu (numpy np.triu / np.tril) --- */

static void test_trilu(void **state) {
  (void)state;
  op_test t;
  const float *x = F32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
  build(&t, 14, "Trilu", 2, (tin[]){IN(FLOAT, 2, D(3, 4), x), CONST(INT64, 0, NONE, I64(1))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 4), F32(0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12), 0, 0);
  op_test_release(&t);
  int n = build(&t, 14, "Trilu", 2, (tin[]){IN(FLOAT, 2, D(3, 4), x), IN(INT64, 0, NONE, I64(-1))},
                1);
  op_test_attr_int(&t, n, "upper", 0);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 4), F32(0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0), 0, 0);
  op_test_release(&t);
  /* k beyond the matrix keeps everything; huge k does not overflow */
  build(&t, 14, "Trilu", 2, (tin[]){IN(FLOAT, 2, D(3, 4), x), CONST(INT64, 0, NONE, I64(-5))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 4), x, 0, 0);
  op_test_release(&t);
  build(&t, 14, "Trilu", 2,
        (tin[]){IN(FLOAT, 2, D(3, 4), x), CONST(INT64, 0, NONE, I64(INT64_MAX))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 4), F32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0, 0);
  op_test_release(&t);
  /* batched, int64, no k */
  n = build(&t, 14, "Trilu", 1, &IN(INT64, 3, D(2, 2, 2), I64(1, 2, 3, 4, 5, 6, 7, 8)), 1);
  op_test_attr_int(&t, n, "upper", 0);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT64, 3, D(2, 2, 2), I64(1, 0, 3, 4, 5, 0, 7, 8), 0, 0);
  op_test_release(&t);
  build(&t, 14, "Trilu", 1, &IN(FLOAT, 1, D(3), x), 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "rank >= 2");
}

/* --- GatherND / OneHot (ONNX operator doc examples; np.eye for one-hot) --- */

static void test_gather_nd(void **state) {
  (void)state;
  op_test t;
  /* data [[0,1],[2,3]], indices [[0,0],[1,1]] -> [0, 3]; [[1],[0]] -> rows */
  build(&t, 13, "GatherND", 2,
        (tin[]){IN(INT32, 2, D(2, 2), I32(0, 1, 2, 3)), IN(INT64, 2, D(2, 2), I64(0, 0, 1, 1))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT32, 1, D(2), I32(0, 3), 0, 0);
  op_test_release(&t);
  build(&t, 13, "GatherND", 2,
        (tin[]){IN(FLOAT, 2, D(2, 2), F32(0, 1, 2, 3)), IN(INT64, 2, D(2, 1), I64(1, -2))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), F32(2, 3, 0, 1), 0, 0);
  op_test_release(&t);
  /* batch_dims 1: data [[[0,1],[2,3]],[[4,5],[6,7]]], indices [[1],[0]] -> [[2,3],[4,5]] */
  int n = build(&t, 13, "GatherND", 2,
                (tin[]){IN(FLOAT, 3, D(2, 2, 2), F32(0, 1, 2, 3, 4, 5, 6, 7)),
                        IN(INT64, 2, D(2, 1), I64(1, 0))},
                1);
  op_test_attr_int(&t, n, "batch_dims", 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), F32(2, 3, 4, 5), 0, 0);
  op_test_release(&t);
  build(&t, 13, "GatherND", 2,
        (tin[]){IN(FLOAT, 2, D(2, 2), F32(0, 1, 2, 3)), IN(INT64, 2, D(1, 2), I64(0, 2))}, 1);
  expect_error(&t, ONNXI_ERR_RUNTIME, "index tuple 0 is out of range");
  build(&t, 13, "GatherND", 2,
        (tin[]){IN(FLOAT, 2, D(2, 2), F32(0, 1, 2, 3)), IN(INT64, 2, D(1, 3), I64(0, 0, 0))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "do not fit data");
}

static void test_one_hot(void **state) {
  (void)state;
  op_test t;
  /* indices [0, -1, 2, 7] with depth 3: -1 is the last class, 7 is out of range (all off) */
  build(&t, 11, "OneHot", 3,
        (tin[]){IN(INT64, 1, D(4), I64(0, -1, 2, 7)), CONST(FLOAT, 0, NONE, F32(3)),
                IN(FLOAT, 1, D(2), F32(-1, 5))},
        1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(4, 3), F32(5, -1, -1, -1, -1, 5, -1, -1, 5, -1, -1, -1), 0, 0);
  op_test_release(&t);
  /* axis 0, float indices truncate, int32 values */
  int n = build(&t, 11, "OneHot", 3,
                (tin[]){IN(FLOAT, 1, D(2), F32(1.7f, 0)), IN(INT64, 1, D(1), I64(2)),
                        IN(INT32, 1, D(2), I32(0, 1))},
                1);
  op_test_attr_int(&t, n, "axis", 0);
  run_ok(&t, 1);
  op_test_expect(&t, 0, INT32, 2, D(2, 2), I32(0, 1, 1, 0), 0, 0);
  op_test_release(&t);
  build(&t, 11, "OneHot", 3,
        (tin[]){IN(INT64, 1, D(1), I64(0)), CONST(INT64, 0, NONE, I64(0)),
                IN(FLOAT, 1, D(2), F32(0, 1))},
        1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "input 'depth' is 0");
}

/* --- Compress (numpy np.compress) --- */

static void test_compress(void **state) {
  (void)state;
  op_test t;
  const float *x = F32(1, 2, 3, 4, 5, 6);
  int n = build(&t, 11, "Compress", 2,
                (tin[]){IN(FLOAT, 2, D(3, 2), x), CONST(BOOL, 1, D(3), U8(0, 1, 1))}, 1);
  op_test_attr_int(&t, n, "axis", 0);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(2, 2), F32(3, 4, 5, 6), 0, 0);
  op_test_release(&t);
  /* axis -1 with a short condition (a graph input, known when planning) */
  n = build(&t, 11, "Compress", 2,
            (tin[]){IN(FLOAT, 2, D(3, 2), x), IN(BOOL, 1, D(1), U8(1))}, 1);
  op_test_attr_int(&t, n, "axis", -1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 2, D(3, 1), F32(1, 3, 5), 0, 0);
  op_test_release(&t);
  /* no axis: flattened */
  build(&t, 11, "Compress", 2,
        (tin[]){IN(FLOAT, 2, D(3, 2), x), CONST(BOOL, 1, D(5), U8(1, 0, 0, 1, 1))}, 1);
  run_ok(&t, 1);
  op_test_expect(&t, 0, FLOAT, 1, D(3), F32(1, 4, 5), 0, 0);
  op_test_release(&t);
  build(&t, 11, "Compress", 2,
        (tin[]){IN(FLOAT, 1, D(2), x), CONST(BOOL, 1, D(3), U8(1, 0, 1))}, 1);
  expect_error(&t, ONNXI_ERR_INVALID_MODEL, "has 3 entries for 2");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_compress),
      cmocka_unit_test(test_gather_nd),
      cmocka_unit_test(test_one_hot),
      cmocka_unit_test(test_trilu),
      cmocka_unit_test(test_gather_elements),
      cmocka_unit_test(test_scatter_elements),
      cmocka_unit_test(test_transpose_small),
      cmocka_unit_test(test_transpose_dtypes),
      cmocka_unit_test(test_transpose_threads),
      cmocka_unit_test(test_transpose_nhwc),
      cmocka_unit_test(test_transpose_errors),
      cmocka_unit_test(test_concat),
      cmocka_unit_test(test_concat_nhwc),
      cmocka_unit_test(test_concat_errors),
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_split_errors),
      cmocka_unit_test(test_slice),
      cmocka_unit_test(test_slice_nhwc),
      cmocka_unit_test(test_slice_errors),
      cmocka_unit_test(test_gather),
      cmocka_unit_test(test_gather_errors),
      cmocka_unit_test(test_pad),
      cmocka_unit_test(test_pad_nhwc),
      cmocka_unit_test(test_pad_big),
      cmocka_unit_test(test_pad_errors),
      cmocka_unit_test(test_depth_to_space),
      cmocka_unit_test(test_space_to_depth),
      cmocka_unit_test(test_scatter_nd),
      cmocka_unit_test(test_scatter_nd_errors),
      cmocka_unit_test(test_io_counts),
  };
  return cmocka_run_group_tests(tests, setup_iota, NULL);
}
