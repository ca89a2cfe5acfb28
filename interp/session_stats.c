/* Plan figures and the profiled run loop (see session_stats.h). */
#include "session_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec_internal.h"
#include "exec_work.h"

size_t exec_session_arena_bytes(const exec_session *s) {
  return s && s->plan ? s->plan->mem.arena_bytes : 0;
}

size_t exec_session_pinned_bytes(const exec_session *s) {
  if (!s || !s->plan) return 0;
  size_t total = 0;
  for (int32_t g = 0; g < s->plan->n_groups; g++)
    if (s->plan->groups[g].pinned_data) total += s->plan->groups[g].size;
  return total;
}

int32_t exec_session_step_count(const exec_session *s) {
  return s && s->plan ? s->plan->n_steps : 0;
}

/* Wall clock, or with ONNXI_PROFILE_CLOCK=cpu the calling thread's CPU time:
 * at 1 thread on a shared machine that leaves out time spent descheduled. */
static double stats_now_ms(void) {
  static _Atomic int use_cpu = -1;
  if (use_cpu < 0) {
    const char *env = getenv("ONNXI_PROFILE_CLOCK");
    use_cpu = env && !strcmp(env, "cpu");
  }
  struct timespec ts;
  clock_gettime(use_cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

onnxi_status exec_session_run_profiled(exec_session *s, const void *const *feed, double *step_ms,
                                       onnxi_error *err) {
  exec_plan *p = s->plan;
  if (!p) return err_set(err, ONNXI_ERR_INVALID_ARG, "run before prepare");
  const ir_graph *g = &s->model->graph;
  for (int32_t i = 0; i < g->n_inputs; i++) { /* as exec_session_run */
    op_tensor *t = &p->tensors[g->inputs[i]].t;
    if (t->nbytes && t->data != feed[i]) memcpy(t->data, feed[i], t->nbytes);
  }
  for (int32_t i = 0; i < p->n_steps; i++) {
    double t0 = stats_now_ms();
    onnxi_status st = exec_step_run(s, &p->steps[i], err);
    step_ms[i] += stats_now_ms() - t0;
    if (st != ONNXI_OK) return st;
  }
  return ONNXI_OK;
}

static const op_tensor *stats_tensor(const exec_plan *p, const int32_t *ids, int32_t n, int32_t k) {
  return k < n && ids[k] != IR_NONE ? &p->tensors[ids[k]].t : NULL;
}

/* "+Relu" for a fused clamp [0, inf), else "+Clip(lo,hi)"; "" without one. */
static void stats_clamp_label(const ir_node *node, char *buf, size_t len) {
  const ir_attr *lo = ir_node_attr(node, "onnxi.clamp_min");
  const ir_attr *hi = ir_node_attr(node, "onnxi.clamp_max");
  buf[0] = '\0';
  if ((lo && lo->type != IR_ATTR_FLOAT) || (hi && hi->type != IR_ATTR_FLOAT) || (!lo && !hi))
    return;
  double l = lo ? lo->f : -INFINITY, h = hi ? hi->f : INFINITY;
  if (l == 0.0 && !hi) snprintf(buf, len, "+Relu");
  else snprintf(buf, len, "+Clip(%g,%g)", l, h);
}

static const char *stats_layout_name(const op_tensor *t) {
  if (t->layout == IR_LAYOUT_NHWC) return "NHWC";
  return t->rank == 4 ? "NCHW" : "plain";
}

void exec_step_describe(const exec_session *s, int32_t step, exec_step_info *info) {
  const exec_plan *p = s->plan;
  const exec_step *st = &p->steps[step];
  const ir_graph *g = &s->model->graph;
  memset(info, 0, sizeof *info);
  info->path = st->node == IR_NONE ? "reorder" : "";
  info->out = stats_tensor(p, st->outs, st->n_out, 0);
  int32_t og = st->n_out > 0 && st->outs[0] != IR_NONE ? p->tensors[st->outs[0]].group : IR_NONE;
  for (int32_t k = 0; og != IR_NONE && k < st->n_in; k++)
    info->in_place |= st->ins[k] != IR_NONE && p->tensors[st->ins[k]].group == og;
  if (st->node == IR_NONE) {
    const op_tensor *in = stats_tensor(p, st->ins, st->n_in, 0);
    int32_t v = st->ins[0] != IR_NONE ? p->tensors[st->ins[0]].value : IR_NONE;
    info->name = v != IR_NONE ? g->values[v].name : "?";
    snprintf(info->op, sizeof info->op, "Reorder(%s>%s)", in ? stats_layout_name(in) : "?",
             info->out ? stats_layout_name(info->out) : "?");
    return;
  }
  const ir_node *node = &g->nodes[st->node];
  char clamp[48];
  stats_clamp_label(st->fused != IR_NONE ? &g->nodes[st->fused] : node, clamp, sizeof clamp);
  info->name = node->name;
  const char *act_name = exec_node_act_name(node);
  snprintf(info->op, sizeof info->op, "%.40s%s%s%s%s", node->op_type,
           st->fused != IR_NONE ? "+Add" : "", clamp, *act_name ? "+" : "", act_name);
  info->flops = exec_node_flops(node, stats_tensor(p, st->ins, st->n_in, 0),
                                stats_tensor(p, st->ins, st->n_in, 1),
                                stats_tensor(p, st->outs, st->n_out, 0));
  const op_kernel *k = s->kernels[st->node];
  const char *path = k && k->path ? k->path(s->states[st->node]) : NULL;
  if (path) info->path = path;
}
