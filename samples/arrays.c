/* arrays: integer loops over an array -- running sum, prefix sums and a
 * 256-bucket histogram, repeated for several passes that rewrite the data.
 * Every pass is checked against a second, independent computation.
 * usage: arrays [N]   (N = array length, default 2000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define PASSES 32

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

static uint32_t rng = 2463534242u;

static uint32_t xorshift32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

int main(int argc, char **argv)
{
    long n = size_arg(argc, argv, 2000000);
    uint32_t *a = malloc(n * sizeof *a);
    uint64_t *prefix = malloc(n * sizeof *prefix);
    if (a == NULL || prefix == NULL) {
        fprintf(stderr, "arrays: out of memory\n");
        return 1;
    }
    for (long i = 0; i < n; i++)
        a[i] = xorshift32() & 0xffff;

    uint64_t checksum = 0;
    for (int pass = 0; pass < PASSES; pass++) {
        /* rewrite the data so each pass sees different values */
        for (long i = 0; i < n; i++)
            a[i] = (a[i] * 2654435761u + (uint32_t)pass) & 0xffff;

        uint64_t sum = 0;
        for (long i = 0; i < n; i++)
            sum += a[i];

        prefix[0] = a[0];
        for (long i = 1; i < n; i++)
            prefix[i] = prefix[i - 1] + a[i];

        uint64_t prefix_total = 0;
        for (long i = 0; i < n; i++)
            prefix_total += prefix[i];

        long hist[256] = {0};
        for (long i = 0; i < n; i++)
            hist[a[i] & 255]++;

        /* independent checks */
        if (prefix[n - 1] != sum) {
            fprintf(stderr, "arrays: pass %d: last prefix %llu != sum %llu\n", pass,
                    (unsigned long long)prefix[n - 1], (unsigned long long)sum);
            return 1;
        }
        uint64_t weighted = 0, low_bytes = 0;
        for (long i = 0; i < n; i++) {
            weighted += (uint64_t)a[i] * (uint64_t)(n - i);
            low_bytes += a[i] & 255;
        }
        if (weighted != prefix_total) {
            fprintf(stderr, "arrays: pass %d: sum of prefixes %llu != weighted sum %llu\n",
                    pass, (unsigned long long)prefix_total, (unsigned long long)weighted);
            return 1;
        }
        long count = 0;
        uint64_t hist_low = 0;
        for (int b = 0; b < 256; b++) {
            count += hist[b];
            hist_low += (uint64_t)b * (uint64_t)hist[b];
        }
        if (count != n || hist_low != low_bytes) {
            fprintf(stderr, "arrays: pass %d: histogram inconsistent\n", pass);
            return 1;
        }

        uint64_t hist_hash = 0;
        for (int b = 0; b < 256; b++)
            hist_hash = hist_hash * 31 + (uint64_t)hist[b];
        checksum = checksum * 1000003 ^ sum ^ (prefix_total << 1) ^ hist_hash;
        printf("pass %d: sum %llu, sum of prefixes %llu, hist[0] %ld\n", pass,
               (unsigned long long)sum, (unsigned long long)prefix_total, hist[0]);
    }
    printf("checksum %016llx\n", (unsigned long long)checksum);
    printf("arrays: verified\n");
    free(a);
    free(prefix);
    return 0;
}
