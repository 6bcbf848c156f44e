/* Regression (hotpath's fork now goes through its own glibc's fork(), which
 * asks the kernel for glibc's tid words, not the program's): a fork-like
 * clone's tid words must be exactly the kernel's. CLONE_CHILD_SETTID: the
 * child's pid in the child's word before it runs; CLONE_PARENT_SETTID: in
 * the parent's memory only (a page shared with the child shows it to the
 * child from its start); CLONE_CHILD_CLEARTID: zeroed (and woken) when
 * the child's task ends while its memory has other users (a thread of its
 * own), not when the whole process ends; bad pointers ignored; no robust
 * list in the child. Words in private and in shared memory. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int priv[2];

static void run(const char *name, unsigned long flags, int *ptid, int *ctid)
{
  if (ptid != (int *)8)
    *ptid = -1;
  if (ctid != (int *)8)
    *ctid = -1;
  long pid = syscall(SYS_clone, flags, 0, ptid, ctid, 0);
  if (pid < 0) {
    printf("%s: clone failed\n", name);
    return;
  }
  if (pid == 0) {
    int me = (int)syscall(SYS_getpid);
    int st = 0;
    if (ctid != (int *)8)
      st |= (*ctid == ((flags & CLONE_CHILD_SETTID) ? me : -1)) << 0;
    else
      st |= 1;
    /* The parent's store reaches the child only through a shared page. */
    int want_p = (flags & CLONE_PARENT_SETTID) && ptid != priv ? me : -1;
    st |= (ptid == (int *)8 || *ptid == want_p) << 1;
    struct robust_list_head *head = (void *)1;
    size_t len = 0;
    st |= (syscall(SYS_get_robust_list, 0, &head, &len) == 0 && head == NULL) << 2;
    syscall(SYS_exit_group, st);
  }
  int status = 0;
  waitpid((pid_t)pid, &status, 0);
  int st = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  int pword = ptid == (int *)8 ? 0 : *ptid == ((flags & CLONE_PARENT_SETTID) ? (int)pid : -1);
  /* The child's CLONE_CHILD_SETTID and CLEARTID stores reach the parent only
   * through a shared page. */
  int cword = -2;
  if (ctid != (int *)8 && ctid != priv + 1) /* the memory's last user ends: no clear */
    cword = *ctid == ((flags & CLONE_CHILD_SETTID) ? (int)pid : -1);
  else if (ctid == priv + 1)
    cword = *ctid == -1;
  printf("%-28s child: ctid %s, ptid %s, robust list %s; parent: ptid %s, ctid %s\n", name,
         st < 0 ? "?" : st & 1 ? "right" : "wrong", st < 0 ? "?" : st & 2 ? "right" : "wrong",
         st < 0 ? "?" : st & 4 ? "none" : "set", ptid == (int *)8 ? "bad" : pword ? "right" : "wrong",
         cword == -2 ? "bad" : cword ? "right" : "wrong");
}

static int sleeper(void *arg)
{
  (void)arg;
  for (;;)
    syscall(SYS_pause);
  return 0;
}

/* The child's first task ends (exit, not exit_group) while a thread of its
 * own still runs: the kernel zeroes its CLONE_CHILD_CLEARTID word in the
 * shared page and wakes it. */
static void cleartid_with_thread(int *shared)
{
  static char stack[1 << 16] __attribute__((aligned(16)));
  shared[1] = -1;
  long pid = syscall(SYS_clone, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, 0, NULL, &shared[1], 0);
  if (pid == 0) {
    if (clone(sleeper, stack + sizeof stack, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, NULL) < 0)
      syscall(SYS_exit_group, 1);
    syscall(SYS_exit, 0);
  }
  /* Until the word is zero (a bound for a hang, not a speed test). */
  struct timespec tick = {0, 10 * 1000 * 1000};
  for (int i = 0; i < 1000; i++) {
    int v = __atomic_load_n(&shared[1], __ATOMIC_ACQUIRE);
    if (v == 0)
      break;
    syscall(SYS_futex, &shared[1], FUTEX_WAIT, v, &tick, NULL, 0);
  }
  printf("%-28s parent: ctid %s\n", "cleartid, thread left", shared[1] == 0 ? "cleared" : "not cleared");
  kill((pid_t)pid, SIGKILL);
  waitpid((pid_t)pid, NULL, 0);
}

int main(void)
{
  int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED)
    return 1;
  const unsigned long all = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID | SIGCHLD;
  run("all, private", all, &priv[0], &priv[1]);
  run("all, shared", all, &shared[0], &shared[1]);
  run("settid only, shared", CLONE_CHILD_SETTID | CLONE_PARENT_SETTID | SIGCHLD, &shared[0], &shared[1]);
  run("cleartid only, shared", CLONE_CHILD_CLEARTID | SIGCHLD, &shared[0], &shared[1]);
  run("none, shared", SIGCHLD, &shared[0], &shared[1]);
  run("bad pointers", all, (int *)8, (int *)8);
  run("bad ptid", all, (int *)8, &shared[1]);
  cleartid_with_thread(shared);
  return 0;
}
