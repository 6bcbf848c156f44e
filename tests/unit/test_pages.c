/* hp_pages_zeroed / hp_pages_free: every allocation is
 * zeroed, page-aligned and disjoint from the others, including memory
 * handed out again after a free; past the first 1 MiB, tables under 2 MiB
 * share 2 MiB chunks of transparent huge pages where the kernel gives them. */
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

START_TEST(merged_free_ranges_serve_a_bigger_table)
{
  /* A table that doubles: each old one freed; the freed neighbours merge
   * and a later bigger table may take their place, zeroed. */
  size_t n = 16384;
  uint8_t *t = hp_pages_zeroed(n);
  for (int round = 0; round < 6; round++) {
    memset(t, 0x11, n);
    uint8_t *bigger = hp_pages_zeroed(2 * n);
    ck_assert(all_zero(bigger, 2 * n));
    hp_pages_free(t, n);
    t = bigger;
    n *= 2;
  }
  hp_pages_free(t, n);
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

/* AnonHugePages of the mapping holding p, in KiB (-1: not found). */
static long huge_kib_at(const void *p)
{
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[512];
  bool in = false;
  long kib = -1;
  while (f && fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { /* a mapping's first line */
      in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
      continue;
    }
    if (in && sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
      break;
  }
  if (f)
    fclose(f);
  return kib;
}

static bool thp_allowed(void)
{
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  char buf[128] = "";
  if (f) {
    if (!fgets(buf, sizeof buf, f))
      buf[0] = 0;
    fclose(f);
  }
  return f && !strstr(buf, "[never]");
}

START_TEST(small_tables_are_huge_pages)
{
  if (!thp_allowed())
    return; /* nothing to check: the kernel gives no huge pages */
  /* The first 1 MiB of tables is small pages: past it, from huge ones. */
  uint8_t *first = hp_pages_zeroed(1 << 20);
  uint8_t *t = hp_pages_zeroed(128 << 10);
  memset(t, 1, 128 << 10);
  ck_assert_msg(huge_kib_at(t) >= 2048, "a 128 KiB table is not on a huge page (AnonHugePages %ld kB)",
                huge_kib_at(t));
  hp_pages_free(t, 128 << 10);
  hp_pages_free(first, 1 << 20);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("pages");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, zeroed_disjoint_and_reused_zeroed);
  tcase_add_test(tc, merged_free_ranges_serve_a_bigger_table);
  tcase_add_test(tc, large_ones_are_aligned);
  tcase_add_test(tc, small_tables_are_huge_pages);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
