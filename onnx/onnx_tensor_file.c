/* A serialized TensorProto file (the ONNX backend-test layout's
 * input_N.pb / output_N.pb) -> ir_tensor. */
#include <stdio.h>
#include <stdlib.h>

#include "onnx_internal.h"
#include "onnx_load.h"

#define ONNX_TENSOR_FILE_MAX ((size_t)1 << 34) /* 16 GiB */

static onnxi_status onnx_file_slurp(const char *path, uint8_t **data, size_t *size,
                                    onnxi_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return err_set(err, ONNXI_ERR_IO, "%s: cannot open", path);
  onnxi_status st = ONNXI_OK;
  uint8_t *buf = NULL;
  long len = -1;
  if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
  if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
    st = err_set(err, ONNXI_ERR_IO, "%s: cannot determine the file size", path);
    goto done;
  }
  if ((size_t)len > ONNX_TENSOR_FILE_MAX) {
    st = err_set(err, ONNXI_ERR_LIMIT, "%s: %ld bytes is too large for a tensor file", path, len);
    goto done;
  }
  buf = malloc((size_t)len + 1);
  if (!buf) {
    st = err_set(err, ONNXI_ERR_NO_MEMORY, "%s: out of memory", path);
    goto done;
  }
  if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
    st = err_set(err, ONNXI_ERR_IO, "%s: read failed", path);
    free(buf);
    buf = NULL;
    goto done;
  }
  *data = buf;
  *size = (size_t)len;
done:
  fclose(f);
  return st;
}

onnxi_status onnx_tensor_file_read(const char *path, ir_model *holder, ir_tensor *out,
                                   const char **name, onnxi_error *err) {
  uint8_t *data = NULL;
  size_t size = 0;
  onnxi_status st = onnx_file_slurp(path, &data, &size, err);
  if (st != ONNXI_OK) return st;
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, data);
  free(data);
  if (!tp) return err_set(err, ONNXI_ERR_PARSE, "%s: not a valid ONNX TensorProto", path);
  onnx_ctx c = {.m = holder, .dir = NULL};
  st = onnx_tensor_convert(&c, tp, out, err);
  if (st == ONNXI_OK && name) {
    *name = arena_strdup(&holder->arena, tp->name ? tp->name : "");
    if (!*name) st = err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
  }
  onnx__tensor_proto__free_unpacked(tp, NULL);
  free(c.real_dir);
  if (st != ONNXI_OK) return err_prefix(err, st, "%s", path);
  return ONNXI_OK;
}
