/* callreg: indirect calls through every general register (`call r64`),
 * whose inline cache compares the target in the register itself: targets
 * that change phase by phase (the site learns the first, later ones take
 * the lookup), alternate call by call, and a callee that checks what the
 * caller left in rcx (the 4th argument, which the cache borrows) and in rax
 * (its own address: each callee's entry records how far rax is from it, as
 * a varargs callee reads al; --stats' counting code once clobbered it).
 * Through rdi or rcx, the callee's first or fourth argument is its own
 * address. */
#include <stdint.h>
#include <stdio.h>

typedef uint64_t (*fn_t)(uint64_t x, uint64_t y, uint64_t z, uint64_t w);

/* hp_via_REG(fn, x, w): calls fn(x, 0, 0, w) with `call *%REG`, rcx = w,
 * and returns its result; the callee-saved registers are saved around. */
#define VIA(REG)                                                              \
  uint64_t hp_via_##REG(fn_t f, uint64_t x, uint64_t w);                      \
  __asm__(".text\n"                                                           \
          ".globl hp_via_" #REG "\n"                                          \
          ".type hp_via_" #REG ", @function\n"                                \
          "hp_via_" #REG ":\n"                                                \
          "    push %rbx\n    push %rbp\n    push %r12\n"                       \
          "    push %r13\n    push %r14\n    push %r15\n"                       \
          "    sub $8, %rsp\n"                                                \
          "    mov %rdi, %rax\n"                                              \
          "    mov %rsi, %rdi\n"                                              \
          "    mov %rdx, %rcx\n"                                              \
          "    xor %esi, %esi\n"                                              \
          "    xor %edx, %edx\n"                                              \
          "    xor %r8d, %r8d\n"                                              \
          "    mov %rax, %" #REG "\n"                                         \
          "    call *%" #REG "\n"                                             \
          "    add $8, %rsp\n"                                                \
          "    pop %r15\n    pop %r14\n    pop %r13\n"                          \
          "    pop %r12\n    pop %rbp\n    pop %rbx\n"                          \
          "    ret\n"                                                         \
          ".size hp_via_" #REG ", .-hp_via_" #REG "\n");

VIA(rax) VIA(rbx) VIA(rdx) VIA(rsi) VIA(rbp) VIA(r8) VIA(r9) VIA(r10)
VIA(r11) VIA(r12) VIA(r13) VIA(r14) VIA(r15) VIA(rcx) VIA(rdi)

static uint64_t mix(uint64_t x, uint64_t w, uint64_t k) { return (x * 0x9e3779b97f4a7c15ull + w) ^ k; }
/* y and z are 0, or the callee's address when called through rsi or rdx */
__attribute__((used)) uint64_t hp_c1(uint64_t x, uint64_t y, uint64_t z, uint64_t w) { return mix(x, w, 1) + (y == 0) + (z == 0); }
__attribute__((used)) uint64_t hp_c2(uint64_t x, uint64_t y, uint64_t z, uint64_t w) { return mix(x, w, 2) + (y == 0) + (z == 0); }
__attribute__((used)) uint64_t hp_c3(uint64_t x, uint64_t y, uint64_t z, uint64_t w) { return mix(x, w, 3) + (y == 0) + (z == 0); }

/* fN: records rax - fN (0 when rax holds the callee's address, as the
 * caller left it), then tail-calls hp_cN. */
uint64_t rax_off;
#define ENTRY(N)                                                                \
  uint64_t f##N(uint64_t, uint64_t, uint64_t, uint64_t);                      \
  __asm__(".text\n"                                                           \
          ".type f" #N ", @function\n"                                        \
          "f" #N ":\n"                                                        \
          "    lea f" #N "(%rip), %r11\n"                                     \
          "    sub %r11, %rax\n"                                              \
          "    mov %rax, rax_off(%rip)\n"                                     \
          "    jmp hp_c" #N "\n"                                                 \
          ".size f" #N ", .-f" #N "\n");
ENTRY(1) ENTRY(2) ENTRY(3)

typedef uint64_t (*via_t)(fn_t, uint64_t, uint64_t);
static const struct {
  const char *name;
  via_t via;
  int arg; /* the argument that holds the target: 1 x, 2 y, 3 z, 4 w, 0 none */
} vias[] = {
    {"rax", hp_via_rax, 0}, {"rbx", hp_via_rbx, 0}, {"rdx", hp_via_rdx, 3}, {"rsi", hp_via_rsi, 2},
    {"rbp", hp_via_rbp, 0}, {"r8", hp_via_r8, 0},   {"r9", hp_via_r9, 0},   {"r10", hp_via_r10, 0},
    {"r11", hp_via_r11, 0}, {"r12", hp_via_r12, 0}, {"r13", hp_via_r13, 0}, {"r14", hp_via_r14, 0},
    {"r15", hp_via_r15, 0}, {"rcx", hp_via_rcx, 4}, {"rdi", hp_via_rdi, 1},
};

int main(void)
{
  fn_t fns[3] = {f1, f2, f3};
  int bad = 0;
  for (unsigned v = 0; v < sizeof vias / sizeof vias[0]; v++) {
    uint64_t sum = 0;
    /* phases: f1 (the site learns it), f2, f3 (misses), then alternating */
    for (int phase = 0; phase < 4; phase++) {
      for (uint64_t i = 0; i < 3000; i++) {
        unsigned k = phase < 3 ? (unsigned)phase : (unsigned)(i % 3);
        uint64_t w = i * 7 + v;
        rax_off = 1;
        uint64_t got = vias[v].via(fns[k], i, w);
        if (rax_off != 0 && bad++ < 5)
          printf("call *%%%s: phase %d i %llu: rax off by %lld at the callee\n", vias[v].name, phase,
                 (unsigned long long)i, (long long)rax_off);
        uint64_t fa = (uint64_t)fns[k], a = vias[v].arg;
        uint64_t want = mix(a == 1 ? fa : i, a == 4 ? fa : w, k + 1) + (a != 2) + (a != 3);
        if (got != want) {
          if (bad++ < 5)
            printf("call *%%%s: phase %d i %llu: got %llx want %llx\n", vias[v].name, phase,
                   (unsigned long long)i, (unsigned long long)got, (unsigned long long)want);
        }
        sum += got;
      }
    }
    if (vias[v].arg != 1 && vias[v].arg != 4) /* else the sum holds addresses */
      printf("call *%%%s: sum %016llx\n", vias[v].name, (unsigned long long)sum);
  }
  printf("%s\n", bad ? "FAILED" : "ok");
  return bad != 0;
}
