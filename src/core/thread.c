/* Thread blocks: allocation, GS attachment, extended-state sizing. */
#include "hotpath/thread.h"

#include <asm/prctl.h>
#include <cpuid.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hotpath/log.h"
#include "hotpath/options.h"

_Static_assert(offsetof(struct hp_thread, gpr) == HP_T_GPR, "gpr");
_Static_assert(offsetof(struct hp_thread, rflags) == HP_T_RFLAGS, "rflags");
_Static_assert(offsetof(struct hp_thread, guest_fs) == HP_T_GUEST_FS, "guest_fs");
_Static_assert(offsetof(struct hp_thread, host_fs) == HP_T_HOST_FS, "host_fs");
_Static_assert(offsetof(struct hp_thread, host_rsp) == HP_T_HOST_RSP, "host_rsp");
_Static_assert(offsetof(struct hp_thread, enter_pc) == HP_T_ENTER_PC, "enter_pc");
_Static_assert(offsetof(struct hp_thread, exit_rec) == HP_T_EXIT_REC, "exit_rec");
_Static_assert(offsetof(struct hp_thread, self) == HP_T_SELF, "self");
_Static_assert(offsetof(struct hp_thread, xsave_mask) == HP_T_XMASK, "xmask");
_Static_assert(offsetof(struct hp_thread, use_fsgsbase) == HP_T_USE_FSGSBASE, "fsgsbase");
_Static_assert(offsetof(struct hp_thread, xsave) == HP_T_XSAVE, "xsave");

#define HWCAP2_FSGSBASE_BIT (1ul << 1)
#define HOST_STACK_SIZE (1ul << 20)

static size_t xsave_size(uint64_t *mask)
{
  unsigned a, b, c, d;
  __cpuid_count(0xd, 0, a, b, c, d);
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  *mask = ((uint64_t)hi << 32) | lo;
  return b;
}

struct hp_thread *hp_thread_new(void)
{
  uint64_t mask;
  size_t xs = xsave_size(&mask);
  size_t size = (sizeof(struct hp_thread) + xs + 4095) & ~4095ul;
  struct hp_thread *t = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (t == MAP_FAILED)
    hp_fatal(HP_STATUS_UNSUPPORTED, "cannot allocate a thread block");
  t->self = (uint64_t)t;
  t->xsave_mask = mask;
  t->xsave_size = xs;
  t->use_fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE_BIT) != 0;
  /* Initial extended state: everything in its init state, MXCSR as Linux
   * starts a process (xrstor loads MXCSR from the legacy area). */
  *(uint32_t *)(t->xsave + 24) = 0x1f80;
  void *st = mmap(NULL, HOST_STACK_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (st == MAP_FAILED)
    hp_fatal(HP_STATUS_UNSUPPORTED, "cannot allocate a host stack");
  t->host_stack_lo = (uint64_t)st;
  t->host_stack_size = HOST_STACK_SIZE;
  return t;
}

void hp_thread_attach(struct hp_thread *t)
{
  uint64_t fs;
  syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
  t->host_fs = fs;
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, t) != 0)
    hp_fatal(HP_STATUS_UNSUPPORTED, "cannot set the GS base");
  t->tid = (int)syscall(SYS_gettid);
}

struct hp_thread *hp_thread_current(void)
{
  struct hp_thread *t;
  __asm__("mov %%gs:%c1, %0" : "=r"(t) : "i"(HP_T_SELF));
  return t;
}
