/* stencil: a 2-D image filter -- repeated 3x3 binomial blur (weights
 * 1 2 1 / 2 4 2 / 1 2 1, divided by 16, edges clamped) on an N x N 8-bit
 * image, followed by a Sobel edge detector and a histogram of the edge
 * strengths.  Every blur iteration is recomputed as two separable 1-D
 * passes (horizontal then vertical) and must match exactly.
 * usage: stencil [N]   (default 512; 60 blur iterations)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITERATIONS 60

static long size_arg(int argc, char **argv, long def)
{
    if (argc < 2)
        return def;
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (*end != '\0' || v < 3) {
        fprintf(stderr, "usage: %s [N>2]\n", argv[0]);
        exit(2);
    }
    return v;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static const int kernel[3][3] = {{1, 2, 1}, {2, 4, 2}, {1, 2, 1}};

static void blur(int n, const uint8_t *src, uint8_t *dst)
{
    for (int y = 0; y < n; y++) {
        for (int x = 0; x < n; x++) {
            int sum = 0;
            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = clampi(y + dy, 0, n - 1);
                    int xx = clampi(x + dx, 0, n - 1);
                    sum += kernel[dy + 1][dx + 1] * src[yy * n + xx];
                }
            }
            dst[y * n + x] = (uint8_t)(sum >> 4);
        }
    }
}

static void blur_separable(int n, const uint8_t *src, uint8_t *dst, int *tmp)
{
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            tmp[y * n + x] = src[y * n + clampi(x - 1, 0, n - 1)] + 2 * src[y * n + x] +
                             src[y * n + clampi(x + 1, 0, n - 1)];
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
            dst[y * n + x] = (uint8_t)((tmp[clampi(y - 1, 0, n - 1) * n + x] +
                                        2 * tmp[y * n + x] +
                                        tmp[clampi(y + 1, 0, n - 1) * n + x]) >> 4);
}

int main(int argc, char **argv)
{
    int n = (int)size_arg(argc, argv, 512);
    size_t pixels = (size_t)n * n;
    uint8_t *img = malloc(pixels), *out = malloc(pixels), *check = malloc(pixels);
    int *tmp = malloc(pixels * sizeof *tmp);
    if (img == NULL || out == NULL || check == NULL || tmp == NULL) {
        fprintf(stderr, "stencil: out of memory\n");
        return 1;
    }

    /* test pattern: rings, a gradient and some noise */
    uint32_t noise = 7;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            int cx = x - n / 2, cy = y - n / 3;
            int ring = ((cx * cx + cy * cy) / (n / 8 + 1)) % 2 ? 200 : 40;
            noise = noise * 1103515245u + 12345u;
            int v = ring / 2 + (x * 100) / n + (int)((noise >> 16) % 32);
            img[y * n + x] = (uint8_t)clampi(v, 0, 255);
        }

    for (int it = 0; it < ITERATIONS; it++) {
        blur(n, img, out);
        blur_separable(n, img, check, tmp);
        if (memcmp(out, check, pixels) != 0) {
            fprintf(stderr, "stencil: MISMATCH: 3x3 and separable blur differ in iteration %d\n",
                    it);
            return 1;
        }
        uint8_t *t = img;
        img = out;
        out = t;
    }

    /* Sobel edge strength |gx| + |gy| on the interior, histogram of it */
    long hist[16] = {0};
    uint64_t checksum = 0;
    for (int y = 1; y < n - 1; y++) {
        for (int x = 1; x < n - 1; x++) {
            const uint8_t *p = &img[y * n + x];
            int gx = -p[-n - 1] - 2 * p[-1] - p[n - 1] + p[-n + 1] + 2 * p[1] + p[n + 1];
            int gy = -p[-n - 1] - 2 * p[-n] - p[-n + 1] + p[n - 1] + 2 * p[n] + p[n + 1];
            int g = (gx < 0 ? -gx : gx) + (gy < 0 ? -gy : gy);
            hist[clampi(g / 16, 0, 15)]++;
            checksum = checksum * 31 + (uint64_t)g;
        }
    }
    uint64_t image_sum = 0;
    for (size_t i = 0; i < pixels; i++)
        image_sum += img[i];
    printf("%dx%d, %d iterations: pixel sum %llu, edge checksum %016llx\n", n, n, ITERATIONS,
           (unsigned long long)image_sum, (unsigned long long)checksum);
    printf("edge histogram:");
    long total = 0;
    for (int b = 0; b < 16; b++) {
        printf(" %ld", hist[b]);
        total += hist[b];
    }
    printf("\n");
    if (total != (long)(n - 2) * (n - 2)) {
        fprintf(stderr, "stencil: MISMATCH: histogram total %ld\n", total);
        return 1;
    }
    printf("stencil: verified\n");
    free(img);
    free(out);
    free(check);
    free(tmp);
    return 0;
}
