/* varargs: va_arg of ints/doubles/pointers/long double/structs, many
 * arguments spilled to the stack, va_copy, vsnprintf, a mini printf. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct pair { long a; double b; };
struct big { int v[6]; };

static long sum_ints(int n, ...)
{
    va_list ap;
    long s = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        s += va_arg(ap, int) * (i + 1);
    va_end(ap);
    return s;
}

static double sum_mixed(const char *fmt, ...)
{
    va_list ap;
    double s = 0;
    va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        switch (*p) {
        case 'i': s += va_arg(ap, int); break;
        case 'l': s += (double)va_arg(ap, long); break;
        case 'd': s += va_arg(ap, double); break;
        case 'L': s += (double)va_arg(ap, long double); break;
        case 's': s += (double)strlen(va_arg(ap, const char *)); break;
        case 'p': { struct pair pr = va_arg(ap, struct pair); s += (double)pr.a * pr.b; break; }
        case 'b': { struct big b = va_arg(ap, struct big); for (int i = 0; i < 6; i++) s += b.v[i]; break; }
        }
        s *= 1.5;
    }
    va_end(ap);
    return s;
}

/* tiny formatter supporting %d %s %c %x %f(2 decimals) %% */
static int mini_vfmt(char *out, size_t cap, const char *fmt, va_list ap)
{
    size_t n = 0;
#define PUT(ch) do { char ch_ = (ch); if (n + 1 < cap) out[n] = ch_; n++; } while (0)
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') { PUT(*p); continue; }
        p++;
        char tmp[64];
        int len = 0;
        switch (*p) {
        case 'd': len = snprintf(tmp, sizeof tmp, "<%d>", va_arg(ap, int)); break;
        case 'x': len = snprintf(tmp, sizeof tmp, "<0x%x>", va_arg(ap, unsigned)); break;
        case 'c': tmp[0] = (char)va_arg(ap, int); len = 1; break;
        case 's': { const char *s = va_arg(ap, const char *); while (*s) PUT(*s++); break; }
        case 'f': len = snprintf(tmp, sizeof tmp, "%.2f", va_arg(ap, double)); break;
        case '%': tmp[0] = '%'; len = 1; break;
        default: tmp[0] = '?'; len = 1; break;
        }
        for (int i = 0; i < len; i++)
            PUT(tmp[i]);
    }
    if (cap)
        out[n < cap ? n : cap - 1] = 0;
#undef PUT
    return (int)n;
}

static int mini_fmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = mini_vfmt(out, cap, fmt, ap);
    char check[256];
    int n2 = vsnprintf(check, sizeof check, "%d %d", ap2);   /* first two args as ints */
    printf("  (vsnprintf on copy: '%s' %d)\n", check, n2);
    va_end(ap2);
    va_end(ap);
    return n;
}

static void log_line(const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("[%s] ", tag);
    vprintf(fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    fprintf(stderr, "[%s] ", tag);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static double many(int a1, double d1, int a2, double d2, int a3, double d3, int a4, double d4,
                   int a5, double d5, int a6, double d6, int a7, double d7, int a8, double d8,
                   int a9, double d9, int a10, double d10, ...)
{
    va_list ap;
    va_start(ap, d10);
    double tail = va_arg(ap, double) + va_arg(ap, int);
    va_end(ap);
    return a1 * d1 + a2 * d2 + a3 * d3 + a4 * d4 + a5 * d5 + a6 * d6 + a7 * d7 + a8 * d8 +
           a9 * d9 + a10 * d10 + tail;
}

int main(int argc, char **argv)
{
    printf("sum_ints: %ld %ld %ld\n", sum_ints(0), sum_ints(3, 1, 2, 3),
           sum_ints(12, 1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12));
    struct pair pr = {7, 0.25};
    struct big bg = {{1, 2, 3, 4, 5, 6}};
    printf("sum_mixed: %.17g\n",
           sum_mixed("ildLspbiddddddddddi", 1, 2L, 3.5, (long double)4.25, "hello", pr, bg, 9,
                     1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11));
    char buf[256];
    int n = mini_fmt(buf, sizeof buf, "%d and %x: %s %c %f %%", 42, 255, "str", 'Z', 3.14159);
    printf("mini_fmt: '%s' (%d)\n", buf, n);
    n = mini_fmt(buf, 10, "%d-%d-%s", -1, 2, "truncated string");
    printf("mini_fmt trunc: '%s' (%d)\n", buf, n);
    log_line("info", "argc=%d first=%s last=%s\n", argc, argc > 1 ? argv[1] : "-", argc > 2 ? argv[argc - 1] : "-");
    log_line("num", "%5d|%-5d|%05.1f|%e|%g|%s\n", 42, -42, 2.5, 12345.678, 0.0001, "end");
    printf("many: %.17g\n", many(1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5,
                                 9, 9.5, 10, 10.5, 0.125, 1000));
    return 0;
}
