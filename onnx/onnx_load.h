/* ONNX loader: protobuf bytes -> ir_model.
 *
 * The protobuf-c message is unpacked, converted and freed inside these calls:
 * afterwards the model's weights live only in the model arena. */
#ifndef ONNXI_ONNX_LOAD_H
#define ONNXI_ONNX_LOAD_H

#include <stddef.h>

#include "ir.h"
#include "onnxi.h"

/* Default-domain opset versions accepted. */
#define ONNX_OPSET_MIN 7
#define ONNX_OPSET_MAX 17

/* Imports a serialized ModelProto. `path` names the model in messages and is
 * the base for external data (its directory); it may be a plain name when
 * the model came from memory, in which case `dir` NULL refuses external data.
 * On failure *m is released and err says file, node and field. */
onnxi_status onnx_model_import(const void *data, size_t size, const char *path, const char *dir,
                               const onnxi_load_options *opts, ir_model *m, onnxi_error *err);

/* Reads `path` (mmap) and imports it; external data resolves against its directory. */
onnxi_status onnx_model_load_file(const char *path, const onnxi_load_options *opts,
                                  ir_model *m, onnxi_error *err);

#endif
