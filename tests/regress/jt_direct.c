/* Jump-table entries aimed straight at their case's fragment: when a slot's
 * exit is linked, the dispatch jumps to the case without going through the
 * slot, so every way that unlinks the exit must aim the entry back:
 *  - a timer signal must reach a thread that spins through a switch whose
 *    cases loop back to the dispatch (the handler unlinks the fragment the
 *    thread is in; an entry still aimed at a case would never leave);
 *  - a case rewritten after mprotect (its fragment flushed) must run its
 *    new code, the dispatch staying as it was;
 *  - the same after munmap and a new mapping at the same address.
 * (Those two from a second call site whose dispatch is translated after the
 * cases' traces exist, so that its entries lead to those traces, not to
 * counting heads that leave for the dispatcher now and then.)
 * The cases overwrite what the table's computation leaves (rax, rdx, the
 * flags), so at --opt=2 their slots are the jump alone (hp_jt_dead_tails).
 * Prints what it sees; natively and under hotpath alike. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>

/* A position-independent dispatch(idx) and its four cases, copied to two
 * pages of their own. Case 2 starts 144 bytes before the second page: its
 * first 32 instructions, which the dispatch's decision to skip its tail
 * reads (and so counts as its own guest code), end 16 bytes before it; its
 * block goes on into the second page, which holds its add's immediate. So
 * changing the second page flushes the case's fragment and not the
 * dispatch's. */
extern const uint8_t jd_blob[], jd_add2[];
__asm__(".pushsection .text.jd_blob, \"ax\", @progbits\n"
        ".p2align 12\n"
        ".globl jd_blob, jd_add2\n"
        "jd_blob:\n"
        "  and $3, %edi\n"
        "  lea 8f(%rip), %rdx\n"
        "  movslq (%rdx,%rdi,4), %rax\n"
        "  add %rdx, %rax\n"
        "  jmp *%rax\n"
        "0: mov $10, %eax\n mov $0, %edx\n cmp %edx, %eax\n ret\n"
        "1: mov $20, %eax\n mov $0, %edx\n cmp %edx, %eax\n ret\n"
        "3: mov $40, %eax\n mov $0, %edx\n cmp %edx, %eax\n ret\n"
        "  .p2align 2\n"
        "8: .long 0b-8b, 1b-8b, 2f-8b, 3b-8b\n"
        "  .org jd_blob + 4096 - 144\n"
        "2: mov $30, %eax\n mov $0, %edx\n cmp %edx, %eax\n"
        ".rept 29\n  lea 1(%r9), %r9\n.endr\n" /* (4 bytes each) */
        ".rept 4\n  lea 1(%r9), %r9\n.endr\n"  /* past the 32 read */
        ".rept 8\n  lea 1(%r9), %r9\n.endr\n"  /* on the second page */
        "  .byte 0x05\n" /* add eax, imm32 */
        "jd_add2: .long 0\n"
        "  ret\n"
        "  .popsection\n");

__attribute__((noinline)) static long run_blob(const uint8_t *code, int n)
{
  long (*dispatch)(long) = (long (*)(long))(uintptr_t)code;
  long sum = 0;
  for (int i = 0; i < n; i++)
    sum += dispatch(i);
  return sum;
}

/* A second loop through the same dispatch: its own translation of the
 * switch, made after the cases' traces exist, links straight to them. */
__attribute__((noinline)) static long run_blob2(const uint8_t *code, int n)
{
  long (*volatile dispatch)(long) = (long (*)(long))(uintptr_t)code;
  long sum = 0;
  for (int i = 0; i < n; i++)
    sum += 3 * dispatch(i);
  return sum;
}

/* The second page of the copy at p, with case 2's immediate's low byte. */
static void map_second(uint8_t *p, uint8_t high, bool fixed)
{
  uint8_t *q = p + 4096;
  if (fixed && mmap(q, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != q) {
    perror("mmap");
    exit(2);
  }
  if (!fixed && mprotect(q, 4096, PROT_READ | PROT_WRITE)) {
    perror("mprotect");
    exit(2);
  }
  memcpy(q, jd_blob + 4096, 64);
  q[jd_add2 - jd_blob - 4096] = high;
  if (mprotect(q, 4096, PROT_READ | PROT_EXEC)) {
    perror("mprotect");
    exit(2);
  }
}

/* spin(flag): a loop through a jump table alone, until *flag is set: the
 * dispatch's block (a long one: where a timer signal mostly lands) jumps
 * to a case, which jumps back to the loop's top. Returns the turns. */
long jd_spin(volatile int *flag);
__asm__(".text\n"
        ".globl jd_spin\n"
        "jd_spin:\n"
        "  xor %r8d, %r8d\n"
        "9: cmpl $0, (%rdi)\n"
        "  jne 7f\n"
        ".rept 40\n  lea 1(%r9), %r9\n.endr\n"
        "  mov %r8d, %eax\n"
        "  and $3, %eax\n"
        "  lea 8f(%rip), %rdx\n"
        "  movslq (%rdx,%rax,4), %rax\n"
        "  add %rdx, %rax\n"
        "  jmp *%rax\n"
        "0: mov $1, %eax\n mov $0, %edx\n cmp %edx, %eax\n add $1, %r8\n jmp 9b\n"
        "1: mov $2, %eax\n mov $0, %edx\n cmp %edx, %eax\n add $1, %r8\n jmp 9b\n"
        "2: mov $3, %eax\n mov $0, %edx\n cmp %edx, %eax\n add $1, %r8\n jmp 9b\n"
        "3: mov $4, %eax\n mov $0, %edx\n cmp %edx, %eax\n add $1, %r8\n jmp 9b\n"
        "7: mov %r8, %rax\n"
        "  ret\n"
        "  .section .rodata\n"
        "  .p2align 2\n"
        "8: .long 0b-8b, 1b-8b, 2b-8b, 3b-8b\n"
        "  .text\n");

static volatile int stop;

static void on_alarm(int sig)
{
  (void)sig;
  stop = 1;
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0); /* a hang shows how far it came */
  uint8_t *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    return 2;
  }
  memcpy(p, jd_blob, 4096);
  if (mprotect(p, 4096, PROT_READ | PROT_EXEC)) {
    perror("mprotect");
    return 2;
  }
  map_second(p, 0, false);
  printf("first: %ld\n", run_blob(p, 200000));
  printf("second site: %ld\n", run_blob2(p, 200000));

  /* Case 2's second page rewritten: its fragment goes, the dispatch stays. */
  map_second(p, 1, false);
  printf("case 2 rewritten: %ld\n", run_blob2(p, 200000));

  /* That page unmapped and mapped again, changed again. */
  munmap(p + 4096, 4096);
  map_second(p, 2, true);
  printf("case 2 mapped again: %ld\n", run_blob2(p, 200000));

  for (int round = 0; round < 5; round++) {
    stop = 0;
    signal(SIGALRM, on_alarm);
    struct itimerval it = {{0, 0}, {0, 10000}};
    setitimer(ITIMER_REAL, &it, NULL);
    printf("spin %d stopped by the timer: %d\n", round, jd_spin(&stop) > 0);
  }
  return 0;
}
