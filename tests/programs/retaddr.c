/* retaddr: __builtin_return_address(0) must be the real (untranslated)
 * return address.  Callers live in their own section so the linker provides
 * __start_/__stop_ bounds; an asm caller exports the exact address after its
 * call.  Only booleans are printed, never addresses. */
#include <stdint.h>
#include <stdio.h>

extern const char __start_hp_retaddr_text[], __stop_hp_retaddr_text[];

static void *last_ra;

__attribute__((noipa)) void *hp_probe(void)
{
    void *ra = __builtin_extract_return_addr(__builtin_return_address(0));
    last_ra = ra;
    return ra;
}

__attribute__((noipa)) static int probe_and_count(int n)
{
    hp_probe();
    return n + 1;
}

#define IN_SECTION(p) \
    ((const char *)(p) > __start_hp_retaddr_text && (const char *)(p) <= __stop_hp_retaddr_text)

__attribute__((noipa, section("hp_retaddr_text"))) static int direct_caller(int x)
{
    void *ra = hp_probe();
    __asm__ volatile("" ::: "memory");
    return x + IN_SECTION(ra);
}

__attribute__((noipa, section("hp_retaddr_text"))) static int indirect_caller(void *(*volatile fp)(void))
{
    void *ra = fp();
    __asm__ volatile("" ::: "memory");
    return IN_SECTION(ra);
}

__attribute__((noipa, section("hp_retaddr_text"))) static int recursive_caller(int depth)
{
    if (depth == 0) {
        void *ra = hp_probe();
        __asm__ volatile("" ::: "memory");
        return IN_SECTION(ra);
    }
    int r = recursive_caller(depth - 1);
    __asm__ volatile("" ::: "memory");
    return r;
}

/* Returns its own return address, as seen by a C function */
__attribute__((noipa)) static uintptr_t my_return_address(void)
{
    return (uintptr_t)__builtin_return_address(0);
}

/* asm caller: call hp_probe; the exact return address is hp_ra_site */
void *hp_asm_caller(void);
extern const char hp_ra_site[], hp_ra_call[];
uint64_t hp_read_ret_slot(void);
extern const char hp_ra_site2[];

__asm__(
    ".pushsection .text\n"
    ".globl hp_asm_caller\n"
    ".type hp_asm_caller, @function\n"
    "hp_asm_caller:\n"
    "    sub $8, %rsp\n"
    ".globl hp_ra_call\n"
    "hp_ra_call:\n"
    "    call hp_probe\n"
    ".globl hp_ra_site\n"
    "hp_ra_site:\n"
    "    add $8, %rsp\n"
    "    ret\n"
    ".size hp_asm_caller, .-hp_asm_caller\n"

    /* reads the return address slot directly with mov (%rsp) */
    ".type hp_ret_slot_callee, @function\n"
    "hp_ret_slot_callee:\n"
    "    mov (%rsp), %rax\n"
    "    ret\n"
    ".size hp_ret_slot_callee, .-hp_ret_slot_callee\n"
    ".globl hp_read_ret_slot\n"
    ".type hp_read_ret_slot, @function\n"
    "hp_read_ret_slot:\n"
    "    call hp_ret_slot_callee\n"
    ".globl hp_ra_site2\n"
    "hp_ra_site2:\n"
    "    ret\n"
    ".size hp_read_ret_slot, .-hp_read_ret_slot\n"
    ".popsection\n");

int main(void)
{
    printf("direct caller in range: %d\n", direct_caller(0));
    printf("indirect caller in range: %d\n", indirect_caller(hp_probe));
    printf("recursive caller in range: %d\n", recursive_caller(50));
    void *ra = hp_asm_caller();
    printf("asm call site exact: %d\n", ra == (void *)hp_ra_site);
    printf("return slot exact: %d\n", hp_read_ret_slot() == (uint64_t)(uintptr_t)hp_ra_site2);
    /* the byte before a direct call's return address: E8 rel32 */
    const unsigned char *call_insn = (const unsigned char *)(uintptr_t)hp_ra_call;
    printf("asm site preceded by call rel32: %d\n",
           call_insn[0] == 0xe8 && (uintptr_t)hp_ra_site - (uintptr_t)hp_ra_call == 5);
    uintptr_t r = my_return_address();
    printf("main's call site outside probe section: %d, in main's neighbourhood: %d\n",
           !IN_SECTION(r), r > (uintptr_t)main && r < (uintptr_t)main + 0x10000);
    int ok = 0;
    for (int i = 0; i < 10000; i++)
        ok += direct_caller(0) + indirect_caller(hp_probe) + (hp_asm_caller() == (void *)hp_ra_site);
    printf("loop ok count: %d\n", ok);
    int pc = probe_and_count(41);
    printf("probe_and_count: %d, last ra outside section: %d\n", pc, !IN_SECTION(last_ra));
    return 0;
}
