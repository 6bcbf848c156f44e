/* The code cache: units carved from one memfd, each mapped twice (RW view
 * for emitting and patching, RX view that runs). No mapping is ever writable
 * and executable. Units are placed within rel32 reach of the guest code they
 * hold, so rip-relative operands only need their disp32 adjusted. */
#ifndef HOTPATH_CACHE_H
#define HOTPATH_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_cache_unit {
  uint8_t *rw;
  uintptr_t rx;
  size_t size, used;
  struct hp_cache_unit *next;
};

/* A unit near guest_pc (or deliberately far with --debug-far-cache) with at
 * least `need` free bytes. near_pc = 0 asks for any unit. */
struct hp_cache_unit *hp_cache_unit_for(uintptr_t near_pc, size_t need);
static inline uint8_t *hp_cache_rw(const struct hp_cache_unit *u, uintptr_t rx)
{
  return u->rw + (rx - u->rx);
}
struct hp_cache_unit *hp_cache_unit_of(uintptr_t rx);
bool hp_cache_contains(uintptr_t rx);
/* Whether [lo, hi) touches either view of any unit. */
bool hp_cache_overlaps(uintptr_t lo, uintptr_t hi);
size_t hp_cache_bytes_used(void);
/* In the child of a fork: the units are shared memory with the parent, so
 * give the child its own copies at the same addresses. */
void hp_cache_unshare(void);

/* Bump allocator for hotpath's own long-lived records (fragments, exits). */
void *hp_arena_alloc(size_t size);

#endif
