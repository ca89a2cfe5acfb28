/* Bump allocator owning the model's weights, names and attributes. Everything
 * allocated from it lives exactly as long as the model: there are no
 * individual frees, so import error paths cannot leak. */
#ifndef ONNXI_ARENA_H
#define ONNXI_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct arena_foreign arena_foreign;

typedef struct arena {
  arena_block *head;
  arena_foreign *foreign; /* adopted heap buffers, freed with the arena */
  size_t used_bytes; /* sum of all allocations, for reporting */
  size_t limit_bytes; /* 0 = unlimited */
} arena;

void arena_init(arena *a, size_t limit_bytes);
void arena_release(arena *a);
/* Zeroed memory aligned to `align` (a power of two up to 64); NULL when out of
 * memory or past the limit. */
void *arena_alloc(arena *a, size_t size, size_t align);
/* Memory for one large buffer (free() releases it): 64-byte aligned, and on
 * 2 MB pages when big enough and the kernel allows (fewer page faults). */
void *arena_os_alloc(size_t size);
char *arena_strdup(arena *a, const char *s);
/* Takes ownership of heap memory p (freed by arena_release) that holds
 * `counted` bytes of data (added to used_bytes; the caller checked the
 * limit). False when out of memory: p is then still the caller's. */
int arena_adopt(arena *a, void *p, size_t counted);
char *arena_strndup(arena *a, const char *s, size_t n);
/* Physical memory of the machine (the default cap on weights and session
 * memory: more than this cannot be backed, only overcommitted and OOM-killed). */
size_t arena_phys_bytes(void);

#endif
