/* Decode stage: guest bytes -> instruction list. Instructions are decoded
 * without their operand arrays (length and class are all most need); the few
 * that need operands decode them again from their bytes. */
#include <string.h>

#include "hotpath/ilist.h"

static void init_decoder(ZydisDecoder *d)
{
  ZydisDecoderInit(d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

static bool is_riprel(const ZydisDecodedInstruction *in)
{
  return (in->attributes & ZYDIS_ATTRIB_HAS_MODRM) && in->raw.modrm.mod == 0 && in->raw.modrm.rm == 5;
}

static uint64_t rel_target(const ZydisDecodedInstruction *in, uint64_t pc)
{
  return pc + in->length + (uint64_t)in->raw.imm[0].value.s;
}

/* GS is hotpath's thread block: guest code that reads through it or changes
 * it cannot run as it is. Checked on raw opcodes (no operand decoding). */
static bool touches_gs(const ZydisDecodedInstruction *in)
{
  if (in->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_GS)
    return true;
  switch (in->mnemonic) {
  case ZYDIS_MNEMONIC_WRGSBASE:
  case ZYDIS_MNEMONIC_RDGSBASE:
  case ZYDIS_MNEMONIC_SWAPGS:
  case ZYDIS_MNEMONIC_LGS:
    return true;
  case ZYDIS_MNEMONIC_MOV: /* mov gs, r/m16: 8E /5 */
    return in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && in->opcode == 0x8e && in->raw.modrm.reg == 5;
  case ZYDIS_MNEMONIC_POP: /* pop gs: 0F A9 */
    return in->opcode_map == ZYDIS_OPCODE_MAP_0F && in->opcode == 0xa9;
  default:
    return false;
  }
}

/* Instructions that end the program or trap natively: run them as they are
 * (the fault happens in the cache with the same signal), then stop. */
static bool is_trap(const ZydisDecodedInstruction *in)
{
  switch (in->mnemonic) {
  case ZYDIS_MNEMONIC_INT3:
  case ZYDIS_MNEMONIC_INT:
  case ZYDIS_MNEMONIC_INT1:
  case ZYDIS_MNEMONIC_INTO:
  case ZYDIS_MNEMONIC_UD0:
  case ZYDIS_MNEMONIC_UD1:
  case ZYDIS_MNEMONIC_UD2:
  case ZYDIS_MNEMONIC_HLT:
    return true;
  default:
    return false;
  }
}

/* The element kind of a decoded instruction; HP_OP_STOP for control
 * transfers hotpath does not translate (sysenter, iret, xbegin: exit kind
 * HP_EXIT_UNSUPPORTED_INSN) and for far transfers through memory and far
 * returns, which the dispatcher performs (HP_EXIT_FAR), and for `int 0x80`,
 * which it vets and performs (HP_EXIT_INT80). The direct far
 * forms (ea, 9a) are invalid in 64-bit mode: Zydis does not decode them
 * (SIGILL, as natively). */
static unsigned classify(const ZydisDecodedInstruction *in, uint64_t pc, struct hp_insn *out)
{
  if (touches_gs(in))
    return HP_OP_STOP;
  switch (in->mnemonic) {
  case ZYDIS_MNEMONIC_JMP:
    if (in->raw.imm[0].is_relative) {
      out->target = rel_target(in, pc);
      return HP_OP_GUEST_JMP;
    }
    if (in->raw.modrm.reg == 5 && in->opcode == 0xff && in->raw.modrm.mod != 3) {
      out->exit_kind = HP_EXIT_FAR; /* jmp far [m] */
      return HP_OP_STOP;
    }
    if (in->operand_count_visible != 1 || in->raw.modrm.reg == 5 || in->opcode == 0xea)
      return HP_OP_STOP;
    /* Through memory without an index (PLT stubs, pointers in structs):
     * usually one target. Jump tables and `jmp reg` have many. */
    if (in->raw.modrm.mod != 3 &&
        !((in->attributes & ZYDIS_ATTRIB_HAS_SIB) && (in->raw.sib.index != 4 || in->raw.rex.X)))
      out->flags |= HP_INSN_MONO;
    return HP_OP_GUEST_JMP_IND;
  case ZYDIS_MNEMONIC_CALL:
    if (in->raw.imm[0].is_relative) {
      out->target = rel_target(in, pc);
      return HP_OP_GUEST_CALL;
    }
    if (in->raw.modrm.reg == 3 && in->opcode == 0xff && in->raw.modrm.mod != 3) {
      out->exit_kind = HP_EXIT_FAR; /* call far [m] */
      return HP_OP_STOP;
    }
    if (in->raw.modrm.reg == 3 || in->opcode == 0x9a)
      return HP_OP_STOP;
    return HP_OP_GUEST_CALL_IND;
  case ZYDIS_MNEMONIC_RET:
    if (in->opcode != 0xc3 && in->opcode != 0xc2) {
      if (in->opcode == 0xcb || in->opcode == 0xca)
        out->exit_kind = HP_EXIT_FAR; /* far return */
      return HP_OP_STOP;
    }
    out->target = in->opcode == 0xc2 ? (uint16_t)in->raw.imm[0].value.u : 0;
    return HP_OP_GUEST_RET;
  case ZYDIS_MNEMONIC_JRCXZ:
  case ZYDIS_MNEMONIC_JECXZ:
  case ZYDIS_MNEMONIC_LOOP:
  case ZYDIS_MNEMONIC_LOOPE:
  case ZYDIS_MNEMONIC_LOOPNE:
    out->target = rel_target(in, pc);
    return HP_OP_GUEST_RCX_BRANCH;
  case ZYDIS_MNEMONIC_SYSCALL:
    return HP_OP_GUEST_SYSCALL;
  case ZYDIS_MNEMONIC_INT:
    if (in->raw.imm[0].value.u == 0x80) {
      out->exit_kind = HP_EXIT_INT80; /* a 32-bit system call: vetted by the dispatcher */
      return HP_OP_STOP;
    }
    return HP_OP_GUEST_TRAP;
  case ZYDIS_MNEMONIC_IRET:
  case ZYDIS_MNEMONIC_IRETD:
  case ZYDIS_MNEMONIC_IRETQ:
  case ZYDIS_MNEMONIC_SYSENTER:
  case ZYDIS_MNEMONIC_SYSEXIT:
  case ZYDIS_MNEMONIC_SYSRET:
  case ZYDIS_MNEMONIC_XBEGIN:
    return HP_OP_STOP;
  default:
    if (in->meta.category == ZYDIS_CATEGORY_COND_BR) {
      out->target = rel_target(in, pc);
      out->cc = in->opcode & 15; /* 7x rel8 and 0F 8x rel32 alike */
      return HP_OP_GUEST_JCC;
    }
    if (in->meta.category == ZYDIS_CATEGORY_UNCOND_BR || in->meta.category == ZYDIS_CATEGORY_CALL ||
        in->meta.category == ZYDIS_CATEGORY_RET || in->meta.category == ZYDIS_CATEGORY_SYSCALL ||
        in->meta.category == ZYDIS_CATEGORY_SYSRET)
      return HP_OP_STOP;
    if (is_trap(in))
      return HP_OP_GUEST_TRAP;
    if (is_riprel(in))
      out->flags |= HP_INSN_RIPREL;
    return HP_OP_GUEST;
  }
}

static struct hp_insn *append(struct hp_ilist *l, uint64_t pc)
{
  struct hp_insn *in = &l->v[l->n++];
  memset(in, 0, offsetof(struct hp_insn, zi));
  in->pc = pc;
  return in;
}

/* Whether the instruction may write memory (any operand, hidden ones too:
 * push, string stores). */
static bool writes_memory(const struct hp_insn *in)
{
  ZydisDecodedInstruction full;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!hp_insn_operands(in, &full, ops))
    return true;
  for (unsigned i = 0; i < full.operand_count; i++)
    if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
        ops[i].mem.type != ZYDIS_MEMOP_TYPE_AGEN)
      return true;
  return false;
}

unsigned hp_decode_block(const uint8_t *bytes, size_t avail, uint64_t pc,
                         const struct hp_decode_limits *lim, struct hp_ilist *out)
{
  ZydisDecoder dec;
  init_decoder(&dec);
  out->n = 0;
  out->pc = pc;
  size_t off = 0;
  unsigned ninsn = 0;
  while (ninsn < lim->max_insns && off < lim->max_bytes && off < avail && out->n < out->cap) {
    struct hp_insn *in = append(out, pc + off);
    ZyanStatus st = ZydisDecoderDecodeInstruction(&dec, NULL, bytes + off, avail - off, &in->zi);
    if (st == ZYDIS_STATUS_NO_MORE_DATA && off) {
      /* Past its bytes (the end of an executable region): the block ends
       * before it, and the one that starts at it is decoded from there,
       * across into the next region if that one is executable too (a
       * different protection is a region of its own), or stops there as
       * natively, at that instruction's own pc. */
      out->n--;
      break;
    }
    if (!ZYAN_SUCCESS(st)) {
      in->op = HP_OP_STOP;
      in->exit_kind = st == ZYDIS_STATUS_NO_MORE_DATA ? HP_EXIT_NO_EXEC : HP_EXIT_BAD_INSN;
      break;
    }
    in->len = in->zi.length;
    memcpy(in->bytes, bytes + off, in->len);
    in->op = (uint8_t)classify(&in->zi, in->pc, in);
    ninsn++;
    if (in->op == HP_OP_STOP) {
      if (in->exit_kind != HP_EXIT_FAR && in->exit_kind != HP_EXIT_INT80)
        in->exit_kind = HP_EXIT_UNSUPPORTED_INSN;
      break;
    }
    off += in->len;
    if (in->op != HP_OP_GUEST || (lim->stop_after_store && writes_memory(in)))
      break;
  }
  out->end = pc + off;
  return ninsn;
}

bool hp_insn_operands(const struct hp_insn *in, ZydisDecodedInstruction *full,
                      ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT])
{
  ZydisDecoder dec;
  init_decoder(&dec);
  return in->len && ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, in->bytes, in->len, full, ops));
}

void hp_ilist_pair_calls(const struct hp_ilist *l, unsigned *pair)
{
  unsigned stack[l->n ? l->n : 1], depth = 0;
  memset(pair, 0, sizeof *pair * l->n);
  for (unsigned i = 0; i < l->n; i++) {
    unsigned op = l->v[i].op;
    if (op == HP_OP_PUSH_RET || op == HP_OP_CALL_IND_GUARD) {
      stack[depth++] = i;
    } else if (op == HP_OP_RET_GUARD && depth) {
      unsigned c = stack[--depth];
      pair[c] = i + 1;
      pair[i] = c + 1;
    }
  }
}

int hp_gpr_num(ZydisRegister r)
{
  switch (ZydisRegisterGetClass(r)) {
  case ZYDIS_REGCLASS_GPR8:
  case ZYDIS_REGCLASS_GPR16:
  case ZYDIS_REGCLASS_GPR32:
  case ZYDIS_REGCLASS_GPR64: {
    int n = (int)ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r) - (int)ZYDIS_REGISTER_RAX;
    return n >= 0 && n < 16 ? n : -1;
  }
  default:
    return -1;
  }
}

bool hp_decode_one(const uint8_t *bytes, size_t len, ZydisDecodedInstruction *zi)
{
  ZydisDecoder dec;
  init_decoder(&dec);
  return ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, bytes, len, zi)) && zi->length == len;
}

bool hp_op_ends_block(const struct hp_insn *in)
{
  switch (in->op) {
  case HP_OP_GUEST:
  case HP_OP_EXIT_CC:
  case HP_OP_CODE_CHECK:
  case HP_OP_PUSH_RET:
  case HP_OP_CALL_IND_GUARD:
  case HP_OP_JMP_IND_GUARD:
  case HP_OP_RET_GUARD:
  case HP_OP_HEAD_COUNT:
    return false;
  default:
    return true;
  }
}

unsigned hp_op_exit_count(const struct hp_insn *in)
{
  switch (in->op) {
  case HP_OP_EXIT:
  case HP_OP_EXIT_CC:
  case HP_OP_STOP:
  case HP_OP_CODE_CHECK:
  case HP_OP_HEAD_COUNT:
  case HP_OP_PUSH_RET:       /* the continuation of a call whose return is not inlined */
  case HP_OP_CALL_IND_GUARD:
    return 1;
  case HP_OP_CALL:
  case HP_OP_RCX_BRANCH:
    return 2;
  case HP_OP_CALL_IND:
    return 3; /* continuation, inline-cache hit, learn */
  case HP_OP_JMP_IND:
    return in->flags & HP_INSN_MONO ? 2 : 0;
  default:
    return 0;
  }
}

const char *hp_op_name(unsigned op)
{
  static const char *const names[HP_OP_COUNT_] = {
      [HP_OP_GUEST] = "guest",         [HP_OP_GUEST_JMP] = "g.jmp",
      [HP_OP_GUEST_JCC] = "g.jcc",     [HP_OP_GUEST_JMP_IND] = "g.jmp-ind",
      [HP_OP_GUEST_CALL] = "g.call",   [HP_OP_GUEST_CALL_IND] = "g.call-ind",
      [HP_OP_GUEST_RET] = "g.ret",     [HP_OP_GUEST_RCX_BRANCH] = "g.rcx-branch",
      [HP_OP_GUEST_SYSCALL] = "g.syscall", [HP_OP_GUEST_TRAP] = "g.trap",
      [HP_OP_EXIT] = "exit",           [HP_OP_EXIT_CC] = "exit-cc",
      [HP_OP_CALL] = "call",           [HP_OP_CALL_IND] = "call-ind",
      [HP_OP_JMP_IND] = "jmp-ind",     [HP_OP_RET] = "ret",
      [HP_OP_RCX_BRANCH] = "rcx-branch", [HP_OP_CODE_CHECK] = "code-check",
      [HP_OP_STOP] = "stop",           [HP_OP_PUSH_RET] = "push-ret",
      [HP_OP_CALL_IND_GUARD] = "call-ind-guard", [HP_OP_JMP_IND_GUARD] = "jmp-ind-guard",
      [HP_OP_RET_GUARD] = "ret-guard", [HP_OP_HEAD_COUNT] = "head-count",
  };
  return op < HP_OP_COUNT_ && names[op] ? names[op] : "?";
}

static const char *exit_name(unsigned k)
{
  static const char *const names[] = {"branch", "syscall", "ibl-miss", "bad-insn", "no-exec",
                                      "stale", "unsupported", "fault", "predict", "learn", "hot",
                                      "guard-misses", "deopt", "far", "int80"};
  return k < sizeof names / sizeof names[0] ? names[k] : "?";
}

const char *hp_promo_reg_name(unsigned reg)
{
  static const char *const names[HP_PROMO_XMM + 16] = {
      "rax",  "rcx",  "rdx",  "rbx",   "rsp",   "rbp",   "rsi",   "rdi",   "r8",    "r9",    "r10",
      "r11",  "r12",  "r13",  "r14",   "r15",   "xmm0",  "xmm1",  "xmm2",  "xmm3",  "xmm4",  "xmm5",
      "xmm6", "xmm7", "xmm8", "xmm9",  "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"};
  return reg < HP_PROMO_XMM + 16 ? names[reg] : "?";
}

unsigned hp_format_insn(const uint8_t *bytes, size_t max, uint64_t pc, bool att, char *out, size_t cap)
{
  ZydisDecoder dec;
  init_decoder(&dec);
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, max, &in, ops)))
    return 0;
  ZydisFormatter fmt;
  ZydisFormatterInit(&fmt, att ? ZYDIS_FORMATTER_STYLE_ATT : ZYDIS_FORMATTER_STYLE_INTEL);
  if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&fmt, &in, ops, in.operand_count_visible, out, cap, pc, NULL)))
    return 0;
  return in.length;
}

void hp_ilist_print(FILE *out, const struct hp_ilist *l)
{
  const struct hp_promotion *p = l->promo;
  if (p) {
    fprintf(out, "promote");
    for (unsigned k = 0; k < p->nslots; k++)
      fprintf(out, " [rbp%+d]:%u->%s%u", p->slot[k].disp, p->slot[k].size,
              p->slot[k].reg >= HP_PROMO_XMM ? "xmm" : "r", p->slot[k].reg % HP_PROMO_XMM);
    if (p->scratch >= 0)
      fprintf(out, " checks=%u hull=[rbp%+d,rbp%+d) scratch=r%d", p->checks, p->lo, p->hi, p->scratch);
    if (p->frame_check)
      fprintf(out, " frame-check");
    if (p->rip_check)
      fprintf(out, " globals=[%#llx,+%u)", (unsigned long long)p->rip_lo, p->rip_size);
    if (p->deferred)
      fprintf(out, " deferred load-checks=%u", p->load_checks);
    fputc('\n', out);
  }
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    fprintf(out, "%#llx %s", (unsigned long long)in->pc, hp_op_name(in->op));
    switch (in->op) {
    case HP_OP_EXIT:
    case HP_OP_STOP:
      fprintf(out, " %s", exit_name(in->exit_kind));
      if (in->op == HP_OP_EXIT)
        fprintf(out, " -> %#llx", (unsigned long long)in->target);
      break;
    case HP_OP_EXIT_CC:
      fprintf(out, " cc=%u -> %#llx", in->cc, (unsigned long long)in->target);
      break;
    case HP_OP_GUEST_JMP:
    case HP_OP_GUEST_JCC:
    case HP_OP_GUEST_CALL:
    case HP_OP_GUEST_RCX_BRANCH:
    case HP_OP_CALL:
    case HP_OP_RCX_BRANCH:
    case HP_OP_CALL_IND_GUARD:
    case HP_OP_JMP_IND_GUARD:
      fprintf(out, " -> %#llx", (unsigned long long)in->target);
      break;
    case HP_OP_PUSH_RET:
      fprintf(out, " %#llx", (unsigned long long)in->target);
      break;
    case HP_OP_RET_GUARD:
      fprintf(out, " -> %#llx", (unsigned long long)in->target);
      if (in->check_len)
        fprintf(out, " imm=%u", in->check_len);
      break;
    case HP_OP_GUEST_RET:
    case HP_OP_RET:
      if (in->target)
        fprintf(out, " imm=%llu", (unsigned long long)in->target);
      break;
    case HP_OP_CODE_CHECK:
      fprintf(out, " %#llx+%u", (unsigned long long)in->target, in->check_len);
      break;
    case HP_OP_HEAD_COUNT:
      fprintf(out, " counter=%u threshold=%llu", in->check_len, (unsigned long long)in->target);
      break;
    default:
      break;
    }
    if (in->flags & HP_INSN_RIPREL)
      fprintf(out, " riprel");
    if (in->flags & HP_INSN_MONO)
      fprintf(out, " mono");
    if (in->flags & HP_INSN_BACK_EDGE)
      fprintf(out, " back-edge");
    if (in->flags & HP_INSN_PROMOTED)
      fprintf(out, " slot-in-%s%u%s", in->reg >= HP_PROMO_XMM ? "xmm" : "r", in->reg % HP_PROMO_XMM, in->flags & HP_INSN_SLOT_WRITE ? (l->promo && l->promo->deferred ? " deferred" : " write-through") : "");
    if (in->flags & HP_INSN_ALIAS_CHECK)
      fprintf(out, " alias-check%s%s", in->flags & HP_INSN_IN_CALLEE ? "(loop frame)" : "",
              in->flags & HP_INSN_KEEP_FLAGS ? "(keep flags)" : "");
    if (in->flags & HP_INSN_RBP_CHECK)
      fprintf(out, " rbp-check");
    if (in->flags & HP_INSN_PROBE_STORE)
      fprintf(out, " probe-store");
    if (in->flags & HP_INSN_RET_KNOWN)
      fprintf(out, " ret-known");
    char text[128];
    if (in->len && hp_format_insn(in->bytes, in->len, in->pc, false, text, sizeof text))
      fprintf(out, "  ; %s", text);
    fputc('\n', out);
  }
}
