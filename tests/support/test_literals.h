/* Shorthands shared by the op tests: typed array literals, dtype names and
 * a node-input spec, so each tests/test_ops_*.c states only its numbers.
 *
 *   op_test_input(&t, "X", FLOAT, 2, D(2, 3), F32(1, 2, 3, 4, 5, 6));
 *   const ir_string s[2] = {S("a"), S("bc")};
 *   tin ins[] = {IN(FLOAT, 1, D(3), x), CONST(INT64, 1, D(1), I64(0)), OMIT};
 */
#ifndef ONNXI_TEST_LITERALS_H
#define ONNXI_TEST_LITERALS_H

#include <stdbool.h>
#include <stdint.h>

#include "ir.h"
#include "onnxi.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define F32(...) ((const float[]){__VA_ARGS__})
#define F64(...) ((const double[]){__VA_ARGS__})
#define I8(...) ((const int8_t[]){__VA_ARGS__})
#define I16(...) ((const int16_t[]){__VA_ARGS__})
#define I32(...) ((const int32_t[]){__VA_ARGS__})
#define I64(...) ((const int64_t[]){__VA_ARGS__})
#define U8(...) ((const uint8_t[]){__VA_ARGS__})
#define U16(...) ((const uint16_t[]){__VA_ARGS__})
#define U32(...) ((const uint32_t[]){__VA_ARGS__})
#define U64(...) ((const uint64_t[]){__VA_ARGS__})
#define BOOLS(...) ((const bool[]){__VA_ARGS__})
#define STR(...) ((const ir_string[]){__VA_ARGS__})
/* One string element from a literal. */
#define S(lit) ((ir_string){sizeof(lit) - 1, (char *)(lit)})
/* dims of a scalar (rank 0) */
#define NONE ((const int64_t *)NULL)

enum {
  FLOAT = ONNXI_DTYPE_FLOAT,
  DOUBLE = ONNXI_DTYPE_DOUBLE,
  FLOAT16 = ONNXI_DTYPE_FLOAT16,
  BFLOAT16 = ONNXI_DTYPE_BFLOAT16,
  INT8 = ONNXI_DTYPE_INT8,
  INT16 = ONNXI_DTYPE_INT16,
  INT32 = ONNXI_DTYPE_INT32,
  INT64 = ONNXI_DTYPE_INT64,
  UINT8 = ONNXI_DTYPE_UINT8,
  UINT16 = ONNXI_DTYPE_UINT16,
  UINT32 = ONNXI_DTYPE_UINT32,
  UINT64 = ONNXI_DTYPE_UINT64,
  BOOL = ONNXI_DTYPE_BOOL,
  STRING = ONNXI_DTYPE_STRING
};

/* A node input: dtype 0 = omitted; is_const = initializer, else graph input. */
typedef struct tin {
  int32_t dtype;
  int rank;
  const int64_t *dims;
  const void *data;
  bool is_const;
} tin;

#define IN(dt, r, d, v) ((tin){dt, r, d, v, false})
#define CONST(dt, r, d, v) ((tin){dt, r, d, v, true})
#define OMIT ((tin){0, 0, NULL, NULL, false})

#endif
