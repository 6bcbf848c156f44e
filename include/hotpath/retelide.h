/* Return-guard removal: a call inlined in a trace stores its guest return
 * address on the guest stack, and the trace's matching `ret` checks that
 * the address it pops is still the recorded one (a callee may have changed
 * it). When no store between the two can reach that stack slot (every
 * store's address is known relative to the trace's entry rsp and misses
 * it), the check always passes: the pass marks the pair HP_INSN_RET_KNOWN
 * and the lowering leaves the check out (the `ret` only moves rsp).
 * Memory stays exact: the address is still stored.
 *
 * Pure: no global state. */
#ifndef HOTPATH_RETELIDE_H
#define HOTPATH_RETELIDE_H

#include "hotpath/analysis.h"
#include "hotpath/ilist.h"

/* Marks the pairs it proves in l; returns how many. eff/known: each
 * element's effects (hp_analyze_list). */
unsigned hp_retelide(struct hp_ilist *l, const struct hp_insn_effects *eff, const bool *known);

#endif
