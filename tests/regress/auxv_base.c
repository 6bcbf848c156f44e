/* Regression: AT_BASE is the base of the program's ELF interpreter (0 for a
 * static program), also under --native, which starts a dynamic program's
 * ld.so as a program (`ld.so --argv0 ARGV0 FILE`, for $ORIGIN): AT_BASE was
 * 0 there, as for a static program. It points at ld.so's ELF header. */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

int main(void)
{
  unsigned long base = getauxval(AT_BASE);
  int elf = base && memcmp((const void *)base, ELFMAG, SELFMAG) == 0;
  printf("AT_BASE %s%s\n", base ? "set" : "0", base ? (elf ? ", an ELF header" : ", not an ELF header") : "");
  return 0;
}
