/* ONNX external data: tensor bytes kept in a file next to the model.
 *
 * The location comes from an untrusted file, so it must name a regular file
 * inside the model's directory: absolute paths, `..` components and symlinks
 * resolving elsewhere are refused. Data is read with pread rather than
 * mapped, because a mapped file truncated under us would fault (SIGBUS);
 * short reads are reported instead. */
#define _XOPEN_SOURCE 700 /* realpath */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

typedef struct onnx_extref {
  const char *location;
  const char *offset_text, *length_text;
  uint64_t offset, length;
} onnx_extref;

/* Decimal without sign or spaces, as the ONNX writers produce it. */
static bool onnx_u64_parse(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (!*s) return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

static onnxi_status onnx_extref_parse(const Onnx__TensorProto *t, onnx_extref *r,
                                      onnxi_error *err) {
  memset(r, 0, sizeof *r);
  for (size_t i = 0; i < t->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = t->external_data[i];
    const char *key = e->key ? e->key : "", *value = e->value ? e->value : "";
    if (strcmp(key, "location") == 0) r->location = value;
    else if (strcmp(key, "offset") == 0) r->offset_text = value;
    else if (strcmp(key, "length") == 0) r->length_text = value;
    /* "checksum" and unknown keys are ignored, as onnxruntime does */
  }
  if (!r->location || !*r->location)
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "external_data has no 'location'");
  if (r->offset_text && !onnx_u64_parse(r->offset_text, &r->offset))
    return err_set(err, ONNXI_ERR_INVALID_MODEL,
                   "external_data offset '%s' is not a non-negative integer", r->offset_text);
  if (r->length_text && !onnx_u64_parse(r->length_text, &r->length))
    return err_set(err, ONNXI_ERR_INVALID_MODEL,
                   "external_data length '%s' is not a non-negative integer", r->length_text);
  return ONNXI_OK;
}

static onnxi_status onnx_location_check(const char *loc, onnxi_error *err) {
  onnxi_status st = onnx_name_check(loc, "external data location", err);
  if (st) return st;
  if (loc[0] == '/')
    return err_set(err, ONNXI_ERR_INVALID_MODEL,
                   "external data location '%s' is an absolute path", loc);
  for (const char *p = loc; *p;) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return err_set(err, ONNXI_ERR_INVALID_MODEL,
                     "external data location '%s' leaves the model directory ('..')", loc);
    p += n;
    if (*p == '/') p++;
  }
  return ONNXI_OK;
}

/* Is `path` (resolved) the directory `dir` (resolved) or inside it? */
static bool onnx_path_within(const char *path, const char *dir) {
  size_t n = strlen(dir);
  if (n == 1 && dir[0] == '/') return true;
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static onnxi_status onnx_external_open(onnx_ctx *c, const char *loc, int *fd,
                                       onnxi_error *err) {
  onnxi_status st = ONNXI_OK;
  char *joined = NULL, *real = NULL;
  if (!c->dir) {
    return err_set(err, ONNXI_ERR_UNSUPPORTED,
                   "external data '%s' needs the model's directory, but the model was "
                   "loaded from memory", loc);
  }
  if (!c->real_dir && !(c->real_dir = realpath(c->dir, NULL)))
    return err_set(err, ONNXI_ERR_IO, "cannot resolve the model directory '%s': %s", c->dir,
                   strerror(errno));
  size_t len = strlen(c->dir) + strlen(loc) + 2;
  joined = malloc(len);
  if (!joined) {
    st = err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory opening external data '%s'", loc);
    goto fail;
  }
  snprintf(joined, len, "%s/%s", c->dir, loc);
  real = realpath(joined, NULL);
  if (!real) {
    st = err_set(err, ONNXI_ERR_IO, "cannot open external data file '%s': %s", loc,
                 strerror(errno));
    goto fail;
  }
  if (!onnx_path_within(real, c->real_dir)) {
    st = err_set(err, ONNXI_ERR_INVALID_MODEL,
                 "external data location '%s' resolves to '%s', outside the model directory",
                 loc, real);
    goto fail;
  }
  /* `real` has no symlinks left; O_NOFOLLOW refuses one swapped in since. */
  *fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (*fd < 0)
    st = err_set(err, ONNXI_ERR_IO, "cannot open external data file '%s': %s", loc,
                 strerror(errno));
fail:
  free(joined);
  free(real);
  return st;
}

/* Checks [offset, offset + length) against the file and the tensor size. */
static onnxi_status onnx_extref_range(onnx_extref *r, const struct stat *sb, const ir_tensor *out,
                                      onnxi_error *err) {
  if (!S_ISREG(sb->st_mode))
    return err_set(err, ONNXI_ERR_INVALID_MODEL, "external data '%s' is not a regular file",
                   r->location);
  uint64_t size = (uint64_t)sb->st_size;
  if (r->offset > size)
    return err_set(err, ONNXI_ERR_INVALID_MODEL,
                   "external data offset %" PRIu64 " is past the end of '%s' (%" PRIu64
                   " bytes)", r->offset, r->location, size);
  if (!r->length_text) r->length = size - r->offset;
  if (r->length > size - r->offset)
    return err_set(err, ONNXI_ERR_INVALID_MODEL,
                   "external data range [%" PRIu64 ", %" PRIu64 ") is past the end of '%s' (%"
                   PRIu64 " bytes)", r->offset, r->offset + r->length, r->location, size);
  if (r->length != (uint64_t)out->nbytes) {
    char dims[128];
    onnx_dims_format(dims, sizeof dims, out->dims, out->rank);
    return err_set(err, ONNXI_ERR_INVALID_MODEL,
                   "external data length %" PRIu64 " does not match dims %s %s (%zu bytes)",
                   r->length, dims, onnx_dtype_name(out->dtype), out->nbytes);
  }
  return ONNXI_OK;
}

/* Reads exactly n bytes at offset; the file may have shrunk since fstat. */
static onnxi_status onnx_pread_all(int fd, void *dst, size_t n, uint64_t offset,
                                   const char *loc, onnxi_error *err) {
  size_t done = 0;
  while (done < n) {
    size_t chunk = n - done < (1u << 30) ? n - done : (1u << 30);
    ssize_t got = pread(fd, (char *)dst + done, chunk, (off_t)(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return err_set(err, ONNXI_ERR_IO, "reading external data '%s': %s", loc, strerror(errno));
    if (got == 0)
      return err_set(err, ONNXI_ERR_IO,
                     "external data '%s' shrank while reading (%zu of %zu bytes at offset %"
                     PRIu64 ")", loc, done, n, offset);
    done += (size_t)got;
  }
  return ONNXI_OK;
}

onnxi_status onnx_external_read(onnx_ctx *c, const Onnx__TensorProto *t, ir_tensor *out,
                                onnxi_error *err) {
  onnx_extref r;
  int fd = -1;
  struct stat sb;
  if (out->dtype == ONNXI_DTYPE_STRING)
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "string tensors cannot use external data");
  onnxi_status st = onnx_extref_parse(t, &r, err);
  if (!st) st = onnx_location_check(r.location, err);
  if (!st) st = onnx_external_open(c, r.location, &fd, err);
  if (st) goto fail;
  if (fstat(fd, &sb) != 0) {
    st = err_set(err, ONNXI_ERR_IO, "cannot stat external data '%s': %s", r.location,
                 strerror(errno));
    goto fail;
  }
  st = onnx_extref_range(&r, &sb, out, err);
  if (!st) st = onnx_data_alloc(c, out->nbytes, &out->data, err);
  if (!st) st = onnx_pread_all(fd, out->data, out->nbytes, r.offset, r.location, err);
fail:
  if (fd >= 0) close(fd);
  return st;
}
