/* jrcxz: the rcx-counting branches jrcxz, jecxz, loop, loope and loopne,
 * including 32-bit address-size forms and multi-precision adc chains whose
 * carry must survive 'loop' (loop does not modify the flags). */
#include <stdint.h>
#include <stdio.h>

uint64_t hp_loop_sum(uint64_t n);
uint64_t hp_jrcxz_test(uint64_t rcx);
uint64_t hp_jecxz_test(uint64_t rcx);
uint64_t hp_loope_prefix(const unsigned char *p, uint64_t n, uint64_t c);
uint64_t hp_loopne_find(const unsigned char *p, uint64_t n, uint64_t c);
uint64_t hp_bignum_add(uint64_t *dst, const uint64_t *src, uint64_t nwords);
uint64_t hp_loopl(uint64_t rcx);

__asm__(
    ".pushsection .text\n"
    /* sum n + (n-1) + ... + 1 with jrcxz guard */
    ".globl hp_loop_sum\n"
    ".type hp_loop_sum, @function\n"
    "hp_loop_sum:\n"
    "    mov %rdi, %rcx\n"
    "    xor %eax, %eax\n"
    "    jrcxz 2f\n"
    "1:  add %rcx, %rax\n"
    "    loop 1b\n"
    "2:  ret\n"
    ".size hp_loop_sum, .-hp_loop_sum\n"

    /* returns 1 if jrcxz is taken; flags from a prior cmp must survive */
    ".globl hp_jrcxz_test\n"
    ".type hp_jrcxz_test, @function\n"
    "hp_jrcxz_test:\n"
    "    mov %rdi, %rcx\n"
    "    xor %eax, %eax\n"
    "    cmp $5, %rax\n"           /* sets CF (0 < 5) */
    "    jrcxz 1f\n"
    "    mov $2, %eax\n"
    "    adc $0, %rax\n"           /* 3 if CF survived */
    "    ret\n"
    "1:  mov $0, %eax\n"
    "    adc $0, %rax\n"           /* 1 if CF survived */
    "    ret\n"
    ".size hp_jrcxz_test, .-hp_jrcxz_test\n"

    /* jecxz: tests only the low 32 bits */
    ".globl hp_jecxz_test\n"
    ".type hp_jecxz_test, @function\n"
    "hp_jecxz_test:\n"
    "    mov %rdi, %rcx\n"
    "    mov $10, %eax\n"
    "    jecxz 1f\n"
    "    mov $20, %eax\n"
    "1:  ret\n"
    ".size hp_jecxz_test, .-hp_jecxz_test\n"

    /* loope: count leading bytes equal to c (rdi=p, rsi=n, dl=c) */
    ".globl hp_loope_prefix\n"
    ".type hp_loope_prefix, @function\n"
    "hp_loope_prefix:\n"
    "    mov %rsi, %rcx\n"
    "    xor %eax, %eax\n"
    "    jrcxz 3f\n"
    "1:  cmpb %dl, (%rdi)\n"
    "    lea 1(%rdi), %rdi\n"      /* lea keeps the flags */
    "    loope 1b\n"
    "    jne 2f\n"                 /* stopped on a mismatch */
    "    mov %rsi, %rax\n"         /* all n bytes matched */
    "    ret\n"
    "2:  mov %rsi, %rax\n"
    "    sub %rcx, %rax\n"
    "    dec %rax\n"
    "3:  ret\n"
    ".size hp_loope_prefix, .-hp_loope_prefix\n"

    /* loopne: index of first byte equal to c, or n if none; encodes rcx left */
    ".globl hp_loopne_find\n"
    ".type hp_loopne_find, @function\n"
    "hp_loopne_find:\n"
    "    mov %rsi, %rcx\n"
    "    mov %rdi, %r8\n"
    "    jrcxz 2f\n"
    "1:  cmpb %dl, (%rdi)\n"
    "    lea 1(%rdi), %rdi\n"
    "    loopne 1b\n"
    "    jne 2f\n"                 /* ZF from the last cmp: not found */
    "    lea -1(%rdi), %rax\n"
    "    sub %r8, %rax\n"
    "    shl $32, %rcx\n"
    "    or %rcx, %rax\n"
    "    ret\n"
    "2:  mov %rsi, %rax\n"
    "    ret\n"
    ".size hp_loopne_find, .-hp_loopne_find\n"

    /* dst += src over nwords, carry propagated across 'loop'; returns carry */
    ".globl hp_bignum_add\n"
    ".type hp_bignum_add, @function\n"
    "hp_bignum_add:\n"
    "    mov %rdx, %rcx\n"
    "    xor %eax, %eax\n"         /* clears CF */
    "    jrcxz 2f\n"
    "1:  mov (%rsi), %r8\n"
    "    adc %r8, (%rdi)\n"
    "    lea 8(%rsi), %rsi\n"
    "    lea 8(%rdi), %rdi\n"
    "    loop 1b\n"
    "2:  setc %al\n"
    "    ret\n"
    ".size hp_bignum_add, .-hp_bignum_add\n"

    /* loop with 32-bit address size: decrements ecx only, upper rcx bits are
     * zeroed by the write to ecx */
    ".globl hp_loopl\n"
    ".type hp_loopl, @function\n"
    "hp_loopl:\n"
    "    mov %rdi, %rcx\n"
    "    xor %eax, %eax\n"
    "1:  inc %rax\n"
    "    addr32 loop 1b\n"
    "    add %rcx, %rax\n"
    "    ret\n"
    ".size hp_loopl, .-hp_loopl\n"
    ".popsection\n");

int main(void)
{
    uint64_t ns[] = {0, 1, 2, 10, 1000, 65536};
    for (unsigned i = 0; i < sizeof ns / sizeof ns[0]; i++)
        printf("loop_sum(%llu) = %llu\n", (unsigned long long)ns[i], (unsigned long long)hp_loop_sum(ns[i]));
    uint64_t rc[] = {0, 1, 0x100000000ull, 0xffffffffull};
    for (unsigned i = 0; i < 4; i++)
        printf("rcx=%llx jrcxz=%llu jecxz=%llu\n", (unsigned long long)rc[i],
               (unsigned long long)hp_jrcxz_test(rc[i]), (unsigned long long)hp_jecxz_test(rc[i]));

    unsigned char buf[300];
    for (int i = 0; i < 300; i++)
        buf[i] = i < 37 ? 'a' : (unsigned char)('b' + i % 20);
    printf("loope prefix: %llu %llu %llu %llu\n", (unsigned long long)hp_loope_prefix(buf, 300, 'a'),
           (unsigned long long)hp_loope_prefix(buf, 10, 'a'), (unsigned long long)hp_loope_prefix(buf, 300, 'b'),
           (unsigned long long)hp_loope_prefix(buf, 0, 'a'));
    printf("loopne find: %llx %llx %llx %llx\n", (unsigned long long)hp_loopne_find(buf, 300, 'c'),
           (unsigned long long)hp_loopne_find(buf, 300, 'z'), (unsigned long long)hp_loopne_find(buf, 300, 'a'),
           (unsigned long long)hp_loopne_find(buf, 0, 'a'));

    uint64_t a[8], b[8];
    for (int i = 0; i < 8; i++) {
        a[i] = ~0ull - (uint64_t)(i == 7);
        b[i] = i == 0 ? 1 : 0;
    }
    uint64_t carry = hp_bignum_add(a, b, 8);
    printf("bignum: carry=%llu top=%llx low=%llx\n", (unsigned long long)carry, (unsigned long long)a[7],
           (unsigned long long)a[0]);
    for (int i = 0; i < 8; i++) a[i] = ~0ull;
    carry = hp_bignum_add(a, b, 8);
    printf("bignum overflow: carry=%llu top=%llx\n", (unsigned long long)carry, (unsigned long long)a[7]);
    /* fibonacci in 512-bit numbers */
    uint64_t f0[8] = {0}, f1[8] = {1};
    uint64_t carries = 0;
    for (int i = 0; i < 700; i++) {
        carries += hp_bignum_add(f0, f1, 8);
        uint64_t t[8];
        for (int k = 0; k < 8; k++) { t[k] = f0[k]; f0[k] = f1[k]; f1[k] = t[k]; }
    }
    printf("fib512: carries=%llu words=", (unsigned long long)carries);
    for (int k = 7; k >= 0; k--)
        printf("%016llx", (unsigned long long)f1[k]);
    printf("\n");

    printf("addr32 loop: %llu %llu %llu\n", (unsigned long long)hp_loopl(5),
           (unsigned long long)hp_loopl(0x700000003ull), (unsigned long long)hp_loopl(1));
    uint64_t acc = 0;
    for (uint64_t i = 0; i < 3000; i++)
        acc = acc * 7 + hp_loop_sum(i) + hp_loope_prefix(buf, i % 300, 'a') + hp_loopne_find(buf, i % 300, 'b' + i % 20);
    printf("acc = %016llx\n", (unsigned long long)acc);
    return 0;
}
