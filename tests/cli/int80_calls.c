/* 32-bit system calls (int $0x80) for tests/cli: "refused" asks for mmap2,
 * which hotpath does not perform (status 125 and a message naming it);
 * "count" makes 100 getpid calls and ends with exit_group(3), all through
 * int 0x80 (--stats counts them and is printed at that exit); "exit" only
 * calls exit_group(3) (which hotpath performs itself: in a kernel without
 * 32-bit system calls it must fault all the same). */
#include <stdio.h>
#include <string.h>

static long int80(long nr, long b, long c, long d, long s, long di)
{
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(b), "c"(c), "d"(d), "S"(s), "D"(di) : "memory");
  return r;
}

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "refused") == 0) {
    long p = int80(192, 0, 4096, 3, 0x22, -1); /* mmap2(NULL, 4096, RW, PRIVATE|ANON, -1) */
    printf("mmap2: %s\n", p < 0 && p > -4096 ? "failed" : "mapped");
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "exit") == 0)
    int80(252, 3, 0, 0, 0, 0);
  long n = 0;
  for (int i = 0; i < 100; i++)
    n += int80(20, 0, 0, 0, 0, 0) > 0;
  printf("%ld getpid calls\n", n);
  fflush(stdout);
  int80(252, 3, 0, 0, 0, 0);
  return 0;
}
