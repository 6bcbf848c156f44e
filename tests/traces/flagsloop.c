/* Status flags live across the places where a trace checks or leaves:
 * CF set with stc/clc (bt) before an indirect call whose target changes and
 * read with setc after it; CF set by a callee and read by its caller after
 * the `ret` (called from two sites, so the return guard both hits and
 * misses); all six arithmetic flags of a cmp kept across a conditional
 * branch whose direction flips (side exits) and across an indirect jmp
 * whose target changes, captured with pushf; DF set with std across calls;
 * multi-limb additions whose adc chain carries CF through a call (direct and
 * indirect) and across the loop's back edge (dec/jnz leave CF alone). Each
 * result is checked against the flags computed in C. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"

/* cf_call(fn, cf): CF = cf & 1; call *fn (which leaves flags alone);
 * returns CF after the call. */
uint64_t cf_call(void (*fn)(void), uint64_t cf);
void keep_a(void), keep_b(void), keep_c(void);
/* cf_ret(fn): calls fn (which sets or clears CF), returns CF after it;
 * cf_ret2(sel): the same with direct calls from two sites. */
uint64_t cf_ret(void (*fn)(void));
uint64_t cf_ret2(uint64_t sel);
void set_cf(void), clear_cf(void);
/* cmp_flags(a, b, take_jz_target): cmp a, b; then branches on ZF, a
 * different path each way, and on both paths returns the arithmetic flags
 * of the cmp (pushf & 0x8d5), plus 0x10000 on the not-equal path. */
uint64_t cmp_flags(uint64_t a, uint64_t b);
/* cmp_flags_ind(a, b, target): cmp a, b; jmp *target (ind_t0/ind_t1),
 * each returns the flags | (tag << 16). */
uint64_t cmp_flags_ind(uint64_t a, uint64_t b, void *target);
extern char ind_t0[], ind_t1[];
/* cmp_ret(a, b): returns with the flags of cmp a, b set; cmp_two(a, b, c, d)
 * calls it from two sites and returns both flag sets. */
uint64_t cmp_two(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
/* df_call(fn): std; call *fn; pushf; cld; returns DF (bit 10). */
uint64_t df_call(void (*fn)(void));
/* bigadd(dst, src, n, getter): dst += src over n limbs, the adc chain
 * carrying CF through `call *getter` (get_dst or get_dst2: r8 = dst[r9])
 * and across dec/jnz; returns the final carry. bigadd_direct: same with a
 * direct call. */
uint64_t bigadd(uint64_t *dst, const uint64_t *src, uint64_t n, void (*getter)(void));
uint64_t bigadd_direct(uint64_t *dst, const uint64_t *src, uint64_t n);
void get_dst(void), get_dst2(void);

__asm__(".text\n"
        "keep_a: ret\n"
        "keep_b: lea 1(%r11), %r11\n  ret\n"
        "keep_c: mov %rsi, %r11\n  nop\n  ret\n"
        "cf_call:\n"
        "  bt $0, %esi\n"
        "  call *%rdi\n"
        "  setc %al\n  movzbl %al, %eax\n  ret\n"
        "set_cf: stc\n  ret\n"
        "clear_cf: clc\n  ret\n"
        "cf_ret:\n"
        "  call *%rdi\n"
        "  setc %al\n  movzbl %al, %eax\n  ret\n"
        "cf_ret2:\n"
        "  test $1, %edi\n"
        "  jz 1f\n"
        "  call set_cf\n"
        "  setc %al\n  movzbl %al, %eax\n  ret\n"
        "1: call clear_cf\n"
        "  setc %al\n  movzbl %al, %eax\n  add $2, %eax\n  ret\n"
        "cmp_flags:\n"
        "  xor %ecx, %ecx\n"
        "  cmp %rsi, %rdi\n"
        "  jz 1f\n"
        "  mov $0x10000, %ecx\n"
        "  pushfq\n  pop %rax\n  and $0x8d5, %eax\n  or %rcx, %rax\n  ret\n"
        "1: pushfq\n  pop %rax\n  and $0x8d5, %eax\n  ret\n"
        "cmp_flags_ind:\n"
        "  cmp %rsi, %rdi\n"
        "  jmp *%rdx\n"
        "ind_t0: pushfq\n  pop %rax\n  and $0x8d5, %eax\n  ret\n"
        "ind_t1: pushfq\n  pop %rax\n  and $0x8d5, %eax\n  or $0x10000, %eax\n  ret\n"
        "cmp_ret: cmp %rsi, %rdi\n  ret\n"
        "cmp_two:\n"
        "  push %rbx\n"
        "  call cmp_ret\n"
        "  pushfq\n  pop %rbx\n  and $0x8d5, %ebx\n"
        "  mov %rdx, %rdi\n  mov %rcx, %rsi\n"
        "  call cmp_ret\n"
        "  pushfq\n  pop %rax\n  and $0x8d5, %eax\n"
        "  shl $16, %rax\n  or %rbx, %rax\n"
        "  pop %rbx\n  ret\n"
        "df_call:\n"
        "  std\n"
        "  call *%rdi\n"
        "  pushfq\n  cld\n  pop %rax\n  and $0x400, %eax\n  ret\n"
        "get_dst: mov (%rdi,%r9,8), %r8\n  ret\n"
        "get_dst2: lea (%rdi,%r9,8), %r8\n  mov (%r8), %r8\n  ret\n"
        "bigadd:\n"
        "  xor %r9d, %r9d\n" /* also CF = 0 */
        "  mov %rdx, %r10\n"
        "1: mov (%rsi,%r9,8), %rax\n"
        "  call *%rcx\n"
        "  adc %rax, %r8\n"
        "  mov %r8, (%rdi,%r9,8)\n"
        "  lea 1(%r9), %r9\n"
        "  dec %r10\n"
        "  jnz 1b\n"
        "  setc %al\n  movzbl %al, %eax\n  ret\n"
        "bigadd_direct:\n"
        "  xor %r9d, %r9d\n"
        "  mov %rdx, %r10\n"
        "1: mov (%rsi,%r9,8), %rax\n"
        "  call get_dst\n"
        "  adc %rax, %r8\n"
        "  mov %r8, (%rdi,%r9,8)\n"
        "  lea 1(%r9), %r9\n"
        "  dec %r10\n"
        "  jnz 1b\n"
        "  setc %al\n  movzbl %al, %eax\n  ret\n");

/* The arithmetic flags of a - b, as pushf shows them (mask 0x8d5). */
static uint64_t sub_flags(uint64_t a, uint64_t b)
{
  uint64_t r = a - b, f = 0;
  if (a < b)
    f |= 0x1; /* CF */
  if (!__builtin_parity((unsigned)(r & 0xff)))
    f |= 0x4; /* PF: even number of bits set */
  if (((a ^ b ^ r) >> 4) & 1)
    f |= 0x10; /* AF */
  if (r == 0)
    f |= 0x40; /* ZF */
  if (r >> 63)
    f |= 0x80; /* SF */
  if (((a ^ b) & (a ^ r)) >> 63)
    f |= 0x800; /* OF */
  return f;
}

/* Operands that produce every flag combination now and then. */
static void operands(uint64_t *st, uint64_t *a, uint64_t *b)
{
  uint64_t r = xs(st);
  switch (r & 7) {
  case 0: *a = *b = r >> 3; break;                    /* equal */
  case 1: *a = r >> 40; *b = *a + (r & 0xff); break;  /* borrow */
  case 2: *a = 0x8000000000000000ull; *b = r >> 60; break; /* overflow */
  case 3: *a = r; *b = ~r; break;
  default: *a = r; *b = xs(st); break;
  }
}

int main(void)
{
  const int N = 40000;
  uint64_t st = 0x123456789abcdefull;
  void (*keeps[3])(void) = {keep_a, keep_b, keep_c};

  /* CF across an indirect call whose target changes after the trace. */
  uint64_t got = 0, want = 0;
  for (int i = 0; i < N; i++) {
    int which = i < N / 2 ? 0 : (i < 3 * N / 4 ? 1 + (i & 1) : (i >> 5) % 3);
    uint64_t cf = (xs(&st) >> 20) & 1;
    got = got * 3 + cf_call(keeps[which], cf);
    want = want * 3 + cf;
  }
  check("CF across an indirect call", got, want);

  /* CF set by the callee, read after the ret. */
  got = want = 0;
  for (int i = 0; i < N; i++) {
    uint64_t r = xs(&st);
    int set = i < N / 2 ? (int)((r >> 9) & 1) : (i & 1);
    got = got * 3 + cf_ret(set ? set_cf : clear_cf);
    want = want * 3 + (uint64_t)set;
    uint64_t sel = i < N / 4 ? 1 : (r >> 33) & 1;
    got = got * 5 + cf_ret2(sel);
    want = want * 5 + (sel ? 1 : 2);
  }
  check("CF across a ret", got, want);

  /* All arithmetic flags across side exits and an indirect jmp. */
  got = want = 0;
  for (int i = 0; i < N; i++) {
    uint64_t a, b;
    operands(&st, &a, &b);
    uint64_t f = cmp_flags(a, b);
    got = got * 7 + f;
    want = want * 7 + (sub_flags(a, b) | (a != b ? 0x10000 : 0));
    int t = i < N / 2 ? 0 : (int)(i / 7) & 1;
    got = got * 11 + cmp_flags_ind(a, b, t ? ind_t1 : ind_t0);
    want = want * 11 + (sub_flags(a, b) | (t ? 0x10000u : 0));
  }
  check("flags across a side exit and an indirect jmp", got, want);

  got = want = 0;
  for (int i = 0; i < N; i++) {
    uint64_t a, b, c, d;
    operands(&st, &a, &b);
    operands(&st, &c, &d);
    got = got * 13 + cmp_two(a, b, c, d);
    want = want * 13 + (sub_flags(a, b) | sub_flags(c, d) << 16);
  }
  check("flags returned by a callee from two sites", got, want);

  /* DF across an indirect call (and the first call of each target goes
   * through the dispatcher). */
  got = 0;
  for (int i = 0; i < 3000; i++)
    got += df_call(keeps[i < 1000 ? 0 : i % 3]) != 0;
  check("DF across calls", got, 3000);

  /* adc chains through calls and back edges. */
  enum { L = 8 };
  uint64_t acc[L] = {0}, acc2[L] = {0}, ref[L] = {0}, add[L];
  uint64_t carries = 0, carries2 = 0, refc = 0;
  for (int i = 0; i < 20000; i++) {
    for (int k = 0; k < L; k++)
      add[k] = xs(&st) | (k == L - 1 && (i & 3) == 0 ? 0xf000000000000000ull : 0);
    carries += bigadd(acc, add, L, i < 10000 ? get_dst : ((i >> 3) & 1 ? get_dst2 : get_dst));
    carries2 += bigadd_direct(acc2, add, L);
    unsigned c = 0;
    for (int k = 0; k < L; k++) {
      unsigned __int128 s = (unsigned __int128)ref[k] + add[k] + c;
      ref[k] = (uint64_t)s;
      c = (unsigned)(s >> 64);
    }
    refc += c;
  }
  uint64_t h = 0, h2 = 0, hr = 0;
  for (int k = 0; k < L; k++) {
    h = h * 1000003 ^ acc[k];
    h2 = h2 * 1000003 ^ acc2[k];
    hr = hr * 1000003 ^ ref[k];
  }
  check("adc chain through an indirect call", h, hr);
  check("  carries out", carries, refc);
  check("adc chain through a direct call", h2, hr);
  check("  carries out", carries2, refc);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
