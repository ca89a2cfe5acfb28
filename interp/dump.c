/* onnxi's EXPLAIN: text, JSON and Graphviz DOT views of an ir_model/ir_graph.
 *
 * Each format has its own writer functions (dump_text_*, dump_json_*,
 * dump_dot_*) over shared helpers for escaping, numbers, shapes and the op
 * histogram. Everything read from the graph is bounds-checked, because the
 * dump is the tool one reaches for when a pass has broken the graph. */
#include "dump.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum dump_escape { DUMP_ESC_TEXT, DUMP_ESC_JSON, DUMP_ESC_DOT } dump_escape;

typedef struct dump_ctx {
  FILE *out;
  const ir_graph *g;
  const dump_plan *plan;
  const char *title;
  int max_values;
  bool json; /* element writers shared by text and JSON */
} dump_ctx;

typedef struct dump_op_count {
  const char *op_type, *domain; /* domain "" for the default ONNX domain */
  int64_t count;
} dump_op_count;

/* --- strings ----------------------------------------------------------- */

/* Length of the well-formed UTF-8 multi-byte sequence at s, 0 if none. */
static size_t dump_utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  uint32_t cp, min;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2, cp = c & 0x1f, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3, cp = c & 0x0f, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

static void dump_byte_escape(FILE *out, unsigned c, dump_escape mode) {
  if (mode == DUMP_ESC_JSON) fprintf(out, "\\u%04x", c);
  else if (mode == DUMP_ESC_DOT) fprintf(out, "\\\\x%02x", c); /* shows as \xHH */
  else fprintf(out, "\\x%02x", c);
}

/* Writes n bytes escaped for the mode, without surrounding quotes. Valid
 * UTF-8 passes through; control characters and invalid bytes are escaped. */
static void dump_escaped(FILE *out, const char *str, size_t n, dump_escape mode) {
  const unsigned char *s = (const unsigned char *)str;
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t len = c >= 0x80 ? dump_utf8_seq(s + i, n - i) : 0;
    if (len) {
      fwrite(s + i, 1, len, out);
      i += len;
      continue;
    }
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc((int)c, out);
    } else if (c == '\n') {
      fputs("\\n", out); /* a line break in DOT labels too */
    } else if (c == '\t' && mode != DUMP_ESC_DOT) {
      fputs("\\t", out);
    } else if (c == '\r' && mode != DUMP_ESC_DOT) {
      fputs("\\r", out);
    } else if (c < 0x20 || c >= 0x7f) {
      dump_byte_escape(out, c, mode);
    } else {
      fputc((int)c, out);
    }
    i++;
  }
}

static void dump_quoted(FILE *out, const char *s, size_t n, dump_escape mode) {
  fputc('"', out);
  if (s) dump_escaped(out, s, n, mode);
  fputc('"', out);
}

static void dump_json_str(FILE *out, const char *s) {
  if (s) dump_quoted(out, s, strlen(s), DUMP_ESC_JSON);
  else fputs("null", out);
}

static void dump_dot_str(FILE *out, const char *s) {
  if (s) dump_escaped(out, s, strlen(s), DUMP_ESC_DOT);
}

/* Names print bare in text unless they are empty or hold characters that
 * would make the node lines ambiguous (spaces, commas, parentheses, ...). */
static bool dump_name_bare(const char *s) {
  size_t n = strlen(s);
  if (n == 0) return false;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80) {
      size_t len = dump_utf8_seq((const unsigned char *)s + i, n - i);
      if (!len) return false;
      i += len;
      continue;
    }
    if (c <= 0x20 || c == 0x7f || strchr("\"\\,()='", c)) return false;
    i++;
  }
  return true;
}

static void dump_text_name(FILE *out, const char *s) {
  if (!s) s = "";
  if (dump_name_bare(s)) fputs(s, out);
  else dump_quoted(out, s, strlen(s), DUMP_ESC_TEXT);
}

/* The first line of a doc string, without its line break. */
static size_t dump_first_line(const char *s) { return s ? strcspn(s, "\r\n") : 0; }

/* --- numbers and types ------------------------------------------------- */

/* Shortest %g form that reads back to the same float (or double): at most
 * %.9g (%.17g), so the output round-trips. */
static void dump_real_format(char *buf, size_t cap, double v, bool single) {
  if (isnan(v)) {
    snprintf(buf, cap, "nan");
    return;
  }
  if (isinf(v)) {
    snprintf(buf, cap, v < 0 ? "-inf" : "inf");
    return;
  }
  int max = single ? 9 : 17;
  for (int p = 1; p <= max; p++) {
    snprintf(buf, cap, "%.*g", p, v);
    if (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v) return;
  }
}

/* JSON has no NaN or infinity: those become the strings "nan", "inf", "-inf". */
static void dump_real(const dump_ctx *c, double v, bool single) {
  char buf[40];
  dump_real_format(buf, sizeof buf, v, single);
  if (c->json && !isfinite(v)) fprintf(c->out, "\"%s\"", buf);
  else fputs(buf, c->out);
}

static float dump_half_to_float(uint16_t h) {
  unsigned exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float v;
  if (exp == 0) v = ldexpf((float)man, -24);
  else if (exp == 31) v = man ? NAN : INFINITY;
  else v = ldexpf((float)(man | 0x400), (int)exp - 25);
  return (h & 0x8000) ? -v : v;
}

static float dump_bf16_to_float(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

/* "float32", "?" while unknown, "dtype<N>" for numbers onnxi cannot hold. */
static void dump_dtype(const dump_ctx *c, int32_t dtype) {
  const char *name = ir_dtype_valid(dtype) ? onnxi_dtype_name((onnxi_dtype)dtype) : NULL;
  if (c->json) {
    if (name) fprintf(c->out, "\"%s\"", name);
    else if (dtype == ONNXI_DTYPE_UNDEFINED) fputs("null", c->out);
    else fprintf(c->out, "\"dtype%" PRId32 "\"", dtype);
  } else {
    if (name) fputs(name, c->out);
    else if (dtype == ONNXI_DTYPE_UNDEFINED) fputc('?', c->out);
    else fprintf(c->out, "dtype%" PRId32, dtype);
  }
}

static const char *dump_sym_name(const ir_graph *g, const ir_dim *d) {
  if (d->value >= 0 || d->sym < 0 || d->sym >= g->n_syms || !g->syms) return NULL;
  return g->syms[d->sym];
}

/* Text/DOT: [N,3,224,224] with '?' for unnamed unknown dims, [...] for an
 * unknown rank. */
static void dump_shape_plain(FILE *out, const ir_graph *g, const ir_shape *s, dump_escape mode) {
  if (s->rank < 0 || s->rank > IR_MAX_RANK) {
    fputs("[...]", out);
    return;
  }
  fputc('[', out);
  for (int32_t i = 0; i < s->rank; i++) {
    const char *sym = dump_sym_name(g, &s->dims[i]);
    if (i) fputc(',', out);
    if (s->dims[i].value >= 0) fprintf(out, "%" PRId64, s->dims[i].value);
    else if (!sym) fputc('?', out);
    else if (mode == DUMP_ESC_DOT) dump_dot_str(out, sym);
    else dump_text_name(out, sym);
  }
  fputc(']', out);
}

/* JSON: [ "N", 3, null ] (symbolic dims by name, unknown as null); null rank. */
static void dump_shape_json(FILE *out, const ir_graph *g, const ir_shape *s) {
  if (s->rank < 0 || s->rank > IR_MAX_RANK) {
    fputs("null", out);
    return;
  }
  fputc('[', out);
  for (int32_t i = 0; i < s->rank; i++) {
    const char *sym = dump_sym_name(g, &s->dims[i]);
    if (i) fputs(", ", out);
    if (s->dims[i].value >= 0) fprintf(out, "%" PRId64, s->dims[i].value);
    else dump_json_str(out, sym);
  }
  fputc(']', out);
}

static const ir_value *dump_value_get(const ir_graph *g, int32_t v) {
  return (v >= 0 && v < g->n_values && g->values) ? &g->values[v] : NULL;
}

/* A value reference: its name, '-' (null) when omitted, "<bad N>" when the id
 * is out of range. */
static void dump_value_ref(const dump_ctx *c, int32_t v) {
  const ir_value *val = dump_value_get(c->g, v);
  char bad[32];
  snprintf(bad, sizeof bad, "<bad %" PRId32 ">", v);
  if (c->json) {
    if (v == IR_NONE) fputs("null", c->out);
    else dump_json_str(c->out, val ? val->name : bad);
  } else {
    if (v == IR_NONE) fputc('-', c->out);
    else if (val) dump_text_name(c->out, val->name);
    else fputs(bad, c->out);
  }
}

/* {"name": .., "dtype": .., "shape": ..} or `name: float32[N,3]`. */
static void dump_value_typed(const dump_ctx *c, int32_t v) {
  const ir_value *val = dump_value_get(c->g, v);
  if (c->json) {
    fputs("{\"name\": ", c->out);
    dump_value_ref(c, v);
    if (val) {
      fputs(", \"dtype\": ", c->out);
      dump_dtype(c, val->dtype);
      fputs(", \"shape\": ", c->out);
      dump_shape_json(c->out, c->g, &val->shape);
    }
    fputc('}', c->out);
    return;
  }
  dump_value_ref(c, v);
  if (!val) return;
  fputs(": ", c->out);
  dump_dtype(c, val->dtype);
  dump_shape_plain(c->out, c->g, &val->shape, DUMP_ESC_TEXT);
}

static bool dump_value_typed_known(const ir_value *val) {
  return val && (val->shape.rank >= 0 || val->dtype != ONNXI_DTYPE_UNDEFINED);
}

/* --- attributes (shared by text and JSON through c->json) -------------- */

static bool dump_tensor_has_values(const dump_ctx *c, const ir_tensor *t) {
  if (!t->data || t->count < 0 || t->count > c->max_values) return false;
  if (t->dtype == ONNXI_DTYPE_STRING) return true;
  size_t size = ir_dtype_size(t->dtype);
  return size && t->nbytes / size >= (uint64_t)t->count;
}

static void dump_tensor_elem(const dump_ctx *c, const ir_tensor *t, int64_t i) {
  const unsigned char *p = (const unsigned char *)t->data + (size_t)i * ir_dtype_size(t->dtype);
  union {
    float f;
    double d;
    int8_t i8;
    uint8_t u8;
    int16_t i16;
    uint16_t u16;
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
  } e;
  memcpy(&e, p, ir_dtype_size(t->dtype)); /* data need not be aligned */
  FILE *out = c->out;
  switch ((onnxi_dtype)t->dtype) {
  case ONNXI_DTYPE_FLOAT: dump_real(c, e.f, true); break;
  case ONNXI_DTYPE_DOUBLE: dump_real(c, e.d, false); break;
  case ONNXI_DTYPE_FLOAT16: dump_real(c, dump_half_to_float(e.u16), true); break;
  case ONNXI_DTYPE_BFLOAT16: dump_real(c, dump_bf16_to_float(e.u16), true); break;
  case ONNXI_DTYPE_INT8: fprintf(out, "%d", e.i8); break;
  case ONNXI_DTYPE_UINT8: fprintf(out, "%u", e.u8); break;
  case ONNXI_DTYPE_INT16: fprintf(out, "%d", e.i16); break;
  case ONNXI_DTYPE_UINT16: fprintf(out, "%u", e.u16); break;
  case ONNXI_DTYPE_INT32: fprintf(out, "%" PRId32, e.i32); break;
  case ONNXI_DTYPE_UINT32: fprintf(out, "%" PRIu32, e.u32); break;
  case ONNXI_DTYPE_INT64: fprintf(out, "%" PRId64, e.i64); break;
  case ONNXI_DTYPE_UINT64: fprintf(out, "%" PRIu64, e.u64); break;
  case ONNXI_DTYPE_BOOL: fputs(e.u8 ? "true" : "false", out); break;
  case ONNXI_DTYPE_STRING: {
    const ir_string *s = (const ir_string *)t->data + i;
    dump_quoted(out, s->data, s->data ? s->len : 0, c->json ? DUMP_ESC_JSON : DUMP_ESC_TEXT);
    break;
  }
  case ONNXI_DTYPE_UNDEFINED: break;
  }
}

static void dump_tensor_values(const dump_ctx *c, const ir_tensor *t) {
  for (int64_t i = 0; i < t->count; i++) {
    if (i) fputs(", ", c->out);
    dump_tensor_elem(c, t, i);
  }
}

/* Text: float32[2,2] {1, 2, 3, 4}; JSON: {"dtype", "dims", "values"}. */
static void dump_tensor(const dump_ctx *c, const ir_tensor *t) {
  bool rank_ok = t->rank >= 0 && t->rank <= IR_MAX_RANK;
  bool values = dump_tensor_has_values(c, t);
  if (c->json) fputs("{\"dtype\": ", c->out);
  dump_dtype(c, t->dtype);
  fputs(c->json ? ", \"dims\": " : "", c->out);
  if (rank_ok) {
    fputc('[', c->out);
    for (int32_t i = 0; i < t->rank; i++)
      fprintf(c->out, "%s%" PRId64, i ? (c->json ? ", " : ",") : "", t->dims[i]);
    fputc(']', c->out);
  } else {
    fputs(c->json ? "null" : "[...]", c->out);
  }
  if (values) {
    fputs(c->json ? ", \"values\": [" : " {", c->out);
    dump_tensor_values(c, t);
    fputc(c->json ? ']' : '}', c->out);
  }
  if (c->json) fputc('}', c->out);
}

static void dump_subgraph(const dump_ctx *c, const ir_graph *sub) {
  if (c->json) {
    if (!sub) {
      fputs("null", c->out);
      return;
    }
    fputs("{\"graph\": ", c->out);
    dump_json_str(c->out, sub->name ? sub->name : "");
    fprintf(c->out, ", \"nodes\": %" PRId32 "}", sub->n_nodes);
    return;
  }
  fputs("<graph ", c->out);
  if (sub) {
    dump_text_name(c->out, sub->name);
    fprintf(c->out, ": %" PRId32 " nodes>", sub->n_nodes);
  } else {
    fputs("?>", c->out);
  }
}

static bool dump_attr_is_list(ir_attr_type t) {
  return (t >= IR_ATTR_FLOATS && t <= IR_ATTR_GRAPHS) || t == IR_ATTR_SPARSE_TENSORS ||
         t == IR_ATTR_TYPE_PROTOS;
}

/* Elements actually stored for the attribute (0 when its array is missing),
 * or -1 for types kept as a count only. */
static int64_t dump_attr_stored(const ir_attr *a) {
  const void *arr = NULL;
  switch (a->type) {
  case IR_ATTR_FLOAT: case IR_ATTR_INT: case IR_ATTR_STRING: return 1;
  case IR_ATTR_FLOATS: arr = a->floats; break;
  case IR_ATTR_INTS: arr = a->ints; break;
  case IR_ATTR_STRINGS: arr = a->strings; break;
  case IR_ATTR_TENSOR: case IR_ATTR_TENSORS: arr = a->tensors; break;
  case IR_ATTR_GRAPH: case IR_ATTR_GRAPHS: arr = a->graphs; break;
  default: return -1;
  }
  if (!arr) return 0;
  return dump_attr_is_list(a->type) ? (a->n > 0 ? a->n : 0) : 1;
}

static void dump_attr_elem(const dump_ctx *c, const ir_attr *a, int64_t k) {
  dump_escape mode = c->json ? DUMP_ESC_JSON : DUMP_ESC_TEXT;
  switch (a->type) {
  case IR_ATTR_FLOAT: dump_real(c, a->f, true); break;
  case IR_ATTR_FLOATS: dump_real(c, a->floats[k], true); break;
  case IR_ATTR_INT: fprintf(c->out, "%" PRId64, a->i); break;
  case IR_ATTR_INTS: fprintf(c->out, "%" PRId64, a->ints[k]); break;
  case IR_ATTR_STRING: dump_quoted(c->out, a->s.data, a->s.data ? a->s.len : 0, mode); break;
  case IR_ATTR_STRINGS: {
    const ir_string *s = &a->strings[k];
    dump_quoted(c->out, s->data, s->data ? s->len : 0, mode);
    break;
  }
  case IR_ATTR_TENSOR: case IR_ATTR_TENSORS: dump_tensor(c, &a->tensors[k]); break;
  case IR_ATTR_GRAPH: case IR_ATTR_GRAPHS: dump_subgraph(c, a->graphs[k]); break;
  default: break;
  }
}

/* Sparse tensors, type protos and undefined attributes are kept as a count. */
static void dump_attr_opaque(const dump_ctx *c, const ir_attr *a) {
  if (c->json) {
    if (a->type == IR_ATTR_UNDEFINED) fputs("null", c->out);
    else fprintf(c->out, "{\"count\": %" PRId64 "}", a->n);
  } else if (dump_attr_is_list(a->type)) {
    fprintf(c->out, "<%" PRId64 " %s>", a->n, ir_attr_type_name(a->type));
  } else {
    fprintf(c->out, "<%s>", ir_attr_type_name(a->type));
  }
}

static void dump_attr_value(const dump_ctx *c, const ir_attr *a) {
  int64_t n = dump_attr_stored(a);
  if (n < 0) {
    dump_attr_opaque(c, a);
  } else if (!dump_attr_is_list(a->type)) {
    if (n) dump_attr_elem(c, a, 0);
    else fputs(c->json ? "null" : "<missing>", c->out);
  } else {
    fputc('[', c->out);
    for (int64_t k = 0; k < n; k++) {
      if (k) fputs(", ", c->out);
      dump_attr_elem(c, a, k);
    }
    fputc(']', c->out);
  }
}

/* --- op histogram ------------------------------------------------------ */

static bool dump_domain_default(const char *d) {
  return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

static int dump_op_cmp_key(const dump_op_count *a, const dump_op_count *b) {
  int r = strcmp(a->op_type, b->op_type);
  return r ? r : strcmp(a->domain, b->domain);
}

static int dump_op_cmp_name(const void *pa, const void *pb) {
  return dump_op_cmp_key(pa, pb);
}

static int dump_op_cmp_count(const void *pa, const void *pb) {
  const dump_op_count *a = pa, *b = pb;
  if (a->count != b->count) return a->count > b->count ? -1 : 1;
  return dump_op_cmp_key(a, b);
}

/* Sorts one entry per live node by name, merges equal runs, then orders by
 * count: O(n log n) however many distinct op types a file invents. */
static onnxi_status dump_histogram_build(const ir_graph *g, dump_op_count **out, int32_t *n_out,
                                         onnxi_error *err) {
  dump_op_count *ops = malloc(sizeof *ops * (size_t)(g->n_nodes > 0 ? g->n_nodes : 1));
  if (!ops) return err_set(err, ONNXI_ERR_NO_MEMORY, "dump: out of memory for the op histogram");
  int32_t n = 0;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    const ir_node *node = &g->nodes[i];
    if (node->flags & IR_NODE_DEAD) continue;
    ops[n].op_type = node->op_type ? node->op_type : ir_op_name(node->op);
    ops[n].domain = dump_domain_default(node->domain) ? "" : node->domain;
    ops[n++].count = 1;
  }
  qsort(ops, (size_t)n, sizeof *ops, dump_op_cmp_name);
  int32_t m = 0;
  for (int32_t i = 0; i < n; i++) {
    if (m && dump_op_cmp_key(&ops[m - 1], &ops[i]) == 0) ops[m - 1].count++;
    else ops[m++] = ops[i];
  }
  qsort(ops, (size_t)m, sizeof *ops, dump_op_cmp_count);
  *out = ops;
  *n_out = m;
  return ONNXI_OK;
}

/* "Conv", or "com.microsoft.Gelu" outside the default domain. */
static void dump_op_label(FILE *out, const char *op_type, const char *domain, dump_escape mode) {
  if (!dump_domain_default(domain)) {
    dump_escaped(out, domain, strlen(domain), mode);
    fputc('.', out);
  }
  if (op_type) dump_escaped(out, op_type, strlen(op_type), mode);
}

static int32_t dump_live_nodes(const ir_graph *g) {
  int32_t n = 0;
  for (int32_t i = 0; i < g->n_nodes; i++) n += !(g->nodes[i].flags & IR_NODE_DEAD);
  return n;
}

/* --- text -------------------------------------------------------------- */

static void dump_text_model_meta(FILE *out, const ir_model *m) {
  fputs("file: ", out);
  dump_text_name(out, m->path);
  fputs("\nproducer: ", out);
  dump_text_name(out, m->producer_name);
  if (m->producer_version && *m->producer_version) {
    fputc(' ', out);
    dump_text_name(out, m->producer_version);
  }
  fprintf(out, "\nir_version: %" PRId64 "\nopsets:", m->ir_version);
  for (int32_t i = 0; i < m->n_opsets && m->opsets; i++) {
    fputs(i ? ", " : " ", out);
    dump_text_name(out, dump_domain_default(m->opsets[i].domain) ? "ai.onnx"
                                                                  : m->opsets[i].domain);
    fprintf(out, ": %" PRId64, m->opsets[i].version);
  }
  fprintf(out, "\nmodel_version: %" PRId64 "\n", m->model_version);
  if (m->domain && *m->domain) {
    fputs("domain: ", out);
    dump_text_name(out, m->domain);
    fputc('\n', out);
  }
  if (m->doc && *m->doc) {
    fputs("doc: ", out);
    dump_quoted(out, m->doc, dump_first_line(m->doc), DUMP_ESC_TEXT);
    fputc('\n', out);
  }
  if (m->n_metadata > 0 && m->metadata) fputs("metadata:\n", out);
  for (int32_t i = 0; i < m->n_metadata && m->metadata; i++) {
    const char *k = m->metadata[i].key, *v = m->metadata[i].value;
    fputs("  ", out);
    dump_text_name(out, k);
    fputs(" = ", out);
    dump_quoted(out, v, v ? strlen(v) : 0, DUMP_ESC_TEXT);
    fputc('\n', out);
  }
}

static void dump_text_values(const dump_ctx *c, const char *title, const int32_t *ids,
                             int32_t n) {
  fprintf(c->out, "%s: %" PRId32 "\n", title, n);
  for (int32_t i = 0; i < n && ids; i++) {
    fputs("  ", c->out);
    dump_value_typed(c, ids[i]);
    fputc('\n', c->out);
  }
}

static void dump_text_refs(const dump_ctx *c, const int32_t *ids, int32_t n) {
  for (int32_t i = 0; i < n && ids; i++) {
    if (i) fputs(", ", c->out);
    dump_value_ref(c, ids[i]);
  }
}

/* #3 conv_1: Conv(x, w, -) -> (y), then one line per attribute and per
 * output whose type is known. */
static void dump_text_node(const dump_ctx *c, int32_t i) {
  const ir_node *n = &c->g->nodes[i];
  FILE *out = c->out;
  fprintf(out, "  #%" PRId32 " ", i);
  dump_text_name(out, n->name);
  fputs(": ", out);
  dump_op_label(out, n->op_type, n->domain, DUMP_ESC_TEXT);
  fputc('(', out);
  dump_text_refs(c, n->inputs, n->n_inputs);
  fputs(") -> (", out);
  dump_text_refs(c, n->outputs, n->n_outputs);
  fputs(n->flags & IR_NODE_DEAD ? ") [dead]\n" : ")\n", out);
  for (int32_t k = 0; k < n->n_attrs && n->attrs; k++) {
    fputs("      ", out);
    dump_text_name(out, n->attrs[k].name);
    fputs(" = ", out);
    dump_attr_value(c, &n->attrs[k]);
    fputc('\n', out);
  }
  for (int32_t k = 0; k < n->n_outputs && n->outputs; k++) {
    if (!dump_value_typed_known(dump_value_get(c->g, n->outputs[k]))) continue;
    fputs("      -> ", out);
    dump_value_typed(c, n->outputs[k]);
    fputc('\n', out);
  }
}

static void dump_text_buffer(const dump_ctx *c, int32_t v) {
  const dump_plan *p = c->plan;
  dump_value_ref(c, v);
  if (v < 0 || !p->buffers || v >= p->n_buffers) return;
  if (p->buffers[v].offset != DUMP_OFFSET_NONE) fprintf(c->out, "@%zu", p->buffers[v].offset);
  else fputs("@-", c->out);
  fprintf(c->out, ":%zu", p->buffers[v].bytes);
}

static void dump_text_plan(const dump_ctx *c) {
  const dump_plan *p = c->plan;
  FILE *out = c->out;
  fprintf(out, "plan: %" PRId32 " steps, arena %zu bytes (value@offset:bytes)\n", p->n_steps,
          p->arena_bytes);
  for (int32_t s = 0; s < p->n_steps && p->steps; s++) {
    int32_t id = p->steps[s];
    if (id < 0 || id >= c->g->n_nodes) {
      fprintf(out, "  %" PRId32 ": <bad node %" PRId32 ">\n", s, id);
      continue;
    }
    const ir_node *n = &c->g->nodes[id];
    fprintf(out, "  %" PRId32 ": ", s);
    dump_op_label(out, n->op_type, n->domain, DUMP_ESC_TEXT);
    fputc(' ', out);
    dump_text_name(out, n->name);
    fputs(" (", out);
    for (int32_t k = 0; k < n->n_inputs; k++) {
      if (k) fputs(", ", out);
      dump_text_buffer(c, n->inputs[k]);
    }
    fputs(") -> (", out);
    for (int32_t k = 0; k < n->n_outputs; k++) {
      if (k) fputs(", ", out);
      dump_text_buffer(c, n->outputs[k]);
    }
    fputs(")\n", out);
  }
}

static void dump_text_graph(const dump_ctx *c, const dump_op_count *ops, int32_t n_ops) {
  const ir_graph *g = c->g;
  FILE *out = c->out;
  int32_t live = dump_live_nodes(g);
  fputs("graph: ", out);
  dump_text_name(out, g->name);
  fprintf(out, " (%" PRId32 " nodes", live);
  if (live != g->n_nodes) fprintf(out, ", %" PRId32 " dead", g->n_nodes - live);
  fputs(")\n", out);
  dump_text_values(c, "inputs", g->inputs, g->n_inputs);
  dump_text_values(c, "outputs", g->outputs, g->n_outputs);
  fprintf(out, "initializers: %" PRId32 " (%zu bytes)\n", g->n_initializers,
          g->initializer_bytes);
  fprintf(out, "nodes: %" PRId32 "\n", g->n_nodes);
  for (int32_t i = 0; i < g->n_nodes; i++) dump_text_node(c, i);
  fputs("op histogram:\n", out);
  for (int32_t i = 0; i < n_ops; i++) {
    fputs("  ", out);
    dump_op_label(out, ops[i].op_type, ops[i].domain, DUMP_ESC_TEXT);
    fprintf(out, ": %" PRId64 "\n", ops[i].count);
  }
  if (c->plan) dump_text_plan(c);
}

/* --- JSON -------------------------------------------------------------- */

static void dump_json_model_meta(FILE *out, const ir_model *m) {
  fputs("  \"file\": ", out);
  dump_json_str(out, m->path);
  fputs(",\n  \"producer\": {\"name\": ", out);
  dump_json_str(out, m->producer_name);
  fputs(", \"version\": ", out);
  dump_json_str(out, m->producer_version);
  fprintf(out, "},\n  \"ir_version\": %" PRId64 ",\n  \"model_version\": %" PRId64
               ",\n  \"domain\": ", m->ir_version, m->model_version);
  dump_json_str(out, m->domain);
  fputs(",\n  \"doc\": ", out);
  if (m->doc) dump_quoted(out, m->doc, dump_first_line(m->doc), DUMP_ESC_JSON);
  else fputs("null", out);
  fputs(",\n  \"opsets\": [", out);
  for (int32_t i = 0; i < m->n_opsets && m->opsets; i++) {
    fputs(i ? ", {\"domain\": " : "{\"domain\": ", out);
    dump_json_str(out, m->opsets[i].domain);
    fprintf(out, ", \"version\": %" PRId64 "}", m->opsets[i].version);
  }
  fputs("],\n  \"metadata\": [", out);
  for (int32_t i = 0; i < m->n_metadata && m->metadata; i++) {
    fputs(i ? ", {\"key\": " : "{\"key\": ", out);
    dump_json_str(out, m->metadata[i].key);
    fputs(", \"value\": ", out);
    dump_json_str(out, m->metadata[i].value);
    fputc('}', out);
  }
  fputs("],\n", out);
}

static void dump_json_values(const dump_ctx *c, const char *key, const int32_t *ids,
                             int32_t n) {
  fprintf(c->out, "  \"%s\": [", key);
  for (int32_t i = 0; i < n && ids; i++) {
    fputs(i ? ",\n    " : "\n    ", c->out);
    dump_value_typed(c, ids[i]);
  }
  fputs(n > 0 && ids ? "\n  ],\n" : "],\n", c->out);
}

static void dump_json_attrs(const dump_ctx *c, const ir_node *n) {
  fputs(", \"attributes\": [", c->out);
  for (int32_t k = 0; k < n->n_attrs && n->attrs; k++) {
    const ir_attr *a = &n->attrs[k];
    fputs(k ? ", {\"name\": " : "{\"name\": ", c->out);
    dump_json_str(c->out, a->name);
    fprintf(c->out, ", \"type\": \"%s\", \"value\": ", ir_attr_type_name(a->type));
    dump_attr_value(c, a);
    fputc('}', c->out);
  }
  fputc(']', c->out);
}

static void dump_json_node(const dump_ctx *c, int32_t i) {
  const ir_node *n = &c->g->nodes[i];
  FILE *out = c->out;
  fprintf(out, "{\"index\": %" PRId32 ", \"name\": ", i);
  dump_json_str(out, n->name);
  fputs(", \"op_type\": ", out);
  dump_json_str(out, n->op_type);
  fputs(", \"domain\": ", out);
  dump_json_str(out, n->domain);
  if (n->flags & IR_NODE_DEAD) fputs(", \"dead\": true", out);
  fputs(", \"inputs\": [", out);
  for (int32_t k = 0; k < n->n_inputs && n->inputs; k++) {
    if (k) fputs(", ", out);
    dump_value_ref(c, n->inputs[k]);
  }
  fputs("], \"outputs\": [", out);
  for (int32_t k = 0; k < n->n_outputs && n->outputs; k++) {
    if (k) fputs(", ", out);
    dump_value_typed(c, n->outputs[k]);
  }
  fputc(']', out);
  dump_json_attrs(c, n);
  fputc('}', out);
}

static void dump_json_buffer(const dump_ctx *c, int32_t v) {
  const dump_plan *p = c->plan;
  fputs("{\"name\": ", c->out);
  dump_value_ref(c, v);
  if (v >= 0 && p->buffers && v < p->n_buffers) {
    if (p->buffers[v].offset != DUMP_OFFSET_NONE)
      fprintf(c->out, ", \"offset\": %zu", p->buffers[v].offset);
    else fputs(", \"offset\": null", c->out);
    fprintf(c->out, ", \"bytes\": %zu", p->buffers[v].bytes);
  }
  fputc('}', c->out);
}

static void dump_json_step(const dump_ctx *c, int32_t s, int32_t id) {
  FILE *out = c->out;
  fprintf(out, "{\"step\": %" PRId32 ", \"node\": %" PRId32, s, id);
  if (id < 0 || id >= c->g->n_nodes) {
    fputc('}', out);
    return;
  }
  const ir_node *n = &c->g->nodes[id];
  fputs(", \"op_type\": ", out);
  dump_json_str(out, n->op_type);
  fputs(", \"inputs\": [", out);
  for (int32_t k = 0; k < n->n_inputs; k++) {
    if (k) fputs(", ", out);
    dump_json_buffer(c, n->inputs[k]);
  }
  fputs("], \"outputs\": [", out);
  for (int32_t k = 0; k < n->n_outputs; k++) {
    if (k) fputs(", ", out);
    dump_json_buffer(c, n->outputs[k]);
  }
  fputs("]}", out);
}

static void dump_json_plan(const dump_ctx *c) {
  const dump_plan *p = c->plan;
  fprintf(c->out, ",\n  \"plan\": {\"arena_bytes\": %zu, \"steps\": [", p->arena_bytes);
  for (int32_t s = 0; s < p->n_steps && p->steps; s++) {
    fputs(s ? ",\n    " : "\n    ", c->out);
    dump_json_step(c, s, p->steps[s]);
  }
  fputs(p->n_steps > 0 && p->steps ? "\n  ]}" : "]}", c->out);
}

static void dump_json_graph(const dump_ctx *c, const dump_op_count *ops, int32_t n_ops) {
  const ir_graph *g = c->g;
  FILE *out = c->out;
  fputs("  \"title\": ", out);
  dump_json_str(out, c->title);
  fputs(",\n  \"graph\": ", out);
  dump_json_str(out, g->name);
  fputs(",\n", out);
  dump_json_values(c, "inputs", g->inputs, g->n_inputs);
  dump_json_values(c, "outputs", g->outputs, g->n_outputs);
  fprintf(out, "  \"initializers\": {\"count\": %" PRId32 ", \"bytes\": %zu},\n",
          g->n_initializers, g->initializer_bytes);
  fputs("  \"nodes\": [", out);
  for (int32_t i = 0; i < g->n_nodes; i++) {
    fputs(i ? ",\n    " : "\n    ", out);
    dump_json_node(c, i);
  }
  fputs(g->n_nodes ? "\n  ],\n  \"op_histogram\": {" : "],\n  \"op_histogram\": {", out);
  for (int32_t i = 0; i < n_ops; i++) {
    fputs(i ? ", \"" : "\"", out);
    dump_op_label(out, ops[i].op_type, ops[i].domain, DUMP_ESC_JSON);
    fprintf(out, "\": %" PRId64, ops[i].count);
  }
  fputc('}', out);
  if (c->plan) dump_json_plan(c);
  fputs("\n}\n", out);
}

/* --- DOT --------------------------------------------------------------- */

/* Attributes worth seeing on a node's box. */
static const char *const dump_dot_key_attrs[] = {"kernel_shape", "strides", "pads",
                                                 "dilations", "group", "axis", "perm"};

static void dump_dot_node_attrs(FILE *out, const ir_node *n) {
  for (size_t i = 0; i < sizeof dump_dot_key_attrs / sizeof *dump_dot_key_attrs; i++) {
    const ir_attr *a = ir_node_attr(n, dump_dot_key_attrs[i]);
    if (!a || (a->type != IR_ATTR_INT && !(a->type == IR_ATTR_INTS && a->ints))) continue;
    fprintf(out, "\\n%s=", dump_dot_key_attrs[i]);
    if (a->type == IR_ATTR_INT) {
      fprintf(out, "%" PRId64, a->i);
      continue;
    }
    fputc('[', out);
    for (int64_t k = 0; k < a->n; k++) fprintf(out, "%s%" PRId64, k ? "," : "", a->ints[k]);
    fputc(']', out);
  }
}

static void dump_dot_value_label(const dump_ctx *c, int32_t v) {
  const ir_value *val = dump_value_get(c->g, v);
  if (!val) {
    fprintf(c->out, "<bad %" PRId32 ">", v);
    return;
  }
  dump_dot_str(c->out, val->name);
  if (!dump_value_typed_known(val)) return;
  fputs("\\n", c->out);
  dump_dtype(c, val->dtype);
  dump_shape_plain(c->out, c->g, &val->shape, DUMP_ESC_DOT);
}

static void dump_dot_edge(const dump_ctx *c, const char *from, int32_t from_id, const char *to,
                          int32_t to_id, int32_t v) {
  fprintf(c->out, "  %s%" PRId32 " -> %s%" PRId32 " [label=\"", from, from_id, to, to_id);
  dump_dot_value_label(c, v);
  const dump_plan *p = c->plan;
  if (p && p->buffers && v < p->n_buffers && p->buffers[v].offset != DUMP_OFFSET_NONE)
    fprintf(c->out, "\\n@%zu %zuB", p->buffers[v].offset, p->buffers[v].bytes);
  fputs("\"];\n", c->out);
}

/* Draws the edge that feeds value v into `to`: from its producer's box or
 * from its graph-input ellipse; initializers are not drawn. */
static void dump_dot_feed(const dump_ctx *c, const int32_t *producer, int32_t v, const char *to,
                          int32_t to_id) {
  const ir_value *val = dump_value_get(c->g, v);
  if (!val) return;
  if (producer[v] != IR_NONE) dump_dot_edge(c, "n", producer[v], to, to_id, v);
  else if (val->flags & IR_VALUE_INPUT) dump_dot_edge(c, "v", v, to, to_id, v);
}

static void dump_dot_header(const dump_ctx *c, const ir_model *m) {
  const ir_graph *g = c->g;
  FILE *out = c->out;
  fputs("digraph onnxi {\n  graph [labelloc=t, label=\"", out);
  if (c->title) {
    dump_dot_str(out, c->title);
    fputs("\\n", out);
  }
  if (m && m->path && *m->path) {
    dump_dot_str(out, m->path);
    fputs("\\n", out);
  }
  fprintf(out, "%" PRId32 " nodes, %" PRId32 " initializers (%zu bytes) not drawn\"];\n",
          dump_live_nodes(g), g->n_initializers, g->initializer_bytes);
  fputs("  node [fontsize=10];\n  edge [fontsize=8];\n", out);
}

static void dump_dot_boxes(const dump_ctx *c) {
  const ir_graph *g = c->g;
  FILE *out = c->out;
  for (int32_t k = 0; k < g->n_inputs && g->inputs; k++) {
    if (!dump_value_get(g, g->inputs[k])) continue;
    fprintf(out, "  v%" PRId32 " [shape=ellipse, label=\"", g->inputs[k]);
    dump_dot_value_label(c, g->inputs[k]);
    fputs("\"];\n", out);
  }
  for (int32_t i = 0; i < g->n_nodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->flags & IR_NODE_DEAD) continue;
    fprintf(out, "  n%" PRId32 " [shape=box, label=\"", i);
    dump_dot_str(out, n->name);
    fputs("\\n", out);
    dump_op_label(out, n->op_type, n->domain, DUMP_ESC_DOT);
    dump_dot_node_attrs(out, n);
    fputs("\"];\n", out);
  }
  for (int32_t k = 0; k < g->n_outputs && g->outputs; k++) {
    fprintf(out, "  o%" PRId32 " [shape=ellipse, peripheries=2, label=\"", k);
    dump_dot_value_label(c, g->outputs[k]);
    fputs("\"];\n", out);
  }
}

static void dump_dot_edges(const dump_ctx *c, const int32_t *producer) {
  const ir_graph *g = c->g;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->flags & IR_NODE_DEAD) continue;
    for (int32_t k = 0; k < n->n_inputs && n->inputs; k++)
      dump_dot_feed(c, producer, n->inputs[k], "n", i);
  }
  for (int32_t k = 0; k < g->n_outputs && g->outputs; k++)
    dump_dot_feed(c, producer, g->outputs[k], "o", k);
}

/* Producers recomputed from the live nodes rather than trusted from
 * ir_value.producer, which a pass under debugging may have left stale. */
static onnxi_status dump_dot_graph(const dump_ctx *c, const ir_model *m, onnxi_error *err) {
  const ir_graph *g = c->g;
  int32_t *producer = malloc(sizeof *producer * (size_t)(g->n_values > 0 ? g->n_values : 1));
  if (!producer) return err_set(err, ONNXI_ERR_NO_MEMORY, "dump: out of memory for DOT output");
  for (int32_t v = 0; v < g->n_values; v++) producer[v] = IR_NONE;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (n->flags & IR_NODE_DEAD) continue;
    for (int32_t k = 0; k < n->n_outputs && n->outputs; k++)
      if (dump_value_get(g, n->outputs[k])) producer[n->outputs[k]] = i;
  }
  dump_dot_header(c, m);
  dump_dot_boxes(c);
  dump_dot_edges(c, producer);
  fputs("}\n", c->out);
  free(producer);
  return ONNXI_OK;
}

/* --- entry points ------------------------------------------------------ */

bool dump_format_parse(const char *name, dump_format *fmt) {
  static const dump_format all[] = {DUMP_FORMAT_TEXT, DUMP_FORMAT_JSON, DUMP_FORMAT_DOT};
  for (size_t i = 0; name && i < sizeof all / sizeof *all; i++) {
    if (strcmp(name, dump_format_name(all[i])) == 0) {
      *fmt = all[i];
      return true;
    }
  }
  return false;
}

const char *dump_format_name(dump_format fmt) {
  switch (fmt) {
  case DUMP_FORMAT_TEXT: return "text";
  case DUMP_FORMAT_JSON: return "json";
  case DUMP_FORMAT_DOT: return "dot";
  }
  return "?";
}

static onnxi_status dump_any(FILE *out, const ir_model *m, const ir_graph *g, dump_format fmt,
                             const dump_options *opts, onnxi_error *err) {
  dump_op_count *ops = NULL;
  int32_t n_ops = 0;
  onnxi_status st = ONNXI_OK;
  dump_ctx c = {.out = out, .g = g, .max_values = DUMP_TENSOR_VALUES_DEFAULT,
                .json = fmt == DUMP_FORMAT_JSON};
  if (opts) {
    c.plan = opts->plan;
    c.title = opts->title;
    if (opts->max_tensor_values) c.max_values = opts->max_tensor_values;
  }
  if (fmt == DUMP_FORMAT_DOT) {
    st = dump_dot_graph(&c, m, err);
    if (st) goto fail;
  } else if (fmt == DUMP_FORMAT_TEXT || fmt == DUMP_FORMAT_JSON) {
    st = dump_histogram_build(g, &ops, &n_ops, err);
    if (st) goto fail;
    if (c.json) fputs("{\n", out);
    else if (c.title) fprintf(out, "== %s ==\n", c.title);
    if (m) (c.json ? dump_json_model_meta : dump_text_model_meta)(out, m);
    if (c.json) dump_json_graph(&c, ops, n_ops);
    else dump_text_graph(&c, ops, n_ops);
  } else {
    st = err_set(err, ONNXI_ERR_INVALID_ARG, "dump: unknown format %d", (int)fmt);
    goto fail;
  }
  if (fflush(out) != 0 || ferror(out))
    st = err_set(err, ONNXI_ERR_IO, "dump: writing the %s output failed", dump_format_name(fmt));
fail:
  free(ops);
  return st;
}

onnxi_status dump_model(FILE *out, const ir_model *m, dump_format fmt,
                        const dump_options *opts, onnxi_error *err) {
  return dump_any(out, m, &m->graph, fmt, opts, err);
}

onnxi_status dump_graph(FILE *out, const ir_graph *g, dump_format fmt,
                        const dump_options *opts, onnxi_error *err) {
  return dump_any(out, NULL, g, fmt, opts, err);
}
