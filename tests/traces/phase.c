/* Traces under phase changes: a hot loop whose branch goes one way for the
 * first half of its iterations and the other way after (the trace built in
 * the first phase keeps taking its side exit in the second; a new trace
 * starts from that exit), a loop that flips direction every few thousand
 * iterations, a loop with a data-dependent branch taken about half of the
 * time (side exits all the time), and nested loops whose inner trip count
 * changes. Each result is checked against a closed form or a value computed
 * with a different loop shape, and printed. */
#include <stdint.h>
#include <stdio.h>

static volatile int limit_src = 100000; /* read once: the compiler cannot split the loop */
#include "check.h"

__attribute__((noinline)) static uint64_t up(uint64_t a, unsigned i) { return a + i * 3u + 1; }
__attribute__((noinline)) static uint64_t down(uint64_t a, unsigned i) { return a ^ ((uint64_t)i << 7); }

/* Branch direction flips once, halfway. */
static uint64_t flip_once(int n, int half)
{
  uint64_t a = 0;
  for (int i = 0; i < n; i++) {
    if (i < half)
      a = up(a, (unsigned)i);
    else
      a = down(a, (unsigned)i);
  }
  return a;
}

static uint64_t flip_once_ref(int n, int half)
{
  uint64_t a = 0;
  int i = 0;
  while (i < half) { a = up(a, (unsigned)i); i++; }
  while (i < n) { a = down(a, (unsigned)i); i++; }
  return a;
}

/* Flips every `period` iterations; the taken arm is decided by a global
 * mode the loop itself toggles (so the condition is a load, not i). */
static int mode;
__attribute__((noinline)) static void toggle(void) { mode ^= 1; }

static uint64_t flip_periodic(int n, int period)
{
  uint64_t a = 7, b = 0;
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (mode)
      a = a * 6364136223846793005ull + 1442695040888963407ull;
    else
      b += a >> 17;
    if (++k == period) {
      k = 0;
      toggle();
    }
  }
  return a ^ b;
}

static uint64_t flip_periodic_ref(int n, int period)
{
  uint64_t a = 7, b = 0;
  int m = 0;
  for (int done = 0; done < n;) {
    int run = n - done < period ? n - done : period;
    for (int j = 0; j < run; j++) {
      if (m)
        a = a * 6364136223846793005ull + 1442695040888963407ull;
      else
        b += a >> 17;
    }
    done += run;
    if (run == period)
      m ^= 1;
  }
  return a ^ b;
}

/* A data-dependent branch taken about half of the time (xorshift bits); the
 * arms call different functions so neither compiler level makes it a cmov. */
__attribute__((noinline)) static uint64_t arm_a(uint64_t s, uint64_t x) { return s + (x & 0xffff); }
__attribute__((noinline)) static uint64_t arm_b(uint64_t s, uint64_t x) { return s - (x >> 48) + 3; }

static uint64_t random_branch(int n, unsigned *taken)
{
  uint64_t st = 88172645463325252ull, s = 0;
  unsigned t = 0;
  for (int i = 0; i < n; i++) {
    uint64_t x = xs(&st);
    if (x & (1ull << 37)) {
      s = arm_a(s, x);
      t++;
    } else {
      s = arm_b(s, x);
    }
  }
  *taken = t;
  return s;
}

static uint64_t random_branch_ref(int n, unsigned *taken)
{
  uint64_t st = 88172645463325252ull, s = 0;
  unsigned t = 0;
  for (int i = 0; i < n; i++) {
    uint64_t x = xs(&st);
    int bit = (int)((x >> 37) & 1);
    t += (unsigned)bit;
    s = bit ? s + (x & 0xffff) : s - (x >> 48) + 3;
  }
  *taken = t;
  return s;
}

/* Nested loops: the inner trip count grows, then shrinks to zero and one
 * (the inner loop's exit and the outer loop's back edge change weight). */
static uint64_t nested(int outer)
{
  uint64_t s = 0;
  for (int i = 0; i < outer; i++) {
    int m = i < outer / 2 ? i % 97 : (outer - i) % 3;
    for (int j = 0; j < m; j++)
      s += (uint64_t)(i ^ j) + 1;
  }
  return s;
}

static uint64_t nested_ref(int outer)
{
  uint64_t s = 0;
  for (int i = 0; i < outer; i++) {
    int m = i < outer / 2 ? i % 97 : (outer - i) % 3;
    int j = m;
    while (j-- > 0)
      s += (uint64_t)(i ^ j) + 1;
  }
  return s;
}

/* A loop whose exit condition changes direction: a while loop over a
 * sequence that is first increasing, then decreasing (early-exit search). */
static int search(const int *v, int n, int key)
{
  int i = 0;
  while (i < n && v[i] != key)
    i++;
  return i;
}

int main(void)
{
  int n = limit_src;
  check("flip once", flip_once(n, n / 2), flip_once_ref(n, n / 2));
  check("flip once early", flip_once(n, 10), flip_once_ref(n, 10));
  check("flip once late", flip_once(n, n - 10), flip_once_ref(n, n - 10));
  mode = 0;
  uint64_t p1 = flip_periodic(n, 5000);
  check("flip every 5000", p1, flip_periodic_ref(n, 5000));
  mode = 0;
  uint64_t p2 = flip_periodic(n, 3);
  check("flip every 3", p2, flip_periodic_ref(n, 3));
  mode = 0;
  uint64_t p3 = flip_periodic(n, 1);
  check("flip every 1", p3, flip_periodic_ref(n, 1));
  unsigned t1, t2;
  uint64_t r1 = random_branch(n, &t1), r2 = random_branch_ref(n, &t2);
  check("random branch", r1, r2);
  check("random branch taken", t1, t2);
  printf("taken between 45%% and 55%%: %d\n", t1 > (unsigned)n * 45 / 100 && t1 < (unsigned)n * 55 / 100);
  check("nested", nested(2000), nested_ref(2000));
  static int v[4096];
  for (int i = 0; i < 4096; i++)
    v[i] = i < 2048 ? i : 6143 - i;
  uint64_t found = 0;
  for (int k = 0; k < 200; k++)
    found += (uint64_t)search(v, 4096, k < 100 ? k * 20 : 4096 + k * 3);
  uint64_t want = 0;
  for (int k = 0; k < 200; k++) {
    int key = k < 100 ? k * 20 : 4096 + k * 3, idx = 4096;
    for (int i = 4095; i >= 0; i--)
      if (v[i] == key)
        idx = i;
    want += (uint64_t)idx;
  }
  check("search", found, want);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
