/* seccomp_strict: a process that enters SECCOMP_MODE_STRICT (with prctl,
 * and with the seccomp system call) may then only read, write, exit and
 * return from signal handlers: it writes a line and exits with a status
 * of its own, or dies of SIGKILL at the first other system call.
 *
 * Guards against: hotpath handing strict mode to the kernel, which then
 * killed hotpath's own system calls ("internal error: signal 11" where the
 * program natively prints and exits 3). hotpath emulates the mode. */
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static void run(const char *what, int via_prctl, int then_getpid)
{
  printf("%s:\n", what);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    long r = via_prctl ? prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)
                       : syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL);
    if (r != 0)
      _exit(9);
    say("  in strict mode\n");
    if (then_getpid)
      syscall(SYS_getpid); /* killed here */
    syscall(SYS_exit, 3);  /* exit_group would be killed too */
  }
  int st;
  waitpid(p, &st, 0);
  if (WIFSIGNALED(st))
    printf("  killed by signal %d\n", WTERMSIG(st));
  else
    printf("  exit status %d\n", WEXITSTATUS(st));
}

int main(void)
{
  run("prctl, then exit", 1, 0);
  run("seccomp, then exit", 0, 0);
  run("prctl, then getpid", 1, 1);
  printf("seccomp with flags: %ld\n", syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 1, NULL));
  return 0;
}
