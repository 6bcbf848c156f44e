#define _GNU_SOURCE
/* Attacks on deferred stores (--opt=2): loop traces whose written locals
 * live in registers only while the loop runs and are stored back at its
 * exits. Wherever the guest can look, memory must be what native
 * execution leaves:
 *   - a SIGFPE (division by a local that reaches 0) inside the loop: the
 *     handler reads the loop's locals through pointers, then siglongjmps out;
 *   - a SIGSEGV by a store through NULL inside the loop (the same checks);
 *   - the same fault inside a function the loop calls (its trace inlines
 *     the call: rbp is the callee's when it faults);
 *   - a double accumulator (xmm register) seen by a SIGFPE handler;
 *   - a timer handler that reads the counter (it must match a global the
 *     loop writes every turn) and stops the loop by changing a local the
 *     loop only reads (promoted too: seen when the trace is entered again);
 *     its first tick comes before the loop runs, when it must look at
 *     nothing (the loop's locals do not exist yet);
 *   - a local written through a pointer every 1000th turn (a checked store
 *     that hits: the slots are stored back before it and loaded after it).
 * Self-checking: "ok" or "FAILED". */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "check.h"

/* The handlers reach the running loop's locals through these globals,
 * which the loops set and nothing uses after they return. */
#pragma GCC diagnostic ignored "-Wdangling-pointer"

static sigjmp_buf env;
static volatile long *g_i, *g_s;     /* the running loop's locals */
static volatile double *g_acc;
static volatile long seen_i, seen_s; /* what the fault handler saw */
static volatile double seen_acc;

static void on_fault(int sig)
{
  (void)sig;
  seen_i = *g_i;
  seen_s = *g_s;
  if (g_acc)
    seen_acc = *g_acc;
  siglongjmp(env, 1);
}

/* i and s are written every turn, d only read; d - i reaches 0 at turn k. */
__attribute__((noinline)) static long div_loop(long n, long k)
{
  volatile long s = 0, i, d = k; /* volatile: in memory at -O2 too */
  g_i = &i;
  g_s = &s;
  for (i = 0; i < n; i++)
    s += 1000000 / (d - i); /* SIGFPE at i == k */
  return s;
}

static int sink;
static int *const targets[2] = {NULL, &sink};

/* The same with a store through NULL at turn k, on the trace's path (no
 * branch: `i != k` is a value). Its load of the pointer is checked, so the
 * loop writes enough locals for deferring to pay. */
__attribute__((noinline)) static long store_loop(long n, long k)
{
  volatile long s = 0, i, a = 0, b = 0, c = 0;
  g_i = &i;
  g_s = &s;
  for (i = 0; i < n; i++) {
    s += i * 3;
    a += 1;
    b += 2;
    c += 3;
    *targets[i != k] = 1;
  }
  return s + a + b + c;
}

__attribute__((noinline)) static long divide(long a, long b) { return a / b; }

/* The fault inside a call the loop's trace inlines. */
__attribute__((noinline)) static long call_loop(long n, long k)
{
  volatile long s = 0, i;
  g_i = &i;
  g_s = &s;
  for (i = 0; i < n; i++)
    s += divide(7000000, k - i);
  return s;
}

/* A double accumulator (xmm) and an integer divisor that reaches 0. */
__attribute__((noinline)) static double acc_loop(long n, long k)
{
  volatile double acc = 0.5;
  volatile long s = 0, i;
  g_i = &i;
  g_s = &s;
  g_acc = &acc;
  for (i = 0; i < n; i++) {
    acc += 0.25;
    s += 100 / (k - i);
  }
  return acc;
}

static volatile long mirror; /* the loop's counter, as a global */
/* tick_loop's locals while its frame exists, else NULL (the timer fires
 * before it runs: natively too, when the thread is descheduled right
 * after setitimer). Volatile pointers: published after the locals are set. */
static volatile long *volatile t_i, *volatile t_s, *volatile t_limit;
static volatile long ticks, idle_ticks, bad_ticks, seen_progress;

static void on_tick(int sig)
{
  (void)sig;
  volatile long *pi = t_i, *ps = t_s, *plimit = t_limit;
  if (!pi || !ps || !plimit) {
    idle_ticks++;
    return;
  }
  long i = *pi, m = mirror, s = *ps;
  /* Between `mirror = i` and `i++` the two are equal; after, one apart. */
  if (i != m && i != m + 1)
    bad_ticks++;
  /* s is the sum of 0..m or of 0..m-1 (before its own update). */
  if (s != m * (m + 1) / 2 && s != m * (m - 1) / 2)
    bad_ticks++;
  if (i > 0)
    seen_progress = 1;
  if (++ticks == 5)
    *plimit = 0; /* stop the loop */
}

__attribute__((noinline)) static long tick_loop(void)
{
  volatile long s = 0, i = 0, limit = 4000000000L;
  t_i = &i;
  t_s = &s;
  t_limit = &limit;
  while (i < limit) {
    mirror = i;
    s += i;
    i++;
  }
  long n = i;
  t_limit = NULL; /* the timer goes on firing after this frame is gone */
  t_s = t_i = NULL;
  return n;
}

/* A local written through a pointer every 1000th turn. */
__attribute__((noinline)) static long pointer_loop(long n)
{
  long s = 0, x = 0, i;
  long *p = &x;
  for (i = 0; i < n; i++) {
    x += 2;
    if (i % 1000 == 0)
      *p += 5;
    s += x;
  }
  return s;
}

static long triangle(long k) { return k * (k - 1) / 2; }

int main(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);

  /* div_loop: at i == k the sum holds turns 0..k-1. */
  long k = 300000;
  volatile long want = 0; /* across sigsetjmp */
  for (long i = 0; i < k; i++)
    want += 1000000 / (k - i);
  if (!sigsetjmp(env, 1))
    check("div_loop returned", (uint64_t)div_loop(k + 10, k), 0);
  check("div_loop: i at the SIGFPE", (uint64_t)seen_i, (uint64_t)k);
  check("div_loop: s at the SIGFPE", (uint64_t)seen_s, (uint64_t)want);

  k = 400000;
  if (!sigsetjmp(env, 1))
    check("store_loop returned", (uint64_t)store_loop(k + 10, k), 0);
  check("store_loop: i at the SIGSEGV", (uint64_t)seen_i, (uint64_t)k);
  check("store_loop: s at the SIGSEGV", (uint64_t)seen_s, (uint64_t)(3 * (triangle(k) + k)));

  k = 200000;
  want = 0;
  for (long i = 0; i < k; i++)
    want += 7000000 / (k - i);
  if (!sigsetjmp(env, 1))
    check("call_loop returned", (uint64_t)call_loop(k + 10, k), 0);
  check("call_loop: i at the SIGFPE in the callee", (uint64_t)seen_i, (uint64_t)k);
  check("call_loop: s at the SIGFPE in the callee", (uint64_t)seen_s, (uint64_t)want);

  k = 250000;
  want = 0;
  for (long i = 0; i < k; i++)
    want += 100 / (k - i);
  if (!sigsetjmp(env, 1))
    check("acc_loop returned", (uint64_t)acc_loop(k + 10, k), 0);
  check("acc_loop: i at the SIGFPE", (uint64_t)seen_i, (uint64_t)k);
  check("acc_loop: s at the SIGFPE", (uint64_t)seen_s, (uint64_t)want);
  /* turn k added its 0.25 before its division faulted */
  check("acc_loop: acc at the SIGFPE (x4)", (uint64_t)(seen_acc * 4), (uint64_t)(2 + k + 1));
  g_acc = NULL;

  sa.sa_handler = on_tick;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval tv = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &tv, NULL);
  while (!idle_ticks) /* as when the thread is descheduled here */
    ;
  long stopped = tick_loop();
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  check("tick_loop stopped by its handler", stopped > 0 && ticks >= 5, 1);
  check("tick_loop: handler saw the counter move", (uint64_t)seen_progress, 1);
  check("tick_loop: handler saw inconsistent locals", (uint64_t)bad_ticks, 0);

  long n = 500000, x = 0, s = 0;
  for (long i = 0; i < n; i++) {
    x += 2;
    if (i % 1000 == 0)
      x += 5;
    s += x;
  }
  check("pointer_loop", (uint64_t)pointer_loop(n), (uint64_t)s);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
