/* Jumps into the vsyscall page other than its three entries: SIGSEGV with si_addr 0, as the kernel reports them (hotpath cannot read that execute-only page). */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
static sigjmp_buf jb;
static void h(int s, siginfo_t *si, void *u) { (void)u; printf("signal %d si_addr=%p\n", s, si->si_addr); siglongjmp(jb, 1); }
int main(int argc, char **argv)
{
  (void)argv;
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  time_t (*vt)(time_t *) = (time_t (*)(time_t *))0xffffffffff600400;
  printf("vsyscall time ok: %d\n", vt(NULL) > 1000000);
  unsigned long bad = argc > 1 ? 0xffffffffff600c00 : 0xffffffffff600401;
  if (sigsetjmp(jb, 1) == 0) {
    void (*volatile f)(void) = (void (*)(void))bad;
    f();
    puts("BUG: returned");
  }
  puts("done");
  return 0;
}
