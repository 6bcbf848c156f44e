/* Unit tests for the cache-pc index: hot code committed to cache units and
 * recorded with hp_cache_index_add, found again with hp_cache_owner_of (the
 * lock-free lookup signal handlers use). Units are real (memfd mappings). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotpath/cache.h"
#include "hotpath/options.h"

struct piece {
  uintptr_t rx;
  uint32_t size;
  struct hp_cache_unit *unit;
  uintptr_t cold_lo, cold_hi; /* cold bytes taken with it */
};

/* Reserves, commits and indexes one stretch of hot code (plus cold bytes). */
static void add_piece(struct piece *p, void *owner, size_t hot, size_t cold, bool fresh)
{
  struct hp_cache_reservation r;
  hp_cache_reserve(0, hot + 64, cold, fresh, &r);
  hp_cache_commit(&r, hot, cold);
  hp_cache_index_add(r.unit, r.hot_rx, (uint32_t)hot, owner);
  *p = (struct piece){r.hot_rx, (uint32_t)hot, r.unit, r.cold_top_rx - cold, r.cold_top_rx};
}

START_TEST(empty_unit_and_outside)
{
  struct hp_cache_reservation r;
  hp_cache_reserve(0, 128, 0, false, &r);
  /* Nothing indexed yet: not even the unit's first byte has an owner. */
  ck_assert_ptr_null(hp_cache_owner_of(r.unit->rx));
  ck_assert_ptr_null(hp_cache_owner_of(r.unit->rx + 100));
  /* Addresses in no unit */
  int local;
  ck_assert_ptr_null(hp_cache_owner_of((uintptr_t)&local));
  ck_assert_ptr_null(hp_cache_owner_of(0));
  ck_assert_ptr_null(hp_cache_owner_of(0x1000));
  ck_assert_ptr_null(hp_cache_owner_of(~(uintptr_t)0));
}
END_TEST

START_TEST(owners_start_inside_end)
{
  static int obj[4];
  struct piece p[4];
  /* 16-multiple sizes are back to back; others leave a gap up to the next
   * 16-byte boundary that belongs to nobody. */
  add_piece(&p[0], &obj[0], 64, 27, false);
  add_piece(&p[1], &obj[1], 40, 54, false);
  add_piece(&p[2], &obj[2], 1, 0, false);
  add_piece(&p[3], &obj[3], 4096, 27, false);
  for (int i = 0; i < 4; i++) {
    ck_assert_ptr_eq(hp_cache_owner_of(p[i].rx), &obj[i]);
    ck_assert_ptr_eq(hp_cache_owner_of(p[i].rx + p[i].size / 2), &obj[i]);
    ck_assert_ptr_eq(hp_cache_owner_of(p[i].rx + p[i].size - 1), &obj[i]);
  }
  ck_assert_uint_eq(p[1].rx, p[0].rx + 64);                /* back to back */
  ck_assert_ptr_eq(hp_cache_owner_of(p[0].rx + 64), &obj[1]);
  ck_assert_uint_eq(p[2].rx, p[1].rx + 48);                /* 40 rounded up to 48 */
  ck_assert_ptr_null(hp_cache_owner_of(p[1].rx + 40));     /* just past the end: the gap */
  ck_assert_ptr_null(hp_cache_owner_of(p[1].rx + 47));
  ck_assert_ptr_null(hp_cache_owner_of(p[2].rx + 1));
  ck_assert_ptr_null(hp_cache_owner_of(p[3].rx + 4096));   /* past the last owner */
  ck_assert_ptr_null(hp_cache_owner_of(p[3].rx + 100000));
  /* Cold code (exit stubs) has no owner. */
  for (int i = 0; i < 4; i++)
    if (p[i].cold_hi > p[i].cold_lo) {
      ck_assert_ptr_null(hp_cache_owner_of(p[i].cold_lo));
      ck_assert_ptr_null(hp_cache_owner_of(p[i].cold_hi - 1));
    }
  struct hp_cache_unit *u = p[0].unit;
  ck_assert_ptr_null(hp_cache_owner_of(u->rx + u->size - 1));
  /* The RW view of the same code is not code. */
  ck_assert_ptr_null(hp_cache_owner_of((uintptr_t)hp_cache_rw(u, p[0].rx)));
}
END_TEST

START_TEST(thousands_of_owners)
{
  enum { N = 5000 };
  static int obj[N];
  static struct piece p[N];
  for (unsigned i = 0; i < N; i++)
    add_piece(&p[i], &obj[i], 16 + (i * 37) % 300, 27 * (i % 3), false);
  /* All in the first unit reserved (5000 x < 330 bytes fits one unit). */
  for (unsigned i = 1; i < N; i++)
    ck_assert_ptr_eq(p[i].unit, p[0].unit);
  for (unsigned i = 0; i < N; i++) {
    ck_assert_ptr_eq(hp_cache_owner_of(p[i].rx), &obj[i]);
    ck_assert_ptr_eq(hp_cache_owner_of(p[i].rx + p[i].size - 1), &obj[i]);
    ck_assert_ptr_eq(hp_cache_owner_of(p[i].rx + p[i].size / 3), &obj[i]);
    uintptr_t past = p[i].rx + p[i].size;
    void *want = i + 1 < N && past == p[i + 1].rx ? (void *)&obj[i + 1] : NULL;
    ck_assert_ptr_eq(hp_cache_owner_of(past), want);
    /* every byte of the gap to the next owner */
    uintptr_t next = i + 1 < N ? p[i + 1].rx : past + 16;
    for (uintptr_t a = past + (want != NULL); a < next; a++)
      ck_assert_ptr_null(hp_cache_owner_of(a));
  }
}
END_TEST

START_TEST(several_units)
{
  static int obj[6];
  struct piece p[6];
  add_piece(&p[0], &obj[0], 100, 27, false);
  add_piece(&p[1], &obj[1], 200, 27, true); /* a unit of its own */
  add_piece(&p[2], &obj[2], 300, 27, true);
  add_piece(&p[3], &obj[3], 64, 27, false);
  add_piece(&p[4], &obj[4], 64, 27, false);
  add_piece(&p[5], &obj[5], 64, 27, true);
  ck_assert_ptr_ne(p[1].unit, p[0].unit);
  ck_assert_ptr_ne(p[2].unit, p[1].unit);
  for (int i = 0; i < 6; i++) {
    ck_assert_ptr_eq(hp_cache_unit_of(p[i].rx), p[i].unit);
    struct hp_cache_unit *u = p[i].unit; /* [rx, rx + size) */
    ck_assert_ptr_eq(hp_cache_unit_of(u->rx), u);
    ck_assert_ptr_eq(hp_cache_unit_of(u->rx + u->size - 1), u);
    ck_assert_ptr_ne(hp_cache_unit_of(u->rx + u->size), u);
    ck_assert_ptr_ne(hp_cache_unit_of(u->rx - 1), u);
    ck_assert_ptr_eq(hp_cache_owner_of(p[i].rx), &obj[i]);
    ck_assert_ptr_eq(hp_cache_owner_of(p[i].rx + p[i].size - 1), &obj[i]);
    ck_assert_ptr_null(hp_cache_owner_of(p[i].cold_lo));
  }
  /* A unit's first owner starts at its first byte; before it is another
   * unit or nothing, never this unit's owner. */
  for (int i = 0; i < 6; i++) {
    void *before = hp_cache_owner_of(p[i].rx - 1);
    if (p[i].rx == p[i].unit->rx)
      ck_assert(before == NULL || hp_cache_unit_of(p[i].rx - 1) != p[i].unit);
  }
}
END_TEST

/* --cache-size: units stop at the limit; retired units keep their owners
 * (a fault in code being flushed finds its fragment) and hold the room
 * until reclaimed, which unmaps them. */
START_TEST(retire_and_reclaim)
{
  hp_opt.cache_size = 1l << 20; /* units of an eighth: 128 KiB */
  static int obj[2];
  struct piece p[2];
  add_piece(&p[0], &obj[0], 100, 27, false);
  ck_assert_uint_eq(hp_cache_mapped_bytes(), 128u << 10);
  struct hp_cache_reservation r;
  unsigned n = 1;
  while (hp_cache_reserve(0, 64, 0, true, &r)) {
    hp_cache_commit(&r, 64, 0);
    n++;
  }
  ck_assert(hp_cache_full());
  ck_assert_uint_eq(n, 8);
  ck_assert_uint_eq(hp_cache_mapped_bytes(), 1u << 20);
  ck_assert_uint_eq(hp_cache_mapped_peak(), 1u << 20);
  hp_cache_retire_all(1);
  ck_assert(!hp_cache_full());
  ck_assert_ptr_null(hp_cache_units());
  ck_assert_uint_eq(hp_cache_retired_bytes(), 1u << 20);
  ck_assert_ptr_eq(hp_cache_unit_of(p[0].rx), p[0].unit);
  ck_assert_ptr_eq(hp_cache_owner_of(p[0].rx + 50), &obj[0]);
  ck_assert(hp_cache_overlaps(p[0].rx, p[0].rx + 1));
  ck_assert(!hp_cache_reserve(0, 64, 0, false, &r)); /* retired code holds the room */
  unsigned units = 0;
  ck_assert_uint_eq(hp_cache_reclaim(0, &units), 0); /* an older generation: nothing */
  ck_assert_uint_eq(hp_cache_reclaim(1, &units), 1u << 20);
  ck_assert_uint_eq(units, 8);
  ck_assert_uint_eq(hp_cache_retired_bytes(), 0);
  ck_assert_uint_eq(hp_cache_mapped_bytes(), 0);
  ck_assert_ptr_null(hp_cache_unit_of(p[0].rx));
  ck_assert_ptr_null(hp_cache_owner_of(p[0].rx + 50));
  ck_assert(hp_cache_reserve(0, 64, 0, false, &r)); /* room again */
  /* Fragment records count against the limit too (the generation's arena). */
  hp_cache_retire_all(2);
  for (int i = 0; i < 64; i++)
    hp_arena_gen_alloc(16u << 10);
  ck_assert(!hp_cache_reserve(0, 64, 0, false, &r));
  ck_assert(hp_cache_full());
  hp_arena_gen_retire(2);
  ck_assert(!hp_cache_reserve(0, 64, 0, false, &r)); /* retired records hold it */
  ck_assert_uint_ge(hp_arena_gen_reclaim(2), 1u << 20);
  ck_assert_uint_eq(hp_cache_reclaim(2, &units), 128u << 10);
  ck_assert(hp_cache_reserve(0, 64, 0, false, &r));
  hp_cache_commit(&r, 64, 0);
  hp_cache_index_add(r.unit, r.hot_rx, 64, &obj[1]);
  ck_assert_ptr_eq(hp_cache_owner_of(r.hot_rx), &obj[1]);
  ck_assert_uint_eq(hp_cache_mapped_peak(), 1u << 20);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("cache_index");
  TCase *t = tcase_create("owner_of");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, empty_unit_and_outside);
  tcase_add_test(t, owners_start_inside_end);
  tcase_add_test(t, thousands_of_owners);
  tcase_add_test(t, several_units);
  tcase_add_test(t, retire_and_reclaim);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  hp_options_defaults(); /* cache placement reads --debug-far-cache */
  SRunner *sr = srunner_create(suite());
  srunner_set_fork_status(sr, CK_FORK); /* each test starts with no cache unit */
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
