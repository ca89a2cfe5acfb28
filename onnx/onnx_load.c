/* ModelProto -> ir_model: file reading, protobuf unpacking, version checks
 * and model metadata. The graph itself is converted in onnx_graph.c. */
#include "onnx_load.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

#define ONNX_IR_VERSION_MIN 3
#define ONNX_IR_VERSION_MAX 8
#define ONNX_FILE_SLACK 64

static const char *onnx_str(const char *s) { return s ? s : ""; }

onnxi_status onnx_name_check(const char *s, const char *what, onnxi_error *err) {
  size_t n = strnlen(s, ONNX_NAME_MAX + 1);
  if (n > ONNX_NAME_MAX)
    return err_set(err, ONNXI_ERR_LIMIT, "%s '%.32s...' is longer than %d bytes", what, s,
                   ONNX_NAME_MAX);
  return ONNXI_OK;
}

onnxi_status onnx_data_budget(const onnx_ctx *c, size_t nbytes, onnxi_error *err) {
  const arena *a = &c->m->arena;
  size_t used = a->used_bytes + c->adopted_bytes; /* adopted: counted once the load ends */
  if (a->limit_bytes && (nbytes > a->limit_bytes || used > a->limit_bytes - nbytes))
    return err_set(err, ONNXI_ERR_LIMIT,
                   "%zu more bytes of weights exceed max_weight_bytes (%zu, %zu in use)", nbytes,
                   a->limit_bytes, used);
  return ONNXI_OK;
}

onnxi_status onnx_data_alloc(onnx_ctx *c, size_t nbytes, void **out, onnxi_error *err) {
  onnxi_status st = onnx_data_budget(c, nbytes, err);
  if (st) return st;
  *out = arena_alloc(&c->m->arena, nbytes, 64);
  if (!*out) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory allocating %zu bytes", nbytes);
  return ONNXI_OK;
}

static bool onnx_domain_is_default(const char *domain) {
  return !*domain || strcmp(domain, "ai.onnx") == 0;
}

static onnxi_status onnx_opsets_convert(onnx_ctx *c, const Onnx__ModelProto *mp,
                                        onnxi_error *err) {
  ir_model *m = c->m;
  if (mp->n_opset_import > ONNX_LIST_MAX)
    return err_set(err, ONNXI_ERR_LIMIT, "%zu opset_import entries", mp->n_opset_import);
  m->opsets = arena_alloc(&m->arena, sizeof *m->opsets * (mp->n_opset_import + 1), 8);
  if (!m->opsets) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying opsets");
  for (size_t i = 0; i < mp->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
    const char *domain = onnx_str(o->domain);
    onnxi_status st = onnx_name_check(domain, "opset_import domain", err);
    if (st) return st;
    if (!o->has_version)
      return err_set(err, ONNXI_ERR_INVALID_MODEL, "opset_import for domain '%s' has no version",
                     domain);
    if (onnx_domain_is_default(domain)) {
      if (m->opset)
        return err_set(err, ONNXI_ERR_INVALID_MODEL, "opset_import lists the default domain twice");
      if (o->version < 1 || o->version > ONNX_OPSET_MAX)
        return err_set(err, ONNXI_ERR_UNSUPPORTED,
                       "opset %" PRId64 " for domain '%s' is not supported (%d..%d)", o->version,
                       domain, ONNX_OPSET_MIN, ONNX_OPSET_MAX);
      m->opset = o->version;
    }
    ir_opset *dst = &m->opsets[m->n_opsets++];
    dst->version = o->version;
    if (!(dst->domain = arena_strdup(&m->arena, domain)))
      return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying opsets");
  }
  /* No default-domain import is valid for a graph using other domains only
   * (e.g. ai.onnx.preview.training); onnx_opset_settle checks the nodes. */
  return ONNXI_OK;
}

/* Opsets 7..17 are supported. A model importing opset N < 7 is accepted when
 * each op it uses has had the same definition from N through 7: it then
 * means exactly what it would at opset 7, and runs as such. */
static onnxi_status onnx_opset_settle(ir_model *m, onnxi_error *err) {
  const ir_graph *g = &m->graph;
  for (int32_t i = 0; i < g->n_nodes; i++) {
    const ir_node *n = &g->nodes[i];
    if (!onnx_domain_is_default(n->domain)) continue;
    if (!m->opset)
      return err_set(err, ONNXI_ERR_INVALID_MODEL,
                     "node '%s' (%s) is in the default domain, but opset_import has no entry "
                     "for it ('' or ai.onnx)", n->name, n->op_type);
    if (m->opset >= ONNX_OPSET_MIN) continue;
    int since = ir_op_since7(n->op);
    if (since == 0 || since > m->opset)
      return err_set(err, ONNXI_ERR_UNSUPPORTED,
                     "opset %" PRId64 " is not supported (%d..%d): node '%s' (%s) %s before opset 7",
                     m->opset, ONNX_OPSET_MIN, ONNX_OPSET_MAX, n->name, n->op_type,
                     since == 0 ? "is not known to onnxi" : "had a different definition");
  }
  if (m->opset && m->opset < ONNX_OPSET_MIN) m->opset = ONNX_OPSET_MIN;
  return ONNXI_OK;
}

static onnxi_status onnx_metadata_convert(onnx_ctx *c, const Onnx__ModelProto *mp,
                                          onnxi_error *err) {
  ir_model *m = c->m;
  arena *a = &m->arena;
  m->model_version = mp->has_model_version ? mp->model_version : 0;
  m->producer_name = arena_strdup(a, onnx_str(mp->producer_name));
  m->producer_version = arena_strdup(a, onnx_str(mp->producer_version));
  m->domain = arena_strdup(a, onnx_str(mp->domain));
  m->doc = arena_strdup(a, onnx_str(mp->doc_string));
  if (mp->n_metadata_props > ONNX_LIST_MAX)
    return err_set(err, ONNXI_ERR_LIMIT, "%zu metadata_props entries", mp->n_metadata_props);
  m->metadata = arena_alloc(a, sizeof *m->metadata * (mp->n_metadata_props + 1), 8);
  if (!m->producer_name || !m->producer_version || !m->domain || !m->doc || !m->metadata)
    return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying model metadata");
  for (size_t i = 0; i < mp->n_metadata_props; i++) {
    ir_kv *kv = &m->metadata[m->n_metadata++];
    kv->key = arena_strdup(a, onnx_str(mp->metadata_props[i]->key));
    kv->value = arena_strdup(a, onnx_str(mp->metadata_props[i]->value));
    if (!kv->key || !kv->value)
      return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying model metadata");
  }
  return ONNXI_OK;
}

static onnxi_status onnx_model_convert(onnx_ctx *c, const Onnx__ModelProto *mp,
                                       onnxi_error *err) {
  if (!mp->has_ir_version)
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "ir_version is missing");
  if (mp->ir_version < ONNX_IR_VERSION_MIN || mp->ir_version > ONNX_IR_VERSION_MAX)
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "ir_version %" PRId64 " is not supported (%d..%d)",
                   mp->ir_version, ONNX_IR_VERSION_MIN, ONNX_IR_VERSION_MAX);
  c->m->ir_version = mp->ir_version;
  onnxi_status st = onnx_opsets_convert(c, mp, err);
  if (!st) st = onnx_metadata_convert(c, mp, err);
  if (st) return st;
  if (!mp->graph) return err_set(err, ONNXI_ERR_INVALID_MODEL, "model has no graph");
  st = onnx_graph_convert(c, mp->graph, &c->m->graph, 0, NULL, err);
  if (!st) st = onnx_opset_settle(c->m, err);
  if (st) return st;
  if (c->m->graph.n_outputs == 0)
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "graph '%s' has no outputs", c->m->graph.name);
  return ONNXI_OK;
}

/* Ready for conversion: arena with the weight cap, names for messages. */
static onnxi_status onnx_model_init(ir_model *m, const char *path, const char *dir,
                                    const onnxi_load_options *opts, onnxi_error *err) {
  memset(m, 0, sizeof *m);
  uint64_t cap = opts ? opts->max_weight_bytes : 0;
  if (!cap) cap = arena_phys_bytes();
  arena_init(&m->arena, cap > SIZE_MAX ? SIZE_MAX : (size_t)cap);
  ir_graph_init(&m->graph, &m->arena);
  m->path = arena_strdup(&m->arena, path);
  m->dir = dir ? arena_strdup(&m->arena, dir) : NULL;
  m->producer_name = m->producer_version = m->domain = m->doc = "";
  if (!m->path || (dir && !m->dir)) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
  return ONNXI_OK;
}

/* Every failure ends here: context, the file name, and the model released. */
static onnxi_status onnx_model_fail(ir_model *m, onnxi_status st, const char *path,
                                    onnxi_error *err) {
  /* A capped arena also fails small allocations: say which cap was hit. */
  if (st == ONNXI_ERR_NO_MEMORY && m->arena.limit_bytes) {
    err_prefix(err, st, "max_weight_bytes (%zu) reached", m->arena.limit_bytes);
    st = ONNXI_ERR_LIMIT;
    if (err) err->status = st;
  }
  err_prefix(err, st, "%s", path);
  ir_model_release(m);
  return st;
}

/* Unpacks with weights landing in the model arena (see onnx_pbuf.c). */
static onnxi_status onnx_model_unpack(ir_model *m, const void *data, size_t size,
                                      onnx_pb_allocator *pa, Onnx__ModelProto **mp,
                                      onnxi_error *err) {
  onnx_pb_allocator_init(pa, &m->arena);
  onnxi_status st = onnx_pb_depth_check(&onnx__model_proto__descriptor, data, size, err);
  if (st) return st;
  *mp = onnx__model_proto__unpack(&pa->base, size, data);
  if (*mp) return ONNXI_OK;
  if (!pa->failed_bytes)
    return err_set(err, ONNXI_ERR_PARSE, "not a valid ONNX ModelProto (protobuf parse failed)");
  if (m->arena.limit_bytes)
    return err_set(err, ONNXI_ERR_LIMIT, "max_weight_bytes (%zu) reached reading a %zu-byte field",
                   m->arena.limit_bytes, pa->failed_bytes);
  return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory reading a %zu-byte field",
                 pa->failed_bytes);
}

/* Converts an unpacked message and frees it. */
static onnxi_status onnx_model_finish(ir_model *m, Onnx__ModelProto *mp, onnx_pb_allocator *pa,
                                      const char *path, onnxi_error *err) {
  onnx_ctx c = {.m = m, .dir = m->dir, .pb_arena = true};
  onnxi_status st = onnx_model_convert(&c, mp, err);
  onnx__model_proto__free_unpacked(mp, &pa->base);
  free(c.real_dir);
  return st ? onnx_model_fail(m, st, path, err) : ONNXI_OK;
}

/* Points the stripped initializers at their payloads for the conversion,
 * or (data NULL) back at nothing before protobuf-c frees the message. */
static void onnx_payloads_attach(Onnx__ModelProto *mp, const onnx_stripped *sp, bool on) {
  Onnx__GraphProto *g = mp->graph;
  for (size_t i = 0; g && i < sp->n; i++) {
    const onnx_payload *p = &sp->p[i];
    if (p->init >= g->n_initializer || !g->initializer[p->init]) continue;
    Onnx__TensorProto *t = g->initializer[p->init];
    t->has_raw_data = on;
    t->raw_data.data = on ? p->data : NULL;
    t->raw_data.len = on ? p->len : 0;
  }
}

/* The file's bytes (data, size, with slack) after onnx_strip_payloads: the
 * compact message is unpacked, converted with the payloads in place, and
 * the model keeps the buffer when it adopted any of them. */
static onnxi_status onnx_model_finish_stripped(ir_model *m, unsigned char *data, size_t size,
                                               onnx_stripped *sp, const char *path,
                                               onnxi_error *err) {
  onnx_pb_allocator pa;
  Onnx__ModelProto *mp = NULL;
  onnxi_status st = onnx_model_unpack(m, sp->msg, sp->len, &pa, &mp, err);
  onnx_ctx c = {.m = m, .dir = m->dir, .pb_arena = true, .file_lo = data, .file_hi = data + size};
  if (!st) {
    onnx_payloads_attach(mp, sp, true);
    st = onnx_model_convert(&c, mp, err);
    onnx_payloads_attach(mp, sp, false);
    onnx__model_proto__free_unpacked(mp, &pa.base);
  }
  free(c.real_dir);
  onnx_stripped_free(sp);
  bool keep = !st && c.adopted_bytes;
  if (keep && !arena_adopt(&m->arena, data, c.adopted_bytes)) {
    st = err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
    keep = false;
  }
  if (!keep) free(data);
  return st ? onnx_model_fail(m, st, path, err) : ONNXI_OK;
}

/* A 64-byte aligned copy target for a model's bytes, with ONNX_FILE_SLACK
 * zeroed bytes after them: the buffer may end up holding weights, which
 * XNNPACK reads a little past (as the arena's blocks allow). */
static unsigned char *onnx_bytes_alloc(size_t n) {
  if (n > SIZE_MAX - 2 * ONNX_FILE_SLACK) return NULL;
  unsigned char *buf =
      arena_os_alloc((n + 2 * ONNX_FILE_SLACK - 1) & ~(size_t)(ONNX_FILE_SLACK - 1));
  if (buf) memset(buf + n, 0, ONNX_FILE_SLACK);
  return buf;
}

/* Imports a model's bytes in buf (from onnx_bytes_alloc; owned from here). */
static onnxi_status onnx_model_from_bytes(ir_model *m, unsigned char *buf, size_t size,
                                          const char *path, onnxi_error *err) {
  onnxi_status st = onnx_pb_depth_check(&onnx__model_proto__descriptor, buf, size, err);
  if (st) {
    free(buf);
    return onnx_model_fail(m, st, path, err);
  }
  onnx_stripped sp;
  if (onnx_strip_payloads(buf, size, &sp))
    return onnx_model_finish_stripped(m, buf, size, &sp, path, err);
  /* protobuf-c copies what it keeps: the bytes can go before conversion */
  onnx_pb_allocator pa;
  Onnx__ModelProto *mp = NULL;
  st = onnx_model_unpack(m, buf, size, &pa, &mp, err);
  free(buf);
  return st ? onnx_model_fail(m, st, path, err) : onnx_model_finish(m, mp, &pa, path, err);
}

/* The caller's bytes are copied once, as protobuf-c would copy the weights
 * anyway: the same path as files, zero-copy payloads included. */
onnxi_status onnx_model_import(const void *data, size_t size, const char *path, const char *dir,
                               const onnxi_load_options *opts, ir_model *m, onnxi_error *err) {
  if (!path) path = "<memory>";
  onnxi_status st = onnx_model_init(m, path, dir, opts, err);
  if (st) return onnx_model_fail(m, st, path, err);
  unsigned char *buf = onnx_bytes_alloc(size);
  if (!buf)
    return onnx_model_fail(m, err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory copying %zu bytes",
                                      size), path, err);
  if (size) memcpy(buf, data, size);
  return onnx_model_from_bytes(m, buf, size, path, err);
}

/* Directory part of path ("." for a bare name), heap-allocated. */
static char *onnx_path_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return strdup(".");
  size_t n = slash == path ? 1 : (size_t)(slash - path);
  char *dir = malloc(n + 1);
  if (dir) {
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  return dir;
}

/* Reads exactly n bytes from fd's current position; the file may change
 * size under us (a truncation must be an error, not the SIGBUS a mapping
 * would raise), so a short read or bytes past n both fail. */
static onnxi_status onnx_fd_read_exact(int fd, unsigned char *dst, size_t n, onnxi_error *err) {
  size_t done = 0;
  while (done <= n) {
    unsigned char probe;
    size_t chunk = done == n ? 1 : (n - done < (1u << 30) ? n - done : (1u << 30));
    ssize_t got = read(fd, done == n ? &probe : dst + done, chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return err_set(err, ONNXI_ERR_IO, "cannot read: %s", strerror(errno));
    if (got == 0 && done == n) return ONNXI_OK;
    if (got == 0 || done == n)
      return err_set(err, ONNXI_ERR_IO, "file changed size while being read (%zu bytes expected)",
                     n);
    done += (size_t)got;
  }
  return ONNXI_OK;
}

/* Reads the whole file into heap memory (*data NULL for an empty file,
 * which then fails as a model). Files larger than the weight cap are refused
 * before allocating: their bytes all end up in the model arena anyway. */
static onnxi_status onnx_file_read(const char *path, size_t cap, void **data, size_t *size,
                                   onnxi_error *err) {
  onnxi_status st = ONNXI_OK;
  struct stat sb;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return err_set(err, ONNXI_ERR_IO, "cannot open: %s", strerror(errno));
  if (fstat(fd, &sb) != 0) {
    st = err_set(err, ONNXI_ERR_IO, "cannot stat: %s", strerror(errno));
  } else if (!S_ISREG(sb.st_mode)) {
    st = err_set(err, ONNXI_ERR_IO, "not a regular file");
  } else if (cap && (uint64_t)sb.st_size > cap) {
    st = err_set(err, ONNXI_ERR_LIMIT, "file of %" PRIu64 " bytes exceeds max_weight_bytes (%zu)",
                 (uint64_t)sb.st_size, cap);
  } else if (sb.st_size > 0) {
    size_t n = (size_t)sb.st_size;
    unsigned char *buf = onnx_bytes_alloc(n);
    if (!buf) st = err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory reading %zu bytes", n);
    if (buf) st = onnx_fd_read_exact(fd, buf, n, err);
    if (st) {
      free(buf);
    } else {
      *data = buf;
      *size = n;
    }
  }
  close(fd);
  return st;
}

onnxi_status onnx_model_load_file(const char *path, const onnxi_load_options *opts,
                                  ir_model *m, onnxi_error *err) {
  void *data = NULL;
  size_t size = 0;
  memset(m, 0, sizeof *m); /* releasable whatever fails first */
  char *dir = onnx_path_dir(path);
  onnxi_status st = dir ? onnx_model_init(m, path, dir, opts, err)
                        : err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
  free(dir);
  if (!st) st = onnx_file_read(path, m->arena.limit_bytes, &data, &size, err);
  if (st) return onnx_model_fail(m, st, path, err);
  return onnx_model_from_bytes(m, data, size, path, err);
}
