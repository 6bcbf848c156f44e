/* A switch-dispatched interpreter whose cases come back to the loop's head:
 * at -O0 its dispatch trace (the head through the jump table) keeps pc, the
 * opcode and sp in registers, and each case's trace takes that plan, so a
 * bytecode runs from the dispatch into its case and back without leaving
 * the registers. Programs that attack it: a local written through a
 * pointer from a case (the slot's check), a timer handler that stops the
 * program through a global, a SIGSEGV inside a case (the locals in memory
 * and the faulting register checked in the handler), longjmp out of a case,
 * and last a case that calls a function (its trace cannot take the plan:
 * the dispatch is rebuilt without it). Each result is checked against the
 * same computation in C. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>

#include "check.h"

enum {
  OP_HALT, OP_PUSH, OP_ADD, OP_MUL, OP_XOR, OP_SHR, OP_DUP, OP_DROP, OP_JNZ, OP_LOAD, OP_STORE,
  OP_DEC, OP_SETACC, OP_GETACC, OP_TICKS, OP_LOADP, OP_THROW, OP_CALL, NOPS
};

static volatile int ticks;
static jmp_buf throw_env;
static sigjmp_buf fault_env;
/* The interpreter's locals, for the fault handler (set as it starts). */
static volatile int *g_pc, *g_sp;
static int64_t *g_acc;

static __attribute__((noinline)) int64_t mix(int64_t x) { return (x * 0x9e3779b1) ^ (x >> 7); }

/* (the handler reads the interpreter's locals through pointers set while it
 * runs) */
#pragma GCC diagnostic ignored "-Wdangling-pointer"

static __attribute__((noinline)) int64_t run(const int64_t *code, int64_t *vars)
{
  int64_t stack[32];
  int64_t acc = 0;
  int64_t *accp = &acc; /* written through from a case (OP_SETACC) */
  volatile int pc = 0, sp = 0;
  g_pc = &pc;
  g_sp = &sp;
  g_acc = &acc;
  for (;;) {
    int64_t op = code[pc++];
    switch (op) {
    case OP_HALT:
      return sp > 0 ? stack[sp - 1] : acc;
    case OP_PUSH:
      stack[sp++] = code[pc++];
      break;
    case OP_ADD:
      sp--;
      stack[sp - 1] += stack[sp];
      break;
    case OP_MUL:
      sp--;
      stack[sp - 1] *= stack[sp];
      break;
    case OP_XOR:
      sp--;
      stack[sp - 1] ^= stack[sp];
      break;
    case OP_SHR:
      sp--;
      stack[sp - 1] = (int64_t)((uint64_t)stack[sp - 1] >> stack[sp]);
      break;
    case OP_DUP:
      stack[sp] = stack[sp - 1];
      sp++;
      break;
    case OP_DROP:
      sp--;
      break;
    case OP_JNZ:
      pc = stack[--sp] ? (int)code[pc] : pc + 1;
      break;
    case OP_LOAD:
      stack[sp++] = vars[code[pc++]];
      break;
    case OP_STORE:
      vars[code[pc++]] = stack[--sp];
      break;
    case OP_DEC:
      stack[sp - 1]--;
      break;
    case OP_SETACC:
      *accp = stack[--sp];
      break;
    case OP_GETACC:
      stack[sp++] = acc;
      break;
    case OP_TICKS:
      stack[sp++] = ticks;
      break;
    case OP_LOADP:
      stack[sp - 1] = *(volatile int64_t *)(uintptr_t)stack[sp - 1];
      break;
    case OP_THROW:
      vars[3] = pc;
      longjmp(throw_env, 1);
    case OP_CALL:
      stack[sp - 1] = mix(stack[sp - 1]);
      break;
    default:
      return -1;
    }
  }
}

#define N 200000

/* Programs, assembled with their labels (e: a word; at: the next word's
 * index). */
static int64_t prog[64];
static int np;
static void e(int64_t w) { prog[np++] = w; }
static int at(void) { return np; }

/* The countdown around a body: v0 = n; top: body; if (--v0) goto top. */
static int loop_start(int64_t n)
{
  np = 0;
  e(OP_PUSH), e(n), e(OP_STORE), e(0);
  return at();
}
static void loop_end(int top)
{
  e(OP_LOAD), e(0), e(OP_DEC), e(OP_DUP), e(OP_STORE), e(0), e(OP_JNZ), e(top);
}

/* v1 = (v1 * 31) ^ i; v2 += i >> 3 */
static void plain(void)
{
  int top = loop_start(N);
  e(OP_LOAD), e(1), e(OP_PUSH), e(31), e(OP_MUL), e(OP_LOAD), e(0), e(OP_XOR), e(OP_STORE), e(1);
  e(OP_LOAD), e(2), e(OP_LOAD), e(0), e(OP_PUSH), e(3), e(OP_SHR), e(OP_ADD), e(OP_STORE), e(2);
  loop_end(top);
  e(OP_LOAD), e(1), e(OP_HALT);
  int64_t vars[4] = {0, 0, 0, 0};
  int64_t r = run(prog, vars);
  int64_t v1 = 0, v2 = 0;
  for (int64_t i = N; i; i--) {
    v1 = (int64_t)((uint64_t)v1 * 31) ^ i;
    v2 += i >> 3;
  }
  check("plain v1", (uint64_t)r, (uint64_t)v1);
  check("plain v2", (uint64_t)vars[2], (uint64_t)v2);
}

/* acc, a local of the interpreter, written through a pointer by a case:
 * acc = acc * 3 + i */
static void alias(void)
{
  int top = loop_start(N);
  e(OP_GETACC), e(OP_PUSH), e(3), e(OP_MUL), e(OP_LOAD), e(0), e(OP_ADD), e(OP_SETACC);
  loop_end(top);
  e(OP_GETACC), e(OP_HALT);
  int64_t vars[4] = {0, 0, 0, 0};
  int64_t r = run(prog, vars);
  uint64_t acc = 0;
  for (int64_t i = N; i; i--)
    acc = acc * 3 + (uint64_t)i;
  check("alias acc", (uint64_t)r, acc);
}

static void on_alarm(int sig)
{
  (void)sig;
  ticks++;
}

/* Spins in the interpreter until a 2 ms timer has fired four times (at
 * most 2^26 turns): the signal must reach a thread that runs from the
 * dispatch to its cases and back. v1 counts the turns. */
static void timer(void)
{
  ticks = 0;
  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 2000}, {0, 2000}}, off = {{0, 0}, {0, 0}};
  int top = loop_start(1 << 26);
  e(OP_LOAD), e(1), e(OP_PUSH), e(1), e(OP_ADD), e(OP_STORE), e(1);
  e(OP_TICKS), e(OP_PUSH), e(2), e(OP_SHR), e(OP_JNZ);
  int fix = at();
  e(0);
  loop_end(top);
  e(OP_PUSH), e(1), e(OP_HALT); /* the timer never stopped it */
  prog[fix] = at();
  e(OP_PUSH), e(0), e(OP_HALT);
  int64_t vars[4] = {0, 0, 0, 0};
  setitimer(ITIMER_REAL, &it, NULL);
  int64_t r = run(prog, vars);
  setitimer(ITIMER_REAL, &off, NULL);
  signal(SIGALRM, SIG_DFL);
  check("timer stopped by its handler", (uint64_t)r, 0);
  check("timer turns counted", vars[1] > 0, 1);
}

/* A SIGSEGV in a case (OP_LOADP through v2): the handler sees pc and sp in
 * memory as natively, and a register holding the address. */
static uint8_t *guard;
static volatile uint64_t seen_pc, seen_sp, seen_addr_ok;

static void on_segv(int sig, siginfo_t *si, void *uc_)
{
  (void)sig;
  ucontext_t *uc = uc_;
  seen_pc = (uint64_t)*g_pc;
  seen_sp = (uint64_t)*g_sp;
  int holds = 0;
  for (int r = 0; r < NGREG; r++)
    holds |= (uint64_t)uc->uc_mcontext.gregs[r] == (uint64_t)(uintptr_t)guard;
  seen_addr_ok = si->si_addr == (void *)guard && holds;
  siglongjmp(fault_env, 1);
}

static void fault(void)
{
  guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (guard == MAP_FAILED) {
    printf("mmap failed\n");
    fails++;
    return;
  }
  static int64_t cell = 7;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  /* v1 += *v2 */
  int top = loop_start(5000);
  e(OP_LOAD), e(2);
  int loadp = at();
  e(OP_LOADP), e(OP_LOAD), e(1), e(OP_ADD), e(OP_STORE), e(1);
  loop_end(top);
  e(OP_LOAD), e(1), e(OP_HALT);
  int64_t vars[4] = {0, 0, (int64_t)(uintptr_t)&cell, 0};
  int64_t r = run(prog, vars);
  check("fault-free run", (uint64_t)r, 5000 * 7);
  /* Again (its traces built), through the guard page from the first turn. */
  vars[0] = vars[1] = 0;
  vars[2] = (int64_t)(uintptr_t)guard;
  seen_pc = seen_sp = seen_addr_ok = 0;
  if (sigsetjmp(fault_env, 1) == 0) {
    run(prog, vars);
    printf("no fault\n");
    fails++;
  }
  check("fault pc (past the opcode)", seen_pc, (uint64_t)loadp + 1);
  check("fault sp", seen_sp, 1);
  check("fault address in a register", seen_addr_ok, 1);
  signal(SIGSEGV, SIG_DFL);
  munmap(guard, 4096);
}

/* longjmp out of a case at turn 777 (v0 == 777), then the interpreter
 * again to the end. v1 += 5 each turn. */
static void throw_out(void)
{
  static int64_t vars[4];
  for (int round = 0; round < 2; round++) {
    int top = loop_start(3000);
    e(OP_LOAD), e(1), e(OP_PUSH), e(5), e(OP_ADD), e(OP_STORE), e(1);
    e(OP_LOAD), e(0), e(OP_PUSH), e(round ? 1 << 30 : 777), e(OP_XOR), e(OP_JNZ);
    int fix = at();
    e(0);
    int thrown = at();
    e(OP_THROW);
    prog[fix] = at();
    loop_end(top);
    e(OP_LOAD), e(1), e(OP_HALT);
    memset(vars, 0, sizeof vars);
    if (round == 0) {
      if (setjmp(throw_env) == 0) {
        run(prog, vars);
        printf("no throw\n");
        fails++;
      }
      check("thrown at pc", (uint64_t)vars[3], (uint64_t)thrown + 1);
      check("turns before the throw", (uint64_t)vars[1], (3000 - 777 + 1) * 5);
    } else {
      check("after the throw", (uint64_t)run(prog, vars), 3000 * 5);
    }
  }
}

/* A case that calls a function: its trace cannot keep the dispatch's
 * registers across the call. v1 = mix(v1 + i) */
static void calls(void)
{
  int top = loop_start(N);
  e(OP_LOAD), e(1), e(OP_LOAD), e(0), e(OP_ADD), e(OP_CALL), e(OP_STORE), e(1);
  loop_end(top);
  e(OP_LOAD), e(1), e(OP_HALT);
  int64_t vars[4] = {0, 0, 0, 0};
  int64_t r = run(prog, vars);
  int64_t v = 0;
  for (int64_t i = N; i; i--)
    v = mix(v + i);
  check("calls", (uint64_t)r, (uint64_t)v);
}

int main(void)
{
  plain();
  alias();
  timer();
  fault();
  throw_out();
  plain();
  calls();
  plain();
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
