/* sigchld_flags: SA_NOCLDSTOP and SA_NOCLDWAIT on SIGCHLD are kept and act.
 *
 * SA_NOCLDSTOP: a child that stops sends no SIGCHLD.  SA_NOCLDWAIT: children
 * are reaped automatically, so waitpid() fails with ECHILD.  sigaction()
 * reports both flags back.
 *
 * Guards against: hotpath dropping these flags when it installed its own host
 * handler for a guest SIGCHLD handler, so that zombies were left for wait()
 * and stopped children raised SIGCHLD. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld;
static void handler(int s)
{
  (void)s;
  chld++;
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;

  /* SA_NOCLDSTOP */
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  sigaction(SIGCHLD, NULL, &old);
  printf("SA_NOCLDSTOP reported: %d\n", (old.sa_flags & SA_NOCLDSTOP) != 0);
  pid_t p = fork();
  if (p == 0) {
    raise(SIGSTOP);
    _exit(0);
  }
  int st = 0;
  pid_t w = waitpid(p, &st, WUNTRACED);
  usleep(50000);   /* a SIGCHLD for the stop, if one was sent, is delivered by now */
  printf("child stopped: %d, SIGCHLD for the stop: %d\n", w == p && WIFSTOPPED(st), (int)chld);
  kill(p, SIGKILL);
  w = waitpid(p, &st, 0);
  printf("child killed: %d\n", w == p && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

  /* SA_NOCLDWAIT */
  sa.sa_flags = SA_NOCLDWAIT;
  sigaction(SIGCHLD, &sa, NULL);
  sigaction(SIGCHLD, NULL, &old);
  printf("SA_NOCLDWAIT reported: %d\n", (old.sa_flags & SA_NOCLDWAIT) != 0);
  p = fork();
  if (p == 0)
    _exit(0);
  errno = 0;
  w = waitpid(p, NULL, 0);   /* waits for the child to end, then fails: it was reaped */
  printf("waitpid after SA_NOCLDWAIT: %d (%s)\n", (int)w, w < 0 ? strerror(errno) : "child was a zombie");
  return 0;
}
