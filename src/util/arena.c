/* Bump allocator for hotpath's own long-lived records (fragments, exits):
 * never freed, no header per allocation, 16-byte aligned. Under the lock. */
#include "hotpath/arena.h"

#include <stdint.h>
#include <sys/mman.h>

#include "hotpath/log.h"
#include "hotpath/options.h"

void *hp_arena_alloc(size_t size)
{
  static uint8_t *cur, *end;
  size = (size + 15) & ~(size_t)15;
  if (!cur || (size_t)(end - cur) < size) {
    size_t chunk = size > (1ul << 20) ? size : (1ul << 20);
    cur = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (cur == MAP_FAILED)
      hp_fatal(HP_STATUS_UNSUPPORTED, "out of memory for translator records");
    end = cur + chunk;
  }
  void *p = cur;
  cur += size;
  return p;
}
