/* int80_proc_self: /proc/self/exe, /proc/self/cmdline through 32-bit
 * system calls (`int $0x80` readlink, readlinkat, open, openat) are the
 * program's, as through `syscall`. hotpath let them through to the kernel,
 * which answered with hotpath's own executable.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static long int80(long nr, long b, long c, long d, long s)
{
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(b), "c"(c), "d"(d), "S"(s) : "memory");
  return r;
}

static const char *base(char *s, long n)
{
  if (n < 0)
    return "(error)";
  s[n] = 0;
  const char *b = strrchr(s, '/');
  return b ? b + 1 : s;
}

int main(int argc, char **argv)
{
  (void)argc;
  char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (low == MAP_FAILED)
    return 1;
  strcpy(low, "/proc/self/exe");
  strcpy(low + 32, "/proc/self/cmdline");
  char *buf = low + 256;
  long n = int80(85, (long)(uintptr_t)low, (long)(uintptr_t)buf, 200, 0);
  printf("readlink: %s\n", base(buf, n));
  n = int80(305, AT_FDCWD, (long)(uintptr_t)low, (long)(uintptr_t)buf, 200);
  printf("readlinkat: %s\n", base(buf, n));

  struct stat want, got;
  stat(argv[0], &want);
  long fd = int80(5, (long)(uintptr_t)low, O_RDONLY, 0, 0);
  printf("open exe: %s\n", fd >= 0 && fstat((int)fd, &got) == 0 && got.st_size == want.st_size ? "the program" : "another file");
  if (fd >= 0)
    close((int)fd);
  fd = int80(295, AT_FDCWD, (long)(uintptr_t)low, O_RDONLY, 0);
  printf("openat exe: %s\n", fd >= 0 && fstat((int)fd, &got) == 0 && got.st_size == want.st_size ? "the program" : "another file");
  if (fd >= 0)
    close((int)fd);

  fd = int80(5, (long)(uintptr_t)(low + 32), O_RDONLY, 0, 0);
  char cmd[512];
  long len = fd >= 0 ? read((int)fd, cmd, sizeof cmd - 1) : -1;
  if (fd >= 0)
    close((int)fd);
  printf("cmdline: %s\n", len > 0 && strcmp(cmd, argv[0]) == 0 ? "argv[0] first" : "something else");
  return 0;
}
