/* Backward liveness over an instruction list (see liveness.h). */
#include "hotpath/liveness.h"

#include "hotpath/analysis.h"

void hp_liveness(const struct hp_ilist *l, struct hp_live *live) { hp_liveness_mode(l, live, true); }

/* A promoted slot access that became a register access: it cannot fault
 * (a write-through store neither: the trace's entry stored every slot the
 * loop writes once, so a stack the guest cannot write faults there). */
static bool in_register(const struct hp_ilist *l, const struct hp_insn *in)
{
  if (!l->promo || !(in->flags & HP_INSN_PROMOTED) || (in->flags & (HP_INSN_ALIAS_CHECK | HP_INSN_PROBE_STORE)))
    return false;
  if (in->zi.mnemonic == ZYDIS_MNEMONIC_DIV || in->zi.mnemonic == ZYDIS_MNEMONIC_IDIV)
    return false; /* a divide error does not need memory */
  return true;
}

/* head: what is live at the list's top, for its back edges (NULL: they
 * are exits like any other). */
static void liveness(const struct hp_ilist *l, struct hp_live *live, bool fault_sees_all, const struct hp_live *head,
                     const struct hp_insn_effects *cache, const bool *known)
{
  struct hp_live cur = {HP_LIVE_ALL_GPR, HP_LIVE_ALL_FLAGS};
  live[l->n] = cur;
  for (unsigned i = l->n; i-- > 0;) {
    struct hp_insn_effects e;
    const struct hp_insn *in = &l->v[i];
    if (head && (in->flags & HP_INSN_BACK_EDGE) && (in->op == HP_OP_EXIT || in->op == HP_OP_EXIT_CC)) {
      /* Linked to the loop's top (unlinked, the exit's path makes every
       * register exact); a conditional one also falls through and reads
       * its condition's flags. */
      if (in->op == HP_OP_EXIT) {
        cur = *head;
      } else {
        uint8_t cc = HP_LIVE_ALL_FLAGS;
        if (in->len && hp_analyze_bytes(in->bytes, in->len, &e))
          cc = e.flags_read;
        cur.gpr |= head->gpr;
        cur.flags = (uint8_t)(cur.flags | head->flags | cc);
      }
      cur.gpr |= 1u << 4;
    } else if (in->op == HP_OP_PUSH_RET) {
      /* An inlined call's push of the return address: the path goes on in
       * the list; it reads and writes rsp only, but its store may fault (a
       * stack overflow). */
      if (fault_sees_all)
        cur = (struct hp_live){HP_LIVE_ALL_GPR, HP_LIVE_ALL_FLAGS};
      cur.gpr |= 1u << 4;
    } else if (!(cache ? (e = cache[i], known[i]) : hp_analyze_insn(&l->v[i], &e)) ||
               (fault_sees_all && e.may_fault && !in_register(l, in)) || e.control) {
      cur = (struct hp_live){HP_LIVE_ALL_GPR, HP_LIVE_ALL_FLAGS};
    } else {
      /* Registers written in full die; partial and conditional writes keep
       * the old value alive (they are in gpr_read too). A flag that may keep
       * its old value is in flags_read as well. */
      cur.gpr = (cur.gpr & ~(e.gpr_write & ~e.gpr_write_partial)) | e.gpr_read;
      cur.flags = (uint8_t)((cur.flags & ~e.flags_write) | e.flags_read);
      cur.gpr |= 1u << 4; /* rsp: the guest stack is always in use */
    }
    live[i] = cur;
  }
}

void hp_liveness_mode(const struct hp_ilist *l, struct hp_live *live, bool fault_sees_all)
{
  liveness(l, live, fault_sees_all, NULL, NULL, NULL);
}

void hp_liveness_cached(const struct hp_ilist *l, const struct hp_insn_effects *eff, const bool *known,
                        struct hp_live *live, bool fault_sees_all)
{
  liveness(l, live, fault_sees_all, NULL, eff, known);
}

void hp_liveness_loop(const struct hp_ilist *l, const struct hp_insn_effects *eff, const bool *known,
                      struct hp_live *live, bool fault_sees_all)
{
  /* From "everything live at the top" down to a fixed point: every step is
   * sound (what it assumed live at the top covers what it found). */
  struct hp_live head = {HP_LIVE_ALL_GPR, HP_LIVE_ALL_FLAGS};
  for (int k = 0; k < 6; k++) {
    liveness(l, live, fault_sees_all, &head, eff, known);
    if (live[0].gpr == head.gpr && live[0].flags == head.flags)
      return;
    head = live[0];
  }
  liveness(l, live, fault_sees_all, NULL, eff, known); /* no fixed point yet: the plain answer */
}
