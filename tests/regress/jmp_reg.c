/* jmp_reg: `jmp r64` through every general register, to several targets
 * in turn (the lookup misses, then hits).  hotpath looks such a target up
 * from the guest's own register (hp_emit_ibl_inline_reg, which borrows rax,
 * or rdx when the target is in rax, and rcx); at the target every register
 * and the status flags must be what the guest set, and the register jumped
 * through must hold the target.  Guards against a lookup that reads or
 * restores the wrong register (REX bits of r8-r15, rax/rdx swapped).
 */
#include <stdint.h>
#include <stdio.h>

uint64_t jr_snap[17];
uint64_t jr_which;
void *jr_target;

#define PATTERNS                                                               \
    " movabs $0x0101010101010101, %rax\n movabs $0x0202020202020202, %rcx\n"   \
    " movabs $0x0303030303030303, %rdx\n movabs $0x0404040404040404, %rbx\n"   \
    " movabs $0x0606060606060606, %rbp\n movabs $0x0707070707070707, %rsi\n"   \
    " movabs $0x0808080808080808, %rdi\n movabs $0x0909090909090909, %r8\n"    \
    " movabs $0x0a0a0a0a0a0a0a0a, %r9\n movabs $0x0b0b0b0b0b0b0b0b, %r10\n"    \
    " movabs $0x0c0c0c0c0c0c0c0c, %r11\n movabs $0x0d0d0d0d0d0d0d0d, %r12\n"   \
    " movabs $0x0e0e0e0e0e0e0e0e, %r13\n movabs $0x0f0f0f0f0f0f0f0f, %r14\n"   \
    " movabs $0x1010101010101010, %r15\n"

/* jr_R(): callee-saved registers pushed, CF=1 ZF=0 SF=1 PF=1 AF=1 OF=0,
 * every register a pattern, then jmp *%R to jr_target. */
#define JR(R)                                                                  \
    ".globl jr_" #R "\n.type jr_" #R ",@function\njr_" #R ":\n"                \
    " push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n" \
    " xor %eax, %eax\n cmp $1, %eax\n" PATTERNS                                \
    " mov jr_target(%rip), %" #R "\n jmp *%" #R "\n"

#define SAVE(K)                                                                \
    "jr_t" #K ":\n"                                                            \
    " mov %rax, jr_snap+0(%rip)\n mov %rcx, jr_snap+8(%rip)\n"                 \
    " mov %rdx, jr_snap+16(%rip)\n mov %rbx, jr_snap+24(%rip)\n"               \
    " mov %rbp, jr_snap+40(%rip)\n mov %rsi, jr_snap+48(%rip)\n"               \
    " mov %rdi, jr_snap+56(%rip)\n mov %r8, jr_snap+64(%rip)\n"                \
    " mov %r9, jr_snap+72(%rip)\n mov %r10, jr_snap+80(%rip)\n"                \
    " mov %r11, jr_snap+88(%rip)\n mov %r12, jr_snap+96(%rip)\n"               \
    " mov %r13, jr_snap+104(%rip)\n mov %r14, jr_snap+112(%rip)\n"             \
    " mov %r15, jr_snap+120(%rip)\n pushfq\n pop jr_snap+128(%rip)\n"          \
    " movq $" #K ", jr_which(%rip)\n jmp jr_out\n"

__asm__(".text\n"
        JR(rax) JR(rcx) JR(rdx) JR(rbx) JR(rbp) JR(rsi) JR(rdi) JR(r8) JR(r9)
        JR(r10) JR(r11) JR(r12) JR(r13) JR(r14) JR(r15)
        SAVE(0) SAVE(1) SAVE(2) SAVE(3) SAVE(4)
        "jr_out:\n pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n ret\n");

#define DECL(R) void jr_##R(void);
DECL(rax) DECL(rcx) DECL(rdx) DECL(rbx) DECL(rbp) DECL(rsi) DECL(rdi) DECL(r8) DECL(r9)
DECL(r10) DECL(r11) DECL(r12) DECL(r13) DECL(r14) DECL(r15)
extern char jr_t0[], jr_t1[], jr_t2[], jr_t3[], jr_t4[];

int main(void)
{
    static const struct { const char *name; void (*fn)(void); int num; } regs[] = {
        {"rax", jr_rax, 0}, {"rcx", jr_rcx, 1}, {"rdx", jr_rdx, 2}, {"rbx", jr_rbx, 3},
        {"rbp", jr_rbp, 5}, {"rsi", jr_rsi, 6}, {"rdi", jr_rdi, 7}, {"r8", jr_r8, 8},
        {"r9", jr_r9, 9}, {"r10", jr_r10, 10}, {"r11", jr_r11, 11}, {"r12", jr_r12, 12},
        {"r13", jr_r13, 13}, {"r14", jr_r14, 14}, {"r15", jr_r15, 15},
    };
    char *targets[] = {jr_t0, jr_t1, jr_t2, jr_t3, jr_t4};
    int bad = 0;
    for (unsigned r = 0; r < sizeof regs / sizeof regs[0]; r++) {
        unsigned errors = 0;
        for (unsigned i = 0; i < 3000; i++) {
            unsigned k = (i * 7 + i / 5) % 5; /* every target, in an irregular order */
            jr_target = targets[k];
            regs[r].fn();
            for (int g = 0; g < 16; g++) {
                if (g == 4)
                    continue; /* rsp */
                uint64_t want = g == regs[r].num ? (uint64_t)(uintptr_t)targets[k] : 0x0101010101010101ull * (uint64_t)(g + 1);
                if (jr_snap[g] != want && errors++ < 3)
                    printf("jmp *%%%s to target %u: register %d = %#llx, want %#llx\n", regs[r].name, k, g,
                           (unsigned long long)jr_snap[g], (unsigned long long)want);
            }
            if ((jr_snap[16] & 0x8d5) != 0x95 && errors++ < 3)
                printf("jmp *%%%s: flags %#llx, want CF PF AF SF set, ZF OF clear\n", regs[r].name,
                       (unsigned long long)jr_snap[16]);
            if (jr_which != k && errors++ < 3)
                printf("jmp *%%%s: reached target %llu, want %u\n", regs[r].name, (unsigned long long)jr_which, k);
        }
        printf("jmp *%%%s: %s\n", regs[r].name, errors ? "WRONG" : "ok");
        bad += errors != 0;
    }
    return bad ? 1 : 0;
}
