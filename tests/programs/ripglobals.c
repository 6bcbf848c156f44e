/* ripglobals: rip-relative loads and stores of globals of every width, static
 * arrays indexed at run time, plus hand-written rip-relative instructions
 * where an immediate follows the displacement (the rip base is the end of
 * the whole instruction, so a translator must account for the immediate). */
#include <stdint.h>
#include <stdio.h>

int8_t g8 = -3;
int16_t g16 = 1234;
int32_t g32 = -100000;
int64_t g64 = 0x123456789abcdefLL;
float gf = 1.5f;
double gd = 2.25;
static uint32_t s_table[256];
static uint64_t s_words[17] = {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597, 2584};
static const char s_msg[] = "rip-relative string constant";
struct rec { int a; long b; char c[5]; } g_rec = {1, 2, "abcd"};

/* Variables touched only from asm; made static and 'used' so the names are
 * local symbols in this object. */
static int64_t __attribute__((used)) asm_q = 1000;
static int32_t __attribute__((used)) asm_l = 50;
static int16_t __attribute__((used)) asm_w = 7;
static uint8_t __attribute__((used)) asm_b = 0x80;
static uint64_t __attribute__((used)) asm_arr[8] = {10, 20, 30, 40, 50, 60, 70, 80};
static double __attribute__((used)) asm_dbl = 0.5;
static uint32_t __attribute__((used, aligned(16))) asm_vec[4] = {0xffffffff, 0, 0x12345678, 0x80000000};

__attribute__((noinline)) static void bump_globals(int k)
{
    g8 = (int8_t)(g8 + k);
    g16 = (int16_t)(g16 * 3 - k);
    g32 ^= k << 5;
    g64 += (int64_t)k * 0x10001;
    gf *= 1.25f;
    gd = gd * 0.75 + k;
    g_rec.b += g_rec.a;
    g_rec.c[k % 4] = (char)('A' + k);
}

__attribute__((noinline)) static uint64_t table_work(volatile int *idx, int n)
{
    for (int i = 0; i < 256; i++)
        s_table[i] = (uint32_t)i * 2654435761u;
    uint64_t acc = 0;
    for (int i = 0; i < n; i++) {
        int j = (*idx + i * 13) & 255;
        s_table[j] += s_table[(j + 1) & 255] >> 3;
        acc += s_table[j] ^ s_words[(unsigned)(j % 17)];
        s_words[i % 17] += (uint64_t)j;
    }
    return acc;
}

/* Each asm instruction combines a rip-relative memory operand with an
 * immediate, or reads/writes several sizes. */
__attribute__((noinline)) static uint64_t asm_rip(uint64_t x)
{
    uint64_t r, t;
    __asm__ volatile(
        "addq $5, asm_q(%%rip)\n\t"           /* imm8 after disp32 */
        "addl $0x12345, asm_l(%%rip)\n\t"     /* imm32 after disp32 */
        "addw $0x101, asm_w(%%rip)\n\t"       /* 66 prefix + imm16 */
        "xorb $0x7f, asm_b(%%rip)\n\t"        /* imm8 */
        "cmpl $0x12377, asm_l(%%rip)\n\t"
        "sete %b1\n\t"
        "movzbl %b1, %k1\n\t"
        "imulq $3, asm_q(%%rip), %0\n\t"      /* three-operand imul with rip source */
        "add %1, %0\n\t"
        "movq %2, asm_q(%%rip)\n\t"           /* store */
        "movzwl asm_w(%%rip), %k1\n\t"
        "add %1, %0\n\t"
        "movsbq asm_b(%%rip), %1\n\t"
        "add %1, %0\n\t"
        "testb $1, asm_b(%%rip)\n\t"
        "setnz %b1\n\t"
        "movzbl %b1, %k1\n\t"
        "shl $40, %1\n\t"
        "add %1, %0\n\t"
        "lea asm_arr(%%rip), %1\n\t"
        "mov %2, %%rcx\n\t"
        "and $7, %%rcx\n\t"
        "add (%1,%%rcx,8), %0\n\t"
        "addq $1, (%1,%%rcx,8)\n\t"
        "movl $0xdead, asm_arr+8(%%rip)\n\t" /* displacement with addend, imm32 store */
        "add asm_arr+8(%%rip), %0\n\t"
        "shlq $2, asm_arr+16(%%rip)\n\t"     /* shift with imm8 */
        "btsq $3, asm_arr+24(%%rip)\n\t"     /* bt with imm8 */
        "add asm_arr+24(%%rip), %0\n\t"
        "incq asm_arr+56(%%rip)\n\t"
        : "=&r"(r), "=&r"(t)
        : "r"(x)
        : "rcx", "cc", "memory");
    return r;
}

__attribute__((noinline)) static double asm_rip_sse(double x)
{
    double r;
    uint32_t lanes[4];
    __asm__ volatile(
        "movsd asm_dbl(%%rip), %0\n\t"
        "mulsd %2, %0\n\t"
        "addsd asm_dbl(%%rip), %0\n\t"
        "movsd %0, asm_dbl(%%rip)\n\t"
        "movdqa asm_vec(%%rip), %%xmm1\n\t"
        "pxor asm_vec(%%rip), %%xmm1\n\t"
        "paddd asm_vec(%%rip), %%xmm1\n\t"
        "pshufd $0x1b, asm_vec(%%rip), %%xmm2\n\t" /* imm8 after disp32 */
        "paddd %%xmm2, %%xmm1\n\t"
        "movdqu %%xmm1, %1\n\t"
        : "=&x"(r), "=m"(lanes)
        : "x"(x)
        : "xmm1", "xmm2", "memory");
    return r + lanes[0] + lanes[1] * 2.0 + lanes[2] * 3.0 + lanes[3] * 4.0;
}

int main(void)
{
    for (int k = 1; k <= 5; k++) {
        bump_globals(k);
        printf("k=%d g8=%d g16=%d g32=%d g64=%llx gf=%.9g gd=%.17g rec=%ld/%s\n", k, g8, g16, g32,
               (long long)g64, (double)gf, gd, g_rec.b, g_rec.c);
    }
    volatile int idx = 77;
    printf("table_work = %llu\n", (unsigned long long)table_work(&idx, 50000));
    uint64_t ws = 0;
    for (int i = 0; i < 17; i++)
        ws = ws * 7 + s_words[i];
    printf("words = %llu msg = %s (%zu) char[%d]=%c\n", (unsigned long long)ws, s_msg, sizeof s_msg,
           idx % 20, s_msg[idx % 20]);
    uint64_t acc = 0;
    for (uint64_t x = 0; x < 20; x++)
        acc = acc * 31 + asm_rip(x * 1000 + 3);
    printf("asm_rip acc = %016llx q=%lld l=%d w=%d b=%u\n", (unsigned long long)acc, (long long)asm_q,
           asm_l, asm_w, asm_b);
    for (int i = 0; i < 8; i++)
        printf("asm_arr[%d] = %llu\n", i, (unsigned long long)asm_arr[i]);
    double d = 0;
    for (int i = 1; i <= 10; i++)
        d += asm_rip_sse(i * 0.125);
    printf("asm_rip_sse = %.17g dbl = %.17g\n", d, asm_dbl);
    return 0;
}
