/* gen_sortinput: writes a deterministic ~20 MB text file (argv[1]) for the
 * parallel sort test: pseudo-random words, numbers and some duplicates. */
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_sortinput OUTPUT\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    uint64_t s = 0x2545f4914f6cdd1dull;
    long bytes = 0;
    while (bytes < 20l * 1024 * 1024) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        char word[16];
        int len = 3 + (int)(s % 9);
        uint64_t w = s >> 8;
        for (int i = 0; i < len; i++) {
            word[i] = (char)('a' + w % 26);
            w /= 26;
            if (w == 0)
                w = s ^ 0x9e3779b97f4a7c15ull;
        }
        word[len] = '\0';
        int n = fprintf(f, "%s %lu %s\n", word, (unsigned long)((s >> 20) % 100000),
                        (s & 7) == 0 ? "dup" : word);
        if (n < 0) {
            perror(argv[1]);
            return 1;
        }
        bytes += n;
    }
    if (fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
