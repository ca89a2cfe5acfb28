/* .npy / .pb / image readers and the .npy writer used by `onnxi run` and
 * `onnxi test`. Every file is untrusted: sizes are checked before use. */
#include "tensor_io.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "err.h"
#include "ir.h"
#include "onnx_load.h"

void image_options_default(image_options *o) {
  *o = (image_options){.size = 224, .resize = 256, .channels = 3,
                       .mean = {0.485f, 0.456f, 0.406f}, .std = {0.229f, 0.224f, 0.225f}};
}

/* --- .npy ------------------------------------------------------------------ */

static const struct {
  const char *descr;
  onnxi_dtype dtype;
} npy_types[] = {
    {"<f4", ONNXI_DTYPE_FLOAT},  {"<f8", ONNXI_DTYPE_DOUBLE}, {"<f2", ONNXI_DTYPE_FLOAT16},
    {"<i8", ONNXI_DTYPE_INT64},  {"<i4", ONNXI_DTYPE_INT32},  {"<i2", ONNXI_DTYPE_INT16},
    {"|i1", ONNXI_DTYPE_INT8},   {"|u1", ONNXI_DTYPE_UINT8},  {"<u2", ONNXI_DTYPE_UINT16},
    {"<u4", ONNXI_DTYPE_UINT32}, {"<u8", ONNXI_DTYPE_UINT64}, {"|b1", ONNXI_DTYPE_BOOL},
};

static const char *npy_descr_of(onnxi_dtype d) {
  for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
    if (npy_types[i].dtype == d) return npy_types[i].descr;
  return NULL;
}

/* Finds the value text after 'key': in a Python dict literal header. */
static const char *npy_header_find(const char *h, const char *key) {
  const char *p = strstr(h, key);
  if (!p) return NULL;
  p = strchr(p + strlen(key), ':');
  if (!p) return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

static onnxi_status npy_header_parse(const char *path, const char *h, onnxi_tensor *t,
                                     onnxi_error *err) {
  const char *d = npy_header_find(h, "'descr'");
  const char *f = npy_header_find(h, "'fortran_order'");
  const char *s = npy_header_find(h, "'shape'");
  if (!d || !f || !s || *d != '\'' || *s != '(')
    return err_set(err, ONNXI_ERR_PARSE, "%s: malformed .npy header", path);
  if (strncmp(f, "False", 5) != 0)
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "%s: fortran_order arrays are not supported", path);
  t->dtype = ONNXI_DTYPE_UNDEFINED;
  for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++) {
    size_t n = strlen(npy_types[i].descr);
    if (strncmp(d + 1, npy_types[i].descr, n) == 0 && d[1 + n] == '\'') t->dtype = npy_types[i].dtype;
  }
  if (t->dtype == ONNXI_DTYPE_UNDEFINED)
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "%s: .npy dtype %.8s is not supported", path, d);
  t->rank = 0;
  for (s++; *s && *s != ')';) {
    while (*s == ' ' || *s == ',') s++;
    if (*s == ')') break;
    if (!isdigit((unsigned char)*s) || t->rank >= ONNXI_MAX_RANK)
      return err_set(err, ONNXI_ERR_PARSE, "%s: malformed .npy shape", path);
    char *end;
    long long v = strtoll(s, &end, 10);
    if (v < 0 || v > INT64_MAX / 2) return err_set(err, ONNXI_ERR_PARSE, "%s: bad .npy dim", path);
    t->dims[t->rank++] = v;
    s = end;
  }
  return ONNXI_OK;
}

onnxi_status tensor_npy_read(const char *path, arena *a, onnxi_tensor *out, onnxi_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return err_set(err, ONNXI_ERR_IO, "%s: cannot open", path);
  onnxi_status st = ONNXI_OK;
  unsigned char pre[10];
  char header[65536];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || (pre[6] != 1 && pre[6] != 2)) {
    st = err_set(err, ONNXI_ERR_PARSE, "%s: not a .npy file (bad magic)", path);
    goto done;
  }
  size_t hlen = pre[8] | (size_t)pre[9] << 8;
  if (pre[6] == 2) { /* version 2 has a 4-byte length */
    unsigned char more[2];
    if (fread(more, 1, 2, f) != 2) { st = err_set(err, ONNXI_ERR_PARSE, "%s: truncated header", path); goto done; }
    hlen |= (size_t)more[0] << 16 | (size_t)more[1] << 24;
  }
  if (hlen >= sizeof header || fread(header, 1, hlen, f) != hlen) {
    st = err_set(err, ONNXI_ERR_PARSE, "%s: truncated or oversized .npy header", path);
    goto done;
  }
  header[hlen] = '\0';
  memset(out, 0, sizeof *out);
  st = npy_header_parse(path, header, out, err);
  if (st != ONNXI_OK) goto done;
  int64_t count;
  size_t elem = onnxi_dtype_size(out->dtype);
  if (!ir_dims_count(out->dims, out->rank, &count) || (uint64_t)count > SIZE_MAX / elem) {
    st = err_set(err, ONNXI_ERR_LIMIT, "%s: .npy shape too large", path);
    goto done;
  }
  out->nbytes = (size_t)count * elem;
  /* A shape asking for gigabytes in a short file fails before allocating. */
  struct stat sb;
  long pos = ftell(f);
  if (pos >= 0 && fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) &&
      (sb.st_size < pos || (uint64_t)(sb.st_size - pos) < out->nbytes)) {
    st = err_set(err, ONNXI_ERR_PARSE, "%s: .npy data is shorter than its shape (%zu bytes)", path,
                 out->nbytes);
    goto done;
  }
  out->data = arena_alloc(a, out->nbytes ? out->nbytes : 1, 64);
  if (!out->data) { st = err_set(err, ONNXI_ERR_NO_MEMORY, "%s: out of memory", path); goto done; }
  if (fread(out->data, 1, out->nbytes, f) != out->nbytes)
    st = err_set(err, ONNXI_ERR_PARSE, "%s: .npy data is shorter than its shape (%zu bytes)", path, out->nbytes);
done:
  fclose(f);
  return st;
}

onnxi_status tensor_npy_write(const char *path, const onnxi_tensor *t, onnxi_error *err) {
  const char *descr = npy_descr_of(t->dtype);
  if (!descr)
    return err_set(err, ONNXI_ERR_UNSUPPORTED, "%s: dtype %s cannot be written as .npy", path,
                   onnxi_dtype_name(t->dtype));
  char dict[512];
  int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < t->rank; i++)
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%" PRId64 "%s", t->dims[i],
                  t->rank == 1 || i + 1 < t->rank ? ", " : "");
  n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
  size_t total = 10 + (size_t)n + 1;
  size_t pad = (64 - total % 64) % 64;
  FILE *f = fopen(path, "wb");
  if (!f) return err_set(err, ONNXI_ERR_IO, "%s: cannot create", path);
  size_t hlen = (size_t)n + pad + 1;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8)};
  bool ok = fwrite(pre, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)n, f) == (size_t)n;
  for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
  ok = ok && fputc('\n', f) != EOF;
  ok = ok && fwrite(t->data, 1, t->nbytes, f) == t->nbytes;
  ok = (fclose(f) == 0) && ok;
  return ok ? ONNXI_OK : err_set(err, ONNXI_ERR_IO, "%s: write failed", path);
}

/* --- .pb ------------------------------------------------------------------------ */

onnxi_status tensor_pb_read(const char *path, arena *a, onnxi_tensor *out, const char **name,
                            onnxi_error *err) {
  ir_model holder;
  memset(&holder, 0, sizeof holder);
  holder.arena = *a;
  ir_tensor t;
  onnxi_status st = onnx_tensor_file_read(path, &holder, &t, name, err);
  *a = holder.arena;
  if (st != ONNXI_OK) return st;
  memset(out, 0, sizeof *out);
  out->dtype = (onnxi_dtype)t.dtype;
  out->rank = t.rank;
  memcpy(out->dims, t.dims, sizeof(int64_t) * (size_t)t.rank);
  out->data = t.data;
  out->nbytes = t.nbytes;
  return ONNXI_OK;
}

/* --- images ------------------------------------------------------------------------ */

typedef struct image {
  int w, h, c; /* c: 1 or 3 */
  unsigned char *px;
} image;

#define IMAGE_DIM_MAX 32768
/* 64 Mpx (192 MB of RGB): the header alone must not make us allocate 3 GB. */
#define IMAGE_PIXELS_MAX ((uint64_t)1 << 26)

static onnxi_status image_png_read(const char *path, image *im, onnxi_error *err) {
  png_image p;
  memset(&p, 0, sizeof p);
  p.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&p, path))
    return err_set(err, ONNXI_ERR_PARSE, "%s: not a readable PNG (%s)", path, p.message);
  if (p.width == 0 || p.height == 0 || p.width > IMAGE_DIM_MAX || p.height > IMAGE_DIM_MAX ||
      (uint64_t)p.width * p.height > IMAGE_PIXELS_MAX) {
    png_image_free(&p);
    return err_set(err, ONNXI_ERR_LIMIT, "%s: image size %ux%u out of range", path, p.width, p.height);
  }
  p.format = PNG_FORMAT_RGB;
  im->w = (int)p.width;
  im->h = (int)p.height;
  im->c = 3;
  im->px = malloc(PNG_IMAGE_SIZE(p));
  if (!im->px) {
    png_image_free(&p);
    return err_set(err, ONNXI_ERR_NO_MEMORY, "%s: out of memory", path);
  }
  if (!png_image_finish_read(&p, NULL, im->px, 0, NULL)) {
    free(im->px);
    im->px = NULL;
    return err_set(err, ONNXI_ERR_PARSE, "%s: PNG decode failed (%s)", path, p.message);
  }
  return ONNXI_OK;
}

typedef struct jpeg_fail {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
} jpeg_fail;

static void image_jpeg_error_exit(j_common_ptr cinfo) {
  jpeg_fail *f = (jpeg_fail *)cinfo->err;
  longjmp(f->jump, 1);
}

static onnxi_status image_jpeg_read(const char *path, image *im, onnxi_error *err) {
  FILE *file = fopen(path, "rb");
  if (!file) return err_set(err, ONNXI_ERR_IO, "%s: cannot open", path);
  struct jpeg_decompress_struct cinfo;
  jpeg_fail fail;
  cinfo.err = jpeg_std_error(&fail.mgr);
  fail.mgr.error_exit = image_jpeg_error_exit;
  unsigned char *volatile px = NULL;
  if (setjmp(fail.jump)) {
    char msg[JMSG_LENGTH_MAX];
    fail.mgr.format_message((j_common_ptr)&cinfo, msg);
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    free(px);
    return err_set(err, ONNXI_ERR_PARSE, "%s: JPEG decode failed (%s)", path, msg);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, file);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_width == 0 || cinfo.output_height == 0 || cinfo.output_width > IMAGE_DIM_MAX ||
      cinfo.output_height > IMAGE_DIM_MAX || cinfo.output_components != 3 ||
      (uint64_t)cinfo.output_width * cinfo.output_height > IMAGE_PIXELS_MAX) {
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    return err_set(err, ONNXI_ERR_LIMIT, "%s: unsupported JPEG geometry", path);
  }
  size_t stride = (size_t)cinfo.output_width * 3;
  px = malloc(stride * cinfo.output_height);
  if (!px) {
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    return err_set(err, ONNXI_ERR_NO_MEMORY, "%s: out of memory", path);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = px + stride * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  im->w = (int)cinfo.output_width;
  im->h = (int)cinfo.output_height;
  im->c = 3;
  im->px = px;
  jpeg_destroy_decompress(&cinfo);
  fclose(file);
  return ONNXI_OK;
}

static int image_pnm_int(FILE *f) {
  int c = fgetc(f);
  while (c == '#' || isspace(c)) {
    if (c == '#') while (c != '\n' && c != EOF) c = fgetc(f);
    c = fgetc(f);
  }
  long v = 0;
  if (!isdigit(c)) return -1;
  while (isdigit(c)) {
    v = v * 10 + (c - '0');
    if (v > IMAGE_DIM_MAX * 2L) return -1;
    c = fgetc(f);
  }
  return (int)v;
}

static onnxi_status image_pnm_read(const char *path, image *im, onnxi_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return err_set(err, ONNXI_ERR_IO, "%s: cannot open", path);
  char magic[2];
  onnxi_status st = ONNXI_OK;
  if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '6')) {
    st = err_set(err, ONNXI_ERR_PARSE, "%s: not a binary PPM/PGM (P6/P5)", path);
    goto done;
  }
  int w = image_pnm_int(f), h = image_pnm_int(f), maxv = image_pnm_int(f);
  if (w <= 0 || h <= 0 || w > IMAGE_DIM_MAX || h > IMAGE_DIM_MAX || maxv <= 0 || maxv > 255 ||
      (uint64_t)w * (uint64_t)h > IMAGE_PIXELS_MAX) {
    st = err_set(err, ONNXI_ERR_PARSE, "%s: bad PPM header (8-bit only)", path);
    goto done;
  }
  im->c = magic[1] == '6' ? 3 : 1;
  im->w = w;
  im->h = h;
  size_t n = (size_t)w * (size_t)h * (size_t)im->c;
  im->px = malloc(n);
  if (!im->px) { st = err_set(err, ONNXI_ERR_NO_MEMORY, "%s: out of memory", path); goto done; }
  if (fread(im->px, 1, n, f) != n) {
    free(im->px);
    im->px = NULL;
    st = err_set(err, ONNXI_ERR_PARSE, "%s: PPM pixel data is truncated", path);
  }
done:
  fclose(f);
  return st;
}

static const char *path_ext(const char *path) {
  const char *dot = strrchr(path, '.');
  return dot ? dot + 1 : "";
}

bool tensor_path_is_image(const char *path) {
  const char *e = path_ext(path);
  return !strcasecmp(e, "png") || !strcasecmp(e, "jpg") || !strcasecmp(e, "jpeg") ||
         !strcasecmp(e, "ppm") || !strcasecmp(e, "pgm") || !strcasecmp(e, "pnm");
}

/* Bilinear sample of channel ch at continuous source coordinates. */
static float image_sample(const image *im, float x, float y, int ch) {
  x = x < 0 ? 0 : (x > im->w - 1 ? (float)(im->w - 1) : x);
  y = y < 0 ? 0 : (y > im->h - 1 ? (float)(im->h - 1) : y);
  int x0 = (int)x, y0 = (int)y;
  int x1 = x0 + 1 < im->w ? x0 + 1 : x0, y1 = y0 + 1 < im->h ? y0 + 1 : y0;
  float fx = x - (float)x0, fy = y - (float)y0;
  int c = im->c == 1 ? 0 : ch;
#define PX(xx, yy) ((float)im->px[((size_t)(yy) * (size_t)im->w + (size_t)(xx)) * (size_t)im->c + (size_t)c])
  float top = PX(x0, y0) * (1 - fx) + PX(x1, y0) * fx;
  float bot = PX(x0, y1) * (1 - fx) + PX(x1, y1) * fx;
#undef PX
  return top * (1 - fy) + bot * fy;
}

/* Resize (shorter side to o->resize, bilinear, half-pixel centres), center
 * crop o->size, scale to [0,1], normalise, write NCHW. */
static void image_to_tensor(const image *im, const image_options *o, float *out) {
  int resize = o->resize > 0 ? o->resize : o->size;
  float scale = (float)resize / (float)(im->w < im->h ? im->w : im->h);
  float rw = (float)im->w * scale, rh = (float)im->h * scale;
  float ox = (rw - (float)o->size) / 2, oy = (rh - (float)o->size) / 2;
  size_t plane = (size_t)o->size * (size_t)o->size;
  for (int c = 0; c < o->channels; c++) {
    for (int y = 0; y < o->size; y++) {
      for (int x = 0; x < o->size; x++) {
        float sx = ((float)x + ox + 0.5f) / scale - 0.5f, sy = ((float)y + oy + 0.5f) / scale - 0.5f;
        float v;
        if (o->channels == 1 && im->c == 3)
          v = 0.299f * image_sample(im, sx, sy, 0) + 0.587f * image_sample(im, sx, sy, 1) +
              0.114f * image_sample(im, sx, sy, 2);
        else
          v = image_sample(im, sx, sy, c);
        v /= 255.0f;
        if (o->invert) v = 1.0f - v;
        out[(size_t)c * plane + (size_t)y * (size_t)o->size + (size_t)x] = (v - o->mean[c]) / o->std[c];
      }
    }
  }
}

onnxi_status tensor_image_read(const char *path, const image_options *o, arena *a,
                               onnxi_tensor *out, onnxi_error *err) {
  if (o->size <= 0 || o->size > 8192 || (o->channels != 1 && o->channels != 3))
    return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: bad image size or channel count", path);
  for (int c = 0; c < o->channels; c++)
    if (!(o->std[c] != 0.0f) || !isfinite(o->std[c]))
      return err_set(err, ONNXI_ERR_INVALID_ARG, "%s: std must be non-zero", path);
  image im = {0};
  const char *e = path_ext(path);
  onnxi_status st;
  if (!strcasecmp(e, "png")) st = image_png_read(path, &im, err);
  else if (!strcasecmp(e, "jpg") || !strcasecmp(e, "jpeg")) st = image_jpeg_read(path, &im, err);
  else st = image_pnm_read(path, &im, err);
  if (st != ONNXI_OK) return st;
  memset(out, 0, sizeof *out);
  out->dtype = ONNXI_DTYPE_FLOAT;
  out->rank = 4;
  out->dims[0] = 1;
  out->dims[1] = o->channels;
  out->dims[2] = out->dims[3] = o->size;
  out->nbytes = sizeof(float) * (size_t)o->channels * (size_t)o->size * (size_t)o->size;
  out->data = arena_alloc(a, out->nbytes, 64);
  if (!out->data) st = err_set(err, ONNXI_ERR_NO_MEMORY, "%s: out of memory", path);
  else image_to_tensor(&im, o, out->data);
  free(im.px);
  return st;
}

bool tensor_input_spec_split(const char *spec, char **name, const char **file) {
  const char *eq = strchr(spec, '=');
  struct stat st;
  *name = NULL;
  *file = spec;
  if (!eq || stat(spec, &st) == 0) return true;
  *name = strndup(spec, (size_t)(eq - spec));
  *file = eq + 1;
  return *name != NULL;
}

onnxi_status tensor_file_read(const char *path, const image_options *o, arena *a,
                              onnxi_tensor *out, onnxi_error *err) {
  const char *e = path_ext(path);
  if (!strcasecmp(e, "npy")) return tensor_npy_read(path, a, out, err);
  if (!strcasecmp(e, "pb")) return tensor_pb_read(path, a, out, NULL, err);
  if (tensor_path_is_image(path)) return tensor_image_read(path, o, a, out, err);
  return err_set(err, ONNXI_ERR_INVALID_ARG,
                 "%s: unknown input format (expected .npy, .pb, .png, .jpg, .ppm)", path);
}
