/* A float local kept in an xmm register by --opt=2, stored from xmm5 right
 * after an MMX `pxor mm5, mm5` (mnemonic PXOR, like SSE2's `pxor xmm5, xmm5`,
 * which zeroes xmm5): the store must copy only the low float, so a movss
 * load of the local sees zeros above it. Found in review: the lowering took
 * the MMX form for a zeroed xmm5 and copied xmm5 whole into the local's
 * register (its load then showed 2 3 4 above the float). */
#include <stdio.h>
int main(void) {
  float init[4] = {1,2,3,4};
  float out[4];
  float f = 0;
  unsigned sum = 0;
  asm volatile("movups %0, %%xmm5" :: "m"(init) : "xmm5");
  for (int i = 0; i < 100000; i++) {
    asm volatile("pxor %%mm5, %%mm5\n\t"
                 "movss %%xmm5, %0" : "=m"(f) :: "mm5");
    asm volatile("movss %1, %%xmm2\n\t"
                 "movups %%xmm2, %0" : "=m"(out) : "m"(f) : "xmm2");
    sum += out[1] != 0;
  }
  asm volatile("emms");
  printf("%u %g %g %g %g\n", sum, out[0], out[1], out[2], out[3]);
  return 0;
}
