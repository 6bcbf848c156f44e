#define _GNU_SOURCE
/* Side traces (--opt=2): a loop whose body branches both ways about as
 * often. The loop's optimized trace follows one arm; the other arm, a trace
 * of its own that ends at the loop's head, takes the same slots in the same
 * registers, and the exits between the two go straight from one to the
 * other with the registers as they are (no restores, no entry). Attacked
 * here: arms that write different locals (one arm writes what the other
 * only reads), an arm that calls a helper, double accumulators, a store
 * through a pointer into a local from one arm, a global read in the loop
 * (the entry's check of the globals' span), a SIGSEGV inside the other arm
 * whose handler reads the locals from memory and the fault's registers, a
 * timer handler that stops a loop through a global, a third arm (a trace
 * of its own) and a loop left from inside the other arm. Each result is
 * checked against a plain second computation. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

#define N 20000

static uint32_t data[N];
static double dd[N];

static void fill(uint64_t seed)
{
  uint64_t st = seed | 1;
  for (int i = 0; i < N; i++) {
    data[i] = (uint32_t)xs(&st);
    dd[i] = (double)(data[i] % 1000) / 8.0;
  }
}

/* Two arms writing different locals; each reads the other's. */
static void arms(void)
{
  uint64_t odd = 0, even = 0, mix = 0;
  for (int r = 0; r < 20; r++) {
    for (int i = 0; i < N; i++) {
      if (data[i] & 1)
        odd += data[i] + (even & 3);
      else
        even += (data[i] >> 1) + (odd & 7);
    }
    mix += odd ^ even;
  }
  uint64_t o = 0, e = 0, m = 0;
  for (int r = 0; r < 20; r++) {
    for (int i = 0; i < N; i++) {
      uint64_t v = data[i];
      if (v & 1)
        o += v + (e & 3);
      else
        e += (v >> 1) + (o & 7);
    }
    m += o ^ e;
  }
  check("arms odd", odd, o);
  check("arms even", even, e);
  check("arms mix", mix, m);
}

static __attribute__((noinline)) uint64_t weigh(uint64_t v, int k)
{
  uint64_t w = v * 3 + (uint64_t)k;
  return w ^ (w >> 5);
}

/* One arm calls a helper (inlined in its trace), the other does not. */
static void arm_calls(void)
{
  uint64_t a = 0, b = 0;
  int k = 0;
  for (int r = 0; r < 10; r++)
    for (int i = 0; i < N; i++) {
      if ((data[i] >> 3) & 1)
        a += weigh(data[i], k);
      else
        b += data[i] & 0xff;
      k = (k + 1) & 15;
    }
  uint64_t a2 = 0, b2 = 0;
  int k2 = 0;
  for (int r = 0; r < 10; r++)
    for (int i = 0; i < N; i++) {
      uint64_t v = data[i];
      if ((v >> 3) & 1) {
        uint64_t w = v * 3 + (uint64_t)k2;
        a2 += w ^ (w >> 5);
      } else {
        b2 += v & 0xff;
      }
      k2 = (k2 + 1) & 15;
    }
  check("calls a", a, a2);
  check("calls b", b, b2);
}

/* Double accumulators, one per arm. */
static void arm_doubles(void)
{
  double s = 0, t = 0;
  for (int r = 0; r < 10; r++)
    for (int i = 0; i < N; i++) {
      if (data[i] & 4)
        s += dd[i];
      else
        t += dd[i] * 2.0;
    }
  double s2 = 0, t2 = 0;
  for (int r = 0; r < 10; r++)
    for (int i = 0; i < N; i++) {
      double x = dd[i];
      if (data[i] & 4)
        s2 += x;
      else
        t2 += x * 2.0;
    }
  check("doubles s", (uint64_t)(s * 8), (uint64_t)(s2 * 8));
  check("doubles t", (uint64_t)(t * 8), (uint64_t)(t2 * 8));
}

/* A store through a pointer into a local from one arm (checked at run
 * time: the loop's registers are loaded again after it). */
static void arm_pointer(void)
{
  uint64_t hits = 0, other = 0;
  uint64_t *p = &hits;
  for (int r = 0; r < 10; r++)
    for (int i = 0; i < N; i++) {
      if (data[i] & 2)
        *p += 1 + (other & 1);
      else
        other += data[i] & 15;
    }
  uint64_t h2 = 0, o2 = 0;
  for (int r = 0; r < 10; r++)
    for (int i = 0; i < N; i++) {
      if (data[i] & 2)
        h2 += 1 + (o2 & 1);
      else
        o2 += data[i] & 15;
    }
  check("pointer hits", hits, h2);
  check("pointer other", other, o2);
}

/* Three arms: two side traces back to the same loop. */
static void three_arms(void)
{
  uint64_t x = 0, y = 0, z = 0;
  for (int r = 0; r < 10; r++)
    for (int i = 0; i < N; i++) {
      uint32_t c = data[i] % 3;
      if (c == 0)
        x += data[i] >> 4;
      else if (c == 1)
        y += data[i] >> 8;
      else
        z ^= data[i];
    }
  uint64_t x2 = 0, y2 = 0, z2 = 0;
  for (int r = 0; r < 10; r++)
    for (int i = 0; i < N; i++) {
      uint32_t v = data[i];
      if (v % 3 == 0)
        x2 += v >> 4;
      else if (v % 3 == 1)
        y2 += v >> 8;
      else
        z2 ^= v;
    }
  check("three x", x, x2);
  check("three y", y, y2);
  check("three z", z, z2);
}

/* The loop left from inside the other arm (a break), at a varying turn. */
static void arm_break(void)
{
  uint64_t total = 0, turns = 0;
  for (int r = 0; r < 200; r++) {
    uint64_t s = 0, t = 0;
    int i;
    for (i = 0; i < N; i++) {
      if (data[i] & 8) {
        s += data[i] & 0xfff;
      } else {
        t += 1;
        if ((data[i] & 0xfff0) == (uint32_t)(r * 16))
          break;
      }
    }
    total += s + t;
    turns += (uint64_t)i;
  }
  uint64_t total2 = 0, turns2 = 0;
  for (int r = 0; r < 200; r++) {
    uint64_t s = 0, t = 0;
    int i = 0;
    while (i < N) {
      uint32_t v = data[i];
      if (v & 8) {
        s += v & 0xfff;
      } else {
        t += 1;
        if ((v & 0xfff0) == (uint32_t)(r * 16))
          break;
      }
      i++;
    }
    total2 += s + t;
    turns2 += (uint64_t)i;
  }
  check("break total", total, total2);
  check("break turns", turns, turns2);
}

/* A register both arms read, loaded from a local before the branch (the
 * fold pass keeps it symbolic: the exit into the other arm must make it
 * exact before it goes on into that arm's trace). The asm's jz on a local
 * keeps that register out of the compare. */
static void arm_register(void)
{
  uint32_t v = 0, w = 0, s = 0, t = 0;
  for (int r = 0; r < 10; r++)
    for (int i = 0; i < N; i++) {
      v = data[i] & 0xffff;
      w = (data[N - 1 - i] >> 5) & 1; /* (two loads: stores written through) */
      __asm__ volatile("mov %[v], %%eax\n\t"
                       "cmpl $0, %[w]\n\t"
                       "jz 1f\n\t"
                       "add %%eax, %[s]\n\t"
                       "jmp 2f\n"
                       "1: sub %%eax, %[t]\n"
                       "2:\n"
                       : [s] "+m"(s), [t] "+m"(t)
                       : [v] "m"(v), [w] "m"(w)
                       : "eax", "cc");
    }
  uint32_t s2 = 0, t2 = 0;
  for (int r = 0; r < 10; r++)
    for (int i = 0; i < N; i++) {
      uint32_t x = data[i] & 0xffff;
      if ((data[N - 1 - i] >> 5) & 1)
        s2 += x;
      else
        t2 -= x;
    }
  check("register s", s, s2);
  check("register t", t, t2);
}

/* A SIGSEGV inside the other arm: the handler sees the locals in memory
 * as natively (written through) and the faulting load's registers. */
static sigjmp_buf fault_env;
static volatile uint64_t seen_good, seen_bad, seen_i, seen_addr_ok;
static uint64_t *g_good, *g_bad;
static int *g_i;
static uint8_t *guard;

static void on_segv(int sig, siginfo_t *si, void *uc_)
{
  (void)sig;
  ucontext_t *uc = uc_;
  seen_good = *g_good;
  seen_bad = *g_bad;
  seen_i = (uint64_t)*g_i;
  /* The fault address is the guard page, and some register holds it (the
   * pointer the faulting load went through). */
  int holds = 0;
  for (int r = 0; r < NGREG; r++)
    holds |= (uint64_t)uc->uc_mcontext.gregs[r] == (uint64_t)(uintptr_t)guard;
  seen_addr_ok = si->si_addr == (void *)guard && holds;
  siglongjmp(fault_env, 1);
}

/* (the handler reads the loop's locals through pointers set while the
 * loop runs) */
#pragma GCC diagnostic ignored "-Wdangling-pointer"

/* The loop of arm_fault, its locals published for the handler; faults at
 * stop (the guard page) when stop < N. */
static __attribute__((noinline)) void fault_loop(uint64_t *const ptrs[2], const uint64_t *cells, int stop,
                                                 uint64_t *gsum, uint64_t *bsum)
{
  volatile uint64_t good = 0, bad = 0;
  volatile int i = 0;
  g_good = (uint64_t *)&good;
  g_bad = (uint64_t *)&bad;
  g_i = (int *)&i;
  uint64_t g = 0, b = 0;
  for (int k = 0; k < N; k++) {
    if (data[k] & 16) {
      uint64_t *base = ptrs[k == stop];
      b += base[k == stop ? 0 : k];
    } else {
      g += cells[k] * 3;
    }
    good = g;
    bad = b;
    i = k;
  }
  *gsum = g;
  *bsum = b;
}

static void arm_fault(void)
{
  guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (guard == MAP_FAILED) {
    printf("mmap failed\n");
    fails++;
    return;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  static uint64_t cells[N];
  for (int i = 0; i < N; i++)
    cells[i] = data[i] & 0xff;
  int at = N - 37; /* an index whose arm is the "bad" one */
  while (at > 0 && !(data[at] & 16))
    at--;
  static uint64_t *ptrs[2];
  ptrs[0] = cells;
  ptrs[1] = (uint64_t *)guard;
  for (int round = 0; round < 3; round++) {
    static uint64_t gsum, bsum; /* (static: kept across the siglongjmp) */
    gsum = bsum = 0;
    if (sigsetjmp(fault_env, 1) == 0)
      fault_loop(ptrs, cells, round == 2 ? at : N, &gsum, &bsum); /* the last round faults at `at` */
    uint64_t g2 = 0, b2 = 0;
    for (int k = 0; k < (round == 2 ? at : N); k++) {
      if (data[k] & 16)
        b2 += cells[k];
      else
        g2 += cells[k] * 3;
    }
    if (round < 2) {
      check("fault good", gsum, g2);
      check("fault bad", bsum, b2);
    } else {
      check("fault seen good", seen_good, g2);
      check("fault seen bad", seen_bad, b2);
      check("fault seen i", seen_i, (uint64_t)(at - 1));
      check("fault address in a register", seen_addr_ok, 1);
    }
  }
  signal(SIGSEGV, SIG_DFL);
  munmap(guard, 4096);
}

/* A timer handler stops a loop through a global the loop reads in both
 * arms; the arms' counts add up to the turns made. */
static volatile sig_atomic_t stop_flag;
static volatile int ticks;
static void on_alarm(int sig)
{
  (void)sig;
  if (++ticks >= 3)
    stop_flag = 1;
}

static void arm_timer(void)
{
  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &it, NULL);
  uint64_t a = 0, b = 0, turns = 0;
  uint64_t st = 99;
  while (!stop_flag) {
    uint64_t v = xs(&st);
    if (v & 1)
      a += 1;
    else
      b += 1;
    turns++;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  signal(SIGALRM, SIG_DFL);
  check("timer arms add up", a + b == turns, 1);
  check("timer turns made", turns > 0, 1);
}

int main(void)
{
  fill(12345);
  arms();
  arm_calls();
  arm_doubles();
  arm_pointer();
  three_arms();
  arm_break();
  arm_register();
  arm_fault();
  arm_timer();
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
