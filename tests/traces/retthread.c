/* Another thread rewrites the return address of a call that a loop trace
 * inlines (the callee waits until it has). The loop first runs alone, so
 * its trace is built while the process has one thread (the return's check
 * may be dropped then); once the second thread exists, such traces must be
 * gone: every late return goes where the other thread pointed it (found in
 * review). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "check.h"

long normal, alt, keep = 1;
volatile long flag2 = 1;
long *slot;
volatile int stop;
void loop(long n);
extern char altlab[], retaddr[];

__asm__(".intel_syntax noprefix\n"
        ".text\n"
        "loop:\n"
        "  push rbx\n"
        "  push rbp\n"
        "  mov rbp, rsp\n"
        "  sub rsp, 64\n"
        "  mov rbx, rdi\n"
        "  lea rax, [rsp-8]\n" /* where the call below keeps its return address */
        "  mov [rip+slot], rax\n"
        ".p2align 6\n"
        "1:\n"
        "  mov qword ptr [rsp-8], 0\n" /* the slot holds the return address only once pushed */
        "  call f\n"
        ".globl retaddr\n"
        "retaddr: jmp 2f\n"
        "  .p2align 4\n"
        ".globl altlab\n"
        "altlab: inc qword ptr [rip+alt]\n"
        "  jmp 3f\n"
        "2: inc qword ptr [rip+normal]\n"
        "3: mov rax, [rip+keep]\n"
        "  mov [rip+flag2], rax\n"
        "  dec rbx\n"
        "  jnz 1b\n"
        "  leave\n"
        "  pop rbx\n"
        "  ret\n"
        "f:\n" /* no store: nothing in the trace can change the return address */
        "  .rept 40\n"
        "  pause\n"
        "  .endr\n"
        "4: mov rax, [rip+flag2]\n" /* wait for the other thread (or keep = 1) */
        "  test rax, rax\n"
        "  jz 4b\n"
        "  ret\n"
        ".att_syntax prefix\n");

static void *rewriter(void *x)
{
  (void)x;
  while (!stop) {
    /* The call has pushed its return address and waits for us. */
    volatile long *s = slot;
    if (*s == (long)retaddr && flag2 == 0) {
      *s = (long)altlab;
      atomic_thread_fence(memory_order_seq_cst);
      flag2 = 1;
    }
  }
  return NULL;
}

int main(void)
{
  loop(20000);
  keep = 0;
  *slot = 0; /* not the last return address of the first loop (the next loop's frame is the same) */
  flag2 = 0;
  pthread_t t;
  pthread_create(&t, NULL, rewriter, NULL);
  loop(200); /* each turn a handshake with the other thread: few (the tests share 2 cores) */
  stop = 1;
  pthread_join(t, NULL);
  check("returns as called", (uint64_t)normal, 20000);
  check("returns the other thread moved", (uint64_t)alt, 200);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
