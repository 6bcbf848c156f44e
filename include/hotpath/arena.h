/* Bump allocators for hotpath's own records: a permanent arena, and one per
 * code cache generation (fragments, exits, their arrays) that is freed as a
 * whole when eviction reclaims the generation. */
#ifndef HOTPATH_ARENA_H
#define HOTPATH_ARENA_H
#include <stddef.h>
#include <stdint.h>

/* Never freed. */
void *hp_arena_alloc(size_t size);
/* Lives as long as the current cache generation (zeroed, 16-byte aligned). */
void *hp_arena_gen_alloc(size_t size);
/* The current generation's chunks are retired, tagged gen (under the lock). */
void hp_arena_gen_retire(uint64_t gen);
/* Unmaps the retired chunks of generations <= gen; returns their bytes. */
size_t hp_arena_gen_reclaim(uint64_t gen);
/* Bytes mapped: permanent chunks, generation chunks (current and retired). */
size_t hp_arena_bytes(void);
size_t hp_arena_gen_bytes(void);

#endif
