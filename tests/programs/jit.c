/* A tiny JIT: code written at run time into an RWX mapping, called, then
 * rewritten in place and called again (the translator must notice). Also the
 * W^X style: RW while writing, RX while running, through mprotect. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef long (*fn_t)(long);

/* mov rax, rdi; add rax, imm32; ret */
static void emit_add(uint8_t *p, int32_t k)
{
  static const uint8_t code[] = {0x48, 0x89, 0xf8, 0x48, 0x05, 0, 0, 0, 0, 0xc3};
  memcpy(p, code, sizeof code);
  memcpy(p + 5, &k, 4);
}

/* mov rax, rdi; imul rax, rax, imm32; ret */
static void emit_mul(uint8_t *p, int32_t k)
{
  static const uint8_t code[] = {0x48, 0x89, 0xf8, 0x48, 0x69, 0xc0, 0, 0, 0, 0, 0xc3};
  memcpy(p, code, sizeof code);
  memcpy(p + 6, &k, 4);
}

int main(void)
{
  uint8_t *rwx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (rwx == MAP_FAILED) {
    puts("no rwx mapping");
    return 1;
  }
  fn_t f = (fn_t)(uintptr_t)rwx;
  long total = 0;
  for (int round = 0; round < 200; round++) {
    if (round % 2)
      emit_mul(rwx, round);
    else
      emit_add(rwx, round);
    long r = f(round + 3);
    total += r;
    if (round < 4 || round > 196)
      printf("rwx round %d: %ld\n", round, r);
  }
  printf("rwx total %ld\n", total);

  uint8_t *wx = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  fn_t g = (fn_t)(uintptr_t)wx;
  total = 0;
  for (int round = 0; round < 100; round++) {
    mprotect(wx, 4096, PROT_READ | PROT_WRITE);
    if (round % 3)
      emit_add(wx, round * 7);
    else
      emit_mul(wx, round + 1);
    mprotect(wx, 4096, PROT_READ | PROT_EXEC);
    total += g(round);
  }
  printf("mprotect total %ld\n", total);
  /* Unmap and map fresh code at the same place. */
  munmap(wx, 4096);
  uint8_t *again = mmap(wx, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  emit_mul(again, 11);
  mprotect(again, 4096, PROT_READ | PROT_EXEC);
  printf("remapped %ld\n", ((fn_t)(uintptr_t)again)(5));
  return 0;
}
