/* --cache-size (code cache eviction): a JIT-style program that makes and
 * runs far more distinct code than a small code cache holds (run with
 * --cache-size=1M it flushes the cache dozens of times). Each function has
 * a loop (trace heads, traces, optimized traces at --opt=1/2); pages are
 * written RW, then made RX (W^X), rewritten in place, or unmapped. A JIT
 * function calls back into C, which makes and runs enough new code to
 * flush the cache several times, and then returns into the JIT function
 * (a continuation of a flushed generation), also recursively. A fork after
 * flushes runs more code in the child. Results are checked against a C
 * model and printed; under hotpath they must equal native. An argument
 * "rss" also prints the peak resident size (for the --stats check, not
 * for the differential test). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jit_fn.h"

/* g(x, cb): push rbx; mov ebx, edi; call rsi; add eax, ebx; pop rbx; ret */
static void emit_caller(uint8_t *p)
{
  static const uint8_t tmpl[] = {0x53, 0x89, 0xfb, 0xff, 0xd6, 0x01, 0xd8, 0x5b, 0xc3};
  memcpy(p, tmpl, sizeof tmpl);
}

static uint8_t *new_page(void)
{
  uint8_t *p = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  return p;
}

static int bad;

/* One round: a page of distinct functions, each run a few times. */
static uint64_t round_of_code(uint8_t *page, uint32_t seed, unsigned nfns)
{
  if (mprotect(page, PAGE_BYTES, PROT_READ | PROT_WRITE) != 0) {
    perror("mprotect");
    exit(1);
  }
  for (unsigned i = 0; i < nfns; i++)
    emit_fn(page + i * FN_SIZE, seed * 7919u + i, 3 + (i + seed) % 17);
  if (mprotect(page, PAGE_BYTES, PROT_READ | PROT_EXEC) != 0) {
    perror("mprotect");
    exit(1);
  }
  uint64_t sum = 0;
  for (unsigned rep = 0; rep < 3; rep++)
    for (unsigned i = 0; i < nfns; i++) {
      uint32_t (*f)(uint32_t) = (uint32_t (*)(uint32_t))(void *)(page + i * FN_SIZE);
      uint32_t x = i * 2654435761u + rep, got = f(x);
      if (got != model_fn(seed * 7919u + i, 3 + (i + seed) % 17, x))
        bad++;
      sum += got;
    }
  return sum;
}

static uint8_t *pages[4];
static uint32_t next_seed = 1;

static uint64_t run_rounds(unsigned rounds)
{
  uint64_t sum = 0;
  for (unsigned r = 0; r < rounds; r++) {
    unsigned k = next_seed % 4;
    if (next_seed % 5 == 0) { /* sometimes the page goes away and comes back elsewhere */
      munmap(pages[k], PAGE_BYTES);
      pages[k] = new_page();
    }
    sum += round_of_code(pages[k], next_seed++, FNS);
  }
  return sum;
}

static uint8_t *caller_page;
static int depth;

/* Called from JIT code: makes enough new code to flush a small cache, then
 * returns into the JIT caller (and once more through a nested call). */
static uint32_t callback(void)
{
  uint32_t r = (uint32_t)run_rounds(4);
  if (++depth < 3) {
    uint32_t (*g)(uint32_t, uint32_t (*)(void)) = (uint32_t (*)(uint32_t, uint32_t (*)(void)))(void *)caller_page;
    r += g(depth * 1000u, callback);
  }
  return r;
}

static void print_rss(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0)
      fprintf(stderr, "%s", line);
  if (f)
    fclose(f);
}

int main(int argc, char **argv)
{
  for (int i = 0; i < 4; i++)
    pages[i] = new_page();
  uint64_t a = run_rounds(10);
  printf("rounds: %llu\n", (unsigned long long)a);

  caller_page = new_page();
  emit_caller(caller_page);
  mprotect(caller_page, PAGE_BYTES, PROT_READ | PROT_EXEC);
  uint32_t (*g)(uint32_t, uint32_t (*)(void)) = (uint32_t (*)(uint32_t, uint32_t (*)(void)))(void *)caller_page;
  depth = 0;
  uint32_t c = g(77, callback);
  printf("calls across flushes: %u\n", c);

  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    uint64_t s = run_rounds(6);
    printf("child: %llu, bad %d\n", (unsigned long long)s, bad);
    fflush(stdout);
    _exit(bad ? 1 : 3);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  printf("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  uint64_t d = run_rounds(6);
  printf("after fork: %llu\n", (unsigned long long)d);
  printf("bad results: %d\n", bad);
  if (argc > 1 && strcmp(argv[1], "rss") == 0)
    print_rss();
  return bad != 0;
}
