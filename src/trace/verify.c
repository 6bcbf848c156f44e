/* The optimizer's verifier (see verify.h). Each check says which invariant
 * of which consumer it guards; the checks repeat the passes' reasoning in
 * the simplest form that still catches a pass that got it wrong. */
#include "hotpath/verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hotpath/analysis.h"
#include "hotpath/frames.h"
#include "hotpath/liveness.h"
#include "hotpath/stitch.h"

#define RSP 4
#define RBP 5

/* The optimizer's marks (promote.c), and every flag bit that exists. */
#define OPT_FLAGS                                                                                              \
  (HP_INSN_PROMOTED | HP_INSN_ALIAS_CHECK | HP_INSN_SLOT_WRITE | HP_INSN_IN_CALLEE | HP_INSN_KEEP_FLAGS |        \
   HP_INSN_PROBE_STORE | HP_INSN_RBP_CHECK)
#define ALL_FLAGS (OPT_FLAGS | HP_INSN_RIPREL | HP_INSN_MONO | HP_INSN_BACK_EDGE | HP_INSN_RET_KNOWN | HP_INSN_SHARE)

const char *hp_verify_pass_name(enum hp_verify_pass pass)
{
  static const char *const names[] = {"stitch", "retelide", "promote", "fold", "unoptimize"};
  return (unsigned)pass < sizeof names / sizeof names[0] ? names[pass] : "?";
}

static bool fail(struct hp_verify_error *err, int elem, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(struct hp_verify_error *err, int elem, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  err->elem = elem;
  vsnprintf(err->what, sizeof err->what, fmt, ap);
  va_end(ap);
  return false;
}

static bool is_riprel(const ZydisDecodedInstruction *zi)
{
  return (zi->attributes & ZYDIS_ATTRIB_HAS_MODRM) && zi->raw.modrm.mod == 0 && zi->raw.modrm.rm == 5;
}

static uint64_t rel_target(const ZydisDecodedInstruction *zi, uint64_t pc)
{
  return pc + zi->length + (uint64_t)zi->raw.imm[0].value.s;
}

/* A near call or jmp through r/m (not a far one, not rel). */
static bool indirect_near(const ZydisDecodedInstruction *zi, ZydisMnemonic mn)
{
  return zi->mnemonic == mn && zi->opcode == 0xff && (zi->raw.modrm.reg == 2 || zi->raw.modrm.reg == 4);
}

/* The element's bytes against its op kind and its cached decoding. */
static bool check_bytes(const struct hp_insn *in, int i, struct hp_verify_error *err)
{
  if (!in->len) {
    /* Only exits that mangle or stitch add (a block's fall-through, a
     * trap's continuation, the trace's last exit) have no guest bytes. */
    if (in->op != HP_OP_EXIT)
      return fail(err, i, "%s element without guest bytes", hp_op_name(in->op));
    return true;
  }
  ZydisDecodedInstruction zi;
  if (in->len > ZYDIS_MAX_INSTRUCTION_LENGTH || !hp_decode_one(in->bytes, in->len, &zi))
    return fail(err, i, "its %u bytes do not decode to one instruction of that length", in->len);
  if (in->zi.length != in->len || in->zi.mnemonic != zi.mnemonic)
    return fail(err, i, "its cached decoding (length %u) is not that of its bytes", in->zi.length);
  ZydisInstructionCategory cat = zi.meta.category;
  uint64_t next = in->pc + in->len;
  switch (in->op) {
  case HP_OP_GUEST: {
    bool control = cat == ZYDIS_CATEGORY_COND_BR || cat == ZYDIS_CATEGORY_UNCOND_BR || cat == ZYDIS_CATEGORY_CALL ||
                   cat == ZYDIS_CATEGORY_RET || cat == ZYDIS_CATEGORY_SYSCALL || cat == ZYDIS_CATEGORY_SYSRET;
    if (control)
      return fail(err, i, "a guest element that transfers control (%s)", ZydisMnemonicGetString(zi.mnemonic));
    /* The lowering adjusts a rip-relative operand only when it is marked. */
    if (is_riprel(&zi) != !!(in->flags & HP_INSN_RIPREL))
      return fail(err, i, "HP_INSN_RIPREL %s but the instruction is %srip-relative",
                  in->flags & HP_INSN_RIPREL ? "set" : "missing", is_riprel(&zi) ? "" : "not ");
    return true;
  }
  case HP_OP_EXIT_CC: {
    if (cat != ZYDIS_CATEGORY_COND_BR)
      return fail(err, i, "exit_cc whose bytes are no jcc");
    /* Stitching may invert it (bit 0 of the condition) to fall through
     * on the recorded path: the target is then where the jcc's fall-through
     * went (its next pc, or on through jumps stitched away). A loop closed
     * by it keeps its condition and goes back to the head, where its taken
     * way went on through jumps stitched away too. */
    unsigned cc = zi.opcode & 15;
    bool taken_ok = in->target == rel_target(&zi, in->pc) || (in->flags & HP_INSN_BACK_EDGE);
    if (in->cc == cc ? !taken_ok : in->cc != (cc ^ 1))
      return fail(err, i, "exit_cc condition %u / target 0x%llx agree with neither direction of its jcc", in->cc,
                  (unsigned long long)in->target);
    return true;
  }
  case HP_OP_EXIT:
    if (in->exit_kind == HP_EXIT_SYSCALL && zi.mnemonic == ZYDIS_MNEMONIC_SYSCALL && in->target == next)
      return true;
    if (in->exit_kind == HP_EXIT_BRANCH && cat == ZYDIS_CATEGORY_UNCOND_BR && zi.opcode != 0xff &&
        in->target == rel_target(&zi, in->pc))
      return true;
    return fail(err, i, "exit whose bytes (%s) do not match its kind and target", ZydisMnemonicGetString(zi.mnemonic));
  case HP_OP_CALL:
  case HP_OP_PUSH_RET:
    if (cat != ZYDIS_CATEGORY_CALL || zi.opcode != 0xe8)
      return fail(err, i, "%s whose bytes are no direct call", hp_op_name(in->op));
    if (in->op == HP_OP_CALL && in->target != rel_target(&zi, in->pc))
      return fail(err, i, "call target is not its rel32 target");
    if (in->op == HP_OP_PUSH_RET && in->target != next)
      return fail(err, i, "push-ret target 0x%llx is not its return address 0x%llx", (unsigned long long)in->target,
                  (unsigned long long)next);
    return true;
  case HP_OP_CALL_IND:
  case HP_OP_CALL_IND_GUARD:
    if (!indirect_near(&zi, ZYDIS_MNEMONIC_CALL))
      return fail(err, i, "%s whose bytes are no near indirect call", hp_op_name(in->op));
    return true;
  case HP_OP_JMP_IND:
  case HP_OP_JMP_IND_GUARD:
    if (!indirect_near(&zi, ZYDIS_MNEMONIC_JMP))
      return fail(err, i, "%s whose bytes are no near indirect jmp", hp_op_name(in->op));
    return true;
  case HP_OP_RET:
  case HP_OP_RET_GUARD: {
    if (zi.opcode != 0xc3 && zi.opcode != 0xc2)
      return fail(err, i, "%s whose bytes are no near ret", hp_op_name(in->op));
    uint64_t imm = zi.opcode == 0xc2 ? (uint16_t)zi.raw.imm[0].value.u : 0;
    uint64_t kept = in->op == HP_OP_RET ? in->target : in->check_len;
    if (kept != imm)
      return fail(err, i, "%s keeps imm16 %llu, its bytes say %llu", hp_op_name(in->op), (unsigned long long)kept,
                  (unsigned long long)imm);
    return true;
  }
  case HP_OP_RCX_BRANCH:
    if (in->target != rel_target(&zi, in->pc))
      return fail(err, i, "rcx-branch target is not its rel8 target");
    return true;
  default:
    return true;
  }
}

/* The list's shape and control elements, whatever pass made it. */
static bool check_shape(const struct hp_ilist *l, struct hp_verify_error *err)
{
  if (!l->n)
    return fail(err, -1, "empty list");
  if (l->n > l->cap)
    return fail(err, -1, "%u elements in a list of capacity %u", l->n, l->cap);
  unsigned depth = 0;
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    switch (in->op) {
    case HP_OP_GUEST: case HP_OP_EXIT: case HP_OP_EXIT_CC: case HP_OP_CALL: case HP_OP_CALL_IND:
    case HP_OP_JMP_IND: case HP_OP_RET: case HP_OP_RCX_BRANCH: case HP_OP_PUSH_RET: case HP_OP_CALL_IND_GUARD:
    case HP_OP_JMP_IND_GUARD: case HP_OP_RET_GUARD:
      break;
    default: /* decoded-only kinds, code checks, stops, head counters: never in a trace */
      return fail(err, (int)i, "element kind %s cannot be in a trace", in->op < HP_OP_COUNT_ ? hp_op_name(in->op) : "?");
    }
    /* The lowering stops at the first element that ends a block. */
    bool ends = hp_op_ends_block(in);
    if (ends != (i == l->n - 1))
      return fail(err, (int)i, ends ? "%s ends the trace before its last element" : "the last element (%s) does not end the trace",
                  hp_op_name(in->op));
    if (in->flags & ~ALL_FLAGS)
      return fail(err, (int)i, "unknown flag bits 0x%x", in->flags & ~ALL_FLAGS);
    if (!check_bytes(in, (int)i, err))
      return false;
    if (in->op == HP_OP_EXIT && in->exit_kind > HP_EXIT_INT80)
      return fail(err, (int)i, "exit kind %u does not exist", in->exit_kind);
    if (in->op == HP_OP_EXIT_CC && (in->exit_kind != HP_EXIT_BRANCH || in->cc > 15))
      return fail(err, (int)i, "exit_cc of kind %u, condition %u", in->exit_kind, in->cc);
    if ((in->op == HP_OP_EXIT || in->op == HP_OP_EXIT_CC) && in->exit_kind == HP_EXIT_BRANCH && !in->target)
      return fail(err, (int)i, "branch exit to 0");
    if ((in->op == HP_OP_CALL_IND_GUARD || in->op == HP_OP_JMP_IND_GUARD || in->op == HP_OP_RET_GUARD) && !in->target)
      return fail(err, (int)i, "%s guarding target 0", hp_op_name(in->op));
    /* Back edges are linked to the trace itself (record.c, lower.c). */
    if (in->flags & HP_INSN_BACK_EDGE) {
      if ((in->op != HP_OP_EXIT && in->op != HP_OP_EXIT_CC) || in->exit_kind != HP_EXIT_BRANCH || in->target != l->pc)
        return fail(err, (int)i, "back edge on a %s to 0x%llx (head 0x%llx)", hp_op_name(in->op),
                    (unsigned long long)in->target, (unsigned long long)l->pc);
      /* A loop closed by a jcc whose taken way reached the head through
       * jumps stitched away (its condition as in its bytes, its target not
       * theirs): only the list's last jcc, the trace's exit its fall-through. */
      ZydisDecodedInstruction zi;
      if (in->op == HP_OP_EXIT_CC && in->len && hp_decode_one(in->bytes, in->len, &zi) &&
          (zi.opcode & 15) == in->cc && rel_target(&zi, in->pc) != in->target &&
          (i + 2 != l->n || l->v[i + 1].op != HP_OP_EXIT || l->v[i + 1].target != in->pc + in->len))
        return fail(err, (int)i, "back edge through jumps stitched away that is not the last jcc before its fall-through");
    }
    if ((in->flags & HP_INSN_MONO) && in->op != HP_OP_CALL_IND && in->op != HP_OP_JMP_IND &&
        in->op != HP_OP_CALL_IND_GUARD && in->op != HP_OP_JMP_IND_GUARD)
      return fail(err, (int)i, "HP_INSN_MONO on a %s", hp_op_name(in->op));
    if (in->op == HP_OP_PUSH_RET || in->op == HP_OP_CALL_IND_GUARD) {
      if (++depth > HP_TRACE_MAX_OPEN_CALLS)
        return fail(err, (int)i, "more than %u inlined calls open", HP_TRACE_MAX_OPEN_CALLS);
    } else if (in->op == HP_OP_RET_GUARD) {
      if (!depth)
        return fail(err, (int)i, "guarded return without its inlined call");
      depth--;
    }
  }
  /* Return-known pairs (retelide.c): both halves marked, the return to
   * the call's return address. */
  unsigned pair[l->n];
  hp_ilist_pair_calls(l, pair);
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    if (!(in->flags & HP_INSN_RET_KNOWN))
      continue;
    if (in->op != HP_OP_PUSH_RET && in->op != HP_OP_CALL_IND_GUARD && in->op != HP_OP_RET_GUARD)
      return fail(err, (int)i, "HP_INSN_RET_KNOWN on a %s", hp_op_name(in->op));
    if (!pair[i] || !(l->v[pair[i] - 1].flags & HP_INSN_RET_KNOWN))
      return fail(err, (int)i, "HP_INSN_RET_KNOWN on one half of a call/return pair only");
    const struct hp_insn *call = in->op == HP_OP_RET_GUARD ? &l->v[pair[i] - 1] : in;
    const struct hp_insn *ret = in->op == HP_OP_RET_GUARD ? in : &l->v[pair[i] - 1];
    if (call->pc + call->len != ret->target)
      return fail(err, (int)i, "return known but it returns to 0x%llx, not to its call's 0x%llx",
                  (unsigned long long)ret->target, (unsigned long long)(call->pc + call->len));
  }
  return true;
}

static int slot_of_reg(const struct hp_promotion *p, unsigned reg)
{
  for (unsigned k = 0; k < p->nslots; k++)
    if (p->slot[k].reg == reg)
      return (int)k;
  return -1;
}

static bool overlaps(int64_t a, int64_t an, int64_t b, int64_t bn) { return a < b + bn && b < a + an; }

/* The plan itself (struct hp_promotion), before the elements. */
static bool check_promo_plan(const struct hp_ilist *l, const struct hp_promotion *p, struct hp_verify_error *err)
{
  if (!p->nslots || p->nslots > HP_PROMO_MAX_SLOTS)
    return fail(err, -1, "promotion of %u slots", p->nslots);
  uint16_t regs = 0, xregs = 0;
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (unsigned k = 0; k < p->nslots; k++) {
    const struct hp_promo_slot *s = &p->slot[k];
    if ((s->size != 4 && s->size != 8) || (int64_t)s->disp + s->size > 0)
      return fail(err, -1, "slot [rbp%+d] of size %u (locals below rbp, 4 or 8 bytes)", s->disp, s->size);
    for (unsigned j = 0; j < k; j++)
      if (overlaps(s->disp, s->size, p->slot[j].disp, p->slot[j].size))
        return fail(err, -1, "slots [rbp%+d] and [rbp%+d] overlap", s->disp, p->slot[j].disp);
    if (s->reg >= HP_PROMO_XMM) {
      unsigned x = s->reg - HP_PROMO_XMM;
      if (x >= 16 || ((xregs >> x) & 1))
        return fail(err, -1, "slot [rbp%+d] in xmm%u, taken twice or none", s->disp, x);
      xregs |= (uint16_t)(1u << x);
    } else {
      if (s->reg == RSP || s->reg == RBP || ((regs >> s->reg) & 1))
        return fail(err, -1, "slot [rbp%+d] in %s (rsp, rbp, or taken twice)", s->disp, hp_promo_reg_name(s->reg));
      regs |= (uint16_t)(1u << s->reg);
    }
    lo = s->disp < lo ? s->disp : lo;
    hi = s->disp + s->size > hi ? s->disp + s->size : hi;
  }
  if (p->lo != lo || p->hi != hi)
    return fail(err, -1, "hull [%d, %d) is not the slots' [%d, %d)", p->lo, p->hi, lo, hi);
  if (p->scratch >= 0) {
    if (p->scratch >= 16 || p->scratch == RSP || p->scratch == RBP || ((regs >> p->scratch) & 1))
      return fail(err, -1, "scratch register %d (rsp, rbp, or a slot's)", p->scratch);
    regs |= (uint16_t)(1u << p->scratch);
  }
  if (p->regs != regs || p->xregs != xregs)
    return fail(err, -1, "registers taken 0x%x/0x%x are not the slots' and scratch 0x%x/0x%x", p->regs, p->xregs, regs,
                xregs);
  if (!p->regs)
    return fail(err, -1, "no general register taken (the entry's stack check needs one)");
  bool calls = false, guards = false, back = false;
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    calls |= in->op == HP_OP_PUSH_RET || in->op == HP_OP_CALL_IND_GUARD || in->op == HP_OP_RET_GUARD;
    guards |= in->op == HP_OP_CALL_IND_GUARD || in->op == HP_OP_JMP_IND_GUARD ||
              (in->op == HP_OP_RET_GUARD && !(in->flags & HP_INSN_RET_KNOWN));
    back |= (in->flags & HP_INSN_BACK_EDGE) != 0;
  }
  bool jt_end = l->n && l->v[l->n - 1].op == HP_OP_JMP_IND;
  if (p->dispatch && (!jt_end || p->side || p->deferred))
    return fail(err, -1, "a dispatch plan on a trace that does not end in an indirect jump, or side, or deferred");
  if (!back && !p->side && !p->dispatch)
    return fail(err, -1, "promotion of a trace that is not a loop (no back edge)");
  if (p->side && p->deferred)
    return fail(err, -1, "a side trace's plan with deferred stores (a shared exit needs memory exact)");
  /* The callees' frames must lie below the slots: the entry checks it. */
  if (calls && !p->frame_check)
    return fail(err, -1, "inlined calls but no frame check at the entry");
  /* The guards' lookups use rax, rcx and rdx. */
  if (guards && (p->regs & 7))
    return fail(err, -1, "the trace has guards but rax/rcx/rdx is taken (0x%x)", p->regs);
  if (p->rip_check && (!p->rip_size || p->rip_size > (1u << 30)))
    return fail(err, -1, "globals' span of %u bytes checked at the entry", p->rip_size);
  return true;
}

/* The registers an element touches (a guard: those its target is read
 * from); false when the analysis cannot tell. */
static bool touched(const struct hp_insn *in, struct hp_insn_effects *e)
{
  if (in->op == HP_OP_GUEST)
    return hp_analyze_insn(in, e);
  if (in->op == HP_OP_CALL_IND_GUARD || in->op == HP_OP_JMP_IND_GUARD || in->op == HP_OP_JMP_IND)
    return hp_analyze_bytes(in->bytes, in->len, e);
  memset(e, 0, sizeof *e);
  return true;
}

/* Whether a rip-relative access lies in the globals' span the entry checks. */
static bool in_rip_span(const struct hp_promotion *p, const struct hp_insn *in, const struct hp_mem_operand *m)
{
  uint64_t a = in->pc + in->len + (uint64_t)m->disp;
  return p->rip_check && m->size && a >= p->rip_lo && a + m->size <= p->rip_lo + p->rip_size;
}

/* An empty promotion (hp_promote_none: the fold pass alone): nothing
 * taken, nothing checked at the entry, no element marked. */
static bool check_fold_only(const struct hp_ilist *l, const struct hp_promotion *p, struct hp_verify_error *err)
{
  if (p->nslots || p->regs || p->xregs || p->scratch >= 0 || p->frame_check || p->deferred || p->rip_check ||
      p->checks || p->load_checks)
    return fail(err, -1, "a promotion for the fold pass alone that takes slots, registers or checks");
  for (unsigned i = 0; i < l->n; i++)
    if (l->v[i].flags & (OPT_FLAGS | HP_INSN_SHARE))
      return fail(err, (int)i, "optimizer flags 0x%x without a promoted slot",
                  l->v[i].flags & (OPT_FLAGS | HP_INSN_SHARE));
  return true;
}

/* The elements of a promoted trace against the plan. */
static bool check_promoted(const struct hp_ilist *l, struct hp_verify_error *err)
{
  const struct hp_promotion *p = l->promo;
  if (p->fold_only)
    return check_fold_only(l, p, err);
  if (!check_promo_plan(l, p, err))
    return false;
  unsigned uses[HP_PROMO_MAX_SLOTS] = {0}, writes[HP_PROMO_MAX_SLOTS] = {0}, nchecks = 0;
  bool calls = false; /* rsp and rbp followed through inlined calls only (as promote.c) */
  for (unsigned i = 0; i < l->n; i++)
    calls |= l->v[i].op == HP_OP_PUSH_RET || l->v[i].op == HP_OP_CALL_IND_GUARD || l->v[i].op == HP_OP_RET_GUARD;
  struct hp_live live[l->n + 1];
  hp_liveness_mode(l, live, false); /* the flags a check must set aside (as promote.c) */
  struct hp_frames fr;
  hp_frames_init(&fr);
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    int ii = (int)i;
    uint16_t f = in->flags;
    if ((f & OPT_FLAGS) && in->op != HP_OP_GUEST)
      return fail(err, ii, "optimizer flags 0x%x on a %s", f & OPT_FLAGS, hp_op_name(in->op));
    /* A shared exit goes past another entry with the registers as they
     * are: rsp and rbp must be what this trace's entry checked, memory
     * exact. */
    bool jt_jump = p->dispatch && in->op == HP_OP_JMP_IND && i == l->n - 1; /* its table's slots */
    if ((f & HP_INSN_SHARE) &&
        ((!jt_jump && ((in->op != HP_OP_EXIT && in->op != HP_OP_EXIT_CC) || in->exit_kind != HP_EXIT_BRANCH)) ||
         (f & HP_INSN_BACK_EDGE) || fr.delta != 0 || fr.rbp.kind != HP_SYM_OUTER || p->deferred))
      return fail(err, ii, "HP_INSN_SHARE on a %s where rsp or rbp is not the entry's, or stores are deferred",
                  hp_op_name(in->op));
    /* Flags in the combinations the lowering reads. */
    if ((f & HP_INSN_SLOT_WRITE) && !(f & HP_INSN_PROMOTED))
      return fail(err, ii, "HP_INSN_SLOT_WRITE without HP_INSN_PROMOTED");
    if ((f & HP_INSN_PROBE_STORE) && (!(f & HP_INSN_SLOT_WRITE) || p->deferred || in->reg >= HP_PROMO_XMM))
      return fail(err, ii, "HP_INSN_PROBE_STORE without a write-through store of a general-register slot");
    if ((f & (HP_INSN_IN_CALLEE | HP_INSN_KEEP_FLAGS)) && !(f & HP_INSN_ALIAS_CHECK))
      return fail(err, ii, "HP_INSN_IN_CALLEE/KEEP_FLAGS without HP_INSN_ALIAS_CHECK");
    if ((f & HP_INSN_PROMOTED) && (f & HP_INSN_ALIAS_CHECK))
      return fail(err, ii, "both promoted and alias-checked (the lowering would drop the check)");
    struct hp_insn_effects e;
    if (!touched(in, &e))
      return fail(err, ii, "an instruction the analysis cannot describe in a promoted trace");
    /* Nothing but the lowering touches the registers the plan took. */
    if ((e.gpr_read | e.gpr_write) & p->regs)
      return fail(err, ii, "the guest instruction touches a register the promotion took (0x%x)",
                  (e.gpr_read | e.gpr_write) & p->regs);
    if (p->xregs && ((e.xmm & p->xregs) || e.xmm_all))
      return fail(err, ii, "the guest instruction touches an xmm register the promotion took (0x%x)", e.xmm & p->xregs);
    if (in->op == HP_OP_PUSH_RET || in->op == HP_OP_CALL_IND_GUARD) {
      fr.delta -= 8;
      if (!hp_frames_set(&fr, fr.delta, (struct hp_sym){HP_SYM_RET, 0}))
        return fail(err, ii, "too many stack cells to follow");
    } else if (in->op == HP_OP_RET_GUARD) {
      fr.delta += 8 + in->check_len;
      hp_frames_pop(&fr);
    }
    if (in->op == HP_OP_CALL_IND_GUARD || in->op == HP_OP_JMP_IND_GUARD) {
      /* Its target, read from memory without a check: not from a slot,
       * and with deferred stores only from memory they cannot leave stale. */
      for (unsigned k = 0; k < e.nmem; k++) {
        const struct hp_mem_operand *gm = &e.mem[k];
        if (gm->write)
          continue; /* the pushed return address: below the slots (the entry checks) */
        if (fr.rbp.kind == HP_SYM_OUTER && gm->base == RBP && gm->index == HP_MEM_NONE) {
          for (unsigned s = 0; s < p->nslots; s++)
            if (overlaps(gm->disp, gm->size ? gm->size : 8, p->slot[s].disp, p->slot[s].size))
              return fail(err, ii, "the guard reads its target from promoted slot [rbp%+d]", p->slot[s].disp);
        } else if (p->deferred && !(gm->base == HP_MEM_RIP && gm->index == HP_MEM_NONE && in_rip_span(p, in, gm))) {
          return fail(err, ii, "the guard reads its target from memory deferred stores may have left stale");
        }
      }
      continue;
    }
    if (in->op != HP_OP_GUEST)
      continue;
    if (e.control)
      return fail(err, ii, "a guest control transfer in a promoted trace");
    bool outer = fr.rbp.kind == HP_SYM_OUTER;
    struct hp_frames before = fr;
    if ((((e.gpr_write >> RSP) | (e.gpr_write >> RBP)) & 1) &&
        (!calls || !hp_frames_track(&fr, in, &e)))
      return fail(err, ii, "rsp or rbp changes in a way the frames cannot follow");
    if (fr.rbp_check) { /* the loop's rbp back from a cell a store may have changed */
      if (!(f & HP_INSN_RBP_CHECK))
        return fail(err, ii, "the loop's rbp comes back from a stack cell a store may have changed: HP_INSN_RBP_CHECK missing");
      fr.rbp_check = false;
    }
    if (e.nmem > 1)
      return fail(err, ii, "two memory operands in a promoted trace");
    const struct hp_mem_operand *m = e.nmem ? &e.mem[0] : NULL;
    if (f & HP_INSN_PROMOTED) {
      int k = slot_of_reg(p, in->reg);
      if (k < 0)
        return fail(err, ii, "promoted to %s, which holds no slot", hp_promo_reg_name(in->reg));
      const struct hp_promo_slot *s = &p->slot[k];
      if (!m || !outer || m->base != RBP || m->index != HP_MEM_NONE || m->seg != HP_SEG_FLAT || m->disp != s->disp ||
          m->size != s->size)
        return fail(err, ii, "promoted to %s but its operand is not its slot [rbp%+d] (%u bytes) in the loop's frame",
                    hp_promo_reg_name(in->reg), s->disp, s->size);
      if (m->write != !!(f & HP_INSN_SLOT_WRITE))
        return fail(err, ii, "it %s the slot but HP_INSN_SLOT_WRITE is %s", m->write ? "writes" : "only reads",
                    f & HP_INSN_SLOT_WRITE ? "set" : "missing");
      /* A fault of the store must come before the flags it reads change. */
      if (m->write && e.flags_read && !p->deferred && !(f & HP_INSN_PROBE_STORE))
        return fail(err, ii, "written-through slot store that reads flags without HP_INSN_PROBE_STORE");
      uses[k]++;
      writes[k] += m->write;
      continue;
    }
    if (f & HP_INSN_ALIAS_CHECK) {
      nchecks++;
      if (!m || !m->size)
        return fail(err, ii, "alias check on an instruction without a sized memory operand");
      if (!m->write && !p->deferred)
        return fail(err, ii, "a load checked although stores are written through");
      /* The check compares against the loop's rbp: inside a callee it must
       * use the copy saved at the entry. */
      if (outer == !!(f & HP_INSN_IN_CALLEE))
        return fail(err, ii, "alias check %s HP_INSN_IN_CALLEE although rbp is %sthe loop's", outer ? "with" : "without",
                    outer ? "" : "not ");
      if ((live[i].flags & HP_FL_STATUS) && !(f & HP_INSN_KEEP_FLAGS))
        return fail(err, ii, "alias check where the status flags are live, without HP_INSN_KEEP_FLAGS");
      if (m->write) { /* the frames as promote.c follows them */
        int64_t at;
        if (calls && hp_frames_address(&before, m, &at) && in->zi.mnemonic != ZYDIS_MNEMONIC_PUSH)
          hp_frames_clobber(&fr, at, m->size);
        fr.dirty = true; /* it may have changed a cell holding the loop's rbp */
      }
      continue;
    }
    if (!m)
      continue;
    /* An access no check covers must miss the slots, or see memory that is exact. */
    bool need = m->write || p->deferred;
    if (outer && m->base == RBP && m->index == HP_MEM_NONE && m->seg == HP_SEG_FLAT) {
      for (unsigned k = 0; k < p->nslots; k++)
        if (overlaps(m->disp, m->size ? m->size : 1, p->slot[k].disp, p->slot[k].size))
          return fail(err, ii, "[rbp%+lld] (%u bytes) overlaps slot [rbp%+d] but is not promoted", (long long)m->disp,
                      m->size, p->slot[k].disp);
      continue;
    }
    if (m->base == HP_MEM_RIP && m->index == HP_MEM_NONE) {
      if (need && !in_rip_span(p, in, m))
        return fail(err, ii, "rip-relative %s outside the globals' span the entry checks, and not checked",
                    m->write ? "store" : "load (stores deferred)");
      if (m->write)
        fr.dirty = true;
      continue;
    }
    int64_t at;
    bool placed = calls && hp_frames_address(&before, m, &at);
    if (m->write && placed && in->zi.mnemonic != ZYDIS_MNEMONIC_PUSH)
      hp_frames_clobber(&fr, at, m->size);
    if (placed && m->size && at + m->size <= 0)
      continue; /* below the entry's rsp: a callee's frame, below the slots (the entry checks) */
    if (need)
      return fail(err, ii, "%s through an address that may reach the slots, not checked",
                  m->write ? "a store" : "a load (stores deferred)");
  }
  for (unsigned k = 0; k < p->nslots; k++) {
    /* The lowering writes back (deferred) only slots whose writes it counts. */
    if (p->slot[k].uses != uses[k] || p->slot[k].writes != writes[k])
      return fail(err, -1, "slot [rbp%+d]: %u uses and %u writes counted, %u and %u marked", p->slot[k].disp,
                  p->slot[k].uses, p->slot[k].writes, uses[k], writes[k]);
  }
  if (p->checks + p->load_checks != nchecks)
    return fail(err, -1, "%u checks counted, %u marked", p->checks + p->load_checks, nchecks);
  if ((nchecks || p->frame_check || p->rip_check) && p->scratch < 0)
    return fail(err, -1, "checks at run time but no scratch register");
  return true;
}

static uint16_t expr_uses(const struct hp_addr_expr *x)
{
  return (uint16_t)((x->base < 16 ? 1u << x->base : 0) | (x->index < 16 ? 1u << x->index : 0));
}

/* Whether element in adds a constant to the 64-bit machine register m and
 * writes nothing else (w: what it writes), and expression after is before
 * with that constant taken out of its displacement (fold.c's rebase: an
 * address over m follows m). */
static bool rebased(const struct hp_insn *in, uint16_t w, const struct hp_addr_expr *before,
                    const struct hp_addr_expr *after)
{
  ZydisDecoder dec;
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  if (in->op != HP_OP_GUEST || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, in->bytes, in->len, &zi, ops)) ||
      !zi.operand_count_visible || ops[0].size != 64)
    return false;
  int64_t k;
  switch (zi.mnemonic) {
  case ZYDIS_MNEMONIC_ADD:
  case ZYDIS_MNEMONIC_SUB:
    if (zi.operand_count_visible != 2 || ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
      return false;
    k = zi.mnemonic == ZYDIS_MNEMONIC_ADD ? ops[1].imm.value.s : -ops[1].imm.value.s;
    break;
  case ZYDIS_MNEMONIC_INC: k = 1; break;
  case ZYDIS_MNEMONIC_DEC: k = -1; break;
  default: return false;
  }
  int m;
  if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && !(in->flags & HP_INSN_PROMOTED))
    m = hp_gpr_num(ops[0].reg.value);
  else if ((in->flags & HP_INSN_SLOT_WRITE) && in->reg < HP_PROMO_XMM)
    m = in->reg;
  else
    return false;
  if (m < 0 || w != (uint16_t)(1u << m))
    return false;
  int64_t c = (before->base == m) + (before->index == m ? before->scale : 0);
  return after->base == before->base && after->index == before->index && after->scale == before->scale &&
         (int64_t)after->disp == (int64_t)before->disp - c * k;
}

/* The fold plan (struct hp_fold) against the list and the promotion. */
static bool check_fold(const struct hp_ilist *l, struct hp_verify_error *err)
{
  const struct hp_fold *F = l->fold;
  const struct hp_promotion *p = l->promo;
  if (!p)
    return fail(err, -1, "a fold plan without a promotion (the lowering ignores it)");
  if (!F->nsnap || F->nsnap > F->snap_cap || F->nrw > F->rw_cap || F->snap[0].mask)
    return fail(err, -1, "fold plan with %u/%u snapshots, %u/%u rewrites", F->nsnap, F->snap_cap, F->nrw, F->rw_cap);
  uint16_t scratch = p->scratch >= 0 ? (uint16_t)(1u << p->scratch) : 0;
  for (unsigned s = 0; s < F->nsnap; s++) {
    const struct hp_fold_snap *sn = &F->snap[s];
    uint16_t seen = 0;
    if (sn->n != (unsigned)__builtin_popcount(sn->mask))
      return fail(err, -1, "snapshot %u orders %u of its %d registers", s, sn->n, __builtin_popcount(sn->mask));
    for (unsigned k = 0; k < sn->n; k++) {
      unsigned g = sn->order[k];
      if (g >= 16 || !((sn->mask >> g) & 1) || ((seen >> g) & 1))
        return fail(err, -1, "snapshot %u: its order is not a permutation of its registers", s);
      seen |= (uint16_t)(1u << g);
      const struct hp_addr_expr *x = &sn->e[g];
      if ((x->base != HP_FOLD_NONE && x->base >= 16) || (x->index != HP_FOLD_NONE && x->index >= 16) ||
          x->index == RSP || (x->index != HP_FOLD_NONE && x->scale != 1 && x->scale != 2 && x->scale != 4 && x->scale != 8))
        return fail(err, -1, "snapshot %u: register %u's expression is no addressing mode", s, g);
      if (expr_uses(x) & scratch)
        return fail(err, -1, "snapshot %u: register %u's expression reads the scratch register", s, g);
      if (g == RSP || g == RBP)
        return fail(err, -1, "snapshot %u: rsp/rbp pending", s);
      /* Materialized in order: one made exact first must not be read by
       * one after it (its machine register has changed by then). */
      for (unsigned j = 0; j < k; j++)
        if ((expr_uses(x) >> sn->order[j]) & 1)
          return fail(err, -1, "snapshot %u: register %u reads %u, which is made exact before it", s, g, sn->order[j]);
    }
  }
  struct hp_insn_effects eff[l->n];
  bool known[l->n];
  for (unsigned i = 0; i < l->n; i++)
    known[i] = hp_analyze_insn(&l->v[i], &eff[i]);
  struct hp_live gl[l->n + 1], fl[l->n + 1];
  hp_liveness_loop(l, eff, known, gl, true);
  hp_liveness_loop(l, eff, known, fl, false);
  unsigned pair[l->n];
  hp_ilist_pair_calls(l, pair);
  uint16_t pregs = 0;
  for (unsigned k = 0; k < p->nslots; k++)
    if (p->slot[k].reg < HP_PROMO_XMM)
      pregs |= (uint16_t)(1u << p->slot[k].reg);
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    const struct hp_fold_elem *el = &F->elem[i];
    int ii = (int)i;
    if (el->pend >= F->nsnap || el->rw > F->nrw)
      return fail(err, ii, "snapshot %u / rewrite %u out of range", el->pend, el->rw);
    const struct hp_fold_snap *sn = &F->snap[el->pend];
    if (el->mat & ~sn->mask)
      return fail(err, ii, "materializes 0x%x, which is not pending (0x%x)", el->mat, sn->mask);
    uint16_t left = (uint16_t)(sn->mask & ~el->mat);
    for (unsigned g = 0; g < 16; g++)
      if (((left >> g) & 1) && (expr_uses(&sn->e[g]) & el->mat & ~(1u << g)))
        return fail(err, ii, "register %u stays pending but reads a register made exact here (0x%x)", g,
                    expr_uses(&sn->e[g]) & el->mat);
    bool back = (in->flags & HP_INSN_BACK_EDGE) != 0;
    if (in->op != HP_OP_GUEST) {
      if (el->gone || el->rw)
        return fail(err, ii, "a %s removed or rewritten by the fold plan", hp_op_name(in->op));
      if (in->op == HP_OP_EXIT_CC && !back)
        continue; /* a side exit: its out-of-line path makes them exact */
      if ((in->op == HP_OP_PUSH_RET && pair[i]) ||
          (in->op == HP_OP_RET_GUARD && (in->flags & HP_INSN_RET_KNOWN) && pair[i])) {
        for (unsigned g = 0; g < 16; g++)
          if (((left >> g) & 1) && ((expr_uses(&sn->e[g]) >> RSP) & 1))
            return fail(err, ii, "register %u stays pending over a change of rsp it reads", g);
        continue;
      }
      if (back) { /* linked to the loop's top: what is left pending must be dead there */
        if (left & gl[0].gpr)
          return fail(err, ii, "back edge with registers 0x%x pending that the loop's top reads", left & gl[0].gpr);
        continue;
      }
      if (left) /* an exit or a guard's lookup: the guest sees every register */
        return fail(err, ii, "%s with registers 0x%x still pending", hp_op_name(in->op), left);
      continue;
    }
    if (el->gone) {
      if (el->rw)
        return fail(err, ii, "removed and rewritten");
      if (in->flags & ~HP_INSN_PROMOTED)
        return fail(err, ii, "removed although marked 0x%x", in->flags);
      /* A load of a frame slot a store in the trace just wrote (forwarded:
       * the store faults first if either does) is the only access it removes. */
      const struct hp_mem_operand *m = &eff[i].mem[0];
      bool forwarded = eff[i].nmem == 1 && !m->write && m->base == RBP && m->index == HP_MEM_NONE &&
                       m->seg == HP_SEG_FLAT && in->zi.mnemonic == ZYDIS_MNEMONIC_MOV;
      if (!known[i] || eff[i].control || eff[i].vec_write || ((eff[i].gpr_write >> RSP) & 1) ||
          ((eff[i].gpr_write >> RBP) & 1) ||
          (!(in->flags & HP_INSN_PROMOTED) && !forwarded && (eff[i].nmem || eff[i].may_fault)))
        return fail(err, ii, "removed but it may fault, touch memory or vector state, or move rsp/rbp");
      if (eff[i].flags_write & fl[i + 1].flags)
        return fail(err, ii, "removed but the flags it writes (0x%x) are read later", eff[i].flags_write & fl[i + 1].flags);
      /* What it writes is now symbolic (pending) or never read. */
      const struct hp_fold_snap *nx = &F->snap[F->elem[i + 1].pend];
      uint32_t lost = eff[i].gpr_write & ~nx->mask & gl[i + 1].gpr;
      /* Unless its result is what the machine register holds already: an
       * extension that cannot change its register (movzx eax, al of a
       * byte, cdqe of a small value), a copy of the register itself or of
       * one pending as it (mov eax, eax; mov rax, rdx where rdx = rax), a
       * load forwarded from a store of it, or such a lea. */
      ZydisMnemonic mn = in->zi.mnemonic;
      if (mn == ZYDIS_MNEMONIC_MOVZX || mn == ZYDIS_MNEMONIC_MOVSXD || mn == ZYDIS_MNEMONIC_CDQE ||
          mn == ZYDIS_MNEMONIC_LEA || (mn == ZYDIS_MNEMONIC_MOV && eff[i].nmem)) {
        lost = 0;
      } else if (mn == ZYDIS_MNEMONIC_MOV && lost && __builtin_popcount(lost) == 1 && __builtin_popcount(eff[i].gpr_read) <= 1) {
        unsigned g = (unsigned)__builtin_ctz(lost), r = eff[i].gpr_read ? (unsigned)__builtin_ctz(eff[i].gpr_read) : 16;
        const struct hp_addr_expr *x = r < 16 ? &sn->e[r] : NULL;
        if (r == g || (x && ((sn->mask >> r) & 1) && x->base == g && x->index == HP_FOLD_NONE && !x->disp))
          lost = 0;
      } else if ((mn == ZYDIS_MNEMONIC_ADD || mn == ZYDIS_MNEMONIC_SUB) && lost && __builtin_popcount(lost) == 1) {
        /* Adding 0 (an immediate, or a register pending as the constant 0:
         * -O0's `movsxd rdx, eax` of a local just set to 0): its own value. */
        ZydisDecodedInstruction zi;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        unsigned g = (unsigned)__builtin_ctz(lost);
        if (hp_insn_operands(in, &zi, ops) && zi.operand_count_visible == 2 &&
            ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && hp_gpr_num(ops[0].reg.value) == (int)g &&
            ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, ops[0].reg.value) == 64) {
          int r = ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER ? hp_gpr_num(ops[1].reg.value) : -1;
          const struct hp_addr_expr *x = r >= 0 ? &sn->e[r] : NULL;
          if ((ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && !ops[1].imm.value.u) ||
              (x && ((sn->mask >> r) & 1) && x->base == HP_FOLD_NONE && x->index == HP_FOLD_NONE && !x->disp))
            lost = 0;
        }
      }
      if (F->elem[i + 1].pend >= F->nsnap || lost)
        return fail(err, ii, "removed but registers 0x%x it writes are live and not pending after it", lost);
      continue;
    }
    ZydisDecodedInstruction rz;
    struct hp_insn_effects re = eff[i];
    if (el->rw) {
      const struct hp_fold_rewrite *rw = &F->rw[el->rw - 1];
      if (in->flags & HP_INSN_RIPREL)
        return fail(err, ii, "a rip-relative instruction rewritten (the lowering emits its own bytes)");
      if (!hp_decode_one(rw->bytes, rw->zi.length, &rz) || rz.mnemonic != rw->zi.mnemonic)
        return fail(err, ii, "its rewrite does not decode as recorded");
      if (rz.mnemonic != in->zi.mnemonic && !(in->zi.mnemonic == ZYDIS_MNEMONIC_CDQE && rz.mnemonic == ZYDIS_MNEMONIC_MOVSXD))
        return fail(err, ii, "rewritten into another instruction (%s)", ZydisMnemonicGetString(rz.mnemonic));
      if (!hp_analyze_bytes(rw->bytes, rw->zi.length, &re))
        return fail(err, ii, "its rewrite cannot be analyzed");
      if (re.gpr_write & p->regs)
        return fail(err, ii, "its rewrite writes a register the promotion took (0x%x)", re.gpr_write & p->regs);
      if (re.gpr_read & scratch)
        return fail(err, ii, "its rewrite reads the scratch register");
      if (in->flags & HP_INSN_PROMOTED) {
        int k = slot_of_reg(p, in->reg);
        const struct hp_mem_operand *m = &re.mem[0];
        if (k < 0 || re.nmem != 1 || m->base != RBP || m->index != HP_MEM_NONE || m->disp != p->slot[k].disp)
          return fail(err, ii, "its rewrite no longer accesses its promoted slot");
      }
    } else if (known[i] && (eff[i].gpr_read & left)) {
      /* Its own bytes read guest registers whose machine registers hold
       * something else. */
      return fail(err, ii, "reads registers 0x%x that are pending and not rewritten", eff[i].gpr_read & left);
    }
    if (!known[i]) {
      if (left)
        return fail(err, ii, "an instruction the analysis cannot describe, with registers 0x%x pending", left);
      continue;
    }
    /* What stays pending after it must not read what it writes (it would
     * be stale, and a fault's recovery record would rebuild it wrong). */
    uint16_t w = (uint16_t)(eff[i].gpr_write | re.gpr_write);
    if ((in->flags & HP_INSN_SLOT_WRITE) && in->reg < HP_PROMO_XMM)
      w |= (uint16_t)(1u << in->reg);
    if (in->flags & HP_INSN_ALIAS_CHECK)
      w |= pregs; /* its out-of-line path loads the slots again */
    if (i + 1 < l->n) {
      const struct hp_fold_snap *nx = &F->snap[F->elem[i + 1].pend];
      if (F->elem[i + 1].pend >= F->nsnap)
        return fail(err, ii + 1, "snapshot %u out of range", F->elem[i + 1].pend);
      for (unsigned g = 0; g < 16; g++)
        if (((nx->mask >> g) & 1) && ((left >> g) & 1) && (expr_uses(&nx->e[g]) & w) &&
            !rebased(in, w, &sn->e[g], &nx->e[g]))
          return fail(err, ii, "register %u stays pending over this write of a register its expression reads (0x%x)", g,
                      expr_uses(&nx->e[g]) & w);
    }
  }
  return true;
}

/* What the pass may have changed in the list it was given. */
static bool check_diff(const struct hp_ilist *l, const struct hp_ilist *b, enum hp_verify_pass pass,
                       struct hp_verify_error *err)
{
  if (b->n != l->n || b->pc != l->pc)
    return fail(err, -1, "the pass changed the list's length or head (%u elements at 0x%llx, given %u at 0x%llx)", l->n,
                (unsigned long long)l->pc, b->n, (unsigned long long)b->pc);
  uint16_t may_add = 0, may_drop = 0;
  bool reg = false;
  switch (pass) {
  case HP_VERIFY_RETELIDE: may_add = HP_INSN_RET_KNOWN; break;
  case HP_VERIFY_PROMOTE: may_add = OPT_FLAGS | HP_INSN_SHARE; reg = true; break;
  case HP_VERIFY_UNOPTIMIZE: may_drop = OPT_FLAGS | HP_INSN_SHARE; break;
  default: break;
  }
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *x = &l->v[i], *y = &b->v[i];
    if (x->pc != y->pc || x->target != y->target || x->op != y->op || x->len != y->len || x->cc != y->cc ||
        x->exit_kind != y->exit_kind || x->check_len != y->check_len || memcmp(x->bytes, y->bytes, x->len) ||
        x->zi.length != y->zi.length || x->zi.mnemonic != y->zi.mnemonic)
      return fail(err, (int)i, "the %s pass changed the element (only marks are its to change)", hp_verify_pass_name(pass));
    uint16_t added = (uint16_t)(x->flags & ~y->flags), dropped = (uint16_t)(y->flags & ~x->flags);
    if ((added & ~may_add) || (dropped & ~may_drop))
      return fail(err, (int)i, "the %s pass changed flags 0x%x -> 0x%x", hp_verify_pass_name(pass), y->flags, x->flags);
    if (x->reg != y->reg && !(reg && (x->flags & HP_INSN_PROMOTED)))
      return fail(err, (int)i, "the %s pass changed reg of an element it did not promote", hp_verify_pass_name(pass));
  }
  return true;
}

bool hp_verify_trace(const struct hp_ilist *l, const struct hp_ilist *before, enum hp_verify_pass pass,
                     struct hp_verify_error *err)
{
  err->elem = -1;
  err->what[0] = 0;
  if (!check_shape(l, err))
    return false;
  if (before && !check_diff(l, before, pass, err))
    return false;
  bool opt_allowed = pass == HP_VERIFY_PROMOTE || pass == HP_VERIFY_FOLD;
  if (l->fold && pass != HP_VERIFY_FOLD)
    return fail(err, -1, "a fold plan attached before the fold pass ran");
  if (l->fold && !l->promo)
    return fail(err, -1, "a fold plan without a promotion (the lowering ignores it)");
  if (l->promo && !opt_allowed)
    return fail(err, -1, "a promotion attached at the %s stage", hp_verify_pass_name(pass));
  if (!l->promo) {
    for (unsigned i = 0; i < l->n; i++)
      if (l->v[i].flags & (OPT_FLAGS | HP_INSN_SHARE))
        return fail(err, (int)i, "optimizer flags 0x%x without a promotion (the lowering refuses them)",
                    l->v[i].flags & (OPT_FLAGS | HP_INSN_SHARE));
  } else if (!check_promoted(l, err)) {
    return false;
  }
  if (l->fold && !check_fold(l, err))
    return false;
  return true;
}
