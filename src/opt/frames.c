/* Symbolic stack frames of a trace with inlined calls (see frames.h). */
#include "hotpath/frames.h"

#define RSP 4
#define RBP 5

void hp_frames_init(struct hp_frames *f)
{
  f->delta = 0;
  f->rbp = (struct hp_sym){HP_SYM_OUTER, 0};
  f->ncells = 0;
  f->dirty = f->rbp_check = false;
}

struct hp_sym hp_frames_cell(const struct hp_frames *f, int32_t at)
{
  for (unsigned k = 0; k < f->ncells; k++)
    if (f->cell[k].at == at)
      return f->cell[k].v;
  return (struct hp_sym){HP_SYM_UNKNOWN, 0};
}

void hp_frames_clobber(struct hp_frames *f, int64_t at, int64_t size)
{
  for (unsigned k = 0; k < f->ncells; k++)
    if (f->cell[k].at < at + size && at < f->cell[k].at + 8)
      f->cell[k].v.kind = HP_SYM_UNKNOWN;
}

bool hp_frames_set(struct hp_frames *f, int32_t at, struct hp_sym v)
{
  hp_frames_clobber(f, at, 8);
  for (unsigned k = 0; k < f->ncells; k++)
    if (f->cell[k].at == at) {
      f->cell[k].v = v;
      return true;
    }
  if (f->ncells == HP_FRAME_CELLS)
    return false;
  f->cell[f->ncells].at = at;
  f->cell[f->ncells++].v = v;
  return true;
}

void hp_frames_pop(struct hp_frames *f)
{
  unsigned n = 0;
  for (unsigned k = 0; k < f->ncells; k++)
    if (f->cell[k].at >= f->delta)
      f->cell[n++] = f->cell[k];
  f->ncells = n;
}

/* What a guest instruction does to rsp and rbp (push, pop, the prologue's
 * `mov rbp, rsp`, `sub/add rsp, imm`, leave); false for any other change
 * of either (the trace is left alone). */
/* pop rbp (also leave's second half): rbp from the cell at rsp, checked
 * when a store may have changed it and it is the loop's. */
static void pop_rbp(struct hp_frames *f)
{
  f->rbp = hp_frames_cell(f, f->delta);
  f->rbp_check = f->dirty && f->rbp.kind == HP_SYM_OUTER;
  f->delta += 8;
  hp_frames_pop(f);
}

bool hp_frames_track(struct hp_frames *f, const struct hp_insn *in, const struct hp_insn_effects *e)
{
  bool w_rsp = (e->gpr_write >> RSP) & 1, w_rbp = (e->gpr_write >> RBP) & 1;
  f->rbp_check = false;
  if (!w_rsp && !w_rbp)
    return true;
  ZydisDecodedInstruction full;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!hp_insn_operands(in, &full, ops))
    return false;
  switch (full.mnemonic) {
  case ZYDIS_MNEMONIC_PUSH:
    if (w_rbp || full.operand_width != 64)
      return false;
    f->delta -= 8;
    return hp_frames_set(f, f->delta,
                    ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[0].reg.value == ZYDIS_REGISTER_RBP
                        ? f->rbp
                        : (struct hp_sym){HP_SYM_UNKNOWN, 0});
  case ZYDIS_MNEMONIC_POP:
    if (full.operand_width != 64 || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
        ops[0].reg.value == ZYDIS_REGISTER_RSP)
      return false;
    if (ops[0].reg.value != ZYDIS_REGISTER_RBP) {
      f->delta += 8;
      hp_frames_pop(f);
      return true;
    }
    pop_rbp(f);
    return true;
  case ZYDIS_MNEMONIC_LEAVE:
    if (f->rbp.kind != HP_SYM_FRAME)
      return false;
    f->delta = f->rbp.d;
    pop_rbp(f);
    return true;
  case ZYDIS_MNEMONIC_MOV:
    if (w_rsp || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER || ops[0].reg.value != ZYDIS_REGISTER_RBP ||
        ops[1].type != ZYDIS_OPERAND_TYPE_REGISTER || ops[1].reg.value != ZYDIS_REGISTER_RSP)
      return false;
    f->rbp = (struct hp_sym){HP_SYM_FRAME, f->delta};
    return true;
  case ZYDIS_MNEMONIC_SUB:
  case ZYDIS_MNEMONIC_ADD: {
    if (w_rbp || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER || ops[0].reg.value != ZYDIS_REGISTER_RSP ||
        ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
      return false;
    int64_t v = ops[1].imm.value.s;
    if (v < -0x100000 || v > 0x100000)
      return false;
    f->delta += (int32_t)(full.mnemonic == ZYDIS_MNEMONIC_ADD ? v : -v);
    hp_frames_pop(f);
    return true;
  }
  default:
    return false;
  }
}

/* Where a memory operand is, relative to the entry's rsp, when the frame
 * tracking knows (based on rsp, or on rbp while it is a frame of an inlined
 * call); false otherwise. */
bool hp_frames_address(const struct hp_frames *f, const struct hp_mem_operand *m, int64_t *at)
{
  if (m->index != HP_MEM_NONE)
    return false;
  if (m->base == RSP) {
    *at = (int64_t)f->delta + m->disp;
    return true;
  }
  if (m->base == RBP && f->rbp.kind == HP_SYM_FRAME) {
    *at = (int64_t)f->rbp.d + m->disp;
    return true;
  }
  return false;
}

