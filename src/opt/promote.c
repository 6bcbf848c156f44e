/* Register promotion of frame slots in loop traces (see promote.h). */
#include "hotpath/promote.h"

#include <stdlib.h>
#include <string.h>

#include "hotpath/analysis.h"
#include "hotpath/frames.h"
#include "hotpath/liveness.h"

#define RSP 4
#define RBP 5
#define MAX_ACCESSES 256
#define MAX_ANCHORS 64
#define DISPATCH_GAP 8 /* bytes between two slots of a dispatch's plan, at most */

/* Legacy-encoded, 64-bit addresses, a ModRM operand, no lock. */
static bool legacy_unlocked_modrm(const ZydisDecodedInstruction *zi)
{
  return zi->encoding == ZYDIS_INSTRUCTION_ENCODING_LEGACY && zi->address_width == 64 &&
         (zi->attributes & (ZYDIS_ATTRIB_HAS_LOCK | ZYDIS_ATTRIB_HAS_MODRM)) == ZYDIS_ATTRIB_HAS_MODRM;
}

/* Instructions whose memory operand (ModRM r/m) may be a general register
 * with the same meaning. Not: lea (an address), bt* (a register bit offset
 * reaches beyond the operand in memory), SSE moves (a register source
 * merges), anything locked. */
static bool rm_can_be_register(const ZydisDecodedInstruction *zi)
{
  if (!legacy_unlocked_modrm(zi))
    return false;
  switch (zi->mnemonic) {
  case ZYDIS_MNEMONIC_MOV:
  case ZYDIS_MNEMONIC_MOVSX:
  case ZYDIS_MNEMONIC_MOVSXD:
  case ZYDIS_MNEMONIC_MOVZX:
  case ZYDIS_MNEMONIC_ADD:
  case ZYDIS_MNEMONIC_SUB:
  case ZYDIS_MNEMONIC_ADC:
  case ZYDIS_MNEMONIC_SBB:
  case ZYDIS_MNEMONIC_AND:
  case ZYDIS_MNEMONIC_OR:
  case ZYDIS_MNEMONIC_XOR:
  case ZYDIS_MNEMONIC_CMP:
  case ZYDIS_MNEMONIC_TEST:
  case ZYDIS_MNEMONIC_INC:
  case ZYDIS_MNEMONIC_DEC:
  case ZYDIS_MNEMONIC_NEG:
  case ZYDIS_MNEMONIC_NOT:
  case ZYDIS_MNEMONIC_IMUL:
  case ZYDIS_MNEMONIC_MUL:
  case ZYDIS_MNEMONIC_DIV:
  case ZYDIS_MNEMONIC_IDIV:
  case ZYDIS_MNEMONIC_SHL:
  case ZYDIS_MNEMONIC_SHR:
  case ZYDIS_MNEMONIC_SAR:
  case ZYDIS_MNEMONIC_ROL:
  case ZYDIS_MNEMONIC_ROR:
  case ZYDIS_MNEMONIC_CMOVB:
  case ZYDIS_MNEMONIC_CMOVBE:
  case ZYDIS_MNEMONIC_CMOVL:
  case ZYDIS_MNEMONIC_CMOVLE:
  case ZYDIS_MNEMONIC_CMOVNB:
  case ZYDIS_MNEMONIC_CMOVNBE:
  case ZYDIS_MNEMONIC_CMOVNL:
  case ZYDIS_MNEMONIC_CMOVNLE:
  case ZYDIS_MNEMONIC_CMOVNZ:
  case ZYDIS_MNEMONIC_CMOVZ:
  case ZYDIS_MNEMONIC_CMOVS:
  case ZYDIS_MNEMONIC_CMOVNS:
  case ZYDIS_MNEMONIC_CVTSI2SD:
  case ZYDIS_MNEMONIC_CVTSI2SS:
    return true;
  default:
    return false;
  }
}

/* Scalar SSE instructions whose memory operand (m32 or m64) can be an
 * xmm register holding the slot zero-extended: movss/movsd loads become
 * register copies and stores also update the register (the lowering's
 * job); the others read the low element of a register source as they read
 * memory. size: the access's bytes. */
static bool rm_can_be_xmm(const ZydisDecodedInstruction *zi, unsigned size)
{
  if (!legacy_unlocked_modrm(zi))
    return false;
  switch (zi->mnemonic) {
  case ZYDIS_MNEMONIC_MOVSD:
  case ZYDIS_MNEMONIC_ADDSD:
  case ZYDIS_MNEMONIC_SUBSD:
  case ZYDIS_MNEMONIC_MULSD:
  case ZYDIS_MNEMONIC_DIVSD:
  case ZYDIS_MNEMONIC_MINSD:
  case ZYDIS_MNEMONIC_MAXSD:
  case ZYDIS_MNEMONIC_SQRTSD:
  case ZYDIS_MNEMONIC_COMISD:
  case ZYDIS_MNEMONIC_UCOMISD:
  case ZYDIS_MNEMONIC_CVTSD2SS:
  case ZYDIS_MNEMONIC_CVTSD2SI:
  case ZYDIS_MNEMONIC_CVTTSD2SI:
    return size == 8;
  case ZYDIS_MNEMONIC_MOVSS:
  case ZYDIS_MNEMONIC_ADDSS:
  case ZYDIS_MNEMONIC_SUBSS:
  case ZYDIS_MNEMONIC_MULSS:
  case ZYDIS_MNEMONIC_DIVSS:
  case ZYDIS_MNEMONIC_MINSS:
  case ZYDIS_MNEMONIC_MAXSS:
  case ZYDIS_MNEMONIC_SQRTSS:
  case ZYDIS_MNEMONIC_COMISS:
  case ZYDIS_MNEMONIC_UCOMISS:
  case ZYDIS_MNEMONIC_CVTSS2SD:
  case ZYDIS_MNEMONIC_CVTSS2SI:
  case ZYDIS_MNEMONIC_CVTTSS2SI:
    return size == 4;
  default:
    return false;
  }
}

/* bt/bts/btr/btc with a register bit offset: the access is at
 * operand + offset / 8, anywhere near it. */
static bool bit_test_reg_offset(const struct hp_insn *in)
{
  ZydisMnemonic mn = in->zi.mnemonic;
  if (mn != ZYDIS_MNEMONIC_BT && mn != ZYDIS_MNEMONIC_BTS && mn != ZYDIS_MNEMONIC_BTR && mn != ZYDIS_MNEMONIC_BTC)
    return false;
  ZydisDecodedInstruction full;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  return !hp_insn_operands(in, &full, ops) || full.operand_count < 2 || ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE;
}

enum { CLS_NONE, CLS_GPR, CLS_XMM }; /* the register an access can use */

/* An [rbp+disp] access of the trace. */
struct access {
  unsigned elem;
  int32_t disp;
  uint8_t size, cls;
  bool write, probe; /* probe: it writes the slot and reads the flags */
};

struct cand {
  int32_t disp;
  uint8_t size, cls;
  unsigned uses;
  unsigned writes; /* accesses that write it */
  bool ok;
};

static int cmp_cand(const void *a, const void *b)
{
  const struct cand *x = a, *y = b;
  return (x->disp > y->disp) - (x->disp < y->disp);
}

/* Registers in the order they are taken: those no lowering sequence uses
 * as a scratch first. */
static const int reg_order[] = {15, 14, 13, 12, 3, 11, 10, 9, 8, 7, 6, 2, 1, 0};
/* xmm registers: those -O0 code (arguments, return values, temporaries
 * from xmm0 up) is least likely to name first. */
static const int xmm_order[] = {15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};

/* [*lo, *hi) grows to hold [a, a+size). */
static void span_add(uint64_t *lo, uint64_t *hi, uint64_t a, uint64_t size)
{
  *lo = a < *lo ? a : *lo;
  *hi = a + size > *hi ? a + size : *hi;
}

/* like's slot k against the candidates: every access to its bytes is the
 * slot itself, in a register of its kind. */
static bool like_slot_ok(const struct hp_promo_slot *s, const struct cand *c, unsigned nc, unsigned *writes)
{
  *writes = 0;
  for (unsigned k = 0; k < nc; k++) {
    if (!(c[k].disp < s->disp + s->size && s->disp < c[k].disp + c[k].size))
      continue;
    if (c[k].disp != s->disp || c[k].size != s->size || !c[k].ok ||
        c[k].cls != (s->reg >= HP_PROMO_XMM ? CLS_XMM : CLS_GPR))
      return false;
    *writes = c[k].writes;
  }
  return true;
}

/* The chosen plan p onto l's elements: promoted accesses, checks (which
 * clobber the status flags: where they are live the check sets them
 * aside, since a fault of the checked store must show the handler the
 * guest's flags), and the exits that may share the plan. */
static void mark(struct hp_ilist *l, struct hp_promotion *p, const struct access *acc, unsigned nacc, uint8_t *check,
                 const uint8_t *lcheck, const uint8_t *share, const struct hp_live *live, bool need_scratch)
{
  if (need_scratch)
    for (unsigned i = 0; i < l->n; i++)
      if ((check[i] & 1) && (live[i].flags & HP_FL_STATUS))
        check[i] |= 4;
  for (unsigned a = 0; a < nacc; a++)
    for (unsigned k = 0; k < p->nslots; k++)
      if (acc[a].disp == p->slot[k].disp) {
        l->v[acc[a].elem].flags |= (uint16_t)(HP_INSN_PROMOTED | (acc[a].write ? HP_INSN_SLOT_WRITE : 0) |
                                              (acc[a].probe && !p->deferred ? HP_INSN_PROBE_STORE : 0));
        l->v[acc[a].elem].reg = p->slot[k].reg;
        p->slot[k].uses++;
      }
  for (unsigned i = 0; i < l->n; i++) {
    if (check[i]) {
      l->v[i].flags |= (uint16_t)((check[i] & 1 ? HP_INSN_ALIAS_CHECK : 0) | ((check[i] & 2) ? HP_INSN_IN_CALLEE : 0) |
                                  ((check[i] & 4) ? HP_INSN_KEEP_FLAGS : 0) | ((check[i] & 8) ? HP_INSN_RBP_CHECK : 0));
      p->checks += (check[i] & 1) && !lcheck[i];
      p->load_checks += (check[i] & 1) && lcheck[i];
    }
    if (share[i] && !p->deferred) /* (deferred: memory owes the slots their values) */
      l->v[i].flags |= HP_INSN_SHARE;
  }
  l->promo = p;
}

/* A side trace (hp_promote's like): like's slots in like's registers, its
 * entry checks as like's, or nothing. */
static bool promote_like(struct hp_ilist *l, struct hp_promotion *p, const struct hp_promotion *like,
                         const struct cand *c, unsigned nc, const struct access *acc, unsigned nacc, uint8_t *check,
                         const uint8_t *lcheck, const uint8_t *share, const int32_t *anchor, unsigned nanchor,
                         uint32_t used, uint32_t xused, bool xall, bool need_scratch, bool calls, bool entry_flags_dead,
                         const struct hp_live *live, const char **why)
{
  *why = "the loop it returns to keeps other slots or registers";
  if ((used & like->regs) || (xused & like->xregs) || (xall && like->xregs) || (need_scratch && like->scratch < 0) ||
      (calls && !like->frame_check))
    return false;
  for (unsigned a = 0; a < nanchor; a++)
    if (anchor[a] >= like->lo && anchor[a] < like->hi)
      return false;
  struct hp_promo_slot slot[HP_PROMO_MAX_SLOTS];
  for (unsigned k = 0; k < like->nslots; k++) {
    unsigned writes;
    if (!like_slot_ok(&like->slot[k], c, nc, &writes))
      return false;
    slot[k] = (struct hp_promo_slot){like->slot[k].disp, like->slot[k].size, like->slot[k].reg, 0, (uint16_t)writes};
  }
  memset(p, 0, sizeof *p);
  p->nslots = like->nslots;
  memcpy(p->slot, slot, like->nslots * sizeof slot[0]);
  p->scratch = like->scratch;
  p->regs = like->regs;
  p->xregs = like->xregs;
  p->lo = like->lo;
  p->hi = like->hi;
  p->frame_check = like->frame_check;
  p->rip_check = like->rip_check;
  p->rip_lo = like->rip_lo;
  p->rip_size = like->rip_size;
  p->side = true;
  mark(l, p, acc, nacc, check, lcheck, share, live, need_scratch);
  p->entry_flags_dead = entry_flags_dead;
  return true;
}

/* A dispatch's cases (l->ahead: blocks one after another, each ending in
 * its control transfer), which will take its plan: their [rbp+d] accesses
 * (each block starts in the dispatch's frame, up to anything that changes
 * rsp or rbp), the frame addresses they compute and the registers they
 * touch, so that the plan holds the slots they use most and none of their
 * registers. Returns false when a list is full. */
static bool ahead_accesses(const struct hp_ilist *ah, struct access *acc, unsigned *nacc, int32_t *anchor,
                           unsigned *nanchor, uint32_t *used, uint32_t *xused, bool *xall)
{
  bool framed = true; /* rbp and rsp are the dispatch's */
  for (unsigned i = 0; i < ah->n; i++) {
    const struct hp_insn *in = &ah->v[i];
    if (in->op != HP_OP_GUEST) {
      framed = true; /* the next block */
      continue;
    }
    struct hp_insn_effects e;
    if (!framed || !hp_analyze_insn(in, &e)) {
      framed = false;
      continue;
    }
    *used |= e.gpr_read | e.gpr_write;
    *xused |= e.xmm;
    *xall |= e.xmm_all;
    if (((e.gpr_write >> RSP) | (e.gpr_write >> RBP)) & 1) {
      framed = false;
      continue;
    }
    for (unsigned k = 0; k < e.nmem; k++) {
      const struct hp_mem_operand *m = &e.mem[k];
      if (m->seg != HP_SEG_FLAT || (m->base != RBP && m->index != RBP))
        continue;
      if (m->base == RBP && m->index == HP_MEM_NONE && in->zi.mnemonic != ZYDIS_MNEMONIC_LEA) {
        if (*nacc == MAX_ACCESSES)
          return false;
        uint8_t cls = CLS_NONE;
        if (e.nmem == 1 && (m->size == 4 || m->size == 8) && !(in->flags & HP_INSN_RIPREL)) {
          if (rm_can_be_register(&in->zi))
            cls = CLS_GPR;
          else if (rm_can_be_xmm(&in->zi, m->size))
            cls = CLS_XMM;
        }
        acc[(*nacc)++] = (struct access){0, (int32_t)m->disp, (uint8_t)m->size, cls, m->write, false};
      } else {
        if (*nanchor == MAX_ANCHORS)
          return false;
        anchor[(*nanchor)++] = (int32_t)m->disp;
      }
    }
  }
  return true;
}

bool hp_promote(struct hp_ilist *l, struct hp_promotion *p, unsigned avoid, bool defer,
                const struct hp_promotion *like, const struct hp_insn_effects *eff, const bool *known,
                const char **why)
{
  struct access acc[MAX_ACCESSES];
  unsigned nacc = 0;
  int32_t anchor[MAX_ANCHORS];
  unsigned nanchor = 0;
  uint32_t used = (1u << RSP) | (1u << RBP), xused = 0;
  bool xall = false; /* an instruction touches every vector register */
  bool loop = false, other_mem = false; /* other_mem: stores to check at run time */
  memset(p, 0, sizeof *p);
  p->scratch = -1;
  if (l->promo) {
    *why = "already promoted";
    return false;
  }
  if (like && (like->fold_only || like->deferred || !like->nslots)) {
    *why = "the loop it returns to has no plan to share";
    return false;
  }
  if (like)
    defer = false; /* (the exits between the two need memory exact) */
  /* A switch's jump at the end (the caller found its table): the cases'
   * traces come back here and take this plan, so the trace need not be a
   * loop; their exits are shared, so memory stays exact. */
  bool jt_end = !like && l->jt_tail && l->n >= 2 && l->v[l->n - 1].op == HP_OP_JMP_IND && l->jt_tail < l->n - 1;
  if (jt_end)
    defer = false;
  /* Calls inlined in the trace (each with its return in it) are followed
   * through their frames; the trace's entry then checks that the slots
   * are at or above rsp, so that the callees' frames lie below them. */
  bool calls = false, guards = false;
  for (unsigned i = 0; i < l->n; i++) {
    unsigned op = l->v[i].op;
    calls |= op == HP_OP_PUSH_RET || op == HP_OP_CALL_IND_GUARD || op == HP_OP_RET_GUARD;
    guards |= op == HP_OP_CALL_IND_GUARD || op == HP_OP_JMP_IND_GUARD ||
              (op == HP_OP_RET_GUARD && !(l->v[i].flags & HP_INSN_RET_KNOWN)); /* retelide.c */
  }
  if (guards)
    avoid |= 1u << 0 | 1u << 1 | 1u << 2; /* rax, rcx, rdx: the guards' lookups */
  uint8_t check[l->n ? l->n : 1];
  memset(check, 0, sizeof check);
  /* Deferred stores leave memory stale while the loop runs: every load
   * that may read a slot is checked too (lcheck, as check's bits 1 and 2),
   * and anything that reads memory without a check rules them out. */
  uint8_t lcheck[l->n ? l->n : 1];
  memset(lcheck, 0, sizeof lcheck);
  unsigned nlcheck = 0;
  /* Rip-relative accesses (globals) are at fixed addresses, and the slots'
   * hull is fixed while the loop runs: one check at the entry that the
   * span of those addresses misses the hull replaces their checks when
   * the flags are dead there (riprel: 1 a store, 2 a load, to check one
   * by one otherwise; 4: inside a callee). */
  uint8_t riprel[l->n ? l->n : 1];
  memset(riprel, 0, sizeof riprel);
  uint64_t rip_at[l->n ? l->n : 1]; /* riprel: the access's address and size */
  uint8_t rip_sz[l->n ? l->n : 1];
  /* Exits where rsp and rbp are the entry's, outside any inlined call:
   * they may go straight into a trace with the same plan (HP_INSN_SHARE). */
  uint8_t share[l->n ? l->n : 1];
  memset(share, 0, sizeof share);
  uint64_t rip_lo = UINT64_MAX, rip_hi = 0;
  struct hp_frames fr;
  hp_frames_init(&fr);
  unsigned depth = 0; /* calls open */
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    switch (in->op) {
    case HP_OP_EXIT:
    case HP_OP_EXIT_CC:
      if (in->flags & HP_INSN_BACK_EDGE) {
        if (fr.delta != 0 || fr.rbp.kind != HP_SYM_OUTER || depth) {
          *why = "the loop does not come back to its own frame";
          return false;
        }
        loop = true;
      } else if (!depth && fr.delta == 0 && fr.rbp.kind == HP_SYM_OUTER && in->exit_kind == HP_EXIT_BRANCH) {
        share[i] = 1;
      }
      continue;
    case HP_OP_STOP:
      continue;
    case HP_OP_JMP_IND_GUARD:
    case HP_OP_CALL_IND_GUARD:
    case HP_OP_PUSH_RET: {
      /* The registers an indirect branch reads its target from: not to
       * be taken (the guard loads the target from them). */
      struct hp_insn_effects ge;
      if (in->op != HP_OP_PUSH_RET) {
        if (!hp_analyze_bytes(in->bytes, in->len, &ge)) {
          *why = "an instruction the analysis cannot describe";
          return false;
        }
        used |= ge.gpr_read;
        /* A target read from memory: from a frame slot, that slot stays
         * in memory; from anywhere else, stores cannot be deferred (the
         * guard's load is not checked). */
        for (unsigned k = 0; k < ge.nmem; k++) {
          const struct hp_mem_operand *gm = &ge.mem[k];
          if (fr.rbp.kind == HP_SYM_OUTER && gm->base == RBP && gm->index == HP_MEM_NONE && nacc < MAX_ACCESSES) {
            acc[nacc++] = (struct access){i, (int32_t)gm->disp, (uint8_t)(gm->size ? gm->size : 8), CLS_NONE,
                                          false, false};
          } else if (gm->base == HP_MEM_RIP && gm->index == HP_MEM_NONE && gm->size) {
            span_add(&rip_lo, &rip_hi, in->pc + in->len + (uint64_t)gm->disp, gm->size); /* a PLT's GOT entry */
            riprel[i] = 8; /* no check of its own: without the entry's, no deferred stores */
            rip_at[i] = in->pc + in->len + (uint64_t)gm->disp;
            rip_sz[i] = (uint8_t)gm->size;
          } else {
            defer = false;
          }
        }
      }
      if (in->op == HP_OP_JMP_IND_GUARD)
        continue;
      /* The return address goes below rsp: below the slots only if rsp is
       * at or below the entry's (which the entry checks against them). */
      if (fr.delta > 0) {
        *why = "a call above the loop's stack pointer";
        return false;
      }
      depth++;
      fr.delta -= 8;
      if (!hp_frames_set(&fr, fr.delta, (struct hp_sym){HP_SYM_RET, 0})) {
        *why = "too many stack slots";
        return false;
      }
      continue;
    }
    case HP_OP_RET_GUARD:
      if (!depth) {
        *why = "a return from outside the trace";
        return false;
      }
      depth--;
      fr.delta += 8 + in->check_len;
      hp_frames_pop(&fr);
      continue;
    case HP_OP_JMP_IND:
      if (jt_end && i == l->n - 1) {
        struct hp_insn_effects je;
        if (!hp_analyze_bytes(in->bytes, in->len, &je)) {
          *why = "an instruction the analysis cannot describe";
          return false;
        }
        used |= je.gpr_read; /* the lookup reads the target where it is */
        if (depth || fr.delta != 0 || fr.rbp.kind != HP_SYM_OUTER) {
          *why = "a jump table inside an inlined call";
          return false;
        }
        share[i] = 1;
        continue;
      }
      *why = "calls, returns or indirect branches";
      return false;
    case HP_OP_GUEST:
      break;
    default:
      *why = "calls, returns or indirect branches";
      return false;
    }
    if (!known[i]) {
      *why = "an instruction the analysis cannot describe";
      return false;
    }
    const struct hp_insn_effects e = eff[i];
    if (e.control) {
      *why = "calls, returns or indirect branches";
      return false;
    }
    bool outer = fr.rbp.kind == HP_SYM_OUTER; /* [rbp+d] is a slot of the loop's frame */
    struct hp_frames before = fr;
    if ((((e.gpr_write >> RSP) | (e.gpr_write >> RBP)) & 1) && (!calls || !hp_frames_track(&fr, in, &e))) {
      *why = "rsp or rbp changes";
      return false;
    }
    if (fr.rbp_check) { /* this pop or leave */
      check[i] |= 8;
      fr.rbp_check = false;
    }
    used |= e.gpr_read | e.gpr_write;
    xused |= e.xmm;
    xall |= e.xmm_all;
    if (in->zi.mnemonic == ZYDIS_MNEMONIC_LEA && outer) {
      ZydisDecodedInstruction full;
      ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
      if (!hp_insn_operands(in, &full, ops) || full.operand_count < 2) {
        *why = "an instruction the analysis cannot describe";
        return false;
      }
      const ZydisDecodedOperandMem *m = &ops[1].mem;
      if (m->base == ZYDIS_REGISTER_RBP || m->index == ZYDIS_REGISTER_RBP) {
        if (nanchor == MAX_ANCHORS) {
          *why = "too many frame addresses";
          return false;
        }
        anchor[nanchor++] = (int32_t)m->disp.value;
      }
    }
    if (e.nmem > 1) {
      *why = "an instruction with two memory operands";
      return false;
    }
    /* The table's tail runs again in each slot: loads and arithmetic only. */
    if (jt_end && i >= l->jt_tail && e.nmem && e.mem[0].write) {
      *why = "a store in a jump table's tail";
      return false;
    }
    if (!e.nmem)
      continue;
    const __typeof__(e.mem[0]) *m = &e.mem[0];
    if (bit_test_reg_offset(in)) {
      *why = "a bit test with a register bit offset (its access reaches past its operand)";
      return false;
    }
    if (m->seg == HP_SEG_FS && !m->write && m->index != HP_MEM_VSIB && m->size && m->size <= 64 &&
        in->zi.address_width == 64) {
      /* A load through FS (thread-local storage: errno, the pointer to
       * the ctype table isalpha() reads) sees memory, which write-through
       * stores keep exact; deferred ones would need it checked, and its
       * linear address is not at hand: no deferred stores. */
      defer = false;
      continue;
    }
    if (m->seg != HP_SEG_FLAT || m->index == HP_MEM_VSIB || !m->size || m->size > 64 ||
        in->zi.address_width != 64) {
      *why = "a segment, gather, string or 32-bit-address access";
      return false;
    }
    if (outer && m->base == RBP && m->index == HP_MEM_NONE) {
      if (nacc == MAX_ACCESSES) {
        *why = "too many frame accesses";
        return false;
      }
      uint8_t cls = CLS_NONE;
      if ((m->size == 4 || m->size == 8) && !(in->flags & HP_INSN_RIPREL)) {
        if (rm_can_be_register(&in->zi))
          cls = CLS_GPR;
        else if (rm_can_be_xmm(&in->zi, m->size))
          cls = CLS_XMM;
      }
      acc[nacc++] = (struct access){i, (int32_t)m->disp, (uint8_t)m->size, cls, m->write,
                                    m->write && e.flags_read != 0};
      continue;
    }
    if (outer && (m->base == RBP || m->index == RBP)) {
      if (nanchor == MAX_ANCHORS) {
        *why = "too many frame addresses";
        return false;
      }
      anchor[nanchor++] = (int32_t)m->disp;
    }
    if (m->base == HP_MEM_RIP && m->index == HP_MEM_NONE) {
      span_add(&rip_lo, &rip_hi, in->pc + in->len + (uint64_t)m->disp, m->size);
      riprel[i] = (uint8_t)((m->write ? 1 : 2) | (outer ? 0 : 4));
      rip_at[i] = in->pc + in->len + (uint64_t)m->disp;
      rip_sz[i] = (uint8_t)m->size;
      if (m->write)
        fr.dirty = true; /* as any store the frames cannot place */
      continue;
    }
    int64_t at;
    if (!m->write) {
      /* Loads read memory, which is exact with write-through; deferred,
       * one that may read a slot is checked (not one below the entry's
       * rsp: a callee's frame). */
      if (!(calls && hp_frames_address(&before, m, &at) && at + m->size <= 0)) {
        lcheck[i] = (uint8_t)(1 | (outer ? 0 : 2));
        nlcheck++;
      }
      continue;
    }
    if (calls && hp_frames_address(&before, m, &at)) {
      if (in->zi.mnemonic != ZYDIS_MNEMONIC_PUSH) /* a push's cell is what it pushed */
        hp_frames_clobber(&fr, at, m->size);
      /* A store into the stack below the entry's rsp (a callee's frame,
       * pushes): below the slots, which the entry checks. */
      if (at + m->size <= 0)
        continue;
      if (!outer) {
        *why = "a store into the loop's frame from an inlined call";
        return false;
      }
    }
    /* A store through a pointer: checked against the slots (inside a
     * callee, against the loop's rbp saved at the entry). */
    check[i] |= (uint8_t)(1 | (outer ? 0 : 2));
    other_mem = true;
    /* It may have written a stack slot that holds the loop's rbp: the
     * pop or leave that brings it back is checked. */
    fr.dirty = true;
  }
  if (depth) {
    *why = "a call whose return is not in the trace";
    return false;
  }
  if (!loop && !like && !jt_end) {
    *why = "not a loop";
    return false;
  }
  /* The entry's check of the globals' span clobbers the flags: without
   * it, each rip-relative store is checked, and each load too if stores
   * are deferred. */
  struct hp_live live[l->n + 1];
  hp_liveness_cached(l, eff, known, live, false);
  /* The entry's checks clobber the flags only where they are dead even if
   * the guest's first access of a slot faults (no promotion attached yet:
   * every access may fault). That fault is the entry's own load or store
   * of the slot as well: the trace leaves through deopt, and the guest,
   * run again unoptimized up to its own fault, shows the handler its
   * flags. */
  struct hp_live live_entry[l->n + 1];
  hp_liveness_cached(l, eff, known, live_entry, true);
  bool entry_flags_dead = !(live_entry[0].flags & HP_FL_STATUS);
  bool rip_needed = false; /* a rip-relative store, or loads with deferred stores */
  for (unsigned i = 0; i < l->n; i++)
    rip_needed |= (riprel[i] & 1) || (defer && (riprel[i] & 10));
  p->rip_check = rip_needed && rip_hi - rip_lo <= (1u << 30); /* (flag-free where they are live) */
  if (p->rip_check) {
    p->rip_lo = rip_lo;
    p->rip_size = (uint32_t)(rip_hi - rip_lo);
  }
  if (like) { /* the entry checks like's span, whatever this trace needs */
    p->rip_check = like->rip_check;
    p->rip_lo = like->rip_lo;
    p->rip_size = like->rip_size;
  }
  /* What the entry's span does not cover is checked where it happens. */
  for (unsigned i = 0; i < l->n; i++) {
    if (!riprel[i] || (p->rip_check && rip_at[i] >= p->rip_lo && rip_at[i] + rip_sz[i] <= p->rip_lo + p->rip_size))
      continue;
    uint8_t in_callee = riprel[i] & 4 ? 2 : 0;
    if (riprel[i] & 1) {
      check[i] |= (uint8_t)(1 | in_callee);
      other_mem = true;
    } else if (riprel[i] & 2) {
      lcheck[i] = (uint8_t)(1 | in_callee);
      nlcheck++;
    } else if (riprel[i] & 8) {
      defer = false;
    }
  }
  /* A dispatch's cases: their accesses count as the trace's own (they
   * mark none of its elements: from nmine on), their frame addresses and
   * registers too. */
  unsigned nmine = nacc;
  if (jt_end && l->ahead &&
      !ahead_accesses(l->ahead, acc, &nacc, anchor, &nanchor, &used, &xused, &xall)) {
    *why = "too many frame accesses in the cases";
    return false;
  }
  /* Candidate slots: every access that touches their bytes is the same
   * [rbp+disp] at the same size, by an instruction that can be rewritten. */
  struct cand c[MAX_ACCESSES];
  unsigned nc = 0;
  for (unsigned a = 0; a < nacc; a++) {
    unsigned k;
    for (k = 0; k < nc; k++)
      if (c[k].disp == acc[a].disp && c[k].size == acc[a].size)
        break;
    if (k == nc)
      c[nc++] = (struct cand){acc[a].disp, acc[a].size, acc[a].cls, 0, 0, true};
    c[k].uses++;
    c[k].ok &= acc[a].cls != CLS_NONE && acc[a].cls == c[k].cls && !(acc[a].cls == CLS_XMM && xall);
    c[k].writes += acc[a].write && a < nmine;
  }
  /* The trace's entry loads its slots, speculatively: a run may leave
   * before touching one (rbp may even be a data pointer), so a fault of
   * those loads is not the guest's: the trace leaves and is rebuilt
   * unoptimized (the lowering's deopt exit). */
  for (unsigned k = 0; k < nc; k++) {
    /* Only locals below the frame pointer (-O0 frames; at -O2 rbp may
     * point anywhere). A slot the loop only reads is promoted too: traces
     * are optimized only while the process has one thread (record.c), so
     * only this loop's own stores (checked) can change it while it runs;
     * a signal handler's changes are seen when the trace is entered
     * again. */
    if ((int64_t)c[k].disp + c[k].size > 0)
      c[k].ok = false;
    for (unsigned a = 0; a < nacc && c[k].ok; a++) {
      bool same = acc[a].disp == c[k].disp && acc[a].size == c[k].size;
      bool overlap = acc[a].disp < c[k].disp + c[k].size && c[k].disp < acc[a].disp + acc[a].size;
      if (overlap && !same)
        c[k].ok = false;
    }
    for (unsigned a = 0; a < nanchor; a++)
      if (anchor[a] >= c[k].disp && anchor[a] < c[k].disp + c[k].size)
        c[k].ok = false;
  }
  if (like)
    return promote_like(l, p, like, c, nc, acc, nacc, check, lcheck, share, anchor, nanchor, used | avoid, xused, xall,
                        other_mem || calls || p->rip_check, calls, entry_flags_dead, live, why);
  unsigned n = 0;
  for (unsigned k = 0; k < nc; k++)
    if (c[k].ok)
      c[n++] = c[k];
  nc = n;
  if (!nc) {
    *why = "no frame slot that can live in a register";
    return false;
  }
  /* Free registers: untouched by the trace and not reserved. */
  int freeregs[16];
  unsigned nfree = 0;
  for (size_t k = 0; k < sizeof reg_order / sizeof reg_order[0]; k++)
    if (!((used | avoid) & (1u << reg_order[k])))
      freeregs[nfree++] = reg_order[k];
  int freex[16];
  unsigned nfreex = 0;
  for (size_t k = 0; k < sizeof xmm_order / sizeof xmm_order[0]; k++)
    if (!(xused & (1u << xmm_order[k])))
      freex[nfreex++] = xmm_order[k];
  /* General registers for slots: the checks' scratch aside. */
  /* (a dispatch's: its cases' stores through pointers, which its side
   * traces check with the plan's scratch register) */
  bool need_scratch = other_mem || calls || (defer && nlcheck) || p->rip_check || jt_end; /* the checks', the entry's */
  unsigned room = nfree > (need_scratch ? 1u : 0u) ? nfree - (need_scratch ? 1u : 0u) : 0;
  if (need_scratch && !nfree)
    room = nfreex = 0; /* no scratch for the checks: nothing can be promoted */
  /* The slots promoted are a run of candidates in address order whose hull
   * holds no frame address the trace computes (so array accesses do not
   * trip the checks), with the most uses. */
  qsort(c, nc, sizeof c[0], cmp_cand);
  unsigned best_i = 0, best_j = 0, best_uses = 0;
  for (unsigned i = 0; i < nc; i++) {
    unsigned uses = 0, ngpr = 0, nxmm = 0;
    for (unsigned j = i; j < nc && j - i < HP_PROMO_MAX_SLOTS; j++) {
      if (c[j].cls == CLS_GPR ? ++ngpr > room : ++nxmm > nfreex)
        break;
      bool clean = true;
      for (unsigned a = 0; a < nanchor && clean; a++)
        clean = !(anchor[a] >= c[i].disp && anchor[a] < c[j].disp + c[j].size);
      /* A dispatch's cases take its hull as it is: a gap in it likely
       * holds what they index (the interpreter's stack array), whose
       * accesses would each leave through the checks' slow path. */
      if (jt_end && j > i && c[j].disp - (c[j - 1].disp + c[j - 1].size) > DISPATCH_GAP)
        clean = false;
      if (!clean)
        break;
      uses += c[j].uses;
      if (uses > best_uses) {
        best_uses = uses;
        best_i = i;
        best_j = j;
      }
    }
  }
  if (!best_uses) {
    *why = room || nfreex ? "no frame slot that can live in a register" : "no free register";
    return false;
  }
  /* Deferred stores: the slots the loop writes stay in their registers
   * only, written back at every exit (and by a fault's recovery). A store
   * they save is one instruction; a load they make checked costs four
   * (arrays-O0, whose loop saves three stores for two checks, ran 25%
   * slower deferred). */
  unsigned nwrites = 0;
  for (unsigned k = best_i; k <= best_j; k++)
    nwrites += c[k].writes;
  p->deferred = defer && nwrites && 4 * nlcheck <= nwrites;
  if (p->deferred)
    for (unsigned i = 0; i < l->n; i++)
      check[i] |= lcheck[i];
  unsigned r = 0, x = 0;
  for (unsigned k = best_i; k <= best_j; k++) {
    struct hp_promo_slot *s = &p->slot[p->nslots++];
    *s = (struct hp_promo_slot){c[k].disp, c[k].size, 0, 0, (uint16_t)c[k].writes};
    if (c[k].cls == CLS_XMM) {
      s->reg = (uint8_t)(HP_PROMO_XMM + freex[x]);
      p->xregs |= (uint16_t)(1u << freex[x++]);
    } else {
      s->reg = (uint8_t)freeregs[r++];
      p->regs |= (uint16_t)(1u << s->reg);
    }
  }
  p->lo = c[best_i].disp;
  p->hi = c[best_j].disp + c[best_j].size;
  if (need_scratch) {
    p->scratch = freeregs[r];
    p->regs |= (uint16_t)(1u << p->scratch);
  }
  /* The entry's stack check needs a general register until the slots are
   * loaded: a slot's, else one more. */
  if (!p->regs) {
    if (r >= nfree) {
      *why = "no free register";
      return false;
    }
    p->scratch = freeregs[r];
    p->regs |= (uint16_t)(1u << p->scratch);
  }
  p->frame_check = calls;
  p->dispatch = jt_end;
  mark(l, p, acc, nmine, check, lcheck, share, live, need_scratch);
  /* The entry's other checks use the flags only where a fault handler
   * could not see them either (above). */
  p->entry_flags_dead = entry_flags_dead;
  return true;
}

void hp_promote_none(struct hp_ilist *l, struct hp_promotion *p)
{
  memset(p, 0, sizeof *p);
  p->scratch = -1;
  p->fold_only = true;
  l->promo = p;
}
