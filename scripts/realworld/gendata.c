/* Deterministic generator of semi-compressible text for the bzip2 workload.
 *
 * usage: gendata BYTES > FILE
 *
 * Output is pseudo-English: words drawn with a Zipf-like distribution from a
 * synthetic vocabulary, punctuation, line breaks, and occasional numbers and
 * hex "identifiers" (which compress poorly).  A fixed-seed xorshift64* PRNG
 * makes the output byte-identical on every machine and every run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545f4914f6cdd1dULL;
}

static unsigned below(unsigned n) { return (unsigned)((next() >> 32) % n); }

#define NWORDS 4096
static char vocab[NWORDS][16];

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gendata BYTES\n");
		return 2;
	}
	long long want = atoll(argv[1]);
	static const char cons[] = "bcdfghjklmnprstvwz";
	static const char vow[] = "aeiou";
	for (int i = 0; i < NWORDS; i++) {
		int syl = 1 + below(3) + (i > 512) + (i > 2048);
		char *w = vocab[i];
		int n = 0;
		for (int s = 0; s < syl && n < 13; s++) {
			w[n++] = cons[below(sizeof cons - 1)];
			w[n++] = vow[below(sizeof vow - 1)];
			if (below(3) == 0)
				w[n++] = cons[below(sizeof cons - 1)];
		}
		w[n] = '\0';
	}

	static char buf[1 << 16];
	size_t used = 0;
	long long total = 0;
	int col = 0, sentence_start = 1;
	while (total < want) {
		char tmp[64];
		int len;
		unsigned r = below(100);
		if (r < 3) {
			len = snprintf(tmp, sizeof tmp, "%u", below(100000));
		} else if (r < 4) {
			len = snprintf(tmp, sizeof tmp, "0x%08x", (unsigned)(next() >> 32));
		} else {
			/* Zipf-ish: the product of two uniforms favours small indices. */
			unsigned idx = (unsigned)(((uint64_t)below(NWORDS) * below(NWORDS)) / NWORDS);
			len = snprintf(tmp, sizeof tmp, "%s", vocab[idx]);
			if (sentence_start)
				tmp[0] = (char)(tmp[0] - 'a' + 'A');
		}
		sentence_start = 0;
		unsigned p = below(40);
		if (p == 0) {
			tmp[len++] = '.';
			sentence_start = 1;
		} else if (p == 1) {
			tmp[len++] = ',';
		}
		col += len + 1;
		if (col > 72) {
			tmp[len++] = '\n';
			col = 0;
		} else {
			tmp[len++] = ' ';
		}
		if (total + len > want)
			len = (int)(want - total);
		if (used + (size_t)len > sizeof buf) {
			fwrite(buf, 1, used, stdout);
			used = 0;
		}
		memcpy(buf + used, tmp, (size_t)len);
		used += (size_t)len;
		total += len;
	}
	fwrite(buf, 1, used, stdout);
	return ferror(stdout) || fflush(stdout) ? 1 : 0;
}
