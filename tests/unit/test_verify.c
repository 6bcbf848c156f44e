/* Unit tests of the optimizer's verifier (hp_verify_trace): real traces
 * (decoded, mangled, stitched, then through retelide, promote and fold as
 * src/trace/record.c runs them) are accepted after every pass; each check
 * is then handed a copy broken on purpose and must report it, at the right
 * element. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hotpath/fold.h"
#include "hotpath/mangle.h"
#include "hotpath/promote.h"
#include "hotpath/retelide.h"
#include "hotpath/stitch.h"
#include "hotpath/verify.h"

#define CAP 512

struct blk {
  uint64_t pc, next;
  const uint8_t *b;
  size_t n;
};

/* The fold_o0_arrays golden case: an -O0 loop whose five slots are
 * promoted and whose address arithmetic is folded. */
static const uint8_t arrays_b[] = {
    0x48, 0x8b, 0x45, 0x98,                         /* mov rax, [rbp-0x68] */
    0x48, 0x8d, 0x14, 0x85, 0, 0, 0, 0,             /* lea rdx, [rax*4] */
    0x48, 0x8b, 0x85, 0x60, 0xff, 0xff, 0xff,       /* mov rax, [rbp-0xa0] */
    0x48, 0x01, 0xd0,                               /* add rax, rdx */
    0x8b, 0x00,                                     /* mov eax, [rax] */
    0x89, 0xc2,                                     /* mov edx, eax */
    0x48, 0x8b, 0x85, 0x68, 0xff, 0xff, 0xff,       /* mov rax, [rbp-0x98] */
    0x48, 0x2b, 0x45, 0x98,                         /* sub rax, [rbp-0x68] */
    0x48, 0x0f, 0xaf, 0xc2,                         /* imul rax, rdx */
    0x48, 0x01, 0x45, 0xa8,                         /* add [rbp-0x58], rax */
    0x48, 0x8b, 0x45, 0x98,                         /* mov rax, [rbp-0x68] */
    0x48, 0x8d, 0x14, 0x85, 0, 0, 0, 0,             /* lea rdx, [rax*4] */
    0x48, 0x8b, 0x85, 0x60, 0xff, 0xff, 0xff,       /* mov rax, [rbp-0xa0] */
    0x48, 0x01, 0xd0,                               /* add rax, rdx */
    0x8b, 0x00,                                     /* mov eax, [rax] */
    0x89, 0xc0,                                     /* mov eax, eax */
    0x0f, 0xb6, 0xc0,                               /* movzx eax, al */
    0x48, 0x01, 0x45, 0xa0,                         /* add [rbp-0x60], rax */
    0x48, 0x83, 0x45, 0x98, 0x01,                   /* add qword [rbp-0x68], 1 */
    0x48, 0x8b, 0x45, 0x98,                         /* mov rax, [rbp-0x68] */
    0x48, 0x3b, 0x85, 0x68, 0xff, 0xff, 0xff,       /* cmp rax, [rbp-0x98] */
    0x7c, 0xa0,                                     /* jl 0x4015d4 */
};

/* The promote_call_frame golden case: a loop with an inlined call. */
static const uint8_t call_b0[] = {0x8b, 0x45, 0xec, 0x89, 0xc7, 0xe8, 0xf6, 0x00, 0x00, 0x00};
static const uint8_t call_b1[] = {0x55, 0x48, 0x89, 0xe5, 0x89, 0x7d, 0xfc, 0x8b, 0x45, 0xfc, 0x83, 0xc0, 0x05, 0x5d, 0xc3};
static const uint8_t call_b2[] = {0x48, 0x98, 0x48, 0x01, 0x45, 0xf8, 0x83, 0x45, 0xec, 0x01, 0x83, 0x7d, 0xec, 0x63, 0x7e, 0xe6};

/* One trace through the passes, each verified as record.c does. */
struct fixture {
  struct hp_insn v[CAP], before_v[CAP], blocks[8][CAP];
  struct hp_ilist l, before;
  struct hp_promotion promo;
  struct hp_fold_elem fe[CAP];
  struct hp_fold_snap snaps[512];
  struct hp_fold_rewrite rws[256];
  struct hp_fold fold;
  struct hp_insn_effects eff[CAP];
  bool known[CAP];
  struct hp_verify_error err;
};
static struct fixture F;

static void keep(void)
{
  memcpy(F.before_v, F.v, sizeof F.v);
  F.before = F.l;
  F.before.v = F.before_v;
}

static bool verify(enum hp_verify_pass pass, bool compare)
{
  return hp_verify_trace(&F.l, compare ? &F.before : NULL, pass, &F.err);
}

#define ACCEPT(pass, compare) ck_assert_msg(verify(pass, compare), "rejected a good list: element %d: %s", F.err.elem, F.err.what)

/* Builds the trace and runs the passes up to last (HP_VERIFY_STITCH:
 * stitched only), checking that each is accepted. */
static void build(const struct blk *b, unsigned nb, uint64_t head, enum hp_verify_pass last)
{
  memset(&F, 0, sizeof F);
  struct hp_decode_limits lim = {.max_insns = 64, .max_bytes = 960};
  struct hp_recorded_block rec[8];
  for (unsigned k = 0; k < nb; k++) {
    struct hp_ilist bl = {.v = F.blocks[k], .cap = CAP};
    hp_decode_block(b[k].b, b[k].n, b[k].pc, &lim, &bl);
    ck_assert(hp_mangle_block(&bl, false));
    rec[k] = (struct hp_recorded_block){bl.v, bl.n, bl.pc, bl.end, b[k].next};
  }
  F.l = (struct hp_ilist){.v = F.v, .cap = CAP};
  ck_assert(hp_trace_stitch(rec, nb, head, &F.l));
  ACCEPT(HP_VERIFY_STITCH, false);
  if (last == HP_VERIFY_STITCH)
    return;
  keep();
  hp_analyze_list(&F.l, F.eff, F.known);
  hp_retelide(&F.l, F.eff, F.known);
  ACCEPT(HP_VERIFY_RETELIDE, true);
  if (last == HP_VERIFY_RETELIDE)
    return;
  keep();
  const char *why;
  hp_analyze_list(&F.l, F.eff, F.known);
  ck_assert_msg(hp_promote(&F.l, &F.promo, 0, false, NULL, F.eff, F.known, &why), "not promoted: %s", why);
  F.promo.stack_lo = 0x7ffff7000000;
  F.promo.stack_hi = 0x7ffff7800000;
  ACCEPT(HP_VERIFY_PROMOTE, true);
  if (last == HP_VERIFY_PROMOTE)
    return;
  keep();
  F.fold = (struct hp_fold){.elem = F.fe, .snap = F.snaps, .snap_cap = 512, .rw = F.rws, .rw_cap = 256};
  ck_assert_msg(hp_fold(&F.l, &F.fold, F.eff, F.known, F.l.n, &why), "not folded: %s", why);
  F.l.fold = &F.fold;
  ACCEPT(HP_VERIFY_FOLD, true);
}

static void arrays(enum hp_verify_pass last)
{
  struct blk b = {0x4015d4, 0x4015d4, arrays_b, sizeof arrays_b};
  build(&b, 1, 0x4015d4, last);
}

static void calls(enum hp_verify_pass last)
{
  struct blk b[] = {{0x401000, 0x401100, call_b0, sizeof call_b0},
                    {0x401100, 0x40100a, call_b1, sizeof call_b1},
                    {0x40100a, 0x401000, call_b2, sizeof call_b2}};
  build(b, 3, 0x401000, last);
}

/* The first element with op (and, if flag, that flag). */
static unsigned find(unsigned op, unsigned flag)
{
  for (unsigned i = 0; i < F.l.n; i++)
    if (F.l.v[i].op == op && (!flag || (F.l.v[i].flags & flag)))
      return i;
  ck_abort_msg("no such element");
  return 0;
}

/* Element i now holds these bytes (decoded again, as decode would). */
static void set_bytes(unsigned i, const uint8_t *b, size_t n)
{
  struct hp_insn *in = &F.l.v[i];
  in->len = (uint8_t)n;
  memcpy(in->bytes, b, n);
  ck_assert(hp_decode_one(b, n, &in->zi));
}

/* Rejected at pass, element at (-2: any), with what containing text. */
#define REJECT(pass, compare, at, text)                                                                      \
  do {                                                                                                         \
    ck_assert_msg(!verify(pass, compare), "accepted a broken list (%s)", text);                                 \
    ck_assert_msg(strstr(F.err.what, text), "wrong report: element %d: %s (expected: %s)", F.err.elem, F.err.what, \
                  text);                                                                                       \
    if ((at) != -2)                                                                                            \
      ck_assert_int_eq(F.err.elem, (at));                                                                    \
  } while (0)

START_TEST(good_lists)
{
  arrays(HP_VERIFY_FOLD);
  ck_assert(F.l.promo && F.l.fold);
  calls(HP_VERIFY_PROMOTE);
  ck_assert(F.l.promo && F.promo.frame_check);
  /* The rebuild without the plans. */
  keep();
  for (unsigned i = 0; i < F.l.n; i++)
    F.l.v[i].flags &= (uint16_t)~(HP_INSN_PROMOTED | HP_INSN_SLOT_WRITE | HP_INSN_ALIAS_CHECK | HP_INSN_IN_CALLEE |
                                  HP_INSN_KEEP_FLAGS | HP_INSN_RBP_CHECK | HP_INSN_PROBE_STORE | HP_INSN_SHARE);
  F.l.promo = NULL;
  ACCEPT(HP_VERIFY_UNOPTIMIZE, true);
  ck_assert_str_eq(hp_verify_pass_name(HP_VERIFY_FOLD), "fold");
}
END_TEST

START_TEST(list_shape)
{
  arrays(HP_VERIFY_STITCH);
  unsigned n = F.l.n;
  F.l.n = 0;
  REJECT(HP_VERIFY_STITCH, false, -1, "empty list");
  F.l.n = n;
  F.l.cap = n - 1;
  REJECT(HP_VERIFY_STITCH, false, -1, "capacity");
  F.l.cap = CAP;
  F.l.v[0].op = HP_OP_CODE_CHECK;
  REJECT(HP_VERIFY_STITCH, false, 0, "cannot be in a trace");
  arrays(HP_VERIFY_STITCH);
  F.l.v[F.l.n - 1].op = HP_OP_EXIT_CC; /* the last exit no longer ends it */
  REJECT(HP_VERIFY_STITCH, false, (int)F.l.n - 1, "does not end the trace");
  arrays(HP_VERIFY_STITCH);
  static const uint8_t syscall[] = {0x0f, 0x05};
  F.l.v[3].op = HP_OP_EXIT; /* an exit in the middle: the rest would never be lowered */
  F.l.v[3].exit_kind = HP_EXIT_SYSCALL;
  set_bytes(3, syscall, 2);
  F.l.v[3].target = F.l.v[3].pc + 2;
  REJECT(HP_VERIFY_STITCH, false, 3, "ends the trace before its last element");
  arrays(HP_VERIFY_STITCH);
  F.l.v[2].flags |= 0x1000;
  REJECT(HP_VERIFY_STITCH, false, 2, "unknown flag bits");
}
END_TEST

START_TEST(element_bytes)
{
  arrays(HP_VERIFY_STITCH);
  F.l.v[0].len = 2; /* mov rax, [rbp-0x68] is 4 bytes */
  REJECT(HP_VERIFY_STITCH, false, 0, "do not decode");
  arrays(HP_VERIFY_STITCH);
  F.l.v[1].zi.mnemonic = ZYDIS_MNEMONIC_NOP;
  REJECT(HP_VERIFY_STITCH, false, 1, "cached decoding");
  arrays(HP_VERIFY_STITCH);
  F.l.v[1].flags |= HP_INSN_RIPREL;
  REJECT(HP_VERIFY_STITCH, false, 1, "HP_INSN_RIPREL set");
  arrays(HP_VERIFY_STITCH);
  static const uint8_t riprel[] = {0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00}; /* mov rax, [rip+0x10] */
  set_bytes(2, riprel, sizeof riprel);
  REJECT(HP_VERIFY_STITCH, false, 2, "HP_INSN_RIPREL missing");
  arrays(HP_VERIFY_STITCH);
  static const uint8_t ret[] = {0xc3};
  set_bytes(4, ret, 1);
  REJECT(HP_VERIFY_STITCH, false, 4, "transfers control");
  arrays(HP_VERIFY_STITCH);
  F.l.v[1].op = HP_OP_PUSH_RET; /* a lea is no call */
  REJECT(HP_VERIFY_STITCH, false, 1, "no direct call");
}
END_TEST

START_TEST(control_elements)
{
  arrays(HP_VERIFY_STITCH);
  unsigned jcc = find(HP_OP_EXIT_CC, HP_INSN_BACK_EDGE);
  F.l.v[jcc].cc ^= 2; /* another condition than its bytes' (or their inverse) */
  REJECT(HP_VERIFY_STITCH, false, (int)jcc, "agree with neither direction");
  arrays(HP_VERIFY_STITCH);
  F.l.v[F.l.n - 1].flags |= HP_INSN_BACK_EDGE; /* the loop's exit is not to the head */
  REJECT(HP_VERIFY_STITCH, false, (int)F.l.n - 1, "back edge on");
  arrays(HP_VERIFY_STITCH);
  F.l.v[F.l.n - 1].target = 0;
  REJECT(HP_VERIFY_STITCH, false, (int)F.l.n - 1, "branch exit to 0");
  arrays(HP_VERIFY_STITCH);
  F.l.v[F.l.n - 1].exit_kind = 99;
  REJECT(HP_VERIFY_STITCH, false, (int)F.l.n - 1, "does not exist");
  arrays(HP_VERIFY_STITCH);
  F.l.v[0].flags |= HP_INSN_MONO;
  REJECT(HP_VERIFY_STITCH, false, 0, "HP_INSN_MONO");
  calls(HP_VERIFY_STITCH);
  unsigned push = find(HP_OP_PUSH_RET, 0), ret = find(HP_OP_RET_GUARD, 0);
  F.l.v[push].target += 1;
  REJECT(HP_VERIFY_STITCH, false, (int)push, "not its return address");
  calls(HP_VERIFY_STITCH);
  F.l.v[ret].check_len = 8; /* its ret has no imm16 */
  REJECT(HP_VERIFY_STITCH, false, (int)ret, "keeps imm16");
  calls(HP_VERIFY_STITCH);
  F.l.v[ret].target = 0;
  REJECT(HP_VERIFY_STITCH, false, (int)ret, "guarding target 0");
  /* A guarded return before its call: nothing to pair it with. */
  calls(HP_VERIFY_STITCH);
  struct hp_insn t = F.l.v[push];
  F.l.v[push] = F.l.v[ret];
  F.l.v[ret] = t;
  REJECT(HP_VERIFY_STITCH, false, (int)push, "without its inlined call");
  /* A loop closed by a jcc whose taken way is a lone jmp to the head
   * (golden trace_jcc_jmp_head): accepted only as the last jcc, the exit
   * its fall-through. */
  static const uint8_t jz_b[] = {0x48, 0xff, 0xc9, 0x74, 0x0b}; /* dec rcx; jz 0x401010 */
  static const uint8_t jmp_b[] = {0xeb, 0xee};                  /* jmp 0x401000 */
  struct blk lone[] = {{0x401000, 0x401010, jz_b, sizeof jz_b}, {0x401010, 0x401000, jmp_b, sizeof jmp_b}};
  build(lone, 2, 0x401000, HP_VERIFY_STITCH);
  unsigned back = find(HP_OP_EXIT_CC, HP_INSN_BACK_EDGE);
  ck_assert_uint_eq(F.l.v[F.l.n - 1].target, 0x401005);
  F.l.v[F.l.n - 1].target = 0x401234;
  REJECT(HP_VERIFY_STITCH, false, (int)back, "through jumps stitched away");
}
END_TEST

START_TEST(return_known)
{
  calls(HP_VERIFY_RETELIDE);
  unsigned push = find(HP_OP_PUSH_RET, HP_INSN_RET_KNOWN), ret = find(HP_OP_RET_GUARD, HP_INSN_RET_KNOWN);
  F.l.v[push].flags &= (uint16_t)~HP_INSN_RET_KNOWN;
  REJECT(HP_VERIFY_RETELIDE, true, (int)ret, "one half");
  calls(HP_VERIFY_RETELIDE);
  F.l.v[0].flags |= HP_INSN_RET_KNOWN;
  REJECT(HP_VERIFY_RETELIDE, true, 0, "HP_INSN_RET_KNOWN on a guest");
  /* retelide may add RET_KNOWN only. */
  calls(HP_VERIFY_STITCH);
  keep();
  F.l.v[0].flags |= HP_INSN_PROMOTED;
  F.l.v[0].reg = 15;
  REJECT(HP_VERIFY_RETELIDE, true, 0, "changed flags");
}
END_TEST

START_TEST(optimizer_flags)
{
  arrays(HP_VERIFY_STITCH);
  F.l.v[0].flags |= HP_INSN_PROMOTED;
  REJECT(HP_VERIFY_STITCH, false, 0, "without a promotion");
  arrays(HP_VERIFY_PROMOTE);
  F.l.promo = &F.promo;
  REJECT(HP_VERIFY_RETELIDE, false, -1, "promotion attached at the retelide stage");
  arrays(HP_VERIFY_PROMOTE);
  unsigned w = find(HP_OP_GUEST, HP_INSN_SLOT_WRITE);
  F.l.v[w].flags &= (uint16_t)~HP_INSN_PROMOTED;
  REJECT(HP_VERIFY_PROMOTE, false, (int)w, "SLOT_WRITE without");
  arrays(HP_VERIFY_PROMOTE);
  F.l.v[0].flags |= HP_INSN_ALIAS_CHECK;
  REJECT(HP_VERIFY_PROMOTE, false, 0, "both promoted and alias-checked");
  arrays(HP_VERIFY_PROMOTE);
  F.l.v[0].flags |= HP_INSN_PROBE_STORE; /* a load */
  REJECT(HP_VERIFY_PROMOTE, false, 0, "PROBE_STORE");
  arrays(HP_VERIFY_PROMOTE);
  F.l.v[1].flags |= HP_INSN_IN_CALLEE;
  REJECT(HP_VERIFY_PROMOTE, false, 1, "without HP_INSN_ALIAS_CHECK");
  arrays(HP_VERIFY_PROMOTE);
  F.l.v[F.l.n - 1].flags |= HP_INSN_ALIAS_CHECK;
  REJECT(HP_VERIFY_PROMOTE, false, (int)F.l.n - 1, "optimizer flags");
}
END_TEST

START_TEST(promoted_slots)
{
  arrays(HP_VERIFY_PROMOTE);
  /* A slot's register read by a guest instruction of the trace. */
  static const uint8_t mov_r15[] = {0x4c, 0x89, 0xf8}; /* mov rax, r15 */
  set_bytes(1, mov_r15, sizeof mov_r15);
  REJECT(HP_VERIFY_PROMOTE, false, 1, "touches a register the promotion took");
  arrays(HP_VERIFY_PROMOTE);
  unsigned k = 0;
  while (F.promo.slot[k].reg == F.l.v[0].reg)
    k++;
  F.l.v[0].reg = F.promo.slot[k].reg; /* another slot's register */
  REJECT(HP_VERIFY_PROMOTE, false, 0, "not its slot");
  arrays(HP_VERIFY_PROMOTE);
  unsigned w = find(HP_OP_GUEST, HP_INSN_SLOT_WRITE);
  F.l.v[w].flags &= (uint16_t)~HP_INSN_SLOT_WRITE; /* its store would not be written through */
  REJECT(HP_VERIFY_PROMOTE, false, (int)w, "HP_INSN_SLOT_WRITE is missing");
  arrays(HP_VERIFY_PROMOTE);
  F.l.v[0].flags &= (uint16_t)~HP_INSN_PROMOTED; /* reads the slot's memory, not its register */
  REJECT(HP_VERIFY_PROMOTE, false, 0, "overlaps slot");
  arrays(HP_VERIFY_PROMOTE);
  static const uint8_t store[] = {0x89, 0x10}; /* mov [rax], edx: may hit a slot */
  set_bytes(5, store, sizeof store);
  REJECT(HP_VERIFY_PROMOTE, false, 5, "a store through an address that may reach the slots");
  arrays(HP_VERIFY_PROMOTE);
  F.l.v[5].flags |= HP_INSN_ALIAS_CHECK; /* mov edx, eax: nothing to check */
  REJECT(HP_VERIFY_PROMOTE, false, 5, "without a sized memory operand");
}
END_TEST

START_TEST(promotion_plan)
{
  arrays(HP_VERIFY_PROMOTE);
  F.promo.slot[0].writes++;
  REJECT(HP_VERIFY_PROMOTE, false, -1, "uses and");
  arrays(HP_VERIFY_PROMOTE);
  F.promo.lo -= 8;
  REJECT(HP_VERIFY_PROMOTE, false, -1, "hull");
  arrays(HP_VERIFY_PROMOTE);
  F.promo.regs |= 1u << 6;
  REJECT(HP_VERIFY_PROMOTE, false, -1, "registers taken");
  arrays(HP_VERIFY_PROMOTE);
  F.promo.slot[1].reg = F.promo.slot[0].reg;
  REJECT(HP_VERIFY_PROMOTE, false, -1, "taken twice");
  arrays(HP_VERIFY_PROMOTE);
  F.promo.checks++;
  REJECT(HP_VERIFY_PROMOTE, false, -1, "checks counted");
  calls(HP_VERIFY_PROMOTE);
  F.promo.frame_check = false;
  REJECT(HP_VERIFY_PROMOTE, false, -1, "no frame check");
  /* promote may not change the elements themselves. */
  arrays(HP_VERIFY_RETELIDE);
  keep();
  const char *why;
  hp_analyze_list(&F.l, F.eff, F.known);
  ck_assert(hp_promote(&F.l, &F.promo, 0, false, NULL, F.eff, F.known, &why));
  F.l.v[2].target = 1;
  REJECT(HP_VERIFY_PROMOTE, true, 2, "changed the element");
}
END_TEST

/* The first element of the fold plan that is kept and has no rewrite. */
static unsigned plain_kept(void)
{
  for (unsigned i = 0; i < F.l.n; i++)
    if (F.l.v[i].op == HP_OP_GUEST && !F.fe[i].gone && !F.fe[i].rw && !F.l.v[i].flags)
      return i;
  ck_abort_msg("no plain element");
  return 0;
}

/* A snapshot with registers pending, and one of them. */
static unsigned pending_snap(unsigned *g)
{
  for (unsigned s = 1; s < F.fold.nsnap; s++)
    if (F.snaps[s].mask) {
      *g = (unsigned)__builtin_ctz(F.snaps[s].mask);
      return s;
    }
  ck_abort_msg("no pending registers anywhere");
  return 0;
}

/* A side trace of the arrays loop (another path from inside its body back
 * to its head): it ends at that head with a jmp, and touches two of the
 * loop's slots. */
static const uint8_t side_b[] = {
    0x48, 0x83, 0x45, 0x98, 0x02,   /* add qword [rbp-0x68], 2 */
    0x48, 0x8b, 0x45, 0xa8,         /* mov rax, [rbp-0x58] */
    0x48, 0x83, 0xc0, 0x01,         /* add rax, 1 */
    0x48, 0x89, 0x45, 0xa8,         /* mov [rbp-0x58], rax */
    0xe9, 0xbe, 0xfe, 0xff, 0xff,   /* jmp 0x4015d4 */
};
/* The same, writing r15 (a register the loop's plan takes). */
static const uint8_t side_r15_b[] = {
    0x48, 0x83, 0x45, 0x98, 0x02,       /* add qword [rbp-0x68], 2 */
    0x49, 0xc7, 0xc7, 0x01, 0, 0, 0,    /* mov r15, 1 */
    0xe9, 0xc3, 0xfe, 0xff, 0xff,       /* jmp 0x4015d4 */
};

START_TEST(side_trace)
{
  arrays(HP_VERIFY_PROMOTE);
  struct hp_promotion loop = F.promo;
  ck_assert(!loop.deferred && !loop.side);
  ck_assert(loop.regs & (1u << 15));
  struct blk b = {0x401700, 0x4015d4, side_b, sizeof side_b};
  build(&b, 1, 0x401700, HP_VERIFY_STITCH);
  ck_assert(F.l.v[F.l.n - 1].op == HP_OP_EXIT && F.l.v[F.l.n - 1].target == 0x4015d4);
  keep();
  const char *why;
  struct hp_promotion alone;
  hp_analyze_list(&F.l, F.eff, F.known);
  ck_assert(!hp_promote(&F.l, &alone, 0, false, NULL, F.eff, F.known, &why)); /* not a loop */
  ck_assert_msg(hp_promote(&F.l, &F.promo, 0, false, &loop, F.eff, F.known, &why), "not promoted like the loop: %s", why);
  F.promo.stack_lo = loop.stack_lo;
  F.promo.stack_hi = loop.stack_hi;
  /* The loop's plan as it is: slots, registers, hull, entry checks. */
  ck_assert(F.promo.side && !F.promo.deferred);
  ck_assert_uint_eq(F.promo.nslots, loop.nslots);
  ck_assert_uint_eq(F.promo.regs, loop.regs);
  ck_assert_int_eq(F.promo.scratch, loop.scratch);
  ck_assert(F.promo.lo == loop.lo && F.promo.hi == loop.hi && F.promo.frame_check == loop.frame_check);
  for (unsigned k = 0; k < loop.nslots; k++)
    ck_assert(F.promo.slot[k].disp == loop.slot[k].disp && F.promo.slot[k].reg == loop.slot[k].reg);
  /* Its accesses of those slots are rewritten, and its exit to the loop's
   * head may share the plan. */
  ck_assert(F.l.v[0].flags & HP_INSN_PROMOTED);
  ck_assert(F.l.v[F.l.n - 1].flags & HP_INSN_SHARE);
  ACCEPT(HP_VERIFY_PROMOTE, true);
  keep();
  F.fold = (struct hp_fold){.elem = F.fe, .snap = F.snaps, .snap_cap = 512, .rw = F.rws, .rw_cap = 256};
  ck_assert_msg(hp_fold(&F.l, &F.fold, F.eff, F.known, F.l.n, &why), "not folded: %s", why);
  F.l.fold = &F.fold;
  ACCEPT(HP_VERIFY_FOLD, true);
  /* A shared exit must leave the plan's frame as its entry found it. */
  F.l.v[0].flags |= HP_INSN_SHARE;
  REJECT(HP_VERIFY_FOLD, false, 0, "HP_INSN_SHARE on a");
  /* Code that writes a register of the plan cannot take it. */
  struct blk c = {0x401700, 0x4015d4, side_r15_b, sizeof side_r15_b};
  build(&c, 1, 0x401700, HP_VERIFY_STITCH);
  hp_analyze_list(&F.l, F.eff, F.known);
  ck_assert(!hp_promote(&F.l, &F.promo, 0, false, &loop, F.eff, F.known, &why));
  ck_assert_str_eq(why, "the loop it returns to keeps other slots or registers");
  ck_assert(!(F.l.v[0].flags & (HP_INSN_PROMOTED | HP_INSN_SHARE)) && !F.l.promo);
}
END_TEST

START_TEST(fold_plan)
{
  unsigned g, s;
  arrays(HP_VERIFY_FOLD);
  s = pending_snap(&g);
  F.fe[F.l.n - 1].pend = (uint16_t)s; /* the loop's exit with a register still symbolic */
  F.fe[F.l.n - 1].mat = 0;
  REJECT(HP_VERIFY_FOLD, true, (int)F.l.n - 1, "still pending");
  arrays(HP_VERIFY_FOLD);
  F.fe[0].mat = 1; /* nothing is pending at the top */
  REJECT(HP_VERIFY_FOLD, true, 0, "which is not pending");
  arrays(HP_VERIFY_FOLD);
  F.fe[2].rw = (uint16_t)(F.fold.nrw + 1);
  REJECT(HP_VERIFY_FOLD, true, 2, "out of range");
  arrays(HP_VERIFY_FOLD);
  s = pending_snap(&g);
  F.snaps[s].order[0] = 16;
  REJECT(HP_VERIFY_FOLD, true, -1, "not a permutation");
  arrays(HP_VERIFY_FOLD);
  s = pending_snap(&g);
  F.snaps[s].e[g].index = 4; /* rsp cannot be an index */
  F.snaps[s].e[g].scale = 1;
  REJECT(HP_VERIFY_FOLD, true, -1, "no addressing mode");
  arrays(HP_VERIFY_FOLD);
  unsigned k = plain_kept();
  F.fe[k].gone = true; /* removing an instruction whose result is needed */
  REJECT(HP_VERIFY_FOLD, true, (int)k, "removed but");
  arrays(HP_VERIFY_FOLD);
  unsigned w = find(HP_OP_GUEST, HP_INSN_SLOT_WRITE);
  F.fe[w].gone = true;
  REJECT(HP_VERIFY_FOLD, true, (int)w, "removed although marked");
  /* An instruction that reads a register left symbolic, as its own bytes. */
  arrays(HP_VERIFY_FOLD);
  for (k = 0; k < F.l.n && !F.fe[k].rw; k++)
    ;
  ck_assert(k < F.l.n);
  F.fe[k].rw = 0;
  REJECT(HP_VERIFY_FOLD, true, (int)k, "pending and not rewritten");
  /* fold never changes the list. */
  arrays(HP_VERIFY_FOLD);
  F.l.v[3].flags |= HP_INSN_RBP_CHECK;
  REJECT(HP_VERIFY_FOLD, true, 3, "changed flags");
  arrays(HP_VERIFY_FOLD);
  F.l.promo = NULL;
  REJECT(HP_VERIFY_FOLD, false, -1, "without a promotion");
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("verify");
  TCase *t = tcase_create("verify");
  tcase_add_test(t, good_lists);
  tcase_add_test(t, list_shape);
  tcase_add_test(t, element_bytes);
  tcase_add_test(t, control_elements);
  tcase_add_test(t, return_known);
  tcase_add_test(t, optimizer_flags);
  tcase_add_test(t, promoted_slots);
  tcase_add_test(t, promotion_plan);
  tcase_add_test(t, fold_plan);
  tcase_add_test(t, side_trace);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  SRunner *r = srunner_create(suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
