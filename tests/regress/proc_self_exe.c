/* proc_self_exe: opening /proc/self/exe must give the program's own file,
 * not hotpath's: its ELF header is the one mapped in memory (__ehdr_start),
 * it is the same inode as argv[0], and readlink() names argv[0].
 *
 * Guards against: hotpath emulating readlink("/proc/self/exe") but not
 * open(), so reading the executable (as libunwind, backtrace tools and
 * self-extracting programs do) read hotpath's binary.
 *
 * Not meaningful under --native, where nothing is intercepted. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const Elf64_Ehdr __ehdr_start;

static void check_fd(const char *what, int fd, const struct stat *prog)
{
  if (fd < 0) {
    printf("%s: open failed\n", what);
    return;
  }
  Elf64_Ehdr eh;
  ssize_t n = pread(fd, &eh, sizeof eh, 0);
  struct stat st;
  int same_inode = fstat(fd, &st) == 0 && st.st_dev == prog->st_dev && st.st_ino == prog->st_ino;
  printf("%s: e_type=%d, ELF header matches the running program: %d, same inode as argv[0]: %d\n", what,
         n == (ssize_t)sizeof eh ? eh.e_type : -1,
         n == (ssize_t)sizeof eh && memcmp(&eh, &__ehdr_start, sizeof eh) == 0, same_inode);
  close(fd);
}

int main(int argc, char **argv)
{
  (void)argc;
  setvbuf(stdout, NULL, _IONBF, 0);
  struct stat prog;
  if (stat(argv[0], &prog) != 0) { perror("stat argv[0]"); return 1; }

  check_fd("open", open("/proc/self/exe", O_RDONLY), &prog);
  check_fd("openat", openat(AT_FDCWD, "/proc/self/exe", O_RDONLY | O_CLOEXEC), &prog);
  FILE *f = fopen("/proc/self/exe", "rb");
  check_fd("fopen", f ? dup(fileno(f)) : -1, &prog);
  if (f) fclose(f);

  char exe[PATH_MAX], real[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n >= 0) exe[n] = 0;
  printf("readlink == realpath(argv[0]): %d\n", n > 0 && realpath(argv[0], real) && strcmp(exe, real) == 0);
  return 0;
}
