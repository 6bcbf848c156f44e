/* Dies of SIGSEGV (no handler) after a hot loop: the report is written
 * before the process dies of it. */
#include <stdio.h>

int main(void)
{
  volatile long s = 0;
  for (long i = 0; i < 1000000; i++)
    s += i & 7;
  printf("%ld\n", s);
  fflush(stdout);
  volatile int *p = (int *)16;
  return *p;
}
