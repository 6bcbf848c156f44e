/* Bytecode interpreters in hot loops: a switch-based one (the switch is a
 * jump table: an indirect jump whose target changes at every instruction,
 * so the trace's guard on it mostly misses) and a threaded one with
 * computed goto (GCC labels as values: one indirect jump per handler). Both
 * run the same program, about a million bytecode instructions, and must
 * agree with each other and with the same computation in C. */
#include <stdint.h>
#include <stdio.h>

enum {
  OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_ADD, OP_SUB, OP_MUL, OP_XOR, OP_SHR,
  OP_LOAD, OP_STORE, OP_JNZ, OP_JMP, OP_DEC, OP_INC, OP_AND, OP_OVER, NOPS
};

/* Program: for (i = N; i; i--) { acc = acc * 33 ^ i; if (i & 1) acc += i >> 1; else t++; }
 * then a few stack operations leave 5 in v3. vars: 0 = i, 1 = acc, 2 = t, 3 */
static int64_t prog[128];

static void assemble(int64_t n)
{
  /* Build the program with labels computed here (no hand offsets). */
  int p = 0, top, odd, join, jnz_at, jmp_at, end_at;
  prog[p++] = OP_PUSH; prog[p++] = n;
  prog[p++] = OP_STORE; prog[p++] = 0;
  top = p;
  prog[p++] = OP_LOAD; prog[p++] = 1; prog[p++] = OP_PUSH; prog[p++] = 33; prog[p++] = OP_MUL;
  prog[p++] = OP_LOAD; prog[p++] = 0; prog[p++] = OP_XOR; prog[p++] = OP_STORE; prog[p++] = 1;
  prog[p++] = OP_LOAD; prog[p++] = 0; prog[p++] = OP_PUSH; prog[p++] = 1; prog[p++] = OP_AND;
  prog[p++] = OP_JNZ; jnz_at = p++;
  prog[p++] = OP_LOAD; prog[p++] = 2; prog[p++] = OP_INC; prog[p++] = OP_STORE; prog[p++] = 2;
  prog[p++] = OP_JMP; jmp_at = p++;
  odd = p;
  prog[p++] = OP_LOAD; prog[p++] = 1; prog[p++] = OP_LOAD; prog[p++] = 0; prog[p++] = OP_PUSH;
  prog[p++] = 1; prog[p++] = OP_SHR; prog[p++] = OP_ADD; prog[p++] = OP_STORE; prog[p++] = 1;
  join = p;
  prog[p++] = OP_LOAD; prog[p++] = 0; prog[p++] = OP_DEC; prog[p++] = OP_DUP; prog[p++] = OP_STORE;
  prog[p++] = 0; prog[p++] = OP_JNZ; end_at = p++;
  /* [5 9] swap [9 5] over [9 5 9] sub [9 -4] add [5] dup [5 5] pop [5] store */
  prog[p++] = OP_PUSH; prog[p++] = 5; prog[p++] = OP_PUSH; prog[p++] = 9; prog[p++] = OP_SWAP;
  prog[p++] = OP_OVER; prog[p++] = OP_SUB; prog[p++] = OP_ADD; prog[p++] = OP_DUP; prog[p++] = OP_POP;
  prog[p++] = OP_STORE; prog[p++] = 3;
  prog[p++] = OP_HALT;
  prog[jnz_at] = odd;
  prog[jmp_at] = join;
  prog[end_at] = top;
  if (p > 128)
    printf("program too long\n");
}

struct result {
  int64_t v[4];
  uint64_t steps;
};

__attribute__((noinline)) static struct result run_switch(void)
{
  int64_t st[64], vars[4] = {0, 0, 0, 0};
  int sp = 0, pc = 0;
  uint64_t steps = 0;
  for (;;) {
    int64_t op = prog[pc++], a, b;
    steps++;
    switch (op) {
    case OP_HALT: goto done;
    case OP_PUSH: st[sp++] = prog[pc++]; break;
    case OP_POP: sp--; break;
    case OP_DUP: st[sp] = st[sp - 1]; sp++; break;
    case OP_SWAP: a = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = a; break;
    case OP_ADD: b = st[--sp]; st[sp - 1] += b; break;
    case OP_SUB: b = st[--sp]; st[sp - 1] -= b; break;
    case OP_MUL: b = st[--sp]; st[sp - 1] = (int64_t)((uint64_t)st[sp - 1] * (uint64_t)b); break;
    case OP_XOR: b = st[--sp]; st[sp - 1] ^= b; break;
    case OP_SHR: b = st[--sp]; st[sp - 1] = (int64_t)((uint64_t)st[sp - 1] >> b); break;
    case OP_AND: b = st[--sp]; st[sp - 1] &= b; break;
    case OP_LOAD: st[sp++] = vars[prog[pc++]]; break;
    case OP_STORE: vars[prog[pc++]] = st[--sp]; break;
    case OP_JNZ: a = prog[pc++]; if (st[--sp]) pc = (int)a; break;
    case OP_JMP: pc = (int)prog[pc]; break;
    case OP_DEC: st[sp - 1]--; break;
    case OP_INC: st[sp - 1]++; break;
    case OP_OVER: st[sp] = st[sp - 2]; sp++; break;
    default: printf("bad op %lld\n", (long long)op); goto done;
    }
  }
done:;
  struct result r = {{vars[0], vars[1], vars[2], vars[3]}, steps};
  return r;
}

__attribute__((noinline)) static struct result run_threaded(void)
{
  static void *const labels[NOPS] = {
    [OP_HALT] = &&l_halt, [OP_PUSH] = &&l_push, [OP_POP] = &&l_pop, [OP_DUP] = &&l_dup,
    [OP_SWAP] = &&l_swap, [OP_ADD] = &&l_add, [OP_SUB] = &&l_sub, [OP_MUL] = &&l_mul,
    [OP_XOR] = &&l_xor, [OP_SHR] = &&l_shr, [OP_LOAD] = &&l_load, [OP_STORE] = &&l_store,
    [OP_JNZ] = &&l_jnz, [OP_JMP] = &&l_jmp, [OP_DEC] = &&l_dec, [OP_INC] = &&l_inc,
    [OP_AND] = &&l_and, [OP_OVER] = &&l_over,
  };
  int64_t st[64], vars[4] = {0, 0, 0, 0}, a, b;
  int sp = 0, pc = 0;
  uint64_t steps = 0;
#define NEXT do { steps++; goto *labels[prog[pc++]]; } while (0)
  NEXT;
l_push: st[sp++] = prog[pc++]; NEXT;
l_pop: sp--; NEXT;
l_dup: st[sp] = st[sp - 1]; sp++; NEXT;
l_swap: a = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = a; NEXT;
l_add: b = st[--sp]; st[sp - 1] += b; NEXT;
l_sub: b = st[--sp]; st[sp - 1] -= b; NEXT;
l_mul: b = st[--sp]; st[sp - 1] = (int64_t)((uint64_t)st[sp - 1] * (uint64_t)b); NEXT;
l_xor: b = st[--sp]; st[sp - 1] ^= b; NEXT;
l_shr: b = st[--sp]; st[sp - 1] = (int64_t)((uint64_t)st[sp - 1] >> b); NEXT;
l_and: b = st[--sp]; st[sp - 1] &= b; NEXT;
l_load: st[sp++] = vars[prog[pc++]]; NEXT;
l_store: vars[prog[pc++]] = st[--sp]; NEXT;
l_jnz: a = prog[pc++]; if (st[--sp]) pc = (int)a; NEXT;
l_jmp: pc = (int)prog[pc]; NEXT;
l_dec: st[sp - 1]--; NEXT;
l_inc: st[sp - 1]++; NEXT;
l_over: st[sp] = st[sp - 2]; sp++; NEXT;
l_halt:;
#undef NEXT
  struct result r = {{vars[0], vars[1], vars[2], vars[3]}, steps};
  return r;
}

static struct result reference(int64_t n)
{
  uint64_t acc = 0;
  int64_t t = 0;
  for (int64_t i = n; i; i--) {
    acc = acc * 33 ^ (uint64_t)i;
    if (i & 1)
      acc += (uint64_t)i >> 1;
    else
      t++;
  }
  /* Instructions executed: 2 to set up; per iteration 6 + 4 (test), then
   * odd 6 or even 4, then 5 (loop); 10 at the end. */
  uint64_t odd = (uint64_t)(n + 1) / 2, even = (uint64_t)n / 2;
  uint64_t steps = 2 + odd * (6 + 4 + 6 + 5) + even * (6 + 4 + 4 + 5) + 10;
  struct result r = {{0, (int64_t)acc, t, 5}, steps};
  return r;
}

static int print(const char *what, struct result r, struct result want)
{
  int ok = r.v[0] == want.v[0] && r.v[1] == want.v[1] && r.v[2] == want.v[2] && r.v[3] == want.v[3] &&
           r.steps == want.steps;
  printf("%s: i=%lld acc=%lld t=%lld v3=%lld steps=%llu%s\n", what, (long long)r.v[0], (long long)r.v[1],
         (long long)r.v[2], (long long)r.v[3], (unsigned long long)r.steps, ok ? "" : " MISMATCH");
  return !ok;
}

int main(void)
{
  int fails = 0;
  /* Short runs first (traces built on a program of another shape), then the
   * long one. */
  int64_t sizes[] = {1, 2, 7, 100, 50000};
  for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    assemble(sizes[k]);
    struct result want = reference(sizes[k]);
    char name[64];
    snprintf(name, sizeof name, "switch n=%lld", (long long)sizes[k]);
    fails += print(name, run_switch(), want);
    snprintf(name, sizeof name, "threaded n=%lld", (long long)sizes[k]);
    fails += print(name, run_threaded(), want);
  }
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
