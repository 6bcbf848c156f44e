/* nx_jump: jumping into memory that is not executable (a static data array,
 * an anonymous read-write page) must raise SIGSEGV in the guest, with si_addr
 * the target address, and a handler must be able to siglongjmp out.
 *
 * Guards against: hotpath translating and running code from non-executable
 * memory (it only checked that the bytes were readable). */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static sigjmp_buf jb;
static volatile int signo;
static void *volatile fault_addr;

static void handler(int s, siginfo_t *si, void *uc)
{
  (void)uc;
  signo = s;
  fault_addr = si->si_addr;
  siglongjmp(jb, 1);
}

static unsigned char data[16] = {0xc3};   /* ret */

static void try_jump(const char *what, void *target)
{
  signo = 0;
  fault_addr = NULL;
  if (sigsetjmp(jb, 1)) {
    printf("%s: caught signal %d (SIGSEGV: %d), si_addr is the target: %d\n", what, signo,
           signo == SIGSEGV, fault_addr == target);
    return;
  }
  ((void (*)(void))target)();
  printf("%s: ran non-executable memory!\n", what);
}

int main(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);

  try_jump("static data", data);
  unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) { perror("mmap"); return 1; }
  page[0] = 0xc3;
  try_jump("read-write page", page);
  /* The same page after it has been made executable runs. */
  mprotect(page, 4096, PROT_READ | PROT_EXEC);
  ((void (*)(void))page)();
  puts("after mprotect(PROT_EXEC): ran");
  munmap(page, 4096);
  return 0;
}
