/* sigstorm_bigcode: first runs ~200,000 distinct basic blocks (65,536 small
 * functions generated into an anonymous mapping, then made read+execute, so
 * they are ordinary code), then spins while a 100-microsecond interval timer
 * fires, until its SIGALRM handler has counted 5000 signals.  Natively this
 * takes about half a second.  The spin loop is run briefly (so translated)
 * after the first half of the generated functions and before the second:
 * its code is neither among the oldest nor the newest translations.
 *
 * Guards against: asynchronous signal delivery costing time proportional to
 * the number of fragments built so far (hp_fragment_by_cache_pc scanning
 * every fragment to find the one the interrupted thread runs in, to unlink
 * it).  With 200,000 fragments each signal then costs about a millisecond,
 * more than the timer interval, and the program crawls. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>

#define NFUNC 65536
#define FUNC_SIZE 16
#define NSIGNALS 5000

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
  (void)sig;
  ticks++;
}

/* Function i: three basic blocks, two of them run depending on edi.
 *   b8 imm32     mov $imm, %eax
 *   85 ff        test %edi, %edi
 *   74 03        jz 1f
 *   83 c0 NN     add $NN, %eax
 * 1:c3           ret
 *   cc cc cc     int3 padding to 16 bytes */
static uint32_t func_imm(uint32_t i) { return i * 2654435761u ^ 0x5bd1e995u; }
static uint8_t func_add(uint32_t i) { return (uint8_t)(1 + (i % 100)); }

static void write_func(uint8_t *p, uint32_t i)
{
  uint32_t imm = func_imm(i);
  p[0] = 0xb8;
  memcpy(p + 1, &imm, 4);
  p[5] = 0x85; p[6] = 0xff;
  p[7] = 0x74; p[8] = 0x03;
  p[9] = 0x83; p[10] = 0xc0; p[11] = func_add(i);
  p[12] = 0xc3;
  p[13] = p[14] = p[15] = 0xcc;
}

/* The spin loop: until *c reaches n, or limit iterations. */
__attribute__((noipa)) static uint64_t spin(volatile sig_atomic_t *c, int n, uint64_t limit)
{
  uint64_t spins = 0;
  while (*c < n && spins < limit)
    spins++;
  return spins;
}

/* Calls functions [from, to) with edi = 0 and edi = 1 (3 blocks each). */
static uint64_t sum, want;
static int wrong;
static void call_funcs(uint8_t *code, uint32_t from, uint32_t to)
{
  for (uint32_t i = from; i < to; i++) {
    uint32_t (*f)(uint32_t) = (uint32_t (*)(uint32_t))(void *)(code + (size_t)i * FUNC_SIZE);
    uint32_t r0 = f(0), r1 = f(1);
    wrong += r0 != func_imm(i) || r1 != func_imm(i) + func_add(i);
    sum = sum * 31 + r0 + ((uint64_t)r1 << 17);
    want = want * 31 + func_imm(i) + ((uint64_t)(uint32_t)(func_imm(i) + func_add(i)) << 17);
  }
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  size_t size = (size_t)NFUNC * FUNC_SIZE;
  uint8_t *code = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  for (uint32_t i = 0; i < NFUNC; i++)
    write_func(code + (size_t)i * FUNC_SIZE, i);
  if (mprotect(code, size, PROT_READ | PROT_EXEC) != 0) {
    perror("mprotect");
    return 1;
  }

  /* Half the functions, the spin loop (ticks is 0: stops at the limit),
   * the other half. */
  call_funcs(code, 0, NFUNC / 2);
  uint64_t warm = spin(&ticks, 1, 1000);
  call_funcs(code, NFUNC / 2, NFUNC);
  printf("%d generated functions, checksum %016llx, %s\n", NFUNC, (unsigned long long)sum,
         wrong || sum != want ? "WRONG" : "ok");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {.it_interval = {0, 100}, .it_value = {0, 100}};
  if (setitimer(ITIMER_REAL, &it, NULL) != 0) {
    perror("setitimer");
    return 1;
  }
  /* Spin (no system calls) until the handler has run NSIGNALS times. */
  uint64_t spins = spin(&ticks, NSIGNALS, UINT64_MAX);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  printf("%d timer signals handled while spinning (%s, %s)\n", NSIGNALS, warm == 1000 ? "warm-up ok" : "WRONG warm-up",
         spins > 0 ? "spun" : "no spin");
  return wrong || sum != want || warm != 1000;
}
