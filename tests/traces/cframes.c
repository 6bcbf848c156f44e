/* Frames the promotion across inlined calls must not get wrong (assembly,
 * so that every build has the same code; found by review):
 *   - a loop that calls through r15, which the optimizer would otherwise
 *     take for a slot (the guard reads its target from it);
 *   - a callee that overwrites its saved rbp through an indexed store, so
 *     that the loop goes on in another frame after one call;
 *   - a call made with rsp above the loop's rsp, whose return address
 *     lands on the loop's local.
 * Each result is what native execution gives. "ok" or "FAILED". */
#include <stdio.h>

#include "check.h"

long indreg_loop(long n);
long cell_loop(long n);
long pd_loop(long n);
long cell_calls;
long cell_fake[8];

__asm__(".text\n"
        "cf_callee:\n"
        "  push %rbp\n  mov %rsp, %rbp\n"
        "  lea 1(%rdi), %rax\n"
        "  add $0, %rax\n"
        "  pop %rbp\n  ret\n"
        ".globl indreg_loop\n"
        "indreg_loop:\n"
        "  push %rbp\n  mov %rsp, %rbp\n  push %r15\n  push %rbx\n  sub $32, %rsp\n"
        "  mov %rdi, %rbx\n"
        "  lea cf_callee(%rip), %r15\n"
        "  movq $0, -24(%rbp)\n  movq $0, -32(%rbp)\n"
        "1:\n"
        "  mov -24(%rbp), %rdi\n"
        "  add $0, %rdi\n"
        "  call *%r15\n"
        "  add %rax, -32(%rbp)\n"
        "  addq $1, -24(%rbp)\n"
        "  cmp %rbx, -24(%rbp)\n"
        "  jl 1b\n"
        "  mov -32(%rbp), %rax\n"
        "  add $32, %rsp\n  pop %rbx\n  pop %r15\n  pop %rbp\n  ret\n"

        "cf_smash:\n"
        "  push %rbp\n  mov %rsp, %rbp\n"
        "  incq cell_calls(%rip)\n"
        "  mov (%rbp), %rax\n" /* the saved rbp */
        "  lea cell_fake+48(%rip), %rdx\n"
        "  cmp $150000, %rdi\n"
        "  cmove %rdx, %rax\n" /* at one call: another frame */
        "  xor %ecx, %ecx\n"
        "  mov %rax, (%rsp,%rcx)\n" /* over the saved rbp, through an index */
        "  add $0, %rcx\n"
        "  pop %rbp\n  ret\n"
        ".globl cell_loop\n"
        "cell_loop:\n"
        "  push %rbp\n  mov %rsp, %rbp\n  push %rbx\n  sub $24, %rsp\n"
        "  mov %rdi, %rbx\n"
        "  movq $0, -24(%rbp)\n"
        "1:\n"
        "  mov -24(%rbp), %rdi\n"
        "  add $0, %rdi\n"
        "  call cf_smash\n"
        "  addq $1, -24(%rbp)\n"
        "  cmp %rbx, -24(%rbp)\n"
        "  jl 1b\n"
        "  add $24, %rsp\n  pop %rbx\n  pop %rbp\n  ret\n"

        "cf_leaf:\n"
        "  mov $1, %eax\n  ret\n"
        ".globl pd_loop\n"
        "pd_loop:\n"
        "  push %rbp\n  mov %rsp, %rbp\n  push %rbx\n  sub $8, %rsp\n"
        "  mov %rdi, %rbx\n"
        "  sub $8, %rsp\n" /* rsp = rbp - 24 */
        "  movq $0, -24(%rbp)\n  movq $0, -16(%rbp)\n"
        "1:\n"
        "  add $16, %rsp\n" /* above the loop's rsp */
        "  call cf_leaf\n"  /* its return address goes to [rbp-16] */
        "2:\n"
        "  sub $16, %rsp\n"
        "  addq $1, -16(%rbp)\n"
        "  addq $1, -24(%rbp)\n"
        "  cmp %rbx, -24(%rbp)\n"
        "  jl 1b\n"
        "  mov -16(%rbp), %rax\n"
        "  lea 2b(%rip), %rdx\n"
        "  sub %rdx, %rax\n" /* natively 1: the last return address + 1 */
        "  add $16, %rsp\n  pop %rbx\n  pop %rbp\n  ret\n");

int main(void)
{
  long r = 0;
  for (int k = 0; k < 3; k++)
    r += indreg_loop(200000);
  check("call through a register", (uint64_t)r, 3 * (200000ull * 200001 / 2));
  cell_fake[0] = 299999;
  cell_fake[3] = 299998; /* the loop's counter in the other frame */
  cell_loop(300000);
  check("saved rbp overwritten by a callee", (uint64_t)cell_calls, 150002);
  check("call above the loop's rsp", (uint64_t)pd_loop(300000), 1);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails ? 1 : 0;
}
