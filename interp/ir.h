/* onnxi's graph IR: flat arrays of values and nodes referenced by index.
 *
 * Shapes are always ONNX's logical shapes (NCHW for images); a value's
 * `layout` says how its memory is arranged, so shape inference stays in ONNX
 * semantics while the executor keeps activations NHWC.
 *
 * Everything a graph points to (names, attributes, constant data) lives in the
 * model's arena; only the growable arrays and use lists are heap-allocated. */
#ifndef ONNXI_IR_H
#define ONNXI_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "err.h"
#include "onnxi.h"

#define IR_MAX_RANK ONNXI_MAX_RANK
#define IR_NONE (-1) /* an omitted optional input, no producer, ... */

typedef enum ir_op {
  IR_OP_UNKNOWN = 0,
#define OP(e, n, k, f, s) IR_OP_##e,
#include "op_list.inc"
#undef OP
  IR_OP_COUNT
} ir_op;

typedef struct ir_string {
  size_t len;
  char *data; /* NUL-terminated for convenience; may contain NULs */
} ir_string;

/* value >= 0: known; value < 0: unknown, sym >= 0 names it (graph->syms). */
typedef struct ir_dim {
  int64_t value;
  int32_t sym;
} ir_dim;

typedef struct ir_shape {
  int32_t rank; /* -1: rank unknown */
  ir_dim dims[IR_MAX_RANK];
} ir_shape;

/* A constant tensor (initializer, Constant attribute). STRING data is an
 * ir_string array; every other dtype is packed little-endian elements. */
typedef struct ir_tensor {
  int32_t dtype;
  int32_t rank;
  int64_t dims[IR_MAX_RANK];
  int64_t count;
  size_t nbytes;
  void *data;
} ir_tensor;

typedef enum ir_attr_type { /* AttributeProto.AttributeType numbers */
  IR_ATTR_UNDEFINED = 0,
  IR_ATTR_FLOAT = 1,
  IR_ATTR_INT = 2,
  IR_ATTR_STRING = 3,
  IR_ATTR_TENSOR = 4,
  IR_ATTR_GRAPH = 5,
  IR_ATTR_FLOATS = 6,
  IR_ATTR_INTS = 7,
  IR_ATTR_STRINGS = 8,
  IR_ATTR_TENSORS = 9,
  IR_ATTR_GRAPHS = 10,
  IR_ATTR_SPARSE_TENSOR = 11,
  IR_ATTR_SPARSE_TENSORS = 12,
  IR_ATTR_TYPE_PROTO = 13,
  IR_ATTR_TYPE_PROTOS = 14
} ir_attr_type;

struct ir_graph;

typedef struct ir_attr {
  const char *name;
  ir_attr_type type;
  int64_t n; /* element count of list types (1 for scalars) */
  float f;
  int64_t i;
  ir_string s;
  float *floats;
  int64_t *ints;
  ir_string *strings;
  ir_tensor *tensors;      /* TENSOR (n = 1) and TENSORS */
  struct ir_graph **graphs; /* GRAPH (n = 1) and GRAPHS */
  /* SPARSE_TENSOR(S), TYPE_PROTO(S): kept as type and count only; no
   * supported op reads them. */
} ir_attr;

enum {
  IR_NODE_DEAD = 1u << 0 /* removed by a pass; ir_graph_compact drops it */
};

typedef struct ir_node {
  const char *name;    /* never NULL: unnamed nodes get "<op_type>_<index>" */
  const char *op_type; /* as written in the file */
  const char *domain;  /* "" for the default ONNX domain */
  ir_op op;
  uint32_t flags;
  int32_t n_inputs, n_outputs, n_attrs;
  int32_t *inputs; /* value ids; IR_NONE for an omitted optional input */
  int32_t *outputs;
  ir_attr *attrs;
} ir_node;

enum {
  IR_VALUE_INPUT = 1u << 0,  /* graph input fed by the caller */
  IR_VALUE_OUTPUT = 1u << 1, /* graph output */
  IR_VALUE_CONST = 1u << 2   /* data known at load time (initializer, folded) */
};

typedef enum ir_layout {
  IR_LAYOUT_PLAIN = 0, /* ONNX's row-major order of the logical shape */
  IR_LAYOUT_NHWC = 1   /* rank-4 logical NCHW stored as N,H,W,C */
} ir_layout;

typedef struct ir_value {
  const char *name; /* never NULL: unnamed values get generated names */
  int32_t dtype;    /* onnxi_dtype; UNDEFINED until known */
  uint32_t flags;
  ir_shape shape;
  ir_layout layout;
  int32_t producer; /* node id, IR_NONE for inputs and constants */
  void *data;       /* IR_VALUE_CONST: tensor contents in the model arena */
  size_t nbytes;
} ir_value;

typedef struct ir_graph {
  arena *arena; /* owned by the model */
  const char *name;
  ir_value *values;
  int32_t n_values, cap_values;
  ir_node *nodes; /* in topological order once ir_graph_sort succeeded */
  int32_t n_nodes, cap_nodes;
  int32_t *inputs; /* graph inputs fed by the caller (initializers excluded) */
  int32_t n_inputs;
  int32_t *outputs;
  int32_t n_outputs;
  const char **syms; /* symbolic dimension names */
  int32_t n_syms, cap_syms;
  int32_t n_initializers;
  size_t initializer_bytes;
  /* name -> value id hash (open addressing, ids + 1, 0 = empty) */
  int32_t *index;
  int32_t index_cap;
  /* consumer lists, rebuilt by ir_graph_link: uses[use_start[v] .. use_start[v+1]) */
  int32_t *use_start;
  int32_t *uses;
} ir_graph;

typedef struct ir_opset {
  const char *domain;
  int64_t version;
} ir_opset;

typedef struct ir_kv {
  const char *key;
  const char *value;
} ir_kv;

typedef struct ir_model {
  arena arena;
  const char *path; /* file name used in messages */
  const char *dir;  /* directory external data is resolved against */
  int64_t ir_version;
  int64_t model_version;
  const char *producer_name, *producer_version, *domain, *doc;
  int64_t opset; /* default-domain opset version */
  ir_opset *opsets;
  int32_t n_opsets;
  ir_kv *metadata;
  int32_t n_metadata;
  ir_graph graph;
} ir_model;

/* --- op kinds and dtypes --- */
ir_op ir_op_from_name(const char *op_type); /* IR_OP_UNKNOWN if not listed */
const char *ir_op_name(ir_op op);
/* Version of the op's definition in effect at opset 7 (0: newer than 7). */
int ir_op_since7(ir_op op);
size_t ir_dtype_size(int32_t dtype); /* 0 for STRING/UNDEFINED/unknown */
bool ir_dtype_valid(int32_t dtype);  /* a dtype onnxi can hold */
const char *ir_attr_type_name(ir_attr_type t);

/* --- shapes --- */
/* Product of dims into *count; error on unknown dims or int64 overflow. */
bool ir_dims_count(const int64_t *dims, int rank, int64_t *count);
bool ir_shape_known(const ir_shape *s);

/* --- graph construction --- */
void ir_graph_init(ir_graph *g, arena *a);
void ir_graph_release(ir_graph *g); /* frees arrays and nested subgraphs' arrays */
/* Adds a value; name NULL or "" generates a stable name "_v<id>". Fails on a
 * duplicate name. */
onnxi_status ir_graph_value_add(ir_graph *g, const char *name, int32_t *id, onnxi_error *err);
int32_t ir_graph_value_find(const ir_graph *g, const char *name); /* IR_NONE if absent */
/* Appends a node with room for its inputs, outputs and attributes (zeroed). */
onnxi_status ir_graph_node_add(ir_graph *g, ir_op op, const char *op_type, int32_t n_inputs,
                               int32_t n_outputs, int32_t n_attrs, int32_t *id,
                               onnxi_error *err);
int32_t ir_graph_sym_intern(ir_graph *g, const char *name); /* -1 on OOM */

/* --- graph structure --- */
/* Reorders nodes topologically and sets producers; errors on a cycle, on a
 * value produced twice, or on an input that nothing produces. */
onnxi_status ir_graph_sort(ir_graph *g, onnxi_error *err);
/* Rebuilds consumer lists (after sort or compaction). */
onnxi_status ir_graph_link(ir_graph *g, onnxi_error *err);
int32_t ir_value_use_count(const ir_graph *g, int32_t v);
const int32_t *ir_value_uses(const ir_graph *g, int32_t v); /* node ids, may repeat */
/* Drops dead nodes (keeping order) and relinks. Values are kept (ids stable). */
onnxi_status ir_graph_compact(ir_graph *g, onnxi_error *err);

const ir_attr *ir_node_attr(const ir_node *n, const char *name);

/* --- model --- */
void ir_model_release(ir_model *m);

#endif
