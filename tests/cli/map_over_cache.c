/* Maps memory with MAP_FIXED over hotpath's code cache (found in
 * /proc/self/maps: the read+execute view of shared anonymous pages): hotpath must stop with a clear message (status 125)
 * instead of running on destroyed translations. Natively there is no cache:
 * it says so and exits 0. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  unsigned long lo = 0, hi = 0;
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, " r-xs ") && strstr(line, "/dev/zero (deleted)") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
      break;
  if (!lo) {
    puts("no code cache here");
    return 0;
  }
  void *p = mmap((void *)lo, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  printf("mapped over the cache at %p\n", p);
  return 1;
}
