/* Unit tests of hp_analyze_insn / hp_analyze_bytes: key facts asserted
 * directly (the golden cases analyze_* print whole instructions). */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "hotpath/analysis.h"
#include "hotpath/ilist.h"

enum { RAX = 1u << 0, RCX = 1u << 1, RDX = 1u << 2, RSP = 1u << 4, RBP = 1u << 5, RSI = 1u << 6,
       RDI = 1u << 7, R11 = 1u << 11 };

/* A plain guest element holding bytes (what decode produces for them). */
static struct hp_insn guest(const uint8_t *b, size_t n)
{
  struct hp_insn in;
  memset(&in, 0, sizeof in);
  in.pc = 0x401000;
  in.op = HP_OP_GUEST;
  in.len = (uint8_t)n;
  memcpy(in.bytes, b, n);
  return in;
}

#define ANALYZE(e, ...)                                                                            \
  do {                                                                                             \
    static const uint8_t b_[] = {__VA_ARGS__};                                                     \
    struct hp_insn in_ = guest(b_, sizeof b_);                                                     \
    ck_assert(hp_analyze_insn(&in_, &(e)));                                                        \
  } while (0)

START_TEST(write32_zero_extends)
{
  struct hp_insn_effects e;
  ANALYZE(e, 0x89, 0xd0); /* mov eax, edx */
  ck_assert_uint_eq(e.gpr_write, RAX);
  ck_assert_uint_eq(e.gpr_write_partial, 0);
  ck_assert_uint_eq(e.gpr_read, RDX);
  ck_assert_uint_eq(e.flags_write, 0);
  ck_assert(!e.may_fault && !e.control && e.nmem == 0);
}
END_TEST

START_TEST(write8_high_merges)
{
  struct hp_insn_effects e;
  ANALYZE(e, 0xb4, 0x01); /* mov ah, 1 */
  ck_assert_uint_eq(e.gpr_write, RAX);
  ck_assert_uint_eq(e.gpr_write_partial, RAX);
  ck_assert_uint_eq(e.gpr_read, RAX); /* the merge reads the old value */
  ANALYZE(e, 0x66, 0xb8, 0x01, 0x00); /* mov ax, 1 */
  ck_assert_uint_eq(e.gpr_write_partial, RAX);
}
END_TEST

START_TEST(div_faults_writes_rdx_rax)
{
  struct hp_insn_effects e;
  ANALYZE(e, 0xf7, 0xf1); /* div ecx */
  ck_assert(e.may_fault);
  ck_assert_uint_eq(e.gpr_write, RAX | RDX);
  ck_assert_uint_eq(e.gpr_write_partial, 0);
  ck_assert_uint_eq(e.gpr_read, RAX | RCX | RDX);
  ck_assert_uint_eq(e.flags_write, HP_FL_STATUS);
  ck_assert_uint_eq(e.flags_undef, HP_FL_STATUS);
  ck_assert_int_eq(e.nmem, 0);
}
END_TEST

START_TEST(lea_is_not_an_access)
{
  struct hp_insn_effects e;
  ANALYZE(e, 0x48, 0x8d, 0x44, 0x8d, 0xe0); /* lea rax, [rbp+rcx*4-0x20] */
  ck_assert_int_eq(e.nmem, 0);
  ck_assert(!e.may_fault);
  ck_assert_uint_eq(e.gpr_read, RBP | RCX);
  ck_assert_uint_eq(e.gpr_write, RAX);
}
END_TEST

START_TEST(push_writes_below_rsp)
{
  struct hp_insn_effects e;
  ANALYZE(e, 0x55); /* push rbp */
  ck_assert_uint_eq(e.gpr_read, RBP | RSP);
  ck_assert_uint_eq(e.gpr_write, RSP);
  ck_assert_int_eq(e.nmem, 1);
  ck_assert_int_eq(e.mem[0].base, 4);
  ck_assert_int_eq(e.mem[0].index, HP_MEM_NONE);
  ck_assert_int_eq(e.mem[0].disp, -8);
  ck_assert_int_eq(e.mem[0].size, 8);
  ck_assert(e.mem[0].write && !e.mem[0].read);
  ck_assert(e.may_fault && !e.control);
  ANALYZE(e, 0x8f, 0x44, 0x24, 0x08); /* pop qword [rsp+8]: address after the increment */
  ck_assert_int_eq(e.nmem, 2);
  ck_assert(e.mem[0].write && e.mem[0].base == 4 && e.mem[0].disp == 16);
  ck_assert(e.mem[1].read && e.mem[1].base == 4 && e.mem[1].disp == 0);
}
END_TEST

START_TEST(flags_partial_and_conditional)
{
  struct hp_insn_effects e;
  ANALYZE(e, 0xd3, 0xe0); /* shl eax, cl: count 0 changes no flag */
  ck_assert_uint_eq(e.flags_write, HP_FL_STATUS);
  ck_assert_uint_eq(e.flags_undef, HP_FL_AF | HP_FL_OF);
  ck_assert_uint_eq(e.flags_read, HP_FL_STATUS);
  ANALYZE(e, 0xc1, 0xe0, 0x20); /* shl eax, 32: masked count 0 */
  ck_assert_uint_eq(e.flags_write, 0);
  ANALYZE(e, 0x0f, 0x44, 0xc1); /* cmovz eax, ecx */
  ck_assert_uint_eq(e.flags_read, HP_FL_ZF);
  ck_assert_uint_eq(e.gpr_write_partial, RAX);
  ANALYZE(e, 0xf3, 0xa4); /* rep movsb */
  ck_assert_uint_eq(e.flags_read, HP_FL_DF);
  ck_assert_uint_eq(e.gpr_read, RCX | RSI | RDI);
  ck_assert_uint_eq(e.gpr_write, RCX | RSI | RDI);
  ck_assert(e.nmem == 2 && e.mem[0].size == 0 && e.mem[1].size == 0);
}
END_TEST

START_TEST(non_guest_elements)
{
  struct hp_insn_effects e;
  static const uint8_t sc[] = {0x0f, 0x05};
  struct hp_insn in = guest(sc, 2);
  in.op = HP_OP_GUEST_SYSCALL;
  ck_assert(!hp_analyze_insn(&in, &e));
  in.op = HP_OP_EXIT;
  ck_assert(!hp_analyze_insn(&in, &e));
  ck_assert(hp_analyze_bytes(sc, 2, &e)); /* the Linux ABI */
  ck_assert_uint_eq(e.gpr_write, RAX | RCX | R11);
  ck_assert(e.gpr_read & RDI);
  ck_assert(e.control);
  ck_assert(!hp_analyze_bytes(sc, 1, &e)); /* truncated */
}
END_TEST

/* hp_live_in over a fake code space: bytes at CODE, nothing elsewhere. */
#define CODE 0x1000ull
static uint8_t code[64];
static size_t code_len;
static size_t fetch(void *ctx, uint64_t pc, uint8_t *buf, size_t max)
{
  (void)ctx;
  if (pc < CODE || pc >= CODE + code_len)
    return 0;
  size_t n = CODE + code_len - pc < max ? (size_t)(CODE + code_len - pc) : max;
  memcpy(buf, code + (pc - CODE), n);
  return n;
}
#define LIVE_IN(gpr, flags, lo, hi, ...)                                                           \
  do {                                                                                             \
    static const uint8_t c_[] = {__VA_ARGS__};                                                     \
    memcpy(code, c_, sizeof c_);                                                                   \
    code_len = sizeof c_;                                                                          \
    lo = UINT64_MAX;                                                                               \
    hi = 0;                                                                                        \
    hp_live_in(fetch, NULL, CODE, 32, &(gpr), &(flags), &(lo), &(hi));                             \
  } while (0)

START_TEST(live_in_written_before_read)
{
  uint32_t g;
  uint8_t f;
  uint64_t lo, hi;
  /* mov eax, [rbp-8]; lea edx, [rax+1]; cmp edx, 5; jle +0: rax and rdx
   * are written first (32-bit writes zero-extend), the flags by cmp; rbp
   * is read; the jle stops the walk (what it does not write stays live). */
  LIVE_IN(g, f, lo, hi, 0x8b, 0x45, 0xf8, 0x8d, 0x50, 0x01, 0x83, 0xfa, 0x05, 0x7e, 0x00);
  ck_assert(!(g & (RAX | RDX)));
  ck_assert(g & RBP);
  ck_assert(g & (RCX | RSI | RDI | R11)); /* never written: live */
  ck_assert_uint_eq(f & HP_FL_STATUS, 0);
  ck_assert_uint_eq(lo, CODE);
  ck_assert_uint_eq(hi, CODE + 11);
}
END_TEST

START_TEST(live_in_reads_and_partial_writes)
{
  uint32_t g;
  uint8_t f;
  uint64_t lo, hi;
  /* mov al, 1 (merges: rax stays live); add rdx, rcx (reads rdx first) */
  LIVE_IN(g, f, lo, hi, 0xb0, 0x01, 0x48, 0x01, 0xca);
  ck_assert(g & RAX);
  ck_assert(g & RDX);
  ck_assert(g & RCX);
  ck_assert_uint_eq(f & HP_FL_STATUS, 0); /* add writes them all */
  /* adc: reads CF before writing the flags */
  LIVE_IN(g, f, lo, hi, 0x48, 0x11, 0xca);
  ck_assert(f & HP_FL_CF);
  /* shl rax, cl: a count of 0 keeps the flags: they stay live */
  LIVE_IN(g, f, lo, hi, 0x48, 0xd3, 0xe0);
  ck_assert(f & HP_FL_ZF);
}
END_TEST

START_TEST(live_in_follows_jmp_stops_elsewhere)
{
  uint32_t g;
  uint8_t f;
  uint64_t lo, hi;
  /* jmp +2; (skipped: mov eax, ecx); mov eax, 0; add edx, 1: rax dead, rcx
   * not read, rdx read (by the add), the flags written */
  LIVE_IN(g, f, lo, hi, 0xeb, 0x02, 0x89, 0xc8, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x83, 0xc2, 0x01);
  ck_assert(!(g & RAX));
  ck_assert(g & RDX);
  ck_assert_uint_eq(f & HP_FL_STATUS, 0);
  ck_assert_uint_eq(hi, CODE + 12);
  /* xor eax, eax: the analysis takes the zeroing idiom as a read */
  LIVE_IN(g, f, lo, hi, 0x31, 0xc0, 0xc3);
  ck_assert(g & RAX);
  ck_assert(f & HP_FL_AF); /* left undefined: it may keep its old value */
  /* ret before anything is written: everything live */
  LIVE_IN(g, f, lo, hi, 0xc3);
  ck_assert_uint_eq(g & 0xffff, 0xffff);
  ck_assert_uint_eq(f, HP_FL_ALL);
  /* call: everything not yet written is live (the callee may read it) */
  LIVE_IN(g, f, lo, hi, 0xb8, 0x00, 0x00, 0x00, 0x00, 0xe8, 0x00, 0x00, 0x00, 0x00);
  ck_assert(!(g & RAX));
  ck_assert(g & RDX);
  /* the code ends before an instruction does (truncated): everything not
   * written is live */
  LIVE_IN(g, f, lo, hi, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x48);
  ck_assert(!(g & RAX));
  ck_assert(g & RDX);
  ck_assert_uint_eq(hi, CODE + 5);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("analysis");
  TCase *tc = tcase_create("effects");
  tcase_add_test(tc, write32_zero_extends);
  tcase_add_test(tc, write8_high_merges);
  tcase_add_test(tc, div_faults_writes_rdx_rax);
  tcase_add_test(tc, lea_is_not_an_access);
  tcase_add_test(tc, push_writes_below_rsp);
  tcase_add_test(tc, flags_partial_and_conditional);
  tcase_add_test(tc, non_guest_elements);
  tcase_add_test(tc, live_in_written_before_read);
  tcase_add_test(tc, live_in_reads_and_partial_writes);
  tcase_add_test(tc, live_in_follows_jmp_stops_elsewhere);
  suite_add_tcase(s, tc);
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
