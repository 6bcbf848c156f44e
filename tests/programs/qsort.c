/* qsort: qsort with several comparator callbacks (ints, strings via
 * pointers, structs with multiple keys), bsearch, and a hand-written
 * generic sort calling the comparator through a function pointer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t seed = 12345;
static uint32_t rnd(void)
{
    seed = seed * 1664525u + 1013904223u;
    return seed >> 4;
}

static int cmp_int_asc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_int_desc(const void *a, const void *b) { return cmp_int_asc(b, a); }
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct rec { char name[8]; int age; double score; int id; };

static int cmp_rec(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    if (x->age != y->age) return x->age - y->age;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return x->id - y->id;
}

static long ncalls;
static int counting_cmp(const void *a, const void *b)
{
    ncalls++;
    return cmp_int_asc(a, b);
}

static void insertion_sort(void *base, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    char *b = base;
    char tmp[64];
    for (size_t i = 1; i < n; i++) {
        memcpy(tmp, b + i * sz, sz);
        size_t j = i;
        while (j > 0 && cmp(b + (j - 1) * sz, tmp) > 0) {
            memcpy(b + j * sz, b + (j - 1) * sz, sz);
            j--;
        }
        memcpy(b + j * sz, tmp, sz);
    }
}

static uint64_t int_hash(const int *a, size_t n)
{
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++)
        h = h * 1000003u + (uint32_t)a[i] * (i + 1);
    return h;
}

int main(void)
{
    enum { N = 20000 };
    int *a = malloc(N * sizeof *a);
    for (int i = 0; i < N; i++) a[i] = (int)(rnd() % 100000) - 50000;
    qsort(a, N, sizeof *a, cmp_int_asc);
    int sorted = 1;
    for (int i = 1; i < N; i++) sorted &= a[i - 1] <= a[i];
    printf("asc: sorted=%d min=%d max=%d median=%d hash=%016llx\n", sorted, a[0], a[N - 1], a[N / 2],
           (unsigned long long)int_hash(a, N));
    int keys[] = {a[123], a[N - 7], 50001, -50001, 0};
    for (int i = 0; i < 5; i++) {
        int *p = bsearch(&keys[i], a, N, sizeof *a, cmp_int_asc);
        printf("bsearch %d: %s\n", keys[i], p ? "found" : "absent");
    }
    qsort(a, N, sizeof *a, cmp_int_desc);
    printf("desc: first=%d last=%d hash=%016llx\n", a[0], a[N - 1], (unsigned long long)int_hash(a, N));

    ncalls = 0;
    qsort(a, 1000, sizeof *a, counting_cmp);
    printf("counting comparator called: %d\n", ncalls > 0);

    static const char *const src_words[] = {"pear", "fig", "apple", "kiwi", "banana", "cherry", "date",
                                            "grape", "lemon", "mango", "apricot", "lime", "plum", "melon"};
    enum { NW = sizeof src_words / sizeof src_words[0] };
    const char *w[NW];
    memcpy(w, src_words, sizeof w);
    qsort(w, NW, sizeof w[0], cmp_str);
    printf("words:");
    for (int i = 0; i < NW; i++) printf(" %s", w[i]);
    printf("\n");

    enum { NR = 300 };
    struct rec *r = calloc(NR, sizeof *r);
    for (int i = 0; i < NR; i++) {
        snprintf(r[i].name, sizeof r[i].name, "n%03u", rnd() % 50);
        r[i].age = (int)(rnd() % 10) + 20;
        r[i].score = (double)(rnd() % 5) * 0.5;
        r[i].id = i;
    }
    qsort(r, NR, sizeof *r, cmp_rec);
    uint64_t rh = 0;
    for (int i = 0; i < NR; i++) rh = rh * 31 + (uint64_t)r[i].id;
    printf("records: first=%s/%d/%.1f last=%s/%d/%.1f order=%016llx\n", r[0].name, r[0].age, r[0].score,
           r[NR - 1].name, r[NR - 1].age, r[NR - 1].score, (unsigned long long)rh);

    int small[200];
    for (int i = 0; i < 200; i++) small[i] = (int)(rnd() % 1000);
    insertion_sort(small, 200, sizeof small[0], cmp_int_desc);
    printf("insertion sort: %d %d %d hash=%016llx\n", small[0], small[100], small[199],
           (unsigned long long)int_hash(small, 200));
    struct rec r2[40];
    memcpy(r2, r + 100, sizeof r2);
    insertion_sort(r2, 40, sizeof r2[0], cmp_rec);
    printf("insertion sort recs equal qsort: %d\n", memcmp(r2, r + 100, sizeof r2) == 0);
    free(r);
    free(a);
    return 0;
}
