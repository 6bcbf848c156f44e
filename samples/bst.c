/* bst: an unbalanced binary search tree of malloc'ed nodes -- random
 * inserts, lookups (most of them misses), recursive in-order
 * traversal and height, then deletion of every third key.  Results are
 * checked against a sorted array built independently with qsort and
 * searched with bsearch.
 * usage: bst [N]   (default 300000 keys)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct tree {
    long key;
    long hits;
    struct tree *left, *right;
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

static uint64_t rng = 42;

static long rnd_key(long range)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (long)(rng % (uint64_t)range);
}

static struct tree *insert(struct tree *t, long key, int *added)
{
    if (t == NULL) {
        t = malloc(sizeof *t);
        t->key = key;
        t->hits = 0;
        t->left = t->right = NULL;
        *added = 1;
        return t;
    }
    if (key < t->key)
        t->left = insert(t->left, key, added);
    else if (key > t->key)
        t->right = insert(t->right, key, added);
    return t;
}

static struct tree *find(struct tree *t, long key)
{
    while (t != NULL && t->key != key)
        t = key < t->key ? t->left : t->right;
    return t;
}

static struct tree *delete(struct tree *t, long key)
{
    if (t == NULL)
        return NULL;
    if (key < t->key) {
        t->left = delete(t->left, key);
    } else if (key > t->key) {
        t->right = delete(t->right, key);
    } else if (t->left == NULL || t->right == NULL) {
        struct tree *child = t->left != NULL ? t->left : t->right;
        free(t);
        return child;
    } else {
        struct tree *m = t->right;
        while (m->left != NULL)
            m = m->left;
        t->key = m->key;
        t->hits = m->hits;
        t->right = delete(t->right, m->key);
    }
    return t;
}

static int height(const struct tree *t)
{
    if (t == NULL)
        return 0;
    int l = height(t->left), r = height(t->right);
    return 1 + (l > r ? l : r);
}

/* in-order walk: checks ordering and collects keys into out[] */
static void walk(const struct tree *t, long *out, long *n, long *bad)
{
    if (t == NULL)
        return;
    walk(t->left, out, n, bad);
    if (*n > 0 && out[*n - 1] >= t->key)
        (*bad)++;
    out[(*n)++] = t->key;
    walk(t->right, out, n, bad);
}

static void destroy(struct tree *t)
{
    if (t == NULL)
        return;
    destroy(t->left);
    destroy(t->right);
    free(t);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static void fail(const char *what)
{
    fprintf(stderr, "bst: MISMATCH: %s\n", what);
    exit(1);
}

int main(int argc, char **argv)
{
    long n = size_arg(argc, argv, 300000);
    long range = 4 * n;
    long *keys = malloc(n * sizeof *keys);
    long *inorder = malloc(n * sizeof *inorder);
    if (keys == NULL || inorder == NULL) {
        fprintf(stderr, "bst: out of memory\n");
        return 1;
    }

    struct tree *root = NULL;
    long size = 0;
    for (long i = 0; i < n; i++) {
        int added = 0;
        keys[i] = rnd_key(range);
        root = insert(root, keys[i], &added);
        size += added;
    }

    /* lookups: 4 rounds of n random probes */
    long found = 0;
    uint64_t probe_seed = rng;
    for (long i = 0; i < 4 * n; i++) {
        struct tree *t = find(root, rnd_key(range));
        if (t != NULL) {
            t->hits++;
            found++;
        }
    }

    long walked = 0, bad = 0;
    walk(root, inorder, &walked, &bad);
    int h = height(root);
    printf("%ld inserts, %ld distinct keys, height %d, %ld of %ld probes found\n", n, size,
           h, found, 4 * n);

    /* independent: sort + unique, then bsearch the same probes */
    qsort(keys, n, sizeof *keys, cmp_long);
    long uniq = 0;
    for (long i = 0; i < n; i++)
        if (uniq == 0 || keys[uniq - 1] != keys[i])
            keys[uniq++] = keys[i];
    if (bad != 0 || walked != size || uniq != size)
        fail("tree size or order");
    for (long i = 0; i < uniq; i++)
        if (inorder[i] != keys[i])
            fail("in-order keys differ from sorted keys");
    rng = probe_seed;
    long expect_found = 0;
    for (long i = 0; i < 4 * n; i++) {
        long k = rnd_key(range);
        if (bsearch(&k, keys, uniq, sizeof *keys, cmp_long) != NULL)
            expect_found++;
    }
    if (expect_found != found)
        fail("lookup hits");

    /* delete every third distinct key, then re-check */
    long deleted = 0;
    for (long i = 0; i < uniq; i += 3) {
        root = delete(root, keys[i]);
        deleted++;
    }
    walked = bad = 0;
    walk(root, inorder, &walked, &bad);
    if (bad != 0 || walked != uniq - deleted)
        fail("tree after deletes");
    uint64_t checksum = 0;
    for (long i = 0, j = 0; i < uniq; i++) {
        if (i % 3 == 0)
            continue;
        if (inorder[j++] != keys[i])
            fail("keys after deletes");
        checksum = checksum * 31 + (uint64_t)keys[i];
    }
    printf("after %ld deletes: %ld keys, height %d, checksum %016llx\n", deleted, walked,
           height(root), (unsigned long long)checksum);
    printf("bst: verified\n");
    destroy(root);
    free(keys);
    free(inorder);
    return 0;
}
