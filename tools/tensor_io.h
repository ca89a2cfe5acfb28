/* Reading and writing tensors for the CLI: .npy, ONNX TensorProto .pb, and
 * images (PNG, JPEG, PPM/PGM) turned into a normalized NCHW float tensor. */
#ifndef ONNXI_TENSOR_IO_H
#define ONNXI_TENSOR_IO_H

#include <stdbool.h>

#include "arena.h"
#include "onnxi.h"

typedef struct image_options {
  int size;        /* output is size x size (after resize + center crop) */
  int resize;      /* shorter side resized to this before the crop; 0 = size */
  int channels;    /* 3 = RGB, 1 = grayscale */
  float mean[3];   /* in [0,1] units, subtracted after scaling pixels to [0,1] */
  float std[3];
  bool invert;     /* 1 - x before normalising (white-on-black digits) */
} image_options;

/* ImageNet defaults: 224 crop of a 256 resize, RGB, torchvision mean/std. */
void image_options_default(image_options *o);

/* All data is allocated in `a`. */
onnxi_status tensor_npy_read(const char *path, arena *a, onnxi_tensor *out, onnxi_error *err);
onnxi_status tensor_npy_write(const char *path, const onnxi_tensor *t, onnxi_error *err);
onnxi_status tensor_pb_read(const char *path, arena *a, onnxi_tensor *out, const char **name,
                            onnxi_error *err);
onnxi_status tensor_image_read(const char *path, const image_options *o, arena *a,
                               onnxi_tensor *out, onnxi_error *err);
/* By file extension: .npy, .pb, or an image. */
onnxi_status tensor_file_read(const char *path, const image_options *o, arena *a,
                              onnxi_tensor *out, onnxi_error *err);
bool tensor_path_is_image(const char *path);
/* Splits a command-line input spec "NAME=FILE" (or just "FILE", also when the
 * whole spec is an existing file containing '='): *name is a malloc'd copy
 * or NULL, *file points into spec. False when out of memory. */
bool tensor_input_spec_split(const char *spec, char **name, const char **file);

#endif
