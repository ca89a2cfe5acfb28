/* The public onnxi_model handle: an imported ir_model. Other modules reach
 * the IR through `model->ir`. */
#ifndef ONNXI_MODEL_H
#define ONNXI_MODEL_H

#include "ir.h"

struct onnxi_model {
  ir_model ir;
};

/* INVALID_ARG for NULL and, in debug builds (no NDEBUG), for a model that
 * is not loaded (freed already, or never a model). */
onnxi_status model_check(const onnxi_model *m, onnxi_error *err);

#endif
