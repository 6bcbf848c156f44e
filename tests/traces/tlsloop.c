/* Loops that read thread-local storage through FS while their locals live
 * in registers (--opt=2): isalpha() reads the ctype table's pointer from
 * TLS, errno is read through __errno_location, and a __thread variable
 * directly. Their loads see exact memory (the promoted locals' stores are
 * written through); the locals are checked against the same loops run
 * with volatile locals, and a timer signal's handler changes the __thread
 * variable and errno while the loops run. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "check.h"

#define N 200000

static char text[N];
static __thread long tls_bias = 3;
static volatile sig_atomic_t ticks;

__attribute__((noinline)) static long letters(long n)
{
  long s = 0, words = 0, i;
  for (i = 0; i < n; i++) {
    if (isalpha((unsigned char)text[i]))
      s += i & 7;
    else
      words++;
  }
  return s * 31 + words;
}

static long letters_ref(long n)
{
  volatile long s = 0, words = 0;
  for (long i = 0; i < n; i++) {
    if (isalpha((unsigned char)text[i]))
      s = s + (i & 7);
    else
      words = words + 1;
  }
  return s * 31 + words;
}

__attribute__((noinline)) static long biased(long n)
{
  long s = 0, i;
  for (i = 0; i < n; i++)
    s += text[i] + tls_bias + (errno == 0);
  return s;
}

static void on_alarm(int sig)
{
  (void)sig;
  ticks++;
  errno = 0; /* what a handler may leave, as it finds it natively */
}

int main(void)
{
  uint64_t st = 99;
  for (long i = 0; i < N; i++) {
    uint64_t r = xs(&st) % 64;
    text[i] = r < 40 ? (char)('a' + r % 26) : r < 52 ? (char)('A' + r % 26) : ' ';
  }
  check("letters", (uint64_t)letters(N), (uint64_t)letters_ref(N));
  errno = 0;
  long b0 = biased(N);
  long want = 0;
  for (long i = 0; i < N; i++)
    want += text[i] + 3 + 1;
  check("biased", (uint64_t)b0, (uint64_t)want);
  tls_bias = 5;
  errno = ERANGE;
  long b1 = biased(N);
  check("biased again", (uint64_t)b1, (uint64_t)(want + 2 * N - N));
  /* A timer whose handler runs between exits of the loops. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 200}, {0, 200}};
  setitimer(ITIMER_REAL, &it, NULL);
  long sum = 0;
  for (int round = 0; round < 20; round++)
    sum += letters(N) - letters_ref(N);
  it = (struct itimerval){{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &it, NULL);
  check("letters under a timer (difference)", (uint64_t)sum, 0);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
