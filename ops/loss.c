/* Loss ops: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
 *
 * Input [N, C, D...] is viewed as [N, C, D] (D = product of the trailing dims), target
 * as [N, D]. Each position's loss is -input[n, target, d] times its weight (weight[target],
 * or 1), and 0 with weight 0 where target == ignore_index. Reductions: 'none' (target's
 * shape), 'sum', and 'mean' = sum of losses / sum of weights, which is what ONNX's
 * reference computes. SoftmaxCrossEntropyLoss first takes the log-softmax over C (its
 * optional second output). Math in double; float, double, float16 and bfloat16 data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

enum { LOSS_NONE, LOSS_SUM, LOSS_MEAN };

typedef struct loss_state {
  bool softmax;       /* SoftmaxCrossEntropyLoss */
  int reduction;
  bool has_ignore;
  int64_t ignore;
  int64_t n, c, d;    /* setup */
  double *logp;       /* softmax: log-probabilities [N*C*D] when not output */
  size_t logp_cap;
} loss_state;

static bool loss_float_ok(int32_t dt) {
  return dt == ONNXI_DTYPE_FLOAT || dt == ONNXI_DTYPE_DOUBLE || dt == ONNXI_DTYPE_FLOAT16 ||
         dt == ONNXI_DTYPE_BFLOAT16;
}

static double loss_get(const op_tensor *t, int64_t i) {
  switch (t->dtype) {
  case ONNXI_DTYPE_FLOAT: return ((const float *)t->data)[i];
  case ONNXI_DTYPE_DOUBLE: return ((const double *)t->data)[i];
  case ONNXI_DTYPE_FLOAT16: return op_f16_to_f32(((const uint16_t *)t->data)[i]);
  default: return op_bf16_to_f32(((const uint16_t *)t->data)[i]);
  }
}

static void loss_put(op_tensor *t, int64_t i, double v) {
  switch (t->dtype) {
  case ONNXI_DTYPE_FLOAT: ((float *)t->data)[i] = (float)v; break;
  case ONNXI_DTYPE_DOUBLE: ((double *)t->data)[i] = v; break;
  case ONNXI_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = op_f32_to_f16((float)v); break;
  default: ((uint16_t *)t->data)[i] = op_f32_to_bf16((float)v); break;
  }
}

static onnxi_status loss_init(op_context *ctx, loss_state *s, bool softmax) {
  s->softmax = softmax;
  const char *r;
  onnxi_status st = op_io_check(ctx, 2, 3, 1, softmax ? 2 : 1);
  if (st == ONNXI_OK) st = op_attr_string(ctx, "reduction", "mean", &r);
  if (st == ONNXI_OK) st = op_attr_int(ctx, "ignore_index", 0, &s->ignore);
  if (st != ONNXI_OK) return st;
  s->has_ignore = ir_node_attr(ctx->node, "ignore_index") != NULL;
  if (!strcmp(r, "none"))
    s->reduction = LOSS_NONE;
  else if (!strcmp(r, "sum"))
    s->reduction = LOSS_SUM;
  else if (!strcmp(r, "mean"))
    s->reduction = LOSS_MEAN;
  else
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "attribute 'reduction': '%s' is not none, sum or mean", r);
  return ONNXI_OK;
}

static onnxi_status nll_init(op_context *ctx, void *state) { return loss_init(ctx, state, false); }
static onnxi_status sce_init(op_context *ctx, void *state) { return loss_init(ctx, state, true); }

static onnxi_status loss_infer(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  loss_state *s = state;
  const op_tensor *x = in[0], *t = in[1], *w = n_in > 2 ? in[2] : NULL;
  if (!loss_float_ok(x->dtype))
    return op_error(ctx, ONNXI_ERR_UNSUPPORTED, "input dtype %s is not supported",
                    onnxi_dtype_name((onnxi_dtype)x->dtype));
  if (x->rank < 2)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input must have rank >= 2 (N, C, ...)");
  if (t->dtype != ONNXI_DTYPE_INT64 && t->dtype != ONNXI_DTYPE_INT32)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL, "input 'target' must be int32 or int64");
  bool ok = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
  for (int i = 1; ok && i < t->rank; i++) ok = t->dims[i] == x->dims[i + 1];
  if (!ok)
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "input 'target' must have the input's shape without dim 1 (C)");
  if (w && (w->dtype != x->dtype || w->rank != 1 || w->dims[0] != x->dims[1]))
    return op_error(ctx, ONNXI_ERR_INVALID_MODEL,
                    "input 'weight' must be a vector of C = %lld values of the input's dtype",
                    (long long)x->dims[1]);
  out[0]->dtype = x->dtype;
  out[0]->layout = IR_LAYOUT_PLAIN;
  out[0]->rank = s->reduction == LOSS_NONE ? t->rank : 0;
  memcpy(out[0]->dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
  if (n_out > 1 && out[1]) {
    op_tensor_like(out[1], x);
    out[1]->layout = IR_LAYOUT_PLAIN;
  }
  return ONNXI_OK;
}

static onnxi_status loss_setup(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                               op_tensor *const *out, int n_out) {
  (void)n_in, (void)out, (void)n_out;
  loss_state *s = state;
  const op_tensor *x = in[0];
  s->n = x->dims[0];
  s->c = x->dims[1];
  s->d = 1;
  for (int i = 2; i < x->rank; i++) s->d *= x->dims[i];
  if (!s->softmax) return ONNXI_OK;
  size_t need = sizeof(double) * (size_t)(x->count ? x->count : 1);
  if (need <= s->logp_cap) return ONNXI_OK;
  free(s->logp);
  s->logp = malloc(need);
  s->logp_cap = s->logp ? need : 0;
  return s->logp ? ONNXI_OK : op_error(ctx, ONNXI_ERR_NO_MEMORY, "out of memory");
}

/* log-softmax over C of every (n, d) column, into s->logp. */
static void loss_log_softmax(loss_state *s, const op_tensor *x) {
  for (int64_t n = 0; n < s->n; n++) {
    for (int64_t d = 0; d < s->d; d++) {
      int64_t base = n * s->c * s->d + d;
      double m = -INFINITY, sum = 0;
      for (int64_t c = 0; c < s->c; c++) {
        double v = loss_get(x, base + c * s->d);
        m = v > m ? v : m;
      }
      for (int64_t c = 0; c < s->c; c++) sum += exp(loss_get(x, base + c * s->d) - m);
      double lse = m + log(sum);
      for (int64_t c = 0; c < s->c; c++)
        s->logp[base + c * s->d] = loss_get(x, base + c * s->d) - lse;
    }
  }
}

static onnxi_status loss_run(op_context *ctx, void *state, op_tensor *const *in, int n_in,
                             op_tensor *const *out, int n_out) {
  loss_state *s = state;
  const op_tensor *x = in[0], *t = in[1], *w = n_in > 2 ? in[2] : NULL;
  if (s->softmax) loss_log_softmax(s, x);
  double total = 0, wsum = 0;
  for (int64_t n = 0; n < s->n; n++) {
    for (int64_t d = 0; d < s->d; d++) {
      int64_t i = n * s->d + d, c = op_tensor_int_at(t, i);
      double loss = 0, wt = 0;
      if (!(s->has_ignore && c == s->ignore)) {
        if (c < 0 || c >= s->c)
          return op_error(ctx, ONNXI_ERR_RUNTIME, "target %lld (at %lld) is not a class in [0, %lld)",
                          (long long)c, (long long)i, (long long)s->c);
        int64_t xi = (n * s->c + c) * s->d + d;
        wt = w ? loss_get(w, c) : 1.0;
        loss = -(s->softmax ? s->logp[xi] : loss_get(x, xi)) * wt;
      }
      if (s->reduction == LOSS_NONE) loss_put(out[0], i, loss);
      total += loss;
      wsum += wt;
    }
  }
  if (s->reduction == LOSS_SUM) loss_put(out[0], 0, total);
  if (s->reduction == LOSS_MEAN) loss_put(out[0], 0, total / wsum);
  if (s->softmax && n_out > 1 && out[1])
    for (int64_t i = 0; i < x->count; i++) loss_put(out[1], i, s->logp[i]);
  return ONNXI_OK;
}

static void loss_release(void *state) {
  loss_state *s = state;
  free(s->logp);
}

#define LOSS_KERNEL(k, n, init_fn)                                                 \
  const op_kernel op_##k = {.name = n,                                             \
                            .state_size = sizeof(loss_state),                      \
                            .init = init_fn,                                       \
                            .infer = loss_infer,                                   \
                            .setup = loss_setup,                                   \
                            .run = loss_run,                                       \
                            .release = loss_release};
LOSS_KERNEL(negative_log_likelihood_loss, "NegativeLogLikelihoodLoss", nll_init)
LOSS_KERNEL(softmax_cross_entropy_loss, "SoftmaxCrossEntropyLoss", sce_init)
