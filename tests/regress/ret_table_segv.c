/* Guards against: an asynchronous signal made the thread's return table
 * inaccessible so that its next translated `ret` faults into hotpath and
 * leaves the cache; when that SIGSEGV could not reach hotpath's handler
 * (blocked while the guest's own SIGSEGV handler runs, blocked by
 * sigprocmask, or ignored), the kernel killed the process instead (found
 * in review). Each part spins in a loop of calls until timer signals have
 * arrived, as natively. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>

static char *page;
static volatile long ticks, faults;
static volatile long sink;

__attribute__((noinline)) static long work(long x)
{
  __asm__ volatile("");
  return x * 7 + 3;
}

static void on_alrm(int s)
{
  (void)s;
  ticks++;
}

/* A write-barrier style handler: runs with SIGSEGV blocked (no
 * SA_NODEFER), calls functions while the timer ticks, then makes the page
 * writable so the store is retried. */
static void on_segv(int s, siginfo_t *si, void *uc)
{
  (void)s, (void)si, (void)uc;
  long acc = 0;
  for (int i = 0; i < 20000; i++)
    acc += work(i);
  faults += acc != 1;
  mprotect(page, 4096, PROT_READ | PROT_WRITE);
}

static void spin_until(long want)
{
  long acc = 0;
  while (ticks < want)
    for (int i = 0; i < 1000; i++)
      acc += work(i);
  sink = acc;
}

int main(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alrm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 200}, {0, 200}};
  setitimer(ITIMER_REAL, &it, NULL);

  page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  for (int k = 0; k < 500; k++) {
    page[k % 4096] = 1; /* faults: the handler runs */
    mprotect(page, 4096, PROT_READ);
  }
  printf("write barrier: %ld faults handled\n", faults);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGSEGV);
  sigprocmask(SIG_BLOCK, &set, NULL);
  long t0 = ticks;
  spin_until(t0 + 20);
  printf("SIGSEGV blocked: timer signals arrived\n");
  sigprocmask(SIG_UNBLOCK, &set, NULL);

  signal(SIGSEGV, SIG_IGN);
  t0 = ticks;
  spin_until(t0 + 20);
  printf("SIGSEGV ignored: timer signals arrived\n");
  return 0;
}
