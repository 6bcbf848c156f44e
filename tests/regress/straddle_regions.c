/* straddle_regions: an instruction in the middle of a block that crosses
 * from one executable mapping into the next, where the two differ in
 * protection (so they are two regions: R-X then RWX, R-X then X-only), runs
 * as natively, also in a block that starts 2 bytes before the boundary; one
 * that crosses into a page that is not executable faults as natively, at
 * its own pc, with the registers the block left, and runs once the program
 * makes that page executable; the kernel's si_code (no permission, or not
 * mapped) is the one hotpath gives.
 *
 * Guards against: the decoder running out of bytes at the end of the
 * block's region and treating that as a jump into non-executable memory
 * unless the crossing instruction began its block (a spurious SIGSEGV;
 * found under the JVM, whose code heap has such neighbours), or began
 * within 15 bytes of the boundary and ended past them; and a block that
 * stopped there keeping its SIGSEGV after the next page became executable
 * (its range held only its first byte, on the first page: found in
 * review). */
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
static volatile long fault_rip_off, fault_addr_off, fault_rax, fault_code;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
  (void)sig;
  ucontext_t *uc = ctx;
  fault_rip_off = (long)((uint8_t *)uc->uc_mcontext.gregs[REG_RIP] - page);
  fault_addr_off = (long)((uint8_t *)si->si_addr - page);
  fault_rax = (long)uc->uc_mcontext.gregs[REG_RAX];
  fault_code = si->si_code;
  siglongjmp(back, 1);
}

/* At page + 4096 - 20: mov eax, 7; 11 nops; a 10-byte movabs rax, imm64
 * whose last 6 bytes lie on the second page; ret. At page + 4096 - 2
 * (near): 15 nops, the movabs (all of it on the second page, past the 15
 * bytes a block starting there reads across), ret. */
static uint8_t *place(uint8_t *p, int near)
{
  uint8_t *f = p + 4096 - (near ? 2 : 20);
  static const uint8_t mov7[] = {0xb8, 7, 0, 0, 0};
  memcpy(f, mov7, sizeof mov7);
  memset(f + 5, 0x90, near ? 10 : 11);
  static const uint8_t movabs[] = {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8};
  memcpy(f + (near ? 15 : 16), movabs, sizeof movabs);
  f[near ? 25 : 26] = 0xc3;
  return f;
}

/* 100 calls; a SIGSEGV ends the round, and after it the second page is
 * made executable for a second round (then_exec). second_prot < 0: the
 * second page is unmapped. */
static int run(const char *what, int near, int second_prot, int then_exec)
{
  page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED)
    return 1;
  uint64_t (*f)(void) = (uint64_t (*)(void))place(page, near);
  if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0 ||
      (second_prot < 0 ? munmap(page + 4096, 4096) : mprotect(page + 4096, 4096, second_prot)) != 0)
    return 1;
  for (volatile int round = 0; round < 1 + then_exec; round++) {
    volatile uint64_t sum = 0; /* (kept across the siglongjmp) */
    for (volatile int i = 0; i < 100; i++) {
      if (sigsetjmp(back, 1)) {
        /* (near: the first instruction faults, rax is whatever it was) */
        printf("%s: SIGSEGV (%s) at code+%ld, address code+%ld, rax %ld, after %d calls\n", what,
               fault_code == SEGV_MAPERR ? "not mapped" : fault_code == SEGV_ACCERR ? "no permission" : "?",
               fault_rip_off, fault_addr_off, near ? -1 : fault_rax, (int)i);
        goto next;
      }
      sum += f();
    }
    printf("%s: %llx\n", what, (unsigned long long)sum);
  next:
    if (then_exec && mprotect(page + 4096, 4096, PROT_READ | PROT_EXEC) != 0)
      return 1;
  }
  munmap(page, second_prot < 0 ? 4096 : 8192);
  return 0;
}

int main(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  return run("r-x then rwx", 0, PROT_READ | PROT_WRITE | PROT_EXEC, 0) ||
         run("r-x then --x", 0, PROT_EXEC, 0) ||
         run("r-x then rwx, near the end", 1, PROT_READ | PROT_WRITE | PROT_EXEC, 0) ||
         run("r-x then rw-, then r-x", 0, PROT_READ | PROT_WRITE, 1) ||
         run("r-x then r--, near the end, then r-x", 1, PROT_READ, 1) ||
         run("r-x then nothing", 0, -1, 0);
}
