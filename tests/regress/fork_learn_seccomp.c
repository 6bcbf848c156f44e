/* Regression (fork learning, src/runtime/clone.c): a parent built, before a
 * fork, the blocks its children had built, checking their bytes with
 * system calls (mincore, process_vm_readv) after the program had installed
 * a seccomp filter that kills one of them: the program died of SIGSYS.
 * Nothing is learned under a seccomp filter. The program forks, then
 * denies mincore (which it never calls), then forks again. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
__attribute__((noinline)) static long work(long x)
{
  long s = 0;
  for (int k = 0; k < 100; k++)
    s += (x * k) % 7 + (k & 3 ? x : -x);
  return s;
}
static void child_round(int r)
{
  pid_t p = fork();
  if (p == 0)
    _exit((int)(work(r) & 0x7f));
  int st;
  waitpid(p, &st, 0);
  printf("round %d: %d\n", r, WEXITSTATUS(st));
}
int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  child_round(0);
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mincore, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
    perror("seccomp");
    return 1;
  }
  for (int r = 1; r < 5; r++)
    child_round(r);
  return 0;
}
