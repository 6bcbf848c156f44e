/* Regression (review of the fork without a pipe): a fork-like clone with
 * CLONE_PARENT makes a sibling, not a child; hotpath's wait for the new
 * process's copy of the code cache cannot use waitid on it (ECHILD) and
 * once stopped waiting at once, letting the copy race the parent's
 * patching. The sibling runs translated code, reports through a pipe, and
 * the grandparent reaps both. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[1 << 16] __attribute__((aligned(16)));
static int fds[2];

static int sibling(void *arg)
{
  (void)arg;
  unsigned sum = 0;
  for (unsigned i = 0; i < 100000; i++) /* hot enough for a trace */
    sum += i * i;
  char msg[64];
  int n = snprintf(msg, sizeof msg, "sibling: sum %u\n", sum);
  write(fds[1], msg, (size_t)n);
  return 3;
}

int main(void)
{
  if (pipe(fds) != 0)
    return 2;
  pid_t mid = fork();
  if (mid == 0) {
    pid_t c = clone(sibling, stack + sizeof stack, CLONE_PARENT | SIGCHLD, NULL);
    close(fds[1]);
    char buf[128];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) /* until the sibling has ended */
      fwrite(buf, 1, (size_t)n, stdout);
    printf("middle: clone %s, waitpid on it: %s\n", c > 0 ? "ok" : "failed",
           waitpid(c, NULL, WNOHANG) < 0 ? "not its child" : "its child");
    fflush(stdout);
    _exit(0);
  }
  close(fds[1]);
  close(fds[0]);
  int st, n = 0, threes = 0;
  pid_t p;
  while ((p = wait(&st)) > 0) {
    n++;
    threes += WIFEXITED(st) && WEXITSTATUS(st) == 3;
  }
  printf("reaped %d, one exit status 3: %s\n", n, threes == 1 ? "yes" : "no");
  return 0;
}
