/* null_call: a call through a NULL function pointer.
 *
 * With an argument, a SIGSEGV handler is installed: it must run (with
 * si_addr 0, the address of the fetch that faulted) and siglongjmp back.
 * Without one, the process must die of SIGSEGV (status 139 from the shell).
 *
 * Guards against: hotpath's indirect-call lookup treating target 0 as an
 * internal error (or translating address 0) instead of raising the guest's
 * SIGSEGV. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf jb;
static volatile int signo, addr_is_null;

static void handler(int s, siginfo_t *si, void *uc)
{
  (void)uc;
  signo = s;
  addr_is_null = si->si_addr == NULL;
  siglongjmp(jb, 1);
}

int main(int argc, char **argv)
{
  (void)argv;
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 1) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(jb, 1)) {
      printf("caught signal %d (SIGSEGV: %d), si_addr NULL: %d\n", signo, signo == SIGSEGV, addr_is_null);
      return 0;
    }
    puts("calling NULL with a SIGSEGV handler");
  } else {
    puts("calling NULL without a handler");
  }
  void (*volatile f)(void) = NULL;
  f();
  puts("unreachable");
  return 1;
}
