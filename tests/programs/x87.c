/* x87: long double arithmetic (x87 stack), libm long double functions,
 * conversions via fild/fistp, the x87 control word, and fenv: rounding
 * modes (affecting both SSE and x87) and exception flags.  Built with
 * -frounding-math so the compiler does not fold or hoist across fesetround. */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

static volatile long double vl[] = {1.0L, 3.0L, 0.1L, 1e300L, -2.5L, 1e-4000L};
static volatile double vd[] = {1.0, 3.0, 0.1, -2.5};

static const struct { int mode; const char *name; } modes[] = {
    {FE_TONEAREST, "nearest"}, {FE_DOWNWARD, "down"}, {FE_UPWARD, "up"}, {FE_TOWARDZERO, "zero"},
};

static void print_except(const char *what)
{
    int e = fetestexcept(FE_ALL_EXCEPT);
    printf("%-22s inexact=%d divbyzero=%d invalid=%d overflow=%d underflow=%d\n", what, !!(e & FE_INEXACT),
           !!(e & FE_DIVBYZERO), !!(e & FE_INVALID), !!(e & FE_OVERFLOW), !!(e & FE_UNDERFLOW));
}

static uint16_t get_cw(void)
{
    uint16_t cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

int main(void)
{
    long double a = vl[0], b = vl[1], c = vl[2];
    long double third = a / b;
    printf("1/3 = %.21Lg %La\n", third, third);
    printf("0.1*3 = %.21Lg sqrt2 = %.21Lg\n", c * 3, sqrtl(2.0L));
    printf("big*big = %Lg tiny = %Lg LDBL_EPSILON = %La\n", vl[3] * vl[3], vl[5], LDBL_EPSILON);
    printf("sinl %.21Lg cosl %.21Lg expl %.21Lg logl %.21Lg powl %.21Lg\n", sinl(b), cosl(b), expl(b), logl(b),
           powl(b, c));
    printf("atan2l %.21Lg fmodl %.21Lg floorl %.21Lg\n", atan2l(b, vl[4]), fmodl(vl[3], b), floorl(vl[4]));

    /* sum series in long double vs double */
    long double sl = 0;
    double sd = 0;
    for (int i = 1; i <= 100000; i++) {
        sl += 1.0L / ((long double)i * i);
        sd += 1.0 / ((double)i * i);
    }
    printf("basel long double %.21Lg double %.17g\n", sl, sd);

    /* conversions through the x87 unit */
    volatile int64_t i64 = -1234567890123456789LL;
    volatile uint64_t u64 = 18446744073709551557ull;
    long double li = (long double)i64, lu = (long double)u64;
    printf("int64->ld %.21Lg uint64->ld %.21Lg back %lld %llu\n", li, lu, (long long)li, (unsigned long long)lu);
    printf("ld->int trunc: %d %d %lld\n", (int)(vl[4]), (int)(-vl[4]), (long long)(vl[3] / 1e290L));

    /* explicit x87 asm: fldpi, fld1, fadd, fxch, fmul, fistp */
    long double pi_;
    __asm__ volatile("fldpi" : "=t"(pi_));
    long double r;
    __asm__ volatile("fld1\n\tfadd %%st(1), %%st\n\tfmulp" : "=t"(r) : "0"(pi_));  /* pi*(pi+1) */
    int64_t ir;
    __asm__ volatile("fistpll %0" : "=m"(ir) : "t"(r * 1000.0L) : "st");
    printf("fldpi %.21Lg pi*(pi+1) %.21Lg fistp %lld\n", pi_, r, (long long)ir);

    uint16_t cw0 = get_cw();
    printf("x87 cw default: %04x\n", cw0);

    for (unsigned m = 0; m < 4; m++) {
        fesetround(modes[m].mode);
        volatile double one = vd[0], three = vd[1];
        double q = one / three;
        volatile long double la = vl[0], lb = vl[1];
        long double lq = la / lb;
        volatile double h25 = 2.5, h35 = 3.5;
        volatile long double lh = 0.5L;
        volatile float f1 = 1.0f, f3 = 3.0f;
        float fq = f1 / f3;
        int64_t ifist;
        __asm__ volatile("fistpll %0" : "=m"(ifist) : "t"(vl[4]) : "st");   /* -2.5 */
        printf("%-7s round=%d cw=%04x q=%a lq=%La fq=%a rint(2.5)=%g rint(-2.5)=%g nearbyint(3.5)=%g lrint(-3.5)=%ld "
               "rintl(0.5)=%Lg fistp(-2.5)=%lld\n",
               modes[m].name, fegetround() == modes[m].mode, get_cw(), q, lq, (double)fq, rint(h25), rint(-h25),
               nearbyint(h35), lrint(-h35), rintl(lh), (long long)ifist);
    }
    fesetround(FE_TONEAREST);
    printf("restored cw: %d\n", get_cw() == cw0);

    /* exception flags */
    feclearexcept(FE_ALL_EXCEPT);
    print_except("after clear:");
    volatile double x = vd[0], y = vd[1], z = 0.0;
    volatile double res = x / y;
    print_except("after 1/3:");
    feclearexcept(FE_ALL_EXCEPT);
    res = x / z;
    print_except("after 1/0:");
    feclearexcept(FE_ALL_EXCEPT);
    res = sqrt(-x);
    print_except("after sqrt(-1):");
    feclearexcept(FE_ALL_EXCEPT);
    res = DBL_MAX * (y + 1);
    print_except("after DBL_MAX*4:");
    feclearexcept(FE_ALL_EXCEPT);
    res = DBL_MIN / (y * 1e10);
    print_except("after DBL_MIN/3e10:");
    feclearexcept(FE_ALL_EXCEPT);
    res = x + y;
    print_except("after 1+3:");
    (void)res;
    /* long double operations raise flags through the x87 status word */
    feclearexcept(FE_ALL_EXCEPT);
    volatile long double lres = vl[0] / vl[1];
    print_except("after 1/3L:");
    feclearexcept(FE_ALL_EXCEPT);
    lres = vl[0] / (vl[1] - vl[1]);
    print_except("after 1/0L:");
    (void)lres;
    /* fegetenv / fesetenv / feholdexcept round trip */
    fenv_t env;
    feclearexcept(FE_ALL_EXCEPT);
    res = x / y;
    fegetenv(&env);
    feclearexcept(FE_ALL_EXCEPT);
    fesetround(FE_UPWARD);
    fesetenv(&env);
    printf("fesetenv restored: round=%d inexact=%d\n", fegetround() == FE_TONEAREST, !!fetestexcept(FE_INEXACT));
    feholdexcept(&env);
    print_except("after feholdexcept:");
    res = x / z;
    feupdateenv(&env);
    print_except("after feupdateenv:");
    feclearexcept(FE_ALL_EXCEPT);
    return 0;
}
