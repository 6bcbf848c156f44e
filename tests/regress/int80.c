/* int80: 32-bit system calls (`int $0x80`, i386 numbers) from a 64-bit
 * program: hotpath performs them through the kernel after checking the
 * number (those that would change memory mappings, signal handling or
 * processes behind its back stop it: tests/cli). Unlike `syscall`, the
 * instruction keeps rcx, r11 and the flags; arguments are 32 bits wide;
 * exit_group ends the program with its status.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

static long int80(long nr, long b, long c, long d)
{
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(b), "c"(c), "d"(d) : "memory");
  return r;
}

static volatile sig_atomic_t got;
static void on_usr1(int sig) { got = sig; }

static int pipefd[2];
static void on_alarm(int sig)
{
  (void)sig;
  char c = 'x';
  if (write(pipefd[1], &c, 1) != 1)
    _exit(9);
}

/* A read of an empty pipe through int 0x80, ended by SIGALRM 20 ms later,
 * whose handler writes a byte into the pipe: under SA_RESTART the kernel
 * reads it (1), without it the call fails with EINTR (-4). */
static long interrupted_read(char *buf, int flags)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = flags;
  sigaction(SIGALRM, &sa, NULL);
  if (pipe(pipefd) != 0)
    return -1000;
  struct itimerval it = {{0, 0}, {0, 20000}};
  setitimer(ITIMER_REAL, &it, NULL);
  long r = int80(3, pipefd[0], (long)(uintptr_t)buf, 1);
  close(pipefd[0]);
  close(pipefd[1]);
  return r;
}

int main(void)
{
  printf("getpid: %s\n", int80(20, 0, 0, 0) == getpid() ? "same as getpid()" : "differs");
  /* A buffer below 4 GiB, as a 32-bit pointer must be. */
  char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (low == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  strcpy(low, "written by int 0x80\n");
  fflush(stdout);
  long w = int80(4, 1, (long)(uintptr_t)low, (long)strlen(low));
  printf("write: %ld\n", w);
  /* A pointer above 4 GiB is cut to 32 bits by the kernel: EFAULT here. */
  static char high[8] = "x\n";
  printf("write through a truncated pointer: %ld\n", (uintptr_t)high >> 32 ? int80(4, 1, (long)(uintptr_t)high, 2) : -14L);
  printf("unknown call 9999: %ld\n", int80(9999, 0, 0, 0));
  printf("rseq: %s\n", int80(386, 0, 0, 0) < 0 ? "fails" : "succeeds");

  /* rcx, r11, r8-r10 and the flags survive the instruction. */
  uint64_t rcx = 0x1111222233334444ull, r11 = 0x5555666677778888ull, r8v = 0x99990000aaaabbbbull;
  uint64_t r9v = 0x0123456789abcdefull, r10v = 0xfedcba9876543210ull;
  uint8_t cf, zf;
  long r;
  __asm__ volatile("mov %[c], %%rcx\n\t"
                   "mov %[e], %%r11\n\t"
                   "mov %[f], %%r8\n\t"
                   "mov %[g], %%r9\n\t"
                   "mov %[h], %%r10\n\t"
                   "xor %%ebx, %%ebx\n\t" /* ZF = 1 */
                   "stc\n\t"
                   "mov $20, %%eax\n\t"
                   "int $0x80\n\t"
                   "setc %[cf]\n\t"
                   "setz %[zf]\n\t"
                   "mov %%rcx, %[c]\n\t"
                   "mov %%r11, %[e]\n\t"
                   "mov %%r8, %[f]\n\t"
                   "mov %%r9, %[g]\n\t"
                   "mov %%r10, %[h]"
                   : [c] "+m"(rcx), [e] "+m"(r11), [f] "+m"(r8v), [g] "+m"(r9v), [h] "+m"(r10v), [cf] "=m"(cf),
                     [zf] "=m"(zf), "=a"(r)
                   :
                   : "rbx", "rcx", "r8", "r9", "r10", "r11", "cc", "memory");
  printf("after int 0x80: rcx %#llx r11 %#llx r8 %#llx r9 %#llx r10 %#llx CF %u ZF %u\n", (unsigned long long)rcx,
         (unsigned long long)r11, (unsigned long long)r8v, (unsigned long long)r9v, (unsigned long long)r10v, cf, zf);

  /* A signal sent to itself through int 0x80 (kill = 37) reaches its handler. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  long k = int80(37, getpid(), SIGUSR1, 0);
  printf("kill: %ld, handler saw signal %d\n", k, (int)got);

  printf("read interrupted, SA_RESTART: %ld\n", interrupted_read(low + 64, SA_RESTART));
  printf("read interrupted, no SA_RESTART: %ld\n", interrupted_read(low + 64, 0));

  /* A hot loop of 32-bit calls (traces form around it). */
  long sum = 0;
  for (int i = 0; i < 3000; i++)
    sum += int80(20, 0, 0, 0) == getpid();
  printf("3000 calls in a loop: %ld right\n", sum);

  printf("exit_group(7) through int 0x80\n");
  fflush(stdout);
  int80(252, 7, 0, 0);
  printf("not reached\n");
  return 0;
}
