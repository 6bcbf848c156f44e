/* handler_fenv: a signal handler starts with the default floating-point
 * environment (x87 control word 0x37f, MXCSR 0x1f80: round to nearest, all
 * exceptions masked, no flags), whatever the interrupted code had set; the
 * interrupted code's environment is back after the handler returns.
 *
 * Guards against: hotpath running guest handlers with the interrupted code's
 * rounding mode and exception flags (it did not reset the FPU state the way
 * the kernel does when it builds a signal frame). */
#include <fenv.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile int h_round;
static volatile unsigned h_cw, h_mxcsr;

static unsigned get_cw(void)
{
  unsigned short cw;
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  return cw;
}

static unsigned get_mxcsr(void)
{
  unsigned m;
  __asm__ volatile("stmxcsr %0" : "=m"(m));
  return m;
}

static void handler(int s)
{
  (void)s;
  h_round = fegetround();
  h_cw = get_cw();
  h_mxcsr = get_mxcsr();
}

int main(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigaction(SIGUSR1, &sa, NULL);

  fesetround(FE_DOWNWARD);
  feclearexcept(FE_ALL_EXCEPT);
  feraiseexcept(FE_INEXACT);
  raise(SIGUSR1);
  int after_round = fegetround();
  int after_flags = fetestexcept(FE_INEXACT) != 0;
  fesetround(FE_TONEAREST);
  feclearexcept(FE_ALL_EXCEPT);

  printf("in handler: rounding %s, x87 cw %#x, mxcsr %#x\n",
         h_round == FE_TONEAREST ? "to-nearest (fresh FPU state)" : "inherited from interrupted code", h_cw,
         h_mxcsr);
  printf("after return: rounding downward again: %d, inexact flag kept: %d\n", after_round == FE_DOWNWARD,
         after_flags);
  return 0;
}
