/* nested: GCC nested functions whose address escapes (to qsort, bsearch and
 * a local callback), which makes gcc build a trampoline on the stack and
 * call through it; needs an executable stack (-Wl,-z,execstack). */
#include <stdio.h>
#include <stdlib.h>

static void apply(int *v, int n, void (*fn)(int *))
{
    for (int i = 0; i < n; i++)
        fn(&v[i]);
}

static long sort_with(int *v, int n, int descending, int modulus)
{
    long calls = 0;
    int cmp(const void *pa, const void *pb)
    {
        int x = *(const int *)pa % modulus, y = *(const int *)pb % modulus;
        calls++;
        if (x == y) {
            x = *(const int *)pa;
            y = *(const int *)pb;
        }
        return descending ? (y > x) - (y < x) : (x > y) - (x < y);
    }
    qsort(v, (size_t)n, sizeof *v, cmp);
    int key = v[n / 2];
    int *found = bsearch(&key, v, (size_t)n, sizeof *v, cmp);
    return found ? (calls > 0) + (found == &v[n / 2]) * 2 : -1;
}

static long outer(int depth, int seed)
{
    int total = seed;
    void add_depth(int *x)
    {
        *x += depth * 10 + total % 7;
        total += *x % 100;
    }
    int v[8];
    for (int i = 0; i < 8; i++)
        v[i] = i * seed;
    apply(v, 8, add_depth);
    long r = total;
    for (int i = 0; i < 8; i++)
        r = r * 3 + v[i];
    if (depth > 0)
        r += outer(depth - 1, seed + 1) % 100000;
    return r;
}

int main(void)
{
    enum { N = 2000 };
    int *v = malloc(N * sizeof *v);
    unsigned s = 7;
    for (int i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        v[i] = (int)(s >> 8) % 100000;
    }
    for (int mode = 0; mode < 4; mode++) {
        int desc = mode & 1, mod = mode & 2 ? 1000 : 1000000;
        long r = sort_with(v, N, desc, mod);
        unsigned long h = 0;
        for (int i = 0; i < N; i++)
            h = h * 31 + (unsigned)v[i];
        printf("sort desc=%d mod=%d: result=%ld first=%d last=%d hash=%016lx\n", desc, mod, r, v[0], v[N - 1], h);
    }
    for (int d = 0; d < 4; d++)
        printf("outer(%d) = %ld\n", d, outer(d, 5));
    free(v);
    return 0;
}
