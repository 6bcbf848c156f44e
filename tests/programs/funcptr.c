/* funcptr: arrays of function pointers, callbacks with context, vtables,
 * functions returning function pointers, calls through volatile pointers. */
#include <stdio.h>
#include <stdlib.h>

typedef long (*binop)(long, long);

static long op_add(long a, long b) { return a + b; }
static long op_sub(long a, long b) { return a - b; }
static long op_mul(long a, long b) { return a * b; }
static long op_div(long a, long b) { return b ? a / b : 0; }
static long op_xor(long a, long b) { return a ^ b; }
static long op_shl(long a, long b) { return (long)((unsigned long)a << (b & 15)); }
long op_max(long a, long b) { return a > b ? a : b; }   /* external linkage */

static const binop ops[] = {op_add, op_sub, op_mul, op_div, op_xor, op_shl, op_max};
static const char *const op_names[] = {"add", "sub", "mul", "div", "xor", "shl", "max"};
#define NOPS (sizeof ops / sizeof ops[0])

struct shape;
struct shape_vt {
    const char *name;
    long (*area)(const struct shape *);
    long (*perimeter)(const struct shape *);
};
struct shape {
    const struct shape_vt *vt;
    long a, b;
};

static long rect_area(const struct shape *s) { return s->a * s->b; }
static long rect_perim(const struct shape *s) { return 2 * (s->a + s->b); }
static long tri_area(const struct shape *s) { return s->a * s->b / 2; }
static long tri_perim(const struct shape *s) { return s->a + s->b + (s->a > s->b ? s->a : s->b); }
static long sq_area(const struct shape *s) { return s->a * s->a; }
static long sq_perim(const struct shape *s) { return 4 * s->a; }

static const struct shape_vt rect_vt = {"rect", rect_area, rect_perim};
static const struct shape_vt tri_vt = {"tri", tri_area, tri_perim};
static const struct shape_vt sq_vt = {"square", sq_area, sq_perim};

typedef void (*visit_fn)(int value, void *ctx);

static void for_each(const int *v, int n, visit_fn fn, void *ctx)
{
    for (int i = 0; i < n; i++)
        fn(v[i], ctx);
}

struct stats { long sum, sumsq; int min, max; };

static void collect(int value, void *ctx)
{
    struct stats *st = ctx;
    st->sum += value;
    st->sumsq += (long)value * value;
    if (value < st->min) st->min = value;
    if (value > st->max) st->max = value;
}

static void hist(int value, void *ctx)
{
    ((int *)ctx)[(unsigned)value % 8]++;
}

static binop pick(int k)
{
    return ops[(unsigned)k % NOPS];
}

static long apply_n(binop f, long init, int n)
{
    long acc = init;
    for (int i = 1; i <= n; i++)
        acc = f(acc, i);
    return acc;
}

static long compose(long (*f)(long), long (*g)(long), long x) { return f(g(x)); }
static long inc(long x) { return x + 1; }
static long dbl(long x) { return 2 * x; }
static long sqr(long x) { return x * x; }

int main(void)
{
    for (unsigned i = 0; i < NOPS; i++)
        printf("%s(1234, 7) = %ld\n", op_names[i], ops[i](1234, 7));

    long acc = 1;
    for (int i = 0; i < 10000; i++)
        acc = pick(i * 7 + 3)(acc, i % 97 + 1) % 1000003;
    printf("pick chain = %ld\n", acc);

    struct shape shapes[] = {
        {&rect_vt, 3, 4}, {&tri_vt, 6, 8}, {&sq_vt, 5, 0}, {&rect_vt, 10, 2}, {&tri_vt, 7, 3},
    };
    long tot = 0;
    for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const struct shape *s = &shapes[i];
        printf("%-6s area=%ld perim=%ld\n", s->vt->name, s->vt->area(s), s->vt->perimeter(s));
        tot += s->vt->area(s);
    }
    printf("total area %ld\n", tot);

    int vals[64];
    for (int i = 0; i < 64; i++)
        vals[i] = (i * 37 + 11) % 101 - 50;
    struct stats st = {0, 0, 1000, -1000};
    for_each(vals, 64, collect, &st);
    printf("stats: sum=%ld sumsq=%ld min=%d max=%d\n", st.sum, st.sumsq, st.min, st.max);
    int h[8] = {0};
    for_each(vals, 64, hist, h);
    printf("hist:");
    for (int i = 0; i < 8; i++)
        printf(" %d", h[i]);
    printf("\n");

    printf("apply add: %ld mul%%: %ld\n", apply_n(op_add, 0, 1000), apply_n(op_xor, 12345, 999));

    long (*volatile vf)(long) = sqr;
    printf("compose: %ld %ld %ld\n", compose(inc, dbl, 20), compose(dbl, inc, 20), compose(vf, inc, 20));

    binop volatile vp = op_max;
    printf("ptr equality: %d %d\n", vp == op_max, (binop)op_add == pick(0));

    /* function pointer stored in heap struct */
    binop *heap_ops = malloc(NOPS * sizeof *heap_ops);
    for (unsigned i = 0; i < NOPS; i++)
        heap_ops[i] = ops[NOPS - 1 - i];
    long r = 17;
    for (unsigned i = 0; i < NOPS; i++)
        r = heap_ops[i](r, 3) + 1;
    printf("heap ops: %ld\n", r);
    free(heap_ops);
    return 0;
}
