/* System calls without glibc: no errno (TLS), usable with the guest's FS
 * in place and from signal handlers. Returns -errno on failure. */
#ifndef HOTPATH_RAWSYS_H
#define HOTPATH_RAWSYS_H

static inline long hp_raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
  long ret;
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  register long r9 __asm__("r9") = a6;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

/* clone(2) for a task that shares memory (CLONE_VM): the child runs fn(arg)
 * on stack_top (memory hotpath owns) and exits when fn returns; tls is its
 * FS base with CLONE_SETTLS. Returns the child's tid or -errno
 * (src/util/rawclone.S). */
long hp_clone_vm(unsigned long flags, void *stack_top, int *ptid, int *ctid, void (*fn)(void *), void *arg,
                 unsigned long tls);

/* Copies to or from guest memory that may be unmapped: false instead of a
 * fault in hotpath (the guest gets EFAULT, as from the kernel). */
#include <stdbool.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/uio.h>

static inline bool hp_guest_copy(void *dst, const void *src, size_t n, bool to_guest)
{
  if (n == 0)
    return true;
  /* Our own tid, not the pid: once the main thread has exited, the
   * thread-group leader has no memory and the kernel answers ESRCH. */
  long tid = hp_raw_syscall(SYS_gettid, 0, 0, 0, 0, 0, 0);
  struct iovec local = {to_guest ? (void *)src : dst, n};
  struct iovec remote = {to_guest ? dst : (void *)src, n};
  long r = hp_raw_syscall(to_guest ? SYS_process_vm_writev : SYS_process_vm_readv, tid, (long)&local, 1,
                          (long)&remote, 1, 0);
  return r == (long)n;
}
#define hp_guest_read(dst, guest_src, n) hp_guest_copy((dst), (guest_src), (n), false)
#define hp_guest_write(guest_dst, src, n) hp_guest_copy((guest_dst), (src), (n), true)

#endif
