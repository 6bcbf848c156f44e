#define _GNU_SOURCE
/* The fold pass (--opt=2): -O0 address arithmetic kept symbolic and folded
 * into the accesses of optimized loops. Array reads and writes with int,
 * long and unsigned indices, scaled by 1, 2, 4, 8 and by 3 and 5 (struct
 * strides), negative offsets, two-dimensional indices, struct fields
 * through pointers, copies of 32-bit values, an index whose register is
 * rewritten before the loop's exit; and a load that faults inside a folded
 * loop: the SIGSEGV handler classifies every register of its ucontext
 * (the fault address, the index, the index times 4, small values), which
 * must read as natively (state rebuilt from the recovery records); bsr and
 * bsf writing a symbolic register; a forwarded constant an imul cannot take;
 * a divide error on a promoted divisor (the handler checks rcx). Each result is checked against a plain second
 * computation. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

#define N 4096

static int32_t ia[N];
static int64_t la[N];
static uint8_t ba[N];
static int16_t sa[N];
static int32_t grid[64][64];
struct body {
  double x, y, z;
  int32_t tag;
};
static struct body bodies[256];
struct rgb {
  uint8_t r, g, b;
};
static struct rgb pix[N];

static void fill(uint64_t seed)
{
  uint64_t st = seed | 1;
  for (int i = 0; i < N; i++) {
    ia[i] = (int32_t)(xs(&st) & 0xffff) - 0x8000;
    la[i] = (int64_t)xs(&st);
    ba[i] = (uint8_t)xs(&st);
    sa[i] = (int16_t)xs(&st);
    pix[i].r = (uint8_t)xs(&st);
    pix[i].g = (uint8_t)xs(&st);
    pix[i].b = (uint8_t)xs(&st);
  }
  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++)
      grid[y][x] = (int32_t)(xs(&st) % 1000);
  for (int k = 0; k < 256; k++) {
    bodies[k].x = (double)(xs(&st) % 100);
    bodies[k].y = (double)(xs(&st) % 100);
    bodies[k].z = (double)(xs(&st) % 100);
    bodies[k].tag = (int32_t)(xs(&st) % 7);
  }
}

/* Reference sums over the arrays, computed without indexing loops of the
 * same shape (pointer walks). */
static uint64_t ref_mix(void)
{
  uint64_t s = 0;
  const int32_t *p = ia;
  const int64_t *q = la;
  const uint8_t *b = ba;
  const int16_t *h = sa;
  for (int k = 0; k < N; k++, p++, q++, b++, h++)
    s = s * 31 + (uint64_t)(int64_t)*p + (uint64_t)*q + *b + (uint64_t)(int64_t)*h * (uint64_t)(N - k);
  return s;
}

static uint64_t mix_int(void)
{
  uint64_t s = 0;
  for (int i = 0; i < N; i++)
    s = s * 31 + (uint64_t)(int64_t)ia[i] + (uint64_t)la[i] + ba[i] + (uint64_t)(int64_t)sa[i] * (uint64_t)(N - i);
  return s;
}

static uint64_t mix_long(void)
{
  uint64_t s = 0;
  for (long i = 0; i < N; i++)
    s = s * 31 + (uint64_t)(int64_t)ia[i] + (uint64_t)la[i] + ba[i] + (uint64_t)(int64_t)sa[i] * (uint64_t)(N - i);
  return s;
}

static uint64_t mix_unsigned(void)
{
  uint64_t s = 0;
  for (unsigned i = 0; i < N; i++)
    s = s * 31 + (uint64_t)(int64_t)ia[i] + (uint64_t)la[i] + ba[i] + (uint64_t)(int64_t)sa[i] * (uint64_t)(N - i);
  return s;
}

/* Writes through folded addresses, neighbours at -1 and +1. */
static uint64_t shift_and_sum(int32_t *dst, const int32_t *src, long n)
{
  for (long i = 1; i < n - 1; i++)
    dst[i] = src[i - 1] + 2 * src[i] - src[i + 1];
  uint64_t s = 0;
  for (long i = 1; i < n - 1; i++)
    s += (uint64_t)(int64_t)dst[i] * (uint64_t)i;
  return s;
}

static uint64_t ref_shift(const int32_t *src, long n)
{
  uint64_t s = 0;
  const int32_t *p = src;
  for (long k = 1; k < n - 1; k++)
    s += (uint64_t)(int64_t)(p[k - 1] + 2 * p[k] - p[k + 1]) * (uint64_t)k;
  return s;
}

static uint64_t grid_sum(void)
{
  uint64_t s = 0;
  for (int y = 1; y < 63; y++)
    for (int x = 1; x < 63; x++)
      s += (uint64_t)(grid[y - 1][x] + grid[y + 1][x] + grid[y][x - 1] + grid[y][x + 1] - 4 * grid[y][x]) * 3 +
           (uint64_t)(x ^ y);
  return s;
}

static uint64_t ref_grid(void)
{
  uint64_t s = 0;
  const int32_t *g = &grid[0][0];
  for (int k = 65; k < 64 * 63 - 1; k++) {
    int y = k / 64, x = k % 64;
    if (x == 0 || x == 63)
      continue;
    s += (uint64_t)(g[k - 64] + g[k + 64] + g[k - 1] + g[k + 1] - 4 * g[k]) * 3 + (uint64_t)(x ^ y);
  }
  return s;
}

/* Struct strides of 32 (fields at 0, 8, 16, 24) and of 3 (rgb). */
static uint64_t bodies_sum(struct body *bs, int n)
{
  double sx = 0, sy = 0, sz = 0;
  long tags = 0;
  for (int k = 0; k < n; k++) {
    struct body *p = &bs[k];
    sx += p->x;
    sy += p->y * 2;
    sz += p->z - p->x;
    tags += p->tag;
    p->tag = (p->tag + 1) % 7;
  }
  return (uint64_t)(sx + sy * 3 + sz * 5) + (uint64_t)tags;
}

static uint64_t pix_sum(void)
{
  uint64_t s = 0;
  for (int i = 0; i < N; i++)
    s += (uint64_t)pix[i].r * 3 + (uint64_t)pix[i].g * 5 + pix[i].b + (uint64_t)i;
  return s;
}

static uint64_t ref_pix(void)
{
  uint64_t s = 0;
  const uint8_t *p = &pix[0].r;
  for (int k = 0; k < N; k++, p += 3)
    s += (uint64_t)p[0] * 3 + (uint64_t)p[1] * 5 + p[2] + (uint64_t)k;
  return s;
}

/* The index copied around in 32 bits, and kept live past the loop. */
static uint64_t copies(int n, int *last)
{
  uint64_t s = 0;
  int i, j = 0;
  for (i = 0; i < n; i++) {
    j = i;
    unsigned u = (unsigned)j;
    s += (uint64_t)ia[u & (N - 1)] + u;
  }
  *last = j + i;
  return s;
}

/* A load that faults inside a folded loop: the array ends at a PROT_NONE
 * page. */
static sigjmp_buf jb;
static volatile uintptr_t fault_addr, fault_base;
static volatile long fault_i;
static char regs_seen[512];

static const char *const reg_names[] = {"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi",
                                        "rsi", "rbp", "rbx", "rdx", "rax", "rcx", "rsp"};

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
  (void)sig;
  ucontext_t *uc = ucv;
  uintptr_t addr = (uintptr_t)si->si_addr;
  size_t n = 0;
  /* Every general register classified: equal to the fault address, to
   * the array's base, to the index, the index times 4 or 8, or small
   * (printed); stack pointers and anything else are "other". */
  for (int r = REG_R8; r <= REG_RCX; r++) {
    uint64_t v = (uint64_t)uc->uc_mcontext.gregs[r];
    uint64_t i = (uint64_t)((addr - fault_base) / 4);
    const char *what = NULL;
    char num[32];
    if (v == addr)
      what = "addr";
    else if (v == fault_base)
      what = "base";
    else if (v == i)
      what = "i";
    else if (v == i * 4)
      what = "i*4";
    else if (v == i * 8)
      what = "i*8";
    else if (v < 0x10000) {
      snprintf(num, sizeof num, "%llu", (unsigned long long)v);
      what = num;
    }
    if (what && r != REG_RSP && r != REG_RBP)
      n += (size_t)snprintf(regs_seen + n, sizeof regs_seen - n, " %s=%s", reg_names[r], what);
  }
  fault_addr = addr;
  siglongjmp(jb, 1);
}

static int32_t *guarded;

static volatile long fault_sum;

/* Runs until a[i] faults (the sum is kept, so no compiler drops the loads). */
static void fault_loop(int32_t *a, long start)
{
  long s = 0;
  for (long i = start;; i++) {
    fault_i = i;
    s += a[i] * 3 + (long)(i & 7);
    fault_sum = s;
  }
}

static void fault_test(void)
{
  long page = sysconf(_SC_PAGESIZE);
  char *m = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    printf("mmap failed\n");
    fails++;
    return;
  }
  mprotect(m + page, (size_t)page, PROT_NONE);
  guarded = (int32_t *)m;
  long elems = page / 4;
  for (long k = 0; k < elems; k++)
    guarded[k] = (int32_t)k;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  for (int round = 0; round < 6; round++) {
    fault_base = (uintptr_t)guarded;
    regs_seen[0] = 0;
    if (!sigsetjmp(jb, 1))
      fault_loop(guarded, round * 7);
    printf("fault %d: at element %ld;%s\n", round, (long)((fault_addr - (uintptr_t)guarded) / 4), regs_seen);
    check("fault element", (uint64_t)((fault_addr - (uintptr_t)guarded) / 4), (uint64_t)elems);
  }
  signal(SIGSEGV, SIG_DFL);
  munmap(m, (size_t)page * 2);
}

/* bsr and bsf leave their destination as it was for a zero source (the
 * analysis takes their write as partial): a symbolic register they write
 * is made exact first (review finding: the clz sum came out wrong). */
static uint64_t bitscan_sum(int n)
{
  int s = 0;
  for (int x = 1; x < n; x++) {
    s += x;
    s += __builtin_clz((unsigned)x);
    s += __builtin_ctz((unsigned)x);
  }
  return (uint64_t)(unsigned)s;
}

static uint64_t ref_bitscan(int n)
{
  unsigned s = 0;
  for (int x = 1; x < n; x++) {
    unsigned v = (unsigned)x, lz = 0, tz = 0;
    while (!(v & 0x80000000u)) {
      v <<= 1;
      lz++;
    }
    for (v = (unsigned)x; !(v & 1); v >>= 1)
      tz++;
    s += (unsigned)x + lz + tz;
  }
  return s;
}

/* More locals than registers to promote them into, so `t` stays in its
 * slot: `t = 3; k = k * t` stores 3 and loads it for the imul, which has
 * no immediate form of two operands, so the load stays (review finding:
 * the imul was dropped when that rewrite failed). */
static uint64_t forward_into_imul(int n)
{
  unsigned a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8, j = 9, k = 10, m = 11, q = 12, t = 0;
  uint64_t s = 0;
  for (int i = 0; i < n; i++) {
    a += (unsigned)i; b ^= a; c += b; d -= c; e += d; f ^= e; g += f; h -= g; j += h; k ^= j; m += k; q -= m;
    t = 3;
    k = k * t;
    s += a + b + c + d + e + f + g + h + j + k + m + q;
  }
  return s;
}

static uint64_t ref_forward_into_imul(int n)
{
  unsigned a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8, j = 9, k = 10, m = 11, q = 12;
  uint64_t s = 0;
  for (int i = 0; i < n; i++) {
    a += (unsigned)i; b ^= a; c += b; d -= c; e += d; f ^= e; g += f; h -= g; j += h; k ^= j; m += k; q -= m;
    k *= 3u;
    s += a + b + c + d + e + f + g + h + j + k + m + q;
  }
  return s;
}

/* A divide error inside an optimized loop whose divisor is a promoted
 * local: the handler sees rcx as natively (review finding: the loop's
 * `xor ecx, ecx` before the idiv was removed as dead, since a promoted
 * access was taken not to fault). */
static sigjmp_buf fpe_jb;
static volatile uint64_t fpe_rcx;

static void on_fpe(int sig, siginfo_t *si, void *ucv)
{
  (void)sig;
  (void)si;
  fpe_rcx = (uint64_t)((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RCX];
  siglongjmp(fpe_jb, 1);
}

static void divide_fault(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fpe;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGFPE, &sa, NULL);
  volatile int s = 0, d = 7, i = 0;
  if (!sigsetjmp(fpe_jb, 1)) {
    /* d becomes 0 at iteration 50000 */
    __asm__ volatile("1: mov %[i], %%eax\n\t"
                     "xor %%ecx, %%ecx\n\t"
                     "cltd\n\t"
                     "idivl %[d]\n\t"
                     "mov $5, %%ecx\n\t"
                     "add %%eax, %[s]\n\t"
                     "addl $1, %[i]\n\t"
                     "cmpl $50000, %[i]\n\t"
                     "jne 2f\n\t"
                     "movl $0, %[d]\n\t"
                     "2: cmpl $100000, %[i]\n\t"
                     "jl 1b\n\t"
                     : [s] "+m"(s), [d] "+m"(d), [i] "+m"(i)
                     :
                     : "rax", "rcx", "rdx", "cc", "memory");
    printf("divide: no fault\n");
    fails++;
  }
  check("divide error: rcx in the handler", fpe_rcx, 0);
  check("divide error: at iteration", (uint64_t)i, 50000);
  signal(SIGFPE, SIG_DFL);
}

int main(void)
{
  static int32_t tmp[N];
  for (int round = 0; round < 3; round++) {
    fill(0x1234 + (uint64_t)round);
    uint64_t want = ref_mix();
    check("mix int index", mix_int(), want);
    check("mix long index", mix_long(), want);
    check("mix unsigned index", mix_unsigned(), want);
    check("shift through folded stores", shift_and_sum(tmp, ia, N), ref_shift(ia, N));
    check("grid", grid_sum(), ref_grid());
    check("pixels (stride 3)", pix_sum(), ref_pix());
    uint64_t b1 = bodies_sum(bodies, 256);
    uint64_t b2 = bodies_sum(bodies, 256);
    printf("bodies: %llu %llu\n", (unsigned long long)b1, (unsigned long long)b2);
    int last = 0;
    uint64_t c = copies(3000, &last), cr = 0;
    for (int k = 0; k < 3000; k++)
      cr += (uint64_t)ia[k & (N - 1)] + (uint64_t)k;
    check("copies", c, cr);
    check("copies: index after the loop", (uint64_t)last, 2999 + 3000);
  }
  check("bsr/bsf", bitscan_sum(100000), ref_bitscan(100000));
  check("a forwarded constant the imul cannot take", forward_into_imul(100000), ref_forward_into_imul(100000));
  divide_fault();
  fault_test();
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
