/* Calls and returns that do not pair up the usual way, each in a hot loop
 * so that traces record them and later iterations test their guards:
 * `ret imm16` (the pop and the stack adjustment inlined), the get-pc idiom
 * `call 1f; 1: pop` (a call to the next instruction whose return address is
 * never returned to), `push target; ret` (a return used as an indirect
 * jump, its target changing), a callee that moves its own return address
 * forward by 2 bytes on odd arguments (the return guard sees two targets
 * from one call site), a callee that returns by `pop; jmp *reg`, and
 * `call *(%rsp)` (the target read from the stack slot the push overwrites).
 * Each is checked against the value the assembly must compute. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"

/* retimm(a, b): pushes a and b, calls a callee that returns with `ret $16`
 * after computing a * 3 + b from its stack arguments; checks rsp is back. */
uint64_t retimm(uint64_t a, uint64_t b);
/* getpc(): returns 1 when `call 1f; 1: pop %rax` gave the address of 1. */
uint64_t getpc(void);
/* pushret(sel): `push target; ret` to one of two labels by sel & 1. */
uint64_t pushret(uint64_t sel);
/* skipret(x): calls a callee that adds 2 to its return address when x is
 * odd (skipping a 2-byte `jmp`): returns 10 + x on that path, 20 + x on
 * the other. */
uint64_t skipret(uint64_t x);
/* popjmp(x): the callee returns with `pop %rcx; jmp *%rcx`: x * 5. */
uint64_t popjmp(uint64_t x);
/* callstack(x, fn): `push fn; call *(%rsp); pop`: fn(x). */
uint64_t callstack(uint64_t x, uint64_t (*fn)(uint64_t));
uint64_t add7(uint64_t), mul3(uint64_t);

__asm__(".text\n"
        "ri_callee:\n"
        "  mov 8(%rsp), %rax\n"  /* b */
        "  mov 16(%rsp), %rdx\n" /* a */
        "  lea (%rdx,%rdx,2), %rdx\n"
        "  add %rdx, %rax\n"
        "  ret $16\n"
        "retimm:\n"
        "  mov %rsp, %r8\n"
        "  push %rdi\n"
        "  push %rsi\n"
        "  call ri_callee\n"
        "  cmp %rsp, %r8\n"
        "  je 1f\n"
        "  xor %eax, %eax\n" /* rsp not restored: 0 */
        "1: ret\n"
        "getpc:\n"
        "  call 1f\n"
        "1: pop %rdx\n"
        "  lea 1b(%rip), %rax\n"
        "  cmp %rax, %rdx\n"
        "  sete %al\n"
        "  movzbl %al, %eax\n"
        "  ret\n"
        "pushret:\n"
        "  lea 1f(%rip), %rax\n"
        "  lea 2f(%rip), %rdx\n"
        "  test $1, %dil\n"
        "  cmovnz %rdx, %rax\n"
        "  push %rax\n"
        "  ret\n"
        "1: mov $100, %eax\n"
        "  ret\n"
        "2: mov $200, %eax\n"
        "  ret\n"
        "skip_callee:\n"
        "  test $1, %dil\n"
        "  jz 1f\n"
        "  addq $2, (%rsp)\n"
        "1: ret\n"
        "skipret:\n"
        "  call skip_callee\n"
        "  jmp 1f\n" /* 2 bytes (eb xx) */
        "  lea 10(%rdi), %rax\n"
        "  ret\n"
        "1: lea 20(%rdi), %rax\n"
        "  ret\n"
        "pj_callee:\n"
        "  lea (%rdi,%rdi,4), %rax\n"
        "  pop %rcx\n"
        "  jmp *%rcx\n"
        "popjmp:\n"
        "  call pj_callee\n"
        "  ret\n"
        "callstack:\n"
        "  push %rsi\n"
        "  call *(%rsp)\n"
        "  pop %rsi\n"
        "  ret\n"
        "add7: lea 7(%rdi), %rax\n  ret\n"
        "mul3: lea (%rdi,%rdi,2), %rax\n  ret\n");

int main(void)
{
  const int N = 30000;
  uint64_t got = 0, want = 0;
  for (int i = 0; i < N; i++) {
    got += retimm((uint64_t)i, (uint64_t)i ^ 5);
    want += (uint64_t)i * 3 + ((uint64_t)i ^ 5);
  }
  check("ret imm16", got, want);

  got = 0;
  for (int i = 0; i < N; i++)
    got += getpc();
  check("call to the next instruction", got, (uint64_t)N);

  got = want = 0;
  for (int i = 0; i < N; i++) {
    uint64_t sel = i < N / 2 ? 0 : (uint64_t)(i >> 3);
    got += pushret(sel);
    want += sel & 1 ? 200 : 100;
  }
  check("push and ret as a jump", got, want);

  got = want = 0;
  for (int i = 0; i < N; i++) {
    uint64_t x = i < N / 2 ? (uint64_t)i * 2 : (uint64_t)i;
    got += skipret(x);
    want += x & 1 ? 10 + x : 20 + x;
  }
  check("callee moves its return address", got, want);

  got = want = 0;
  for (int i = 0; i < N; i++) {
    got += popjmp((uint64_t)i);
    want += (uint64_t)i * 5;
  }
  check("return by pop and jmp", got, want);

  got = want = 0;
  for (int i = 0; i < N; i++) {
    int m = i >= N / 2 && (i & 1);
    got += callstack((uint64_t)i, m ? mul3 : add7);
    want += m ? (uint64_t)i * 3 : (uint64_t)i + 7;
  }
  check("call through the stack slot", got, want);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
