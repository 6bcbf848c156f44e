/* int80_sigcalls: 32-bit system calls (`int $0x80`) that a signal ends.
 * A futex wait interrupted by a handler installed with SA_RESTART is
 * restarted by the kernel (the guest never sees EINTR); rt_sigsuspend runs
 * the handler of a signal its mask lets through before it returns (with
 * the call's mask, not the one restored after). hotpath gave the futex
 * wait EINTR and delivered the signal only once the program unblocked it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long int80(long nr, long b, long c, long d, long s)
{
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(b), "c"(c), "d"(d), "S"(s) : "memory");
  return r;
}

static volatile sig_atomic_t handled, blocked_in_handler;
static void on_usr1(int sig)
{
  (void)sig;
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  blocked_in_handler = sigismember(&now, SIGUSR2);
  handled++;
}

static pthread_t main_thread;
static volatile int ready;
static uint32_t *word; /* below 4 GiB: a 32-bit pointer */

static void *waker(void *arg)
{
  (void)arg;
  while (!ready)
    usleep(1000);
  usleep(50000); /* most likely in the futex wait by now */
  pthread_kill(main_thread, SIGUSR1);
  while (!handled)
    usleep(1000);
  usleep(20000);
  __atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
  syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
  return NULL;
}

static void *sender(void *arg)
{
  (void)arg;
  while (!ready)
    usleep(1000);
  usleep(20000);
  pthread_kill(main_thread, SIGUSR1);
  return NULL;
}

int main(void)
{
  main_thread = pthread_self();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  uint8_t *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (low == MAP_FAILED)
    return 1;
  word = (uint32_t *)low;

  /* futex(FUTEX_WAIT) without a timeout: ERESTARTSYS, restarted. */
  pthread_t th;
  pthread_create(&th, NULL, waker, NULL);
  ready = 1;
  int eintr = 0;
  while (!__atomic_load_n(word, __ATOMIC_SEQ_CST)) {
    long r = int80(240, (long)(uintptr_t)word, FUTEX_WAIT, 0, 0);
    eintr += r == -EINTR;
  }
  pthread_join(th, NULL);
  printf("futex wait: handled %d, EINTR seen %d\n", (int)handled, eintr);

  /* rt_sigsuspend with SIGUSR1 blocked outside and let through by its
   * mask (which blocks SIGUSR2): the handler runs before it returns. */
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, NULL);
  handled = 0;
  ready = 0;
  uint64_t *mask = (uint64_t *)(low + 64);
  *mask = 1ull << (SIGUSR2 - 1);
  pthread_create(&th, NULL, sender, NULL);
  ready = 1;
  long r = int80(179, (long)(uintptr_t)mask, 8, 0, 0);
  int during = handled;
  printf("rt_sigsuspend: %ld, handler ran before it returned: %d, SIGUSR2 blocked in it: %d\n", r, during,
         (int)blocked_in_handler);
  pthread_join(th, NULL);
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  printf("handled %d\n", (int)handled);
  return 0;
}
