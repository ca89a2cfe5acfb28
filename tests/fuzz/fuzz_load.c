/* libFuzzer target (a): the loader on raw bytes. A model that loads is also
 * planned and run once, inputs filled with zeros. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  onnxi_model *m = NULL;
  onnxi_load_options lo = {.max_weight_bytes = FUZZ_MAX_MEMORY};
  if (onnxi_model_load_buffer(data, size, "fuzz.onnx", &lo, &m, NULL) != ONNXI_OK) return 0;
  fuzz_model_run(m, NULL, 0);
  onnxi_model_free(m);
  return 0;
}
