/* loops: for/while/do-while, nested loops, break/continue, integer wraparound,
 * sieve, matrix multiply, collatz; prints checksums of each. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 40

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static int sieve(int n)
{
    static unsigned char comp[100001];
    int count = 0;
    memset(comp, 0, sizeof comp);
    for (int i = 2; i <= n; i++) {
        if (comp[i])
            continue;
        count++;
        for (long j = (long)i * i; j <= n; j += i)
            comp[j] = 1;
    }
    return count;
}

static uint64_t matmul(void)
{
    static int64_t a[N][N], b[N][N], c[N][N];
    uint32_t s = 42;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (int64_t)(lcg(&s) % 201) - 100;
            b[i][j] = (int64_t)(lcg(&s) % 201) - 100;
        }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int64_t acc = 0;
            for (int k = 0; k < N; k++)
                acc += a[i][k] * b[k][j];
            c[i][j] = acc;
        }
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            h = (h ^ (uint64_t)c[i][j]) * 1099511628211ull;
    return h;
}

static int collatz_max(int limit, int *arg)
{
    int best = 0;
    for (int n = 1; n < limit; n++) {
        uint64_t x = (uint64_t)n;
        int steps = 0;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x / 2;
            steps++;
        }
        if (steps > best) {
            best = steps;
            *arg = n;
        }
    }
    return best;
}

int main(void)
{
    /* wraparound of narrow unsigned types */
    uint8_t u8 = 0;
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    for (int i = 0; i < 100000; i++) {
        u8 += (uint8_t)(i * 7);
        u16 += (uint16_t)(i * 13);
        u32 += (uint32_t)i * 2654435761u;
    }
    printf("wrap: u8=%u u16=%u u32=%u\n", u8, u16, u32);

    /* signed arithmetic and division semantics */
    long sdiv = 0, smod = 0;
    for (int i = -500; i <= 500; i++) {
        if (i == 0)
            continue;
        sdiv += 100000 / i;
        smod += 100003 % i + (-100003) % i;
    }
    printf("div: %ld mod: %ld\n", sdiv, smod);

    /* while with break */
    int w = 0, iters = 0;
    while (1) {
        w = (w * 31 + 7) % 1009;
        iters++;
        if (w == 0 || iters > 5000)
            break;
    }
    printf("while: w=%d iters=%d\n", w, iters);

    /* do-while, shifts, rotates */
    uint64_t x = 0x0123456789abcdefull;
    int k = 0;
    do {
        x = (x << 7) | (x >> 57);
        x ^= x >> 13;
        x += (uint64_t)k;
        k++;
    } while (k < 1000);
    printf("rot: %016llx\n", (unsigned long long)x);

    /* nested with continue/break labels */
    int pairs = 0;
    for (int i = 0; i < 200; i++) {
        if (i % 3 == 0)
            continue;
        for (int j = i; j < 200; j++) {
            if ((i ^ j) == 77)
                break;
            if ((i + j) % 5 == 0)
                pairs++;
        }
    }
    printf("pairs: %d\n", pairs);

    printf("primes<=100000: %d\n", sieve(100000));
    printf("matmul hash: %016llx\n", (unsigned long long)matmul());
    int arg = 0;
    int steps = collatz_max(30000, &arg);
    printf("collatz: n=%d steps=%d\n", arg, steps);

    /* backwards loop with unsigned index */
    unsigned sum = 0;
    for (unsigned i = 1000; i-- > 0;)
        sum += i * (i & 3);
    printf("backwards: %u\n", sum);
    return 0;
}
