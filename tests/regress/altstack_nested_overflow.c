/* altstack_nested_overflow: a handler on an alternate stack (no
 * SS_AUTODISARM) raises its own signal again and again (SA_NODEFER): each
 * frame nests below the last on the alternate stack until one would leave
 * it, which the kernel refuses with a SIGSEGV the program cannot catch, even
 * though the memory below the stack is writable.
 *
 * Guards against: hotpath building that frame below the alternate stack. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ALTSZ 16384
static char mem[4 * ALTSZ] __attribute__((aligned(64)));
static char *const alt = mem + 2 * ALTSZ;
static volatile int depth;

static void on_usr1(int sig)
{
  char local;
  int d = ++depth;
  if (&local < alt || &local >= alt + ALTSZ) {
    printf("depth %d: off the alternate stack\n", d);
    _exit(1);
  }
  printf("depth %d\n", d);
  if (d > 1000)
    _exit(2);
  raise(sig);
}

static void on_segv(int sig)
{
  (void)sig;
  printf("SIGSEGV handler ran\n");
  _exit(3);
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  stack_t ss = {.ss_sp = alt, .ss_size = ALTSZ, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_ONSTACK | SA_NODEFER;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = on_segv; /* on the normal stack: it could run */
  sa.sa_flags = 0;
  sigaction(SIGSEGV, &sa, NULL);
  printf("raising\n");
  raise(SIGUSR1);
  printf("returned at depth %d\n", depth);
  return 0;
}
