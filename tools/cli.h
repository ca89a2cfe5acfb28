/* Shared declarations of the onnxi command-line tool.
 *
 * Each subcommand lives in its own tools/cmd_<name>.c, exports one
 * `int cmd_<name>(int argc, char **argv)` (argv[0] is the subcommand's name)
 * and gets one row in the table in tools/onnxi.c. */
#ifndef ONNXI_CLI_H
#define ONNXI_CLI_H

#include "err.h"

#ifndef ONNXI_VERSION_STRING
#define ONNXI_VERSION_STRING "0.1.0"
#endif

/* Exit codes shared by every subcommand. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAIL = 1, /* the model could not be loaded (or output not written) */
  CLI_EXIT_USAGE = 2 /* bad command line */
};

typedef struct cli_command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *help; /* one line for `onnxi --help` */
} cli_command;

/* Prints "onnxi CMD: MESSAGE" and a hint to run `onnxi CMD --help` to
 * stderr; returns CLI_EXIT_USAGE so callers can `return cli_usage_error(...)`. */
int cli_usage_error(const char *cmd, const char *fmt, ...) ONNXI_PRINTF(2, 3);

/* Prints "onnxi: MESSAGE" to stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) ONNXI_PRINTF(1, 2);

/* Milliseconds on CLOCK_MONOTONIC, for --time. */
double cli_now_ms(void);

int cmd_dump(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
