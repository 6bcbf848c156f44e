/* Jumps, calls and returns to 0xffffffffffffffff: the one target the flag-free inline lookup matches in an empty entry (and an unlearnt inline cache). They must be the guest's SIGSEGV at that address, not a fault inside hotpath. Mode from argv[1]: 0 jmp, 1 call through a pointer, 2 ret. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
static sigjmp_buf jb;
static void h(int s, siginfo_t *si, void *u) { (void)u; printf("signal %d si_addr=%p\n", s, si->si_addr); siglongjmp(jb, 1); }
int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  int mode = argc > 1 ? argv[1][0] - '0' : 0;
  if (sigsetjmp(jb, 1) == 0) {
    if (mode == 0) __asm__ volatile("mov $-1, %%rax; jmp *%%rax" ::: "rax");
    if (mode == 1) { void (*volatile f)(void) = (void (*)(void))-1; f(); }
    if (mode == 2) __asm__ volatile("push $-1; ret" :::);
    puts("BUG: returned");
  }
  puts("done");
  return 0;
}
