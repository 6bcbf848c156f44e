/* Per-instruction effects from Zydis' full operand list and cpu_flags.
 *
 * Where Zydis 4.0 does not say what the hardware does, the code corrects it
 * (each case is covered by tests/golden/analyze_*.in or tests/unit/test_analysis.c):
 *  - push/call/pushfq/enter list their stack store as [rsp] (the address
 *    after the decrement); here it is [rsp-size] in terms of rsp before the
 *    instruction, like every other address. pop [rsp+d] computes its
 *    address after the increment: [rsp+size+d].
 *  - nop r/m (0f 1f, "wide nop") is listed as reading memory and its
 *    register: it reads nothing.
 *  - prefetch is listed as reading memory: it never faults; only its
 *    address registers are read.
 *  - shifts and rotates by an immediate whose masked count is 0 change no
 *    flag (Zydis lists them as written); by 1 they define OF (Zydis lists
 *    it as undefined whatever the count).
 *  - bsf/bsr leave the destination unchanged when the source is 0 (AMD
 *    documents it, Intel CPUs do it): a conditional write. So do tzcnt and
 *    lzcnt on a CPU without them (they run as bsf/bsr: CF undefined too),
 *    and rdssp with shadow stacks off (a nop).
 *  - syscall: Zydis lists no GPR read and rflags as modified (its kernel
 *    side); the guest sees the Linux ABI (see analysis.h).
 *  - ud0/ud1/ud2 have no operands: they fault and do not fall through. */
#include "hotpath/analysis.h"

#include <string.h>
#include <Zydis/Zydis.h>

static bool is_vec_reg(ZydisRegister r)
{
  switch (ZydisRegisterGetClass(r)) {
  case ZYDIS_REGCLASS_X87:
  case ZYDIS_REGCLASS_MMX:
  case ZYDIS_REGCLASS_XMM:
  case ZYDIS_REGCLASS_YMM:
  case ZYDIS_REGCLASS_ZMM:
  case ZYDIS_REGCLASS_TMM:
  case ZYDIS_REGCLASS_MASK:
    return true;
  default:
    return r == ZYDIS_REGISTER_MXCSR || r == ZYDIS_REGISTER_X87CONTROL || r == ZYDIS_REGISTER_X87STATUS ||
           r == ZYDIS_REGISTER_X87TAG;
  }
}

/* The number of an xmm/ymm/zmm register, or -1. */
static int xmm_num(ZydisRegister r)
{
  ZydisRegisterClass c = ZydisRegisterGetClass(r);
  if (c != ZYDIS_REGCLASS_XMM && c != ZYDIS_REGCLASS_YMM && c != ZYDIS_REGCLASS_ZMM)
    return -1;
  return ZydisRegisterGetId(r);
}

static uint8_t flag_bits(ZydisAccessedFlagsMask m)
{
  uint8_t f = 0;
  if (m & ZYDIS_CPUFLAG_CF)
    f |= HP_FL_CF;
  if (m & ZYDIS_CPUFLAG_PF)
    f |= HP_FL_PF;
  if (m & ZYDIS_CPUFLAG_AF)
    f |= HP_FL_AF;
  if (m & ZYDIS_CPUFLAG_ZF)
    f |= HP_FL_ZF;
  if (m & ZYDIS_CPUFLAG_SF)
    f |= HP_FL_SF;
  if (m & ZYDIS_CPUFLAG_OF)
    f |= HP_FL_OF;
  if (m & ZYDIS_CPUFLAG_DF)
    f |= HP_FL_DF;
  return f;
}

static bool is_shift_rotate(ZydisMnemonic m)
{
  switch (m) {
  case ZYDIS_MNEMONIC_SHL:
  case ZYDIS_MNEMONIC_SHR:
  case ZYDIS_MNEMONIC_SAR:
  case ZYDIS_MNEMONIC_ROL:
  case ZYDIS_MNEMONIC_ROR:
  case ZYDIS_MNEMONIC_RCL:
  case ZYDIS_MNEMONIC_RCR:
  case ZYDIS_MNEMONIC_SHLD:
  case ZYDIS_MNEMONIC_SHRD:
    return true;
  default:
    return false;
  }
}

static void gpr_access(struct hp_insn_effects *out, const ZydisDecodedOperand *op, bool cond_dest)
{
  int r = hp_gpr_num(op->reg.value);
  uint32_t bit = 1u << r;
  if (op->actions & ZYDIS_OPERAND_ACTION_MASK_READ)
    out->gpr_read |= bit;
  if (!(op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
    return;
  out->gpr_write |= bit;
  bool full = (op->actions & ZYDIS_OPERAND_ACTION_WRITE) && !cond_dest &&
              ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, op->reg.value) >= 32;
  if (!full) {
    out->gpr_write_partial |= bit;
    out->gpr_read |= bit;
  }
}

/* A memory access; false if its address is not base + index*scale + disp
 * in 64-bit registers (32-bit address size, xlat's al), or a third one. */
static bool mem_access(struct hp_insn_effects *out, const ZydisDecodedInstruction *zi,
                       const ZydisDecodedOperand *op)
{
  const ZydisDecodedOperandMem *m = &op->mem;
  if (out->nmem == 2)
    return false;
  __typeof__(out->mem[0]) *e = &out->mem[out->nmem++];
  e->base = e->index = HP_MEM_NONE;
  e->seg = HP_SEG_FLAT;
  if (m->base == ZYDIS_REGISTER_RIP) {
    e->base = HP_MEM_RIP;
  } else if (m->base != ZYDIS_REGISTER_NONE) {
    if (ZydisRegisterGetClass(m->base) != ZYDIS_REGCLASS_GPR64)
      return false;
    e->base = (uint8_t)hp_gpr_num(m->base);
    out->gpr_read |= 1u << e->base;
  }
  if (m->index != ZYDIS_REGISTER_NONE) {
    if (m->type == ZYDIS_MEMOP_TYPE_VSIB) {
      e->index = HP_MEM_VSIB;
      out->vec_read = true;
      if (xmm_num(m->index) >= 0)
        out->xmm |= 1u << xmm_num(m->index);
    } else if (ZydisRegisterGetClass(m->index) == ZYDIS_REGCLASS_GPR64) {
      e->index = (uint8_t)hp_gpr_num(m->index);
      out->gpr_read |= 1u << e->index;
    } else {
      return false;
    }
    e->scale = m->scale;
  }
  if (m->segment == ZYDIS_REGISTER_FS)
    e->seg = HP_SEG_FS;
  else if (m->segment == ZYDIS_REGISTER_GS)
    e->seg = HP_SEG_GS;
  e->disp = m->disp.value;
  e->size = (uint16_t)(op->size / 8);
  if (zi->meta.category == ZYDIS_CATEGORY_STRINGOP &&
      (zi->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)))
    e->size = 0;
  /* The XSAVE area's extent depends on the state components saved (Zydis
   * gives the legacy 576 bytes; AVX-512 state reaches past 2 KiB). */
  switch (zi->mnemonic) {
  case ZYDIS_MNEMONIC_XSAVE: case ZYDIS_MNEMONIC_XSAVE64: case ZYDIS_MNEMONIC_XSAVEC:
  case ZYDIS_MNEMONIC_XSAVEC64: case ZYDIS_MNEMONIC_XSAVEOPT: case ZYDIS_MNEMONIC_XSAVEOPT64:
  case ZYDIS_MNEMONIC_XSAVES: case ZYDIS_MNEMONIC_XSAVES64: case ZYDIS_MNEMONIC_XRSTOR:
  case ZYDIS_MNEMONIC_XRSTOR64: case ZYDIS_MNEMONIC_XRSTORS: case ZYDIS_MNEMONIC_XRSTORS64:
    e->size = 0;
    break;
  default:
    break;
  }
  e->read = op->actions & ZYDIS_OPERAND_ACTION_MASK_READ;
  e->write = op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
  /* The stack store of push/call/pushfq/enter: Zydis gives [rsp] after the
   * decrement. */
  if (op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN && m->base == ZYDIS_REGISTER_RSP && e->write)
    e->disp -= e->size;
  out->may_fault = true;
  return true;
}

static bool analyze(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *ops,
                    struct hp_insn_effects *out)
{
  memset(out, 0, sizeof *out);
  for (unsigned k = 0; k < 2; k++) {
    out->mem[k].base = out->mem[k].index = HP_MEM_NONE;
    out->mem[k].seg = HP_SEG_FLAT;
  }
  const ZydisMnemonic mn = zi->mnemonic;
  const ZydisInstructionCategory cat = zi->meta.category;
  if (cat == ZYDIS_CATEGORY_NOP || cat == ZYDIS_CATEGORY_WIDENOP)
    return true; /* nop r/m reads nothing */
  if (mn == ZYDIS_MNEMONIC_ENTER && ops[1].imm.value.u != 0)
    return false; /* nesting levels copy frame pointers: not described */
  /* Stores Zydis does not list as memory operands: clzero zeroes the
   * 64-byte line at rax; enqcmd(s) and movdir64b write 64 bytes at the
   * address in their register operand. Not described. */
  if (mn == ZYDIS_MNEMONIC_CLZERO || mn == ZYDIS_MNEMONIC_ENQCMD || mn == ZYDIS_MNEMONIC_ENQCMDS ||
      mn == ZYDIS_MNEMONIC_MOVDIR64B)
    return false;

  /* Destinations that may keep their value: bsf/bsr of 0; tzcnt/lzcnt on
   * a CPU without them (they run as bsf/bsr); rdssp with shadow stacks
   * off (a nop). */
  const bool tzlz = mn == ZYDIS_MNEMONIC_TZCNT || mn == ZYDIS_MNEMONIC_LZCNT;
  const bool cond_dest = mn == ZYDIS_MNEMONIC_BSF || mn == ZYDIS_MNEMONIC_BSR || tzlz ||
                         mn == ZYDIS_MNEMONIC_RDSSPD || mn == ZYDIS_MNEMONIC_RDSSPQ;
  bool flags_cond = false;
  int stack_pop = 0; /* bytes popped before an explicit pop destination's address */
  const ZydisDecodedOperand *imm_count = NULL;
  for (unsigned i = 0; i < zi->operand_count; i++) {
    const ZydisDecodedOperand *op = &ops[i];
    switch (op->type) {
    case ZYDIS_OPERAND_TYPE_REGISTER: {
      ZydisRegister r = op->reg.value;
      if (hp_gpr_num(r) >= 0) {
        gpr_access(out, op, cond_dest && i == 0);
      } else if (is_vec_reg(r)) {
        if (xmm_num(r) >= 0)
          out->xmm |= 1u << xmm_num(r);
        if (op->actions & ZYDIS_OPERAND_ACTION_MASK_READ)
          out->vec_read = true;
        if (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)
          out->vec_write = true;
      } else if (ZydisRegisterGetClass(r) == ZYDIS_REGCLASS_IP) {
        if (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)
          out->control = true;
      } else if (ZydisRegisterGetClass(r) == ZYDIS_REGCLASS_FLAGS) {
        if ((op->actions & ZYDIS_OPERAND_ACTION_CONDWRITE) && !(op->actions & ZYDIS_OPERAND_ACTION_WRITE))
          flags_cond = true;
      }
      break;
    }
    case ZYDIS_OPERAND_TYPE_MEMORY:
      if (op->mem.type == ZYDIS_MEMOP_TYPE_AGEN || cat == ZYDIS_CATEGORY_PREFETCH ||
          cat == ZYDIS_CATEGORY_PREFETCHWT1) {
        int b = hp_gpr_num(op->mem.base), x = hp_gpr_num(op->mem.index);
        if (b >= 0)
          out->gpr_read |= 1u << b;
        if (x >= 0)
          out->gpr_read |= 1u << x;
        break;
      }
      if (!mem_access(out, zi, op))
        return false;
      /* bt/bts/btr/btc with a register bit offset reach up to 2^60 bytes
       * from their operand: extent unknown. */
      if ((mn == ZYDIS_MNEMONIC_BT || mn == ZYDIS_MNEMONIC_BTS || mn == ZYDIS_MNEMONIC_BTR ||
           mn == ZYDIS_MNEMONIC_BTC) &&
          zi->operand_count > 1 && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER)
        out->mem[out->nmem - 1].size = 0;
      if (mn == ZYDIS_MNEMONIC_POP && op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN)
        stack_pop = op->size / 8;
      break;
    case ZYDIS_OPERAND_TYPE_IMMEDIATE:
      imm_count = op; /* the count of a shift (d1 /4: an implicit 1) */
      break;
    default:
      break;
    }
  }
  /* pop [rsp+d]: the address is computed after rsp is incremented. */
  for (unsigned k = 0; k < out->nmem; k++)
    if (mn == ZYDIS_MNEMONIC_POP && out->mem[k].write && out->mem[k].base == 4)
      out->mem[k].disp += stack_pop;

  if (zi->cpu_flags) {
    const ZydisAccessedFlags *f = zi->cpu_flags;
    out->flags_read = flag_bits(f->tested);
    out->flags_undef = flag_bits(f->undefined);
    out->flags_write = flag_bits(f->modified | f->set_0 | f->set_1 | f->undefined);
  }
  if (is_shift_rotate(mn) && imm_count) {
    unsigned mask = zi->operand_width == 64 ? 63 : 31;
    uint64_t count = imm_count->imm.value.u & mask;
    if (count == 0)
      out->flags_write = out->flags_undef = 0;
    else if (count == 1)
      out->flags_undef &= (uint8_t)~HP_FL_OF; /* OF is defined for 1-bit shifts and rotates */
  }
  if (tzlz) /* as bsf/bsr, CF is left undefined */
    out->flags_undef |= (uint8_t)(out->flags_write & HP_FL_CF);
  /* Flags written only under a condition (count in cl may be 0, rep with
   * rcx 0) keep their old values otherwise. */
  if (flags_cond)
    out->flags_read |= out->flags_write;

  if (zi->attributes & (ZYDIS_ATTRIB_FPU_STATE_CR | ZYDIS_ATTRIB_XMM_STATE_CR))
    out->vec_read = true;
  if (zi->attributes & (ZYDIS_ATTRIB_FPU_STATE_CW | ZYDIS_ATTRIB_XMM_STATE_CW))
    out->vec_write = true;
  if (mn == ZYDIS_MNEMONIC_VZEROUPPER || mn == ZYDIS_MNEMONIC_VZEROALL)
    out->vec_read = out->vec_write = true;
  if (mn == ZYDIS_MNEMONIC_VZEROALL || (zi->attributes & (ZYDIS_ATTRIB_XMM_STATE_CR | ZYDIS_ATTRIB_XMM_STATE_CW)))
    out->xmm_all = true;
  if (zi->attributes & ZYDIS_ATTRIB_IS_PRIVILEGED)
    out->may_fault = true;
  if (mn == ZYDIS_MNEMONIC_DIV || mn == ZYDIS_MNEMONIC_IDIV || cat == ZYDIS_CATEGORY_IO)
    out->may_fault = true;
  switch (cat) {
  case ZYDIS_CATEGORY_COND_BR:
  case ZYDIS_CATEGORY_UNCOND_BR:
  case ZYDIS_CATEGORY_CALL:
  case ZYDIS_CATEGORY_RET:
  case ZYDIS_CATEGORY_SYSCALL:
  case ZYDIS_CATEGORY_SYSRET:
    out->control = true;
    break;
  case ZYDIS_CATEGORY_INTERRUPT:
    out->control = out->may_fault = true;
    break;
  default:
    break;
  }
  if (mn == ZYDIS_MNEMONIC_UD0 || mn == ZYDIS_MNEMONIC_UD1 || mn == ZYDIS_MNEMONIC_UD2)
    out->control = out->may_fault = true;
  if (mn == ZYDIS_MNEMONIC_SYSCALL) {
    /* rax, rdi, rsi, rdx, r10, r8, r9 in; rax, rcx, r11 out; rflags saved
     * into r11 and restored on return. */
    out->gpr_read = 1u << 0 | 1u << 7 | 1u << 6 | 1u << 2 | 1u << 10 | 1u << 8 | 1u << 9;
    out->gpr_write = 1u << 0 | 1u << 1 | 1u << 11;
    out->gpr_write_partial = 0;
    out->flags_read = HP_FL_ALL;
    out->flags_write = out->flags_undef = 0;
  }
  return true;
}

bool hp_analyze_bytes(const uint8_t *bytes, size_t len, struct hp_insn_effects *out)
{
  ZydisDecoder dec;
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  if (!len || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, len, &zi, ops)))
    return false;
  return analyze(&zi, ops, out);
}

bool hp_analyze_insn(const struct hp_insn *in, struct hp_insn_effects *out)
{
  if (in->op != HP_OP_GUEST || !in->len)
    return false;
  return hp_analyze_bytes(in->bytes, in->len, out);
}

void hp_analyze_list(const struct hp_ilist *l, struct hp_insn_effects *eff, bool *known)
{
  for (unsigned i = 0; i < l->n; i++)
    known[i] = hp_analyze_insn(&l->v[i], &eff[i]);
}

void hp_live_in(hp_code_fetch fetch, void *ctx, uint64_t pc, unsigned max_insns, uint32_t *gpr, uint8_t *flags,
                uint64_t *lo, uint64_t *hi)
{
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  uint32_t read = 0, written = 0;
  uint8_t fread = 0, fwritten = 0;
  uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
  for (unsigned k = 0; k < max_insns; k++) {
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    struct hp_insn_effects e;
    size_t n = fetch(ctx, pc, buf, sizeof buf);
    if (!n || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, buf, n, &zi, ops)) || !analyze(&zi, ops, &e))
      break;
    *lo = pc < *lo ? pc : *lo;
    *hi = pc + zi.length > *hi ? pc + zi.length : *hi;
    read |= e.gpr_read & ~written;
    fread = (uint8_t)(fread | (e.flags_read & ~fwritten));
    if (e.control) {
      /* Followed: a direct jmp (it reads and writes nothing). */
      if (zi.mnemonic == ZYDIS_MNEMONIC_JMP && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
          ops[0].imm.is_relative) {
        pc += zi.length + (uint64_t)ops[0].imm.value.s;
        continue;
      }
      break;
    }
    written |= e.gpr_write & ~e.gpr_write_partial;
    /* (a flag the ISA leaves undefined may keep its old value on some CPU) */
    fwritten = (uint8_t)(fwritten | (e.flags_write & ~e.flags_undef));
    pc += zi.length;
  }
  *gpr = read | (0xffffu & ~written);
  *flags = (uint8_t)(fread | (HP_FL_ALL & ~fwritten));
}
