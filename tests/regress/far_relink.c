/* far_relink: an indirect call from the program into JIT code mapped
 * terabytes away (out of a rel32's reach from the program's code cache
 * unit), whose page is mprotected again every round: each round flushes the
 * JIT code's translation, and the call site links to the new one again.
 * hotpath links such a site through a far-jump trampoline: one per site,
 * reused by every relink (tests/counters/far_relink_test.sh counts them;
 * each relink made a new one before).
 * usage: far_relink [ROUNDS]   (default 400)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

typedef uint32_t (*fn_t)(uint32_t);

/* Page-aligned addresses far from the program (a PIE near 0x55.., 0x7f..,
 * or wherever a loader put it): the first one free is used. */
static void *map_far(size_t size)
{
  static const uintptr_t tries[] = {0x300000000000ul, 0x310000000000ul, 0x100000000000ul, 0x600000000000ul};
  for (unsigned i = 0; i < sizeof tries / sizeof tries[0]; i++) {
    void *p = mmap((void *)tries[i], size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                   -1, 0);
    if (p == (void *)tries[i])
      return p;
    if (p != MAP_FAILED)
      munmap(p, size);
  }
  return NULL;
}

int main(int argc, char **argv)
{
  long rounds = argc > 1 ? atol(argv[1]) : 400;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  uint8_t *code = map_far(page);
  if (!code) {
    perror("far_relink: mmap");
    return 1;
  }
  /* f(x) = x * 3 + 7: lea eax, [rdi + rdi*2 + 7]; ret */
  static const uint8_t f[] = {0x8d, 0x44, 0x3f, 0x07, 0xc3};
  memcpy(code, f, sizeof f);
  fn_t volatile fp = (fn_t)(void *)code;
  uint64_t sum = 0;
  for (long r = 0; r < rounds; r++) {
    if (mprotect(code, page, PROT_READ | PROT_EXEC) != 0) {
      perror("far_relink: mprotect");
      return 1;
    }
    for (uint32_t i = 0; i < 20; i++)
      sum += fp(i + (uint32_t)r);
    if (mprotect(code, page, PROT_READ | PROT_WRITE) != 0) {
      perror("far_relink: mprotect");
      return 1;
    }
  }
  printf("far_relink: %ld rounds, sum %llu\n", rounds, (unsigned long long)sum);
  return 0;
}
