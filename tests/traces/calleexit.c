/* Side exits inside inlined calls. A loop calls a function whose branch
 * goes either way at random: its trace inlines the call, and half of its
 * runs leave the trace inside the callee (the callee then returns outside
 * the trace, through a return the CPU's return stack never saw called).
 * hotpath drops such a trace after a few thousand of those exits, and its
 * head's traces then stop before that call: "quick" (the call is in the
 * loop's first block: no trace at all), "later" (after an inlined call
 * without branches: the trace is cut back before the call's block), "nest" (the call on the path
 * back from an inner loop, which a nested-loop extension records). "rare":
 * a callee that leaves its trace once in 4096 runs keeps its trace (its
 * count starts afresh), "rare2" the same in two threads at once. Each
 * argument runs one case (the counters test asserts on each); no argument
 * runs them all. Each result is checked against the same sums computed
 * without calls. */
#include <pthread.h>
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

__attribute__((noinline)) static uint64_t mix(uint64_t i) { return i * 7 + 3; }

/* The call after another, which has no branch and stays inlined: the
 * rebuilt trace goes through `mix` and is cut back before the block that
 * calls `coin`. */
static uint64_t later(int n, uint64_t seed)
{
  uint64_t s = 0, st = seed;
  for (int i = 0; i < n; i++) {
    s += mix((uint64_t)i);
    s += coin(&st, (uint64_t)i);
  }
  return s;
}

static uint64_t later_ref(int n, uint64_t seed)
{
  uint64_t s = 0, st = seed;
  for (int i = 0; i < n; i++)
    s += (uint64_t)i * 7 + 3 + ((xs(&st) & 1) ? (uint64_t)i * 3 + 1 : (uint64_t)i ^ 5);
  return s;
}

/* The call on the path from an inner loop's exit back to its head: the
 * inner loop's trace is extended along it (nested loops), and the
 * extension inlines the call. */
static uint64_t nest(int n, uint64_t seed)
{
  uint64_t s = 0, st = seed;
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < 3; k++)
      s += (uint64_t)k * (uint64_t)i;
    s += coin(&st, (uint64_t)i);
  }
  return s;
}

static uint64_t nest_ref(int n, uint64_t seed)
{
  uint64_t s = 0, st = seed;
  for (int i = 0; i < n; i++)
    s += 3 * (uint64_t)i + ((xs(&st) & 1) ? (uint64_t)i * 3 + 1 : (uint64_t)i ^ 5);
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

static uint64_t rare_got[2], rare_want;

static void *rare_thread(void *arg)
{
  uintptr_t k = (uintptr_t)arg;
  rare_got[k] = rare(n_src * 13, 2463534242ull);
  return NULL;
}

int main(int argc, char **argv)
{
  const char *only = argc > 1 ? argv[1] : "";
  int n = n_src;
  if (!*only || !strcmp(only, "quick"))
    check("quick", quick(n, 88172645463325252ull), quick_ref(n, 88172645463325252ull));
  if (!*only || !strcmp(only, "later"))
    check("later", later(n, 1181783497276652981ull), later_ref(n, 1181783497276652981ull));
  if (!*only || !strcmp(only, "nest"))
    check("nest", nest(n, 7664345821815920749ull), nest_ref(n, 7664345821815920749ull));
  /* 4096 rare exits take some 17 million runs: 40 million make two rounds. */
  if (!*only || !strcmp(only, "rare"))
    check("rare", rare(n * 13, 2463534242ull), rare_ref(n * 13, 2463534242ull));
  /* The same in two threads at once: each counts its own exits, over its
   * own time. */
  if (!*only || !strcmp(only, "rare2")) {
    pthread_t th[2];
    for (uintptr_t k = 0; k < 2; k++)
      if (pthread_create(&th[k], NULL, rare_thread, (void *)k) != 0) {
        printf("pthread_create failed\n");
        return 1;
      }
    for (int k = 0; k < 2; k++)
      pthread_join(th[k], NULL);
    rare_want = rare_ref(n * 13, 2463534242ull);
    check("rare, thread 1", rare_got[0], rare_want);
    check("rare, thread 2", rare_got[1], rare_want);
  }
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
