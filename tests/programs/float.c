/* float: double and float arithmetic, libm calls, conversions, special
 * values, printed with %.17g / %a so every bit is compared. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile double vin[] = {0.5, 1.25, 2.0, 3.0, 10.0, 0.001, 123.456, -7.75};
#define NIN (sizeof vin / sizeof vin[0])

typedef double (*fn1)(double);
struct named { const char *name; fn1 f; };

static const struct named funcs[] = {
    {"sin", sin}, {"cos", cos}, {"tan", tan}, {"exp", exp}, {"log", log},
    {"log10", log10}, {"log2", log2}, {"sqrt", sqrt}, {"cbrt", cbrt}, {"atan", atan},
    {"sinh", sinh}, {"tanh", tanh}, {"expm1", expm1}, {"log1p", log1p}, {"erf", erf},
    {"lgamma", lgamma}, {"floor", floor}, {"ceil", ceil}, {"round", round}, {"trunc", trunc},
    {"fabs", fabs}, {"asinh", asinh},
};

static uint64_t bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

int main(void)
{
    for (unsigned i = 0; i < sizeof funcs / sizeof funcs[0]; i++) {
        printf("%-6s", funcs[i].name);
        for (unsigned j = 0; j < NIN; j++) {
            double x = vin[j];
            if ((x <= 0 && (funcs[i].f == log || funcs[i].f == log10 || funcs[i].f == log2 ||
                            funcs[i].f == sqrt)) ||
                (x < -1 && funcs[i].f == log1p))
                x = -x;
            printf(" %.17g", funcs[i].f(x));
        }
        printf("\n");
    }
    double a = vin[2], b = vin[6];
    printf("pow %.17g %.17g %.17g\n", pow(a, 0.5), pow(b, 1.0 / 3), pow(vin[7], 3.0));
    printf("atan2 %.17g %.17g hypot %.17g fmod %.17g %.17g\n", atan2(b, a), atan2(-a, -b),
           hypot(3 * a, 4 * a), fmod(b, 7.0), remainder(b, 7.0));
    int e;
    double m = frexp(b, &e);
    double ip;
    double fp = modf(b, &ip);
    printf("frexp %.17g %d ldexp %.17g modf %.17g %.17g\n", m, e, ldexp(m, e + 3), ip, fp);
    printf("nextafter %a %a copysign %g fma %.17g\n", nextafter(1.0, 2.0), nextafter(0.0, -1.0),
           copysign(3.0, -0.0), fma(vin[5], vin[6], vin[4]));

    /* accumulation, naive vs Kahan */
    double naive = 0, sum = 0, c = 0;
    for (int i = 1; i <= 200000; i++) {
        double t = 1.0 / ((double)i * i);
        naive += t;
        double y = t - c;
        double s2 = sum + y;
        c = (s2 - sum) - y;
        sum = s2;
    }
    printf("basel naive %.17g kahan %.17g diff %a\n", naive, sum, sum - naive);

    /* numerical integration of sin over [0, pi] */
    double integral = 0, h = M_PI / 10000;
    for (int i = 0; i < 10000; i++)
        integral += sin((i + 0.5) * h) * h;
    printf("integral %.17g\n", integral);

    /* single precision */
    float f = 1.0f;
    for (int i = 0; i < 1000; i++)
        f = f * 1.0001f + 0.5f / (float)(i + 1);
    printf("float %.9g %a sqrtf %.9g sinf %.9g\n", (double)f, (double)f, (double)sqrtf(f), (double)sinf(f));

    /* conversions */
    volatile double big = 9.87654321e15, neg = -2.5, frac = 2.5;
    printf("conv %ld %ld %lld %d %u %ld %ld\n", (long)big, (long)neg, llround(frac), (int)neg,
           (unsigned)(frac * 3), lrint(frac), lrint(3.5));
    volatile uint64_t u64 = 0xfedcba9876543210ull;
    volatile int64_t i64 = -0x123456789abcll;
    printf("int->fp %.17g %.17g %.9g\n", (double)u64, (double)i64, (double)(float)u64);

    /* special values */
    volatile double zero = 0.0, one = 1.0;
    double inf = one / zero, nan_ = zero / zero;
    printf("special %g %g %d %d %d %d\n", inf, -inf, isnan(nan_), isinf(inf), isfinite(one),
           signbit(-zero));
    printf("compare nan: %d %d %d\n", nan_ == nan_, nan_ < one, isunordered(nan_, one));
    printf("limits %.17g %.17g %a %a\n", DBL_MAX, DBL_MIN, DBL_EPSILON, DBL_TRUE_MIN);
    printf("subnormal %a %a\n", DBL_MIN / 3, DBL_TRUE_MIN * 7);

    /* strtod / printf round trip */
    const char *strs[] = {"3.141592653589793", "1e-310", "0x1.8p3", "-0.000123456789", "2.2250738585072014e-308", "1.7976931348623157e308"};
    for (unsigned i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        double d = strtod(strs[i], NULL);
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", d);
        printf("strtod %s -> %s %016llx %d\n", strs[i], buf, (unsigned long long)bits(d), strtod(buf, NULL) == d);
    }

    /* newton iteration for square roots, compared with sqrt */
    int mismatches = 0;
    for (int i = 1; i < 2000; i++) {
        double x = i * 1.37, g = x;
        for (int k = 0; k < 60; k++)
            g = 0.5 * (g + x / g);
        if (fabs(g - sqrt(x)) > 4 * DBL_EPSILON * sqrt(x))
            mismatches++;
    }
    printf("newton mismatches %d\n", mismatches);
    return 0;
}
