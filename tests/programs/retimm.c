/* retimm: callee-pops returns (ret $imm16).  The asm callers push stack
 * arguments and call asm callees that return with ret $8 / ret $16 / ret $0;
 * the callers verify rsp is restored exactly. */
#include <stdint.h>
#include <stdio.h>

uint64_t hp_ret8(uint64_t a, uint64_t b);
uint64_t hp_ret16(uint64_t a, uint64_t b, uint64_t c);
uint64_t hp_ret0(uint64_t a);
uint64_t hp_ret_chain(uint64_t a);

__asm__(
    ".pushsection .text\n"
    /* callee: one stack arg at 8(%rsp), pops it on return */
    ".type hp_ret8_callee, @function\n"
    "hp_ret8_callee:\n"
    "    mov 8(%rsp), %rax\n"
    "    imul $3, %rax, %rax\n"
    "    add %rdi, %rax\n"
    "    ret $8\n"
    ".size hp_ret8_callee, .-hp_ret8_callee\n"

    /* callee: two stack args, pops 16 bytes */
    ".type hp_ret16_callee, @function\n"
    "hp_ret16_callee:\n"
    "    mov 8(%rsp), %rax\n"      /* last pushed */
    "    sub 16(%rsp), %rax\n"     /* first pushed */
    "    imul %rdi, %rax\n"
    "    ret $16\n"
    ".size hp_ret16_callee, .-hp_ret16_callee\n"

    ".type hp_ret0_callee, @function\n"
    "hp_ret0_callee:\n"
    "    lea 5(%rdi,%rdi,4), %rax\n"
    "    ret $0\n"
    ".size hp_ret0_callee, .-hp_ret0_callee\n"

    /* hp_ret8(a, b): push b; call; check rsp restored (rax += 0 or 1<<40) */
    ".globl hp_ret8\n"
    ".type hp_ret8, @function\n"
    "hp_ret8:\n"
    "    mov %rsp, %r8\n"
    "    push %rsi\n"
    "    call hp_ret8_callee\n"
    "    cmp %rsp, %r8\n"
    "    je 1f\n"
    "    mov %r8, %rsp\n"
    "    bts $40, %rax\n"
    "1:  ret\n"
    ".size hp_ret8, .-hp_ret8\n"

    ".globl hp_ret16\n"
    ".type hp_ret16, @function\n"
    "hp_ret16:\n"
    "    mov %rsp, %r8\n"
    "    push %rsi\n"
    "    push %rdx\n"
    "    call hp_ret16_callee\n"
    "    cmp %rsp, %r8\n"
    "    je 1f\n"
    "    mov %r8, %rsp\n"
    "    bts $41, %rax\n"
    "1:  ret\n"
    ".size hp_ret16, .-hp_ret16\n"

    ".globl hp_ret0\n"
    ".type hp_ret0, @function\n"
    "hp_ret0:\n"
    "    mov %rsp, %r8\n"
    "    call hp_ret0_callee\n"
    "    cmp %rsp, %r8\n"
    "    je 1f\n"
    "    mov %r8, %rsp\n"
    "    bts $42, %rax\n"
    "1:  ret\n"
    ".size hp_ret0, .-hp_ret0\n"

    /* nested: a ret $8 callee that itself calls a ret $8 callee */
    ".type hp_ret_mid, @function\n"
    "hp_ret_mid:\n"
    "    mov 8(%rsp), %rdi\n"
    "    pushq 8(%rsp)\n"          /* pass our own stack arg on */
    "    call hp_ret8_callee\n"    /* rax = 3*arg + arg */
    "    add $1, %rax\n"
    "    ret $8\n"
    ".size hp_ret_mid, .-hp_ret_mid\n"

    ".globl hp_ret_chain\n"
    ".type hp_ret_chain, @function\n"
    "hp_ret_chain:\n"
    "    mov %rsp, %r8\n"
    "    push %rdi\n"
    "    call hp_ret_mid\n"
    "    cmp %rsp, %r8\n"
    "    je 1f\n"
    "    mov %r8, %rsp\n"
    "    bts $43, %rax\n"
    "1:  ret\n"
    ".size hp_ret_chain, .-hp_ret_chain\n"
    ".popsection\n");

int main(void)
{
    printf("ret8(10, 20) = %llu\n", (unsigned long long)hp_ret8(10, 20));
    printf("ret16(3, 100, 40) = %llu\n", (unsigned long long)hp_ret16(3, 100, 40));
    printf("ret0(7) = %llu\n", (unsigned long long)hp_ret0(7));
    printf("ret_chain(9) = %llu\n", (unsigned long long)hp_ret_chain(9));
    uint64_t acc = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        acc += hp_ret8(i, acc & 0xffff);
        acc ^= hp_ret16(i & 7, i, acc & 0xfff);
        acc += hp_ret0(i) + hp_ret_chain(i);
    }
    printf("acc = %016llx\n", (unsigned long long)acc);
    return 0;
}
