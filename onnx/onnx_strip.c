/* Zero-copy weights for files read whole into memory.
 *
 * protobuf-c copies every bytes field out of its input, so loading a file
 * meant two buffers of weights: the file's bytes and the arena copy. On our
 * machines fresh memory costs more than the copy itself (first-touch page
 * faults, ~0.4 ms per MB): for ResNet-50 that was half of parse time.
 *
 * Instead, before unpacking, the main graph's large initializer payloads
 * (TensorProto.raw_data) are cut out of a compact copy of the message (only
 * the ModelProto.graph and GraphProto.initializer lengths are re-encoded),
 * slid down within the file buffer to 64-byte alignment (the bytes around
 * them are dead once the compact copy exists), and the loader adopts the
 * file buffer as their storage. Anything unexpected (several graph fields,
 * a malformed prefix) falls back to unpacking the file as it is: protobuf-c
 * remains the judge of validity, and both paths give the same model. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

enum {
  STRIP_MODEL_GRAPH = 7,       /* ModelProto.graph */
  STRIP_GRAPH_INITIALIZER = 5, /* GraphProto.initializer */
  STRIP_TENSOR_RAW_DATA = 9,   /* TensorProto.raw_data */
  STRIP_VARINT_MAX = 10,
  STRIP_ALIGN = 64
};

typedef struct strip_field {
  uint64_t num;
  int wire;
  size_t start, tag_end, body, end; /* tag, after it, payload and end offsets */
} strip_field;

typedef struct strip_out {
  const unsigned char *in; /* the whole file */
  unsigned char *buf;
  size_t len;
  onnx_stripped *res;
} strip_out;

/* One field of the message ending at `end`; false on malformed input. */
static bool strip_field_next(const unsigned char *in, size_t end, size_t *pos, strip_field *f) {
  uint64_t tag, v;
  f->start = *pos;
  if (!onnx_pb_varint(in, end, pos, &tag)) return false;
  f->tag_end = *pos;
  f->num = tag >> 3;
  f->wire = (int)(tag & 7);
  f->body = *pos;
  switch (f->wire) {
  case PROTOBUF_C_WIRE_TYPE_VARINT:
    if (!onnx_pb_varint(in, end, pos, &v)) return false;
    break;
  case PROTOBUF_C_WIRE_TYPE_64BIT: v = 8; goto skip;
  case PROTOBUF_C_WIRE_TYPE_32BIT: v = 4; goto skip;
  case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
    if (!onnx_pb_varint(in, end, pos, &v)) return false;
    f->body = *pos;
  skip:
    if (v > end - *pos) return false;
    *pos += (size_t)v;
    break;
  default: return false;
  }
  f->end = *pos;
  return true;
}

static void strip_copy(strip_out *o, size_t from, size_t to) {
  memcpy(o->buf + o->len, o->in + from, to - from);
  o->len += to - from;
}

static size_t strip_varint_put(unsigned char *p, uint64_t v) {
  size_t n = 0;
  do {
    p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return n;
}

/* Starts a length-delimited field whose body is written next: copies its
 * tag and leaves room for the length; returns where the body starts. */
static size_t strip_nested_begin(strip_out *o, const strip_field *f) {
  strip_copy(o, f->start, f->tag_end);
  o->len += STRIP_VARINT_MAX;
  return o->len;
}

/* Writes the body's length in front of it and closes the gap left. */
static void strip_nested_end(strip_out *o, size_t body) {
  size_t n = o->len - body;
  unsigned char tmp[STRIP_VARINT_MAX];
  size_t k = strip_varint_put(tmp, n);
  size_t at = body - STRIP_VARINT_MAX;
  memcpy(o->buf + at, tmp, k);
  memmove(o->buf + at + k, o->buf + body, n);
  o->len = at + k + n;
}

static bool strip_payload_add(strip_out *o, size_t init, const strip_field *f) {
  onnx_stripped *r = o->res;
  if (r->n == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 64;
    onnx_payload *p = realloc(r->p, cap * sizeof *p);
    if (!p) return false;
    r->p = p;
    r->cap = cap;
  }
  r->p[r->n++] = (onnx_payload){init, f->body, f->end - f->body, NULL};
  return true;
}

/* A TensorProto: its last raw_data field (the one protobuf keeps) is cut
 * out when large; every other field is copied. */
static bool strip_tensor(strip_out *o, size_t init, size_t from, size_t to) {
  strip_field f, last = {0};
  size_t pos = from;
  bool found = false;
  while (pos < to) {
    if (!strip_field_next(o->in, to, &pos, &f)) return false;
    if (f.num == STRIP_TENSOR_RAW_DATA && f.wire == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
      last = f;
      found = true;
    }
  }
  if (!found || last.end - last.body < ONNX_PB_ARENA_MIN) {
    strip_copy(o, from, to);
    return true;
  }
  if (!strip_payload_add(o, init, &last)) return false;
  strip_copy(o, from, last.start);
  strip_copy(o, last.end, to);
  return true;
}

static bool strip_graph(strip_out *o, size_t from, size_t to) {
  strip_field f;
  size_t pos = from, init = 0;
  while (pos < to) {
    if (!strip_field_next(o->in, to, &pos, &f)) return false;
    if (f.num != STRIP_GRAPH_INITIALIZER || f.wire != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
      strip_copy(o, f.start, f.end);
      continue;
    }
    size_t body = strip_nested_begin(o, &f);
    if (!strip_tensor(o, init++, f.body, f.end)) return false;
    strip_nested_end(o, body);
  }
  return true;
}

static bool strip_model(strip_out *o, size_t size) {
  strip_field f;
  size_t pos = 0;
  int graphs = 0;
  while (pos < size) {
    if (!strip_field_next(o->in, size, &pos, &f)) return false;
    if (f.num != STRIP_MODEL_GRAPH || f.wire != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
      strip_copy(o, f.start, f.end);
      continue;
    }
    if (++graphs > 1) return false; /* protobuf would merge them: not worth following */
    size_t body = strip_nested_begin(o, &f);
    if (!strip_graph(o, f.body, f.end)) return false;
    strip_nested_end(o, body);
  }
  return true;
}

/* Slides the payloads down to aligned offsets, in file order (each moves
 * towards the start over dead bytes, so it never overwrites a payload). One
 * that cannot move stays where it is, unaligned: the loader copies it. */
static void strip_compact(unsigned char *buf, onnx_stripped *r) {
  size_t cursor = 0, mis = (uintptr_t)buf & (STRIP_ALIGN - 1);
  for (size_t i = 0; i < r->n; i++) {
    onnx_payload *p = &r->p[i];
    /* aligned in memory, not just in the buffer */
    size_t dst = ((cursor + mis + STRIP_ALIGN - 1) & ~(size_t)(STRIP_ALIGN - 1)) - mis;
    if (dst <= p->off) {
      memmove(buf + dst, buf + p->off, p->len);
      p->data = buf + dst;
      cursor = dst + p->len;
    } else {
      p->data = buf + p->off;
      cursor = p->off + p->len;
    }
  }
}

bool onnx_strip_payloads(unsigned char *buf, size_t size, onnx_stripped *out) {
  memset(out, 0, sizeof *out);
  /* the copy is never longer than the file, plus room for the lengths of
   * the two nested messages being written */
  strip_out o = {buf, malloc(size + 2 * STRIP_VARINT_MAX + 1), 0, out};
  if (!o.buf || !strip_model(&o, size) || out->n == 0) {
    free(o.buf);
    onnx_stripped_free(out);
    return false;
  }
  out->msg = o.buf;
  out->len = o.len;
  strip_compact(buf, out);
  return true;
}

void onnx_stripped_free(onnx_stripped *s) {
  free(s->msg);
  free(s->p);
  memset(s, 0, sizeof *s);
}
