/* smc_same_block: an instruction in RWX memory that patches the next
 * instruction of its own block (the immediate of `mov eax, imm32`):
 * natively the new bytes run (42 each time); also a store several
 * instructions ahead.
 *
 * Guards against: hotpath checking writable code only at a block's entry,
 * so the block ran the bytes it translated before the store (1 each time). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
  unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 1;
  static const unsigned char next[] = {
      0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x2a, /* mov byte [rip+1], 42: the imm8 below */
      0xb8, 0x01, 0x00, 0x00, 0x00,             /* mov eax, 1 */
      0xc3};                                    /* ret */
  static const unsigned char ahead[] = {
      0xc6, 0x05, 0x06, 0x00, 0x00, 0x00, 0x07, /* mov byte [rip+6], 7: three instructions on */
      0x31, 0xc0,                               /* xor eax, eax */
      0x90, 0x90,                               /* nop; nop */
      0x83, 0xc0, 0x03,                         /* add eax, 3 (its imm8 patched to 7) */
      0xc3};                                    /* ret */
  long a = 0, b = 0;
  for (int i = 0; i < 200; i++) {
    memcpy(p, next, sizeof next);
    a += ((int (*)(void))p)();
    memcpy(p + 64, ahead, sizeof ahead);
    b += ((int (*)(void))(p + 64))();
  }
  printf("next instruction patched: %ld\nthree on: %ld\n", a, b);
  return 0;
}
