/* Regression (review finding): code made of program-break memory must go
 * when the break shrinks over it. hotpath's emulated brk unmapped the pages
 * without dropping their translations or its view of the memory map, so a
 * call into the same address after the break grew back (fresh, not
 * executable pages) ran the old translation instead of faulting. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf back;

/* No stdio buffers: malloc may take memory from the break this test moves. */
#define say(...)                                          \
  do {                                                    \
    char line_[128];                                      \
    int n_ = snprintf(line_, sizeof line_, __VA_ARGS__);  \
    if (write(1, line_, (size_t)n_) < 0)                  \
      return 5;                                           \
  } while (0)

static void on_segv(int sig)
{
  (void)sig;
  siglongjmp(back, 1);
}

int main(void)
{
  long page = sysconf(_SC_PAGESIZE);
  free(malloc(64)); /* malloc's own heap below the part this test moves */
  uint8_t *top = sbrk(0);
  uint8_t *code = (uint8_t *)(((uintptr_t)top + page - 1) & ~(uintptr_t)(page - 1));
  if (sbrk((code - top) + 2 * page) == (void *)-1)
    return 2;
  static const uint8_t ret42[] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov eax, 42; ret */
  memcpy(code, ret42, sizeof ret42);
  /* Read and execute only: hotpath's translation does not check its bytes. */
  if (mprotect(code, (size_t)page, PROT_READ | PROT_EXEC) != 0)
    return 3;
  int (*fn)(void) = (int (*)(void))code;
  say("code in the break returns %d\n", fn());
  /* Shrink the break below the code, then grow it back: fresh pages. */
  if (brk(top) != 0 || sbrk((code - top) + 2 * page) == (void *)-1)
    return 4;
  say("the page again: first byte %d\n", code[0]);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sigaction(SIGSEGV, &sa, NULL);
  if (sigsetjmp(back, 1) == 0)
    say("call after regrowing returned %d\n", fn());
  else
    say("call after regrowing: SIGSEGV (not executable)\n");
  return 0;
}
