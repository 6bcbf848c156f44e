/* Folded addresses over a loop counter that the loop then increments
 * (--opt=2): GCC -O0 leaves `i*4` or `i*8` in rdx from `a[i]` when `i++`
 * (or `i += 3`, `i--`) changes i's register; the fold pass keeps rdx
 * pending as the new i's multiple minus the step instead of computing it
 * in the loop. Right after each loop, inline asm reads rdx, rcx and rax as
 * the loop left them: the output must be the native one (compared by the
 * differential test), and the sums are checked. A fault right after an
 * increment shows its handler rdx rebuilt from the rebased expression. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#include "check.h"

#define N 100000

static int a32[N];
static long a64[N];

/* (Only at -O0, where they hold indices: optimized code keeps the arrays'
 * addresses there, which differ between runs of a PIE.) */
#ifdef __OPTIMIZE__
#define REGS(tag) ((void)(tag))
#else
#define REGS(tag)                                                                                                     \
  do {                                                                                                                \
    uint64_t rdx_, rcx_, rax_;                                                                                        \
    __asm__ volatile("mov %%rdx, %0\n\tmov %%rcx, %1\n\tmov %%rax, %2" : "=m"(rdx_), "=m"(rcx_), "=m"(rax_));        \
    printf("%s: rdx %llx rcx %llx rax %llx\n", tag, (unsigned long long)rdx_, (unsigned long long)rcx_,              \
           (unsigned long long)rax_);                                                                                 \
  } while (0)
#endif

__attribute__((noinline)) static long up(long n)
{
  long s = 0;
  long i;
  for (i = 0; i < n; i++)
    s += a32[i] * (n - i) + (a32[i] & 255);
  REGS("up");
  return s;
}

__attribute__((noinline)) static long step3(long n)
{
  long s = 0;
  long i;
  for (i = 1; i < n; i += 3)
    s += a64[i] + a64[i - 1];
  REGS("step3");
  return s;
}

__attribute__((noinline)) static long down(long n)
{
  long s = 0;
  long i;
  for (i = n - 1; i >= 0; i--)
    s ^= a64[i] + (long)a32[i] * 3;
  REGS("down");
  return s;
}

__attribute__((noinline)) static long int_index(int n)
{
  long s = 0;
  int i;
  for (i = 0; i < n; i++)
    s += a32[i] - a64[i];
  REGS("int");
  return s;
}

/* A fault right after the increment (a null pointer read through q[]):
 * the handler sees rdx as the loop left it, i*4 of the element just added
 * (pending in the trace as the new i's multiple minus 4: the recovery
 * record rebuilds it), and jumps out of the loop. */
static sigjmp_buf out;
static volatile uint64_t seen_rdx, seen_rax;
static void on_segv(int sig, siginfo_t *si, void *uc_)
{
  (void)sig;
  (void)si;
  ucontext_t *uc = uc_;
  seen_rdx = (uint64_t)uc->uc_mcontext.gregs[REG_RDX];
  seen_rax = (uint64_t)uc->uc_mcontext.gregs[REG_RAX];
  siglongjmp(out, 1);
}

__attribute__((noinline)) static long fault_after_increment(long n, long bad)
{
  static long one = 1;
  long *q[8];
  for (int k = 0; k < 8; k++)
    q[k] = &one;
  uint64_t s = 0; /* (not read after the jump: not volatile, so -O0 adds to it in memory) */
  volatile long t = 0;
  long i = 0;
  if (sigsetjmp(out, 1)) {
    q[bad & 7] = &one;
    return t;
  }
  while (i < n) {
    s += ((const uint32_t *)a32)[i] & 255u;
    i++;
    if (i == bad)
      q[i & 7] = NULL;
    t += *q[i & 7];
  }
  return (long)s;
}

int main(void)
{
  uint64_t st = 12345;
  for (long i = 0; i < N; i++) {
    a32[i] = (int)(xs(&st) % 100000) - 50000;
    a64[i] = (long)(xs(&st) % 1000000007);
  }
  long r_up = 0, r_step = 0, r_down = 0, r_int = 0;
  for (long i = 0; i < N; i++) {
    r_up += a32[i] * (N - i) + (a32[i] & 255);
    r_down ^= a64[N - 1 - i] + (long)a32[N - 1 - i] * 3;
    r_int += a32[i] - a64[i];
  }
  for (long i = 1; i < N; i += 3)
    r_step += a64[i] + a64[i - 1];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  for (long bad = N - 5; bad < N; bad += 2) {
    long r = fault_after_increment(N, bad);
#ifdef __OPTIMIZE__
    seen_rdx = seen_rax = 0; /* (addresses in optimized code) */
#endif
    printf("fault at %ld: %ld, rdx %llx rax %llx\n", bad, r, (unsigned long long)seen_rdx,
           (unsigned long long)seen_rax);
  }
  for (int round = 0; round < 3; round++) {
    check("up", (uint64_t)up(N), (uint64_t)r_up);
    check("step3", (uint64_t)step3(N), (uint64_t)r_step);
    check("down", (uint64_t)down(N), (uint64_t)r_down);
    check("int", (uint64_t)int_index(N), (uint64_t)r_int);
  }
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
