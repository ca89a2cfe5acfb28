/* onnxi: command-line front end. `onnxi CMD ...` dispatches to the row of
 * cli_commands named CMD; adding a subcommand = one row + tools/cmd_<name>.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const cli_command cli_commands[] = {
    {"dump", cmd_dump, "print a model's graph as text, JSON or Graphviz DOT"},
    {"run", cmd_run, "run a model on images, .npy or .pb inputs; print top classes"},
    {"test", cmd_test, "run ONNX backend-test directories and compare outputs"},
    {"bench", cmd_bench, "time a model: load, latency, throughput, memory, per-step profile"},
};

enum { CLI_N_COMMANDS = (int)(sizeof cli_commands / sizeof cli_commands[0]) };

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "onnxi %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'onnxi %s --help' for usage.\n", cmd);
  return CLI_EXIT_USAGE;
}

int cli_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("onnxi: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return CLI_EXIT_FAIL;
}

double cli_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void cli_help_print(FILE *out) {
  fputs("usage: onnxi COMMAND [ARGS...]\n"
        "       onnxi --help | --version\n"
        "\ncommands:\n",
        out);
  for (int i = 0; i < CLI_N_COMMANDS; i++)
    fprintf(out, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].help);
  fputs("\nRun 'onnxi COMMAND --help' for a command's options.\n", out);
}

static const cli_command *cli_command_find(const char *name) {
  for (int i = 0; i < CLI_N_COMMANDS; i++)
    if (strcmp(cli_commands[i].name, name) == 0) return &cli_commands[i];
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    cli_help_print(stderr);
    return CLI_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
    /* `onnxi help CMD` is `onnxi CMD --help` */
    if (strcmp(name, "help") == 0 && argc > 2 && cli_command_find(argv[2])) {
      static char help_flag[] = "--help";
      char *sub[] = {argv[2], help_flag, NULL};
      return cli_command_find(argv[2])->fn(2, sub);
    }
    cli_help_print(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
    printf("onnxi %s\n", ONNXI_VERSION_STRING);
    return CLI_EXIT_OK;
  }
  const cli_command *cmd = cli_command_find(name);
  if (!cmd) {
    fprintf(stderr, "onnxi: unknown %s '%s'\nTry 'onnxi --help' for usage.\n",
            name[0] == '-' ? "option" : "command", name);
    return CLI_EXIT_USAGE;
  }
  return cmd->fn(argc - 1, argv + 1);
}
