/* Memory planner: hand-computed placements, error paths, a corrupted plan
 * caught by plan_check, and randomized plans checked against the live-bytes
 * lower bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan.h"

static int32_t add(memory_plan *p, size_t size, int32_t first, int32_t last) {
  int32_t id = -1;
  onnxi_error err = {0};
  assert_int_equal(plan_buffer_add(p, size, first, last, &id, &err), ONNXI_OK);
  return id;
}

static void place_ok(memory_plan *p) {
  onnxi_error err = {0};
  char why[256];
  assert_int_equal(plan_place(p, &err), ONNXI_OK);
  if (!plan_check(p, why, sizeof why)) fail_msg("plan_check: %s", why);
}

/* A -> B -> C: B is live with A (step 1) and with C (step 2), A and C never
 * together, so C reuses A's bytes. */
static void test_chain(void **state) {
  (void)state;
  memory_plan p;
  plan_init(&p, 64);
  int32_t a = add(&p, 64, 0, 1), b = add(&p, 64, 1, 2), c = add(&p, 64, 2, 3);
  place_ok(&p);
  assert_int_equal(p.bufs[a].offset, 0);
  assert_int_equal(p.bufs[b].offset, 64);
  assert_int_equal(p.bufs[c].offset, 0);
  assert_int_equal(p.arena_bytes, 128);
  plan_release(&p);
}

/* All live together: stacked largest first, whatever the insertion order. */
static void test_three_overlapping(void **state) {
  (void)state;
  memory_plan p;
  plan_init(&p, 4);
  int32_t s = add(&p, 100, 0, 2), m = add(&p, 200, 0, 2), l = add(&p, 300, 0, 2);
  place_ok(&p);
  assert_int_equal(p.bufs[l].offset, 0);
  assert_int_equal(p.bufs[m].offset, 300);
  assert_int_equal(p.bufs[s].offset, 500);
  assert_int_equal(p.arena_bytes, 600);
  plan_release(&p);
}

/* Largest first, then the lowest gap: T fits between R and S because Q,
 * which sits there too, is dead at T's step. */
static void test_largest_first_gap(void **state) {
  (void)state;
  memory_plan p;
  plan_init(&p, 64);
  int32_t t = add(&p, 64, 2, 2);   /* added first, placed last */
  int32_t s = add(&p, 64, 0, 4);
  int32_t r = add(&p, 128, 2, 4);
  int32_t q = add(&p, 192, 0, 1);
  int32_t pp = add(&p, 256, 0, 4);
  place_ok(&p);
  assert_int_equal(p.bufs[pp].offset, 0);
  assert_int_equal(p.bufs[q].offset, 256);
  assert_int_equal(p.bufs[r].offset, 256); /* Q is dead by step 2 */
  assert_int_equal(p.bufs[s].offset, 448); /* above both Q and R */
  assert_int_equal(p.bufs[t].offset, 384); /* gap [384, 448) above R */
  assert_int_equal(p.arena_bytes, 512);
  plan_release(&p);
}

/* Equal sizes: earlier first use wins, then the lower id. */
static void test_ties(void **state) {
  (void)state;
  memory_plan p;
  plan_init(&p, 64);
  int32_t late = add(&p, 64, 2, 5), early = add(&p, 64, 0, 5), early2 = add(&p, 64, 0, 5);
  place_ok(&p);
  assert_int_equal(p.bufs[early].offset, 0);
  assert_int_equal(p.bufs[early2].offset, 64);
  assert_int_equal(p.bufs[late].offset, 128);
  plan_release(&p);
}

static void test_alignment(void **state) {
  (void)state;
  memory_plan p;
  plan_init(&p, 64);
  int32_t a = add(&p, 1, 0, 1), b = add(&p, 65, 0, 1), c = add(&p, 10, 1, 1);
  int32_t z = add(&p, 0, 0, 1);
  assert_int_equal(p.bufs[a].size, 64);
  assert_int_equal(p.bufs[b].size, 128);
  assert_int_equal(p.bufs[c].size, 64);
  assert_int_equal(p.bufs[z].size, 0);
  place_ok(&p);
  assert_int_equal(p.bufs[b].offset, 0);
  assert_int_equal(p.bufs[a].offset, 128);
  assert_int_equal(p.bufs[c].offset, 192);
  assert_int_equal(p.bufs[z].offset, 0);
  assert_int_equal(p.arena_bytes, 256);
  plan_release(&p);

  /* Any alignment works, not only powers of two; 0 means 1. */
  plan_init(&p, 48);
  a = add(&p, 50, 0, 1);
  b = add(&p, 1, 0, 1);
  assert_int_equal(p.bufs[a].size, 96);
  place_ok(&p);
  assert_int_equal(p.bufs[b].offset, 96);
  plan_release(&p);
  plan_init(&p, 0);
  assert_int_equal(p.align, 1);
  a = add(&p, 3, 0, 0);
  b = add(&p, 5, 0, 0);
  place_ok(&p);
  assert_int_equal(p.bufs[b].offset, 0);
  assert_int_equal(p.bufs[a].offset, 5);
  assert_int_equal(p.arena_bytes, 8);
  plan_release(&p);
}

/* A -> B -> C in place over one block; D, live throughout, sits above it. The
 * group is as large as its largest member. */
static void test_alias_chain(void **state) {
  (void)state;
  memory_plan p;
  onnxi_error err = {0};
  plan_init(&p, 64);
  int32_t a = add(&p, 64, 0, 1), b = add(&p, 100, 1, 2), c = add(&p, 64, 2, 3);
  int32_t d = add(&p, 64, 0, 3);
  assert_int_equal(plan_buffer_alias(&p, b, a, &err), ONNXI_OK);
  assert_int_equal(plan_buffer_alias(&p, c, b, &err), ONNXI_OK);
  assert_int_equal(p.bufs[c].root, a);
  assert_int_equal(p.bufs[c].alias_of, b);
  place_ok(&p);
  assert_int_equal(p.bufs[a].offset, 0);
  assert_int_equal(p.bufs[b].offset, 0);
  assert_int_equal(p.bufs[c].offset, 0);
  assert_int_equal(p.bufs[d].offset, 128);
  assert_int_equal(p.arena_bytes, 192);
  plan_release(&p);
}

static void test_alias_errors(void **state) {
  (void)state;
  memory_plan p;
  onnxi_error err = {0};
  plan_init(&p, 64);
  int32_t a = add(&p, 64, 0, 2), b = add(&p, 64, 1, 3), c = add(&p, 64, 2, 4);
  int32_t d = add(&p, 64, 4, 5), e = add(&p, 64, 4, 6);
  /* later, out of range, self */
  assert_int_equal(plan_buffer_alias(&p, a, b, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(plan_buffer_alias(&p, 9, a, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(plan_buffer_alias(&p, a, a, &err), ONNXI_ERR_INVALID_ARG);
  /* b starts before a ends: both live at step 1 */
  assert_int_equal(plan_buffer_alias(&p, b, a, &err), ONNXI_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "cannot alias buffer 0"));
  assert_int_equal(plan_buffer_alias(&p, c, a, &err), ONNXI_OK);
  assert_int_equal(plan_buffer_alias(&p, c, a, &err), ONNXI_ERR_INVALID_ARG); /* twice */
  assert_int_equal(plan_buffer_alias(&p, d, c, &err), ONNXI_OK);
  /* e would share bytes with d, both written at step 4 */
  assert_int_equal(plan_buffer_alias(&p, e, a, &err), ONNXI_ERR_INVALID_ARG);
  /* pinning a group member, or aliasing a pinned buffer */
  assert_int_equal(plan_buffer_pin(&p, a, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(plan_buffer_pin(&p, d, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(plan_buffer_pin(&p, 42, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(plan_buffer_pin(&p, b, &err), ONNXI_OK);
  int32_t f = add(&p, 64, 3, 4);
  assert_int_equal(plan_buffer_alias(&p, f, b, &err), ONNXI_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "pinned"));
  /* both written at step 6: sharing bytes would let one clobber the other */
  int32_t g = add(&p, 64, 6, 6), h = add(&p, 64, 6, 7);
  assert_int_equal(plan_buffer_alias(&p, h, g, &err), ONNXI_ERR_INVALID_ARG);
  place_ok(&p);
  assert_int_equal(p.bufs[d].offset, p.bufs[a].offset);
  /* invalid step ranges */
  assert_int_equal(plan_buffer_add(&p, 8, -1, 2, NULL, &err), ONNXI_ERR_INVALID_ARG);
  assert_int_equal(plan_buffer_add(&p, 8, 3, 2, NULL, NULL), ONNXI_ERR_INVALID_ARG);
  plan_release(&p);
}

static void test_pinned(void **state) {
  (void)state;
  memory_plan p;
  onnxi_error err = {0};
  plan_init(&p, 64);
  int32_t in = add(&p, 1000, 0, 3), b = add(&p, 64, 0, 1), c = add(&p, 64, 1, 2);
  int32_t out = add(&p, 4096, 2, 3);
  assert_int_equal(plan_buffer_pin(&p, in, &err), ONNXI_OK);
  assert_int_equal(plan_buffer_pin(&p, out, &err), ONNXI_OK);
  place_ok(&p);
  assert_int_equal(p.bufs[in].offset, PLAN_OFFSET_NONE);
  assert_int_equal(p.bufs[out].offset, PLAN_OFFSET_NONE);
  assert_int_equal(p.bufs[b].offset, 0);
  assert_int_equal(p.bufs[c].offset, 64);
  assert_int_equal(p.arena_bytes, 128);
  plan_release(&p);

  /* Only pinned buffers: an empty arena. So is an empty plan. */
  plan_init(&p, 64);
  assert_int_equal(plan_place(&p, &err), ONNXI_OK);
  assert_true(plan_check(&p, NULL, 0));
  in = add(&p, 10, 0, 0);
  assert_int_equal(plan_buffer_pin(&p, in, &err), ONNXI_OK);
  place_ok(&p);
  assert_int_equal(p.arena_bytes, 0);
  plan_release(&p);
}

static void expect_broken(const memory_plan *p, const char *needle) {
  char why[256] = "";
  assert_false(plan_check(p, why, sizeof why));
  if (!strstr(why, needle)) fail_msg("expected '%s' in '%s'", needle, why);
}

static void test_check_catches_corruption(void **state) {
  (void)state;
  memory_plan p;
  onnxi_error err = {0};
  plan_init(&p, 64);
  int32_t a = add(&p, 64, 0, 1), b = add(&p, 64, 1, 2), c = add(&p, 64, 2, 3);
  int32_t d = add(&p, 64, 3, 4);
  assert_int_equal(plan_buffer_alias(&p, d, c, &err), ONNXI_OK);
  place_ok(&p);

  p.bufs[c].offset = p.bufs[b].offset; /* b and c both live at step 2 */
  expect_broken(&p, "overlap while both live");
  p.bufs[d].offset = p.bufs[c].offset = 0;
  assert_true(plan_check(&p, NULL, 0));

  p.bufs[a].offset = 32;
  expect_broken(&p, "not a multiple of 64");
  p.bufs[a].offset = 0;

  p.bufs[b].offset = p.arena_bytes;
  expect_broken(&p, "exceed");
  p.bufs[b].offset = SIZE_MAX - 63; /* must not wrap around */
  expect_broken(&p, "exceed");
  p.bufs[b].offset = 64;

  p.bufs[d].offset = 64; /* an alias away from its source */
  expect_broken(&p, "aliases at offsets");
  p.bufs[d].offset = 0;
  p.bufs[d].first = 2; /* an alias live together with its source */
  expect_broken(&p, "aliases live together");
  p.bufs[d].first = 3;
  p.bufs[d].alias_of = 7;
  expect_broken(&p, "not an earlier buffer");
  p.bufs[d].alias_of = c;
  assert_true(plan_check(&p, NULL, 0));
  /* plan_place refuses a corrupted cached root rather than indexing with it */
  p.bufs[d].root = 9;
  assert_int_equal(plan_place(&p, &err), ONNXI_ERR_INVALID_ARG);
  plan_release(&p);
}

static void test_overflow(void **state) {
  (void)state;
  memory_plan p;
  onnxi_error err = {0};
  int32_t id = 77;
  plan_init(&p, 64);
  assert_int_equal(plan_buffer_add(&p, SIZE_MAX - 10, 0, 1, &id, &err), ONNXI_ERR_LIMIT);
  assert_int_equal(err.status, ONNXI_ERR_LIMIT);
  assert_non_null(strstr(err.message, "overflows"));
  assert_int_equal(id, 77);
  assert_int_equal(p.n, 0);
  /* Each fits; stacked, the second ends past SIZE_MAX. */
  size_t half = (size_t)1 << (sizeof(size_t) * 8 - 1);
  add(&p, half, 0, 1);
  add(&p, half, 1, 2);
  assert_int_equal(plan_place(&p, &err), ONNXI_ERR_LIMIT);
  assert_non_null(strstr(err.message, "arena offset overflows"));
  assert_int_equal(p.arena_bytes, 0);
  /* Not live together: they share offset 0 and the plan fits. */
  p.bufs[1].first = 2;
  place_ok(&p);
  assert_int_equal(p.arena_bytes, half);
  plan_release(&p);
}

static char *print_to_string(const memory_plan *p, const char *const *names) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  plan_print(f, p, names);
  fclose(f);
  return buf;
}

static void test_print(void **state) {
  (void)state;
  memory_plan p;
  onnxi_error err = {0};
  plan_init(&p, 64);
  int32_t in = add(&p, 100, 0, 1), r = add(&p, 64, 1, 2), s = add(&p, 64, 2, 3);
  int32_t out = add(&p, 10, 3, 4), t = add(&p, 200, 1, 2);
  assert_int_equal(plan_buffer_pin(&p, in, &err), ONNXI_OK);
  assert_int_equal(plan_buffer_pin(&p, out, &err), ONNXI_OK);
  assert_int_equal(plan_buffer_alias(&p, s, r, &err), ONNXI_OK);
  place_ok(&p);
  (void)t;
  const char *names[] = {"input", "relu", "sigmoid", NULL, "tmp"};
  char *text = print_to_string(&p, names);
  assert_string_equal(text,
                      "memory plan: 5 buffers (2 pinned), arena 320 bytes, align 64\n"
                      "    id        bytes       offset  first   last  name\n"
                      "     0          128       pinned      0      1  input\n"
                      "     1           64          256      1      2  relu\n"
                      "     2           64          256      2      3  sigmoid (in place of 1)\n"
                      "     3           64       pinned      3      4  -\n"
                      "     4          256            0      1      2  tmp\n");
  free(text);
  text = print_to_string(&p, NULL);
  assert_non_null(strstr(text, "     4          256            0      1      2  -\n"));
  free(text);
  plan_release(&p);
}

/* --- randomized ---------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) { /* xorshift64*: same sequence everywhere */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

static uint32_t rng_below(uint64_t *s, uint32_t n) { return (uint32_t)(rng_next(s) >> 33) % n; }

enum { RAND_BUFS = 200, RAND_TRIALS = 100, RAND_STEPS = 80 };

/* Max over steps of the bytes that must coexist: no plan can do better. */
static size_t live_bytes_bound(const memory_plan *p) {
  size_t live[RAND_STEPS] = {0}, best = 0;
  for (int32_t i = 0; i < p->n; i++) {
    const plan_buffer *b = &p->bufs[i];
    if (b->pinned) continue;
    for (int32_t t = b->first; t <= b->last; t++) live[t] += b->size;
  }
  for (int t = 0; t < RAND_STEPS; t++)
    if (live[t] > best) best = live[t];
  return best;
}

static void random_plan_fill(memory_plan *p, uint64_t *rng, bool with_aliases) {
  onnxi_error err;
  for (int i = 0; i < RAND_BUFS; i++) {
    int32_t first = (int32_t)rng_below(rng, RAND_STEPS / 2);
    int32_t id = -1, of = -1;
    if (with_aliases && i > 0 && rng_below(rng, 3) == 0) {
      of = (int32_t)rng_below(rng, (uint32_t)i);
      first = p->bufs[of].last; /* written by the op that last reads `of` */
    }
    int32_t last = first + (int32_t)rng_below(rng, RAND_STEPS / 2);
    size_t size = 1 + rng_below(rng, rng_below(rng, 4) == 0 ? 100000 : 2000);
    assert_int_equal(plan_buffer_add(p, size, first, last, &id, &err), ONNXI_OK);
    /* Refusals (a later group member, a pinned source) are part of the test. */
    if (of >= 0 && plan_buffer_alias(p, id, of, &err) == ONNXI_OK) continue;
    if (rng_below(rng, 20) == 0) assert_int_equal(plan_buffer_pin(p, id, &err), ONNXI_OK);
  }
}

static void test_random_lower_bound(void **state) {
  (void)state;
  static const size_t aligns[] = {1, 4, 16, 64, 48};
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  for (int trial = 0; trial < RAND_TRIALS; trial++) {
    memory_plan p;
    plan_init(&p, aligns[trial % 5]);
    random_plan_fill(&p, &rng, false);
    place_ok(&p);
    size_t total = 0;
    for (int32_t i = 0; i < p.n; i++) total += p.bufs[i].pinned ? 0 : p.bufs[i].size;
    assert_true(p.arena_bytes >= live_bytes_bound(&p));
    assert_true(p.arena_bytes <= total);
    plan_release(&p);
  }
}

static void test_random_aliases_deterministic(void **state) {
  (void)state;
  uint64_t rng = 12345;
  int aliased = 0;
  for (int trial = 0; trial < RAND_TRIALS; trial++) {
    memory_plan p, q;
    plan_init(&p, 64);
    plan_init(&q, 64);
    uint64_t seed = rng_next(&rng), s1 = seed, s2 = seed;
    random_plan_fill(&p, &s1, true);
    random_plan_fill(&q, &s2, true);
    place_ok(&p);
    place_ok(&q);
    for (int32_t i = 0; i < p.n; i++) {
      aliased += p.bufs[i].alias_of >= 0;
      assert_int_equal(p.bufs[i].offset, q.bufs[i].offset);
    }
    /* Placing again reproduces the plan. */
    size_t arena_bytes = p.arena_bytes;
    place_ok(&p);
    assert_int_equal(p.arena_bytes, arena_bytes);
    for (int32_t i = 0; i < p.n; i++) assert_int_equal(p.bufs[i].offset, q.bufs[i].offset);
    plan_release(&p);
    plan_release(&q);
  }
  assert_true(aliased > RAND_TRIALS); /* the alias paths were exercised */
}

/* A ResNet-sized plan: 2000 buffers must place quickly (O(n^2) at most). */
static void test_large(void **state) {
  (void)state;
  memory_plan p;
  onnxi_error err = {0};
  uint64_t rng = 7;
  plan_init(&p, 64);
  for (int32_t i = 0; i < 2000; i++) {
    int32_t id;
    int32_t len = rng_below(&rng, 10) == 0 ? 200 : 1 + (int32_t)rng_below(&rng, 3);
    size_t size = 4 * (1 + rng_below(&rng, 56 * 56 * 64));
    assert_int_equal(plan_buffer_add(&p, size, i, i + len, &id, &err), ONNXI_OK);
    if (i > 0 && p.bufs[i - 1].last == i && rng_below(&rng, 4) == 0)
      assert_int_equal(plan_buffer_alias(&p, id, i - 1, &err), ONNXI_OK);
  }
  place_ok(&p);
  plan_release(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chain),
      cmocka_unit_test(test_three_overlapping),
      cmocka_unit_test(test_largest_first_gap),
      cmocka_unit_test(test_ties),
      cmocka_unit_test(test_alignment),
      cmocka_unit_test(test_alias_chain),
      cmocka_unit_test(test_alias_errors),
      cmocka_unit_test(test_pinned),
      cmocka_unit_test(test_check_catches_corruption),
      cmocka_unit_test(test_overflow),
      cmocka_unit_test(test_print),
      cmocka_unit_test(test_random_lower_bound),
      cmocka_unit_test(test_random_aliases_deterministic),
      cmocka_unit_test(test_large),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
