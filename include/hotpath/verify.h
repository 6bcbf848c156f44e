/* The optimizer's verifier (--opt-verify): after each pass over a trace
 * (stitching, return-guard removal, promotion, folding, and the
 * unoptimized rebuild), the list and the plans attached to it are checked
 * against what the later passes and the lowering take for granted, so that
 * a pass that breaks the list is caught at that pass, not as a wrong output
 * far away. What it checks (see docs/ARCHITECTURE.md):
 *   - the list: not empty, within its capacity, only elements a trace can
 *     hold, control elements that end it only last;
 *   - each element's bytes decode to its length, as its op kind requires
 *     (a guest element is no control transfer and is marked rip-relative
 *     exactly when it is; an exit_cc is a jcc whose condition and target
 *     agree; a push-ret a direct call that returns to its next pc; a
 *     ret-guard a ret whose imm16 it keeps), its cached decoding matches;
 *   - exits: kinds, targets, back edges only to the head; inlined calls
 *     and their guarded returns nest and pair, at most
 *     HP_TRACE_MAX_OPEN_CALLS deep; flag bits only where they mean something
 *     (return-known pairs, mono, the optimizer's flags in consistent
 *     combinations);
 *   - a promotion: its slots and registers, that no guest instruction or
 *     guard of the trace touches a register it took, every access that
 *     overlaps a slot is that slot promoted, every store (and, with deferred
 *     stores, every load) that could reach a slot is checked (with the
 *     right rbp and flags), counts that the lowering reads;
 *   - a fold plan: its snapshots, rewrites, the elements it removes, and
 *     that everything pending is made exact where the guest can look (exits,
 *     guards, instructions that read it) and stays exact while pending;
 *   - against the list the pass was given: a pass changed only what it may.
 * Pure: no global state (the caller reports and aborts, src/trace/record.c). */
#ifndef HOTPATH_VERIFY_H
#define HOTPATH_VERIFY_H
#include <stdbool.h>

#include "hotpath/ilist.h"

/* The pass that produced the list being verified. */
enum hp_verify_pass {
  HP_VERIFY_STITCH,     /* hp_trace_stitch: no optimizer marks yet */
  HP_VERIFY_RETELIDE,   /* hp_retelide: HP_INSN_RET_KNOWN added only */
  HP_VERIFY_PROMOTE,    /* hp_promote: the optimizer's flags and reg added, l->promo */
  HP_VERIFY_FOLD,       /* hp_fold: the list unchanged, l->fold */
  HP_VERIFY_UNOPTIMIZE, /* the rebuild without the plans: their marks gone */
};
const char *hp_verify_pass_name(enum hp_verify_pass pass);

struct hp_verify_error {
  int elem;       /* the element at fault; -1: the list or a plan as a whole */
  char what[240]; /* what is wrong */
};

/* Checks l as pass left it; before: a copy of the list (elements, n, pc)
 * as the pass received it, to check what the pass changed (NULL: not
 * compared). False with *err filled at the first violation. */
bool hp_verify_trace(const struct hp_ilist *l, const struct hp_ilist *before, enum hp_verify_pass pass,
                     struct hp_verify_error *err);

#endif
