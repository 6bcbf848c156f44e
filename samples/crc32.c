/* crc32: checksums over a generated buffer -- table-driven CRC-32
 * (IEEE 802.3, reflected), bit-at-a-time CRC-32, FNV-1a 64 and Adler-32.
 * The table-driven CRC is checked against the bitwise one and against the
 * standard check value crc32("123456789") = 0xcbf43926; Adler-32 against its
 * definition computed with a modulo on every byte.
 * usage: crc32 [KB]   (buffer size in KiB, default 6144; hashed 8 times)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSES 8

static uint32_t crc_table[256];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_table(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t crc32_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static uint64_t fnv1a64(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Adler-32 with deferred modulo (the usual fast form) */
static uint32_t adler32(uint32_t adler, const unsigned char *p, size_t n)
{
    uint32_t a = adler & 0xffff, b = adler >> 16;
    while (n > 0) {
        size_t chunk = n < 5552 ? n : 5552;
        n -= chunk;
        while (chunk-- > 0) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return (b << 16) | a;
}

static uint32_t adler32_slow(uint32_t adler, const unsigned char *p, size_t n)
{
    uint32_t a = adler & 0xffff, b = adler >> 16;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

int main(int argc, char **argv)
{
    long kb = 6144;
    if (argc > 1) {
        char *end;
        kb = strtol(argv[1], &end, 10);
        if (*end != '\0' || kb < 1) {
            fprintf(stderr, "usage: %s [KB>0]\n", argv[0]);
            return 2;
        }
    }
    size_t n = (size_t)kb * 1024;
    unsigned char *buf = malloc(n);
    if (buf == NULL) {
        fprintf(stderr, "crc32: out of memory\n");
        return 1;
    }
    uint32_t x = 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (unsigned char)(x >> 24);
    }
    make_table();

    const char *check = "123456789";
    if (crc32_table(0, (const unsigned char *)check, strlen(check)) != 0xcbf43926u) {
        fprintf(stderr, "crc32: MISMATCH: table CRC of \"123456789\" is not cbf43926\n");
        return 1;
    }

    uint32_t crc = 0, bit_crc = 0, adler = 1, slow_adler = 1;
    uint64_t fnv = 14695981039346656037ull;
    for (int pass = 0; pass < PASSES; pass++) {
        /* each pass hashes the buffer again, continuing the running values,
         * so the results are those of the buffer repeated PASSES times */
        crc = crc32_table(crc, buf, n);
        fnv = fnv1a64(fnv, buf, n);
        adler = adler32(adler, buf, n);
        if (pass < 2) {
            bit_crc = crc32_bitwise(bit_crc, buf, n);
            slow_adler = adler32_slow(slow_adler, buf, n);
            if (bit_crc != crc || slow_adler != adler) {
                fprintf(stderr,
                        "crc32: MISMATCH in pass %d: crc %08x vs bitwise %08x, adler %08x vs "
                        "%08x\n",
                        pass, crc, bit_crc, adler, slow_adler);
                return 1;
            }
        }
        printf("pass %d: crc32 %08x adler32 %08x fnv1a64 %016llx\n", pass, crc, adler,
               (unsigned long long)fnv);
    }
    printf("crc32: verified\n");
    free(buf);
    return 0;
}
