/* Regression (fold pass on traces promotion leaves alone): a hot function
 * that is not a loop (so the fold pass runs on its trace without a
 * promotion) computes an address with `add`, then loads through it, then
 * compares. The add's flags are dead for the code (the cmp overwrites
 * them), so the pass used to fold the add into the load's address: when
 * the load faulted, the SIGSEGV handler saw the flags of the `xor` before
 * it instead of the add's (0x44 instead of 0x10 in EFLAGS & 0x8d5). Such a
 * trace keeps the flags exact at faults now. The caller's loop clears
 * memory with `rep stos` (with rcx 0), which keeps it from being promoted.
 * The handler prints the flags and the registers it sees; the last call
 * faults. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf back;
static volatile unsigned long flags_seen, rax_minus_rdx, rcx_seen;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
  (void)sig;
  (void)si;
  const greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
  flags_seen = (unsigned long)g[REG_EFL] & 0x8d5; /* OF SF ZF AF PF CF */
  rax_minus_rdx = (unsigned long)(g[REG_RAX] - g[REG_RDX]);
  rcx_seen = (unsigned long)g[REG_RCX];
  siglongjmp(back, 1);
}

__attribute__((noinline)) static long above_five(long p)
{
  long r;
  __asm__ volatile("xor %%ecx, %%ecx\n\t"   /* ZF and PF set */
                   "mov %1, %%rax\n\t"
                   "mov %1, %%rdx\n\t"
                   "add $8, %%rax\n\t"      /* flags of p + 8 */
                   "mov (%%rax), %%rax\n\t" /* faults when p + 8 is not mapped */
                   "cmp $5, %%rax\n\t"
                   "setg %%cl\n\t"
                   "mov %%rcx, %0"
                   : "=r"(r)
                   : "r"(p)
                   : "rax", "rcx", "rdx", "cc", "memory");
  return r;
}

int main(void)
{
  struct sigaction sa = {0};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  static long cells[2] = {1, 9};
  static long sum;
  static int i;
  if (sigsetjmp(back, 1) == 0)
    for (i = 0; i < 100000; i++) {
      __asm__ volatile("xor %%ecx, %%ecx\n\tlea -64(%%rsp), %%rdi\n\trep stosb" ::: "rcx", "rdi", "memory");
      long p = i == 99999 ? (long)page - 8 : (long)&cells[0];
      sum += above_five(p);
    }
  printf("%ld above five; at the fault: flags 0x%lx, rax - rdx %ld, rcx %lu\n", sum, flags_seen,
         (long)rax_minus_rdx, rcx_seen);
  return 0;
}
