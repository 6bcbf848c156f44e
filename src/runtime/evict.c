/* Code cache eviction by generation. A flush (the cache reached
 * --cache-size) removes every fragment of the current generation from every
 * lookup structure and undoes every link, so that threads still running
 * that code reach the dispatcher at their next exit; the units and records
 * are retired, tagged with the generation. Each thread notes the newest
 * generation at its safe point in the dispatcher (holding nothing older);
 * a thread in a system call holds nothing at all. A generation older than
 * every thread's note is unmapped: its units (both views, the owner
 * index), its fragment records, the lookup tables replaced during it. */
#include "hotpath/evict.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hotpath/arena.h"
#include "hotpath/cache.h"
#include "hotpath/fragment.h"
#include "hotpath/ibl.h"
#include "hotpath/log.h"
#include "hotpath/options.h"
#include "hotpath/report.h"
#include "hotpath/stats.h"
#include "hotpath/thread.h"
#include "hotpath/trace.h"

static uint64_t cur_gen = 1;  /* under the lock */
static uint64_t reclaimed;    /* generations <= this are freed */
static bool pending;          /* retired generations not yet freed */
static uint32_t reclaim_seq;  /* bumped when something is freed: waiters wake */

static void oldest(struct hp_thread *t, void *arg)
{
  uint64_t *min = arg, g = __atomic_load_n(&t->cache_gen, __ATOMIC_ACQUIRE);
  if (!__atomic_load_n(&t->cache_idle, __ATOMIC_ACQUIRE) && g < *min)
    *min = g;
}

/* Frees the retired generations no thread can use; true if any. */
static bool reclaim(void)
{
  if (!pending)
    return false;
  uint64_t min = cur_gen;
  hp_thread_foreach(oldest, &min);
  if (min == 0 || min - 1 <= reclaimed)
    return false;
  uint64_t upto = min - 1;
  hp_fs_host(); /* munmap, futex, log */
  unsigned units = 0;
  size_t bytes = hp_cache_reclaim(upto, &units);
  hp_stats.cache_bytes_reclaimed += bytes;
  hp_stats.cache_units_unmapped += units;
  hp_stats.cache_records_reclaimed += hp_arena_gen_reclaim(upto) + hp_ibl_reclaim(upto);
  reclaimed = upto;
  pending = upto + 1 < cur_gen;
  __atomic_add_fetch(&reclaim_seq, 1, __ATOMIC_RELEASE);
  syscall(SYS_futex, &reclaim_seq, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
  HP_INFO("code cache: generations up to %lu freed (%zu bytes of code)", (unsigned long)upto, bytes);
  return true;
}

static void flush(struct hp_thread *self)
{
  uint64_t g = cur_gen;
  hp_report_keep_traces();  /* --report: copies of the traces that ran */
  hp_fragments_flush_all(); /* walks the live units: before they retire */
  hp_ibl_flush_all(g);
  hp_trace_flush_all();
  hp_cache_retire_all(g);
  hp_arena_gen_retire(g);
  cur_gen = g + 1;
  pending = true;
  hp_stats.cache_flushes++;
  HP_INFO("code cache flushed (generation %lu, %zu bytes mapped)", (unsigned long)g, hp_cache_mapped_bytes());
  hp_evict_safe_point(self);
}

bool hp_evict_safe_point(struct hp_thread *t)
{
  __atomic_store_n(&t->cache_idle, false, __ATOMIC_RELEASE);
  if (t->cache_gen == cur_gen)
    return false;
  /* Its own refill may have put an old entry back after the flush emptied
   * its inline table: it is outside the cache now, so this is the last.
   * At a thread's first visit the table is empty, but the first thread's
   * block was mapped whole: its 1 MiB inline table is given back here and
   * faults in as used. Keeping it mapped made sieve-O0 and arrays-O0, whose
   * arrays fault in as they run, about a third slower in half of the runs
   * on the paravirtualized VM (medians of 9: 0.43 -> 0.55 s, 0.39 -> 0.54 s),
   * whether the block was one huge page or small ones (why the guest's
   * faults cost more there is not known). */
  hp_ibl_forget_old(t);
  __atomic_store_n(&t->cache_gen, cur_gen, __ATOMIC_RELEASE);
  reclaim();
  return true;
}

bool hp_evict_make_room(struct hp_thread *t, bool *flushed)
{
  size_t before = hp_cache_mapped_bytes();
  *flushed |= hp_evict_safe_point(t); /* which may free old generations */
  reclaim();
  if (hp_cache_mapped_bytes() < before)
    return true;
  if (hp_cache_retired_bytes())
    return false; /* other threads still run (or may run) old code */
  if (hp_cache_mapped_bytes() == 0)
    return false; /* nothing to flush: the caller's fragment does not fit */
  flush(t);
  *flushed = true;
  reclaim();
  return true;
}

/* A lagging thread in old code may have refilled its inline table from an
 * old shared table while the flush emptied it: empty it again. */
static void clear_lagging(struct hp_thread *t, void *arg)
{
  if (t != arg && !t->cache_idle && t->cache_gen < cur_gen)
    hp_ibl_fast_clear(t);
}

void hp_evict_wait(struct hp_thread *t)
{
  if (!hp_cache_retired_bytes() && !hp_cache_mapped_bytes())
    hp_fatal(HP_STATUS_CACHE_FULL, "--cache-size=%ld: the code cache is too small for the program's code",
             hp_opt.cache_size);
  hp_stats.cache_flush_waits++;
  hp_thread_foreach(clear_lagging, t);
  /* Until something is freed, or 1 ms (lagging threads' inline tables are
   * emptied again then). */
  uint32_t seq = __atomic_load_n(&reclaim_seq, __ATOMIC_ACQUIRE);
  hp_unlock();
  struct timespec ts = {0, 1000000};
  syscall(SYS_futex, &reclaim_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
  hp_lock();
}

void hp_evict_idle(struct hp_thread *t)
{
  __atomic_store_n(&t->cache_idle, true, __ATOMIC_RELEASE);
  if (__atomic_load_n(&pending, __ATOMIC_RELAXED)) {
    hp_lock();
    reclaim();
    hp_unlock();
  }
}

void hp_evict_after_fork(void)
{
  reclaim();
}

void hp_evict_stats(void)
{
  hp_stats.cache_limit = hp_cache_limit();
  hp_stats.cache_mapped_bytes = hp_cache_mapped_bytes();
  hp_stats.cache_mapped_peak = hp_cache_mapped_peak();
  hp_stats.overhead_record_bytes = hp_arena_bytes() + hp_arena_gen_bytes();
  hp_stats.overhead_thread_bytes = hp_thread_bytes();
  hp_stats.overhead_bytes = hp_stats.overhead_record_bytes + hp_stats.overhead_thread_bytes +
                            hp_ibl_table_bytes() + hp_fragment_table_bytes() + hp_cache_pinned_bytes();
}
