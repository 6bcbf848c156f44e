/* Register promotion of frame slots in loop traces (see promote.h). */
#include "hotpath/promote.h"

#include <stdlib.h>
#include <string.h>

#include "hotpath/analysis.h"
#include "hotpath/liveness.h"

#define RSP 4
#define RBP 5
#define MAX_ACCESSES 256
#define MAX_ANCHORS 64

/* Instructions whose memory operand (ModRM r/m) may be a general register
 * with the same meaning. Not: lea (an address), bt* (a register bit offset
 * reaches beyond the operand in memory), SSE moves (a register source
 * merges), anything locked. */
static bool rm_can_be_register(const ZydisDecodedInstruction *zi)
{
  if (zi->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY || zi->address_width != 64 ||
      (zi->attributes & (ZYDIS_ATTRIB_HAS_LOCK | ZYDIS_ATTRIB_HAS_MODRM)) != ZYDIS_ATTRIB_HAS_MODRM)
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

/* An [rbp+disp] access of the trace. */
struct access {
  unsigned elem;
  int32_t disp;
  uint8_t size;
  bool rewritable, write;
};

struct cand {
  int32_t disp;
  uint8_t size;
  unsigned uses;
  bool ok, written;
};

static int cmp_cand(const void *a, const void *b)
{
  const struct cand *x = a, *y = b;
  return (x->disp > y->disp) - (x->disp < y->disp);
}

/* Registers in the order they are taken: those no lowering sequence uses
 * as a scratch first. */
static const int reg_order[] = {15, 14, 13, 12, 3, 11, 10, 9, 8, 7, 6, 2, 1, 0};

bool hp_promote(struct hp_ilist *l, struct hp_promotion *p, unsigned avoid, const char **why)
{
  struct access acc[MAX_ACCESSES];
  unsigned nacc = 0;
  int32_t anchor[MAX_ANCHORS];
  unsigned nanchor = 0;
  uint32_t used = (1u << RSP) | (1u << RBP);
  bool loop = false, other_mem = false; /* other_mem: stores not to [rbp+d] */
  memset(p, 0, sizeof *p);
  p->scratch = -1;
  if (l->promo) {
    *why = "already promoted";
    return false;
  }
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    switch (in->op) {
    case HP_OP_EXIT:
    case HP_OP_EXIT_CC:
      loop |= (in->flags & HP_INSN_BACK_EDGE) != 0;
      continue;
    case HP_OP_STOP:
      continue;
    case HP_OP_GUEST:
      break;
    default:
      *why = "calls, returns or indirect branches";
      return false;
    }
    struct hp_insn_effects e;
    if (!hp_analyze_insn(in, &e)) {
      *why = "an instruction the analysis cannot describe";
      return false;
    }
    if (e.control || ((e.gpr_write >> RSP) & 1) || ((e.gpr_write >> RBP) & 1)) {
      *why = "rsp or rbp changes";
      return false;
    }
    used |= e.gpr_read | e.gpr_write;
    if (in->zi.mnemonic == ZYDIS_MNEMONIC_LEA) {
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
    if (!e.nmem)
      continue;
    const __typeof__(e.mem[0]) *m = &e.mem[0];
    if (bit_test_reg_offset(in)) {
      *why = "a bit test with a register bit offset (its access reaches past its operand)";
      return false;
    }
    if (m->seg != HP_SEG_FLAT || m->index == HP_MEM_VSIB || !m->size || m->size > 64 ||
        in->zi.address_width != 64) {
      *why = "a segment, gather, string or 32-bit-address access";
      return false;
    }
    if (m->base == RBP && m->index == HP_MEM_NONE) {
      if (nacc == MAX_ACCESSES) {
        *why = "too many frame accesses";
        return false;
      }
      acc[nacc++] = (struct access){i, (int32_t)m->disp, (uint8_t)m->size,
                                    (m->size == 4 || m->size == 8) && rm_can_be_register(&in->zi) &&
                                        !(in->flags & HP_INSN_RIPREL),
                                    m->write};
      continue;
    }
    if (m->base == RBP || m->index == RBP) {
      if (nanchor == MAX_ANCHORS) {
        *why = "too many frame addresses";
        return false;
      }
      anchor[nanchor++] = (int32_t)m->disp;
    }
    other_mem |= m->write; /* loads read memory, which is exact */
  }
  if (!loop) {
    *why = "not a loop";
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
      c[nc++] = (struct cand){acc[a].disp, acc[a].size, 0, true, false};
    c[k].uses++;
    c[k].ok &= acc[a].rewritable;
    c[k].written |= acc[a].write;
  }
  /* The trace's entry loads its slots: only slots that every entry reads
   * or writes before it can leave (so no entry loads memory that the
   * guest would not have touched). */
  unsigned first_exit = l->n;
  for (unsigned i = 0; i < l->n && first_exit == l->n; i++)
    if (l->v[i].op != HP_OP_GUEST)
      first_exit = i;
  for (unsigned k = 0; k < nc; k++) {
    bool on_entry = false;
    for (unsigned a = 0; a < nacc; a++)
      on_entry |= acc[a].disp == c[k].disp && acc[a].elem < first_exit;
    /* Only locals below the frame pointer (-O0 frames; at -O2 rbp may
     * point anywhere), and only those the loop writes: a slot it only
     * reads may be what it waits for another thread to change. */
    if (!on_entry || !c[k].written || (int64_t)c[k].disp + c[k].size > 0)
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
  unsigned room = nfree - (other_mem ? 1u : 0u);
  if (nfree < 1u + other_mem) {
    *why = "no free register";
    return false;
  }
  if (room > HP_PROMO_MAX_SLOTS)
    room = HP_PROMO_MAX_SLOTS;
  /* The slots promoted are a run of candidates in address order whose hull
   * holds no frame address the trace computes (so array accesses do not
   * trip the checks), with the most uses. */
  qsort(c, nc, sizeof c[0], cmp_cand);
  unsigned best_i = 0, best_j = 0, best_uses = 0;
  for (unsigned i = 0; i < nc; i++) {
    unsigned uses = 0;
    for (unsigned j = i; j < nc && j - i < room; j++) {
      bool clean = true;
      for (unsigned a = 0; a < nanchor && clean; a++)
        clean = !(anchor[a] >= c[i].disp && anchor[a] < c[j].disp + c[j].size);
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
    *why = "no frame slot that can live in a register";
    return false;
  }
  /* The checks clobber the status flags: they must be dead there (a fault
   * of the checked store shows the handler other dead flags, as a
   * register allocator may). */
  if (other_mem) {
    struct hp_live live[l->n + 1];
    hp_liveness_mode(l, live, false);
    for (unsigned i = 0; i < l->n; i++) {
      struct hp_insn_effects e;
      if (l->v[i].op == HP_OP_GUEST && hp_analyze_insn(&l->v[i], &e) && e.nmem && e.mem[0].write &&
          !(e.mem[0].base == RBP && e.mem[0].index == HP_MEM_NONE) && (live[i].flags & HP_FL_STATUS)) {
        *why = "status flags live at a store to check";
        return false;
      }
    }
  }
  unsigned r = 0;
  for (unsigned k = best_i; k <= best_j; k++) {
    p->slot[p->nslots] = (struct hp_promo_slot){c[k].disp, c[k].size, (uint8_t)freeregs[r++], 0};
    p->regs |= (uint16_t)(1u << p->slot[p->nslots].reg);
    p->nslots++;
  }
  p->lo = c[best_i].disp;
  p->hi = c[best_j].disp + c[best_j].size;
  if (other_mem) {
    p->scratch = freeregs[r];
    p->regs |= (uint16_t)(1u << p->scratch);
  }
  /* Mark the elements. */
  for (unsigned a = 0; a < nacc; a++)
    for (unsigned k = 0; k < p->nslots; k++)
      if (acc[a].disp == p->slot[k].disp) {
        l->v[acc[a].elem].flags |= (uint8_t)(HP_INSN_PROMOTED | (acc[a].write ? HP_INSN_SLOT_WRITE : 0));
        l->v[acc[a].elem].reg = p->slot[k].reg;
        p->slot[k].uses++;
      }
  if (other_mem)
    for (unsigned i = 0; i < l->n; i++) {
      struct hp_insn_effects e;
      if (l->v[i].op == HP_OP_GUEST && hp_analyze_insn(&l->v[i], &e) && e.nmem && e.mem[0].write &&
          !(e.mem[0].base == RBP && e.mem[0].index == HP_MEM_NONE)) {
        l->v[i].flags |= HP_INSN_ALIAS_CHECK;
        p->checks++;
      }
    }
  l->promo = p;
  return true;
}
