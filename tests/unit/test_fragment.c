/* Unit tests for the fragment table, the guest-page index behind range
 * flushes and the cache-pc -> guest-pc map, through the public API with
 * hand-made fragment records (no code is run). Each test runs in its own
 * process (Check's default fork mode) and uses its own guest addresses. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotpath/cache.h"
#include "hotpath/fragment.h"
#include "hotpath/options.h"
#include "hotpath/recovery.h"
#include "hotpath/stats.h"
#if __has_include("hotpath/ibl.h")
#include "hotpath/ibl.h"
#endif
#if __has_include("hotpath/arena.h")
#include "hotpath/arena.h"
#endif

#define PAGE 4096ull

/* A fragment entered at pc whose guest code is [lo, hi); no code, no exits. */
static struct hp_fragment *frag(uint64_t pc, uint64_t lo, uint64_t hi)
{
  struct hp_fragment *f = hp_arena_alloc(sizeof *f);
  memset(f, 0, sizeof *f);
  f->guest_pc = pc;
  f->nranges = 1;
  f->ranges = hp_arena_alloc(sizeof *f->ranges);
  f->ranges[0] = (struct hp_guest_range){lo, hi};
  return f;
}

static struct hp_fragment *insert(uint64_t pc, uint64_t lo, uint64_t hi)
{
  struct hp_fragment *f = frag(pc, lo, hi);
  hp_fragment_insert(f);
  return f;
}

/* Whether f is still in the table (not flushed). */
static bool present(const struct hp_fragment *f)
{
  return !f->removed && hp_fragment_lookup(f->guest_pc) == f;
}

static bool overlaps(uint64_t a_lo, uint64_t a_hi, uint64_t lo, uint64_t hi) { return a_lo < hi && a_hi > lo; }

START_TEST(insert_lookup_remove)
{
  ck_assert_ptr_null(hp_fragment_lookup(0x401000));
  struct hp_fragment *a = insert(0x401000, 0x401000, 0x401010);
  struct hp_fragment *b = insert(0x401010, 0x401010, 0x401020);
  struct hp_fragment *c = insert(0x7ffff7a01234, 0x7ffff7a01234, 0x7ffff7a01240);
  ck_assert_ptr_eq(hp_fragment_lookup(0x401000), a);
  ck_assert_ptr_eq(hp_fragment_lookup(0x401010), b);
  ck_assert_ptr_eq(hp_fragment_lookup(0x7ffff7a01234), c);
  /* Only entries: not an address inside a fragment. */
  ck_assert_ptr_null(hp_fragment_lookup(0x401001));
  ck_assert_ptr_null(hp_fragment_lookup(0x40100f));
  ck_assert_ptr_null(hp_fragment_lookup(0));
  ck_assert_ptr_null(hp_fragment_lookup(~0ull));
  hp_fragment_remove(b);
  ck_assert(b->removed);
  ck_assert_ptr_null(hp_fragment_lookup(0x401010));
  ck_assert_ptr_eq(hp_fragment_lookup(0x401000), a);
  ck_assert_ptr_eq(hp_fragment_lookup(0x7ffff7a01234), c);
  hp_fragment_remove(b); /* twice: nothing more happens */
  ck_assert_ptr_eq(hp_fragment_lookup(0x401000), a);
  ck_assert_ptr_null(hp_fragment_lookup(~0ull)); /* the tombstone's key matches nothing */
  /* A new translation of the same pc */
  struct hp_fragment *b2 = insert(0x401010, 0x401010, 0x401020);
  ck_assert_ptr_eq(hp_fragment_lookup(0x401010), b2);
}
END_TEST

/* Distinct pseudo-random guest pcs (user space, any alignment): unlike
 * evenly spaced ones they collide in the table, so probe chains run across
 * the slots of removed fragments. */
static void random_pcs(uint64_t *pc, unsigned n, uint64_t seed)
{
  uint64_t x = seed;
  for (unsigned i = 0; i < n; i++) {
    bool dup;
    do {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      pc[i] = 0x10000 + ((x >> 16) & 0x7fffffffffull);
      dup = false;
      for (unsigned j = 0; j < i && !dup; j++) /* n is small: quadratic is fine */
        dup = pc[j] == pc[i];
    } while (dup);
  }
}

START_TEST(lookups_across_tombstones)
{
  enum { N = 6000 };
  static struct hp_fragment *f[N];
  static uint64_t pc[N];
  random_pcs(pc, N, 12345);
  for (unsigned i = 0; i < N; i++)
    f[i] = insert(pc[i], pc[i], pc[i] + 16);
  for (unsigned i = 0; i < N; i++)
    ck_assert_ptr_eq(hp_fragment_lookup(pc[i]), f[i]);
  /* Remove every other one (in insertion order: the earlier of two keys that
   * collide is removed as often as the later), then look up all. */
  for (unsigned i = 1; i < N; i += 2)
    hp_fragment_remove(f[i]);
  for (unsigned i = 0; i < N; i++) {
    if (i % 2)
      ck_assert_ptr_null(hp_fragment_lookup(pc[i]));
    else
      ck_assert_msg(hp_fragment_lookup(pc[i]) == f[i], "fragment %u (pc %#llx) lost", i,
                    (unsigned long long)pc[i]);
  }
  for (unsigned i = 0; i < N; i += 2)
    hp_fragment_remove(f[i]);
  /* Re-inserting reuses removed slots; every key still found. */
  for (unsigned i = 0; i < N; i += 3)
    f[i] = insert(pc[i], pc[i], pc[i] + 16);
  for (unsigned i = 0; i < N; i++)
    ck_assert_ptr_eq(hp_fragment_lookup(pc[i]), i % 3 ? NULL : f[i]);
  /* Fill well past the first table's size: growth rehashes live entries
   * only, tombstones are dropped. */
  enum { M = 30000 };
  static struct hp_fragment *g[M];
  const uint64_t base2 = 0x20000000;
  for (unsigned i = 0; i < M; i++)
    g[i] = insert(base2 + 8 * i, base2 + 8 * i, base2 + 8 * i + 8);
  for (unsigned i = 0; i < M; i++)
    ck_assert_ptr_eq(hp_fragment_lookup(base2 + 8 * i), g[i]);
  for (unsigned i = 0; i < N; i++)
    ck_assert_ptr_eq(hp_fragment_lookup(pc[i]), i % 3 ? NULL : f[i]);
}
END_TEST

START_TEST(many_fragments)
{
  enum { N = 100000 };
  struct hp_fragment **f = malloc(N * sizeof *f);
  ck_assert_ptr_nonnull(f);
  const uint64_t base = 0x555555554000ull;
  for (unsigned i = 0; i < N; i++) /* 64 fragments a page, 1563 pages */
    f[i] = insert(base + 64 * i, base + 64 * i, base + 64 * i + 40);
  for (unsigned i = 0; i < N; i++) {
    ck_assert_ptr_eq(hp_fragment_lookup(base + 64 * i), f[i]);
    ck_assert_ptr_null(hp_fragment_lookup(base + 64 * i + 1));
  }
  /* Flush the first half (by address) and check both halves. */
  uint64_t mid = base + 64 * (N / 2);
  hp_fragments_flush_range(base, mid);
  for (unsigned i = 0; i < N; i++) {
    if (i < N / 2)
      ck_assert_msg(!present(f[i]) && f[i]->removed, "fragment %u not flushed", i);
    else
      ck_assert_msg(present(f[i]), "fragment %u flushed", i);
  }
  free(f);
}
END_TEST

/* Until a flush meets translated code, fragments are not indexed by page
 * (a set of code pages answers); flushes elsewhere, small and huge, keep it
 * so; the first one over code indexes everything inserted until then. */
START_TEST(flush_index_built_on_first_hit)
{
  uint64_t flushed0 = hp_stats.flushed_fragments;
  struct hp_fragment *a = insert(0x601000, 0x601000, 0x601010);
  struct hp_fragment *b = insert(0x603ff8, 0x603ff8, 0x604008); /* two pages */
  hp_fragments_flush_range(0x600000, 0x601000);  /* the page below a */
  hp_fragments_flush_range(0x602000, 0x603000);  /* between them */
  hp_fragments_flush_range(0x605000, 0x7fff0000000ull); /* above, more pages than code */
  hp_fragments_flush_range(0x1000, 0x601000);    /* below, the same */
  ck_assert(present(a) && present(b));
  ck_assert_uint_eq(hp_stats.flushed_fragments - flushed0, 0);
  struct hp_fragment *c = insert(0x605000, 0x605000, 0x605004);
  for (int i = 0; i < 3000; i++) /* the waiting array grows */
    insert(0x700000 + 16 * (uint64_t)i, 0x700000 + 16 * (uint64_t)i, 0x700000 + 16 * (uint64_t)i + 16);
  hp_fragments_flush_range(0x604000, 0x604001); /* b's second page */
  ck_assert(present(a) && !present(b) && present(c));
  hp_fragments_flush_range(0x601000, 0x606000);
  ck_assert(!present(a) && !present(c));
  hp_fragments_flush_range(0x700000, 0x700000 + 16 * 3000);
  ck_assert_uint_eq(hp_stats.flushed_fragments - flushed0, 3003);
  struct hp_fragment *d = insert(0x601000, 0x601000, 0x601004); /* indexed at once now */
  hp_fragments_flush_range(0x601003, 0x601004);
  ck_assert(!present(d));
}
END_TEST

START_TEST(flush_range_bounds)
{
  uint64_t flushed0 = hp_stats.flushed_fragments;
  struct hp_fragment *a = insert(0x401000, 0x401000, 0x401010);
  struct hp_fragment *b = insert(0x401010, 0x401010, 0x401020);
  struct hp_fragment *c = insert(0x401ff0, 0x401ff0, 0x402010); /* across a page boundary */
  struct hp_fragment *d = insert(0x402010, 0x402010, 0x402020);
  struct hp_fragment *e = insert(0x500000, 0x500000, 0x500001);
  /* Empty and inverted ranges flush nothing. */
  hp_fragments_flush_range(0x401000, 0x401000);
  hp_fragments_flush_range(0x402000, 0x401000);
  /* hi is exclusive: [0x400000, 0x401000) ends where a starts. */
  hp_fragments_flush_range(0x400000, 0x401000);
  /* lo is inclusive of the range, a's hi exclusive: [0x401010, 0x401011) is b's only. */
  hp_fragments_flush_range(0x401010, 0x401011);
  ck_assert(present(a) && !present(b) && present(c) && present(d) && present(e));
  ck_assert_uint_eq(hp_stats.flushed_fragments - flushed0, 1);
  /* The second page of c only: c goes, d (starting at the range's end) stays. */
  hp_fragments_flush_range(0x402000, 0x402010);
  ck_assert(present(a) && !present(c) && present(d) && present(e));
  ck_assert_uint_eq(hp_stats.flushed_fragments - flushed0, 2);
  /* The last byte of e */
  hp_fragments_flush_range(0x500000, 0x500001);
  ck_assert(!present(e) && present(a) && present(d));
  /* Flushing again what is gone counts nothing. */
  hp_fragments_flush_range(0x401000, 0x403000);
  ck_assert(!present(a) && !present(d));
  ck_assert_uint_eq(hp_stats.flushed_fragments - flushed0, 5);
  hp_fragments_flush_range(0x400000, 0x600000);
  ck_assert_uint_eq(hp_stats.flushed_fragments - flushed0, 5);
  /* A new fragment on a flushed page is indexed and flushed in turn. */
  struct hp_fragment *a2 = insert(0x401000, 0x401000, 0x401008);
  ck_assert(present(a2));
  hp_fragments_flush_range(0x401007, 0x401008);
  ck_assert(!present(a2));
}
END_TEST

START_TEST(flush_fragment_spanning_pages_and_ranges)
{
  /* Three pages: flushing the middle page only removes it. */
  struct hp_fragment *wide = insert(0x600ff0, 0x600ff0, 0x603010);
  struct hp_fragment *near = insert(0x603010, 0x603010, 0x603020);
  hp_fragments_flush_range(0x601800, 0x601801);
  ck_assert(!present(wide));
  ck_assert(present(near));
  /* Two ranges on distant pages (a trace): either range flushes it. */
  struct hp_fragment *t = frag(0x700000, 0, 0);
  t->nranges = 2;
  t->ranges = hp_arena_alloc(2 * sizeof *t->ranges);
  t->ranges[0] = (struct hp_guest_range){0x700000, 0x700020};
  t->ranges[1] = (struct hp_guest_range){0x7f0100, 0x7f0120};
  hp_fragment_insert(t);
  struct hp_fragment *other = insert(0x7f0120, 0x7f0120, 0x7f0130);
  hp_fragments_flush_range(0x7f0000, 0x7f0100); /* just below its second range */
  ck_assert(present(t));
  hp_fragments_flush_range(0x7f011f, 0x7f0120);
  ck_assert(!present(t));
  ck_assert(present(other));
}
END_TEST

/* Fragments every 7 pages over ~7000 pages, one of them (every 5th) two
 * pages long; flushes of ranges below, at and above the number of page
 * buckets (per-page visit vs walk of every bucket) remove exactly the
 * overlapping ones. */
static void check_flush_many(uint64_t base, uint64_t lo_page, uint64_t npages, uint64_t lo_off, uint64_t hi_off)
{
  enum { N = 1000 };
  static struct hp_fragment *f[N];
  for (unsigned i = 0; i < N; i++) {
    uint64_t lo = base + 7 * PAGE * i + 0x800, hi = lo + (i % 5 == 0 ? PAGE + 0x10 : 0x20);
    f[i] = insert(lo, lo, hi);
  }
  uint64_t lo = base + lo_page * PAGE + lo_off, hi = base + (lo_page + npages) * PAGE + hi_off;
  hp_fragments_flush_range(lo, hi);
  unsigned removed = 0;
  for (unsigned i = 0; i < N; i++) {
    bool want = overlaps(f[i]->ranges[0].lo, f[i]->ranges[0].hi, lo, hi);
    ck_assert_msg(present(f[i]) == !want, "fragment %u [%#llx, %#llx), flush [%#llx, %#llx): %s", i,
                  (unsigned long long)f[i]->ranges[0].lo, (unsigned long long)f[i]->ranges[0].hi,
                  (unsigned long long)lo, (unsigned long long)hi, want ? "kept" : "removed");
    removed += want;
  }
  ck_assert_uint_gt(removed, 0);
  ck_assert_uint_lt(removed, N);
}

START_TEST(flush_many_pages_below_bucket_count)
{
  check_flush_many(0x40000000, 100, 1000, 0, 0);
}
END_TEST

START_TEST(flush_many_pages_at_bucket_count)
{
  /* 4096 pages [first, first + 4095]: the last page the per-page walk takes */
  check_flush_many(0x40000000, 3, 4095, 0x900, 0x700);
}
END_TEST

START_TEST(flush_many_pages_above_bucket_count)
{
  check_flush_many(0x40000000, 3, 4096, 0x900, 0x700);
  check_flush_many(0x50000000, 1000, 5000, 0x801, 0x800);
}
END_TEST

START_TEST(flush_huge_ranges)
{
  struct hp_fragment *low = insert(0x401000, 0x401000, 0x401010);
  struct hp_fragment *mid = insert(0x555555555000ull, 0x555555555000ull, 0x555555555020ull);
  struct hp_fragment *high = insert(0x7ffff7fc0000ull, 0x7ffff7fc0000ull, 0x7ffff7fc0100ull);
  /* Walks every bucket, removes only what overlaps */
  hp_fragments_flush_range(0x500000000000ull, 1ull << 47);
  ck_assert(present(low));
  ck_assert(!present(mid));
  ck_assert(!present(high));
  hp_fragments_flush_range(0x401010, 1ull << 47);
  ck_assert(present(low));
  hp_fragments_flush_range(0, 1ull << 47);
  ck_assert(!present(low));
  /* The whole address space, and a range ending at the very top */
  struct hp_fragment *again = insert(0x401000, 0x401000, 0x401010);
  hp_fragments_flush_range(0x401000, ~0ull);
  ck_assert(!present(again));
  struct hp_fragment *top = insert(0x7ffffffff000ull, 0x7ffffffff000ull, 0x7ffffffff010ull);
  hp_fragments_flush_range(0, ~0ull);
  ck_assert(!present(top));
}
END_TEST

/* A fragment with a hand-made pc map: instructions at cache offsets 0, 0x10
 * and 0x28 (guest 0x401000 len 3, 0x401003 len 5, 0x401008 len 2). */
static struct hp_fragment *mapped(uintptr_t code, uint32_t size)
{
  struct hp_fragment *f = frag(0x401000, 0x401000, 0x40100a);
  static uint32_t off[3] = {0, 0x10, 0x28};
  static uint64_t guest[3] = {0x401000, 0x401003, 0x401008};
  static uint8_t len[3] = {3, 5, 2};
  f->code = code;
  f->size = size;
  f->npc = 3;
  f->pc_off = off;
  f->pc_guest = guest;
  f->pc_len = len;
  return f;
}

static void expect_at(const struct hp_fragment *f, uintptr_t rx, uint64_t pc, uint64_t next)
{
  struct hp_guest_at at = {1, 1};
  ck_assert_msg(hp_fragment_guest_at(f, rx, &at), "rx %#lx not found", (unsigned long)rx);
  ck_assert_msg(at.pc == pc && at.next_pc == next, "rx %#lx: pc %#llx next %#llx, want %#llx %#llx",
                (unsigned long)rx, (unsigned long long)at.pc, (unsigned long long)at.next_pc,
                (unsigned long long)pc, (unsigned long long)next);
}

START_TEST(guest_at_pc_map)
{
  const uintptr_t code = 0x7f0000001000;
  struct hp_fragment *f = mapped(code, 0x40);
  expect_at(f, code, 0x401000, 0x401003);          /* first instruction, first byte */
  expect_at(f, code + 5, 0x401000, 0x401003);      /* between entries: the one before */
  expect_at(f, code + 0xf, 0x401000, 0x401003);
  expect_at(f, code + 0x10, 0x401003, 0x401008);   /* middle */
  expect_at(f, code + 0x27, 0x401003, 0x401008);
  expect_at(f, code + 0x28, 0x401008, 0x40100a);   /* last */
  expect_at(f, code + 0x3f, 0x401008, 0x40100a);   /* last byte of the code */
  struct hp_guest_at at = {0, 0};
  ck_assert(!hp_fragment_guest_at(f, code + 0x40, &at)); /* just past the end */
  ck_assert(!hp_fragment_guest_at(f, code - 1, &at));
  ck_assert(!hp_fragment_guest_at(f, 0, &at));
  ck_assert(!hp_fragment_guest_at(f, ~(uintptr_t)0, &at));
  /* No map: nothing found, even inside the code. */
  struct hp_fragment *empty = mapped(code, 0x40);
  empty->npc = 0;
  ck_assert(!hp_fragment_guest_at(empty, code, &at));
  /* A single entry (a code-check prologue of no guest bytes is entry 0 with
   * len 0: its pc is where the guest is, next_pc the same). */
  struct hp_fragment *one = mapped(code, 0x20);
  static uint32_t off1[2] = {0, 0x18};
  static uint64_t guest1[2] = {0x401000, 0x401000};
  static uint8_t len1[2] = {0, 3};
  one->npc = 2;
  one->pc_off = off1;
  one->pc_guest = guest1;
  one->pc_len = len1;
  expect_at(one, code + 0x17, 0x401000, 0x401000);
  expect_at(one, code + 0x18, 0x401000, 0x401003);
}
END_TEST

START_TEST(guest_at_many_entries)
{
  /* 64 instructions of varied sizes: every byte maps to its instruction. */
  enum { N = 64 };
  static uint32_t off[N];
  static uint64_t guest[N];
  static uint8_t len[N];
  uint32_t pos = 0;
  uint64_t pc = 0x7ffff7a00000ull;
  for (unsigned i = 0; i < N; i++) {
    off[i] = pos;
    guest[i] = pc;
    len[i] = (uint8_t)(1 + i % 15);
    pos += 3 + (i * 7) % 40;
    pc += len[i];
  }
  struct hp_fragment *f = mapped(0x7f0000100000, pos);
  f->npc = N;
  f->pc_off = off;
  f->pc_guest = guest;
  f->pc_len = len;
  for (uint32_t b = 0; b < pos; b++) {
    unsigned i = N - 1;
    while (off[i] > b)
      i--;
    expect_at(f, f->code + b, guest[i], guest[i] + len[i]);
  }
}
END_TEST

START_TEST(recover_at_cache_address)
{
  /* hp_fragment_recover applies f's records at rx - code. */
  struct hp_fragment *f = mapped(0x7f0000001000, 0x40);
  static struct hp_recov rec[1] = {{.start = 0x10, .end = 0x18, .reg = 3, .kind = HP_LOC_REG, .slot = 0}};
  f->recov = rec;
  f->nrecov = 1;
  uint64_t gpr[16] = {[0] = 42, [3] = 7}, fl = 0x202;
  ck_assert_uint_eq(hp_fragment_recover(f, f->code + 0x0f, gpr, &fl, NULL, NULL), 0);
  ck_assert_uint_eq(gpr[3], 7);
  ck_assert_uint_eq(hp_fragment_recover(f, f->code + 0x10, gpr, &fl, NULL, NULL), 1);
  ck_assert_uint_eq(gpr[3], 42);
}
END_TEST

START_TEST(publish_and_remove)
{
  /* A fragment committed to a cache unit: published, it is found by guest
   * pc and by cache address, and its continuation is in the lookup. */
  struct hp_cache_reservation r;
  hp_cache_reserve(0, 256, 64, false, &r);
  hp_cache_commit(&r, 100, 0);
  struct hp_fragment *f = frag(0x401000, 0x401000, 0x401010);
  f->code = r.hot_rx;
  f->size = 100;
  f->unit = r.unit;
  f->nconts = 1;
  f->conts = hp_arena_alloc(sizeof *f->conts);
  f->conts[0] = (struct hp_continuation){r.hot_rx + 8, r.hot_rx + 30, 0x401005};
  hp_fragment_publish(f);
  ck_assert_ptr_eq(hp_fragment_lookup(0x401000), f);
  ck_assert_ptr_eq(hp_fragment_by_cache_pc(r.hot_rx), f);
  ck_assert_ptr_eq(hp_fragment_by_cache_pc(r.hot_rx + 99), f);
  ck_assert_ptr_null(hp_fragment_by_cache_pc(r.hot_rx + 100));
  ck_assert_uint_eq(hp_ibl_find(0x401005), r.hot_rx + 30); /* past the return check */
  hp_fragment_remove(f);
  ck_assert_ptr_null(hp_fragment_lookup(0x401000));
  ck_assert_uint_eq(hp_ibl_find(0x401005), 0);
  ck_assert_uint_eq(hp_ibl_find(0x401000), 0);
  /* Its code stays in the cache-pc index (a thread may still be in it). */
  ck_assert_ptr_eq(hp_fragment_by_cache_pc(r.hot_rx + 50), f);
  /* A flush of its range finds nothing more to remove. */
  uint64_t flushed0 = hp_stats.flushed_fragments;
  hp_fragments_flush_range(0x401000, 0x402000);
  ck_assert_uint_eq(hp_stats.flushed_fragments, flushed0);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("fragment");
  TCase *t = tcase_create("table");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, insert_lookup_remove);
  tcase_add_test(t, lookups_across_tombstones);
  tcase_add_test(t, many_fragments);
  suite_add_tcase(s, t);
  TCase *fl = tcase_create("flush");
  tcase_set_timeout(fl, 60);
  tcase_add_test(fl, flush_index_built_on_first_hit);
  tcase_add_test(fl, flush_range_bounds);
  tcase_add_test(fl, flush_fragment_spanning_pages_and_ranges);
  tcase_add_test(fl, flush_many_pages_below_bucket_count);
  tcase_add_test(fl, flush_many_pages_at_bucket_count);
  tcase_add_test(fl, flush_many_pages_above_bucket_count);
  tcase_add_test(fl, flush_huge_ranges);
  suite_add_tcase(s, fl);
  TCase *m = tcase_create("pc map");
  tcase_add_test(m, guest_at_pc_map);
  tcase_add_test(m, guest_at_many_entries);
  tcase_add_test(m, recover_at_cache_address);
  tcase_add_test(m, publish_and_remove);
  suite_add_tcase(s, m);
  return s;
}

int main(void)
{
  /* hp_fragment_remove also removes the fragment from the indirect branch
   * lookup: the lookup table (and its routine, in a cache unit) must exist.
   * Set up once here: each test's process inherits it. */
  hp_options_defaults();
  hp_ibl_init();
  SRunner *sr = srunner_create(suite());
  srunner_set_fork_status(sr, CK_FORK); /* each test starts from this state (even with CK_FORK=no) */
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
