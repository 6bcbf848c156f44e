/* recursion: naive fib, ackermann, hanoi, mutual recursion, n-queens,
 * permutations, recursive tree build/sum. */
#include <stdio.h>
#include <stdlib.h>

static long fib(int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static long ack(long m, long n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

static long hanoi_moves;
static long hanoi_sig;

static void hanoi(int n, int from, int to, int via)
{
    if (n == 0)
        return;
    hanoi(n - 1, from, via, to);
    hanoi_moves++;
    hanoi_sig = (hanoi_sig * 7 + from * 3 + to) % 1000000007;
    hanoi(n - 1, via, to, from);
}

static int is_odd(unsigned n);
static int is_even(unsigned n)
{
    return n == 0 ? 1 : is_odd(n - 1);
}
static int is_odd(unsigned n)
{
    return n == 0 ? 0 : is_even(n - 1);
}

static int queens(int n, int row, unsigned cols, unsigned d1, unsigned d2)
{
    if (row == n)
        return 1;
    int count = 0;
    for (int c = 0; c < n; c++) {
        unsigned a = 1u << c, b = 1u << (row + c), e = 1u << (row - c + n);
        if ((cols & a) || (d1 & b) || (d2 & e))
            continue;
        count += queens(n, row + 1, cols | a, d1 | b, d2 | e);
    }
    return count;
}

static long perm_sig;
static int perm_count;

static void permute(int *a, int k, int n)
{
    if (k == n) {
        long v = 0;
        for (int i = 0; i < n; i++)
            v = v * 10 + a[i];
        perm_sig = (perm_sig * 31 + v) % 1000000007;
        perm_count++;
        return;
    }
    for (int i = k; i < n; i++) {
        int t = a[k]; a[k] = a[i]; a[i] = t;
        permute(a, k + 1, n);
        t = a[k]; a[k] = a[i]; a[i] = t;
    }
}

struct node {
    long val;
    struct node *l, *r;
};

static struct node *build(int depth, long v)
{
    if (depth == 0)
        return NULL;
    struct node *n = malloc(sizeof *n);
    n->val = v;
    n->l = build(depth - 1, v * 2);
    n->r = build(depth - 1, v * 2 + 1);
    return n;
}

static long tree_sum(const struct node *n, int depth)
{
    if (!n)
        return 0;
    return n->val * depth + tree_sum(n->l, depth + 1) - tree_sum(n->r, depth + 1);
}

static void tree_free(struct node *n)
{
    if (!n)
        return;
    tree_free(n->l);
    tree_free(n->r);
    free(n);
}

static unsigned gcd(unsigned a, unsigned b)
{
    return b ? gcd(b, a % b) : a;
}

int main(void)
{
    for (int i = 0; i <= 24; i += 6)
        printf("fib(%d) = %ld\n", i, fib(i));
    printf("ack(2,3) = %ld ack(3,5) = %ld\n", ack(2, 3), ack(3, 5));
    hanoi(16, 1, 3, 2);
    printf("hanoi(16): moves=%ld sig=%ld\n", hanoi_moves, hanoi_sig);
    printf("even(1001)=%d odd(1001)=%d even(2000)=%d\n", is_even(1001), is_odd(1001), is_even(2000));
    for (int n = 4; n <= 8; n++)
        printf("queens(%d) = %d\n", n, queens(n, 0, 0, 0, 0));
    int a[7] = {1, 2, 3, 4, 5, 6, 7};
    permute(a, 0, 7);
    printf("permutations: %d sig=%ld\n", perm_count, perm_sig);
    struct node *t = build(14, 1);
    printf("tree sum: %ld\n", tree_sum(t, 1));
    tree_free(t);
    unsigned g = 0;
    for (unsigned i = 1; i < 2000; i++)
        g += gcd(i * 7919u, 104729u * (i % 13 + 1));
    printf("gcd sum: %u\n", g);
    return 0;
}
