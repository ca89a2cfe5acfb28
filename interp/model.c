/* Public model API (include/onnxi.h): load, free and describe inputs/outputs. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "onnx_load.h"
#include "pass.h"

static onnxi_status model_out_check(onnxi_model **out, onnxi_error *err) {
  if (!out) return err_set(err, ONNXI_ERR_INVALID_ARG, "out is NULL");
  *out = NULL;
  return ONNXI_OK;
}

/* The graph we run is the exported one after the passes (pass.h). On
 * failure the imported model is released. */
static onnxi_status model_passes_run(onnxi_model *model, const onnxi_load_options *opts,
                                     onnxi_error *err) {
  onnxi_status st = passes_run(&model->ir, opts ? opts->disable_passes : NULL, NULL, err);
  if (st) ir_model_release(&model->ir);
  return st;
}

onnxi_status onnxi_model_load_file(const char *path, const onnxi_load_options *opts,
                                   onnxi_model **out, onnxi_error *err) {
  onnxi_status st = model_out_check(out, err);
  if (st) return st;
  if (!path || !*path) return err_set(err, ONNXI_ERR_INVALID_ARG, "model path is empty");
  onnxi_model *model = calloc(1, sizeof *model);
  if (!model) return err_set(err, ONNXI_ERR_NO_MEMORY, "%s: out of memory", path);
  st = onnx_model_load_file(path, opts, &model->ir, err);
  if (!st) st = model_passes_run(model, opts, err);
  if (st) {
    free(model);
    return st;
  }
  err_clear(err);
  *out = model;
  return ONNXI_OK;
}

onnxi_status onnxi_model_load_buffer(const void *data, size_t size, const char *name,
                                     const onnxi_load_options *opts, onnxi_model **out,
                                     onnxi_error *err) {
  onnxi_status st = model_out_check(out, err);
  if (st) return st;
  if (!name || !*name) name = "<memory>";
  if (!data && size) return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: data is NULL", name);
  onnxi_model *model = calloc(1, sizeof *model);
  if (!model) return err_set(err, ONNXI_ERR_NO_MEMORY, "%s: out of memory", name);
  /* No directory: a model from memory cannot refer to external data. */
  st = onnx_model_import(data, size, name, NULL, opts, &model->ir, err);
  if (!st) st = model_passes_run(model, opts, err);
  if (st) {
    free(model);
    return st;
  }
  err_clear(err);
  *out = model;
  return ONNXI_OK;
}

void onnxi_model_free(onnxi_model *model) {
  if (!model) return;
  ir_model_release(&model->ir);
  free(model);
}

int onnxi_model_input_count(const onnxi_model *model) {
  return model ? model->ir.graph.n_inputs : 0;
}

int onnxi_model_output_count(const onnxi_model *model) {
  return model ? model->ir.graph.n_outputs : 0;
}

static void model_value_info(const ir_graph *g, int32_t id, onnxi_tensor_info *info) {
  const ir_value *v = &g->values[id];
  memset(info, 0, sizeof *info);
  info->name = v->name;
  info->dtype = (onnxi_dtype)v->dtype;
  info->rank = v->shape.rank;
  for (int i = 0; i < v->shape.rank && i < ONNXI_MAX_RANK; i++) {
    const ir_dim *d = &v->shape.dims[i];
    info->dims[i] = d->value >= 0 ? d->value : -1;
    info->dim_names[i] = d->value < 0 && d->sym >= 0 && d->sym < g->n_syms ? g->syms[d->sym] : NULL;
  }
}

static onnxi_status model_io_info(const onnxi_model *model, int index, bool input,
                                  onnxi_tensor_info *info, onnxi_error *err) {
  const char *what = input ? "input" : "output";
  if (!model || !info) return err_set(err, ONNXI_ERR_INVALID_ARG, "model or info is NULL");
  const ir_graph *g = &model->ir.graph;
  int n = input ? g->n_inputs : g->n_outputs;
  if (index < 0 || index >= n)
    return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: %s index %d out of range (%d %ss)",
                   model->ir.path, what, index, n, what);
  model_value_info(g, input ? g->inputs[index] : g->outputs[index], info);
  return ONNXI_OK;
}

onnxi_status onnxi_model_input_info(const onnxi_model *model, int index,
                                    onnxi_tensor_info *info, onnxi_error *err) {
  return model_io_info(model, index, true, info, err);
}

onnxi_status onnxi_model_output_info(const onnxi_model *model, int index,
                                     onnxi_tensor_info *info, onnxi_error *err) {
  return model_io_info(model, index, false, info, err);
}
