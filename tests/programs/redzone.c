/* redzone: leaf functions that keep data in the 128-byte red zone below rsp
 * while executing direct, conditional and indirect branches and
 * rcx-loops; a translator must not clobber [rsp-128, rsp). Also C leaf
 * functions that the compiler itself places in the red zone. */
#include <stdint.h>
#include <stdio.h>

uint64_t hp_rz_fill(uint64_t x);
uint64_t hp_rz_branches(uint64_t x);
uint64_t hp_rz_indirect(uint64_t x);

__asm__(
    ".pushsection .text\n"
    /* store 16 qwords at -8..-128(%rsp), read them back */
    ".globl hp_rz_fill\n"
    ".type hp_rz_fill, @function\n"
    "hp_rz_fill:\n"
    "    mov $1, %ecx\n"
    "1:  lea (%rdi,%rcx), %rax\n"
    "    imul %rcx, %rax\n"
    "    neg %rcx\n"
    "    mov %rax, (%rsp,%rcx,8)\n"
    "    neg %rcx\n"
    "    inc %rcx\n"
    "    cmp $16, %rcx\n"
    "    jbe 1b\n"
    "    xor %eax, %eax\n"
    "    mov $16, %ecx\n"
    "2:  neg %rcx\n"
    "    mov (%rsp,%rcx,8), %rdx\n"
    "    neg %rcx\n"
    "    imul $31, %rax, %rax\n"
    "    add %rdx, %rax\n"
    "    loop 2b\n"
    "    ret\n"
    ".size hp_rz_fill, .-hp_rz_fill\n"

    /* red-zone values live across taken and not-taken jcc and a jmp */
    ".globl hp_rz_branches\n"
    ".type hp_rz_branches, @function\n"
    "hp_rz_branches:\n"
    "    mov %rdi, -8(%rsp)\n"
    "    lea 1(%rdi), %rax\n"
    "    mov %rax, -64(%rsp)\n"
    "    lea 2(%rdi), %rax\n"
    "    mov %rax, -128(%rsp)\n"
    "    movl $0x11223344, -100(%rsp)\n"
    "    test $1, %dil\n"
    "    jz 1f\n"
    "    addq $100, -8(%rsp)\n"
    "    jmp 2f\n"
    "1:  subq $100, -64(%rsp)\n"
    "2:  test $2, %dil\n"
    "    jnz 3f\n"
    "    shlq $1, -128(%rsp)\n"
    "3:  mov -8(%rsp), %rax\n"
    "    xor -64(%rsp), %rax\n"
    "    add -128(%rsp), %rax\n"
    "    movl -100(%rsp), %edx\n"
    "    add %rdx, %rax\n"
    "    ret\n"
    ".size hp_rz_branches, .-hp_rz_branches\n"

    /* red-zone values live across indirect jumps (register and memory),
     * including one whose target itself is kept in the red zone */
    ".globl hp_rz_indirect\n"
    ".type hp_rz_indirect, @function\n"
    "hp_rz_indirect:\n"
    "    mov %rdi, -16(%rsp)\n"
    "    mov %rdi, %rax\n"
    "    not %rax\n"
    "    mov %rax, -120(%rsp)\n"
    "    lea 1f(%rip), %rdx\n"
    "    jmp *%rdx\n"
    "    ud2\n"
    "1:  addq $7, -16(%rsp)\n"
    "    lea 2f(%rip), %rdx\n"
    "    mov %rdx, -32(%rsp)\n"
    "    jmp *-32(%rsp)\n"
    "    ud2\n"
    "2:  mov -16(%rsp), %rax\n"
    "    mov %rdi, %rcx\n"
    "    and $3, %ecx\n"
    "    lea 5f(%rip), %rdx\n"
    "    movslq (%rdx,%rcx,4), %rcx\n"
    "    add %rdx, %rcx\n"
    "    jmp *%rcx\n"
    "6:  add $1000, %rax\n"
    "    jmp 7f\n"
    "8:  sub -120(%rsp), %rax\n"
    "    jmp 7f\n"
    "9:  imul $3, %rax\n"
    "    jmp 7f\n"
    "10: xor -120(%rsp), %rax\n"
    "7:  add -120(%rsp), %rax\n"
    "    add -16(%rsp), %rax\n"
    "    ret\n"
    "    .p2align 2\n"
    "5:  .long 6b-5b, 8b-5b, 9b-5b, 10b-5b\n"
    ".size hp_rz_indirect, .-hp_rz_indirect\n"
    ".popsection\n");

/* C leaf functions with locals: at -O0 and -O2 gcc addresses them below
 * rsp without adjusting it */
__attribute__((noinline)) static uint64_t c_leaf(uint64_t x)
{
    volatile uint64_t loc[12];
    for (int i = 0; i < 12; i++)
        loc[i] = x * (uint64_t)(i + 3);
    uint64_t s = 0;
    for (int i = 11; i >= 0; i--)
        s = s * 7 + loc[i];
    return s;
}

__attribute__((noinline)) static uint64_t c_leaf_switch(uint64_t x)
{
    volatile uint32_t loc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    switch (x % 9) {
    case 0: loc[0] += 10; break;
    case 1: loc[1] *= 3; break;
    case 2: loc[2] ^= 0xff; break;
    case 3: loc[3] -= 100; break;
    case 4: loc[4] <<= 4; break;
    case 5: loc[5] = loc[6] + loc[7]; break;
    case 6: loc[6] = 0; break;
    case 7: loc[7] = (uint32_t)x; break;
    default: loc[0] = loc[7]; break;
    }
    uint64_t s = 0;
    for (int i = 0; i < 8; i++)
        s = s * 1000 + loc[i];
    return s;
}

int main(void)
{
    for (uint64_t x = 0; x < 4; x++)
        printf("x=%llu fill=%llu branches=%llu indirect=%llu c_leaf=%llu c_leaf_switch=%llu\n",
               (unsigned long long)x, (unsigned long long)hp_rz_fill(x), (unsigned long long)hp_rz_branches(x),
               (unsigned long long)hp_rz_indirect(x), (unsigned long long)c_leaf(x),
               (unsigned long long)c_leaf_switch(x));
    uint64_t acc = 0;
    for (uint64_t i = 0; i < 100000; i++)
        acc = acc * 3 + (hp_rz_fill(i) ^ hp_rz_branches(i) ^ hp_rz_indirect(i) ^ c_leaf(i) ^ c_leaf_switch(i));
    printf("acc = %016llx\n", (unsigned long long)acc);
    return 0;
}
