/* Self-modifying code called from traced loops. RWX: a function
 * `mov eax, imm32; ret` written into a writable and executable mapping,
 * called in a hot loop, its immediate rewritten every N iterations (and, in
 * a second loop, at every iteration); a generated function with a loop of
 * its own (a backward branch in writable code). W^X: the same function
 * mapped RW while written, RX while called, rewritten through mprotect RW /
 * RX every N iterations (here the trace may inline it: the mprotect must
 * flush that trace), a generated loop traced inside the RX mapping, and
 * munmap + mmap of new code at the same address. Every sum is checked
 * against the values the code was given. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"

typedef uint32_t (*fn0_t)(void);
typedef uint32_t (*fn1_t)(uint32_t);

/* mov eax, imm32; ret */
static void emit_const(uint8_t *p, uint32_t imm)
{
  p[0] = 0xb8;
  memcpy(p + 1, &imm, 4);
  p[5] = 0xc3;
}

/* xor eax, eax; 1: add eax, imm32; dec edi; jnz 1b; ret   (n = edi >= 1) */
static void emit_loop(uint8_t *p, uint32_t imm)
{
  static const uint8_t code[] = {0x31, 0xc0,                   /* xor eax, eax */
                                 0x05, 0, 0, 0, 0,             /* add eax, imm32 */
                                 0xff, 0xcf,                   /* dec edi */
                                 0x75, 0xf7,                   /* jnz -9 (to the add) */
                                 0xc3};
  memcpy(p, code, sizeof code);
  memcpy(p + 3, &imm, 4);
}

static void set_imm_const(uint8_t *p, uint32_t imm) { memcpy(p + 1, &imm, 4); }
static void set_imm_loop(uint8_t *p, uint32_t imm) { memcpy(p + 3, &imm, 4); }

static uint32_t imm_for(int k) { return (uint32_t)k * 2654435761u; }

int main(void)
{
  const int N = 60000, EVERY = 5000;
  uint8_t *rwx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (rwx == MAP_FAILED) {
    puts("no rwx mapping");
    return 1;
  }
  /* RWX, rewritten every EVERY calls. */
  emit_const(rwx, imm_for(0));
  fn0_t f = (fn0_t)(uintptr_t)rwx;
  uint64_t got = 0, want = 0;
  for (int i = 0; i < N; i++) {
    if (i % EVERY == 0)
      set_imm_const(rwx, imm_for(i / EVERY));
    got += f();
    want += imm_for(i / EVERY);
  }
  check("rwx rewritten every 5000 calls", got, want);

  /* RWX, rewritten before every call. */
  got = want = 0;
  for (int i = 0; i < 20000; i++) {
    set_imm_const(rwx, (uint32_t)i * 7 + 1);
    got += f();
    want += (uint32_t)i * 7 + 1;
  }
  check("rwx rewritten every call", got, want);

  /* RWX, a loop inside the generated code (its backward branch is a head in
   * writable code), immediate rewritten every 500 calls. */
  emit_loop(rwx + 64, 3);
  fn1_t g = (fn1_t)(uintptr_t)(rwx + 64);
  got = want = 0;
  for (int i = 0; i < 6000; i++) {
    if (i % 500 == 0)
      set_imm_loop(rwx + 64, imm_for(i) | 1);
    uint32_t n = 1 + (uint32_t)i % 13;
    got += g(n);
    want += (uint32_t)(n * (imm_for(i - i % 500) | 1));
  }
  check("rwx generated loop", got, want);

  /* W^X: RW to write, RX to run. */
  uint8_t *wx = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  emit_const(wx, imm_for(100));
  emit_loop(wx + 64, imm_for(200));
  mprotect(wx, 4096, PROT_READ | PROT_EXEC);
  fn0_t h = (fn0_t)(uintptr_t)wx;
  fn1_t hl = (fn1_t)(uintptr_t)(wx + 64);
  got = want = 0;
  for (int i = 0; i < N; i++) {
    if (i % EVERY == 0 && i) {
      mprotect(wx, 4096, PROT_READ | PROT_WRITE);
      set_imm_const(wx, imm_for(100 + i / EVERY));
      mprotect(wx, 4096, PROT_READ | PROT_EXEC);
    }
    got += h();
    want += imm_for(100 + i / EVERY);
  }
  check("w^x rewritten every 5000 calls", got, want);

  got = want = 0;
  for (int i = 0; i < 6000; i++) {
    if (i % 500 == 0 && i) {
      mprotect(wx, 4096, PROT_READ | PROT_WRITE);
      set_imm_loop(wx + 64, imm_for(200 + i));
      mprotect(wx, 4096, PROT_READ | PROT_EXEC);
    }
    uint32_t n = 1 + (uint32_t)i % 13;
    got += hl(n);
    want += (uint32_t)(n * imm_for(200 + (i - i % 500)));
  }
  check("w^x generated loop", got, want);

  /* Unmapped and mapped again at the same address with other code. */
  got = want = 0;
  for (int round = 0; round < 6; round++) {
    munmap(wx, 4096);
    uint8_t *p = mmap(wx, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p != wx) {
      puts("mmap moved");
      return 1;
    }
    emit_const(wx, imm_for(1000 + round));
    mprotect(wx, 4096, PROT_READ | PROT_EXEC);
    for (int i = 0; i < 3000; i++) {
      got += h();
      want += imm_for(1000 + round);
    }
  }
  check("w^x munmap and map again", got, want);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
