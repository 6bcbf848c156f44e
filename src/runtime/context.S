/* Context switch between hotpath's C code and the code cache.
 * hp_enter_cache(t): saves hotpath's callee-saved registers on its own stack,
 * restores the guest's extended state, FS, flags and GPRs from the thread
 * block and jumps to t->enter_pc.
 * hp_cache_exit: reached by `jmp gs:[exit_routine]` with the guest's rax
 * already stored in gs:[gpr+0] and rax = the exit record. Saves the guest
 * state back and returns from hp_enter_cache. Never touches the guest stack. */
#include "hotpath/thread.h"

#define G(r) %gs:(HP_T_GPR + 8 * (r))

        .text
        .globl hp_enter_cache
        .type hp_enter_cache, @function
hp_enter_cache:
        push %rbx
        push %rbp
        push %r12
        push %r13
        push %r14
        push %r15
        sub $8, %rsp
        mov %rsp, HP_T_HOST_RSP(%rdi)
        mov %rdi, %rbx
        mov HP_T_XMASK(%rbx), %eax
        mov HP_T_XMASK+4(%rbx), %edx
        xrstor64 HP_T_XSAVE(%rbx)
        cmpl $0, HP_T_FS_GUEST(%rbx)
        je 5f
        movl $0, HP_T_FS_GUEST(%rbx)
        cmpl $HP_FS_LAZY, HP_T_FS_LAZY(%rbx) /* the guest's FS is still in place */
        je 2f
5:      cmpl $0, HP_T_USE_FSGSBASE(%rbx)
        je 1f
        mov HP_T_GUEST_FS(%rbx), %rax
        wrfsbase %rax
        jmp 2f
1:      mov $158, %eax              /* arch_prctl(ARCH_SET_FS, guest_fs) */
        mov $0x1002, %edi
        mov HP_T_GUEST_FS(%rbx), %rsi
        test %rsi, %rsi             /* 0 (no TLS yet), lazy, and a guest that */
        jnz 3f                      /* cannot read the base: the null FS, whose */
        cmpl $HP_FS_LAZY, HP_T_FS_LAZY(%rbx) /* fs:0x28 is readable and stays */
        jne 3f                      /* in place at exits (see hp_cache_exit) */
        cmpl $0, HP_T_GUEST_WRFSBASE(%rbx)
        jne 3f
        mov hp_fs_poison_base(%rip), %rsi
3:      syscall
2:      pushq HP_T_RFLAGS(%rbx)
        popfq
        mov G(1), %rcx
        mov G(2), %rdx
        mov G(3), %rbx
        mov G(5), %rbp
        mov G(6), %rsi
        mov G(7), %rdi
        mov G(8), %r8
        mov G(9), %r9
        mov G(10), %r10
        mov G(11), %r11
        mov G(12), %r12
        mov G(13), %r13
        mov G(14), %r14
        mov G(15), %r15
        mov G(0), %rax
        mov G(4), %rsp
        jmp *%gs:HP_T_ENTER_PC
        .size hp_enter_cache, .-hp_enter_cache

        .globl hp_cache_exit
        .type hp_cache_exit, @function
hp_cache_exit:
        mov %rax, %gs:HP_T_EXIT_REC
        mov %rcx, G(1)
        mov %rdx, G(2)
        mov %rbx, G(3)
        mov %rsp, G(4)
        mov %rbp, G(5)
        mov %rsi, G(6)
        mov %rdi, G(7)
        mov %r8, G(8)
        mov %r9, G(9)
        mov %r10, G(10)
        mov %r11, G(11)
        mov %r12, G(12)
        mov %r13, G(13)
        mov %r14, G(14)
        mov %r15, G(15)
        mov %gs:HP_T_HOST_RSP, %rsp
        pushfq
        popq %gs:HP_T_RFLAGS
        pushq $0x202                /* hotpath's C code: IF only (no DF, TF, AC) */
        popfq
        mov %gs:HP_T_SELF, %rbx
        mov HP_T_XMASK(%rbx), %eax
        mov HP_T_XMASK+4(%rbx), %edx
        xsaveopt64 HP_T_XSAVE(%rbx)   /* skips state unchanged since the xrstor */
        cmpl $0, HP_T_USE_FSGSBASE(%rbx)
        je 1f
        rdfsbase %rax               /* the guest may have moved FS with wrfsbase */
        mov %rax, HP_T_GUEST_FS(%rbx)
        jmp 5f
1:      cmpl $0, HP_T_GUEST_WRFSBASE(%rbx) /* Where the CPU lacks wrfsbase, the */
        jne 4f                      /* guest moves FS only by arch_prctl (emulated: */
        xor %eax, %eax              /* guest_fs is current) or by loading a selector */
        mov %fs, %ax
        test %eax, %eax
        jz 5f
4:      mov $158, %eax              /* arch_prctl(ARCH_GET_FS, &guest_fs) */
        mov $0x1003, %edi
        lea HP_T_GUEST_FS(%rbx), %rsi
        syscall
5:      mov HP_T_HOST_FS(%rbx), %rsi /* the FS hotpath's C code gets: its own, */
        cmpq $0, HP_T_GUEST_FS(%rbx) /* when the guest's is 0 (before it sets up */
        jne 8f                      /* TLS: a stack protector can't read fs:0x28), */
        cmpl $0, HP_T_USE_FSGSBASE(%rbx) /* unless the entry put the null FS */
        jne 6f                      /* there (no FSGSBASE: the guest cannot see */
        cmpl $0, HP_T_GUEST_WRFSBASE(%rbx) /* the base; its fs:0x28 reads) */
        jne 6f
8:      cmpl $HP_FS_EAGER, HP_T_FS_LAZY(%rbx)
        je 6f
        movl $1, HP_T_FS_GUEST(%rbx) /* lazy: the guest's stays, hp_fs_host() */
        cmpl $HP_FS_POISON, HP_T_FS_LAZY(%rbx) /* switches when needed; or the poison */
        jne 2f
        mov hp_fs_poison_base(%rip), %rsi
6:      cmpl $0, HP_T_USE_FSGSBASE(%rbx)
        je 7f
        wrfsbase %rsi
        jmp 2f
7:      mov $158, %eax              /* arch_prctl(ARCH_SET_FS, %rsi) */
        mov $0x1002, %edi
        syscall
2:      fninit                      /* hotpath's C code gets a clean FPU */
        ldmxcsr hp_default_mxcsr(%rip)
        add $8, %rsp
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbp
        pop %rbx
        ret
        .size hp_cache_exit, .-hp_cache_exit


        .section .rodata
        .align 4
hp_default_mxcsr:
        .long 0x1f80
        .section .note.GNU-stack,"",@progbits

/* long hp_syscall_unless(long nr, long a1, long a2, long a3, long a4,
 *                        long a5, long a6, const uint64_t *interrupt)
 * A blocking system call, unless *interrupt is set before it starts: then
 * -EINTR, as if the signal had arrived during the call. hotpath's signal
 * handler moves a thread it finds between the check and the `syscall`
 * (hp_syscall_window_start..hp_syscall_window_end, the `syscall` itself
 * included: it has not run) to hp_syscall_window_abort. */
        .text
        .globl hp_syscall_unless, hp_syscall_window_start, hp_syscall_window_end, hp_syscall_window_abort
        .type hp_syscall_unless, @function
hp_syscall_unless:
        mov %rdi, %rax
        mov %rsi, %rdi
        mov %rdx, %rsi
        mov %rcx, %rdx
        mov %r8, %r10
        mov %r9, %r8
        mov 8(%rsp), %r9
        mov 16(%rsp), %r11
hp_syscall_window_start:
        cmpq $0, (%r11)
        jne hp_syscall_window_abort
hp_syscall_window_end:
        syscall
        ret
hp_syscall_window_abort:
        mov $-4, %rax /* -EINTR */
        ret
        .size hp_syscall_unless, .-hp_syscall_unless
        .section .note.GNU-stack,"",@progbits

/* Restorer of hotpath's own signal handler (installed with SA_RESTORER by a
 * raw rt_sigaction, which also works for the signals glibc keeps for itself). */
        .text
        .globl hp_sigreturn_trampoline
        .type hp_sigreturn_trampoline, @function
hp_sigreturn_trampoline:
        mov $15, %eax
        syscall
        hlt
        .size hp_sigreturn_trampoline, .-hp_sigreturn_trampoline
        .section .note.GNU-stack,"",@progbits

/* long hp_int80(const uint64_t *gpr): `int $0x80` (a 32-bit system call)
 * with the guest's rax, rbx, rcx, rdx, rsi, rdi and rbp from gpr (indexed
 * as enum hp_gpr); the kernel's result. Where the kernel has no 32-bit
 * emulation the instruction raises #GP: the signal handler moves the
 * thread from hp_int80_insn to hp_int80_fault, which returns HP_INT80_FAULT. */
        .text
        .globl hp_int80, hp_int80_insn, hp_int80_fault
        .type hp_int80, @function
hp_int80:
        push %rbx
        push %rbp
        mov %rdi, %r11
        mov 0(%r11), %rax
        mov 8(%r11), %rcx
        mov 16(%r11), %rdx
        mov 24(%r11), %rbx
        mov 40(%r11), %rbp
        mov 48(%r11), %rsi
        mov 56(%r11), %rdi
hp_int80_insn:
        int $0x80
        pop %rbp
        pop %rbx
        ret
hp_int80_fault:
        movabs $0x8000000000000080, %rax
        pop %rbp
        pop %rbx
        ret
        .size hp_int80, .-hp_int80
        .section .note.GNU-stack,"",@progbits
