/* Writable+executable code whose block ends in an instruction hotpath does
 * not translate (a GS-relative load): hotpath must stop with status 125 and
 * its "unsupported instruction" message (it once failed an internal
 * assertion: the code check counted the untranslated instruction's bytes). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
  /* nop; mov rax, gs:[0x28]; ret */
  static const unsigned char code[] = {0x90, 0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00, 0xc3};
  unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 1;
  memcpy(p, code, sizeof code);
  puts("calling");
  fflush(stdout);
  ((long (*)(void))p)();
  return 0;
}
