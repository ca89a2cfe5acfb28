#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct arena_block {
  arena_block *next;
  size_t size, used;
  _Alignas(64) unsigned char data[];
};

struct arena_foreign {
  arena_foreign *next;
  void *p;
};

enum { ARENA_BLOCK_MIN = 1 << 20 };

void arena_init(arena *a, size_t limit_bytes) {
  a->head = NULL;
  a->foreign = NULL;
  a->used_bytes = 0;
  a->limit_bytes = limit_bytes;
}

int arena_adopt(arena *a, void *p, size_t counted) {
  arena_foreign *f = malloc(sizeof *f);
  if (!f) return 0;
  f->p = p;
  f->next = a->foreign;
  a->foreign = f;
  a->used_bytes += counted;
  return 1;
}

void arena_release(arena *a) {
  arena_block *b = a->head;
  while (b) {
    arena_block *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
  while (a->foreign) {
    arena_foreign *next = a->foreign->next;
    free(a->foreign->p);
    free(a->foreign);
    a->foreign = next;
  }
  a->used_bytes = 0;
}

/* Every block ends with ARENA_SLACK spare bytes: XNNPACK reads up to 16
 * bytes past its inputs, which may be constants living here. */
enum { ARENA_SLACK = 64 };

enum { ARENA_HUGE = 2 << 20 };

void *arena_os_alloc(size_t size) {
  void *p = NULL;
  if (size < ARENA_HUGE) return posix_memalign(&p, 64, size ? size : 1) ? NULL : p;
  /* 2 MB-aligned so whole huge pages fit; the size is not rounded up, so
   * nothing extra becomes resident (the tail stays on small pages). */
  if (posix_memalign(&p, ARENA_HUGE, size)) return NULL;
#ifdef MADV_HUGEPAGE
  /* Weights are touched once, page by page: 2 MB pages take 512x fewer
   * faults (a large part of loading a 100 MB model). Advice only. */
  (void)madvise(p, size & ~(size_t)(ARENA_HUGE - 1), MADV_HUGEPAGE);
#endif
  return p;
}

static arena_block *arena_block_new(size_t size) {
  if (size > SIZE_MAX - sizeof(arena_block) - 64 - ARENA_SLACK) return NULL;
  arena_block *b = arena_os_alloc(sizeof(arena_block) + size + ARENA_SLACK);
  if (!b) return NULL;
  b->next = NULL;
  b->size = size;
  b->used = 0;
  return b;
}

void *arena_alloc(arena *a, size_t size, size_t align) {
  if (align == 0) align = 1;
  if (a->limit_bytes && (size > a->limit_bytes || a->used_bytes > a->limit_bytes - size))
    return NULL;
  arena_block *b = a->head;
  size_t off = b ? (b->used + align - 1) & ~(align - 1) : 0;
  if (!b || off > b->size || size > b->size - off) {
    /* Large requests get a block of their own, placed behind the current
     * one so the small-allocation block keeps filling. */
    size_t want = size > ARENA_BLOCK_MIN / 4 ? size : ARENA_BLOCK_MIN;
    arena_block *nb = arena_block_new(want);
    if (!nb) return NULL;
    if (b && want == size) {
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      a->head = nb;
    }
    b = nb;
    off = 0;
  }
  void *p = b->data + off;
  b->used = off + size;
  a->used_bytes += size;
  memset(p, 0, size);
  return p;
}

char *arena_strndup(arena *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1, 1);
  if (!p) return NULL;
  if (n) memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

size_t arena_phys_bytes(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return SIZE_MAX; /* unknown: no cap */
  if ((unsigned long)pages > SIZE_MAX / (unsigned long)page) return SIZE_MAX;
  return (size_t)pages * (size_t)page;
}
