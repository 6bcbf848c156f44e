/* list: pointer chasing through a singly linked list whose nodes are
 * linked in a shuffled order (so every step is a cache miss at large N).
 * Each pass sums the list, computes an order-dependent hash, and reverses
 * the list in place.  The hash is checked against a walk over the
 * permutation array, which knows the order independently.
 * usage: list [N]   (default 50000 nodes; the list is walked 600 times)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define PASSES 600

struct node {
    struct node *next;
    long value;
    long pad[2];
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

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t splitmix(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static struct node *reverse(struct node *head)
{
    struct node *prev = NULL;
    while (head != NULL) {
        struct node *next = head->next;
        head->next = prev;
        prev = head;
        head = next;
    }
    return prev;
}

int main(int argc, char **argv)
{
    long n = size_arg(argc, argv, 50000);
    struct node *pool = malloc(n * sizeof *pool);
    long *perm = malloc(n * sizeof *perm);
    if (pool == NULL || perm == NULL) {
        fprintf(stderr, "list: out of memory\n");
        return 1;
    }
    for (long i = 0; i < n; i++)
        perm[i] = i;
    for (long i = n - 1; i > 0; i--) {
        long j = (long)(splitmix() % (uint64_t)(i + 1));
        long t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    /* list order: pool[perm[0]] -> pool[perm[1]] -> ... */
    for (long i = 0; i < n; i++) {
        pool[perm[i]].value = (long)(splitmix() % 1000);
        pool[perm[i]].next = i + 1 < n ? &pool[perm[i + 1]] : NULL;
    }
    struct node *head = &pool[perm[0]];

    uint64_t checksum = 0;
    for (int pass = 0; pass < PASSES; pass++) {
        long sum = 0, len = 0;
        uint64_t hash = 0;
        for (struct node *p = head; p != NULL; p = p->next) {
            sum += p->value;
            hash = hash * 31 + (uint64_t)p->value;
            len++;
        }
        /* the same walk, through the permutation (forward on even passes) */
        long expect_sum = 0;
        uint64_t expect_hash = 0;
        for (long i = 0; i < n; i++) {
            long idx = pass % 2 == 0 ? perm[i] : perm[n - 1 - i];
            expect_sum += pool[idx].value;
            expect_hash = expect_hash * 31 + (uint64_t)pool[idx].value;
        }
        if (len != n || sum != expect_sum || hash != expect_hash) {
            fprintf(stderr, "list: MISMATCH in pass %d: length %ld/%ld, sum %ld/%ld\n", pass,
                    len, n, sum, expect_sum);
            return 1;
        }
        checksum = checksum * 1000003 + hash;
        head = reverse(head);
        /* bump every value so each pass differs */
        for (struct node *p = head; p != NULL; p = p->next)
            p->value = (p->value * 7 + pass) % 1000;
    }
    printf("%ld nodes, %d passes, checksum %016llx\n", n, PASSES,
           (unsigned long long)checksum);
    printf("list: verified\n");
    free(pool);
    free(perm);
    return 0;
}
