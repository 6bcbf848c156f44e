/* Guest threads and processes: clone with CLONE_THREAD (a host pthread per
 * guest thread), clone with CLONE_VM but without CLONE_THREAD (a process of
 * its own in this memory, on a raw clone), vfork (the child runs under
 * hotpath on its own block while the parent waits), fork (the child copies
 * the code cache), thread exit; and the process's end (statistics once, in
 * the process hotpath started). */
#include "hotpath/clone.h"

#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hotpath/builder.h"
#include "hotpath/cache.h"
#include "hotpath/evict.h"
#include "hotpath/dispatch.h"
#include "hotpath/fragment.h"
#include "hotpath/ibl.h"
#include "hotpath/log.h"
#include "hotpath/memmap.h"
#include "hotpath/options.h"
#include "hotpath/pages.h"
#include "hotpath/profile.h"
#include "hotpath/rawsys.h"
#include "hotpath/signal.h"
#include "hotpath/stats.h"
#include "hotpath/thread.h"
#include "hotpath/report.h"
#include "hotpath/trace.h"

static pid_t initial_pid;
static bool stats_written;

void hp_process_init(void) { initial_pid = hp_opt.exec_root_pid > 0 ? (pid_t)hp_opt.exec_root_pid : getpid(); }
int hp_process_root_pid(void) { return (int)initial_pid; }

static void add_lookups(struct hp_thread *t, void *arg)
{
  ((uint64_t *)arg)[0] += t->ibl_lookups;
  ((uint64_t *)arg)[1] += t->ibl_inline_lookups;
  ((uint64_t *)arg)[2] += t->inline_cache_hits;
  ((uint64_t *)arg)[3] += t->guard_misses;
  ((uint64_t *)arg)[4] += t->ret_mismatches;
}

/* Counters kept elsewhere (per thread, in the cache) into hp_stats. */
static void stats_collect(void)
{
  uint64_t live[5] = {0, 0, 0, 0, 0};
  hp_lock();
  hp_thread_foreach(add_lookups, live);
  hp_stats.ibl_lookups += live[0]; /* threads that exited added theirs */
  hp_stats.ibl_inline_lookups += live[1];
  hp_stats.inline_cache_hits += live[2];
  hp_stats.guard_misses += live[3];
  hp_stats.ret_mismatches += live[4];
  /* Instructions run, estimated from each fragment's entries (a side exit
   * leaves early, so this counts high). */
  for (struct hp_cache_unit *u = hp_cache_units(); u; u = u->next)
    for (size_t i = 0; i < u->nowners; i++) {
      const struct hp_fragment *f = u->owners[i].owner;
      const uint64_t *entries = hp_frag_tr(f)->entries;
      if (!entries)
        continue;
      uint64_t n = *entries * f->ninsn;
      if (f->kind == HP_FRAG_TRACE)
        hp_stats.trace_insns_run += n;
      else
        hp_stats.block_insns_run += n;
    }
  uint64_t all = hp_stats.trace_insns_run + hp_stats.block_insns_run;
  if (all)
    hp_stats.trace_share_percent = hp_stats.trace_insns_run * 100 / all;
  hp_trace_opt_time_stats();
  hp_evict_stats();
  hp_stats.cache_bytes = hp_cache_bytes_used();
  hp_stats.cache_cold_bytes = hp_cache_cold_bytes_used();
  hp_stats.cache_count_bytes = hp_cache_count_bytes_used();
  if (hp_stats.guest_insns_translated)
    hp_stats.cache_bytes_per_insn_x100 =
        (hp_stats.cache_bytes - hp_stats.cache_count_bytes) * 100 / hp_stats.guest_insns_translated;
  hp_unlock();
}

void hp_at_guest_exit(int status, int sig)
{
  /* A CLONE_VM process shares the counters (and the once-only flag) with
   * the process hotpath started, which reports them. */
  if (hp_thread_current()->vm_process)
    return;
  static bool profile_saved;
  if (hp_opt.profile_save && !__atomic_exchange_n(&profile_saved, true, __ATOMIC_SEQ_CST)) {
    hp_lock();
    if (!hp_profile_save(hp_opt.profile_save))
      hp_log(HP_LOG_ERROR, "--profile-save=%s: %s", hp_opt.profile_save, strerror(errno));
    hp_unlock();
  }
  if (!hp_stats_enabled() || __atomic_exchange_n(&stats_written, true, __ATOMIC_SEQ_CST))
    return;
  stats_collect();
  /* The process is ending: a closed pipe on stderr must not kill it with
   * SIGPIPE on hotpath's account (the caller raises the guest's own signal
   * afterwards with its default action, if one ends it). */
  signal(SIGPIPE, SIG_IGN);
  bool child = getpid() != initial_pid;
  if (hp_opt.stats && !child)
    hp_stats_print();
  hp_report_write(status, sig, child);
}

/* The fragments a thread's asynchronous signal held unlinked are let go
 * when it is gone without coming out of the cache (its block still live,
 * and the records with it). A fork's child: the other threads are not
 * here (the lock is held). */
static void release_held(struct hp_thread *o, void *self)
{
  if (o != self)
    hp_fragments_let_go(o);
}

/* A child that may have died in the cache (a vfork child killed by a
 * signal, a CLONE_VM process's thread at another's exit_group). */
static void let_go_child(struct hp_thread *c)
{
  hp_lock();
  hp_fragments_let_go(c);
  hp_unlock();
}

/* The thread block of a clone's child: the parent's registers as the
 * syscall leaves them (rax = 0, rcx = next pc, r11 = flags), its stack and
 * TLS if given. The child's dispatcher starts at gpr[rcx]. */
static struct hp_thread *child_thread(struct hp_thread *t, bool host_stack, uint64_t flags,
                                      uint64_t stack, uint64_t tls, uint64_t next_pc)
{
  struct hp_thread *c = hp_thread_new(host_stack);
  memcpy(c->gpr, t->gpr, sizeof c->gpr);
  c->rflags = t->rflags;
  c->guest_fs = (flags & CLONE_SETTLS) ? tls : t->guest_fs;
  c->exit_routine = t->exit_routine;
  c->vm_process = t->vm_process;
  c->sigtab = t->sigtab; /* spawn_thread and clone_vm_process take their own hold */
  hp_ibl_attach(c);
  hp_ret_table_fill(c);
  hp_jt_table_fill(c);
  memcpy(c->xsave, t->xsave, t->xsave_size);
  c->gpr[HP_RAX] = 0;
  if (stack)
    c->gpr[HP_RSP] = stack;
  c->gpr[HP_RCX] = next_pc;
  c->gpr[HP_R11] = t->rflags;
  return c;
}

/* A vfork child (or clone(CLONE_VM|CLONE_VFORK)) runs under hotpath on its
 * own thread block and host stack while the parent waits. */
static void vfork_child_start(void *arg)
{
  struct hp_thread *c = arg;
  hp_thread_attach(c);
  hp_dispatch_loop(c, c->gpr[HP_RCX]);
}

static long emulate_vfork(struct hp_thread *t, uint64_t flags, uint64_t stack, uint64_t ptid,
                          uint64_t ctid, uint64_t tls, uint64_t next_pc)
{
  struct hp_thread *c = child_thread(t, true, flags, stack, tls, next_pc);
  c->is_vfork_child = true;
  /* CLONE_VFORK: the kernel keeps the parent's alternate stack for it. */
  c->guest_ss_sp = t->guest_ss_sp;
  c->guest_ss_size = t->guest_ss_size;
  c->guest_ss_flags = t->guest_ss_flags;
  fflush(NULL);
  long r = hp_clone_vm(flags & ~(uint64_t)CLONE_SETTLS, (void *)(c->host_stack_lo + c->host_stack_size),
                       (int *)ptid, (int *)ctid, vfork_child_start, c, 0);
  /* The child has exec'd or exited: its blocks are ours to free. */
  hp_ibl_attach(t);
  hp_trace_thread_exit(c);
  let_go_child(c);
  hp_thread_free(c);
  return r;
}

/* The child's side of CLONE_CHILD_SETTID and CLONE_CHILD_CLEARTID (the
 * kernel's tid words are hotpath's): before any guest code runs. */
static void child_tid_words(struct hp_thread *c, uint64_t flags, uint64_t ctid)
{
  if (flags & CLONE_CHILD_SETTID) /* a bad pointer is ignored, as by the kernel */
    hp_guest_write((void *)ctid, &c->tid, sizeof c->tid);
  if (flags & CLONE_CHILD_CLEARTID)
    c->clear_tid = ctid;
}

/* What the kernel does with a CLONE_CHILD_CLEARTID word when its task ends
 * (raw calls: no TLS needed). */
static void clear_tid_word(uint64_t addr)
{
  int zero = 0;
  hp_guest_write((void *)addr, &zero, sizeof zero);
  hp_raw_syscall(SYS_futex, (long)addr, FUTEX_WAKE, 1, 0, 0, 0);
}

/* A guest thread runs on a host pthread of its own (hotpath's C code needs
 * its own glibc TLS), with its own thread block and dispatcher loop. */
struct spawn_args {
  struct hp_thread *c;
  uint64_t flags, ptid, ctid;
  int tid; /* published by the child */
};

static void *guest_thread_main(void *arg)
{
  struct spawn_args *sa = arg;
  struct hp_thread *c = sa->c;
  hp_thread_attach(c);
  hp_signal_init_thread(c);
  /* Both tid stores happen before the guest thread can run (and exit),
   * as the kernel does them at clone time: glibc passes one address for both. */
  if (sa->flags & CLONE_PARENT_SETTID) /* a bad pointer is ignored, as by the kernel */
    hp_guest_write((void *)sa->ptid, &c->tid, sizeof c->tid);
  child_tid_words(c, sa->flags, sa->ctid);
  __atomic_store_n(&sa->tid, c->tid, __ATOMIC_RELEASE);
  syscall(SYS_futex, &sa->tid, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  jmp_buf done;
  c->exit_jmp = &done;
  if (setjmp(done) == 0)
    hp_dispatch_loop(c, c->gpr[HP_RCX]);
  /* The guest thread called exit: as the kernel does for CLONE_CHILD_CLEARTID.
   * No signal may reach this thread once its block is gone. */
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  hp_signal_exit_thread(c);
  uint64_t clear = c->clear_tid;
  HP_DEBUG("thread %d exits, clearing tid at 0x%lx", c->tid, (unsigned long)clear);
  hp_trace_thread_exit(c);
  /* glibc's mask leaves its own two signals open: the raw call blocks all. */
  uint64_t every = ~0ull;
  hp_raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, (long)&every, 0, 8, 0, 0);
  hp_thread_detach(); /* GS must not name the block once it is freed */
  hp_thread_free(c);
  if (clear)
    clear_tid_word(clear);
  return NULL;
}

noreturn void hp_guest_thread_exit(struct hp_thread *t)
{
  longjmp(*(jmp_buf *)t->exit_jmp, 1);
}

static long spawn_thread(struct hp_thread *t, uint64_t flags, uint64_t stack, uint64_t ptid,
                         uint64_t ctid, uint64_t tls, uint64_t next_pc)
{
  struct hp_thread *c = child_thread(t, false, flags, stack, tls, next_pc);
  c->is_clone = true;
  hp_signal_inherit_table(c, t, false);
  struct spawn_args sa = {.c = c, .flags = flags, .ptid = ptid, .ctid = ctid, .tid = 0};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 1ul << 20);
  pthread_t th;
  int err = pthread_create(&th, &attr, guest_thread_main, &sa);
  pthread_attr_destroy(&attr);
  hp_signal_reclaim_glibc_signals();
  if (err) {
    hp_signal_release_table(c);
    hp_trace_thread_exit(c);
    hp_thread_free(c);
    return -err;
  }
  while (__atomic_load_n(&sa.tid, __ATOMIC_ACQUIRE) == 0)
    syscall(SYS_futex, &sa.tid, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  HP_DEBUG("thread %d created (flags 0x%lx, child tid at 0x%lx)", sa.tid, (unsigned long)flags,
           (unsigned long)ctid);
  return sa.tid;
}

/* What a fork's children translated, for the next fork. A child starts
 * with a copy of its parent's code cache, but a subshell runs the code of
 * the shell's child side (and of whatever it does before exiting or
 * exec'ing), which the parent never runs: each child translated it anew
 * (bash's $(echo): about 1,000 blocks, most of a subshell's added time).
 * A child notes the start of each block it builds in a ring its parent
 * shares with it (the only memory hotpath shares between processes);
 * before its next fork the parent builds those blocks from its own memory,
 * so later children inherit them. Hints only: a slot overwritten before
 * the parent read it, or claimed by a child that died before writing it,
 * is lost. */
#define LEARN_CAP 16384u     /* slots (256 KiB, touched as used) */
#define LEARN_PER_FORK 8192u /* blocks built before one fork, at most */
#define LEARN_BYTES 1024u    /* bytes after a pc that must be in memory (a block's, at most) */
struct learn_ring {
  uint64_t n; /* slots claimed by children, ever */
  struct {
    uint64_t seq; /* 1 + the claim that wrote pc (a later claim overwrites) */
    uint64_t pc;
  } slot[LEARN_CAP];
};
static struct learn_ring *to_parent, *from_children;
static uint64_t learned; /* claims of from_children done (built, found built, or lost) */

void hp_clone_note_built(uint64_t pc)
{
  struct learn_ring *r = to_parent;
  if (!r)
    return;
  uint64_t i = __atomic_fetch_add(&r->n, 1, __ATOMIC_RELAXED);
  /* Invalid while pc changes: a reader that sees the old seq after it
   * read the new pc rejects it. */
  __atomic_store_n(&r->slot[i % LEARN_CAP].seq, 0, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  __atomic_store_n(&r->slot[i % LEARN_CAP].pc, pc, __ATOMIC_RELAXED);
  __atomic_store_n(&r->slot[i % LEARN_CAP].seq, i + 1, __ATOMIC_RELEASE);
  hp_stats.fork_blocks_noted++;
}

/* The ring this process's children note in: a memfd named so that
 * /proc/PID/maps says what parent and child share. Made at the first fork
 * by learn_from_children, which has checked that the process has one
 * thread (the memfd's descriptor is one another thread's dup2 could aim
 * at) and no seccomp filter; none where a file of its size would raise
 * SIGXFSZ (RLIMIT_FSIZE), nor without a descriptor to spare: then no
 * learning. */
static void make_ring(void)
{
  struct rlimit fsize;
  if (from_children || getrlimit(RLIMIT_FSIZE, &fsize) != 0 ||
      (fsize.rlim_cur != RLIM_INFINITY && fsize.rlim_cur < sizeof *from_children))
    return;
  int fd = (int)syscall(SYS_memfd_create, "hotpath-fork-learn", MFD_CLOEXEC);
  if (fd < 0)
    return;
  void *m = ftruncate(fd, sizeof *from_children) == 0
                ? mmap(NULL, sizeof *from_children, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                : MAP_FAILED;
  close(fd);
  if (m != MAP_FAILED)
    from_children = m;
}

/* Whether the LEARN_BYTES from pc can be read without a fault in hotpath:
 * in memory (mincore: a page of userfaultfd's that is not would block the
 * read, under the lock) and readable (a page past the end of its file,
 * which mincore may still call resident, would raise SIGBUS: a read by
 * process_vm_readv fails instead). A block is read within them. */
static bool readable(uint64_t pc)
{
  uint64_t lo = pc & ~(uint64_t)4095, hi = (pc + LEARN_BYTES + 4095) & ~(uint64_t)4095;
  unsigned char vec[(LEARN_BYTES + 8191) / 4096];
  if (hi - lo > sizeof vec * 4096 || mincore((void *)lo, hi - lo, vec) != 0)
    return false;
  for (uint64_t k = 0; k < (hi - lo) / 4096; k++) {
    uint8_t b;
    if (!(vec[k] & 1) || !hp_guest_read(&b, (const void *)(k ? lo + 4096 * k : pc), 1))
      return false;
  }
  return true;
}

/* Whether pc was noted before (by an earlier child, or twice by one):
 * only code that more than one child translated (or that one translated
 * again after a flush) is built, not what each child does on its own. An
 * open-addressing set, at most three quarters full (then nothing new is:
 * children whose code is that varied do not repeat each other). */
#define SEEN_BITS 15
static bool seen_before(uint64_t pc)
{
  static uint64_t *seen;
  static unsigned nseen;
  const uint32_t mask = (1u << SEEN_BITS) - 1;
  if (!seen) {
    void *m = mmap(NULL, sizeof *seen << SEEN_BITS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
      return false;
    seen = m;
  }
  if (!pc)
    return false; /* (0 marks a free slot) */
  for (uint32_t h = (uint32_t)((pc * 0x9e3779b97f4a7c15ull) >> (64 - SEEN_BITS));; h = (h + 1) & mask) {
    if (seen[h] == pc)
      return true;
    if (!seen[h]) {
      if (4 * (nseen + 1) > 3 * (mask + 1))
        return false;
      seen[h] = pc;
      nseen++;
      return false;
    }
  }
}

/* Before a fork (lock held): the blocks earlier children built. They are
 * a guess: none under a small --cache-size (below 256 MiB: the room is
 * the program's own), none once the cache's code takes a quarter of a big
 * one, and their building never makes the cache flush. */
#define LEARN_MIN_CACHE ((size_t)256 << 20)
static void learn_from_children(void)
{
  size_t limit = hp_cache_limit();
  /* Only with one thread: another one's munmap makes its system call
   * before it takes the lock, so code this thread does not run could go
   * between the check of its bytes and their decoding. Not under a seccomp
   * filter: the checks are system calls. */
  if ((limit && limit < LEARN_MIN_CACHE) || !hp_thread_only_one() || hp_pages_ahead_stopped())
    return;
  if (!from_children) {
    make_ring();
    return;
  }
  if (hp_cache_full())
    return;
  static struct hp_fragment *built_now[LEARN_PER_FORK]; /* (the lock's) */
  unsigned built = 0;
  uint64_t n = __atomic_load_n(&from_children->n, __ATOMIC_ACQUIRE);
  if (n - learned > LEARN_CAP)
    learned = n - LEARN_CAP; /* overwritten meanwhile */
  for (; learned < n && built < LEARN_PER_FORK; learned++) {
    const uint64_t want = learned + 1;
    if (__atomic_load_n(&from_children->slot[learned % LEARN_CAP].seq, __ATOMIC_ACQUIRE) != want)
      continue; /* not written yet (or its child died first), or overwritten: lost */
    uint64_t pc = __atomic_load_n(&from_children->slot[learned % LEARN_CAP].pc, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&from_children->slot[learned % LEARN_CAP].seq, __ATOMIC_RELAXED) != want)
      continue; /* overwritten while read */
    if (hp_fragment_lookup(pc) || !seen_before(pc) || !readable(pc))
      continue;
    if (limit && hp_cache_bytes_used() > limit / 4)
      break;
    struct hp_fragment *g = hp_build_block_guess(pc); /* NULL: not executable here, or the cache is full */
    if (!g) {
      if (!hp_cache_full())
        continue;
      hp_cache_clear_full(); /* a guess does not make room */
      break;
    }
    hp_stats.fork_blocks_prebuilt++;
    built_now[built++] = g;
  }
  /* Linked once all are built (one may jump to a later one); their other
   * successors are not built here: this process may never have run them,
   * and a child that needs them builds them (and notes them). */
  for (unsigned k = 0; k < built; k++)
    hp_trace_link_ahead(built_now[k]);
}

/* The child of a fork: it notes for its parent, and learns for its own
 * children in a ring of its own (made at its first fork). */
static void learn_in_child(void)
{
  if (to_parent)
    munmap(to_parent, sizeof *to_parent);
  to_parent = from_children;
  from_children = NULL;
  learned = 0;
}

/* The parent of a fork waits until the child has copied the code cache,
 * or has died before it could (it is then a zombie for the parent to reap). */
/* Whether a process that is not (or no longer) our child still runs: gone,
 * or a zombie (a CLONE_PARENT child is its grandparent's to reap). */
static bool still_runs(pid_t pid)
{
  if (kill(pid, 0) < 0 && errno == ESRCH)
    return false;
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return true; /* cannot tell (no descriptor free): wait on */
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  const char *p = strrchr(buf, ')'); /* "pid (comm) S ..." */
  return !(p && (p[2] == 'Z' || p[2] == 'X'));
}

static void wait_for_copy(uint32_t *copied, pid_t child)
{
  struct timespec tick = {0, 10 * 1000 * 1000};
  siginfo_t si;
  while (!__atomic_load_n(copied, __ATOMIC_ACQUIRE)) {
    syscall(SYS_futex, copied, FUTEX_WAIT, 0, &tick, NULL, 0);
    si.si_pid = 0;
    int w = waitid(P_PID, (id_t)child, &si, WEXITED | WNOHANG | WNOWAIT | __WALL);
    if (w == 0 && si.si_pid == child)
      return;
    /* Not ours to wait for (reaped already, SIGCHLD ignored; CLONE_PARENT). */
    if (w < 0 && errno == ECHILD && !still_runs(child))
      return;
  }
}

/* A CLONE_VM child without CLONE_THREAD is a process of its own (its own
 * pid and thread group, its exit signal and wait status for its parent)
 * that shares this memory, and so hotpath's tables, code cache and lock,
 * like a thread. Only the kernel can make one: a raw clone with the guest's
 * flags, onto a host stack of the child's thread block. hotpath's C code
 * in the child needs glibc TLS that no running thread uses (errno, malloc's
 * arena, the owner of stdio's locks): a helper pthread lends its own and
 * sleeps, touching none of it, until the kernel says the child is gone
 * (CLONE_CHILD_CLEARTID on a word of hotpath's: at its exit, its death by a
 * signal, or its execve); it then frees the child's blocks and ends. The
 * guest's CLONE_CHILD_SETTID and CLONE_CHILD_CLEARTID are done by hand, as
 * for threads. */
struct vm_child {
  struct hp_thread *c;
  uint64_t flags, ctid;
  uint64_t guest_mask; /* the signal mask the child starts with */
  uint64_t host_fs;    /* the helper's TLS, published by it */
  int helper_ready;
  int alive;           /* the kernel zeroes it when the child is gone */
};

static void *vm_helper_main(void *arg)
{
  struct vm_child *vc = arg;
  uint64_t all = ~0ull, fs = 0;
  hp_raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, 8, 0, 0);
  hp_thread_detach(); /* its GS, from the creating thread, names that thread's block */
  hp_raw_syscall(SYS_arch_prctl, ARCH_GET_FS, (long)&fs, 0, 0, 0, 0);
  __atomic_store_n(&vc->host_fs, fs, __ATOMIC_RELEASE);
  __atomic_store_n(&vc->helper_ready, 1, __ATOMIC_RELEASE);
  hp_raw_syscall(SYS_futex, (long)&vc->helper_ready, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
  /* The child may run on this TLS from here until it is gone: raw system
   * calls only (no errno). The kernel's wake is a shared one. */
  for (;;) {
    int v = __atomic_load_n(&vc->alive, __ATOMIC_ACQUIRE);
    if (!v)
      break;
    hp_raw_syscall(SYS_futex, (long)&vc->alive, FUTEX_WAIT, v, 0, 0, 0);
  }
  struct hp_thread *c = vc->c;
  HP_DEBUG("CLONE_VM process %d is gone", c->tid);
  if (c->clear_tid) /* it died without its own exit (a signal, a thread's exit_group) */
    clear_tid_word(c->clear_tid);
  /* A child that shared the kernel's handler table and died of a signal
   * set its default action there first: hotpath's handlers go back. */
  if (vc->flags & CLONE_SIGHAND)
    hp_signal_resync(c);
  hp_signal_exit_thread(c);
  hp_trace_thread_exit(c);
  let_go_child(c);
  hp_thread_free(c);
  free(vc);
  return NULL;
}

static noreturn void vm_child_start(void *arg)
{
  struct vm_child *vc = arg;
  struct hp_thread *c = vc->c;
  hp_thread_attach(c);
  hp_signal_init_thread(c);
  child_tid_words(c, vc->flags, vc->ctid);
  uint64_t mask = vc->guest_mask;
  hp_raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&mask, 0, 8, 0, 0);
  HP_DEBUG("CLONE_VM process %d starts at 0x%lx", c->tid, (unsigned long)c->gpr[HP_RCX]);
  hp_dispatch_loop(c, c->gpr[HP_RCX]);
  __builtin_unreachable();
}

noreturn void hp_vm_process_exit(struct hp_thread *t, long nr, long status)
{
  uint64_t all = ~0ull;
  hp_raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, 8, 0, 0);
  if (t->vm_process_main && t->clear_tid) { /* as the kernel, before the parent is told */
    clear_tid_word(t->clear_tid);
    t->clear_tid = 0;
  }
  /* The helper frees this thread's blocks (its host stack too) once the
   * kernel has ended it. */
  for (;;)
    hp_raw_syscall(nr, status, 0, 0, 0, 0, 0);
}

static long clone_vm_process(struct hp_thread *t, uint64_t flags, uint64_t stack, uint64_t ptid,
                             uint64_t ctid, uint64_t tls, uint64_t next_pc)
{
  hp_trace_threads_start(); /* memory shared: promoted locals are unsafe, as for threads */
  struct vm_child *vc = calloc(1, sizeof *vc);
  if (!vc)
    return -ENOMEM;
  struct hp_thread *c = child_thread(t, true, flags, stack, tls, next_pc);
  c->vm_process = c->vm_process_main = true;
  hp_signal_inherit_table(c, t, !(flags & CLONE_SIGHAND));
  vc->c = c;
  vc->flags = flags;
  vc->ctid = ctid;
  vc->alive = 1;
  /* Every signal blocked from here: the helper starts with all blocked,
   * and the child until its own thread block is in GS (it inherits this
   * thread's GS base); it then takes the guest's mask. */
  uint64_t all = ~0ull, guest_mask = 0;
  hp_raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&guest_mask, 8, 0, 0);
  vc->guest_mask = guest_mask;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256ul << 10);
  pthread_t th;
  int err = pthread_create(&th, &attr, vm_helper_main, vc);
  pthread_attr_destroy(&attr);
  hp_signal_reclaim_glibc_signals(); /* before the child copies the kernel's table */
  long r;
  if (err) {
    hp_signal_release_table(c);
    hp_trace_thread_exit(c);
    hp_thread_free(c);
    free(vc);
    r = -err;
  } else {
    while (__atomic_load_n(&vc->helper_ready, __ATOMIC_ACQUIRE) == 0)
      hp_raw_syscall(SYS_futex, (long)&vc->helper_ready, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
    uint64_t host_flags = (flags & ~(uint64_t)(CLONE_SETTLS | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) |
                          CLONE_SETTLS | CLONE_CHILD_CLEARTID;
    r = hp_clone_vm(host_flags, (void *)(c->host_stack_lo + c->host_stack_size), (int *)ptid, &vc->alive,
                    vm_child_start, vc, vc->host_fs);
    if (r < 0) { /* no child: the helper cleans up */
      __atomic_store_n(&vc->alive, 0, __ATOMIC_RELEASE);
      hp_raw_syscall(SYS_futex, (long)&vc->alive, FUTEX_WAKE, 1, 0, 0, 0);
    }
  }
  hp_raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&guest_mask, 0, 8, 0, 0);
  HP_DEBUG("CLONE_VM process %ld created (flags 0x%lx)", r, (unsigned long)flags);
  return r;
}

/* A fork-like clone glibc's fork() can make: exit signal SIGCHLD, and
 * only flags done by hand after it (the tid words, a TLS hotpath sets
 * itself). The kernel reads the low 32 bits. */
static bool glibc_fork_can(uint64_t flags)
{
  const uint32_t by_hand = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID | CLONE_SETTLS;
  uint32_t f = (uint32_t)flags;
  return (f & CSIGNAL) == SIGCHLD && !(f & ~(uint32_t)(CSIGNAL | by_hand));
}

/* The kernel's side of a fork made by glibc's fork() (which asked for its
 * own tid words), in the child before any guest code: its tid into
 * CLONE_CHILD_SETTID's word, CLONE_CHILD_CLEARTID's word or none to clear
 * at its end, and no robust list (glibc registered its own). */
static void fork_child_tid_words(struct hp_thread *t, uint64_t flags, uint64_t ctid)
{
  if (flags & CLONE_CHILD_SETTID) /* a bad pointer is ignored, as by the kernel */
    hp_guest_write((void *)ctid, &t->tid, sizeof t->tid);
  hp_raw_syscall(SYS_set_tid_address, (flags & CLONE_CHILD_CLEARTID) ? (long)ctid : 0, 0, 0, 0, 0, 0);
  hp_raw_syscall(SYS_set_robust_list, 0, sizeof(struct robust_list_head), 0, 0, 0, 0);
}

/* The child waits for its parent's CLONE_PARENT_SETTID store (the kernel
 * makes it before the child runs: a child sharing that page sees it), or
 * until the parent is gone. */
static void wait_for_parent_settid(uint32_t *written, pid_t parent)
{
  struct timespec tick = {0, 10 * 1000 * 1000};
  while (!__atomic_load_n(written, __ATOMIC_ACQUIRE) && getppid() == parent)
    syscall(SYS_futex, written, FUTEX_WAIT, 0, &tick, NULL, 0);
}

long hp_clone(struct hp_thread *t, uint64_t flags, uint64_t stack, uint64_t ptid,
                     uint64_t ctid, uint64_t tls, uint64_t next_pc)
{
  if (flags & CLONE_VM) {
    if (flags & CLONE_VFORK)
      return emulate_vfork(t, flags, stack, ptid, ctid, tls, next_pc);
    if (!(flags & CLONE_THREAD))
      return clone_vm_process(t, flags, stack, ptid, ctid, tls, next_pc);
    if (!(flags & CLONE_SIGHAND))
      return -EINVAL; /* as the kernel: a thread shares the handlers */
    hp_trace_threads_start(); /* promoted locals are for one thread only */
    return spawn_thread(t, flags, stack, ptid, ctid, tls, next_pc);
  }
  /* fork-like: the child goes on in this same dispatcher. Its guest stack
   * and TLS are set by hand; the kernel must not switch ours. */
  fflush(NULL);
  /* The child must copy the code cache (pages shared with it until then)
   * before the parent patches or extends it again: the parent waits on a
   * word in shared memory (no descriptor needed: the guest may have none).
   * The next word: the parent's CLONE_PARENT_SETTID store is made. */
  static uint32_t *copied;
  if (!copied) {
    void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (w == MAP_FAILED)
      return -EAGAIN;
    copied = w;
  }
  /* Through glibc's fork() when it can make this child: other threads may
   * hold locks of hotpath's own glibc (malloc's, stdio's, the thread
   * stacks' and TLS's pthread_create takes) that the child would inherit
   * held forever; glibc's fork takes or resets them. A raw clone for the
   * rest (another exit signal, CLONE_PARENT, namespaces, a pidfd). */
  bool by_glibc = glibc_fork_can(flags);
  pid_t parent = getpid();
  hp_lock(); /* no other thread may be half-way through the tables */
  learn_from_children();
  __atomic_store_n(&copied[0], 0, __ATOMIC_RELEASE);
  __atomic_store_n(&copied[1], 0, __ATOMIC_RELEASE);
  long r;
  if (by_glibc) {
    r = fork();
    if (r < 0)
      r = -errno;
  } else {
    r = hp_raw_syscall(SYS_clone, (long)(flags & ~(uint64_t)CLONE_SETTLS), 0, (long)ptid, (long)ctid, 0, 0);
  }
  if (r > 0) {
    if (by_glibc && (flags & CLONE_PARENT_SETTID)) {
      int tid = (int)r; /* a bad pointer is ignored, as by the kernel */
      hp_guest_write((void *)ptid, &tid, sizeof tid);
      __atomic_store_n(&copied[1], 1, __ATOMIC_RELEASE);
      syscall(SYS_futex, &copied[1], FUTEX_WAKE, 1, NULL, NULL, 0);
    }
    wait_for_copy(&copied[0], (pid_t)r);
  }
  if (r == 0) {
    t->tid = (int)syscall(SYS_gettid);
    if (by_glibc)
      fork_child_tid_words(t, flags, ctid);
    hp_thread_foreach(release_held, t); /* (the lock is held) */
    hp_thread_forget_others(t);
    learn_in_child();
    hp_evict_after_fork(); /* retired code: no thread of the child can run it */
    hp_cache_unshare(flags & CLONE_FILES); /* a descriptor would show in the parent's table */
    __atomic_store_n(&copied[0], 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &copied[0], FUTEX_WAKE, 1, NULL, NULL, 0);
    if (by_glibc && (flags & CLONE_PARENT_SETTID))
      wait_for_parent_settid(&copied[1], parent);
    /* The words are the parent's: a fork of this child's must not clear or
     * set them while the parent waits for another child (a grandchild's
     * copy would release the parent early). A page of its own next time. */
    munmap(copied, 4096);
    copied = NULL;
    t->sig_pending = 0; /* pending signals are not inherited */
    if (stack)
      t->gpr[HP_RSP] = stack;
    if (flags & CLONE_SETTLS)
      t->guest_fs = tls;
    t->is_clone = false;
    t->vm_process = t->vm_process_main = false; /* a process of its own memory */
  }
  hp_unlock();
  if (r == 0)
    hp_ibl_attach(t); /* a signal may have blanked the lookup */
  return r;
}
