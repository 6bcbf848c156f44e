/* exec_only: code in memory made PROT_EXEC alone (no read, no write) runs
 * natively; on x86 without execute-only protection keys it is readable
 * too, with them it is not.
 *
 * Guards against: hotpath reading only memory mapped readable or writable,
 * so the first call died of SIGSEGV ("jump to non-executable memory"). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
  unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 1;
  static const unsigned char code[] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov eax, 42; ret */
  memcpy(p, code, sizeof code);
  if (mprotect(p, 4096, PROT_EXEC) != 0)
    return 1;
  int (*f)(void) = (int (*)(void))p;
  long sum = 0;
  for (int i = 0; i < 100; i++)
    sum += f();
  printf("execute-only code ran: %ld\n", sum);
  return 0;
}
