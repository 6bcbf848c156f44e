/* sigframe_xsave: the software-reserved fields that the kernel puts in the
 * fxsave area of a signal frame (struct _fpx_sw_bytes at offset 464:
 * FP_XSTATE_MAGIC1, extended_size, xfeatures, xstate_size) and the
 * FP_XSTATE_MAGIC2 word after the xsave area, as seen by an SA_SIGINFO
 * handler.  glibc and unwinders use them to find and size the xsave data.
 *
 * Guards against: hotpath's guest signal frames leaving these fields zero (or
 * sized for hotpath's own xsave layout), so that code inspecting the frame saw
 * no extended state or read past it. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#endif
#ifndef FP_XSTATE_MAGIC2
#define FP_XSTATE_MAGIC2 0x46505845u
#endif

static volatile int ran;
static volatile uint32_t magic1, magic2, ext_size, xstate_size;
static volatile uint64_t xfeatures;
static volatile int aligned, uc_fp_xstate;

static void handler(int s, siginfo_t *si, void *ucv)
{
  (void)s;
  (void)si;
  ucontext_t *uc = ucv;
  const unsigned char *fp = (const unsigned char *)uc->uc_mcontext.fpregs;
  const unsigned char *sw = fp + 464;
  uint32_t m1, es, xs, m2 = 0;
  uint64_t xf;
  memcpy(&m1, sw, 4);
  memcpy(&es, sw + 4, 4);
  memcpy(&xf, sw + 8, 8);
  memcpy(&xs, sw + 16, 4);
  if (m1 == FP_XSTATE_MAGIC1 && xs >= 512 && xs < (1u << 20))
    memcpy(&m2, fp + xs, 4);
  magic1 = m1;
  ext_size = es;
  xfeatures = xf;
  xstate_size = xs;
  magic2 = m2;
  aligned = ((uintptr_t)fp & 63) == 0;
  uc_fp_xstate = (uc->uc_flags & 1) != 0;   /* UC_FP_XSTATE */
  ran++;
}

int main(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  printf("handler ran %d time(s)\n", ran);
  printf("sw bytes: magic1=%#x (ok: %d) extended_size=%u xfeatures=%#llx xstate_size=%u\n", magic1,
         magic1 == FP_XSTATE_MAGIC1, ext_size, (unsigned long long)xfeatures, xstate_size);
  printf("extended_size == xstate_size + 4: %d, magic2 after the xsave area: %d\n", ext_size == xstate_size + 4,
         magic2 == FP_XSTATE_MAGIC2);
  printf("fpregs 64-byte aligned: %d, UC_FP_XSTATE set: %d\n", aligned, uc_fp_xstate);
  return 0;
}
