/* Hot loops inside signal handlers and across fork: a SIGUSR1 handler
 * raised 300 times runs a loop of 1000 calls (traces recorded and run
 * inside the handler; a recording there ends with rt_sigreturn), and raises
 * SIGUSR2 (SA_NODEFER) from inside itself, whose handler runs another loop;
 * children forked from a hot loop run the same loop with the parent's
 * traces and report whether they agree; _longjmp (no mask restored, no
 * system call) out of a SIGALRM handler back into a hot loop. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static uint64_t step(uint64_t x)
{
  return x * 6364136223846793005ull + 1442695040888963407ull;
}

static volatile uint64_t hsum;
static volatile int depth;

static void on_usr2(int sig)
{
  (void)sig;
  uint64_t s = hsum;
  for (int i = 0; i < 300; i++)
    s = step(s) + 7;
  hsum = s;
}

static void on_usr1(int sig)
{
  (void)sig;
  uint64_t s = hsum;
  for (int i = 0; i < 1000; i++)
    s = step(s) ^ (uint64_t)i;
  hsum = s;
  if (depth < 3) {
    depth++;
    raise(SIGUSR2);
    depth--;
  }
}

static jmp_buf jb;
static volatile uint64_t spin;
static void on_alrm(int sig)
{
  (void)sig;
  _longjmp(jb, 1);
}

/* _longjmp out of the handler lands in the loop with SIGALRM still
 * blocked (the handler's mask); it is unblocked by hand. */
__attribute__((noinline)) static int longjmp_rounds(void)
{
  volatile int n = 0;
  signal(SIGALRM, on_alrm);
  for (volatile int k = 0; k < 100; k++) {
    if (_setjmp(jb) == 0) {
      for (int i = 0;; i++) {
        spin = step(spin);
        if (i == 200 + k)
          raise(SIGALRM);
      }
    }
    n++;
    sigset_t u;
    sigemptyset(&u);
    sigaddset(&u, SIGALRM);
    sigprocmask(SIG_UNBLOCK, &u, NULL);
  }
  return n;
}

int main(void)
{
  int fails = 0;
  signal(SIGUSR1, on_usr1);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr2;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGUSR2, &sa, NULL);
  uint64_t ref = 0;
  for (int k = 0; k < 300; k++) {
    raise(SIGUSR1);
    uint64_t s = ref;
    for (int i = 0; i < 1000; i++)
      s = step(s) ^ (uint64_t)i;
    for (int i = 0; i < 300; i++)
      s = step(s) + 7;
    ref = s;
  }
  printf("loops in handlers: %s\n", hsum == ref ? "ok" : "MISMATCH");
  fails += hsum != ref;

  int good = 0;
  for (int k = 0; k < 30; k++) {
    uint64_t s = (uint64_t)k;
    for (int i = 0; i < 5000; i++)
      s = step(s);
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
      uint64_t t = (uint64_t)k;
      for (int i = 0; i < 5000; i++)
        t = step(t);
      _exit(t == s ? 7 : 1);
    }
    int st;
    waitpid(p, &st, 0);
    good += WIFEXITED(st) && WEXITSTATUS(st) == 7;
  }
  printf("forked children agree: %d of 30\n", good);
  fails += good != 30;

  int n = longjmp_rounds();
  printf("_longjmp out of handlers: %d\n", n);
  fails += n != 100;
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
