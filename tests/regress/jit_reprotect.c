/* jit_reprotect: a JIT that adds code to one area the way LuaJIT does:
 * the area is made writable, a function is written, the area is made
 * executable again, and every function so far is called. Each
 * reprotection flushes the area's translations; hotpath puts back the
 * blocks whose bytes did not change instead of translating them again
 * (tests/counters/jit_counters_test.sh counts them). Along the way the
 * program rewrites functions it already ran (another constant, the same
 * length: they must run the new code), rewrites one and writes it back as
 * it was before calling it, and moves a function's code by one byte, so a
 * stale translation would give a wrong sum.
 * usage: jit_reprotect [ROUNDS]   (default 300, at most 500)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SLOT 32
#define MAX_FNS 500

typedef uint32_t (*fn_t)(uint32_t);

static uint32_t konst[MAX_FNS]; /* what function k adds */
static unsigned shift[MAX_FNS]; /* its code's offset in its slot */

/* f(x) = (x ^ k) + k, a loop-free body with a branch:
 *   mov eax, edi; xor eax, k; cmp eax, 0x7fffffff; jbe 1f; neg eax; neg eax; 1: add eax, k; ret */
static void emit(uint8_t *area, unsigned k)
{
  uint8_t *p = area + (size_t)k * SLOT;
  memset(p, 0xcc, SLOT);
  p += shift[k];
  uint32_t c = konst[k];
  uint8_t code[] = {0x89, 0xf8,                   /* mov eax, edi */
                    0x35, 0, 0, 0, 0,             /* xor eax, c */
                    0x3d, 0xff, 0xff, 0xff, 0x7f, /* cmp eax, 0x7fffffff */
                    0x76, 0x04,                   /* jbe +4 */
                    0xf7, 0xd8,                   /* neg eax */
                    0xf7, 0xd8,                   /* neg eax */
                    0x05, 0, 0, 0, 0,             /* add eax, c */
                    0xc3};                        /* ret */
  memcpy(code + 3, &c, 4);
  memcpy(code + 19, &c, 4);
  memcpy(p, code, sizeof code);
}

static uint32_t model(unsigned k, uint32_t x) { return (x ^ konst[k]) + konst[k]; }

int main(int argc, char **argv)
{
  long rounds = argc > 1 ? atol(argv[1]) : 300;
  if (rounds < 1 || rounds > MAX_FNS)
    rounds = 300;
  size_t size = (size_t)MAX_FNS * SLOT;
  uint8_t *area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED) {
    perror("jit_reprotect: mmap");
    return 1;
  }
  uint64_t sum = 0;
  long bad = 0;
  for (long r = 0; r < rounds; r++) {
    if (mprotect(area, size, PROT_READ | PROT_WRITE) != 0) {
      perror("jit_reprotect: mprotect");
      return 1;
    }
    konst[r] = (uint32_t)(r * 2654435761u);
    emit(area, (unsigned)r);
    if (r >= 5 && r % 10 == 0) { /* new code in a function already run */
      konst[r - 5] += 1;
      emit(area, (unsigned)(r - 5));
    }
    if (r >= 7 && r % 9 == 0) { /* moved by a byte: new code at a pc run before */
      shift[r - 7] ^= 1;
      emit(area, (unsigned)(r - 7));
    }
    if (r >= 3 && r % 13 == 0) { /* rewritten, then written back as it was */
      konst[r - 3] ^= 0x55;
      emit(area, (unsigned)(r - 3));
      konst[r - 3] ^= 0x55;
      emit(area, (unsigned)(r - 3));
    }
    if (mprotect(area, size, PROT_READ | PROT_EXEC) != 0) {
      perror("jit_reprotect: mprotect");
      return 1;
    }
    for (long k = 0; k <= r; k++) {
      fn_t f = (fn_t)(void *)(area + k * SLOT + shift[k]);
      for (uint32_t x = 0; x < 3; x++) {
        uint32_t in = x * 0x40000000u + (uint32_t)r;
        uint32_t got = f(in);
        sum = sum * 31 + got;
        bad += got != model((unsigned)k, in);
      }
    }
  }
  printf("jit_reprotect: %ld rounds, %ld wrong results, checksum %llu\n", rounds, bad, (unsigned long long)sum);
  return bad != 0;
}
