/* Old static binaries call the legacy vsyscall page (execute-only on modern
 * kernels, so it cannot be translated): hotpath emulates its three entries. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

int main(void)
{
  time_t (*vtime)(time_t *) = (time_t (*)(time_t *))0xffffffffff600400ul;
  int (*vgettimeofday)(struct timeval *, void *) = (int (*)(struct timeval *, void *))0xffffffffff600000ul;
  time_t t1 = vtime(NULL), t2 = time(NULL);
  struct timeval tv;
  int r = vgettimeofday(&tv, NULL);
  printf("time via vsyscall: %s\n", t1 > 0 && t2 - t1 < 5 ? "ok" : "bad");
  printf("gettimeofday via vsyscall: %d %s\n", r, tv.tv_sec >= t1 ? "ok" : "bad");
  return 0;
}
