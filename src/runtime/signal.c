/* Signal handling under translation.
 *
 * hotpath installs its own handler for every signal the guest catches. An
 * asynchronous signal is recorded in the thread block; if the thread is in
 * the cache, the fragment it runs is unlinked and the indirect branch lookup
 * pointed at an empty table, so the thread reaches the dispatcher at the next
 * fragment boundary, where the guest's frame is built. A synchronous fault in
 * the cache is turned into an exit of the cache with the faulting guest pc. */
#include "hotpath/signal.h"

#include <asm/prctl.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "hotpath/cache.h"
#include "hotpath/dispatch.h"
#include "hotpath/fragment.h"
#include "hotpath/ibl.h"
#include "hotpath/log.h"
#include "hotpath/memmap.h"
#include "hotpath/options.h"
#include "hotpath/stats.h"
#include "hotpath/syscall.h"
#include "hotpath/rawsys.h"
#include "hotpath/thread.h"

#define HOST_ALTSTACK (64ul << 10)

/* The kernel's structures (x86-64). */
struct ksigaction {
  uint64_t handler, flags, restorer, mask;
};
struct k_sigcontext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
};
struct k_stack {
  uint64_t sp;
  int32_t flags, pad;
  uint64_t size;
};
struct k_ucontext {
  uint64_t flags, link;
  struct k_stack stack;
  struct k_sigcontext mc;
  uint64_t sigmask;
};
struct k_rt_sigframe {
  uint64_t pretcode;
  struct k_ucontext uc;
  uint8_t info[128];
};
_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext");

#define UC_FP_XSTATE 0x1
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
#define SIGRTMIN_KERNEL 32 /* glibc's SIGRTMIN is 34: it keeps two for itself */
#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#endif
#define SS_AUTODISARM_FLAG (1u << 31)

/* Guest register order in sigcontext / glibc's gregs. */
static const int mc_order[16] = {HP_R8, HP_R9, HP_R10, HP_R11, HP_R12, HP_R13, HP_R14, HP_R15,
                                 HP_RDI, HP_RSI, HP_RBP, HP_RBX, HP_RDX, HP_RAX, HP_RCX, HP_RSP};

/* Realtime signals queue (one entry each, in arrival order); standard
 * signals collapse into one pending bit and siginfo, as in the kernel. */
struct rt_entry {
  int sig;
  uint8_t info[128];
};
struct rt_queue {
  uint32_t count;
  struct rt_entry e[(HP_RTQ_BYTES - 8) / sizeof(struct rt_entry)];
};
_Static_assert(sizeof(struct rt_queue) <= HP_RTQ_BYTES, "rt queue");

/* The guest's dispositions, one table per kernel signal-handler table:
 * threads (CLONE_THREAD implies CLONE_SIGHAND) and a CLONE_VM|CLONE_SIGHAND
 * process share their creator's; a CLONE_VM process without CLONE_SIGHAND
 * gets a copy, as the kernel copies its own (hotpath's memory is shared
 * then, so a table in it would be too). A thread block points at its table
 * (NULL: the first one); the fields are under the lock. */
struct hp_sigtab {
  struct ksigaction act[65];
  bool known[65];
  int refs; /* thread blocks using it (the first table is never freed) */
};
static struct hp_sigtab first_tab = {.refs = 1};

static struct hp_sigtab *tab_of(const struct hp_thread *t)
{
  return t && t->sigtab ? t->sigtab : &first_tab;
}
_Static_assert(sizeof(struct hp_exit) <= sizeof(((struct hp_thread *)0)->fault_exit_space), "fault exit");

static bool is_sync(int sig)
{
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP;
}

/* Traps report the instruction after the one that raised them. */
static bool is_trap(int sig, int code)
{
  return sig == SIGTRAP && (code == SI_KERNEL || code == TRAP_BRKPT);
}

static bool guest_catches(const struct hp_sigtab *tab, int sig)
{
  uint64_t h = tab->act[sig].handler;
  return tab->known[sig] && h != (uint64_t)(uintptr_t)SIG_DFL && h != (uint64_t)(uintptr_t)SIG_IGN;
}

static long raw(long nr, long a1, long a2, long a3, long a4)
{
  return hp_raw_syscall(nr, a1, a2, a3, a4, 0, 0);
}

static void put_str(char *buf, size_t *n, const char *s)
{
  while (*s && *n < 255)
    buf[(*n)++] = *s++;
}

static void put_dec(char *buf, size_t *n, uint64_t v)
{
  char tmp[21];
  int k = 0;
  do {
    tmp[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (k && *n < 255)
    buf[(*n)++] = tmp[--k];
}

static void put_hex(char *buf, size_t *n, uint64_t v)
{
  put_str(buf, n, "0x");
  char tmp[17];
  int k = 0;
  do {
    tmp[k++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  while (k && *n < 255)
    buf[(*n)++] = tmp[--k];
}

/* A fault in hotpath's own code: say where the guest was, then abort. */
/* Hotpath's own FS, from a signal handler that interrupted its C code on
 * the guest's (lazy FS); what the interrupted code runs on when it goes on. */
static void fs_to_host(struct hp_thread *t)
{
  if (t->use_fsgsbase)
    __asm__ volatile("wrfsbase %0" ::"r"(t->host_fs) : "memory");
  else
    raw(SYS_arch_prctl, ARCH_SET_FS, (long)t->host_fs, 0, 0);
  t->fs_guest = 0;
}

static void internal_fault(int sig, uint64_t host_pc, struct hp_thread *t)
{
  bool lazy = t && t->fs_guest;
  if (lazy)
    fs_to_host(t); /* the report below formats with snprintf */
  char buf[256];
  size_t n = 0;
  put_str(buf, &n, "hotpath: internal error: signal ");
  put_dec(buf, &n, (uint64_t)sig);
  put_str(buf, &n, " at host pc ");
  put_hex(buf, &n, host_pc);
  put_str(buf, &n, " while handling guest pc ");
  put_hex(buf, &n, t ? t->cur_guest_pc : 0);
  put_str(buf, &n, "\n");
  int fd = hp_log_fd();
  raw(SYS_write, fd, (long)buf, (long)n, 0);
  if (lazy) {
    static const char lazy[] = "hotpath: hotpath's C code was running on the guest's FS (lazy FS, "
                               "or --debug-fs-poison's): a use of its TLS there is the bug\n";
    raw(SYS_write, fd, (long)lazy, sizeof lazy - 1, 0);
  }
  if (t) {
    char where[200];
    hp_describe_guest_location(where, sizeof where);
    raw(SYS_write, fd, (long)"hotpath: ", 9, 0);
    raw(SYS_write, fd, (long)where, (long)strlen(where), 0);
    raw(SYS_write, fd, (long)"\n", 1, 0);
  }
  struct ksigaction dfl = {0};
  raw(SYS_rt_sigaction, SIGABRT, (long)&dfl, 0, 8);
  raw(SYS_tgkill, raw(SYS_getpid, 0, 0, 0, 0), raw(SYS_gettid, 0, 0, 0, 0), SIGABRT, 0);
}

/* A fault inside f at cache pc: the guest registers f's code keeps
 * elsewhere there (its recovery records) go back into the context. */
static void recover_registers(const struct hp_fragment *f, uint64_t pc, ucontext_t *uc,
                              const struct hp_thread *t)
{
  /* glibc's gregs start with the sigcontext's 16 GPRs, in mc_order. */
  uint64_t gpr[16], fl = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
  for (int i = 0; i < 16; i++)
    gpr[mc_order[i]] = (uint64_t)uc->uc_mcontext.gregs[i];
  /* The kernel's FXSAVE image: xmm0-15 at byte 160, 16 bytes each. */
  uint8_t (*xmm)[16] = uc->uc_mcontext.fpregs ? (uint8_t (*)[16])(void *)uc->uc_mcontext.fpregs->_xmm : NULL;
  /* Slots whose stores an optimized trace deferred: written back first
   * (from the machine's registers), so the guest sees memory as natively.
   * The trace's entry wrote each of them once, so they are writable. */
  struct hp_mem_write w[HP_PROMO_MAX_SLOTS];
  unsigned nw = hp_fragment_recover_memory(f, pc, gpr, (const uint8_t (*)[16])xmm, t, w, HP_PROMO_MAX_SLOTS);
  for (unsigned i = 0; i < nw; i++)
    memcpy((void *)(uintptr_t)w[i].addr, w[i].bytes, w[i].size);
  if (!hp_fragment_recover(f, pc, gpr, &fl, xmm, t))
    return;
  /* An XSAVE frame restores the xmm registers from the image only if its
   * header says the SSE state is in use (it may say it is not when they
   * were all zero). */
  uint8_t *fx = (uint8_t *)uc->uc_mcontext.fpregs;
  uint32_t magic1;
  if (fx && (memcpy(&magic1, fx + 464, 4), magic1 == 0x46505853u)) /* FP_XSTATE_MAGIC1 */
    fx[512] |= 2; /* XSTATE_BV: SSE */
  for (int i = 0; i < 16; i++)
    uc->uc_mcontext.gregs[i] = (greg_t)gpr[mc_order[i]];
  uc->uc_mcontext.gregs[REG_EFL] = (greg_t)fl;
}

/* Runs on hotpath's alternate stack, possibly with the guest's FS: no libc
 * call that touches TLS. */
static void on_signal(int sig, siginfo_t *si, void *ucv)
{
  /* The guest may run with EFLAGS.AC set (alignment checking), which the
   * kernel leaves set here: hotpath's C code runs without it (the guest's
   * comes back with the context). */
  __asm__ volatile("pushfq\n\tandq $~0x40000, (%%rsp)\n\tpopfq" ::: "memory", "cc");
  ucontext_t *uc = ucv;
  struct hp_thread *t = hp_thread_current();
  uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  bool in_cache = hp_cache_contains(pc);
  bool sync = is_sync(sig) && si->si_code > 0;
  if (!t) { /* a thread without a block (detached: thread.h) */
    if (sync)
      internal_fault(sig, pc, NULL);
    return;
  }
  if (sync && pc == 0 && !t->in_dispatcher) {
    /* The one guest target the flag-free inline lookup matches in an empty
     * entry is ~0: its cache address 0 faults here. The guest jumped to
     * 0xffffffffffffffff: that is its SIGSEGV, with all its registers. */
    if (!guest_catches(tab_of(t), sig)) {
      struct ksigaction dfl = {0};
      raw(SYS_rt_sigaction, sig, (long)&dfl, 0, 8);
      return;
    }
    uint64_t bad = ~0ull;
    memcpy(t->sig_info[sig], si, 128);
    memcpy((uint8_t *)t->sig_info[sig] + 16, &bad, 8);
    __atomic_or_fetch(&t->sig_pending, 1ull << (sig - 1), __ATOMIC_SEQ_CST);
    struct hp_exit *fx = (struct hp_exit *)t->fault_exit_space;
    memset(fx, 0, sizeof *fx);
    fx->kind = HP_EXIT_FAULT;
    fx->target = bad;
    t->fault_err = 0x14;
    t->fault_trapno = 14;
    t->gpr[HP_RAX] = (uint64_t)uc->uc_mcontext.gregs[REG_RAX];
    uc->uc_mcontext.gregs[REG_RAX] = (greg_t)(uintptr_t)fx;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)hp_cache_exit;
    return;
  }
  if (sync && sig == SIGSEGV && pc == (uint64_t)(uintptr_t)hp_int80_insn) {
    /* hotpath's own `int 0x80` for the guest, in a kernel without 32-bit
     * emulation: the guest's fault, delivered by the dispatcher. */
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)hp_int80_fault;
    return;
  }
  if (sync && sig == SIGSEGV && !in_cache && t && t->fs_guest && t->fs_lazy == HP_FS_LAZY &&
      ((uint64_t)(uintptr_t)si->si_addr == t->guest_fs + 0x28 || (si->si_code == SI_KERNEL && !si->si_addr))) {
    /* hotpath's C code on the guest's FS read the stack protector's canary
     * (fs:0x28, in Zydis) where the guest has nothing mapped (or an FS base
     * that is no address: a general protection fault): the same
     * instruction again, on hotpath's own FS. */
    fs_to_host(t);
    __atomic_fetch_add(&hp_stats.lazy_fs_faults, 1, __ATOMIC_RELAXED);
    return;
  }
  if (sync && !in_cache) {
    internal_fault(sig, pc, t);
    return;
  }
  if (sig == SIGSEGV && sync) {
    /* A `ret` of this thread found its return table blocked: an
     * asynchronous signal waits. On to the lookup, which sends it to the
     * dispatcher (the guest's rcx is still in spill_rcx). */
    uintptr_t miss = hp_ret_table_fault(t, pc, (uintptr_t)si->si_addr);
    /* Or its push of the continuation found no writable slot below the
     * return address: the miss path does without it. */
    if (!miss)
      miss = hp_ret_push_fault(pc);
    if (miss) {
      uc->uc_mcontext.gregs[REG_RIP] = (greg_t)miss;
      return;
    }
  }
  if (sync && !is_trap(sig, si->si_code)) {
    /* A speculative entry load of an optimized trace faulted (rbp was not
     * a frame): not the guest's fault; the trace leaves through its deopt
     * exit (the registers it took come back) and is rebuilt. */
    struct hp_fragment *f = hp_fragment_by_cache_pc(pc);
    const struct hp_frag_trace *tr = f ? hp_frag_tr(f) : NULL;
    if (tr && tr->spec_end && pc >= f->code + tr->spec_start && pc < f->code + tr->spec_end) {
      uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(f->code + tr->deopt_off);
      return;
    }
  }
  /* A fault in the cache outside every fragment (a far-jump trampoline, a
   * shared lookup routine) is hotpath's own, never the guest's. */
  if (sync && !hp_fragment_by_cache_pc(is_trap(sig, si->si_code) ? pc - 1 : pc)) {
    internal_fault(sig, pc, t);
    return;
  }
  /* With --stats or --report, a fault the guest does not catch goes to the
   * dispatcher like one it catches: it writes them, then dies of it. */
  if (sync && !guest_catches(tab_of(t), sig) && !hp_stats_enabled()) {
    if (hp_opt.log_level >= HP_LOG_INFO) {
      struct hp_fragment *f = hp_fragment_by_cache_pc(pc);
      char buf[256];
      size_t n = 0;
      put_str(buf, &n, "hotpath[info]: guest fault, signal ");
      put_dec(buf, &n, (uint64_t)sig);
      put_str(buf, &n, " at guest pc ");
      struct hp_guest_at at = {0, 0};
      if (f)
        hp_fragment_guest_at(f, pc, &at);
      put_hex(buf, &n, at.pc);
      put_str(buf, &n, " (cache pc ");
      put_hex(buf, &n, pc);
      put_str(buf, &n, ", address ");
      put_hex(buf, &n, (uint64_t)(uintptr_t)si->si_addr);
      put_str(buf, &n, ")\n");
      if (hp_log_usable())
        raw(SYS_write, hp_log_fd(), (long)buf, (long)n, 0);
    }
    /* Die of it as natively: a fault happens again when the instruction
     * re-runs with no handler; a trap (int3) has already moved past its
     * instruction, so it is sent again, to arrive when this handler returns. */
    struct ksigaction dfl = {0};
    raw(SYS_rt_sigaction, sig, (long)&dfl, 0, 8);
    if (is_trap(sig, si->si_code))
      raw(SYS_tgkill, raw(SYS_getpid, 0, 0, 0, 0), raw(SYS_gettid, 0, 0, 0, 0), sig, 0);
    return;
  }
  if (sig >= SIGRTMIN_KERNEL) {
    struct rt_queue *q = t->rt_queue;
    if (q->count < sizeof q->e / sizeof q->e[0]) {
      q->e[q->count].sig = sig;
      memcpy(q->e[q->count].info, si, 128);
      q->count++;
    }
  } else {
    memcpy(t->sig_info[sig], si, 128);
  }
  __atomic_or_fetch(&t->sig_pending, 1ull << (sig - 1), __ATOMIC_SEQ_CST);
  if (!sync) { /* a blocking call about to start must not: see hp_syscall_unless */
    __atomic_store_n(&t->sig_interrupt, 1, __ATOMIC_SEQ_CST);
    if (pc >= (uint64_t)(uintptr_t)hp_syscall_window_start && pc <= (uint64_t)(uintptr_t)hp_syscall_window_end)
      uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)hp_syscall_window_abort;
  }
  if (sync) {
    /* Leave the cache right here: hp_cache_exit saves the guest registers
     * (as the kernel restores them) with this exit record in rax. This
     * thread is in the cache, so it does not hold the lock. */
    struct hp_exit *fx = (struct hp_exit *)t->fault_exit_space;
    bool trap = is_trap(sig, si->si_code); /* pc is already past the instruction */
    struct hp_fragment *f = hp_fragment_by_cache_pc(trap ? pc - 1 : pc); /* lock-free */
    struct hp_guest_at at = {0, 0};
    if (f)
      hp_fragment_guest_at(f, trap ? pc - 1 : pc, &at);
    uint64_t gpc = trap ? at.next_pc : at.pc;
    if (f) /* guest registers the fragment's code had moved go back home */
      recover_registers(f, pc, uc, t);
    memset(fx, 0, sizeof *fx);
    fx->kind = HP_EXIT_FAULT;
    fx->target = gpc;
    /* For SIGILL and SIGFPE si_addr is the instruction: the guest's. */
    if ((sig == SIGILL || sig == SIGFPE) && sig < SIGRTMIN_KERNEL)
      memcpy((uint8_t *)t->sig_info[sig] + 16, &gpc, 8);
    fx->from = f;
    t->fault_err = (uint64_t)uc->uc_mcontext.gregs[REG_ERR];
    t->fault_trapno = (uint64_t)uc->uc_mcontext.gregs[REG_TRAPNO];
    t->gpr[HP_RAX] = (uint64_t)uc->uc_mcontext.gregs[REG_RAX];
    uc->uc_mcontext.gregs[REG_RAX] = (greg_t)(uintptr_t)fx;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)hp_cache_exit;
    return;
  }
  /* Asynchronous: make the thread come out soon. When it is in hotpath's C
   * code it checks for pending signals before entering the cache. */
  if (in_cache || !t->in_dispatcher) {
    /* Unlink the fragment running, and any the thread may be about to
     * jump to from an indirect branch already looked up: the hit's address
     * is in gs:ibl_jump or still in rdx (the inline probe; rax or rdx for
     * a `jmp r64`, hp_emit_ibl_inline_reg), or (a `ret`
     * through the return table) in rcx or already in the slot below the
     * return address, [rsp-8] or [rsp]. A loop of linked blocks is left at
     * its next branch. */
    uint64_t next[7] = {pc, t->ibl_jump, (uint64_t)uc->uc_mcontext.gregs[REG_RDX],
                        (uint64_t)uc->uc_mcontext.gregs[REG_RCX], (uint64_t)uc->uc_mcontext.gregs[REG_RAX], 0, 0};
    struct iovec local = {next + 5, 16}, remote = {(void *)(uc->uc_mcontext.gregs[REG_RSP] - 8), 16};
    if (in_cache) /* a read that cannot fault, whatever the guest's rsp is (our
                     tid: the main thread may have exited, see hp_guest_copy) */
      hp_raw_syscall(SYS_process_vm_readv, raw(SYS_gettid, 0, 0, 0, 0), (long)&local, 1, (long)&remote, 1, 0);
    hp_lock();
    /* Found under the lock: a stale value (an old gs:ibl_jump) may name
     * code of a retired generation that another thread's safe point could
     * otherwise free between the lookup and the unlinking. */
    struct hp_fragment *f[8] = {!in_cache ? t->enter_frag : NULL};
    for (int i = 0; i < 7; i++)
      f[i + 1] = in_cache ? hp_fragment_by_cache_pc(next[i]) : NULL;
    for (int i = 0; i < 8; i++)
      if (f[i]) {
        hp_fragment_unlink_outgoing(f[i]);
        /* Kept unlinked until this thread leaves the cache: another thread
         * in the same loop would relink them while this one is still on
         * its way back from the handler (regress signal_shared_loop).
         * Only fragments of a live unit: this thread, in the cache or
         * about to enter it (not idle) and not yet past its next safe
         * point, keeps their records from being freed until it lets them
         * go. */
        if (!f[i]->unit->gen && (in_cache || !__atomic_load_n(&t->cache_idle, __ATOMIC_ACQUIRE)))
          hp_fragment_hold(t, f[i]);
      }
    /* Its next `ret` faults, if that fault reaches hotpath's handler. */
    hp_ret_table_block(t, tab_of(t)->act[SIGSEGV].handler != (uint64_t)(uintptr_t)SIG_IGN &&
                              !sigismember(&uc->uc_sigmask, SIGSEGV));
    hp_unlock();
    hp_ibl_block(t);
    hp_ibl_fast_clear(t);
  }
}

void hp_sigreturn_trampoline(void);

/* hotpath's handler never has SA_RESTART: a blocking system call must
 * return EINTR so the guest's handler can run now; the dispatcher then
 * restarts the call itself where the guest asked for SA_RESTART. SIGCHLD
 * keeps the guest's SA_NOCLDSTOP/SA_NOCLDWAIT, which change what the kernel
 * does. Installed with a raw rt_sigaction: glibc refuses its own signals
 * 32 and 33, which guests (pthread_cancel, setxid) use. */
static void install_host(int sig, uint64_t guest_flags)
{
  struct ksigaction h = {
      .handler = (uint64_t)(uintptr_t)on_signal,
      .flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER | (guest_flags & (SA_NOCLDSTOP | SA_NOCLDWAIT)),
      .restorer = (uint64_t)(uintptr_t)hp_sigreturn_trampoline,
      .mask = ~0ull,
  };
  raw(SYS_rt_sigaction, sig, (long)&h, 0, 8);
}

void hp_signal_exit_thread(struct hp_thread *t)
{
  stack_t ss = {.ss_flags = SS_DISABLE};
  sigaltstack(&ss, NULL);
  if (t->host_altstack)
    munmap(t->host_altstack, HOST_ALTSTACK);
  t->host_altstack = NULL;
  hp_signal_release_table(t);
}

void hp_signal_inherit_table(struct hp_thread *c, const struct hp_thread *parent, bool copy)
{
  struct hp_sigtab *p = tab_of(parent), *n = copy ? malloc(sizeof *n) : p;
  if (!n)
    hp_fatal(HP_STATUS_UNSUPPORTED, "cannot allocate a signal table");
  hp_lock();
  if (copy) {
    *n = *p;
    n->refs = 1;
  } else {
    n->refs++;
  }
  hp_unlock();
  c->sigtab = n;
}

void hp_signal_release_table(struct hp_thread *t)
{
  struct hp_sigtab *tab = t->sigtab;
  if (!tab)
    return;
  t->sigtab = NULL;
  hp_lock();
  bool last = --tab->refs == 0 && tab != &first_tab;
  hp_unlock();
  if (last)
    free(tab);
}

void hp_signal_resync(const struct hp_thread *t)
{
  struct hp_sigtab *tab = tab_of(t);
  hp_lock();
  for (int sig = 1; sig <= 64; sig++)
    if (guest_catches(tab, sig) || (is_sync(sig) && tab->known[sig] &&
                                    tab->act[sig].handler != (uint64_t)(uintptr_t)SIG_IGN))
      install_host(sig, tab->act[sig].flags);
  hp_unlock();
}

void hp_signal_init_thread(struct hp_thread *t)
{
  void *st = mmap(NULL, HOST_ALTSTACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  stack_t ss = {.ss_sp = st, .ss_size = HOST_ALTSTACK, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  t->host_altstack = st;
  static const int sync_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
  struct hp_sigtab *tab = tab_of(t);
  hp_lock();
  for (size_t i = 0; i < sizeof sync_sigs / sizeof sync_sigs[0]; i++) {
    int s = sync_sigs[i];
    if (!tab->known[s]) {
      raw(SYS_rt_sigaction, s, 0, (long)&tab->act[s], 8);
      tab->known[s] = true;
    }
    /* Inherited "ignore" stays with the kernel. */
    if (tab->act[s].handler != (uint64_t)(uintptr_t)SIG_IGN)
      install_host(s, 0);
  }
  hp_unlock();
}

static long set_action(struct hp_sigtab *tab, int sig, const struct ksigaction *act, struct ksigaction *oact);

long hp_signal_sigaction(int sig, const void *actv, void *oactv, long setsize)
{
  const struct ksigaction *act = actv;
  struct ksigaction *oact = oactv;
  if (sig < 1 || sig > 64 || setsize != 8 || sig == SIGKILL || sig == SIGSTOP)
    return raw(SYS_rt_sigaction, sig, (long)act, (long)oact, setsize);
  struct ksigaction a, old;
  if (act && !hp_guest_read(&a, act, sizeof a))
    return -EFAULT;
  struct hp_thread *t = hp_thread_current();
  struct hp_sigtab *tab = tab_of(t);
  if (t->is_vfork_child) {
    /* It shares the parent's memory, and so hotpath's table, until it execs
     * (glibc's posix_spawn resets every handler there): the kernel only. */
    if (oact && !hp_guest_write(oact, &tab->act[sig], sizeof *oact))
      return -EFAULT;
    return raw(SYS_rt_sigaction, sig, act ? (long)&a : 0, 0, 8);
  }
  hp_lock();
  long r = set_action(tab, sig, act ? &a : NULL, &old);
  hp_unlock();
  if (r == 0 && oact && !hp_guest_write(oact, &old, sizeof old))
    return -EFAULT;
  return r;
}

static long set_action(struct hp_sigtab *tab, int sig, const struct ksigaction *act, struct ksigaction *oact)
{
  if (!tab->known[sig]) {
    long r = raw(SYS_rt_sigaction, sig, 0, (long)&tab->act[sig], 8);
    if (r < 0)
      return r;
    tab->known[sig] = true;
  }
  struct ksigaction old = tab->act[sig];
  if (act) {
    struct ksigaction a = *act;
    bool dfl = a.handler == (uint64_t)(uintptr_t)SIG_DFL, ign = a.handler == (uint64_t)(uintptr_t)SIG_IGN;
    if (is_sync(sig) && !ign) {
      install_host(sig, a.flags); /* hotpath watches faults either way */
    } else if (dfl || ign) {
      long r = raw(SYS_rt_sigaction, sig, (long)&a, 0, 8);
      if (r < 0)
        return r;
    } else {
      install_host(sig, a.flags);
    }
    tab->act[sig] = a;
    if (sig == SIGSEGV && ign)
      hp_ret_table_no_faults();
  }
  if (oact)
    *oact = old;
  return 0;
}

void hp_signal_reclaim_glibc_signals(void)
{
  struct hp_sigtab *tab = tab_of(hp_thread_current());
  hp_lock();
  for (int sig = 32; sig <= 33; sig++)
    if (guest_catches(tab, sig))
      install_host(sig, tab->act[sig].flags);
  hp_unlock();
}

/* sp lies on the guest's alternate stack (the kernel's __on_sig_stack). */
static bool within_guest_altstack(const struct hp_thread *t, uint64_t sp)
{
  return sp > t->guest_ss_sp && sp - t->guest_ss_sp <= t->guest_ss_size;
}

/* The kernel's on_sig_stack: a stack armed with SS_AUTODISARM never counts
 * as in use (it is disarmed while a handler runs on it). */
static bool on_guest_altstack(const struct hp_thread *t, uint64_t sp)
{
  return !(t->guest_ss_flags & SS_AUTODISARM_FLAG) && within_guest_altstack(t, sp);
}

/* The kernel's sas_ss_flags: the mode sigaltstack reports at sp. */
static int32_t altstack_mode(const struct hp_thread *t, uint64_t sp)
{
  if (!t->guest_ss_size)
    return SS_DISABLE;
  return on_guest_altstack(t, sp) ? SS_ONSTACK : 0;
}

/* The kernel's do_sigaltstack with a new stack, sp the guest's: for the
 * system call and for rt_sigreturn's restore from uc_stack. The flags are
 * kept as given (SS_ONSTACK too), as the kernel keeps them. */
static long set_altstack(struct hp_thread *t, const struct k_stack *ss, uint64_t sp)
{
  if (on_guest_altstack(t, sp))
    return -EPERM;
  int32_t mode = ss->flags & ~(int32_t)SS_AUTODISARM_FLAG;
  if (mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE)
    return -EINVAL;
  if (ss->sp == t->guest_ss_sp && ss->size == t->guest_ss_size && ss->flags == t->guest_ss_flags)
    return 0; /* unchanged: no size check either */
  uint64_t base = ss->sp, size = ss->size;
  if (mode == SS_DISABLE)
    base = size = 0;
  else if (size < 2048)
    return -ENOMEM;
  t->guest_ss_sp = base;
  t->guest_ss_size = size;
  t->guest_ss_flags = ss->flags;
  return 0;
}

long hp_signal_sigaltstack(struct hp_thread *t, const void *ssv, void *oldv)
{
  struct k_stack ssbuf;
  if (ssv && !hp_guest_read(&ssbuf, ssv, sizeof ssbuf))
    return -EFAULT;
  uint64_t sp = t->gpr[HP_RSP];
  /* As the kernel: the mode, with SS_AUTODISARM if armed so; reported
   * only when the new stack is valid. */
  struct k_stack old = {.sp = t->guest_ss_sp, .size = t->guest_ss_size,
                        .flags = altstack_mode(t, sp) | (t->guest_ss_flags & (int32_t)SS_AUTODISARM_FLAG)};
  if (ssv) {
    long r = set_altstack(t, &ssbuf, sp);
    if (r)
      return r;
  }
  /* The new stack is in place even when the old one cannot be reported. */
  if (oldv && !hp_guest_write(oldv, &old, sizeof old))
    return -EFAULT;
  return 0;
}

void hp_signal_first_altstack(struct hp_thread *t)
{
  t->guest_ss_sp = t->guest_ss_size = 0;
  if (hp_opt.exec_ss_flags >= 0) {
    t->guest_ss_flags = (int32_t)(uint32_t)hp_opt.exec_ss_flags;
    return;
  }
  /* The mode is not shown: 0, as in a process none of whose ancestors set
   * a stack. */
  stack_t now;
  t->guest_ss_flags = sigaltstack(NULL, &now) == 0 ? (now.ss_flags & (int32_t)SS_AUTODISARM_FLAG) : 0;
}

void hp_signal_exec_altstack(const struct hp_thread *t, stack_t *host, bool failed)
{
  if (failed) {
    sigaltstack(host, NULL);
    return;
  }
  sigaltstack(NULL, host);
  if (host->ss_flags & SS_DISABLE)
    *host = (stack_t){.ss_flags = SS_DISABLE};
  else
    host->ss_flags = 0;
  /* The kernel clears the stack at execve but keeps its flags. */
  stack_t ss = *host;
  ss.ss_flags = t->guest_ss_flags;
  if ((t->guest_ss_flags & ~(int32_t)SS_AUTODISARM_FLAG) == SS_DISABLE || !host->ss_size)
    ss = (stack_t){.ss_flags = SS_DISABLE | (t->guest_ss_flags & (int32_t)SS_AUTODISARM_FLAG)};
  sigaltstack(&ss, NULL);
}

/* [lo, hi) is mapped writable (re-reading the maps once: the heap or a
 * stack may have grown since they were read). */
static bool writable_range(uint64_t lo, uint64_t hi)
{
  for (int attempt = 0; attempt < 2; attempt++) {
    struct hp_region r;
    uint64_t p = lo;
    while (p < hi && hp_memmap_query(p, &r) && (r.prot & PROT_WRITE))
      p = r.end;
    if (p >= hi)
      return true;
    hp_memmap_invalidate();
  }
  return false;
}

static bool default_ignores(int sig)
{
  return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

static bool deliver_one(struct hp_thread *t, uint64_t *pcp);

/* The process dies of sig from code that holds the lock (deliver_one):
 * --stats and --report take it again. */
static noreturn void die_locked(int sig)
{
  hp_unlock();
  hp_die_by_signal(sig);
}

bool hp_signal_deliver(struct hp_thread *t, uint64_t *pc)
{
  /* The lookup may have been pointed at the empty table: restore it. */
  hp_ibl_attach(t);
  hp_lock();
  bool delivered = deliver_one(t, pc);
  hp_unlock();
  return delivered;
}

/* Takes one pending instance of sig (its siginfo into info). The queue is
 * shared with this thread's own signal handler: signals are blocked while
 * it changes. */
static void take_pending(struct hp_thread *t, int sig, uint8_t *info)
{
  uint64_t all = ~0ull, saved;
  raw(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, (long)&saved, 8);
  bool more = false;
  if (sig >= SIGRTMIN_KERNEL) {
    struct rt_queue *q = t->rt_queue;
    uint32_t i = 0;
    while (i < q->count && q->e[i].sig != sig)
      i++;
    if (i < q->count) {
      memcpy(info, q->e[i].info, 128);
      memmove(&q->e[i], &q->e[i + 1], (q->count - i - 1) * sizeof q->e[0]);
      q->count--;
      for (uint32_t k = i; k < q->count && !more; k++)
        more = q->e[k].sig == sig;
    } else {
      memset(info, 0, 128);
      ((int *)info)[0] = sig;
    }
  } else {
    memcpy(info, t->sig_info[sig], 128);
  }
  if (!more)
    __atomic_and_fetch(&t->sig_pending, ~(1ull << (sig - 1)), __ATOMIC_SEQ_CST);
  raw(SYS_rt_sigprocmask, SIG_SETMASK, (long)&saved, 0, 8);
}

static bool deliver_one(struct hp_thread *t, uint64_t *pcp)
{
  uint64_t pc = *pcp;
  for (;;) {
    /* Signals the guest blocks since they arrived (e.g. further instances
     * of the one whose handler runs) wait for an unblocking system call. */
    uint64_t blocked = 0;
    raw(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&blocked, 8);
    if (t->call_mask_valid) /* the kernel delivers during the call, with its mask */
      blocked = t->call_mask;
    uint64_t ready = t->sig_pending & ~blocked;
    int sig = 0;
    /* Synchronous faults first: they belong to the instruction at pc. One
     * the guest blocks kills the process, as the kernel forces it. */
    for (int s = 1; s <= 64 && !sig; s++)
      if ((t->sig_pending & (1ull << (s - 1))) && is_sync(s) && ((int *)t->sig_info[s])[2] > 0)
        sig = s;
    if (sig && (blocked & (1ull << (sig - 1))))
      die_locked(sig);
    if (!sig && !ready) {
      t->call_mask_valid = false;
      return false;
    }
    if (!sig)
      sig = __builtin_ctzll(ready) + 1;
    uint8_t info[128];
    take_pending(t, sig, info);
    struct ksigaction act = tab_of(t)->act[sig];
    if (act.handler == (uint64_t)(uintptr_t)SIG_IGN)
      continue;
    if (act.handler == (uint64_t)(uintptr_t)SIG_DFL) {
      if (default_ignores(sig))
        continue;
      if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
        raw(SYS_kill, raw(SYS_getpid, 0, 0, 0, 0), SIGSTOP, 0, 0); /* stop; SIGCONT resumes */
        continue;
      }
      die_locked(sig);
    }
    uint64_t old_mask = 0;
    raw(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&old_mask, 8);
    /* As the kernel's get_sigframe: the red zone is skipped before it
     * asks whether the stack is in use. */
    uint64_t sp = t->gpr[HP_RSP];
    bool nested = on_guest_altstack(t, sp);
    sp -= 128; /* red zone */
    bool alt = (act.flags & SA_ONSTACK) && altstack_mode(t, sp) == 0;
    if (alt)
      sp = t->guest_ss_sp + t->guest_ss_size;
    sp -= t->xsave_size + 4; /* + FP_XSTATE_MAGIC2 */
    sp &= ~(uint64_t)63;
    uint64_t fp = sp;
    sp -= sizeof(struct k_rt_sigframe);
    sp = (sp & ~(uint64_t)15) - 8;
    /* A frame that does not fit (stack overflow, small alternate stack,
     * or leaving the alternate stack it is nested on) is a SIGSEGV the
     * guest cannot catch, as in the kernel. */
    uint64_t top = alt ? t->guest_ss_sp + t->guest_ss_size : fp + t->xsave_size + 4;
    if (!writable_range(sp, top) || ((alt || nested) && !within_guest_altstack(t, sp)))
      die_locked(SIGSEGV);
    struct k_rt_sigframe *fr = (struct k_rt_sigframe *)sp;
    uint8_t *fpb = (uint8_t *)fp;
    memcpy(fpb, t->xsave, t->xsave_size);
    /* sw_reserved bytes of the fxsave area mark an xstate frame. */
    /* struct _fpx_sw_bytes in the fxsave area's software-reserved bytes. */
    struct {
      uint32_t magic1, extended_size;
      uint64_t xfeatures;
      uint32_t xstate_size, padding[7];
    } sw = {FP_XSTATE_MAGIC1, (uint32_t)t->xsave_size + 4, t->xsave_mask, (uint32_t)t->xsave_size, {0}};
    _Static_assert(sizeof sw == 48, "fpx_sw_bytes");
    memcpy(fpb + 464, &sw, sizeof sw);
    uint32_t m2 = FP_XSTATE_MAGIC2;
    memcpy(fpb + t->xsave_size, &m2, 4);
    memset(fr, 0, sizeof *fr);
    fr->pretcode = act.restorer;
    fr->uc.flags = UC_FP_XSTATE;
    /* The settings as they are (the kernel's __save_altstack), for
     * rt_sigreturn to restore. */
    fr->uc.stack.sp = t->guest_ss_sp;
    fr->uc.stack.size = t->guest_ss_size;
    fr->uc.stack.flags = t->guest_ss_flags;
    uint64_t *mc = &fr->uc.mc.r8;
    for (int i = 0; i < 16; i++)
      mc[i] = t->gpr[mc_order[i]];
    if (t->restart_pc) {
      /* Interrupted by this signal with EINTR: a call the kernel would have
       * restarted under SA_RESTART resumes at the syscall instruction. */
      if (act.flags & SA_RESTART) {
        pc = t->restart_pc;
        fr->uc.mc.rax = t->restart_nr;
      }
      t->restart_pc = 0;
    }
    fr->uc.mc.rip = pc;
    fr->uc.mc.eflags = t->rflags;
    fr->uc.mc.cs = 0x33;
    fr->uc.mc.ss = 0x2b;
    fr->uc.mc.fpstate = fp;
    if (is_sync(sig) && ((int *)info)[2] > 0) {
      fr->uc.mc.err = t->fault_err;
      fr->uc.mc.trapno = t->fault_trapno;
    }
    /* The handler starts with a fresh FPU/SSE state, as from the kernel. */
    memset(t->xsave + 512, 0, 64);
    *(uint32_t *)(t->xsave + 24) = 0x1f80;
    fr->uc.mc.oldmask = old_mask;
    fr->uc.sigmask = old_mask;
    memcpy(fr->info, info, 128);
    if (is_sync(sig) && sig == SIGSEGV)
      fr->uc.mc.cr2 = *(uint64_t *)(info + 16);
    uint64_t new_mask = (t->call_mask_valid ? t->call_mask : old_mask) | act.mask;
    t->call_mask_valid = false;
    if (!(act.flags & SA_NODEFER))
      new_mask |= 1ull << (sig - 1);
    raw(SYS_rt_sigprocmask, SIG_SETMASK, (long)&new_mask, 0, 8);
    if (act.flags & SA_RESETHAND) {
      struct ksigaction dfl = {0};
      set_action(tab_of(t), sig, &dfl, NULL);
    }
    /* Delivered: an SS_AUTODISARM stack is off until rt_sigreturn puts
     * it back, whichever stack this handler runs on (signal_delivered). */
    if (t->guest_ss_flags & SS_AUTODISARM_FLAG) {
      t->guest_ss_sp = t->guest_ss_size = 0;
      t->guest_ss_flags = SS_DISABLE;
    }
    t->gpr[HP_RDI] = (uint64_t)sig;
    t->gpr[HP_RSI] = (uint64_t)(uintptr_t)fr->info;
    t->gpr[HP_RDX] = (uint64_t)(uintptr_t)&fr->uc;
    t->gpr[HP_RAX] = 0;
    t->gpr[HP_RSP] = sp;
    t->rflags &= ~(uint64_t)(0x400 | 0x100); /* DF and TF clear in the handler */
    if (hp_log_level() >= HP_LOG_INFO) {
      char where[160];
      hp_describe_pc(pc, where, sizeof where); /* hp_signal_deliver holds the lock */
      hp_log(HP_LOG_INFO, "signal %d delivered to guest handler 0x%lx, interrupted at %s", sig,
             (unsigned long)act.handler, where);
    }
    *pcp = act.handler;
    return true;
  }
}

bool hp_signal_ready(struct hp_thread *t)
{
  uint64_t pending = __atomic_load_n(&t->sig_pending, __ATOMIC_SEQ_CST);
  if (!pending)
    return false;
  uint64_t blocked = 0;
  raw(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&blocked, 8);
  return (pending & ~blocked) != 0;
}

bool hp_signal_fault(struct hp_thread *t, int sig, int code, uint64_t addr)
{
  /* user-mode instruction fetch (#PF), or #UD */
  return hp_signal_fault_trap(t, sig, code, addr, sig == SIGSEGV ? 0x14 : 0, sig == SIGSEGV ? 14 : 6);
}

bool hp_signal_fault_trap(struct hp_thread *t, int sig, int code, uint64_t addr, uint64_t err, uint64_t trapno)
{
  if (!guest_catches(tab_of(t), sig))
    return false;
  int info[32] = {0};
  info[0] = sig;
  info[2] = code;
  memcpy(&info[4], &addr, 8); /* si_addr */
  memcpy(t->sig_info[sig], info, 128);
  t->fault_err = err;
  t->fault_trapno = trapno;
  __atomic_or_fetch(&t->sig_pending, 1ull << (sig - 1), __ATOMIC_SEQ_CST);
  return true;
}

uint64_t hp_signal_sigreturn(struct hp_thread *t)
{
  struct k_rt_sigframe *fr = (struct k_rt_sigframe *)(t->gpr[HP_RSP] - 8);
  struct k_rt_sigframe probe;
  if (!hp_guest_read(&probe, fr, sizeof probe)) /* a bad frame: SIGSEGV, as the kernel */
    hp_die_by_signal(SIGSEGV);
  const uint64_t *mc = &fr->uc.mc.r8;
  for (int i = 0; i < 16; i++)
    t->gpr[mc_order[i]] = mc[i];
  /* Only the flags user code may change. */
  const uint64_t user_flags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x40000 | 0x200000;
  t->rflags = (t->rflags & ~user_flags) | (fr->uc.mc.eflags & user_flags);
  if (fr->uc.mc.fpstate) {
    /* An image xrstor would refuse is the guest's SIGSEGV, not hotpath's. */
    const uint8_t *img = (const uint8_t *)fr->uc.mc.fpstate;
    uint8_t head[576];
    uint64_t bv, comp;
    uint32_t mxcsr;
    if (!hp_guest_read(head, img, sizeof head))
      hp_die_by_signal(SIGSEGV);
    memcpy(&bv, head + 512, 8);
    memcpy(&comp, head + 520, 8);
    memcpy(&mxcsr, head + 24, 4);
    if ((bv & ~t->xsave_mask) || comp || (mxcsr >> 16) || !hp_guest_read(t->xsave, img, t->xsave_size))
      hp_die_by_signal(SIGSEGV);
  } else {
    memset(t->xsave + 512, 0, 64); /* no FPU state: the initial one */
    *(uint32_t *)(t->xsave + 24) = 0x1f80;
  }
  /* The frame's uc_stack comes back as a sigaltstack call from the
   * interrupted stack would set it; failures (EPERM while that stack is
   * in use, bad flags) are ignored, as by the kernel's restore_altstack. */
  set_altstack(t, &probe.uc.stack, t->gpr[HP_RSP]);
  uint64_t mask = fr->uc.sigmask & ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
  raw(SYS_rt_sigprocmask, SIG_SETMASK, (long)&mask, 0, 8);
  return fr->uc.mc.rip;
}
