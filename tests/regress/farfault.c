/* farfault: a SIGSEGV raised by a rip-relative write to a const global (in
 * .rodata, so every write faults) must show the guest handler the exact
 * guest registers: every general register, rsp, and rip = the faulting
 * instruction.  The handler resumes past the instruction by setting REG_RIP
 * in its ucontext; after rt_sigreturn the program checks that every register
 * still holds its value.  Cases: a plain store, a read-modify-write (add),
 * xchg and lock cmpxchg with a rip-relative operand, and stores whose source
 * register is r11 or r10 (the registers a translator would pick as scratch).
 *
 * Guards against: under --debug-far-cache (code cache out of rip-relative
 * reach) hotpath rewrites a rip-relative operand through a scratch register
 * (mov $target, %r11; op ..., (%r11)); a fault in that instruction must give
 * the guest handler the guest's scratch register, not the translator's
 * address in it. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

/* The faulted-on data: const, so in .rodata (read-only).  "used": referenced
 * only from the assembly below. */
__attribute__((used)) static const uint32_t farfault_ro32 = 5;
__attribute__((used)) static const uint64_t farfault_ro64 = 7;

/* Written by the assembly: rsp at the fault, registers after resuming. */
__attribute__((used)) static volatile uint64_t farfault_rsp;
__attribute__((used)) static volatile uint64_t farfault_after[15];

#define XSTR(x) #x
#define STR(x) XSTR(x)

/* The 15 registers other than rsp, with their distinct values; the order is
 * that of farfault_after[]. */
#define V_RAX 0x1a2b3c4d5e6f0001
#define V_RBX 0x1a2b3c4d5e6f0102
#define V_RCX 0x1a2b3c4d5e6f0203
#define V_RDX 0x1a2b3c4d5e6f0304
#define V_RSI 0x1a2b3c4d5e6f0405
#define V_RDI 0x1a2b3c4d5e6f0506
#define V_RBP 0x1a2b3c4d5e6f0607
#define V_R8  0x1a2b3c4d5e6f0708
#define V_R9  0x1a2b3c4d5e6f0809
#define V_R10 0x1a2b3c4d5e6f090a
#define V_R11 0x1a2b3c4d5e6f0a0b
#define V_R12 0x1a2b3c4d5e6f0b0c
#define V_R13 0x1a2b3c4d5e6f0c0d
#define V_R14 0x1a2b3c4d5e6f0d0e
#define V_R15 0x1a2b3c4d5e6f0e0f

static const struct {
  const char *name;
  int greg;
  uint64_t want;
} regs[15] = {
  {"rax", REG_RAX, V_RAX}, {"rbx", REG_RBX, V_RBX}, {"rcx", REG_RCX, V_RCX}, {"rdx", REG_RDX, V_RDX},
  {"rsi", REG_RSI, V_RSI}, {"rdi", REG_RDI, V_RDI}, {"rbp", REG_RBP, V_RBP}, {"r8", REG_R8, V_R8},
  {"r9", REG_R9, V_R9},    {"r10", REG_R10, V_R10}, {"r11", REG_R11, V_R11}, {"r12", REG_R12, V_R12},
  {"r13", REG_R13, V_R13}, {"r14", REG_R14, V_R14}, {"r15", REG_R15, V_R15},
};

/* One function per case: saves the callee-saved registers, records rsp,
 * loads all 15 registers, runs INSN at <name>_at, and at <name>_resume
 * (where the handler sends it) stores the 15 registers to farfault_after,
 * restores and returns.  No calls, so stack alignment does not matter. */
#define FAULT_CASE(name, insn)                                   \
  "  .text\n"                                                    \
  "  .type " #name ", @function\n"                               \
  #name ":\n"                                                    \
  "  push %rbx\n  push %rbp\n  push %r12\n"                      \
  "  push %r13\n  push %r14\n  push %r15\n"                      \
  "  movq %rsp, farfault_rsp(%rip)\n"                            \
  "  movabs $" STR(V_RAX) ", %rax\n"                             \
  "  movabs $" STR(V_RBX) ", %rbx\n"                             \
  "  movabs $" STR(V_RCX) ", %rcx\n"                             \
  "  movabs $" STR(V_RDX) ", %rdx\n"                             \
  "  movabs $" STR(V_RSI) ", %rsi\n"                             \
  "  movabs $" STR(V_RDI) ", %rdi\n"                             \
  "  movabs $" STR(V_RBP) ", %rbp\n"                             \
  "  movabs $" STR(V_R8) ", %r8\n"                               \
  "  movabs $" STR(V_R9) ", %r9\n"                               \
  "  movabs $" STR(V_R10) ", %r10\n"                             \
  "  movabs $" STR(V_R11) ", %r11\n"                             \
  "  movabs $" STR(V_R12) ", %r12\n"                             \
  "  movabs $" STR(V_R13) ", %r13\n"                             \
  "  movabs $" STR(V_R14) ", %r14\n"                             \
  "  movabs $" STR(V_R15) ", %r15\n"                             \
  #name "_at:\n"                                                 \
  "  " insn "\n"                                                 \
  #name "_resume:\n"                                             \
  "  movq %rax, farfault_after+0(%rip)\n"                        \
  "  movq %rbx, farfault_after+8(%rip)\n"                        \
  "  movq %rcx, farfault_after+16(%rip)\n"                       \
  "  movq %rdx, farfault_after+24(%rip)\n"                       \
  "  movq %rsi, farfault_after+32(%rip)\n"                       \
  "  movq %rdi, farfault_after+40(%rip)\n"                       \
  "  movq %rbp, farfault_after+48(%rip)\n"                       \
  "  movq %r8, farfault_after+56(%rip)\n"                        \
  "  movq %r9, farfault_after+64(%rip)\n"                        \
  "  movq %r10, farfault_after+72(%rip)\n"                       \
  "  movq %r11, farfault_after+80(%rip)\n"                       \
  "  movq %r12, farfault_after+88(%rip)\n"                       \
  "  movq %r13, farfault_after+96(%rip)\n"                       \
  "  movq %r14, farfault_after+104(%rip)\n"                      \
  "  movq %r15, farfault_after+112(%rip)\n"                      \
  "  pop %r15\n  pop %r14\n  pop %r13\n"                         \
  "  pop %r12\n  pop %rbp\n  pop %rbx\n"                         \
  "  ret\n"                                                      \
  "  .size " #name ", .-" #name "\n"

__asm__(FAULT_CASE(ff_store, "movl $1, farfault_ro32(%rip)")
        FAULT_CASE(ff_add, "addl $1, farfault_ro32(%rip)")
        FAULT_CASE(ff_xchg, "xchgl %eax, farfault_ro32(%rip)")
        FAULT_CASE(ff_cmpxchg, "lock cmpxchgl %ecx, farfault_ro32(%rip)")
        FAULT_CASE(ff_store_r11, "movq %r11, farfault_ro64(%rip)")
        FAULT_CASE(ff_store_r10, "movq %r10, farfault_ro64(%rip)")
        FAULT_CASE(ff_add_r11, "addq %r11, farfault_ro64(%rip)"));

#define DECL_CASE(name) void name(void); extern char name##_at[], name##_resume[];
DECL_CASE(ff_store)
DECL_CASE(ff_add)
DECL_CASE(ff_xchg)
DECL_CASE(ff_cmpxchg)
DECL_CASE(ff_store_r11)
DECL_CASE(ff_store_r10)
DECL_CASE(ff_add_r11)

static const struct {
  const char *what;
  void (*fn)(void);
  char *at, *resume;
  const volatile void *data;
} cases[] = {
  {"movl $1, ro32(%rip)", ff_store, ff_store_at, ff_store_resume, &farfault_ro32},
  {"addl $1, ro32(%rip)", ff_add, ff_add_at, ff_add_resume, &farfault_ro32},
  {"xchgl %eax, ro32(%rip)", ff_xchg, ff_xchg_at, ff_xchg_resume, &farfault_ro32},
  {"lock cmpxchgl %ecx, ro32(%rip)", ff_cmpxchg, ff_cmpxchg_at, ff_cmpxchg_resume, &farfault_ro32},
  {"movq %r11, ro64(%rip)", ff_store_r11, ff_store_r11_at, ff_store_r11_resume, &farfault_ro64},
  {"movq %r10, ro64(%rip)", ff_store_r10, ff_store_r10_at, ff_store_r10_resume, &farfault_ro64},
  {"addq %r11, ro64(%rip)", ff_add_r11, ff_add_r11_at, ff_add_r11_resume, &farfault_ro64},
};

/* Filled by the handler. */
static volatile int faults, fault_sig, fault_code;
static volatile uint64_t fault_gregs[NGREG];
static volatile uintptr_t fault_addr;
static char *volatile resume_at;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
  ucontext_t *uc = ucv;
  faults++;
  fault_sig = sig;
  fault_code = si->si_code;
  fault_addr = (uintptr_t)si->si_addr;
  for (int i = 0; i < NGREG; i++)
    fault_gregs[i] = (uint64_t)uc->uc_mcontext.gregs[i];
  if (resume_at)
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)resume_at;
  else
    _exit(3); /* a fault outside the cases: fail loudly */
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);

  int bad = 0;
  /* Twice: the first run builds the translation, the second reuses it. */
  for (int round = 1; round <= 2; round++) {
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
      faults = 0;
      fault_sig = fault_code = 0;
      memset((void *)fault_gregs, 0, sizeof fault_gregs);
      memset((void *)farfault_after, 0, sizeof farfault_after);
      resume_at = cases[c].resume;
      cases[c].fn();
      resume_at = NULL;

      printf("round %d, %s: ", round, cases[c].what);
      if (faults != 1) {
        printf("%d faults (want 1)\n", faults);
        bad = 1;
        continue;
      }
      int ok_rip = fault_gregs[REG_RIP] == (uint64_t)(uintptr_t)cases[c].at;
      int ok_rsp = fault_gregs[REG_RSP] == farfault_rsp;
      int ok_addr = fault_addr == (uintptr_t)cases[c].data;
      printf("signal %d si_code %d, rip %s, rsp %s, si_addr %s\n", fault_sig, fault_code,
             ok_rip ? "ok" : "WRONG", ok_rsp ? "ok" : "WRONG", ok_addr ? "ok" : "WRONG");
      bad |= !ok_rip || !ok_rsp || !ok_addr || fault_sig != SIGSEGV;

      /* Registers in the handler's ucontext. */
      printf("  at the fault:");
      int n_ok = 0;
      for (int r = 0; r < 15; r++) {
        uint64_t got = fault_gregs[regs[r].greg];
        if (got == regs[r].want)
          n_ok++;
        else
          printf(" %s WRONG (0x%llx, want 0x%llx)", regs[r].name, (unsigned long long)got,
                 (unsigned long long)regs[r].want);
      }
      printf(" %d/15 registers ok\n", n_ok);
      bad |= n_ok != 15;

      /* Registers after rt_sigreturn to the resume label. */
      printf("  after resuming:");
      n_ok = 0;
      for (int r = 0; r < 15; r++) {
        uint64_t got = farfault_after[r];
        if (got == regs[r].want)
          n_ok++;
        else
          printf(" %s WRONG (0x%llx, want 0x%llx)", regs[r].name, (unsigned long long)got,
                 (unsigned long long)regs[r].want);
      }
      printf(" %d/15 registers ok\n", n_ok);
      bad |= n_ok != 15;
    }
  }
  /* The faulting writes must not have changed the data. */
  printf("ro32 %u, ro64 %llu\n", (unsigned)*(const volatile uint32_t *)&farfault_ro32,
         (unsigned long long)*(const volatile uint64_t *)&farfault_ro64);
  printf("%s\n", bad ? "FAILED" : "all ok");
  return bad;
}
