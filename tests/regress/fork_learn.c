/* A parent forks children that run code it never runs itself; before each
 * later fork hotpath builds, in the parent, the blocks more than one of its
 * earlier children built (so that later children inherit them). Those blocks must be
 * translated from the parent's own memory: the first child runs code it
 * mapped at a fixed address that the parent then maps with other code
 * there, which the parent never calls but its later children do (they
 * inherit the parent's mapping and must see the parent's code, 42, not the
 * first child's, 7). The counter test (tests/counters/fork_learn_test.sh)
 * checks that the parent built such blocks. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define CODE_AT ((void *)0x6f0000000000ul)

/* Code at CODE_AT: mov eax, v; ret. */
static int map_code(uint8_t v)
{
  uint8_t *p = mmap(CODE_AT, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != CODE_AT)
    return -1;
  const uint8_t code[] = {0xb8, v, 0, 0, 0, 0xc3};
  memcpy(p, code, sizeof code);
  return mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static int call_code(void) { return ((int (*)(void))CODE_AT)(); }

/* Code only children run: a switch of many cases, loops, formatting. */
static long leaf(long x, int k)
{
  switch (k % 12) {
  case 0: return x * 3 + 1;
  case 1: return x ^ 0x5a5a;
  case 2: return x / 3;
  case 3: return x << 2;
  case 4: return x - 17;
  case 5: return x % 97;
  case 6: return x * x % 1009;
  case 7: return ~x & 0xffff;
  case 8: return x + k;
  case 9: return x > 100 ? x - 100 : x + 100;
  case 10: return (x & 1) ? x * 5 : x / 2;
  default: return x;
  }
}

static long child_side(int round)
{
  long s = 0;
  for (int k = 0; k < 500; k++)
    s += leaf(round * 1000 + k, k);
  char buf[80];
  int n = snprintf(buf, sizeof buf, "round %d sum %ld", round, s);
  for (int i = 0; i < n; i++)
    s += (unsigned char)buf[i] * (i + 1);
  return s;
}

int main(void)
{
  for (int round = 0; round < 6; round++) {
    int fd[2];
    if (pipe(fd) != 0) {
      perror("pipe");
      return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      close(fd[0]);
      long r[2] = {child_side(round), -1};
      if (round == 0 && map_code(7) == 0)
        r[1] = call_code();
      else if (round > 0)
        r[1] = call_code(); /* the parent's mapping, inherited */
      if (write(fd[1], r, sizeof r) != (ssize_t)sizeof r)
        _exit(2);
      _exit(0);
    }
    close(fd[1]);
    long r[2];
    ssize_t got = read(fd[0], r, sizeof r);
    close(fd[0]);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || got != (ssize_t)sizeof r) {
      printf("round %d: child failed\n", round);
      return 1;
    }
    printf("round %d: child computed %ld, code at %p returned %ld\n", round, r[0], CODE_AT, r[1]);
    if (round == 0 && map_code(42) != 0) { /* the parent's own code there; it never calls it */
      printf("cannot map code\n");
      return 1;
    }
  }
  return 0;
}
