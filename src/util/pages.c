/* Zeroed memory for big tables (see pages.h). */
#include "hotpath/pages.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "hotpath/log.h"
#include "hotpath/rawsys.h"
#include "hotpath/thread.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels: EINVAL, pages fault in as used */
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define HUGE ((size_t)2 << 20)

/* Whole pages: a table of 2^n entries plus a few (the lookup table's
 * overflow area) ends inside a page, and munmap wants page bounds. */
static size_t whole_pages(size_t bytes) { return (bytes + 4095) & ~(size_t)4095; }

static bool stopped;

void *hp_pages_huge(size_t bytes)
{
  if (__atomic_load_n(&stopped, __ATOMIC_RELAXED))
    return NULL; /* (madvise: a seccomp filter may kill it) */
  hp_fs_host();
  uint8_t *p = mmap(NULL, bytes + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  uint8_t *a = (uint8_t *)(((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
  if (a > p)
    munmap(p, (size_t)(a - p));
  munmap(a + bytes, (size_t)(p + HUGE - a));
  madvise(a, bytes, MADV_HUGEPAGE);
  return a;
}

/* Tables under 2 MiB are carved from 2 MiB chunks of huge pages once
 * POOL_AFTER bytes of them were small pages. On the paravirtualized VM of
 * the later sessions the first write to each 4 KiB page costs about 16 us
 * even after MADV_POPULATE_WRITE mapped it; a huge page costs 0.1-0.2 ms
 * where the kernel recycles one, but about 5 ms where the host must back
 * it afresh: worth it only where most of it gets used, as a big program's
 * tables do (python3's start-up touched some 1,500 small pages of them),
 * not a small program's few. Free ranges are kept sorted and merged
 * (tables double, the old one is freed); a range that was used is zeroed
 * when handed out again. Its callers hold hotpath's lock; a spin lock
 * of its own keeps the pool's state consistent without relying on that. */
#define POOL_AFTER ((size_t)1 << 20)
static size_t small_bytes; /* handed out as small pages so far */
#define POOL_RANGES 256
struct pool_range {
  uintptr_t lo, hi;
  bool dirty;
};
static struct pool_range pool[POOL_RANGES];
static unsigned npool;
static uintptr_t pool_chunks[64]; /* chunk bases, for hp_pages_free */
static unsigned npool_chunks;
static bool pool_busy;

static void pool_lock(void)
{
  while (__atomic_test_and_set(&pool_busy, __ATOMIC_ACQUIRE))
    __builtin_ia32_pause();
}
static void pool_unlock(void) { __atomic_clear(&pool_busy, __ATOMIC_RELEASE); }

static bool in_pool(uintptr_t p)
{
  for (unsigned i = 0; i < npool_chunks; i++)
    if (p - pool_chunks[i] < HUGE)
      return true;
  return false;
}

/* [lo, hi) back into the sorted list, merged with its neighbours; dropped
 * (left mapped, never reused) when the list is full. */
static void pool_put(uintptr_t lo, uintptr_t hi, bool dirty)
{
  unsigned i = 0;
  while (i < npool && pool[i].hi <= lo)
    i++;
  bool left = i > 0 && pool[i - 1].hi == lo, right = i < npool && pool[i].lo == hi;
  if (left && right) {
    pool[i - 1].hi = pool[i].hi;
    pool[i - 1].dirty |= dirty | pool[i].dirty;
    npool--;
    for (unsigned k = i; k < npool; k++)
      pool[k] = pool[k + 1];
  } else if (left) {
    pool[i - 1].hi = hi;
    pool[i - 1].dirty |= dirty;
  } else if (right) {
    pool[i].lo = lo;
    pool[i].dirty |= dirty;
  } else if (npool < POOL_RANGES) {
    for (unsigned k = npool; k > i; k--)
      pool[k] = pool[k - 1];
    pool[i] = (struct pool_range){lo, hi, dirty};
    npool++;
  } else {
    munmap((void *)lo, hi - lo); /* never handed out again: given back */
  }
}

static void *pool_get(size_t bytes)
{
  pool_lock();
  unsigned i = 0;
  while (i < npool && pool[i].hi - pool[i].lo < bytes)
    i++;
  if (i == npool) { /* a new chunk (it may merge with a free range next to it) */
    uint8_t *c = npool_chunks < sizeof pool_chunks / sizeof pool_chunks[0] ? hp_pages_huge(HUGE) : NULL;
    if (c) {
      pool_chunks[npool_chunks++] = (uintptr_t)c;
      pool_put((uintptr_t)c, (uintptr_t)c + HUGE, false);
    }
    for (i = 0; c && i < npool && !(pool[i].lo <= (uintptr_t)c && (uintptr_t)c < pool[i].hi); i++)
      ;
    if (!c || i == npool) {
      pool_unlock();
      return NULL;
    }
  }
  struct pool_range *r = &pool[i];
  uint8_t *p = (uint8_t *)r->lo;
  bool dirty = r->dirty;
  r->lo += bytes;
  if (r->lo == r->hi) {
    npool--;
    for (unsigned k = i; k < npool; k++)
      pool[k] = pool[k + 1];
  }
  pool_unlock();
  if (dirty)
    memset(p, 0, bytes);
  return p;
}

void *hp_pages_zeroed(size_t bytes)
{
  hp_fs_host();
  bytes = whole_pages(bytes);
  void *p = NULL;
  if (bytes >= HUGE)
    p = hp_pages_huge(bytes);
  else if (__atomic_load_n(&small_bytes, __ATOMIC_RELAXED) >= POOL_AFTER)
    p = pool_get(bytes);
  else
    __atomic_fetch_add(&small_bytes, bytes, __ATOMIC_RELAXED);
  if (p) { /* probed before written: in place at once (the whole huge page) */
    hp_pages_populate(p, bytes, true);
    return p;
  }
  /* Small pages, no room for the alignment (a guest that used up
   * `ulimit -v`) or no huge pages (a seccomp filter): mapped in place by
   * mmap itself, no call more. */
  p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  HP_ASSERT(p != MAP_FAILED);
  return p;
}

void hp_pages_free(void *p, size_t bytes)
{
  hp_fs_host();
  bytes = whole_pages(bytes);
  pool_lock();
  bool pooled = in_pool((uintptr_t)p);
  if (pooled)
    pool_put((uintptr_t)p, (uintptr_t)p + bytes, true);
  pool_unlock();
  if (!pooled)
    munmap(p, bytes);
}

bool hp_pages_window(size_t *done, size_t want, size_t limit, size_t *from, size_t *len)
{
  if (want <= *done)
    return false;
  size_t lo = *done & ~(size_t)4095, hi = whole_pages(want) + HP_PAGES_AHEAD;
  if (hi > limit)
    hi = limit;
  *done = hi > want ? hi : want;
  *from = lo;
  *len = hi > lo ? hi - lo : 0;
  return *len != 0;
}

void hp_pages_stop_ahead(void) { __atomic_store_n(&stopped, true, __ATOMIC_RELAXED); }
bool hp_pages_ahead_stopped(void) { return __atomic_load_n(&stopped, __ATOMIC_RELAXED); }

void hp_pages_populate(void *p, size_t len, bool write)
{
  if (__atomic_load_n(&stopped, __ATOMIC_RELAXED))
    return;
  hp_raw_syscall(SYS_madvise, (long)p, (long)len, write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ, 0, 0, 0);
}
