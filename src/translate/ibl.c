/* The indirect branch lookup table: open addressing on the guest pc's low
 * bits (the generated routine hashes with `and mask`), 16-byte entries
 * {guest pc, cache address}, a zero tag ends a probe. Probes never wrap: the
 * table has an overflow area past its last bucket. */
#include <string.h>
#include <sys/mman.h>

#include "hotpath/cache.h"
#include "hotpath/emit.h"
#include "hotpath/fragment.h"
#include "hotpath/log.h"
#include "hotpath/options.h"
#include "hotpath/thread.h"

#define OVERFLOW 64

static struct hp_ibl_entry *table;
static size_t mask, count;
static struct hp_exit miss_exit = {.kind = HP_EXIT_IBL_MISS};
static uintptr_t routine;
static struct hp_thread *threads_to_update; /* the thread attached (one for now) */

static struct hp_ibl_entry *alloc_table(size_t entries)
{
  void *p = mmap(NULL, (entries + OVERFLOW) * sizeof(struct hp_ibl_entry), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  HP_ASSERT(p != MAP_FAILED);
  return p;
}

static bool put(struct hp_ibl_entry *t, size_t m, uint64_t guest, uint64_t cache)
{
  for (size_t i = guest & m; i < m + OVERFLOW; i++) { /* the last slot stays empty: probes end */
    if (t[i].guest == 0 || t[i].guest == guest) {
      t[i].cache = cache;
      __atomic_store_n(&t[i].guest, guest, __ATOMIC_RELEASE);
      return true;
    }
  }
  return false;
}

static void grow(void)
{
  size_t nmask = mask * 2 + 1;
  struct hp_ibl_entry *nt;
  for (;;) {
    nt = alloc_table(nmask + 1);
    bool ok = true;
    for (size_t i = 0; i < mask + 1 + OVERFLOW && ok; i++)
      if (table[i].guest)
        ok = put(nt, nmask, table[i].guest, table[i].cache);
    if (ok)
      break;
    munmap(nt, (nmask + 1 + OVERFLOW) * sizeof *nt);
    nmask = nmask * 2 + 1;
  }
  munmap(table, (mask + 1 + OVERFLOW) * sizeof *table);
  table = nt;
  mask = nmask;
  if (threads_to_update)
    hp_ibl_attach(threads_to_update);
}

void hp_ibl_init(void)
{
  mask = (1u << 16) - 1;
  table = alloc_table(mask + 1);
  struct hp_cache_unit *u = hp_cache_unit_for(0, 512);
  struct hp_emit e = {.rw = u->rw + u->used, .rx = u->rx + u->used, .cap = u->size - u->used};
  routine = hp_emit_here(&e);
  hp_emit_ibl_routine(&e, (uintptr_t)&miss_exit, hp_opt.stats);
  u->used += (e.pos + 63) & ~(size_t)63;
}

void hp_ibl_insert(uint64_t guest, uintptr_t cache)
{
  if ((count + 1) * 2 > mask + 1)
    grow();
  while (!put(table, mask, guest, cache))
    grow();
  count++;
}

void hp_ibl_remove(uint64_t guest)
{
  /* Deleting from linear probing: rebuild the run after the hole. */
  size_t i = guest & mask;
  for (; i < mask + 1 + OVERFLOW && table[i].guest; i++)
    if (table[i].guest == guest)
      break;
  if (i >= mask + 1 + OVERFLOW || table[i].guest != guest)
    return;
  table[i].guest = 0;
  count--;
  for (size_t j = i + 1; j < mask + 1 + OVERFLOW && table[j].guest; j++) {
    struct hp_ibl_entry e = table[j];
    table[j].guest = 0;
    count--;
    hp_ibl_insert(e.guest, e.cache);
  }
}

struct hp_exit *hp_ibl_miss_exit(void) { return &miss_exit; }
uintptr_t hp_ibl_routine(void) { return routine; }

void hp_ibl_attach(struct hp_thread *t)
{
  t->ibl_table = (uint64_t)table;
  t->ibl_mask = mask;
  t->ibl_routine = routine;
  threads_to_update = t;
}
