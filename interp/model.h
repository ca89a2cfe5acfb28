/* The public onnxi_model handle: an imported ir_model. Other modules reach
 * the IR through `model->ir`. */
#ifndef ONNXI_MODEL_H
#define ONNXI_MODEL_H

#include "ir.h"

struct onnxi_model {
  ir_model ir;
};

#endif
