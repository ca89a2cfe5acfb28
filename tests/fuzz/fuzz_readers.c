/* libFuzzer target (c): the CLI's input readers in tools/tensor_io.c.
 * Byte 0 picks the reader (.npy, .pb, PNG, JPEG, PPM/PGM, by file
 * extension), the rest is the file's content; the readers take paths, so
 * the bytes go through a per-process file (in /dev/shm when present). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tensor_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_ext[] = {"npy", "pb", "png", "jpg", "ppm", "pgm"};

static void fuzz_path(char *buf, size_t n, const char *ext) {
  const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(buf, n, "%s/onnxi_fuzz_%ld.%s", dir, (long)getpid(), ext);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  char path[256];
  fuzz_path(path, sizeof path, fuzz_ext[data[0] % (sizeof fuzz_ext / sizeof fuzz_ext[0])]);
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  size_t put = fwrite(data + 1, 1, size - 1, f);
  fclose(f);
  if (put == size - 1) {
    image_options o;
    image_options_default(&o);
    o.channels = data[0] & 0x80 ? 1 : 3; /* grayscale path too */
    arena a;
    arena_init(&a, 0);
    onnxi_tensor t;
    onnxi_error err;
    tensor_file_read(path, &o, &a, &t, &err);
    arena_release(&a);
  }
  unlink(path);
  return 0;
}
