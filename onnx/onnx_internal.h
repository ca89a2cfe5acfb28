/* Shared by the loader's files (onnx_load.c, onnx_graph.c, onnx_attr.c,
 * onnx_tensor.c, onnx_external.c); not part of any other module's contract.
 * Needs the generated "onnx.pb-c.h", so it must not leak into onnx_load.h. */
#ifndef ONNXI_ONNX_INTERNAL_H
#define ONNXI_ONNX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir.h"
#include "onnx.pb-c.h"

/* Limits on untrusted files: well above any real export, low enough that
 * counts fit int32 and a hostile file cannot make us allocate without bound. */
#define ONNX_NAME_MAX 4096          /* bytes in a value, node, op or attribute name */
#define ONNX_NODES_MAX 1000000      /* nodes in the model, subgraphs included */
#define ONNX_SUBGRAPH_DEPTH_MAX 16  /* nesting of graph attributes */
#define ONNX_LIST_MAX (1 << 24)     /* elements of one attribute list / graph field */
#define ONNX_ARITY_MAX (1 << 16)    /* inputs or outputs of one node */
#define ONNX_ATTRS_MAX 1024         /* attributes of one node */

/* State of one import. */
typedef struct onnx_ctx {
  ir_model *m;
  const char *dir;  /* model directory for external data; NULL refuses it */
  char *real_dir;   /* realpath(dir), resolved on first use (heap) */
  int64_t n_nodes;  /* nodes converted so far, all graphs */
  bool pb_arena;    /* message unpacked with onnx_pb_allocator: may adopt */
  /* the file buffer holding stripped payloads: 64-byte aligned data inside
   * it is adopted as is (then adopted_bytes > 0 and the model must own it) */
  const unsigned char *file_lo, *file_hi;
  size_t adopted_bytes;
} onnx_ctx;

/* Enclosing graphs of a subgraph, innermost first: names a subgraph uses
 * without defining them must resolve here. */
typedef struct onnx_scope {
  const ir_graph *g;
  const struct onnx_scope *outer;
} onnx_scope;

/* Adds context to err and yields st (err_prefix itself returns OK when err
 * is NULL, so its result must not be returned). Names in prefixes are cut
 * at 200 bytes ('%.200s') so the message proper still fits. */
#define ONNX_PREFIXED(st, err, ...) err_prefix((err), (st), __VA_ARGS__)

/* --- onnx_pbuf.c --- */
/* protobuf-c allocations from this size up are made in the model arena. */
#define ONNX_PB_ARENA_MIN (16 * 1024)

typedef struct onnx_pb_allocator {
  ProtobufCAllocator base;
  arena *arena;
  size_t failed_bytes; /* an arena allocation failed (cap or memory) */
} onnx_pb_allocator;

void onnx_pb_allocator_init(onnx_pb_allocator *a, arena *ar);

/* protobuf-c unpacks recursively without a depth limit: a small file of
 * deeply nested messages would overflow the stack. This walks the wire
 * format first (skipping payloads, so it costs little) and refuses more
 * than ONNX_PB_DEPTH_MAX levels (subgraphs at the ONNX_SUBGRAPH_DEPTH_MAX
 * limit need about 3 levels each) and more than ONNX_PB_MESSAGES_MAX
 * messages (an empty message is 2 bytes of file but ~100 bytes unpacked). */
#define ONNX_PB_DEPTH_MAX 100
#define ONNX_PB_MESSAGES_MAX (1 << 24)
onnxi_status onnx_pb_depth_check(const ProtobufCMessageDescriptor *desc, const void *data,
                                 size_t size, onnxi_error *err);
/* Whether p, allocated through an onnx_pb_allocator, lives in the arena (its
 * memory then belongs to the model: 64-byte aligned, never freed alone). */
bool onnx_pb_in_arena(const void *p);

/* Reads a base-128 varint at *pos (< end); false when it runs past end or
 * past 64 bits. */
bool onnx_pb_varint(const uint8_t *data, size_t end, size_t *pos, uint64_t *out);

/* --- onnx_strip.c --- */
/* A raw_data payload cut out of the message: initializer `init` of the main
 * graph, `len` bytes now at `data` inside the file buffer (64-byte aligned
 * unless it could not move; then at its original offset `off`). */
typedef struct onnx_payload {
  size_t init, off, len;
  unsigned char *data;
} onnx_payload;

typedef struct onnx_stripped {
  unsigned char *msg; /* the ModelProto without the payloads (heap) */
  size_t len;
  onnx_payload *p; /* in file (and initializer) order */
  size_t n, cap;
} onnx_stripped;

/* Cuts the main graph's initializer payloads of ONNX_PB_ARENA_MIN bytes or
 * more out of the file's bytes in buf (which it rearranges: afterwards only
 * the payloads in it are meaningful). False when there are none, when the
 * bytes are not in the expected shape or out of memory: buf is then
 * unchanged and should be unpacked as it is. */
bool onnx_strip_payloads(unsigned char *buf, size_t size, onnx_stripped *out);
void onnx_stripped_free(onnx_stripped *s);

/* --- onnx_load.c --- */
onnxi_status onnx_name_check(const char *s, const char *what, onnxi_error *err);
/* ONNXI_ERR_LIMIT when nbytes more weights would pass max_weight_bytes. */
onnxi_status onnx_data_budget(const onnx_ctx *c, size_t nbytes, onnxi_error *err);
/* 64-byte aligned weight memory from the model arena; max_weight_bytes is
 * reported as ONNXI_ERR_LIMIT rather than as out of memory. */
onnxi_status onnx_data_alloc(onnx_ctx *c, size_t nbytes, void **out, onnxi_error *err);

/* --- onnx_tensor.c --- */
const char *onnx_dtype_name(int32_t dtype); /* also names dtypes onnxi lacks */
onnxi_status onnx_dtype_check(int32_t dtype, onnxi_error *err);
/* "[2,3]" into buf (truncated with "..." if long). */
void onnx_dims_format(char *buf, size_t size, const int64_t *dims, int rank);
/* TensorProto -> ir_tensor with data copied into the arena. Messages name the
 * field but not the tensor: callers prefix "initializer 'w'" etc. */
onnxi_status onnx_tensor_convert(onnx_ctx *c, const Onnx__TensorProto *t, ir_tensor *out,
                                 onnxi_error *err);

/* --- onnx_external.c --- */
/* Reads t's external data (t->external_data) into fresh arena memory of
 * exactly out->nbytes bytes, the size its dims and dtype call for. */
onnxi_status onnx_external_read(onnx_ctx *c, const Onnx__TensorProto *t, ir_tensor *out,
                                onnxi_error *err);

/* --- onnx_attr.c --- */
/* `scope` is the graph owning the node (for subgraph attributes). */
onnxi_status onnx_attr_convert(onnx_ctx *c, const Onnx__AttributeProto *ap, ir_attr *a,
                               int depth, const onnx_scope *scope, onnxi_error *err);

/* --- onnx_graph.c --- */
/* depth 0 is the main graph: it is sorted topologically. Subgraphs (depth
 * > 0) keep file order, which must already be topological, and may use names
 * of `outer` graphs. */
onnxi_status onnx_graph_convert(onnx_ctx *c, const Onnx__GraphProto *gp, ir_graph *g, int depth,
                                const onnx_scope *outer, onnxi_error *err);

#endif
