/* A timer signal at 1 kHz interrupting a tight loop of indirect calls: each tick must reach the handler even when it lands inside the lookup of an indirect branch. */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
static volatile int flag;
static void h(int s) { (void)s; flag++; }
static int f(int x) { return x + 1; }
static int (*volatile fp)(int) = f;
int main(void) {
  signal(SIGALRM, h);
  struct itimerval it = {{0, 1000}, {0, 1000}};
  setitimer(ITIMER_REAL, &it, NULL);
  long n = 0;
  for (int k = 1; k <= 200; k++) { while (flag < k) n = fp((int)n) & 0xffff; }
  printf("200 ticks seen\n");
  return 0;
}
