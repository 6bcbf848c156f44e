/* jtlive: a switch dispatch (as GCC emits it at -O2: `movslq (T,idx,4),
 * rax; add T, rax; jmp rax`) whose cases read what the computation of the
 * jump's target leaves: the jump address in rax, the table's address in
 * rdx, the carry of the add; others overwrite all of it first, one after a
 * jmp. At --opt=2 a case that reads none of it may be entered without that
 * computation (hp_jt_dead_tails); the cases that do read it must see
 * exactly what the native run sees. */
#include <stdint.h>
#include <stdio.h>

int64_t hp_jt_case(int64_t idx);
__asm__(".text\n"
        ".globl hp_jt_case\n"
        ".type hp_jt_case, @function\n"
        "hp_jt_case:\n"
        "    lea hp_jt_table(%rip), %rdx\n"
        "    mov %rdi, %rax\n"
        "    movslq (%rdx,%rax,4), %rax\n"
        "    add %rdx, %rax\n"
        "    jmp *%rax\n"
        /* case 0: the jump address (its offset from the table) */
        "hp_jt_c0:\n"
        "    lea hp_jt_table(%rip), %rcx\n"
        "    sub %rcx, %rax\n"
        "    ret\n"
        /* case 1: the table's address, rax written first */
        "hp_jt_c1:\n"
        "    mov %rdx, %rax\n"
        "    lea hp_jt_table(%rip), %rcx\n"
        "    sub %rcx, %rax\n"
        "    add $100, %rax\n"
        "    ret\n"
        /* case 2: the carry of the add */
        "hp_jt_c2:\n"
        "    mov $0, %eax\n"
        "    setc %al\n"
        "    add $200, %eax\n"
        "    ret\n"
        /* case 3: nothing of it (rax, rdx and the flags written first) */
        "hp_jt_c3:\n"
        "    mov $42, %eax\n"
        "    mov $7, %edx\n"
        "    cmp %edx, %eax\n"
        "    ret\n"
        /* case 4: on to case 0, which reads rax */
        "hp_jt_c4:\n"
        "    jmp hp_jt_c0\n"
        /* case 5: the sign flag of the add (a negative offset sets it
         * only if the sum is negative: never for user addresses) */
        "hp_jt_c5:\n"
        "    mov $300, %eax\n"
        "    js 1f\n"
        "    ret\n"
        "1:  mov $301, %eax\n"
        "    ret\n"
        ".size hp_jt_case, .-hp_jt_case\n"
        ".section .rodata\n"
        ".p2align 2\n"
        "hp_jt_table:\n"
        "    .long hp_jt_c0 - hp_jt_table\n"
        "    .long hp_jt_c1 - hp_jt_table\n"
        "    .long hp_jt_c2 - hp_jt_table\n"
        "    .long hp_jt_c3 - hp_jt_table\n"
        "    .long hp_jt_c4 - hp_jt_table\n"
        "    .long hp_jt_c5 - hp_jt_table\n"
        ".text\n");

int main(void)
{
  int64_t first[6], sum = 0;
  for (int i = 0; i < 6; i++)
    first[i] = hp_jt_case(i);
  for (int round = 0; round < 2000; round++)
    for (int i = 0; i < 6; i++) {
      int64_t v = hp_jt_case((i * 5 + round) % 6);
      if (v != first[(i * 5 + round) % 6]) {
        printf("case %d changed: %lld then %lld\n", (i * 5 + round) % 6, (long long)first[(i * 5 + round) % 6],
               (long long)v);
        return 1;
      }
      sum += v;
    }
  /* the offsets depend on the layout: print what does not */
  printf("case 0 - case 4: %lld\n", (long long)(first[0] - first[4]));
  printf("case 1: %lld\n", (long long)first[1]);
  printf("case 2: %lld\n", (long long)first[2]);
  printf("case 3: %lld\n", (long long)first[3]);
  printf("case 5: %lld\n", (long long)first[5]);
  printf("case 0 positive: %d\n", first[0] > 0);
  printf("checksum ok: %d\n", sum != 0);
  return 0;
}
