/* alarm_loop: a SIGALRM from setitimer(ITIMER_REAL) must interrupt a hot,
 * syscall-free CPU loop.  First a one-shot 20 ms timer ends a loop that spins
 * on a volatile flag; then a periodic 5 ms timer interrupts a second loop five
 * times.  Iteration counts are never printed (they depend on timing). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t done;
static volatile sig_atomic_t ticks;

static void on_alarm_once(int sig)
{
    if (sig == SIGALRM)
        done = 1;
}

static void on_alarm_tick(int sig)
{
    if (sig == SIGALRM && ticks < 1000)
        ticks++;
}

static int arm(long first_us, long interval_us)
{
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = first_us / 1000000;
    it.it_value.tv_usec = first_us % 1000000;
    it.it_interval.tv_sec = interval_us / 1000000;
    it.it_interval.tv_usec = interval_us % 1000000;
    return setitimer(ITIMER_REAL, &it, NULL);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_alarm_once;
    sigaction(SIGALRM, &sa, NULL);

    if (arm(20000, 0) != 0) { puts("setitimer failed"); return 1; }
    uint64_t h = 1, iters = 0;
    while (!done) {
        h = h * 6364136223846793005ull + 1442695040888963407ull;
        h ^= h >> 29;
        iters++;
    }
    printf("loop 1 ended, interrupted: %s\n", done ? "yes" : "no");
    printf("loop 1 ran: %s\n", iters > 0 ? "yes" : "no");

    sa.sa_handler = on_alarm_tick;
    sigaction(SIGALRM, &sa, NULL);
    if (arm(5000, 5000) != 0) { puts("setitimer failed"); return 1; }
    double x = 0.5;
    while (ticks < 5) {
        /* floating-point work in the hot loop, no calls */
        x = x * 3.7 * (1.0 - x);
        if (x <= 0.0 || x >= 1.0)
            x = 0.5;
    }
    arm(0, 0);                       /* disarm before printing */
    int seen = ticks;
    printf("loop 2 ended after %s5 ticks\n", seen >= 5 ? ">= " : "< ");
    printf("x in range: %s\n", x > 0.0 && x < 1.0 ? "yes" : "no");
    (void)h;
    return 0;
}
