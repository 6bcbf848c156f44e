/* clone_vm_process: clone(CLONE_VM) without CLONE_THREAD, a process that
 * shares its parent's memory but has its own pid and thread group.
 *
 * Checks, each as a boolean or a relation (never a raw pid): the child's
 * writes are seen by the parent; getpid() in the child is its own (not the
 * parent's, equal to its tid) and getppid() is the parent; the exit status
 * through waitpid (SYS_exit and exit_group, which ends only the child); the
 * exit signal in the flags' low byte (SIGCHLD: plain waitpid; another signal
 * or none: only with __WCLONE); SIGCHLD pending and then handled by the
 * parent; CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID (the
 * futex wake after the child ends); CLONE_SETTLS; a kill() of the child's pid
 * delivered to its handler; signal handlers copied without CLONE_SIGHAND (a
 * sigaction in the child leaves the parent's alone) and shared with it;
 * descriptors copied or shared (CLONE_FILES); a child that calls printf,
 * snprintf, malloc and free.
 *
 * Guards against: hotpath stopping with status 125 ("clone with CLONE_VM
 * but without CLONE_THREAD is not supported") where the program runs
 * natively (issue 15, item 22). */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __WCLONE
#define __WCLONE 0x80000000
#endif

#define STACK_SIZE (256 * 1024)
static char child_stack[STACK_SIZE] __attribute__((aligned(64)));
static void *stack_top(void) { return child_stack + STACK_SIZE; }

/* Written by the child, read by the parent (shared memory). */
static volatile int shared_value;
static volatile pid_t child_pid_seen, child_tid_seen, child_ppid_seen;
static volatile int child_ctid_ok, child_handler_inherited, child_got_usr1, ready;
static volatile int child_fd = -1;
static volatile int child_libc_ok;
static volatile uintptr_t child_fs_seen;
static pid_t parent_pid;
static pid_t ptid_word, ctid_word;

static volatile sig_atomic_t parent_usr1, child_usr1, chld, usr2;
static void parent_h(int s) { (void)s; parent_usr1++; }
static void child_h(int s) { (void)s; child_usr1++; }
static void chld_h(int s) { (void)s; chld++; }
static void usr2_h(int s) { (void)s; usr2++; }

static void set_handler(int sig, void (*h)(int))
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sigaction(sig, &sa, NULL);
}

static void (*get_handler(int sig))(int)
{
  struct sigaction old;
  sigaction(sig, NULL, &old);
  return old.sa_handler;
}

static const char *yesno(int b) { return b ? "yes" : "no"; }

/* --- 1: identity, shared memory, exit status, SIGCHLD, the tid words --- */
static int child_basic(void *arg)
{
  shared_value = 42;
  child_pid_seen = getpid();
  child_tid_seen = (pid_t)syscall(SYS_gettid);
  child_ppid_seen = getppid();
  child_ctid_ok = ctid_word == child_tid_seen;
  return (int)(intptr_t)arg;
}

static void test_basic(void)
{
  printf("-- CLONE_VM|SIGCHLD with PARENT_SETTID, CHILD_SETTID, CHILD_CLEARTID\n");
  sigset_t chldset, old;
  sigemptyset(&chldset);
  sigaddset(&chldset, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chldset, &old);
  chld = 0;
  ctid_word = -1; /* the child's start sets it, its end clears it: wait for 0 */
  pid_t p = clone(child_basic, stack_top(),
                  CLONE_VM | SIGCHLD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID,
                  (void *)(intptr_t)5, &ptid_word, NULL, &ctid_word);
  if (p < 0) {
    printf("clone failed: %s\n", strerror(errno));
    exit(1);
  }
  printf("parent's tid word is the child's pid: %s\n", yesno(ptid_word == p));
  /* CLONE_CHILD_CLEARTID: zeroed and woken when the child is gone. */
  for (;;) {
    pid_t v = __atomic_load_n(&ctid_word, __ATOMIC_ACQUIRE);
    if (v == 0)
      break;
    syscall(SYS_futex, &ctid_word, FUTEX_WAIT, v, NULL, NULL, 0);
  }
  printf("child tid word cleared after the child ended: yes\n");
  printf("child saw its own tid in the child tid word: %s\n", yesno(child_ctid_ok));
  int st = 0;
  pid_t w = waitpid(p, &st, 0);
  printf("waitpid (no __WCLONE) found the child: %s\n", yesno(w == p));
  printf("exited with status 5: %s\n", yesno(WIFEXITED(st) && WEXITSTATUS(st) == 5));
  printf("parent sees the child's write: %s (value %d)\n", yesno(shared_value == 42), shared_value);
  printf("child's getpid() differs from the parent's: %s\n", yesno(child_pid_seen != parent_pid));
  printf("child's getpid() is the returned pid: %s\n", yesno(child_pid_seen == p));
  printf("child's getpid() equals its gettid(): %s\n", yesno(child_pid_seen == child_tid_seen));
  printf("child's getppid() is the parent: %s\n", yesno(child_ppid_seen == parent_pid));
  sigset_t pend;
  sigpending(&pend);
  printf("SIGCHLD pending in the parent: %s\n", yesno(sigismember(&pend, SIGCHLD)));
  sigprocmask(SIG_SETMASK, &old, NULL);
  printf("SIGCHLD handled by the parent: %d time(s)\n", (int)chld);
}

/* --- 2: exit_group in the child ends only the child; other exit signals --- */
static int child_exit_group(void *arg)
{
  (void)arg;
  shared_value = 7;
  syscall(SYS_exit_group, 7);
  return 99; /* not reached */
}

static void test_exit_signal(int exitsig, const char *name)
{
  printf("-- CLONE_VM with exit signal %s, child calls exit_group(7)\n", name);
  chld = usr2 = 0;
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &set, &old);
  shared_value = 0;
  pid_t p = clone(child_exit_group, stack_top(), CLONE_VM | exitsig, NULL);
  int st = 0;
  errno = 0;
  pid_t w;
  if (exitsig != SIGCHLD) {
    /* Without __WCLONE only children whose exit signal is SIGCHLD are found. */
    w = waitpid(p, &st, WNOHANG);
    printf("waitpid without __WCLONE: %s\n", w < 0 && errno == ECHILD ? "ECHILD" : "found it");
    w = waitpid(p, &st, __WCLONE);
  } else {
    w = waitpid(p, &st, 0);
  }
  printf("waitpid found the child: %s\n", yesno(w == p));
  printf("exited with status 7: %s\n", yesno(WIFEXITED(st) && WEXITSTATUS(st) == 7));
  printf("parent still running, sees the child's write: %s\n", yesno(shared_value == 7));
  sigset_t pend;
  sigpending(&pend);
  printf("SIGCHLD pending: %s, SIGUSR2 pending: %s\n", yesno(sigismember(&pend, SIGCHLD)),
         yesno(sigismember(&pend, SIGUSR2)));
  sigprocmask(SIG_SETMASK, &old, NULL);
  printf("handled: SIGCHLD %d, SIGUSR2 %d\n", (int)chld, (int)usr2);
}

/* --- 3: signal handlers copied or shared; kill() of the child's pid --- */
static int child_signals(void *arg)
{
  (void)arg;
  child_handler_inherited = get_handler(SIGUSR1) == parent_h;
  set_handler(SIGUSR1, child_h);
  child_usr1 = 0;
  kill(getpid(), SIGUSR1); /* to itself: its own handler */
  /* Then one from the parent, to the child's pid. */
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, &old);
  __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
  while (child_usr1 < 2)
    sigsuspend(&old);
  child_got_usr1 = child_usr1;
  return 0;
}

static void test_signals(int sighand)
{
  printf("-- CLONE_VM|SIGCHLD %s CLONE_SIGHAND: the child sets its own SIGUSR1 handler\n",
         sighand ? "with" : "without");
  set_handler(SIGUSR1, parent_h);
  parent_usr1 = 0;
  ready = 0;
  child_got_usr1 = 0;
  pid_t p = clone(child_signals, stack_top(), CLONE_VM | SIGCHLD | (sighand ? CLONE_SIGHAND : 0), NULL);
  while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
    sched_yield();
  kill(p, SIGUSR1);
  int st = 0;
  pid_t w = waitpid(p, &st, 0);
  printf("child ended normally: %s\n", yesno(w == p && WIFEXITED(st) && WEXITSTATUS(st) == 0));
  printf("child inherited the parent's handler: %s\n", yesno(child_handler_inherited));
  printf("child's handler ran for its own kill and the parent's: %d time(s)\n", (int)child_got_usr1);
  printf("parent's handler ran meanwhile: %d time(s)\n", (int)parent_usr1);
  void (*h)(int) = get_handler(SIGUSR1);
  printf("parent's SIGUSR1 handler now: %s\n", h == parent_h ? "the parent's" : h == child_h ? "the child's" : "other");
  parent_usr1 = child_usr1 = 0;
  raise(SIGUSR1);
  printf("raise in the parent ran: parent's %d, child's %d\n", (int)parent_usr1, (int)child_usr1);
  set_handler(SIGUSR1, parent_h);
}

/* --- 4: descriptors copied or shared --- */
static int child_files(void *arg)
{
  (void)arg;
  child_fd = open("/dev/null", O_RDONLY);
  return 0;
}

static void test_files(int files)
{
  printf("-- CLONE_VM|SIGCHLD %s CLONE_FILES: the child opens a file\n", files ? "with" : "without");
  pid_t p = clone(child_files, stack_top(), CLONE_VM | SIGCHLD | (files ? CLONE_FILES : 0), NULL);
  int st = 0;
  waitpid(p, &st, 0);
  int open_in_parent = child_fd >= 0 && fcntl(child_fd, F_GETFD) >= 0;
  printf("child opened it: %s; open in the parent: %s\n", yesno(child_fd >= 0), yesno(open_in_parent));
  if (open_in_parent)
    close(child_fd);
}

/* --- 5: a child that uses libc (the parent's TLS: it waits meanwhile) --- */
static int child_libc(void *arg)
{
  const char *who = arg;
  char *buf = malloc(64);
  snprintf(buf, 64, "hello from the %s child, %d", who, 6 * 7);
  printf("child says: %s\n", buf);
  fflush(stdout);
  char *more = malloc(1000);
  memset(more, 'x', 999);
  more[999] = 0;
  child_libc_ok = strlen(more) == 999 && strcmp(buf + strlen(buf) - 2, "42") == 0;
  free(more);
  free(buf);
  return 3;
}

static void test_libc(void)
{
  printf("-- CLONE_VM|SIGCHLD: the child calls printf, snprintf, malloc, free\n");
  pid_t p = clone(child_libc, stack_top(), CLONE_VM | SIGCHLD, "clone(CLONE_VM)");
  int st = 0;
  waitpid(p, &st, 0);
  printf("child's libc calls worked: %s; status 3: %s\n", yesno(child_libc_ok),
         yesno(WIFEXITED(st) && WEXITSTATUS(st) == 3));
  char *p2 = malloc(100); /* the parent's heap still works */
  strcpy(p2, "parent's malloc after the child");
  printf("%s: ok\n", p2);
  free(p2);
}

/* --- 6: CLONE_SETTLS: the child runs with a TLS block of its own --- */
static uint64_t fake_tcb[64] __attribute__((aligned(64)));
static int child_tls(void *arg)
{
  (void)arg;
  uintptr_t fs;
  __asm__ volatile("mov %%fs:0, %0" : "=r"(fs));
  child_fs_seen = fs;
  return 0;
}

static void test_settls(void)
{
  printf("-- CLONE_VM|SIGCHLD|CLONE_SETTLS\n");
  uintptr_t fs;
  __asm__ volatile("mov %%fs:0, %0" : "=r"(fs));
  memcpy(fake_tcb, (void *)fs, sizeof fake_tcb); /* canary and the rest as the parent's */
  fake_tcb[0] = (uint64_t)(uintptr_t)fake_tcb;   /* tcb->tcb */
  fake_tcb[2] = (uint64_t)(uintptr_t)fake_tcb;   /* tcb->self */
  child_fs_seen = 0;
  pid_t p = clone(child_tls, stack_top(), CLONE_VM | SIGCHLD | CLONE_SETTLS, NULL, NULL, fake_tcb);
  int st = 0;
  waitpid(p, &st, 0);
  uintptr_t now;
  __asm__ volatile("mov %%fs:0, %0" : "=r"(now));
  printf("child's FS was the new block: %s; the parent's is unchanged: %s\n",
         yesno(child_fs_seen == (uintptr_t)fake_tcb), yesno(now == fs));
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  parent_pid = getpid();
  set_handler(SIGCHLD, chld_h);
  set_handler(SIGUSR2, usr2_h);
  test_basic();
  test_exit_signal(SIGCHLD, "SIGCHLD");
  test_exit_signal(SIGUSR2, "SIGUSR2");
  test_exit_signal(0, "none");
  test_signals(0);
  test_signals(1);
  test_files(0);
  test_files(1);
  test_libc();
  test_settls();
  printf("parent's getpid() unchanged: %s\n", yesno(getpid() == parent_pid));
  return 0;
}
