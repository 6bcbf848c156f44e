/* jumptable: hand-written jump tables in the two shapes compilers emit for
 * position-independent code (table of 32-bit offsets relative to the table,
 * and table of absolute 64-bit addresses fixed up by R_X86_64_RELATIVE),
 * an indirect call through a table of function addresses, and a large dense
 * C switch (compiled to a jump table at both -O0 and -O2). */
#include <stdint.h>
#include <stdio.h>

uint64_t hp_jt_rel(uint64_t sel, uint64_t x);
uint64_t hp_jt_abs(uint64_t sel, uint64_t x);
uint64_t hp_jt_call(uint64_t sel, uint64_t x);

__asm__(
    ".pushsection .text\n"
    /* --- relative-offset table: movslq (%rdx,%rax,4) ; add %rdx ; jmp *%rax */
    ".globl hp_jt_rel\n"
    ".type hp_jt_rel, @function\n"
    "hp_jt_rel:\n"
    "    mov %rdi, %rax\n"
    "    cmp $5, %rax\n"
    "    ja 9f\n"
    "    lea 8f(%rip), %rdx\n"
    "    movslq (%rdx,%rax,4), %rax\n"
    "    add %rdx, %rax\n"
    "    jmp *%rax\n"
    "0:  lea 1(%rsi), %rax\n"
    "    ret\n"
    "1:  lea (%rsi,%rsi,2), %rax\n"
    "    ret\n"
    "2:  mov %rsi, %rax\n"
    "    shl $4, %rax\n"
    "    ret\n"
    "3:  mov %rsi, %rax\n"
    "    not %rax\n"
    "    ret\n"
    "4:  mov %rsi, %rax\n"
    "    imul %rsi, %rax\n"
    "    ret\n"
    "5:  mov %rsi, %rax\n"
    "    ror $7, %rax\n"
    "    ret\n"
    "9:  mov $-1, %rax\n"
    "    ret\n"
    "    .p2align 2\n"
    "8:  .long 0b-8b, 1b-8b, 2b-8b, 3b-8b, 4b-8b, 5b-8b\n"
    ".size hp_jt_rel, .-hp_jt_rel\n"

    /* --- absolute table in .data.rel.ro: jmp *(%rdx,%rdi,8) */
    ".globl hp_jt_abs\n"
    ".type hp_jt_abs, @function\n"
    "hp_jt_abs:\n"
    "    cmp $3, %rdi\n"
    "    ja 9f\n"
    "    lea hp_jt_abs_tab(%rip), %rdx\n"
    "    jmp *(%rdx,%rdi,8)\n"
    "hp_jt_abs_0:\n"
    "    lea 100(%rsi), %rax\n"
    "    ret\n"
    "hp_jt_abs_1:\n"
    "    mov %rsi, %rax\n"
    "    sub $100, %rax\n"
    "    ret\n"
    "hp_jt_abs_2:\n"
    "    mov %rsi, %rax\n"
    "    xor $0x5a5a, %rax\n"
    "    ret\n"
    "hp_jt_abs_3:\n"
    "    lea 7(,%rsi,8), %rax\n"
    "    ret\n"
    "9:  xor %eax, %eax\n"
    "    ret\n"
    ".size hp_jt_abs, .-hp_jt_abs\n"

    /* --- call through a table of function addresses: call *(%rdx,%rax,8) */
    ".globl hp_jt_call\n"
    ".type hp_jt_call, @function\n"
    "hp_jt_call:\n"
    "    push %rbx\n"               /* also realigns the stack to 16 */
    "    mov %rdi, %rax\n"
    "    and $3, %eax\n"
    "    mov %rsi, %rdi\n"
    "    lea hp_jt_fn_tab(%rip), %rdx\n"
    "    call *(%rdx,%rax,8)\n"
    "    lea 1(%rax), %rbx\n"
    "    mov %rbx, %rax\n"
    "    pop %rbx\n"
    "    ret\n"
    ".size hp_jt_call, .-hp_jt_call\n"
    ".popsection\n"

    ".pushsection .data.rel.ro,\"aw\"\n"
    ".p2align 3\n"
    "hp_jt_abs_tab:\n"
    "    .quad hp_jt_abs_0, hp_jt_abs_1, hp_jt_abs_2, hp_jt_abs_3\n"
    "hp_jt_fn_tab:\n"
    "    .quad hp_fn_a, hp_fn_b, hp_fn_c, hp_fn_d\n"
    ".popsection\n");

/* called from asm */
uint64_t hp_fn_a(uint64_t x);
uint64_t hp_fn_b(uint64_t x);
uint64_t hp_fn_c(uint64_t x);
uint64_t hp_fn_d(uint64_t x);
uint64_t hp_fn_a(uint64_t x) { return x * 2; }
uint64_t hp_fn_b(uint64_t x) { return x + 1000; }
uint64_t hp_fn_c(uint64_t x) { char buf[64]; return (uint64_t)snprintf(buf, sizeof buf, "%llu", (unsigned long long)x); }
uint64_t hp_fn_d(uint64_t x) { return x >> 1; }

__attribute__((noinline)) static int dense_switch(int op, int v)
{
    switch (op) {
    case 0: v += 1; break;
    case 1: v -= 3; break;
    case 2: v *= 5; break;
    case 3: v ^= 0x55; break;
    case 4: v = v << 2; break;
    case 5: v = v >> 1; break;
    case 6: v = ~v; break;
    case 7: v = v % 1000; break;
    case 8: v = (int)((long)v * v % 65521); break;
    case 9: v += 12345; break;
    case 10: v = (v & 0xff) | 0x100; break;
    case 11: v -= v / 3; break;
    case 12: v = v * 7 + 1; break;
    case 13: v ^= v >> 3; break;
    case 14: v = -v; break;
    case 15: v |= 0x1001; break;
    default: v = 0; break;
    }
    return v;
}

int main(void)
{
    for (uint64_t s = 0; s < 7; s++)
        printf("rel[%llu](1234) = %llu\n", (unsigned long long)s, (unsigned long long)hp_jt_rel(s, 1234));
    for (uint64_t s = 0; s < 5; s++)
        printf("abs[%llu](1234) = %llu\n", (unsigned long long)s, (unsigned long long)hp_jt_abs(s, 1234));
    for (uint64_t s = 0; s < 4; s++)
        printf("call[%llu](98765) = %llu\n", (unsigned long long)s, (unsigned long long)hp_jt_call(s, 98765));
    uint64_t acc = 1;
    for (uint64_t i = 0; i < 100000; i++) {
        acc = hp_jt_rel(i % 7, acc) + i;
        acc = hp_jt_abs((i * 3) % 5, acc) & 0xffffffffffffull;
        if (i % 64 == 0)
            acc = hp_jt_call(i >> 6, acc);
    }
    printf("mixed acc = %llu\n", (unsigned long long)acc);
    int v = 1;
    unsigned h = 0;
    for (int i = 0; i < 200000; i++) {
        v = dense_switch((i * 7 + (v & 3)) % 17, v) & 0xfffffff;
        h = h * 31 + (unsigned)v;
    }
    printf("switch v=%d h=%u\n", v, h);
    return 0;
}
