/* inlineasm: arithmetic and string instructions via inline asm: bsr/bsf,
 * popcnt, crc32, adc/sbb chains, mul/div 128-bit, imul, shld/shrd, rol/rcl,
 * bt*, bswap, xchg, cmpxchg, cmpxchg16b, lock xadd, setcc/cmov, rep
 * movsb/stosb/movsq/cmpsb/scasb (forward and backward with std), xlat,
 * lahf/sahf, pushf/popf, cqo/cdq, enter/leave.  No cpuid/rdtsc. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef unsigned __int128 u128;

static int bsr64(uint64_t x) { uint64_t r; __asm__("bsr %1, %0" : "=r"(r) : "rm"(x) : "cc"); return (int)r; }
static int bsf64(uint64_t x) { uint64_t r; __asm__("bsf %1, %0" : "=r"(r) : "rm"(x) : "cc"); return (int)r; }
static int popcnt64(uint64_t x) { uint64_t r; __asm__("popcnt %1, %0" : "=r"(r) : "rm"(x) : "cc"); return (int)r; }

static uint32_t crc32_buf(const unsigned char *p, size_t n)
{
    uint64_t c = 0xffffffff;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        __asm__("crc32q %1, %0" : "+r"(c) : "rm"(w));
    }
    uint32_t c32 = (uint32_t)c;
    for (; i < n; i++)
        __asm__("crc32b %1, %0" : "+r"(c32) : "rm"(p[i]));
    return ~c32;
}

/* 256-bit add and sub with carry chains; returns final carry/borrow */
static int add256(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3];
    uint8_t c;
    __asm__("add %5, %0\n\tadc %6, %1\n\tadc %7, %2\n\tadc %8, %3\n\tsetc %4"
            : "+&r"(r0), "+&r"(r1), "+&r"(r2), "+&r"(r3), "=q"(c)
            : "rm"(b[0]), "rm"(b[1]), "rm"(b[2]), "rm"(b[3])
            : "cc");
    r[0] = r0; r[1] = r1; r[2] = r2; r[3] = r3;
    return c;
}

static int sub256(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3];
    uint8_t c;
    __asm__("sub %5, %0\n\tsbb %6, %1\n\tsbb %7, %2\n\tsbb %8, %3\n\tsetc %4"
            : "+&r"(r0), "+&r"(r1), "+&r"(r2), "+&r"(r3), "=q"(c)
            : "rm"(b[0]), "rm"(b[1]), "rm"(b[2]), "rm"(b[3])
            : "cc");
    r[0] = r0; r[1] = r1; r[2] = r2; r[3] = r3;
    return c;
}

static u128 mul64x64(uint64_t a, uint64_t b)
{
    uint64_t lo, hi;
    __asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "rm"(b) : "cc");
    return (u128)hi << 64 | lo;
}

static uint64_t div128(u128 n, uint64_t d, uint64_t *rem)
{
    uint64_t q, r;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"((uint64_t)n), "d"((uint64_t)(n >> 64)), "rm"(d) : "cc");
    *rem = r;
    return q;
}

static int64_t idiv_test(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q, r;
    __asm__("cqo\n\tidivq %3" : "=a"(q), "=&d"(r) : "a"(a), "rm"(b) : "cc");
    *rem = r;
    return q;
}

static uint64_t shifts(uint64_t a, uint64_t b, uint8_t n)
{
    uint64_t x = a, y = b, z = a, w = b;
    __asm__("shld %%cl, %1, %0" : "+r"(x) : "r"(b), "c"(n) : "cc");
    __asm__("shrd %%cl, %1, %0" : "+r"(y) : "r"(a), "c"(n) : "cc");
    __asm__("rol %%cl, %0\n\tror $13, %0" : "+r"(z) : "c"(n) : "cc");
    __asm__("stc\n\trcl $1, %0\n\tclc\n\trcr $3, %0" : "+r"(w) : : "cc");
    return x ^ (y * 3) ^ (z * 5) ^ (w * 7);
}

static uint64_t bit_ops(uint64_t x, uint64_t i)
{
    uint8_t c1, c2, c3;
    __asm__("bt %4, %3\n\tsetc %0\n\tbts %4, %3\n\tsetc %1\n\tbtr $5, %3\n\tbtc $63, %3\n\tsetc %2"
            : "=q"(c1), "=q"(c2), "=q"(c3), "+r"(x)
            : "r"(i)
            : "cc");
    uint32_t lo = (uint32_t)x;
    __asm__("bswap %0" : "+r"(x));
    __asm__("bswap %0" : "+r"(lo));
    return x ^ lo ^ (uint64_t)(c1 | c2 << 1 | c3 << 2) << 60;
}

static uint64_t atomics(void)
{
    uint64_t mem = 100, v = 7, old;
    __asm__ volatile("xchg %0, %1" : "+r"(v), "+m"(mem));          /* mem=7, v=100 */
    uint64_t add = 5;
    __asm__ volatile("lock xadd %0, %1" : "+r"(add), "+m"(mem) : : "cc"); /* add=7 mem=12 */
    uint64_t expected = 12, desired = 99;
    uint8_t ok1, ok2;
    __asm__ volatile("lock cmpxchg %3, %1\n\tsete %2" : "+a"(expected), "+m"(mem), "=q"(ok1) : "r"(desired) : "cc");
    old = expected;   /* unchanged 12 on success */
    expected = 12;
    __asm__ volatile("lock cmpxchg %3, %1\n\tsete %2" : "+a"(expected), "+m"(mem), "=q"(ok2) : "r"(desired) : "cc");
    /* expected now holds 99 (failure) */
    struct { uint64_t lo, hi; } __attribute__((aligned(16))) dq = {1, 2};
    uint64_t lo = 1, hi = 2, nlo = 0x1111, nhi = 0x2222;
    uint8_t ok3;
    __asm__ volatile("lock cmpxchg16b %1\n\tsete %2" : "+a"(lo), "+m"(dq), "=q"(ok3), "+d"(hi) : "b"(nlo), "c"(nhi) : "cc");
    (void)lo;
    return v * 1000000 + add * 10000 + mem * 100 + old + expected * 7 + ok1 * 3 + ok2 * 5 + ok3 * 11 + dq.lo + dq.hi;
}

static uint64_t strings_rep(void)
{
    unsigned char src[300], dst[300];
    for (int i = 0; i < 300; i++) src[i] = (unsigned char)(i * 7 + 3);
    memset(dst, 0, sizeof dst);
    void *d = dst + 3, *s = src + 1;
    size_t n = 250;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    uint64_t h = (uint64_t)((unsigned char *)d - dst) + n;
    d = dst + 260; n = 30;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(0xab) : "memory");
    uint64_t q[16] = {0}, qs[16];
    for (int i = 0; i < 16; i++) qs[i] = (uint64_t)i * 0x0101010101010101ull;
    d = q; s = qs; n = 16;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    /* backward copy with the direction flag set (overlapping, upward move) */
    d = dst + 199; s = dst + 149; n = 150;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    for (int i = 0; i < 300; i++) h = h * 31 + dst[i];
    for (int i = 0; i < 16; i++) h = h * 31 + q[i];
    /* repe cmpsb: find first mismatch */
    unsigned char x1[64], x2[64];
    memset(x1, 'a', 64);
    memset(x2, 'a', 64);
    x2[41] = 'b';
    const void *p1 = x1, *p2 = x2;
    n = 64;
    __asm__ volatile("repe cmpsb" : "+S"(p1), "+D"(p2), "+c"(n) : : "cc", "memory");
    h = h * 131 + n;
    /* repne scasb: strlen */
    const char *str = "hello, scasb world";
    const void *di = str;
    n = (size_t)-1;
    __asm__ volatile("repne scasb" : "+D"(di), "+c"(n) : "a"(0) : "cc", "memory");
    h = h * 131 + (~n - 1);
    return h;
}

static uint64_t misc(uint64_t x)
{
    uint64_t r = 0;
    /* setcc / cmov */
    uint64_t a = x, b = x * 3 + 1;
    __asm__("cmp %2, %1\n\tcmovb %2, %0\n\tcmova %1, %0" : "+r"(r) : "r"(a), "r"(b) : "cc");
    /* xlat */
    static const unsigned char table[256] = {[0] = 9, [1] = 8, [7] = 200, [255] = 77};
    uint64_t al = x & 0xff;
    const unsigned char *tb = table;
    __asm__("xlat" : "+a"(al) : "b"(tb));
    r += al & 0xff;
    /* lahf/sahf: set CF via sahf, read back with adc */
    uint64_t ah = 0x0100 | 0x4000 /* CF via bit0 of ah -> ah=1 */;
    uint64_t out = 0;
    __asm__("sahf\n\tadc $0, %0\n\tlahf" : "+r"(out), "+a"(ah) : : "cc");
    r += out + ((ah >> 8) & 0xd5);
    /* pushf/popf: read arithmetic flags after a subtraction.  Step over the
     * red zone first (this may be a leaf function with locals below rsp);
     * lea does not modify the flags. */
    uint64_t fl;
    __asm__("cmp %2, %1\n\tlea -128(%%rsp), %%rsp\n\tpushfq\n\tpopq %0\n\tlea 128(%%rsp), %%rsp"
            : "=r"(fl) : "r"(x), "r"(x + 5) : "cc");
    r += fl & 0x8d5;  /* CF PF AF ZF SF OF */
    /* cdq / movsx / neg / not / imul 3-op */
    int32_t e = (int32_t)(x * 2654435761u);
    int32_t edx;
    __asm__("cdq" : "=d"(edx) : "a"(e));
    int64_t im;
    __asm__("imul $-77, %1, %0" : "=r"(im) : "r"((int64_t)x) : "cc");
    r += (uint64_t)(int64_t)edx + (uint64_t)im;
    return r;
}

/* enter/leave in a top-level asm function */
uint64_t hp_enter_leave(uint64_t x);
__asm__(".pushsection .text\n"
        ".globl hp_enter_leave\n"
        ".type hp_enter_leave, @function\n"
        "hp_enter_leave:\n"
        "    enter $32, $0\n"
        "    mov %rdi, -8(%rbp)\n"
        "    lea 1(%rdi), %rax\n"
        "    mov %rax, -32(%rbp)\n"
        "    mov -8(%rbp), %rax\n"
        "    imul -32(%rbp), %rax\n"
        "    leave\n"
        "    ret\n"
        ".size hp_enter_leave, .-hp_enter_leave\n"
        ".popsection\n");

int main(void)
{
    static const uint64_t vals[] = {1, 2, 3, 0x80, 0xff00, 0x123456789abcdefull, 0x8000000000000000ull, ~0ull};
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++)
        printf("x=%016llx bsr=%d bsf=%d popcnt=%d\n", (unsigned long long)vals[i], bsr64(vals[i]), bsf64(vals[i]),
               popcnt64(vals[i]));
    unsigned char buf[1000];
    for (int i = 0; i < 1000; i++) buf[i] = (unsigned char)(i * 13 + 5);
    printf("crc32c %08x %08x\n", crc32_buf(buf, 1000), crc32_buf((const unsigned char *)"123456789", 9));

    uint64_t a[4] = {~0ull, ~0ull, 5, 0x8000000000000000ull}, b[4] = {1, 0, 7, 0x8000000000000000ull}, r[4];
    int c = add256(r, a, b);
    printf("add256 c=%d %016llx %016llx %016llx %016llx\n", c, (unsigned long long)r[3], (unsigned long long)r[2],
           (unsigned long long)r[1], (unsigned long long)r[0]);
    c = sub256(r, b, a);
    printf("sub256 c=%d %016llx %016llx %016llx %016llx\n", c, (unsigned long long)r[3], (unsigned long long)r[2],
           (unsigned long long)r[1], (unsigned long long)r[0]);

    u128 p = mul64x64(0xfedcba9876543210ull, 0x123456789abcdefull);
    uint64_t rem;
    uint64_t q = div128(p + 12345, 0x123456789abcdefull, &rem);
    printf("mul hi=%016llx lo=%016llx div q=%016llx rem=%llu\n", (unsigned long long)(p >> 64), (unsigned long long)p,
           (unsigned long long)q, (unsigned long long)rem);
    int64_t irem;
    int64_t iq = idiv_test(-1000000007, 97, &irem);
    printf("idiv q=%lld rem=%lld\n", (long long)iq, (long long)irem);

    uint64_t acc = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        acc = acc * 31 + shifts(acc ^ i, i * 0x9e3779b97f4a7c15ull, (uint8_t)(i & 63));
        acc ^= bit_ops(acc, i);
        acc += misc(i) + hp_enter_leave(i) + (uint64_t)popcnt64(acc) + (uint64_t)bsr64(acc | 1);
    }
    printf("acc %016llx\n", (unsigned long long)acc);
    printf("atomics %llu\n", (unsigned long long)atomics());
    printf("strings %016llx\n", (unsigned long long)strings_rep());
    printf("misc %llu %llu %llu\n", (unsigned long long)misc(0), (unsigned long long)misc(7),
           (unsigned long long)misc(255));
    return 0;
}
