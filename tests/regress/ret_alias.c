/* Two call sites whose return addresses share their low 16 bits (64 KiB
 * apart), called in turn: a return table indexed by 16 bits sends every
 * return to the other call's continuation, which must notice and go on
 * at the right place (hotpath's continuation check); one indexed by 18
 * bits gives each its own entry (tests/counters/ret_alias_test.sh counts
 * the returns that reached another call's continuation). The result
 * depends on every return landing where it should. */
#include <stdio.h>

__attribute__((used, noinline)) static long leaf(long x) { return x * 3 + 1; }

long site_a(long x);
long site_b(long x);

/* Each site: sub rsp (4 bytes), call (5 bytes), so both return addresses
 * are at +9 from 64 KiB-aligned starts 64 KiB apart. */
__asm__(".text\n"
        ".p2align 16\n"
        ".globl site_a\n"
        ".type site_a, @function\n"
        "site_a:\n"
        "  sub $8, %rsp\n"
        "  call leaf\n"
        "  add $8, %rsp\n"
        "  ret\n"
        ".size site_a, . - site_a\n"
        ".p2align 16\n"
        ".globl site_b\n"
        ".type site_b, @function\n"
        "site_b:\n"
        "  sub $8, %rsp\n"
        "  call leaf\n"
        "  add $8, %rsp\n"
        "  ret\n"
        ".size site_b, . - site_b\n");

int main(void)
{
    unsigned long s = 0;
    for (long i = 0; i < 400000; i++)
        s = s * 31 + (unsigned long)site_a(i) + (unsigned long)site_b(i ^ 5);
    printf("ret_alias: %lu\n", s);
    return 0;
}
