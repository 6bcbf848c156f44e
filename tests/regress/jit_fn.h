/* The generated function of the cache_evict tests: a loop of its own (trace
 * heads, traces, optimized traces), its constants patched per copy, and
 * its model in C. */
#ifndef JIT_FN_H
#define JIT_FN_H
#include <stdint.h>
#include <string.h>

#define FN_SIZE 32
#define PAGE_BYTES (64 * 1024)
#define FNS (PAGE_BYTES / FN_SIZE)

/* f(x): eax = 0; ecx = n; do { eax += k; eax ^= x; } while (--ecx); ret */
static void emit_fn(uint8_t *p, uint32_t k, uint32_t n)
{
  static const uint8_t tmpl[] = {0x31, 0xc0,                   /* xor eax, eax */
                                 0xb9, 0, 0, 0, 0,             /* mov ecx, n */
                                 0x05, 0, 0, 0, 0,             /* add eax, k */
                                 0x31, 0xf8,                   /* xor eax, edi */
                                 0xff, 0xc9,                   /* dec ecx */
                                 0x75, 0xf5,                   /* jnz add */
                                 0xc3};                        /* ret */
  memcpy(p, tmpl, sizeof tmpl);
  memcpy(p + 3, &n, 4);
  memcpy(p + 8, &k, 4);
  memset(p + sizeof tmpl, 0xcc, FN_SIZE - sizeof tmpl);
}

static uint32_t model_fn(uint32_t k, uint32_t n, uint32_t x)
{
  uint32_t a = 0;
  do {
    a += k;
    a ^= x;
  } while (--n);
  return a;
}
#endif
