/* Computed-goto interpreters as Lua's: the opcode masked before the jump
 * through the label table (`goto *labels[op & 31]`, with an unsigned index
 * and with a signed int, which -O0 sign-extends with cdqe), so that a
 * translated dispatch needs no compare (the mask bounds the index) and
 * leaves the guest's flags alone; each handler is a trace that is not a
 * loop, which the fold pass alone optimizes (stores forwarded to the loads
 * after them, -O0 address arithmetic folded). One handler reads the flags
 * the dispatch left (printed: the differential test compares them with the
 * native run's), one faults (SIGSEGV: the handler siglongjmps out and
 * checks the interpreter's memory). Self-checking: "ok" or "FAILED". */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"

enum { OP_HALT, OP_PUSH, OP_ADD, OP_MUL, OP_XOR, OP_DUP, OP_DROP, OP_DEC, OP_JNZ, OP_FLAGS, OP_PEEK, OP_SWAP, OP_OVER };

struct vm {
  int64_t st[32];
  int sp;
  unsigned pc;
  uint64_t steps;
  uint64_t flags_seen;
};

static volatile int64_t *peek_at;
static sigjmp_buf peek_jmp;
static struct vm *volatile peek_vm;
static volatile int peek_sp = -1;
static void on_segv(int sig)
{
  (void)sig;
  peek_sp = peek_vm->sp; /* memory as natively at the fault */
  siglongjmp(peek_jmp, 1);
}

/* Runs code (its opcodes masked to 5 bits) on vm; the index unsigned. */
__attribute__((noinline)) static void run_unsigned(const uint8_t *code, struct vm *vm)
{
  static void *const labels[32] = {
      [OP_HALT] = &&l_halt, [OP_PUSH] = &&l_push,   [OP_ADD] = &&l_add,   [OP_MUL] = &&l_mul,   [OP_XOR] = &&l_xor,
      [OP_DUP] = &&l_dup,   [OP_DROP] = &&l_drop,   [OP_DEC] = &&l_dec,   [OP_JNZ] = &&l_jnz,   [OP_FLAGS] = &&l_flags,
      [OP_PEEK] = &&l_peek, [OP_SWAP] = &&l_swap,   [OP_OVER] = &&l_over, [13 ... 31] = &&l_halt,
  };
  int64_t a, b;
  unsigned op;
#define NEXT                                                                                                          \
  do {                                                                                                                \
    vm->steps++;                                                                                                      \
    op = code[vm->pc++] & 31u;                                                                                        \
    goto *labels[op];                                                                                                 \
  } while (0)
  NEXT;
l_flags: {
    uint64_t f;
    __asm__ volatile("pushfq; pop %0" : "=r"(f)); /* first: the flags the dispatch left */
    vm->flags_seen = f & 0x8d5;                    /* OF SF ZF AF PF CF */
    NEXT;
  }
l_push: vm->st[vm->sp++] = code[vm->pc++]; NEXT;
l_add: b = vm->st[--vm->sp]; a = vm->st[vm->sp - 1]; vm->st[vm->sp - 1] = a + b; NEXT;
l_mul: b = vm->st[--vm->sp]; a = vm->st[vm->sp - 1]; vm->st[vm->sp - 1] = (int64_t)((uint64_t)a * (uint64_t)b); NEXT;
l_xor: b = vm->st[--vm->sp]; vm->st[vm->sp - 1] ^= b; NEXT;
l_dup: a = vm->st[vm->sp - 1]; vm->st[vm->sp++] = a; NEXT;
l_drop: vm->sp--; NEXT;
l_dec: vm->st[vm->sp - 1]--; NEXT;
l_jnz: a = code[vm->pc++]; if (vm->st[--vm->sp]) vm->pc = (unsigned)a; NEXT;
l_swap: a = vm->st[vm->sp - 1]; vm->st[vm->sp - 1] = vm->st[vm->sp - 2]; vm->st[vm->sp - 2] = a; NEXT;
l_over: a = vm->st[vm->sp - 2]; vm->st[vm->sp++] = a; NEXT;
l_peek: a = *peek_at; vm->st[vm->sp++] = a; NEXT;
l_halt:;
#undef NEXT
}

/* The same with a signed int index (cdqe before the jump at -O0). */
__attribute__((noinline)) static void run_signed(const uint8_t *code, struct vm *vm)
{
  static void *const labels[32] = {
      [OP_HALT] = &&l_halt, [OP_PUSH] = &&l_push, [OP_ADD] = &&l_add,   [OP_MUL] = &&l_mul,   [OP_XOR] = &&l_xor,
      [OP_DUP] = &&l_dup,   [OP_DROP] = &&l_drop, [OP_DEC] = &&l_dec,   [OP_JNZ] = &&l_jnz,   [OP_FLAGS] = &&l_halt,
      [OP_PEEK] = &&l_halt, [OP_SWAP] = &&l_swap, [OP_OVER] = &&l_over, [13 ... 31] = &&l_halt,
  };
  int64_t a, b;
  int op;
#define NEXT                                                                                                          \
  do {                                                                                                                \
    vm->steps++;                                                                                                      \
    op = code[vm->pc++] & 31;                                                                                         \
    goto *labels[op];                                                                                                 \
  } while (0)
  NEXT;
l_push: vm->st[vm->sp++] = code[vm->pc++]; NEXT;
l_add: b = vm->st[--vm->sp]; vm->st[vm->sp - 1] += b; NEXT;
l_mul: b = vm->st[--vm->sp]; vm->st[vm->sp - 1] = (int64_t)((uint64_t)vm->st[vm->sp - 1] * (uint64_t)b); NEXT;
l_xor: b = vm->st[--vm->sp]; vm->st[vm->sp - 1] ^= b; NEXT;
l_dup: a = vm->st[vm->sp - 1]; vm->st[vm->sp++] = a; NEXT;
l_drop: vm->sp--; NEXT;
l_dec: vm->st[vm->sp - 1]--; NEXT;
l_jnz: a = code[vm->pc++]; if (vm->st[--vm->sp]) vm->pc = (unsigned)a; NEXT;
l_swap: a = vm->st[vm->sp - 1]; vm->st[vm->sp - 1] = vm->st[vm->sp - 2]; vm->st[vm->sp - 2] = a; NEXT;
l_over: a = vm->st[vm->sp - 2]; vm->st[vm->sp++] = a; NEXT;
l_halt:;
#undef NEXT
}

/* A label table with a hole (entry 3 is no code): the translated table
 * stops there (3 cases), so the opcodes past it, which the mask still
 * allows, run through entries that lead to the lookup (a table without a
 * compare covers every value of the masked index). */
__attribute__((noinline)) static long run_holes(const uint8_t *code, long n)
{
  static void *const disp[16] = {[0] = &&l_halt, [1] = &&l_add,  [2] = &&l_sub,         [3] = 0,
                                 [4 ... 5] = &&l_add, [6] = &&l_loop, [7 ... 15] = &&l_add};
  long acc = 0, cnt = n;
  const uint8_t *pc = code;
  unsigned op;
#define NEXT                                                                                                          \
  do {                                                                                                                \
    op = *pc++ & 15u;                                                                                                 \
    goto *disp[op];                                                                                                   \
  } while (0)
  NEXT;
l_add: acc += op; NEXT;
l_sub: acc -= 1; NEXT;
l_loop: if (--cnt) pc = code; NEXT;
l_halt: return acc;
#undef NEXT
}

static uint64_t reference(void)
{
  uint64_t acc = 7;
  for (uint64_t i = 200; i; i--)
    acc = acc * 31 ^ i;
  return acc;
}

/* A fault inside a handler (a load through a pointer to a page with no
 * access): the SIGSEGV handler sees the interpreter's memory as natively. */
__attribute__((noinline)) static void faults_in_a_handler(void)
{
  void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  static int64_t cell = 5;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  static const uint8_t pk[] = {OP_PUSH, 3, OP_PUSH, 4, OP_ADD, OP_DUP, OP_PEEK, OP_ADD, OP_HALT};
  static uint64_t peeks, faults, sps;
  static struct vm pv;
  static int rep; /* (static: kept across the siglongjmp) */
  for (rep = 0; rep < 4000; rep++) {
    memset(&pv, 0, sizeof pv);
    peek_vm = &pv;
    peek_at = rep % 4 == 3 ? (volatile int64_t *)page : &cell;
    if (sigsetjmp(peek_jmp, 1) == 0) {
      run_unsigned(pk, &pv);
      peeks += (uint64_t)pv.st[1];
    } else {
      faults++;
      sps += (uint64_t)peek_sp;
    }
  }
  check("peeks (7 + 5 each)", peeks, 3000 * 12);
  check("faults in a handler", faults, 1000);
  check("stack depth the fault handler saw (2 each)", sps, 2000);
}

int main(void)
{
  /* acc = acc*31 ^ i for i = 200..1 in bytecode; some opcodes carry high
   * bits the mask drops. */
  static const uint8_t loop[] = {
      OP_PUSH, 7, OP_PUSH, 200,      /* acc i */
      /* 4: */ OP_SWAP | 0x20,       /* i acc */
      OP_PUSH, 31, OP_MUL,           /* i acc*31 */
      OP_OVER | 0x40,                /* i acc*31 i */
      OP_XOR,                        /* i acc' */
      OP_SWAP,                       /* acc' i */
      OP_DEC | 0xe0,                 /* acc' i-1 */
      OP_DUP,                        /* acc' i-1 i-1 */
      OP_JNZ, 4,                     /* acc' i-1 */
      OP_DROP,                       /* acc' */
      OP_HALT,
  };
  uint64_t acc = reference();
  struct vm vm;
  uint64_t ru = 0, rs = 0, su = 0, ss = 0;
  for (int rep = 0; rep < 3000; rep++) {
    memset(&vm, 0, sizeof vm);
    run_unsigned(loop, &vm);
    ru += (uint64_t)vm.st[0] + (uint64_t)vm.sp;
    su += vm.steps;
    memset(&vm, 0, sizeof vm);
    run_signed(loop, &vm);
    rs += (uint64_t)vm.st[0] + (uint64_t)vm.sp;
    ss += vm.steps;
  }
  check("bytecode loop, unsigned dispatch", ru, 3000 * (acc + 1));
  check("bytecode loop, signed dispatch", rs, 3000 * (acc + 1));
  check("steps, unsigned", su, 3000 * (2 + 9 * 200 + 2));
  check("steps, signed", ss, 3000 * (2 + 9 * 200 + 2));

  /* The flags a handler sees first: those the code before the dispatch
   * left (compared with the native run's output). */
  static const uint8_t fl[] = {OP_PUSH, 1, OP_FLAGS, OP_PUSH, 2, OP_DUP, OP_FLAGS | 0x20, OP_HALT};
  uint64_t fsum = 0;
  for (int rep = 0; rep < 2000; rep++) {
    memset(&vm, 0, sizeof vm);
    run_unsigned(fl, &vm);
    fsum += vm.flags_seen;
  }
  printf("flags at a handler's start, summed: %llu\n", (unsigned long long)fsum);

  /* 1, 2, 5, 7, 2, 9, 4, 6 (loop) per turn: 1 - 1 + 5 + 7 - 1 + 9 + 4 = 24 */
  static const uint8_t holes[] = {1, 2, 0x15, 7, 0x22, 9, 4, 0x16, 0};
  check("a table with a hole: cases past it through the lookup", (uint64_t)run_holes(holes, 200000), 24 * 200000);

  faults_in_a_handler();
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails ? 1 : 0;
}
