/* Return addresses that share a return-table entry: two call sites exactly
 * 64 KiB apart (the same low 16 bits) call the same callee, alternately and
 * in runs, so each return finds the other site's continuation in the table
 * half of the time and must notice (the continuation checks the whole
 * address). Also a callee reached from both sites through one function
 * pointer, a return to a moved return address that aliases a real call
 * site, and returns from deep recursion through both sites. Each result is
 * checked against the same computation in plain C. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"

/* site_a(x) = bump(x) + 1, site_b(x) = bump(x) + 2, bump(x) = 3x + 5. Both
 * call bump from the same offset of blocks laid 65536 bytes apart. */
uint64_t site_a(uint64_t x);
uint64_t site_b(uint64_t x);
/* site_skip(x): calls skip_callee, which moves its return address by 65536
 * bytes forward when x is odd: the return lands in site_skip's twin at
 * +64 KiB (the same low 16 bits as the call's own return), which adds 20
 * instead of 10. */
uint64_t site_skip(uint64_t x);
/* site_ptr(x): the same, but the callee moves its return address through
 * a pointer (rax = rbp + 8), on every third x (it adds 0 otherwise, so
 * that every run stores): a trace that inlines the call must keep checking
 * the return. */
uint64_t site_ptr(uint64_t x);

__asm__(".text\n"
        ".balign 16\n"
        "bump:\n"
        "  lea 5(%rdi,%rdi,2), %rax\n"
        "  ret\n"
        ".balign 16\n"
        ".globl site_a\n"
        "site_a:\n"
        "  call bump\n" /* 5 bytes */
        "  add $1, %rax\n" /* 4 bytes */
        "  ret\n" /* 1 byte */
        "  .skip 65536 - 10, 0xcc\n"
        ".globl site_b\n"
        "site_b:\n" /* site_a + 65536 */
        "  call bump\n"
        "  add $2, %rax\n"
        "  ret\n"
        ".balign 16\n"
        "skip_callee:\n"
        "  test $1, %dil\n"
        "  jz 1f\n"
        "  addq $65536, (%rsp)\n"
        "1:\n"
        "  lea 7(%rdi), %rax\n"
        "  ret\n"
        ".balign 16\n"
        ".globl site_skip\n"
        "site_skip:\n"
        "  call skip_callee\n" /* 5 bytes */
        "  add $10, %rax\n"    /* 4 bytes */
        "  ret\n"              /* 1 byte */
        "  .skip 65536 - 10, 0xcc\n"
        "site_skip_twin:\n" /* site_skip + 65536: only reached by the moved return */
        "  call skip_callee\n"
        "  add $20, %rax\n"
        "  ret\n"
        ".balign 16\n"
        "ptr_callee:\n"
        "  push %rbp\n"
        "  mov %rsp, %rbp\n"
        "  mov %rdi, %rax\n"
        "  xor %edx, %edx\n"
        "  mov $3, %ecx\n"
        "  div %rcx\n"
        "  test %rdx, %rdx\n"
        "  sete %cl\n"
        "  movzbl %cl, %ecx\n"
        "  shl $16, %rcx\n" /* 65536 or 0, no branch: every run stores */
        "  lea 8(%rbp), %rax\n" /* the return address slot, as a pointer */
        "  add %rcx, (%rax)\n"
        "  lea 7(%rdi), %rax\n"
        "  pop %rbp\n"
        "  ret\n"
        ".balign 16\n"
        ".globl site_ptr\n"
        "site_ptr:\n"
        "  call ptr_callee\n"
        "  add $10, %rax\n"
        "  ret\n"
        "  .skip 65536 - 10, 0xcc\n"
        "  call ptr_callee\n"
        "  add $20, %rax\n"
        "  ret\n");

static uint64_t want_bump(uint64_t x) { return 3 * x + 5; }

typedef uint64_t (*site_fn)(uint64_t);

static __attribute__((noinline)) uint64_t dive(int depth, uint64_t x)
{
  if (depth == 0)
    return x;
  site_fn f = (depth & 1) ? site_a : site_b;
  return dive(depth - 1, f(x) & 0xffff) + (uint64_t)depth;
}

static uint64_t want_dive(int depth, uint64_t x)
{
  if (depth == 0)
    return x;
  uint64_t y = want_bump(x) + ((depth & 1) ? 1 : 2);
  return want_dive(depth - 1, y & 0xffff) + (uint64_t)depth;
}

int main(void)
{
  uint64_t got = 0, want = 0;
  for (uint64_t i = 0; i < 200000; i++) { /* alternating */
    got += (i & 1) ? site_b(i) : site_a(i);
    want += want_bump(i) + ((i & 1) ? 2 : 1);
  }
  check("alternating sites", got, want);

  got = want = 0;
  uint64_t st = 88172645463325252ull;
  for (uint64_t i = 0; i < 200000; i++) { /* runs of random length */
    site_fn f = (xs(&st) % 7 < 3) ? site_a : site_b;
    uint64_t r = f(i);
    got = got * 31 + r;
    want = want * 31 + want_bump(i) + (f == site_a ? 1 : 2);
  }
  check("random runs", got, want);

  got = want = 0;
  for (uint64_t i = 0; i < 100000; i++) {
    got += site_skip(i);
    want += i + 7 + ((i & 1) ? 20 : 10);
  }
  check("moved return address", got, want);

  got = want = 0;
  for (uint64_t i = 0; i < 100000; i++) {
    got += site_ptr(i);
    want += i + 7 + (i % 3 == 0 ? 20 : 10);
  }
  check("return address moved through a pointer", got, want);

  got = want = 0;
  for (int r = 0; r < 2000; r++) {
    got += dive(40 + r % 23, (uint64_t)r);
    want += want_dive(40 + r % 23, (uint64_t)r);
  }
  check("recursion through both sites", got, want);

  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
