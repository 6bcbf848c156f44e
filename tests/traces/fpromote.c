/* Float and double locals in optimized loops (--opt=2 keeps the ones a
 * loop writes in xmm registers): accumulators read by movsd/movss,
 * comisd/ucomiss, conversions and arithmetic with a memory operand; a
 * double written through a pointer inside the loop (the store check); a
 * SIGSEGV in an optimized loop whose handler checks the xmm registers the
 * loop did not name (the optimizer's) and the local in memory; a timer
 * handler that changes a double local through a pointer; a float loop in
 * a nested loop (the trace is left and entered again many times).
 * Results are compared bit for bit with the same computation through
 * volatile memory (the same operations in the same order). */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

#include "check.h"

#define N 200000

static double da[N], db[N];
static float fa[N];

static uint64_t bits(double d)
{
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}

/* s and k live in registers: movsd load/store, addsd, ucomisd, cvttsd2si. */
__attribute__((noinline)) static double dot(long n, long *big)
{
  double s = 0, m = 0;
  long k;
  *big = 0;
  for (k = 0; k < n; k++) {
    s += da[k] * db[k];
    if (s > m) /* comisd against a promoted slot */
      m = s;
    *big += (long)s & 7;
  }
  return s + m;
}

static double dot_ref(long n, long *big)
{
  volatile double s = 0, m = 0;
  *big = 0;
  for (long k = 0; k < n; k++) {
    s = s + da[k] * db[k];
    if (s > m)
      m = s;
    *big += (long)s & 7;
  }
  return s + m;
}

/* A float accumulator, sqrt/min/max through memory, a float -> double. */
__attribute__((noinline)) static double floats(long n)
{
  float f = 1.0f, g = 0.0f;
  double d = 0;
  for (long i = 0; i < n; i++) {
    f = f * 0.999f + fa[i];
    if (f > 1000.0f)
      f -= 999.0f;
    g = g < f ? f : g;
    d += f;
  }
  return d + g;
}

static double floats_ref(long n)
{
  volatile float f = 1.0f, g = 0.0f;
  volatile double d = 0;
  for (long i = 0; i < n; i++) {
    f = f * 0.999f + fa[i];
    if (f > 1000.0f)
      f = f - 999.0f;
    g = g < f ? f : g;
    d = d + f;
  }
  return d + g;
}

/* A store through a pointer that hits the accumulator, every 1000th time. */
__attribute__((noinline)) static double aliased(long n, double *volatile *pp)
{
  double s = 0;
  double other = 0;
  *pp = &other;
  for (long i = 0; i < n; i++) {
    s += da[i];
    double *p = (i % 1000 == 999) ? &s : &other;
    *p *= 0.5;
  }
  return s + other;
}

static double aliased_ref(long n)
{
  volatile double s = 0, other = 0;
  for (long i = 0; i < n; i++) {
    s = s + da[i];
    if (i % 1000 == 999)
      s = s * 0.5;
    else
      other = other * 0.5;
  }
  return s + other;
}

/* A SIGSEGV inside an optimized double loop. */
static sigjmp_buf jb;
static double *volatile g_s;
static volatile double seen_s;
static volatile uint64_t got_x[3], seen_valid;
static double *ptrs[N];
static double one = 1.0;
static const uint64_t magic[3] = {0x1111222233334444ull, 0x5555666677778888ull, 0x9999aaaabbbbccccull};

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
  (void)sig;
  (void)si;
  ucontext_t *uc = ucv;
  if (uc->uc_mcontext.fpregs) {
    /* xmm12, xmm14, xmm15: low 64 bits */
    memcpy((void *)&got_x[0], &uc->uc_mcontext.fpregs->_xmm[12], 8);
    memcpy((void *)&got_x[1], &uc->uc_mcontext.fpregs->_xmm[14], 8);
    memcpy((void *)&got_x[2], &uc->uc_mcontext.fpregs->_xmm[15], 8);
    seen_valid = 1;
  }
  seen_s = *g_s; /* the local as memory holds it at the fault */
  siglongjmp(jb, 1);
}

__attribute__((noinline)) static double fault_loop(int fault_at)
{
  double s = 0;
  long i = 0;
  g_s = &s;
  ptrs[fault_at] = NULL;
  if (sigsetjmp(jb, 1) == 0) {
    __asm__ volatile("movq %0, %%xmm12\n movq %1, %%xmm14\n movq %2, %%xmm15"
                     :
                     : "r"(magic[0]), "r"(magic[1]), "r"(magic[2])
                     : "xmm12", "xmm14", "xmm15");
    for (i = 0; i < N; i++)
      s += *ptrs[i];
  }
  ptrs[fault_at] = &one;
  return s;
}

/* A timer handler changes the double the loop counts with. */
static double *volatile g_x;
static volatile long ticks;
static void on_alarm(int sig)
{
  (void)sig;
  double *x = g_x;
  if (x && *x > 1000.0) {
    *x = 1e300;
    ticks++;
  }
}

__attribute__((noinline)) static int spin_until_handler(void)
{
  volatile double x = 0, limit = 1e200; /* volatile: -O2 keeps the loop */
  g_x = (double *)&x;
  while (x < limit)
    x += 1.0;
  g_x = NULL;
  return x == 1e300 + 1.0;
}

/* Many short runs of an optimized float loop (entered and left often). */
__attribute__((noinline)) static double nested(int outer, int inner)
{
  double t = 0;
  for (int o = 0; o < outer; o++) {
    float acc = (float)o;
    for (int i = 0; i < inner; i++)
      acc = acc * 0.5f + fa[(o * inner + i) % N];
    t += acc;
  }
  return t;
}

static double nested_ref(int outer, int inner)
{
  volatile double t = 0;
  for (int o = 0; o < outer; o++) {
    volatile float acc = (float)o;
    for (int i = 0; i < inner; i++)
      acc = acc * 0.5f + fa[(o * inner + i) % N];
    t = t + acc;
  }
  return t;
}

int main(void)
{
  uint64_t st = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < N; i++) {
    da[i] = (double)(xs(&st) % 2000) / 1024.0 - 0.9;
    db[i] = (double)(xs(&st) % 2000) / 512.0;
    fa[i] = (float)(xs(&st) % 1000) / 64.0f;
  }

  long big, big_ref;
  double d = dot(N, &big), d_ref = dot_ref(N, &big_ref);
  check("double accumulator", bits(d), bits(d_ref));
  check("double accumulator, converted", (uint64_t)big, (uint64_t)big_ref);
  check("float accumulator", bits(floats(N)), bits(floats_ref(N)));
  double *volatile p = NULL;
  check("store through a pointer into the accumulator", bits(aliased(N, &p)), bits(aliased_ref(N)));
  check("float loop entered many times", bits(nested(20000, 12)), bits(nested_ref(20000, 12)));

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  for (int i = 0; i < N; i++)
    ptrs[i] = &one;
  for (int round = 0; round < 3; round++) {
    int at = 100000 + round * 30000;
    seen_valid = 0;
    double got = fault_loop(at);
    check("fault: local after the jump", bits(got), bits((double)at));
    check("fault: local in memory at the fault", bits(seen_s), bits((double)at));
    check("fault: handler saw the xmm registers", seen_valid, 1);
    check("fault: xmm12", got_x[0], magic[0]);
    check("fault: xmm14", got_x[1], magic[1]);
    check("fault: xmm15", got_x[2], magic[2]);
  }

  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &it, NULL);
  for (int round = 0; round < 3; round++)
    check("timer handler changed the double", (uint64_t)spin_until_handler(), 1);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);

  printf("%s\n", fails ? "FAILED" : "ok");
  return fails ? 1 : 0;
}
