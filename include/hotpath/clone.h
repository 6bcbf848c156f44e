/* Guest threads and processes: clone/fork/vfork under hotpath, thread exit,
 * the end of the process. */
#ifndef HOTPATH_CLONE_H
#define HOTPATH_CLONE_H
#include <stdint.h>
#include <stdnoreturn.h>

struct hp_thread;

/* clone/fork/vfork for thread t (next_pc: where both go on). Returns what
 * the syscall returns to the caller (the child of a fork sees 0). */
long hp_clone(struct hp_thread *t, uint64_t flags, uint64_t stack, uint64_t ptid, uint64_t ctid,
              uint64_t tls, uint64_t next_pc);
/* A block this process built at pc (a new translation): noted for the
 * parent it was forked from, which builds it before its next fork, so that
 * later children inherit it. */
void hp_clone_note_built(uint64_t pc);
/* The calling guest thread ends (exit): back to its host thread's start. */
noreturn void hp_guest_thread_exit(struct hp_thread *t);
/* A thread of a CLONE_VM process ends with exit (nr SYS_exit, its first
 * thread) or the process with exit_group: no statistics (they are the
 * first process's), the guest's CLONE_CHILD_CLEARTID done. */
noreturn void hp_vm_process_exit(struct hp_thread *t, long nr, long status);

void hp_process_init(void);
/* The process hotpath was started for (--exec-root-pid after an execve it
 * followed): it prints --stats and writes --report's FILE; others FILE.PID. */
int hp_process_root_pid(void);
/* Before the guest exits (once per process): --stats (in the process
 * hotpath started) and --report (every process). status: the exit status
 * when sig is 0; else the signal that ends the process. */
void hp_at_guest_exit(int status, int sig);

#endif
