/* xbegin_nortm: on a CPU without RTM (transactional memory), xbegin raises
 * #UD: the program gets SIGILL at that instruction (here caught, then
 * died of when uncaught is not tested: the handler siglongjmps).
 *
 * Guards against: hotpath stopping with status 125 ("transactional memory
 * is not translated") where the native program just gets its SIGILL, as
 * on every AMD and most current Intel CPUs. On a CPU with RTM (where
 * hotpath still stops with 125) the test prints the same line and skips. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf env;
static volatile void *fault_addr;

static void on_ill(int sig, siginfo_t *si, void *uc)
{
  (void)sig;
  (void)uc;
  fault_addr = si->si_addr;
  siglongjmp(env, 1);
}

extern const char xbegin_at[];

int main(void)
{
  unsigned a = 7, b = 0, c = 0, d = 0;
  __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  if ((b >> 11) & 1) {
    puts("SIGILL at the xbegin: 1 (RTM present: not run)");
    return 0;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_ill;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGILL, &sa, NULL);
  if (!sigsetjmp(env, 1)) {
    __asm__ volatile(".globl xbegin_at\nxbegin_at:\n\t.byte 0xc7, 0xf8, 0, 0, 0, 0\n" ::: "memory", "rax");
    puts("xbegin ran");
    return 1;
  }
  printf("SIGILL at the xbegin: %d\n", fault_addr == (void *)xbegin_at);
  return 0;
}
