/* Non-local exits out of traced loops: longjmp from a function called in a
 * hot loop (the loop's trace has the call inlined), from the bottom of a
 * recursion, repeatedly; siglongjmp out of a SIGUSR1 handler raised in the
 * middle of a hot loop (with and without the signal mask saved), and out of
 * a SIGALRM handler whose timer fires while the thread spins in a traced
 * loop that never ends by itself. Only deterministic facts are printed (no
 * iteration counts of timer-bounded loops). */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "check.h"

#define NI __attribute__((noinline, noclone))
static jmp_buf jb;
static sigjmp_buf sjb;

NI static uint64_t leaf(uint64_t x) { return x * 2654435761u >> 7; }
NI static void maybe_jump(int i, int at, uint64_t s)
{
  if (i == at)
    longjmp(jb, (int)(s & 0x7fff) + 1);
}
NI static void middle(int i, int at, uint64_t s)
{
  maybe_jump(i, at, s + leaf((uint64_t)i));
}

NI static void dive(int depth, int at)
{
  if (depth > 1000) /* not reached (at <= 60) */
    return;
  if (depth == at)
    longjmp(jb, depth + 1);
  dive(depth + 1, at);
}

static int blocked(int sig)
{
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, sig);
}

static volatile sig_atomic_t in_handler;
static void on_usr1(int sig)
{
  (void)sig;
  in_handler = 1;
  siglongjmp(sjb, 7);
}

static volatile sig_atomic_t alarms;
static void on_alrm(int sig)
{
  (void)sig;
  alarms++;
  siglongjmp(sjb, 9);
}

/* One round each, in functions of their own: nothing but the volatile
 * locals lives across the setjmp. */
NI static uint64_t round_loop(int round, int at)
{
  volatile uint64_t s = 0;
  int r = setjmp(jb);
  if (r == 0) {
    for (int i = 0;; i++) {
      s += leaf((uint64_t)i) ^ (uint64_t)round;
      middle(i, at, s);
    }
  }
  return (uint64_t)r + s;
}

NI static int round_dive(int at)
{
  int r = setjmp(jb);
  if (r == 0)
    dive(0, at);
  return r;
}

NI static uint64_t round_usr1(int round, int at, int *mask_ok)
{
  volatile uint64_t s = 0;
  in_handler = 0;
  int r = sigsetjmp(sjb, 1);
  if (r == 0) {
    for (int i = 0;; i++) {
      s += leaf((uint64_t)i + (uint64_t)round);
      if (i == at)
        raise(SIGUSR1);
    }
  }
  *mask_ok = !blocked(SIGUSR1) && in_handler;
  return s + (uint64_t)r;
}

NI static int round_usr1_nomask(int round)
{
  volatile int n = 0;
  if (sigsetjmp(sjb, 0) == 0) {
    for (;;) {
      n++;
      if (n == 1000 + round)
        raise(SIGUSR1);
    }
  }
  int ok = blocked(SIGUSR1) && n == 1000 + round;
  sigset_t u;
  sigemptyset(&u);
  sigaddset(&u, SIGUSR1);
  sigprocmask(SIG_UNBLOCK, &u, NULL);
  return ok;
}

NI static int round_alarm(int round)
{
  volatile uint64_t x = (uint64_t)round;
  struct itimerval it = {{0, 0}, {0, 1000 + round * 500}};
  if (sigsetjmp(sjb, 1) == 0) {
    setitimer(ITIMER_REAL, &it, NULL);
    for (;;)
      x = leaf(x + 1) | 1;
  }
  return !blocked(SIGALRM);
}

int main(void)
{
  /* longjmp out of a call in a hot loop, 300 times, at varying depths of
   * the loop (the first rounds build the trace, the later ones leave it). */
  uint64_t got = 0, want = 0;
  for (int round = 0; round < 300; round++) {
    int at = 50 + (round * 37) % 400;
    got = got * 3 + round_loop(round, at);
    uint64_t ws = 0;
    int i;
    for (i = 0; i < at; i++)
      ws += leaf((uint64_t)i) ^ (uint64_t)round;
    ws += leaf((uint64_t)i) ^ (uint64_t)round;
    want = want * 3 + (((ws + leaf((uint64_t)i)) & 0x7fff) + 1) + ws;
  }
  check("longjmp out of a hot loop", got, want);

  got = want = 0;
  for (int round = 0; round < 200; round++) {
    int at = 1 + round % 60;
    got += (uint64_t)round_dive(at);
    want += (uint64_t)at + 1;
  }
  check("longjmp from recursion", got, want);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  /* siglongjmp out of a handler raised inside a hot loop; the mask saved by
   * sigsetjmp is restored (SIGUSR1 unblocked again). */
  got = want = 0;
  int mask_ok = 1;
  for (int round = 0; round < 200; round++) {
    int at = 100 + (round * 13) % 300, ok;
    got += round_usr1(round, at, &ok);
    mask_ok &= ok;
    uint64_t ws = 0;
    for (int i = 0; i <= at; i++)
      ws += leaf((uint64_t)i + (uint64_t)round);
    want += ws + 7;
  }
  check("siglongjmp out of SIGUSR1 handler", got, want);
  printf("mask restored every time: %d\n", mask_ok);
  fails += !mask_ok;

  /* Without saving the mask: the handler's mask (SIGUSR1 blocked) stays. */
  int stay_blocked = 1;
  for (int round = 0; round < 20; round++)
    stay_blocked &= round_usr1_nomask(round);
  printf("mask not restored without savemask: %d\n", stay_blocked);
  fails += !stay_blocked;

  /* SIGALRM while spinning in a traced loop with calls: the loop never
   * ends by itself, only the handler's siglongjmp leaves it. */
  sa.sa_handler = on_alrm;
  sigaction(SIGALRM, &sa, NULL);
  int escaped = 0;
  for (int round = 0; round < 5; round++)
    escaped += round_alarm(round);
  printf("escaped from timer spins: %d, alarms %d\n", escaped, (int)alarms);
  fails += escaped != 5 || alarms != 5;
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
