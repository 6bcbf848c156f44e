/* A timer signal for one thread while another thread runs the same loop:
 * the handler unlinks the fragment the signalled thread runs so that it
 * leaves the cache at its next exit, but the other thread, reaching an
 * unlinked exit of that fragment first, used to link it again while the
 * signalled one was still on its way back from the handler: it then went
 * round its loop for ever (hung in every run before the fix). Both a plain
 * C loop and a loop whose only way round is a jump table, ten rounds
 * each (a 20 ms timer: the other thread is in the loop by then); the other
 * thread blocks SIGALRM, so it goes to the main thread. A watchdog thread
 * ends a hang after 20 s with status 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

long ssl_table_spin(volatile int *flag);
__asm__(".text\n.globl ssl_table_spin\nssl_table_spin:\n"
        "  xor %r8d, %r8d\n"
        "9: cmpl $0, (%rdi)\n  jne 7f\n"
        ".rept 40\n  lea 1(%r9), %r9\n.endr\n"
        "  mov %r8d, %eax\n  and $3, %eax\n  lea 8f(%rip), %rdx\n"
        "  movslq (%rdx,%rax,4), %rax\n  add %rdx, %rax\n  jmp *%rax\n"
        "0: mov $1, %eax\n mov $0, %edx\n cmp %edx, %eax\n add $1, %r8\n jmp 9b\n"
        "1: mov $2, %eax\n mov $0, %edx\n cmp %edx, %eax\n add $1, %r8\n jmp 9b\n"
        "2: mov $3, %eax\n mov $0, %edx\n cmp %edx, %eax\n add $1, %r8\n jmp 9b\n"
        "3: mov $4, %eax\n mov $0, %edx\n cmp %edx, %eax\n add $1, %r8\n jmp 9b\n"
        "7: mov %r8, %rax\n  ret\n"
        "  .section .rodata\n  .p2align 2\n8: .long 0b-8b, 1b-8b, 2b-8b, 3b-8b\n  .text\n");

__attribute__((noinline)) static long c_spin(volatile int *flag)
{
  long n = 0;
  while (!*flag)
    n++;
  return n;
}

static volatile int stop_main, stop_other;
static long (*spin)(volatile int *);

static void on_alarm(int sig)
{
  (void)sig;
  stop_main = 1;
}

static void block_alarm(void)
{
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &m, NULL);
}

static void *other(void *arg)
{
  (void)arg;
  block_alarm();
  spin(&stop_other);
  return NULL;
}

/* A hang fails fast (natively all rounds take well under a second). */
static void *watchdog(void *arg)
{
  (void)arg;
  block_alarm();
  sleep(20);
  printf("hung: the timer signal never reached the main thread\n");
  _exit(1);
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0); /* a hang shows how far it came */
  signal(SIGALRM, on_alarm);
  pthread_t w;
  if (pthread_create(&w, NULL, watchdog, NULL)) {
    perror("pthread_create");
    return 2;
  }
  for (int kind = 0; kind < 2; kind++) {
    spin = kind ? ssl_table_spin : c_spin;
    for (int round = 0; round < 10; round++) {
      stop_main = stop_other = 0;
      pthread_t t;
      if (pthread_create(&t, NULL, other, NULL)) {
        perror("pthread_create");
        return 2;
      }
      struct itimerval it = {{0, 0}, {0, 20000}};
      setitimer(ITIMER_REAL, &it, NULL);
      long n = spin(&stop_main);
      stop_other = 1;
      pthread_join(t, NULL);
      printf("%s loop, round %d: stopped by the timer after spinning: %d\n", kind ? "jump-table" : "C", round,
             n > 0);
    }
  }
  return 0;
}
