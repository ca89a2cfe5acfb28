/* `onnxi run MODEL`: runs a classifier on images, .npy or .pb inputs and
 * prints the top classes, or writes every output as .npy. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "model.h"
#include "tensor_io.h"

#define RUN_MAX_INPUTS 64
#define RUN_MAX_LABELS 100000

static const char cmd_run_usage[] =
    "usage: onnxi run MODEL [--input NAME=FILE]... [options]\n"
    "       onnxi run            (demo: the bundled digits model on its samples)\n"
    "\n"
    "Runs MODEL once. FILE is a .npy, an ONNX TensorProto .pb, or an image\n"
    "(PNG, JPEG, PPM/PGM) that is resized, center-cropped and normalized with the\n"
    "ImageNet mean/std (or the preprocessing stored in the model's metadata).\n"
    "NAME= may be left out for the first input. With no input, a deterministic\n"
    "random input is used (and the tool says so). Prints the top-K classes of the\n"
    "first output (softmax applied when it holds logits), or writes every output\n"
    "as NAME.npy with --output-dir.\n"
    "\n"
    "  --input [NAME=]FILE  input data (repeatable)\n"
    "  --top K              classes to print (default 5)\n"
    "  --labels FILE        one class name per line\n"
    "  --output-dir DIR     write outputs as .npy instead of printing classes\n"
    "  --threads N          threads (default: one per core)\n"
    "  --size S             image crop size (default: the model's input H/W, or 224)\n"
    "  --resize R           image shorter-side resize before the crop (default S*256/224)\n"
    "  --mean A,B,C         per-channel mean in [0,1] units\n"
    "  --std A,B,C          per-channel std\n"
    "  --gray               convert images to one channel\n";

typedef struct run_args {
  const char *model;
  const char *input_names[RUN_MAX_INPUTS];
  const char *input_files[RUN_MAX_INPUTS];
  int n_inputs;
  int top, threads;
  const char *labels, *output_dir;
  image_options img;
  bool size_set, resize_set, mean_set, std_set, gray_set;
} run_args;

static bool run_floats_parse(const char *s, float *v, int n) {
  for (int i = 0; i < n; i++) {
    char *end;
    errno = 0;
    v[i] = strtof(s, &end);
    if (end == s || errno) return false;
    s = end;
    if (i + 1 < n) {
      if (*s == ',') s++;
      else if (!*s) { /* one value for every channel */
        for (int k = i + 1; k < n; k++) v[k] = v[i];
        return true;
      } else return false;
    }
  }
  return *s == '\0';
}

static int run_input_add(run_args *a, const char *spec) {
  if (a->n_inputs == RUN_MAX_INPUTS) return cli_usage_error("run", "too many --input");
  char *name;
  if (!tensor_input_spec_split(spec, &name, &a->input_files[a->n_inputs])) return cli_fail("out of memory");
  a->input_names[a->n_inputs++] = name;
  return -1;
}

static int run_args_parse(int argc, char **argv, run_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = !strcmp(o, "--input") || !strcmp(o, "-i") || !strcmp(o, "--top") ||
                 !strcmp(o, "--labels") || !strcmp(o, "--output-dir") || !strcmp(o, "--threads") ||
                 !strcmp(o, "--size") || !strcmp(o, "--resize") || !strcmp(o, "--mean") ||
                 !strcmp(o, "--std");
    if (takes && !v) return cli_usage_error("run", "%s needs a value", o);
    if (takes) i++;
    int rc = -1;
    if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
      fputs(cmd_run_usage, stdout);
      return CLI_EXIT_OK;
    } else if (!strcmp(o, "--input") || !strcmp(o, "-i")) {
      rc = run_input_add(a, v);
    } else if (!strcmp(o, "--top")) {
      a->top = atoi(v);
      if (a->top <= 0) return cli_usage_error("run", "--top must be positive");
    } else if (!strcmp(o, "--labels")) {
      a->labels = v;
    } else if (!strcmp(o, "--output-dir")) {
      a->output_dir = v;
    } else if (!strcmp(o, "--threads")) {
      a->threads = atoi(v);
      if (a->threads < 0) return cli_usage_error("run", "--threads must be >= 0");
    } else if (!strcmp(o, "--size")) {
      a->img.size = atoi(v);
      a->size_set = true;
      if (a->img.size <= 0 || a->img.size > 8192) return cli_usage_error("run", "bad --size");
    } else if (!strcmp(o, "--resize")) {
      a->img.resize = atoi(v);
      a->resize_set = true;
      if (a->img.resize <= 0 || a->img.resize > 16384) return cli_usage_error("run", "bad --resize");
    } else if (!strcmp(o, "--mean")) {
      if (!run_floats_parse(v, a->img.mean, 3)) return cli_usage_error("run", "bad --mean '%s'", v);
      a->mean_set = true;
    } else if (!strcmp(o, "--std")) {
      if (!run_floats_parse(v, a->img.std, 3)) return cli_usage_error("run", "bad --std '%s'", v);
      a->std_set = true;
    } else if (!strcmp(o, "--gray")) {
      a->img.channels = 1;
      a->gray_set = true;
    } else if (o[0] == '-' && o[1]) {
      return cli_usage_error("run", "unknown option '%s'", o);
    } else if (!a->model) {
      a->model = o;
    } else {
      return cli_usage_error("run", "more than one model given ('%s')", o);
    }
    if (rc >= 0) return rc;
  }
  return -1;
}

/* Preprocessing stored by the exporter in metadata_props (onnxi.image_*). */
static void run_metadata_apply(const ir_model *m, run_args *a) {
  for (int32_t i = 0; i < m->n_metadata; i++) {
    const char *k = m->metadata[i].key, *v = m->metadata[i].value;
    if (!strcmp(k, "onnxi.image_size") && !a->size_set) a->img.size = atoi(v), a->size_set = a->img.size > 0;
    else if (!strcmp(k, "onnxi.image_resize") && !a->resize_set) a->img.resize = atoi(v), a->resize_set = true;
    else if (!strcmp(k, "onnxi.image_channels") && !a->gray_set) a->img.channels = atoi(v) == 1 ? 1 : 3;
    else if (!strcmp(k, "onnxi.image_mean") && !a->mean_set) run_floats_parse(v, a->img.mean, 3);
    else if (!strcmp(k, "onnxi.image_std") && !a->std_set) run_floats_parse(v, a->img.std, 3);
    else if (!strcmp(k, "onnxi.image_invert")) a->img.invert = atoi(v) != 0;
  }
  if (a->img.size <= 0 || a->img.size > 8192) a->img.size = 224;
  if (!a->resize_set) a->img.resize = a->img.size * 256 / 224;
}

/* Deterministic uniform [-1, 1) data (xorshift), so runs are repeatable. */
static void run_random_fill(onnxi_tensor *t) {
  uint64_t x = 0x9E3779B97F4A7C15ull;
  int64_t n = (int64_t)(t->nbytes / onnxi_dtype_size(t->dtype));
  for (int64_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double u = (double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0;
    switch (t->dtype) {
    case ONNXI_DTYPE_FLOAT: ((float *)t->data)[i] = (float)u; break;
    case ONNXI_DTYPE_DOUBLE: ((double *)t->data)[i] = u; break;
    case ONNXI_DTYPE_INT64: ((int64_t *)t->data)[i] = (int64_t)(x % 10); break;
    case ONNXI_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)(x % 10); break;
    default: ((unsigned char *)t->data)[i * (int64_t)onnxi_dtype_size(t->dtype)] = (unsigned char)(x & 1); break;
    }
  }
}

static onnxi_status run_random_input(const onnxi_tensor_info *info, arena *a, onnxi_tensor *t,
                                     onnxi_error *err) {
  memset(t, 0, sizeof *t);
  t->dtype = info->dtype;
  t->rank = info->rank < 0 ? 0 : info->rank;
  size_t elem = onnxi_dtype_size(info->dtype);
  if (!elem) return err_set(err, ONNXI_ERR_UNSUPPORTED, "input '%s': cannot make random %s data", info->name, onnxi_dtype_name(info->dtype));
  size_t count = 1;
  for (int d = 0; d < t->rank; d++) {
    t->dims[d] = info->dims[d] >= 0 ? info->dims[d] : 1; /* symbolic (batch) -> 1 */
    if (t->dims[d] && count > ((size_t)1 << 32) / (size_t)t->dims[d])
      return err_set(err, ONNXI_ERR_LIMIT, "input '%s' is too large for random data", info->name);
    count *= (size_t)t->dims[d];
  }
  t->nbytes = count * elem;
  t->data = arena_alloc(a, t->nbytes ? t->nbytes : 1, 64);
  if (!t->data) return err_set(err, ONNXI_ERR_NO_MEMORY, "out of memory");
  run_random_fill(t);
  return ONNXI_OK;
}

static int run_input_index(const onnxi_model *m, const char *name) {
  for (int i = 0; i < onnxi_model_input_count(m); i++) {
    onnxi_tensor_info info;
    onnxi_model_input_info(m, i, &info, NULL);
    if (!strcmp(info.name, name)) return i;
  }
  return -1;
}

static int run_inputs_prepare(const onnxi_model *m, run_args *a, arena *ar, onnxi_tensor *in) {
  int n = onnxi_model_input_count(m);
  if (n > RUN_MAX_INPUTS) return cli_fail("%s: %d inputs is more than this tool handles", a->model, n);
  bool given[RUN_MAX_INPUTS] = {false};
  onnxi_error err = {0};
  for (int k = 0; k < a->n_inputs; k++) {
    int i = a->input_names[k] ? run_input_index(m, a->input_names[k]) : k;
    if (i < 0 || i >= n)
      return cli_fail("%s: the model has no input %s%s", a->model, a->input_names[k] ? "named " : "number ",
                      a->input_names[k] ? a->input_names[k] : "beyond its inputs");
    onnxi_tensor_info info;
    onnxi_model_input_info(m, i, &info, NULL);
    image_options img = a->img;
    if (!a->size_set && info.rank == 4 && info.dims[2] > 0 && info.dims[2] == info.dims[3]) {
      img.size = (int)info.dims[2];
      if (!a->resize_set) img.resize = img.size * 256 / 224;
    }
    if (!a->gray_set && info.rank == 4 && info.dims[1] == 1) img.channels = 1;
    if (tensor_file_read(a->input_files[k], &img, ar, &in[i], &err) != ONNXI_OK)
      return cli_fail("%s", err.message);
    given[i] = true;
  }
  for (int i = 0; i < n; i++) {
    if (given[i]) continue;
    onnxi_tensor_info info;
    onnxi_model_input_info(m, i, &info, NULL);
    if (run_random_input(&info, ar, &in[i], &err) != ONNXI_OK) return cli_fail("%s", err.message);
    fprintf(stderr, "onnxi run: no data for input '%s': using deterministic random values\n", info.name);
  }
  return -1;
}

static char **run_labels_read(const char *path, int *n) {
  *n = 0;
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char **labels = calloc(RUN_MAX_LABELS, sizeof *labels);
  char line[512];
  while (labels && *n < RUN_MAX_LABELS && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    labels[(*n)++] = strdup(line);
  }
  fclose(f);
  return labels;
}

/* Class names stored in metadata_props as "onnxi.labels" (comma-separated). */
static char **run_labels_meta(const ir_model *m, int *n) {
  *n = 0;
  for (int32_t i = 0; i < m->n_metadata; i++) {
    if (strcmp(m->metadata[i].key, "onnxi.labels") != 0) continue;
    const char *v = m->metadata[i].value;
    char **labels = calloc(strlen(v) + 2, sizeof *labels);
    for (const char *p = v; labels && *n < RUN_MAX_LABELS;) {
      size_t len = strcspn(p, ",");
      labels[(*n)++] = strndup(p, len);
      if (!p[len]) break;
      p += len + 1;
    }
    return labels;
  }
  return NULL;
}

static void run_top_print(const run_args *a, const onnxi_tensor *t, const ir_model *m) {
  if (t->dtype != ONNXI_DTYPE_FLOAT || t->rank < 1) {
    printf("output is %s of rank %d: use --output-dir to save it\n", onnxi_dtype_name(t->dtype), t->rank);
    return;
  }
  int64_t classes = t->dims[t->rank - 1], rows = 1;
  for (int d = 0; d + 1 < t->rank; d++) rows *= t->dims[d];
  int n_labels = 0;
  char **labels = a->labels ? run_labels_read(a->labels, &n_labels) : run_labels_meta(m, &n_labels);
  const float *x = t->data;
  for (int64_t r = 0; r < rows; r++) {
    const float *row = x + r * classes;
    double sum = 0, mx = -INFINITY;
    bool probs = true;
    for (int64_t c = 0; c < classes; c++) {
      if (row[c] < 0 || row[c] > 1) probs = false;
      sum += row[c];
      mx = row[c] > mx ? row[c] : mx;
    }
    probs = probs && fabs(sum - 1.0) < 1e-3;
    double z = 0;
    if (!probs) for (int64_t c = 0; c < classes; c++) z += exp(row[c] - mx);
    if (rows > 1) printf("batch %lld:\n", (long long)r);
    bool *used = calloc((size_t)classes + 1, 1);
    for (int k = 0; used && k < a->top && k < classes; k++) {
      int64_t best = -1;
      for (int64_t c = 0; c < classes; c++)
        if (!used[c] && (best < 0 || row[c] > row[best])) best = c;
      used[best] = true;
      double p = probs ? row[best] : exp(row[best] - mx) / z;
      printf("  %2d. class %-5lld %.4f%s%s\n", k + 1, (long long)best, p,
             labels && best < n_labels ? "  " : "", labels && best < n_labels ? labels[best] : "");
    }
    free(used);
  }
  for (int i = 0; i < n_labels; i++) free(labels[i]);
  free(labels);
}

static int run_outputs_write(const run_args *a, const onnxi_model *m, const onnxi_tensor *out, int n) {
  mkdir(a->output_dir, 0777);
  onnxi_error err = {0};
  for (int k = 0; k < n; k++) {
    onnxi_tensor_info info;
    onnxi_model_output_info(m, k, &info, NULL);
    char name[256], path[4096];
    snprintf(name, sizeof name, "%s", info.name);
    for (char *p = name; *p; p++)
      if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.') *p = '_';
    snprintf(path, sizeof path, "%s/%s.npy", a->output_dir, name);
    if (tensor_npy_write(path, &out[k], &err) != ONNXI_OK) return cli_fail("%s", err.message);
    printf("wrote %s\n", path);
  }
  return CLI_EXIT_OK;
}

/* The demo directory: $ONNXI_DEMO_DIR, else the source tree's models/digits. */
static const char *run_demo_dir(void) {
  const char *d = getenv("ONNXI_DEMO_DIR");
#ifdef ONNXI_DEMO_DIR_DEFAULT
  if (!d || !*d) d = ONNXI_DEMO_DIR_DEFAULT;
#endif
  return d;
}

static int run_name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `onnxi run` alone: every PNG in DEMO/samples through DEMO/digits.onnx,
 * top-3 each (one process per image is the user's path too: one call each). */
static int run_demo(void) {
  const char *dir = run_demo_dir();
  char model[4096], samples[4096];
  snprintf(model, sizeof model, "%s/digits.onnx", dir ? dir : "");
  snprintf(samples, sizeof samples, "%s/samples", dir ? dir : "");
  DIR *d = dir ? opendir(samples) : NULL;
  if (!d) return cli_fail("no model given and no demo found (set ONNXI_DEMO_DIR to models/digits)");
  char *names[256];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 256) {
    size_t len = strlen(e->d_name);
    if (len > 4 && strcmp(e->d_name + len - 4, ".png") == 0) names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, run_name_cmp);
  printf("onnxi demo: %s (a small ResNet trained on handwritten digits) on %d samples\n", model, n);
  int rc = CLI_EXIT_OK;
  for (int i = 0; i < n; i++) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", samples, names[i]);
    printf("%s:\n", names[i]);
    fflush(stdout);
    char *argv[] = {"run", model, "--input", path, "--top", "3", NULL};
    if (rc == CLI_EXIT_OK) rc = cmd_run(6, argv);
    free(names[i]);
  }
  return rc;
}

int cmd_run(int argc, char **argv) {
  if (argc == 1) return run_demo();
  run_args a;
  memset(&a, 0, sizeof a);
  a.top = 5;
  image_options_default(&a.img);
  a.img.size = 0;
  int rc = run_args_parse(argc, argv, &a);
  if (rc < 0 && !a.model) rc = cli_usage_error("run", "no model given");
  if (rc >= 0) goto done;
  onnxi_error err = {0};
  onnxi_model *m = NULL;
  onnxi_session *s = NULL;
  arena ar;
  arena_init(&ar, 0);
  onnxi_tensor in[RUN_MAX_INPUTS], out[RUN_MAX_INPUTS];
  memset(out, 0, sizeof out);
  onnxi_session_options so = {.threads = a.threads};
  if (onnxi_model_load_file(a.model, NULL, &m, &err) != ONNXI_OK ||
      onnxi_session_create(m, &so, &s, &err) != ONNXI_OK) {
    rc = cli_fail("%s", err.message);
    goto cleanup;
  }
  run_metadata_apply(&m->ir, &a);
  rc = run_inputs_prepare(m, &a, &ar, in);
  if (rc >= 0) goto cleanup;
  int n_out = onnxi_model_output_count(m);
  if (n_out > RUN_MAX_INPUTS) {
    rc = cli_fail("%s: too many outputs", a.model);
    goto cleanup;
  }
  double t0 = cli_now_ms();
  if (onnxi_session_run(s, in, onnxi_model_input_count(m), out, n_out, &err) != ONNXI_OK) {
    rc = cli_fail("%s", err.message);
    goto cleanup;
  }
  fprintf(stderr, "onnxi run: %.2f ms (first run, %d threads)\n", cli_now_ms() - t0, onnxi_session_threads(s));
  if (a.output_dir) rc = run_outputs_write(&a, m, out, n_out);
  else {
    run_top_print(&a, &out[0], &m->ir);
    rc = CLI_EXIT_OK;
  }
cleanup:
  onnxi_session_free(s);
  onnxi_model_free(m);
  arena_release(&ar);
done:
  for (int k = 0; k < a.n_inputs; k++) free((char *)a.input_names[k]);
  return rc;
}
