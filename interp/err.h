/* Error reporting: every internal function returns an onnxi_status and, on
 * failure, fills an onnxi_error (which may be NULL) with a message that names
 * the file, node and field at fault. */
#ifndef ONNXI_ERR_H
#define ONNXI_ERR_H

#include "onnxi.h"

#if defined(__GNUC__)
#define ONNXI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ONNXI_PRINTF(f, a)
#endif

/* Sets err (if non-NULL) and returns status, so callers can `return err_set(...)`. */
onnxi_status err_set(onnxi_error *err, onnxi_status status, const char *fmt, ...)
    ONNXI_PRINTF(3, 4);

/* Prepends "prefix: " to an already-set message (adds context on the way up)
 * and returns `status` (err may be NULL). */
onnxi_status err_prefix(onnxi_error *err, onnxi_status status, const char *fmt, ...)
    ONNXI_PRINTF(3, 4);

void err_clear(onnxi_error *err);

#endif
