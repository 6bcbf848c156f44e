/* avxstr: glibc string/memory functions on long buffers at many alignments
 * and lengths.  glibc picks AVX2/EVEX (or SSE2) implementations via ifunc,
 * so this exercises wide vector loads/stores, vpcmpeqb/vpmovmskb/tzcnt style
 * code and page-crossing logic. */
#define _GNU_SOURCE /* memrchr, rawmemchr */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define BIG (1u << 20)

static uint32_t fnv(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i += 61)
        h = (h ^ s[i]) * 16777619u;
    return h ^ (uint32_t)n;
}

static long off(const void *p, const void *base)
{
    return p ? (long)((const char *)p - (const char *)base) : -1L;
}

int main(void)
{
    unsigned char *a = malloc(BIG + 256), *b = malloc(BIG + 256);
    for (size_t i = 0; i < BIG + 256; i++)
        a[i] = (unsigned char)(i * 131 + (i >> 9));
    uint32_t h = 0;
    for (unsigned al = 0; al < 64; al += 7) {
        memset(b, 0, BIG + 256);
        memcpy(b + al, a + (63 - al), BIG - al * 1000);
        h = h * 31 + fnv(b, BIG + 256);
        memset(b + al * 3, (int)al, BIG / 2 + al);
        h = h * 31 + fnv(b, BIG + 256);
    }
    printf("memcpy/memset hash %08x\n", h);

    /* memmove, both directions, large overlap */
    memcpy(b, a, BIG);
    memmove(b + 33, b, BIG - 100);
    h = fnv(b, BIG);
    memmove(b, b + 4097, BIG - 5000);
    printf("memmove hash %08x %08x\n", h, fnv(b, BIG));

    /* memcmp: difference at many positions */
    memcpy(b, a, BIG);
    long cmpsum = 0;
    for (size_t pos = 1; pos < BIG; pos = pos * 3 + 1) {
        b[pos] ^= 0x40;
        int c = memcmp(a, b, BIG);
        cmpsum = cmpsum * 3 + (c > 0) - (c < 0);
        cmpsum += memcmp(a, b, pos) == 0;
        b[pos] ^= 0x40;
    }
    printf("memcmp sum %ld equal %d\n", cmpsum, memcmp(a, b, BIG) == 0);

    /* strings: long NUL-terminated text */
    char *s = malloc(BIG + 64);
    for (size_t i = 0; i < BIG; i++)
        s[i] = (char)('a' + (i * 7 + i / 26) % 26);
    s[BIG] = 0;
    long lens = 0;
    for (unsigned al = 0; al < 64; al++) {
        s[BIG - al * 4099] = 0;
        lens += (long)strlen(s + al);
        lens += (long)strnlen(s + al, 100000 + al);
        s[BIG - al * 4099] = 'q';
    }
    s[BIG] = 0;
    printf("strlen sum %ld\n", lens);

    s[BIG - 10] = '#';
    s[BIG / 2] = '@';
    printf("strchr # %ld @ %ld none %ld nul %ld\n", off(strchr(s, '#'), s), off(strchr(s + 1, '@'), s),
           off(strchr(s, '!'), s), off(strchr(s, 0), s));
    printf("strrchr a %ld memchr # %ld memrchr @ %ld rawmemchr # %ld\n", off(strrchr(s, 'a'), s),
           off(memchr(s, '#', BIG), s), off(memrchr(s, '@', BIG), s), off(rawmemchr(s + 7, '#'), s));

    char *t = malloc(BIG + 64);
    strcpy(t, s);
    printf("strcmp equal %d\n", strcmp(s, t) == 0);
    t[BIG - 3] = 'A';
    int c1 = strcmp(s, t), c2 = strncmp(s, t, BIG - 3), c3 = strncmp(s, t, BIG - 2);
    printf("strcmp %d strncmp %d %d\n", (c1 > 0) - (c1 < 0), c2, (c3 > 0) - (c3 < 0));
    char *e = stpcpy(t + 5, s + 100);
    printf("stpcpy end %ld\n", off(e, t));
    /* strstr with a needle found only near the end */
    memcpy(s + BIG - 200, "needle-in-a-haystack", 20);
    printf("strstr %ld %ld\n", off(strstr(s, "needle-in-a-haystack"), s), off(strstr(s, "needle-in-b"), s));
    printf("strspn %zu strcspn %zu\n", strspn(s, "abcdefghijklmnopqrstuvwxyz"), strcspn(s, "#@"));

    /* wide chars */
    wchar_t *w = malloc((BIG / 4 + 1) * sizeof *w);
    wmemset(w, L'x', BIG / 4);
    w[BIG / 4] = 0;
    w[BIG / 8] = L'y';
    printf("wcslen %zu wcschr %ld wmemchr %ld\n", wcslen(w), (long)(wcschr(w, L'y') - w),
           (long)(wmemchr(w, L'y', BIG / 4) - w));
    free(w);
    free(t);
    free(s);
    free(a);
    free(b);
    return 0;
}
