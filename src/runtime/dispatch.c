/* Dispatcher loop and guest start-up under translation. */
#include "hotpath/dispatch.h"

#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hotpath/builder.h"
#include "hotpath/cache.h"
#include "hotpath/clone.h"
#include "hotpath/evict.h"
#include "hotpath/far.h"
#include "hotpath/fragment.h"
#include "hotpath/ibl.h"
#include "hotpath/loader.h"
#include "hotpath/log.h"
#include "hotpath/memmap.h"
#include "hotpath/options.h"
#include "hotpath/rawsys.h"
#include "hotpath/signal.h"
#include "hotpath/stats.h"
#include "hotpath/syscall.h"
#include "hotpath/thread.h"
#include "hotpath/trace.h"


static volatile uintptr_t crash_address = 8; /* for --debug-crash-after */

/* Under the lock (the memory map's tables are its). */
void hp_describe_pc(uint64_t pc, char *buf, size_t len)
{
  char where[96];
  hp_memmap_where(pc, where, sizeof where);
  snprintf(buf, len, "guest pc 0x%lx (%s)", (unsigned long)pc, where);
}

void hp_describe_guest_location(char *buf, size_t len)
{
  /* Used when hotpath itself failed: nothing here may allocate or re-read
   * /proc/self/maps. */
  struct hp_thread *t = hp_thread_current();
  uint64_t pc = t ? t->cur_guest_pc : 0;
  struct hp_region r;
  bool known = hp_memmap_query_cached(pc, &r);
  struct hp_fragment *f = hp_fragment_lookup(pc);
  snprintf(buf, len, "guest pc 0x%lx (%s+0x%lx), fragment %p", (unsigned long)pc,
           known ? (r.name[0] ? r.name : "anonymous") : "unknown module",
           known ? (unsigned long)(pc - r.start) : 0ul, f ? (void *)f->code : NULL);
}

void hp_die_by_signal(int sig)
{
  hp_at_guest_exit(0, sig);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
  /* A signal whose default action is to ignore: nothing more natural to do. */
  _exit(128 + sig);
}

/* xbegin (c7 f8 rel32, with prefixes) at a translated pc: on a CPU without
 * RTM it raises #UD, which the guest gets as SIGILL, as natively. */
static bool is_xbegin(uint64_t pc)
{
  const uint8_t *b = (const uint8_t *)pc;
  unsigned i = 0;
  while (i < 4 && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 || (b[i] & 0xf0) == 0x40))
    i++;
  return b[i] == 0xc7 && b[i + 1] == 0xf8;
}

static bool cpu_has_rtm(void)
{
  unsigned a, b, c, d;
  __cpuid_count(7, 0, a, b, c, d);
  return (b >> 11) & 1;
}

static noreturn void unsupported(uint64_t pc)
{
  char where[160];
  hp_lock();
  hp_describe_pc(pc, where, sizeof where);
  hp_unlock();
  uint8_t *b = (uint8_t *)pc;
  hp_fatal(HP_STATUS_UNSUPPORTED,
           "unsupported instruction at %s (bytes %02x %02x %02x %02x): GS-relative accesses, "
           "sysenter, iret and transactional memory are not translated",
           where, b[0], b[1], b[2], b[3]);
}

/* A far jmp/call/ret the CPU would perform into a code segment hotpath
 * cannot run the guest in. */
static noreturn void unsupported_far(uint64_t pc, const struct hp_far_fault *f)
{
  char where[160];
  hp_lock();
  hp_describe_pc(pc, where, sizeof where);
  hp_unlock();
  if (f->sel)
    hp_fatal(HP_STATUS_UNSUPPORTED, "far transfer to selector 0x%x at %s: %s", f->sel, where, f->why);
  hp_fatal(HP_STATUS_UNSUPPORTED, "far transfer at %s: %s", where, f->why);
}

/* The legacy vsyscall page (execute-only, so it cannot be translated): its
 * three entries are system calls followed by a return, as the kernel
 * emulates them. */
#define VSYSCALL_PAGE 0xffffffffff600000ull

static bool vsyscall(struct hp_thread *t, uint64_t *pc)
{
  static const long nr[3] = {SYS_gettimeofday, SYS_time, SYS_getcpu};
  unsigned i = (unsigned)((*pc - VSYSCALL_PAGE) >> 10);
  struct hp_region r;
  hp_lock();
  bool mapped = hp_memmap_query(*pc, &r);
  hp_unlock();
  uint64_t *g = t->gpr, ret;
  if ((*pc & 0x3ff) || i > 2 || !mapped) /* vsyscall=none: SIGSEGV */
    return false;
  if (!hp_guest_read(&ret, (const void *)g[HP_RSP], 8)) /* the return would fault */
    return false;
  g[HP_RAX] = (uint64_t)syscall(nr[i], g[HP_RDI], g[HP_RSI], g[HP_RDX]);
  if ((long)g[HP_RAX] == -1)
    g[HP_RAX] = (uint64_t)-errno;
  *pc = ret;
  g[HP_RSP] += 8;
  return true;
}

static void abort_recording(struct hp_thread *t)
{
  if (hp_trace_recording(t)) {
    hp_lock();
    hp_trace_abort(t);
    hp_unlock();
  }
}

/* A fault found by the dispatcher: the guest's handler runs (pc becomes
 * its entry), or the process dies of it. */
/* The si_code of a SIGSEGV at addr, as the kernel tells them: a page not
 * mapped (SEGV_MAPERR), or mapped without the permission (SEGV_ACCERR).
 * Under the lock (the memory map's tables are its), on hotpath's FS. */
static int segv_code(uint64_t addr)
{
  struct hp_region r;
  return hp_memmap_query(addr, &r) ? SEGV_ACCERR : SEGV_MAPERR;
}

static void guest_fault(struct hp_thread *t, uint64_t *pc, int sig, int code, uint64_t addr)
{
  if (!hp_signal_fault(t, sig, code, addr) || !hp_signal_deliver(t, pc))
    hp_die_by_signal(sig);
}

/* A far jmp/call/ret at *pc (the guest state exact before it): performed,
 * its fault delivered as the CPU would raise it, or a loud stop. */
static void far_transfer(struct hp_thread *t, uint64_t *pc)
{
  struct hp_far_fault f;
  uint64_t at = *pc;
  switch (hp_far_perform(t, pc, &f)) {
  case HP_FAR_DONE:
    HP_DEBUG("far transfer at 0x%lx to 0x%lx", (unsigned long)at, (unsigned long)*pc);
    return;
  case HP_FAR_FAULT:
    HP_INFO("far transfer at 0x%lx faults: signal %d (trap %lu, error 0x%lx)", (unsigned long)at, f.sig,
            (unsigned long)f.trapno, (unsigned long)f.err);
    if (!hp_signal_fault_trap(t, f.sig, f.code, f.addr, f.err, f.trapno) || !hp_signal_deliver(t, pc))
      hp_die_by_signal(f.sig);
    return;
  case HP_FAR_UNSUPPORTED:
    unsupported_far(at, &f);
  }
}

/* Builds the block at pc (lock held, at t's safe point). When the code
 * cache is full, the eviction makes room (a flush, or freeing what no
 * thread uses any more) or waits for other threads to leave old code;
 * *flushed then says that what the caller kept from before is gone. */
static struct hp_fragment *build_block(struct hp_thread *t, uint64_t pc, bool *flushed)
{
  for (;;) {
    hp_cache_clear_full();
    uint64_t built = hp_stats.blocks_built;
    struct hp_fragment *f = hp_build_block_at(pc, t->gpr);
    if (f && hp_stats.blocks_built != built)
      hp_clone_note_built(pc);
    if (f && hp_opt.debug_flush_every && hp_stats.blocks_built != built && /* not one put back */
        hp_stats.blocks_built % (uint64_t)hp_opt.debug_flush_every == 0)
      hp_cache_request_flush(); /* done at the next safe point */
    if (f || !hp_cache_full())
      return f;
    hp_fs_host();
    *flushed = true;
    if (!hp_evict_make_room(t, flushed))
      hp_evict_wait(t);
    hp_evict_safe_point(t);
    if ((f = hp_fragment_lookup(pc))) /* another thread built it meanwhile */
      return f;
  }
}

/* Exits the dispatcher handles on the guest's FS (thread.h: lazy FS): every
 * function their paths call is checked by tests/layers/check_lazy_fs.py;
 * any other path calls hp_fs_host() first. */
static bool lazy_exit(int kind)
{
  return kind == HP_EXIT_BRANCH || kind == HP_EXIT_PREDICT || kind == HP_EXIT_LEARN ||
         kind == HP_EXIT_IBL_MISS || kind == HP_EXIT_HOT;
}

/* The fragments this thread's asynchronous signal held unlinked may be
 * linked again: it is out of the cache, or not entering it (now, before
 * anything that could let their records be freed: a system call, the
 * safe point). */
static void let_go_held(struct hp_thread *t)
{
  /* After the caller's in_dispatcher store, in the compiled code too: a
   * signal between the two would hold a fragment this missed. */
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (!t->nheld)
    return;
  hp_lock();
  hp_fragments_let_go(t);
  hp_unlock();
}

void hp_dispatch_loop(struct hp_thread *t, uint64_t pc)
{
  t->in_dispatcher = 1;
  struct hp_exit *prev = NULL, *learner = NULL;
  int last_kind = -1;
  bool ibl_insert = false, hot = false;
  for (;;) {
    t->cur_guest_pc = pc;
    hp_lock();
    /* The safe point: this thread holds no code or record of the cache but
     * prev, learner and hot, dropped when a flush came in between. */
    bool flushed = hp_evict_safe_point(t);
    if (hp_cache_full()) {
      hp_fs_host();
      hp_evict_make_room(t, &flushed);
    }
    if (flushed) {
      prev = learner = NULL;
      hot = false;
    }
    struct hp_fragment *f = hp_fragment_lookup(pc);
    if (!f) {
      if ((pc & ~0xc00ull) == VSYSCALL_PAGE) {
        hp_fs_host();
        hp_trace_abort(t); /* emulated, not translated: no path to record */
        hp_unlock();
        if (vsyscall(t, &pc)) {
          prev = learner = NULL;
          ibl_insert = false;
          continue;
        }
        hp_lock();
      }
      flushed = false;
      f = build_block(t, pc, &flushed);
      if (flushed) {
        prev = learner = NULL;
        hot = false;
      }
      if (hp_opt.debug_crash_after && hp_stats.blocks_built >= (uint64_t)hp_opt.debug_crash_after)
        *(volatile int *)crash_address = 0; /* --debug-crash-after: a hotpath bug on purpose */
      if (f)
        hp_trace_build_ahead(f);
      if (!f) {
        hp_fs_host();
        /* The memory map's tables are the lock's: query it before unlocking. */
        char where[160];
        hp_describe_pc(pc, where, sizeof where);
        int code = segv_code(pc);
        hp_unlock();
        HP_INFO("jump to non-executable memory at %s: SIGSEGV (last exit kind %d)", where, last_kind);
        /* The kernel reports a bad jump into the vsyscall page at address 0. */
        uint64_t addr = (pc & ~0xfffull) == VSYSCALL_PAGE ? 0 : pc;
        abort_recording(t);
        guest_fault(t, &pc, SIGSEGV, code, addr);
        prev = learner = NULL;
        ibl_insert = false;
        continue;
      }
    }
    bool recording = hp_trace_recording(t);
    if (!recording) {
      f = hp_trace_edge(prev, f); /* a new trace head gets its counting copy */
      if (prev && !hp_opt.no_link)
        hp_link(prev, f);
      if (hot)
        recording = hp_trace_hot(t, &f);
    }
    hot = false;
    struct hp_fragment *run = f;
    if (recording) {
      /* The recording thread runs a private unlinked copy of each block, so
       * it comes back here after every block; other threads are unaffected. */
      run = hp_trace_record_step(t, pc);
      if (!run) /* the recording ended: the pc may now start a trace */
        run = f = hp_fragment_lookup(pc);
    }
    if (ibl_insert) {
      /* An entry may exist (this thread's lookups were blanked by a
       * signal): keep it, it may be a call's continuation. */
      uintptr_t known = hp_ibl_find(pc);
      if (!known)
        hp_ibl_insert(pc, known = f->code);
      hp_ibl_fast_insert(t, pc, known);
    }
    if (learner) /* an indirect call/jmp site learns its (first) target */
      hp_predict(learner, pc, f);
    hp_unlock();
    prev = NULL;
    ibl_insert = false;
    learner = NULL;
    t->enter_pc = run->code;
    t->enter_frag = run;
    __atomic_store_n(&t->in_dispatcher, 0, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&t->sig_pending, __ATOMIC_SEQ_CST)) {
      t->in_dispatcher = 1;
      let_go_held(t); /* (a signal that came after the store above) */
      hp_fs_host();
      if (hp_signal_deliver(t, &pc)) {
        abort_recording(t); /* the path went into a handler */
        continue;
      }
      /* Only blocked signals wait: run on (enter_frag may have been unlinked). */
      __atomic_store_n(&t->in_dispatcher, 0, __ATOMIC_SEQ_CST);
    }
    hp_enter_cache(t);
    t->in_dispatcher = 1;
    let_go_held(t);
    __atomic_fetch_add(&hp_stats.dispatcher_entries, 1, __ATOMIC_RELAXED);
    if (t->fs_guest)
      __atomic_fetch_add(&hp_stats.lazy_fs_exits, 1, __ATOMIC_RELAXED);
    struct hp_exit *x = (struct hp_exit *)t->exit_rec;
    last_kind = x->kind;
    if (!lazy_exit(x->kind) && !(x->kind == HP_EXIT_SYSCALL && hp_syscall_plain(t)))
      hp_fs_host();
    switch (x->kind) {
    case HP_EXIT_BRANCH:
      pc = x->target;
      prev = x;
      if (x->from->kind == HP_FRAG_TRACE)
        __atomic_fetch_add(&hp_stats.trace_exits, 1, __ATOMIC_RELAXED);
      break;
    case HP_EXIT_PREDICT:
      /* A site that has learnt nothing "hits" only for the target ~0 (its
       * tag is 0): that jump is the guest's SIGSEGV, found below. */
      pc = x->target ? x->target : ~0ull;
      prev = x->target ? x : NULL;
      break;
    case HP_EXIT_LEARN:
      pc = t->ibl_target;
      learner = hp_exit_site(x);
      ibl_insert = true;
      break;
    case HP_EXIT_GUARD_MISSES:
      hp_lock();
      hp_trace_guard_misses(x->from);
      hp_unlock();
      pc = t->ibl_target;
      ibl_insert = true;
      break;
    case HP_EXIT_CALLEE_EXITS:
      hp_lock();
      hp_trace_callee_exits(t, x->from);
      hp_unlock();
      pc = x->target; /* never linked: the next limit comes back here */
      break;
    case HP_EXIT_DEOPT:
      hp_lock();
      hp_trace_deopt(x->from);
      hp_unlock();
      pc = x->target;
      break;
    case HP_EXIT_IBL_MISS:
      pc = t->ibl_target;
      __atomic_fetch_add(&hp_stats.ibl_misses, 1, __ATOMIC_RELAXED);
      ibl_insert = true;
      break;
    case HP_EXIT_SYSCALL:
      if (hp_signal_ready(t)) {
        /* A signal came first: its handler runs, then the syscall. */
        pc = x->target - 2;
        break;
      }
      pc = x->target;
      t->cur_guest_pc = pc;
      __atomic_fetch_add(&hp_stats.syscalls, 1, __ATOMIC_RELAXED);
      /* No cache code or record is used from here to the next safe point:
       * a call that blocks (for ever) holds up no eviction. */
      hp_evict_idle(t);
      pc = t->fs_guest ? hp_syscall_passthrough(t, pc) : hp_syscall(t, pc);
      break;
    case HP_EXIT_HOT: /* a trace head reached its threshold: maybe record */
      pc = x->target;
      hot = true;
      break;
    case HP_EXIT_FAULT:
      pc = x->target; /* the pending signal is delivered before going on */
      abort_recording(t);
      break;
    case HP_EXIT_STALE:
      hp_lock();
      hp_stats.stale_fragments++;
      hp_fragment_remove(x->from);
      hp_unlock();
      pc = x->target;
      break;
    case HP_EXIT_BAD_INSN:
      HP_INFO("undecodable instruction at 0x%lx: SIGILL", (unsigned long)x->target);
      pc = x->target;
      guest_fault(t, &pc, SIGILL, ILL_ILLOPN, pc);
      break;
    case HP_EXIT_NO_EXEC: {
      HP_INFO("instruction at 0x%lx runs into non-executable memory: SIGSEGV", (unsigned long)x->target);
      pc = x->target;
      uint64_t next = (pc + HP_PAGE) & ~(uint64_t)(HP_PAGE - 1);
      hp_fs_host(); /* the query may read /proc/self/maps */
      hp_lock();
      int code = segv_code(next);
      hp_unlock();
      guest_fault(t, &pc, SIGSEGV, code, next);
      break;
    }
    case HP_EXIT_FAR:
      pc = x->target;
      t->cur_guest_pc = pc;
      abort_recording(t);
      far_transfer(t, &pc);
      break;
    case HP_EXIT_INT80:
      pc = x->target;
      t->cur_guest_pc = pc;
      abort_recording(t);
      if (hp_signal_ready(t))
        break; /* a signal came first: its handler runs, then the call */
      __atomic_fetch_add(&hp_stats.syscalls, 1, __ATOMIC_RELAXED);
      __atomic_fetch_add(&hp_stats.int80_calls, 1, __ATOMIC_RELAXED);
      hp_evict_idle(t);
      pc = hp_syscall_int80(t, pc);
      break;
    case HP_EXIT_UNSUPPORTED_INSN:
      if (is_xbegin(x->target) && !cpu_has_rtm()) { /* #UD natively */
        HP_INFO("xbegin at 0x%lx on a CPU without RTM: SIGILL", (unsigned long)x->target);
        pc = x->target;
        guest_fault(t, &pc, SIGILL, ILL_ILLOPN, pc);
        break;
      }
      unsupported(x->target);
    default:
      HP_ASSERT(!"unknown exit kind");
    }
  }
}

void hp_run(struct hp_launch *L)
{
  hp_log_set_location_hook(hp_describe_guest_location);
  hp_syscall_init(L);
  struct hp_thread *t = hp_thread_new(false);
  hp_thread_attach(t);
  hp_signal_first_altstack(t);
  hp_signal_init_thread(t);
  t->exit_routine = (uint64_t)(uintptr_t)hp_cache_exit;
  hp_ibl_init();
  hp_ibl_attach(t);
  t->gpr[HP_RSP] = L->sp;
  hp_trace_set_stack(L->stack_lo, L->stack_hi);
  t->rflags = 0x202;
  t->guest_fs = 0;
  /* /proc/self/comm: the guest's name, as after its execve. */
  const char *base = strrchr(L->exe_path, '/');
  prctl(PR_SET_NAME, base ? base + 1 : L->exe_path, 0, 0, 0);
  fflush(NULL);
  hp_dispatch_loop(t, L->entry_pc);
}
