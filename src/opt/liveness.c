/* Backward liveness over an instruction list (see liveness.h). */
#include "hotpath/liveness.h"

#include "hotpath/analysis.h"

void hp_liveness(const struct hp_ilist *l, struct hp_live *live) { hp_liveness_mode(l, live, true); }

void hp_liveness_mode(const struct hp_ilist *l, struct hp_live *live, bool fault_sees_all)
{
  struct hp_live cur = {HP_LIVE_ALL_GPR, HP_LIVE_ALL_FLAGS};
  live[l->n] = cur;
  for (unsigned i = l->n; i-- > 0;) {
    struct hp_insn_effects e;
    if (l->v[i].op == HP_OP_PUSH_RET) {
      /* An inlined call's push of the return address: the path goes on in
       * the list; it reads and writes rsp only. */
      cur.gpr |= 1u << 4;
    } else if (!hp_analyze_insn(&l->v[i], &e) || (fault_sees_all && e.may_fault) || e.control) {
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
