/* signal_before_syscall: a signal that arrives just before a blocking system
 * call (in the same basic block: a long rep stosb, then read() from an empty
 * pipe) must have its handler run before the call blocks.  The handler writes
 * the byte the read is waiting for.
 *
 * Guards against: hotpath noting the pending signal but entering the blocking
 * syscall first, so the handler (which would have made the syscall return)
 * never ran and the program hung.  A watchdog timer (default action of
 * SIGUSR2: terminate) ends a hang after 20 s with a distinct status. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int p[2];
static volatile int handled;

static void handler(int s)
{
  (void)s;
  char c = 'x';
  handled++;
  write(p[1], &c, 1);
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  if (pipe(p) != 0) { perror("pipe"); return 1; }

  timer_t wd;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR2;
  struct itimerspec wdt = {{0, 0}, {20, 0}};
  if (timer_create(CLOCK_MONOTONIC, &sev, &wd) != 0 || timer_settime(wd, 0, &wdt, NULL) != 0) {
    perror("watchdog");
    return 1;
  }

  size_t n = 256ul << 20;
  char *buf = malloc(n);
  if (!buf) return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 0}, {0, 5000}};
  setitimer(ITIMER_REAL, &it, NULL);

  char c = 0;
  long r;
  char *d = buf;
  size_t cnt = n;
  /* One block: the timer fires during the rep stosb (filling with 0x5a); then
   * read(p[0], &c, 1).  rdi and rcx are clobbered (rcx by the syscall). */
  __asm__ volatile("rep stosb\n\t"
                   "mov %[fd], %%edi\n\t"
                   "mov %[b], %%rsi\n\t"
                   "mov $1, %%edx\n\t"
                   "xor %%eax, %%eax\n\t"
                   "syscall"
                   : "=a"(r), "+D"(d), "+c"(cnt)
                   : [fd] "r"(p[0]), [b] "r"(&c), "0"(0x5aL)
                   : "rsi", "rdx", "r11", "memory");
  printf("read returned %ld, byte '%c', handler ran %d time(s), buffer filled: %d\n", r, c, handled,
         buf[0] == 0x5a && buf[n / 2] == 0x5a && buf[n - 1] == 0x5a);
  free(buf);
  return 0;
}
