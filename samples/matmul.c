/* matmul: naive i-j-k dense matrix multiply of two N x N double matrices.
 * The entries are small integers, so every sum is exact and the result can
 * be checked exactly by an independent O(N^2) identity:
 *   sum_ij w_i C_ij v_j == (w^T A) (B v).
 * usage: matmul [N]   (default 720)
 */
#include <stdio.h>
#include <stdlib.h>

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

static double *new_matrix(long n)
{
    double *m = malloc(n * n * sizeof *m);
    if (m == NULL) {
        fprintf(stderr, "matmul: out of memory\n");
        exit(1);
    }
    return m;
}

static void multiply(long n, const double *a, const double *b, double *c)
{
    for (long i = 0; i < n; i++) {
        for (long j = 0; j < n; j++) {
            double s = 0.0;
            for (long k = 0; k < n; k++)
                s += a[i * n + k] * b[k * n + j];
            c[i * n + j] = s;
        }
    }
}

int main(int argc, char **argv)
{
    long n = size_arg(argc, argv, 720);
    double *a = new_matrix(n), *b = new_matrix(n), *c = new_matrix(n);

    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++) {
            a[i * n + j] = (double)((i * 7 + j * 3) % 11 - 5);
            b[i * n + j] = (double)((i * 5 + j * 13 + 1) % 9 - 4);
        }

    multiply(n, a, b, c);

    /* checksum: weighted sum of C with weights w_i = i%5+1, v_j = j%3+1 */
    double checksum = 0.0, trace = 0.0;
    for (long i = 0; i < n; i++) {
        trace += c[i * n + i];
        for (long j = 0; j < n; j++)
            checksum += (double)(i % 5 + 1) * c[i * n + j] * (double)(j % 3 + 1);
    }

    /* independent: (w^T A) . (B v) */
    double *wa = calloc(n, sizeof *wa), *bv = calloc(n, sizeof *bv);
    if (wa == NULL || bv == NULL)
        return 1;
    for (long i = 0; i < n; i++)
        for (long k = 0; k < n; k++)
            wa[k] += (double)(i % 5 + 1) * a[i * n + k];
    for (long k = 0; k < n; k++)
        for (long j = 0; j < n; j++)
            bv[k] += b[k * n + j] * (double)(j % 3 + 1);
    double expect = 0.0;
    for (long k = 0; k < n; k++)
        expect += wa[k] * bv[k];

    /* independent trace: sum_i sum_k A_ik B_ki */
    double expect_trace = 0.0;
    for (long k = 0; k < n; k++)
        for (long i = 0; i < n; i++)
            expect_trace += a[i * n + k] * b[k * n + i];

    printf("n %ld: checksum %.0f, trace %.0f, c[0][0] %.0f, c[n-1][n-1] %.0f\n", n,
           checksum, trace, c[0], c[n * n - 1]);
    if (checksum != expect || trace != expect_trace) {
        fprintf(stderr, "matmul: MISMATCH: checksum %.0f expected %.0f, trace %.0f expected %.0f\n",
                checksum, expect, trace, expect_trace);
        return 1;
    }
    printf("matmul: verified\n");
    free(a);
    free(b);
    free(c);
    free(wa);
    free(bv);
    return 0;
}
