/* vecv3: built with -march=x86-64-v3 (AVX2, FMA, BMI1/2, MOVBE...).  At -O2
 * (plus -fvect-cost-model=dynamic, since gcc 12's default -O2 "very cheap"
 * model refuses loops that need a scalar epilogue) gcc auto-vectorizes these
 * loops with 256-bit ymm code; at -O0 the scalar code still uses VEX
 * encodings.  (FMA contraction may make -O0 and -O2
 * results differ from each other; each binary is only compared with itself.) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 4099   /* odd length: vector body plus scalar epilogue */

static int32_t ia[N], ib[N], ic[N];
static float fa[N], fb[N], fc[N];
static double da[N], db[N];
static int16_t sa[N], sb[N];
static uint8_t ba[N], bb[N];

__attribute__((noinline)) static void int_ops(void)
{
    for (int i = 0; i < N; i++)
        ic[i] = ia[i] * ib[i] + (ia[i] >> 3) - (ib[i] & 0xff);
}

__attribute__((noinline)) static int64_t int_reduce(void)
{
    int64_t s = 0;
    for (int i = 0; i < N; i++)
        s += ic[i];
    return s;
}

__attribute__((noinline)) static int32_t int_max(void)
{
    int32_t m = ic[0];
    for (int i = 1; i < N; i++)
        m = ic[i] > m ? ic[i] : m;
    return m;
}

__attribute__((noinline)) static void saxpy(float alpha)
{
    for (int i = 0; i < N; i++)
        fc[i] = alpha * fa[i] + fb[i];
}

__attribute__((noinline)) static void dscale(double k)
{
    for (int i = 0; i < N; i++)
        da[i] = da[i] * k + db[i] / (1.0 + (double)i);
}

__attribute__((noinline)) static int32_t dot16(void)
{
    int32_t s = 0;
    for (int i = 0; i < N; i++)
        s += (int32_t)sa[i] * sb[i];
    return s;
}

__attribute__((noinline)) static void select_bytes(void)
{
    for (int i = 0; i < N; i++)
        bb[i] = ba[i] > 100 ? (uint8_t)(ba[i] - 100) : (uint8_t)(ba[i] + bb[i]);
}

__attribute__((noinline)) static void gather_like(const int32_t *idx)
{
    for (int i = 0; i < N; i++)
        ib[i] = ia[idx[i]] + 1;
}

__attribute__((noinline)) static uint64_t bmi_mix(uint64_t x)
{
    /* with -march=x86-64-v3 these become andn/blsr/tzcnt/lzcnt/shlx/rorx/pext-free code */
    uint64_t r = 0;
    for (int i = 0; i < 64; i++) {
        r += (uint64_t)__builtin_ctzll(x | 1) + (uint64_t)__builtin_clzll(x | 1);
        r ^= (x & (x - 1)) + (~x & r);
        r += x << (i & 31);
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    }
    return r;
}

static uint32_t fhash(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        ia[i] = (int32_t)((i * 2654435761u) >> 12) - 500000;
        ib[i] = (i * 7) % 1001 - 500;
        fa[i] = (float)i * 0.25f - 100.0f;
        fb[i] = (float)(i % 97) / 8.0f;
        da[i] = i * 0.001;
        db[i] = (i % 13) * 1.5;
        sa[i] = (int16_t)((i * 37) % 2001 - 1000);
        sb[i] = (int16_t)((i * 91) % 401 - 200);
        ba[i] = (uint8_t)(i * 13);
        bb[i] = (uint8_t)(i * 5);
    }
    int_ops();
    printf("int_ops hash %08x sum %lld max %d\n", fhash(ic, sizeof ic), (long long)int_reduce(), int_max());
    saxpy(1.5f);
    printf("saxpy hash %08x fc[100]=%.9g fc[N-1]=%.9g\n", fhash(fc, sizeof fc), (double)fc[100], (double)fc[N - 1]);
    for (int r = 0; r < 10; r++)
        dscale(0.999);
    printf("dscale hash %08x da[N-1]=%.17g\n", fhash(da, sizeof da), da[N - 1]);
    printf("dot16 %d\n", dot16());
    for (int r = 0; r < 5; r++)
        select_bytes();
    printf("select hash %08x\n", fhash(bb, sizeof bb));
    static int32_t idx[N];
    for (int i = 0; i < N; i++)
        idx[i] = (int32_t)((i * 1103515245u + 12345u) % N);
    gather_like(idx);
    printf("gather hash %08x\n", fhash(ib, sizeof ib));
    printf("bmi %016llx\n", (unsigned long long)bmi_mix(0x123456789abcdefull));
    return 0;
}
