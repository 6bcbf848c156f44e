/* The first asynchronous signal of a single-threaded process once made
 * hotpath's shared return table inside its signal handler, which switched
 * to hotpath's own FS: a signal that landed between the cache entry's check
 * of where FS was and its jump into the cache left the guest running on
 * hotpath's TLS (found by review; with --no-link about 2% of the runs).
 * Each of many children takes one timer signal while it spins through a
 * call, checking that fs:0x10 (its thread control block's self pointer)
 * never changes. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int got;
static unsigned long fs_self(void)
{
  unsigned long v;
  __asm__ volatile("mov %%fs:0x10, %0" : "=r"(v)::"memory");
  return v;
}
static void on_alrm(int s) { (void)s; got = 1; }
__attribute__((noinline)) static int step(int x) { return x * 3 + 1; }

int main(void)
{
  int n = 200, bad = 0, other = 0;
  for (int i = 0; i < n; i++) {
    pid_t p = fork();
    if (p < 0) {
      perror("fork");
      return 2;
    }
    if (p == 0) {
      unsigned long self = fs_self();
      signal(SIGALRM, on_alrm);
      struct itimerval it = {{0, 0}, {0, 200 + (i * 37) % 3000}};
      setitimer(ITIMER_REAL, &it, 0);
      volatile int acc = 0;
      for (long k = 0; !got || k < 2000;) {
        acc = step(acc);
        if (fs_self() != self)
          _exit(3);
        if (got)
          k++;
      }
      _exit(0);
    }
    int st;
    if (waitpid(p, &st, 0) != p) {
      perror("waitpid");
      return 2;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
      bad++;
    else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      other++;
  }
  printf("%d children: %d saw another FS, %d ended otherwise\n", n, bad, other);
  return bad || other;
}
