/* wordfreq: generate pseudo-English text from a skewed vocabulary, then
 * tokenize it (lower-casing, skipping punctuation) and count the words in
 * a chained hash table with malloc'ed string keys.  The counts are checked
 * word by word against the tallies kept while the text was generated.
 * usage: wordfreq [WORDS]   (default 5000000)
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOCAB 30000
#define CHUNK_WORDS 4096
#define NBUCKETS 16384
#define MAXWORD 32

static long size_arg(int argc, char **argv, long def)
{
    if (argc < 2)
        return def;
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (*end != '\0' || v < 1) {
        fprintf(stderr, "usage: %s [WORDS>0]\n", argv[0]);
        exit(2);
    }
    return v;
}

static uint64_t rng_state = 88172645463325252ull;

static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* Each word id is spelled as its base-16 digits, one two-letter syllable per
 * digit, so the spelling is unique and easy to recompute. */
static const char *syllables[16] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo",
                                    "be", "da", "fu", "go", "hi", "ja", "po", "we"};

static int spell(int id, char *out)
{
    char digits[8];
    int nd = 0;
    do {
        digits[nd++] = (char)(id % 16);
        id /= 16;
    } while (id > 0);
    int len = 0;
    while (nd > 0) {
        const char *s = syllables[(int)digits[--nd]];
        out[len++] = s[0];
        out[len++] = s[1];
    }
    out[len] = '\0';
    return len;
}

struct entry {
    char *word;
    long count;
    struct entry *next;
};

static struct entry *table[NBUCKETS];
static long distinct;

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 16777619u;
    }
    return h;
}

static struct entry *lookup(const char *word, int create)
{
    uint32_t b = hash_str(word) & (NBUCKETS - 1);
    for (struct entry *e = table[b]; e != NULL; e = e->next)
        if (strcmp(e->word, word) == 0)
            return e;
    if (!create)
        return NULL;
    struct entry *e = malloc(sizeof *e);
    e->word = malloc(strlen(word) + 1);
    strcpy(e->word, word);
    e->count = 0;
    e->next = table[b];
    table[b] = e;
    distinct++;
    return e;
}

static int by_count_then_word(const void *pa, const void *pb)
{
    const struct entry *a = *(const struct entry *const *)pa;
    const struct entry *b = *(const struct entry *const *)pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->word, b->word);
}

int main(int argc, char **argv)
{
    long nwords = size_arg(argc, argv, 5000000);
    long *gen_count = calloc(VOCAB, sizeof *gen_count);
    char *text = malloc(CHUNK_WORDS * (2 * 5 + 2) + 16);
    if (text == NULL || gen_count == NULL) {
        fprintf(stderr, "wordfreq: out of memory\n");
        return 1;
    }

    long total = 0, generated = 0;
    size_t text_bytes = 0;
    int capitalize = 1;
    while (generated < nwords) {
        /* generate a chunk: skewed ids (small ids are common), some
         * capitalisation and punctuation */
        size_t len = 0;
        for (int i = 0; i < CHUNK_WORDS && generated < nwords; i++, generated++) {
            uint32_t r = rnd() % VOCAB;
            int id = (int)((uint64_t)r * r / VOCAB);
            gen_count[id]++;
            char w[MAXWORD];
            int wl = spell(id, w);
            if (capitalize)
                w[0] = (char)toupper((unsigned char)w[0]);
            memcpy(text + len, w, wl);
            len += wl;
            uint32_t p = rnd() % 16;
            capitalize = 0;
            if (p == 0) {
                text[len++] = '.';
                capitalize = 1;
            } else if (p == 1) {
                text[len++] = ',';
            }
            text[len++] = p == 2 ? '\n' : ' ';
        }
        text[len] = '\0';
        text_bytes += len;

        /* tokenize and count */
        char word[MAXWORD];
        int wl = 0;
        for (size_t i = 0; i <= len; i++) {
            unsigned char c = (unsigned char)text[i];
            if (isalpha(c)) {
                if (wl < MAXWORD - 1)
                    word[wl++] = (char)tolower(c);
            } else if (wl > 0) {
                word[wl] = '\0';
                lookup(word, 1)->count++;
                total++;
                wl = 0;
            }
        }
    }

    /* top ten */
    struct entry **all = malloc(distinct * sizeof *all);
    long k = 0;
    for (int b = 0; b < NBUCKETS; b++)
        for (struct entry *e = table[b]; e != NULL; e = e->next)
            all[k++] = e;
    qsort(all, distinct, sizeof *all, by_count_then_word);
    printf("%ld words, %ld distinct, %zu bytes of text\n", total, distinct, text_bytes);
    uint64_t checksum = 0;
    for (long i = 0; i < distinct; i++) {
        checksum = checksum * 31 + (uint64_t)all[i]->count + hash_str(all[i]->word);
        if (i < 10)
            printf("%2ld. %-12s %ld\n", i + 1, all[i]->word, all[i]->count);
    }
    printf("checksum %016llx\n", (unsigned long long)checksum);

    /* verify against the generator's own tallies */
    long expect_distinct = 0;
    if (total != nwords) {
        fprintf(stderr, "wordfreq: MISMATCH: counted %ld words, generated %ld\n", total,
                nwords);
        return 1;
    }
    for (int id = 0; id < VOCAB; id++) {
        if (gen_count[id] == 0)
            continue;
        expect_distinct++;
        char w[MAXWORD];
        spell(id, w);
        struct entry *e = lookup(w, 0);
        if (e == NULL || e->count != gen_count[id]) {
            fprintf(stderr, "wordfreq: MISMATCH: word '%s' counted %ld, generated %ld\n", w,
                    e ? e->count : 0L, gen_count[id]);
            return 1;
        }
    }
    if (expect_distinct != distinct) {
        fprintf(stderr, "wordfreq: MISMATCH: %ld distinct words, expected %ld\n", distinct,
                expect_distinct);
        return 1;
    }
    printf("wordfreq: verified\n");
    for (long i = 0; i < distinct; i++) {
        free(all[i]->word);
        free(all[i]);
    }
    free(all);
    free(text);
    free(gen_count);
    return 0;
}
