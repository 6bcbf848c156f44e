/* int3_fatal: an int3 without a SIGTRAP handler must kill the process with
 * SIGTRAP (status 133 from the shell); nothing after it runs.
 *
 * Guards against: hotpath swallowing the breakpoint trap (or dying of an
 * internal error) instead of ending the process by the same signal. */
#include <stdio.h>

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  puts("before int3");
  __asm__ volatile("int3");
  puts("survived int3");
  return 0;
}
