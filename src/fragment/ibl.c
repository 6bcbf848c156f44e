/* The indirect branch lookup table: open addressing on the guest pc's low
 * bits (the generated routine hashes with `and mask`), 16-byte entries
 * {guest pc, cache address}, a zero tag ends a probe, removed entries become
 * tombstones. Probes never wrap: the table has an overflow area past its
 * last bucket. */
#include "hotpath/ibl.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "hotpath/cache.h"
#include "hotpath/emit.h"
#include "hotpath/fragment.h"
#include "hotpath/log.h"
#include "hotpath/options.h"
#include "hotpath/pages.h"
#include "hotpath/rawsys.h"
#include "hotpath/stats.h"
#include "hotpath/thread.h"

#define OVERFLOW 64
/* A removed entry's tag: probes go on past it, and the routine sends targets
 * outside user space to the dispatcher before probing, so none matches it.
 * Entries are never moved, so a thread that matched a tag reads that entry's
 * own cache address (removal does not shift the run behind it). */
#define TOMBSTONE (1ull << 63)

/* 16-byte compare-and-swap of an inline-table entry owned by another
 * thread, which may be refilling it (tag, then address) at the same time:
 * the change happens only if the entry is still {tag, old}. */
static bool entry_cas(uint64_t *e, uint64_t tag, uint64_t old, uint64_t new_tag, uint64_t new_cache)
{
  bool ok;
  __asm__ volatile("lock cmpxchg16b %1"
                   : "=@ccz"(ok), "+m"(*(volatile __int128 *)e), "+a"(tag), "+d"(old)
                   : "b"(new_tag), "c"(new_cache)
                   : "memory");
  return ok;
}

static struct hp_ibl_entry *table;
static size_t mask, count;
static struct hp_exit miss_exit = {.kind = HP_EXIT_IBL_MISS};
static uintptr_t routine;
/* Same size as the table, all zero: a thread pointed at it misses every
 * lookup (a pending signal makes it leave the cache) and, with any mask it
 * may have read before, stays inside it. A thread may still read an old
 * one, or an old table: both wait for their generation's reclaim. */
static struct hp_ibl_entry *empty;

/* Tables replaced (grown, or emptied by a flush): a thread in the cache may
 * still be probing one, so each waits for its cache generation to be
 * reclaimed (runtime/evict.c), when every thread has been outside the
 * cache since. */
struct old_table {
  void *p;
  size_t bytes;
  uint64_t gen;
  struct old_table *next;
};
static struct old_table *old_tables, *free_records; /* records are reused: no malloc */
static uint64_t gen_now = 1;
static size_t table_bytes_mapped;

static size_t table_bytes(size_t m) { return (m + 1 + OVERFLOW) * sizeof(struct hp_ibl_entry); }

static void retire_table(void *p, size_t bytes)
{
  struct old_table *o = free_records;
  if (o)
    free_records = o->next;
  else
    o = hp_arena_alloc(sizeof *o);
  *o = (struct old_table){p, bytes, gen_now, old_tables};
  old_tables = o;
}

static void jt_reclaim(uint64_t gen);
static void jt_flush(uint64_t gen);

size_t hp_ibl_reclaim(uint64_t gen)
{
  jt_reclaim(gen);
  size_t bytes = 0;
  for (struct old_table **pp = &old_tables; *pp;) {
    struct old_table *o = *pp;
    if (o->gen > gen) {
      pp = &o->next;
      continue;
    }
    *pp = o->next;
    hp_pages_free(o->p, o->bytes); /* (empty tables are not pooled: munmap) */
    bytes += o->bytes;
    o->next = free_records;
    free_records = o;
  }
  table_bytes_mapped -= bytes;
  return bytes;
}


static struct hp_ibl_entry *alloc_table(size_t entries)
{
  void *p = mmap(NULL, (entries + OVERFLOW) * sizeof(struct hp_ibl_entry), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  HP_ASSERT(p != MAP_FAILED);
  table_bytes_mapped += (entries + OVERFLOW) * sizeof(struct hp_ibl_entry);
  return p;
}

/* A table that puts will probe (read before they write): its pages in
 * place at once (hp_pages_zeroed). */
static struct hp_ibl_entry *alloc_live_table(size_t entries)
{
  return hp_pages_zeroed((entries + OVERFLOW) * sizeof(struct hp_ibl_entry));
}

/* Stores {guest, cache}; *fresh tells whether an empty slot was used. */
static bool put(struct hp_ibl_entry *t, size_t m, uint64_t guest, uint64_t cache, bool *fresh)
{
  for (size_t i = guest & m; i < m + OVERFLOW; i++) { /* the last slot stays empty: probes end */
    if (t[i].guest == 0 || t[i].guest == guest) {
      *fresh = t[i].guest == 0;
      t[i].cache = cache;
      __atomic_store_n(&t[i].guest, guest, __ATOMIC_RELEASE);
      return true;
    }
  }
  return false;
}

static void publish(struct hp_thread *t, void *arg)
{
  (void)arg;
  __atomic_store_n(&t->ibl_table, (uint64_t)(uintptr_t)table, __ATOMIC_RELEASE);
  __atomic_store_n(&t->ibl_mask, mask, __ATOMIC_RELEASE);
}

static void grow(void)
{
  hp_fs_host();
  size_t nmask = mask * 2 + 1;
  struct hp_ibl_entry *nt;
  for (;;) {
    nt = alloc_live_table(nmask + 1);
    bool ok = true, fresh;
    count = 0; /* tombstones stay behind */
    for (size_t i = 0; i < mask + 1 + OVERFLOW && ok; i++)
      if (table[i].guest && table[i].guest != TOMBSTONE) {
        ok = put(nt, nmask, table[i].guest, table[i].cache, &fresh);
        count++;
      }
    if (ok)
      break;
    hp_pages_free(nt, (nmask + 1 + OVERFLOW) * sizeof *nt);
    nmask = nmask * 2 + 1;
  }
  struct hp_ibl_entry *nempty = alloc_table(nmask + 1);
  mprotect(nempty, (nmask + 1 + OVERFLOW) * sizeof *nempty, PROT_READ);
  retire_table(table, table_bytes(mask));
  retire_table(empty, table_bytes(mask));
  /* Readers load the mask, then the table: publish the larger table first. */
  table = nt;
  empty = nempty;
  mask = nmask;
  hp_thread_foreach(publish, NULL);
}

void hp_ibl_init(void)
{
  mask = (1u << 12) - 1;
  table = alloc_live_table(mask + 1);
  empty = alloc_table(mask + 1);
  mprotect(empty, (mask + 1 + OVERFLOW) * sizeof *empty, PROT_READ);
  struct hp_cache_reservation r;
  hp_cache_reserve_pinned(512, &r); /* outlives every flush */
  struct hp_emit e = {.rw = r.hot_rw, .rx = r.hot_rx, .cap = r.hot_cap};
  routine = hp_emit_here(&e);
  hp_emit_ibl_routine(&e, (uintptr_t)&miss_exit, hp_stats_enabled());
  HP_ASSERT(!e.overflow);
  hp_cache_commit(&r, e.pos, 0);
}

void hp_ibl_fast_insert(struct hp_thread *t, uint64_t guest, uintptr_t cache)
{
  uint64_t *e = hp_thread_ibl_fast(t) + 2 * (guest & ((1u << HP_IBL_FAST_BITS) - 1));
  e[0] = ~guest; /* never 0 for a user address: empty entries match nothing */
  e[1] = cache;
}

void hp_ibl_fast_clear(struct hp_thread *t)
{
  /* Zero pages on next touch: cheap enough for a signal handler. A raw
   * call: no errno (a signal handler, or the guest's FS, may be here). */
  hp_raw_syscall(SYS_madvise, (long)hp_thread_ibl_fast(t), 16l << HP_IBL_FAST_BITS, MADV_DONTNEED, 0, 0, 0);
}

struct fast_update {
  uint64_t guest;
  uintptr_t cache;
};

/* A thread's inline table may hold an older address for guest. */
static void fast_update(struct hp_thread *t, void *arg)
{
  const struct fast_update *u = arg;
  uint64_t *e = hp_thread_ibl_fast(t) + 2 * (u->guest & ((1u << HP_IBL_FAST_BITS) - 1));
  uint64_t old = __atomic_load_n(&e[1], __ATOMIC_ACQUIRE);
  if (__atomic_load_n(&e[0], __ATOMIC_ACQUIRE) == ~u->guest)
    entry_cas(e, ~u->guest, old, ~u->guest, u->cache);
}

void hp_ibl_insert(uint64_t guest, uintptr_t cache)
{
  /* Threads' inline tables hold only what the shared one holds (removal
   * clears theirs first): a guest pc new to it is in none of them, and
   * their entries (a miss each in a big table) need no visit. */
  if (hp_ibl_find(guest)) {
    struct fast_update u = {guest, cache};
    hp_thread_foreach(fast_update, &u);
  }
  if ((count + 1) * 2 > mask + 1)
    grow();
  bool fresh;
  while (!put(table, mask, guest, cache, &fresh))
    grow();
  count += fresh;
}

uintptr_t hp_ibl_find(uint64_t guest)
{
  for (size_t i = guest & mask; i < mask + 1 + OVERFLOW && table[i].guest; i++)
    if (table[i].guest == guest)
      return table[i].cache;
  return 0;
}

static void fast_remove(struct hp_thread *t, void *arg)
{
  uint64_t guest = *(uint64_t *)arg;
  uint64_t *e = hp_thread_ibl_fast(t) + 2 * (guest & ((1u << HP_IBL_FAST_BITS) - 1));
  uint64_t old = __atomic_load_n(&e[1], __ATOMIC_ACQUIRE);
  if (__atomic_load_n(&e[0], __ATOMIC_ACQUIRE) == ~guest)
    entry_cas(e, ~guest, old, 0, 0);
}

void hp_ibl_remove_exact(uint64_t guest, uintptr_t cache)
{
  for (size_t i = guest & mask; i < mask + 1 + OVERFLOW && table[i].guest; i++)
    if (table[i].guest == guest) {
      if (table[i].cache == cache)
        hp_ibl_remove(guest);
      return;
    }
}

void hp_ibl_remove(uint64_t guest)
{
  hp_thread_foreach(fast_remove, &guest);
  for (size_t i = guest & mask; i < mask + 1 + OVERFLOW && table[i].guest; i++)
    if (table[i].guest == guest) {
      __atomic_store_n(&table[i].guest, (uint64_t)TOMBSTONE, __ATOMIC_RELEASE);
      return; /* still counted: grow() drops tombstones */
    }
}

/* The return tables: every thread's holds the same entries, so that a
 * return lands on the continuation without a probe (the continuation
 * checks the address). `shared` is the copy a new thread starts from, and
 * a blocked thread's table is refilled from. It is made only when first
 * needed (a second thread, or the first thread's table blocked): until
 * then the first thread's own table is exact and the only one, and the
 * 2 MiB (or 512 KiB, hp_ret_table_bits) of a second table that returns
 * spread over are not written (on
 * a paravirtualized VM each page's first write costs about 16 us: about
 * 2 ms of a short program's start-up). */
#define RET_MASK ((1u << hp_ret_table_bits()) - 1)
#define RET_BYTES (8ul << hp_ret_table_bits())
static uint64_t *ret_shared;
static uint64_t *ret_first; /* the first thread's table, while ret_shared is not made */
static uint64_t *ret_spare; /* mapped (not written) for ret_shared when the first thread attaches */

/* Made from the first thread's table, which is exact while it is the only
 * thread and not blocked (callers: before either stops being true). It
 * may run in the signal handler, on the guest's FS: it only copies into
 * memory mapped beforehand (no allocator, no FS switch), and only the
 * entries that are set. */
static void ret_shared_make(void)
{
  if (ret_shared)
    return;
  if (ret_spare) {
    uint64_t *to = ret_spare;
    for (size_t i = 0; ret_first && i <= RET_MASK; i++)
      if (ret_first[i])
        to[i] = ret_first[i];
    ret_shared = to;
  } else { /* no thread attached yet, or its spare could not be mapped: not
            * in a handler, and nothing to copy */
    hp_fs_host();
    void *m = mmap(NULL, RET_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
      hp_fatal(HP_STATUS_UNSUPPORTED, "cannot allocate the shared return table");
    madvise(m, RET_BYTES, MADV_NOHUGEPAGE); /* sparse: never one huge page */
    ret_shared = m;
  }
  ret_first = NULL;
  hp_stats.ret_shared_made++;
}

static uint64_t *jt_shared;
size_t hp_ibl_table_bytes(void)
{
  return table_bytes_mapped + (ret_shared ? RET_BYTES : 0) + (jt_shared ? 8ul * HP_JT_ENTRIES : 0);
}

/* A flush: this thread finds nothing of the old generation any more. Its
 * inline table is emptied (its own refill, racing with this, may put back
 * an old entry: the thread empties it again itself at its next dispatcher
 * visit, hp_ibl_forget_old), its return table too (later when blocked), and
 * it is pointed at the new shared table (unless a signal blocked it). */
static void flush_thread(struct hp_thread *t, void *arg)
{
  const struct hp_ibl_entry *old = arg;
  if (__atomic_load_n(&t->ibl_table, __ATOMIC_ACQUIRE) == (uint64_t)(uintptr_t)old)
    __atomic_store_n(&t->ibl_table, (uint64_t)(uintptr_t)table, __ATOMIC_RELEASE);
  hp_ibl_fast_clear(t);
  if (t->ret_blocked)
    t->ret_dirty = true;
  else
    madvise(hp_thread_ret_table(t), RET_BYTES, MADV_DONTNEED);
}

void hp_ibl_flush_all(uint64_t gen)
{
  struct hp_ibl_entry *old = table;
  gen_now = gen;
  retire_table(old, table_bytes(mask));
  /* The same size: a thread that read the mask before the change stays
   * inside the new table. */
  table = alloc_table(mask + 1);
  count = 0;
  if (ret_shared)
    memset(ret_shared, 0, RET_BYTES);
  jt_flush(gen);
  hp_thread_foreach(flush_thread, old);
  gen_now = gen + 1;
}

void hp_ibl_forget_old(struct hp_thread *t)
{
  hp_ibl_fast_clear(t);
}

struct ret_update {
  uint64_t guest;
  uintptr_t old, cache; /* old: 0 for any */
};

static void ret_update(struct hp_thread *t, void *arg)
{
  const struct ret_update *u = arg;
  if (t->ret_blocked) {
    t->ret_dirty = true;
    return;
  }
  uint64_t *e = hp_thread_ret_table(t) + (u->guest & RET_MASK), old = u->old;
  if (!old)
    __atomic_store_n(e, u->cache, __ATOMIC_RELEASE);
  else
    __atomic_compare_exchange_n(e, &old, u->cache, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

void hp_ret_table_insert(uint64_t guest, uintptr_t cache)
{
  if (!ret_shared && !ret_first)
    ret_shared_make(); /* no thread yet: the entry must be kept somewhere */
  if (ret_shared)
    ret_shared[guest & RET_MASK] = cache;
  struct ret_update u = {guest, 0, cache};
  hp_thread_foreach(ret_update, &u);
}

void hp_ret_table_remove(uint64_t guest, uintptr_t cache)
{
  if (ret_shared && ret_shared[guest & RET_MASK] != cache)
    return; /* every thread's entry is the shared one, or a later one */
  if (ret_shared)
    ret_shared[guest & RET_MASK] = 0;
  struct ret_update u = {guest, cache, 0}; /* (no shared: the first thread's, if still cache) */
  hp_thread_foreach(ret_update, &u);
}

void hp_ret_table_fill(struct hp_thread *t)
{
  hp_lock();
  ret_shared_make(); /* a second thread */
  uint64_t *e = hp_thread_ret_table(t);
  for (size_t i = 0; ret_shared && i <= RET_MASK; i++)
    if (ret_shared[i])
      e[i] = ret_shared[i];
  hp_unlock();
}

void hp_ret_table_block(struct hp_thread *t, bool can_fault)
{
  if (t->ret_blocked == HP_RET_BLOCKED_EMPTY || (t->ret_blocked && can_fault))
    return;
  uint64_t *e = hp_thread_ret_table(t);
  ret_shared_make(); /* before the first thread's table stops being exact */
  if (can_fault) {
    t->ret_blocked = HP_RET_BLOCKED_FAULTS;
    mprotect(e, RET_BYTES, PROT_NONE);
    return;
  }
  /* The fault could not reach hotpath: every entry reads 0 (a miss)
   * instead; unblocking copies them back. */
  if (t->ret_blocked == HP_RET_BLOCKED_FAULTS)
    mprotect(e, RET_BYTES, PROT_READ | PROT_WRITE);
  madvise(e, RET_BYTES, MADV_DONTNEED);
  t->ret_blocked = HP_RET_BLOCKED_EMPTY;
}

static void ret_no_faults(struct hp_thread *t, void *arg)
{
  (void)arg;
  if (t->ret_blocked == HP_RET_BLOCKED_FAULTS)
    hp_ret_table_block(t, false);
}

void hp_ret_table_no_faults(void) { hp_thread_foreach(ret_no_faults, NULL); }

void hp_ret_table_unblock(struct hp_thread *t)
{
  if (!t->ret_blocked)
    return;
  uint64_t *e = hp_thread_ret_table(t);
  if (t->ret_blocked == HP_RET_BLOCKED_FAULTS)
    mprotect(e, RET_BYTES, PROT_READ | PROT_WRITE);
  if ((t->ret_dirty || t->ret_blocked == HP_RET_BLOCKED_EMPTY) && ret_shared) {
    /* Only the set entries are written (an empty table's pages stay
     * unmapped where no return spreads: the whole 2 MiB would be written
     * at every signal otherwise). */
    if (t->ret_blocked != HP_RET_BLOCKED_EMPTY)
      madvise(e, RET_BYTES, MADV_DONTNEED);
    for (size_t i = 0; i <= RET_MASK; i++)
      if (ret_shared[i])
        e[i] = ret_shared[i];
  }
  t->ret_blocked = 0;
  t->ret_dirty = false;
}

uintptr_t hp_ret_table_fault(struct hp_thread *t, uintptr_t pc, uintptr_t addr)
{
  uintptr_t lo = (uintptr_t)hp_thread_ret_table(t);
  if (addr < lo || addr >= lo + (RET_BYTES))
    return 0;
  uintptr_t miss = hp_emit_return_miss_of(pc);
  if (!miss)
    return 0;
  hp_lock();
  hp_ret_table_unblock(t);
  hp_unlock();
  return miss;
}

uintptr_t hp_ret_push_fault(uintptr_t pc) { return hp_emit_return_push_of(pc); }

/* Both take the lock (callers do not hold it): the table, its mask and the
 * empty table change together in grow(). */
void hp_ibl_attach(struct hp_thread *t)
{
  hp_ret_table_bits(); /* decided before any code is translated or any signal handled */
  hp_lock();
  if (!ret_shared && !ret_first) {
    void *m = mmap(NULL, RET_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED) {
      ret_shared_make(); /* at once, as before */
    } else {
      madvise(m, RET_BYTES, MADV_NOHUGEPAGE);
      ret_spare = m;
      ret_first = hp_thread_ret_table(t);
    }
  }
  t->ibl_routine = routine;
  publish(t, NULL);
  hp_ret_table_unblock(t);
  hp_unlock();
}

void hp_ibl_block(struct hp_thread *t)
{
  hp_lock();
  __atomic_store_n(&t->ibl_table, (uint64_t)(uintptr_t)empty, __ATOMIC_RELEASE);
  hp_unlock();
}

/* Jump tables: runs of entries handed out from a ring, one run per
 * dispatch site; a run lives as long as the cache generation its site was
 * built in (another thread may still run a flushed site until then):
 * hp_ibl_flush_all notes where the ring's head was, hp_ibl_reclaim moves
 * its tail past the runs of the generations freed. Every thread's table
 * holds the same entries, and jt_shared the ones a new thread starts with. */
static uint64_t jt_head, jt_tail; /* entries handed out and freed, ever */
#define JT_MARKS 64
static struct {
  uint64_t gen, head;
} jt_marks[JT_MARKS];
static unsigned jt_nmarks;

unsigned hp_jt_table_used(void) { return (unsigned)(jt_head - jt_tail); }

unsigned hp_jt_table_room(void)
{
  uint64_t free = HP_JT_ENTRIES - (jt_head - jt_tail), to_end = HP_JT_ENTRIES - jt_head % HP_JT_ENTRIES;
  if (free <= to_end)
    return (unsigned)free;
  return (unsigned)(to_end > free - to_end ? to_end : free - to_end); /* a run does not wrap */
}

int32_t hp_jt_table_alloc(unsigned n)
{
  uint64_t at = jt_head, pos = at % HP_JT_ENTRIES;
  if (pos + n > HP_JT_ENTRIES) /* a run does not wrap: start it at 0 */
    at += HP_JT_ENTRIES - pos;
  if (n > HP_JT_ENTRIES || at + n - jt_tail > HP_JT_ENTRIES)
    return -1;
  if (!jt_shared) {
    hp_fs_host();
    jt_shared = mmap(NULL, 8ul * HP_JT_ENTRIES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    HP_ASSERT(jt_shared != MAP_FAILED);
  }
  jt_head = at + n;
  return (int32_t)(at % HP_JT_ENTRIES);
}

/* A flush of generation gen: the runs handed out so far go with it (a full
 * list of marks keeps them longer: the oldest mark moves up). */
static void jt_flush(uint64_t gen)
{
  if (jt_nmarks == JT_MARKS) {
    memmove(jt_marks, jt_marks + 1, sizeof jt_marks[0] * (JT_MARKS - 1));
    jt_nmarks--;
  }
  jt_marks[jt_nmarks].gen = gen;
  jt_marks[jt_nmarks++].head = jt_head;
}

static void jt_reclaim(uint64_t gen)
{
  unsigned k = 0;
  while (k < jt_nmarks && jt_marks[k].gen <= gen)
    jt_tail = jt_marks[k++].head;
  memmove(jt_marks, jt_marks + k, sizeof jt_marks[0] * (jt_nmarks - k));
  jt_nmarks -= k;
}

struct jt_update {
  uint32_t first;
  unsigned n;
};

static void jt_update(struct hp_thread *t, void *arg)
{
  const struct jt_update *u = arg;
  memcpy(hp_thread_jt_table(t) + u->first, jt_shared + u->first, 8ul * u->n);
}

void hp_jt_table_set(uint32_t first, unsigned n, const uintptr_t *cache)
{
  for (unsigned i = 0; i < n; i++)
    jt_shared[first + i] = cache[i];
  struct jt_update u = {first, n};
  hp_thread_foreach(jt_update, &u);
}

/* A thread's copy of a run catches up with the master where they differ
 * (one aligned store per entry: never a torn one for a thread reading). */
static void jt_catch_up(struct hp_thread *t, void *arg)
{
  const struct jt_update *u = arg;
  uint64_t *table = hp_thread_jt_table(t);
  for (unsigned k = u->first; k < u->first + u->n; k++)
    if (table[k] != jt_shared[k])
      __atomic_store_n(&table[k], jt_shared[k], __ATOMIC_RELEASE);
}

unsigned hp_jt_table_retarget(uint32_t first, unsigned n, uintptr_t from, uintptr_t to)
{
  unsigned count = 0;
  for (unsigned k = first; k < first + n; k++)
    if (jt_shared[k] == from) {
      jt_shared[k] = to;
      count++;
    }
  if (count) {
    struct jt_update u = {first, n};
    hp_thread_foreach(jt_catch_up, &u);
  }
  return count;
}

void hp_jt_table_fill(struct hp_thread *t)
{
  hp_lock();
  if (jt_shared) /* (freed runs too: harmless, nothing jumps through them) */
    memcpy(hp_thread_jt_table(t), jt_shared, 8ul * (jt_head < HP_JT_ENTRIES ? jt_head : HP_JT_ENTRIES));
  hp_unlock();
}
