/* Loops that address memory shared with another process through rbp (as
 * -O2 code and assembly may, rbp being a general register there): that
 * memory is not the loop's own, so an optimized trace must not keep it in
 * registers. A child waits for a word its parent sets (the loop only reads
 * it), and a child counts in four words its parent samples (the loop only
 * writes them back if its stores are not deferred). The trace's entry
 * finds rbp outside the stack and the trace is rebuilt unoptimized.
 * Self-checking: "ok" or "FAILED". */
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* rbp = p; counts turns until [rbp-8] is not 0 */
long wait_word(long *p);
/* rbp = p; adds 1, 2, 3, 4 to [rbp-8], [rbp-16], [rbp-24], [rbp-32] n times */
long count_words(long *p, long n);
__asm__(".text\n"
        ".globl wait_word\nwait_word:\n"
        "  push %rbp\n  mov %rdi, %rbp\n  xor %eax, %eax\n"
        "1: add $1, %rax\n  cmpq $0, -8(%rbp)\n  je 1b\n"
        "  pop %rbp\n  ret\n"
        ".globl count_words\ncount_words:\n"
        "  push %rbp\n  mov %rdi, %rbp\n  xor %ecx, %ecx\n"
        "2: addq $1, -8(%rbp)\n  addq $2, -16(%rbp)\n  addq $3, -24(%rbp)\n  addq $4, -32(%rbp)\n"
        "  inc %rcx\n  cmp %rsi, %rcx\n  jne 2b\n"
        "  mov -8(%rbp), %rax\n  pop %rbp\n  ret\n");

int main(void)
{
  volatile long *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED)
    return 1;
  pid_t c = fork();
  if (c == 0)
    _exit(wait_word((long *)sh + 2) > 0 ? 0 : 1); /* waits for sh[1] */
  usleep(100000);
  sh[1] = 1;
  int st;
  waitpid(c, &st, 0);
  check("a loop sees its parent's store", WIFEXITED(st) && WEXITSTATUS(st) == 0, 1);

  c = fork();
  if (c == 0) {
    count_words((long *)sh + 8, 4000000000L); /* counts in sh[4..7] */
    _exit(0);
  }
  long seen = 0;
  for (int i = 0; i < 100 && seen < 1000000; i++) {
    usleep(10000);
    seen = sh[7];
  }
  kill(c, SIGKILL);
  waitpid(c, NULL, 0);
  check("the parent sees the loop's stores", seen >= 1000000, 1);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
