/* strings: strcpy/strncpy/strcat/strcmp/strncmp/strstr/strchr/strrchr,
 * memcpy/memmove (overlapping)/memset/memcmp, sprintf/snprintf,
 * strtol/strtoul, strtok_r, strspn/strcspn, strdup, case conversion. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sgn(int v) { return (v > 0) - (v < 0); }

static uint32_t hash(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

int main(void)
{
    char a[128], b[128];
    strcpy(a, "The quick brown fox");
    strcat(a, " jumps over the lazy dog");
    printf("strcpy/strcat: '%s' len=%zu\n", a, strlen(a));
    strncpy(b, a, 9);
    b[9] = 0;
    printf("strncpy: '%s'\n", b);
    memset(b, 'x', sizeof b);
    strncpy(b, "abc", 8);
    printf("strncpy pad: %d %d %d %c\n", b[3], b[7], b[8] == 'x', b[2]);

    const char *words[] = {"apple", "apples", "banana", "Apple", "", "app", "banana"};
    for (int i = 0; i < 7; i++)
        for (int j = i + 1; j < 7; j++)
            printf("%d", sgn(strcmp(words[i], words[j])) + 1);
    printf(" <- strcmp matrix\n");
    printf("strncmp: %d %d strcasecmp: %d\n", sgn(strncmp("apple", "apples", 5)),
           sgn(strncmp("apple", "apples", 6)), strcasecmp("APPLE", "apple"));

    const char *hay = "abracadabra, abracadabra, cadabra!";
    const char *needles[] = {"cad", "abra,", "bra!", "xyz", "", "a"};
    for (int i = 0; i < 6; i++) {
        const char *p = strstr(hay, needles[i]);
        printf("strstr('%s') -> %ld\n", needles[i], p ? (long)(p - hay) : -1L);
    }
    printf("strchr %ld strrchr %ld memchr %ld strpbrk %ld\n", (long)(strchr(hay, 'c') - hay),
           (long)(strrchr(hay, 'c') - hay), (long)((const char *)memchr(hay, '!', strlen(hay)) - hay),
           (long)(strpbrk(hay, ",!") - hay));
    printf("strspn %zu strcspn %zu\n", strspn(hay, "abrc"), strcspn(hay, ",!"));

    /* memmove overlapping both ways */
    char m[64];
    for (int i = 0; i < 64; i++) m[i] = (char)('A' + i % 26);
    memmove(m + 5, m, 30);
    memmove(m + 40, m + 45, 15);
    printf("memmove: %.64s hash=%08x\n", m, hash(m, 64));
    char src[300], dst[300];
    for (int i = 0; i < 300; i++) src[i] = (char)(i * 7 + 1);
    uint32_t mh = 0;
    for (int off = 0; off < 16; off++)
        for (int len = 0; len < 280; len += 37) {
            memset(dst, 0, sizeof dst);
            memcpy(dst + off, src + (15 - off), (size_t)len);
            mh = mh * 3 + hash(dst, sizeof dst);
        }
    printf("memcpy hash %08x\n", mh);
    printf("memcmp: %d %d %d\n", sgn(memcmp("abcd", "abce", 4)), sgn(memcmp("abcd", "abce", 3)),
           sgn(memcmp("\xff", "\x01", 1)));

    /* sprintf / snprintf */
    char out[256];
    int n = sprintf(out, "%d|%5d|%-5d|%05d|%x|%X|%o|%lu|%lld|%c|%s|%.3s|%10.4f|%e|%g|%%",
                    -17, 42, 42, 42, 0xbeef, 0xbeef, 8, 1234567890123ul, -9876543210ll, 'q',
                    "str", "truncate", 3.14159265, 0.000123, 1e20);
    printf("sprintf(%d): %s\n", n, out);
    volatile size_t cap = 12;   /* truncation is intended; hide it from -Wformat-truncation */
    n = snprintf(out, cap, "%s-%d", "abcdefghij", 12345);
    printf("snprintf(%d): '%s'\n", n, out);
    n = snprintf(NULL, 0, "%08.3f", -2.5);
    printf("snprintf size only: %d\n", n);

    /* strtol & friends */
    const char *nums[] = {"12345", "-0x1f", "0777", "  +42abc", "99999999999999999999", "z"};
    for (int i = 0; i < 6; i++) {
        char *end;
        long v = strtol(nums[i], &end, 0);
        unsigned long u = strtoul(nums[i], NULL, 16);
        printf("strtol('%s') = %ld rest='%s' strtoul16=%lu atoi=%d\n", nums[i], v, end, u, atoi(nums[i]));
    }

    /* tokenizing */
    char line[] = "alpha, beta;gamma  delta,,epsilon";
    char *save = NULL;
    int count = 0;
    for (char *t = strtok_r(line, ",; ", &save); t; t = strtok_r(NULL, ",; ", &save))
        printf("token %d: %s\n", count++, t);

    /* strdup, case conversion, reverse */
    char *d = strdup("Mixed Case String 123");
    for (char *p = d; *p; p++)
        *p = (char)(isupper((unsigned char)*p) ? tolower((unsigned char)*p) : toupper((unsigned char)*p));
    size_t L = strlen(d);
    for (size_t i = 0; i < L / 2; i++) { char t = d[i]; d[i] = d[L - 1 - i]; d[L - 1 - i] = t; }
    printf("swapcase+reverse: %s\n", d);
    free(d);

    /* building a long string with repeated sprintf */
    char *acc = malloc(20000);
    size_t pos = 0;
    for (int i = 0; i < 2000; i++)
        pos += (size_t)sprintf(acc + pos, "%d,", i * i % 1000);
    printf("built len=%zu hash=%08x tail=%s\n", pos, hash(acc, pos), acc + pos - 12);
    free(acc);
    return 0;
}
