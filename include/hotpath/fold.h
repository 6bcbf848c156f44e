/* Address folding and copy propagation over an optimized trace (the
 * optimizer pass after promotion; on a trace that promotion leaves alone,
 * not a loop, with calls or lookups, after hp_promote_none: then its
 * store-to-load forwarding and folding of copies and addresses alone). -O0 code computes every address in
 * registers one step at a time (`mov rax, [i]; lea rdx, [rax*4]; mov rax,
 * [a]; add rax, rdx; mov eax, [rax]`); once the slots are in registers the
 * pass keeps such values symbolic, as base + index*scale + disp over machine
 * registers, and folds them into the addressing mode of the access that
 * uses them (`mov eax, [r15+r13*4]`), or a register copy into the
 * instruction that reads it (`cmp r13, r14`).
 *
 * A guest register whose value is symbolic ("pending") holds something
 * else in its machine register. It is made exact (materialized: one lea or
 * mov) before anything reads it that cannot take the expression, before the
 * machine registers of its expression change while the guest can still see
 * it, before every exit other than a side exit, and on the out-of-line path
 * of each side exit. A fault inside the trace rebuilds it from a recovery
 * record (HP_LOC_EXPR). What the pass absorbs can neither fault nor touch
 * memory: register copies, lea, add/sub/shl whose flags are dead and
 * extensions of constants. It
 * also removes instructions whose only effects are dead registers and dead
 * flags (dead-code removal).
 *
 * The pass never changes the list: its result is a plan (struct hp_fold,
 * in ilist.h with the other plans the lowering reads) that it follows while the list's promotion is followed, so an
 * unoptimized rebuild simply ignores it. Pure: no global state. */
#ifndef HOTPATH_FOLD_H
#define HOTPATH_FOLD_H
#include <stdbool.h>
#include <stdint.h>

#include "hotpath/analysis.h"
#include "hotpath/ilist.h"

/* Plans folding for l, which hp_promote marked (l->promo set, or
 * hp_promote_none's empty promotion): true when the plan changes anything
 * (then the lowering follows it through l->fold), false with *why
 * otherwise. eff and known: each element's effects (hp_analyze_list).
 * Elements from end on (l->n: none) are left as they are, every register
 * made exact before the first of them. */
bool hp_fold(const struct hp_ilist *l, struct hp_fold *f, const struct hp_insn_effects *eff, const bool *known,
             unsigned end, const char **why);

#endif
