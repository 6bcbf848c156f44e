/* qsort: sort an array of records with the C library qsort() and three
 * different comparison callbacks (int key, string name, double weight).
 * Ties are broken by a unique id, so the order is fully determined.  The
 * key order is checked against an independent counting sort.
 * usage: qsort [N]   (default 300000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_RANGE 65536
#define ROUNDS 3

struct record {
    int key;
    int id;
    double weight;
    char name[12];
};

static long size_arg(int argc, char **argv, long def)
{
    if (argc < 2)
        return def;
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (*end != '\0' || v < 1) {
        fprintf(stderr, "usage: %s [N>0]\n", argv[0]);
        exit(2);
    }
    return v;
}

static uint32_t seed = 12345;

static uint32_t lcg(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
}

static long comparisons;

static int by_key(const void *pa, const void *pb)
{
    const struct record *a = pa, *b = pb;
    comparisons++;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

static int by_name(const void *pa, const void *pb)
{
    const struct record *a = pa, *b = pb;
    comparisons++;
    int c = strcmp(a->name, b->name);
    if (c != 0)
        return c;
    return (a->id > b->id) - (a->id < b->id);
}

static int by_weight_desc(const void *pa, const void *pb)
{
    const struct record *a = pa, *b = pb;
    comparisons++;
    if (a->weight != b->weight)
        return a->weight > b->weight ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

static void fail(const char *what, long i)
{
    fprintf(stderr, "qsort: MISMATCH: %s at index %ld\n", what, i);
    exit(1);
}

int main(int argc, char **argv)
{
    long n = size_arg(argc, argv, 300000);
    struct record *r = malloc(n * sizeof *r);
    long *count = calloc(KEY_RANGE, sizeof *count);
    if (r == NULL || count == NULL) {
        fprintf(stderr, "qsort: out of memory\n");
        return 1;
    }
    uint64_t checksum = 0;

    for (int round = 0; round < ROUNDS; round++) {
        for (long i = 0; i < n; i++) {
            r[i].key = (int)(lcg() % KEY_RANGE);
            r[i].id = (int)i;
            r[i].weight = (double)(lcg() % 1000000) / 7.0;
            for (int c = 0; c < 6; c++)
                r[i].name[c] = (char)('a' + lcg() % 26);
            r[i].name[6] = '\0';
        }

        /* counting sort of the keys, independently of qsort */
        memset(count, 0, KEY_RANGE * sizeof *count);
        for (long i = 0; i < n; i++)
            count[r[i].key]++;

        qsort(r, n, sizeof *r, by_key);
        long pos = 0;
        for (int k = 0; k < KEY_RANGE; k++)
            for (long c = 0; c < count[k]; c++, pos++)
                if (r[pos].key != k)
                    fail("key order differs from counting sort", pos);
        for (long i = 1; i < n; i++)
            if (r[i - 1].key == r[i].key && r[i - 1].id > r[i].id)
                fail("ties not ordered by id", i);
        for (long i = 0; i < n; i += 1 + n / 1000)
            checksum = checksum * 31 + (uint64_t)r[i].key * 7 + (uint64_t)r[i].id;

        qsort(r, n, sizeof *r, by_name);
        for (long i = 1; i < n; i++)
            if (strcmp(r[i - 1].name, r[i].name) > 0)
                fail("names not sorted", i);
        for (long i = 0; i < n; i += 1 + n / 1000)
            checksum = checksum * 31 + (uint64_t)r[i].id;

        qsort(r, n, sizeof *r, by_weight_desc);
        for (long i = 1; i < n; i++)
            if (r[i - 1].weight < r[i].weight)
                fail("weights not sorted", i);
        for (long i = 0; i < n; i += 1 + n / 1000)
            checksum = checksum * 31 + (uint64_t)r[i].id;

        printf("round %d: first key %d, first name %s, heaviest id %d\n", round, r[0].key,
               r[0].name, r[0].id);
    }
    printf("%ld comparisons, checksum %016llx\n", comparisons, (unsigned long long)checksum);
    printf("qsort: verified\n");
    free(r);
    free(count);
    return 0;
}
