/* seccomp_filter_madvise: a program runs code from an anonymous page,
 * installs a seccomp filter that kills the process at any madvise call
 * (which the program itself never makes), then unmaps that code and goes
 * on running code it has not run before.
 *
 * Guards against: hotpath's own madvise calls after the filter (huge pages
 * and populating the table a range flush builds, review of the seventeenth
 * session): the process died of SIGSYS where natively it prints and exits 0.
 * hotpath makes no call of its own that is only for speed once a filter is
 * in place. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int main(void)
{
  unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED)
    return 3;
  static const unsigned char ret42[] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov eax, 42; ret */
  memcpy(code, ret42, sizeof ret42);
  int before = ((int (*)(void))code)();

  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_madvise, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    perror("seccomp");
    return 2;
  }
  /* The code it ran goes: under hotpath, a flush of that range. */
  if (munmap(code, 4096) != 0)
    return 4;
  /* New code after the filter: blocks translated and tables grown. */
  int v[64];
  for (int i = 0; i < 64; i++)
    v[i] = (i * 37) % 64;
  qsort(v, 64, sizeof v[0], cmp);
  char buf[64];
  snprintf(buf, sizeof buf, "%d %d %d %.3f\n", before, v[0], v[63], strtod("2.5", NULL) * 3);
  fputs(buf, stdout);
  puts("survived");
  return 0;
}
