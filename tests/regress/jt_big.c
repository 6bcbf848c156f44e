/* A switch of 256 cases (a jump table of 256 entries, each case its own
 * slot in the fragment): with the smallest code cache (--cache-size=1M,
 * reg_cache_programs) the fragment must still fit; hotpath gave up with
 * "a fragment of 118699 bytes needs a cache of at least 1899184 bytes". */
#include <stdio.h>

#define C4(n) C(n) C(n + 1) C(n + 2) C(n + 3)
#define C16(n) C4(n) C4(n + 4) C4(n + 8) C4(n + 12)
#define C64(n) C16(n) C16(n + 16) C16(n + 32) C16(n + 48)
#define C(n) \
  case n: \
    r = r * (n + 3) + (n * 7 + 1); \
    break;

__attribute__((noinline)) static unsigned long step(unsigned op, unsigned long r)
{
  switch (op) {
    C64(0)
    C64(64)
    C64(128)
    C64(192)
  }
  return r;
}

int main(void)
{
  unsigned long r = 1;
  for (unsigned long i = 0; i < 300000; i++)
    r = step((unsigned)(i * 2654435761u) & 255, r);
  printf("%lu\n", r);
  return 0;
}
