/* Jump tables whose computation writes no flags (a table of absolute
 * addresses, `jmp [table + idx*8]`, as GCC makes for computed gotos): the
 * dispatch's compares of the index must leave the guest's flags as they
 * were, for an index past the entries translated (an entry whose case reads
 * the flags), and at a fault in a case before it writes the flags (a guest
 * SIGSEGV handler reads them from its frame). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

/* dispatch_X(idx, p): flags set to a known state (ZF, PF, CF; cmc reads
 * them, so the dispatch goes after it), then through table X. Cases 0-2
 * write every flag before reading one (case 1 loads from p first); case 3
 * returns the carry flag it sees. The tables are filled at run time, then
 * made read-only (hotpath may read them when it translates). */
long dispatch_a(long idx, long *p);
long dispatch_b(long idx, long *p);
extern uint64_t table_a[512], table_b[512];
extern char case0[], case1[], case2[], case3[];
__asm__(".text\n"
        ".globl dispatch_a, dispatch_b\n"
        "dispatch_a:\n"
        "  xor %eax, %eax\n"
        "  stc\n"
        "  cmc\n"
        "  cmc\n"
        "  lea table_a(%rip), %rdx\n"
        "  jmp *(%rdx,%rdi,8)\n"
        "dispatch_b:\n"
        "  xor %eax, %eax\n"
        "  stc\n"
        "  cmc\n"
        "  cmc\n"
        "  lea table_b(%rip), %rdx\n"
        "  jmp *(%rdx,%rdi,8)\n"
        ".globl case0, case1, case2, case3\n"
        "case0: xor %eax, %eax\n add $10, %rax\n ret\n"
        "case1: mov (%rsi), %rax\n add $20, %rax\n ret\n"
        "case2: xor %eax, %eax\n add $30, %rax\n ret\n"
        "case3: setc %al\n movzbl %al, %eax\n add $40, %rax\n ret\n"
        ".data\n"
        ".p2align 12\n"
        ".globl table_a, table_b\n"
        "table_a: .fill 512, 8, 0\n"
        "table_b: .fill 512, 8, 0\n"
        ".text\n");

static sigjmp_buf env;
static volatile long fault_flags;
static void on_segv(int sig, siginfo_t *si, void *uc_)
{
  (void)sig;
  (void)si;
  ucontext_t *uc = uc_;
  fault_flags = uc->uc_mcontext.gregs[REG_EFL] & 0x8d5; /* CF PF AF ZF SF OF */
  siglongjmp(env, 1);
}

int main(void)
{
  long page = sysconf(_SC_PAGESIZE);
  table_a[0] = (uintptr_t)case0, table_a[1] = (uintptr_t)case2, table_a[2] = (uintptr_t)case0;
  table_a[3] = (uintptr_t)case3;
  table_b[0] = (uintptr_t)case0, table_b[1] = (uintptr_t)case1, table_b[2] = (uintptr_t)case2;
  if (mprotect(table_a, 2 * 512 * 8, PROT_READ))
    return 1;
  long x = 5, acc = 0;
  for (long i = 0; i < 100000; i++)
    acc += dispatch_a(i % 3, &x);
  printf("hot: %ld\n", acc);
  printf("past the translated entries: %ld\n", dispatch_a(3, &x));

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  for (long i = 0; i < 100000; i++)
    acc += dispatch_b(i % 3, &x);
  printf("hot 2: %ld\n", acc);
  if (sigsetjmp(env, 1) == 0)
    dispatch_b(1, NULL);
  printf("flags at the fault: %#lx\n", fault_flags);
  (void)page;
  return 0;
}
