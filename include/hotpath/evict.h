/* Code cache eviction (--cache-size): when the cache is full, the whole
 * generation of fragments is flushed at once, without stopping any thread,
 * and its code and records are freed once every thread has been outside
 * the cache since (see docs/ARCHITECTURE.md, "Code cache"). */
#ifndef HOTPATH_EVICT_H
#define HOTPATH_EVICT_H
#include <stdbool.h>

struct hp_thread;

/* Under the lock, in the dispatcher, where t holds no fragment, exit or
 * cache address of an older generation than the one it notes now. True if
 * a flush happened since its last visit: then it must forget what it kept
 * from before (an exit to link, a site to teach, a hot head). */
bool hp_evict_safe_point(struct hp_thread *t);
/* Under the lock, at t's safe point, the cache full: frees what no thread
 * can use any more, or flushes the current generation (*flushed is then
 * set, as when hp_evict_safe_point is true). False when nothing
 * can be done until other threads leave old code (hp_evict_wait), or the
 * cache is empty. */
bool hp_evict_make_room(struct hp_thread *t, bool *flushed);
/* Lets the other threads run a moment (drops the lock and takes it again).
 * Dies with HP_STATUS_CACHE_FULL when the cache is empty: a fragment that
 * does not fit then never will. */
void hp_evict_wait(struct hp_thread *t);
/* Before a system call (without the lock): t uses no code or record of the
 * cache until its next safe point, so it holds up no reclamation. */
void hp_evict_idle(struct hp_thread *t);
/* In a fork child (lock held, one thread left): everything retired goes. */
void hp_evict_after_fork(void);
/* The cache counters of --stats (lock held). */
void hp_evict_stats(void);

#endif
