/* altstack_overflow: infinite recursion overflows the main stack; a SIGSEGV
 * handler installed with SA_ONSTACK runs on a sigaltstack, checks that it
 * really is on the alternate stack (address of a local within the range and
 * sigaltstack() reporting SS_ONSTACK) and siglongjmps out.  Done three times
 * to check the alternate stack is reusable after siglongjmp. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define ALTSZ (64 * 1024)

static sigjmp_buf env;
static char *alt_base;
static volatile int on_alt, ss_onstack, handler_runs, got_segv;
static volatile unsigned long depth;
static volatile unsigned long depth_limit = ~0ul;   /* never reached */

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)si; (void)uc;
    char local;
    uintptr_t a = (uintptr_t)&local;
    handler_runs++;
    got_segv = sig == SIGSEGV;
    on_alt = a >= (uintptr_t)alt_base && a < (uintptr_t)alt_base + ALTSZ;
    stack_t cur;
    ss_onstack = sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_ONSTACK) != 0;
    siglongjmp(env, 1);
}

/* Not a tail call: the frame stays live across the recursive call. */
__attribute__((noinline)) static unsigned long recurse(unsigned long n)
{
    volatile char pad[96];
    pad[0] = (char)n;
    pad[95] = (char)(n >> 8);
    depth = n;
    if (n == depth_limit)
        return 0;
    return recurse(n + 1) + pad[0] + pad[95];
}

int main(void)
{
    /* an unlimited RLIMIT_STACK would let the stack grow until memory runs out */
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 &&
        (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 8ul * 1024 * 1024)) {
        rl.rlim_cur = 8ul * 1024 * 1024;
        setrlimit(RLIMIT_STACK, &rl);
    }

    alt_base = malloc(ALTSZ);
    stack_t ss = { .ss_sp = alt_base, .ss_size = ALTSZ, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) != 0) { puts("sigaltstack failed"); return 1; }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);

    for (int round = 1; round <= 3; round++) {
        on_alt = ss_onstack = got_segv = 0;
        depth = 0;
        if (sigsetjmp(env, 1) == 0) {
            unsigned long r = recurse(1);
            printf("recursion returned %lu?\n", r);
        } else {
            printf("round %d: recovered, SIGSEGV=%d, on altstack: %s, SS_ONSTACK: %s, deep: %s\n",
                   round, got_segv, on_alt ? "yes" : "no", ss_onstack ? "yes" : "no",
                   depth > 10000 ? "yes" : "no");
        }
    }
    stack_t cur;
    sigaltstack(NULL, &cur);
    printf("after recovery SS_ONSTACK: %s, SS_DISABLE: %s\n",
           (cur.ss_flags & SS_ONSTACK) ? "yes" : "no", (cur.ss_flags & SS_DISABLE) ? "yes" : "no");
    printf("handler runs: %d\n", handler_runs);
    puts("recovered");
    return 0;
}
