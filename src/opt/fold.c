/* Address folding, copy propagation and dead-code removal (see fold.h). */
#include "hotpath/fold.h"

#include <string.h>

#include "hotpath/analysis.h"
#include "hotpath/emit.h"
#include "hotpath/liveness.h"

#define RSP 4
#define RBP 5
#define MAX_COEF 9
#define MAX_FACTS 8

/* A register value as a linear combination of machine registers (at most
 * two) plus a constant, modulo 2^64. */
struct lin {
  uint8_t n;
  uint8_t r[2];
  uint64_t c[2];
  uint64_t d;
};

static struct lin lin_reg(int m) { return (struct lin){1, {(uint8_t)m, 0}, {1, 0}, 0}; }
static struct lin lin_const(uint64_t d) { return (struct lin){0, {0, 0}, {0, 0}, d}; }

/* *a += k * b; false when that takes a third register or a big factor. */
static bool lin_add(struct lin *a, const struct lin *b, uint64_t k)
{
  struct lin o = *a;
  for (unsigned t = 0; t < b->n; t++) {
    unsigned u = 0;
    while (u < o.n && o.r[u] != b->r[t])
      u++;
    if (u == o.n) {
      if (o.n == 2)
        return false;
      o.r[u] = b->r[t];
      o.c[u] = 0;
      o.n++;
    }
    o.c[u] += k * b->c[t];
  }
  o.d += k * b->d;
  unsigned w = 0;
  for (unsigned u = 0; u < o.n; u++) {
    if (!o.c[u])
      continue;
    if ((int64_t)o.c[u] < -MAX_COEF || (int64_t)o.c[u] > MAX_COEF)
      return false;
    o.r[w] = o.r[u];
    o.c[w++] = o.c[u];
  }
  o.n = (uint8_t)w;
  *a = o;
  return true;
}

static uint16_t lin_uses(const struct lin *v)
{
  uint16_t m = 0;
  for (unsigned t = 0; t < v->n; t++)
    m |= (uint16_t)(1u << v->r[t]);
  return m;
}

static bool is_scale(uint64_t c) { return c == 1 || c == 2 || c == 4 || c == 8; }

/* As an addressing mode; false if it is not one. */
static bool lin_expr(const struct lin *v, struct hp_addr_expr *x)
{
  if ((int64_t)v->d != (int32_t)v->d)
    return false;
  *x = (struct hp_addr_expr){HP_FOLD_NONE, HP_FOLD_NONE, 0, (int32_t)v->d};
  if (v->n == 0)
    return true;
  if (v->n == 1) {
    uint64_t c = v->c[0];
    if (c == 1) {
      x->base = v->r[0];
      return true;
    }
    if (v->r[0] == RSP)
      return false;
    if (is_scale(c)) {
      x->index = v->r[0];
      x->scale = (uint8_t)c;
      return true;
    }
    if (c == 3 || c == 5 || c == 9) {
      x->base = x->index = v->r[0];
      x->scale = (uint8_t)(c - 1);
      return true;
    }
    return false;
  }
  for (unsigned b = 0; b < 2; b++) {
    unsigned i = 1 - b;
    if (v->c[b] == 1 && is_scale(v->c[i]) && v->r[i] != RSP) {
      x->base = v->r[b];
      x->index = v->r[i];
      x->scale = (uint8_t)v->c[i];
      return true;
    }
  }
  return false;
}

static uint16_t expr_uses(const struct hp_addr_expr *x)
{
  uint16_t m = 0;
  if (x->base != HP_FOLD_NONE)
    m |= (uint16_t)(1u << x->base);
  if (x->index != HP_FOLD_NONE)
    m |= (uint16_t)(1u << x->index);
  return m;
}

struct state {
  uint16_t pend;      /* guest registers whose value is val[], not their machine register's */
  struct lin val[16];
  uint16_t uz;        /* guest registers whose value is known to be below 2^32 */
  uint16_t z16, z8;   /* ... below 2^16, below 2^8 (subsets of uz) */
  /* Frame slots [rbp+disp] (not promoted) whose contents a store in the
   * trace left equal to a value over machine registers: a later load of
   * the slot reads that value instead (store-to-load forwarding). */
  struct fact {
    int64_t disp;
    uint8_t size; /* 4 or 8 */
    bool uz;      /* a 4-byte slot: the value is below 2^32, a load gives it whole */
    struct lin v;
  } facts[MAX_FACTS];
  unsigned nfacts;
  bool dirty;         /* changed since the last snapshot */
};

/* Facts whose value reads a machine register in m are forgotten (the slot
 * still holds it; nothing says so any more); rbp changing forgets all. */
static void facts_clobber(struct state *s, uint16_t m)
{
  unsigned w = 0;
  for (unsigned k = 0; k < s->nfacts; k++)
    if (!((m >> RBP) & 1) && !(lin_uses(&s->facts[k].v) & m))
      s->facts[w++] = s->facts[k];
  s->nfacts = w;
}

/* A store to [rbp+disp, +size): overlapping facts are forgotten. */
static void facts_forget(struct state *s, int64_t disp, unsigned size)
{
  unsigned w = 0;
  for (unsigned k = 0; k < s->nfacts; k++) {
    const struct fact *f = &s->facts[k];
    if (f->disp + f->size <= disp || disp + (int64_t)size <= f->disp)
      s->facts[w++] = *f;
  }
  s->nfacts = w;
}

static const struct fact *fact_of(const struct state *s, int64_t disp, unsigned size)
{
  for (unsigned k = 0; k < s->nfacts; k++)
    if (s->facts[k].disp == disp && s->facts[k].size == size)
      return &s->facts[k];
  return NULL;
}

static struct lin val_of(const struct state *s, int g) { return (s->pend >> g) & 1 ? s->val[g] : lin_reg(g); }

/* Pending registers whose expression reads machine register m (other than
 * itself). */
static uint16_t readers_of(const struct state *s, uint16_t machine)
{
  uint16_t m = 0;
  for (int g = 0; g < 16; g++)
    if (((s->pend >> g) & 1) && (lin_uses(&s->val[g]) & machine & ~(1u << g)))
      m |= (uint16_t)(1u << g);
  return m;
}

/* Materializing a register writes its machine register: whatever reads
 * that must be materialized too (first: see the snapshot order). */
static uint16_t closure(const struct state *s, uint16_t m)
{
  m &= s->pend;
  for (;;) {
    uint16_t more = (uint16_t)(readers_of(s, m) & ~m);
    if (!more)
      return m;
    m |= more;
  }
}

/* Would g = v make a cycle among pending registers (g's expression reads
 * t's machine register while t's reads g's, through any chain)? */
static bool makes_cycle(const struct state *s, int g, const struct lin *v)
{
  uint16_t pend = (uint16_t)(s->pend | 1u << g); /* g is about to be */
  uint16_t seen = 0, todo = (uint16_t)(lin_uses(v) & pend & ~(1u << g));
  while (todo) {
    int t = __builtin_ctz(todo);
    todo &= (uint16_t)(todo - 1);
    if ((seen >> t) & 1)
      continue;
    seen |= (uint16_t)(1u << t);
    uint16_t next = (uint16_t)(lin_uses(&s->val[t]) & pend & ~(1u << t));
    if ((next >> g) & 1)
      return true;
    todo |= (uint16_t)(next & ~seen);
  }
  return false;
}

struct pass {
  const struct hp_ilist *l;
  struct hp_fold *f;
  struct state s;
  uint16_t cur; /* snapshot of the state as of now (valid unless s.dirty) */
  uint16_t pregs; /* general registers holding promoted slots */
  const unsigned *paired; /* per element: its inlined call's or return's partner (hp_ilist_pair_calls) */
  const struct hp_insn_effects *eff; /* per element, and whether hp_analyze_insn could tell */
  const bool *known;
  /* The element being planned, decoded once (ok: decodes); forward: its
   * frame-slot reads may be forwarded (not a promoted or checked access). */
  bool ok, forward;
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

static bool snapshot(struct pass *P)
{
  if (!P->s.dirty)
    return true;
  P->s.dirty = false;
  if (!P->s.pend) {
    P->cur = 0;
    return true;
  }
  if (P->f->nsnap == P->f->snap_cap)
    return false;
  struct hp_fold_snap *sn = &P->f->snap[P->f->nsnap];
  memset(sn, 0, sizeof *sn);
  sn->mask = P->s.pend;
  for (int g = 0; g < 16; g++)
    if ((P->s.pend >> g) & 1 && !lin_expr(&P->s.val[g], &sn->e[g]))
      return false; /* never kept pending unless it is one */
  /* A register whose expression reads another's machine register before
   * that one: repeatedly take one that no remaining register reads. */
  uint16_t left = P->s.pend;
  while (left) {
    int pick = -1;
    for (int g = 0; g < 16 && pick < 0; g++) {
      if (!((left >> g) & 1))
        continue;
      bool read = false;
      for (int h = 0; h < 16 && !read; h++)
        read = h != g && ((left >> h) & 1) && ((expr_uses(&sn->e[h]) >> g) & 1);
      if (!read)
        pick = g;
    }
    if (pick < 0)
      return false; /* a cycle: makes_cycle keeps them out */
    sn->order[sn->n++] = (uint8_t)pick;
    left &= (uint16_t)~(1u << pick);
  }
  P->cur = (uint16_t)P->f->nsnap++;
  return true;
}

static void drop(struct pass *P, uint16_t m)
{
  if (P->s.pend & m) {
    P->s.pend &= (uint16_t)~m;
    P->s.dirty = true;
  }
}

/* Materialized before the element (the lowering emits them in snapshot order). */
static void materialize(struct pass *P, struct hp_fold_elem *el, uint16_t m)
{
  m = closure(&P->s, m);
  if (!m)
    return;
  el->mat |= m;
  P->f->materialized += (unsigned)__builtin_popcount(m);
  drop(P, m);
  facts_clobber(&P->s, m);
}

static ZydisRegister reg_width(int m, unsigned width)
{
  switch (width) {
  case 64: return (ZydisRegister)(ZYDIS_REGISTER_RAX + m);
  case 32: return (ZydisRegister)(ZYDIS_REGISTER_EAX + m);
  case 16: return (ZydisRegister)(ZYDIS_REGISTER_AX + m);
  default: /* 8: al, cl, dl, bl, spl, bpl, sil, dil, r8b.. */
    return m < 4 ? (ZydisRegister)(ZYDIS_REGISTER_AL + m) : (ZydisRegister)(ZYDIS_REGISTER_SPL + m - 4);
  }
}

static bool high8(ZydisRegister r)
{
  return r == ZYDIS_REGISTER_AH || r == ZYDIS_REGISTER_CH || r == ZYDIS_REGISTER_DH || r == ZYDIS_REGISTER_BH;
}

static int slot_size_of(const struct hp_promotion *p, int reg)
{
  for (unsigned k = 0; k < p->nslots; k++)
    if (p->slot[k].reg == reg)
      return p->slot[k].size;
  return 0;
}

/* A 4- or 8-byte frame slot operand [rbp+disp], as facts describe them. */
static bool frame_slot(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *o)
{
  const ZydisDecodedOperandMem *m = &o->mem;
  return o->type == ZYDIS_OPERAND_TYPE_MEMORY && m->type == ZYDIS_MEMOP_TYPE_MEM && zi->address_width == 64 &&
         m->base == ZYDIS_REGISTER_RBP && m->index == ZYDIS_REGISTER_NONE && m->segment != ZYDIS_REGISTER_FS &&
         m->segment != ZYDIS_REGISTER_GS && (o->size == 32 || o->size == 64);
}

/* The value an instruction would give its destination g, if it is one the
 * pass can keep symbolic: a copy, lea, add/sub of a register or constant,
 * shl by a constant (the last three only with their flags dead), an
 * extension of a constant. */
static bool absorb_value(const struct pass *P, const struct hp_insn *in, const ZydisDecodedInstruction *zi,
                         const ZydisDecodedOperand *ops, bool flags_dead, int *gp, struct lin *v, bool *uz,
                         uint8_t *narrow, bool *forwarded)
{
  if (zi->operand_count_visible != 2 || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER)
    return false;
  ZydisRegisterClass cls = ZydisRegisterGetClass(ops[0].reg.value);
  if (cls != ZYDIS_REGCLASS_GPR64 && cls != ZYDIS_REGCLASS_GPR32)
    return false;
  unsigned width = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, ops[0].reg.value);
  int g = hp_gpr_num(ops[0].reg.value);
  if (g < 0 || g == RSP || g == RBP)
    return false;
  const ZydisDecodedOperand *src = &ops[1];
  const struct state *s = &P->s;
  *uz = width == 32;
  *narrow = 0; /* 1: below 2^16, 2: below 2^8 too */
  *forwarded = false;
  switch (zi->mnemonic) {
  case ZYDIS_MNEMONIC_MOV:
    if (src->type == ZYDIS_OPERAND_TYPE_REGISTER) {
      int r = hp_gpr_num(src->reg.value);
      if (r < 0 || ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, src->reg.value) != width)
        return false;
      if (width == 32 && !((s->uz >> r) & 1))
        return false; /* the copy cuts the upper half */
      *v = val_of(s, r);
      *uz = (s->uz >> r) & 1;
      *narrow = (uint8_t)(((s->z16 >> r) & 1) + ((s->z8 >> r) & 1));
    } else if (src->type == ZYDIS_OPERAND_TYPE_MEMORY && (in->flags & HP_INSN_PROMOTED)) {
      if (slot_size_of(P->l->promo, in->reg) * 8 != (int)width)
        return false;
      *v = lin_reg(in->reg);
    } else if (!in->flags && src->size == width && frame_slot(zi, src)) {
      /* A frame slot a store left equal to a value (forwarding). */
      const struct fact *f = fact_of(s, src->mem.disp.value, width / 8);
      if (!f || (width == 32 && !f->uz))
        return false;
      *v = f->v;
      *forwarded = true;
    } else if (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      uint64_t imm = width == 64 ? (uint64_t)src->imm.value.s : (uint32_t)src->imm.value.u;
      *v = lin_const(imm);
      *uz = imm <= UINT32_MAX;
      *narrow = (uint8_t)((imm < 0x10000) + (imm < 0x100));
    } else {
      return false;
    }
    break;
  case ZYDIS_MNEMONIC_MOVSXD:
  case ZYDIS_MNEMONIC_MOVSX:
  case ZYDIS_MNEMONIC_MOVZX: {
    /* An extension of a known constant (-O0 `mov edx, 1; movsxd rdx, edx`
     * before an index): a constant. */
    if (src->type != ZYDIS_OPERAND_TYPE_REGISTER || high8(src->reg.value))
      return false;
    int r = hp_gpr_num(src->reg.value);
    if (r < 0)
      return false;
    struct lin sv = val_of(s, r);
    unsigned sw = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, src->reg.value);
    if (sv.n || sw > 32)
      return false;
    uint64_t x = sv.d & ((1ull << sw) - 1);
    if (zi->mnemonic != ZYDIS_MNEMONIC_MOVZX && ((x >> (sw - 1)) & 1))
      x |= ~0ull << sw;
    if (width == 32)
      x = (uint32_t)x;
    *v = lin_const(x);
    *uz = x <= UINT32_MAX;
    *narrow = (uint8_t)((x < 0x10000) + (x < 0x100));
    break;
  }
  case ZYDIS_MNEMONIC_LEA: {
    const ZydisDecodedOperandMem *m = &src->mem;
    if (width != 64 || zi->address_width != 64 || m->base == ZYDIS_REGISTER_RIP ||
        m->segment == ZYDIS_REGISTER_FS || m->segment == ZYDIS_REGISTER_GS)
      return false;
    *v = lin_const((uint64_t)m->disp.value);
    int b = m->base == ZYDIS_REGISTER_NONE ? -2 : hp_gpr_num(m->base);
    int x = m->index == ZYDIS_REGISTER_NONE ? -2 : hp_gpr_num(m->index);
    if (b == -1 || x == -1)
      return false;
    struct lin bv = b >= 0 ? val_of(s, b) : lin_const(0), xv = x >= 0 ? val_of(s, x) : lin_const(0);
    if (!lin_add(v, &bv, 1) || !lin_add(v, &xv, m->scale))
      return false;
    *uz = false;
    break;
  }
  case ZYDIS_MNEMONIC_ADD:
  case ZYDIS_MNEMONIC_SUB: {
    if (width != 64 || !flags_dead)
      return false;
    uint64_t k = zi->mnemonic == ZYDIS_MNEMONIC_ADD ? 1 : (uint64_t)-1;
    *v = val_of(s, g);
    if (src->type == ZYDIS_OPERAND_TYPE_REGISTER) {
      int r = hp_gpr_num(src->reg.value);
      if (r < 0)
        return false;
      struct lin b = val_of(s, r);
      if (!lin_add(v, &b, k))
        return false;
    } else if (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      v->d += k * (uint64_t)src->imm.value.s;
    } else {
      return false;
    }
    *uz = false;
    break;
  }
  case ZYDIS_MNEMONIC_SHL: {
    if (width != 64 || !flags_dead || src->type != ZYDIS_OPERAND_TYPE_IMMEDIATE || !(src->imm.value.u & 63))
      return false;
    struct lin a = val_of(s, g);
    if (!a.n) { /* a constant: any count */
      *v = lin_const(a.d << (src->imm.value.u & 63));
      *uz = v->d <= UINT32_MAX;
      break;
    }
    if (src->imm.value.u > 3)
      return false;
    *v = lin_const(0);
    if (!lin_add(v, &a, 1ull << src->imm.value.u))
      return false;
    *uz = false;
    break;
  }
  default:
    return false;
  }
  struct hp_addr_expr x;
  if (!lin_expr(v, &x) || makes_cycle(s, g, v))
    return false;
  *gp = g;
  return true;
}

/* What is known of g's value: below 2^32 (uz), and narrow 1: below 2^16,
 * 2: below 2^8 too. */
static void set_known(struct pass *P, int g, bool uz, uint8_t narrow)
{
  uint16_t bit = (uint16_t)(1u << g);
  P->s.uz = (uint16_t)((P->s.uz & ~bit) | (uz ? bit : 0));
  P->s.z16 = (uint16_t)((P->s.z16 & ~bit) | (uz && narrow >= 1 ? bit : 0));
  P->s.z8 = (uint16_t)((P->s.z8 & ~bit) | (uz && narrow >= 2 ? bit : 0));
}

/* An extension that cannot change its register: movzx eax, al of a value
 * below 2^8 (ax: 2^16), cdqe / movsxd rax, eax of one below 2^16. */
static bool noop_extension(const struct pass *P, const struct hp_insn *in)
{
  const ZydisDecodedOperand *ops = P->ops;
  if (in->flags)
    return false;
  if (P->zi.mnemonic == ZYDIS_MNEMONIC_CDQE)
    return !(P->s.pend & 1) && (P->s.z16 & 1);
  if ((P->zi.mnemonic != ZYDIS_MNEMONIC_MOVZX && P->zi.mnemonic != ZYDIS_MNEMONIC_MOVSXD) ||
      P->zi.operand_count_visible != 2 || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
      ops[1].type != ZYDIS_OPERAND_TYPE_REGISTER || high8(ops[1].reg.value))
    return false;
  int g = hp_gpr_num(ops[0].reg.value);
  if (g < 0 || g == RSP || g == RBP || g != hp_gpr_num(ops[1].reg.value) || ((P->s.pend >> g) & 1))
    return false; /* (rsp and rbp are written where they are: frames.c, facts) */
  unsigned dw = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, ops[0].reg.value);
  unsigned sw = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, ops[1].reg.value);
  if (P->zi.mnemonic == ZYDIS_MNEMONIC_MOVSXD)
    return dw == 64 && sw == 32 && ((P->s.z16 >> g) & 1);
  if (dw < 32)
    return false; /* a 16-bit destination merges */
  if (sw == 8)
    return (P->s.z8 >> g) & 1 && (dw == 32 || ((P->s.uz >> g) & 1));
  if (sw == 16)
    return (P->s.z16 >> g) & 1;
  return false;
}

/* Instructions whose only effects are their register and flag results. */
static bool pure_alu(ZydisMnemonic m)
{
  switch (m) {
  case ZYDIS_MNEMONIC_MOV: case ZYDIS_MNEMONIC_MOVZX: case ZYDIS_MNEMONIC_MOVSX: case ZYDIS_MNEMONIC_MOVSXD:
  case ZYDIS_MNEMONIC_LEA: case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_AND:
  case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_SHL: case ZYDIS_MNEMONIC_SHR:
  case ZYDIS_MNEMONIC_SAR: case ZYDIS_MNEMONIC_NOT: case ZYDIS_MNEMONIC_NEG: case ZYDIS_MNEMONIC_INC:
  case ZYDIS_MNEMONIC_DEC: case ZYDIS_MNEMONIC_CMP: case ZYDIS_MNEMONIC_TEST: case ZYDIS_MNEMONIC_CDQE:
  case ZYDIS_MNEMONIC_CWDE: case ZYDIS_MNEMONIC_CDQ: case ZYDIS_MNEMONIC_CQO:
    return true;
  default:
    return false;
  }
}

/* A read-only memory operand [rbp+disp] (4 or 8 bytes) whose slot a fact
 * knows, if it is a plain copy of a machine register or a constant. */
static const struct fact *forwardable(const struct pass *P, const ZydisDecodedOperand *o)
{
  if (!frame_slot(&P->zi, o) || (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) ||
      o->visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT ||
      P->zi.mnemonic == ZYDIS_MNEMONIC_BT) /* bt with a register offset reaches past the operand in memory */
    return NULL;
  const struct fact *f = fact_of(&P->s, o->mem.disp.value, o->size / 8);
  struct hp_addr_expr x;
  if (!f || !lin_expr(&f->v, &x) || x.index != HP_FOLD_NONE || (x.base != HP_FOLD_NONE && x.disp))
    return NULL;
  return f;
}

/* Source operand k (width bits, only read) of req takes value x: a copy's
 * machine register, or a constant as an immediate (if the instruction has
 * that form, else the encoding fails later). False if x is neither. */
static bool operand_from(ZydisEncoderOperand *op, unsigned k, unsigned width, const struct hp_addr_expr *x)
{
  if (x->index != HP_FOLD_NONE)
    return false;
  if (x->base == HP_FOLD_NONE) {
    if (k == 0 || width < 32 || (width == 32 && x->disp < 0))
      return false;
    op->type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
    op->imm.s = x->disp;
    return true;
  }
  if (x->disp)
    return false;
  op->type = ZYDIS_OPERAND_TYPE_REGISTER;
  op->reg.value = reg_width(x->base, width);
  return true;
}

/* The element's instruction with the pending registers in reads folded
 * in, as an encoder request: a register operand it only reads becomes the
 * copy's machine register (or the constant an immediate), a memory
 * operand's base and index the address they add up to, and a frame slot a
 * fact knows its value. *badp: the registers of reads it cannot take so;
 * false (with all of them) when there is no request at all. */
static bool fold_request(const struct pass *P, uint16_t reads, ZydisEncoderRequest *reqp, uint16_t *badp)
{
  const ZydisDecodedInstruction *zi = &P->zi;
  const ZydisDecodedOperand *ops = P->ops;
  ZydisEncoderRequest req;
  *badp = reads;
  if (!P->ok || !ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(zi, ops, zi->operand_count_visible, &req)))
    return false;
  uint16_t bad = 0;
  for (unsigned k = 0; k < zi->operand_count; k++) {
    const ZydisDecodedOperand *o = &ops[k];
    bool visible = o->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT && k < req.operand_count;
    if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
      int g = hp_gpr_num(o->reg.value);
      if (g < 0 || !((reads >> g) & 1))
        continue;
      struct hp_addr_expr x;
      bool read = o->actions & ZYDIS_OPERAND_ACTION_MASK_READ, written = o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
      if (!read && (o->actions & ZYDIS_OPERAND_ACTION_CONDWRITE) == 0 &&
          ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, o->reg.value) >= 32)
        continue; /* a destination only, replaced whole: nothing of it is read */
      if (!visible || written || high8(o->reg.value) || !lin_expr(&P->s.val[g], &x) ||
          !operand_from(&req.operands[k], k, ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, o->reg.value), &x))
        bad |= (uint16_t)(1u << g);
    } else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
      const ZydisDecodedOperandMem *m = &o->mem;
      int b = m->base == ZYDIS_REGISTER_NONE ? -1 : hp_gpr_num(m->base);
      int x = m->index == ZYDIS_REGISTER_NONE ? -1 : hp_gpr_num(m->index);
      uint16_t here = (uint16_t)(((b >= 0 ? 1u << b : 0) | (x >= 0 ? 1u << x : 0)) & reads);
      const struct fact *f;
      if (!here && P->forward && k < req.operand_count && (f = forwardable(P, o))) {
        /* Store-to-load forwarding: the register (or constant) the slot
         * was stored from, not the slot (kept when neither fits). */
        struct hp_addr_expr e;
        lin_expr(&f->v, &e);
        operand_from(&req.operands[k], k, o->size, &e);
        continue;
      }
      if (!here)
        continue;
      struct lin a = lin_const((uint64_t)m->disp.value);
      struct lin bv = b >= 0 ? val_of(&P->s, b) : lin_const(0), xv = x >= 0 ? val_of(&P->s, x) : lin_const(0);
      struct hp_addr_expr e;
      if (!visible || zi->address_width != 64 || m->base == ZYDIS_REGISTER_RIP || m->type == ZYDIS_MEMOP_TYPE_VSIB ||
          m->segment == ZYDIS_REGISTER_FS || m->segment == ZYDIS_REGISTER_GS ||
          (m->base != ZYDIS_REGISTER_NONE && b < 0) || (m->index != ZYDIS_REGISTER_NONE && x < 0) ||
          !lin_add(&a, &bv, 1) || !lin_add(&a, &xv, x >= 0 ? m->scale : 0) || !lin_expr(&a, &e)) {
        bad |= here;
        continue;
      }
      req.operands[k].mem.base = e.base == HP_FOLD_NONE ? ZYDIS_REGISTER_NONE : reg_width(e.base, 64);
      req.operands[k].mem.index = e.index == HP_FOLD_NONE ? ZYDIS_REGISTER_NONE : reg_width(e.index, 64);
      req.operands[k].mem.scale = e.index == HP_FOLD_NONE ? 0 : e.scale;
      req.operands[k].mem.displacement = e.disp;
    }
  }
  *reqp = req;
  *badp = bad;
  return true;
}

/* That request encoded into out; false if there is none, a register of
 * reads cannot be folded, or the result does not encode. */
static bool rewrite(const struct pass *P, uint16_t reads, struct hp_fold_rewrite *out)
{
  ZydisEncoderRequest req;
  uint16_t bad;
  ZyanUSize len = sizeof out->bytes;
  return fold_request(P, reads, &req, &bad) && !bad && hp_emit_encode_request(&req, out->bytes, &len) &&
         hp_decode_one(out->bytes, len, &out->zi);
}

/* The element is emitted as the rewrite just encoded in the next free
 * entry. */
static void take_rewrite(struct pass *P, struct hp_fold_elem *el)
{
  el->rw = (uint16_t)(++P->f->nrw);
  P->f->rewritten++;
}

/* cdqe of a copy (an int slot just loaded): movsxd rax, from the copy's
 * register, one instruction for the copy and the extension. */
static bool sign_extend_copy(struct pass *P, struct hp_fold_elem *el, uint16_t reads)
{
  struct hp_addr_expr x;
  if (reads != 1u || !lin_expr(&P->s.val[0], &x) || x.base == HP_FOLD_NONE || x.index != HP_FOLD_NONE || x.disp ||
      P->f->nrw == P->f->rw_cap)
    return false;
  struct hp_fold_rewrite *rw = &P->f->rw[P->f->nrw];
  ZyanUSize len = sizeof rw->bytes;
  if (!hp_emit_encode_reg_reg(ZYDIS_MNEMONIC_MOVSXD, ZYDIS_REGISTER_RAX, reg_width(x.base, 32), rw->bytes, &len) ||
      !hp_decode_one(rw->bytes, len, &rw->zi))
    return false;
  take_rewrite(P, el);
  return true;
}

/* bt/bts/btr/btc on memory: a register offset reaches any bit from the
 * operand on, an immediate one only the operand's own (a copy of the
 * offset cannot become a constant); without a promotion (which refuses
 * them) the pass sees them. */
static bool mem_bit_test(const struct pass *P)
{
  ZydisMnemonic mn = P->zi.mnemonic;
  return P->ok && (mn == ZYDIS_MNEMONIC_BT || mn == ZYDIS_MNEMONIC_BTS || mn == ZYDIS_MNEMONIC_BTR ||
                   mn == ZYDIS_MNEMONIC_BTC) &&
         P->zi.operand_count_visible && P->ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY;
}

/* What an instruction's writes do to the facts: the machine registers it
 * writes (w) spoil the facts that read them; a store to a frame slot
 * replaces the facts it overlaps (a plain mov of a register or constant
 * becomes one); any other store may reach any slot. */
static void facts_after(struct pass *P, const struct hp_insn *in, const struct hp_insn_effects *eff, uint16_t w)
{
  facts_clobber(&P->s, w);
  for (unsigned k = 0; k < eff->nmem; k++) {
    const struct hp_mem_operand *m = &eff->mem[k];
    if (!m->write || (in->flags & HP_INSN_PROMOTED))
      continue; /* a promoted slot: never a fact's */
    /* (a bit test's register offset reaches past its operand; a 32-bit
     * address is not rbp's: without a promotion, which refuses both, the
     * pass sees them) */
    if (m->base != RBP || m->index != HP_MEM_NONE || m->seg != HP_SEG_FLAT || !m->size || !P->ok ||
        P->zi.address_width != 64 || mem_bit_test(P)) {
      P->s.nfacts = 0;
      continue;
    }
    facts_forget(&P->s, m->disp, m->size);
    const ZydisDecodedOperand *src = &P->ops[1];
    if (in->flags || !P->ok || P->zi.mnemonic != ZYDIS_MNEMONIC_MOV || (m->size != 4 && m->size != 8) ||
        P->zi.operand_count_visible != 2 || P->s.nfacts == MAX_FACTS)
      continue;
    struct fact f = {.disp = m->disp, .size = (uint8_t)m->size};
    int r = src->type == ZYDIS_OPERAND_TYPE_REGISTER ? hp_gpr_num(src->reg.value) : -1;
    if (r >= 0 && ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, src->reg.value) == m->size * 8u) {
      f.v = val_of(&P->s, r);
      f.uz = (P->s.uz >> r) & 1;
    } else if (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      f.v = lin_const(m->size == 8 ? (uint64_t)src->imm.value.s : (uint32_t)src->imm.value.u);
      f.uz = true;
    } else {
      continue;
    }
    struct hp_addr_expr x;
    if (lin_expr(&f.v, &x))
      P->s.facts[P->s.nfacts++] = f;
  }
}

/* Flags an element may carry and still be rewritten. */
#define REWRITABLE (HP_INSN_PROMOTED | HP_INSN_SLOT_WRITE | HP_INSN_ALIAS_CHECK | HP_INSN_KEEP_FLAGS | HP_INSN_PROBE_STORE)

/* Whether the element adds a constant to a 64-bit machine register and
 * writes nothing else (`add`/`sub` of an immediate, `inc`, `dec`: a
 * promoted 8-byte slot's `add qword [rbp+d], 1` is `add r13, 1`): *m gets
 * the register, *k the constant. Expressions over it can then follow it
 * (rebase) instead of being made exact first. 32-bit adds wrap at 2^32 in
 * a zero-extended register: not linear, not taken. */
static bool adds_constant(const struct pass *P, const struct hp_insn *in, const struct hp_insn_effects *eff, int *m,
                          uint64_t *k)
{
  if (!P->ok || (in->flags & ~(HP_INSN_PROMOTED | HP_INSN_SLOT_WRITE)) || !P->zi.operand_count_visible)
    return false;
  const ZydisDecodedOperand *d = &P->ops[0];
  switch (P->zi.mnemonic) {
  case ZYDIS_MNEMONIC_ADD:
  case ZYDIS_MNEMONIC_SUB:
    if (P->zi.operand_count_visible != 2 || P->ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
      return false;
    *k = (uint64_t)P->ops[1].imm.value.s;
    if (P->zi.mnemonic == ZYDIS_MNEMONIC_SUB)
      *k = 0 - *k;
    break;
  case ZYDIS_MNEMONIC_INC:
    *k = 1;
    break;
  case ZYDIS_MNEMONIC_DEC:
    *k = (uint64_t)-1;
    break;
  default:
    return false;
  }
  if (d->size != 64)
    return false;
  if (d->type == ZYDIS_OPERAND_TYPE_REGISTER) {
    *m = hp_gpr_num(d->reg.value);
    if (*m < 0 || *m == RSP || *m == RBP || ((P->s.pend >> *m) & 1) || (in->flags & HP_INSN_PROMOTED))
      return false; /* (a pending register's machine register holds something else) */
  } else if ((in->flags & HP_INSN_SLOT_WRITE) && in->reg < HP_PROMO_XMM) {
    *m = in->reg;
  } else {
    return false;
  }
  return (eff->gpr_write & ~(1u << *m)) == 0;
}

/* A plain or promoted guest instruction that is neither absorbed nor dead:
 * reads of pending registers folded into it or materialized first, and
 * pending registers whose expressions its writes spoil made exact first
 * when the guest can still see them. */
static bool use_and_clobber(struct pass *P, unsigned i, const struct hp_insn_effects *eff, uint16_t live_after)
{
  const struct hp_insn *in = &P->l->v[i];
  struct hp_fold_elem *el = &P->f->elem[i];
  bool rigid = (in->flags & ~REWRITABLE) || (in->flags & HP_INSN_RIPREL) || mem_bit_test(P);
  /* Machine registers it writes: its own, its slot's register, and with a
   * checked access every slot register (the out-of-line path loads them
   * again). */
  uint16_t w = (uint16_t)eff->gpr_write;
  if ((in->flags & HP_INSN_SLOT_WRITE) && in->reg < HP_PROMO_XMM)
    w |= (uint16_t)(1u << in->reg);
  if (in->flags & HP_INSN_ALIAS_CHECK)
    w |= P->pregs;
  uint16_t full = (uint16_t)(eff->gpr_write & ~eff->gpr_write_partial);
  /* A register it overwrites without reading it is dead from here on, when
   * nothing can show it before the instruction runs (it cannot fault): no
   * materialization below needs to keep it (-O0 `mov rdx, rax; mov rax,
   * [k]; add rax, rdx; lea rdx, [rax*8]`: rdx's copy of the old rax). */
  uint16_t overwritten = (uint16_t)(full & ~eff->gpr_read & ~((1u << RSP) | (1u << RBP)) & P->s.pend);
  if (!eff->may_fault && P->known[i] && overwritten) {
    drop(P, overwritten);
    /* The element's own snapshot without it: no record over its code
     * rebuilds it from a register made exact before the element. */
    if (!snapshot(P))
      return false;
    el->pend = P->cur;
  }
  uint16_t mat = 0, dead_after = 0;
  int am = -1;
  uint64_t ak = 0;
  bool adds = adds_constant(P, in, eff, &am, &ak);
  for (int h = 0; h < 16; h++) {
    if (!((P->s.pend >> h) & 1) || !(lin_uses(&P->s.val[h]) & w))
      continue;
    if (adds && h != am) {
      /* Its expression reads the register the instruction adds k to:
       * c*m + d becomes c*m' + (d - c*k), if still an addressing mode
       * (-O0 `i++` under an index scaled from i). */
      struct lin v = P->s.val[h];
      for (unsigned u = 0; u < v.n; u++)
        if (v.r[u] == am)
          v.d -= v.c[u] * ak;
      struct hp_addr_expr x;
      if (lin_expr(&v, &x)) {
        P->s.val[h] = v;
        P->s.dirty = true;
        P->f->rebased++;
        continue;
      }
    }
    /* (A write-through store of a slot cannot fault after its register
     * changed: the entry stored every written slot once.) */
    if ((full >> h) & 1)
      dead_after |= (uint16_t)(1u << h); /* overwritten by the instruction itself */
    else if ((live_after >> h) & 1)
      mat |= (uint16_t)(1u << h);
    else
      dead_after |= (uint16_t)(1u << h);
  }
  uint16_t reads = (uint16_t)(eff->gpr_read & P->s.pend);
  if (rigid)
    mat |= reads;
  /* A register it writes in part or on a condition (bsf, bsr, cmov, 8- and
   * 16-bit writes) keeps its old value there: exact first. */
  mat |= (uint16_t)(eff->gpr_write_partial & P->s.pend);
  materialize(P, el, mat);
  reads &= P->s.pend;
  if (reads && !rigid && in->zi.mnemonic == ZYDIS_MNEMONIC_CDQE && sign_extend_copy(P, el, reads))
    reads = 0;
  P->forward = !rigid && !(in->flags & (HP_INSN_PROMOTED | HP_INSN_ALIAS_CHECK));
  bool fwd = false;
  for (unsigned k = 0; P->forward && P->ok && k < P->zi.operand_count_visible && !fwd; k++)
    fwd = forwardable(P, &P->ops[k]) != NULL;
  if (reads) {
    /* Registers it cannot read as their expressions (destinations, hidden
     * operands, addresses that do not fit) are made exact first; then the
     * rest are folded into it, with a frame slot a store forwards, or, if
     * it still cannot be encoded so, made exact too (and the slot read). */
    ZydisEncoderRequest req;
    uint16_t bad;
    fold_request(P, reads, &req, &bad);
    materialize(P, el, bad);
  }
  reads &= P->s.pend;
  if (reads || fwd) {
    struct hp_fold_rewrite *rw = P->f->nrw < P->f->rw_cap ? &P->f->rw[P->f->nrw] : NULL;
    if (rw && rewrite(P, reads, rw)) {
      take_rewrite(P, el);
      P->f->forwarded += fwd;
    } else {
      materialize(P, el, reads);
    }
  }
  /* After it: what it wrote is its own; what it spoilt is dead. */
  drop(P, (uint16_t)((full | dead_after) & P->s.pend));
  facts_after(P, in, eff, w);
  for (int g = 0; g < 16; g++)
    if ((eff->gpr_write >> g) & 1)
      set_known(P, g, false, 0);
  const ZydisDecodedOperand *d = &P->ops[0];
  if (eff->gpr_write && P->ok && P->zi.operand_count_visible && d->type == ZYDIS_OPERAND_TYPE_REGISTER &&
      ZydisRegisterGetClass(d->reg.value) == ZYDIS_REGCLASS_GPR32 && (d->actions & ZYDIS_OPERAND_ACTION_WRITE) &&
      ((full >> hp_gpr_num(d->reg.value)) & 1)) {
    /* A 32-bit result: zero-extended; movzx and and with a small mask
     * narrow it further. */
    const ZydisDecodedOperand *src = &P->ops[1];
    uint8_t narrow = 0;
    if (P->zi.mnemonic == ZYDIS_MNEMONIC_MOVZX)
      narrow = src->size == 8 ? 2 : src->size == 16 ? 1 : 0;
    else if (P->zi.mnemonic == ZYDIS_MNEMONIC_AND && src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && src->imm.value.s >= 0)
      narrow = (uint8_t)((src->imm.value.s < 0x10000) + (src->imm.value.s < 0x100));
    set_known(P, hp_gpr_num(d->reg.value), true, narrow);
  }
  return true;
}

static bool one(struct pass *P, unsigned i, const struct hp_live *gl, const struct hp_live *fl, uint16_t head_live)
{
  const struct hp_insn *in = &P->l->v[i];
  struct hp_fold_elem *el = &P->f->elem[i];
  memset(el, 0, sizeof *el);
  if (!snapshot(P))
    return false;
  el->pend = P->cur;
  if (in->op != HP_OP_GUEST) {
    if (in->op == HP_OP_EXIT_CC && !(in->flags & HP_INSN_BACK_EDGE))
      return true; /* a side exit: its out-of-line path materializes */
    if ((in->op == HP_OP_PUSH_RET && P->paired[i]) ||
        (in->op == HP_OP_RET_GUARD && (in->flags & HP_INSN_RET_KNOWN) && P->paired[i])) {
      /* An inlined call's push of the return address, or its unchecked
       * return: the path goes on in the trace and only rsp changes (the
       * push of an address above 2^31 reads it from a constant in the
       * code: no register). */
      materialize(P, el, readers_of(&P->s, (uint16_t)(1u << RSP)));
      if (in->op == HP_OP_PUSH_RET)
        P->s.nfacts = 0; /* its store may reach a frame slot */
      facts_clobber(&P->s, 1u << RSP);
      return true;
    }
    if ((in->op == HP_OP_EXIT_CC || in->op == HP_OP_EXIT) && (in->flags & HP_INSN_BACK_EDGE))
      materialize(P, el, head_live); /* the loop reads these; the rest are dead there */
    else
      materialize(P, el, P->s.pend);
    if (in->op != HP_OP_EXIT_CC) {
      P->s.uz = P->s.z16 = P->s.z8 = 0;
      P->s.nfacts = 0;
    }
    return true;
  }
  const struct hp_insn_effects *effp = &P->eff[i];
  if (!P->known[i] || effp->control) {
    materialize(P, el, P->s.pend);
    P->s.uz = P->s.z16 = P->s.z8 = 0;
    P->s.nfacts = 0;
    return true;
  }
  struct hp_insn_effects eff = *effp;
  P->ok = hp_insn_operands(in, &P->zi, P->ops);
  uint16_t live_after = (uint16_t)gl[i + 1].gpr;
  bool flags_dead = !(eff.flags_write & fl[i + 1].flags);
  /* Kept symbolic. */
  if (!(in->flags & ~HP_INSN_PROMOTED) && !(in->flags & HP_INSN_RIPREL) &&
      (!(in->flags & HP_INSN_PROMOTED) || in->reg < HP_PROMO_XMM)) {
    int g;
    struct lin v;
    bool uz, forwarded;
    uint8_t narrow;
    if (!P->ok)
      return use_and_clobber(P, i, &eff, live_after);
    if (noop_extension(P, in)) {
      el->gone = true;
      P->f->removed++;
      return true;
    }
    if (absorb_value(P, in, &P->zi, P->ops, flags_dead, &g, &v, &uz, &narrow, &forwarded)) {
      P->f->forwarded += forwarded;
      el->gone = true;
      P->s.val[g] = v;
      P->s.pend |= (uint16_t)(1u << g);
      if (v.n == 1 && v.r[0] == g && v.c[0] == 1 && !v.d)
        P->s.pend &= (uint16_t)~(1u << g); /* its own value again (mov eax, eax of a 32-bit value) */
      set_known(P, g, uz, narrow);
      P->s.dirty = true;
      P->f->absorbed++;
      return true;
    }
    /* Dead: its results are never read (not even by a fault handler). */
    uint16_t wr = (uint16_t)eff.gpr_write;
    if (!in->flags && pure_alu(P->zi.mnemonic) && !eff.nmem && !eff.may_fault && !eff.vec_write &&
        !eff.gpr_write_partial && !(wr & ((1u << RSP) | (1u << RBP))) && !(wr & gl[i + 1].gpr) && flags_dead) {
      el->gone = true;
      drop(P, wr);
      P->f->removed++;
      return true;
    }
  }
  return use_and_clobber(P, i, &eff, live_after);
}

bool hp_fold(const struct hp_ilist *l, struct hp_fold *f, const struct hp_insn_effects *eff, const bool *known,
             unsigned end, const char **why)
{
  if (!l->promo || !l->n) {
    *why = "no promotion to follow";
    return false;
  }
  if (end > l->n)
    end = l->n;
  f->end = end;
  struct hp_live gl[l->n + 1], fl[l->n + 1];
  hp_liveness_loop(l, eff, known, gl, true);  /* registers: a fault shows them all */
  /* Flags: what the code reads; in a trace not promoted, what a fault
   * shows too (dead flags differing at a fault are the promoted loop's
   * documented liberty, not every trace's). */
  hp_liveness_loop(l, eff, known, fl, l->promo->fold_only);
  struct pass P;
  memset(&P, 0, sizeof P);
  P.l = l;
  P.f = f;
  P.eff = eff;
  P.known = known;
  f->nsnap = 1;
  f->nrw = 0;
  f->absorbed = f->removed = f->rewritten = f->materialized = f->forwarded = f->rebased = 0;
  memset(&f->snap[0], 0, sizeof f->snap[0]);
  for (unsigned k = 0; k < l->promo->nslots; k++) {
    const struct hp_promo_slot *s = &l->promo->slot[k];
    if (s->reg < HP_PROMO_XMM) {
      P.pregs |= (uint16_t)(1u << s->reg);
    }
  }
  /* Inlined calls paired with their returns: only those go on in the
   * trace without an exit path. */
  unsigned paired[l->n];
  hp_ilist_pair_calls(l, paired);
  P.paired = paired;
  /* At the loop's top nothing is pending, nothing is known of any value
   * and no slot holds a known value: the back edges materialize what the
   * loop reads, and the rest is dead there. */
  uint16_t head_live = (uint16_t)gl[0].gpr;
  for (unsigned i = 0; i < end; i++)
    if (!one(&P, i, gl, fl, head_live)) {
      *why = "too many symbolic states or rewritten instructions";
      return false;
    }
  /* From end on the elements stay as they are, every register exact
   * before the first of them (a jump table's tail, which its slots run
   * again per case). */
  for (unsigned i = end; i < l->n; i++) {
    memset(&f->elem[i], 0, sizeof f->elem[i]);
    if (i == end) {
      if (!snapshot(&P)) {
        *why = "too many symbolic states or rewritten instructions";
        return false;
      }
      f->elem[i].pend = P.cur;
      materialize(&P, &f->elem[i], P.s.pend);
    }
  }
  if (!f->absorbed && !f->removed && !f->rewritten) {
    *why = "nothing to fold";
    return false;
  }
  return true;
}
