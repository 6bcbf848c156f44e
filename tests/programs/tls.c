/* tls: __thread variables in the main thread: initialized and zeroed,
 * static and extern linkage, arrays indexed at run time, structs, address
 * taken and passed around, recursion updating a TLS counter. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

__thread int tls_counter;                       /* .tbss */
__thread long tls_init = 0x1122334455667788L;   /* .tdata */
static __thread int tls_array[64] = {1, 2, 3};
static __thread char tls_name[32] = "initial";
static __thread struct { double d; short s[5]; } tls_struct = {2.5, {1, 2, 3, 4, 5}};
static __thread unsigned char tls_big[100000];  /* large .tbss */
static int plain_global = 7;

__attribute__((noinline)) static int *counter_addr(void)
{
    return &tls_counter;
}

__attribute__((noinline)) static long rec(int n)
{
    tls_counter++;
    tls_array[n % 64] += n;
    if (n == 0)
        return tls_init & 0xff;
    return rec(n - 1) + tls_counter % 13;
}

__attribute__((noinline)) static void bump(int *p, int by)
{
    *p += by;
}

int main(void)
{
    printf("initial: counter=%d init=%lx array[0..3]=%d,%d,%d,%d name=%s struct=%g/%d\n",
           tls_counter, tls_init, tls_array[0], tls_array[1], tls_array[2], tls_array[3],
           tls_name, tls_struct.d, tls_struct.s[4]);
    int nz = 0;
    for (size_t i = 0; i < sizeof tls_big; i++)
        nz += tls_big[i] != 0;
    printf("tbss zero: %d\n", nz == 0);

    long rv = rec(1000);
    printf("rec: %ld counter=%d\n", rv, tls_counter);
    long s = 0;
    for (int i = 0; i < 64; i++)
        s += (long)tls_array[i] * (i + 1);
    printf("array checksum: %ld\n", s);

    volatile int idx = 17;
    for (int i = 0; i < 100000; i++) {
        tls_array[(idx + i) & 63] ^= i;
        tls_big[(unsigned)(i * 7919) % sizeof tls_big] += (unsigned char)i;
    }
    uint32_t h = 0;
    for (size_t i = 0; i < sizeof tls_big; i++)
        h = h * 31 + tls_big[i];
    uint64_t u = 0;
    for (int i = 0; i < 64; i++)
        u = u * 3 + (uint64_t)(int64_t)tls_array[i];
    printf("after loop: array=%016llx big=%08x\n", (unsigned long long)u, h);

    int *p = counter_addr();
    printf("address of tls var stable: %d is tls: %d\n", p == &tls_counter, p == counter_addr());
    bump(p, 1000);
    bump(&plain_global, 3);
    printf("via pointer: counter=%d plain=%d\n", tls_counter, plain_global);

    strcat(tls_name, "+more");
    tls_struct.d *= tls_struct.s[2];
    tls_init -= 0x1111;
    printf("modified: name=%s d=%g init=%lx\n", tls_name, tls_struct.d, tls_init);
    return 0;
}
