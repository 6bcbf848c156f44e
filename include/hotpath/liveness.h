/* Liveness of guest registers and flags over an instruction list, backward
 * (the optimizer's second piece). Conservative, so that the guest state is
 * exact wherever the guest can look:
 *   - at the end of the list and before every element that is not a plain
 *     guest instruction (exits, guards, calls, returns): everything is live
 *     (what an exit's target reads is not decoded yet); except the push of
 *     a call inlined in a trace (HP_OP_PUSH_RET), where the path goes on in
 *     the list: it reads rsp only;
 *   - before an instruction that may fault: everything is live (a fault
 *     shows the guest every register);
 *   - an instruction the analysis cannot describe: everything is live.
 * Pure: no global state. */
#ifndef HOTPATH_LIVENESS_H
#define HOTPATH_LIVENESS_H
#include <stdbool.h>
#include <stdint.h>

#include "hotpath/analysis.h"
#include "hotpath/ilist.h"

struct hp_live {
  uint32_t gpr;  /* bit r: guest GPR r (x86 encoding order) */
  uint8_t flags; /* HP_FL_* bits (analysis.h) */
};

#define HP_LIVE_ALL_GPR 0xffffu
#define HP_LIVE_ALL_FLAGS 127u

/* live[i] = what is live just before element i; live[l->n] = at the end
 * (everything). live has l->n + 1 entries. */
void hp_liveness(const struct hp_ilist *l, struct hp_live *live);
/* The same; with fault_sees_all false, an instruction that may fault is
 * treated as any other (what is live is what the code after it reads):
 * for state that only a fault handler could see, such as dead flags. */
void hp_liveness_mode(const struct hp_ilist *l, struct hp_live *live, bool fault_sees_all);
/* hp_liveness_mode with each element's effects analyzed by the caller
 * (hp_analyze_list). */
void hp_liveness_cached(const struct hp_ilist *l, const struct hp_insn_effects *eff, const bool *known,
                        struct hp_live *live, bool fault_sees_all);
/* The same for a loop trace: its back edges (HP_INSN_BACK_EDGE exits,
 * linked to the list's top) see what is live at the top, not everything.
 * eff/known: each element's hp_analyze_insn result and return value, as
 * computed by the caller (NULL: analyzed here). With a promotion attached
 * (l->promo), a promoted slot access that became a register access is not
 * taken to fault. */
void hp_liveness_loop(const struct hp_ilist *l, const struct hp_insn_effects *eff, const bool *known,
                      struct hp_live *live, bool fault_sees_all);

#endif
