/* Guest system calls: performed with the guest's argument registers, or
 * emulated where hotpath must stay invisible (brk, arch_prctl FS, rseq,
 * /proc/self/exe, signal dispositions, clone/vfork). */
#ifndef HOTPATH_SYSCALL_H
#define HOTPATH_SYSCALL_H
#include <stdbool.h>
#include <stdint.h>

struct hp_launch;
struct hp_thread;

void hp_syscall_init(const struct hp_launch *launch);
/* Handles the syscall in t's guest registers; sets rax, and rcx/r11 as the
 * instruction does (rcx = next_pc). Returns the guest pc to go on at
 * (next_pc, or the interrupted pc after rt_sigreturn). */
uint64_t hp_syscall(struct hp_thread *t, uint64_t next_pc);
/* Whether t's system call (its rax) goes to the kernel as it is, needing
 * nothing of hotpath's but the signal bookkeeping: then
 * hp_syscall_passthrough performs it, on the guest's FS (lazy FS: no TLS). */
bool hp_syscall_plain(const struct hp_thread *t);
uint64_t hp_syscall_passthrough(struct hp_thread *t, uint64_t next_pc);

/* A blocking call that does not start once *interrupt is set (context.S):
 * -EINTR instead. The signal handler moves a thread it finds at
 * hp_syscall_window_start..hp_syscall_window_end (the `syscall`
 * instruction, not yet run) to hp_syscall_window_abort. */
long hp_syscall_unless(long nr, long a1, long a2, long a3, long a4, long a5, long a6, const uint64_t *interrupt);
void hp_syscall_window_start(void);
void hp_syscall_window_end(void);
void hp_syscall_window_abort(void);

/* `int 0x80` at pc (a 32-bit system call, i386 numbers, the guest state
 * exact before it): exit and exit_group as their 64-bit forms, calls that
 * would change memory mappings, signal handling or processes behind
 * hotpath's back stop with HP_STATUS_UNSUPPORTED and a message, rseq and
 * clone3 fail with ENOSYS (as their 64-bit forms), the others are performed
 * by the kernel (hp_int80). Returns the guest pc to go on at. */
uint64_t hp_syscall_int80(struct hp_thread *t, uint64_t pc);
/* context.S: `int $0x80` with gpr's rax, rbx, rcx, rdx, rsi, rdi, rbp;
 * HP_INT80_FAULT if the instruction faulted (the signal handler moves a
 * thread at hp_int80_insn to hp_int80_fault). */
#define HP_INT80_FAULT 0x8000000000000080ull
long hp_int80(const uint64_t *gpr);
void hp_int80_insn(void);
void hp_int80_fault(void);

#endif
