/* Jump tables at the end of a list (see jumptable.h). */
#include "hotpath/jumptable.h"

#include <string.h>

#include "hotpath/analysis.h"

/* A tail element's operands, decoded once for every index evaluated. */
struct dec {
  bool ok;
  ZydisDecodedInstruction z;
  ZydisDecodedOperand o[ZYDIS_MAX_OPERAND_COUNT];
};

/* Concrete registers while a tail is evaluated for one index. */
struct emu {
  uint64_t v[16];
  uint16_t known;
  const struct hp_jt_mem *m;
  uint64_t lo, hi; /* memory read */
};

static bool reg_read(const struct emu *s, ZydisRegister r, uint64_t *v)
{
  int g = hp_gpr_num(r);
  unsigned w = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r);
  if (g < 0 || !((s->known >> g) & 1) || (w != 32 && w != 64))
    return false;
  *v = w == 64 ? s->v[g] : (uint32_t)s->v[g];
  return true;
}

static bool reg_write(struct emu *s, ZydisRegister r, uint64_t v)
{
  int g = hp_gpr_num(r);
  unsigned w = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r);
  if (g < 0 || g == 4 || (w != 32 && w != 64))
    return false;
  s->v[g] = w == 64 ? v : (uint32_t)v; /* a 32-bit write zero-extends */
  s->known |= (uint16_t)(1u << g);
  return true;
}

static bool address(const struct emu *s, const struct hp_insn *in, const ZydisDecodedOperand *o, uint64_t *a)
{
  if (o->mem.segment != ZYDIS_REGISTER_DS && o->mem.segment != ZYDIS_REGISTER_SS &&
      o->mem.segment != ZYDIS_REGISTER_NONE)
    return false;
  uint64_t x = (uint64_t)o->mem.disp.value, v;
  if (o->mem.base == ZYDIS_REGISTER_RIP)
    x += in->pc + in->len;
  else if (o->mem.base != ZYDIS_REGISTER_NONE) {
    if (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, o->mem.base) != 64 || !reg_read(s, o->mem.base, &v))
      return false;
    x += v;
  }
  if (o->mem.index != ZYDIS_REGISTER_NONE) {
    if (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, o->mem.index) != 64 || !reg_read(s, o->mem.index, &v))
      return false;
    x += v * o->mem.scale;
  }
  *a = x;
  return true;
}

/* A register, immediate or constant-memory source operand of width bits. */
static bool source(struct emu *s, const struct hp_insn *in, const ZydisDecodedOperand *o, unsigned width, uint64_t *v)
{
  switch (o->type) {
  case ZYDIS_OPERAND_TYPE_REGISTER:
    return reg_read(s, o->reg.value, v);
  case ZYDIS_OPERAND_TYPE_IMMEDIATE:
    *v = o->imm.is_signed ? (uint64_t)o->imm.value.s : o->imm.value.u;
    return true;
  case ZYDIS_OPERAND_TYPE_MEMORY: {
    uint64_t a;
    unsigned size = width / 8;
    if (o->mem.type != ZYDIS_MEMOP_TYPE_MEM || (size != 4 && size != 8) || !address(s, in, o, &a) ||
        !s->m->read(s->m->ctx, a, size, v))
      return false;
    if (a < s->lo)
      s->lo = a;
    if (a + size > s->hi)
      s->hi = a + size;
    return true;
  }
  default:
    return false;
  }
}

/* Runs one tail instruction; false if it is not one this evaluator knows
 * or it reads a register without a value. */
static bool step(struct emu *s, const struct hp_insn *in, const struct dec *d)
{
  if (in->op != HP_OP_GUEST || (in->flags & ~HP_INSN_RIPREL) || !d->ok || d->z.address_width != 64)
    return false;
  const ZydisDecodedOperand *o = d->o;
  uint64_t a, b;
  unsigned w = d->z.operand_width;
  if (d->z.mnemonic == ZYDIS_MNEMONIC_CDQE) /* rax = sign-extended eax */
    return reg_read(s, ZYDIS_REGISTER_EAX, &a) && reg_write(s, ZYDIS_REGISTER_RAX, (uint64_t)(int64_t)(int32_t)a);
  if (d->z.operand_count_visible != 2 || o[0].type != ZYDIS_OPERAND_TYPE_REGISTER || (w != 32 && w != 64))
    return false;
  switch (d->z.mnemonic) {
  case ZYDIS_MNEMONIC_MOV:
    return source(s, in, &o[1], w, &a) && reg_write(s, o[0].reg.value, a);
  case ZYDIS_MNEMONIC_MOVSXD:
    return w == 64 && source(s, in, &o[1], 32, &a) && reg_write(s, o[0].reg.value, (uint64_t)(int64_t)(int32_t)a);
  case ZYDIS_MNEMONIC_LEA:
    return o[1].type == ZYDIS_OPERAND_TYPE_MEMORY && address(s, in, &o[1], &a) && reg_write(s, o[0].reg.value, a);
  case ZYDIS_MNEMONIC_ADD:
  case ZYDIS_MNEMONIC_SUB:
    if (!reg_read(s, o[0].reg.value, &a) || o[1].type == ZYDIS_OPERAND_TYPE_MEMORY || !source(s, in, &o[1], w, &b))
      return false;
    return reg_write(s, o[0].reg.value, d->z.mnemonic == ZYDIS_MNEMONIC_ADD ? a + b : a - b);
  case ZYDIS_MNEMONIC_AND:
    if (!reg_read(s, o[0].reg.value, &a) || o[1].type == ZYDIS_OPERAND_TYPE_MEMORY || !source(s, in, &o[1], w, &b))
      return false;
    return reg_write(s, o[0].reg.value, a & b);
  case ZYDIS_MNEMONIC_SHL:
    if (!reg_read(s, o[0].reg.value, &a) || o[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
      return false;
    return reg_write(s, o[0].reg.value, a << (o[1].imm.value.u & (w == 64 ? 63 : 31)));
  default:
    return false;
  }
}

/* The jump: `jmp r64` (not rsp) or `jmp qword [mem]` (a table of
 * absolute addresses). */
static bool jump_ok(const struct hp_insn *in)
{
  ZydisDecodedInstruction z;
  ZydisDecodedOperand o[ZYDIS_MAX_OPERAND_COUNT];
  if (in->op != HP_OP_JMP_IND || !hp_insn_operands(in, &z, o))
    return false;
  if (o[0].type == ZYDIS_OPERAND_TYPE_MEMORY)
    return o[0].size == 64 && o[0].mem.base != ZYDIS_REGISTER_RIP;
  return o[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
         ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, o[0].reg.value) == 64 && hp_gpr_num(o[0].reg.value) != 4;
}

/* Where the jump goes with the registers of s. */
static bool jump_value(struct emu *s, const struct hp_insn *in, const struct dec *d, uint64_t *v)
{
  return d->ok && source(s, in, &d->o[0], 64, v);
}

/* Entries of the table the tail [p, n-1) makes (its elements in the slice
 * that computes the target, then the jump's own operand) for index
 * register idx, the other registers it reads set from vals (given): their
 * count (0: none). d[i - first]: element i's decoding. */
static unsigned evaluate(const struct hp_ilist *l, unsigned p, const bool *slice, int idx, uint16_t given,
                         const uint64_t *vals, const struct hp_jt_mem *m, const struct dec *d, unsigned first,
                         struct hp_jt *out)
{
  unsigned n = 0;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (; n < HP_JT_MAX; n++) {
    struct emu s = {.known = (uint16_t)(given | 1u << idx), .m = m, .lo = lo, .hi = hi};
    for (int g = 0; g < 16; g++)
      if ((given >> g) & 1)
        s.v[g] = vals[g];
    s.v[idx] = n;
    bool ok = true;
    for (unsigned i = p; ok && i + 1 < l->n; i++)
      ok = !slice[i] || step(&s, &l->v[i], &d[i - first]);
    uint64_t t;
    /* (the memory read becomes a guest range of the fragment: a table's
     * address loaded from one mapping and the table in another, far away,
     * made one of terabytes, indexed page by page: a hang) */
    if (!ok || s.hi - s.lo > HP_JT_MEM_SPAN || !jump_value(&s, &l->v[l->n - 1], &d[l->n - 1 - first], &t) ||
        !m->code(m->ctx, t))
      break;
    out->target[n] = t;
    lo = s.lo;
    hi = s.hi;
  }
  out->mem_lo = lo;
  out->mem_hi = hi;
  return n >= 2 && hi > lo ? n : 0;
}

bool hp_jt_find(const struct hp_ilist *l, const uint64_t *regs, bool at_end, const struct hp_jt_mem *m,
                struct hp_jt *out)
{
  /* (a promotion changes the tail's registers; the fold pass alone
   * leaves a tail from its plan's end on as it is) */
  if (!l->n || (l->promo ? !l->promo->fold_only : l->fold != NULL) || !jump_ok(&l->v[l->n - 1]))
    return false;
  struct hp_insn_effects je;
  const struct hp_insn *jmp = &l->v[l->n - 1];
  if (!hp_analyze_bytes(jmp->bytes, jmp->len, &je))
    return false;
  /* Registers written by the elements before each candidate point (from
   * the list's start). */
  uint16_t before[l->n];
  uint16_t w = 0;
  for (unsigned i = 0; i < l->n; i++) {
    before[i] = w;
    struct hp_insn_effects e;
    if (l->v[i].op == HP_OP_GUEST) {
      if (!hp_analyze_insn(&l->v[i], &e))
        w = 0xffff;
      else
        w |= (uint16_t)e.gpr_write;
    } else if (l->v[i].op != HP_OP_HEAD_COUNT && l->v[i].op != HP_OP_CODE_CHECK && i + 1 < l->n) {
      w = 0xffff; /* control inside the list (a trace): values at its start say nothing */
    }
  }
  bool found = false;
  static const struct hp_jt none;
  struct hp_jt best = none, cand;
  bool slice[l->n];
  unsigned first = l->n > HP_JT_TAIL + 1 ? l->n - 1 - HP_JT_TAIL : 0;
  /* Each tail element is decoded once here, not once per index evaluated
   * (up to HP_JT_MAX of them): that made this search a tenth of a big
   * program's start-up. */
  struct dec d[HP_JT_TAIL + 1];
  for (unsigned i = first; i < l->n; i++)
    d[i - first].ok = (l->v[i].op == HP_OP_GUEST || i + 1 == l->n) && hp_insn_operands(&l->v[i], &d[i - first].z,
                                                                                        d[i - first].o);
  for (unsigned p = l->n; p-- > first;) {
    /* The tail [p, n-1): plain instructions that read no flag and do not
     * fault except in the slice that computes the target (the dispatch's
     * compare changes flags: a fault would show them). The slice, from
     * the jump back: the instructions that write a register it needs. */
    uint16_t needed = (uint16_t)je.gpr_read, written = 0;
    bool flags_killed = false, ok = true;
    for (unsigned i = l->n - 1; ok && i-- > p;) {
      struct hp_insn_effects e;
      const struct hp_insn *in = &l->v[i];
      ok = in->op == HP_OP_GUEST && !(in->flags & ~HP_INSN_RIPREL) && hp_analyze_insn(in, &e) && !e.flags_read &&
           !e.control;
      if (!ok)
        break;
      slice[i] = (e.gpr_write & needed) != 0;
      ok = slice[i] || !e.may_fault;
      if (slice[i])
        needed = (uint16_t)((needed & ~(e.gpr_write & ~e.gpr_write_partial)) | e.gpr_read);
      written |= (uint16_t)e.gpr_write;
      /* (every one defined: a flag the ISA leaves undefined may keep the
       * value the dispatch's compare gave it, on some CPU) */
      flags_killed |= (e.flags_write & HP_FL_STATUS) == HP_FL_STATUS && !(e.flags_undef & HP_FL_STATUS);
    }
    if (!ok)
      break; /* an earlier point would include this element too */
    if (needed & (1u << 4))
      continue; /* rsp */
    for (int idx = 0; idx < 16; idx++) {
      if (!((needed >> idx) & 1))
        continue;
      uint16_t others = (uint16_t)(needed & ~(1u << idx));
      unsigned ng = (unsigned)__builtin_popcount(others);
      if (ng > HP_JT_GUARDS || (ng && !regs))
        continue;
      /* The guards' values at p: what regs says, if nothing between
       * changes them. */
      if (ng && (at_end ? written & others : before[p] & others))
        continue;
      cand = none;
      unsigned n = evaluate(l, p, slice, idx, others, regs, m, d, first, &cand);
      if (!n)
        continue;
      /* An index bounded before p (Lua's `op & 0x7f`) needs no compare:
       * such a tail wins (a longer one with the `and` in it has as many
       * cases, its index the unmasked word, every value past 255 to the
       * lookup); among equals, the most entries, then the shortest tail,
       * or one that writes the flags. */
      unsigned bound = hp_jt_index_bound(l, p, idx);
      bool unchecked = bound && bound <= HP_JT_MAX;
      if (found && unchecked != best.unchecked) {
        if (!unchecked)
          continue;
      } else if (n < best.n || (n == best.n && found && !(best.keep_flags && flags_killed))) {
        continue;
      }
      cand.unchecked = unchecked;
      cand.nslots = unchecked && bound > n ? bound : n;
      cand.p = p;
      cand.idx = (uint8_t)idx;
      cand.n = n;
      /* (the guest's flags at a case or at a fault in the tail: a signal
       * handler sees them, even where the case writes them first) */
      cand.keep_flags = !flags_killed;
      cand.nguards = 0;
      for (int g = 0; g < 16; g++)
        if ((others >> g) & 1) {
          cand.guard[cand.nguards] = (uint8_t)g;
          cand.guard_val[cand.nguards++] = regs[g];
        }
      best = cand;
      found = true;
    }
  }
  if (found) {
    best.keep_flags_checked = best.keep_flags;
    if (best.unchecked && !best.nguards)
      best.keep_flags = false; /* no compare: the guest's flags stay as they are */
    *out = best;
  }
  return found;
}

/* A power of two above every value below limit (at most HP_JT_MAX: 0
 * past it). */
static unsigned pow2_bound(uint64_t limit)
{
  unsigned b = 1;
  while (b < limit && b <= HP_JT_MAX)
    b *= 2;
  return b <= HP_JT_MAX ? b : 0;
}

/* Side exit x (the list's element i) after `cmp what, imm` (element i-1,
 * what the walk follows: register reg, or the slot [rbp+slot] of size
 * bytes): the way on, where x is not taken, has what below the returned
 * limit (0: nothing known). `ja` out leaves what <= imm, `jae` out what <
 * imm (unsigned; imm not negative). */
static uint64_t exit_bound(const struct hp_ilist *l, unsigned i, int reg, bool in_slot, int64_t slot, unsigned size)
{
  const struct hp_insn *x = &l->v[i];
  if (!i || (x->cc != 7 && x->cc != 3) || l->v[i - 1].op != HP_OP_GUEST || (l->v[i - 1].flags & ~HP_INSN_RIPREL))
    return 0;
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand o[ZYDIS_MAX_OPERAND_COUNT];
  if (!hp_insn_operands(&l->v[i - 1], &zi, o) || zi.mnemonic != ZYDIS_MNEMONIC_CMP || zi.operand_count_visible != 2 ||
      o[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE || o[1].imm.value.s < 0)
    return 0;
  bool same;
  if (in_slot)
    same = o[0].type == ZYDIS_OPERAND_TYPE_MEMORY && o[0].mem.base == ZYDIS_REGISTER_RBP &&
           o[0].mem.index == ZYDIS_REGISTER_NONE && o[0].mem.disp.value == slot && o[0].size == 8 * size &&
           zi.address_width == 64 && (o[0].mem.segment == ZYDIS_REGISTER_SS || o[0].mem.segment == ZYDIS_REGISTER_NONE);
  else
    same = o[0].type == ZYDIS_OPERAND_TYPE_REGISTER && hp_gpr_num(o[0].reg.value) == reg &&
           ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, o[0].reg.value) >= 32;
  /* (a 32-bit compare bounds the whole register only when its upper half
   * is zero: a 32-bit register the walk reached through a 32-bit write) */
  if (!same || (!in_slot && ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, o[0].reg.value) == 32))
    return 0;
  return x->cc == 7 ? (uint64_t)o[1].imm.value.s + 1 : (uint64_t)o[1].imm.value.s;
}

/* (every bound it finds is at most HP_JT_MAX: below 2^31, so a sign
 * extension of the 32-bit register keeps it) */
unsigned hp_jt_index_bound(const struct hp_ilist *l, unsigned p, int idx)
{
  /* Followed back: a register, or (-O0: `and eax, 31; mov [rbp-4], eax;
   * mov eax, [rbp-4]`) the 4- or 8-byte frame slot [rbp+slot] it was
   * loaded from, up to the store that filled it or a compare of it with a
   * side exit past the bound (-O0 switch in a trace: `cmp qword [rbp-16],
   * 17; ja default; mov rax, [rbp-16]`). */
  int reg = idx;
  bool in_slot = false;
  int64_t slot = 0;
  unsigned size = 0;
  for (unsigned i = p; i-- > 0;) {
    const struct hp_insn *in = &l->v[i];
    if (in->op == HP_OP_EXIT_CC && !(in->flags & HP_INSN_BACK_EDGE)) {
      uint64_t limit = exit_bound(l, i, reg, in_slot, slot, size);
      if (limit)
        return pow2_bound(limit);
      continue; /* a side exit: the way on changes no register */
    }
    if (in->op != HP_OP_GUEST || (in->flags & ~HP_INSN_RIPREL))
      return 0;
    struct hp_insn_effects e;
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand o[ZYDIS_MAX_OPERAND_COUNT];
    if (!hp_analyze_insn(in, &e) || !hp_insn_operands(in, &zi, o))
      return 0;
    if (in_slot) {
      if ((e.gpr_write >> 5) & 1)
        return 0; /* rbp changes: another slot */
      for (unsigned k = 0; k < e.nmem; k++) {
        const struct hp_mem_operand *m = &e.mem[k];
        if (!m->write)
          continue;
        if (zi.mnemonic == ZYDIS_MNEMONIC_MOV && m->base == 5 && m->index == HP_MEM_NONE && m->seg == HP_SEG_FLAT &&
            zi.address_width == 64 && m->disp == slot && m->size == size && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
          reg = hp_gpr_num(o[1].reg.value); /* the store that filled it: its register's bound */
          in_slot = false;
          break;
        }
        if (m->base != 5 || m->index != HP_MEM_NONE || m->seg != HP_SEG_FLAT || !m->size || zi.address_width != 64 ||
            (m->disp < slot + (int64_t)size && slot < m->disp + m->size))
          return 0; /* a store that may reach the slot */
      }
      if (!in_slot && reg < 0)
        return 0;
      continue;
    }
    if (!((e.gpr_write >> reg) & 1))
      continue;
    if (zi.mnemonic == ZYDIS_MNEMONIC_CDQE && reg == 0)
      continue; /* (an int below 2^31: the same value) */
    if (zi.operand_count_visible != 2 || o[0].type != ZYDIS_OPERAND_TYPE_REGISTER || hp_gpr_num(o[0].reg.value) != reg)
      return 0;
    unsigned w = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, o[0].reg.value);
    if (((zi.mnemonic == ZYDIS_MNEMONIC_MOV && w == 32) || (zi.mnemonic == ZYDIS_MNEMONIC_MOVSXD && w == 64)) &&
        o[1].type == ZYDIS_OPERAND_TYPE_REGISTER && hp_gpr_num(o[1].reg.value) == reg &&
        ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, o[1].reg.value) == 32)
      continue; /* mov eax, eax; movsxd rax, eax: the same value (below 2^31) */
    if (zi.mnemonic == ZYDIS_MNEMONIC_MOV && (w == 32 || w == 64) && o[1].type == ZYDIS_OPERAND_TYPE_MEMORY &&
        o[1].mem.base == ZYDIS_REGISTER_RBP && o[1].mem.index == ZYDIS_REGISTER_NONE && o[1].size == w &&
        zi.address_width == 64 && (o[1].mem.segment == ZYDIS_REGISTER_SS || o[1].mem.segment == ZYDIS_REGISTER_NONE)) {
      in_slot = true; /* loaded from a local: what was stored there */
      slot = o[1].mem.disp.value;
      size = w / 8;
      continue;
    }
    if (zi.mnemonic == ZYDIS_MNEMONIC_MOVZX && w >= 32 && o[1].size == 8)
      return 256;
    if (zi.mnemonic == ZYDIS_MNEMONIC_AND && w >= 32 && o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
        o[1].imm.value.s >= 0 && o[1].imm.value.s < HP_JT_MAX)
      return pow2_bound((uint64_t)o[1].imm.value.s + 1);
    return 0;
  }
  return 0;
}

/* An instruction a skipped tail may hold: integer moves and arithmetic on
 * general registers (their effects are registers and flags, which the
 * cases' liveness covers; nothing else a case could read): no segment,
 * control or debug register operand (`mov` names those too), no lock. */
static bool tail_plain(const struct hp_insn *in)
{
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!hp_insn_operands(in, &zi, ops) || (zi.attributes & ZYDIS_ATTRIB_HAS_LOCK))
    return false;
  for (unsigned k = 0; k < zi.operand_count; k++) {
    if (ops[k].type != ZYDIS_OPERAND_TYPE_REGISTER)
      continue;
    ZydisRegisterClass c = ZydisRegisterGetClass(ops[k].reg.value);
    if (c != ZYDIS_REGCLASS_GPR8 && c != ZYDIS_REGCLASS_GPR16 && c != ZYDIS_REGCLASS_GPR32 &&
        c != ZYDIS_REGCLASS_GPR64 && c != ZYDIS_REGCLASS_FLAGS)
      return false;
  }
  switch (zi.mnemonic) {
  case ZYDIS_MNEMONIC_MOV:
  case ZYDIS_MNEMONIC_MOVSX:
  case ZYDIS_MNEMONIC_MOVSXD:
  case ZYDIS_MNEMONIC_MOVZX:
  case ZYDIS_MNEMONIC_CDQE:
  case ZYDIS_MNEMONIC_CWDE:
  case ZYDIS_MNEMONIC_LEA:
  case ZYDIS_MNEMONIC_ADD:
  case ZYDIS_MNEMONIC_SUB:
  case ZYDIS_MNEMONIC_AND:
  case ZYDIS_MNEMONIC_OR:
  case ZYDIS_MNEMONIC_XOR:
  case ZYDIS_MNEMONIC_SHL:
  case ZYDIS_MNEMONIC_SHR:
  case ZYDIS_MNEMONIC_SAR:
  case ZYDIS_MNEMONIC_NOT:
  case ZYDIS_MNEMONIC_NEG:
  case ZYDIS_MNEMONIC_INC:
  case ZYDIS_MNEMONIC_DEC:
    return true;
  default:
    return false;
  }
}

#define DEAD_TAIL_CASE_SPAN 4096 /* bytes one case's walk may decode */
#define DEAD_TAIL_SPAN 65536     /* the hull of the marked cases' code: a fragment's guest range */

unsigned hp_jt_dead_tails(const struct hp_ilist *l, struct hp_jt *jt, hp_code_fetch fetch, void *ctx)
{
  uint32_t w = 0;
  uint8_t fw = 0;
  for (unsigned i = jt->p; i + 1 < l->n; i++) {
    struct hp_insn_effects e;
    if (!hp_analyze_insn(&l->v[i], &e) || !tail_plain(&l->v[i]) || e.vec_write || e.xmm || e.xmm_all)
      return 0;
    for (unsigned k = 0; k < e.nmem; k++)
      if (e.mem[k].write)
        return 0; /* (a tail only computes; a store could not be skipped) */
    w |= e.gpr_write;
    fw = (uint8_t)(fw | e.flags_write);
  }
  /* (the dispatch's compares: the index's unless unchecked, the guards') */
  bool compares = !jt->unchecked || jt->nguards;
  uint8_t fneed = (uint8_t)(fw | (jt->keep_flags || !compares ? 0 : HP_FL_STATUS));
  if (!w && !fneed)
    return 0; /* nothing to skip (jmp [T+idx*8]) */
  unsigned marked = 0;
  uint64_t lo = UINT64_MAX, hi = 0; /* the marked cases' code */
  for (unsigned k = 0; k < jt->n; k++) {
    unsigned same = 0;
    while (jt->target[same] != jt->target[k])
      same++;
    if (same < k) {
      jt->tail_dead[k] = jt->tail_dead[same];
    } else {
      uint32_t gpr;
      uint8_t flags;
      uint64_t clo = UINT64_MAX, chi = 0;
      hp_live_in(fetch, ctx, jt->target[k], 32, &gpr, &flags, &clo, &chi);
      uint64_t nlo = clo < lo ? clo : lo, nhi = chi > hi ? chi : hi;
      /* (a walk that went far, or cases far apart: the fragment would
       * count too much code as its own) */
      jt->tail_dead[k] = !(gpr & w) && !(flags & fneed) && chi > clo && chi - clo <= DEAD_TAIL_CASE_SPAN &&
                         nhi - nlo <= DEAD_TAIL_SPAN;
      if (jt->tail_dead[k]) {
        lo = nlo;
        hi = nhi;
      }
    }
    marked += jt->tail_dead[k];
  }
  if (marked) {
    jt->code_lo = lo;
    jt->code_hi = hi;
  }
  return marked;
}
