/* altstack_inherit: which alternate stack a new thread or program starts
 * with, as the kernel decides: a thread none (SS_DISABLE); a fork or vfork
 * child its parent's; a program after execve none, but with the flags the
 * program before gave sigaltstack (the kernel clears only the stack), which
 * a query shows as SS_AUTODISARM and the frame's uc_stack shows whole.
 *
 * Guards against: hotpath giving a vfork child no alternate stack, starting
 * the program after an execve without the flags, and reporting SS_DISABLE in
 * uc_stack for a process that never set a stack (the kernel leaves 0). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static char alt[65536] __attribute__((aligned(16)));

static void show(const char *what, const stack_t *s)
{
  const char *sp = s->ss_sp == alt ? "alt" : s->ss_sp ? "other" : "0";
  printf("%s: sp=%s size=%zu flags=%#x\n", what, sp, s->ss_size, (unsigned)s->ss_flags);
}

static void query(const char *what)
{
  stack_t s;
  sigaltstack(NULL, &s);
  show(what, &s);
}

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
  (void)sig, (void)si;
  show(" uc_stack", &((ucontext_t *)ucv)->uc_stack);
}

static void *thread(void *arg)
{
  (void)arg;
  query("thread");
  raise(SIGUSR1);
  return NULL;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);
  const char *who = argc > 1 ? argv[1] : "first";
  printf("%s program\n", who);
  query("start");
  raise(SIGUSR1);
  if (argc > 1)
    return 0;

  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = SS_AUTODISARM};
  sigaltstack(&ss, NULL);
  query("armed");

  pthread_t th;
  pthread_create(&th, NULL, thread, NULL);
  pthread_join(th, NULL);

  pid_t p = fork();
  if (p == 0) {
    query("fork child");
    raise(SIGUSR1);
    _exit(0);
  }
  waitpid(p, NULL, 0);

  static stack_t seen; /* written by the vfork child */
  p = vfork();
  if (p == 0) {
    sigaltstack(NULL, &seen);
    _exit(0);
  }
  waitpid(p, NULL, 0);
  show("vfork child", &seen);

  p = fork();
  if (p == 0) {
    execl("/proc/self/exe", argv[0], "after-exec-autodisarm", (char *)NULL);
    _exit(1);
  }
  waitpid(p, NULL, 0);

  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  execl("/proc/self/exe", argv[0], "after-exec-disable", (char *)NULL);
  perror("execl");
  return 1;
}
