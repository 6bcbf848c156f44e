/* Bump allocator for hotpath's own long-lived records (fragments, exits):
 * never freed, no header per allocation, 16-byte aligned. Under the lock. */
#include "hotpath/arena.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "hotpath/log.h"
#include "hotpath/options.h"

#define HUGE_CHUNK (2ul << 20)

void *hp_arena_alloc(size_t size)
{
  static uint8_t *cur, *end;
  size = (size + 15) & ~(size_t)15;
  static unsigned chunks;
  if (!cur || (size_t)(end - cur) < size) {
    /* The first chunk is 1 MiB of small pages (a small program needs no
     * more); later ones are huge pages, aligned: a big program's records
     * fault in 2 MiB at a time rather than 4 KiB (each fault costs more than
     * zeroing its page). */
    bool huge = chunks++ > 0;
    size_t unit = huge ? HUGE_CHUNK : (1ul << 20);
    size_t chunk = (size + unit - 1) & ~(unit - 1);
    cur = mmap(NULL, chunk + (huge ? HUGE_CHUNK : 0), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (cur == MAP_FAILED)
      hp_fatal(HP_STATUS_UNSUPPORTED, "out of memory for translator records");
    if (huge) {
      uint8_t *a = (uint8_t *)(((uintptr_t)cur + HUGE_CHUNK - 1) & ~(uintptr_t)(HUGE_CHUNK - 1));
      if (a > cur)
        munmap(cur, (size_t)(a - cur));
      munmap(a + chunk, (size_t)(cur + HUGE_CHUNK - a));
      cur = a;
      madvise(cur, chunk, MADV_HUGEPAGE);
    }
    end = cur + chunk;
  }
  void *p = cur;
  cur += size;
  return p;
}
