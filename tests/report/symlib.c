/* A hot loop inside a shared library's exported function: bsearch (libc)
 * over a sorted array, with a comparator in the program. */
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

int main(void)
{
  static int v[4096];
  for (int i = 0; i < 4096; i++)
    v[i] = 3 * i;
  long found = 0;
  for (int k = 0; k < 300000; k++) {
    int key = (k * 7) % 12288;
    found += bsearch(&key, v, 4096, sizeof v[0], cmp) != NULL;
  }
  printf("%ld\n", found);
  return 0;
}
