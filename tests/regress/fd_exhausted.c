/* Regression (issue 15, item 4): with every descriptor in use, newly mapped
 * code must still run (hotpath once needed a free descriptor to read
 * /proc/self/maps, took the new code for unmapped memory and delivered
 * SIGSEGV). The program lowers its own descriptor limit, uses up every
 * descriptor, then runs code it writes into a fresh mapping, several times
 * (new translations, each after an mmap that invalidates hotpath's map). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

int main(void)
{
  struct rlimit rl = {64, 64};
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 2;
  int opened = 0;
  while (open("/dev/null", O_RDONLY) >= 0)
    opened++;
  int sum = 0;
  for (int k = 0; k < 4; k++) {
    unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return 3;
    unsigned char code[] = {0xb8, (unsigned char)(40 + k), 0, 0, 0, 0xc3}; /* mov eax, 40+k; ret */
    memcpy(p, code, sizeof code);
    if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
      return 4;
    sum += ((int (*)(void))p)();
  }
  printf("descriptors used up: %s; new code returned %d\n", opened > 0 ? "yes" : "no", sum);
  return sum == 40 + 41 + 42 + 43 ? 0 : 1;
}
