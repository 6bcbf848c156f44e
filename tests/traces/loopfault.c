#define _GNU_SOURCE
/* Faults inside traced loops: a hot loop that calls an assembly function
 * storing through a pointer taken from a table; after thousands of
 * iterations the pointer is to a read-only page. The function loads known
 * values into rbx, r12-r15, rax, rcx, rdx and sets CF from the seed just
 * before the faulting store; the SIGSEGV handler checks them, rip (the
 * store), rsp (recorded by the function), rdi/rsi and si_addr in its
 * ucontext, then siglongjmps out. Also a load through a null pointer, a
 * store written in C directly in the loop body, and a loop that spins until
 * a timer signal's handler sets a flag (a trace looping on itself must be
 * interruptible). Repeated several times each. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>

#include "check.h"

static sigjmp_buf jb;

/* store_regs(ptr, val, seed) and load_regs(ptr, seed): callee-saved
 * registers saved, then rbx = seed ^ 0x1111, r12 = seed + 0x2222,
 * r13 = ~seed, r14 = 3 * seed, r15 = seed rol 17, rax = seed ^ 0x77,
 * rcx = seed + 0xc, rdx (seed) kept, CF = seed & 1; rsp recorded in
 * fault_rsp; then the access at fault_store / fault_load. */
uint64_t store_regs(uint64_t *p, uint64_t val, uint64_t seed);
uint64_t load_regs(const uint64_t *p, uint64_t seed);
extern char fault_store[], fault_load[];
uint64_t fault_rsp;
__asm__(".text\n"
        "store_regs:\n"
        "  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  mov %rdx, %rbx\n  xor $0x1111, %rbx\n"
        "  lea 0x2222(%rdx), %r12\n"
        "  mov %rdx, %r13\n  not %r13\n"
        "  lea (%rdx,%rdx,2), %r14\n"
        "  mov %rdx, %r15\n  rol $17, %r15\n"
        "  mov %rdx, %rax\n  xor $0x77, %rax\n"
        "  lea 0xc(%rdx), %rcx\n"
        "  mov %rsp, fault_rsp(%rip)\n"
        "  bt $0, %edx\n"
        ".globl fault_store\n"
        "fault_store:\n"
        "  mov %rsi, (%rdi)\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n"
        "  ret\n"
        "load_regs:\n"
        "  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
        "  mov %rsi, %rdx\n"
        "  mov %rdx, %rbx\n  xor $0x1111, %rbx\n"
        "  lea 0x2222(%rdx), %r12\n"
        "  mov %rdx, %r13\n  not %r13\n"
        "  lea (%rdx,%rdx,2), %r14\n"
        "  mov %rdx, %r15\n  rol $17, %r15\n"
        "  mov %rdx, %rax\n  xor $0x77, %rax\n"
        "  lea 0xc(%rdx), %rcx\n"
        "  mov %rsp, fault_rsp(%rip)\n"
        "  bt $0, %edx\n"
        ".globl fault_load\n"
        "fault_load:\n"
        "  mov (%rdi), %rax\n"
        "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n"
        "  ret\n");

static volatile uint64_t want_seed, want_addr, want_rip, want_rdi, want_rsi;
static volatile int check_rsi, regs_ok, faults;
static char bad[256];

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
  (void)sig;
  ucontext_t *uc = ucv;
  greg_t *g = uc->uc_mcontext.gregs;
  uint64_t s = want_seed;
  int n = 0;
#define REG(r, v)                                                                                   \
  do {                                                                                              \
    if ((uint64_t)g[r] != (uint64_t)(v) && n < 200)                                                 \
      n += snprintf(bad + n, sizeof bad - (size_t)n, " %s", #r);                                    \
  } while (0)
  REG(REG_RBX, s ^ 0x1111);
  REG(REG_R12, s + 0x2222);
  REG(REG_R13, ~s);
  REG(REG_R14, 3 * s);
  REG(REG_R15, (s << 17) | (s >> 47));
  REG(REG_RAX, s ^ 0x77);
  REG(REG_RCX, s + 0xc);
  REG(REG_RDX, s);
  REG(REG_RIP, want_rip);
  REG(REG_RSP, fault_rsp);
  REG(REG_RDI, want_rdi);
  if (check_rsi)
    REG(REG_RSI, want_rsi);
  if ((uint64_t)(uintptr_t)si->si_addr != want_addr && n < 200)
    n += snprintf(bad + n, sizeof bad - (size_t)n, " si_addr");
  if (((uint64_t)g[REG_EFL] & 1) != (s & 1) && n < 200)
    n += snprintf(bad + n, sizeof bad - (size_t)n, " CF");
#undef REG
  regs_ok = n == 0;
  faults++;
  siglongjmp(jb, 1);
}

static void on_segv_plain(int sig, siginfo_t *si, void *ucv)
{
  (void)sig;
  (void)ucv;
  regs_ok = (uint64_t)(uintptr_t)si->si_addr == want_addr;
  faults++;
  siglongjmp(jb, 1);
}

#define NPTR 8192
static uint64_t *ptrs[NPTR];
static uint64_t rw[512];

/* Runs the loop until it faults at fault_at; returns the sum it reached. */
__attribute__((noinline)) static uint64_t store_loop(int fault_at, uint64_t *ro)
{
  volatile uint64_t sum = 0;
  ptrs[fault_at] = ro + (fault_at & 7);
  want_addr = want_rdi = (uint64_t)(uintptr_t)(ro + (fault_at & 7));
  want_rip = (uint64_t)(uintptr_t)fault_store;
  check_rsi = 1;
  if (sigsetjmp(jb, 1) == 0) {
    for (int i = 0; i < NPTR; i++) {
      uint64_t seed = (uint64_t)i * 0x9e3779b97f4a7c15ull;
      want_seed = seed;
      want_rsi = (uint64_t)i * 5;
      store_regs(ptrs[i], (uint64_t)i * 5, seed);
      sum += *ptrs[i];
    }
  }
  ptrs[fault_at] = &rw[fault_at & 511];
  return sum;
}

__attribute__((noinline)) static uint64_t load_loop(int fault_at)
{
  volatile uint64_t sum = 0;
  ptrs[fault_at] = NULL;
  want_addr = want_rdi = 0;
  want_rip = (uint64_t)(uintptr_t)fault_load;
  check_rsi = 0;
  if (sigsetjmp(jb, 1) == 0) {
    for (int i = 0; i < NPTR; i++) {
      uint64_t seed = (uint64_t)i * 0x2545f4914f6cdd1dull + 1;
      want_seed = seed;
      sum += load_regs(ptrs[i], seed);
    }
  }
  ptrs[fault_at] = &rw[fault_at & 511];
  return sum;
}

/* The faulting store written in C, in the loop body itself. */
__attribute__((noinline)) static uint64_t c_store_loop(int fault_at, uint64_t *ro)
{
  volatile uint64_t sum = 0;
  ptrs[fault_at] = ro + 3;
  want_addr = (uint64_t)(uintptr_t)(ro + 3);
  if (sigsetjmp(jb, 1) == 0) {
    for (int i = 0; i < NPTR; i++) {
      *ptrs[i] = (uint64_t)i;
      sum += (uint64_t)i;
    }
  }
  ptrs[fault_at] = &rw[fault_at & 511];
  return sum;
}

static volatile sig_atomic_t ticked;
static void on_alarm(int sig)
{
  (void)sig;
  ticked = 1;
}

__attribute__((noinline)) static uint64_t step(uint64_t x) { return x * 6364136223846793005ull + 1; }
static uint64_t (*volatile stepp)(uint64_t) = step;

int main(void)
{
  uint64_t *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ro == MAP_FAILED)
    return 2;
  ro[0] = 1;
  mprotect(ro, 4096, PROT_READ);
  for (int i = 0; i < NPTR; i++)
    ptrs[i] = &rw[i & 511];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);

  for (int round = 0; round < 4; round++) {
    int at = 2000 + round * 1500;
    regs_ok = 0;
    bad[0] = 0;
    uint64_t s = store_loop(at, ro);
    uint64_t want = 0;
    for (int i = 0; i < at; i++)
      want += (uint64_t)i * 5;
    printf("store round %d: fault %d, registers %s%s\n", round, faults, regs_ok ? "ok" : "wrong:", bad);
    check("  sum before the fault", s, want);
    fails += !regs_ok;
  }
  for (int round = 0; round < 4; round++) {
    int at = 3000 + round * 1000;
    regs_ok = 0;
    bad[0] = 0;
    uint64_t s = load_loop(at);
    printf("null load round %d: fault %d, registers %s%s\n", round, faults, regs_ok ? "ok" : "wrong:", bad);
    check("  sum before the fault", s != 0, 1);
    fails += !regs_ok;
  }
  sa.sa_sigaction = on_segv_plain;
  sigaction(SIGSEGV, &sa, NULL);
  for (int round = 0; round < 4; round++) {
    int at = 1000 + round * 2000;
    regs_ok = 0;
    uint64_t s = c_store_loop(at, ro);
    printf("C store round %d: fault %d, address %s\n", round, faults, regs_ok ? "ok" : "wrong");
    check("  sum before the fault", s, (uint64_t)at * (uint64_t)(at - 1) / 2);
    fails += !regs_ok;
  }
  printf("read-only page unchanged: %d\n", ro[0] == 1 && ro[3] == 0);

  /* Spin until a timer signal's handler sets the flag. */
  signal(SIGALRM, on_alarm);
  for (int round = 0; round < 5; round++) {
    ticked = 0;
    struct itimerval it = {{0, 0}, {0, 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    uint64_t x = (uint64_t)round;
    switch (round % 3) {
    case 0:
      while (!ticked)
        x++;
      break;
    case 1:
      while (!ticked)
        x = step(x);
      break;
    default:
      while (!ticked)
        x = stepp(x) ^ (x >> 3);
      break;
    }
    printf("timer round %d: interrupted %d\n", round, (int)ticked);
    __asm__ volatile("" : : "r"(x));
  }
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
