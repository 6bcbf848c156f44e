/* int80_prefix: `int 0x80` with a prefix (here REX, 3 bytes) is the same
 * 32-bit system call; the program goes on after the whole instruction.
 * hotpath went on 2 bytes after its start, inside it.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
  long r;
  /* rex int $0x80 (getpid, 20), then a mov that marks the way on */
  long mark = 0;
  __asm__ volatile(".byte 0x40, 0xcd, 0x80\n\tmov $7, %1" : "=a"(r), "+r"(mark) : "a"(20L) : "memory");
  printf("getpid: %s, went on after it: %ld\n", r == getpid() ? "same as getpid()" : "differs", mark);
  long r2;
  __asm__ volatile(".byte 0x66, 0x2e, 0xcd, 0x80" : "=a"(r2) : "a"(20L) : "memory");
  printf("again: %s\n", r2 == getpid() ? "same as getpid()" : "differs");
  return 0;
}
