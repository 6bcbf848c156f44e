/* indcall: indirect control transfers whose target lives on the stack and is
 * addressed relative to rsp: call *8(%rsp), call *(%rsp), jmp *-8(%rsp) (red
 * zone), push 8(%rsp), popq 8(%rsp) (address computed after the pop), call
 * through a rip-relative global pointer, and push+ret to a non-call site. */
#include <stdint.h>
#include <stdio.h>

typedef uint64_t (*fn_t)(uint64_t);

uint64_t hp_call_rsp8(fn_t f, uint64_t x);
uint64_t hp_call_rsp0(fn_t f, uint64_t x);
uint64_t hp_jmp_redzone(fn_t f, uint64_t x);
uint64_t hp_push_pop_mem(uint64_t x);
uint64_t hp_call_global(uint64_t x);
uint64_t hp_push_ret(uint64_t x);
uint64_t hp_call_rsp_reg(fn_t f, uint64_t x);

fn_t hp_global_fn;

__asm__(
    ".pushsection .text\n"
    /* sub $24 realigns rsp to 16; target stored at 8(%rsp) */
    ".globl hp_call_rsp8\n"
    ".type hp_call_rsp8, @function\n"
    "hp_call_rsp8:\n"
    "    sub $24, %rsp\n"
    "    mov %rdi, 8(%rsp)\n"
    "    movq $0, (%rsp)\n"
    "    mov %rsi, %rdi\n"
    "    call *8(%rsp)\n"          /* operand read with the pre-call rsp */
    "    add 8(%rsp), %rax\n"      /* slot must be intact: adds f's address... */
    "    sub 8(%rsp), %rax\n"      /* ...and removes it again */
    "    add (%rsp), %rax\n"       /* still 0 */
    "    add $24, %rsp\n"
    "    ret\n"
    ".size hp_call_rsp8, .-hp_call_rsp8\n"

    /* push target, call *(%rsp): rsp is 16-aligned at the call */
    ".globl hp_call_rsp0\n"
    ".type hp_call_rsp0, @function\n"
    "hp_call_rsp0:\n"
    "    push %rdi\n"
    "    mov %rsi, %rdi\n"
    "    call *(%rsp)\n"
    "    pop %rdx\n"
    "    ret\n"
    ".size hp_call_rsp0, .-hp_call_rsp0\n"

    /* tail jump through a red-zone slot: f returns directly to our caller */
    ".globl hp_jmp_redzone\n"
    ".type hp_jmp_redzone, @function\n"
    "hp_jmp_redzone:\n"
    "    mov %rdi, -8(%rsp)\n"
    "    mov %rsi, %rdi\n"
    "    jmp *-8(%rsp)\n"
    ".size hp_jmp_redzone, .-hp_jmp_redzone\n"

    /* push m64 with rsp base, pop m64 with rsp base */
    ".globl hp_push_pop_mem\n"
    ".type hp_push_pop_mem, @function\n"
    "hp_push_pop_mem:\n"
    "    sub $24, %rsp\n"
    "    movq $1, (%rsp)\n"
    "    mov %rdi, 8(%rsp)\n"
    "    movq $3, 16(%rsp)\n"
    "    pushq 8(%rsp)\n"          /* pushes x (address uses old rsp) */
    "    pop %rax\n"               /* rax = x */
    "    movq $0, 8(%rsp)\n"
    "    push %rax\n"
    "    popq 8(%rsp)\n"           /* stores x at (new rsp)+8 = original slot 8 */
    "    mov 8(%rsp), %rax\n"      /* x */
    "    imul $1000, (%rsp), %rdx\n"
    "    add %rdx, %rax\n"        /* + 1000 * 1 */
    "    imul $1000000, 16(%rsp), %rdx\n"
    "    add %rdx, %rax\n"        /* + 1000000 * 3 */
    "    add $24, %rsp\n"
    "    ret\n"
    ".size hp_push_pop_mem, .-hp_push_pop_mem\n"

    /* call through a function pointer stored in a global, rip-relative */
    ".globl hp_call_global\n"
    ".type hp_call_global, @function\n"
    "hp_call_global:\n"
    "    push %rbx\n"
    "    mov %rdi, %rbx\n"
    "    call *hp_global_fn(%rip)\n"
    "    add %rbx, %rax\n"
    "    pop %rbx\n"
    "    ret\n"
    ".size hp_call_global, .-hp_call_global\n"

    /* push an address and ret to it (not a call site) */
    ".globl hp_push_ret\n"
    ".type hp_push_ret, @function\n"
    "hp_push_ret:\n"
    "    lea 1f(%rip), %rax\n"
    "    push %rax\n"
    "    mov %rdi, %rax\n"
    "    ret\n"
    "    ud2\n"
    "1:  add $17, %rax\n"
    "    lea 2f(%rip), %rcx\n"
    "    push %rcx\n"
    "    ret\n"
    "    ud2\n"
    "2:  imul $3, %rax, %rax\n"
    "    ret\n"
    ".size hp_push_ret, .-hp_push_ret\n"

    /* frame-pointer function: indirect calls via rbp- and rsp-relative slots,
     * with 'call *(%rsp,%rcx,8)' using an index register as well */
    ".globl hp_call_rsp_reg\n"
    ".type hp_call_rsp_reg, @function\n"
    "hp_call_rsp_reg:\n"
    "    push %rbp\n"
    "    mov %rsp, %rbp\n"
    "    sub $32, %rsp\n"
    "    mov %rdi, 16(%rsp)\n"
    "    mov %rdi, -8(%rbp)\n"
    "    mov %rsi, %rdi\n"
    "    call *-8(%rbp)\n"
    "    mov %rax, %rdi\n"
    "    call *16(%rsp)\n"
    "    mov %rax, %rdi\n"
    "    mov $2, %ecx\n"
    "    call *(%rsp,%rcx,8)\n"
    "    leave\n"
    "    ret\n"
    ".size hp_call_rsp_reg, .-hp_call_rsp_reg\n"
    ".popsection\n");

static uint64_t square_plus(uint64_t x) { return x * x + 7; }
static uint64_t shuffle(uint64_t x) { return (x << 13 | x >> 51) ^ 0x9e3779b97f4a7c15ull; }

/* a C callee that itself uses the stack heavily and calls libc */
static uint64_t stacky(uint64_t x)
{
    char buf[200];
    int n = snprintf(buf, sizeof buf, "%llu-%llx", (unsigned long long)x, (unsigned long long)x);
    uint64_t h = (uint64_t)n;
    for (int i = 0; i < n; i++)
        h = h * 131 + (unsigned char)buf[i];
    return h;
}

/* checks that rsp is 16-byte aligned at the call, as the ABI requires */
static uint64_t align_probe(uint64_t x)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    return x * 10 + (sp % 16 == 0);
}

static const fn_t targets[] = {square_plus, shuffle, stacky, align_probe};

int main(void)
{
    for (int t = 0; t < 4; t++) {
        fn_t f = targets[t];
        hp_global_fn = f;
        printf("target %d: rsp8=%llu rsp0=%llu redzone=%llu global=%llu frame=%llu\n", t,
               (unsigned long long)hp_call_rsp8(f, 12345), (unsigned long long)hp_call_rsp0(f, 12345),
               (unsigned long long)hp_jmp_redzone(f, 12345), (unsigned long long)hp_call_global(12345),
               (unsigned long long)hp_call_rsp_reg(f, 12345));
    }
    for (uint64_t x = 0; x < 4; x++)
        printf("push_pop_mem(%llu) = %llu push_ret = %llu\n", (unsigned long long)x,
               (unsigned long long)hp_push_pop_mem(x), (unsigned long long)hp_push_ret(x));
    uint64_t acc = 0;
    for (uint64_t i = 0; i < 50000; i++) {
        fn_t f = targets[i % 3 == 2 ? 1 : i % 3];
        switch (i & 3) {
        case 0: acc += hp_call_rsp8(f, acc ^ i); break;
        case 1: acc += hp_call_rsp0(f, acc + i); break;
        case 2: acc ^= hp_jmp_redzone(f, i); break;
        default: acc += hp_push_pop_mem(i) + hp_push_ret(acc); break;
        }
    }
    printf("loop acc = %016llx\n", (unsigned long long)acc);
    return 0;
}
