/* Shared by the trace corpus: print a named result, count mismatches;
 * a pseudo-random sequence.
 * Each program ends with `printf("%s\n", fails ? "FAILED" : "ok")`. */
#ifndef TRACES_CHECK_H
#define TRACES_CHECK_H
#include <stdint.h>
#include <stdio.h>

static int fails;

static void check(const char *what, uint64_t got, uint64_t want)
{
  printf("%s: %llu%s\n", what, (unsigned long long)got, got == want ? "" : " MISMATCH");
  if (got != want) {
    printf("  want %llu\n", (unsigned long long)want);
    fails++;
  }
}

/* xorshift64: data-dependent values the compilers cannot predict. */
static inline uint64_t xs(uint64_t *st)
{
  uint64_t x = *st;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *st = x;
}

#endif
