#define _GNU_SOURCE
/* Attacks on extended traces (nested loops): a short inner loop's trace
 * takes in the enclosing loop's path back to its head, so both loops run
 * inside one trace, with the inner loop's back edge as a side exit linked
 * to the trace's own loop. Wherever the guest can look, registers and
 * memory must be what native execution leaves:
 *   - a 3x3 filter whose inner loop calls a clamp function (inlined);
 *   - inner trip counts that vary from 0 to 5 (the outer path's test of
 *     the inner loop fails at once);
 *   - the outer path writes the inner loop's sum through a pointer now and
 *     then (a checked store into a promoted slot);
 *   - the outer path's branch flips halfway (after the extension is built);
 *   - a SIGSEGV in the outer path (a store through NULL) whose handler reads
 *     the loops' locals through pointers, then siglongjmps out;
 *   - a timer handler that checks a local against a global the loop writes
 *     every turn and stops the loop through a local the loop only reads;
 *   - longjmp out of the inner loop from a function it calls;
 *   - a call in the outer path (inlined into the extended trace);
 *   - three threads running the same nested loops while their traces are
 *     built, extended and replaced (--opt=1: optimized traces are dropped
 *     once a second thread starts).
 * Self-checking: "ok" or "FAILED". */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "check.h"

#pragma GCC diagnostic ignored "-Wdangling-pointer"

static int clampi(int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* 1: the 3x3 filter. */
static uint64_t filter(int n, int rounds)
{
  static unsigned char img[64 * 64], out[64 * 64];
  uint64_t st = 7;
  for (int i = 0; i < n * n; i++)
    img[i] = (unsigned char)xs(&st);
  uint64_t total = 0;
  for (int r = 0; r < rounds; r++) {
    for (int y = 0; y < n; y++)
      for (int x = 0; x < n; x++) {
        int sum = 0;
        for (int dy = -1; dy <= 1; dy++)
          for (int dx = -1; dx <= 1; dx++)
            sum += (2 - dx * dx - dy * dy + 1) * img[clampi(y + dy, 0, n - 1) * n + clampi(x + dx, 0, n - 1)];
        out[y * n + x] = (unsigned char)(sum >> 4);
        total += (unsigned)sum;
      }
    memcpy(img, out, (size_t)n * n);
  }
  return total;
}

static uint64_t filter_ref(int n, int rounds)
{
  static unsigned char img[64 * 64], out[64 * 64];
  uint64_t st = 7;
  for (int i = 0; i < n * n; i++)
    img[i] = (unsigned char)xs(&st);
  uint64_t total = 0;
  for (int r = 0; r < rounds; r++) {
    for (int k = 0; k < n * n; k++) {
      int y = k / n, x = k % n, sum = 0;
      for (int d = 0; d < 9; d++) {
        int dy = d / 3 - 1, dx = d % 3 - 1;
        int yy = y + dy < 0 ? 0 : y + dy > n - 1 ? n - 1 : y + dy;
        int xx = x + dx < 0 ? 0 : x + dx > n - 1 ? n - 1 : x + dx;
        sum += (3 - dx * dx - dy * dy) * img[yy * n + xx];
      }
      out[k] = (unsigned char)(sum >> 4);
      total += (unsigned)sum;
    }
    memcpy(img, out, (size_t)n * n);
  }
  return total;
}

/* 2, 3, 4: inner trip counts 0-5, a store through a pointer into the
 * inner loop's sum every 97th outer turn, the outer branch flipping at
 * the half. */
static uint64_t varying(long outer, long flip)
{
  long sum = 0, odd = 0;
  long *p = &sum;
  for (long i = 0; i < outer; i++) {
    long m = (i * 7) % 6;
    for (long j = 0; j < m; j++)
      sum += j * 3 + i;
    if (i < flip)
      odd += i & 1;
    else
      odd += 2;
    if (i % 97 == 0)
      *p += 5;
  }
  return (uint64_t)(sum * 31 + odd);
}

static uint64_t varying_ref(long outer, long flip)
{
  long sum = 0, odd = 0;
  for (long i = 0; i < outer; i++) {
    long m = (i * 7) % 6;
    sum += 3 * (m * (m - 1) / 2) + m * i;
    odd += i < flip ? (i & 1) : 2;
    if (i % 97 == 0)
      sum += 5;
  }
  return (uint64_t)(sum * 31 + odd);
}

/* 4b: a call in the outer path. */
static __attribute__((noinline)) long mix(long a, long b)
{
  return (a * 31) ^ (b + 7);
}

static uint64_t outer_call(long outer)
{
  long h = 1;
  for (long i = 0; i < outer; i++) {
    for (long k = 0; k < 3; k++)
      h += k * i;
    h = mix(h, i) & 0xffffffffL;
  }
  return (uint64_t)h;
}

static uint64_t outer_call_ref(long outer)
{
  uint64_t h = 1;
  for (long i = 0; i < outer; i++) {
    h += (uint64_t)(3 * i);
    h = (uint64_t)(((long)h * 31) ^ (i + 7)) & 0xffffffffu;
  }
  return h;
}

/* 8: threads in the same nested loops. */
struct job {
  long outer;
  uint64_t got;
};

static void *thread_main(void *arg)
{
  struct job *j = arg;
  j->got = varying(j->outer, j->outer / 3) ^ outer_call(j->outer);
  return NULL;
}

static void threads(void)
{
  enum { N = 3 };
  pthread_t th[N];
  struct job jobs[N];
  for (int k = 0; k < N; k++) {
    jobs[k].outer = 100000 + 1000 * k;
    pthread_create(&th[k], NULL, thread_main, &jobs[k]);
  }
  int bad = 0;
  for (int k = 0; k < N; k++) {
    pthread_join(th[k], NULL);
    bad += jobs[k].got != (varying_ref(jobs[k].outer, jobs[k].outer / 3) ^ outer_call_ref(jobs[k].outer));
  }
  check("threads in the same nested loops: wrong results", (uint64_t)bad, 0);
}

/* 5: a fault in the outer path. */
static sigjmp_buf env;
static volatile long *g_i, *g_s;
static volatile long seen_i, seen_s;

static void on_segv(int sig)
{
  (void)sig;
  seen_i = *g_i;
  seen_s = *g_s;
  siglongjmp(env, 1);
}

static void fault_outer(long at)
{
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sigaction(SIGSEGV, &sa, &old);
  volatile long *volatile nowhere = NULL;
  volatile long i = 0, s = 0; /* the handler reads them (at -O2 too) */
  g_i = &i;
  g_s = &s;
  if (!sigsetjmp(env, 1)) {
    for (i = 0; i < 1000000; i++) {
      for (long k = 0; k < 4; k++)
        s += k ^ i;
      if (i == at)
        *nowhere = s; /* faults: i == at, s as natively */
    }
  }
  long want = 0;
  for (long ii = 0; ii <= at; ii++)
    for (long k = 0; k < 4; k++)
      want += k ^ ii;
  check("fault in the outer path: i", (uint64_t)seen_i, (uint64_t)at);
  check("fault in the outer path: s", (uint64_t)seen_s, (uint64_t)want);
  sigaction(SIGSEGV, &old, NULL);
}

/* 6: a timer handler that checks and stops the loops. */
static volatile long *t_count, *t_stop;
static volatile long mirror, ticks, bad_ticks;

static void on_alarm(int sig)
{
  (void)sig;
  if (!t_count)
    return;
  ticks++;
  if (*t_count != mirror && *t_count != mirror + 1) /* between count++ and mirror = count */
    bad_ticks++;
  if (ticks >= 5)
    *t_stop = 1;
}

static void timer_stop(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 2000}, {0, 2000}};
  volatile long count = 0, stop = 0; /* the handler reads and writes them */
  long acc = 0;
  t_count = &count;
  t_stop = &stop;
  setitimer(ITIMER_REAL, &it, NULL);
  while (!stop) {
    for (long k = 0; k < 3; k++)
      acc += k + count;
    count++;
    mirror = count;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  t_count = NULL;
  check("timer: ticks that saw the count wrong", (uint64_t)bad_ticks, 0);
  check("timer: loop stopped by the handler", (uint64_t)(ticks >= 5 && count > 0), 1);
  long want = 0;
  for (long c = 0; c < count; c++)
    want += 3 + 3 * c;
  check("timer: accumulated as counted", (uint64_t)(acc == want), 1); /* both depend on the timer */
}

/* 7: longjmp out of the inner loop. */
static jmp_buf jenv;

static __attribute__((noinline)) long maybe_jump(long v, long at)
{
  if (v == at)
    longjmp(jenv, 1);
  return v & 3;
}

static void jump_out(long at)
{
  volatile long total = 0;
  long i = 0, s = 0;
  if (!setjmp(jenv)) {
    for (i = 0; i < 100000; i++) {
      for (long k = 0; k < 2; k++)
        s += maybe_jump(i * 2 + k, at);
      total = s;
    }
  }
  long want = 0;
  for (long v = 0; v < (at & ~1L); v++)
    want += v & 3;
  check("longjmp out of the inner loop: total before", (uint64_t)total, (uint64_t)want);
}

int main(void)
{
  check("3x3 filter", filter(48, 12), filter_ref(48, 12));
  check("varying trip counts", varying(300000, 150000), varying_ref(300000, 150000));
  fault_outer(60000);
  timer_stop();
  jump_out(150001);
  check("a call in the outer path", outer_call(200000), outer_call_ref(200000));
  threads();
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails ? 1 : 0;
}
