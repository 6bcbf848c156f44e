/* Traces (superblocks) from hot paths, NET style: targets of backward
 * direct branches and of trace exits are trace heads; they count
 * their executions in the head's own code (a prologue of the head block);
 * at --hot-threshold the thread records the next path it executes, block by
 * block through private unlinked copies, until it returns to the head,
 * reaches another head or trace, a syscall, or a length cap; the recorded
 * blocks are stitched (stitch.h) into one fragment that shadows the head.
 * All under the translator's lock; recording state is per thread. */
#ifndef HOTPATH_TRACE_H
#define HOTPATH_TRACE_H
#include <stdbool.h>
#include <stdint.h>

struct hp_thread;
struct hp_exit;
struct hp_fragment;

/* The dispatcher is about to go from exit prev (may be NULL) to fragment to:
 * when the edge is a backward branch or a trace exit, to becomes a trace
 * head: a copy of the block whose prologue counts its executions (per
 * thread, in the thread block) shadows it. Returns the fragment to link to
 * and enter. */
struct hp_fragment *hp_trace_edge(struct hp_exit *prev, struct hp_fragment *to);
/* Block f was just built for the dispatcher (under the lock). Links its
 * direct exits whose targets have a fragment already, as the dispatcher
 * would when they are first taken (each costs a round trip through it);
 * an exit that would make its target a trace head is left to the
 * dispatcher, so heads are still made only by edges taken. Then, while the
 * block's successor is certain (its one way out is a direct jmp or call, or
 * the block was cut by a limit) and has no fragment, builds that successor
 * too and links to it, up to a few blocks: code that runs next in any case
 * is translated without leaving the cache in between. */
void hp_trace_build_ahead(struct hp_fragment *f);
/* Only the linking of hp_trace_build_ahead: f's direct exits to the
 * fragments that exist (for blocks built for another process's sake, whose
 * successors this one may never have run, so may not read). */
void hp_trace_link_ahead(struct hp_fragment *f);
/* Head *f of thread t reached the threshold (an HP_EXIT_HOT exit): true when
 * t has started recording (then call hp_trace_record_step with its pc). A
 * head that stays lukewarm is retired: *f becomes its plain block again. */
bool hp_trace_hot(struct hp_thread *t, struct hp_fragment **f);
/* Trace f left through an HP_EXIT_GUARD_MISSES exit (its guards missed
 * HP_TRACE_MISS_LIMIT times in this thread): it is dropped and its head
 * counts again, so that a new trace follows the path now taken (a head
 * whose traces keep being dropped soon after they were built stops being
 * retraced). Under the lock. */
void hp_trace_guard_misses(struct hp_fragment *f);
/* f, an optimized trace, left through HP_EXIT_DEOPT (its entry's frame
 * check failed, or its entry's load of a slot faulted): dropped, and its
 * head's traces are no longer optimized. Under the lock. */
void hp_trace_deopt(struct hp_fragment *f);
/* Trace f left through HP_EXIT_CALLEE_EXITS in thread t: side exits inside
 * one of its inlined calls were taken HP_TRACE_CALLEE_EXIT_LIMIT times
 * there. Each costs a return the CPU's return stack cannot predict (the
 * callee returns outside the trace). If that happened quickly in t, f is
 * dropped and its head's traces end before that call from then on;
 * otherwise t counts afresh. Under the lock. */
void hp_trace_callee_exits(struct hp_thread *t, struct hp_fragment *f);
#define HP_TRACE_CALLEE_EXIT_LIMIT 4096
/* Fills the median and maximum optimizer time per trace into hp_stats
 * (at exit, under the lock). */
void hp_trace_opt_time_stats(void);
#define HP_TRACE_MISS_LIMIT 4096
/* The process is about to have a second thread (call without the lock):
 * from now on no trace is optimized, and the optimized ones are dropped
 * (their heads record them again). A promoted local that another thread
 * writes would never be seen by the loop that keeps it in a register. */
void hp_trace_threads_start(void);
/* The guest's stack [lo, hi): optimized traces keep only slots inside it
 * in registers (checked at their entry). */
void hp_trace_set_stack(uint64_t lo, uint64_t hi);
/* Whether thread t is recording. */
bool hp_trace_recording(const struct hp_thread *t);
/* Recording: the path goes on at pc. Returns the private copy of the block
 * at pc for t to run, or NULL when the recording has ended (the trace was
 * built, or given up): then go on normally. */
struct hp_fragment *hp_trace_record_step(struct hp_thread *t, uint64_t pc);
/* A signal or fault interrupted the recorded path: drop the recording. */
void hp_trace_abort(struct hp_thread *t);
/* Thread t ends: its recording state goes (call without the lock). */
void hp_trace_thread_exit(struct hp_thread *t);
/* Guest code in [lo, hi) was unmapped or changed protection: recordings of
 * any thread that hold it are dropped (their lists are stale). */
void hp_trace_flush_range(uint64_t lo, uint64_t hi);
/* The code cache is flushed (under the lock): every recording is dropped,
 * head ids and every thread's head counters start again, the optimized
 * traces (all in the old generation) are forgotten. */
void hp_trace_flush_all(void);

#endif
