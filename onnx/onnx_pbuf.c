/* protobuf-c allocator for model import.
 *
 * protobuf-c copies every bytes field out of the input buffer. Placing its
 * large allocations (tensor payloads, in practice) straight in the model
 * arena lets the loader adopt them as the weights instead of copying them a
 * second time: one copy of the weights in total, and no transient double
 * footprint. Small allocations go to malloc. A tag word just before each
 * block tells free() which is which; arena blocks are released with the
 * model. */
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

enum {
  ONNX_PB_TAG_HEAP = 0x70616568,  /* "heap" */
  ONNX_PB_TAG_ARENA = 0x616e7261, /* "arna" */
  ONNX_PB_HEAP_HEADER = 16,       /* keeps malloc's 16-byte alignment */
  ONNX_PB_ARENA_HEADER = 64       /* keeps the arena's 64-byte alignment */
};

static void onnx_pb_tag_set(unsigned char *p, uint32_t tag) { memcpy(p - 4, &tag, 4); }

static uint32_t onnx_pb_tag_get(const void *p) {
  uint32_t tag;
  memcpy(&tag, (const unsigned char *)p - 4, 4);
  return tag;
}

static void *onnx_pb_alloc(void *data, size_t size) {
  onnx_pb_allocator *a = data;
  unsigned char *p;
  if (size >= ONNX_PB_ARENA_MIN && size <= SIZE_MAX - ONNX_PB_ARENA_HEADER) {
    p = arena_alloc(a->arena, size + ONNX_PB_ARENA_HEADER, 64);
    if (!p) {
      a->failed_bytes = size;
      return NULL;
    }
    p += ONNX_PB_ARENA_HEADER;
    onnx_pb_tag_set(p, ONNX_PB_TAG_ARENA);
    return p;
  }
  if (size > SIZE_MAX - ONNX_PB_HEAP_HEADER || !(p = malloc(size + ONNX_PB_HEAP_HEADER)))
    return NULL;
  p += ONNX_PB_HEAP_HEADER;
  onnx_pb_tag_set(p, ONNX_PB_TAG_HEAP);
  return p;
}

static void onnx_pb_free(void *data, void *p) {
  (void)data;
  if (p && onnx_pb_tag_get(p) == ONNX_PB_TAG_HEAP)
    free((unsigned char *)p - ONNX_PB_HEAP_HEADER);
}

void onnx_pb_allocator_init(onnx_pb_allocator *a, arena *ar) {
  a->base.alloc = onnx_pb_alloc;
  a->base.free = onnx_pb_free;
  a->base.allocator_data = a;
  a->arena = ar;
  a->failed_bytes = 0;
}

bool onnx_pb_in_arena(const void *p) {
  return p && onnx_pb_tag_get(p) == ONNX_PB_TAG_ARENA;
}

/* Wire-format reading for the depth check: bounds-checked, no allocation. */
bool onnx_pb_varint(const uint8_t *data, size_t end, size_t *pos, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *pos < end; shift += 7) {
    uint8_t b = data[(*pos)++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* Skips one field's payload or, for a sub-message, returns its descriptor
 * and extent in *sub / *sub_end. False on malformed data. */
static bool onnx_pb_field_next(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                               size_t end, size_t *pos,
                               const ProtobufCMessageDescriptor **sub, size_t *sub_end) {
  uint64_t tag, len;
  *sub = NULL;
  if (!onnx_pb_varint(data, end, pos, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
    return false;
  switch (tag & 7) {
  case PROTOBUF_C_WIRE_TYPE_VARINT: return onnx_pb_varint(data, end, pos, &len);
  case PROTOBUF_C_WIRE_TYPE_64BIT: len = 8; break;
  case PROTOBUF_C_WIRE_TYPE_32BIT: len = 4; break;
  case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED: {
    if (!onnx_pb_varint(data, end, pos, &len) || len > end - *pos) return false;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3));
    if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
      *sub = f->descriptor;
      *sub_end = *pos + (size_t)len;
      return true;
    }
    break;
  }
  default: return false; /* groups and invalid wire types: protobuf-c refuses them too */
  }
  if (len > end - *pos) return false;
  *pos += (size_t)len;
  return true;
}

onnxi_status onnx_pb_depth_check(const ProtobufCMessageDescriptor *desc, const void *data,
                                 size_t size, onnxi_error *err) {
  struct {
    const ProtobufCMessageDescriptor *desc;
    size_t end;
  } stack[ONNX_PB_DEPTH_MAX + 1];
  const uint8_t *bytes = data;
  size_t pos = 0, messages = 0;
  int depth = 0;
  stack[0].desc = desc;
  stack[0].end = size;
  while (depth > 0 || pos < size) {
    if (pos == stack[depth].end) {
      depth--;
      continue;
    }
    const ProtobufCMessageDescriptor *sub;
    size_t sub_end;
    if (!onnx_pb_field_next(stack[depth].desc, bytes, stack[depth].end, &pos, &sub, &sub_end))
      return err_set(err, ONNXI_ERR_PARSE, "not a valid ONNX ModelProto (protobuf parse failed)");
    if (!sub) continue;
    if (depth == ONNX_PB_DEPTH_MAX)
      return err_set(err, ONNXI_ERR_LIMIT, "protobuf messages are nested more than %d deep",
                     ONNX_PB_DEPTH_MAX);
    if (++messages > ONNX_PB_MESSAGES_MAX)
      return err_set(err, ONNXI_ERR_LIMIT, "more than %d protobuf messages",
                     ONNX_PB_MESSAGES_MAX);
    depth++;
    stack[depth].desc = sub;
    stack[depth].end = sub_end;
  }
  return ONNXI_OK;
}
