/* Lower stage (see lower.h). */
#include "hotpath/lower.h"

#include <string.h>

#include "hotpath/analysis.h"
#include "hotpath/thread.h"

#define CONTROL_BYTES 512 /* an indirect call with its inline cache and lookup, padded */
#define CHECK_BYTES_PER_BYTE 4

size_t hp_lower_jt_slot_bytes(const struct hp_ilist *l, unsigned p)
{
  /* The flags put back and the jump (26 bytes); a tail element copied, or
   * rewritten through a scratch register if rip-relative (43 bytes): not
   * the 64 bytes counted for any element (256 slots would outgrow what a
   * 1 MiB cache takes). */
  size_t b = 32;
  for (unsigned i = p; i + 1 < l->n; i++)
    b += (l->v[i].flags & HP_INSN_RIPREL) ? 48 : 16;
  return b;
}

void hp_lower_sizes(const struct hp_ilist *l, const struct hp_lower_opts *o, struct hp_lower_sizes *s)
{
  *s = (struct hp_lower_sizes){0};
  if (o->record)
    s->exits += l->n; /* calls, returns and indirect branches exit too */
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    s->exits += hp_op_exit_count(in);
    s->pcs++;
    s->recov += in->op == HP_OP_CODE_CHECK ? 3 : 2;
    switch (in->op) {
    case HP_OP_GUEST:
      s->hot += 64; /* a rip-relative rewrite through a scratch register */
      break;
    case HP_OP_CALL:
    case HP_OP_CALL_IND:
    case HP_OP_PUSH_RET:
    case HP_OP_CALL_IND_GUARD:
      s->conts++;
      s->hot += CONTROL_BYTES;
      break;
    case HP_OP_CODE_CHECK:
      s->hot += 256 + CHECK_BYTES_PER_BYTE * in->check_len;
      break;
    default:
      s->hot += CONTROL_BYTES;
      break;
    }
    if (o->side_exits && in->op == HP_OP_EXIT_CC)
      s->hot += 64; /* --stats: its counter and jump on the way out */
    if (l->ncallee && in->op == HP_OP_EXIT_CC) {
      s->hot += 64; /* inside an inlined call: counted, and its way out at the limit */
      s->exits++;
    }
  }
  s->hot += 64;
  s->exits++; /* an instruction that cannot be rewritten stops the fragment */
  if (l->jt && !o->record) { /* the dispatch, and a slot per entry: the tail and a jump */
    unsigned tail = l->n - 1 - l->jt->p;
    s->hot += HP_LOWER_JT_DISPATCH_BYTES + l->jt->n * hp_lower_jt_slot_bytes(l, l->jt->p);
    s->exits += l->jt->n;
    s->pcs += l->jt->n * tail;
    s->recov += 2 * l->jt->n * tail;
  }
  if (l->miss_counter)
    for (unsigned i = 0; i < l->n; i++) {
      unsigned op = l->v[i].op;
      if (op == HP_OP_CALL_IND_GUARD || op == HP_OP_JMP_IND_GUARD || op == HP_OP_RET_GUARD) {
        s->exits++; /* its give-up exit */
        s->hot += 64;
      }
    }
  const struct hp_promotion *p = l->promo;
  if (p && !p->fold_only) { /* (fold_only: no entry, restores or checks) */
    /* Entry loads, a store after every write of a slot, the restores of
     * every register at every exit, the loads after every checked store. */
    size_t moves = 10u * p->nslots, restores = 9u * 16 + 10u * 16;
    s->exits++; /* the deopt exit */
    /* entry (saves, frame check, loads), every exit's and every guard's
     * restores, the write-through stores */
    /* (+8 per exit: its jump past the restores, aligned; +31: the loop's top aligned) */
    s->hot += 64 + 48 + 2 * moves + 31 + restores + (s->exits + l->n + 1) * (restores + 16 + 8) + 8u * l->n;
    for (unsigned i = 0; i < l->n; i++) {
      if (l->v[i].flags & HP_INSN_RBP_CHECK) {
        s->hot += 48 + restores + 16;
        s->exits++;
      }
      if (l->v[i].flags & HP_INSN_ALIAS_CHECK) {
        s->hot += 48 + 2 * moves + 64 + 96; /* + flags set aside and back twice */
        s->pcs++;
      }
    }
    s->recov += 16 + HP_PROMO_MAX_SLOTS;
    if (p->deferred) /* the write-backs at every exit and check */
      s->hot += (s->exits + l->n + 1) * (9u * HP_PROMO_MAX_SLOTS + 16);
  }
  if (p && l->fold) { /* a lea per pending register before an element or on an exit's path; their records */
    s->hot += 8u * (l->n + 16u * s->exits);
    s->recov += 16u * 2 * l->n;
  }
}

#define MAX_DEFERRED 128 /* guards in one trace (each has a cold lookup) */
#define MAX_CONSTS 384   /* 8-byte constants in one fragment's code */

struct lowering {
  struct hp_emit *e;
  uintptr_t cold_top;
  struct hp_lowered *out;
  const struct hp_lower_opts *opts;
  /* Guard mismatches: out of line after the hot path, each a lookup with
   * rcx = target. */
  struct hp_label deferred[MAX_DEFERRED];
  uint32_t deferred_ret[MAX_DEFERRED]; /* 1 + imm: a return's lookup (not a jump's) */
  unsigned ndeferred;
  const unsigned *pairs; /* per element: hp_ilist_pair_calls (0: not paired) */
  /* Optimized traces: exits whose state is made exact out of line, after
   * the hot path (a side exit's jcc, or a back edge's unlinked path). */
  const struct hp_promotion *promo;
  bool shares; /* an exit may go past the entry of a trace with the same plan (HP_INSN_SHARE) */
  struct {
    size_t jcc;       /* rel32 of the side exit's jcc; 0 for a back edge */
    unsigned exit;    /* a back edge: its exit */
    uint64_t target;
    uint16_t snap, pending; /* folding: registers to make exact there first */
    uint64_t *counter;      /* --stats: a side exit's counter (opts) */
    int callee;             /* inside a counted inlined call: its counter; else -1 */
    bool stats_only;        /* there only to count (--stats): all of its bytes are counting code */
    bool share;             /* HP_INSN_SHARE: a jump past the restores, for a shared link */
  } comps[MAX_DEFERRED];
  unsigned ncomps;
  struct {
    size_t hit, done; /* the check's jb rel32; where the hot path goes on */
    unsigned elem;
  } slow[MAX_DEFERRED];
  unsigned nslow;
  size_t deopt[4];  /* the entry's checks' jumps to the deopt exit (rel32 fields) */
  /* Pushed 64-bit return addresses (one per inlined call of a PIE: up to
   * one per recorded block) and jump-table guard values: placed after the
   * code (push_ret). */
  struct {
    size_t disp, at; /* the push's disp32; the constant */
    uint64_t v;
  } consts[MAX_CONSTS];
  unsigned nconsts;
  unsigned ndeopt;
  uint32_t jt_generic; /* a jump table's way on past its dispatch (the tail, the lookup) */
  uint64_t head;    /* the list's first guest pc */
  /* Folding (with promo): the plan, the pending registers of the element
   * being lowered (snapshot and mask), each register's last record. */
  const struct hp_ilist *l;
  const struct hp_fold *fold;
  uint16_t snap, pending, pending_uses; /* pending_uses: the machine registers their expressions read */
  /* Optimized traces, from the loop's top on: xmm registers whose bits
   * above 64 (xz64) or above 32 (xz32) are known to be zero (xclean_after),
   * so that a store of a float or double slot copies its source whole. */
  uint16_t xz64, xz32;
  int fold_rec[16];
};

/* The bytes to emit for a guest element (its folded rewrite, if any). */
static const uint8_t *insn_bytes(const struct lowering *L, const struct hp_insn *in, const ZydisDecodedInstruction **zi)
{
  unsigned rw = L->fold ? L->fold->elem[in - L->l->v].rw : 0;
  if (rw) {
    *zi = &L->fold->rw[rw - 1].zi;
    return L->fold->rw[rw - 1].bytes;
  }
  *zi = &in->zi;
  return in->bytes;
}

/* Folding: registers of snapshot snap in mask made exact, in its order. */
static void fold_materialize(struct lowering *L, uint16_t snap, uint16_t mask)
{
  if (!mask)
    return;
  const struct hp_fold_snap *s = &L->fold->snap[snap];
  for (unsigned k = 0; k < s->n; k++)
    if ((mask >> s->order[k]) & 1) {
      const struct hp_addr_expr *x = &s->e[s->order[k]];
      hp_emit_addr_expr(L->e, s->order[k], x->base, x->index, x->scale, x->disp);
    }
}

/* Folding: over [start, end) the registers of snap in mask are their
 * expressions (a fault rebuilds them); extends a register's last record
 * when it goes on unchanged. */
static void fold_records(struct lowering *L, uint16_t snap, uint16_t mask, uint32_t start, uint32_t end)
{
  const struct hp_fold_snap *s = &L->fold->snap[snap];
  struct hp_recov_buf *b = &L->out->recov;
  for (int g = 0; g < 16 && start < end; g++) {
    if (!((mask >> g) & 1))
      continue;
    const struct hp_addr_expr *x = &s->e[g];
    struct hp_recov r = {.start = start, .end = end, .reg = (uint8_t)g, .kind = HP_LOC_EXPR, .slot = x->disp,
                         .size = x->scale, .xbase = x->base, .xindex = x->index};
    int k = L->fold_rec[g];
    if (k >= 0 && b->v[k].end == start && b->v[k].slot == r.slot && b->v[k].size == r.size &&
        b->v[k].xbase == r.xbase && b->v[k].xindex == r.xindex) {
      b->v[k].end = end;
      continue;
    }
    if (b->n == b->cap) {
      L->e->overflow = true;
      return;
    }
    L->fold_rec[g] = (int)b->n;
    b->v[b->n++] = r;
  }
}

/* Promoted slots: loaded into their registers (entry, after an access
 * through memory that hit them); leaving, the registers' guest values come
 * back (memory is always exact: every write of a slot is written through). */
static void slots_load_from(struct lowering *L, int base)
{
  for (unsigned k = 0; k < L->promo->nslots; k++) {
    const struct hp_promo_slot *s = &L->promo->slot[k];
    if (s->reg >= HP_PROMO_XMM)
      hp_emit_xslot_load_from(L->e, s->reg - HP_PROMO_XMM, base, s->disp, s->size);
    else
      hp_emit_slot_load_from(L->e, s->reg, base, s->disp, s->size);
  }
}
static void slots_load(struct lowering *L) { slots_load_from(L, 5); /* rbp */ }
/* The slot that general register reg holds, stored from it. */
static void slot_store(struct lowering *L, int reg)
{
  for (unsigned k = 0; k < L->promo->nslots; k++)
    if (L->promo->slot[k].reg == reg)
      hp_emit_slot_store(L->e, reg, L->promo->slot[k].disp, L->promo->slot[k].size);
}
/* The slots the loop writes (all: every slot), stored from their registers
 * through the loop's rbp (with inlined calls rbp may be a callee's: the
 * loop's comes from the entry's copy, into the scratch register in base). */
static void slots_store(struct lowering *L, int base, bool all)
{
  const struct hp_promotion *p = L->promo;
  for (unsigned k = 0; k < p->nslots; k++) {
    const struct hp_promo_slot *s = &p->slot[k];
    if (!s->writes && !all)
      continue;
    if (s->reg >= HP_PROMO_XMM)
      hp_emit_xslot_store_to(L->e, s->reg - HP_PROMO_XMM, base, s->disp, s->size);
    else
      hp_emit_slot_store_to(L->e, s->reg, base, s->disp, s->size);
  }
}
static void slots_write_back(struct lowering *L)
{
  const struct hp_promotion *p = L->promo;
  if (!p->deferred)
    return;
  int base = 5; /* rbp */
  if (p->frame_check) {
    base = p->scratch;
    hp_emit_promo_frame_load(L->e, base);
  }
  slots_store(L, base, false);
}
/* Leaving an optimized trace: deferred stores written back (unless the
 * slots were never loaded: the deopt path), the registers restored. */
static void promo_leave_from(struct lowering *L, bool loaded)
{
  if (!L->promo)
    return;
  if (loaded)
    slots_write_back(L);
  for (int r = 0; r < 16; r++)
    if (L->promo->regs & (1u << r))
      hp_emit_promo_restore(L->e, r);
  for (int x = 0; x < 16; x++)
    if (L->promo->xregs & (1u << x))
      hp_emit_promo_xrestore(L->e, x);
}
static void promo_leave(struct lowering *L) { promo_leave_from(L, true); }

/* A recovery record from start to the end of the fragment (size and
 * base_gs: HP_LOC_MEM_REG only). */
static void add_recov_mem(struct lowering *L, uint32_t start, uint8_t reg, uint8_t kind, int32_t slot, uint8_t size,
                          int32_t base_gs)
{
  struct hp_recov_buf *b = &L->out->recov;
  if (b->n == b->cap) {
    L->e->overflow = true;
    return;
  }
  b->v[b->n++] = (struct hp_recov){.start = start, .end = UINT32_MAX, .reg = reg, .kind = kind, .slot = slot,
                                   .size = size, .base_gs = base_gs};
}
static void add_recov(struct lowering *L, uint32_t start, uint8_t reg, uint8_t kind, int32_t slot)
{
  add_recov_mem(L, start, reg, kind, slot, 0, 0);
}

/* Entry of an optimized trace: the registers' guest values aside, the
 * slots loaded; the loop comes back past this. */
static void promo_enter(struct lowering *L)
{
  const struct hp_promotion *p = L->promo;
  for (int r = 0; r < 16; r++)
    if (p->regs & (1u << r))
      hp_emit_promo_save(L->e, r);
  for (int x = 0; x < 16; x++)
    if (p->xregs & (1u << x))
      hp_emit_promo_xsave(L->e, x);
  uint32_t saved = (uint32_t)L->e->pos;
  for (int r = 0; r < 16; r++)
    if (p->regs & (1u << r))
      add_recov(L, saved, (uint8_t)r, HP_LOC_GS_SLOT, hp_emit_promo_save_off(r));
  for (int x = 0; x < 16; x++)
    if (p->xregs & (1u << x))
      add_recov(L, saved, (uint8_t)(HP_REG_XMM0 + x), HP_LOC_GS_SLOT, hp_emit_promo_xsave_off(x));
  /* Any register taken is free until the slots are loaded. */
  int scratch = p->scratch;
  for (int r = 0; scratch < 0 && r < 16; r++)
    if (p->regs & (1u << r))
      scratch = r;
  if (scratch < 0 || !p->stack_hi) { /* the pass always leaves one; the caller sets the stack */
    L->out->broken = true;
    L->e->overflow = true;
    return;
  }
  hp_emit_stack_check(L->e, scratch, p->lo, p->hi, p->stack_lo, p->stack_hi, p->entry_flags_dead, L->deopt + L->ndeopt);
  L->ndeopt += 2;
  if (p->frame_check) {
    L->deopt[L->ndeopt++] = hp_emit_frame_check(L->e, p->scratch, p->lo, p->entry_flags_dead);
    hp_emit_promo_frame_save(L->e);
  }
  if (p->rip_check)
    L->deopt[L->ndeopt++] =
        hp_emit_span_check(L->e, p->scratch, p->rip_lo, p->rip_size, p->lo, p->hi, p->entry_flags_dead);
  /* The slots' loads are speculative (a run may leave before touching
   * them; rbp may not be a frame): a fault in them goes to the deopt exit. */
  L->out->spec_start = (uint32_t)L->e->pos;
  slots_load(L);
  /* Each slot the loop writes is stored once here (its own value), so a
   * stack the guest cannot write faults here (deopt), not at an exit
   * (deferred stores) or at a write-through store in the loop: there they
   * cannot fault (liveness.c, fold.c count on it). Written through, every
   * slot is: a trace with the same plan entered from this one's exits
   * (shared) may write slots this one only reads. */
  slots_store(L, 5 /* rbp: the loop's, here */, L->shares && !p->deferred);
  L->out->spec_end = (uint32_t)L->e->pos;
  /* The loop's top on a 32-byte boundary (the entry falls into the nops
   * once): its speed then does not depend on how long the entry is. */
  hp_emit_nops(L->e, (32 - (hp_emit_here(L->e) & 31)) & 31);
  L->out->loop_off = (uint32_t)L->e->pos;
  /* From here on, memory owes those slots their registers' values. */
  for (unsigned k = 0; p->deferred && k < p->nslots; k++) {
    const struct hp_promo_slot *s = &p->slot[k];
    if (s->writes)
      add_recov_mem(L, L->out->loop_off,
                    s->reg >= HP_PROMO_XMM ? (uint8_t)(HP_REG_XMM0 + s->reg - HP_PROMO_XMM) : s->reg,
                    HP_LOC_MEM_REG, s->disp, s->size, p->frame_check ? hp_emit_promo_frame_off() : -1);
  }
}

static void defer_comp(struct lowering *L, size_t jcc, unsigned exit, uint64_t target, uint64_t *counter)
{
  if (L->ncomps == MAX_DEFERRED) { /* more room would not help: build it unoptimized */
    L->out->broken = true;
    L->e->overflow = true;
    return;
  }
  L->comps[L->ncomps].jcc = jcc;
  L->comps[L->ncomps].exit = exit;
  L->comps[L->ncomps].target = target;
  L->comps[L->ncomps].snap = L->snap;
  L->comps[L->ncomps].pending = L->pending;
  L->comps[L->ncomps].counter = counter;
  L->comps[L->ncomps].callee = -1;
  L->comps[L->ncomps].stats_only = false;
  L->comps[L->ncomps].share = false;
  L->ncomps++;
}

/* The outermost inlined call (a call paired with its return) around
 * element i: its element; -1 if none. */
static int outer_callee(const struct lowering *L, unsigned i)
{
  for (unsigned k = 0; k < i; k++)
    if (L->pairs[k] > i + 1 && (L->l->v[k].op == HP_OP_PUSH_RET || L->l->v[k].op == HP_OP_CALL_IND_GUARD))
      return (int)k;
  return -1;
}

static bool in_callee(const struct lowering *L, unsigned i) { return outer_callee(L, i) >= 0; }

/* The counter of the side exits inside the counted inlined call around
 * element i (struct hp_ilist's callee sites); -1: not counted. */
static int callee_counter(const struct lowering *L, unsigned i)
{
  const struct hp_ilist *l = L->l;
  for (unsigned j = 0; j < l->ncallee && !L->opts->record; j++)
    if (l->callee_elem[j] < i && i < l->callee_ret[j])
      return (int)l->callee_counter[j];
  return -1;
}

/* --stats: the counter of a side exit at element i: inside an inlined call
 * or not; NULL: not counted. */
static uint64_t *side_exit_counter(const struct lowering *L, unsigned i)
{
  if (!L->opts->side_exits)
    return NULL;
  return in_callee(L, i) ? L->opts->callee_exits : L->opts->side_exits;
}

/* A jump (its rel32 aligned for patching) to the instruction after it;
 * returns the rel32's position. */
static size_t jmp_to_next(struct hp_emit *e)
{
  size_t at = hp_emit_jmp_rel32(e, hp_emit_here(e));
  if (!e->overflow)
    hp_patch_rel32(e->rw + at, e->rx + at, hp_emit_here(e));
  return at;
}

/* An exit of a promoted trace marked HP_INSN_SHARE (marked), its registers
 * exact: a jump to the next instruction (the restores) that a shared link
 * aims past another trace's entry (hp_link). Returns its rel32's
 * position, 0 if none. */
static size_t share_jmp(struct lowering *L, bool marked)
{
  return marked && L->promo && !L->promo->fold_only ? jmp_to_next(L->e) : 0;
}

static struct hp_label *defer_lookup(struct lowering *L)
{
  if (L->ndeferred == MAX_DEFERRED) { /* more room would not help */
    L->out->broken = true;
    L->e->overflow = true;
    return &L->deferred[0];
  }
  L->deferred_ret[L->ndeferred] = 0;
  struct hp_label *m = &L->deferred[L->ndeferred++];
  *m = (struct hp_label){0};
  return m;
}

static unsigned add_exit(struct lowering *L, uint8_t kind, uint64_t target, size_t branch_pos)
{
  struct hp_lowered *o = L->out;
  if (o->nexits == o->max_exits) {
    L->e->overflow = true;
    return 0;
  }
  o->exits[o->nexits] = (struct hp_lowered_exit){kind, target, (uint32_t)branch_pos, 0, -1, false, false, 0, 0, 0, 0};
  return o->nexits++;
}

/* A jump to a new exit's stub; linkable branches are aligned for patching. */
static void exit_jmp(struct lowering *L, uint8_t kind, uint64_t target)
{
  size_t pos = hp_emit_jmp_rel32(L->e, hp_emit_here(L->e));
  add_exit(L, kind, target, pos);
}

static void map_pc(struct lowering *L, const struct hp_insn *in)
{
  struct hp_lowered *o = L->out;
  if (o->npc == o->max_pc) {
    L->e->overflow = true;
    return;
  }
  /* Elements without guest bytes of their own (exits added by mangle)
   * belong to the instruction before them. */
  if (!in->len && in->op == HP_OP_EXIT && o->npc)
    return;
  o->pc_off[o->npc] = (uint32_t)L->e->pos;
  o->pc_guest[o->npc] = in->pc;
  o->pc_len[o->npc] = in->len;
  o->npc++;
}

/* The continuation of a call: the callee's `ret` lands here. */
static void continuation(struct lowering *L, uint64_t guest)
{
  struct hp_lowered *o = L->out;
  size_t off = L->e->pos, entry = hp_emit_continuation(L->e, guest);
  if (o->nconts == o->max_conts) {
    L->e->overflow = true;
    return;
  }
  o->conts[o->nconts++] = (struct hp_lowered_cont){(uint32_t)off, (uint32_t)entry, guest};
}

/* The one-entry inline cache of an indirect call or jmp at guest pc: rcx =
 * target, or (r >= 0) a `call r64` whose target is compared in r. Its miss
 * counter is chosen by the pc. */
static void inline_cache(struct lowering *L, int r, uint64_t pc)
{
  size_t k_off, jmp_off, learn_off;
  int32_t miss_slot = hp_site_miss_slot(pc);
  if (r >= 0)
    hp_emit_inline_cache_reg(L->e, r, miss_slot, &k_off, &jmp_off, &learn_off);
  else
    hp_emit_inline_cache(L->e, miss_slot, &k_off, &jmp_off, &learn_off);
  unsigned site = add_exit(L, HP_EXIT_PREDICT, 0, jmp_off);
  L->out->exits[site].k_off = (uint32_t)k_off;
  unsigned learn = add_exit(L, HP_EXIT_LEARN, 0, learn_off);
  L->out->exits[learn].site = (int)site;
}

/* Loads the target of an indirect branch into rcx; false if unsupported. */
static bool branch_target(struct lowering *L, const struct hp_insn *in)
{
  ZydisDecodedInstruction full;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  return hp_insn_operands(in, &full, ops) && hp_emit_branch_target(L->e, &full, &ops[0], in->pc + in->len);
}

/* An inlined call's push of the guest return address. */
static void push_ret(struct lowering *L, uint64_t guest_ret)
{
  size_t disp = hp_emit_push_ret(L->e, guest_ret);
  if (!disp)
    return;
  if (L->nconsts == MAX_CONSTS) {
    L->out->broken = true; /* more room would not help: give up the trace */
    L->e->overflow = true;
    return;
  }
  L->consts[L->nconsts].disp = disp;
  L->consts[L->nconsts++].v = guest_ret;
}

/* The register of a `jmp r64` the lookup can read in place (not rcx, its
 * index, nor rsp); -1 otherwise. */
static int jmp_register(const struct hp_insn *in)
{
  ZydisDecodedInstruction full;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!hp_insn_operands(in, &full, ops) || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
      ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, ops[0].reg.value) != 64)
    return -1;
  int r = hp_gpr_num(ops[0].reg.value);
  return r == 1 || r == 4 ? -1 : r; /* rcx, rsp */
}

/* A block's call: direct, or indirect with the target in rcx (reg < 0) or
 * in the guest register reg (not rcx nor rsp: the push cannot change it). */
static void call(struct lowering *L, const struct hp_insn *in, bool direct, int reg)
{
  uint64_t next = in->pc + in->len;
  if (!direct && reg < 0)
    hp_emit_park_target(L->e);
  struct hp_label body = {0};
  hp_emit_call_push(L->e, &body);
  continuation(L, next);
  exit_jmp(L, HP_EXIT_BRANCH, next);
  hp_emit_call_body(L->e, &body, next);
  if (direct) {
    exit_jmp(L, HP_EXIT_BRANCH, in->target);
    L->out->exits[L->out->nexits - 1].call = true;
  } else if (reg >= 0) {
    inline_cache(L, reg, in->pc);
    hp_emit_ibl_inline_reg(L->e, reg);
  } else {
    hp_emit_unpark_target(L->e);
    inline_cache(L, -1, in->pc);
    hp_emit_ibl_inline(L->e);
  }
}

/* An inlined call whose return is not in this trace: a real `call` (so
 * the return stack predicts the callee's ret, which runs outside the
 * trace), with a block-style continuation registered for the guest return
 * address. Then the callee runs on in the trace. (A call whose return is in
 * the trace only pushes the guest return address.) */
static void inlined_call(struct lowering *L, const struct hp_insn *in, bool indirect)
{
  struct hp_emit *e = L->e;
  uint64_t guest_ret = in->pc + in->len;
  if (indirect) /* the push sees the guest's rcx; the target waits */
    hp_emit_park_target(e);
  struct hp_label body = {0};
  hp_emit_call_push(e, &body);
  continuation(L, guest_ret);
  exit_jmp(L, HP_EXIT_BRANCH, guest_ret);
  hp_emit_call_body(e, &body, guest_ret);
  if (indirect)
    hp_emit_unpark_target(e);
}

/* A plain guest instruction (rip-relative operands adjusted). */
static bool guest_insn(struct lowering *L, const struct hp_insn *in, bool force_far)
{
  const ZydisDecodedInstruction *zi;
  const uint8_t *bytes = insn_bytes(L, in, &zi);
  if (in->flags & HP_INSN_RIPREL) { /* never rewritten by folding */
    bool scratch;
    /* Not a register a folded expression reads: a fault would show it. */
    unsigned avoid = (L->promo ? L->promo->regs : 0) | L->pending_uses;
    if (!hp_emit_riprel(L->e, in->bytes, &in->zi, in->pc, force_far, avoid, &scratch)) {
      if (L->promo) { /* no scratch left beside the promoted registers: unoptimized */
        L->out->broken = true;
        L->e->overflow = true;
        return false;
      }
      exit_jmp(L, HP_EXIT_UNSUPPORTED_INSN, in->pc);
      return false;
    }
    L->out->riprel_far += scratch;
  } else {
    hp_emit_bytes(L->e, bytes, zi->length);
  }
  return true;
}

/* Whether the source of a guest movss/movsd store (its ModRM reg field)
 * holds nothing above the element it stores (xclean_after knows). */
static bool xsrc_clean(const struct lowering *L, const ZydisDecodedInstruction *zi)
{
  int src = hp_emit_modrm_xmm(zi);
  return ((zi->mnemonic == ZYDIS_MNEMONIC_MOVSD ? L->xz64 : L->xz32) >> src) & 1;
}

/* The xmm registers a slot of the promotion lives in, with their bits
 * known zero: a double's above 64, a float's above 32 (always: entry
 * loads, slot updates and reloads after a checked store all zero-extend). */
static void xclean_slots(struct lowering *L)
{
  L->xz64 = L->xz32 = 0;
  for (unsigned k = 0; k < L->promo->nslots; k++) {
    const struct hp_promo_slot *s = &L->promo->slot[k];
    if (s->reg < HP_PROMO_XMM)
      continue;
    L->xz64 |= (uint16_t)(1u << (s->reg - HP_PROMO_XMM));
    if (s->size == 4)
      L->xz32 |= (uint16_t)(1u << (s->reg - HP_PROMO_XMM));
  }
}

/* What an element that writes vector state leaves known: nothing of the
 * registers it names (no guest instruction names a register a slot lives
 * in). */
static void xclean_forget(struct lowering *L, const struct hp_insn_effects *eff)
{
  L->xz64 &= (uint16_t)~eff->xmm;
  L->xz32 &= (uint16_t)~eff->xmm;
}

/* After guest element in (lowered at the loop's straight-line path): what
 * it leaves known of the xmm registers' upper bits. Scalar SSE arithmetic
 * keeps its destination's bits above the element, loads zero-extend, a
 * register copy copies; anything else that writes vector state forgets
 * the registers it names (all, for xsave and the like). */
static void xclean_after(struct lowering *L, const struct hp_insn *in)
{
  struct hp_insn_effects eff;
  if (!hp_analyze_insn(in, &eff) || eff.xmm_all) {
    xclean_slots(L);
    return;
  }
  ZydisDecodedInstruction full;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!eff.vec_write)
    return;
  if (!hp_insn_operands(in, &full, ops) || !full.operand_count_visible) {
    xclean_forget(L, &eff);
    return;
  }
  const ZydisDecodedInstruction *zi = &full;
  bool reg_form = (zi->attributes & ZYDIS_ATTRIB_HAS_MODRM) && zi->raw.modrm.mod == 3;
  if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
      (zi->mnemonic == ZYDIS_MNEMONIC_MOVSD || zi->mnemonic == ZYDIS_MNEMONIC_MOVSS))
    return; /* a store: no register written */
  /* The cases below are legacy SSE instructions that write the xmm
   * register of their first operand (not an MMX one of the same number:
   * `pxor mm1, mm1` is PXOR too). */
  if (zi->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
      ZydisRegisterGetClass(ops[0].reg.value) != ZYDIS_REGCLASS_XMM) {
    xclean_forget(L, &eff);
    return;
  }
  int d = (int)ops[0].reg.value - (int)ZYDIS_REGISTER_XMM0;
  uint16_t bit = (uint16_t)(1u << d);
  int src = reg_form && full.operand_count_visible > 1 && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                    ZydisRegisterGetClass(ops[1].reg.value) == ZYDIS_REGCLASS_XMM
                ? (int)ops[1].reg.value - (int)ZYDIS_REGISTER_XMM0
                : -1;
  switch (zi->mnemonic) {
  case ZYDIS_MNEMONIC_MOVSD:
  case ZYDIS_MNEMONIC_MOVSS:
    if (zi->opcode == 0x10 && !reg_form) { /* a load (or a promoted slot's copy): zero-extended */
      bool ss = zi->mnemonic == ZYDIS_MNEMONIC_MOVSS;
      L->xz64 |= bit;
      L->xz32 = ss ? (uint16_t)(L->xz32 | bit) : (uint16_t)(L->xz32 & ~bit);
      return;
    }
    if (zi->opcode == 0x10 && zi->mnemonic == ZYDIS_MNEMONIC_MOVSS)
      return; /* movss x, y: the low 32 bits, the rest kept */
    if (zi->opcode == 0x10) {
      L->xz32 &= (uint16_t)~bit; /* movsd x, y: the low 64 bits */
      return;
    }
    break;
  case ZYDIS_MNEMONIC_ADDSD: case ZYDIS_MNEMONIC_SUBSD: case ZYDIS_MNEMONIC_MULSD: case ZYDIS_MNEMONIC_DIVSD:
  case ZYDIS_MNEMONIC_MINSD: case ZYDIS_MNEMONIC_MAXSD: case ZYDIS_MNEMONIC_SQRTSD: case ZYDIS_MNEMONIC_CVTSI2SD:
  case ZYDIS_MNEMONIC_CVTSS2SD:
    L->xz32 &= (uint16_t)~bit; /* the low 64 bits written, the rest kept */
    return;
  case ZYDIS_MNEMONIC_ADDSS: case ZYDIS_MNEMONIC_SUBSS: case ZYDIS_MNEMONIC_MULSS: case ZYDIS_MNEMONIC_DIVSS:
  case ZYDIS_MNEMONIC_MINSS: case ZYDIS_MNEMONIC_MAXSS: case ZYDIS_MNEMONIC_SQRTSS: case ZYDIS_MNEMONIC_CVTSI2SS:
  case ZYDIS_MNEMONIC_CVTSD2SS:
    return; /* the low 32 bits written, the rest kept */
  case ZYDIS_MNEMONIC_MOVAPS:
  case ZYDIS_MNEMONIC_MOVAPD:
    if (src >= 0 && zi->opcode == 0x28) { /* a copy */
      L->xz64 = (uint16_t)((L->xz64 & ~bit) | (((L->xz64 >> src) & 1u) << d));
      L->xz32 = (uint16_t)((L->xz32 & ~bit) | (((L->xz32 >> src) & 1u) << d));
      return;
    }
    break;
  case ZYDIS_MNEMONIC_XORPS:
  case ZYDIS_MNEMONIC_XORPD:
  case ZYDIS_MNEMONIC_PXOR:
    if (src == d) { /* zeroed */
      L->xz64 |= bit;
      L->xz32 |= bit;
      return;
    }
    break;
  default:
    break;
  }
  xclean_forget(L, &eff);
}

/* Element i; returns false when the fragment must stop after it. */
static bool lower_elem(struct lowering *L, const struct hp_ilist *l, unsigned i, bool force_far)
{
  const struct hp_insn *in = &l->v[i];
  struct hp_emit *e = L->e;
  const ZydisDecodedInstruction *zi;
  const uint8_t *bytes = in->op == HP_OP_GUEST ? insn_bytes(L, in, &zi) : NULL;
  switch (in->op) {
  case HP_OP_GUEST:
    if ((in->flags & (HP_INSN_PROMOTED | HP_INSN_ALIAS_CHECK)) && !L->promo) {
      L->out->broken = true; /* marked by the pass but lowered without its plan */
      e->overflow = true;
      return false;
    }
    if ((in->flags & HP_INSN_PROMOTED) && in->reg >= HP_PROMO_XMM) {
      /* A float or double slot in an xmm register: a store goes to memory
       * (write-through) and into the register; a movss/movsd load copies
       * the register; any other instruction reads it as its source. */
      int x = in->reg - HP_PROMO_XMM;
      bool ok;
      if (in->flags & HP_INSN_SLOT_WRITE) { /* deferred: the register only */
        bool whole = xsrc_clean(L, zi);
        ok = (L->promo->deferred || guest_insn(L, in, force_far)) && hp_emit_guest_xslot_update(e, zi, x, whole);
        L->out->xslot_whole += ok && whole;
      } else {
        ok = hp_emit_guest_xslot_read(e, zi, x) || hp_emit_guest_rm_reg(e, bytes, zi, x);
      }
      if (!ok) {
        L->out->broken = true;
        e->overflow = true;
        return false;
      }
      return true;
    }
    if (in->flags & HP_INSN_PROMOTED) {
      if (in->flags & HP_INSN_PROBE_STORE) /* a fault of the store before the flags change */
        slot_store(L, in->reg);
      if (!hp_emit_guest_rm_reg(e, bytes, zi, in->reg)) {
        L->out->broken = true; /* the pass chose an instruction it should not have */
        e->overflow = true;
        return false;
      }
      if ((in->flags & HP_INSN_SLOT_WRITE) && !L->promo->deferred) /* write-through: memory stays exact */
        slot_store(L, in->reg);
      return true;
    }
    if (in->flags & HP_INSN_ALIAS_CHECK) {
      /* A store that hits a promoted slot runs out of line, and the slots
       * are loaded again after it. */
      const struct hp_promotion *p = L->promo;
      size_t hit = hp_emit_alias_check(e, p->scratch, bytes, zi, in->pc, p->lo, p->hi,
                                       (in->flags & HP_INSN_IN_CALLEE) != 0, (in->flags & HP_INSN_KEEP_FLAGS) != 0);
      if (!hit || L->nslow == MAX_DEFERRED) {
        L->out->broken = true;
        e->overflow = true;
        return false;
      }
      if (!guest_insn(L, in, force_far))
        return false;
      L->slow[L->nslow].hit = hit;
      L->slow[L->nslow].done = e->pos;
      L->slow[L->nslow].elem = i;
      L->nslow++;
      return true;
    }
    if (!guest_insn(L, in, force_far))
      return false;
    if ((in->flags & HP_INSN_RBP_CHECK) && L->promo) {
      /* The loop's rbp came back from a stack slot that a store may have
       * changed: not the loop's, leave (exact: after the instruction). */
      defer_comp(L, hp_emit_rbp_check(e), 0, in->pc + in->len, NULL);
    }
    return true;
  case HP_OP_EXIT:
  case HP_OP_STOP:
    if (L->promo && (in->flags & HP_INSN_BACK_EDGE)) {
      /* Linked to the loop past the trace's entry loads; unlinked (a
       * signal, a flush), through the stores and restores to its stub. */
      exit_jmp(L, in->exit_kind, in->target);
      L->out->exits[L->out->nexits - 1].back_edge = true;
      defer_comp(L, 0, L->out->nexits - 1, in->target, NULL);
      return false;
    }
    size_t share = share_jmp(L, (in->flags & HP_INSN_SHARE) && !(in->flags & HP_INSN_BACK_EDGE));
    promo_leave(L);
    exit_jmp(L, in->exit_kind, in->target);
    if (in->flags & HP_INSN_BACK_EDGE)
      L->out->exits[L->out->nexits - 1].back_edge = true;
    if (share && !L->e->overflow)
      L->out->exits[L->out->nexits - 1].share_pos = (uint32_t)share;
    return false;
  case HP_OP_EXIT_CC: {
    size_t pos = hp_emit_jcc_rel32(e, in->cc, hp_emit_here(e));
    if (in->flags & HP_INSN_BACK_EDGE) { /* the loop's branch: linked to the trace itself */
      unsigned k = add_exit(L, HP_EXIT_BRANCH, in->target, pos);
      L->out->exits[k].back_edge = true;
      if (L->promo)
        defer_comp(L, 0, k, in->target, NULL);
      return true;
    }
    /* Inside an inlined call, the exit is counted (where there is room):
     * the callee's return then runs outside the trace, where the CPU's
     * return stack has no entry for it (a misprediction per exit), and a
     * trace that takes such exits often is rebuilt without that call
     * inlined (hp_trace_callee_exits). */
    int callee = callee_counter(L, i);
    if (L->promo || (callee >= 0 && L->ncomps < MAX_DEFERRED)) {
      defer_comp(L, pos, 0, in->target, side_exit_counter(L, i));
      if (!L->e->overflow) {
        L->comps[L->ncomps - 1].callee = callee;
        L->comps[L->ncomps - 1].share = (in->flags & HP_INSN_SHARE) != 0;
      }
      return true;
    }
    /* --stats: counted on its way out, where there is room (a trace with
     * more side exits than that leaves through the others uncounted) */
    if (L->opts->side_exits && L->ncomps < MAX_DEFERRED) {
      defer_comp(L, pos, 0, in->target, side_exit_counter(L, i));
      if (!L->e->overflow)
        L->comps[L->ncomps - 1].stats_only = true;
      return true;
    }
    add_exit(L, HP_EXIT_BRANCH, in->target, pos);
    return true;
  }
  case HP_OP_CALL:
    if (L->opts->record) {
      push_ret(L, in->pc + in->len);
      exit_jmp(L, HP_EXIT_BRANCH, in->target);
      L->out->exits[L->out->nexits - 1].call = true;
      return false;
    }
    call(L, in, true, -1);
    return false;
  case HP_OP_RET:
    if (L->opts->record) {
      hp_emit_pop_target(e, (uint16_t)in->target);
      hp_emit_park_target(e);
      exit_jmp(L, HP_EXIT_IBL_MISS, 0);
      return false;
    }
    hp_emit_return(e, (uint16_t)in->target);
    return false;
  case HP_OP_CALL_IND:
  case HP_OP_JMP_IND:
    if (L->opts->record) { /* the target waits in gs:ibl_target for the dispatcher */
      if (!branch_target(L, in)) {
        exit_jmp(L, HP_EXIT_UNSUPPORTED_INSN, in->pc);
        return false;
      }
      hp_emit_park_target(e);
      if (in->op == HP_OP_CALL_IND)
        push_ret(L, in->pc + in->len);
      exit_jmp(L, HP_EXIT_IBL_MISS, 0);
      return false;
    }
    if (in->op == HP_OP_JMP_IND && L->promo) /* a dispatch's way on past its table: the guest's registers back */
      promo_leave(L);
    if (in->op == HP_OP_JMP_IND && !(in->flags & HP_INSN_MONO)) {
      int r = jmp_register(in);
      if (r >= 0) {
        hp_emit_ibl_inline_reg(e, r);
        L->out->reg_lookups++;
        return false;
      }
    }
    if (in->op == HP_OP_CALL_IND) {
      int r = jmp_register(in);
      if (r >= 0) {
        call(L, in, false, r);
        L->out->reg_calls++;
        return false;
      }
    }
    if (!branch_target(L, in)) {
      exit_jmp(L, HP_EXIT_UNSUPPORTED_INSN, in->pc);
      return false;
    }
    if (in->op == HP_OP_CALL_IND) {
      call(L, in, false, -1);
    } else {
      if (in->flags & HP_INSN_MONO)
        inline_cache(L, -1, in->pc);
      hp_emit_ibl_inline(e);
    }
    return false;
  case HP_OP_PUSH_RET:
    if (L->pairs[i]) { /* its return is in the trace: no real call */
      push_ret(L, in->pc + in->len);
      return true;
    }
    inlined_call(L, in, false);
    return true;
  case HP_OP_CALL_IND_GUARD:
  case HP_OP_JMP_IND_GUARD: {
    /* A target in a register (not rcx or rsp) is compared where it is:
     * no copy to park while the call pushes (which cannot change it). */
    int r = jmp_register(in);
    if (r >= 0) {
      if (in->op == HP_OP_CALL_IND_GUARD) {
        if (L->pairs[i])
          push_ret(L, in->pc + in->len);
        else
          inlined_call(L, in, false);
      }
      hp_emit_guard_reg(e, r, in->target, defer_lookup(L));
      return true;
    }
    if (!branch_target(L, in)) {
      exit_jmp(L, HP_EXIT_UNSUPPORTED_INSN, in->pc);
      return false;
    }
    if (in->op == HP_OP_CALL_IND_GUARD) {
      if (L->pairs[i]) { /* the push sees the guest's rcx (a fault there) */
        hp_emit_park_target(e);
        push_ret(L, in->pc + in->len);
        hp_emit_unpark_target(e);
      } else {
        inlined_call(L, in, true);
      }
    }
    hp_emit_guard_target(e, in->target, defer_lookup(L));
    return true;
  }
  case HP_OP_HEAD_COUNT: {
    size_t pos = hp_emit_head_count(e, in->check_len, (uint32_t)in->target);
    add_exit(L, HP_EXIT_HOT, in->pc, pos);
    return true;
  }
  case HP_OP_RET_GUARD: {
    /* The return of a call inlined in this trace (which pushed the guest
     * return address without a real call): guarded, then rsp moves past
     * the address (the slot keeps it, as natively). Returning elsewhere:
     * the lookup, as a block's ret. */
    if (!L->pairs[i]) {
      L->out->broken = true; /* stitch pairs every guarded return with a call */
      e->overflow = true;
      return false;
    }
    if (in->flags & HP_INSN_RET_KNOWN) { /* nothing can have changed the address */
      hp_emit_drop_ret(e, in->check_len);
      return true;
    }
    struct hp_label *mismatch = defer_lookup(L);
    L->deferred_ret[L->ndeferred - 1] = 1u + in->check_len;
    hp_emit_guard_ret(e, in->target, mismatch);
    hp_emit_drop_ret(e, in->check_len);
    return true;
  }
  case HP_OP_RCX_BRANCH: {
    /* jrcxz taken; jmp fallthrough; taken: jmp target */
    struct hp_label taken = {0};
    hp_emit_rcx_branch(e, in->bytes, in->len, &taken);
    exit_jmp(L, HP_EXIT_BRANCH, in->pc + in->len);
    hp_label_bind(e, &taken);
    exit_jmp(L, HP_EXIT_BRANCH, in->target);
    return false;
  }
  case HP_OP_CODE_CHECK: {
    /* The bytes translated, in order, are what the guest memory must hold. */
    uint8_t expected[1024];
    size_t n = 0;
    for (unsigned k = i + 1; k < l->n; k++) {
      const struct hp_insn *g = &l->v[k];
      /* A stop element keeps its bytes but is not translated (nor checked). */
      if (g->len && g->op != HP_OP_STOP && g->pc == in->target + n && n + g->len <= sizeof expected) {
        memcpy(expected + n, g->bytes, g->len);
        n += g->len;
      }
    }
    if (n != in->check_len) {
      e->overflow = true; /* the list does not cover the range it checks: a bug */
      return false;
    }
    size_t pos = hp_emit_code_check(e, in->target, expected, n);
    add_exit(L, HP_EXIT_STALE, in->target, pos);
    L->out->checks_code = true;
    return true;
  }
  default:
    e->overflow = true; /* an element mangle should have replaced */
    return false;
  }
}

/* Folding: the registers still pending while element fe's code runs. */
static void fold_pending(struct lowering *L, const struct hp_fold_elem *fe)
{
  const struct hp_fold_snap *s = &L->fold->snap[fe->pend];
  L->snap = fe->pend;
  L->pending = (uint16_t)(s->mask & ~fe->mat);
  L->pending_uses = 0;
  for (int g = 0; g < 16; g++)
    if ((L->pending >> g) & 1)
      L->pending_uses |= (uint16_t)((s->e[g].base < 16 ? 1u << s->e[g].base : 0) |
                                    (s->e[g].index < 16 ? 1u << s->e[g].index : 0));
}

static bool lower_one(struct lowering *L, const struct hp_ilist *l, unsigned i, bool force_far)
{
  map_pc(L, &l->v[i]);
  if (!L->fold)
    return lower_elem(L, l, i, force_far);
  /* Folding: what the plan makes exact here first; the rest stays
   * symbolic through the element (recorded for faults, and for its side
   * exit's path); an absorbed element has no code. */
  const struct hp_fold_elem *fe = &L->fold->elem[i];
  fold_materialize(L, fe->pend, fe->mat);
  fold_pending(L, fe);
  if (fe->gone)
    return true;
  uint32_t start = (uint32_t)L->e->pos;
  bool go_on = lower_elem(L, l, i, force_far);
  fold_records(L, L->snap, L->pending, start, (uint32_t)L->e->pos);
  L->snap = L->pending = L->pending_uses = 0;
  return go_on;
}

/* A jump table's dispatch before its tail: registers the tail reads
 * besides the index checked against the values it was evaluated with, the
 * index against the table's size; then through the thread block's table to
 * the index's slot. Otherwise the tail and the jump's lookup follow. */
static void jt_dispatch(struct lowering *L, const struct hp_jt *jt)
{
  if (L->nconsts + jt->nguards > MAX_CONSTS) {
    L->out->broken = true;
    L->e->overflow = true;
    return;
  }
  struct hp_label generic = {0};
  size_t disp[HP_JT_GUARDS];
  hp_emit_jt_dispatch(L->e, jt->guard, jt->nguards, disp, jt->idx, jt->unchecked ? 0 : jt->n, jt->gs_first,
                      jt->keep_flags, &generic);
  hp_label_bind(L->e, &generic);
  L->jt_generic = (uint32_t)L->e->pos;
  if (jt->keep_flags)
    hp_emit_flags_back(L->e);
  for (unsigned g = 0; g < jt->nguards; g++) {
    L->consts[L->nconsts].disp = disp[g];
    L->consts[L->nconsts++].v = jt->guard_val[g];
  }
}

/* The slots: per distinct target, the tail (as natively: its registers,
 * flags and loads; none where the case reads nothing it leaves) and a
 * linkable jump to that case. An entry whose slot
 * could not be made leads to the dispatch's own way on (the tail and the
 * lookup), never to nothing. */
static void jt_slots(struct lowering *L, const struct hp_ilist *l, const struct hp_jt *jt, bool force_far)
{
  for (unsigned k = 0; k < jt->nslots; k++) /* (past n: values no case has) */
    L->out->jt_off[k] = L->jt_generic;
  L->out->jt_n = jt->nslots;
  for (unsigned k = 0; k < jt->n && !L->e->overflow; k++) {
    unsigned same = 0;
    while (jt->target[same] != jt->target[k])
      same++;
    if (same < k) {
      L->out->jt_off[k] = L->out->jt_off[same];
      continue;
    }
    uint32_t start = (uint32_t)L->e->pos;
    bool bare = !jt->keep_flags && jt->tail_dead[k]; /* nothing to run before the way on */
    if (jt->keep_flags)
      hp_emit_flags_back(L->e);
    if (jt->tail_dead[k])
      L->out->jt_dead++; /* the case reads nothing the tail leaves */
    else
      for (unsigned i = jt->p; i + 1 < l->n; i++)
        if (!lower_one(L, l, i, force_far))
          return;
    /* A dispatch's plan: the case's trace shares it (past its entry), or
     * the registers come back first. */
    size_t share = share_jmp(L, (l->v[l->n - 1].flags & HP_INSN_SHARE) != 0);
    promo_leave(L);
    bool alone = L->e->pos == start; /* nothing before the exit's jump */
    unsigned before = L->out->nexits;
    exit_jmp(L, HP_EXIT_BRANCH, jt->target[k]);
    L->out->jt_off[k] = start;
    if (share && L->out->nexits > before)
      L->out->exits[before].share_pos = (uint32_t)share;
    /* The jump alone (or first, a shared one): linked (shared), the
     * entries aim at the case's fragment (past its entry). */
    if (bare && (alone || share) && L->out->nexits > before)
      L->out->exits[before].jt_slot = start;
  }
}

bool hp_lower(const struct hp_ilist *l, struct hp_emit *e, uintptr_t cold_top,
              const struct hp_lower_opts *opts, struct hp_lowered *out)
{
  /* Inlined calls paired with their guarded returns (a call whose return
   * is not in the list has none). */
  unsigned pairs[l->n ? l->n : 1];
  hp_ilist_pair_calls(l, pairs);
  struct lowering L; /* its arrays fill as used: no need to zero them for every block */
  L.e = e;
  L.cold_top = cold_top;
  L.out = out;
  L.opts = opts;
  L.pairs = pairs;
  L.ndeferred = 0;
  L.promo = opts->record ? NULL : l->promo;
  L.shares = false;
  for (unsigned i = 0; L.promo && i < l->n; i++)
    L.shares |= (l->v[i].flags & HP_INSN_SHARE) != 0;
  L.ncomps = 0;
  L.nslow = 0;
  L.ndeopt = 0;
  L.nconsts = 0;
  L.head = l->pc;
  L.l = l;
  L.fold = L.promo ? l->fold : NULL;
  L.snap = L.pending = L.pending_uses = 0;
  for (int g = 0; g < 16; g++)
    L.fold_rec[g] = -1;
  /* A retry (the reservation was too small) starts from nothing. */
  out->nexits = out->npc = out->nconts = out->recov.n = 0;
  out->riprel_far = 0;
  out->reg_lookups = 0;
  out->reg_calls = 0;
  out->jt_dead = 0;
  out->xslot_whole = 0;
  out->checks_code = false;
  out->broken = false;
  out->loop_off = 0;
  out->spec_start = out->spec_end = out->deopt_off = 0;
  e->recov = &out->recov;
  if (L.promo && !L.promo->fold_only) {
    promo_enter(&L);
    xclean_slots(&L); /* the loop's top: nothing known of the others */
  }
  if (opts->entry_counter) /* --stats: executions of the fragment (and of its loop) */
    hp_emit_count_abs(e, (uint64_t)(uintptr_t)opts->entry_counter);
  /* A jump table with a promotion only when the fold pass alone follows
   * it or the plan is a dispatch's, the fold pass having left the table's
   * tail as it is (hp_fold's end). */
  const struct hp_jt *jt = opts->record || (L.promo && !L.promo->fold_only && !L.promo->dispatch) ? NULL : l->jt;
  if (jt && L.fold && L.fold->end != jt->p) {
    out->broken = true;
    e->overflow = true;
  }
  const struct hp_fold *plan = L.fold;
  out->jt_n = 0;
  for (unsigned i = 0; i < l->n && !e->overflow; i++) {
    if (jt && i == jt->p) {
      if (L.fold) { /* every register exact before the dispatch; the tail plain */
        fold_materialize(&L, L.fold->elem[i].pend, L.fold->elem[i].mat);
        L.fold = NULL;
      }
      jt_dispatch(&L, jt);
    }
    if (!lower_one(&L, l, i, opts->force_far))
      break;
    if (L.promo && l->v[i].op == HP_OP_GUEST)
      xclean_after(&L, &l->v[i]);
  }
  if (jt && !e->overflow)
    jt_slots(&L, l, jt, opts->force_far);
  L.fold = plan;
  /* Stores that hit a promoted slot: the store, then the slots loaded
   * again (a fault there is the instruction's: it has its own pc-map
   * entry). */
  for (unsigned k = 0; k < L.nslow && !e->overflow; k++) {
    const struct hp_insn *in = &l->v[L.slow[k].elem];
    hp_patch_rel32(e->rw + L.slow[k].hit, e->rx + L.slow[k].hit, hp_emit_here(e));
    if (in->flags & HP_INSN_KEEP_FLAGS)
      hp_emit_alias_flags_back(e);
    slots_write_back(&L); /* deferred: the access sees memory as natively */
    map_pc(&L, in);
    uint32_t start = (uint32_t)e->pos;
    if (L.fold) /* its folded registers, as on the hot path */
      fold_pending(&L, &L.fold->elem[L.slow[k].elem]);
    if (!guest_insn(&L, in, opts->force_far))
      break;
    if (L.fold) {
      fold_records(&L, L.snap, L.pending, start, (uint32_t)e->pos);
      L.snap = L.pending = L.pending_uses = 0;
    }
    if (in->flags & HP_INSN_IN_CALLEE) { /* rbp is the callee's: the loop's from the entry */
      hp_emit_promo_frame_load(e, L.promo->scratch);
      slots_load_from(&L, L.promo->scratch);
    } else {
      slots_load(&L);
    }
    hp_emit_jmp_plain(e, e->rx + L.slow[k].done);
  }
  /* Exits of an optimized trace: the state made exact, then the exit. */
  for (unsigned k = 0; k < L.ncomps && !e->overflow; k++) {
    if (L.comps[k].jcc) {
      hp_patch_rel32(e->rw + L.comps[k].jcc, e->rx + L.comps[k].jcc, hp_emit_here(e));
      size_t start = e->pos, counted = e->count_bytes;
      if (L.comps[k].counter)
        hp_emit_count_abs(e, (uint64_t)(uintptr_t)L.comps[k].counter);
      fold_materialize(&L, L.comps[k].snap, L.comps[k].pending);
      size_t share = share_jmp(&L, L.comps[k].share && L.comps[k].callee < 0);
      promo_leave(&L);
      if (L.comps[k].callee >= 0) { /* the guest's state is exact here: counted, and at the limit away */
        size_t limit = hp_emit_head_count(e, (unsigned)L.comps[k].callee, l->callee_limit);
        add_exit(&L, HP_EXIT_CALLEE_EXITS, L.comps[k].target, limit);
      }
      if (e->pos == start && !((e->rx + L.comps[k].jcc) & 3)) {
        /* Nothing to do on the way out: the jcc is the exit's branch
         * (linked, one taken jump instead of two; its rel32 aligned, as
         * hp_emit_jcc_rel32 makes it, for patching while threads run). */
        add_exit(&L, HP_EXIT_BRANCH, L.comps[k].target, L.comps[k].jcc);
        continue;
      }
      exit_jmp(&L, HP_EXIT_BRANCH, L.comps[k].target);
      if (share && !e->overflow)
        out->exits[out->nexits - 1].share_pos = (uint32_t)share;
      if (L.comps[k].stats_only) /* without --stats the jcc goes to the stub */
        e->count_bytes = counted + (e->pos - start);
    } else {
      struct hp_lowered_exit *x = &out->exits[L.comps[k].exit];
      x->unlink_off = (uint32_t)e->pos;
      fold_materialize(&L, L.comps[k].snap, L.comps[k].pending);
      promo_leave(&L);
      x->stub_jmp = (uint32_t)(e->pos + 1);
      hp_emit_jmp_plain(e, hp_emit_here(e));
    }
  }
  /* The frame check failed, or a speculative load faulted: leave, and have
   * the trace rebuilt. */
  if (L.promo && !L.promo->fold_only && !e->overflow) {
    for (unsigned k = 0; k < L.ndeopt; k++)
      hp_patch_rel32(e->rw + L.deopt[k], e->rx + L.deopt[k], hp_emit_here(e));
    out->deopt_off = (uint32_t)e->pos;
    promo_leave_from(&L, false);
    exit_jmp(&L, HP_EXIT_DEOPT, L.head);
  }
  size_t give_up[MAX_DEFERRED];
  for (unsigned k = 0; k < L.ndeferred && !e->overflow; k++) {
    hp_label_bind(e, &L.deferred[k]);
    promo_leave(&L); /* the lookup goes elsewhere: the guest's registers back */
    hp_emit_count_guard_miss(e);
    give_up[k] = l->miss_counter && !opts->record ? hp_emit_miss_count(e, l->miss_counter, l->miss_limit) : 0;
    /* A return that goes elsewhere still returns with a real `ret` (when it
     * hits the lookup), so the CPU's return stack stays paired. */
    if (L.deferred_ret[k])
      hp_emit_return_lookup(e, (uint16_t)(L.deferred_ret[k] - 1));
    else
      hp_emit_ibl_inline(e);
  }
  /* Guards that keep missing: leave, so that the trace can be rebuilt
   * along the path now taken (a return's miss pops first, as the ret). */
  for (unsigned k = 0; k < L.ndeferred && !e->overflow; k++) {
    if (!give_up[k])
      continue;
    hp_patch_rel32(e->rw + give_up[k], e->rx + give_up[k], hp_emit_here(e));
    if (L.deferred_ret[k])
      hp_emit_drop_ret(e, (uint16_t)(L.deferred_ret[k] - 1));
    exit_jmp(&L, HP_EXIT_GUARD_MISSES, 0);
  }
  /* The pushed return addresses' constants, after the last jump. */
  for (unsigned k = 0; k < L.nconsts; k++) {
    unsigned same = 0;
    while (L.consts[same].v != L.consts[k].v)
      same++;
    L.consts[k].at = same < k ? L.consts[same].at : hp_emit_const64(e, L.consts[k].v);
    hp_emit_aim_rip(e, L.consts[k].disp, L.consts[k].at);
  }
  e->recov = NULL;
  if (e->overflow)
    return false;
  /* Aim every exit's branch at its stub. */
  for (unsigned k = 0; k < out->nexits; k++) {
    const struct hp_lowered_exit *x = &out->exits[k];
    uintptr_t stub = hp_lower_stub(cold_top, k);
    if (x->unlink_off) {
      hp_patch_rel32(e->rw + x->stub_jmp, e->rx + x->stub_jmp, stub);
      stub = e->rx + x->unlink_off;
    }
    if (x->branch_pos)
      hp_patch_rel32(e->rw + x->branch_pos, e->rx + x->branch_pos, stub);
  }
  return true;
}
