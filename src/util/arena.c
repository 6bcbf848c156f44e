/* Bump allocators for hotpath's own records: no header per allocation,
 * 16-byte aligned, zeroed (fresh pages). The permanent one is never freed;
 * the generation one hands out chunks that eviction frees as a whole. Under
 * the lock. */
#include "hotpath/arena.h"

#include <stdint.h>
#include <sys/mman.h>

#include "hotpath/log.h"
#include "hotpath/options.h"

#define CHUNK (1ul << 20)

static size_t perm_bytes, gen_bytes;

static uint8_t *chunk(size_t size)
{
  uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    hp_fatal(HP_STATUS_UNSUPPORTED, "out of memory for translator records");
  return p;
}

void *hp_arena_alloc(size_t size)
{
  static uint8_t *cur, *end;
  size = (size + 15) & ~(size_t)15;
  if (!cur || (size_t)(end - cur) < size) {
    size_t n = size > CHUNK ? size : CHUNK;
    cur = chunk(n);
    end = cur + n;
    perm_bytes += n;
  }
  void *p = cur;
  cur += size;
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

/* Generation chunks are smaller under a small --cache-size (they count
 * against it): a sixteenth of it, 64 KiB to 1 MiB. */
static size_t gen_chunk_size(void)
{
  size_t n = hp_opt.cache_size > 0 ? (size_t)hp_opt.cache_size / 16 : CHUNK;
  n = n < (64ul << 10) ? 64ul << 10 : n > CHUNK ? CHUNK : n;
  return n & ~(size_t)4095;
}

void *hp_arena_gen_alloc(size_t size)
{
  size = (size + 15) & ~(size_t)15;
  if (!gcur || (size_t)(gend - gcur) < size) {
    size_t csz = gen_chunk_size();
    size_t n = size + sizeof(struct gen_chunk) > csz ? (size + sizeof(struct gen_chunk) + 4095) & ~(size_t)4095 : csz;
    struct gen_chunk *c = (struct gen_chunk *)chunk(n);
    c->size = n;
    c->next = live;
    live = c;
    gcur = (uint8_t *)(c + 1);
    gend = (uint8_t *)c + n;
    gen_bytes += n;
  }
  void *p = gcur;
  gcur += size;
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
