/* Stores that reach an inlined call's return address slot though their
 * operand looks elsewhere: a `btc` whose register bit offset lands on the
 * slot, and an `xsave` whose AVX state (past the legacy 576 bytes) covers
 * it. Each loop runs a trace with the call inlined; the late rounds make
 * the store change the return address so that the callee returns to
 * another label. An optimized trace that dropped the return's check would
 * count those returns as normal ones (found in review). */
#include <cpuid.h>
#include <stdio.h>

#include "check.h"

long normal, alt, boff, rfbm;
void bt_loop(long n);
void xs_loop(long n);

__asm__(".intel_syntax noprefix\n"
        ".text\n"
        "bt_loop:\n"
        "  push rbx\n"
        "  mov rbx, rdi\n"
        ".p2align 5\n"
        "1:\n"
        "  .skip 27, 0x90\n"
        "  call bt_f\n" /* returns to +5: jmp 2f; bit 4 flipped: +21, the alt count */
        "  jmp 2f\n"
        "  .skip 14, 0x90\n"
        "  inc qword ptr [rip+alt]\n"
        "  jmp 3f\n"
        "2: inc qword ptr [rip+normal]\n"
        "3: dec rbx\n"
        "  jnz 1b\n"
        "  pop rbx\n"
        "  ret\n"
        "bt_f:\n"
        "  mov rax, [rip+boff]\n"
        "  btc qword ptr [rsp-64], rax\n" /* bit boff of [rsp-64]: 64*8+4 is bit 4 of [rsp] */
        "  ret\n"
        "xs_loop:\n"
        "  push rbp\n"
        "  mov rbp, rsp\n"
        "  push rbx\n"
        "  and rsp, -64\n"
        "  sub rsp, 376\n"
        "  mov rbx, rdi\n"
        ".p2align 5\n"
        "1:\n"
        "  .skip 27, 0x90\n"
        "  call xs_f\n"
        "  jmp 2f\n"
        "  .skip 14, 0x90\n"
        "xs_alt: inc qword ptr [rip+alt]\n"
        "  jmp 3f\n"
        "2: inc qword ptr [rip+normal]\n"
        "3: dec rbx\n"
        "  jnz 1b\n"
        "  mov rbx, [rbp-8]\n"
        "  leave\n"
        "  ret\n"
        "xs_f:\n" /* ymm0's upper half = xs_alt: with RFBM bit 2 (AVX), xsave writes it at +576 */
        "  lea rax, [rip+xs_alt]\n"
        "  vmovq xmm1, rax\n"
        "  vinserti128 ymm0, ymm0, xmm1, 1\n"
        "  mov rax, [rip+rfbm]\n"
        "  xor edx, edx\n"
        "  sub rsp, 576\n"
        "  xsave [rsp]\n"
        "  add rsp, 576\n"
        "  vzeroupper\n"
        "  ret\n"
        ".att_syntax prefix\n");

int main(void)
{
  bt_loop(100000);
  boff = 64 * 8 + 4;
  bt_loop(10);
  check("btc: normal returns", (uint64_t)normal, 100000);
  check("btc: returns moved by the bit test", (uint64_t)alt, 10);

  unsigned a = 0, b = 0, c = 0, d = 0;
  int avx2 = 0, osxsave = 0;
  if (__get_cpuid_max(0, 0) >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    avx2 = (b >> 5) & 1;
    __cpuid(1, a, b, c, d);
    osxsave = (c >> 27) & 1;
  }
  if (avx2 && osxsave) {
    normal = alt = 0;
    xs_loop(100000);
    rfbm = 4;
    xs_loop(10);
    check("xsave: normal returns", (uint64_t)normal, 100000);
    check("xsave: returns moved by the saved AVX state", (uint64_t)alt, 10);
  } else {
    printf("xsave: no AVX2 here (skipped)\n");
  }
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
