/* flags: arithmetic flags that are live across control transfers a
 * translator rewrites: cmp/sub then jmp *%reg, jmp *mem, a jump table,
 * call *%reg to a callee that does not touch flags, and ret (flags set by
 * the callee consumed by the caller). All conditions are read with setcc
 * and jcc and compared against values computed in C. */
#include <stdint.h>
#include <stdio.h>

uint64_t hp_flags_jmpreg(int64_t a, int64_t b);
uint64_t hp_flags_jmpmem(int64_t a, int64_t b);
uint64_t hp_flags_table(int64_t a, int64_t b, uint64_t sel);
uint64_t hp_flags_callreg(int64_t a, int64_t b);
uint64_t hp_flags_ret(int64_t a, int64_t b);
uint64_t hp_carry_chain(uint64_t a, uint64_t b);

/* Collect CF ZF SF OF PF and composite conditions into a bitmask.  Only
 * flag-preserving instructions (setcc, jcc, mov, movzx, lea) run until the
 * last condition has been read. */
#define COLLECT                     \
    "    setc %al\n"                \
    "    setz %cl\n"                \
    "    sets %dl\n"                \
    "    seto %r8b\n"               \
    "    setp %r9b\n"               \
    "    setl %r10b\n"              \
    "    seta %r11b\n"              \
    "    setg %sil\n"               \
    "    mov $0, %edi\n"            \
    "    jg 81f\n"                  \
    "    mov $1, %edi\n"            \
    "81: movzbl %al, %eax\n"        \
    "    movzbl %cl, %ecx\n"        \
    "    lea (%rax,%rcx,2), %rax\n" \
    "    movzbl %dl, %edx\n"        \
    "    lea (%rax,%rdx,4), %rax\n" \
    "    movzbl %r8b, %r8d\n"       \
    "    lea (%rax,%r8,8), %rax\n"  \
    "    movzbl %r9b, %r9d\n"       \
    "    shl $4, %r9\n"             \
    "    or %r9, %rax\n"            \
    "    movzbl %r10b, %r10d\n"     \
    "    shl $5, %r10\n"            \
    "    or %r10, %rax\n"           \
    "    movzbl %r11b, %r11d\n"     \
    "    shl $6, %r11\n"            \
    "    or %r11, %rax\n"           \
    "    movzbl %sil, %esi\n"       \
    "    shl $7, %rsi\n"            \
    "    or %rsi, %rax\n"           \
    "    shl $8, %rdi\n"            \
    "    or %rdi, %rax\n"

__asm__(
    ".pushsection .text\n"
    /* cmp, then jmp *%reg, flags consumed at the target */
    ".globl hp_flags_jmpreg\n"
    ".type hp_flags_jmpreg, @function\n"
    "hp_flags_jmpreg:\n"
    "    lea 1f(%rip), %rax\n"
    "    cmp %rsi, %rdi\n"
    "    jmp *%rax\n"
    "    ud2\n"
    "1:\n"
    COLLECT
    "    ret\n"
    ".size hp_flags_jmpreg, .-hp_flags_jmpreg\n"

    /* sub, then jmp through a (red-zone) memory slot */
    ".globl hp_flags_jmpmem\n"
    ".type hp_flags_jmpmem, @function\n"
    "hp_flags_jmpmem:\n"
    "    lea 1f(%rip), %rax\n"
    "    mov %rax, -8(%rsp)\n"
    "    sub %rsi, %rdi\n"
    "    jmp *-8(%rsp)\n"
    "    ud2\n"
    "1:\n"
    COLLECT
    "    ret\n"
    ".size hp_flags_jmpmem, .-hp_flags_jmpmem\n"

    /* cmp before the table dispatch (which uses mov/lea only), jcc after */
    ".globl hp_flags_table\n"
    ".type hp_flags_table, @function\n"
    "hp_flags_table:\n"
    "    and $3, %rdx\n"
    "    lea 5f(%rip), %r8\n"
    "    cmp %rsi, %rdi\n"
    "    movslq (%r8,%rdx,4), %r9\n"
    "    lea (%r8,%r9), %r9\n"
    "    jmp *%r9\n"
    "10: mov $0, %eax\n"
    "    jl 20f\n"
    "    mov $1, %eax\n"
    "    ret\n"
    "11: mov $2, %eax\n"
    "    jb 20f\n"
    "    mov $3, %eax\n"
    "    ret\n"
    "12: mov $4, %eax\n"
    "    jo 20f\n"
    "    mov $5, %eax\n"
    "    ret\n"
    "13: mov $6, %eax\n"
    "    jbe 20f\n"
    "    mov $7, %eax\n"
    "    ret\n"
    "20: or $0x100, %eax\n"
    "    ret\n"
    "    .p2align 2\n"
    "5:  .long 10b-5b, 11b-5b, 12b-5b, 13b-5b\n"
    ".size hp_flags_table, .-hp_flags_table\n"

    /* callee that does not touch the flags */
    ".type hp_flag_nop, @function\n"
    "hp_flag_nop:\n"
    "    lea 1(%rax), %rax\n"
    "    ret\n"
    ".size hp_flag_nop, .-hp_flag_nop\n"

    /* cmp; call *%reg; ret; flags consumed after the return */
    ".globl hp_flags_callreg\n"
    ".type hp_flags_callreg, @function\n"
    "hp_flags_callreg:\n"
    "    lea hp_flag_nop(%rip), %r11\n"
    "    cmp %rsi, %rdi\n"
    "    call *%r11\n"
    COLLECT
    "    ret\n"
    ".size hp_flags_callreg, .-hp_flags_callreg\n"

    /* the callee sets the flags, the caller reads them after ret */
    ".type hp_cmp_ret, @function\n"
    "hp_cmp_ret:\n"
    "    cmp %rsi, %rdi\n"
    "    ret\n"
    ".size hp_cmp_ret, .-hp_cmp_ret\n"

    ".globl hp_flags_ret\n"
    ".type hp_flags_ret, @function\n"
    "hp_flags_ret:\n"
    "    call hp_cmp_ret\n"
    COLLECT
    "    ret\n"
    ".size hp_flags_ret, .-hp_flags_ret\n"

    /* carry from add survives jmp *%reg and is consumed by adc; then the
     * carry from sbb survives a jmp through memory */
    ".globl hp_carry_chain\n"
    ".type hp_carry_chain, @function\n"
    "hp_carry_chain:\n"
    "    lea 1f(%rip), %rdx\n"
    "    xor %eax, %eax\n"
    "    add %rsi, %rdi\n"
    "    jmp *%rdx\n"
    "    ud2\n"
    "1:  adc $0, %rax\n"           /* rax = carry of a+b */
    "    lea 2f(%rip), %rdx\n"
    "    mov %rdx, -16(%rsp)\n"
    "    mov %rdi, %rcx\n"
    "    sub %rsi, %rcx\n"         /* (a+b)-b: borrow iff wrapped */
    "    jmp *-16(%rsp)\n"
    "    ud2\n"
    "2:  sbb %rdx, %rdx\n"         /* 0 or -1 */
    "    and $2, %edx\n"
    "    or %rdx, %rax\n"
    "    ret\n"
    ".size hp_carry_chain, .-hp_carry_chain\n"
    ".popsection\n");

static uint64_t reference(int64_t a, int64_t b)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b, r = ua - ub;
    int cf = ua < ub, zf = r == 0, sf = (int64_t)r < 0;
    int of = ((a ^ b) & (a ^ (int64_t)r)) < 0;
    int pf = !__builtin_parity((unsigned)(r & 0xff));
    int l = a < b, above = ua > ub, g = a > b, le = a <= b;
    return (uint64_t)(cf | zf << 1 | sf << 2 | of << 3 | pf << 4 | l << 5 | above << 6 | g << 7 | le << 8);
}

static uint64_t table_ref(int64_t a, int64_t b, uint64_t sel)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b, r = ua - ub;
    switch (sel & 3) {
    case 0: return a < b ? 0x100 : 1;
    case 1: return ua < ub ? 0x102 : 3;
    case 2: return (((a ^ b) & (a ^ (int64_t)r)) < 0) ? 0x104 : 5;
    default: return ua <= ub ? 0x106 : 7;
    }
}

int main(void)
{
    static const int64_t vals[] = {0, 1, -1, 2, 0x7f, 0x80, 255, 256, INT64_MAX, INT64_MIN,
                                   INT64_MAX - 1, INT64_MIN + 1, 0x100000000LL, -0x100000000LL, 12345, -54321};
    enum { NV = sizeof vals / sizeof vals[0] };
    int mismatches = 0;
    uint64_t h = 0;
    for (int i = 0; i < NV; i++)
        for (int j = 0; j < NV; j++) {
            int64_t a = vals[i], b = vals[j];
            uint64_t ref = reference(a, b);
            uint64_t r1 = hp_flags_jmpreg(a, b), r2 = hp_flags_jmpmem(a, b);
            uint64_t r3 = hp_flags_callreg(a, b), r4 = hp_flags_ret(a, b);
            if (r1 != ref || r2 != ref || r3 != ref || r4 != ref) {
                mismatches++;
                printf("mismatch a=%lld b=%lld ref=%llx jmpreg=%llx jmpmem=%llx callreg=%llx ret=%llx\n",
                       (long long)a, (long long)b, (unsigned long long)ref, (unsigned long long)r1,
                       (unsigned long long)r2, (unsigned long long)r3, (unsigned long long)r4);
            }
            for (uint64_t s = 0; s < 4; s++) {
                uint64_t t = hp_flags_table(a, b, s);
                if (t != table_ref(a, b, s)) {
                    mismatches++;
                    printf("table mismatch a=%lld b=%lld sel=%llu got %llx\n", (long long)a, (long long)b,
                           (unsigned long long)s, (unsigned long long)t);
                }
                h = h * 31 + t;
            }
            uint64_t cc = hp_carry_chain((uint64_t)a, (uint64_t)b);
            uint64_t ccref = ((uint64_t)a + (uint64_t)b < (uint64_t)a) ? 3 : 0;
            if (cc != ccref) {
                mismatches++;
                printf("carry mismatch a=%lld b=%lld got %llu\n", (long long)a, (long long)b, (unsigned long long)cc);
            }
            h = h * 131 + ref * 7 + cc;
        }
    printf("pairs=%d mismatches=%d hash=%016llx\n", NV * NV, mismatches, (unsigned long long)h);
    printf("sample: %03llx %03llx %03llx %03llx\n", (unsigned long long)hp_flags_jmpreg(1, 2),
           (unsigned long long)hp_flags_jmpmem(INT64_MIN, 1), (unsigned long long)hp_flags_callreg(5, 5),
           (unsigned long long)hp_flags_ret(-1, 1));
    uint64_t acc = 0;
    for (int64_t i = 0; i < 50000; i++)
        acc = acc * 3 + hp_flags_jmpreg(i * 7919, 1000000 - i * 31) + hp_flags_ret(i, -i) +
              hp_flags_table(i, 25000, (uint64_t)i) + hp_carry_chain((uint64_t)i << 50, (uint64_t)i << 49);
    printf("acc = %016llx\n", (unsigned long long)acc);
    return mismatches != 0;
}
