/* Thread blocks: allocation, GS attachment, extended-state sizing. */
#include "hotpath/stats.h"
#include "hotpath/thread.h"

#include <asm/prctl.h>
#include <cpuid.h>
#include <linux/futex.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hotpath/log.h"
#include "hotpath/options.h"
#include "hotpath/pages.h"
#include "hotpath/rawsys.h"

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
_Static_assert(offsetof(struct hp_thread, guest_wrfsbase) == HP_T_GUEST_WRFSBASE, "guest_wrfsbase");
_Static_assert(offsetof(struct hp_thread, fs_lazy) == HP_T_FS_LAZY, "fs_lazy");
_Static_assert(offsetof(struct hp_thread, fs_guest) == HP_T_FS_GUEST, "fs_guest");
_Static_assert(offsetof(struct hp_thread, xsave) == HP_T_XSAVE, "xsave");

#define HWCAP2_FSGSBASE_BIT (1ul << 1)
#define HOST_STACK_SIZE (1ul << 20)

/* The extended state hotpath saves for the guest: what XCR0 enables, less
 * AMX tile data (bit 18), which Linux keeps disabled (XFD) until a process
 * asks for it; sized from CPUID, like the kernel's signal frames. */
static size_t xsave_size(uint64_t *mask)
{
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  *mask = (((uint64_t)hi << 32) | lo) & ~(1ull << 18);
  size_t size = 576; /* legacy area + xsave header */
  for (unsigned i = 2; i < 63; i++) {
    if (!(*mask & (1ull << i)))
      continue;
    unsigned a, b, c, d;
    __cpuid_count(0xd, i, a, b, c, d);
    if (a + b > size)
      size = a + b;
  }
  return size;
}

static int big_lock;
static struct hp_thread *live;

/* big_lock: 0 free, 1 held, 2 held and a thread may sleep on it. A short
 * spin first (the lock is mostly held for microseconds), then a futex: a
 * pure spinlock burnt whole time slices when the holder was preempted
 * (Node.js, with more threads than cores, spent 12% of its time spinning).
 * Raw system calls: no errno, the guest's FS may be in place. */
void hp_lock(void)
{
  int c = 0;
  for (int spin = 0; spin < 128; spin++) {
    c = 0;
    if (__atomic_compare_exchange_n(&big_lock, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return;
    __builtin_ia32_pause();
  }
  if (c != 2)
    c = __atomic_exchange_n(&big_lock, 2, __ATOMIC_ACQUIRE);
  while (c != 0) {
    hp_raw_syscall(SYS_futex, (long)&big_lock, FUTEX_WAIT_PRIVATE, 2, 0, 0, 0);
    c = __atomic_exchange_n(&big_lock, 2, __ATOMIC_ACQUIRE);
  }
}

void hp_unlock(void)
{
  if (__atomic_exchange_n(&big_lock, 0, __ATOMIC_RELEASE) == 2)
    hp_raw_syscall(SYS_futex, (long)&big_lock, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
}

void hp_thread_foreach(void (*fn)(struct hp_thread *, void *), void *arg)
{
  for (struct hp_thread *t = live; t; t = t->next_live)
    fn(t, arg);
}

size_t hp_thread_bytes(void)
{
  size_t n = 0;
  for (struct hp_thread *t = live; t; t = t->next_live)
    n += hp_thread_block_size() + HP_RTQ_BYTES + t->host_stack_size;
  return n;
}

void hp_thread_forget_others(struct hp_thread *self)
{
  live = self;
  self->next_live = NULL;
}

bool hp_thread_only_one(void) { return live && !live->next_live; }

static struct hp_thread *first_block;

/* What GS names in a thread whose block is gone: fs_guest 0. */
static uint64_t stub_block[HP_T_FS_GUEST / 8 + 1] __attribute__((aligned(64)));
/* Before the first thread block is attached, GS names nothing (hp_fs_host
 * has nothing to do: every thread is on its own FS). */
static bool any_attached;

uint64_t hp_fs_poison_base;

/* --debug-fs-poison: an FS base whose TLS (below it) and thread control
 * block (from it) fault, but for the stack protector's canary at fs:0x28
 * (read-only), which code compiled with it (Zydis) reads and compares. */
static void make_fs_poison(void)
{
  uint8_t *p = mmap(NULL, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED || mprotect(p + 4096, 4096, PROT_READ) != 0)
    hp_fatal(HP_STATUS_UNSUPPORTED, "cannot map the null FS area (--debug-fs-poison, lazy FS)");
  hp_fs_poison_base = (uint64_t)(uintptr_t)(p + 4096 - 0x28);
}

void hp_thread_detach(void)
{
  hp_raw_syscall(SYS_arch_prctl, ARCH_SET_GS, (long)(uintptr_t)stub_block, 0, 0, 0, 0);
}

void hp_fs_host(void)
{
  uint32_t guest;
  if (!__atomic_load_n(&any_attached, __ATOMIC_RELAXED))
    return;
  __asm__ volatile("movl %%gs:%c1, %0" : "=r"(guest) : "i"(HP_T_FS_GUEST));
  if (!guest)
    return;
  struct hp_thread *t = hp_thread_current();
  if (t->use_fsgsbase) {
    __asm__ volatile("wrfsbase %0" ::"r"(t->host_fs) : "memory");
  } else if (hp_raw_syscall(SYS_arch_prctl, ARCH_SET_FS, (long)t->host_fs, 0, 0, 0, 0) != 0) {
    /* (a seccomp filter of the guest's): glibc would run on the guest's TLS */
    static const char msg[] = "hotpath: cannot switch FS back to hotpath's own (arch_prctl refused)\n";
    hp_raw_syscall(SYS_write, 2, (long)msg, sizeof msg - 1, 0, 0, 0);
    hp_raw_syscall(SYS_exit_group, HP_STATUS_UNSUPPORTED, 0, 0, 0, 0, 0);
  }
  /* A signal between the switch and this store finds fs_guest still set:
   * its handler touches no TLS either way. */
  __atomic_store_n(&t->fs_guest, 0, __ATOMIC_RELAXED);
  __atomic_fetch_add(&hp_stats.fs_host_switches, 1, __ATOMIC_RELAXED);
}

void hp_thread_free(struct hp_thread *t)
{
  hp_lock();
  for (struct hp_thread **pp = &live; *pp; pp = &(*pp)->next_live)
    if (*pp == t) {
      *pp = t->next_live;
      break;
    }
  hp_stats.ibl_lookups += t->ibl_lookups; /* per-thread counters are summed at exit */
  hp_stats.ibl_inline_lookups += t->ibl_inline_lookups;
  hp_stats.inline_cache_hits += t->inline_cache_hits;
  hp_stats.guard_misses += t->guard_misses;
  hp_stats.ret_mismatches += t->ret_mismatches;
  hp_unlock();
  if (t->host_stack_lo)
    munmap((void *)t->host_stack_lo, t->host_stack_size);
  munmap(t->rt_queue, HP_RTQ_BYTES);
  if (t == first_block)
    first_block = NULL; /* a later block may get its address */
  munmap(t, hp_thread_block_size());
}

/* Whether pext (BMI2) is there and fast: Intel's is one cycle's work; AMD's
 * before Zen 3 (family 0x19) is microcode taking tens of cycles per mask
 * bit, as is Hygon's (family 0x18, a Zen 1). */
static bool fast_pext(void)
{
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !((b >> 8) & 1))
    return false;
  unsigned vendor[3];
  __cpuid(0, a, vendor[0], vendor[2], vendor[1]);
  __cpuid(1, a, b, c, d);
  unsigned family = ((a >> 8) & 0xf) + (((a >> 8) & 0xf) == 0xf ? (a >> 20) & 0xff : 0);
  if (!memcmp(vendor, "GenuineIntel", 12))
    return true;
  return !memcmp(vendor, "AuthenticAMD", 12) && family >= 0x19;
}

unsigned hp_ret_table_bits(void)
{
  static unsigned bits;
  if (!bits) {
    bits = fast_pext() && !hp_opt.debug_narrow_returns ? HP_RET_TABLE_BITS : HP_RET_TABLE_NARROW_BITS;
    hp_stats.ret_table_bits = bits;
  }
  return bits;
}

size_t hp_thread_block_size(void) { return HP_T_RET_TABLE + (8ul << hp_ret_table_bits()); }

struct hp_thread *hp_thread_new(bool host_stack)
{
  uint64_t mask;
  size_t xs = xsave_size(&mask);
  if (HP_T_XSAVE + xs > HP_T_IBL_FAST)
    hp_fatal(HP_STATUS_UNSUPPORTED, "xsave area of %zu bytes is larger than hotpath expects", xs);
  size_t size = hp_thread_block_size();
  struct hp_thread *t = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (t == MAP_FAILED)
    hp_fatal(HP_STATUS_UNSUPPORTED, "cannot allocate a thread block");
  /* Never huge pages (it is over 2 MiB): the tables are touched sparsely,
   * and a huge page costs milliseconds where the host backs it afresh. */
  madvise(t, size, MADV_NOHUGEPAGE);
  if (!first_block) {
    /* The first thread's block is mapped at once: its lookup and return
     * tables, filled as code is translated (every new continuation and
     * lookup target touches a random page, often first by a read that
     * maps the zero page), would otherwise fault twice per page. Small
     * pages: it was one huge page, which costs about 5 ms on the
     * paravirtualized VM where the host backs it afresh, and its first
     * visit to the dispatcher splits it anyway (evict.c). Later threads'
     * blocks fault in as used (memory per thread). */
    first_block = t;
    /* Up to the part of the return table a 16-bit index reaches (as much as
     * before the table grew): the rest faults in as returns spread there. */
    hp_pages_populate(t, HP_T_RET_TABLE + (8ul << HP_RET_TABLE_NARROW_BITS), true);
  }
  t->self = (uint64_t)t;
  t->ret_mask = (1u << hp_ret_table_bits()) - 1;
  t->cache_idle = true; /* holds nothing of the code cache yet */
  t->guest_ss_flags = SS_DISABLE; /* no alternate stack, as the kernel gives a CLONE_VM child */
  t->xsave_mask = mask;
  t->xsave_size = xs;
  t->guest_wrfsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE_BIT) != 0;
  t->use_fsgsbase = t->guest_wrfsbase && !hp_opt.debug_no_fsgsbase;
  t->fs_lazy = hp_opt.debug_fs_poison ? HP_FS_POISON : hp_opt.debug_eager_fs ? HP_FS_EAGER : HP_FS_LAZY;
  /* The poison area is also the null FS: what a guest whose FS base is 0
   * (before it sets up TLS) runs on, lazily, where it cannot read the base
   * (hp_enter_cache). */
  if ((hp_opt.debug_fs_poison || (t->fs_lazy == HP_FS_LAZY && !t->guest_wrfsbase)) && !hp_fs_poison_base)
    make_fs_poison();
  /* Initial extended state: everything in its init state, MXCSR as Linux
   * starts a process (xrstor loads MXCSR from the legacy area). */
  *(uint32_t *)(t->xsave + 24) = 0x1f80;
  t->rt_queue = mmap(NULL, HP_RTQ_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (t->rt_queue == MAP_FAILED)
    hp_fatal(HP_STATUS_UNSUPPORTED, "cannot allocate a signal queue");
  if (host_stack) {
    void *st = mmap(NULL, HOST_STACK_SIZE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (st == MAP_FAILED)
      hp_fatal(HP_STATUS_UNSUPPORTED, "cannot allocate a host stack");
    t->host_stack_lo = (uint64_t)st;
    t->host_stack_size = HOST_STACK_SIZE;
  }
  hp_lock();
  t->next_live = live;
  live = t;
  hp_unlock();
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
  t->fs_guest = 0;
  __atomic_store_n(&any_attached, true, __ATOMIC_RELAXED);
}

struct hp_thread *hp_thread_current(void)
{
  struct hp_thread *t;
  __asm__("mov %%gs:%c1, %0" : "=r"(t) : "i"(HP_T_SELF));
  return t;
}
