/* --cache-size (code cache eviction) with threads: the main thread and a
 * second JIT thread make and run far more code than a small cache holds
 * (each flushing it, often while the other is inside code being flushed),
 * while a third thread spins in a hot loop (a trace that jumps to its own
 * top: the flush must get it out, or reclamation would wait for ever) and
 * a fourth is blocked in read() on a pipe across many flushes (it holds up
 * no reclamation), then runs code of its own. A fork while the threads run
 * checks the child's copy of the cache. Every result is checked against a
 * C model; under hotpath the output must equal native. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jit_fn.h"

static int bad;
static pthread_mutex_t bad_lock = PTHREAD_MUTEX_INITIALIZER;

/* Rounds of fresh code on a page of the caller's own. */
static uint64_t jit_rounds(uint32_t seed0, unsigned rounds)
{
  uint8_t *page = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED)
    exit(1);
  uint64_t sum = 0;
  int nbad = 0;
  for (unsigned r = 0; r < rounds; r++) {
    uint32_t seed = seed0 + r;
    mprotect(page, PAGE_BYTES, PROT_READ | PROT_WRITE);
    for (unsigned i = 0; i < FNS; i++)
      emit_fn(page + i * FN_SIZE, seed * 7919u + i, 3 + (i + seed) % 17);
    mprotect(page, PAGE_BYTES, PROT_READ | PROT_EXEC);
    for (unsigned rep = 0; rep < 2; rep++)
      for (unsigned i = 0; i < FNS; i++) {
        uint32_t (*f)(uint32_t) = (uint32_t (*)(uint32_t))(void *)(page + i * FN_SIZE);
        uint32_t x = i * 2654435761u + rep, got = f(x);
        nbad += got != model_fn(seed * 7919u + i, 3 + (i + seed) % 17, x);
        sum += got;
      }
  }
  munmap(page, PAGE_BYTES);
  pthread_mutex_lock(&bad_lock);
  bad += nbad;
  pthread_mutex_unlock(&bad_lock);
  return sum;
}

static volatile int stop, spinning;
static uint64_t spin_iters, spin_acc;

static void *spinner(void *arg)
{
  (void)arg;
  uint64_t i = 0, acc = 1;
  spinning = 1;
  do { /* at least once, however late this thread runs */
    acc = acc * 6364136223846793005ull + i;
    i++;
  } while (!stop);
  spin_iters = i;
  spin_acc = acc;
  return NULL;
}

static int pipefd[2];
static uint64_t reader_sum;

static void *reader(void *arg)
{
  (void)arg;
  uint32_t seed;
  if (read(pipefd[0], &seed, sizeof seed) != sizeof seed) /* blocked across the flushes */
    exit(1);
  reader_sum = jit_rounds(seed, 3);
  return NULL;
}

static uint64_t jit2_sum;

static void *jit2(void *arg)
{
  (void)arg;
  jit2_sum = jit_rounds(5000, 10);
  return NULL;
}

int main(void)
{
  pthread_t ts, tr, tj;
  if (pipe(pipefd) != 0)
    return 1;
  pthread_create(&ts, NULL, spinner, NULL);
  while (!spinning) /* it spins while the cache is flushed */
    sched_yield();
  pthread_create(&tr, NULL, reader, NULL);
  pthread_create(&tj, NULL, jit2, NULL);
  uint64_t a = jit_rounds(1, 8);

  fflush(stdout);
  pid_t pid = fork(); /* other threads are in the cache or blocked in read */
  if (pid == 0) {
    uint64_t s = jit_rounds(900, 3);
    printf("child: %llu, bad %d\n", (unsigned long long)s, bad);
    fflush(stdout);
    _exit(bad ? 1 : 5);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

  uint64_t b = jit_rounds(100, 4);
  uint32_t seed = 7000;
  if (write(pipefd[1], &seed, sizeof seed) != sizeof seed)
    return 1;
  pthread_join(tr, NULL);
  pthread_join(tj, NULL);
  stop = 1;
  pthread_join(ts, NULL);
  /* The spinner's result for the iterations it ran (their number varies). */
  uint64_t acc = 1;
  for (uint64_t i = 0; i < spin_iters; i++)
    acc = acc * 6364136223846793005ull + i;
  printf("main: %llu %llu\n", (unsigned long long)a, (unsigned long long)b);
  printf("jit thread: %llu\n", (unsigned long long)jit2_sum);
  printf("reader: %llu\n", (unsigned long long)reader_sum);
  printf("spinner: %s\n", acc == spin_acc && spin_iters > 0 ? "consistent" : "WRONG");
  printf("bad results: %d\n", bad);
  return bad != 0;
}
