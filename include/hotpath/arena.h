/* Bump allocator for hotpath's own long-lived records (fragments, exits). */
#ifndef HOTPATH_ARENA_H
#define HOTPATH_ARENA_H
#include <stddef.h>

void *hp_arena_alloc(size_t size);

#endif
