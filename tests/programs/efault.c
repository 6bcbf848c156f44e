/* Bad pointers passed to system calls hotpath emulates must give EFAULT, as
 * from the kernel, not crash hotpath. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r)
{
  printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "ok");
}

int main(void)
{
  void *bad = (void *)16;
  show("readlink /proc/self/exe into a bad buffer", syscall(SYS_readlink, "/proc/self/exe", bad, 64));
  show("readlink of a bad path", syscall(SYS_readlink, bad, (char[64]){0}, 64));
  show("arch_prctl ARCH_GET_FS to a bad pointer", syscall(SYS_arch_prctl, ARCH_GET_FS, bad));
  show("rt_sigaction with a bad act", syscall(SYS_rt_sigaction, SIGUSR1, bad, NULL, 8));
  show("rt_sigaction with a bad oldact", syscall(SYS_rt_sigaction, SIGUSR1, NULL, bad, 8));
  show("sigaltstack with a bad ss", syscall(SYS_sigaltstack, bad, NULL));
  show("sigaltstack with a bad old ss", syscall(SYS_sigaltstack, NULL, bad));
  show("open of a bad path", syscall(SYS_openat, AT_FDCWD, bad, 0));
  /* SS_ONSTACK in the flags is accepted (and ignored) by the kernel. */
  static char stack[65536];
  stack_t ss = {.ss_sp = stack, .ss_size = sizeof stack, .ss_flags = SS_ONSTACK};
  show("sigaltstack with SS_ONSTACK", sigaltstack(&ss, NULL));
  return 0;
}
