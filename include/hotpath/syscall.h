/* Guest system calls: performed with the guest's argument registers, or
 * emulated where hotpath must stay invisible (brk, arch_prctl FS, rseq,
 * /proc/self/exe, signal dispositions, clone/vfork). */
#ifndef HOTPATH_SYSCALL_H
#define HOTPATH_SYSCALL_H
#include <stdint.h>

struct hp_launch;
struct hp_thread;

void hp_syscall_init(const struct hp_launch *launch);
/* Handles the syscall in t's guest registers; sets rax, and rcx/r11 as the
 * instruction does (rcx = next_pc). Returns the guest pc to go on at
 * (next_pc, or the interrupted pc after rt_sigreturn). */
uint64_t hp_syscall(struct hp_thread *t, uint64_t next_pc);

#endif
