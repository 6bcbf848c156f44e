/* Signals: hotpath keeps the guest's dispositions and alternate stack,
 * catches what the guest catches, and delivers to the guest's handlers at
 * fragment boundaries with a kernel-shaped frame of guest values only. */
#ifndef HOTPATH_SIGNAL_H
#define HOTPATH_SIGNAL_H
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct hp_thread;

/* Installs hotpath's handlers for synchronous faults (to tell guest faults
 * from hotpath bugs) and its alternate signal stack for this thread. */
void hp_signal_init_thread(struct hp_thread *t);
/* Before a guest thread's host thread exits: its alternate stack goes,
 * and its hold on its disposition table. */
void hp_signal_exit_thread(struct hp_thread *t);
/* A new guest thread or CLONE_VM process c: shares parent's table of
 * guest dispositions (a thread, CLONE_SIGHAND) or gets a copy of it (a
 * CLONE_VM process without CLONE_SIGHAND: the kernel copied its own). */
void hp_signal_inherit_table(struct hp_thread *c, const struct hp_thread *parent, bool copy);
void hp_signal_release_table(struct hp_thread *t);
/* hotpath's handlers back in the kernel's table for every signal t's
 * table catches (a CLONE_SIGHAND process that died of a signal had set
 * that signal's default action in the table it shared). */
void hp_signal_resync(const struct hp_thread *t);
/* hotpath's own glibc installs handlers for its signals 32 and 33 when it
 * creates a thread; the guest's claim on them is restored afterwards. */
void hp_signal_reclaim_glibc_signals(void);
/* A signal is pending and not blocked. */
bool hp_signal_ready(struct hp_thread *t);
long hp_signal_sigaction(int sig, const void *act, void *oact, long setsize);
long hp_signal_sigaltstack(struct hp_thread *t, const void *ss, void *old);
/* The first thread's alternate stack as execve left it: none, with the
 * flags the program before had set (--exec-ss-flags, or what a query shows:
 * SS_AUTODISARM). Before hp_signal_init_thread arms hotpath's own. */
void hp_signal_first_altstack(struct hp_thread *t);
/* Around an execve the kernel performs: before (failed false), the
 * kernel's flags become the guest's, which the new program inherits, and
 * hotpath's own stack is saved in *host; after a failed one (true), it is
 * put back. */
void hp_signal_exec_altstack(const struct hp_thread *t, stack_t *host, bool failed);
/* If a signal is pending and not blocked, builds the guest's frame and
 * points the guest (and *pc) at its handler. False if none was delivered. */
bool hp_signal_deliver(struct hp_thread *t, uint64_t *pc);
/* A fault the dispatcher detects itself (a jump to memory that is not
 * executable, an undecodable instruction): queued for the guest's handler,
 * delivered at pc like the kernel's; false if the guest has none. */
bool hp_signal_fault(struct hp_thread *t, int sig, int code, uint64_t addr);
/* The same with the error code and trap number the kernel would put in the
 * signal context (a #GP's err is the selector, a #PF's says read/write). */
bool hp_signal_fault_trap(struct hp_thread *t, int sig, int code, uint64_t addr, uint64_t err, uint64_t trapno);
/* rt_sigreturn: restores the interrupted guest state; returns its pc. */
uint64_t hp_signal_sigreturn(struct hp_thread *t);

#endif
