/* Fragment table (open addressing on guest pc), linking and removal. */
#include "hotpath/fragment.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hotpath/emit.h"
#include "hotpath/log.h"
#include "hotpath/stats.h"

#define TOMBSTONE ((struct hp_fragment *)1)

static struct hp_fragment **table;
static size_t table_mask, table_used; /* used includes tombstones */
static struct hp_fragment **all;      /* every fragment ever built, for fault lookup */
static size_t nall, all_cap;

static void table_put(struct hp_fragment *f);

static size_t hash(uint64_t pc) { return (size_t)((pc * 0x9e3779b97f4a7c15ull) >> 20); }

static void table_grow(void)
{
  size_t old_size = table ? table_mask + 1 : 0;
  struct hp_fragment **old = table;
  size_t size = old_size ? old_size * 2 : (1u << 14);
  table = mmap(NULL, size * sizeof *table, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  HP_ASSERT(table != MAP_FAILED);
  table_mask = size - 1;
  table_used = 0;
  for (size_t i = 0; i < old_size; i++)
    if (old[i] && old[i] != TOMBSTONE)
      table_put(old[i]);
  if (old)
    munmap(old, old_size * sizeof *old);
}

struct hp_fragment *hp_fragment_lookup(uint64_t pc)
{
  if (!table)
    return NULL;
  for (size_t i = hash(pc) & table_mask;; i = (i + 1) & table_mask) {
    struct hp_fragment *f = table[i];
    if (!f)
      return NULL;
    if (f != TOMBSTONE && f->guest_pc == pc)
      return f;
  }
}

static void table_put(struct hp_fragment *f)
{
  if (!table || (table_used + 1) * 2 > table_mask + 1)
    table_grow();
  size_t i = hash(f->guest_pc) & table_mask;
  while (table[i] && table[i] != TOMBSTONE)
    i = (i + 1) & table_mask;
  if (!table[i])
    table_used++;
  table[i] = f;
}

void hp_fragment_insert(struct hp_fragment *f)
{
  table_put(f);
  if (nall == all_cap) {
    all_cap = all_cap ? all_cap * 2 : 4096;
    all = realloc(all, all_cap * sizeof *all);
  }
  all[nall++] = f;
}

static void unlink_exit(struct hp_exit *x)
{
  struct hp_fragment *from = x->from;
  uint8_t *rw = hp_cache_rw(from->unit, from->code);
  hp_patch_rel32(rw + x->branch_off, from->code + x->branch_off, from->code + x->stub_off);
  x->linked = NULL;
}

void hp_fragment_unlink_outgoing(struct hp_fragment *f)
{
  for (unsigned i = 0; i < f->nexits; i++) {
    struct hp_exit *x = &f->exits[i];
    struct hp_fragment *to = x->linked;
    if (!to)
      continue;
    for (struct hp_exit **pp = &to->incoming; *pp; pp = &(*pp)->next_in)
      if (*pp == x) {
        *pp = x->next_in;
        break;
      }
    unlink_exit(x);
  }
}

void hp_fragment_remove(struct hp_fragment *f)
{
  if (f->removed)
    return;
  for (size_t i = hash(f->guest_pc) & table_mask; table[i]; i = (i + 1) & table_mask)
    if (table[i] == f) {
      table[i] = TOMBSTONE;
      break;
    }
  hp_ibl_remove(f->guest_pc);
  if (f->cont)
    hp_ibl_remove_exact(f->cont_guest, f->cont);
  for (struct hp_exit *x = f->incoming; x; x = x->next_in)
    unlink_exit(x);
  f->incoming = NULL;
  /* Its own outgoing links stay: they only matter if it runs, and it runs
   * only from a thread already inside it. */
  f->removed = true;
}

void hp_fragments_flush_range(uint64_t lo, uint64_t hi)
{
  for (size_t i = 0; i < nall; i++) {
    struct hp_fragment *f = all[i];
    if (!f->removed && f->guest_pc < hi && f->guest_end > lo) {
      hp_fragment_remove(f);
      hp_stats.flushed_fragments++;
    }
  }
}

struct hp_fragment *hp_fragment_by_cache_pc(uintptr_t rx)
{
  for (size_t i = nall; i-- > 0;)
    if (rx >= all[i]->code && rx < all[i]->code + all[i]->size)
      return all[i];
  return NULL;
}

uint64_t hp_fragment_guest_pc_at(const struct hp_fragment *f, uintptr_t rx)
{
  uint32_t off = (uint32_t)(rx - f->code);
  uint64_t pc = f->guest_pc;
  for (unsigned i = 0; i < f->ninsn; i++)
    if ((f->pcmap[i] & 0xffff) <= off)
      pc = f->guest_pc + (f->pcmap[i] >> 16);
  return pc;
}

uint64_t hp_fragment_guest_next_pc_at(const struct hp_fragment *f, uintptr_t rx)
{
  uint32_t off = (uint32_t)(rx - f->code);
  unsigned i = 0;
  while (i + 1 < f->ninsn && (f->pcmap[i + 1] & 0xffff) <= off)
    i++;
  return i + 1 < f->ninsn ? f->guest_pc + (f->pcmap[i + 1] >> 16) : f->guest_end;
}

bool hp_link(struct hp_exit *x, struct hp_fragment *to)
{
  if ((x->kind != HP_EXIT_BRANCH && x->kind != HP_EXIT_PREDICT) || !x->branch_off || x->linked ||
      to->removed || to->guest_pc != x->target)
    return false;
  struct hp_fragment *from = x->from;
  if (from->removed)
    return false;
  uint8_t *rw = hp_cache_rw(from->unit, from->code);
  uintptr_t field = from->code + x->branch_off;
  uintptr_t dest = to->code;
  if (!hp_rel32_fits(field + 4, dest)) {
    /* Out of reach: through a new absolute jump in the branch's own unit.
     * Code another thread may be running is only ever changed by the
     * aligned 4-byte store of a rel32. */
    struct hp_cache_unit *u = from->unit;
    if (u->size - u->used < 16)
      return false;
    uintptr_t tramp = u->rx + u->used;
    hp_write_far_jump(u->rw + u->used, dest);
    u->used += 16;
    dest = tramp;
  }
  hp_patch_rel32(rw + x->branch_off, field, dest);
  x->linked = to;
  x->next_in = to->incoming;
  to->incoming = x;
  hp_stats.links_made++;
  return true;
}

void hp_predict(struct hp_exit *site, uint64_t target, struct hp_fragment *to)
{
  if (site->kind != HP_EXIT_PREDICT || site->target || site->from->removed)
    return;
  site->target = target;
  hp_stats.sites_learnt++;
  /* The branch first, then the tag: a thread that sees the new tag also
   * sees where it leads (or the stub, which goes to the dispatcher). */
  hp_link(site, to);
  uint8_t *rw = hp_cache_rw(site->from->unit, site->from->code);
  __atomic_store_n((uint64_t *)(rw + site->k_off), ~target, __ATOMIC_RELEASE);
}
