/* The status flags a SIGSEGV handler sees when the first store of a loop's
 * local faults (its stack page made read-only) after the loop ran hot:
 * the optimized trace's entry loads and stores that local once, faults
 * there and is left (deopt); the guest, run again up to its own store,
 * must show the handler the flags of its last compare, not what the
 * entry's checks left (found in review: `add`/`sub`/`js` checks and the
 * globals' span check ran where the flags were dead only if promoted
 * accesses could not fault). work() keeps its bound in a local, work2()
 * reads it through a global pointer (the span check of globals). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static volatile uintptr_t page;
static long zero;
static long *zp = &zero;
static volatile int faults;
static volatile long efl_seen = -1;

static void h(int sig, siginfo_t *si, void *uc_)
{
  ucontext_t *uc = uc_;
  (void)sig;
  (void)si;
  efl_seen = uc->uc_mcontext.gregs[REG_EFL] & 0x8d5; /* CF PF AF ZF SF OF */
  faults++;
  mprotect((void *)page, 4096, PROT_READ | PROT_WRITE);
}

__attribute__((noinline)) static long work(long n, int prot)
{
  long s = 0;
  long i = 0;
  long *p = &zero;
  volatile char pad[3 * 4096];
  pad[0] = 1;
  if (prot) {
    page = ((uintptr_t)&s) & ~(uintptr_t)4095;
    mprotect((void *)page, 4096, PROT_READ);
  }
  for (; i < n + *p; i++)
    s = i;
  return s + pad[0];
}

__attribute__((noinline)) static long work2(long n, int prot)
{
  long s = 0;
  long i = 0;
  volatile char pad[3 * 4096];
  pad[0] = 1;
  if (prot) {
    page = ((uintptr_t)&s) & ~(uintptr_t)4095;
    mprotect((void *)page, 4096, PROT_READ);
  }
  for (; i < n + *zp; i++)
    s = i;
  return s + pad[0];
}

/* The flags at the fault: the -O0 loop's last compare of i with n. (-O2
 * code faults elsewhere, after flags that depend on addresses: not
 * printed.) */
static long flags_shown(void)
{
#ifdef __OPTIMIZE__
  return 0;
#else
  return efl_seen;
#endif
}

int main(void)
{
  /* The handler on a stack of its own: where the compiler puts s (-O2),
   * the page made read-only may be the one rsp points into. */
  static char altstack[64 * 1024];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, 0);
  long t = 0;
  for (int k = 0; k < 200; k++)
    t += work(10000, 0);
  t += work(100, 1);
  printf("work: t=%ld faults=%d efl=%#lx\n", t, faults, flags_shown());
  faults = 0;
  efl_seen = -1;
  t = 0;
  for (int k = 0; k < 200; k++)
    t += work2(10000, 0);
  t += work2(100, 1);
  printf("work2: t=%ld faults=%d efl=%#lx\n", t, faults, flags_shown());
  return 0;
}
