/* Zeroed memory for big tables (see pages.h). */
#include "hotpath/pages.h"

#include <stdint.h>
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

void *hp_pages_zeroed(size_t bytes)
{
  hp_fs_host();
  bytes = whole_pages(bytes);
  if (bytes < HUGE) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    HP_ASSERT(p != MAP_FAILED);
    return p;
  }
  uint8_t *p = mmap(NULL, bytes + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  HP_ASSERT(p != MAP_FAILED);
  uint8_t *a = (uint8_t *)(((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
  if (a > p)
    munmap(p, (size_t)(a - p));
  munmap(a + bytes, (size_t)(p + HUGE - a));
  madvise(a, bytes, MADV_HUGEPAGE);
  madvise(a, bytes, MADV_POPULATE_WRITE);
  return a;
}

void hp_pages_free(void *p, size_t bytes)
{
  hp_fs_host();
  munmap(p, whole_pages(bytes));
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

static bool stopped;

void hp_pages_stop_ahead(void) { __atomic_store_n(&stopped, true, __ATOMIC_RELAXED); }

void hp_pages_populate(void *p, size_t len, bool write)
{
  if (__atomic_load_n(&stopped, __ATOMIC_RELAXED))
    return;
  hp_raw_syscall(SYS_madvise, (long)p, (long)len, write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ, 0, 0, 0);
}
