/* Raw clone for tasks that share hotpath's memory (util: used by the
 * runtime and by memmap's helper). */
/* long hp_clone_vm(unsigned long flags, void *stack_top, int *ptid, int *ctid,
 *                  void (*fn)(void *), void *arg, unsigned long tls)
 * clone(2) for a child that shares memory: the child starts fn(arg) on
 * stack_top (hotpath's stack for it) and exits if fn returns; tls is the
 * FS base it gets with CLONE_SETTLS. */
        .text
        .globl hp_clone_vm
        .type hp_clone_vm, @function
hp_clone_vm:
        and $-16, %rsi
        sub $16, %rsi
        mov %r8, (%rsi)
        mov %r9, 8(%rsi)
        mov %rcx, %r10
        mov 8(%rsp), %r8
        mov $56, %eax
        syscall
        test %rax, %rax
        jnz 1f
        pop %rax
        pop %rdi
        xor %ebp, %ebp
        call *%rax
        xor %edi, %edi
        mov $60, %eax
        syscall
        hlt
1:      ret
        .size hp_clone_vm, .-hp_clone_vm
        .section .note.GNU-stack,"",@progbits
