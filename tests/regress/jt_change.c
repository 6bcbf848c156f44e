/* Jump tables that hotpath reads when it translates a switch (the entries
 * become direct jumps to each case): the table rewritten after mprotect
 * must be seen (the translation is flushed), an index past the table goes
 * where natively, the registers and flags the cases see are the guest's,
 * a timer signal reaches a thread spinning through the switch, and a table
 * in writable memory (which can change without a system call) keeps
 * working when it is rewritten. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

/* dispatch(idx, v): a GCC-style position-independent table (entries
 * relative to the table) on a page of its own; each case returns a value
 * of its own from v, and case 3 reports the carry flag the dispatch's add
 * left (the guest's flags at the case). */
long dispatch(long idx, long v);
long dispatch_w(long idx, long v);
extern int32_t jt_ro[8], jt_rw[8];
__asm__(".text\n"
        ".globl dispatch\n"
        "dispatch:\n"
        "  lea jt_ro(%rip), %rdx\n"
        "  movslq (%rdx,%rdi,4), %rax\n"
        "  add %rdx, %rax\n"
        "  jmp *%rax\n"
        "case0: lea 1(%rsi), %rax\n ret\n"
        "case1: lea (%rsi,%rsi,2), %rax\n ret\n"
        "case2: mov %rsi, %rax\n xor $0x5a5a, %rax\n ret\n"
        "case3: setc %al\n movzbl %al, %eax\n lea 1000(%rax,%rsi), %rax\n ret\n"
        "case4: lea -7(%rsi), %rax\n ret\n"
        ".globl dispatch_w\n"
        "dispatch_w:\n"
        "  lea jt_rw(%rip), %rdx\n"
        "  movslq (%rdx,%rdi,4), %rax\n"
        "  add %rdx, %rax\n"
        "  jmp *%rax\n"
        ".section .rodata.jt_ro, \"a\"\n"
        ".p2align 12\n"
        ".globl jt_ro\n"
        "jt_ro:\n"
        "  .long case0 - jt_ro, case1 - jt_ro, case2 - jt_ro, case3 - jt_ro, case4 - jt_ro\n"
        "  .p2align 12\n"
        ".data\n"
        ".globl jt_rw\n"
        "jt_rw:\n"
        "  .long case0 - jt_rw, case1 - jt_rw, case2 - jt_rw, case3 - jt_rw, case4 - jt_rw\n"
        ".text\n");

static volatile sig_atomic_t ticks;
static void on_tick(int sig)
{
  (void)sig;
  ticks++;
}

static long run(long (*f)(long, long), long rounds)
{
  long acc = 1;
  for (long i = 0; i < rounds; i++)
    acc = (f(i % 5, acc) + i) & 0xffffffffffll;
  return acc;
}

int main(void)
{
  long page = sysconf(_SC_PAGESIZE);
  printf("hot: %ld\n", run(dispatch, 200000));
  /* Case 3: the add of the dispatch sets CF when the table's base plus a
   * negative offset wraps (cases lie before the table): the case sees it. */
  printf("flags at the case: %ld\n", dispatch(3, 0));

  /* Rewrite entry 1 to lead to case 2 (the table is read-only: mprotect). */
  void *tp = (void *)((uintptr_t)jt_ro & ~(uintptr_t)(page - 1));
  if (mprotect(tp, (size_t)page, PROT_READ | PROT_WRITE) != 0) {
    perror("mprotect");
    return 1;
  }
  jt_ro[1] = jt_ro[2];
  if (mprotect(tp, (size_t)page, PROT_READ) != 0) {
    perror("mprotect");
    return 1;
  }
  printf("after the rewrite: %ld %ld\n", dispatch(1, 10), run(dispatch, 200000));

  /* A writable table changes with a plain store. */
  printf("writable: %ld\n", run(dispatch_w, 200000));
  jt_rw[0] = jt_rw[4];
  printf("writable rewritten: %ld %ld\n", dispatch_w(0, 10), run(dispatch_w, 200000));

  /* A timer signal reaches a thread that only runs the switch. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_tick;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &it, NULL);
  long acc = 1, spins = 0;
  while (ticks < 20) {
    acc = (dispatch(spins % 5, acc) + spins) & 0xffffffffffll;
    spins++;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("ticks: %d\n", (int)ticks >= 20);
  return 0;
}
