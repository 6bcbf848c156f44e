/* Code cache units: shared anonymous pages mapped twice (RW and RX), placed near guest code. */
#include "hotpath/cache.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "hotpath/log.h"
#include "hotpath/options.h"
#include "hotpath/pages.h"
#include "hotpath/thread.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Units start small and double up to UNIT_MAX: a small program keeps a
 * small footprint of address space (under `ulimit -v`, each unit counts
 * twice, once per view), a big one gets big units. */
#define UNIT_MIN (4ul << 20)
#define UNIT_MAX (32ul << 20)
/* The owners index has room for one fragment per OWNER_BYTES of a unit (a
 * fragment's hot code averages over 100 bytes); a unit whose index is full
 * takes no more fragments. */
#define OWNER_BYTES 64
/* A unit serves guest pcs within 1.75 GiB of both its ends: rip-relative
 * targets in the same module (well under 256 MiB away) stay in rel32 reach;
 * the rare one that does not is rewritten through a scratch register. */
#define REACH (7ul << 28)
#define FAR (6ul << 30)            /* --debug-far-cache places units this far */

static struct hp_cache_unit *units;
/* Retired units (eviction), newest first, and unit records to reuse. */
static struct hp_cache_unit *retired, *free_units;
static size_t mapped, mapped_peak, pinned_bytes;
static bool full;
/* Under a size limit a unit is at most an eighth of it (code near the
 * program and near its libraries both find room, and the fragments'
 * records, which count too, take about twice their code), at least this. */
#define UNIT_FLOOR (64ul << 10)
#define UNIT_SHARE 8

/* What counts against --cache-size: units mapped for translated code and
 * the records of their fragments (per-generation arenas), live and retired. */
static size_t counted(void) { return mapped + hp_arena_gen_bytes(); }
/* 1-GiB areas of guest code for which no unit could be placed in reach:
 * they share whatever unit has room instead of getting a new one each time. */
static uintptr_t no_near[32];
static unsigned nno_near;

static bool in_reach(uintptr_t rx, size_t size, uintptr_t pc)
{
  uintptr_t lo = rx, hi = rx + size;
  uintptr_t d1 = lo > pc ? lo - pc : pc - lo, d2 = hi > pc ? hi - pc : pc - hi;
  if (hp_opt.debug_far_cache)
    return d1 > (4ul << 30) && d2 > (4ul << 30);
  return d1 < REACH && d2 < REACH;
}

/* A second view of the shared pages at rw, read+execute, at `at` (which
 * must be address space hotpath reserved) or anywhere: mremap with an old
 * size of 0 duplicates a shared mapping, so no file descriptor is needed. */
static void *rx_view(uint8_t *rw, size_t size, void *at)
{
  void *p = at ? mremap(rw, 0, size, MREMAP_MAYMOVE | MREMAP_FIXED, at) : mremap(rw, 0, size, MREMAP_MAYMOVE);
  if (p == MAP_FAILED)
    return NULL;
  if (mprotect(p, size, PROT_READ | PROT_EXEC) != 0) {
    munmap(p, size);
    return NULL;
  }
  return p;
}

/* Finds free address space for an RX view of rw near (or far from) pc. */
static void *place_rx(uintptr_t pc, uint8_t *rw, size_t size)
{
  if (pc) {
    /* Below the code first; above it only from 1 GiB on, to leave the
     * program break of a non-PIE program room to grow. */
    for (int k = 1; k < 56; k++) {
      for (int sign = -1; sign <= 1; sign += 2) {
        uintptr_t step = (uintptr_t)k * (32ul << 20) + (sign > 0 ? (1ul << 30) : 0);
        uintptr_t base = hp_opt.debug_far_cache ? FAR + step : step;
        uintptr_t cand = sign < 0 ? pc - base : pc + base;
        if ((sign < 0 && pc < base) || cand >= 0x7ffffffff000ul - size || cand < 0x10000)
          continue;
        cand &= ~(uintptr_t)0xfff;
        /* Reserve first: MREMAP_FIXED would replace whatever is there. */
        void *p = mmap((void *)cand, size, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == MAP_FAILED)
          continue;
        if ((uintptr_t)p == cand && in_reach(cand, size, pc)) {
          void *rx = rx_view(rw, size, p);
          if (rx)
            return rx;
        }
        munmap(p, size);
      }
    }
  }
  void *p = rx_view(rw, size, NULL);
  if (p && pc && !in_reach((uintptr_t)p, size, pc) && nno_near < sizeof no_near / sizeof no_near[0])
    no_near[nno_near++] = pc >> 30;
  return p;
}

/* Shared anonymous memory for a unit's pages. No file descriptor: hotpath
 * needs none free to grow its cache (a guest may have used them all) and
 * keeps none the guest could see, close or reuse. */
static uint8_t *unit_pages(size_t size)
{
  uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

size_t hp_cache_limit(void) { return hp_opt.cache_size > 0 ? (size_t)hp_opt.cache_size : 0; }

size_t hp_cache_fragment_max(void)
{
  size_t limit = hp_cache_limit();
  if (!limit)
    return UNIT_MAX / 2;
  size_t m = (limit / UNIT_SHARE > UNIT_FLOOR ? limit / UNIT_SHARE : UNIT_FLOOR) / 2;
  return m < UNIT_MAX / 2 ? m : UNIT_MAX / 2;
}

static struct hp_cache_unit *unit_record(void)
{
  struct hp_cache_unit *u = free_units;
  if (u)
    free_units = u->free_next;
  else
    u = hp_arena_alloc(sizeof *u);
  return u;
}

/* A new unit with room for need bytes, or NULL when the size limit does not
 * allow it (pinned units are outside the limit). */
static size_t next_size = UNIT_MIN; /* units double from here, per generation */

static struct hp_cache_unit *new_unit(uintptr_t pc, size_t need, bool pinned)
{
  hp_fs_host();
  size_t limit = hp_cache_limit(), size;
  if (pinned) {
    size = (need + 4095) & ~(size_t)4095;
  } else {
    size = next_size;
    /* Under a limit a unit is at most an eighth of it (UNIT_SHARE), so that code near
     * the program and near its libraries both find room. */
    if (limit && size > limit / UNIT_SHARE)
      size = limit / UNIT_SHARE > UNIT_FLOOR ? (limit / UNIT_SHARE) & ~(size_t)0xffff : UNIT_FLOOR;
    while (size < 2 * need && size < UNIT_MAX)
      size *= 2;
    if (limit && counted() + size > limit) {
      full = true;
      return NULL;
    }
    if (next_size < UNIT_MAX)
      next_size *= 2;
  }
  uint8_t *rw = unit_pages(size);
  void *rx = rw ? place_rx(pc, rw, size) : NULL;
  if (!rx)
    hp_fatal(HP_STATUS_UNSUPPORTED, "cannot map the code cache: %s", strerror(errno));
  struct hp_cache_unit *u = unit_record();
  u->rw = rw;
  u->size = size;
  u->used = 0;
  u->count_used = 0;
  u->cold = 0;
  u->ahead_hot = u->ahead_cold = u->ahead_owners = 0;
  u->pinned = pinned;
  u->gen = 0; /* retired_next is left as it was: a late walker may still follow it */
  /* Reserved address space, touched only as it fills. */
  u->owner_cap = size / OWNER_BYTES;
  u->owners = mmap(NULL, u->owner_cap * sizeof *u->owners, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (u->owners == MAP_FAILED)
    hp_fatal(HP_STATUS_UNSUPPORTED, "cannot map the code cache index: %s", strerror(errno));
  u->nowners = 0;
  u->next = units;
  __atomic_store_n(&u->rx, (uintptr_t)rx, __ATOMIC_RELEASE);
  __atomic_store_n(&units, u, __ATOMIC_RELEASE); /* signal handlers walk the list */
  if (pinned) {
    pinned_bytes += size;
  } else {
    mapped += size;
    if (mapped > mapped_peak)
      mapped_peak = mapped;
  }
  HP_INFO("cache unit %p (rw %p, %zu bytes) for guest pc 0x%lx", rx, (void *)rw, size, (unsigned long)pc);
  return u;
}

/* A unit near pc (or deliberately far with --debug-far-cache) with at least
 * `need` free bytes; pc = 0 asks for any unit. */
static struct hp_cache_unit *unit_for(uintptr_t pc, size_t need)
{
  bool any = !pc;
  for (unsigned i = 0; i < nno_near && !any; i++)
    any = no_near[i] == pc >> 30;
  for (struct hp_cache_unit *u = units; u; u = u->next)
    if (!u->pinned && hp_cache_unit_free(u) >= need && u->nowners < u->owner_cap &&
        (any || in_reach(u->rx, u->size, pc)))
      return u;
  return new_unit(pc, need, false);
}

/* Both views' pages of what a reservation may write, mapped ahead. */
static void map_ahead(struct hp_cache_unit *u, size_t hot, size_t cold)
{
  size_t from, len;
  if (hp_pages_window(&u->ahead_hot, u->used + hot, u->size, &from, &len)) {
    hp_pages_populate(u->rw + from, len, true);
    hp_pages_populate((void *)(u->rx + from), len, false);
  }
  if (hp_pages_window(&u->ahead_cold, u->cold + cold, u->size, &from, &len)) {
    hp_pages_populate(u->rw + u->size - from - len, len, true);
    hp_pages_populate((void *)(u->rx + u->size - from - len), len, false);
  }
}

static void fill_reservation(struct hp_cache_unit *u, size_t hot, size_t cold, struct hp_cache_reservation *r)
{
  map_ahead(u, hot, cold);
  r->unit = u;
  r->hot_rw = u->rw + u->used;
  r->hot_rx = u->rx + u->used;
  r->hot_cap = hot;
  r->cold_top_rw = u->rw + u->size - u->cold;
  r->cold_top_rx = u->rx + u->size - u->cold;
  r->cold_cap = cold;
}

bool hp_cache_reserve(uintptr_t near_pc, size_t hot, size_t cold, bool fresh_unit,
                      struct hp_cache_reservation *r)
{
  /* Hot code starts 16-byte aligned; cold stubs are packed. */
  size_t need = hot + cold + 16;
  if (need > UNIT_MAX / 2)
    hp_fatal(HP_STATUS_UNSUPPORTED, "a fragment of %zu bytes does not fit a code cache unit", need);
  size_t limit = hp_cache_limit();
  if (need > hp_cache_fragment_max())
    hp_fatal(HP_STATUS_CACHE_FULL, "--cache-size=%zu: a fragment of %zu bytes needs a cache of at least %zu bytes",
             limit, need, 2 * UNIT_SHARE * need);
  if (limit && counted() > limit) { /* the records of the code already there took the room */
    full = true;
    return false;
  }
  struct hp_cache_unit *u = fresh_unit ? new_unit(near_pc, need, false) : unit_for(near_pc, need);
  if (!u)
    return false;
  fill_reservation(u, hot, cold, r);
  return true;
}

void hp_cache_reserve_pinned(size_t hot, struct hp_cache_reservation *r)
{
  fill_reservation(new_unit(0, hot + 16, true), hot, 0, r);
}

bool hp_cache_full(void) { return full; }
void hp_cache_clear_full(void) { full = false; }
void hp_cache_request_flush(void) { full = true; }

size_t hp_cache_retired_bytes(void)
{
  size_t n = 0;
  for (struct hp_cache_unit *u = retired; u; u = u->retired_next)
    n += u->size;
  return n;
}

void hp_cache_commit(const struct hp_cache_reservation *r, size_t hot_used, size_t cold_used)
{
  struct hp_cache_unit *u = r->unit;
  HP_ASSERT(hot_used <= r->hot_cap && cold_used <= r->cold_cap && r->hot_rx == u->rx + u->used &&
            r->cold_top_rx == u->rx + u->size - u->cold);
  u->used += (hot_used + 15) & ~(size_t)15;
  u->cold += cold_used;
}

uintptr_t hp_cache_alloc_cold(struct hp_cache_unit *u, size_t n)
{
  if (hp_cache_unit_free(u) < n)
    return 0;
  u->cold += n;
  return u->rx + u->size - u->cold;
}

void hp_cache_index_add(struct hp_cache_unit *u, uintptr_t rx, uint32_t size, void *owner)
{
  size_t n = u->nowners;
  HP_ASSERT(n < u->owner_cap && (!n || u->owners[n - 1].off < rx - u->rx));
  size_t from, len;
  if (hp_pages_window(&u->ahead_owners, (n + 1) * sizeof *u->owners, u->owner_cap * sizeof *u->owners, &from,
                      &len))
    hp_pages_populate((uint8_t *)u->owners + from, len, true);
  u->owners[n] = (struct hp_cache_owner){(uint32_t)(rx - u->rx), size, owner};
  __atomic_store_n(&u->nowners, n + 1, __ATOMIC_RELEASE);
}

void *hp_cache_owner_of(uintptr_t rx)
{
  struct hp_cache_unit *u = hp_cache_unit_of(rx);
  if (!u)
    return NULL;
  size_t n = __atomic_load_n(&u->nowners, __ATOMIC_ACQUIRE);
  uintptr_t base = __atomic_load_n(&u->rx, __ATOMIC_ACQUIRE);
  if (!base || rx < base) /* reclaimed (the record reused) meanwhile */
    return NULL;
  uint32_t off = (uint32_t)(rx - base);
  size_t lo = 0, hi = n; /* first entry with off > rx's */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (u->owners[mid].off <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (!lo)
    return NULL;
  const struct hp_cache_owner *o = &u->owners[lo - 1];
  return off < o->off + o->size ? o->owner : NULL;
}

struct hp_cache_unit *hp_cache_units(void) { return __atomic_load_n(&units, __ATOMIC_ACQUIRE); }

struct hp_cache_unit *hp_cache_unit_of(uintptr_t rx)
{
  for (struct hp_cache_unit *u = hp_cache_units(); u; u = u->next)
    if (rx >= u->rx && rx < u->rx + u->size)
      return u;
  /* Retired code a thread may still run (a fault there needs its owner). */
  for (struct hp_cache_unit *u = __atomic_load_n(&retired, __ATOMIC_ACQUIRE); u;
       u = __atomic_load_n(&u->retired_next, __ATOMIC_ACQUIRE)) {
    uintptr_t lo = __atomic_load_n(&u->rx, __ATOMIC_ACQUIRE);
    if (lo && rx >= lo && rx < lo + u->size) /* 0: reclaimed while this walked */
      return u;
  }
  return NULL;
}

bool hp_cache_contains(uintptr_t rx) { return hp_cache_unit_of(rx) != NULL; }

static bool unit_overlaps(const struct hp_cache_unit *u, uintptr_t lo, uintptr_t hi)
{
  return (lo < u->rx + u->size && hi > u->rx) || (lo < (uintptr_t)u->rw + u->size && hi > (uintptr_t)u->rw);
}

bool hp_cache_overlaps(uintptr_t lo, uintptr_t hi)
{
  for (struct hp_cache_unit *u = units; u; u = u->next)
    if (unit_overlaps(u, lo, hi))
      return true;
  for (struct hp_cache_unit *u = retired; u; u = u->retired_next)
    if (unit_overlaps(u, lo, hi))
      return true;
  return false;
}

void hp_cache_retire_all(uint64_t gen)
{
  next_size = UNIT_MIN; /* a new generation starts small again */
  struct hp_cache_unit *keep = NULL, **tail = &keep;
  for (struct hp_cache_unit *u = units; u; u = u->next) {
    if (u->pinned) {
      *tail = u;
      tail = &u->next; /* u->next is rewritten below only for pinned units */
      continue;
    }
    u->gen = gen;
    u->retired_next = retired;
    __atomic_store_n(&retired, u, __ATOMIC_RELEASE);
  }
  /* Pinned units keep their order; a walker on a retired unit goes on
   * along the old list, which ends. */
  *tail = NULL;
  __atomic_store_n(&units, keep, __ATOMIC_RELEASE);
  full = false;
}

size_t hp_cache_reclaim(uint64_t gen, unsigned *nunits)
{
  size_t bytes = 0;
  for (struct hp_cache_unit **pp = &retired; *pp;) {
    struct hp_cache_unit *u = *pp;
    if (u->gen > gen) {
      pp = &u->retired_next;
      continue;
    }
    __atomic_store_n(pp, u->retired_next, __ATOMIC_RELEASE);
    uintptr_t rx = u->rx;
    __atomic_store_n(&u->rx, 0, __ATOMIC_RELEASE); /* a late walker matches nothing */
    munmap((void *)rx, u->size);
    munmap(u->rw, u->size);
    munmap(u->owners, u->owner_cap * sizeof *u->owners);
    u->nowners = 0;
    mapped -= u->size;
    bytes += u->size;
    ++*nunits;
    u->free_next = free_units;
    free_units = u;
  }
  if (bytes)
    full = false; /* room again */
  return bytes;
}

size_t hp_cache_mapped_bytes(void) { return mapped; }
size_t hp_cache_mapped_peak(void) { return mapped_peak; }
size_t hp_cache_pinned_bytes(void) { return pinned_bytes; }

size_t hp_cache_bytes_used(void)
{
  size_t n = 0;
  for (struct hp_cache_unit *u = units; u; u = u->next)
    n += u->used + u->cold;
  return n;
}

size_t hp_cache_count_bytes_used(void)
{
  size_t n = 0;
  for (struct hp_cache_unit *u = units; u; u = u->next)
    n += u->count_used;
  return n;
}

size_t hp_cache_cold_bytes_used(void)
{
  size_t n = 0;
  for (struct hp_cache_unit *u = units; u; u = u->next)
    n += u->cold;
  return n;
}


/* Unit u's used parts written into a file of its own (the kernel copies the
 * pages: none is faulted in here, where copying through fresh mappings
 * faulted each page in three times, tens of microseconds each on a VM),
 * then mapped over both views; the child touches only what it runs. False
 * where there is no descriptor to spare (the guest may hold them all). */
static bool unshare_by_file(struct hp_cache_unit *u)
{
  /* A file bigger than RLIMIT_FSIZE would raise SIGXFSZ. */
  struct rlimit fsize;
  if (getrlimit(RLIMIT_FSIZE, &fsize) != 0 || (fsize.rlim_cur != RLIM_INFINITY && fsize.rlim_cur < u->size))
    return false;
  int fd = memfd_create("hotpath-cache", MFD_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = ftruncate(fd, (off_t)u->size) == 0;
  size_t cold_at = u->size - u->cold;
  for (size_t off = 0; ok && off < u->used;) {
    ssize_t n = pwrite(fd, u->rw + off, u->used - off, (off_t)off);
    ok = n > 0;
    off += ok ? (size_t)n : 0;
  }
  for (size_t off = cold_at; ok && off < u->size;) {
    ssize_t n = pwrite(fd, u->rw + off, u->size - off, (off_t)off);
    ok = n > 0;
    off += ok ? (size_t)n : 0;
  }
  /* A refused executable view (a security module's rule for files) leaves
   * the old one in place: the other way then. */
  ok = ok && mmap((void *)u->rx, u->size, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0) == (void *)u->rx;
  if (ok && mmap(u->rw, u->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) != u->rw)
    hp_fatal(HP_STATUS_UNSUPPORTED, "cannot map the copied code cache after fork: %s", strerror(errno));
  close(fd);
  return ok;
}

/* After fork the units' pages are shared with the parent: give each unit
 * pages of its own, with the same content, under both views (same addresses). */
void hp_cache_unshare(bool shared_fds)
{
  for (struct hp_cache_unit *u = units; u; u = u->next) {
    /* The new pages past the used parts are mapped ahead again as they fill. */
    u->ahead_hot = u->used;
    u->ahead_cold = u->cold;
    if (!shared_fds && unshare_by_file(u))
      continue;
    uint8_t *fresh = unit_pages(u->size);
    if (!fresh)
      hp_fatal(HP_STATUS_UNSUPPORTED, "cannot copy the code cache after fork: %s", strerror(errno));
    memcpy(fresh, u->rw, u->used);
    memcpy(fresh + u->size - u->cold, u->rw + u->size - u->cold, u->cold);
    if (mremap(fresh, 0, u->size, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)u->rx) != (void *)u->rx ||
        mprotect((void *)u->rx, u->size, PROT_READ | PROT_EXEC) != 0 ||
        mremap(fresh, u->size, u->size, MREMAP_MAYMOVE | MREMAP_FIXED, u->rw) != (void *)u->rw)
      hp_fatal(HP_STATUS_UNSUPPORTED, "cannot copy the code cache after fork: %s", strerror(errno));
  }
}
