/* Float and double locals that live in xmm registers in optimized loops
 * (--opt=2): a store of such a local copies its source register whole
 * only where nothing lies above the stored element in it. Here inline asm
 * stores a local from a register with data above the element (movddup: a
 * double in both halves; a double's low 32 bits stored as a float), and a
 * movsd/movss load of the local must then show zeros above the element,
 * as natively (the loads zero-extend). An accumulator next to it is
 * stored from a register that holds nothing above (copied whole). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

#define N 100000

static double src[N];

/* d: stored from xmm0 = {src[i], src[i]}; its load's upper half must be 0. */
__attribute__((noinline)) static void dbl_upper(long n, uint64_t *hi_or, uint64_t *sum, double *acc_out)
{
  double d = 0, acc = 0;
  uint64_t h = 0, s = 0;
  for (long i = 0; i < n; i++) {
    __asm__ volatile("movddup %1, %%xmm0\n\tmovsd %%xmm0, %0" : "=m"(d) : "m"(src[i]) : "xmm0");
    uint64_t hi;
    __asm__ volatile("movsd %1, %%xmm1\n\tmovhlps %%xmm1, %%xmm1\n\tmovq %%xmm1, %0" : "=r"(hi) : "m"(d) : "xmm1");
    h |= hi;
    s += (uint64_t)(long)(d * 4.0);
    acc = acc + src[i];
  }
  *hi_or = h;
  *sum = s;
  *acc_out = acc;
}

/* f: stored from xmm0 = a double (bits 32-63 not zero); its load's bits
 * 32-63 must be 0. z: stored from a zeroed register. */
__attribute__((noinline)) static void flt_upper(long n, uint64_t *hi_or, uint64_t *sum, uint64_t *zeros)
{
  float f = 0, z = 1;
  uint64_t h = 0, s = 0, zz = 0;
  for (long i = 0; i < n; i++) {
    __asm__ volatile("movsd %1, %%xmm0\n\tmovss %%xmm0, %0" : "=m"(f) : "m"(src[i]) : "xmm0");
    uint64_t lo64;
    __asm__ volatile("movss %1, %%xmm1\n\tmovq %%xmm1, %0" : "=r"(lo64) : "m"(f) : "xmm1");
    h |= lo64 >> 32;
    s += lo64 & 0xffffffffu;
    __asm__ volatile("xorps %%xmm2, %%xmm2\n\tmovss %%xmm2, %0" : "=m"(z) : : "xmm2");
    uint64_t zb;
    __asm__ volatile("movss %1, %%xmm3\n\tmovq %%xmm3, %0" : "=r"(zb) : "m"(z) : "xmm3");
    zz |= zb;
  }
  *hi_or = h;
  *sum = s;
  *zeros = zz;
}

int main(void)
{
  uint64_t st = 0x9e3779b97f4a7c15ull;
  for (long i = 0; i < N; i++)
    src[i] = (double)(xs(&st) % 1000003) / 7.0 + 1.0;
  uint64_t s_ref = 0, f_ref = 0;
  double acc_ref = 0;
  for (long i = 0; i < N; i++) {
    s_ref += (uint64_t)(long)(src[i] * 4.0);
    acc_ref = acc_ref + src[i];
    uint32_t lo;
    memcpy(&lo, &src[i], 4);
    f_ref += lo;
  }
  for (int round = 0; round < 3; round++) {
    uint64_t hi, s, z;
    double acc;
    dbl_upper(N, &hi, &s, &acc);
    check("double: bits above 64 after a load", hi, 0);
    check("double: sum", s, s_ref);
    uint64_t a, b;
    memcpy(&a, &acc, 8);
    memcpy(&b, &acc_ref, 8);
    check("double: accumulator bits", a, b);
    flt_upper(N, &hi, &s, &z);
    check("float: bits above 32 after a load", hi, 0);
    check("float: sum of the low halves", s, f_ref);
    check("float: zeroed local", z, 0);
  }
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
