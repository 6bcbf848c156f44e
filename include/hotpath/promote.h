/* Register promotion of frame slots in loop traces (the optimizer's first
 * transforming pass). -O0 code keeps every local in a stack slot [rbp+d] and
 * reloads it for every statement, so a loop's values go through memory;
 * this pass keeps the slots a loop trace uses in machine registers that the
 * trace does not touch (see struct hp_promotion in ilist.h for what the
 * lowering does with them).
 *
 * A slot is promoted when it lies below the loop's rbp (a local of an -O0
 * frame), every access to its bytes is [rbp+d] at the same size (4 or 8) by
 * an instruction whose memory operand can be a register (mov, ALU, shifts,
 * multiply, divide, extensions, conversions; scalar SSE for xmm slots), and
 * no address of the frame that the trace computes (lea [rbp+..],
 * [rbp+index*s+..]) lies inside the slots' hull. rbp and rsp are followed
 * through calls inlined with their returns (frames.h); anything else that
 * changes them, real calls, lookups and writable code leave the trace
 * alone. Every other store (and, with deferred stores, every other load
 * that may reach the slots) gets a run-time check against the hull. The
 * caller runs it only while the process has one thread.
 *
 * Pure: no global state. */
#ifndef HOTPATH_PROMOTE_H
#define HOTPATH_PROMOTE_H
#include <stdbool.h>

#include "hotpath/analysis.h"
#include "hotpath/ilist.h"

/* Chooses slots and registers for l (a stitched trace), marks its
 * elements (HP_INSN_PROMOTED with reg, HP_INSN_ALIAS_CHECK) and fills p;
 * avoid: registers the caller reserves; defer: stores of slots may be
 * deferred to the exits (struct hp_promotion .deferred) when that saves
 * more stores than it adds checked loads. like (NULL: none): the plan of
 * the loop trace whose head l ends at; l then takes that plan as it is
 * (.side: the same slots in the same registers, the same entry checks,
 * stores written through) or is left alone, and need not be a loop.
 * l->jt_tail (set by the caller: the first element of the tail of the
 * jump table its final `jmp` dispatches through) makes l a dispatch
 * (struct hp_promotion .dispatch), which need not be a loop either: its
 * cases come back to its head; l->ahead (NULL: none) is their code, whose
 * slots, frame addresses and registers the plan takes into account.
 * eff/known: each element's effects (hp_analyze_list). Returns false, with *why set and
 * l unchanged, when nothing is promoted. */
bool hp_promote(struct hp_ilist *l, struct hp_promotion *p, unsigned avoid, bool defer,
                const struct hp_promotion *like, const struct hp_insn_effects *eff, const bool *known,
                const char **why);

/* Attaches an empty promotion to l (which hp_promote left alone), for the
 * fold pass alone (struct hp_promotion .fold_only): no slot, no register
 * taken, no entry code or checks. */
void hp_promote_none(struct hp_ilist *l, struct hp_promotion *p);

#endif
