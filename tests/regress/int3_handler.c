/* int3_handler: an int3 with a SIGTRAP handler.  The handler must run exactly
 * once and see the program counter just after the int3 (as the CPU reports a
 * trap); execution then resumes after the int3.
 *
 * Guards against: hotpath reporting the trap at the int3 itself, so that
 * returning from the handler executed the int3 again, looping forever. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int count;
static volatile uintptr_t trap_rip;

static void handler(int s, siginfo_t *si, void *ucv)
{
  (void)s;
  (void)si;
  ucontext_t *uc = ucv;
  trap_rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  if (++count > 3) {
    static const char msg[] = "trap handler looping: the int3 was re-executed\n";
    write(1, msg, sizeof msg - 1);
    _exit(3);
  }
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &sa, NULL);

  uintptr_t after;
  __asm__ volatile("int3\n"
                   "1:\n\t"
                   "lea 1b(%%rip), %0"
                   : "=r"(after));
  printf("after int3: handler ran %d time(s), rip in handler is just after the int3: %d\n",
         count, trap_rip == after);
  return 0;
}
