/* rbp used as a data pointer (hand-written assembly, as -O2 code may):
 * the loop writes [rbp-8] only when its third argument is nonzero. Hot
 * with a valid pointer, then called with rbp at the start of a page whose
 * previous page is unmapped and the write never taken: the optimized
 * trace's entry load of [rbp-8] (speculative: the write comes after a side
 * exit) faults, and that fault must not reach the guest (the trace leaves
 * through its deopt exit and is rebuilt without speculative loads).
 * "ok" or "FAILED". */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

long rbp_loop(char *base, long n, long cond);
__asm__(".text\n.globl rbp_loop\nrbp_loop:\n"
        "  push %rbp\n  mov %rdi, %rbp\n  xor %eax, %eax\n  xor %ecx, %ecx\n"
        "1:\n  add %rcx, %rax\n  test %rdx, %rdx\n  jz 2f\n"
        "  addl $1, -8(%rbp)\n" /* only when cond != 0 */
        "2:\n  inc %rcx\n  cmp %rsi, %rcx\n  jl 1b\n  pop %rbp\n  ret\n");

int main(void)
{
  long psz = sysconf(_SC_PAGESIZE);
  char *m = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    return 2;
  munmap(m, psz); /* [m, m + psz) unmapped */
  char *base = m + psz;
  long r = 0;
  for (int k = 0; k < 50; k++)
    r += rbp_loop(base + 64, 1000, 1); /* hot; writes base + 56 */
  for (int k = 0; k < 50; k++)
    r += rbp_loop(base, 1000, 0); /* never touches base - 8 (unmapped) */
  printf("r=%ld\n", r);
  printf("%s\n", r == 49950000 ? "ok" : "FAILED");
  return r != 49950000;
}
