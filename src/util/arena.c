/* Bump allocators for hotpath's own records: no header per allocation,
 * 16-byte aligned, zeroed (fresh pages). The permanent one is never freed;
 * the generation one hands out chunks that eviction frees as a whole. Under
 * the lock. */
#include "hotpath/arena.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "hotpath/log.h"
#include "hotpath/options.h"
#include "hotpath/pages.h"
#include "hotpath/thread.h"

#define CHUNK (1ul << 20)
#define HUGE_CHUNK (2ul << 20)

static size_t perm_bytes, gen_bytes;

/* size bytes; a multiple of HUGE_CHUNK is 2 MiB-aligned transparent huge
 * pages: a big program's records fault in 2 MiB at a time rather than
 * 4 KiB (each fault costs more than zeroing its page). Where the address
 * space has no room for the alignment (a guest that used up `ulimit -v`),
 * small pages; NULL where even size bytes do not fit. */
static uint8_t *try_chunk(size_t size)
{
  uint8_t *p = size % HUGE_CHUNK == 0 ? hp_pages_huge(size) : NULL;
  if (!p) {
    hp_fs_host();
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  }
  return p == MAP_FAILED ? NULL : p;
}

/* A chunk of *size bytes, or of small (a multiple of CHUNK, for requests
 * that fit) where that does not fit; *size is set to what it got. */
static uint8_t *chunk(size_t *size, size_t small)
{
  uint8_t *p = try_chunk(*size);
  if (!p && small < *size && (p = try_chunk(small)))
    *size = small;
  if (!p)
    hp_fatal(HP_STATUS_UNSUPPORTED, "out of memory for translator records");
  return p;
}

/* The pages of [start, upto) of a chunk of size bytes, mapped ahead. */
static void map_ahead(uint8_t *start, size_t *ahead, uint8_t *upto, size_t size)
{
  size_t from, len;
  if (hp_pages_window(ahead, (size_t)(upto - start), size, &from, &len))
    hp_pages_populate(start + from, len, true);
}

void *hp_arena_alloc(size_t size)
{
  static uint8_t *cur, *end, *start;
  static size_t ahead;
  static unsigned chunks;
  size = (size + 15) & ~(size_t)15;
  if (!cur || (size_t)(end - cur) < size) {
    /* The first chunk is 1 MiB of small pages (a small program needs no
     * more); later ones are huge. */
    size_t unit = chunks++ ? HUGE_CHUNK : CHUNK;
    size_t n = (size + unit - 1) & ~(unit - 1);
    start = cur = chunk(&n, (size + CHUNK - 1) & ~(CHUNK - 1));
    end = cur + n;
    ahead = 0;
    perm_bytes += n;
  }
  void *p = cur;
  cur += size;
  map_ahead(start, &ahead, cur, (size_t)(end - start));
  return p;
}

/* A generation chunk starts with its header. */
struct gen_chunk {
  struct gen_chunk *next;
  size_t size;
  uint64_t gen;
  uint64_t pad;
};
static struct gen_chunk *live, *retired;
static uint8_t *gcur, *gend;
static size_t gahead; /* bytes of live's first chunk mapped */

/* Generation chunks are smaller under a small --cache-size (they count
 * against it): a sixteenth of it, 64 KiB to 1 MiB for a generation's first
 * chunk, and its later ones 2 MiB of huge pages where a sixteenth allows. */
static unsigned gen_chunks; /* chunks of the live generation so far */
static size_t gen_chunk_size(void)
{
  size_t n = hp_opt.cache_size > 0 ? (size_t)hp_opt.cache_size / 16 : CHUNK;
  if (gen_chunks++ && n >= HUGE_CHUNK)
    return HUGE_CHUNK;
  n = n < (64ul << 10) ? 64ul << 10 : n > CHUNK ? CHUNK : n;
  return n & ~(size_t)4095;
}

void *hp_arena_gen_alloc(size_t size)
{
  size = (size + 15) & ~(size_t)15;
  if (!gcur || (size_t)(gend - gcur) < size) {
    size_t csz = gen_chunk_size();
    size_t need = (size + sizeof(struct gen_chunk) + 4095) & ~(size_t)4095;
    size_t n = size + sizeof(struct gen_chunk) > csz ? need : csz;
    struct gen_chunk *c = (struct gen_chunk *)chunk(&n, need);
    c->size = n;
    c->next = live;
    live = c;
    gcur = (uint8_t *)(c + 1);
    gend = (uint8_t *)c + n;
    gahead = 0;
    gen_bytes += n;
  }
  void *p = gcur;
  gcur += size;
  map_ahead((uint8_t *)live, &gahead, gcur, live->size);
  return p;
}

void hp_arena_gen_retire(uint64_t gen)
{
  for (struct gen_chunk *c = live, *next; c; c = next) {
    next = c->next;
    c->gen = gen;
    c->next = retired;
    retired = c;
  }
  live = NULL;
  gcur = gend = NULL;
  gen_chunks = 0;
}

size_t hp_arena_gen_reclaim(uint64_t gen)
{
  size_t bytes = 0;
  for (struct gen_chunk **pp = &retired; *pp;) {
    struct gen_chunk *c = *pp;
    if (c->gen > gen) {
      pp = &c->next;
      continue;
    }
    *pp = c->next;
    bytes += c->size;
    munmap(c, c->size);
  }
  gen_bytes -= bytes;
  return bytes;
}

size_t hp_arena_bytes(void) { return perm_bytes; }
size_t hp_arena_gen_bytes(void) { return gen_bytes; }
