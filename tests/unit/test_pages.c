/* hp_pages_zeroed / hp_pages_free: every allocation is
 * zeroed, page-aligned and disjoint from the others, including memory
 * handed out again after a free; freed neighbours merge; past the first
 * 1 MiB, tables under 2 MiB share 2 MiB chunks of transparent huge pages
 * where the kernel gives them. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hotpath/pages.h"

static bool all_zero(const uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i])
      return false;
  return true;
}

START_TEST(zeroed_disjoint_and_reused_zeroed)
{
  enum { N = 40 };
  uint8_t *p[N];
  size_t sz[N];
  for (int i = 0; i < N; i++) {
    sz[i] = (size_t)(i % 7 + 1) * 4096 * (i % 3 ? 1 : 16) + (i % 2 ? 100 : 0);
    p[i] = hp_pages_zeroed(sz[i]);
    ck_assert(((uintptr_t)p[i] & 4095) == 0);
    ck_assert(all_zero(p[i], sz[i]));
    memset(p[i], 0xa5, sz[i]);
  }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      ck_assert(i == j || p[i] + sz[i] <= p[j] || p[j] + sz[j] <= p[i]);
  /* Free every other one, then allocate the same sizes again: what comes
   * back may be the freed memory, and must be zero. */
  for (int i = 0; i < N; i += 2)
    hp_pages_free(p[i], sz[i]);
  for (int i = 0; i < N; i += 2) {
    p[i] = hp_pages_zeroed(sz[i]);
    ck_assert(all_zero(p[i], sz[i]));
    memset(p[i], 0x5a, sz[i]);
  }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      ck_assert(i == j || p[i] + sz[i] <= p[j] || p[j] + sz[j] <= p[i]);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(p[i][sz[i] - 1], i % 2 ? 0xa5 : 0x5a);
  for (int i = 0; i < N; i++)
    hp_pages_free(p[i], sz[i]);
}
END_TEST

/* Past the first 1 MiB (small pages), tables come from the pool. */
static void past_small_pages(void) { (void)hp_pages_zeroed(1 << 20); }

START_TEST(freed_neighbours_merge_and_are_reused_zeroed)
{
  past_small_pages();
  uint8_t *a = hp_pages_zeroed(16384), *b = hp_pages_zeroed(16384);
  ck_assert_ptr_eq(b, a + 16384); /* first fit, from the lowest free range */
  memset(a, 0x11, 16384);
  memset(b, 0x22, 16384);
  hp_pages_free(a, 16384);
  hp_pages_free(b, 16384);
  uint8_t *c = hp_pages_zeroed(32768); /* only the two merged fit there */
  ck_assert_ptr_eq(c, a);
  ck_assert(all_zero(c, 32768));
  /* A table that doubles, each old one freed: the pool stays in one chunk. */
  size_t n = 16384;
  uint8_t *t = hp_pages_zeroed(n);
  for (int round = 0; round < 5; round++) {
    memset(t, 0x33, n);
    uint8_t *bigger = hp_pages_zeroed(2 * n);
    ck_assert(all_zero(bigger, 2 * n));
    hp_pages_free(t, n);
    t = bigger;
    n *= 2;
  }
  hp_pages_free(t, n);
  hp_pages_free(c, 32768);
}
END_TEST

START_TEST(large_ones_are_aligned)
{
  size_t big = (size_t)3 << 20;
  uint8_t *a = hp_pages_zeroed(big);
  ck_assert(((uintptr_t)a & ((2u << 20) - 1)) == 0);
  ck_assert(all_zero(a, big));
  hp_pages_free(a, big);
}
END_TEST

/* Field `key` (kB or a flag) of the mapping holding p in /proc/self/smaps;
 * -1: not found. */
static long smaps_field(const void *p, const char *key)
{
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[512];
  bool in = false;
  long v = -1;
  size_t klen = strlen(key);
  while (f && fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { /* a mapping's first line */
      in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
      continue;
    }
    if (in && !strncmp(line, key, klen) && line[klen] == ':' && sscanf(line + klen + 1, "%ld", &v) == 1)
      break;
  }
  if (f)
    fclose(f);
  return v;
}

/* The kernel's THP mode: 'a'lways, 'm'advise, 'n'ever (or unknown). */
static char thp_mode(void)
{
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  char buf[128] = "";
  if (f) {
    if (!fgets(buf, sizeof buf, f))
      buf[0] = 0;
    fclose(f);
  }
  return strstr(buf, "[always]") ? 'a' : strstr(buf, "[madvise]") ? 'm' : 'n';
}

START_TEST(small_pages_first_then_huge_pages)
{
  char mode = thp_mode();
  if (mode == 'n')
    return; /* nothing to check: the kernel gives no huge pages */
  uint8_t *first = hp_pages_zeroed(256 << 10);
  if (mode == 'm') /* (with "always", every mapping is eligible) */
    ck_assert_msg(smaps_field(first, "THPeligible") == 0, "the first 1 MiB of tables is not small pages");
  past_small_pages();
  uint8_t *t = hp_pages_zeroed(128 << 10);
  memset(t, 1, 128 << 10);
  /* (whether the kernel then gives a huge page depends on its free memory:
   * that the mapping asks for them is what hotpath decides) */
  ck_assert_msg(smaps_field(t, "THPeligible") == 1, "a pooled table is not in a huge-page mapping");
}
END_TEST

int main(void)
{
  Suite *s = suite_create("pages");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, zeroed_disjoint_and_reused_zeroed);
  tcase_add_test(tc, freed_neighbours_merge_and_are_reused_zeroed);
  tcase_add_test(tc, large_ones_are_aligned);
  tcase_add_test(tc, small_pages_first_then_huge_pages);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  /* (each test in a process of its own: the pool and the 1 MiB of small
   * pages start afresh) */
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
