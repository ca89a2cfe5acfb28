/* ONNX loader: protobuf bytes -> ir_model.
 *
 * The protobuf-c message is unpacked, converted and freed inside these calls:
 * afterwards the model's weights live only in the model arena.
 *
 * What an imported model looks like:
 * - the main graph is topologically sorted and linked (producers, uses);
 *   graph->inputs are the caller-fed inputs only (an input that also has an
 *   initializer is IR_VALUE_CONST, not IR_VALUE_INPUT);
 * - initializers are IR_VALUE_CONST values with dtype, fully known shape,
 *   and data (64-byte aligned) / nbytes; STRING data is an ir_string array
 *   (nbytes = count * sizeof(ir_string));
 * - other values get dtype/shape from the graph input/output declarations
 *   or value_info when present, else UNDEFINED / rank -1;
 * - node->domain is "" for "" and "ai.onnx"; ops of other domains are
 *   IR_OP_UNKNOWN; "" input/output names are IR_NONE;
 * - graph attributes are nested ir_graphs in file order (ONNX requires it to
 *   be topological; checked), linked but not sorted. A subgraph value with no
 *   producer and neither INPUT nor CONST set names a value of an enclosing
 *   graph (checked to exist there). */
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

/* Reads `path` (into memory, checked against truncation) and imports it; external data resolves against its directory. */
onnxi_status onnx_model_load_file(const char *path, const onnxi_load_options *opts,
                                  ir_model *m, onnxi_error *err);

/* Reads a serialized TensorProto file (backend-test input_N.pb/output_N.pb);
 * data, dims and the name live in holder's arena (holder only needs an
 * initialised arena). External data is refused. */
onnxi_status onnx_tensor_file_read(const char *path, ir_model *holder, ir_tensor *out,
                                   const char **name, onnxi_error *err);

#endif
