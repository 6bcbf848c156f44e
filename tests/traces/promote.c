#define _GNU_SOURCE
/* Attacks on register promotion (--opt=2): leaf loops whose locals live in
 * registers while the trace runs. A local written through a pointer inside
 * the loop (every turn, and every k-th turn), a local read through a
 * pointer, a slot accessed at two sizes, a stack array next to promoted
 * scalars, a SIGSEGV inside an optimized loop whose handler checks the
 * callee-saved registers (the ones promotion takes) and the locals in
 * memory (through pointers), then siglongjmps out and the locals are read
 * again, a timer signal whose handler changes a local through a pointer,
 * inline assembly that clobbers registers promotion would take, a
 * variable-length array in a loop. Self-checking: "ok" or "FAILED". */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

#include "check.h"

#define N 300000

__attribute__((noinline)) static long write_through_pointer(int n)
{
  long s = 0;
  int x = 0;
  int *p = &x;
  for (int i = 0; i < n; i++) {
    s += x;
    *p += 3; /* x through a pointer: the promoted x must see it */
    x++;
  }
  return s + x;
}

__attribute__((noinline)) static long write_through_pointer_sometimes(int n, int k)
{
  long s = 0;
  int x = 0;
  int *p = &x;
  for (int i = 0; i < n; i++) {
    s += x;
    if (i % k == 0)
      *p = *p + i;
    x++;
  }
  return s + x;
}

__attribute__((noinline)) static long read_through_pointer(int n)
{
  long s = 0, t = 0;
  long *q = &t;
  for (int i = 0; i < n; i++) {
    t += i;
    s += *q; /* the promoted t read through memory */
  }
  return s;
}

__attribute__((noinline)) static long two_sizes(int n)
{
  union {
    long l;
    int h[2];
  } u;
  u.l = 0;
  long s = 0;
  for (int i = 0; i < n; i++) {
    u.h[0] += 1;
    s += u.l & 0xffff;
  }
  return s + u.l;
}

__attribute__((noinline)) static long array_and_scalars(int n)
{
  int a[16];
  long s = 0;
  memset(a, 0, sizeof a);
  for (int i = 0; i < n; i++) {
    a[i & 15] += i;
    s += a[(i * 7) & 15];
  }
  return s;
}

/* A SIGSEGV in an optimized loop. */
static sigjmp_buf jb;
static long *volatile g_s, *volatile g_i;
static volatile long seen_s, seen_i;
static volatile uint64_t want_regs[5], got_regs[5];
static long *ptrs[N];
static long ones = 1;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
  (void)sig;
  (void)si;
  ucontext_t *uc = ucv;
  got_regs[0] = (uint64_t)uc->uc_mcontext.gregs[REG_RBX];
  got_regs[1] = (uint64_t)uc->uc_mcontext.gregs[REG_R12];
  got_regs[2] = (uint64_t)uc->uc_mcontext.gregs[REG_R13];
  got_regs[3] = (uint64_t)uc->uc_mcontext.gregs[REG_R14];
  got_regs[4] = (uint64_t)uc->uc_mcontext.gregs[REG_R15];
  seen_s = *g_s; /* the locals as memory holds them at the fault */
  seen_i = *g_i;
  siglongjmp(jb, 1);
}

__attribute__((noinline)) static long fault_loop(int fault_at)
{
  long s = 0, i = 0;
  g_s = &s;
  g_i = &i;
  __asm__ volatile("mov %%rbx, %0\n mov %%r12, %1\n mov %%r13, %2\n mov %%r14, %3\n mov %%r15, %4"
                   : "=m"(want_regs[0]), "=m"(want_regs[1]), "=m"(want_regs[2]), "=m"(want_regs[3]),
                     "=m"(want_regs[4]));
  ptrs[fault_at] = NULL;
  if (sigsetjmp(jb, 1) == 0) {
    for (i = 0; i < N; i++)
      s += *ptrs[i];
  }
  ptrs[fault_at] = &ones;
  return s * 1000000 + i; /* read after the jump: memory */
}

/* A timer signal whose handler reads a promoted local and changes another
 * one through pointers: the loop runs until its limit, a local, drops. */
static long *volatile g_cnt, *volatile g_limit;
static volatile long seen_cnt;
static void on_alarm(int sig)
{
  (void)sig;
  long *cnt = g_cnt, *limit = g_limit; /* NULL once the loop's frame is gone */
  if (cnt && limit && *cnt > 1000) {
    seen_cnt = *cnt;
    *limit = 0;
  }
}

__attribute__((noinline)) static long spin_until_handler(void)
{
  volatile long cnt = 0, limit = 1000000000000L; /* volatile: -O2 keeps the loop */
  g_cnt = (long *)&cnt;
  g_limit = (long *)&limit;
  seen_cnt = 0;
  while (cnt < limit)
    cnt++;
  g_cnt = g_limit = NULL; /* the timer goes on firing after this frame is gone */
  return cnt < 1000000000000L && seen_cnt > 1000 && seen_cnt <= cnt;
}

__attribute__((noinline)) static long clobbers(int n)
{
  long s = 0, t = 1;
  for (int i = 0; i < n; i++) {
    __asm__ volatile("xor %%r15d, %%r15d\n mov $7, %%r14d\n mov %%r14, %%r13" ::: "r13", "r14", "r15");
    s += i ^ t;
    t = t * 3 + 1;
  }
  return s;
}

__attribute__((noinline)) static long vla_loop(int n)
{
  long s = 0;
  for (int i = 0; i < n; i++) {
    int m = (i & 7) + 1;
    int v[m];
    for (int k = 0; k < m; k++)
      v[k] = i + k;
    s += v[m - 1];
  }
  return s;
}

int main(void)
{
  check("write through pointer", (uint64_t)write_through_pointer(N), 4 * (uint64_t)N * (N - 1) / 2 + 4 * (uint64_t)N);
  long w = 0, x = 0;
  for (int i = 0; i < N; i++) {
    w += x;
    if (i % 97 == 0)
      x += i;
    x++;
  }
  check("write through pointer sometimes", (uint64_t)write_through_pointer_sometimes(N, 97), (uint64_t)(w + x));
  long r = 0, t = 0;
  for (int i = 0; i < N; i++) {
    t += i;
    r += t;
  }
  check("read through pointer", (uint64_t)read_through_pointer(N), (uint64_t)r);
  long ts = 0;
  for (long i = 1; i <= N; i++)
    ts += i & 0xffff;
  check("two sizes", (uint64_t)two_sizes(N), (uint64_t)(ts + N));
  int a[16] = {0};
  long as = 0;
  for (int i = 0; i < N; i++) {
    a[i & 15] += i;
    as += a[(i * 7) & 15];
  }
  check("array and scalars", (uint64_t)array_and_scalars(N), (uint64_t)as);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  for (int i = 0; i < N; i++)
    ptrs[i] = &ones;
  for (int round = 0; round < 3; round++) {
    int at = 100000 + round * 50000;
    long got = fault_loop(at);
    check("fault: locals after the jump", (uint64_t)got, (uint64_t)at * 1000000 + (uint64_t)at);
    check("fault: s in memory at the fault", (uint64_t)seen_s, (uint64_t)at);
    check("fault: i in memory at the fault", (uint64_t)seen_i, (uint64_t)at);
    int same = 1;
    for (int k = 0; k < 5; k++)
      same &= got_regs[k] == want_regs[k];
    check("fault: callee-saved registers", (uint64_t)same, 1);
  }

  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &it, NULL);
  for (int round = 0; round < 3; round++)
    check("timer handler changed the local", (uint64_t)spin_until_handler(), 1);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);

  long cs = 0, ct = 1;
  for (int i = 0; i < N; i++) {
    cs += i ^ ct;
    ct = ct * 3 + 1;
  }
  check("inline asm clobbers", (uint64_t)clobbers(N), (uint64_t)cs);
  long vs = 0;
  for (int i = 0; i < N; i++)
    vs += i + (i & 7);
  check("variable-length array", (uint64_t)vla_loop(N), (uint64_t)vs);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
