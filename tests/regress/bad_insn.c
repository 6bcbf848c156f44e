/* bad_insn: an undecodable instruction (0x06, push %es, invalid in 64-bit
 * mode) must raise SIGILL in the guest at the instruction's address (si_addr
 * and the handler's rip), and a handler must be able to siglongjmp out.  ud2
 * (decodable, but raising #UD when run) must do the same; its si_addr is
 * checked in fault_si_addr.c.
 *
 * Guards against: hotpath's decoder giving up on the byte with an internal
 * error (or skipping it) instead of delivering the guest's SIGILL. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile int signo;
static volatile uintptr_t fault_addr, fault_rip;

static void handler(int s, siginfo_t *si, void *ucv)
{
  ucontext_t *uc = ucv;
  signo = s;
  fault_addr = (uintptr_t)si->si_addr;
  fault_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  siglongjmp(jb, 1);
}

static volatile uintptr_t where;

static void report(const char *what, int with_addr)
{
  printf("%s: caught signal %d (SIGILL: %d), rip is the instruction: %d", what, signo, signo == SIGILL,
         fault_rip == where);
  if (with_addr)
    printf(", si_addr is the instruction: %d", fault_addr == where);
  putchar('\n');
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGILL, &sa, NULL);

  if (sigsetjmp(jb, 1) == 0) {
    uintptr_t a;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "mov %0, %1\n"
                     "1:\n\t"
                     ".byte 0x06"
                     : "=&r"(a), "=m"(where));
    puts("0x06: no fault");
    return 1;
  }
  report("0x06 (push %es)", 1);

  if (sigsetjmp(jb, 1) == 0) {
    uintptr_t a;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "mov %0, %1\n"
                     "1:\n\t"
                     "ud2"
                     : "=&r"(a), "=m"(where));
    puts("ud2: no fault");
    return 1;
  }
  report("ud2", 0);
  return 0;
}
