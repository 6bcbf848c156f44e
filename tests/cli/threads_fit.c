/* How many threads fit (each blocked in pause()) before pthread_create
 * fails, up to 200: run under `ulimit -v` by cli_test.sh, natively and
 * under hotpath, to see what hotpath's own address space costs. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
  pause();
  return arg;
}

int main(void)
{
  int n = 0;
  pthread_t t;
  while (n < 200 && pthread_create(&t, NULL, sleeper, NULL) == 0)
    n++;
  printf("%d\n", n);
  return 0;
}
