/* Public model API (include/onnxi.h): load, free and describe inputs/outputs. */
#include "model.h"

#include <stdlib.h>
#include <string.h>
#ifndef NDEBUG
#include <pthread.h>
#endif

#include "onnx_load.h"
#include "pass.h"

#ifndef NDEBUG
/* Debug builds remember which models are loaded, so a freed (or never
 * loaded) model handed back to the API is an error rather than a use after
 * free. The only global state outside XNNPACK, and only in debug builds. */
static pthread_mutex_t model_live_lock = PTHREAD_MUTEX_INITIALIZER;
static const onnxi_model **model_live;
static size_t model_n_live, model_cap_live;
static bool model_live_lost; /* a registration failed: unknown handles pass */

static void model_live_set(const onnxi_model *m, bool live) {
  pthread_mutex_lock(&model_live_lock);
  size_t i = 0;
  while (i < model_n_live && model_live[i] != m) i++;
  if (!live && i < model_n_live) {
    model_live[i] = model_live[--model_n_live];
  } else if (live && i == model_n_live) {
    if (model_n_live == model_cap_live) {
      size_t cap = model_cap_live ? 2 * model_cap_live : 16;
      const onnxi_model **grown = realloc(model_live, cap * sizeof *grown);
      if (grown) model_live = grown, model_cap_live = cap;
    }
    if (model_n_live < model_cap_live) model_live[model_n_live++] = m;
    else model_live_lost = true;
  }
  if (!model_n_live) {
    free(model_live);
    model_live = NULL;
    model_cap_live = 0;
  }
  pthread_mutex_unlock(&model_live_lock);
}

static bool model_is_live(const onnxi_model *m) {
  pthread_mutex_lock(&model_live_lock);
  bool live = model_live_lost;
  for (size_t i = 0; i < model_n_live && !live; i++) live = model_live[i] == m;
  pthread_mutex_unlock(&model_live_lock);
  return live;
}
#else
static void model_live_set(const onnxi_model *m, bool live) { (void)m, (void)live; }
static bool model_is_live(const onnxi_model *m) { return m != NULL; }
#endif

onnxi_status model_check(const onnxi_model *m, onnxi_error *err) {
  if (!m) return err_set(err, ONNXI_ERR_INVALID_ARG, "model is NULL");
  if (!model_is_live(m))
    return err_set(err, ONNXI_ERR_INVALID_ARG, "model %p is not loaded (freed already?)", (const void *)m);
  return ONNXI_OK;
}

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
  model_live_set(model, true);
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
  model_live_set(model, true);
  *out = model;
  return ONNXI_OK;
}

void onnxi_model_free(onnxi_model *model) {
  if (!model || !model_is_live(model)) return; /* debug builds ignore a double free */
  model_live_set(model, false);
  ir_model_release(&model->ir);
  free(model);
}

int onnxi_model_input_count(const onnxi_model *model) {
  return model_is_live(model) ? model->ir.graph.n_inputs : 0;
}

int onnxi_model_output_count(const onnxi_model *model) {
  return model_is_live(model) ? model->ir.graph.n_outputs : 0;
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
  if (!info) return err_set(err, ONNXI_ERR_INVALID_ARG, "info is NULL");
  onnxi_status st = model_check(model, err);
  if (st) return st;
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
