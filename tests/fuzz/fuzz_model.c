/* libFuzzer target (b): structured mutations of small valid models, then
 * load + plan + one run.
 *
 * Input: a 2-byte little-endian length S, S bytes of mutation script, then a
 * serialized ModelProto (the seeds are valid models with S = 0; see
 * tools/fuzz.sh). The model is unpacked with protobuf-c, each script op
 * edits one field (attribute values and types, dims of initializers and
 * graph inputs, dtypes, initializer sizes, node wiring), and the result is
 * packed again, so mutations reach the checks behind the parser instead of
 * dying in it. The script bytes also fill the graph inputs. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "onnx.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed);

typedef struct script {
  const uint8_t *p, *end;
} script;

static uint8_t script_u8(script *s) { return s->p < s->end ? *s->p++ : 0; }

/* Index below n (n > 0). */
static size_t script_pick(script *s, size_t n) { return script_u8(s) % n; }

/* Mostly values near the edges checks care about, sometimes 8 raw bytes. */
static int64_t script_i64(script *s) {
  static const int64_t edge[] = {0, 1, -1, 2, 3, -2, 4, 7, 8, 16, 64, 255, 256, 1000, 65535,
                                 INT32_MAX, INT32_MIN, (int64_t)1 << 31, (int64_t)1 << 32,
                                 (int64_t)1 << 40, INT64_MAX, INT64_MIN, INT64_MAX / 2, -1000};
  uint8_t sel = script_u8(s);
  if (sel < 200) return edge[sel % (sizeof edge / sizeof edge[0])];
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | script_u8(s);
  return (int64_t)v;
}

static float script_f32(script *s) {
  static const float edge[] = {0.0f, 1.0f, -1.0f, 0.5f, 2.0f, 1e-30f, 1e30f, -0.0f, 3.0f, 1e9f};
  uint8_t sel = script_u8(s);
  if (sel < 240) return edge[sel % (sizeof edge / sizeof edge[0])];
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v = v << 8 | script_u8(s);
  float f;
  memcpy(&f, &v, sizeof f);
  return f;
}

static Onnx__AttributeProto *mut_attr(script *s, Onnx__GraphProto *g) {
  if (!g->n_node) return NULL;
  Onnx__NodeProto *n = g->node[script_pick(s, g->n_node)];
  return n->n_attribute ? n->attribute[script_pick(s, n->n_attribute)] : NULL;
}

static Onnx__TensorShapeProto *mut_input_shape(script *s, Onnx__GraphProto *g) {
  if (!g->n_input) return NULL;
  Onnx__ValueInfoProto *vi = g->input[script_pick(s, g->n_input)];
  Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) return NULL;
  return tp->tensor_type->shape;
}

/* The slot of a node input or output name (for swaps that keep every
 * pointer owned exactly once). */
static char **mut_name_slot(script *s, Onnx__GraphProto *g) {
  if (!g->n_node) return NULL;
  Onnx__NodeProto *n = g->node[script_pick(s, g->n_node)];
  bool out = script_u8(s) & 1;
  size_t count = out ? n->n_output : n->n_input;
  if (!count) return NULL;
  return out ? &n->output[script_pick(s, count)] : &n->input[script_pick(s, count)];
}

static void mut_apply(script *s, Onnx__GraphProto *g) {
  Onnx__AttributeProto *a;
  Onnx__TensorShapeProto *shape;
  Onnx__TensorProto *t = g->n_initializer ? g->initializer[script_pick(s, g->n_initializer)] : NULL;
  switch (script_u8(s) % 12) {
  case 0: /* attribute int */
    if ((a = mut_attr(s, g))) a->i = script_i64(s), a->has_i = 1;
    break;
  case 1: /* attribute ints element */
    if ((a = mut_attr(s, g)) && a->n_ints) a->ints[script_pick(s, a->n_ints)] = script_i64(s);
    break;
  case 2: /* attribute float / floats element */
    if ((a = mut_attr(s, g))) {
      a->f = script_f32(s), a->has_f = 1;
      if (a->n_floats) a->floats[script_pick(s, a->n_floats)] = script_f32(s);
    }
    break;
  case 3: /* attribute type: the payload stays, the declared type lies */
    if ((a = mut_attr(s, g))) a->type = (Onnx__AttributeProto__AttributeType)(script_u8(s) % 15);
    break;
  case 4: /* fewer ints in a list */
    if ((a = mut_attr(s, g)) && a->n_ints) a->n_ints = script_pick(s, a->n_ints);
    break;
  case 5: /* initializer dim */
    if (t && t->n_dims) t->dims[script_pick(s, t->n_dims)] = script_i64(s);
    break;
  case 6: /* initializer dtype */
    if (t) t->data_type = (int32_t)(script_u8(s) % 18);
    break;
  case 7: /* initializer raw_data shorter */
    if (t && t->has_raw_data && t->raw_data.len) t->raw_data.len = script_pick(s, t->raw_data.len);
    break;
  case 8: /* graph input dim */
    if ((shape = mut_input_shape(s, g)) && shape->n_dim) {
      Onnx__TensorShapeProto__Dimension *d = shape->dim[script_pick(s, shape->n_dim)];
      if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
        d->dim_value = script_i64(s);
    }
    break;
  case 9: /* graph input dtype */
    if (g->n_input) {
      Onnx__TypeProto *tp = g->input[script_pick(s, g->n_input)]->type;
      if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
        tp->tensor_type->elem_type = (int32_t)(script_u8(s) % 18);
    }
    break;
  case 10: { /* rewire: swap two node input/output names */
    char **x = mut_name_slot(s, g), **y = mut_name_slot(s, g);
    if (x && y) {
      char *tmp = *x;
      *x = *y, *y = tmp;
    }
    break;
  }
  case 11: /* drop trailing node inputs (the dropped names are freed here) */
    if (g->n_node) {
      Onnx__NodeProto *n = g->node[script_pick(s, g->n_node)];
      if (n->n_input) {
        size_t keep = script_pick(s, n->n_input);
        for (size_t k = keep; k < n->n_input; k++) free(n->input[k]);
        n->n_input = keep;
      }
    }
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  size_t slen = (size_t)data[0] | (size_t)data[1] << 8;
  if (slen > size - 2) return 0;
  const uint8_t *model = data + 2 + slen;
  size_t msize = size - 2 - slen;
  Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, msize, model);
  if (!mp) return 0;
  if (mp->graph) {
    script s = {data + 2, data + 2 + slen};
    while (s.p < s.end) mut_apply(&s, mp->graph);
  }
  size_t psize = onnx__model_proto__get_packed_size(mp);
  uint8_t *packed = malloc(psize ? psize : 1);
  if (packed) onnx__model_proto__pack(mp, packed);
  onnx__model_proto__free_unpacked(mp, NULL);
  if (!packed) return 0;
  onnxi_model *m = NULL;
  onnxi_load_options lo = {.max_weight_bytes = FUZZ_MAX_MEMORY};
  if (onnxi_model_load_buffer(packed, psize, "fuzz.onnx", &lo, &m, NULL) == ONNXI_OK) {
    fuzz_model_run(m, data + 2, slen);
    onnxi_model_free(m);
  }
  free(packed);
  return 0;
}

/* Four times in five only the script changes: mutating the model bytes
 * mostly breaks the protobuf, which fuzz_load already covers. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed) {
  size_t slen = size >= 2 ? ((size_t)data[0] | (size_t)data[1] << 8) : 0;
  if (size < 2 || slen > size - 2 || seed % 5 == 0) return LLVMFuzzerMutate(data, size, max_size);
  size_t msize = size - 2 - slen;
  if (max_size < 2 + msize + 1) return LLVMFuzzerMutate(data, size, max_size);
  size_t cap = max_size - 2 - msize;
  if (cap > 4096) cap = 4096;
  uint8_t *model = malloc(msize + 1), *scr = malloc(cap);
  if (!model || !scr) {
    free(model);
    free(scr);
    return size;
  }
  memcpy(model, data + 2 + slen, msize);
  memcpy(scr, data + 2, slen < cap ? slen : cap);
  size_t n = LLVMFuzzerMutate(scr, slen < cap ? slen : cap, cap);
  data[0] = (uint8_t)(n & 0xff);
  data[1] = (uint8_t)(n >> 8);
  memcpy(data + 2, scr, n);
  memcpy(data + 2 + n, model, msize);
  free(model);
  free(scr);
  return 2 + n + msize;
}
