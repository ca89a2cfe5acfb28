#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

onnxi_status err_set(onnxi_error *err, onnxi_status status, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->status = status;
  }
  return status;
}

onnxi_status err_prefix(onnxi_error *err, onnxi_status status, const char *fmt, ...) {
  if (!err) return status;
  char head[ONNXI_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(head, sizeof head, fmt, ap);
  va_end(ap);
  if (n < 0) return status;
  /* Truncation is acceptable: the head is the most specific context. */
  size_t hl = (size_t)n < sizeof head - 1 ? (size_t)n : sizeof head - 1;
  if (hl + 2 >= sizeof err->message) hl = sizeof err->message - 3;
  size_t ol = strnlen(err->message, sizeof err->message - 1);
  if (ol > sizeof err->message - 3 - hl) ol = sizeof err->message - 3 - hl;
  memmove(err->message + hl + 2, err->message, ol);
  memcpy(err->message, head, hl);
  err->message[hl] = ':';
  err->message[hl + 1] = ' ';
  err->message[hl + 2 + ol] = '\0';
  return status;
}

void err_clear(onnxi_error *err) {
  if (err) {
    err->status = ONNXI_OK;
    err->message[0] = '\0';
  }
}

const char *onnxi_status_string(onnxi_status status) {
  switch (status) {
  case ONNXI_OK: return "ok";
  case ONNXI_ERR_IO: return "I/O error";
  case ONNXI_ERR_PARSE: return "parse error";
  case ONNXI_ERR_INVALID_MODEL: return "invalid model";
  case ONNXI_ERR_UNSUPPORTED: return "unsupported";
  case ONNXI_ERR_NO_MEMORY: return "out of memory";
  case ONNXI_ERR_LIMIT: return "limit exceeded";
  case ONNXI_ERR_INVALID_ARG: return "invalid argument";
  case ONNXI_ERR_RUNTIME: return "runtime error";
  }
  return "unknown status";
}
