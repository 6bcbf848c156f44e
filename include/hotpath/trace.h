/* Traces (superblocks) from hot paths, NET style: targets of backward
 * direct branches and of trace exits are trace heads; the dispatcher counts
 * their executions (it does not link into a head until its trace exists);
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
 * marks to a trace head when the edge is a backward branch or a trace exit.
 * Returns true when the edge may be linked (false: to is a head that is
 * still being counted). */
bool hp_trace_edge(struct hp_exit *prev, struct hp_fragment *to);
/* The dispatcher enters head block f of thread t: counts it; true when t
 * has started recording (then call hp_trace_record_step with f's pc). */
bool hp_trace_count(struct hp_thread *t, struct hp_fragment *f);
/* Whether thread t is recording. */
bool hp_trace_recording(const struct hp_thread *t);
/* Recording: the path goes on at pc. Returns the private copy of the block
 * at pc for t to run, or NULL when the recording has ended (the trace was
 * built, or given up): then go on normally. */
struct hp_fragment *hp_trace_record_step(struct hp_thread *t, uint64_t pc);
/* A signal or fault interrupted the recorded path: drop the recording. */
void hp_trace_abort(struct hp_thread *t);

#endif
