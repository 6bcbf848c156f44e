/* Regression: a fork while other threads keep hotpath's own C library busy.
 * hotpath made a fork's child with a raw clone, bypassing its glibc's fork
 * handlers: a lock another thread held in hotpath's glibc at that instant
 * (malloc's arenas, the thread-stack cache pthread_create and thread exit
 * take, stdio's) stayed held in the child forever, and the child hung the
 * first time hotpath needed it there (here: the child creates a thread).
 * Threads create and join threads, run freshly written code (hotpath
 * translates it), and take signals, while the main thread forks 80 times;
 * each child runs new code, creates and joins a thread and _exits with a
 * status of its own. A child that has not ended after 30 s counts as
 * hung (a bound for a deadlock, not a speed test). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FORKS 80 /* with 24 variants in CI: 1,920 forks per run of the suite */
#define SPAWNERS 3

static volatile int stop;
static volatile int jit_bad, sig_bad;
static volatile sig_atomic_t sigs;

/* A new page holding `mov eax, v; ret`, run and unmapped: code hotpath has
 * not seen at this address since the last unmap. */
static int run_fresh(uint32_t v)
{
  uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return -1;
  p[0] = 0xb8;
  memcpy(p + 1, &v, 4);
  p[5] = 0xc3;
  if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) {
    munmap(p, 4096);
    return -1;
  }
  uint32_t r = ((uint32_t(*)(void))p)();
  munmap(p, 4096);
  return r == v ? 0 : 1;
}

static void *leaf(void *arg) { return (void *)((uintptr_t)arg * 3); }

static void *spawner(void *arg)
{
  (void)arg;
  for (uintptr_t i = 0; !stop; i++) {
    pthread_t th;
    void *r;
    if (pthread_create(&th, NULL, leaf, (void *)i) != 0)
      continue;
    pthread_join(th, &r);
  }
  return NULL;
}

static void *jitter(void *arg)
{
  (void)arg;
  for (uint32_t i = 0; !stop; i++)
    if (run_fresh(i * 2654435761u) != 0)
      jit_bad = 1;
  return NULL;
}

static void on_usr1(int sig) { (void)sig; sigs++; }

static void *signaller(void *arg)
{
  (void)arg;
  while (!stop) {
    int before = sigs;
    raise(SIGUSR1);
    if (sigs != before + 1)
      sig_bad = 1;
  }
  return NULL;
}

static void *child_leaf(void *arg)
{
  unsigned s = 0;
  for (unsigned i = 0; i < 1000; i++)
    s += i ^ (unsigned)(uintptr_t)arg;
  return (void *)(uintptr_t)s;
}

static void child(int n)
{
  if (run_fresh(0x1000u + (uint32_t)n) != 0)
    _exit(201);
  pthread_t th;
  void *r;
  if (pthread_create(&th, NULL, child_leaf, (void *)(uintptr_t)n) != 0 || pthread_join(th, &r) != 0)
    _exit(202);
  unsigned want = 0;
  for (unsigned i = 0; i < 1000; i++)
    want += i ^ (unsigned)n;
  _exit((uintptr_t)r == want ? n % 200 : 203);
}

/* The child's status, or -1 if it has not ended within 30 s (then killed). */
static int wait_bounded(pid_t pid)
{
  struct timespec ms = {0, 1000 * 1000};
  for (int i = 0; i < 30 * 1000; i++) {
    int st;
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
    if (w < 0)
      return -2;
    nanosleep(&ms, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

int main(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t th[SPAWNERS + 2];
  int nth = 0;
  for (int i = 0; i < SPAWNERS; i++)
    pthread_create(&th[nth++], NULL, spawner, NULL);
  pthread_create(&th[nth++], NULL, jitter, NULL);
  pthread_create(&th[nth++], NULL, signaller, NULL);
  int ok = 0, bad = 0, hung = -1;
  for (int n = 0; n < FORKS; n++) {
    pid_t pid = fork();
    if (pid < 0) {
      bad++;
      continue;
    }
    if (pid == 0)
      child(n);
    int st = wait_bounded(pid);
    if (st == n % 200)
      ok++;
    else if (st == -1) {
      hung = n;
      break;
    } else {
      if (bad++ == 0)
        printf("child %d: status %d\n", n, st);
    }
  }
  stop = 1;
  for (int i = 0; i < nth; i++)
    pthread_join(th[i], NULL);
  printf("forks: %d children ended well, %d badly\n", ok, bad);
  if (hung >= 0)
    printf("child %d hung\n", hung);
  printf("fresh code: %s; signals: %s\n", jit_bad ? "wrong" : "right", sig_bad ? "lost" : "delivered");
  return ok == FORKS ? 0 : 1;
}
