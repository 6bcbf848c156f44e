/* malloc: many mallocs/frees of random sizes in random order, realloc growth
 * and shrink, calloc, large (mmap-backed) blocks, linked list and hash table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct item { struct item *next; int key; long val; };

int main(void)
{
    enum { SLOTS = 4096 };
    static unsigned char *slot[SLOTS];
    static size_t slen[SLOTS];
    uint64_t checksum = 0;
    long allocs = 0, frees = 0;
    for (int round = 0; round < 60000; round++) {
        unsigned i = (unsigned)(next() % SLOTS);
        if (slot[i]) {
            for (size_t k = 0; k < slen[i]; k += 7)
                checksum = checksum * 31 + slot[i][k];
            free(slot[i]);
            slot[i] = NULL;
            frees++;
        } else {
            size_t n = (next() % 8 == 0) ? (size_t)(next() % 20000) : (size_t)(next() % 200 + 1);
            slot[i] = malloc(n + 1);
            if (!slot[i]) { printf("malloc failed\n"); return 1; }
            memset(slot[i], (int)(i & 0xff), n + 1);
            slot[i][n] = (unsigned char)round;
            slen[i] = n + 1;
            allocs++;
        }
    }
    for (int i = 0; i < SLOTS; i++)
        if (slot[i]) { checksum += slen[i]; free(slot[i]); frees++; }
    printf("random: allocs=%ld frees=%ld checksum=%016llx\n", allocs, frees, (unsigned long long)checksum);

    /* realloc growth keeps contents */
    size_t cap = 1, len = 0;
    char *buf = malloc(cap);
    for (int i = 0; i < 100000; i++) {
        if (len + 1 > cap) {
            cap = cap * 3 / 2 + 1;
            buf = realloc(buf, cap);
        }
        buf[len++] = (char)('a' + i % 26);
    }
    int ok = 1;
    for (size_t i = 0; i < len; i++)
        if (buf[i] != (char)('a' + i % 26)) ok = 0;
    buf = realloc(buf, 10);
    printf("realloc: len=%zu cap=%zu ok=%d head=%.10s\n", len, cap, ok, buf);
    free(buf);

    /* calloc must return zeroed memory, also after reuse */
    long nonzero = 0;
    for (int r = 0; r < 200; r++) {
        unsigned char *p = malloc(1000 + r);
        memset(p, 0xab, 1000 + r);
        free(p);
        unsigned *q = calloc(250 + r, sizeof *q);
        for (int k = 0; k < 250 + r; k++) nonzero += q[k] != 0;
        free(q);
    }
    printf("calloc nonzero words: %ld\n", nonzero);

    /* big blocks: above mmap threshold */
    uint64_t bigsum = 0;
    for (int r = 0; r < 8; r++) {
        size_t n = (size_t)(1u << 20) + (size_t)r * 4096 * 3;
        uint32_t *p = malloc(n);
        for (size_t k = 0; k < n / 4; k += 1024) p[k] = (uint32_t)(k * r);
        p = realloc(p, n * 2);
        for (size_t k = 0; k < n / 4; k += 1024) bigsum += p[k];
        free(p);
    }
    printf("big blocks sum: %llu\n", (unsigned long long)bigsum);

    /* hash table with chaining */
    enum { BUCKETS = 1024 };
    struct item *tab[BUCKETS] = {0};
    for (int k = 0; k < 20000; k++) {
        int key = (int)(next() % 50000);
        struct item **pp = &tab[key % BUCKETS];
        while (*pp && (*pp)->key != key) pp = &(*pp)->next;
        if (*pp) {
            (*pp)->val += k;
        } else {
            struct item *it = malloc(sizeof *it);
            it->key = key; it->val = k; it->next = NULL;
            *pp = it;
        }
    }
    long entries = 0, vsum = 0, longest = 0;
    for (int b = 0; b < BUCKETS; b++) {
        long chain = 0;
        struct item *it = tab[b];
        while (it) {
            struct item *nx = it->next;
            entries++; chain++;
            vsum += it->val % 1000 * (it->key % 7);
            free(it);
            it = nx;
        }
        if (chain > longest) longest = chain;
    }
    printf("hash: entries=%ld vsum=%ld longest=%ld\n", entries, vsum, longest);

    /* linked list reverse */
    struct item *head = NULL;
    for (int k = 0; k < 10000; k++) {
        struct item *it = malloc(sizeof *it);
        it->key = k; it->val = (long)k * k; it->next = head; head = it;
    }
    struct item *rev = NULL;
    while (head) { struct item *nx = head->next; head->next = rev; rev = head; head = nx; }
    long pos = 0, bad = 0;
    while (rev) { struct item *nx = rev->next; bad += rev->key != pos++; free(rev); rev = nx; }
    printf("list: %ld nodes, %ld out of order\n", pos, bad);
    return 0;
}
