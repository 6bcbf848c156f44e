/* far_transfer: far jmp/call through memory (ff /5, ff /3) and far returns
 * (cb, ca) run as natively: with selector 0x33 (the 64-bit user code
 * segment, also at RPL 0) they go on in 64-bit mode, a far call pushing CS
 * and the return address at its operand size (4 + 4 bytes, 8 + 8 with
 * REX.W, 2 + 2 with 66); a null, data, kernel or LDT selector raises #GP
 * (SIGSEGV, si_code SI_KERNEL, err = the selector), a pointer in unmapped
 * memory a page fault at the first unmapped byte, a push into an unmapped
 * stack a page fault at the push (error code 6 on a read-only page never
 * touched, 7 on one read before); the direct forms (ea, 9a) are SIGILL.
 *
 * Guards against: hotpath stopped at every far transfer with status 125
 * ("unsupported instruction") where the program runs natively (issue 15,
 * item 23); a push into a read-only page that was never touched reported
 * error code 7 where the CPU says 6 (page not present; found in review),
 * also (with an argument: the tests run in a thread after the main thread's
 * pthread_exit) where hotpath read the main thread's /proc/self/pagemap,
 * which has nothing to say once that thread has gone.
 *
 * The code runs from a copy below 4 GiB (a 32-bit offset reaches it and a
 * 32-bit far call's return address fits) and, for the REX.W forms, which
 * read a 16:32 pointer on AMD but a 16:64 one on Intel, from a second copy
 * at 0x33 << 32 above it: the 10-byte pointer {low, 0x33, 0, 0x33} leads
 * to one copy or the other, so the output is the same on both. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "main_gone.h"

#define MARK 0x1122334455667788

/* Position-independent; rdi = far pointer (or frame), rsi = out[8],
 * rdx = a stack for fc_stack.  out[0] = rsp before, out[1] = rsp in the
 * callee, out[2..3] = the callee's [rsp], [rsp+8], out[4] = rsp after. */
__asm__(".text\n"
        ".globl ft_blob, ft_blob_end\n"
        "ft_blob:\n"
        "ft_jmp32: movabs $0x1122334455667788, %r10; movq %rsp, 0(%rsi)\n"
        "ft_jmp32_at: ljmpl *(%rdi)\n"
        "ft_jmp64: movabs $0x1122334455667788, %r10; movq %rsp, 0(%rsi)\n"
        "ft_jmp64_at: .byte 0x48; ljmpl *(%rdi)\n"
        "ft_jmp16: movabs $0x1122334455667788, %r10; movq %rsp, 0(%rsi)\n"
        "ft_jmp16_at: .byte 0x66; ljmpl *(%rdi)\n"
        "ft_land: movq %rsp, 8(%rsi); movq $1, 40(%rsi); ret\n"
        "ft_call32: movabs $0x1122334455667788, %r10; movq %rsp, 0(%rsi)\n"
        "ft_call32_at: lcall *(%rdi)\n"
        "ft_call32_ret: movq %rsp, 32(%rsi); ret\n"
        "ft_call64: movabs $0x1122334455667788, %r10; movq %rsp, 0(%rsi)\n"
        "ft_call64_at: .byte 0x48; lcall *(%rdi)\n"
        "ft_call64_ret: movq %rsp, 32(%rsi); ret\n"
        "ft_call16: movabs $0x1122334455667788, %r10; movq %rsp, 0(%rsi)\n"
        "ft_call16_at: .byte 0x66; lcall *(%rdi)\n"
        "ft_call16_ret: movq %rsp, 32(%rsi); ret\n"
        "ft_call32i: movq %rsp, 0(%rsi); pushq $0\n"
        "ft_call32i_at: lcall *(%rdi)\n"
        "ft_call32i_ret: movq %rsp, 32(%rsi); ret\n"
        "ft_callee32: movq %rsp, 8(%rsi); movq (%rsp), %rax; movq %rax, 16(%rsi); movq 8(%rsp), %rax; movq %rax, 24(%rsi); lretl\n"
        "ft_callee64: movq %rsp, 8(%rsi); movq (%rsp), %rax; movq %rax, 16(%rsi); movq 8(%rsp), %rax; movq %rax, 24(%rsi); lretq\n"
        "ft_callee32i: movq %rsp, 8(%rsi); movq (%rsp), %rax; movq %rax, 16(%rsi); movq 8(%rsp), %rax; movq %rax, 24(%rsi); lretl $8\n"
        /* a far return through a crafted frame: rdi = {word0, word1} */
        "ft_retf: movabs $0x1122334455667788, %r10; movq %rsp, 0(%rsi); sub $16, %rsp; movq (%rdi), %rax; movq %rax, (%rsp); movq 8(%rdi), %rax; movq %rax, 8(%rsp)\n"
        "ft_retf_at: lretl\n"
        "ft_retfq: movabs $0x1122334455667788, %r10; movq %rsp, 0(%rsi); sub $16, %rsp; movq (%rdi), %rax; movq %rax, (%rsp); movq 8(%rdi), %rax; movq %rax, 8(%rsp)\n"
        "ft_retfq_at: lretq\n"
        /* back from ft_retf/ft_retfq (which left 16 bytes below) */
        "ft_back: movq %rsp, 8(%rsi); movq $1, 40(%rsi); add $8, %rsp; ret\n"
        "ft_backq: movq %rsp, 8(%rsi); movq $1, 40(%rsi); ret\n"
        /* a far call on the stack rdx */
        "ft_stack: movabs $0x1122334455667788, %r10; movq %rdx, 0(%rsi); movq %rdx, %rsp\n"
        "ft_stack_at: lcall *(%rdi)\n"
        "ft_direct_ea: movabs $0x1122334455667788, %r10; movq %rsp, 0(%rsi)\n"
        "ft_direct_ea_at: .byte 0xea, 0, 0, 0, 0, 0x33, 0\n"
        "ft_direct_9a: movabs $0x1122334455667788, %r10; movq %rsp, 0(%rsi)\n"
        "ft_direct_9a_at: .byte 0x9a, 0, 0, 0, 0, 0x33, 0\n"
        "ft_blob_end:\n");

#define SYMS(X)                                                                                          \
  X(ft_blob) X(ft_blob_end) X(ft_jmp32) X(ft_jmp32_at) X(ft_jmp64) X(ft_jmp64_at) X(ft_jmp16) X(ft_jmp16_at) \
  X(ft_land) X(ft_call32) X(ft_call32_at) X(ft_call32_ret) X(ft_call64) X(ft_call64_at) X(ft_call64_ret)  \
  X(ft_call16) X(ft_call16_at) X(ft_call16_ret) X(ft_call32i) X(ft_call32i_at) X(ft_call32i_ret)         \
  X(ft_callee32) X(ft_callee64) X(ft_callee32i) X(ft_retf) X(ft_retf_at) X(ft_retfq) X(ft_retfq_at)      \
  X(ft_back) X(ft_backq) X(ft_stack) X(ft_stack_at) X(ft_direct_ea) X(ft_direct_ea_at) X(ft_direct_9a)    \
  X(ft_direct_9a_at)
#define DECL(s) extern char s[];
SYMS(DECL)

static char *low, *high; /* the two copies */
#define AT(s) ((uint64_t)(uintptr_t)(low + ((s) - ft_blob)))
#define HIGH_OF(a) ((a) | (0x33ull << 32))

typedef void entry_fn(void *ptr, uint64_t *out, uint64_t stack);

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static volatile uint64_t got_addr, got_rip, got_rsp, got_err, got_trapno, got_r10, got_rdi, got_rsi, got_top;

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
  ucontext_t *uc = ucv;
  got_sig = sig;
  got_code = si->si_code;
  got_addr = (uint64_t)(uintptr_t)si->si_addr;
  got_rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  got_rsp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
  got_err = (uint64_t)uc->uc_mcontext.gregs[REG_ERR];
  got_trapno = (uint64_t)uc->uc_mcontext.gregs[REG_TRAPNO];
  got_r10 = (uint64_t)uc->uc_mcontext.gregs[REG_R10];
  got_rdi = (uint64_t)uc->uc_mcontext.gregs[REG_RDI];
  got_rsi = (uint64_t)uc->uc_mcontext.gregs[REG_RSI];
  got_top = 0;
  if (got_rsp >= 0x10000 && got_rip == 0x1234) /* the 16-bit call's frame */
    memcpy((void *)&got_top, (void *)(uintptr_t)got_rsp, 4);
  siglongjmp(jb, 1);
}

static const char *signame(int s)
{
  return s == SIGSEGV ? "SIGSEGV" : s == SIGBUS ? "SIGBUS" : s == SIGILL ? "SIGILL" : "?";
}

static void run_call(const char *what, char *entry, const void *ptr, uint64_t at, uint64_t stack, uint64_t addr_base,
                     unsigned opsz, uint64_t ret);
/* Runs one case; at = where a fault must be (0: at 0x1234, where a 16-bit
 * offset leads); si_addr is printed relative to addr_base when it is set. */
static void run(const char *what, char *entry, const void *ptr, uint64_t at, uint64_t stack, uint64_t addr_base)
{
  run_call(what, entry, ptr, at, stack, addr_base, 0, 0);
}

/* ret: the return address a far call of operand size opsz pushes. */
static void run_call(const char *what, char *entry, const void *ptr, uint64_t at, uint64_t stack, uint64_t addr_base,
                     unsigned opsz, uint64_t ret)
{
  static uint64_t out[8];
  memset(out, 0, sizeof out);
  got_sig = 0;
  printf("%-40s ", what);
  if (!sigsetjmp(jb, 1)) {
    ((entry_fn *)(uintptr_t)AT(entry))((void *)ptr, out, stack);
    printf("ran: landed %lu, rsp in target %+ld", (unsigned long)out[5], (long)(out[1] - out[0]));
    if (opsz == 4)
      printf(", pushed eip %s, cs 0x%lx", (uint32_t)out[2] == (uint32_t)ret ? "= return address" : "WRONG",
             (unsigned long)(out[2] >> 32));
    else if (opsz == 8)
      printf(", pushed rip %s, cs 0x%lx", out[2] == ret ? "= return address" : "WRONG", (unsigned long)out[3]);
    if (out[4])
      printf(", rsp after %+ld", (long)(out[4] - out[0]));
    printf("\n");
    return;
  }
  printf("%s si_code %d si_addr %s%+ld err 0x%lx trapno %lu, rip %s, rsp %+ld, regs %s", signame(got_sig),
         got_code, addr_base ? "base" : "", (long)(got_addr - addr_base), (unsigned long)got_err,
         (unsigned long)got_trapno, at ? (got_rip == at ? "at the insn" : "WRONG") : (got_rip == 0x1234 ? "0x1234" : "WRONG"),
         (long)(got_rsp - out[0]),
         got_r10 == MARK && got_rdi == (uint64_t)(uintptr_t)ptr && got_rsi == (uint64_t)(uintptr_t)out ? "ok" : "WRONG");
  if (got_rip == 0x1234 && opsz == 2)
    printf(", pushed ip %s, cs 0x%lx", (uint16_t)got_top == (uint16_t)ret ? "= return address" : "WRONG",
           (unsigned long)(got_top >> 16));
  printf("\n");
}

struct __attribute__((packed)) p32 { uint32_t off; uint16_t sel; };
struct __attribute__((packed)) p16 { uint16_t off; uint16_t sel; };
/* valid as m16:32 (low copy) and as m16:64 (high copy) */
struct __attribute__((packed)) pdual { uint32_t off; uint16_t sel, zero, sel2; };

static int tests(void)
{
  size_t n = (size_t)(ft_blob_end - ft_blob);
  low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (low == MAP_FAILED)
    return 2;
  high = mmap((void *)HIGH_OF((uint64_t)(uintptr_t)low), 4096, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (high != (char *)HIGH_OF((uint64_t)(uintptr_t)low)) {
    printf("cannot map the high copy\n");
    return 2;
  }
  memcpy(low, ft_blob, n);
  memcpy(high, ft_blob, n);
  mprotect(low, 4096, PROT_READ | PROT_EXEC);
  mprotect(high, 4096, PROT_READ | PROT_EXEC);

  static char alt[65536];
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);

  uint32_t land = (uint32_t)AT(ft_land);
  struct p32 j33 = {land, 0x33}, j30 = {land, 0x30};
  struct pdual jd = {land, 0x33, 0, 0x33};
  run("jmp far m16:32 0x33", ft_jmp32, &j33, 0, 0, 0);
  run("jmp far m16:32 0x30 (RPL 0)", ft_jmp32, &j30, 0, 0, 0);
  run("jmp far REX.W 0x33", ft_jmp64, &jd, 0, 0, 0);
  struct p16 j16 = {0x1234, 0x33};
  run("jmp far 66 m16:16 to 0x1234", ft_jmp16, &j16, 0, 0, 0);

  struct p32 c33 = {(uint32_t)AT(ft_callee32), 0x33};
  run_call("call far m16:32 0x33 + lretl", ft_call32, &c33, 0, 0, 0, 4, AT(ft_call32_ret));
  struct pdual cd = {(uint32_t)AT(ft_callee64), 0x33, 0, 0x33};
  run_call("call far REX.W 0x33 + lretq", ft_call64, &cd, 0, 0, 0, 8, AT(ft_call64_ret));
  struct p32 ci = {(uint32_t)AT(ft_callee32i), 0x33};
  run_call("call far m16:32 + lretl $8", ft_call32i, &ci, 0, 0, 0, 4, AT(ft_call32i_ret));
  run_call("call far 66 m16:16 to 0x1234", ft_call16, &j16, 0, 0, 0, 2, AT(ft_call16_ret));

  static const uint16_t bad[] = {0, 3, 0x2b, 0x37, 0x10, 0x23 + 0x1000};
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char w[64];
    struct p32 b = {land, bad[i]};
    snprintf(w, sizeof w, "jmp far selector 0x%x", bad[i]);
    run(w, ft_jmp32, &b, AT(ft_jmp32_at), 0, 0);
    b.off = (uint32_t)AT(ft_callee32);
    snprintf(w, sizeof w, "call far selector 0x%x", bad[i]);
    run(w, ft_call32, &b, AT(ft_call32_at), 0, 0);
  }

  /* far returns through crafted frames */
  uint64_t fr[2];
  fr[0] = ((uint64_t)0x33 << 32) | (uint32_t)AT(ft_back);
  fr[1] = 0;
  run("retf (lretl) to 0x33", ft_retf, fr, AT(ft_retf_at), 0, 0);
  fr[0] = AT(ft_backq);
  fr[1] = 0xffff000000000033ull;
  run("retf REX.W (lretq) to 0x33", ft_retfq, fr, AT(ft_retfq_at), 0, 0);
  static const uint16_t rbad[] = {0, 0x2b, 0x30, 0x37};
  for (unsigned i = 0; i < sizeof rbad / sizeof rbad[0]; i++) {
    char w[64];
    fr[0] = ((uint64_t)rbad[i] << 32) | (uint32_t)AT(ft_back);
    snprintf(w, sizeof w, "retf to selector 0x%x", rbad[i]);
    run(w, ft_retf, fr, AT(ft_retf_at), 0, 0);
  }
  fr[0] = 0x0000800000000000ull;
  fr[1] = 0x33;
  run("retf REX.W to a non-canonical address", ft_retfq, fr, AT(ft_retfq_at), 0, 0);

  /* far pointers the CPU cannot read */
  char *pg = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(pg + 4096, 4096);
  uint64_t base = (uint64_t)(uintptr_t)(pg + 4096);
  run("jmp far, pointer unmapped", ft_jmp32, pg + 4096 + 0x10, AT(ft_jmp32_at), 0, base);
  memset(pg + 4096 - 3, 0, 3);
  run("jmp far, pointer across into unmapped", ft_jmp32, pg + 4096 - 3, AT(ft_jmp32_at), 0, base);
  run("call far, pointer unmapped", ft_call32, pg + 4096 + 0x20, AT(ft_call32_at), 0, base);
  run("jmp far, pointer non-canonical", ft_jmp32, (void *)0x8000000000000000ull, AT(ft_jmp32_at), 0, 0);

  /* a far call whose pushes hit unmapped memory */
  char *stk = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(stk, 4096);
  uint64_t top = (uint64_t)(uintptr_t)(stk + 4096);
  run("call far, stack unmapped below rsp", ft_stack, &c33, AT(ft_stack_at), top, top);
  run("call far, stack unmapped below rsp-4", ft_stack, &c33, AT(ft_stack_at), top + 4, top);
  run("call far, stack unmapped below rsp-6", ft_stack, &c33, AT(ft_stack_at), top + 6, top);
  /* a read-only stack: the error code says whether the page was in the
   * page tables (6: never touched, 7: read before) */
  char *ro = mmap(NULL, 2 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint64_t ro1 = (uint64_t)(uintptr_t)(ro + 4096), ro2 = ro1 + 4096;
  run("call far, stack read-only, never touched", ft_stack, &c33, AT(ft_stack_at), ro1, ro1);
  *(volatile char *)(ro + 4096);
  run("call far, stack read-only, read before", ft_stack, &c33, AT(ft_stack_at), ro2, ro2);

  /* direct far forms: invalid in 64-bit mode */
  run("jmp far ptr16:32 (ea)", ft_direct_ea, NULL, AT(ft_direct_ea_at), 0, AT(ft_direct_ea_at));
  run("call far ptr16:32 (9a)", ft_direct_9a, NULL, AT(ft_direct_9a_at), 0, AT(ft_direct_9a_at));
  printf("done\n");
  return 0;
}

/* The tests in a thread, once the main thread has ended (pthread_exit) and
 * its memory is gone: the process's /proc/self files then describe none. */
static void *after_main(void *main_thread)
{
  wait_main_gone(*(pthread_t *)main_thread);
  exit(tests());
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  (void)argv;
  if (argc < 2)
    return tests();
  static pthread_t self, t;
  self = pthread_self();
  if (pthread_create(&t, NULL, after_main, &self) != 0)
    return 2;
  pthread_exit(NULL);
}
