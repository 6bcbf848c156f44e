/* fpe: SIGFPE from integer division by zero (volatile divisor) and from
 * INT_MIN / -1, caught with sigsetjmp/siglongjmp from a SA_SIGINFO handler
 * that checks si_code == FPE_INTDIV.  32- and 64-bit, quotient and remainder. */
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf env;
static volatile int last_code, last_signo, runs;

static void on_fpe(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    runs++;
    last_signo = sig == SIGFPE && si->si_signo == SIGFPE;
    last_code = si->si_code;
    siglongjmp(env, 1);
}

static volatile int zero32 = 0, minus1_32 = -1, min32 = INT_MIN, seven = 7;
static volatile long long zero64 = 0, minus1_64 = -1, min64 = LLONG_MIN;
static volatile unsigned uzero = 0;

#define TRY(label, expr) do {                                               \
        last_code = -1; last_signo = 0;                                     \
        if (sigsetjmp(env, 1) == 0) {                                       \
            volatile long long r = (expr);                                  \
            printf("%-22s no signal (result %lld)\n", label, (long long)r); \
        } else {                                                            \
            printf("%-22s SIGFPE signo_ok=%d FPE_INTDIV=%s\n", label,       \
                   last_signo, last_code == FPE_INTDIV ? "yes" : "no");     \
        }                                                                   \
    } while (0)

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fpe;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, NULL);

    printf("7 / -1 = %d\n", seven / minus1_32);
    TRY("int 7 / 0", seven / zero32);
    TRY("int 7 % 0", seven % zero32);
    TRY("int INT_MIN / -1", min32 / minus1_32);
    TRY("int INT_MIN % -1", min32 % minus1_32);
    TRY("long 7 / 0", (long long)seven / zero64);
    TRY("long LLONG_MIN / -1", min64 / minus1_64);
    TRY("long LLONG_MIN % -1", min64 % minus1_64);
    TRY("unsigned 7 / 0", 7u / uzero);
    volatile int caught = 0;
    for (volatile int i = 0; i < 50; i++) {
        if (sigsetjmp(env, 1) == 0) {
            volatile int r = (seven + i) / zero32;
            (void)r;
        } else {
            caught += last_code == FPE_INTDIV;
        }
    }
    printf("loop: %d of 50 caught with FPE_INTDIV\n", caught);
    printf("handler runs: %d\n", runs);
    return 0;
}
