/* fd_reuse: a guest that closes every descriptor >= 3 (daemon-style clean-up) and
 * then opens a file must get fd 3, and that file must not be touched when
 * hotpath creates a new code cache unit afterwards.
 *
 * Guards against: hotpath kept each code cache unit's memfd open; after the
 * guest closed it and reused the number for its own file, the next cache unit
 * (here forced by running generated code far away from the program) was set
 * up through the stale number and the translated code landed in the guest's
 * file.  Also: the guest's first open() gets the same number as natively
 * (hotpath keeps no descriptor of its own in the low range). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char payload[] = "important data\n";

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  /* hotpath's own descriptors must not take the lowest free numbers. */
  int first = open("/dev/null", O_RDONLY);
  printf("first open gives fd %d\n", first);
  close(first);

  for (int fd = 3; fd < 1024; fd++)
    close(fd);

  const char *dir = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/hp-regress-fd3-XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(path);
  if (fd < 0) { perror("mkstemp"); return 1; }
  unlink(path);
  printf("file opened as fd %d\n", fd);
  if (write(fd, payload, sizeof payload - 1) != (ssize_t)(sizeof payload - 1)) { perror("write"); return 1; }

  /* Generated code far from the program: hotpath needs a new cache unit near it. */
  unsigned char *code = mmap((void *)0x300000000000ul, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 1; }
  static const unsigned char insn[] = {0xb8, 42, 0, 0, 0, 0xc3};   /* mov $42, %eax; ret */
  memcpy(code, insn, sizeof insn);
  int r = ((int (*)(void))code)();
  printf("generated code returned %d\n", r);

  struct stat st;
  if (fstat(fd, &st) != 0) { perror("fstat"); return 1; }
  char buf[64] = {0};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  printf("file size %lld, contents intact: %s\n", (long long)st.st_size,
         n == (ssize_t)(sizeof payload - 1) && memcmp(buf, payload, sizeof payload - 1) == 0 ? "yes" : "NO");
  close(fd);
  munmap(code, 4096);
  return 0;
}
