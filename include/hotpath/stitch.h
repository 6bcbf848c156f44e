/* Trace stitching: the recorded blocks of a hot path (each block's mangled
 * instruction list and the guest pc that ran after it) become one
 * superblock list: the recorded direction of each conditional branch falls
 * through (the other one is a side exit, its condition inverted where
 * needed), direct jumps between recorded blocks disappear, direct calls push
 * the guest return address and go on into the callee, indirect calls and
 * jumps are guarded against the recorded target (a mismatch goes to the
 * lookup), returns from calls inlined in the trace are guarded against the
 * recorded return address, a recursive call (its callee already open in
 * the trace) ends it as a call, a return from a call made before the trace
 * ends it (a real return, so the CPU's return stack stays paired with its
 * call), and the trace ends with an exit to where the path went on (a back
 * edge when that is the head). In a trace that ends with that exit, every
 * side exit to the head is a back edge too (HP_INSN_BACK_EDGE: linked to
 * the trace itself, past an optimized trace's entry); a trace that ends
 * otherwise (a call, a return, a syscall, an unguarded jump) marks none:
 * it is not a loop the optimizer takes (its exits to the head are linked
 * like any other). Pure: no global state. */
#ifndef HOTPATH_STITCH_H
#define HOTPATH_STITCH_H
#include <stdbool.h>
#include <stdint.h>

#include "hotpath/ilist.h"

struct hp_recorded_block {
  const struct hp_insn *v; /* its mangled list */
  unsigned n;
  uint64_t pc, end;        /* guest bytes */
  uint64_t next;           /* the guest pc that ran after it; 0 after an indirect
                              jmp that ends the trace unguarded (the last block) */
};

/* Builds the trace for head into out (capacity: the blocks' elements + 1).
 * Returns false if the recording is inconsistent (a direction that the
 * block cannot take) or does not fit. */
bool hp_trace_stitch(const struct hp_recorded_block *b, unsigned nb, uint64_t head,
                     struct hp_ilist *out);

/* Calls inlined into one trace and open at once, at most. */
#define HP_TRACE_MAX_OPEN_CALLS 32
/* Whether a call to callee, with callees[0, n) inlined and open, is
 * recursive (or too deep): such a call stays a call and ends the trace. */
bool hp_trace_recursive_call(const uint64_t *callees, unsigned n, uint64_t callee);

/* Whether a block with this mangled list may be part of a trace: not code
 * that checks itself (writable), nothing that cannot run. */
bool hp_trace_block_ok(const struct hp_ilist *l);
/* Whether a recording must end after this block (its last element leaves
 * for the dispatcher whatever happens: a syscall, a jrcxz/loop pair). */
bool hp_trace_block_ends(const struct hp_ilist *l);

#endif
