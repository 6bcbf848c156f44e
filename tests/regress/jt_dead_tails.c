/* Jump tables whose cases overwrite the registers and flags the target's
 * computation leaves (at --opt=2 their slots skip it: hp_jt_dead_tails),
 * where skipping it would be wrong, found in review:
 *  - the computation also zeroes xmm0 (pxor), which the cases read: only
 *    plain integer instructions may be skipped;
 *  - the cases begin with rdsspq rax, a nop with shadow stacks off (rax
 *    keeps the jump address), not a write of rax;
 *  - the computation also loads ds (mov ds, esi: `mov` names segment
 *    registers too), which the cases read;
 *  - a case far from the others (an executable page mapped far away): the
 *    code the decision read becomes a guest range of the fragment, which
 *    must stay small (one hull over all cases took 12 GB and never ended).
 * Each case returns what it sees; natively and under hotpath alike. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

__asm__(".text\n"
        /* vec(i, junk): xmm0 = junk, then the dispatch zeroes it */
        ".globl hp_jtd_vec\nhp_jtd_vec:\n"
        "    movq %rsi, %xmm0\n"
        "    cmp $3, %rdi\n    ja 9f\n"
        "    lea hp_jtd_vtab(%rip), %rdx\n"
        "    pxor %xmm0, %xmm0\n"
        "    movslq (%rdx,%rdi,4), %rax\n"
        "    add %rdx, %rax\n"
        "    jmp *%rax\n"
        "hp_jtd_v0:\n mov $10, %eax\n mov $0, %edx\n cmp %edx, %eax\n movq %xmm0, %rdx\n add %rdx, %rax\n ret\n"
        "hp_jtd_v1:\n mov $20, %eax\n mov $0, %edx\n cmp %edx, %eax\n movq %xmm0, %rdx\n add %rdx, %rax\n ret\n"
        "hp_jtd_v2:\n mov $30, %eax\n mov $0, %edx\n cmp %edx, %eax\n movq %xmm0, %rdx\n add %rdx, %rax\n ret\n"
        "hp_jtd_v3:\n mov $40, %eax\n mov $0, %edx\n cmp %edx, %eax\n movq %xmm0, %rdx\n add %rdx, %rax\n ret\n"
        "9:  xor %eax, %eax\n    ret\n"
        /* ssp(i): each case's rax after rdsspq, relative to the case */
        ".globl hp_jtd_ssp\nhp_jtd_ssp:\n"
        "    cmp $3, %rdi\n    ja 9f\n"
        "    lea hp_jtd_stab(%rip), %rdx\n"
        "    movslq (%rdx,%rdi,4), %rax\n"
        "    add %rdx, %rax\n"
        "    jmp *%rax\n"
        "hp_jtd_s0:\n rdsspq %rax\n mov $0, %edx\n cmp %edx, %edx\n lea hp_jtd_s0(%rip), %rdx\n sub %rdx, %rax\n ret\n"
        "hp_jtd_s1:\n rdsspq %rax\n mov $0, %edx\n cmp %edx, %edx\n lea hp_jtd_s1(%rip), %rdx\n sub %rdx, %rax\n ret\n"
        "hp_jtd_s2:\n rdsspq %rax\n mov $0, %edx\n cmp %edx, %edx\n lea hp_jtd_s2(%rip), %rdx\n sub %rdx, %rax\n ret\n"
        "hp_jtd_s3:\n rdsspq %rax\n mov $0, %edx\n cmp %edx, %edx\n lea hp_jtd_s3(%rip), %rdx\n sub %rdx, %rax\n ret\n"
        "9:  mov $-1, %rax\n    ret\n"
        /* seg(i, sel): the dispatch loads ds */
        ".globl hp_jtd_seg\nhp_jtd_seg:\n"
        "    cmp $3, %rdi\n    ja 9f\n"
        "    lea hp_jtd_gtab(%rip), %rdx\n"
        "    mov %esi, %ds\n"
        "    movslq (%rdx,%rdi,4), %rax\n"
        "    add %rdx, %rax\n"
        "    jmp *%rax\n"
        "hp_jtd_g0:\n mov $10, %eax\n mov $0, %edx\n cmp %edx, %eax\n mov %ds, %edx\n add %rdx, %rax\n ret\n"
        "hp_jtd_g1:\n mov $20, %eax\n mov $0, %edx\n cmp %edx, %eax\n mov %ds, %edx\n add %rdx, %rax\n ret\n"
        "hp_jtd_g2:\n mov $30, %eax\n mov $0, %edx\n cmp %edx, %eax\n mov %ds, %edx\n add %rdx, %rax\n ret\n"
        "hp_jtd_g3:\n mov $40, %eax\n mov $0, %edx\n cmp %edx, %eax\n mov %ds, %edx\n add %rdx, %rax\n ret\n"
        "9:  xor %eax, %eax\n    ret\n"
        /* far(i): a table of absolute addresses (made read-only at run
         * time); case 0 here, case 1 wherever main put it */
        ".globl hp_jtd_far\nhp_jtd_far:\n"
        "    mov %rdi, %rax\n"
        "    lea hp_jtd_ftab(%rip), %rdx\n"
        "    jmp *(%rdx,%rax,8)\n"
        ".globl hp_jtd_f0\nhp_jtd_f0:\n mov $100, %eax\n mov $0, %edx\n cmp %edx, %eax\n ret\n"
        ".section .rodata\n.p2align 2\n"
        "hp_jtd_vtab:\n .long hp_jtd_v0-hp_jtd_vtab, hp_jtd_v1-hp_jtd_vtab, hp_jtd_v2-hp_jtd_vtab, hp_jtd_v3-hp_jtd_vtab\n"
        "hp_jtd_stab:\n .long hp_jtd_s0-hp_jtd_stab, hp_jtd_s1-hp_jtd_stab, hp_jtd_s2-hp_jtd_stab, hp_jtd_s3-hp_jtd_stab\n"
        "hp_jtd_gtab:\n .long hp_jtd_g0-hp_jtd_gtab, hp_jtd_g1-hp_jtd_gtab, hp_jtd_g2-hp_jtd_gtab, hp_jtd_g3-hp_jtd_gtab\n"
        ".text\n");
int64_t hp_jtd_vec(int64_t i, int64_t junk);
int64_t hp_jtd_ssp(int64_t i);
int64_t hp_jtd_seg(int64_t i, int64_t sel);
int64_t hp_jtd_far(int64_t i);
extern char hp_jtd_f0[];
__attribute__((aligned(4096))) uint64_t hp_jtd_ftab[512];

int main(void)
{
  int64_t sum = 0, bad = 0;
  for (int k = 0; k < 20000; k++)
    sum += hp_jtd_vec(k & 3, 1000000);
  printf("vec: %lld\n", (long long)sum);
  for (int k = 0; k < 20000; k++)
    bad += hp_jtd_ssp(k & 3) != 0; /* natively (shadow stacks off) rax is the case's address */
  printf("rdssp: %lld cases saw another rax\n", (long long)bad);
  sum = 0;
  for (int k = 0; k < 20000; k++)
    sum += hp_jtd_seg(k & 3, 0x2b); /* __USER_DS */
  __asm__ volatile("mov %0, %%ds" ::"r"(0));
  printf("seg: %lld\n", (long long)sum);
  /* case 1: mov eax, 200; mov edx, 0; cmp edx, eax; ret, far away */
  static const uint8_t c1[] = {0xb8, 200, 0, 0, 0, 0xba, 0, 0, 0, 0, 0x39, 0xc2, 0xc3};
  uint8_t *far = mmap((void *)0x600000000000ull, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (far == MAP_FAILED)
    far = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (far == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  memcpy(far, c1, sizeof c1);
  if (mprotect(far, 4096, PROT_READ | PROT_EXEC) != 0)
    return 1;
  hp_jtd_ftab[0] = (uint64_t)hp_jtd_f0;
  hp_jtd_ftab[1] = (uint64_t)far;
  if (mprotect(hp_jtd_ftab, sizeof hp_jtd_ftab, PROT_READ) != 0)
    return 1;
  sum = 0;
  for (int k = 0; k < 20000; k++)
    sum += hp_jtd_far(k & 1);
  printf("far: %lld\n", (long long)sum);
  return 0;
}
