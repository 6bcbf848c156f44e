/* Side exits inside inlined calls. A loop calls a function whose branch
 * goes either way at random: its trace inlines the call, and half of its
 * runs leave the trace inside the callee (the callee then returns outside
 * the trace, through a return the CPU's return stack never saw called).
 * hotpath drops such a trace after a few thousand of those exits and
 * rebuilds its head's traces without inlined calls. A second loop's callee
 * leaves its trace once in 4096 runs: that trace stays (its count starts
 * afresh). Argument "quick" or "rare" runs one loop only (the counters
 * test asserts on each); no argument runs both. Each result is checked
 * against the same sums computed without calls. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static volatile int n_src = 3000000; /* read once: the compiler cannot fold the loops */

__attribute__((noinline)) static uint64_t coin(uint64_t *st, uint64_t i)
{
  if (xs(st) & 1) /* either way at random: a side exit inside the inlined call */
    return i * 3 + 1;
  return i ^ 5;
}

__attribute__((noinline)) static uint64_t seldom(uint64_t *st, uint64_t i)
{
  if ((xs(st) & 4095) == 0) /* about once in 4096 calls */
    return i << 2;
  return i + 7;
}

static uint64_t quick(int n, uint64_t seed)
{
  uint64_t s = 0, st = seed;
  for (int i = 0; i < n; i++)
    s += coin(&st, (uint64_t)i);
  return s;
}

static uint64_t quick_ref(int n, uint64_t seed)
{
  uint64_t s = 0, st = seed;
  for (int i = 0; i < n; i++)
    s += (xs(&st) & 1) ? (uint64_t)i * 3 + 1 : (uint64_t)i ^ 5;
  return s;
}

static uint64_t rare(int n, uint64_t seed)
{
  uint64_t s = 0, st = seed;
  for (int i = 0; i < n; i++)
    s += seldom(&st, (uint64_t)i);
  return s;
}

static uint64_t rare_ref(int n, uint64_t seed)
{
  uint64_t s = 0, st = seed;
  for (int i = 0; i < n; i++)
    s += (xs(&st) & 4095) == 0 ? (uint64_t)i << 2 : (uint64_t)i + 7;
  return s;
}

int main(int argc, char **argv)
{
  const char *only = argc > 1 ? argv[1] : "";
  int n = n_src;
  if (!*only || !strcmp(only, "quick"))
    check("quick", quick(n, 88172645463325252ull), quick_ref(n, 88172645463325252ull));
  /* 4096 rare exits take some 17 million runs: 40 million make two rounds. */
  if (!*only || !strcmp(only, "rare"))
    check("rare", rare(n * 13, 2463534242ull), rare_ref(n * 13, 2463534242ull));
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
