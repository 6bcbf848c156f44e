/* A signal during a blocking system call: the handler runs at once (it may
 * siglongjmp out), then the call restarts under SA_RESTART or fails with EINTR. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>
#include <errno.h>
static sigjmp_buf jb;
static volatile int hits;
static void on_alarm(int s) { (void)s; hits++; siglongjmp(jb, 1); }
static void count(int s) { (void)s; hits++; }
int main(void) {
  int p[2]; pipe(p);
  /* signal() gives SA_RESTART: the read would restart forever; the handler jumps out. */
  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 0}, {0, 20000}};
  if (sigsetjmp(jb, 1) == 0) {
    setitimer(ITIMER_REAL, &it, NULL);
    char c; read(p[0], &c, 1);
    puts("read returned?!");
  } else puts("timed out of a blocking read");
  /* SA_RESTART: the read restarts after the handler and gets the data written later. */
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = count; sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  if (fork() == 0) { usleep(100000); write(p[1], "x", 1); _exit(0); }
  setitimer(ITIMER_REAL, &it, NULL);
  char c = 0; ssize_t r = read(p[0], &c, 1);
  printf("restarted read: %zd %c, handler ran: %s\n", r, c, hits >= 2 ? "yes" : "no");
  /* No SA_RESTART: EINTR. */
  sa.sa_flags = 0; sigaction(SIGALRM, &sa, NULL);
  setitimer(ITIMER_REAL, &it, NULL);
  r = read(p[0], &c, 1);
  printf("plain read: %zd %s\n", r, r < 0 && errno == EINTR ? "EINTR" : "?");
  return 0;
}
