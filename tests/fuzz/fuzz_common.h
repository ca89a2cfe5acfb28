/* Shared by the fuzz targets: one load + plan + run of a model through the
 * public API, with every input filled from the fuzzer's bytes. Header-only
 * so each target stays one file. */
#ifndef ONNXI_FUZZ_COMMON_H
#define ONNXI_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnxi.h"

/* Caps that keep one execution small: fuzzing finds logic bugs, not how much
 * memory a model may ask for (the caps themselves are what is tested there). */
#define FUZZ_MAX_MEMORY (64u << 20)
#define FUZZ_MAX_ELEMS (1u << 20)
/* Valid models can still be slow (a 50 s generic Einsum, a huge reference
 * conv): libFuzzer would report them as hangs. ~1e8 operations is well under
 * a second even in the sanitizer build. */
#define FUZZ_MAX_RUN_OPS 100000000u

/* Fills input i (unknown dims -> 1) with bytes from fill, cycled. */
static int fuzz_input_make(const onnxi_model *m, int i, const uint8_t *fill, size_t nfill,
                           onnxi_tensor *t) {
  onnxi_tensor_info info;
  if (onnxi_model_input_info(m, i, &info, NULL) != ONNXI_OK) return 0;
  size_t elem = onnxi_dtype_size(info.dtype), count = 1;
  if (!elem) return 0; /* strings: not fed */
  memset(t, 0, sizeof *t);
  t->dtype = info.dtype;
  t->rank = info.rank < 0 ? 1 : info.rank;
  for (int d = 0; d < t->rank; d++) {
    t->dims[d] = info.dims[d] < 0 ? 1 : info.dims[d];
    if (t->dims[d] && count > FUZZ_MAX_ELEMS / (size_t)t->dims[d]) return 0;
    count *= (size_t)t->dims[d];
  }
  t->nbytes = count * elem;
  uint8_t *p = malloc(t->nbytes + 1);
  if (!p) return 0;
  for (size_t k = 0; k < t->nbytes; k++) p[k] = nfill ? fill[k % nfill] : 0;
  /* floats from arbitrary bytes may be NaN/Inf: that is fine input too */
  t->data = p;
  return 1;
}

/* Session, one run with inputs from fill, everything freed. */
static void fuzz_model_run(const onnxi_model *m, const uint8_t *fill, size_t nfill) {
  onnxi_session_options so = {
      .threads = 1, .max_memory_bytes = FUZZ_MAX_MEMORY, .max_run_ops = FUZZ_MAX_RUN_OPS};
  onnxi_session *s = NULL;
  if (onnxi_session_create(m, &so, &s, NULL) != ONNXI_OK) return;
  int ni = onnxi_model_input_count(m), no = onnxi_model_output_count(m), ok = 1;
  onnxi_tensor *in = calloc((size_t)ni + 1, sizeof *in);
  onnxi_tensor *out = calloc((size_t)no + 1, sizeof *out);
  for (int i = 0; ok && in && i < ni; i++) ok = fuzz_input_make(m, i, fill, nfill, &in[i]);
  if (ok && in && out) onnxi_session_run(s, in, ni, out, no, NULL);
  for (int i = 0; in && i < ni; i++) free(in[i].data);
  free(in);
  free(out);
  onnxi_session_free(s);
}

#endif
