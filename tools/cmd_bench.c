/* `onnxi bench MODEL`: load time, first-run time, latency statistics,
 * throughput, peak RSS and arena size; --profile adds a per-step table. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cli.h"
#include "model.h"
#include "session_stats.h"
#include "tensor_io.h"

#define BENCH_MAX_INPUTS 64
#define BENCH_MAX_RUNS 1000000

static const char cmd_bench_usage[] =
    "usage: onnxi bench MODEL [options]\n"
    "\n"
    "Loads MODEL, runs it --warmup times untimed, then --runs times timed, and\n"
    "prints load time (parse + passes + session creation with weight packing),\n"
    "first-run time (planning included), latency min/median/p90, throughput,\n"
    "peak RSS and the activation arena size. Inputs are deterministic random\n"
    "values unless given.\n"
    "\n"
    "  --runs N               timed runs (default 20)\n"
    "  --warmup N             untimed runs before them (default 3)\n"
    "  --warmup-ms T          ... and more until they took T ms (default 0; as\n"
    "                         TFLite's --warmup_min_secs: on a VM the first few\n"
    "                         hundred ms of runs are slower, for any engine)\n"
    "  --threads N            threads (default: one per core)\n"
    "  --batch B              batch size when the model's batch dim is symbolic\n"
    "  --input [NAME=]FILE    input data (.npy, .pb or image; repeatable)\n"
    "  --inputs DIR           read every input not given by --input from DIR/NAME.npy\n"
    "  --save-inputs DIR      write the inputs used as DIR/NAME.npy (NAME with\n"
    "                         characters other than [A-Za-z0-9_.-] as '_')\n"
    "  --disable-passes LIST  graph passes not to run (see onnxi dump --passes)\n"
    "  --profile              per-step table: op, kernel path, output shape, time share,\n"
    "                         ms, GFLOP/s (ONNXI_CONV=xnn|blas: dense convs on XNNPACK\n"
    "                         or BLIS; ONNXI_PROFILE_CLOCK=cpu: step times in thread\n"
    "                         CPU time, for 1-thread runs on a busy machine)\n"
    "                         (extra --runs profiled runs after the timed ones)\n"
    "  --json                 print one JSON object instead of text\n";

typedef struct bench_args {
  const char *model;
  const char *input_names[BENCH_MAX_INPUTS];
  const char *input_files[BENCH_MAX_INPUTS];
  int n_inputs;
  const char *inputs_dir, *save_dir, *disable_passes;
  int runs, warmup, warmup_ms, threads, batch;
  bool json, profile;
} bench_args;

typedef struct bench_result {
  double model_ms, session_ms, first_ms;
  int warmup_done; /* warm-up runs made: --warmup, or more for --warmup-ms */
  double *lat; /* per timed run */
  double min, median, p90, mean, max;
  double *step_ms; /* per step, summed over the profiled runs */
  int32_t n_steps;
  size_t arena_bytes, pinned_bytes;
  uint64_t peak_rss;
  int threads;
  int64_t batch;
} bench_result;

typedef struct bench_feed {
  onnxi_tensor in[BENCH_MAX_INPUTS];
  const void *data[BENCH_MAX_INPUTS];
  int32_t ranks[BENCH_MAX_INPUTS];
  int64_t dims[BENCH_MAX_INPUTS][IR_MAX_RANK];
  int n;
} bench_feed;

/* --- arguments ---------------------------------------------------------------- */

static bool bench_int_parse(const char *s, int lo, int hi, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno || v < lo || v > hi) return false;
  *out = (int)v;
  return true;
}

static int bench_input_add(bench_args *a, const char *spec) {
  if (a->n_inputs == BENCH_MAX_INPUTS) return cli_usage_error("bench", "too many --input");
  char *name;
  if (!tensor_input_spec_split(spec, &name, &a->input_files[a->n_inputs])) return cli_fail("out of memory");
  a->input_names[a->n_inputs++] = name;
  return -1;
}

/* Options taking a number; returns -1 to go on, else an exit code. */
static int bench_number_option(bench_args *a, const char *o, const char *v) {
  int *dst = !strcmp(o, "--runs") ? &a->runs : !strcmp(o, "--warmup") ? &a->warmup
             : !strcmp(o, "--warmup-ms") ? &a->warmup_ms
             : !strcmp(o, "--threads") ? &a->threads : &a->batch;
  int lo = dst == &a->runs || dst == &a->batch ? 1 : 0;
  int hi = dst == &a->threads ? 1024 : dst == &a->batch ? 1 << 20
           : dst == &a->warmup_ms ? 600000 : BENCH_MAX_RUNS;
  if (!bench_int_parse(v, lo, hi, dst))
    return cli_usage_error("bench", "%s: '%s' is not an integer in [%d, %d]", o, v, lo, hi);
  return -1;
}

static bool bench_takes_value(const char *o) {
  static const char *const opts[] = {"--runs", "--warmup", "--warmup-ms", "--threads", "--batch", "--input",
                                     "-i", "--inputs", "--save-inputs", "--disable-passes"};
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
    if (!strcmp(o, opts[i])) return true;
  return false;
}

/* Returns -1 to go on, else the exit code. */
static int bench_args_parse(int argc, char **argv, bench_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = bench_takes_value(o);
    if (takes && !v) return cli_usage_error("bench", "%s needs a value", o);
    if (takes) i++;
    int rc = -1;
    if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
      fputs(cmd_bench_usage, stdout);
      return CLI_EXIT_OK;
    } else if (!strcmp(o, "--runs") || !strcmp(o, "--warmup") || !strcmp(o, "--warmup-ms") ||
               !strcmp(o, "--threads") || !strcmp(o, "--batch")) {
      rc = bench_number_option(a, o, v);
    } else if (!strcmp(o, "--input") || !strcmp(o, "-i")) {
      rc = bench_input_add(a, v);
    } else if (!strcmp(o, "--inputs")) {
      a->inputs_dir = v;
    } else if (!strcmp(o, "--save-inputs")) {
      a->save_dir = v;
    } else if (!strcmp(o, "--disable-passes")) {
      a->disable_passes = v;
    } else if (!strcmp(o, "--json")) {
      a->json = true;
    } else if (!strcmp(o, "--profile")) {
      a->profile = true;
    } else if (o[0] == '-' && o[1]) {
      return cli_usage_error("bench", "unknown option '%s'", o);
    } else if (!a->model) {
      a->model = o;
    } else {
      return cli_usage_error("bench", "more than one model given ('%s')", o);
    }
    if (rc >= 0) return rc;
  }
  if (!a->model) return cli_usage_error("bench", "no model given");
  if (a->batch && (a->n_inputs || a->inputs_dir))
    return cli_usage_error("bench", "--batch applies to random inputs, not to --input or --inputs");
  return -1;
}

/* --- inputs ----------------------------------------------------------------------- */

/* Deterministic uniform [-1, 1) floats (xorshift64), small integers, false
 * booleans: repeatable runs, and no denormals to skew timings. */
static void bench_random_fill(onnxi_tensor *t) {
  uint64_t x = 0x2545F4914F6CDD1Dull;
  size_t elem = onnxi_dtype_size(t->dtype), n = t->nbytes / elem;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double u = (double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0;
    switch (t->dtype) {
    case ONNXI_DTYPE_FLOAT: ((float *)t->data)[i] = (float)u; break;
    case ONNXI_DTYPE_DOUBLE: ((double *)t->data)[i] = u; break;
    case ONNXI_DTYPE_INT64: ((int64_t *)t->data)[i] = (int64_t)(x % 4); break;
    case ONNXI_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)(x % 4); break;
    default: break; /* zero from the arena */
    }
  }
}

/* Random data in the model's declared shape; a symbolic leading dim takes
 * `batch`, any other symbolic dim is an error (the shape would be a guess). */
static onnxi_status bench_input_random(const onnxi_tensor_info *info, int64_t batch, arena *ar,
                                       onnxi_tensor *t, onnxi_error *err) {
  memset(t, 0, sizeof *t);
  t->dtype = info->dtype;
  t->rank = info->rank;
  size_t elem = onnxi_dtype_size(info->dtype);
  if (!elem || info->rank < 0)
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "input '%s': cannot make random data of %s%s",
                   info->name, onnxi_dtype_name(info->dtype), info->rank < 0 ? " (rank unknown)" : "");
  uint64_t count = 1;
  for (int d = 0; d < t->rank; d++) {
    t->dims[d] = info->dims[d] >= 0 ? info->dims[d] : d == 0 ? batch : -1;
    if (t->dims[d] < 0)
      return err_set(err, ONNXI_ERR_INVALID_ARG,
                     "input '%s': dim %d ('%s') is symbolic: give the data with --input",
                     info->name, d, info->dim_names[d] ? info->dim_names[d] : "?");
    if (t->dims[d] && count > ((uint64_t)1 << 34) / (uint64_t)t->dims[d])
      return err_set(err, ONNXI_ERR_LIMIT, "input '%s' is too large for random data", info->name);
    count *= (uint64_t)t->dims[d];
  }
  t->nbytes = (size_t)count * elem;
  t->data = arena_alloc(ar, t->nbytes ? t->nbytes : 1, 64);
  if (!t->data) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory for input '%s'", info->name);
  bench_random_fill(t);
  return ONNXI_OK;
}

static int bench_input_index(const onnxi_model *m, const char *name) {
  for (int i = 0; i < onnxi_model_input_count(m); i++) {
    onnxi_tensor_info info;
    if (onnxi_model_input_info(m, i, &info, NULL) == ONNXI_OK && !strcmp(info.name, name)) return i;
  }
  return -1;
}

/* DIR/NAME.npy with anything but [A-Za-z0-9_.-] in NAME turned into '_'
 * (tools/ort_bench.js finds the files by the same rule). */
static bool bench_input_path(const char *dir, const char *name, char *path, size_t len) {
  char clean[256];
  snprintf(clean, sizeof clean, "%s", name);
  for (char *p = clean; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') *p = '_';
  int n = snprintf(path, len, "%s/%s.npy", dir, clean);
  return n >= 0 && (size_t)n < len;
}

static onnxi_status bench_input_read(const onnxi_model *m, int i, const char *path, arena *ar,
                                     onnxi_tensor *t, onnxi_error *err) {
  onnxi_tensor_info info;
  onnxi_status st = onnxi_model_input_info(m, i, &info, err);
  if (st != ONNXI_OK) return st;
  image_options img;
  image_options_default(&img);
  if (info.rank == 4 && info.dims[2] > 0 && info.dims[2] == info.dims[3]) {
    img.size = (int)info.dims[2];
    img.resize = img.size * 256 / 224;
  }
  if (info.rank == 4 && info.dims[1] == 1) img.channels = 1;
  return tensor_file_read(path, &img, ar, t, err);
}

/* What onnxi_session_run checks before the executor trusts the data. */
static onnxi_status bench_input_check(const onnxi_model *m, int i, const onnxi_tensor *t,
                                      onnxi_error *err) {
  onnxi_tensor_info info;
  onnxi_status st = onnxi_model_input_info(m, i, &info, err);
  if (st != ONNXI_OK) return st;
  int64_t count;
  size_t elem = onnxi_dtype_size(t->dtype);
  if (t->dtype != info.dtype || !elem)
    return err_set(err, ONNXI_ERR_INVALID_ARG, "input '%s': %s given, the model wants %s",
                   info.name, onnxi_dtype_name(t->dtype), onnxi_dtype_name(info.dtype));
  if (t->rank < 0 || t->rank > IR_MAX_RANK || !ir_dims_count(t->dims, t->rank, &count) ||
      (uint64_t)count > SIZE_MAX / elem || t->nbytes != (size_t)count * elem || (count && !t->data))
    return err_set(err, ONNXI_ERR_INVALID_ARG, "input '%s': data does not match its dims", info.name);
  return ONNXI_OK;
}

/* Fills f from --input files and random data; sets *batch to input 0's
 * leading dim. Returns -1 to go on, else an exit code. */
static int bench_inputs_prepare(const onnxi_model *m, const bench_args *a, arena *ar,
                                bench_feed *f, int64_t *batch) {
  onnxi_error err = {0};
  f->n = onnxi_model_input_count(m);
  if (f->n > BENCH_MAX_INPUTS) return cli_fail("%s: %d inputs is more than this tool handles", a->model, f->n);
  bool given[BENCH_MAX_INPUTS] = {false};
  for (int k = 0; k < a->n_inputs; k++) {
    int i = a->input_names[k] ? bench_input_index(m, a->input_names[k]) : k;
    if (i < 0 || i >= f->n)
      return cli_fail("%s: the model has no input %s%s", a->model, a->input_names[k] ? "named " : "number ",
                      a->input_names[k] ? a->input_names[k] : "beyond its inputs");
    if (bench_input_read(m, i, a->input_files[k], ar, &f->in[i], &err) != ONNXI_OK)
      return cli_fail("%s", err.message);
    given[i] = true;
  }
  for (int i = 0; i < f->n; i++) {
    onnxi_tensor_info info;
    char path[4096];
    onnxi_status st = given[i] ? ONNXI_OK : onnxi_model_input_info(m, i, &info, &err);
    if (st == ONNXI_OK && !given[i] && a->inputs_dir) {
      if (!bench_input_path(a->inputs_dir, info.name, path, sizeof path))
        return cli_fail("%s: path too long", a->inputs_dir);
      st = tensor_npy_read(path, ar, &f->in[i], &err);
    } else if (st == ONNXI_OK && !given[i]) {
      if (a->batch && info.rank > 0 && info.dims[0] >= 0 && info.dims[0] != a->batch)
        return cli_fail("%s: input '%s' has a fixed batch of %" PRId64 ": --batch %d does not apply",
                        a->model, info.name, info.dims[0], a->batch);
      st = bench_input_random(&info, a->batch ? a->batch : 1, ar, &f->in[i], &err);
    }
    if (st == ONNXI_OK) st = bench_input_check(m, i, &f->in[i], &err);
    if (st != ONNXI_OK) return cli_fail("%s: %s", a->model, err.message);
    f->data[i] = f->in[i].data;
    f->ranks[i] = f->in[i].rank;
    memcpy(f->dims[i], f->in[i].dims, sizeof f->dims[i]);
  }
  *batch = f->n && f->in[0].rank > 0 ? f->in[0].dims[0] : 1;
  return -1;
}

static int bench_inputs_save(const onnxi_model *m, const char *dir, const bench_feed *f) {
  mkdir(dir, 0777);
  onnxi_error err = {0};
  for (int i = 0; i < f->n; i++) {
    onnxi_tensor_info info;
    if (onnxi_model_input_info(m, i, &info, &err) != ONNXI_OK) return cli_fail("%s", err.message);
    char path[4096];
    if (!bench_input_path(dir, info.name, path, sizeof path)) return cli_fail("%s: path too long", dir);
    if (tensor_npy_write(path, &f->in[i], &err) != ONNXI_OK) return cli_fail("%s", err.message);
  }
  return -1;
}

/* --- measuring --------------------------------------------------------------------- */

static onnxi_status bench_run_once(exec_session *s, const bench_feed *f, onnxi_error *err) {
  onnxi_status st = exec_session_prepare(s, f->ranks, (const int64_t(*)[IR_MAX_RANK])f->dims,
                                         f->data, err);
  return st == ONNXI_OK ? exec_session_run(s, f->data, err) : st;
}

static int bench_double_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* min, median, p90 (nearest rank), mean and max of the timed runs (sorts them). */
static void bench_stats(bench_result *r, int n) {
  double *v = r->lat;
  qsort(v, (size_t)n, sizeof *v, bench_double_cmp);
  double sum = 0;
  for (int i = 0; i < n; i++) sum += v[i];
  r->min = v[0];
  r->max = v[n - 1];
  r->mean = sum / n;
  r->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  int k = (int)ceil(0.9 * n) - 1;
  r->p90 = v[k < 0 ? 0 : k];
}

static uint64_t bench_peak_rss(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0 || ru.ru_maxrss < 0) return 0;
  return (uint64_t)ru.ru_maxrss * 1024; /* KiB on Linux */
}

/* First run (plans), warm-up runs, timed runs. */
static onnxi_status bench_measure(exec_session *s, const bench_feed *f, const bench_args *a,
                                  bench_result *r, onnxi_error *err) {
  double t0 = cli_now_ms();
  onnxi_status st = bench_run_once(s, f, err);
  r->first_ms = cli_now_ms() - t0;
  double w0 = cli_now_ms();
  r->warmup_done = 0;
  while (st == ONNXI_OK && r->warmup_done < BENCH_MAX_RUNS &&
         (r->warmup_done < a->warmup || cli_now_ms() - w0 < a->warmup_ms)) {
    st = bench_run_once(s, f, err);
    r->warmup_done++;
  }
  for (int i = 0; st == ONNXI_OK && i < a->runs; i++) {
    t0 = cli_now_ms();
    st = bench_run_once(s, f, err);
    r->lat[i] = cli_now_ms() - t0;
  }
  if (st != ONNXI_OK) return st;
  bench_stats(r, a->runs);
  return ONNXI_OK;
}

static onnxi_status bench_profile_measure(exec_session *s, const bench_feed *f, int runs,
                                          bench_result *r, onnxi_error *err) {
  r->n_steps = exec_session_step_count(s);
  r->step_ms = calloc((size_t)r->n_steps + 1, sizeof *r->step_ms);
  if (!r->step_ms) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
  for (int i = 0; i < runs; i++) {
    onnxi_status st = exec_session_run_profiled(s, f->data, r->step_ms, err);
    if (st != ONNXI_OK) return st;
  }
  for (int32_t k = 0; k < r->n_steps; k++) r->step_ms[k] /= runs;
  return ONNXI_OK;
}

/* --- printing ------------------------------------------------------------------------ */

static void bench_json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
    else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
    else fputc(*p, out);
  }
  fputc('"', out);
}

/* "1x64x56x56" (logical dims), "scalar", or "-". */
static void bench_shape_format(const op_tensor *t, char *buf, size_t len) {
  if (!t || t->rank < 0) {
    snprintf(buf, len, "-");
    return;
  }
  if (t->rank == 0) {
    snprintf(buf, len, "scalar");
    return;
  }
  size_t used = 0;
  buf[0] = '\0';
  for (int d = 0; d < t->rank && used < len; d++) {
    int w = snprintf(buf + used, len - used, "%s%" PRId64, d ? "x" : "", t->dims[d]);
    if (w < 0) break;
    used += (size_t)w;
  }
}

static double bench_gflops(double flops, double ms) { return ms > 0 ? flops / (ms * 1e6) : 0; }

static double bench_steps_total(const bench_result *r) {
  double total = 0;
  for (int32_t k = 0; k < r->n_steps; k++) total += r->step_ms[k];
  return total;
}

static void bench_profile_json(FILE *out, exec_session *s, const bench_result *r) {
  double total = bench_steps_total(r);
  fputs(",\n  \"profile\": [", out);
  for (int32_t k = 0; k < r->n_steps; k++) {
    exec_step_info info;
    char shape[160];
    exec_step_describe(s, k, &info);
    bench_shape_format(info.out, shape, sizeof shape);
    fprintf(out, "%s\n    {\"step\": %d, \"node\": ", k ? "," : "", (int)k);
    bench_json_string(out, info.name);
    fputs(", \"op\": ", out);
    bench_json_string(out, info.op);
    fputs(", \"path\": ", out);
    bench_json_string(out, info.path);
    fprintf(out, ", \"shape\": \"%s\", \"ms\": %.6f, \"share\": %.6f, \"gflops\": %.3f}", shape,
            r->step_ms[k], total > 0 ? r->step_ms[k] / total : 0,
            bench_gflops(info.flops, r->step_ms[k]));
  }
  fputs("\n  ]", out);
}

static void bench_json_print(FILE *out, const bench_args *a, exec_session *s, const bench_result *r) {
  fputs("{\n  \"engine\": \"onnxi\",\n  \"version\": \"" ONNXI_VERSION_STRING "\",\n  \"model\": ", out);
  bench_json_string(out, a->model);
  fprintf(out,
          ",\n  \"threads\": %d,\n  \"batch\": %" PRId64 ",\n  \"runs\": %d,\n  \"warmup\": %d,\n"
          "  \"warmup_ms\": %d,\n"
          "  \"load_ms\": %.3f,\n  \"model_load_ms\": %.3f,\n  \"session_create_ms\": %.3f,\n"
          "  \"first_run_ms\": %.3f,\n"
          "  \"latency_ms\": {\"min\": %.3f, \"median\": %.3f, \"p90\": %.3f, \"mean\": %.3f, "
          "\"max\": %.3f},\n"
          "  \"throughput_ips\": %.3f,\n  \"peak_rss_bytes\": %" PRIu64 ",\n"
          "  \"arena_bytes\": %zu,\n  \"pinned_bytes\": %zu,\n  \"steps\": %d",
          r->threads, r->batch, a->runs, r->warmup_done, a->warmup_ms, r->model_ms + r->session_ms,
          r->model_ms,
          r->session_ms, r->first_ms, r->min, r->median, r->p90, r->mean, r->max,
          r->median > 0 ? (double)r->batch * 1e3 / r->median : 0, r->peak_rss, r->arena_bytes,
          r->pinned_bytes, (int)exec_session_step_count(s));
  if (a->profile) bench_profile_json(out, s, r);
  fputs("\n}\n", out);
}

static void bench_text_print(FILE *out, const bench_args *a, const bench_result *r) {
  fprintf(out, "model:      %s\n", a->model);
  fprintf(out, "threads:    %d, batch %" PRId64 "\n", r->threads, r->batch);
  fprintf(out, "load:       %.1f ms (parse + passes %.1f ms, session %.1f ms)\n",
          r->model_ms + r->session_ms, r->model_ms, r->session_ms);
  fprintf(out, "first run:  %.2f ms (planning included)\n", r->first_ms);
  fprintf(out, "latency:    min %.3f ms, median %.3f ms, p90 %.3f ms, mean %.3f ms (%d runs, %d warm-up)\n",
          r->min, r->median, r->p90, r->mean, a->runs, r->warmup_done);
  fprintf(out, "throughput: %.2f images/s\n", r->median > 0 ? (double)r->batch * 1e3 / r->median : 0);
  fprintf(out, "memory:     peak RSS %.1f MB, arena %.2f MB, inputs+outputs %.2f MB\n",
          (double)r->peak_rss / 1e6, (double)r->arena_bytes / 1e6, (double)r->pinned_bytes / 1e6);
}

static int bench_name_width(exec_session *s, const bench_result *r) {
  int w = 4;
  for (int32_t k = 0; k < r->n_steps; k++) {
    exec_step_info info;
    exec_step_describe(s, k, &info);
    int len = (int)strlen(info.name);
    w = len > w ? len : w;
  }
  return w > 48 ? 48 : w;
}

/* Per-step table in execution order; long node names keep their tail. */
static void bench_profile_print(FILE *out, exec_session *s, const bench_result *r, int runs) {
  double total = bench_steps_total(r);
  int w = bench_name_width(s, r);
  fprintf(out, "\nprofile: %d steps, %.3f ms per run in steps (mean of %d profiled runs)\n",
          (int)r->n_steps, total, runs);
  fprintf(out, "%5s  %-*s  %-22s  %-11s  %-18s  %6s  %9s  %8s\n", "step", w, "node", "op", "path",
          "output", "share", "ms", "GFLOP/s");
  for (int32_t k = 0; k < r->n_steps; k++) {
    exec_step_info info;
    char shape[160], gf[32] = "";
    exec_step_describe(s, k, &info);
    bench_shape_format(info.out, shape, sizeof shape);
    size_t len = strlen(info.name);
    const char *name = len > (size_t)w ? info.name + len - (size_t)w : info.name;
    if (info.flops > 0) snprintf(gf, sizeof gf, "%.1f", bench_gflops(info.flops, r->step_ms[k]));
    fprintf(out, "%5d  %-*s  %-22s  %-11s  %-18s  %5.1f%%  %9.3f  %8s\n", (int)k, w, name, info.op,
            info.path, shape,
            total > 0 ? 100.0 * r->step_ms[k] / total : 0, r->step_ms[k], gf);
  }
}

/* Totals per op label, in order of first appearance. */
static void bench_profile_summary(FILE *out, exec_session *s, const bench_result *r) {
  char (*ops)[96] = calloc((size_t)r->n_steps + 1, sizeof *ops);
  double *ms = calloc((size_t)r->n_steps + 1, sizeof *ms), *fl = calloc((size_t)r->n_steps + 1, sizeof *fl);
  int *count = calloc((size_t)r->n_steps + 1, sizeof *count);
  int n = 0;
  double total = bench_steps_total(r);
  for (int32_t k = 0; ops && ms && fl && count && k < r->n_steps; k++) {
    exec_step_info info;
    exec_step_describe(s, k, &info);
    int j = 0;
    while (j < n && strcmp(ops[j], info.op) != 0) j++;
    if (j == n) memcpy(ops[n++], info.op, sizeof info.op);
    ms[j] += r->step_ms[k], fl[j] += info.flops, count[j]++;
  }
  if (n) fprintf(out, "\n%-22s  %5s  %6s  %9s  %8s\n", "op", "steps", "share", "ms", "GFLOP/s");
  for (int j = 0; j < n; j++) {
    char gf[32] = "";
    if (fl[j] > 0) snprintf(gf, sizeof gf, "%.1f", bench_gflops(fl[j], ms[j]));
    fprintf(out, "%-22s  %5d  %5.1f%%  %9.3f  %8s\n", ops[j], count[j],
            total > 0 ? 100.0 * ms[j] / total : 0, ms[j], gf);
  }
  free(ops), free(ms), free(fl), free(count);
}

/* --- the command ------------------------------------------------------------------- */

static int bench_main(const bench_args *a, bench_result *r) {
  onnxi_error err = {0};
  onnxi_model *m = NULL;
  exec_session *s = NULL;
  arena ar;
  arena_init(&ar, 0);
  bench_feed *f = calloc(1, sizeof *f);
  int rc = f ? -1 : cli_fail("out of memory");
  onnxi_load_options lo = {.disable_passes = a->disable_passes};
  double t0 = cli_now_ms();
  if (rc < 0 && onnxi_model_load_file(a->model, &lo, &m, &err) != ONNXI_OK) rc = cli_fail("%s", err.message);
  double t1 = cli_now_ms();
  if (rc < 0 && exec_session_create(&m->ir, a->threads, &s, &err) != ONNXI_OK) rc = cli_fail("%s", err.message);
  r->model_ms = t1 - t0;
  r->session_ms = cli_now_ms() - t1;
  if (rc < 0) rc = bench_inputs_prepare(m, a, &ar, f, &r->batch);
  if (rc < 0 && a->save_dir) rc = bench_inputs_save(m, a->save_dir, f);
  if (rc < 0 && bench_measure(s, f, a, r, &err) != ONNXI_OK) rc = cli_fail("%s", err.message);
  if (rc < 0 && a->profile && bench_profile_measure(s, f, a->runs, r, &err) != ONNXI_OK)
    rc = cli_fail("%s", err.message);
  if (rc < 0) {
    r->threads = s->threads;
    r->arena_bytes = exec_session_arena_bytes(s);
    r->pinned_bytes = exec_session_pinned_bytes(s);
    r->peak_rss = bench_peak_rss();
    if (a->json) {
      bench_json_print(stdout, a, s, r);
    } else {
      bench_text_print(stdout, a, r);
      if (a->profile) bench_profile_print(stdout, s, r, a->runs);
      if (a->profile) bench_profile_summary(stdout, s, r);
    }
    rc = CLI_EXIT_OK;
  }
  exec_session_free(s);
  onnxi_model_free(m);
  arena_release(&ar);
  free(f);
  return rc;
}

int cmd_bench(int argc, char **argv) {
  bench_args a;
  memset(&a, 0, sizeof a);
  a.runs = 20;
  a.warmup = 3;
  int rc = bench_args_parse(argc, argv, &a);
  bench_result r;
  memset(&r, 0, sizeof r);
  if (rc < 0) {
    r.lat = calloc((size_t)a.runs, sizeof *r.lat);
    rc = r.lat ? bench_main(&a, &r) : cli_fail("out of memory");
  }
  free(r.lat);
  free(r.step_ms);
  for (int k = 0; k < a.n_inputs; k++) free((char *)a.input_names[k]);
  return rc;
}
