/* Four threads run the same hot loops at the same time (released together
 * by a barrier), so traces are recorded and built by one thread while the
 * others run the blocks, the heads being counted, or the new traces: a
 * loop with a chain of calls, a phase change and an indirect call whose
 * target depends on the thread and changes halfway. Each thread computes
 * a checksum; main joins them and compares each with the same computation
 * done alone afterwards. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define NT 4
#define NI __attribute__((noinline, noclone))

NI static uint64_t g3(uint64_t x) { return x * 0x9e3779b97f4a7c15ull + 3; }
NI static uint64_t g2(uint64_t x) { return g3(x ^ (x >> 29)) + 2; }
NI static uint64_t g1(uint64_t x) { return g2(x + 1) ^ 0x1234; }
NI static uint64_t ia(uint64_t x) { return x + 0x111; }
NI static uint64_t ib(uint64_t x) { return x ^ 0x2222; }
NI static uint64_t ic(uint64_t x) { return (x << 1) | (x >> 63); }
NI static uint64_t id(uint64_t x) { return x - 0x4444; }
static uint64_t (*const tab[4])(uint64_t) = {ia, ib, ic, id};

NI static uint64_t work(int t, int n)
{
  uint64_t s = (uint64_t)t + 1;
  uint64_t (*fp)(uint64_t) = tab[t];
  for (int i = 0; i < n; i++) {
    if (i == n / 2)
      fp = tab[(t + 1) & 3];
    if (i < n / 3)
      s = g1(s) + (uint64_t)i;
    else
      s = fp(s) ^ g1(s + (uint64_t)t);
    if ((s & 7) == (uint64_t)t)
      s += 13;
  }
  return s;
}

static pthread_barrier_t bar;
static uint64_t res[NT];

static void *thread(void *arg)
{
  int t = (int)(intptr_t)arg;
  pthread_barrier_wait(&bar);
  uint64_t s = 0;
  for (int round = 0; round < 4; round++)
    s = s * 31 + work((t + round) & 3, 20000 + 1000 * t);
  res[t] = s;
  return NULL;
}

int main(void)
{
  pthread_t th[NT];
  pthread_barrier_init(&bar, NULL, NT);
  for (int t = 0; t < NT; t++)
    pthread_create(&th[t], NULL, thread, (void *)(intptr_t)t);
  for (int t = 0; t < NT; t++)
    pthread_join(th[t], NULL);
  int fails = 0;
  for (int t = 0; t < NT; t++) {
    uint64_t s = 0;
    for (int round = 0; round < 4; round++)
      s = s * 31 + work((t + round) & 3, 20000 + 1000 * t);
    printf("thread %d: %llu%s\n", t, (unsigned long long)res[t], res[t] == s ? "" : " MISMATCH");
    fails += res[t] != s;
  }
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
