/* handler_fpu: a periodic SIGALRM handler that clobbers floating-point state
 * (SSE arithmetic, x87 long double, MXCSR and x87 rounding mode changes, big
 * memcpys that use glibc's vector code, and with AVX explicit ymm work)
 * interrupts float computations in the main program.  The interrupted code's
 * results must be unaffected: each round is compared with a reference
 * computed while SIGALRM was blocked. */
#include <fenv.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#define BUFSZ (256 * 1024)
#define N 4096

static volatile sig_atomic_t ticks;
static unsigned char src[BUFSZ], dst[BUFSZ];
static volatile double handler_sink;

__attribute__((target("avx"))) static void avx_clobber(void)
{
    typedef double v4d __attribute__((vector_size(32)));
    v4d a = { 1.5, -2.25, 3.125, 1e300 };
    v4d b = { 7.0, 1e-300, -0.5, 3.0 };
    for (int i = 0; i < 64; i++) {
        a = a * b + a;
        b = b / (a + 1.0);
        __asm__ volatile("" : "+x"(a), "+x"(b));
    }
    handler_sink += a[0] + b[3];
    __asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
                     "vmovapd %%ymm0, %%ymm1\n\t"
                     "vmovapd %%ymm0, %%ymm15" ::: "xmm0", "xmm1", "xmm15");
}

static void on_alarm(int sig)
{
    (void)sig;
    fesetround(FE_TOWARDZERO);             /* not restored: sigreturn must */
    volatile long double ld = 1.0L;
    for (int i = 1; i < 50; i++)
        ld = ld * 1.1L + (long double)i / 3.0L;
    double x = 0.1;
    for (int i = 0; i < 200; i++)
        x = sqrt(x * x + 1.0 / (i + 1.0));
    memcpy(dst, src, BUFSZ);
    memmove(dst + 1, dst, BUFSZ - 1);
    memset(src + 7, (int)ticks & 0xff, BUFSZ / 2);
    if (__builtin_cpu_supports("avx"))
        avx_clobber();
    handler_sink += x + (double)ld + dst[BUFSZ / 3];
    fesetround(FE_UPWARD);
    ticks++;
}

static double a[N], b[N], c[N];

/* float work: vectorizable loops, scalar dependency chains, x87 and libm */
static uint64_t compute(void)
{
    double acc = 0.0;
    for (int k = 0; k < 8; k++) {
        for (int i = 0; i < N; i++)
            c[i] = a[i] * b[i] + c[i] * 0.5 + (double)k / 3.0;
        for (int i = 0; i < N; i++)
            acc = acc * 0.999999 + c[i] / (1.0 + b[i]);
    }
    long double ld = 0.0L;
    for (int i = 1; i < 2000; i++)
        ld += 1.0L / ((long double)i * i);
    float f = 1.0f;
    for (int i = 0; i < 1000; i++)
        f = f * 1.0001f + 1.0f / 3.0f;
    double m = 0.0;
    for (int i = 1; i < 300; i++)
        m += sin(i * 0.1) * exp(-i * 0.01) + sqrt((double)i);
    uint64_t bits[4];
    double d = (double)ld;
    memcpy(&bits[0], &acc, 8);
    memcpy(&bits[1], &d, 8);
    double fd = f;
    memcpy(&bits[2], &fd, 8);
    memcpy(&bits[3], &m, 8);
    return bits[0] ^ (bits[1] * 3) ^ (bits[2] * 5) ^ (bits[3] * 7);
}

__attribute__((target("avx"))) static uint64_t compute_avx(void)
{
    typedef double v4d __attribute__((vector_size(32)));
    v4d acc = { 0.1, 0.2, 0.3, 0.4 };
    for (int i = 0; i + 4 <= N; i += 4) {
        v4d va, vb;
        memcpy(&va, &a[i], 32);
        memcpy(&vb, &b[i], 32);
        acc = acc * (v4d){ 0.75, 0.75, 0.75, 0.75 } + va * vb;
        __asm__ volatile("" : "+x"(acc));   /* keep it in a ymm register */
    }
    uint64_t h = 0;
    for (int j = 0; j < 4; j++) {
        uint64_t u;
        double d = acc[j];
        memcpy(&u, &d, 8);
        h = h * 31 + u;
    }
    return h;
}

static void init_arrays(void)
{
    for (int i = 0; i < N; i++) {
        a[i] = 1.0 / (i + 1);
        b[i] = (i % 17) * 0.25 - 1.5;
        c[i] = 0.0;
    }
}

static uint64_t round_result(int have_avx)
{
    init_arrays();
    uint64_t r = compute();
    if (have_avx)
        r ^= compute_avx();
    return r;
}

int main(void)
{
    int have_avx = __builtin_cpu_supports("avx");
    for (int i = 0; i < BUFSZ; i++)
        src[i] = (unsigned char)(i * 7);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);

    uint64_t ref = round_result(have_avx);   /* no timer yet */

    struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    int rounds = 0, mismatches = 0;
    while (ticks < 50 || rounds < 20) {
        if (round_result(have_avx) != ref)
            mismatches++;
        rounds++;
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    printf("reference: %016llx\n", (unsigned long long)ref);
    printf("rounds with a different result: %d\n", mismatches);
    printf("interrupted at least 50 times: %s\n", ticks >= 50 ? "yes" : "no");
    printf("rounding mode still FE_TONEAREST: %s\n", fegetround() == FE_TONEAREST ? "yes" : "no");
    return 0;
}
