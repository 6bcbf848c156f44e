/* fault_si_addr: for a fault raised by an instruction that hotpath copies
 * into its code cache and runs there -- ud2 (SIGILL, ILL_ILLOPN) and an
 * integer division by zero (SIGFPE, FPE_INTDIV) -- the handler's siginfo
 * must give the guest instruction's address in si_addr, like the rip in its
 * ucontext, never an address inside the code cache.
 *
 * Guards against: hotpath translating the ucontext rip of a fault back to the
 * guest pc but passing the kernel's si_addr (a code cache address) through
 * unchanged. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile int signo, code;
static volatile uintptr_t fault_addr, fault_rip;

static void handler(int s, siginfo_t *si, void *ucv)
{
  ucontext_t *uc = ucv;
  signo = s;
  code = si->si_code;
  fault_addr = (uintptr_t)si->si_addr;
  fault_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  siglongjmp(jb, 1);
}

static volatile uintptr_t where;
static volatile int zero = 0;

static void report(const char *what)
{
  printf("%s: signal %d, si_code %d, rip is the instruction: %d, si_addr is the instruction: %d\n", what, signo,
         code, fault_rip == where, fault_addr == where);
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL);

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
  report("ud2");

  if (sigsetjmp(jb, 1) == 0) {
    uintptr_t a;
    int q = 7, z = zero;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "mov %0, %1\n\t"
                     "cltd\n"
                     "1:\n\t"
                     "idivl %3"
                     : "=&r"(a), "=m"(where), "+a"(q)
                     : "r"(z)
                     : "rdx");
    printf("idiv by zero: no fault (%d)\n", q);
    return 1;
  }
  report("idiv by zero");
  return 0;
}
