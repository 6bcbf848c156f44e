/* Inline caches whose target changes for good (a sort's comparator from one
 * call to the next): an indirect call site, a `call r64` site and a `jmp
 * [mem]` site each keep one target for 200,000 runs, then another, then a
 * third, then the first again. A site learnt only its first target once
 * (every later call went the long way through the lookup); it now learns
 * the current one after 65,536 misses while the process has one thread
 * (relearn_test.sh counts it). With an argument, a thread runs and is
 * joined first: sites then keep what they learnt (another thread could be
 * between a site's compare and its jump), and every result must still be
 * right. Each phase's sum is checked against the same computation without
 * indirect calls. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NI __attribute__((noinline, noclone))
typedef uint64_t (*fn_t)(uint64_t);
NI static uint64_t fa(uint64_t x) { return x + 3; }
NI static uint64_t fb(uint64_t x) { return x * 5; }
NI static uint64_t fc(uint64_t x) { return x ^ 0x1234; }
static uint64_t plain(int which, uint64_t x) { return which == 0 ? x + 3 : which == 1 ? x * 5 : x ^ 0x1234; }

static fn_t volatile slot; /* read from memory at each call: call [mem] or call r64 */

NI static uint64_t call_through(fn_t f, uint64_t x) { return f(x); } /* call r64 */
NI static uint64_t call_slot(uint64_t x) { return slot(x); }         /* call through memory */

static void *nothing(void *arg) { return arg; }

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "thread") == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0) {
      puts("MISMATCH: thread");
      return 1;
    }
  }
  static const int phases[] = {0, 1, 2, 0};
  static const fn_t fns[] = {fa, fb, fc};
  int bad = 0;
  for (unsigned p = 0; p < sizeof phases / sizeof phases[0]; p++) {
    int w = phases[p];
    slot = fns[w];
    uint64_t s1 = 0, s2 = 0, want = 0;
    for (uint64_t i = 0; i < 200000; i++) {
      s1 += call_through(fns[w], i);
      s2 += call_slot(i);
      want += plain(w, i);
    }
    if (s1 != want || s2 != want) {
      printf("MISMATCH: phase %u: %llu %llu want %llu\n", p, (unsigned long long)s1, (unsigned long long)s2,
             (unsigned long long)want);
      bad = 1;
    }
    printf("phase %u: %llu\n", p, (unsigned long long)want);
  }
  return bad;
}
