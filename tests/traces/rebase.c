/* Folded addresses over a loop counter that the loop then increments
 * (--opt=2): GCC -O0 leaves `i*4` or `i*8` in rdx from `a[i]` when `i++`
 * (or `i += 3`, `i--`) changes i's register; the fold pass keeps rdx
 * pending as the new i's multiple minus the step instead of computing it
 * in the loop. Right after each loop, inline asm reads rdx, rcx and rax as
 * the loop left them: the output must be the native one (compared by the
 * differential test), and the sums are checked. */
#include <stdint.h>
#include <stdio.h>

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
  for (int round = 0; round < 3; round++) {
    check("up", (uint64_t)up(N), (uint64_t)r_up);
    check("step3", (uint64_t)step3(N), (uint64_t)r_step);
    check("down", (uint64_t)down(N), (uint64_t)r_down);
    check("int", (uint64_t)int_index(N), (uint64_t)r_int);
  }
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
