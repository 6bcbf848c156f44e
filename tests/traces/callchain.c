/* Calls inside traces: a chain of ten small calls in a hot loop (each call
 * is inlined into the trace with the guest return address pushed, each
 * return guarded against it); one function called from two different call
 * sites of the same loop (the return guards of its two copies must tell the
 * sites apart); a function with a hot loop of its own called alternately
 * from two sites (the trace starts inside it and returns to whichever site
 * called); leaf functions whose locals live in the red zone below rsp (-O0
 * puts them there), and an assembly function that keeps values in the red
 * zone across a conditional branch, an indirect jump and a direct jump
 * (nothing hotpath does may write below rsp). Results are checked against
 * straight-line recomputations. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"

#define NI __attribute__((noinline))
NI static uint64_t c9(uint64_t x) { return x * 3 + 1; }
NI static uint64_t c8(uint64_t x) { return c9(x ^ 0x55) + 2; }
NI static uint64_t c7(uint64_t x) { return c8(x + 7) ^ 0x100; }
NI static uint64_t c6(uint64_t x) { return c7(x * 5) - 3; }
NI static uint64_t c5(uint64_t x) { return c6(x >> 1) + (x & 1); }
NI static uint64_t c4(uint64_t x) { return c5(x + 11) * 2; }
NI static uint64_t c3(uint64_t x) { return c4(x ^ 0xabc) + 1; }
NI static uint64_t c2(uint64_t x) { return c3(x + 2) ^ 0x3; }
NI static uint64_t c1(uint64_t x) { return c2(x * 7) + 9; }
NI static uint64_t c0(uint64_t x) { return c1(x + 1) - 1; }

static uint64_t chain_ref(uint64_t x)
{
  x = x + 1;
  x = x * 7;
  x = x + 2;
  x = x ^ 0xabc;
  x = x + 11;
  uint64_t lo = x & 1;
  x = x >> 1;
  x = x * 5;
  x = x + 7;
  x = x ^ 0x55;
  uint64_t r = x * 3 + 1;
  r = r + 2;
  r = r ^ 0x100;
  r = r - 3;
  r = r + lo;
  r = r * 2;
  r = r + 1;
  r = r ^ 0x3;
  r = r + 9;
  return r - 1;
}

/* Called from two sites of one loop, and through a two-level helper. */
NI static uint64_t shared(uint64_t x) { return (x << 3) ^ (x >> 2) ^ 0x9e37; }
NI static uint64_t via(uint64_t x) { return shared(x + 1) + 1; }

/* A function with a hot loop inside, called from two sites alternately. */
NI static uint64_t inner_loop(uint64_t x, int n)
{
  uint64_t s = x;
  for (int i = 0; i < n; i++)
    s = s * 31 + (uint64_t)i;
  return s;
}

static uint64_t inner_loop_ref(uint64_t x, int n)
{
  uint64_t s = x;
  int i = 0;
  while (i < n) {
    s = s * 31 + (uint64_t)i;
    i++;
  }
  return s;
}

/* Leaf with locals only (red zone at -O0) and a loop. */
NI static uint64_t leaf_locals(uint64_t a, uint64_t b)
{
  volatile uint64_t t0 = a, t1 = b, t2 = a ^ b, t3 = a + b, t4 = a * 3, t5 = b * 5, t6 = 1, t7 = 2;
  for (int i = 0; i < 4; i++) {
    t6 = t6 * t0 + t1;
    t7 = t7 ^ (t2 + t3 + (uint64_t)i);
  }
  return t6 + t7 + t4 + t5;
}

static uint64_t leaf_locals_ref(uint64_t a, uint64_t b)
{
  uint64_t t6 = 1, t7 = 2;
  for (int i = 0; i < 4; i++) {
    t6 = t6 * a + b;
    t7 = t7 ^ ((a ^ b) + (a + b) + (uint64_t)i);
  }
  return t6 + t7 + a * 3 + b * 5;
}

/* A non-leaf caller that keeps locals across calls to the leaf (its own
 * frame, the leaf's red zone just below the return address). */
NI static uint64_t nonleaf(uint64_t a)
{
  volatile uint64_t keep[6] = {a, a + 1, a + 2, a + 3, a + 4, a + 5};
  uint64_t s = leaf_locals(a, a + 1);
  s += keep[0] + keep[5];
  s ^= leaf_locals(keep[2], keep[3]);
  return s + keep[1] + keep[4];
}

/* rz_asm(seed, sel): writes 16 qwords seed*k into [rsp-128, rsp), then
 * branches on sel&1, jumps indirectly to one of two labels by sel&2, takes a
 * direct jump, and sums the 16 qwords back (returns the sum xor sel). */
uint64_t rz_asm(uint64_t seed, uint64_t sel);
__asm__(".text\n"
        "rz_asm:\n"
        "  mov %rdi, %rax\n"
        "  mov $16, %ecx\n"
        "  lea -128(%rsp), %rdx\n"
        "1: mov %rax, (%rdx)\n"
        "  add %rdi, %rax\n"
        "  add $8, %rdx\n"
        "  dec %ecx\n"
        "  jnz 1b\n"
        "  test $1, %sil\n"
        "  jz 2f\n"
        "  xor $0x11, %r8\n"
        "2: lea 3f(%rip), %rdx\n"
        "  lea 4f(%rip), %rcx\n"
        "  test $2, %sil\n"
        "  cmovnz %rcx, %rdx\n"
        "  jmp *%rdx\n"
        "3: nop\n"
        "  jmp 5f\n"
        "4: nop\n"
        "  jmp 5f\n"
        "5: xor %eax, %eax\n"
        "  mov $16, %ecx\n"
        "  lea -128(%rsp), %rdx\n"
        "6: add (%rdx), %rax\n"
        "  add $8, %rdx\n"
        "  dec %ecx\n"
        "  jnz 6b\n"
        "  xor %rsi, %rax\n"
        "  ret\n");

/* retslot(fn): calls a leaf directly, then fn indirectly, and after each
 * return compares the qword just below rsp (where the return address was
 * popped from) with the return address: native memory keeps it there.
 * Returns 1 + 2 when both match. */
uint64_t retslot(void (*fn)(void));
void retslot_leaf(void);
__asm__(".text\n"
        "retslot_leaf:\n"
        "  ret\n"
        "retslot:\n"
        "  push %rbx\n"
        "  xor %ebx, %ebx\n"
        "  call retslot_leaf\n"
        "1: lea 1b(%rip), %rax\n"
        "  cmp -8(%rsp), %rax\n"
        "  jne 2f\n"
        "  or $1, %ebx\n"
        "2: call *%rdi\n"
        "3: lea 3b(%rip), %rax\n"
        "  cmp -8(%rsp), %rax\n"
        "  jne 4f\n"
        "  or $2, %ebx\n"
        "4: mov %rbx, %rax\n"
        "  pop %rbx\n"
        "  ret\n");

static uint64_t rz_ref(uint64_t seed, uint64_t sel)
{
  uint64_t s = 0, v = seed;
  for (int k = 0; k < 16; k++) {
    s += v;
    v += seed;
  }
  return s ^ sel;
}

/* The same chain and shared function defined after main, each callee after
 * its caller: calls go forward, so no callee entry becomes a trace head
 * (targets of backward branches do) and one trace inlines the whole chain,
 * with a pushed return address and a return guard per call. */
static uint64_t d0(uint64_t x), d1(uint64_t x), d2(uint64_t x), d3(uint64_t x), d4(uint64_t x);
static uint64_t d5(uint64_t x), d6(uint64_t x), d7(uint64_t x), d8(uint64_t x), d9(uint64_t x);
static uint64_t fshared(uint64_t x), fshared2(uint64_t x), fvia(uint64_t x);

int main(void)
{
  const int N = 30000;
  uint64_t got = 0, want = 0;
  for (int i = 0; i < N; i++)
    got += c0((uint64_t)i);
  for (int i = 0; i < N; i++)
    want += chain_ref((uint64_t)i);
  check("chain of 10 calls", got, want);
  got = 0;
  for (int i = 0; i < N; i++)
    got += d0((uint64_t)i);
  check("chain of 10 forward calls", got, want);

  /* Two call sites of one function in one loop, and a third through via(). */
  got = want = 0;
  for (int i = 0; i < N; i++) {
    uint64_t a = shared((uint64_t)i);
    uint64_t b = shared((uint64_t)i * 3 + 1);
    uint64_t c = (i & 1) ? via((uint64_t)i) : shared(a);
    got += a * 3 + (b ^ c);
  }
  for (int i = 0; i < N; i++) {
    uint64_t x = (uint64_t)i, a = (x << 3) ^ (x >> 2) ^ 0x9e37;
    uint64_t y = x * 3 + 1, b = (y << 3) ^ (y >> 2) ^ 0x9e37;
    uint64_t z = (i & 1) ? x + 1 : a;
    uint64_t c = ((z << 3) ^ (z >> 2) ^ 0x9e37) + ((i & 1) ? 1 : 0);
    want += a * 3 + (b ^ c);
  }
  check("two call sites", got, want);
  got = 0;
  for (int i = 0; i < N; i++) {
    uint64_t a = fshared((uint64_t)i);
    uint64_t b = fshared((uint64_t)i * 3 + 1);
    uint64_t c = (i & 1) ? fvia((uint64_t)i) : fshared(a);
    got += a * 3 + (b ^ c);
  }
  check("two call sites, forward", got, want);

  /* A hot loop inside the callee, reached from two sites alternately, with
   * trip counts that change. */
  got = want = 0;
  for (int i = 0; i < 3000; i++) {
    if (i % 3)
      got ^= inner_loop((uint64_t)i, 20 + i % 7);
    else
      got += inner_loop((uint64_t)i * 2, 5 + i % 11);
  }
  for (int i = 0; i < 3000; i++) {
    if (i % 3)
      want ^= inner_loop_ref((uint64_t)i, 20 + i % 7);
    else
      want += inner_loop_ref((uint64_t)i * 2, 5 + i % 11);
  }
  check("callee loop, two sites", got, want);

  /* Red zone. */
  got = want = 0;
  for (int i = 0; i < 20000; i++)
    got += leaf_locals((uint64_t)i, (uint64_t)i * 7 + 3);
  for (int i = 0; i < 20000; i++)
    want += leaf_locals_ref((uint64_t)i, (uint64_t)i * 7 + 3);
  check("leaf red zone", got, want);
  got = want = 0;
  for (int i = 0; i < 10000; i++)
    got += nonleaf((uint64_t)i);
  for (int i = 0; i < 10000; i++) {
    uint64_t a = (uint64_t)i;
    uint64_t s = leaf_locals_ref(a, a + 1) + a + a + 5;
    s ^= leaf_locals_ref(a + 2, a + 3);
    want += s + a + 1 + a + 4;
  }
  check("non-leaf with leaf calls", got, want);
  got = want = 0;
  for (int i = 0; i < 40000; i++) {
    uint64_t sel = i < 20000 ? (uint64_t)(i & 3) : (uint64_t)((i >> 4) & 3);
    got += rz_asm((uint64_t)i * 0x10001 + 1, sel);
    want += rz_ref((uint64_t)i * 0x10001 + 1, sel);
  }
  check("asm red zone across branches", got, want);
  got = 0;
  for (int i = 0; i < 20000; i++)
    got += retslot(retslot_leaf);
  check("return address left below rsp", got, 3 * 20000);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}

NI static uint64_t fshared(uint64_t x) { return (x << 3) ^ (x >> 2) ^ 0x9e37; }
NI static uint64_t fvia(uint64_t x) { return fshared2(x + 1) + 1; }
NI static uint64_t fshared2(uint64_t x) { return (x << 3) ^ (x >> 2) ^ 0x9e37; }
NI static uint64_t d0(uint64_t x) { return d1(x + 1) - 1; }
NI static uint64_t d1(uint64_t x) { return d2(x * 7) + 9; }
NI static uint64_t d2(uint64_t x) { return d3(x + 2) ^ 0x3; }
NI static uint64_t d3(uint64_t x) { return d4(x ^ 0xabc) + 1; }
NI static uint64_t d4(uint64_t x) { return d5(x + 11) * 2; }
NI static uint64_t d5(uint64_t x) { return d6(x >> 1) + (x & 1); }
NI static uint64_t d6(uint64_t x) { return d7(x * 5) - 3; }
NI static uint64_t d7(uint64_t x) { return d8(x + 7) ^ 0x100; }
NI static uint64_t d8(uint64_t x) { return d9(x ^ 0x55) + 2; }
NI static uint64_t d9(uint64_t x) { return x * 3 + 1; }
