/* More attacks on register promotion (--opt=2), from a review of the pass:
 * another thread that waits on a local the loop writes (started last: the
 * optimized loops are dropped when the second thread starts, which
 * tests/counters checks), a bit test
 * with a register bit offset that writes the slot next to its operand, a
 * loop with more written locals than free registers beside a global (the
 * rip-relative rewrite still needs a scratch: --debug-far-cache), a
 * SIGFPE handler that changes a promoted divisor through a pointer, and an
 * indirect call whose target changes five times (its trace is dropped and
 * rebuilt). Self-checking: "ok" or "FAILED". */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static volatile int flag;
static void *watch(void *arg)
{
  volatile long *p = arg;
  while (*p < 1000000)
    ;
  flag = 1;
  return NULL;
}

__attribute__((noinline)) static int watched_progress(void)
{
  volatile long progress = 0;
  pthread_t th;
  flag = 0;
  if (pthread_create(&th, NULL, watch, (void *)&progress) != 0)
    return -1;
  while (!flag)
    progress++;
  pthread_join(th, NULL);
  return progress >= 1000000;
}

__attribute__((noinline)) static long bit_test(void)
{
  struct {
    int y, i; /* bit 32 of y is bit 0 of i */
  } s = {0, 0};
  int x = 0;
  for (s.i = 0; s.i < 100000; s.i++) {
    x += 2;
    __asm__ volatile("btsl %1, %0" : "+m"(s.y) : "r"(32) : "cc", "memory"); /* i |= 1 */
  }
  return (long)x * 1000 + s.y; /* 50000 turns */
}

static int g;
__attribute__((noinline)) static long many_locals(void)
{
  int a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, h = 0, i2 = 0, j = 0, k = 0, l = 0, i;
  for (i = 0; i < 100000; i++) {
    a += 1; b += 2; c += 3; d += 4; e += 5; f += 6; h += 7; i2 += 8; j += 9; k += 10; l += 11;
    g++;
  }
  return (long)a + b + c + d + e + f + h + i2 + j + k + l + g;
}

static volatile int *pd;
static volatile long *ps;
static long seen_s = -1;
static void on_fpe(int sig)
{
  (void)sig;
  seen_s = *ps; /* the sum as memory holds it at the fault */
  *pd = 7;      /* the divisor, changed through a pointer: the division is retried */
}

__attribute__((noinline)) static long divide_loop(void)
{
  volatile long s = 0; /* volatile: in memory at -O2 too, where the handler reads it */
  int d = 5, q = 0;
  pd = &d;
  ps = (volatile long *)&s;
  for (int i = 0; i < 200000; i++) {
    int a = i;
    __asm__ volatile("cltd; idivl %1" : "+a"(a) : "m"(d) : "rdx", "cc");
    q = a;
    s += q;
    if (i == 150000)
      d = 0;
  }
  return s * 10 + d;
}

static long f0(long x) { return x + 1; }
static long f1(long x) { return x + 2; }
static long f2(long x) { return x + 3; }
static long f3(long x) { return x + 4; }
static long f4(long x) { return x + 5; }
static long f5(long x) { return x + 6; }
static long (*volatile fs[6])(long) = {f0, f1, f2, f3, f4, f5};

__attribute__((noinline)) static long phases(void)
{
  long s = 0;
  for (int p = 0; p < 6; p++) {
    long (*fn)(long) = fs[p];
    for (int i = 0; i < 300000; i++)
      s = fn(s);
  }
  return s;
}

int main(void)
{
  check("bit test next to a slot", (uint64_t)bit_test(), 100000000ull);
  check("many locals and a global", (uint64_t)many_locals(), 6600000ull + 100000);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fpe;
  sigaction(SIGFPE, &sa, NULL);
  long want = 0;
  for (int i = 0; i <= 150000; i++)
    want += i / 5;
  long at_fault = want;
  for (int i = 150001; i < 200000; i++)
    want += i / 7;
  check("divisor changed by a SIGFPE handler", (uint64_t)divide_loop(), (uint64_t)(want * 10 + 7));
  check("sum in memory at the SIGFPE", (uint64_t)seen_s, (uint64_t)at_fault);
  check("target changed five times", (uint64_t)phases(), 300000ull * 21);
  /* Threads last: once there are two, hotpath optimizes no more traces. */
  check("another thread sees the loop's local", (uint64_t)watched_progress(), 1);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
