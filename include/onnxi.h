/* onnxi: load ONNX models exported from PyTorch and run them on the CPU.
 *
 * Every call takes an optional `onnxi_error *` as its last argument and
 * returns a status; on failure the message names the file, node and field.
 * Handles are opaque; there is no global state beyond XNNPACK's one-time
 * initialisation. */
#ifndef ONNXI_H
#define ONNXI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum onnxi_status {
  ONNXI_OK = 0,
  ONNXI_ERR_IO,            /* file could not be opened, read or mapped */
  ONNXI_ERR_PARSE,         /* bytes are not a valid ModelProto */
  ONNXI_ERR_INVALID_MODEL, /* well-formed protobuf, inconsistent model */
  ONNXI_ERR_UNSUPPORTED,   /* valid ONNX we do not implement */
  ONNXI_ERR_NO_MEMORY,
  ONNXI_ERR_LIMIT,         /* a configured size or count limit was hit */
  ONNXI_ERR_INVALID_ARG,   /* caller passed a bad argument */
  ONNXI_ERR_RUNTIME        /* failure while running (e.g. index out of range) */
} onnxi_status;

#define ONNXI_ERROR_MAX 1024

typedef struct onnxi_error {
  onnxi_status status;
  char message[ONNXI_ERROR_MAX];
} onnxi_error;

/* Element types use ONNX TensorProto.DataType numbers. */
typedef enum onnxi_dtype {
  ONNXI_DTYPE_UNDEFINED = 0,
  ONNXI_DTYPE_FLOAT = 1,
  ONNXI_DTYPE_UINT8 = 2,
  ONNXI_DTYPE_INT8 = 3,
  ONNXI_DTYPE_UINT16 = 4,
  ONNXI_DTYPE_INT16 = 5,
  ONNXI_DTYPE_INT32 = 6,
  ONNXI_DTYPE_INT64 = 7,
  ONNXI_DTYPE_STRING = 8,
  ONNXI_DTYPE_BOOL = 9,
  ONNXI_DTYPE_FLOAT16 = 10,
  ONNXI_DTYPE_DOUBLE = 11,
  ONNXI_DTYPE_UINT32 = 12,
  ONNXI_DTYPE_UINT64 = 13,
  ONNXI_DTYPE_BFLOAT16 = 16
} onnxi_dtype;

#define ONNXI_MAX_RANK 8

typedef struct onnxi_model onnxi_model;

typedef struct onnxi_load_options {
  /* Total bytes of weights (initializers, external data) and model metadata
   * accepted; 0 = the machine's physical memory. */
  uint64_t max_weight_bytes;
  /* Graph passes not to run: comma-separated names ("fold,bn-fold"), or
   * "all". NULL runs every pass (see `onnxi dump --passes`). */
  const char *disable_passes;
} onnxi_load_options;

/* Tensor description: dims[i] < 0 means a dimension not known until run time;
 * dim_names[i] is its symbolic name (or NULL). */
typedef struct onnxi_tensor_info {
  const char *name;
  onnxi_dtype dtype;
  int rank; /* -1 when the rank itself is unknown */
  int64_t dims[ONNXI_MAX_RANK];
  const char *dim_names[ONNXI_MAX_RANK];
} onnxi_tensor_info;

onnxi_status onnxi_model_load_file(const char *path, const onnxi_load_options *opts,
                                   onnxi_model **out, onnxi_error *err);
/* `name` is used in error messages in place of a file name. */
onnxi_status onnxi_model_load_buffer(const void *data, size_t size, const char *name,
                                     const onnxi_load_options *opts, onnxi_model **out,
                                     onnxi_error *err);
void onnxi_model_free(onnxi_model *model);

int onnxi_model_input_count(const onnxi_model *model);
int onnxi_model_output_count(const onnxi_model *model);
onnxi_status onnxi_model_input_info(const onnxi_model *model, int index,
                                    onnxi_tensor_info *info, onnxi_error *err);
onnxi_status onnxi_model_output_info(const onnxi_model *model, int index,
                                     onnxi_tensor_info *info, onnxi_error *err);

/* --- running ----------------------------------------------------------------
 * A session holds the kernels and buffers for one thread of execution over a
 * loaded model; the model itself is read-only and may back several sessions
 * used from different threads. A session is not for concurrent use. */
typedef struct onnxi_session onnxi_session;

typedef struct onnxi_session_options {
  int threads; /* 0 = one per core, 1 = the calling thread only */
  /* Cap on the model's weights plus the memory a run plans (activations,
   * constants computed at plan time); a plan over it fails with
   * ONNXI_ERR_LIMIT before allocating. 0 = the machine's physical memory. */
  uint64_t max_memory_bytes;
  /* Cap on the arithmetic one run may need, estimated from the plan's shapes
   * (2 x multiply-adds of Conv/Gemm/MatMul/Einsum, window taps of pooling,
   * elements read and written elsewhere; constants folded at plan time
   * count): a plan over it fails with ONNXI_ERR_LIMIT before running. For
   * services that run untrusted models; ResNet-50 at 224 px is ~8.3e9.
   * 0 = no cap. */
  uint64_t max_run_ops;
} onnxi_session_options;

/* A tensor passed to or returned from a run. Inputs: dtype, rank, dims and
 * data must be set (dense row-major, NCHW for images). Outputs: set data to a
 * buffer of nbytes to have the result copied there (caller-owned), or leave
 * data NULL to receive a pointer to the session's own buffer, valid until the
 * next run or onnxi_session_free (library-owned). STRING elements are
 * onnxi_string. */
typedef struct onnxi_tensor {
  onnxi_dtype dtype;
  int rank;
  int64_t dims[ONNXI_MAX_RANK];
  void *data;
  size_t nbytes;
} onnxi_tensor;

typedef struct onnxi_string {
  size_t len;
  char *data;
} onnxi_string;

onnxi_status onnxi_session_create(const onnxi_model *model, const onnxi_session_options *opts,
                                  onnxi_session **out, onnxi_error *err);
/* inputs and outputs are in the model's declared order (onnxi_model_*_info). */
onnxi_status onnxi_session_run(onnxi_session *session, const onnxi_tensor *inputs,
                               int n_inputs, onnxi_tensor *outputs, int n_outputs,
                               onnxi_error *err);
int onnxi_session_threads(const onnxi_session *session);
void onnxi_session_free(onnxi_session *session);

const char *onnxi_status_string(onnxi_status status);
const char *onnxi_dtype_name(onnxi_dtype dtype);
size_t onnxi_dtype_size(onnxi_dtype dtype); /* 0 for STRING and UNDEFINED */

#ifdef __cplusplus
}
#endif
#endif
