/* Public session API over the executor. */
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "model.h"
#include "onnxi.h"

struct onnxi_session {
  exec_session *exec;
  /* per graph input, reused across runs */
  int32_t *ranks;
  int64_t (*dims)[IR_MAX_RANK];
  const void **feed;
};

onnxi_status onnxi_session_create(const onnxi_model *model, const onnxi_session_options *opts,
                                  onnxi_session **out, onnxi_error *err) {
  if (!model || !out) return err_set(err, ONNXI_ERR_INVALID_ARG, "model and out must not be NULL");
  *out = NULL;
  onnxi_status cst = model_check(model, err);
  if (cst) return cst;
  onnxi_session *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
  size_t n = (size_t)model->ir.graph.n_inputs + 1;
  s->ranks = calloc(n, sizeof *s->ranks);
  s->dims = calloc(n, sizeof *s->dims);
  s->feed = calloc(n, sizeof *s->feed);
  onnxi_status st = ONNXI_ERR_NO_MEMORY;
  if (!s->ranks || !s->dims || !s->feed) {
    err_set(err, st, "out of memory");
    goto fail;
  }
  st = exec_session_create(&model->ir, opts ? opts->threads : 0, &s->exec, err);
  if (st != ONNXI_OK) goto fail;
  if (opts && opts->max_memory_bytes)
    s->exec->max_bytes = opts->max_memory_bytes > SIZE_MAX ? SIZE_MAX : (size_t)opts->max_memory_bytes;
  if (opts) s->exec->max_work = (double)opts->max_run_ops;
  *out = s;
  return ONNXI_OK;
fail:
  onnxi_session_free(s);
  return st;
}

void onnxi_session_free(onnxi_session *s) {
  if (!s) return;
  exec_session_free(s->exec);
  free(s->ranks);
  free(s->dims);
  free(s->feed);
  free(s);
}

int onnxi_session_threads(const onnxi_session *s) { return s ? s->exec->threads : 0; }

static onnxi_status session_inputs_check(onnxi_session *s, const onnxi_tensor *inputs,
                                         onnxi_error *err) {
  const ir_model *m = s->exec->model;
  const ir_graph *g = &m->graph;
  for (int32_t i = 0; i < g->n_inputs; i++) {
    const ir_value *v = &g->values[g->inputs[i]];
    const onnxi_tensor *t = &inputs[i];
    if ((int32_t)t->dtype != v->dtype)
      return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: input '%s': dtype %s given, model wants %s",
                     m->path, v->name, onnxi_dtype_name(t->dtype), onnxi_dtype_name(v->dtype));
    if (t->rank < 0 || t->rank > IR_MAX_RANK)
      return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: input '%s': rank %d out of range", m->path,
                     v->name, t->rank);
    int64_t count;
    if (!ir_dims_count(t->dims, t->rank, &count))
      return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: input '%s': invalid dims", m->path, v->name);
    size_t elem = t->dtype == ONNXI_DTYPE_STRING ? sizeof(onnxi_string) : ir_dtype_size(t->dtype);
    if ((uint64_t)count > SIZE_MAX / elem || t->nbytes != (size_t)count * elem)
      return err_set(err, ONNXI_ERR_INVALID_ARG,
                     "%s: input '%s': nbytes %zu does not match its dims (%lld elements of %zu bytes)",
                     m->path, v->name, t->nbytes, (long long)count, elem);
    if (!t->data && count)
      return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: input '%s': data is NULL", m->path, v->name);
    s->ranks[i] = t->rank;
    memcpy(s->dims[i], t->dims, sizeof s->dims[i]);
    s->feed[i] = t->data;
  }
  return ONNXI_OK;
}

static onnxi_status session_outputs_give(onnxi_session *s, onnxi_tensor *outputs,
                                         onnxi_error *err) {
  const ir_model *m = s->exec->model;
  for (int32_t i = 0; i < m->graph.n_outputs; i++) {
    const op_tensor *t = exec_session_output(s->exec, i);
    onnxi_tensor *o = &outputs[i];
    if (o->data && o->nbytes < t->nbytes)
      return err_set(err, ONNXI_ERR_INVALID_ARG,
                     "%s: output '%s': buffer of %zu bytes, %zu needed", m->path,
                     m->graph.values[m->graph.outputs[i]].name, o->nbytes, t->nbytes);
    o->dtype = (onnxi_dtype)t->dtype;
    o->rank = t->rank;
    memcpy(o->dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
    if (o->data) {
      if (t->nbytes) memcpy(o->data, t->data, t->nbytes);
    } else {
      o->data = t->data;
    }
    o->nbytes = t->nbytes;
  }
  return ONNXI_OK;
}

onnxi_status onnxi_session_run(onnxi_session *s, const onnxi_tensor *inputs, int n_inputs,
                               onnxi_tensor *outputs, int n_outputs, onnxi_error *err) {
  if (!s) return err_set(err, ONNXI_ERR_INVALID_ARG, "session is NULL");
  const ir_graph *g = &s->exec->model->graph;
  if (n_inputs != g->n_inputs || n_outputs != g->n_outputs || (n_inputs && !inputs) ||
      (n_outputs && !outputs))
    return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: %d inputs and %d outputs given, model has %d and %d",
                   s->exec->model->path, n_inputs, n_outputs, g->n_inputs, g->n_outputs);
  onnxi_status st = session_inputs_check(s, inputs, err);
  if (st == ONNXI_OK)
    st = exec_session_prepare(s->exec, s->ranks, (const int64_t(*)[IR_MAX_RANK])s->dims,
                              s->feed, err);
  if (st == ONNXI_OK) st = exec_session_run(s->exec, s->feed, err);
  if (st == ONNXI_OK) st = session_outputs_give(s, outputs, err);
  return st;
}
