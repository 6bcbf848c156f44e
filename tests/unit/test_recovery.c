/* Unit tests for state recovery records (hp_recovery_apply), and for the
 * records the lower stage produces, applied at the offsets they cover. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "hotpath/ilist.h"
#include "hotpath/lower.h"
#include "hotpath/mangle.h"
#include "hotpath/recovery.h"
#include "hotpath/thread.h"

/* rflags bits */
#define CF 0x1ull
#define PF 0x4ull
#define AF 0x10ull
#define ZF 0x40ull
#define SF 0x80ull
#define OF 0x800ull
#define STATUS (CF | PF | AF | ZF | SF | OF)

static uint64_t tblock[64]; /* a fake thread block: gs: slots are byte offsets into it */

static void put_slot(int32_t off, uint64_t v) { memcpy((uint8_t *)tblock + off, &v, 8); }

static void machine_regs(uint64_t gpr[16])
{
  for (int r = 0; r < 16; r++)
    gpr[r] = 0x1000 + (uint64_t)r; /* distinct, recognizable */
}

static void check_untouched_except(const uint64_t gpr[16], int except)
{
  for (int r = 0; r < 16; r++)
    if (r != except)
      ck_assert_uint_eq(gpr[r], 0x1000 + (uint64_t)r);
}

START_TEST(cover_start_inclusive_end_exclusive)
{
  memset(tblock, 0, sizeof tblock);
  put_slot(0x40, 0xfeedface12345678ull);
  struct hp_recov r = {.start = 10, .end = 20, .reg = HP_RBX, .kind = HP_LOC_GS_SLOT, .slot = 0x40};
  uint64_t gpr[16], fl = 0x202;
  static const struct {
    uint32_t off;
    bool covered;
  } cases[] = {{0, false}, {9, false}, {10, true}, {11, true}, {19, true}, {20, false}, {21, false},
               {UINT32_MAX, false}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    machine_regs(gpr);
    fl = 0x202;
    unsigned n = hp_recovery_apply(&r, 1, cases[i].off, gpr, &fl, NULL, tblock);
    ck_assert_msg(n == (cases[i].covered ? 1u : 0u), "offset %u: %u records applied", cases[i].off, n);
    ck_assert_uint_eq(gpr[HP_RBX], cases[i].covered ? 0xfeedface12345678ull : 0x1000 + HP_RBX);
    check_untouched_except(gpr, HP_RBX);
    ck_assert_uint_eq(fl, 0x202);
  }
}
END_TEST

START_TEST(empty_and_single_byte_records)
{
  uint64_t gpr[16], fl = 0x202;
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(NULL, 0, 5, gpr, &fl, NULL, tblock), 0);
  check_untouched_except(gpr, -1);
  /* [7, 7) covers nothing; [7, 8) covers exactly 7 */
  memset(tblock, 0, sizeof tblock);
  put_slot(8, 77);
  struct hp_recov v[2] = {
      {.start = 7, .end = 7, .reg = HP_RAX, .kind = HP_LOC_GS_SLOT, .slot = 8},
      {.start = 7, .end = 8, .reg = HP_RDX, .kind = HP_LOC_GS_SLOT, .slot = 8},
  };
  ck_assert_uint_eq(hp_recovery_apply(v, 2, 7, gpr, &fl, NULL, tblock), 1);
  ck_assert_uint_eq(gpr[HP_RAX], 0x1000 + HP_RAX);
  ck_assert_uint_eq(gpr[HP_RDX], 77);
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 2, 8, gpr, &fl, NULL, tblock), 0);
  ck_assert_uint_eq(hp_recovery_apply(v, 2, 6, gpr, &fl, NULL, tblock), 0);
  check_untouched_except(gpr, -1);
}
END_TEST

START_TEST(gs_slots_read_from_thread_block)
{
  memset(tblock, 0, sizeof tblock);
  /* Slots at any byte offset, including unaligned ones and the very first. */
  put_slot(0, 0x1111111111111111ull);
  put_slot(0x13, 0x2222222222222222ull);
  put_slot(0x100, 0x3333333333333333ull);
  struct hp_recov v[3] = {
      {.start = 0, .end = 100, .reg = HP_RCX, .kind = HP_LOC_GS_SLOT, .slot = 0},
      {.start = 0, .end = 100, .reg = HP_R15, .kind = HP_LOC_GS_SLOT, .slot = 0x13},
      {.start = 50, .end = 100, .reg = HP_RSP, .kind = HP_LOC_GS_SLOT, .slot = 0x100},
  };
  uint64_t gpr[16], fl = 0x246;
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 3, 49, gpr, &fl, NULL, tblock), 2);
  ck_assert_uint_eq(gpr[HP_RCX], 0x1111111111111111ull);
  ck_assert_uint_eq(gpr[HP_R15], 0x2222222222222222ull);
  ck_assert_uint_eq(gpr[HP_RSP], 0x1000 + HP_RSP);
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 3, 50, gpr, &fl, NULL, tblock), 3);
  ck_assert_uint_eq(gpr[HP_RSP], 0x3333333333333333ull);
  ck_assert_uint_eq(fl, 0x246);
  for (int r = 0; r < 16; r++)
    if (r != HP_RCX && r != HP_R15 && r != HP_RSP)
      ck_assert_uint_eq(gpr[r], 0x1000 + (uint64_t)r);
}
END_TEST

START_TEST(machine_register_locations)
{
  /* The guest's rax is in machine r11, its r11 in machine rax: a swap.
   * Each record reads the machine's value, whatever the others wrote. */
  struct hp_recov v[3] = {
      {.start = 0, .end = 10, .reg = HP_RAX, .kind = HP_LOC_REG, .slot = HP_R11},
      {.start = 0, .end = 10, .reg = HP_R11, .kind = HP_LOC_REG, .slot = HP_RAX},
      {.start = 5, .end = 10, .reg = HP_RDI, .kind = HP_LOC_REG, .slot = HP_RDI},
  };
  uint64_t gpr[16], fl = 0x202;
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 3, 4, gpr, &fl, NULL, NULL), 2);
  ck_assert_uint_eq(gpr[HP_RAX], 0x1000 + HP_R11);
  ck_assert_uint_eq(gpr[HP_R11], 0x1000 + HP_RAX);
  for (int r = 0; r < 16; r++)
    if (r != HP_RAX && r != HP_R11)
      ck_assert_uint_eq(gpr[r], 0x1000 + (uint64_t)r);
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 3, 9, gpr, &fl, NULL, NULL), 3);
  ck_assert_uint_eq(gpr[HP_RDI], 0x1000 + HP_RDI);
  ck_assert_uint_eq(fl, 0x202);
}
END_TEST

START_TEST(folded_address_expressions)
{
  /* The fold pass: guest rax = r15 + r13*4 + 8, rdx = r13*4, rsi = -5 (a
   * constant), rcx = rax*2 + rax (machine rax: read before any record
   * wrote the guest's), wrapping modulo 2^64. */
  struct hp_recov v[4] = {
      {.start = 0, .end = 8, .reg = HP_RAX, .kind = HP_LOC_EXPR, .slot = 8, .size = 4, .xbase = HP_R15, .xindex = HP_R13},
      {.start = 0, .end = 8, .reg = HP_RDX, .kind = HP_LOC_EXPR, .slot = 0, .size = 4, .xbase = 0xff, .xindex = HP_R13},
      {.start = 4, .end = 8, .reg = HP_RSI, .kind = HP_LOC_EXPR, .slot = -5, .size = 0, .xbase = 0xff, .xindex = 0xff},
      {.start = 0, .end = 8, .reg = HP_RCX, .kind = HP_LOC_EXPR, .slot = 0, .size = 2, .xbase = HP_RAX, .xindex = HP_RAX},
  };
  uint64_t gpr[16], fl = 0x202;
  machine_regs(gpr);
  gpr[HP_R13] = 0x4000000000000001ull; /* times 4 wraps */
  ck_assert_uint_eq(hp_recovery_apply(v, 4, 3, gpr, &fl, NULL, NULL), 3);
  ck_assert_uint_eq(gpr[HP_RAX], 0x1000 + HP_R15 + 4 + 8);
  ck_assert_uint_eq(gpr[HP_RDX], 4);
  ck_assert_uint_eq(gpr[HP_RCX], 3 * (0x1000 + HP_RAX));
  ck_assert_uint_eq(gpr[HP_RSI], 0x1000 + HP_RSI); /* its record starts later */
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 4, 7, gpr, &fl, NULL, NULL), 4);
  ck_assert_uint_eq(gpr[HP_RSI], (uint64_t)-5);
  ck_assert_uint_eq(gpr[HP_RDX], 4 * (0x1000 + HP_R13));
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 4, 8, gpr, &fl, NULL, NULL), 0);
  ck_assert_uint_eq(fl, 0x202);
}
END_TEST

/* The spill slot of `lahf; seto al` then a 64-bit store of rax: ah = SF ZF 0
 * AF 0 PF 1 CF, al = OF (0 or 1), the upper 48 bits are the guest rax's. */
static uint64_t lahf_slot(uint64_t flags, uint64_t upper)
{
  uint64_t ah = (flags & (SF | ZF | AF | PF | CF)) | 0x2;
  return (upper << 16) | (ah << 8) | ((flags & OF) ? 1 : 0);
}

START_TEST(flags_lahf_seto_format)
{
  static const uint64_t one[] = {CF, PF, AF, ZF, SF, OF};
  struct hp_recov r = {.start = 0, .end = 4, .reg = HP_REG_FLAGS, .kind = HP_LOC_FLAGS_LAHF, .slot = 0x18};
  /* Bits other than the six status flags: IF, DF, TF, reserved bit 1, ID, AC, NT, RF. */
  const uint64_t others = 0x2 | 0x100 | 0x200 | 0x400 | 0x200000 | 0x40000 | 0x4000 | 0x10000;
  memset(tblock, 0, sizeof tblock);
  uint64_t gpr[16];
  for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
    /* Exactly one flag saved: the machine had all the others set. */
    put_slot(0x18, lahf_slot(one[i], 0xabcdefabcdefull));
    uint64_t fl = others | (STATUS & ~one[i]);
    machine_regs(gpr);
    ck_assert_uint_eq(hp_recovery_apply(&r, 1, 2, gpr, &fl, NULL, tblock), 1);
    ck_assert_msg(fl == (others | one[i]), "flag %#llx: rflags %#llx", (unsigned long long)one[i],
                  (unsigned long long)fl);
    check_untouched_except(gpr, -1); /* flags records write no register */
  }
  /* None saved, machine had all: all cleared, the rest kept. */
  put_slot(0x18, lahf_slot(0, 0xffffffffffffull));
  uint64_t fl = others | STATUS;
  ck_assert_uint_eq(hp_recovery_apply(&r, 1, 0, gpr, &fl, NULL, tblock), 1);
  ck_assert_uint_eq(fl, others);
  /* All saved, machine had none (and none of the other bits either). */
  put_slot(0x18, lahf_slot(STATUS, 0));
  fl = 0;
  ck_assert_uint_eq(hp_recovery_apply(&r, 1, 3, gpr, &fl, NULL, tblock), 1);
  ck_assert_uint_eq(fl, STATUS);
  /* ah's reserved bits 1, 3 and 5 do not leak into rflags. */
  put_slot(0x18, 0xff00);
  fl = 0;
  hp_recovery_apply(&r, 1, 3, gpr, &fl, NULL, tblock);
  ck_assert_uint_eq(fl, SF | ZF | AF | PF | CF);
  /* Not covered: rflags unchanged. */
  fl = 0x202;
  ck_assert_uint_eq(hp_recovery_apply(&r, 1, 4, gpr, &fl, NULL, tblock), 0);
  ck_assert_uint_eq(fl, 0x202);
}
END_TEST

/* xmm records: 16 bytes from the thread block into the xmm image, only
 * with an image, only at GS slots; general registers untouched. */
START_TEST(xmm_records)
{
  struct hp_recov v[3] = {
      {.start = 0, .end = 10, .reg = HP_REG_XMM0 + 15, .kind = HP_LOC_GS_SLOT, .slot = 0x40},
      {.start = 5, .end = 10, .reg = HP_REG_XMM0 + 2, .kind = HP_LOC_GS_SLOT, .slot = 0x60},
      {.start = 0, .end = 10, .reg = HP_REG_XMM0 + 3, .kind = HP_LOC_REG, .slot = 1}, /* not for xmm */
  };
  memset(tblock, 0, sizeof tblock);
  uint8_t *tb = (uint8_t *)tblock;
  for (int i = 0; i < 16; i++) {
    tb[0x40 + i] = (uint8_t)(0xa0 + i);
    tb[0x60 + i] = (uint8_t)(0x10 + i);
  }
  uint8_t xmm[16][16];
  memset(xmm, 0x55, sizeof xmm);
  uint64_t gpr[16], fl = 0x202;
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 3, 2, gpr, &fl, xmm, tblock), 1);
  for (int i = 0; i < 16; i++) {
    ck_assert_uint_eq(xmm[15][i], 0xa0 + i);
    ck_assert_uint_eq(xmm[2][i], 0x55);
    ck_assert_uint_eq(xmm[3][i], 0x55);
  }
  ck_assert_uint_eq(hp_recovery_apply(v, 3, 7, gpr, &fl, xmm, tblock), 2);
  for (int i = 0; i < 16; i++)
    ck_assert_uint_eq(xmm[2][i], 0x10 + i);
  check_untouched_except(gpr, -1);
  ck_assert_uint_eq(fl, 0x202);
  /* Without an image, xmm records are skipped. */
  ck_assert_uint_eq(hp_recovery_apply(v, 3, 7, gpr, &fl, NULL, tblock), 0);
}
END_TEST

START_TEST(count_and_unknown_kinds)
{
  memset(tblock, 0, sizeof tblock);
  put_slot(0, 5);
  put_slot(8, lahf_slot(ZF, 0));
  struct hp_recov v[5] = {
      {.start = 0, .end = 10, .reg = HP_RAX, .kind = HP_LOC_GS_SLOT, .slot = 0},
      {.start = 0, .end = 10, .reg = HP_REG_FLAGS, .kind = HP_LOC_FLAGS_LAHF, .slot = 8},
      {.start = 0, .end = 10, .reg = HP_RBX, .kind = 99, .slot = 0}, /* unknown kind: ignored */
      {.start = 10, .end = 20, .reg = HP_RDX, .kind = HP_LOC_GS_SLOT, .slot = 0},
      {.start = 0, .end = 10, .reg = HP_RSI, .kind = HP_LOC_REG, .slot = HP_RDI},
  };
  uint64_t gpr[16], fl = CF | 0x202;
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 5, 9, gpr, &fl, NULL, tblock), 3);
  ck_assert_uint_eq(gpr[HP_RAX], 5);
  ck_assert_uint_eq(gpr[HP_RBX], 0x1000 + HP_RBX);
  ck_assert_uint_eq(gpr[HP_RDX], 0x1000 + HP_RDX);
  ck_assert_uint_eq(gpr[HP_RSI], 0x1000 + HP_RDI);
  ck_assert_uint_eq(fl, ZF | 0x202);
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 5, 10, gpr, &fl, NULL, tblock), 1);
  ck_assert_uint_eq(gpr[HP_RDX], 5);
  /* n limits the records looked at */
  machine_regs(gpr);
  ck_assert_uint_eq(hp_recovery_apply(v, 1, 9, gpr, &fl, NULL, tblock), 1);
  ck_assert_uint_eq(hp_recovery_apply(v, 0, 9, gpr, &fl, NULL, tblock), 0);
}
END_TEST

/* Lowers the bytes at pc into a plain buffer. */
static bool lower_bytes(const uint8_t *bytes, size_t n, uint64_t pc, bool writable, bool far, uint8_t *hot,
                        size_t cap, struct hp_lowered *lo)
{
  static struct hp_insn v[64 + 1 + HP_MANGLE_EXTRA];
  struct hp_ilist l = {.v = v, .cap = 64 + 1 + HP_MANGLE_EXTRA};
  struct hp_decode_limits lim = {64, 256, writable};
  hp_decode_block(bytes, n, pc, &lim, &l);
  ck_assert(hp_mangle_block(&l, writable));
  static struct hp_lowered_exit exits[64];
  static uint32_t pc_off[80];
  static uint64_t pc_guest[80];
  static uint8_t pc_len[80];
  static struct hp_lowered_cont conts[8];
  static struct hp_recov recov[80];
  *lo = (struct hp_lowered){.exits = exits, .max_exits = 64, .pc_off = pc_off, .pc_guest = pc_guest,
                            .pc_len = pc_len, .max_pc = 80, .conts = conts, .max_conts = 8,
                            .recov = {recov, 0, 80}};
  struct hp_emit e = {.rw = hot, .rx = 0x7f0000000000ull, .cap = cap};
  return hp_lower(&l, &e, 0x7f0000010000ull, &(struct hp_lower_opts){.force_far = far}, lo);
}

/* The offset of the first instruction at or after `from` whose mnemonic is m
 * and which has a memory operand with base mem_base, not through GS. */
static uint32_t find_insn(const uint8_t *hot, size_t len, uint32_t from, ZydisMnemonic m, ZydisRegister mem_base)
{
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  for (uint32_t pos = 0; pos < len;) {
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, hot + pos, len - pos, &in, ops)));
    if (pos >= from && in.mnemonic == m)
      for (unsigned i = 0; i < in.operand_count_visible; i++)
        if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.segment != ZYDIS_REGISTER_GS &&
            ops[i].mem.base == mem_base)
          return pos;
    pos += in.length;
  }
  ck_abort_msg("instruction not found");
  return 0;
}

START_TEST(lowered_far_riprel_record)
{
  /* mov edx, [rip+0x100] forced far: rewritten as mov edx, [r11]; a fault
   * there finds the guest's r11 in its spill slot. (eax would take the
   * moffs form, which needs no scratch.) */
  static const uint8_t code[] = {0x8b, 0x15, 0x00, 0x01, 0x00, 0x00};
  static uint8_t hot[1024];
  struct hp_lowered lo;
  ck_assert(lower_bytes(code, sizeof code, 0x7f0000100000ull, false, true, hot, sizeof hot, &lo));
  ck_assert_uint_eq(lo.riprel_far, 1);
  ck_assert_uint_eq(lo.recov.n, 1);
  const struct hp_recov *r = &lo.recov.v[0];
  ck_assert_uint_eq(r->reg, HP_R11);
  ck_assert_uint_eq(r->kind, HP_LOC_GS_SLOT);
  ck_assert_int_eq(r->slot, (int32_t)offsetof(struct hp_thread, spill_scratch));
  uint32_t at = find_insn(hot, 64, 0, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_R11);
  ck_assert(r->start <= at && at < r->end); /* the rewritten instruction is covered */
  ck_assert_uint_gt(r->start, 0);           /* the save of r11 is not */
  /* Apply it as a fault there would: machine r11 = the address, guest r11 in the slot. */
  static uint8_t tb[sizeof(struct hp_thread)] __attribute__((aligned(64)));
  uint64_t guest_r11 = 0x5151515151515151ull;
  memcpy(tb + offsetof(struct hp_thread, spill_scratch), &guest_r11, 8);
  uint64_t gpr[16], fl = 0x202;
  machine_regs(gpr);
  gpr[HP_R11] = 0x7f0000100106ull;
  ck_assert_uint_eq(hp_recovery_apply(lo.recov.v, lo.recov.n, at, gpr, &fl, NULL, tb), 1);
  ck_assert_uint_eq(gpr[HP_R11], guest_r11);
  /* Before the save and after the restore nothing applies. */
  ck_assert_uint_eq(hp_recovery_apply(lo.recov.v, lo.recov.n, 0, gpr, &fl, NULL, tb), 0);
  ck_assert_uint_eq(hp_recovery_apply(lo.recov.v, lo.recov.n, r->end, gpr, &fl, NULL, tb), 0);
}
END_TEST

START_TEST(lowered_indirect_jmp_record)
{
  /* jmp [rax*8+0x403000]: rcx is loaded from the table; a fault of that load
   * finds the guest's rcx in spill_rcx. */
  static const uint8_t code[] = {0xff, 0x24, 0xc5, 0x00, 0x30, 0x40, 0x00};
  static uint8_t hot[1024];
  struct hp_lowered lo;
  ck_assert(lower_bytes(code, sizeof code, 0x401000, false, false, hot, sizeof hot, &lo));
  ck_assert_uint_eq(lo.nexits, 0);
  ck_assert_uint_eq(lo.recov.n, 1);
  const struct hp_recov *r = &lo.recov.v[0];
  ck_assert_uint_eq(r->reg, HP_RCX);
  ck_assert_int_eq(r->slot, (int32_t)offsetof(struct hp_thread, spill_rcx));
  uint32_t at = find_insn(hot, 32, 0, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_NONE); /* [rax*8+disp] */
  ck_assert(r->start <= at && at < r->end);
}
END_TEST

START_TEST(lowered_code_check_records)
{
  /* Writable code: the check displaces rax, rcx and the flags while it
   * compares guest bytes (a munmap by another thread makes it fault). */
  static const uint8_t code[] = {0x31, 0xc0, 0xc3};
  static uint8_t hot[2048];
  struct hp_lowered lo;
  ck_assert(lower_bytes(code, sizeof code, 0x401000, true, false, hot, sizeof hot, &lo));
  ck_assert(lo.checks_code);
  ck_assert_uint_ge(lo.recov.n, 3);
  uint32_t cmp = find_insn(hot, 128, 0, ZYDIS_MNEMONIC_CMP, ZYDIS_REGISTER_RAX);
  static uint8_t tb[sizeof(struct hp_thread)] __attribute__((aligned(64)));
  uint64_t rax = 0x1234, rcx = 0x5678, flags_slot = lahf_slot(CF | ZF | OF, 0x1234);
  memcpy(tb + offsetof(struct hp_thread, spill_rax), &rax, 8);
  memcpy(tb + offsetof(struct hp_thread, spill_rcx), &rcx, 8);
  memcpy(tb + offsetof(struct hp_thread, spill_flags), &flags_slot, 8);
  uint64_t gpr[16], fl = 0x202 | SF | PF;
  machine_regs(gpr);
  gpr[HP_RAX] = 0x401000;
  ck_assert_uint_eq(hp_recovery_apply(lo.recov.v, lo.recov.n, cmp, gpr, &fl, NULL, tb), 3);
  ck_assert_uint_eq(gpr[HP_RAX], 0x1234);
  ck_assert_uint_eq(gpr[HP_RCX], 0x5678);
  ck_assert_uint_eq(fl, 0x202 | CF | ZF | OF);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("recovery");
  TCase *tc = tcase_create("apply");
  tcase_add_test(tc, cover_start_inclusive_end_exclusive);
  tcase_add_test(tc, empty_and_single_byte_records);
  tcase_add_test(tc, gs_slots_read_from_thread_block);
  tcase_add_test(tc, machine_register_locations);
  tcase_add_test(tc, folded_address_expressions);
  tcase_add_test(tc, flags_lahf_seto_format);
  tcase_add_test(tc, count_and_unknown_kinds);
  tcase_add_test(tc, xmm_records);
  suite_add_tcase(s, tc);
  TCase *tl = tcase_create("lowered");
  tcase_add_test(tl, lowered_far_riprel_record);
  tcase_add_test(tl, lowered_indirect_jmp_record);
  tcase_add_test(tl, lowered_code_check_records);
  suite_add_tcase(s, tl);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
