/* bigstack: 200 KB local arrays, nested large frames, alloca in loops and
 * variable-length arrays. */
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static uint64_t big_frame(int seed)
{
    volatile unsigned char buf[200 * 1024];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 31 + (size_t)seed);
    uint64_t h = 0;
    for (size_t i = 0; i < sizeof buf; i += 97)
        h = h * 1099511628211ull + buf[i];
    return h;
}

__attribute__((noinline)) static uint64_t nested_frames(int depth)
{
    long arr[12 * 1024];   /* 96 KB per level */
    for (int i = 0; i < 12 * 1024; i++)
        arr[i] = (long)i * depth;
    uint64_t below = depth > 0 ? nested_frames(depth - 1) : 0;
    uint64_t s = 0;
    for (int i = 0; i < 12 * 1024; i += 3)
        s += (uint64_t)arr[i];
    return s ^ (below << 1);
}

__attribute__((noinline)) static uint64_t use_alloca(size_t n)
{
    unsigned *p = alloca(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned)(i * i + n);
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i] ^ (unsigned)i;
    return s;
}

__attribute__((noinline)) static double use_vla(int rows, int cols)
{
    double m[rows][cols];
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            m[i][j] = (i + 1) * 0.5 - j * 0.25;
    double tr = 0;
    for (int i = 0; i < rows && i < cols; i++)
        tr += m[i][i] * m[rows - 1 - i][cols - 1 - i];
    return tr;
}

__attribute__((noinline)) static int alloca_loop(void)
{
    /* alloca inside a loop: memory accumulates until the function returns */
    char *ptrs[20];
    int ok = 1;
    for (int i = 0; i < 20; i++) {
        ptrs[i] = alloca(1000 + i * 100);
        memset(ptrs[i], 'a' + i, 1000 + (size_t)i * 100);
    }
    for (int i = 0; i < 20; i++)
        for (int k = 0; k < 1000 + i * 100; k += 50)
            ok &= ptrs[i][k] == 'a' + i;
    return ok;
}

int main(void)
{
    for (int s = 0; s < 3; s++)
        printf("big_frame(%d) = %016llx\n", s, (unsigned long long)big_frame(s));
    printf("nested_frames(10) = %016llx\n", (unsigned long long)nested_frames(10));
    uint64_t t = 0;
    for (size_t n = 1; n < 60000; n = n * 2 + 1)
        t = t * 7 + use_alloca(n);
    printf("alloca = %llu\n", (unsigned long long)t);
    printf("vla = %.17g %.17g\n", use_vla(50, 70), use_vla(300, 40));
    printf("alloca loop ok = %d\n", alloca_loop());
    return 0;
}
