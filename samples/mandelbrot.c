/* mandelbrot: escape-time iteration counts of the Mandelbrot set on an
 * N x N grid centred on the real axis (complex arithmetic written out in
 * doubles).  The grid is exactly symmetric, and IEEE arithmetic makes
 * conj(c) iterate exactly like c, so row k must equal row N-1-k; both halves
 * are computed.  For the default size the total is also checked against a
 * reference value.
 * usage: mandelbrot [N]   (default 900, up to 1000 iterations per point)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAXITER 1000
#define DEFAULT_N 900
#define DEFAULT_TOTAL 139776042L

static int escape(double cr, double ci)
{
    double zr = 0.0, zi = 0.0;
    int i;
    for (i = 0; i < MAXITER; i++) {
        double zr2 = zr * zr, zi2 = zi * zi;
        if (zr2 + zi2 > 4.0)
            break;
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
    }
    return i;
}

int main(int argc, char **argv)
{
    long n = DEFAULT_N;
    if (argc > 1) {
        char *end;
        n = strtol(argv[1], &end, 10);
        if (*end != '\0' || n < 2 || n > 100000) {
            fprintf(stderr, "usage: %s [N in 2..100000]\n", argv[0]);
            return 2;
        }
    }
    long *row_total = calloc(n, sizeof *row_total);
    uint64_t *row_hash = calloc(n, sizeof *row_hash);
    if (row_total == NULL || row_hash == NULL) {
        fprintf(stderr, "mandelbrot: out of memory\n");
        return 1;
    }
    /* x in [-2.2, 0.8], y symmetric around 0: y_k = (2k - (n-1)) * step */
    double step = 3.0 / (double)n;
    long inside = 0, total = 0;
    for (long k = 0; k < n; k++) {
        double ci = (double)(2 * k - (n - 1)) * (step / 2.0);
        for (long j = 0; j < n; j++) {
            double cr = -2.2 + (double)j * step;
            int it = escape(cr, ci);
            row_total[k] += it;
            row_hash[k] = row_hash[k] * 31 + (uint64_t)it;
            if (it == MAXITER)
                inside++;
        }
        total += row_total[k];
    }
    for (long k = 0; k < n / 2; k++) {
        if (row_total[k] != row_total[n - 1 - k] || row_hash[k] != row_hash[n - 1 - k]) {
            fprintf(stderr, "mandelbrot: MISMATCH: rows %ld and %ld are not mirror images\n",
                    k, n - 1 - k);
            return 1;
        }
    }
    uint64_t checksum = 0;
    for (long k = 0; k < n; k++)
        checksum = checksum * 1000003 + row_hash[k];
    printf("%ldx%ld: %ld points inside, %ld iterations in total, checksum %016llx\n", n, n,
           inside, total, (unsigned long long)checksum);
    if (n == DEFAULT_N && total != DEFAULT_TOTAL) {
        fprintf(stderr, "mandelbrot: MISMATCH: %ld iterations, expected %ld\n", total,
                (long)DEFAULT_TOTAL);
        return 1;
    }
    printf("mandelbrot: verified\n");
    free(row_total);
    free(row_hash);
    return 0;
}
