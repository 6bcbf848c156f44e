/* Guest system calls. Most are performed as they are with the guest's
 * registers; the ones below are emulated so hotpath stays invisible. */
#include "hotpath/syscall.h"

#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdnoreturn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hotpath/builder.h"
#include "hotpath/cache.h"
#include "hotpath/clone.h"
#include "hotpath/dispatch.h"
#include "hotpath/fragment.h"
#include "hotpath/loader.h"
#include "hotpath/log.h"
#include "hotpath/memmap.h"
#include "hotpath/options.h"
#include "hotpath/pages.h"
#include "hotpath/rawsys.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#include "hotpath/exec.h"
#include "hotpath/signal.h"
#include "hotpath/stats.h"
#include "hotpath/thread.h"
#include "hotpath/trace.h"


static const struct hp_launch *launch;
static uint64_t brk_cur;
static char *guest_cmdline;
static size_t guest_cmdline_len;

void hp_syscall_init(const struct hp_launch *L)
{
  launch = L;
  brk_cur = L->brk_start;
  hp_process_init();
  /* /proc/self/cmdline as the guest's: its argv strings from its stack. */
  uint64_t *sp = (uint64_t *)L->sp;
  uint64_t argc = sp[0];
  size_t len = 0;
  for (uint64_t i = 0; i < argc; i++)
    len += strlen((char *)sp[1 + i]) + 1;
  guest_cmdline = malloc(len ? len : 1);
  for (uint64_t i = 0; i < argc; i++) {
    size_t l = strlen((char *)sp[1 + i]) + 1;
    memcpy(guest_cmdline + guest_cmdline_len, (char *)sp[1 + i], l);
    guest_cmdline_len += l;
  }
}

/* Under the lock; *gone: the pages a shrink discarded (their code goes
 * once the lock is released). */
static long emulate_brk(uint64_t want, uint64_t gone[2])
{
  if (!launch->brk_start || want < launch->brk_start || want > launch->brk_limit)
    return (long)brk_cur;
  uint64_t old_top = HP_PAGE_UP(brk_cur), new_top = HP_PAGE_UP(want);
  if (new_top > old_top) {
    /* Grows only into free address space, as the kernel's brk. */
    void *p = mmap((void *)old_top, new_top - old_top, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)old_top) {
      if (p != MAP_FAILED)
        munmap(p, new_top - old_top);
      return (long)brk_cur;
    }
  } else if (new_top < old_top) {
    munmap((void *)new_top, old_top - new_top); /* shrinking discards the pages */
    gone[0] = new_top;
    gone[1] = old_top;
  }
  brk_cur = want;
  return (long)brk_cur;
}

enum proc_file { PROC_NONE, PROC_EXE, PROC_AUXV, PROC_CMDLINE };

/* Whether the main thread (the thread-group leader) has exited: /proc/self
 * and /proc/<pid> then name a task without memory, whose exe, cmdline and
 * auxv the kernel answers as ENOENT, empty and ESRCH; it is left to do so. */
static bool leader_gone(void)
{
  char c = 0, d;
  struct iovec local = {&d, 1}, remote = {&c, 1};
  return hp_raw_syscall(SYS_process_vm_readv, hp_raw_syscall(SYS_getpid, 0, 0, 0, 0, 0, 0), (long)&local, 1,
                        (long)&remote, 1, 0) == -ESRCH;
}

/* Is path /proc/self/X, /proc/thread-self/X or /proc/<our pid>/X? */
static enum proc_file proc_self_file(const char *guest_path)
{
  /* Only a readable, short path can name one of these; anything else goes
   * to the kernel as it is (which answers EFAULT for a bad pointer). */
  char path[64];
  size_t n = 0;
  while (n < sizeof path - 1) {
    size_t page_left = 4096 - (((uintptr_t)guest_path + n) & 4095);
    size_t chunk = sizeof path - 1 - n < page_left ? sizeof path - 1 - n : page_left;
    if (!hp_guest_read(path + n, guest_path + n, chunk))
      return PROC_NONE;
    n += chunk;
    if (memchr(path, 0, n))
      break;
  }
  path[n] = '\0';
  if (strncmp(path, "/proc/", 6) != 0)
    return PROC_NONE;
  const char *p = path + 6;
  char pid[24];
  snprintf(pid, sizeof pid, "%d/", getpid());
  bool of_leader = true;
  if (strncmp(p, "self/", 5) == 0)
    p += 5;
  else if (strncmp(p, "thread-self/", 12) == 0) {
    p += 12;
    of_leader = false;
  } else if (strncmp(p, pid, strlen(pid)) == 0)
    p += strlen(pid);
  else
    return PROC_NONE;
  if (of_leader && leader_gone())
    return PROC_NONE;
  if (strcmp(p, "exe") == 0)
    return PROC_EXE;
  if (strcmp(p, "auxv") == 0)
    return PROC_AUXV;
  if (strcmp(p, "cmdline") == 0)
    return PROC_CMDLINE;
  return PROC_NONE;
}

static long emulate_readlink(const char *path, char *buf, long size, bool *handled)
{
  *handled = proc_self_file(path) == PROC_EXE;
  if (!*handled)
    return 0;
  if (size <= 0)
    return -EINVAL;
  size_t n = strlen(launch->exe_path);
  if (n > (size_t)size)
    n = (size_t)size;
  return hp_guest_write(buf, launch->exe_path, n) ? (long)n : -EFAULT;
}

/* /proc/self/auxv and cmdline describe hotpath: serve the guest's bytes. */
static long open_proc_copy(enum proc_file which, uint64_t flags, bool *handled)
{
  *handled = which == PROC_AUXV || which == PROC_CMDLINE;
  if (!*handled)
    return 0;
  int fd = memfd_create(which == PROC_AUXV ? "auxv" : "cmdline", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
  if (fd < 0)
    return -errno;
  const void *data = which == PROC_AUXV ? (const void *)launch->auxv : guest_cmdline;
  size_t len = which == PROC_AUXV ? launch->auxv_len : guest_cmdline_len;
  if (write(fd, data, len) != (ssize_t)len) {
    close(fd);
    return -EIO;
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

/* open/openat of *path: /proc/self/auxv and cmdline are served (*handled,
 * the descriptor or -errno returned); /proc/self/exe becomes the guest's
 * program in *path, for the caller to open. */
static long open_proc_self(const char **path, uint64_t flags, bool *handled)
{
  enum proc_file which = proc_self_file(*path);
  if (which == PROC_EXE)
    *path = launch->exe_path;
  return open_proc_copy(which, flags, handled);
}

/* The guest asks for address space that holds hotpath's code cache (it chose
 * a fixed address hotpath happened to use): going on would destroy the
 * translations, so stop with a clear message. */
static void keep_off_cache(uint64_t addr, uint64_t len, const char *what)
{
  uint64_t lo = HP_PAGE_DOWN(addr), hi = HP_PAGE_UP(addr + len);
  if (len && hi > lo && hp_cache_overlaps(lo, hi))
    hp_fatal(HP_STATUS_UNSUPPORTED,
             "the program wants to %s at 0x%lx-0x%lx, where hotpath keeps its code cache",
             what, (unsigned long)lo, (unsigned long)hi);
}

/* Mappings changed in [addr, addr + mapped); translations of
 * [addr, addr + len) are gone (len 0: a new mapping, none to drop). */
static void code_mapping_changed(uint64_t addr, uint64_t len, uint64_t mapped)
{
  hp_lock();
  hp_memmap_invalidate_range(addr, addr + mapped);
  if (len) { /* the kernel acts on whole pages */
    hp_fragments_flush_range(HP_PAGE_DOWN(addr), HP_PAGE_UP(addr + len));
    hp_trace_flush_range(HP_PAGE_DOWN(addr), HP_PAGE_UP(addr + len));
  }
  hp_unlock();
}

/* Calls the kernel ends with ERESTARTSYS when a handler interrupts them:
 * restarted under SA_RESTART (hotpath's own handler has no SA_RESTART, so it
 * sees EINTR). Others (poll, select, nanosleep, sigsuspend...) return EINTR
 * with a handler either way. */
static bool restartable(long nr, uint64_t a2, uint64_t a4)
{
  switch (nr) {
  case SYS_futex: /* a wait without timeout; with one it is ERESTART_RESTARTBLOCK */
    return ((a2 & 127) == 0 || (a2 & 127) == 9) && a4 == 0;
  case SYS_read: case SYS_write: case SYS_readv: case SYS_writev: case SYS_pread64:
  case SYS_pwrite64: case SYS_preadv: case SYS_pwritev: case SYS_preadv2: case SYS_pwritev2:
  case SYS_open: case SYS_openat: case SYS_wait4: case SYS_waitid: case SYS_accept:
  case SYS_accept4: case SYS_connect: case SYS_recvfrom: case SYS_sendto: case SYS_recvmsg:
  case SYS_sendmsg: case SYS_recvmmsg: case SYS_sendmmsg: case SYS_flock: case SYS_fcntl:
  case SYS_ioctl: case SYS_mq_timedsend:
  case SYS_mq_timedreceive: case SYS_splice: case SYS_tee: case SYS_sendfile:
  case SYS_copy_file_range: case SYS_getrandom: case SYS_fallocate:
    return true;
  default:
    return false;
  }
}

/* Calls that run with a temporary signal mask: the signal that ended them
 * is delivered under that mask (the frame keeps the one restored after). */
static void note_call_mask(struct hp_thread *t, long nr, uint64_t a1, uint64_t a4, uint64_t a5,
                           uint64_t a6)
{
  const uint64_t *mask = NULL;
  switch (nr) {
  case SYS_rt_sigsuspend:
    mask = (const uint64_t *)a1;
    break;
  case SYS_ppoll:
    mask = (const uint64_t *)a4;
    break;
  case SYS_epoll_pwait:
  case SYS_epoll_pwait2:
    mask = (const uint64_t *)a5;
    break;
  case SYS_pselect6:
    mask = a6 ? *(const uint64_t *const *)a6 : NULL; /* {sigset *, size} */
    break;
  default:
    return;
  }
  if (mask) {
    t->call_mask = *mask;
    t->call_mask_valid = true;
  }
}

/* A guest timespec (timeval: usec) of zero: the call returns at once. */
static bool zero_time(uint64_t p)
{
  uint64_t v[2];
  return p && hp_guest_read(v, (const void *)p, sizeof v) && v[0] == 0 && v[1] == 0;
}

/* Calls that sleep until something happens, which a signal must end: one
 * that arrives just before they start (while hotpath works for the thread)
 * must end them too, as it would have a moment later natively. Not those
 * that return at once (a zero timeout, WNOHANG): EINTR is not theirs. Calls
 * with a signal mask of their own (ppoll, sigsuspend...) and reads, whose
 * file may never block, are left alone. */
static bool blocks_until_signal(long nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
  switch (nr) {
  case SYS_pause:
    return true;
  case SYS_nanosleep:
    return !zero_time(a1);
  case SYS_clock_nanosleep:
    return !(a2 & TIMER_ABSTIME) && !zero_time(a3);
  case SYS_wait4:
    return !(a3 & WNOHANG);
  case SYS_waitid:
    return !(a4 & WNOHANG);
  case SYS_poll:
    return (int)a3 != 0;
  case SYS_epoll_wait:
    return (int)a4 != 0;
  case SYS_select:
    return !a5 || !zero_time(a5);
  case SYS_futex:
    return (a2 & FUTEX_CMD_MASK) == FUTEX_WAIT || (a2 & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET;
  default:
    return false;
  }
}

/* Such a call: -EINTR without starting it when a signal the guest does not
 * block is pending or arrives before the `syscall` instruction (the signal
 * handler sets t->sig_interrupt, and moves a thread it finds in the window
 * of hp_syscall_unless past the call). The dispatcher then delivers it. */
static long blocking_call(struct hp_thread *t, long nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                          uint64_t a5, uint64_t a6)
{
  __atomic_store_n(&t->sig_interrupt, 0, __ATOMIC_SEQ_CST);
  uint64_t pending = __atomic_load_n(&t->sig_pending, __ATOMIC_SEQ_CST);
  if (pending) {
    uint64_t blocked = 0;
    hp_raw_syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&blocked, 8, 0, 0);
    if (pending & ~blocked)
      __atomic_store_n(&t->sig_interrupt, 1, __ATOMIC_SEQ_CST);
  }
  return hp_syscall_unless(nr, (long)a1, (long)a2, (long)a3, (long)a4, (long)a5, (long)a6, &t->sig_interrupt);
}

/* exit (this thread) or exit_group (the process) with status. */
static noreturn void guest_exit(struct hp_thread *t, long nr, long status)
{
  if (nr == SYS_exit) {
    if (t->is_clone)
      hp_guest_thread_exit(t); /* does not return */
    if (t->vm_process_main)
      hp_vm_process_exit(t, SYS_exit, status);
    hp_raw_syscall(SYS_exit, status, 0, 0, 0, 0, 0); /* the first thread; others go on */
    __builtin_unreachable();
  }
  if (t->vm_process) /* ends that process only (its own thread group) */
    hp_vm_process_exit(t, SYS_exit_group, status);
  hp_at_guest_exit((int)(status & 0xff), 0);
  hp_raw_syscall(SYS_exit_group, status, 0, 0, 0, 0, 0);
  __builtin_unreachable();
}

bool hp_syscall_plain(const struct hp_thread *t)
{
  if (t->seccomp_strict)
    return false;
  switch ((int)t->gpr[HP_RAX]) { /* the kernel reads eax, sign-extended */
  case SYS_prctl: case SYS_seccomp: case SYS_brk: case SYS_arch_prctl: case SYS_rseq:
  case SYS_readlink: case SYS_readlinkat: case SYS_open: case SYS_openat: case SYS_exit:
  case SYS_exit_group: case SYS_rt_sigaction: case SYS_sigaltstack: case SYS_rt_sigreturn:
  case SYS_clone: case SYS_fork: case SYS_clone3: case SYS_vfork: case SYS_execve:
  case SYS_execveat: case SYS_mmap: case SYS_munmap: case SYS_mprotect: case SYS_pkey_mprotect:
  case SYS_mremap:
    return false; /* the cases of hp_syscall's switch */
  default:
    return true;
  }
}

/* The result r of system call nr into the guest's registers, as the
 * kernel leaves them, and what an interrupted call needs. */
static uint64_t syscall_done(struct hp_thread *t, long nr, long r, uint64_t next_pc)
{
  uint64_t *g = t->gpr;
  g[HP_RAX] = (uint64_t)r;
  g[HP_RCX] = next_pc;
  g[HP_R11] = t->rflags;
  if (r == -EINTR && restartable(nr, g[HP_RSI], g[HP_R10]))
    t->restart_pc = next_pc - 2, t->restart_nr = (uint64_t)nr; /* `syscall` is 2 bytes */
  if (r == -EINTR)
    note_call_mask(t, nr, g[HP_RDI], g[HP_R10], g[HP_R8], g[HP_R9]);
  return next_pc;
}

uint64_t hp_syscall_passthrough(struct hp_thread *t, uint64_t next_pc)
{
  uint64_t *g = t->gpr;
  long nr = (int)g[HP_RAX];
  uint64_t a1 = g[HP_RDI], a2 = g[HP_RSI], a3 = g[HP_RDX], a4 = g[HP_R10], a5 = g[HP_R8], a6 = g[HP_R9];
  t->restart_pc = 0;
  t->call_mask_valid = false;
  long r = blocks_until_signal(nr, a1, a2, a3, a4, a5) ? blocking_call(t, nr, a1, a2, a3, a4, a5, a6)
                                                      : hp_raw_syscall(nr, (long)a1, (long)a2, (long)a3, (long)a4,
                                                                       (long)a5, (long)a6);
  return syscall_done(t, nr, r, next_pc);
}

uint64_t hp_syscall(struct hp_thread *t, uint64_t next_pc)
{
  if (hp_syscall_plain(t))
    return hp_syscall_passthrough(t, next_pc);
  uint64_t *g = t->gpr;
  long nr = (int)g[HP_RAX]; /* munmap is munmap with any bits above eax */
  uint64_t a1 = g[HP_RDI], a2 = g[HP_RSI], a3 = g[HP_RDX], a4 = g[HP_R10], a5 = g[HP_R8], a6 = g[HP_R9];
  t->restart_pc = 0;
  t->call_mask_valid = false;
  if (t->seccomp_strict && nr != SYS_read && nr != SYS_write && nr != SYS_exit && nr != SYS_rt_sigreturn) {
    /* As the kernel in strict mode: any other system call kills. */
    hp_raw_syscall(SYS_tgkill, getpid(), t->tid, SIGKILL, 0, 0, 0);
    hp_raw_syscall(SYS_exit_group, 128 + SIGKILL, 0, 0, 0, 0, 0);
  }
  long r;
  bool handled;
  switch (nr) {
  /* Seccomp strict mode is emulated (it would stop hotpath's own system
   * calls): from now on this thread may only read, write, exit and return
   * from signal handlers. */
  case SYS_prctl:
    if (a1 == PR_SET_SECCOMP && a2 == SECCOMP_MODE_STRICT) {
      t->seccomp_strict = true;
      r = 0;
    } else {
      r = hp_raw_syscall(nr, (long)a1, (long)a2, (long)a3, (long)a4, (long)a5, 0);
      if (a1 == PR_SET_SECCOMP && r == 0)
        hp_pages_stop_ahead(); /* a filter: hotpath's own calls as few as they were */
    }
    break;
  case SYS_seccomp:
    if (a1 == SECCOMP_SET_MODE_STRICT) {
      r = a2 || a3 ? -EINVAL : 0;
      t->seccomp_strict |= r == 0;
    } else {
      r = hp_raw_syscall(nr, (long)a1, (long)a2, (long)a3, 0, 0, 0);
      if (a1 == SECCOMP_SET_MODE_FILTER && r >= 0)
        hp_pages_stop_ahead();
    }
    break;
  case SYS_brk: {
    uint64_t gone[2] = {0, 0};
    hp_lock();
    r = emulate_brk(a1, gone);
    hp_unlock();
    if (gone[1] > gone[0]) /* code made of the discarded pages goes too */
      code_mapping_changed(gone[0], gone[1] - gone[0], gone[1] - gone[0]);
    break;
  }
  case SYS_arch_prctl:
    switch (a1) {
    case ARCH_SET_FS:
      t->guest_fs = a2;
      r = 0;
      break;
    case ARCH_GET_FS:
      r = hp_guest_write((void *)a2, &t->guest_fs, 8) ? 0 : -EFAULT;
      break;
    case ARCH_GET_GS:
      r = hp_guest_write((void *)a2, &t->guest_gs, 8) ? 0 : -EFAULT;
      break;
    case ARCH_SET_GS:
      hp_fatal(HP_STATUS_UNSUPPORTED, "the program sets its GS base (arch_prctl ARCH_SET_GS); "
                                    "hotpath uses GS itself and does not support this");
    default:
      r = hp_raw_syscall(nr, (long)a1, (long)a2, 0, 0, 0, 0);
    }
    break;
  case SYS_rseq:
    r = -ENOSYS; /* glibc falls back; a registered area would be hotpath's business */
    break;
  case SYS_readlink:
    r = emulate_readlink((const char *)a1, (char *)a2, (long)a3, &handled);
    if (!handled)
      r = hp_raw_syscall(nr, (long)a1, (long)a2, (long)a3, 0, 0, 0);
    break;
  case SYS_readlinkat:
    r = emulate_readlink((const char *)a2, (char *)a3, (long)a4, &handled);
    if (!handled)
      r = hp_raw_syscall(nr, (long)a1, (long)a2, (long)a3, (long)a4, 0, 0);
    break;
  case SYS_open:
  case SYS_openat: {
    const char *path = (const char *)(nr == SYS_open ? a1 : a2);
    r = open_proc_self(&path, nr == SYS_open ? a2 : a3, &handled);
    if (handled)
      break;
    if (nr == SYS_open)
      r = hp_raw_syscall(nr, (long)path, (long)a2, (long)a3, 0, 0, 0);
    else
      r = hp_raw_syscall(nr, (long)a1, (long)path, (long)a3, (long)a4, 0, 0);
    break;
  }
  case SYS_exit:
  case SYS_exit_group:
    guest_exit(t, nr, (long)a1);
  case SYS_rt_sigaction:
    r = hp_signal_sigaction((int)a1, (const void *)a2, (void *)a3, (long)a4);
    break;
  case SYS_sigaltstack:
    r = hp_signal_sigaltstack(t, (const void *)a1, (void *)a2);
    break;
  case SYS_rt_sigreturn:
    return hp_signal_sigreturn(t);
  case SYS_clone:
    r = hp_clone(t, a1, a2, a3, a4, a5, next_pc);
    break;
  case SYS_fork:
    r = hp_clone(t, SIGCHLD, 0, 0, 0, 0, next_pc);
    break;
  case SYS_clone3:
    r = -ENOSYS; /* glibc falls back to clone */
    break;
  case SYS_vfork:
    r = hp_clone(t, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0, next_pc);
    break;
  case SYS_execve:
    /* /proc/self/exe is the guest's program, not hotpath. */
    if (proc_self_file((const char *)a1) == PROC_EXE)
      a1 = (uint64_t)(uintptr_t)launch->exe_path;
    r = hp_exec(AT_FDCWD, (const char *)a1, (char *const *)a2, (char *const *)a3, 0, 0);
    break;
  case SYS_execveat:
    if (proc_self_file((const char *)a2) == PROC_EXE)
      a2 = (uint64_t)(uintptr_t)launch->exe_path;
    r = hp_exec((int)a1, (const char *)a2, (char *const *)a3, (char *const *)a4, (int)a5, 1);
    break;
  case SYS_mmap:
    if ((a4 & MAP_FIXED) && !(a4 & MAP_FIXED_NOREPLACE))
      keep_off_cache(a1, a2, "map memory");
    r = hp_raw_syscall(nr, (long)a1, (long)a2, (long)a3, (long)a4, (long)a5, (long)a6);
    if (r >= 0 && ((a3 & PROT_EXEC) || (a4 & MAP_FIXED)))
      code_mapping_changed((uint64_t)r, (a4 & MAP_FIXED) ? a2 : 0, a2);
    else if (r < 0 && (a4 & MAP_FIXED) && !(a4 & MAP_FIXED_NOREPLACE))
      code_mapping_changed(a1, a2, a2); /* a failed MAP_FIXED may have unmapped the range first */
    break;
  case SYS_munmap:
  case SYS_mprotect:
  case SYS_pkey_mprotect:
  case SYS_mremap:
    keep_off_cache(a1, a2, nr == SYS_munmap ? "unmap memory" : "change memory");
    if (nr == SYS_mremap && (a4 & MREMAP_FIXED))
      keep_off_cache(a5, a3, "move memory");
    r = hp_raw_syscall(nr, (long)a1, (long)a2, (long)a3, (long)a4, (long)a5, 0);
    if (r >= 0 || nr != SYS_mremap)
      code_mapping_changed(a1, a2, a2);
    if (r >= 0 && nr == SYS_mremap) /* the destination may hold old translations */
      code_mapping_changed((uint64_t)r, a3, a3);
    break;
  default: /* seccomp strict mode's read and write */
    r = blocks_until_signal(nr, a1, a2, a3, a4, a5) ? blocking_call(t, nr, a1, a2, a3, a4, a5, a6)
                                                    : hp_raw_syscall(nr, (long)a1, (long)a2, (long)a3, (long)a4,
                                                                     (long)a5, (long)a6);
    break;
  }
  return syscall_done(t, nr, r, next_pc);
}

/* 32-bit system calls (`int 0x80`, i386 numbers) that would change what
 * hotpath keeps track of (memory, signal handling, processes, the
 * program break): stopped loudly instead. */
static const char *int80_refused(uint32_t nr, uint64_t ebx)
{
  switch (nr) {
  case 2: return "fork";
  case 11: return "execve";
  case 45: return "brk";
  case 48: return "signal";
  case 67: return "sigaction";
  case 90: return "mmap";
  case 91: return "munmap";
  case 119: return "sigreturn";
  case 120: return "clone";
  case 125: return "mprotect";
  case 163: return "mremap";
  case 172: return (uint32_t)ebx == PR_SET_SECCOMP ? "prctl(PR_SET_SECCOMP)" : NULL;
  case 173: return "rt_sigreturn";
  case 174: return "rt_sigaction";
  case 186: return "sigaltstack";
  case 190: return "vfork";
  case 192: return "mmap2";
  case 257: return "remap_file_pages";
  case 354: return "seccomp";
  case 358: return "execveat";
  case 380: return "pkey_mprotect";
  default: return NULL;
  }
}

/* The calls (i386 numbers) the kernel restarts under SA_RESTART when a
 * handler interrupted them (-ERESTARTSYS), as restartable() for `syscall`;
 * b, c, s: ebx, ecx, esi. */
static bool int80_restartable(uint32_t nr, uint32_t b, uint32_t c, uint32_t s)
{
  switch (nr) {
  case 240: case 422: /* futex, futex_time64: a wait without timeout */
    return ((c & 127) == 0 || (c & 127) == 9) && s == 0;
  case 102: /* socketcall: connect, accept, send, recv, sendto, recvfrom,
               sendmsg, recvmsg, accept4, recvmmsg, sendmmsg */
    return b == 3 || b == 5 || (b >= 9 && b <= 12) || (b >= 16 && b <= 20);
  case 3: case 4: case 5: case 7: case 54: case 55: case 114: case 143: case 145: case 146:
  case 180: case 181: case 187: case 221: case 239: case 279: case 280: case 284: case 295:
  case 313: case 315: case 324: case 333: case 334: case 337: case 345: case 355: case 362:
  case 364: case 369: case 370: case 371: case 372: case 377: case 378: case 379: case 417:
  case 418: case 419:
    /* read, write, open, waitpid, ioctl, fcntl, wait4, flock, readv, writev,
     * pread64, pwrite64, sendfile, fcntl64, sendfile64, mq_timedsend,
     * mq_timedreceive, waitid, openat, splice, tee, fallocate, preadv,
     * pwritev, recvmmsg, sendmmsg, getrandom, connect, accept4, sendto,
     * sendmsg, recvfrom, recvmsg, copy_file_range, preadv2, pwritev2,
     * recvmmsg_time64, mq_timedsend_time64, mq_timedreceive_time64 */
    return true;
  default:
    return false;
  }
}

/* The calls with a signal mask of their own (note_call_mask): the signal
 * that ended one is delivered under that mask. Pointers are 32 bits. */
static void int80_call_mask(struct hp_thread *t, uint32_t nr, const uint64_t *g)
{
  uint64_t mask;
  uint32_t p;
  switch (nr) {
  case 72: /* sigsuspend(int, int, old_sigset_t mask): the first 32 signals */
    t->call_mask = (uint32_t)g[HP_RDX];
    t->call_mask_valid = true;
    return;
  case 179: /* rt_sigsuspend(mask, size) */
    p = (uint32_t)g[HP_RBX];
    break;
  case 309: case 414: /* ppoll, ppoll_time64(fds, n, timeout, mask, size) */
    p = (uint32_t)g[HP_RSI];
    break;
  case 319: case 441: /* epoll_pwait, epoll_pwait2(fd, events, n, timeout, mask, size) */
    p = (uint32_t)g[HP_RDI];
    break;
  case 308: case 413: /* pselect6, pselect6_time64: ebp -> {u32 mask, u32 size} */
    if (!(uint32_t)g[HP_RBP] || !hp_guest_read(&p, (const void *)(uintptr_t)(uint32_t)g[HP_RBP], 4))
      return;
    break;
  default:
    return;
  }
  if (p && hp_guest_read(&mask, (const void *)(uintptr_t)p, 8)) {
    t->call_mask = mask;
    t->call_mask_valid = true;
  }
}

/* The length of the `int 0x80` at pc, prefixes included (2 without). */
static unsigned int80_len(uint64_t pc)
{
  struct hp_insn v[HP_BLOCK_LIST_CAP];
  struct hp_ilist l = {.v = v, .cap = HP_BLOCK_LIST_CAP};
  hp_lock();
  bool ok = hp_decode_guest_block(pc, &l);
  hp_unlock();
  return ok && l.n && v[0].op == HP_OP_STOP && v[0].exit_kind == HP_EXIT_INT80 && v[0].len ? v[0].len : 2;
}

/* Whether this kernel has 32-bit system calls (IA32 emulation): asked
 * once, by a harmless `int 0x80` (getpid). Without them every `int 0x80`
 * faults natively, even those hotpath emulates or refuses. */
static bool kernel_has_int80(void)
{
  static int known; /* 0: not asked, 1: yes, 2: no */
  int k = __atomic_load_n(&known, __ATOMIC_ACQUIRE);
  if (!k) {
    uint64_t probe[16] = {[HP_RAX] = 20}; /* i386 getpid */
    k = (uint64_t)hp_int80(probe) == HP_INT80_FAULT ? 2 : 1;
    __atomic_store_n(&known, k, __ATOMIC_RELEASE);
  }
  return k == 1;
}

/* The #GP of `int 0x80` in a kernel without 32-bit emulation: SIGSEGV
 * (SI_KERNEL) at the instruction, as natively. */
static uint64_t int80_fault(struct hp_thread *t, uint64_t pc)
{
  if (!hp_signal_fault_trap(t, SIGSEGV, SI_KERNEL, 0, 0x80 * 8 + 2, 13) || !hp_signal_deliver(t, &pc))
    hp_die_by_signal(SIGSEGV);
  return pc;
}

uint64_t hp_syscall_int80(struct hp_thread *t, uint64_t pc)
{
  uint64_t *g = t->gpr;
  uint32_t nr = (uint32_t)g[HP_RAX]; /* the kernel reads eax and the low halves of the arguments */
  t->restart_pc = 0;
  t->call_mask_valid = false;
  if (!kernel_has_int80())
    return int80_fault(t, pc);
  uint64_t next = pc + int80_len(pc); /* after its prefixes too, if any */
  if (t->seccomp_strict && nr != 1 && nr != 3 && nr != 4 && nr != 119) { /* read, write, exit, sigreturn */
    hp_raw_syscall(SYS_tgkill, getpid(), t->tid, SIGKILL, 0, 0, 0);
    hp_raw_syscall(SYS_exit_group, 128 + SIGKILL, 0, 0, 0, 0, 0);
  }
  const char *refused = int80_refused(nr, g[HP_RBX]);
  if (refused)
    hp_fatal(HP_STATUS_UNSUPPORTED,
             "int 0x80 at 0x%lx: the 32-bit system call %u (%s) is not supported (it would change memory, "
             "signal handling or processes behind hotpath's back)",
             (unsigned long)pc, nr, refused);
  if (nr == 1 || nr == 252) /* exit, exit_group */
    guest_exit(t, nr == 1 ? SYS_exit : SYS_exit_group, (long)(int32_t)g[HP_RBX]);
  if (nr == 386 || nr == 435) { /* rseq, clone3: as their 64-bit forms */
    g[HP_RAX] = (uint64_t)(long)-ENOSYS;
    return next;
  }
  /* /proc/self/exe, auxv and cmdline are the guest's, as for `syscall`
   * (pointers are 32 bits). */
  uint32_t b = (uint32_t)g[HP_RBX], c = (uint32_t)g[HP_RCX], d = (uint32_t)g[HP_RDX], s = (uint32_t)g[HP_RSI];
#define P32(x) ((char *)(uintptr_t)(x))
  bool handled = false;
  long r = 0;
  switch (nr) {
  case 85: /* readlink */
    r = emulate_readlink(P32(b), P32(c), (int32_t)d, &handled);
    break;
  case 305: /* readlinkat */
    r = emulate_readlink(P32(c), P32(d), (int32_t)s, &handled);
    break;
  case 5:     /* open */
  case 295: { /* openat */
    const char *guest = nr == 5 ? P32(b) : P32(c), *path = guest;
    r = open_proc_self(&path, nr == 5 ? c : d, &handled);
    if (handled || path == guest)
      break; /* served, or not hotpath's business: the kernel's */
    handled = true; /* /proc/self/exe: the guest's program */
    r = nr == 5 ? hp_raw_syscall(SYS_open, (long)path, (long)c, (long)d, 0, 0, 0)
                : hp_raw_syscall(SYS_openat, (int32_t)b, (long)path, (long)d, (long)s, 0, 0);
    break;
  }
  }
#undef P32
  if (handled) {
    g[HP_RAX] = (uint64_t)r;
    return next;
  }
  r = hp_int80(g);
  if ((uint64_t)r == HP_INT80_FAULT)
    return int80_fault(t, pc);
  g[HP_RAX] = (uint64_t)r; /* every other register and the flags are kept, as natively */
  /* Interrupted by a signal: the calls the kernel restarts under SA_RESTART
   * go again from the instruction; those with a mask of their own have the
   * signal delivered under it. */
  if (r == -EINTR && int80_restartable(nr, (uint32_t)g[HP_RBX], (uint32_t)g[HP_RCX], (uint32_t)g[HP_RSI]))
    t->restart_pc = pc, t->restart_nr = nr;
  if (r == -EINTR)
    int80_call_mask(t, nr, g);
  return next;
}
