/* Session lifecycle and the run loop. Planning lives in exec_plan.c. */
#include "exec.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xnnpack.h>

#include "act.h"
#include "arena.h"
#include "exec_internal.h"
#include "reorder.h"

static pthread_once_t exec_xnn_once = PTHREAD_ONCE_INIT;
static enum xnn_status exec_xnn_status = xnn_status_uninitialized;

/* XNNPACK's packed weights are large, written once at session creation:
 * give the big ones 2 MB pages (arena_os_alloc) to cut page faults. */
static void *exec_xnn_alloc(void *ctx, size_t size) {
  (void)ctx;
  return malloc(size);
}
static void *exec_xnn_realloc(void *ctx, void *p, size_t size) {
  (void)ctx;
  return realloc(p, size);
}
static void exec_xnn_free(void *ctx, void *p) {
  (void)ctx;
  free(p);
}
static void *exec_xnn_aligned_alloc(void *ctx, size_t alignment, size_t size) {
  (void)ctx;
  void *p = NULL;
  if (alignment <= 64) return arena_os_alloc(size);
  return posix_memalign(&p, alignment, size ? size : 1) ? NULL : p;
}

static const struct xnn_allocator exec_xnn_allocator = {
    .allocate = exec_xnn_alloc,
    .reallocate = exec_xnn_realloc,
    .deallocate = exec_xnn_free,
    .aligned_allocate = exec_xnn_aligned_alloc,
    .aligned_deallocate = exec_xnn_free,
};

static void exec_xnn_init(void) { exec_xnn_status = xnn_initialize(&exec_xnn_allocator); }

onnxi_status exec_model_check(const ir_model *m, onnxi_error *err) {
  const ir_graph *g = &m->graph;
  for (int32_t n = 0; n < g->n_nodes; n++) {
    const ir_node *node = &g->nodes[n];
    bool default_domain = !node->domain[0] || strcmp(node->domain, "ai.onnx") == 0;
    if (!default_domain || !op_kernel_find(node->op))
      return err_set(err, ONNXI_ERR_UNSUPPORTED,
                     "%s: node '%s' (%s): op '%s' of domain '%s' is not supported", m->path,
                     node->name, node->op_type, node->op_type,
                     node->domain[0] ? node->domain : "ai.onnx");
  }
  return ONNXI_OK;
}

void exec_context_init(const exec_session *s, int32_t node, exec_plan *p, onnxi_error *err,
                       op_context *ctx) {
  ctx->model = s->name;
  ctx->graph = &s->model->graph;
  ctx->node = node == IR_NONE ? NULL : &s->model->graph.nodes[node];
  ctx->opset = s->model->opset;
  ctx->threadpool = s->pool;
  ctx->err = err;
  ctx->plan = p;
  ctx->fused = NULL;
}

void exec_session_free(exec_session *s) {
  if (!s) return;
  if (s->plan) exec_plan_free(s->plan);
  const ir_graph *g = &s->model->graph;
  for (int32_t n = 0; s->kernels && n < g->n_nodes; n++) {
    if (s->inited && s->inited[n] && s->kernels[n] && s->kernels[n]->release)
      s->kernels[n]->release(s->states[n]);
    if (s->states) free(s->states[n]);
  }
  free(s->kernels);
  free(s->states);
  free(s->inited);
  if (s->pool) pthreadpool_destroy(s->pool);
  free(s);
}

/* One node's kernel: state, then init (weight packing) into its own error. */
static onnxi_status exec_node_init(exec_session *s, int32_t n, onnxi_error *err) {
  const op_kernel *k = op_kernel_find(s->model->graph.nodes[n].op);
  s->kernels[n] = k;
  if (k->state_size) {
    s->states[n] = calloc(1, k->state_size);
    if (!s->states[n]) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
  }
  s->inited[n] = true; /* release runs even after a failed init */
  op_context ctx;
  exec_context_init(s, n, NULL, err, &ctx);
  onnxi_status st = op_node_check(&ctx);
  if (st != ONNXI_OK || !k->init) return st;
  return k->init(&ctx, s->states[n]);
}

typedef struct exec_init_job {
  exec_session *s;
  onnxi_status *status; /* per node */
  onnxi_error *errs;    /* per node */
} exec_init_job;

static void exec_init_task(void *arg, size_t n) {
  exec_init_job *j = arg;
  j->status[n] = exec_node_init(j->s, (int32_t)n, &j->errs[n]);
}

/* Kernel inits are independent (each packs its own weights; XNNPACK's create
 * calls are thread-safe once it is initialized), so a session with a pool
 * runs them on it: weight packing is most of session creation (~115 ms of
 * ResNet-50's). The error reported is the first failing node's, as if in
 * order. */
static onnxi_status exec_session_init_kernels(exec_session *s, onnxi_error *err) {
  size_t nn = (size_t)s->model->graph.n_nodes;
  if (!s->pool || nn < 2) {
    for (size_t n = 0; n < nn; n++) {
      onnxi_status st = exec_node_init(s, (int32_t)n, err);
      if (st != ONNXI_OK) return st;
    }
    return ONNXI_OK;
  }
  exec_init_job j = {s, calloc(nn, sizeof *j.status), calloc(nn, sizeof *j.errs)};
  onnxi_status st = ONNXI_OK;
  if (!j.status || !j.errs) {
    st = err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
  } else {
    pthreadpool_parallelize_1d(s->pool, exec_init_task, &j, nn, 0);
    for (size_t n = 0; n < nn && st == ONNXI_OK; n++) {
      st = j.status[n];
      if (st != ONNXI_OK && err) *err = j.errs[n];
    }
  }
  free(j.status);
  free(j.errs);
  return st;
}

onnxi_status exec_xnnpack_init(onnxi_error *err) {
  pthread_once(&exec_xnn_once, exec_xnn_init);
  if (exec_xnn_status != xnn_status_success)
    return err_set(err, ONNXI_ERR_RUNTIME, "XNNPACK failed to initialize (status %d)",
                   (int)exec_xnn_status);
  return ONNXI_OK;
}

onnxi_status exec_session_create(const ir_model *m, int threads, exec_session **out,
                                 onnxi_error *err) {
  *out = NULL;
  onnxi_status st = exec_model_check(m, err);
  if (st == ONNXI_OK) st = exec_xnnpack_init(err);
  if (st != ONNXI_OK) return st;
  if (threads < 0) return err_set(err, ONNXI_ERR_INVALID_ARG, "thread count %d < 0", threads);
  exec_session *s = calloc(1, sizeof *s);
  if (!s) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
  s->model = m;
  s->name = m->path ? m->path : "<model>";
  s->max_bytes = arena_phys_bytes();
  size_t nn = (size_t)m->graph.n_nodes + 1;
  s->kernels = calloc(nn, sizeof *s->kernels);
  s->states = calloc(nn, sizeof *s->states);
  s->inited = calloc(nn, sizeof *s->inited);
  if (!s->kernels || !s->states || !s->inited) {
    st = err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
    goto fail;
  }
  if (threads != 1) {
    s->pool = pthreadpool_create((size_t)threads);
    if (!s->pool) {
      st = err_set(err, ONNXI_ERR_NO_MEMORY, "cannot create a thread pool of %d threads", threads);
      goto fail;
    }
  }
  s->threads = s->pool ? (int)pthreadpool_get_threads_count(s->pool) : 1;
  st = exec_session_init_kernels(s, err);
  if (st != ONNXI_OK) goto fail;
  *out = s;
  return ONNXI_OK;
fail:
  exec_session_free(s);
  return st;
}

onnxi_status exec_session_prepare(exec_session *s, const int32_t *ranks,
                                  const int64_t (*dims)[IR_MAX_RANK], const void *const *feed,
                                  onnxi_error *err) {
  if (s->plan && exec_plan_matches(s->plan, ranks, dims, feed)) return ONNXI_OK;
  if (s->plan) {
    exec_plan_free(s->plan);
    s->plan = NULL;
  }
  return exec_plan_build(s, ranks, dims, feed, &s->plan, err);
}

/* Steps touching fewer elements than this (largest input or output) run on
 * the calling thread: waking the pool's workers costs more than they save
 * on a few microseconds of work (SE blocks, shuffles, the classifier head
 * of small networks at 2 threads). ONNXI_SERIAL_ELEMS overrides (0: never). */
#define EXEC_SERIAL_ELEMS 16384

static int64_t exec_serial_elems(void) {
  static _Atomic int64_t cached = -1; /* every thread computes the same value */
  if (cached < 0) {
    const char *env = getenv("ONNXI_SERIAL_ELEMS");
    char *end;
    long long v = env ? strtoll(env, &end, 10) : -1;
    cached = env && *env && !*end && v >= 0 ? (int64_t)v : EXEC_SERIAL_ELEMS;
  }
  return cached;
}

static pthreadpool_t exec_step_pool(const exec_session *s, op_tensor *const *in, int32_t n_in,
                                    op_tensor *const *out, int32_t n_out) {
  int64_t most = 0, limit;
  if (!s->pool || (limit = exec_serial_elems()) == 0) return s->pool;
  for (int32_t k = 0; k < n_in; k++)
    if (in[k] && in[k]->count > most) most = in[k]->count;
  for (int32_t k = 0; k < n_out; k++)
    if (out[k] && out[k]->count > most) most = out[k]->count;
  return most < limit ? NULL : s->pool;
}

onnxi_status exec_step_run(exec_session *s, const exec_step *step, onnxi_error *err) {
  exec_plan *p = s->plan;
  op_tensor *in[EXEC_MAX_IO], *outs[EXEC_MAX_IO];
  for (int32_t k = 0; k < step->n_in; k++)
    in[k] = step->ins[k] == IR_NONE ? NULL : &p->tensors[step->ins[k]].t;
  bool empty = true;
  for (int32_t k = 0; k < step->n_out; k++) {
    outs[k] = step->outs[k] == IR_NONE ? NULL : &p->tensors[step->outs[k]].t;
    empty &= !outs[k] || !outs[k]->nbytes;
  }
  /* Nothing to compute; and a zero-size tensor may still have huge other
   * dims (e.g. [1, 2^40, 0]), which loops in kernels would walk. */
  if (empty) return ONNXI_OK;
  if (step->node == IR_NONE) {
    reorder_run(in[0], outs[0], exec_dtype_elem_size(in[0]->dtype),
                exec_step_pool(s, in, step->n_in, outs, step->n_out));
    return ONNXI_OK;
  }
  op_context ctx;
  exec_context_init(s, step->node, NULL, err, &ctx);
  ctx.threadpool = exec_step_pool(s, in, step->n_in, outs, step->n_out);
  return s->kernels[step->node]->run(&ctx, s->states[step->node], in, step->n_in, outs,
                                     step->n_out);
}

onnxi_status exec_session_run(exec_session *s, const void *const *feed, onnxi_error *err) {
  exec_plan *p = s->plan;
  if (!p) return err_set(err, ONNXI_ERR_INVALID_ARG, "run before prepare");
  const ir_graph *g = &s->model->graph;
  for (int32_t i = 0; i < g->n_inputs; i++) {
    op_tensor *t = &p->tensors[g->inputs[i]].t;
    if (t->nbytes && t->data != feed[i]) memcpy(t->data, feed[i], t->nbytes);
  }
  for (int32_t i = 0; i < p->n_steps; i++) {
    onnxi_status st = exec_step_run(s, &p->steps[i], err);
    if (st != ONNXI_OK) return st;
  }
  return ONNXI_OK;
}

const op_tensor *exec_session_output(const exec_session *s, int i) {
  if (!s->plan || i < 0 || i >= s->model->graph.n_outputs) return NULL;
  return &s->plan->tensors[s->plan->output_tensor[i]].t;
}

static const char *exec_layout_name(ir_layout l) { return l == IR_LAYOUT_NHWC ? "nhwc" : "plain"; }

static void exec_tensor_print(FILE *f, const exec_session *s, int32_t id) {
  if (id == IR_NONE) {
    fputs("-", f);
    return;
  }
  const exec_plan *p = s->plan;
  const exec_tensor *e = &p->tensors[id];
  const char *name = e->value != IR_NONE ? s->model->graph.values[e->value].name : "?";
  fprintf(f, "%s[", name);
  for (int d = 0; d < e->t.rank; d++) fprintf(f, d ? "x%lld" : "%lld", (long long)e->t.dims[d]);
  fprintf(f, "]%s", e->t.rank == 4 ? (e->t.layout == IR_LAYOUT_NHWC ? ":nhwc" : ":nchw") : "");
  if (e->t.is_const) {
    fputs("@const", f);
  } else if (e->group != IR_NONE) {
    const exec_group *g = &p->groups[e->group];
    if (g->pinned) fprintf(f, "@pinned:%zu", e->t.nbytes);
    else fprintf(f, "@%zu:%zu", p->mem.bufs[g->buffer].offset, e->t.nbytes);
  }
}

const char *exec_node_act_name(const ir_node *n) {
  const ir_attr *act = ir_node_attr(n, "onnxi.activation");
  return act && act->type == IR_ATTR_INT ? op_act_name((int)act->i) : "";
}

void exec_plan_print(FILE *f, const exec_session *s) {
  const exec_plan *p = s->plan;
  if (!p) {
    fputs("no plan\n", f);
    return;
  }
  fprintf(f, "execution plan: %d steps, activation arena %zu bytes, %d threads\n", p->n_steps,
          p->mem.arena_bytes, s->threads);
  for (int32_t i = 0; i < p->n_steps; i++) {
    const exec_step *st = &p->steps[i];
    if (st->node == IR_NONE) {
      fprintf(f, "%4d  reorder -> %s  (", i, exec_layout_name(p->tensors[st->outs[0]].t.layout));
    } else {
      const ir_node *n = &s->model->graph.nodes[st->node];
      const ir_node *c = st->fused != IR_NONE ? &s->model->graph.nodes[st->fused] : n;
      const ir_attr *lo = ir_node_attr(c, "onnxi.clamp_min"), *hi = ir_node_attr(c, "onnxi.clamp_max");
      const char *act_name = exec_node_act_name(n);
      fprintf(f, "%4d  %s%s%s%s%s '%s'  (", i, n->op_type, st->fused != IR_NONE ? "+Add" : "",
              lo || hi ? "+clamp" : "", *act_name ? "+" : "", act_name, n->name);
    }
    for (int32_t k = 0; k < st->n_in; k++) {
      if (k) fputs(", ", f);
      exec_tensor_print(f, s, st->ins[k]);
    }
    fputs(") -> (", f);
    for (int32_t k = 0; k < st->n_out; k++) {
      if (k) fputs(", ", f);
      exec_tensor_print(f, s, st->outs[k]);
    }
    fputs(")\n", f);
  }
}

int32_t exec_plan_value_shape(const exec_session *s, int32_t value, int64_t *dims) {
  if (!s->plan || value < 0 || value >= s->model->graph.n_values) return -1;
  const op_tensor *t = &s->plan->tensors[value].t;
  for (int d = 0; d < t->rank; d++) dims[d] = t->dims[d];
  return t->rank;
}
