/* Return-guard removal (see retelide.h). */
#include "hotpath/retelide.h"

#include "hotpath/analysis.h"
#include "hotpath/frames.h"

#define RSP 4
#define RBP 5

unsigned hp_retelide(struct hp_ilist *l, const struct hp_insn_effects *eff, const bool *known)
{
  struct hp_frames fr;
  hp_frames_init(&fr);
  unsigned proven = 0, open[64], depth = 0; /* calls not returned yet (they nest) */
  for (unsigned i = 0; i < l->n; i++) {
    struct hp_insn *in = &l->v[i];
    switch (in->op) {
    case HP_OP_EXIT:
    case HP_OP_EXIT_CC:
    case HP_OP_STOP:
    case HP_OP_JMP_IND_GUARD:
      continue; /* leaves the trace, or goes on with the stack as it was */
    case HP_OP_PUSH_RET:
    case HP_OP_CALL_IND_GUARD:
      fr.delta -= 8;
      if (depth == sizeof open / sizeof open[0] || !hp_frames_set(&fr, fr.delta, (struct hp_sym){HP_SYM_RET, (int32_t)i}))
        return proven;
      open[depth++] = i;
      continue;
    case HP_OP_RET_GUARD: {
      if (!depth)
        return proven; /* a return from outside the trace */
      struct hp_sym s = hp_frames_cell(&fr, fr.delta);
      if (s.kind == HP_SYM_RET && (unsigned)s.d == open[--depth]) { /* the call the lowering pairs it with */
        struct hp_insn *call = &l->v[s.d];
        if (call->pc + call->len == in->target) {
          call->flags |= HP_INSN_RET_KNOWN;
          in->flags |= HP_INSN_RET_KNOWN;
          proven++;
        }
      }
      fr.delta += 8 + (int32_t)in->check_len;
      hp_frames_pop(&fr);
      continue;
    }
    case HP_OP_GUEST:
      break;
    default:
      return proven; /* anything else: stop here (later guards stay) */
    }
    if (!known[i] || eff[i].control)
      return proven;
    const struct hp_insn_effects e = eff[i];
    struct hp_frames before = fr;
    if (((e.gpr_write >> RSP) | (e.gpr_write >> RBP)) & 1) {
      if (!hp_frames_track(&fr, in, &e)) {
        if ((e.gpr_write >> RSP) & 1)
          return proven; /* rsp no longer known */
        fr.rbp = (struct hp_sym){HP_SYM_UNKNOWN, 0}; /* rbp as a general register */
      }
    }
    for (unsigned k = 0; k < e.nmem; k++) {
      const struct hp_mem_operand *m = &e.mem[k];
      if (!m->write)
        continue;
      int64_t at;
      if (m->size && m->seg == HP_SEG_FLAT && hp_frames_address(&before, m, &at)) {
        if (in->zi.mnemonic != ZYDIS_MNEMONIC_PUSH) /* a push's cell is what it pushed */
          hp_frames_clobber(&fr, at, m->size);
      } else {
        hp_frames_clobber(&fr, INT32_MIN, (int64_t)UINT32_MAX + 1); /* may be any cell */
      }
    }
  }
  return proven;
}
