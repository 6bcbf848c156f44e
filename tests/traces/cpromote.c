/* Register promotion across calls inlined in a loop trace (--opt=2):
 * helpers with their own frames (arguments stored in the callee's frame,
 * a double result), a helper that changes the caller's local through a
 * pointer (its store is checked against the loop's slots, found from the
 * loop's rbp saved at the entry), a helper with stack arguments, a helper
 * that faults (SIGSEGV: the handler checks the callee-saved registers and
 * the locals in memory), a call through a function pointer, and a loop in
 * assembly whose local lies below rsp, so that a callee's frame would
 * overlap it: its entry check fails and the trace is rebuilt unoptimized.
 * Every result is compared with the same computation without calls. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#include "check.h"

#define N 200000

__attribute__((noinline)) static int clampi(int v, int lo, int hi)
{
  if (v < lo)
    return lo;
  return v > hi ? hi : v;
}

__attribute__((noinline)) static double scale(double x, int k)
{
  double f = 1.0 + k * 0.25;
  return x * f;
}

__attribute__((noinline)) static void bump(long *p, long by) { *p += by; }

__attribute__((noinline)) static long eight(long a, long b, long c, long d, long e, long f, long g, long h)
{
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}

static long twice(long x) { return 2 * x; }
static long thrice(long x) { return 3 * x; }

__attribute__((noinline)) static long with_calls(int n)
{
  long s = 0;
  double d = 0;
  for (int i = 0; i < n; i++) {
    s += clampi(i % 1000 - 300, 0, 500);
    d += scale((double)(i & 63), i & 3);
  }
  return s + (long)d;
}

static long with_calls_ref(int n)
{
  long s = 0;
  double d = 0;
  for (int i = 0; i < n; i++) {
    int v = i % 1000 - 300;
    s += v < 0 ? 0 : v > 500 ? 500 : v;
    d += (double)(i & 63) * (1.0 + (i & 3) * 0.25);
  }
  return s + (long)d;
}

/* The callee writes the caller's promoted local through a pointer. */
__attribute__((noinline)) static long through_pointer(int n)
{
  long s = 0, t = 0;
  for (int i = 0; i < n; i++) {
    t += i & 7;
    if ((i & 255) == 255)
      bump(&s, 1000);
    else
      bump(&t, 1);
    s += t & 3;
  }
  return s * 7 + t;
}

static long through_pointer_ref(int n)
{
  long s = 0, t = 0;
  for (int i = 0; i < n; i++) {
    t += i & 7;
    if ((i & 255) == 255)
      s += 1000;
    else
      t += 1;
    s += t & 3;
  }
  return s * 7 + t;
}

__attribute__((noinline)) static long stack_args(int n)
{
  long s = 0;
  for (long i = 0; i < n; i++)
    s += eight(i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7) & 0xff;
  return s;
}

static long stack_args_ref(int n)
{
  long s = 0;
  for (long i = 0; i < n; i++)
    s += (36 * i + 168) & 0xff;
  return s;
}

__attribute__((noinline)) static long pointer_calls(int n, long (*volatile f)(long))
{
  long s = 0;
  for (long i = 0; i < n; i++)
    s += f(i) & 15;
  return s;
}

/* A SIGSEGV inside a callee of an optimized loop. */
static sigjmp_buf jb;
static long *volatile g_s, *volatile g_i;
static volatile long seen_s, seen_i;
static volatile uint64_t want_regs[5], got_regs[5];
static long *ptrs[N];
static long ones = 1;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
  (void)sig;
  (void)si;
  ucontext_t *uc = ucv;
  got_regs[0] = (uint64_t)uc->uc_mcontext.gregs[REG_RBX];
  got_regs[1] = (uint64_t)uc->uc_mcontext.gregs[REG_R12];
  got_regs[2] = (uint64_t)uc->uc_mcontext.gregs[REG_R13];
  got_regs[3] = (uint64_t)uc->uc_mcontext.gregs[REG_R14];
  got_regs[4] = (uint64_t)uc->uc_mcontext.gregs[REG_R15];
  seen_s = *g_s;
  seen_i = *g_i;
  siglongjmp(jb, 1);
}

__attribute__((noinline)) static long load(long **pp, long i) { return *pp[i]; }

__attribute__((noinline)) static long fault_loop(int fault_at)
{
  long s = 0, i = 0;
  g_s = &s;
  g_i = &i;
  __asm__ volatile("mov %%rbx, %0\n mov %%r12, %1\n mov %%r13, %2\n mov %%r14, %3\n mov %%r15, %4"
                   : "=m"(want_regs[0]), "=m"(want_regs[1]), "=m"(want_regs[2]), "=m"(want_regs[3]),
                     "=m"(want_regs[4]));
  ptrs[fault_at] = NULL;
  if (sigsetjmp(jb, 1) == 0) {
    for (i = 0; i < N; i++)
      s += load(ptrs, i);
  }
  ptrs[fault_at] = &ones;
  return s * 1000000 + i;
}

/* rbp = rsp - 32 at the loop: its local [rbp-8] lies below rsp (where a
 * callee's frame goes natively too, but deeper: callee() touches only
 * [rsp-16, rsp)). Returns the sum of callee(i) for i < n. */
long below_rsp_loop(long n);
long below_rsp_callee(long x);
__asm__(".text\n"
        "below_rsp_callee:\n"
        "  push %rbp\n"
        "  mov %rsp, %rbp\n"
        "  mov %rdi, %rax\n"
        "  add %rdi, %rax\n" /* writes the flags: dead at the loop's entry */
        "  add %rdi, %rax\n"
        "  add $3, %rax\n"
        "  pop %rbp\n"
        "  ret\n"
        "below_rsp_loop:\n"
        "  push %rbp\n"
        "  push %rbx\n"
        "  mov %rdi, %rbx\n"
        "  lea -96(%rsp), %rbp\n" /* rbp below rsp: [rbp-8] is 104 bytes under rsp */
        "  movq $0, -8(%rbp)\n"
        "  movq $0, -16(%rbp)\n"
        "1:\n"
        "  mov -8(%rbp), %rdi\n"
        "  call below_rsp_callee\n"
        "  add %rax, -16(%rbp)\n"
        "  addq $1, -8(%rbp)\n"
        "  cmp %rbx, -8(%rbp)\n"
        "  jl 1b\n"
        "  mov -16(%rbp), %rax\n"
        "  pop %rbx\n"
        "  pop %rbp\n"
        "  ret\n");

int main(void)
{
  check("calls with frames", (uint64_t)with_calls(N), (uint64_t)with_calls_ref(N));
  check("callee writes the caller's local", (uint64_t)through_pointer(N), (uint64_t)through_pointer_ref(N));
  check("stack arguments", (uint64_t)stack_args(N), (uint64_t)stack_args_ref(N));
  long s2 = 0, s3 = 0;
  for (long i = 0; i < N; i++) {
    s2 += (2 * i) & 15;
    s3 += (3 * i) & 15;
  }
  check("call through a pointer", (uint64_t)pointer_calls(N, twice), (uint64_t)s2);
  check("call through a pointer, changed", (uint64_t)pointer_calls(N, thrice), (uint64_t)s3);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  for (int i = 0; i < N; i++)
    ptrs[i] = &ones;
  for (int round = 0; round < 3; round++) {
    int at = 100000 + round * 30000;
    long got = fault_loop(at);
    check("fault in a callee: locals after the jump", (uint64_t)got, (uint64_t)at * 1000000 + (uint64_t)at);
    check("fault in a callee: s in memory", (uint64_t)seen_s, (uint64_t)at);
    check("fault in a callee: i in memory", (uint64_t)seen_i, (uint64_t)at);
    int same = 1;
    for (int k = 0; k < 5; k++)
      same &= got_regs[k] == want_regs[k];
    check("fault in a callee: callee-saved registers", (uint64_t)same, 1);
  }

  long want = 0;
  for (long i = 0; i < N; i++)
    want += 3 * i + 3;
  for (int round = 0; round < 3; round++)
    check("local below rsp, with a call", (uint64_t)below_rsp_loop(N), (uint64_t)want);

  printf("%s\n", fails ? "FAILED" : "ok");
  return fails ? 1 : 0;
}
