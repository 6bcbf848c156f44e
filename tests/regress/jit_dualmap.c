/* jit_dualmap: a JIT in the W^X style of .NET and WebKit: one memfd mapped
 * twice, read-write to write code and read-execute to run it. The program
 * runs a function, rewrites it through the RW view (no system call in
 * between), and runs it again, many times over.
 *
 * Guards against: hotpath translating the RX view as read-only code and
 * running the first translation after the rewrite (a sum of 200 instead
 * of 139500 in the report that found it). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
  int fd = memfd_create("jit", 0);
  if (fd < 0 || ftruncate(fd, 4096) != 0)
    return 1;
  unsigned char *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  unsigned char *rx = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
  if (rw == MAP_FAILED || rx == MAP_FAILED)
    return 1;
  int (*f)(void) = (int (*)(void))(rx + 64);
  long sum = 0;
  for (int v = 1; v <= 300; v++) {
    unsigned char code[] = {0xb8, (unsigned char)v, (unsigned char)(v >> 8), 0, 0, 0xc3}; /* mov eax, v; ret */
    memcpy(rw + 64, code, sizeof code);
    for (int k = 0; k < 3; k++)
      sum += f();
  }
  printf("sum %ld\n", sum);
  return 0;
}
