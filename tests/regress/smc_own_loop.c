/* Regression (issue 15, item 18): a loop in writable and executable memory
 * that rewrites an immediate of its own body on every turn (so the next turn
 * must run the new bytes), hot enough to become a trace; and the same loop
 * placed so that the rewritten immediate spans two pages. Natively each turn
 * adds the immediate the previous turn wrote: the sum is n(n-1)/2 + n*start.
 * A translator that keeps running its first translation of the loop (or
 * checks only the page where the instruction starts) adds a stale constant. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* At p:  xor eax, eax
 *  loop: mov edx, imm32          (imm32 = start)
 *        add eax, edx
 *        inc dword [rip+d]       (d: back to the mov's imm32)
 *        dec edi
 *        jnz loop
 *        ret
 * Returns the offset of the imm32 from p. */
static size_t emit_loop(uint8_t *p, uint32_t start)
{
  size_t k = 0;
  p[k++] = 0x31, p[k++] = 0xc0;
  size_t loop = k;
  p[k++] = 0xba;
  size_t imm = k;
  memcpy(p + k, &start, 4), k += 4;
  p[k++] = 0x01, p[k++] = 0xd0;
  p[k++] = 0xff, p[k++] = 0x05;
  int32_t d = (int32_t)imm - (int32_t)(k + 4);
  memcpy(p + k, &d, 4), k += 4;
  p[k++] = 0xff, p[k++] = 0xcf;
  p[k++] = 0x75, p[k] = (uint8_t)(loop - (k + 1)), k++;
  p[k++] = 0xc3;
  return imm;
}

static int check(const char *what, uint8_t *code, uint32_t start, uint32_t n)
{
  uint32_t got = ((uint32_t(*)(uint32_t))code)(n);
  uint32_t want = (uint32_t)((uint64_t)n * (n - 1) / 2 + (uint64_t)n * start);
  printf("%s: %u turns, sum %u (%s)\n", what, n, got, got == want ? "ok" : "WRONG");
  return got != want;
}

int main(void)
{
  uint8_t *mem = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    return 2;
  int bad = 0;
  /* Within one page; called several times (the loop starts over from the
   * immediate the last call left). */
  emit_loop(mem + 64, 7);
  for (uint32_t k = 0; k < 5; k++)
    bad |= check("one page", mem + 64, 7 + k * 3000, 3000);
  /* The immediate's four bytes on both sides of a page boundary: the mov
   * starts 2 bytes before the second page. */
  uint8_t *q = mem + 2 * 4096 - 2 - 3; /* xor (2), then the mov's opcode at 4096*2-3 */
  size_t imm = emit_loop(q, 100);
  printf("immediate spans the page boundary: %s\n",
         (uintptr_t)(q + imm) / 4096 != (uintptr_t)(q + imm + 3) / 4096 ? "yes" : "no");
  for (uint32_t k = 0; k < 5; k++)
    bad |= check("two pages", q, 100 + k * 3000, 3000);
  return bad;
}
