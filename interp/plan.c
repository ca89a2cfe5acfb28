#include "plan.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* One alias group (or lone buffer) as plan_place sees it. */
typedef struct plan_group {
  size_t size, offset;
  int32_t first, last, id; /* id: the group's root buffer */
} plan_group;

void plan_init(memory_plan *p, size_t align) {
  memset(p, 0, sizeof *p);
  p->align = align ? align : 1;
}

void plan_release(memory_plan *p) {
  free(p->bufs);
  size_t align = p->align;
  memset(p, 0, sizeof *p);
  p->align = align;
}

static bool plan_size_round(size_t size, size_t align, size_t *out) {
  size_t rem = size % align;
  if (rem == 0) {
    *out = size;
    return true;
  }
  if (size > SIZE_MAX - (align - rem)) return false;
  *out = size + (align - rem);
  return true;
}

static onnxi_status plan_grow(memory_plan *p, onnxi_error *err) {
  if (p->n < p->cap) return ONNXI_OK;
  if (p->cap > INT32_MAX / 2)
    return err_set(err, ONNXI_ERR_LIMIT, "memory plan: more than %d buffers", (int)p->cap);
  int32_t cap = p->cap ? p->cap * 2 : 64;
  plan_buffer *bufs = realloc(p->bufs, (size_t)cap * sizeof *bufs);
  if (!bufs) return err_set(err, ONNXI_ERR_NO_MEMORY, "memory plan: out of memory");
  p->bufs = bufs;
  p->cap = cap;
  return ONNXI_OK;
}

onnxi_status plan_buffer_add(memory_plan *p, size_t size, int32_t first, int32_t last,
                             int32_t *id, onnxi_error *err) {
  if (first < 0 || last < first)
    return err_set(err, ONNXI_ERR_INVALID_ARG,
                   "memory plan: buffer %d: invalid step range [%d, %d]", (int)p->n,
                   (int)first, (int)last);
  size_t rounded;
  if (!plan_size_round(size, p->align, &rounded))
    return err_set(err, ONNXI_ERR_LIMIT,
                   "memory plan: buffer %d: size %zu overflows when rounded up to %zu bytes",
                   (int)p->n, size, p->align);
  onnxi_status st = plan_grow(p, err);
  if (st != ONNXI_OK) return st;
  p->bufs[p->n] = (plan_buffer){.size = rounded, .first = first, .last = last,
                                .alias_of = -1, .root = p->n, .offset = 0};
  if (id) *id = p->n;
  p->n++;
  return ONNXI_OK;
}

static bool plan_id_valid(const memory_plan *p, int32_t id) { return id >= 0 && id < p->n; }

/* Does any other buffer share `id`'s memory in place? */
static bool plan_buffer_shared(const memory_plan *p, int32_t id) {
  for (int32_t j = 0; j < p->n; j++)
    if (j != id && p->bufs[j].root == id) return true;
  return false;
}

onnxi_status plan_buffer_alias(memory_plan *p, int32_t id, int32_t of, onnxi_error *err) {
  if (!plan_id_valid(p, id) || !plan_id_valid(p, of) || of >= id)
    return err_set(err, ONNXI_ERR_INVALID_ARG,
                   "memory plan: buffer %d cannot alias buffer %d (must be an earlier buffer)",
                   (int)id, (int)of);
  plan_buffer *b = &p->bufs[id];
  if (b->alias_of >= 0 || plan_buffer_shared(p, id))
    return err_set(err, ONNXI_ERR_INVALID_ARG,
                   "memory plan: buffer %d is already in an alias group", (int)id);
  if (b->pinned || p->bufs[of].pinned)
    return err_set(err, ONNXI_ERR_INVALID_ARG,
                   "memory plan: buffer %d cannot alias buffer %d: pinned buffers own their "
                   "storage", (int)id, (int)of);
  int32_t root = p->bufs[of].root;
  /* Members share bytes, so each must be dead before the next is written;
   * touching at one step is the in-place op itself. */
  for (int32_t j = root; j < id; j++) {
    const plan_buffer *m = &p->bufs[j];
    if (m->root == root && (m->last > b->first || m->first >= b->first))
      return err_set(err, ONNXI_ERR_INVALID_ARG,
                     "memory plan: buffer %d (steps %d-%d) cannot alias buffer %d: buffer %d "
                     "of the same group is live over steps %d-%d",
                     (int)id, (int)b->first, (int)b->last, (int)of, (int)j, (int)m->first,
                     (int)m->last);
  }
  b->alias_of = of;
  b->root = root;
  return ONNXI_OK;
}

onnxi_status plan_buffer_pin(memory_plan *p, int32_t id, onnxi_error *err) {
  if (!plan_id_valid(p, id))
    return err_set(err, ONNXI_ERR_INVALID_ARG, "memory plan: no buffer %d to pin", (int)id);
  if (p->bufs[id].alias_of >= 0 || plan_buffer_shared(p, id))
    return err_set(err, ONNXI_ERR_INVALID_ARG,
                   "memory plan: buffer %d cannot be pinned: it is in an alias group", (int)id);
  p->bufs[id].pinned = 1;
  return ONNXI_OK;
}

/* Gathers non-pinned alias groups into g (indexed by root id first, then
 * compacted); returns their count or -1 on a corrupted root field. */
static int32_t plan_groups_collect(const memory_plan *p, plan_group *g) {
  for (int32_t i = 0; i < p->n; i++) {
    const plan_buffer *b = &p->bufs[i];
    int32_t r = b->root;
    if (r < 0 || r > i || p->bufs[r].root != r) return -1;
    if (r == i) {
      g[i] = (plan_group){.size = b->size, .first = b->first, .last = b->last, .id = i};
      continue;
    }
    if (b->size > g[r].size) g[r].size = b->size;
    if (b->first < g[r].first) g[r].first = b->first;
    if (b->last > g[r].last) g[r].last = b->last;
  }
  int32_t m = 0;
  for (int32_t i = 0; i < p->n; i++)
    if (p->bufs[i].root == i && !p->bufs[i].pinned) g[m++] = g[i];
  return m;
}

static int plan_group_cmp(const void *va, const void *vb) {
  const plan_group *a = va, *b = vb;
  if (a->size != b->size) return a->size > b->size ? -1 : 1;
  if (a->first != b->first) return a->first < b->first ? -1 : 1;
  return (a->id > b->id) - (a->id < b->id);
}

static bool plan_steps_overlap(int32_t f1, int32_t l1, int32_t f2, int32_t l2) {
  return f1 <= l2 && f2 <= l1;
}

/* Lowest offset for g among the placed groups (by_off: indices into groups,
 * sorted by offset). Walking in offset order, a gap is found as soon as the
 * next time-overlapping group starts at least g->size past the candidate. */
static bool plan_group_fit(const plan_group *groups, const int32_t *by_off, int32_t n_placed,
                           const plan_group *g, size_t *offset) {
  size_t cand = 0;
  for (int32_t j = 0; j < n_placed; j++) {
    const plan_group *q = &groups[by_off[j]];
    if (!plan_steps_overlap(q->first, q->last, g->first, g->last)) continue;
    if (q->offset >= cand && q->offset - cand >= g->size) break;
    if (q->offset + q->size > cand) cand = q->offset + q->size;
  }
  if (g->size > SIZE_MAX - cand) return false;
  *offset = cand;
  return true;
}

static void plan_offset_insert(const plan_group *groups, int32_t *by_off, int32_t n_placed,
                               int32_t k) {
  int32_t pos = n_placed;
  while (pos > 0 && groups[by_off[pos - 1]].offset > groups[k].offset) pos--;
  memmove(by_off + pos + 1, by_off + pos, (size_t)(n_placed - pos) * sizeof *by_off);
  by_off[pos] = k;
}

onnxi_status plan_place(memory_plan *p, onnxi_error *err) {
  onnxi_status st = ONNXI_OK;
  plan_group *groups = NULL;
  int32_t *by_off = NULL;
  p->arena_bytes = 0;
  if (p->n == 0) return ONNXI_OK;
  groups = malloc((size_t)p->n * sizeof *groups);
  by_off = malloc((size_t)p->n * sizeof *by_off);
  if (!groups || !by_off) {
    st = err_set(err, ONNXI_ERR_NO_MEMORY, "memory plan: out of memory");
    goto fail;
  }
  int32_t m = plan_groups_collect(p, groups);
  if (m < 0) {
    st = err_set(err, ONNXI_ERR_INVALID_ARG, "memory plan: corrupted alias groups");
    goto fail;
  }
  qsort(groups, (size_t)m, sizeof *groups, plan_group_cmp);
  for (int32_t k = 0; k < m; k++) {
    plan_group *g = &groups[k];
    if (!plan_group_fit(groups, by_off, k, g, &g->offset)) {
      st = err_set(err, ONNXI_ERR_LIMIT,
                   "memory plan: buffer %d: arena offset overflows (%zu bytes at steps %d-%d)",
                   (int)g->id, g->size, (int)g->first, (int)g->last);
      goto fail;
    }
    plan_offset_insert(groups, by_off, k, k);
    if (g->offset + g->size > p->arena_bytes) p->arena_bytes = g->offset + g->size;
    p->bufs[g->id].offset = g->offset;
  }
  /* Roots precede their members, so one forward pass spreads the offsets. */
  for (int32_t i = 0; i < p->n; i++) {
    plan_buffer *b = &p->bufs[i];
    b->offset = b->pinned ? PLAN_OFFSET_NONE : p->bufs[b->root].offset;
  }
fail:
  if (st != ONNXI_OK) p->arena_bytes = 0;
  free(groups);
  free(by_off);
  return st;
}

/* --- verification -------------------------------------------------------- */

static bool plan_fail(char *why, size_t why_len, const char *fmt, ...) ONNXI_PRINTF(3, 4);

static bool plan_fail(char *why, size_t why_len, const char *fmt, ...) {
  if (why && why_len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
  }
  return false;
}

static bool plan_buffer_check(const memory_plan *p, int32_t i, char *why, size_t why_len) {
  const plan_buffer *b = &p->bufs[i];
  if (b->first < 0 || b->last < b->first)
    return plan_fail(why, why_len, "buffer %d: invalid steps %d-%d", (int)i, (int)b->first,
                     (int)b->last);
  if (b->alias_of < -1 || b->alias_of >= i)
    return plan_fail(why, why_len, "buffer %d: alias_of %d is not an earlier buffer", (int)i,
                     (int)b->alias_of);
  if (b->pinned) {
    if (b->alias_of >= 0)
      return plan_fail(why, why_len, "buffer %d: pinned but aliases %d", (int)i,
                       (int)b->alias_of);
    return true;
  }
  if (b->size % p->align || b->offset % p->align)
    return plan_fail(why, why_len, "buffer %d: size %zu or offset %zu not a multiple of %zu",
                     (int)i, b->size, b->offset, p->align);
  if (b->offset > p->arena_bytes || b->size > p->arena_bytes - b->offset)
    return plan_fail(why, why_len, "buffer %d: bytes %zu+%zu exceed the %zu-byte arena",
                     (int)i, b->offset, b->size, p->arena_bytes);
  return true;
}

/* Same group: a strictly precedes b or b strictly precedes a in time. */
static bool plan_steps_sequential(const plan_buffer *a, const plan_buffer *b) {
  return (a->last <= b->first && a->first < b->first) ||
         (b->last <= a->first && b->first < a->first);
}

static bool plan_pair_check(const memory_plan *p, int32_t i, int32_t j, const int32_t *root,
                            char *why, size_t why_len) {
  const plan_buffer *a = &p->bufs[i], *b = &p->bufs[j];
  if (root[i] == root[j]) {
    if (b->pinned || a->pinned)
      return plan_fail(why, why_len, "buffers %d and %d: pinned in an alias group", (int)i,
                       (int)j);
    if (a->offset != b->offset)
      return plan_fail(why, why_len, "buffers %d and %d: aliases at offsets %zu and %zu",
                       (int)i, (int)j, a->offset, b->offset);
    if (!plan_steps_sequential(a, b))
      return plan_fail(why, why_len, "buffers %d and %d: aliases live together (steps %d-%d, %d-%d)",
                       (int)i, (int)j, (int)a->first, (int)a->last, (int)b->first,
                       (int)b->last);
    return true;
  }
  /* Written out again rather than shared with plan_place, so a bug there
   * cannot hide itself here. */
  bool live_together = a->first <= b->last && b->first <= a->last;
  if (a->pinned || b->pinned || !live_together) return true;
  bool apart = a->offset + a->size <= b->offset || b->offset + b->size <= a->offset;
  if (!apart && a->size && b->size)
    return plan_fail(why, why_len,
                     "buffers %d [%zu, %zu) and %d [%zu, %zu) overlap while both live "
                     "(steps %d-%d, %d-%d)",
                     (int)i, a->offset, a->offset + a->size, (int)j, b->offset,
                     b->offset + b->size, (int)a->first, (int)a->last, (int)b->first,
                     (int)b->last);
  return true;
}

bool plan_check(const memory_plan *p, char *why, size_t why_len) {
  bool ok = true;
  int32_t *root = NULL;
  if (p->align == 0) return plan_fail(why, why_len, "alignment is 0");
  if (p->n == 0) return true;
  root = malloc((size_t)p->n * sizeof *root);
  if (!root) return plan_fail(why, why_len, "out of memory");
  for (int32_t i = 0; i < p->n && ok; i++) {
    ok = plan_buffer_check(p, i, why, why_len);
    /* Roots come from alias_of rather than the cached field: trust nothing. */
    if (ok) root[i] = p->bufs[i].alias_of < 0 ? i : root[p->bufs[i].alias_of];
  }
  /* Offsets are within the arena (checked above), so the sums cannot wrap. */
  for (int32_t i = 0; i < p->n && ok; i++)
    for (int32_t j = i + 1; j < p->n && ok; j++)
      ok = plan_pair_check(p, i, j, root, why, why_len);
  free(root);
  return ok;
}

/* --- printing ------------------------------------------------------------ */

void plan_print(FILE *f, const memory_plan *p, const char *const *names) {
  int32_t pinned = 0;
  for (int32_t i = 0; i < p->n; i++) pinned += p->bufs[i].pinned != 0;
  fprintf(f, "memory plan: %d buffers (%d pinned), arena %zu bytes, align %zu\n", (int)p->n,
          (int)pinned, p->arena_bytes, p->align);
  fprintf(f, "%6s %12s %12s %6s %6s  %s\n", "id", "bytes", "offset", "first", "last", "name");
  for (int32_t i = 0; i < p->n; i++) {
    const plan_buffer *b = &p->bufs[i];
    char off[24];
    if (b->pinned)
      snprintf(off, sizeof off, "pinned");
    else
      snprintf(off, sizeof off, "%zu", b->offset);
    const char *name = names && names[i] ? names[i] : "-";
    fprintf(f, "%6d %12zu %12s %6d %6d  %s", (int)i, b->size, off, (int)b->first, (int)b->last,
            name);
    if (b->alias_of >= 0) fprintf(f, " (in place of %d)", (int)b->alias_of);
    fputc('\n', f);
  }
}
