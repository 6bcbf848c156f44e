/* altstack_small: a handler on an 8 KiB sigaltstack.  The signal frame must
 * lie within the alternate stack: no byte below (or above) it may change, the
 * handler must run on it with SS_ONSTACK set, and the program continues.
 *
 * Guards against: hotpath building the guest's signal frame (with its full
 * xsave area and alignment padding) partly below a small alternate stack,
 * silently corrupting the memory under it. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

#define GUARD 4096
#define ALTSZ 8192

static unsigned char *mem;
static volatile int ran, on_alt, flag_onstack;

static void handler(int s)
{
  (void)s;
  volatile char local = 0;
  uintptr_t p = (uintptr_t)&local;
  on_alt = p >= (uintptr_t)(mem + GUARD) && p < (uintptr_t)(mem + GUARD + ALTSZ);
  stack_t cur;
  sigaltstack(NULL, &cur);
  flag_onstack = (cur.ss_flags & SS_ONSTACK) != 0;
  ran++;
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  mem = malloc(GUARD + ALTSZ + GUARD);
  if (!mem) return 1;
  memset(mem, 0xAB, GUARD + ALTSZ + GUARD);
  stack_t ss = {.ss_sp = mem + GUARD, .ss_size = ALTSZ, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) { perror("sigaltstack"); return 1; }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);

  int below = 0, above = 0, used = 0;
  for (int i = 0; i < GUARD; i++) below += mem[i] != 0xAB;
  for (int i = 0; i < GUARD; i++) above += mem[GUARD + ALTSZ + i] != 0xAB;
  for (int i = 0; i < ALTSZ; i++) used += mem[GUARD + i] != 0xAB;
  printf("AT_MINSIGSTKSZ=%lu fits: %d\n", getauxval(AT_MINSIGSTKSZ), getauxval(AT_MINSIGSTKSZ) <= ALTSZ);
  printf("handler ran %d time(s), on the altstack: %d, SS_ONSTACK: %d, altstack used: %d\n", ran, on_alt,
         flag_onstack, used > 0);
  printf("bytes changed below the %d-byte altstack: %d, above it: %d\n", ALTSZ, below, above);

  stack_t cur;
  sigaltstack(NULL, &cur);
  printf("after return: SS_ONSTACK %d\n", (cur.ss_flags & SS_ONSTACK) != 0);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  free(mem);
  return 0;
}
