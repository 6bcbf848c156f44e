/* avx512: functions compiled with __attribute__((target("avx512f"))) using
 * 512-bit intrinsics (zmm registers, opmask k-registers, masked loads and
 * stores, compress, reductions), selected at run time with
 * __builtin_cpu_supports("avx512f").  A scalar fallback computes bit-identical
 * results, so the output is the same on machines without AVX-512 and never
 * says which path ran. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>

#define N 1000   /* not a multiple of 16: exercises masked tails */

static int32_t a[N], b[N], out[N];
static double da[N], db[N];

/* out[i] = a[i] > b[i] ? a[i] - b[i] : a[i] * 3; returns sum */
__attribute__((target("avx512f"), noinline)) static int64_t kernel_avx512(void)
{
    __m512i acc_lo = _mm512_setzero_si512(), acc_hi = _mm512_setzero_si512();
    int i = 0;
    for (; i < N; i += 16) {
        int left = N - i;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512i va = _mm512_maskz_loadu_epi32(m, a + i);
        __m512i vb = _mm512_maskz_loadu_epi32(m, b + i);
        __mmask16 gt = _mm512_mask_cmpgt_epi32_mask(m, va, vb);
        __m512i diff = _mm512_sub_epi32(va, vb);
        __m512i tri = _mm512_mullo_epi32(va, _mm512_set1_epi32(3));
        __m512i r = _mm512_mask_blend_epi32(gt, tri, diff);
        _mm512_mask_storeu_epi32(out + i, m, r);
        r = _mm512_maskz_mov_epi32(m, r);
        acc_lo = _mm512_add_epi64(acc_lo, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(r)));
        acc_hi = _mm512_add_epi64(acc_hi, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(r, 1)));
    }
    return _mm512_reduce_add_epi64(_mm512_add_epi64(acc_lo, acc_hi));
}

static int64_t kernel_scalar(void)
{
    int64_t s = 0;
    for (int i = 0; i < N; i++) {
        out[i] = a[i] > b[i] ? a[i] - b[i] : a[i] * 3;
        s += out[i];
    }
    return s;
}

/* count of elements with (a & 0xf) == 0, written compressed to dst */
__attribute__((target("avx512f"), noinline)) static int compress_avx512(int32_t *dst)
{
    int n = 0;
    for (int i = 0; i < N; i += 16) {
        int left = N - i;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512i va = _mm512_maskz_loadu_epi32(m, a + i);
        __mmask16 z = _mm512_mask_testn_epi32_mask(m, va, _mm512_set1_epi32(0xf));
        _mm512_mask_compressstoreu_epi32(dst + n, z, va);
        n += __builtin_popcount(z);
    }
    return n;
}

static int compress_scalar(int32_t *dst)
{
    int n = 0;
    for (int i = 0; i < N; i++)
        if ((a[i] & 0xf) == 0)
            dst[n++] = a[i];
    return n;
}

/* exact double arithmetic (values are small integers/halves): sum of da*db+da */
__attribute__((target("avx512f"), noinline)) static double dsum_avx512(void)
{
    __m512d acc = _mm512_setzero_pd();
    int i = 0;
    for (; i + 8 <= N; i += 8) {
        __m512d x = _mm512_loadu_pd(da + i), y = _mm512_loadu_pd(db + i);
        acc = _mm512_add_pd(acc, _mm512_add_pd(_mm512_mul_pd(x, y), x));
    }
    double s = _mm512_reduce_add_pd(acc);
    for (; i < N; i++)
        s += da[i] * db[i] + da[i];
    return s;
}

static double dsum_scalar(void)
{
    double s = 0;
    for (int i = 0; i < N; i++)
        s += da[i] * db[i] + da[i];
    return s;
}

static uint32_t hash(const int32_t *p, int n)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; i++)
        h = (h ^ (uint32_t)p[i]) * 16777619u;
    return h;
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        a[i] = (int32_t)((i * 2654435761u) >> 16) - 30000;
        b[i] = (i * 37) % 2001 - 1000;
        da[i] = (i % 50) * 0.5;
        db[i] = (double)(i % 7);
    }
    int have = __builtin_cpu_supports("avx512f");
    int64_t s = have ? kernel_avx512() : kernel_scalar();
    printf("kernel sum %lld hash %08x\n", (long long)s, hash(out, N));
    static int32_t comp[N];
    int n = have ? compress_avx512(comp) : compress_scalar(comp);
    printf("compress n=%d hash %08x\n", n, hash(comp, n));
    double d = have ? dsum_avx512() : dsum_scalar();
    printf("dsum %.17g\n", d);
    /* cross-check against the scalar path: must agree on every machine */
    static int32_t out2[N], comp2[N];
    int32_t saved[N];
    __builtin_memcpy(saved, out, sizeof out);
    int64_t s2 = kernel_scalar();
    __builtin_memcpy(out2, out, sizeof out);
    int n2 = compress_scalar(comp2);
    printf("paths agree: %d %d %d %d\n", s == s2, __builtin_memcmp(saved, out2, sizeof out2) == 0,
           n == n2 && __builtin_memcmp(comp, comp2, (size_t)n * sizeof *comp) == 0, d == dsum_scalar());
    int64_t acc = 0;
    for (int r = 0; r < 200; r++) {
        a[r] += r;
        acc += have ? kernel_avx512() : kernel_scalar();
    }
    printf("acc %lld\n", (long long)acc);
    return 0;
}
