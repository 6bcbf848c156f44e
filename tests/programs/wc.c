/* wc: reads stdin (registered with difftest --stdin input.txt): counts
 * lines, words and bytes like wc(1), the longest line, and the ten most
 * frequent words (case-folded), sorted by count then alphabetically. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct word { char *text; int count; };

static struct word *words;
static int nwords, capwords;

static void add_word(const char *w)
{
    for (int i = 0; i < nwords; i++)
        if (strcmp(words[i].text, w) == 0) {
            words[i].count++;
            return;
        }
    if (nwords == capwords) {
        capwords = capwords ? capwords * 2 : 64;
        words = realloc(words, (size_t)capwords * sizeof *words);
    }
    words[nwords].text = strdup(w);
    words[nwords].count = 1;
    nwords++;
}

static int by_count(const void *a, const void *b)
{
    const struct word *x = a, *y = b;
    if (x->count != y->count)
        return y->count - x->count;
    return strcmp(x->text, y->text);
}

int main(void)
{
    long lines = 0, wordcount = 0, bytes = 0, longest = 0, cur = 0;
    int inword = 0, c;
    char w[128];
    size_t wl = 0;
    unsigned long h = 5381;
    while ((c = getchar()) != EOF) {
        bytes++;
        h = h * 33 + (unsigned char)c;
        if (c == '\n') {
            lines++;
            if (cur > longest) longest = cur;
            cur = 0;
        } else {
            cur++;
        }
        if (isspace(c)) {
            inword = 0;
        } else if (!inword) {
            inword = 1;
            wordcount++;
        }
        if (isalpha(c) || (c == '\'' && wl > 0)) {
            if (wl < sizeof w - 1) w[wl++] = (char)tolower(c);
        } else if (wl > 0) {
            w[wl] = 0;
            add_word(w);
            wl = 0;
        }
    }
    if (wl > 0) { w[wl] = 0; add_word(w); }
    printf("%7ld %7ld %7ld\n", lines, wordcount, bytes);
    printf("longest line: %ld, distinct words: %d, djb2: %016lx\n", longest, nwords, h);
    qsort(words, (size_t)nwords, sizeof *words, by_count);
    for (int i = 0; i < nwords && i < 10; i++)
        printf("%4d %s\n", words[i].count, words[i].text);
    for (int i = 0; i < nwords; i++)
        free(words[i].text);
    free(words);
    return 0;
}
