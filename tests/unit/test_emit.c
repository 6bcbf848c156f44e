/* Unit tests for the emitter: what it writes, decoded back with Zydis. */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <Zydis/Zydis.h>

#include "hotpath/emit.h"
#include "hotpath/thread.h"

static uint8_t buf[4096] __attribute__((aligned(64)));

struct decoded {
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  char text[96];
};

/* Decodes the instruction at offset *pos of the emitted code at rx. */
static void decode_at(const struct hp_emit *e, size_t *pos, struct decoded *d)
{
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, e->rw + *pos, e->pos - *pos, &d->in, d->ops)));
  ZydisFormatter f;
  ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_INTEL);
  ZydisFormatterFormatInstruction(&f, &d->in, d->ops, d->in.operand_count_visible, d->text,
                                  sizeof d->text, e->rx + *pos, NULL);
  *pos += d->in.length;
}

static struct hp_emit fresh(uintptr_t rx)
{
  memset(buf, 0xcc, sizeof buf);
  return (struct hp_emit){.rw = buf, .rx = rx, .cap = sizeof buf};
}

START_TEST(call_sequence)
{
  /* call L; C: check [rsp-8]; L: [rsp] = guest return */
  struct hp_emit e = fresh(0x10000);
  struct hp_label lbody = {0};
  hp_emit_call_push(&e, &lbody);
  uintptr_t cont = hp_emit_here(&e);
  size_t entry = hp_emit_continuation(&e, 0x123456789abcdef0ull);
  size_t before_body = e.pos;
  hp_emit_call_body(&e, &lbody, 0x123456789abcdef0ull);
  ck_assert(lbody.bound);
  uintptr_t body = e.rx + lbody.pos;
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_CALL);
  uint64_t target;
  ZydisCalcAbsoluteAddress(&d.in, &d.ops[0], 0x10000, &target);
  ck_assert_uint_eq(target, body);
  ck_assert_uint_eq(0x10000 + pos, cont); /* the pushed address is the continuation */
  decode_at(&e, &pos, &d); /* the check reads the guest slot, which stays as natively */
  ck_assert_str_eq(d.text, "lea rcx, [rsp-0x08]");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov rcx, [rcx]");
  while (pos < entry) /* then a flag-free check, the lookup on a mismatch */
    decode_at(&e, &pos, &d);
  ck_assert_uint_eq(pos, entry);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_MOV); /* rcx back */
  ck_assert_int_eq(d.ops[1].mem.segment, ZYDIS_REGISTER_GS);
  ck_assert_uint_eq(pos, before_body);
  /* Before the body (where nothing runs), the return address's 8 bytes,
   * 8-aligned, in a `mov rax, imm64`. */
  do
    decode_at(&e, &pos, &d);
  while (d.in.mnemonic == ZYDIS_MNEMONIC_NOP);
  ck_assert_str_eq(d.text, "mov rax, 0x123456789ABCDEF0");
  uintptr_t k = 0x10000 + pos - 8;
  ck_assert_uint_eq(k % 8, 0);
  ck_assert_uint_eq(0x10000 + pos, body);
  /* The body: the continuation's address dropped, the guest return
   * address pushed in its place from the constant: one 8-byte store. */
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "lea rsp, [rsp+0x08]");
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_PUSH);
  ck_assert_int_eq(d.ops[0].mem.base, ZYDIS_REGISTER_RIP);
  uint64_t from;
  ZydisCalcAbsoluteAddress(&d.in, &d.ops[0], 0x10000 + pos - d.in.length, &from);
  ck_assert_uint_eq(from, k);
  ck_assert_uint_eq(pos, e.pos);
}
END_TEST

/* Runs the arithmetic of a continuation's return-address check (the code
 * between its load of [rsp-8] (through rcx) and its jrcxz) on x: rcx at
 * the jrcxz. */
typedef uint64_t (*check_fn)(uint64_t);

/* Copies the emitted instructions from *pos up to the jrcxz (each an a or
 * a b) into exec after its first n bytes, then `mov rax, rcx; ret`: the
 * arithmetic that decides the jrcxz, as a function. *pos ends past the
 * jrcxz. */
static check_fn to_jrcxz(const struct hp_emit *e, size_t *pos, uint8_t *exec, size_t n, ZydisMnemonic a,
                         ZydisMnemonic b)
{
  struct decoded d;
  for (;;) {
    size_t at = *pos;
    decode_at(e, pos, &d);
    if (d.in.mnemonic == ZYDIS_MNEMONIC_JRCXZ)
      break;
    ck_assert(d.in.mnemonic == a || d.in.mnemonic == b);
    memcpy(exec + n, e->rw + at, *pos - at);
    n += *pos - at;
  }
  static const uint8_t out[] = {0x48, 0x89, 0xc8, 0xc3}; /* mov rax, rcx; ret */
  memcpy(exec + n, out, sizeof out);
  return (check_fn)(uintptr_t)exec;
}

static check_fn continuation_check(uint64_t guest_ret, uint8_t *exec)
{
  struct hp_emit e = fresh(0x10000);
  hp_emit_continuation(&e, guest_ret);
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "lea rcx, [rsp-0x08]");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov rcx, [rcx]");
  static const uint8_t in[] = {0x48, 0x89, 0xf9}; /* mov rcx, rdi */
  memcpy(exec, in, sizeof in);
  return to_jrcxz(&e, &pos, exec, sizeof in, ZYDIS_MNEMONIC_LEA, ZYDIS_MNEMONIC_BSWAP);
}

START_TEST(continuation_check_exact)
{
  /* Zero for the call's own return address only: every other address that
   * shares its table entry (low 16 bits) goes to the lookup. */
  uint8_t *exec = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert_ptr_ne(exec, MAP_FAILED);
  static const uint64_t rets[] = {0x401005,           0x7fffffff,         0x80000000,
                                  0x80001234,         0x555555555a3c,     0x7f0012345678,
                                  0x7fff80000000,     0x7ffffffffffe,     0xfffffffffffff000,
                                  0x123456789abcdef0, 0x8000000000000000, 0xffffffff80001234};
  for (size_t i = 0; i < sizeof rets / sizeof rets[0]; i++) {
    uint64_t g = rets[i];
    check_fn f = continuation_check(g, exec);
    ck_assert_uint_eq(f(g), 0);
    for (int b = 0; b < 64; b++)
      ck_assert_uint_ne(f(g ^ (1ull << b)), 0);
    ck_assert_uint_ne(f(g + 0x10000), 0);
    ck_assert_uint_ne(f(g - 0x10000), 0);
    ck_assert_uint_ne(f(g + (1ull << 32)), 0);
    ck_assert_uint_ne(f(g - (1ull << 32)), 0);
    ck_assert_uint_ne(f(0), 0);
    uint64_t x = g * 0x9e3779b97f4a7c15ull + 1;
    for (int k = 0; k < 1000; k++, x = x * 6364136223846793005ull + 1442695040888963407ull)
      if (x != g)
        ck_assert_uint_ne(f(x), 0);
  }
  munmap(exec, 4096);
}
END_TEST

START_TEST(patchable_branches_aligned)
{
  for (uintptr_t start = 0x10000; start < 0x10004; start++) {
    struct hp_emit e = fresh(start);
    size_t f1 = hp_emit_jmp_rel32(&e, start + 100);
    size_t f2 = hp_emit_jcc_rel32(&e, 0x4, start + 200);
    ck_assert_uint_eq((start + f1) % 4, 0);
    ck_assert_uint_eq((start + f2) % 4, 0);
    /* The branches go where asked. */
    size_t pos = 0;
    struct decoded d;
    uint64_t target = 0;
    do {
      decode_at(&e, &pos, &d);
    } while (d.in.mnemonic == ZYDIS_MNEMONIC_NOP);
    ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JMP);
    ZydisCalcAbsoluteAddress(&d.in, &d.ops[0], start + pos - d.in.length, &target);
    ck_assert_uint_eq(target, start + 100);
    do {
      decode_at(&e, &pos, &d);
    } while (d.in.mnemonic == ZYDIS_MNEMONIC_NOP);
    ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JZ);
    ZydisCalcAbsoluteAddress(&d.in, &d.ops[0], start + pos - d.in.length, &target);
    ck_assert_uint_eq(target, start + 200);
    /* Re-aim with one aligned store. */
    hp_patch_rel32(e.rw + f1, start + f1, start + 0x1000);
    ck_assert_int_eq(*(int32_t *)(e.rw + f1), (int32_t)(0x1000 - (f1 + 4)));
  }
}
END_TEST

START_TEST(exit_stub_size)
{
  struct hp_emit e = fresh(0x20000);
  hp_emit_exit_stub(&e, 0x1122334455667788ull);
  ck_assert_uint_eq(e.pos, HP_EXIT_STUB_SIZE);
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_MOV);
  ck_assert_int_eq(d.ops[0].mem.segment, ZYDIS_REGISTER_GS);
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov rax, 0x1122334455667788");
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JMP);
  ck_assert_int_eq(d.ops[0].mem.segment, ZYDIS_REGISTER_GS);
}
END_TEST

START_TEST(riprel_near_keeps_target)
{
  /* mov eax, [rip+0x100] at guest 0x401000 (7 bytes: 8b 05 imm32) */
  static const uint8_t insn[] = {0x8b, 0x05, 0x00, 0x01, 0x00, 0x00};
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, insn, sizeof insn, &in, ops)));
  struct hp_emit e = fresh(0x40000000);
  bool scratch;
  ck_assert(hp_emit_riprel(&e, insn, &in, 0x401000, false, 0, &scratch));
  ck_assert(!scratch);
  ck_assert_uint_eq(e.pos, in.length);
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d);
  uint64_t abs;
  ZydisCalcAbsoluteAddress(&d.in, &d.ops[1], 0x40000000, &abs);
  ck_assert_uint_eq(abs, 0x401000 + 6 + 0x100);
}
END_TEST

START_TEST(riprel_far_through_scratch)
{
  /* add [rip+0x20], r11d: r11 is used, so the scratch must be another register */
  static const uint8_t insn[] = {0x44, 0x01, 0x1d, 0x20, 0x00, 0x00, 0x00};
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, insn, sizeof insn, &in, ops)));
  struct hp_emit e = fresh(0x7f0000000000ull);
  bool scratch;
  ck_assert(hp_emit_riprel(&e, insn, &in, 0x401000, false, 0, &scratch));
  ck_assert(scratch);
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d); /* save scratch */
  ck_assert_int_eq(d.ops[0].mem.segment, ZYDIS_REGISTER_GS);
  ck_assert_int_eq(d.ops[1].reg.value, ZYDIS_REGISTER_R10);
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov r10, 0x401027");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "add [r10], r11d");
  decode_at(&e, &pos, &d); /* restore */
  ck_assert_int_eq(d.ops[0].reg.value, ZYDIS_REGISTER_R10);
  ck_assert_int_eq(d.ops[1].mem.segment, ZYDIS_REGISTER_GS);
  ck_assert_uint_eq(pos, e.pos);
}
END_TEST

/* The emitted code is exactly one instruction, printed as want. */
static void expect_one(const struct hp_emit *e, const char *want)
{
  size_t pos = 0;
  struct decoded d;
  decode_at(e, &pos, &d);
  ck_assert_str_eq(d.text, want);
  ck_assert_uint_eq(pos, e->pos);
}

/* A far `mov` between al/ax/eax/rax and [rip+d] becomes its moffs64 form:
 * one instruction to the same address, no scratch register. */
static void moffs_case(const uint8_t *insn, size_t len, const char *want)
{
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, insn, len, &in, ops)));
  struct hp_emit e = fresh(0x7f0000000000ull);
  bool scratch = true;
  ck_assert(hp_emit_riprel(&e, insn, &in, 0x401000, false, 0, &scratch));
  ck_assert(!scratch);
  expect_one(&e, want);
}

START_TEST(riprel_far_moffs)
{
  static const uint8_t ld32[] = {0x8b, 0x05, 0x20, 0x00, 0x00, 0x00};       /* mov eax, [rip+0x20] */
  static const uint8_t ld64[] = {0x48, 0x8b, 0x05, 0x20, 0x00, 0x00, 0x00}; /* mov rax, [rip+0x20] */
  static const uint8_t st64[] = {0x48, 0x89, 0x05, 0x20, 0x00, 0x00, 0x00}; /* mov [rip+0x20], rax */
  static const uint8_t st16[] = {0x66, 0x89, 0x05, 0x20, 0x00, 0x00, 0x00}; /* mov [rip+0x20], ax */
  static const uint8_t ld8[] = {0x8a, 0x05, 0x20, 0x00, 0x00, 0x00};        /* mov al, [rip+0x20] */
  moffs_case(ld32, sizeof ld32, "mov eax, [0x0000000000401026]");
  moffs_case(ld64, sizeof ld64, "mov rax, [0x0000000000401027]");
  moffs_case(st64, sizeof st64, "mov [0x0000000000401027], rax");
  moffs_case(st16, sizeof st16, "mov [0x0000000000401027], ax");
  moffs_case(ld8, sizeof ld8, "mov al, [0x0000000000401026]");
}
END_TEST

/* Runs the arithmetic of hp_emit_guard_reg (reg = rdi, the argument: the
 * code between the spill of rcx and the jrcxz) on x: rcx at the jrcxz, zero
 * iff x is the expected target. Checks the layout around it: the spill,
 * on a mismatch rcx = the target and a jump, on a match the reload. */
static check_fn guard_reg_check(uint64_t expected, uint8_t *exec)
{
  struct hp_emit e = fresh(0x10000);
  struct hp_label mismatch = {0};
  hp_emit_guard_reg(&e, HP_RDI, expected, &mismatch);
  hp_label_bind(&e, &mismatch);
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.ops[0].mem.segment, ZYDIS_REGISTER_GS);
  ck_assert_int_eq(d.ops[1].reg.value, ZYDIS_REGISTER_RCX);
  check_fn f = to_jrcxz(&e, &pos, exec, 0, ZYDIS_MNEMONIC_LEA, ZYDIS_MNEMONIC_MOV);
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov rcx, rdi");
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JMP);
  decode_at(&e, &pos, &d); /* the match: rcx reloaded */
  ck_assert_int_eq(d.ops[0].reg.value, ZYDIS_REGISTER_RCX);
  ck_assert_int_eq(d.ops[1].mem.segment, ZYDIS_REGISTER_GS);
  return f;
}

START_TEST(guard_reg_exact)
{
  uint8_t *exec = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert_ptr_ne(exec, MAP_FAILED);
  static const uint64_t targets[] = {0x401005, 0x7fffffff, 0x80000000, 0x80000001, 0x555555555a3c,
                                     0x7f0012345678, 0xffffffff80001234, 0x8000000000000000};
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
    uint64_t g = targets[i];
    check_fn f = guard_reg_check(g, exec);
    ck_assert_uint_eq(f(g), 0);
    for (int b = 0; b < 64; b++)
      ck_assert_uint_ne(f(g ^ (1ull << b)), 0);
    ck_assert_uint_ne(f(0), 0);
  }
  munmap(exec, 4096);
  /* Every register but rcx and rsp encodes (r12 and r13 as bases need care). */
  for (int r = 0; r < 16; r++) {
    struct hp_emit e = fresh(0x10000);
    struct hp_label mismatch = {0};
    hp_emit_guard_reg(&e, r, 0x401000, &mismatch);
    hp_label_bind(&e, &mismatch);
    ck_assert(e.overflow == (r == HP_RCX || r == HP_RSP));
    if (e.overflow)
      continue;
    size_t pos = 0;
    struct decoded d;
    decode_at(&e, &pos, &d);
    decode_at(&e, &pos, &d); /* lea rcx, [reg-0x401000] */
    ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_LEA);
    ck_assert_int_eq(d.ops[1].mem.base, ZYDIS_REGISTER_RAX + r);
    ck_assert_int_eq(d.ops[1].mem.index, ZYDIS_REGISTER_NONE);
    ck_assert_int_eq(d.ops[1].mem.disp.value, -0x401000);
  }
}
END_TEST

/* A return's guard: [rsp] read once (a fault there is the ret's), compared
 * flag-free, read again only on a mismatch. */
START_TEST(guard_ret_layout)
{
  struct hp_emit e = fresh(0x10000);
  struct hp_label mismatch = {0};
  hp_emit_guard_ret(&e, 0x555555555a3cull, &mismatch);
  hp_label_bind(&e, &mismatch);
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.ops[0].mem.segment, ZYDIS_REGISTER_GS);
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov rcx, [rsp]");
  do {
    decode_at(&e, &pos, &d);
    ck_assert(d.in.mnemonic == ZYDIS_MNEMONIC_LEA || d.in.mnemonic == ZYDIS_MNEMONIC_BSWAP ||
              d.in.mnemonic == ZYDIS_MNEMONIC_JRCXZ);
  } while (d.in.mnemonic != ZYDIS_MNEMONIC_JRCXZ);
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov rcx, [rsp]");
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JMP);
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.ops[0].reg.value, ZYDIS_REGISTER_RCX);
  ck_assert_int_eq(d.ops[1].mem.segment, ZYDIS_REGISTER_GS);
  ck_assert_uint_eq(pos, e.pos);
}
END_TEST

/* The guest instruction with its [rbp+d] operand replaced by a register. */
static void rm_reg_case(const uint8_t *insn, size_t len, int reg, const char *want)
{
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction in;
  ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, insn, len, &in)));
  struct hp_emit e = fresh(0x40000000);
  ck_assert(hp_emit_guest_rm_reg(&e, insn, &in, reg));
  expect_one(&e, want);
}

START_TEST(slot_operand_to_register)
{
  rm_reg_case((const uint8_t[]){0x8b, 0x45, 0xf0}, 3, 15, "mov eax, r15d");
  rm_reg_case((const uint8_t[]){0x8b, 0x44, 0x25, 0xf0}, 4, 15, "mov eax, r15d"); /* with a SIB byte */
  rm_reg_case((const uint8_t[]){0x48, 0x01, 0x45, 0xf8}, 4, 14, "add r14, rax");
  rm_reg_case((const uint8_t[]){0x4c, 0x89, 0x45, 0xf8}, 4, 14, "mov r14, r8");
  rm_reg_case((const uint8_t[]){0x83, 0x45, 0xf0, 0x01}, 4, 3, "add ebx, 0x01");
  rm_reg_case((const uint8_t[]){0x81, 0x7d, 0xf0, 0xe7, 0x03, 0x00, 0x00}, 7, 12, "cmp r12d, 0x3E7");
  rm_reg_case((const uint8_t[]){0x48, 0xc7, 0x85, 0x00, 0xff, 0xff, 0xff, 0x05, 0x00, 0x00, 0x00}, 11, 13,
              "mov r13, 0x05");
  rm_reg_case((const uint8_t[]){0x48, 0x63, 0x45, 0xfc}, 4, 15, "movsxd rax, r15d");
  rm_reg_case((const uint8_t[]){0xf2, 0x0f, 0x2a, 0x45, 0xfc}, 5, 13, "cvtsi2sd xmm0, r13d");
  rm_reg_case((const uint8_t[]){0xf7, 0x7d, 0xf8}, 3, 12, "idiv r12d");
  rm_reg_case((const uint8_t[]){0x0f, 0xaf, 0x45, 0xf4}, 4, 15, "imul eax, r15d");
}
END_TEST

START_TEST(slot_moves_and_alias_check)
{
  struct hp_emit e = fresh(0x40000000);
  hp_emit_slot_load(&e, 15, -0x10, 4);
  hp_emit_slot_store(&e, 14, -0x200, 8);
  /* mov edx, [rdx+rax*4+0x10] checked against [rbp-16, rbp) */
  static const uint8_t insn[] = {0x8b, 0x54, 0x82, 0x10};
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction in;
  ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, insn, sizeof insn, &in)));
  size_t field = hp_emit_alias_check(&e, 13, insn, &in, 0x401000, -16, 0, false, false);
  ck_assert_uint_ne(field, 0);
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov r15d, [rbp-0x10]");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov [rbp-0x200], r14");
  /* address - rbp - (lo - size + 1) = address - rbp + 19, below 16 + 3 */
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "lea r13, [rdx+rax*4+0x23]");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "sub r13, rbp");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "cmp r13, 0x13");
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JB);
  ck_assert_uint_eq(field, pos - 4);
  ck_assert_uint_eq(pos, e.pos);
}
END_TEST

/* Inside an inlined call: the check subtracts the loop's rbp saved in the
 * thread block; reloads go through a base register; the entry's frame
 * check compares rsp with rbp + lo. */
/* Where the flags are dead at an optimized trace's entry, its checks are
 * differences of addresses whose sign is tested: no spill of rcx. */
START_TEST(entry_checks_with_dead_flags)
{
  struct hp_emit e = fresh(0x40000000);
  size_t fields[2];
  hp_emit_stack_check(&e, 10, -0x40, -0x8, 0x7ff000000000ull, 0x7ff000800000ull, true, fields);
  size_t fc = hp_emit_frame_check(&e, 9, -0x90, true);
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov r10, 0xFFFF800FFFFFFFC0"); /* -0x40 - s0 */
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "add r10, rbp");
  do /* the jump's field is aligned for patching */
    decode_at(&e, &pos, &d);
  while (d.in.mnemonic == ZYDIS_MNEMONIC_NOP);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JS);
  ck_assert_uint_eq(fields[0], pos - 4);
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov r10, 0x7FF000800008"); /* s1 - hi */
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "sub r10, rbp");
  do /* the jump's field is aligned for patching */
    decode_at(&e, &pos, &d);
  while (d.in.mnemonic == ZYDIS_MNEMONIC_NOP);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JS);
  ck_assert_uint_eq(fields[1], pos - 4);
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "lea r9, [rbp-0x90]");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "sub r9, rsp");
  do /* the jump's field is aligned for patching */
    decode_at(&e, &pos, &d);
  while (d.in.mnemonic == ZYDIS_MNEMONIC_NOP);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JS);
  ck_assert_uint_eq(fc, pos - 4);
  ck_assert_uint_eq(pos, e.pos);
}
END_TEST

START_TEST(callee_alias_check_and_frame_check)
{
  struct hp_emit e = fresh(0x40000000);
  static const uint8_t insn[] = {0x89, 0x10}; /* mov [rax], edx */
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction in;
  ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, insn, sizeof insn, &in)));
  ck_assert_uint_ne(hp_emit_alias_check(&e, 12, insn, &in, 0x401000, -16, 0, true, false), 0);
  size_t fc = hp_emit_frame_check(&e, 9, -0x90, false);
  hp_emit_slot_load_from(&e, 14, 12, -0x10, 4);
  hp_emit_slot_load_from(&e, 3, 13, -0x200, 8);
  hp_emit_xslot_load_from(&e, 15, 12, -8, 8);
  hp_emit_xslot_load_from(&e, 2, 4, 0x20, 4);
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "lea r12, [rax+0x13]");
  decode_at(&e, &pos, &d);
  char want[64];
  snprintf(want, sizeof want, "sub r12, gs:[0x%016lX]", (unsigned long)offsetof(struct hp_thread, promo_rbp));
  ck_assert_str_eq(d.text, want);
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "cmp r12, 0x13");
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JB);
  /* the frame check, flag-free: rcx = rbp - 0x90 - rsp; its top byte */
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_MOV); /* rcx to its spill slot */
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov r9, rsp");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "not r9");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "lea rcx, [rbp+r9*1-0x8F]");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "bswap rcx");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "movzx ecx, cl");
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JRCXZ);
  size_t ok = pos + (size_t)(int8_t)e.rw[pos - 1];
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_MOV); /* rcx back */
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JMP);
  ck_assert_uint_eq(fc, pos - 4);
  ck_assert_uint_eq(ok, pos);
  decode_at(&e, &pos, &d);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_MOV); /* rcx back */
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov r14d, [r12-0x10]");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov rbx, [r13-0x200]");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "movsd xmm15, qword ptr [r12-0x08]");
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "movss xmm2, dword ptr [rsp+0x20]");
  ck_assert_uint_eq(pos, e.pos);
}
END_TEST

/* The fold pass's materializations: a constant, a copy, an address; flags
 * untouched (mov and lea only). */
START_TEST(address_expressions)
{
  struct hp_emit e = fresh(0x10000);
  hp_emit_addr_expr(&e, 0 /* rax */, 0xff, 0xff, 0, -5);
  hp_emit_addr_expr(&e, 2 /* rdx */, 15 /* r15 */, 0xff, 0, 0);
  hp_emit_addr_expr(&e, 1 /* rcx */, 15, 13 /* r13 */, 4, 8);
  hp_emit_addr_expr(&e, 6 /* rsi */, 0xff, 13, 8, -4);
  hp_emit_addr_expr(&e, 7 /* rdi */, 4 /* rsp */, 0xff, 0, 16);
  ck_assert(!e.overflow);
  static const char *const want[] = {"mov rax, 0xFFFFFFFFFFFFFFFB", "mov rdx, r15", "lea rcx, [r15+r13*4+0x08]",
                                     "lea rsi, [r13*8-0x04]", "lea rdi, [rsp+0x10]"};
  size_t pos = 0;
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    struct decoded d;
    decode_at(&e, &pos, &d);
    ck_assert_msg(!strcmp(d.text, want[i]), "%zu: got '%s', want '%s'", i, d.text, want[i]);
  }
  ck_assert_uint_eq(pos, e.pos);
}
END_TEST

/* An encoder request is checked against what it encodes: a general
 * register where the instruction needs an xmm one is refused (Zydis
 * encodes it as something else), a valid one is taken. */
START_TEST(encode_request_round_trip)
{
  uint8_t out[ZYDIS_MAX_INSTRUCTION_LENGTH];
  ZyanUSize len = sizeof out;
  ck_assert(!hp_emit_encode_reg_reg(ZYDIS_MNEMONIC_MULSD, ZYDIS_REGISTER_XMM1, ZYDIS_REGISTER_RAX, out, &len));
  len = sizeof out;
  ck_assert(hp_emit_encode_reg_reg(ZYDIS_MNEMONIC_MULSD, ZYDIS_REGISTER_XMM1, ZYDIS_REGISTER_XMM2, out, &len));
  len = sizeof out;
  ck_assert(hp_emit_encode_reg_reg(ZYDIS_MNEMONIC_MOVSXD, ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_R15D, out, &len));
  ck_assert_uint_eq(len, 3);
  ck_assert(out[0] == 0x49 && out[1] == 0x63 && out[2] == 0xc7); /* movsxd rax, r15d */
}
END_TEST

START_TEST(indirect_call_reads_operand_before_push)
{
  /* call qword ptr [rsp+8]: the target is read before the call pushes */
  static const uint8_t insn[] = {0xff, 0x54, 0x24, 0x08};
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, insn, sizeof insn, &in, ops)));
  struct hp_emit e = fresh(0x10000);
  ck_assert(hp_emit_branch_target(&e, &in, &ops[0], 0x401004));
  size_t pos = 0;
  struct decoded d;
  decode_at(&e, &pos, &d); /* save rcx */
  ck_assert_int_eq(d.ops[1].reg.value, ZYDIS_REGISTER_RCX);
  decode_at(&e, &pos, &d);
  ck_assert_str_eq(d.text, "mov rcx, [rsp+0x08]");
  ck_assert_uint_eq(pos, e.pos);
  /* The inline lookup writes no flags and pushes nothing. */
  hp_emit_ibl_inline(&e);
  bool saw_jrcxz = false;
  while (pos < e.pos) {
    decode_at(&e, &pos, &d);
    ck_assert_uint_eq(d.in.cpu_flags ? d.in.cpu_flags->modified : 0, 0);
    ck_assert_int_ne(d.in.mnemonic, ZYDIS_MNEMONIC_PUSH);
    saw_jrcxz |= d.in.mnemonic == ZYDIS_MNEMONIC_JRCXZ;
  }
  ck_assert(saw_jrcxz);
  ck_assert_int_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JMP); /* last: to the fragment */
  ck_assert_int_eq(d.ops[0].mem.segment, ZYDIS_REGISTER_GS);
}
END_TEST

START_TEST(return_keeps_flags)
{
  struct hp_emit e = fresh(0x10000);
  hp_emit_return(&e, 0);
  size_t pos = 0;
  struct decoded d;
  bool saw_ret = false;
  while (pos < e.pos) {
    decode_at(&e, &pos, &d);
    ck_assert_uint_eq(d.in.cpu_flags ? d.in.cpu_flags->modified : 0, 0);
    saw_ret |= d.in.mnemonic == ZYDIS_MNEMONIC_RET;
  }
  ck_assert(saw_ret);
}
END_TEST

START_TEST(inline_cache_layout)
{
  for (uintptr_t start = 0x10000; start < 0x10008; start++) {
    struct hp_emit e = fresh(start);
    size_t k_off, jmp_off, learn_off;
    hp_emit_inline_cache(&e, HP_T_SITE_MISSES, &k_off, &jmp_off, &learn_off);
    ck_assert(!e.overflow);
    ck_assert_uint_eq((start + k_off) % 8, 0); /* the tag is patched with one store */
    ck_assert_uint_eq(*(uint64_t *)(e.rw + k_off), 0);
    ck_assert_uint_eq((start + jmp_off) % 4, 0);
    ck_assert_uint_eq((start + learn_off) % 4, 0);
    size_t pos = 0;
    struct decoded d;
    int jrcxz = 0;
    while (pos < e.pos) {
      decode_at(&e, &pos, &d);
      ck_assert_uint_eq(d.in.cpu_flags ? d.in.cpu_flags->modified : 0, 0);
      jrcxz += d.in.mnemonic == ZYDIS_MNEMONIC_JRCXZ;
    }
    ck_assert_int_eq(jrcxz, 3); /* hit, nothing learnt, every 65536th miss */
  }
}
END_TEST

/* A fake thread block under GS and a page to run emitted code from (the
 * tests that run code for real); undone by code_page_free. */
static uint8_t *code_page_with_block(uint8_t **block)
{
  *block = mmap(NULL, HP_T_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert_ptr_ne(*block, MAP_FAILED);
  ck_assert_int_eq(syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)*block), 0);
  uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert_ptr_ne(code, MAP_FAILED);
  return code;
}
static void code_page_free(uint8_t *code, uint8_t *block)
{
  munmap(code, 4096);
  syscall(SYS_arch_prctl, ARCH_SET_GS, 0ul);
  munmap(block, HP_T_SIZE);
}

/* Runs an inline cache for real, its thread block a fake one under GS: no
 * target learnt goes to the learning exit (target in gs:ibl_target); the
 * learnt one hits; another misses (on to the lookup) and counts in the
 * site's counter, every 65536th miss going to the learning exit again. */
static uint8_t *ic_code;
static int ic_run(uint64_t target, bool in_reg)
{
  int r;
  /* (below the red zone: the call pushes) */
  if (in_reg)
    __asm__ volatile("sub $128, %%rsp\n\tcall *%[f]\n\tadd $128, %%rsp"
                     : "=a"(r)
                     : [f] "r"(ic_code), "d"(target)
                     : "rcx", "memory", "cc");
  else
    __asm__ volatile("sub $128, %%rsp\n\tcall *%[f]\n\tadd $128, %%rsp"
                     : "=a"(r)
                     : [f] "r"(ic_code), "c"(target)
                     : "rdx", "memory", "cc");
  return r;
}

START_TEST(inline_cache_relearns_every_65536th_miss)
{
  uint8_t *block;
  ic_code = code_page_with_block(&block);
  int32_t slot = hp_site_miss_slot(0x401000);
  ck_assert_int_ge(slot, HP_T_SITE_MISSES);
  ck_assert_int_lt(slot, HP_T_RET_TABLE - 3);
  uint32_t *misses = (uint32_t *)(block + slot);
  const uint64_t *ibl_target = (const uint64_t *)(block + offsetof(struct hp_thread, ibl_target));
  const uint64_t t1 = 0x401234, t2 = 0x7f0000005678;
  for (int in_reg = 0; in_reg < 2; in_reg++) {
    struct hp_emit e = {.rw = ic_code, .rx = (uintptr_t)ic_code, .cap = 4096};
    size_t k_off, jmp_off, learn_off;
    if (in_reg)
      hp_emit_inline_cache_reg(&e, HP_RDX, slot, &k_off, &jmp_off, &learn_off);
    else
      hp_emit_inline_cache(&e, slot, &k_off, &jmp_off, &learn_off);
    static const uint8_t ret1[] = {0xb8, 1, 0, 0, 0, 0xc3}, ret2[] = {0xb8, 2, 0, 0, 0, 0xc3},
                         ret3[] = {0xb8, 3, 0, 0, 0, 0xc3}; /* mov eax, n; ret */
    hp_emit_bytes(&e, ret3, sizeof ret3); /* the lookup that follows a miss */
    size_t hit = e.pos;
    hp_emit_bytes(&e, ret1, sizeof ret1);
    size_t learn = e.pos;
    hp_emit_bytes(&e, ret2, sizeof ret2);
    ck_assert(!e.overflow);
    hp_patch_rel32(ic_code + jmp_off, (uintptr_t)ic_code + jmp_off, (uintptr_t)ic_code + hit);
    hp_patch_rel32(ic_code + learn_off, (uintptr_t)ic_code + learn_off, (uintptr_t)ic_code + learn);
    *misses = 0;
    ck_assert_int_eq(ic_run(t1, in_reg), 2); /* nothing learnt */
    ck_assert_uint_eq(*ibl_target, t1);
    ck_assert_uint_eq(*misses, 0);
    *(uint64_t *)(ic_code + k_off) = ~t1; /* learnt (hp_predict) */
    ck_assert_int_eq(ic_run(t1, in_reg), 1);
    ck_assert_int_eq(ic_run(t2, in_reg), 3);
    ck_assert_uint_eq(*misses, 1);
    for (unsigned i = 2; i < 65536; i++)
      ck_assert_int_eq(ic_run(t2, in_reg), 3);
    ck_assert_int_eq(ic_run(t2, in_reg), 2); /* the 65536th: learn again */
    ck_assert_uint_eq(*ibl_target, t2);
    ck_assert_int_eq(ic_run(t2, in_reg), 3);
    ck_assert_int_eq(ic_run(t1, in_reg), 1);
    ck_assert_uint_eq(*misses, 65537);
  }
  code_page_free(ic_code, block);
}
END_TEST

/* Runs the globals' span check of an optimized trace's entry for real, in
 * its flag-free form (the status flags live there), under a fake thread
 * block: it jumps exactly when [a, a+size) overlaps [rbp+lo, rbp+hi), and
 * keeps the flags and rcx. */
static uint8_t *span_code;
static int span_run(uint64_t rbp, uint64_t *flags_out, uint64_t *rcx_out)
{
  int r;
  uint64_t fl, c;
  /* rbp set for the call, the flags set to a pattern (CF ZF... from a
   * compare of 1 with 2: CF SF AF PF), rcx to a marker */
  __asm__ volatile("push %%rbp\n\t"
                   "sub $128, %%rsp\n\t"
                   "mov %%rdx, %%rbp\n\t"
                   "mov $0x1234, %%rcx\n\t"
                   "mov $1, %%eax\n\t"
                   "cmp $2, %%eax\n\t"
                   "call *%%rsi\n\t"
                   "pushfq\n\t"
                   "pop %%rdi\n\t"
                   "add $128, %%rsp\n\t"
                   "pop %%rbp"
                   : "=a"(r), "=D"(fl), "=c"(c)
                   : "S"(span_code), "d"(rbp)
                   : "r10", "memory", "cc");
  *flags_out = fl;
  *rcx_out = c;
  return r;
}

START_TEST(span_check_without_flags)
{
  uint8_t *block;
  span_code = code_page_with_block(&block);
  const uint64_t a = 0x555555558040ull;
  const uint32_t size = 24;
  const int32_t lo = -0x30, hi = -0x8;
  struct hp_emit e = {.rw = span_code, .rx = (uintptr_t)span_code, .cap = 4096};
  size_t field = hp_emit_span_check(&e, 10, a, size, lo, hi, false);
  static const uint8_t ret0[] = {0xb8, 0, 0, 0, 0, 0xc3}, ret1[] = {0xb8, 1, 0, 0, 0, 0xc3}; /* mov eax, n; ret */
  hp_emit_bytes(&e, ret0, sizeof ret0);
  size_t overlap = e.pos;
  hp_emit_bytes(&e, ret1, sizeof ret1);
  ck_assert(!e.overflow);
  hp_patch_rel32(span_code + field, (uintptr_t)span_code + field, (uintptr_t)span_code + overlap);
  uint64_t want_flags = 0;
  __asm__ volatile("mov $1, %%eax\n\tcmp $2, %%eax\n\tpushfq\n\tpop %0" : "=r"(want_flags) : : "rax", "cc");
  /* rbp values around both ends, far below and above, on both sides of 0 */
  int64_t around[] = {0, 1, -1, 2, -2, 7, 8, 9, 23, 24, 25, 0x28, 0x2f, 0x30, 0x31, 0x1000, -0x1000, 1ll << 40, -(1ll << 40)};
  uint64_t bases[] = {a - lo, a + size - 1 - hi, a - hi, a + size - lo, a};
  for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
    for (size_t k = 0; k < sizeof around / sizeof around[0]; k++) {
      uint64_t rbp = bases[i] + (uint64_t)around[k];
      if (rbp >> 47)
        continue; /* (user addresses only) */
      bool want = a < rbp + (uint64_t)(int64_t)hi && rbp + (uint64_t)(int64_t)lo < a + size;
      uint64_t fl, c;
      ck_assert_int_eq(span_run(rbp, &fl, &c), want);
      ck_assert_uint_eq(fl & 0x8d5, want_flags & 0x8d5);
      ck_assert_uint_eq(c, 0x1234);
    }
  code_page_free(span_code, block);
}
END_TEST

START_TEST(code_check_and_ibl_decode)
{
  /* Generated routines must decode cleanly end to end. */
  struct hp_emit e = fresh(0x30000);
  static const uint8_t code[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  size_t jmp = hp_emit_code_check(&e, 0x500000, code, sizeof code);
  ck_assert(!e.overflow);
  ck_assert_uint_eq((0x30000 + jmp) % 4, 0);
  size_t pos = 0;
  struct decoded d;
  int cmps = 0;
  while (pos < e.pos) {
    decode_at(&e, &pos, &d);
    cmps += d.in.mnemonic == ZYDIS_MNEMONIC_CMP;
  }
  ck_assert_int_eq(cmps, 1 + 5); /* one 8-byte compare, five byte compares */
  e = fresh(0x30000);
  hp_emit_ibl_routine(&e, 0xdeadbeef, true);
  pos = 0;
  bool saw_sahf = false;
  while (pos < e.pos) {
    decode_at(&e, &pos, &d);
    saw_sahf |= d.in.mnemonic == ZYDIS_MNEMONIC_SAHF;
  }
  ck_assert(saw_sahf);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("emit");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, call_sequence);
  tcase_add_test(tc, continuation_check_exact);
  tcase_add_test(tc, patchable_branches_aligned);
  tcase_add_test(tc, exit_stub_size);
  tcase_add_test(tc, riprel_near_keeps_target);
  tcase_add_test(tc, riprel_far_through_scratch);
  tcase_add_test(tc, riprel_far_moffs);
  tcase_add_test(tc, guard_reg_exact);
  tcase_add_test(tc, guard_ret_layout);
  tcase_add_test(tc, slot_operand_to_register);
  tcase_add_test(tc, slot_moves_and_alias_check);
  tcase_add_test(tc, callee_alias_check_and_frame_check);
  tcase_add_test(tc, indirect_call_reads_operand_before_push);
  tcase_add_test(tc, address_expressions);
  tcase_add_test(tc, encode_request_round_trip);
  tcase_add_test(tc, return_keeps_flags);
  tcase_add_test(tc, inline_cache_layout);
  tcase_add_test(tc, inline_cache_relearns_every_65536th_miss);
  tcase_add_test(tc, span_check_without_flags);
  tcase_add_test(tc, code_check_and_ibl_decode);
  tcase_add_test(tc, entry_checks_with_dead_flags);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
