/* wx_noread: code in memory mapped PROT_WRITE|PROT_EXEC without PROT_READ
 * runs natively (on x86 a page that can be written can be read), and is
 * rewritten and run again.
 *
 * Guards against: hotpath taking such memory for memory it cannot read
 * and the program dying of SIGSEGV at its first call. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
  unsigned char *p = mmap(NULL, 4096, PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 1;
  unsigned char code[] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov eax, 42; ret */
  memcpy(p, code, sizeof code);
  int (*f)(void) = (int (*)(void))p;
  long sum = 0;
  for (int i = 0; i < 100; i++)
    sum += f();
  printf("first: %ld\n", sum);
  p[1] = 7; /* mov eax, 7 */
  sum = 0;
  for (int i = 0; i < 100; i++)
    sum += f();
  printf("rewritten: %ld\n", sum);
  return 0;
}
