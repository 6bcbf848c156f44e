/* A lookup entry removed by munmap (a tombstone) must not match a later jump to another address (here 1): that jump is a SIGSEGV. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
static sigjmp_buf jb;
static void h(int s, siginfo_t *si, void *u) { (void)u; printf("SIGSEGV (%d) si_addr=%p\n", s, si->si_addr); siglongjmp(jb, 1); }
__attribute__((noinline)) static int call_ptr(int (*f)(void)) { int r = f(); __asm__ volatile("" ::: "memory"); return r; }
static int g(void) { return 7; }
int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  unsigned char *p = mmap((void *)0x10000000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  static const unsigned char code[] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov eax,42; ret */
  memcpy(p + 1, code, sizeof code);
  mprotect(p, 4096, PROT_READ | PROT_EXEC);
  printf("g: %d\n", call_ptr(g));                       /* the site learns g */
  printf("X: %d\n", call_ptr((int (*)(void))(p + 1)));  /* lookup miss: X inserted */
  munmap(p, 4096);                                      /* X removed: tombstone */
  if (sigsetjmp(jb, 1) == 0) {
    int r = call_ptr((int (*)(void))1);
    printf("BUG: call to address 1 returned %d\n", r);
    return 1;
  }
  puts("ok");
  return 0;
}
