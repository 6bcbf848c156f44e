/* main_thread_exit: the main thread ends with pthread_exit while a "boss"
 * thread goes on creating and joining threads (with an argument "nested",
 * each worker creates and joins a thread of its own), takes a signal and
 * changes its signal mask and handlers, and reads /proc/self files; then it
 * prints and exits 0.
 *
 * Guards against: hotpath reading and writing guest memory with
 * process_vm_readv/writev on getpid(), the main thread's pid. Once the main
 * thread has exited its task has no memory and the kernel answers ESRCH, so
 * every such access failed: a new thread's CLONE_PARENT_SETTID and
 * CLONE_CHILD_CLEARTID words were never written, pthread_join returned at
 * once (a stale result) or never, glibc gave a running thread's stack to
 * the next one, and the program died of SIGSEGV (a return to pc 0).
 * And: hotpath answering for /proc/self/{exe,cmdline,auxv} after the main
 * thread has gone, where the kernel answers ENOENT, nothing and ESRCH. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "main_gone.h"

#define ROUNDS 300

static int nested;

static void *leaf(void *arg) { return (void *)((long)arg + 1); }

static void *worker(void *arg)
{
  long i = (long)arg;
  if (!nested)
    return (void *)(i * 2);
  pthread_t t;
  if (pthread_create(&t, NULL, leaf, (void *)(i * 2 - 1)) != 0) {
    fprintf(stderr, "nested pthread_create failed at %ld\n", i);
    exit(2);
  }
  void *r;
  pthread_join(t, &r);
  return r;
}

static volatile sig_atomic_t got;
static void on_usr1(int sig) { got = sig; }

/* Emulated calls that read and write guest memory, after main has gone. */
static void signals(void)
{
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, NULL) != 0 || sigaction(SIGUSR1, NULL, &old) != 0 || old.sa_handler != on_usr1)
    printf("sigaction: handler not read back\n");
  sigset_t block, prev;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &block, &prev);
  raise(SIGUSR1);
  printf("pending while blocked: %d\n", got);
  pthread_sigmask(SIG_SETMASK, &prev, NULL);
  printf("after unblocking: %d\n", got == SIGUSR1);
}

/* What the kernel (or hotpath) says of a /proc file; never its contents
 * (they name the program, and under --native hotpath). */
static void proc_file(const char *path)
{
  char buf[4096];
  ssize_t n = readlink(path, buf, sizeof buf);
  printf("readlink %s: %s\n", path, n < 0 ? strerror(errno) : "a path");
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("open %s: %s\n", path, strerror(errno));
    return;
  }
  n = read(fd, buf, sizeof buf);
  printf("read %s: %s\n", path, n < 0 ? strerror(errno) : n == 0 ? "nothing" : "some bytes");
  close(fd);
}

static void *boss(void *arg)
{
  wait_main_gone(*(pthread_t *)arg);
  long sum = 0, bad = 0;
  for (long i = 0; i < ROUNDS; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker, (void *)i) != 0) {
      fprintf(stderr, "pthread_create failed at %ld\n", i);
      exit(2);
    }
    void *r;
    if (pthread_join(t, &r) != 0 || (long)r != i * 2) {
      if (bad++ == 0)
        printf("round %ld: join gave %ld\n", i, (long)r);
    }
    sum += (long)r;
  }
  printf("%s: %d rounds, sum %ld, bad %ld\n", nested ? "nested" : "flat", ROUNDS, sum, bad);
  signals();
  proc_file("/proc/self/exe");
  proc_file("/proc/thread-self/exe");
  proc_file("/proc/self/cmdline");
  proc_file("/proc/thread-self/cmdline");
  proc_file("/proc/self/auxv");
  proc_file("/proc/thread-self/auxv");
  fflush(stdout);
  if (nested)
    return NULL; /* the last thread to end: glibc calls exit(0) */
  exit(0);
}

int main(int argc, char **argv)
{
  nested = argc > 1 && strcmp(argv[1], "nested") == 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  static pthread_t self, b;
  self = pthread_self();
  if (pthread_create(&b, NULL, boss, &self) != 0)
    return 1;
  pthread_exit(NULL);
}
