/* setjmp: setjmp/longjmp basics, longjmp(env, 0), unwinding out of deep
 * recursion, nested buffers, volatile locals, sigsetjmp/siglongjmp restoring
 * the signal mask (no signal is ever delivered). */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static jmp_buf env_a, env_b;
static int depth_reached;

static void dive(int depth, int limit)
{
    volatile char pad[64];
    pad[depth % 64] = (char)depth;
    depth_reached = depth + pad[depth % 64] - (char)depth;
    if (depth == limit)
        longjmp(env_a, depth);
    if (depth < limit)
        dive(depth + 1, limit);
}

static void thrower(int v)
{
    longjmp(env_b, v);
}

static int nested(int v)
{
    jmp_buf saved;
    __builtin_memcpy(saved, env_b, sizeof saved);
    int r = setjmp(env_b);
    if (r == 0)
        thrower(v * 2);
    __builtin_memcpy(env_b, saved, sizeof saved);
    if (v > 3)
        thrower(r + 1);     /* rethrow to outer handler */
    return r;
}

static sigjmp_buf senv;

int main(void)
{
    int r = setjmp(env_a);
    if (r == 0) {
        printf("first return from setjmp\n");
        longjmp(env_a, 42);
    }
    printf("longjmp returned %d\n", r);

    volatile int zero_case = 0;
    r = setjmp(env_a);
    if (zero_case == 0) {
        zero_case = 1;
        longjmp(env_a, 0);      /* must come back as 1 */
    }
    printf("longjmp(env,0) returned %d\n", r);

    for (volatile int lim = 10; lim <= 5000; lim *= 10) {
        r = setjmp(env_a);
        if (r == 0)
            dive(0, lim);
        printf("dive(%d): jumped with %d, depth %d\n", lim, r, depth_reached);
    }

    volatile long acc = 0;
    volatile int i = 0;
    r = setjmp(env_a);
    acc += r;
    if (i < 10000) {
        i++;
        longjmp(env_a, i % 7 + 1);
    }
    printf("loop of longjmps: i=%d acc=%ld\n", i, acc);

    for (volatile int v = 1; v <= 5; v++) {
        r = setjmp(env_b);
        if (r == 0)
            r = -nested(v);
        printf("nested(%d) -> %d\n", v, r);
    }

    /* sigsetjmp with mask saving: mask changes after sigsetjmp are undone */
    sigset_t set, cur;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    if (sigsetjmp(senv, 1) == 0) {
        sigprocmask(SIG_BLOCK, &set, NULL);
        sigprocmask(SIG_BLOCK, NULL, &cur);
        printf("before siglongjmp: USR1 blocked=%d\n", sigismember(&cur, SIGUSR1));
        siglongjmp(senv, 1);
    }
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("after siglongjmp: USR1 blocked=%d\n", sigismember(&cur, SIGUSR1));

    if (sigsetjmp(senv, 0) == 0) {
        sigprocmask(SIG_BLOCK, &set, NULL);
        siglongjmp(senv, 1);
    }
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("without savemask: USR1 blocked=%d\n", sigismember(&cur, SIGUSR1));
    return 0;
}
