#define _GNU_SOURCE
/* Exact guest state at a fault inside a translated call sequence: a call
 * whose push faults (stack at a guard page), an indirect call through a bad
 * pointer, a direct call with a bad stack. The SIGSEGV handler reads the
 * registers from its ucontext; they must be what native execution has. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile uint64_t rcx, rdx, r8, r11, rip, rsp, rax, addr;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
  (void)sig;
  ucontext_t *uc = ucv;
  rcx = (uint64_t)uc->uc_mcontext.gregs[REG_RCX];
  rdx = (uint64_t)uc->uc_mcontext.gregs[REG_RDX];
  r8 = (uint64_t)uc->uc_mcontext.gregs[REG_R8];
  r11 = (uint64_t)uc->uc_mcontext.gregs[REG_R11];
  rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  rsp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
  rax = (uint64_t)uc->uc_mcontext.gregs[REG_RAX];
  addr = (uint64_t)(uintptr_t)si->si_addr;
  siglongjmp(jb, 1);
}

/* rdi = stack pointer to use, rsi = call target / pointer */
void indirect_call_push_fault(uint64_t sp, uint64_t fn);
void indirect_call_bad_pointer(uint64_t sp, uint64_t ptr);
void direct_call_push_fault(uint64_t sp);
extern char site1[], site2[], site3[];
__asm__(".text\n"
        ".globl indirect_call_push_fault\n"
        "indirect_call_push_fault:\n"
        "  mov $0x1111, %rcx\n  mov $0x2222, %rdx\n  mov $0x8888, %r8\n  mov $0xbbbb, %r11\n"
        "  mov %rsi, %rax\n  mov %rdi, %rsp\n"
        ".globl site1\nsite1:\n  call *%rax\n  ud2\n"
        ".globl indirect_call_bad_pointer\n"
        "indirect_call_bad_pointer:\n"
        "  mov $0x1112, %rcx\n  mov $0x2223, %rdx\n  mov $0x8889, %r8\n  mov $0xbbbc, %r11\n"
        "  mov %rsi, %rax\n  mov %rdi, %rsp\n"
        ".globl site2\nsite2:\n  call *8(%rax)\n  ud2\n"
        ".globl direct_call_push_fault\n"
        "direct_call_push_fault:\n"
        "  mov $0x1113, %rcx\n  mov $0x2224, %rdx\n  mov $0x888a, %r8\n  mov $0xbbbd, %r11\n"
        "  mov %rdi, %rsp\n  xor %eax, %eax\n"
        ".globl site3\nsite3:\n  call direct_call_push_fault\n  ud2\n");

static void target(void) {}

static void report(const char *what, uint64_t want_rip, uint64_t want_rsp, uint64_t want_rax)
{
  printf("%s: rcx=%lx rdx=%lx r8=%lx r11=%lx rip-ok=%d rsp-ok=%d rax-ok=%d\n", what,
         (unsigned long)rcx, (unsigned long)rdx, (unsigned long)r8, (unsigned long)r11,
         rip == want_rip, rsp == want_rsp, rax == want_rax);
}

int main(void)
{
  static char altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, NULL);
  char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  mprotect(pages, 4096, PROT_NONE);
  uint64_t guard_top = (uint64_t)(uintptr_t)(pages + 4096); /* push goes below: faults */
  uint64_t good = (uint64_t)(uintptr_t)(pages + 8192 - 64);
  for (int round = 0; round < 3; round++) {
    if (sigsetjmp(jb, 1) == 0)
      indirect_call_push_fault(guard_top, (uint64_t)(uintptr_t)target);
    report("indirect call, push faults", (uint64_t)(uintptr_t)site1, guard_top, (uint64_t)(uintptr_t)target);
    if (sigsetjmp(jb, 1) == 0)
      indirect_call_bad_pointer(good, 16);
    report("indirect call through a bad pointer", (uint64_t)(uintptr_t)site2, good, 16);
    printf("  fault address %lx\n", (unsigned long)addr);
    if (sigsetjmp(jb, 1) == 0)
      direct_call_push_fault(guard_top);
    report("direct call, push faults", (uint64_t)(uintptr_t)site3, guard_top, 0);
  }
  return 0;
}
