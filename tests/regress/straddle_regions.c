/* straddle_regions: an instruction in the middle of a block that crosses
 * from one executable mapping into the next, where the two differ in
 * protection (so they are two regions: R-X then RWX, R-X then X-only), runs
 * as natively; one that crosses into a page that is not executable faults
 * as natively, at its own pc, with the registers the block left.
 *
 * Guards against: the decoder running out of bytes at the end of the
 * block's region and treating that as a jump into non-executable memory
 * unless the crossing instruction began its block (a spurious SIGSEGV;
 * found under the JVM, whose code heap has such neighbours). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static uint8_t *page;
static sigjmp_buf back;
static volatile long fault_rip_off, fault_addr_off, fault_rax;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
  (void)sig;
  ucontext_t *uc = ctx;
  fault_rip_off = (long)((uint8_t *)uc->uc_mcontext.gregs[REG_RIP] - page);
  fault_addr_off = (long)((uint8_t *)si->si_addr - page);
  fault_rax = (long)uc->uc_mcontext.gregs[REG_RAX];
  siglongjmp(back, 1);
}

/* At page + 4096 - 20: mov eax, 7; 11 nops; a 10-byte movabs rax, imm64
 * whose last 6 bytes lie on the second page; ret. */
static uint8_t *place(uint8_t *p)
{
  uint8_t *f = p + 4096 - 20;
  static const uint8_t mov7[] = {0xb8, 7, 0, 0, 0};
  memcpy(f, mov7, sizeof mov7);
  memset(f + 5, 0x90, 11);
  static const uint8_t movabs[] = {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8};
  memcpy(f + 16, movabs, sizeof movabs);
  f[26] = 0xc3;
  return f;
}

static int run(const char *what, int second_prot)
{
  page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED)
    return 1;
  uint64_t (*f)(void) = (uint64_t (*)(void))place(page);
  if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0 || mprotect(page + 4096, 4096, second_prot) != 0)
    return 1;
  volatile uint64_t sum = 0; /* (kept across the siglongjmp) */
  for (volatile int i = 0; i < 100; i++) {
    if (sigsetjmp(back, 1)) {
      printf("%s: SIGSEGV at code+%ld, address code+%ld, rax %ld, after %d calls\n", what, fault_rip_off,
             fault_addr_off, fault_rax, i);
      munmap(page, 8192);
      return 0;
    }
    sum += f();
  }
  printf("%s: %llx\n", what, (unsigned long long)sum);
  munmap(page, 8192);
  return 0;
}

int main(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  return run("r-x then rwx", PROT_READ | PROT_WRITE | PROT_EXEC) ||
         run("r-x then --x", PROT_EXEC) ||
         run("r-x then rw-", PROT_READ | PROT_WRITE);
}
