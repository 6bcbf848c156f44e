/* spawn_sig: posix_spawn() and system() must leave the parent's signal
 * handlers in place.
 *
 * Guards against: the child of hotpath's vfork/posix_spawn emulation (which
 * shares the parent's memory until it execs) resetting the signal handlers it
 * inherited, which also wiped the parent's guest handlers; a later signal then
 * killed the parent or was ignored. */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t got[NSIG];
static void handler(int s) { got[s]++; }

static const int sigs[] = {SIGUSR1, SIGINT, SIGQUIT};
static const char *const names[] = {"SIGUSR1", "SIGINT", "SIGQUIT"};
#define NSIGS (int)(sizeof sigs / sizeof sigs[0])

static void check(const char *after)
{
  for (int i = 0; i < NSIGS; i++) {
    struct sigaction old;
    sigaction(sigs[i], NULL, &old);
    got[sigs[i]] = 0;
    if (old.sa_handler == handler)
      raise(sigs[i]);
    printf("after %s: %s handler %s, delivered %d time(s)\n", after, names[i],
           old.sa_handler == handler ? "kept" : "LOST", (int)got[sigs[i]]);
  }
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  for (int i = 0; i < NSIGS; i++)
    sigaction(sigs[i], &sa, NULL);

  pid_t pid;
  char *av[] = {"true", NULL};
  int st = -1;
  int r = posix_spawn(&pid, "/bin/true", NULL, NULL, av, environ);
  if (r == 0)
    waitpid(pid, &st, 0);
  printf("posix_spawn=%d, child exit %d\n", r, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  check("posix_spawn");

  st = system("exit 3");
  printf("system: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  check("system");
  return 0;
}
