/* The code cache: units of shared anonymous pages (4 MiB, doubling up to
 * 32 MiB; at most an eighth of --cache-size), each mapped twice (RW view for emitting and patching, RX view
 * that runs). No mapping is ever writable
 * and executable. Units are placed within rel32 reach of the guest code they
 * hold, so rip-relative operands only need their disp32 adjusted. */
#ifndef HOTPATH_CACHE_H
#define HOTPATH_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A unit holds hot code growing up from its start (fragments' own code, so
 * a fragment's hot path is contiguous) and cold code growing down from its
 * end (exit stubs, far-jump trampolines). */
struct hp_cache_unit {
  uint8_t *rw;
  uintptr_t rx;
  size_t size;
  size_t used;       /* hot bytes [0, used) */
  size_t count_used; /* of them, --stats' own counting code */
  size_t cold;       /* cold bytes [size - cold, size) */
  size_t ahead_hot, ahead_cold; /* bytes at each end whose pages are mapped in both views (pages.h) */
  struct hp_cache_unit *next;
  /* Who owns each stretch of hot code, in address order (appended only):
   * a signal handler reads it without the lock. */
  struct hp_cache_owner *owners;
  size_t nowners, owner_cap;
  size_t ahead_owners; /* bytes of owners mapped */
  bool pinned;        /* shared routines: never chosen for fragments, never retired */
  uint64_t gen;       /* retired: the cache generation it held */
  struct hp_cache_unit *retired_next, *free_next;
};
struct hp_cache_owner {
  uint32_t off, size; /* hot code [off, off + size) of the unit */
  void *owner;        /* the fragment */
};

static inline size_t hp_cache_unit_free(const struct hp_cache_unit *u) { return u->size - u->cold - u->used; }


/* Room for one fragment: hot bytes at the unit's hot end, cold bytes at its
 * cold end. Nothing is published until hp_cache_commit; a reservation that
 * turns out too small is simply abandoned and retried (fresh_unit asks for
 * a unit of its own). */
struct hp_cache_reservation {
  struct hp_cache_unit *unit;
  uint8_t *hot_rw, *cold_top_rw;  /* cold code is placed below cold_top */
  uintptr_t hot_rx, cold_top_rx;
  size_t hot_cap, cold_cap;
};
/* False when the units mapped and the fragment records (per-generation
 * arenas) already exceed --cache-size, or would with the new unit the room
 * needs: nothing is reserved and hp_cache_full() says a flush is wanted
 * (the dispatcher flushes at its next safe point). */
bool hp_cache_reserve(uintptr_t near_pc, size_t hot, size_t cold, bool fresh_unit,
                      struct hp_cache_reservation *r);
/* Room in a small unit of its own that is never retired (the shared lookup
 * routine), outside --cache-size. */
void hp_cache_reserve_pinned(size_t hot, struct hp_cache_reservation *r);
/* A reservation failed for the size limit since the last flush. */
bool hp_cache_full(void);
void hp_cache_clear_full(void);
/* Asks for a flush as a full cache does (--debug-flush-every). */
void hp_cache_request_flush(void);
/* Takes hot_used bytes from the hot end and cold_used below cold_top. */
void hp_cache_commit(const struct hp_cache_reservation *r, size_t hot_used, size_t cold_used);
/* Records that [rx, rx + size) of hot code, just committed, belongs to
 * owner (under the lock; in address order within a unit). */
void hp_cache_index_add(struct hp_cache_unit *u, uintptr_t rx, uint32_t size, void *owner);
/* The owner of the hot code holding rx, or NULL (cold code, another
 * mapping). O(log n), without the lock: async-signal safe. */
void *hp_cache_owner_of(uintptr_t rx);
/* Cold bytes of unit u (e.g. a trampoline); 0 when full. Returns the RX address. */
uintptr_t hp_cache_alloc_cold(struct hp_cache_unit *u, size_t n);
static inline uint8_t *hp_cache_rw(const struct hp_cache_unit *u, uintptr_t rx)
{
  return u->rw + (rx - u->rx);
}
struct hp_cache_unit *hp_cache_unit_of(uintptr_t rx);
bool hp_cache_contains(uintptr_t rx);
/* Whether [lo, hi) touches either view of any unit. */
bool hp_cache_overlaps(uintptr_t lo, uintptr_t hi);
size_t hp_cache_bytes_used(void);      /* hot + cold */
size_t hp_cache_cold_bytes_used(void);
size_t hp_cache_count_bytes_used(void); /* --stats' counting code among the hot bytes */
/* Live units, newest first; safe to walk without the lock (a flush replaces
 * the list; a retired unit stays mapped, its next pointer unchanged, until
 * no thread can be in it). */
struct hp_cache_unit *hp_cache_units(void);
/* Eviction (runtime/evict.c drives it, under the lock). Every unit but the
 * pinned ones leaves the live list for the retired one, tagged gen: their
 * code stays mapped (threads may still run it; signal handlers still find
 * its owners through hp_cache_unit_of) until hp_cache_reclaim(gen) unmaps
 * both views and the owner index. Unit records are kept for reuse (a
 * signal handler may be walking a list through one). */
void hp_cache_retire_all(uint64_t gen);
/* Unmaps the retired units of generations <= gen; returns their bytes and
 * adds their number to *nunits. */
size_t hp_cache_reclaim(uint64_t gen, unsigned *nunits);
/* Bytes of retired units still mapped. */
size_t hp_cache_retired_bytes(void);
/* Bytes of units mapped for fragments (live and retired), and the most
 * ever; the pinned units' bytes. */
size_t hp_cache_mapped_bytes(void);
size_t hp_cache_mapped_peak(void);
size_t hp_cache_pinned_bytes(void);
/* The limit in force (--cache-size; 0: none). */
size_t hp_cache_limit(void);
/* The largest reservation (hot + cold bytes) hp_cache_reserve takes
 * without giving up on the program (hp_fatal). */
size_t hp_cache_fragment_max(void);
/* In the child of a fork: the units are shared memory with the parent, so
 * give the child its own copies at the same addresses. */
void hp_cache_unshare(bool shared_fds); /* shared_fds (CLONE_FILES): no descriptor of its own */

#include "hotpath/arena.h"

#endif
