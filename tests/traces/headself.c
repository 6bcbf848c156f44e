/* A trace head whose recordings always fail (the loop body traps with int3:
 * a fault ends every recording) is given up; with its exit unlinked (here by
 * --no-link) the dispatcher must aim the counting head's exit at its block,
 * never at the head itself: that once made the thread count forever without
 * running guest code (found by review). Also run with a 5 kHz timer so
 * asynchronous signals unlink the head while the loop runs. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static volatile long traps, alarms;
static void on_trap(int s) { (void)s; traps++; }
static void on_alrm(int s) { (void)s; alarms++; }

static long run(long n)
{
  long sum = 0;
  for (long i = 0; i < n; i++) {
    __asm__ volatile("int3");
    sum += i;
  }
  return sum;
}

int main(void)
{
  signal(SIGTRAP, on_trap);
  long n = 10000; /* each trap is a signal: tens of microseconds on a VM */
  long s1 = run(n);
  signal(SIGALRM, on_alrm);
  struct itimerval it = {{0, 200}, {0, 200}};
  setitimer(ITIMER_REAL, &it, 0);
  long s2 = run(n);
  struct itimerval z;
  memset(&z, 0, sizeof z);
  setitimer(ITIMER_REAL, &z, 0);
  long want = n * (n - 1) / 2;
  printf("sums %ld %ld, traps %ld: %s\n", s1, s2, traps,
         s1 == want && s2 == want && traps == 2 * n ? "ok" : "FAILED");
  return s1 == want && s2 == want && traps == 2 * n ? 0 : 1;
}
