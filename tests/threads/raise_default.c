/* raise_default: print, flush, then raise(SIGTERM) with the default action;
 * the process must die from SIGTERM (exit status compared by difftest). */
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>

int main(void)
{
    struct rlimit rl = { 0, 0 };
    setrlimit(RLIMIT_CORE, &rl);
    /* make sure the default action is in effect even if inherited otherwise */
    signal(SIGTERM, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    puts("about to raise SIGTERM");
    fputs("stderr before SIGTERM\n", stderr);
    fflush(stdout);
    raise(SIGTERM);
    puts("still alive after SIGTERM");
    return 0;
}
