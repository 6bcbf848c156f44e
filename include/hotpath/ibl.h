/* The indirect branch lookup: a shared hash table (guest pc -> cache
 * address) probed by generated code, and each thread's inline direct-mapped
 * table in its thread block. Changed under the lock. */
#ifndef HOTPATH_IBL_H
#define HOTPATH_IBL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Indirect branch lookup table (guest pc -> cache address), in ibl.c. */
struct hp_ibl_entry { uint64_t guest, cache; };
void hp_ibl_init(void);
void hp_ibl_insert(uint64_t guest, uintptr_t cache);
/* The shared table's cache address for guest, 0 if none. */
uintptr_t hp_ibl_find(uint64_t guest);
void hp_ibl_remove(uint64_t guest);
/* Removes guest's entry only if it still maps to cache. */
void hp_ibl_remove_exact(uint64_t guest, uintptr_t cache);
struct hp_thread;
/* The thread's inline direct-mapped table: fill one entry, or empty it all. */
void hp_ibl_fast_insert(struct hp_thread *t, uint64_t guest, uintptr_t cache);
void hp_ibl_fast_clear(struct hp_thread *t);
/* Publishes the table in a thread block (also undoes hp_ibl_block). Both
 * take the lock: call them without it. */
void hp_ibl_attach(struct hp_thread *t);
/* The return table of every thread (thread.h, HP_T_RET_TABLE), under the
 * lock: a continuation's `ret` entry for a guest return address; removal
 * only where the entry is still that one. hp_ret_table_fill gives a new
 * thread the entries published so far (takes the lock). Its index width:
 * hp_ret_table_bits (thread.h). */
void hp_ret_table_insert(uint64_t guest, uintptr_t cache);
void hp_ret_table_remove(uint64_t guest, uintptr_t cache);
void hp_ret_table_fill(struct hp_thread *t);
/* Jump tables of every thread (thread.h, HP_T_JT_TABLE), under the lock:
 * n consecutive entries for one dispatch site (-1: the table is full),
 * taken from a ring and freed by hp_ibl_reclaim with the site's cache
 * generation (hp_ibl_flush_all notes which runs it holds); setting them
 * writes every thread's copy (before the site's fragment is published;
 * after that only hp_jt_table_retarget changes them). hp_jt_table_fill
 * gives a new thread the entries set so far (takes the lock). */
int32_t hp_jt_table_alloc(unsigned n);
/* The longest run hp_jt_table_alloc can hand out now; the entries in use
 * (handed out and not freed). */
unsigned hp_jt_table_room(void);
unsigned hp_jt_table_used(void);
void hp_jt_table_set(uint32_t first, unsigned n, const uintptr_t *cache);
/* The entries of a run that hold from now hold to, in every thread's table
 * (lock held; a signal handler may call it): a slot's exit linked to its
 * case's fragment, or unlinked again. Each entry is one aligned store: a
 * thread dispatching meanwhile takes the old way or the new. Returns how
 * many changed. */
unsigned hp_jt_table_retarget(uint32_t first, unsigned n, uintptr_t from, uintptr_t to);
void hp_jt_table_fill(struct hp_thread *t);
/* An asynchronous signal waits for this thread (lock held, signal handler):
 * its return table becomes inaccessible, so that its next `ret` faults and
 * the thread leaves the cache through the lookup (a return goes to a
 * continuation, whose fragment the handler cannot know). When that fault
 * could not reach hotpath (!can_fault: SIGSEGV blocked in the thread, or
 * ignored), the table is emptied instead (every `ret` misses) and refilled
 * when unblocked. */
void hp_ret_table_block(struct hp_thread *t, bool can_fault);
/* SIGSEGV is now ignored: threads blocked by faults are emptied instead
 * (lock held). */
void hp_ret_table_no_faults(void);
/* Undoes it (lock held): in the fault of that `ret`, or when the thread
 * reaches the dispatcher first (hp_ibl_attach). */
void hp_ret_table_unblock(struct hp_thread *t);
/* A fault at pc on address addr: a `ret`'s probe of a blocked table? Then
 * the table is back and the address of that `ret`'s miss path is returned
 * (takes the lock), else 0. */
uintptr_t hp_ret_table_fault(struct hp_thread *t, uintptr_t pc, uintptr_t addr);
/* A fault at pc: a `ret`'s push of its continuation below the guest's
 * return address (an unmapped or read-only slot, which the native `ret`
 * never writes)? Then the address of that `ret`'s miss path, else 0. */
uintptr_t hp_ret_push_fault(uintptr_t pc);
/* Eviction (under the lock). A flush of generation gen: the shared table
 * is replaced by an empty one, every thread's inline and return tables are
 * emptied. Replaced tables are freed by hp_ibl_reclaim(gen) for their
 * generation (returns the bytes). hp_ibl_forget_old: the thread, at its
 * first dispatcher visit after a flush, empties its inline table again. */
void hp_ibl_flush_all(uint64_t gen);
size_t hp_ibl_reclaim(uint64_t gen);
void hp_ibl_forget_old(struct hp_thread *t);
/* Bytes of the shared lookup tables mapped (fixed overhead). */
size_t hp_ibl_table_bytes(void);
/* Makes every lookup of this thread miss (async-signal safe for its own
 * thread): it then reaches the dispatcher at its next indirect branch. */
void hp_ibl_block(struct hp_thread *t);


#endif
