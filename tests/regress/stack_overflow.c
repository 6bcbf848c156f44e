/* stack_overflow: unbounded recursion with a SIGSEGV handler installed but no
 * alternate signal stack.  The kernel cannot build the handler's frame on the
 * exhausted stack, so the process must die of SIGSEGV (status 139 from the
 * shell) without the handler running.
 *
 * Guards against: hotpath trying to deliver the fault to the guest handler on
 * the overflowed stack (faulting again inside hotpath, looping, or reporting
 * an internal error) instead of ending the process with SIGSEGV. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void handler(int s)
{
  (void)s;
  static const char msg[] = "handler ran on the overflowed stack\n";
  write(1, msg, sizeof msg - 1);
  _exit(3);
}

static volatile int limit = -1;   /* never reached: keeps the recursion finite for the compiler */

static int rec(int n)
{
  volatile char b[256];
  b[0] = (char)n;
  if (n == limit)
    return 0;
  return rec(n + 1) + b[0];
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigaction(SIGSEGV, &sa, NULL);
  puts("recursing without an alternate signal stack");
  return rec(0);
}
