/* deeprec: recursion 100000 frames deep (a few MB of the 8 MB stack),
 * non-tail so the compiler cannot turn it into a loop, plus deep mutual
 * recursion and a deep recursion through a function pointer. */
#include <stdint.h>
#include <stdio.h>

#define DEPTH 100000

static uint64_t trace[DEPTH + 1];

__attribute__((noinline)) static uint64_t down(int n, uint64_t salt)
{
    if (n == 0)
        return salt;
    uint64_t r = down(n - 1, salt * 6364136223846793005ull + (uint64_t)n);
    __asm__ volatile("" : "+r"(r) : : "memory");   /* keep the call non-tail */
    trace[n] = r;
    return (r ^ (uint64_t)n) * 31;
}

static int is_even(int n);
__attribute__((noinline)) static int is_odd(int n)
{
    int r = n == 0 ? 0 : is_even(n - 1);
    __asm__ volatile("" : "+r"(r) : : "memory");
    return r;
}
__attribute__((noinline)) static int is_even(int n)
{
    int r = n == 0 ? 1 : is_odd(n - 1);
    __asm__ volatile("" : "+r"(r) : : "memory");
    return r;
}

static long (*volatile self_ptr)(long);
__attribute__((noinline)) static long via_pointer(long n)
{
    if (n == 0)
        return 0;
    long r = self_ptr(n - 1);
    __asm__ volatile("" : "+r"(r) : : "memory");
    return r + (n & 7);
}

int main(void)
{
    uint64_t r = down(DEPTH, 1);
    uint64_t h = 0;
    for (int i = 1; i <= DEPTH; i += 997)
        h = h * 131 + trace[i];
    printf("down(%d) = %016llx trace hash %016llx\n", DEPTH, (unsigned long long)r, (unsigned long long)h);
    printf("is_even(%d) = %d is_odd(%d) = %d\n", DEPTH, is_even(DEPTH), DEPTH - 1, is_odd(DEPTH - 1));
    self_ptr = via_pointer;
    printf("via_pointer(%d) = %ld\n", DEPTH, via_pointer(DEPTH));
    /* repeat to make sure the stack is reusable */
    uint64_t acc = 0;
    for (int k = 0; k < 5; k++)
        acc ^= down(DEPTH - k * 1000, (uint64_t)k);
    printf("repeat acc = %016llx\n", (unsigned long long)acc);
    return 0;
}
