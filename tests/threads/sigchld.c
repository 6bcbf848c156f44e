/* sigchld: fork 5 children exiting with different statuses (one killed by a
 * signal); a SA_RESTART SIGCHLD handler counts deliveries; the parent waits
 * for each child in creation order with waitpid and prints its status. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld_count;
static volatile sig_atomic_t bad_signo;

static void on_chld(int sig)
{
    if (sig != SIGCHLD)
        bad_signo = 1;
    chld_count++;
}

static uint64_t work(int seed)
{
    uint64_t h = (uint64_t)seed;
    for (int i = 0; i < 200000 * (5 - seed); i++)
        h = h * 6364136223846793005ull + (uint64_t)i;
    return h;
}

int main(void)
{
    static const int statuses[5] = { 0, 3, 42, 255, -1 /* SIGTERM */ };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);

    fflush(stdout);
    pid_t pids[5];
    for (int i = 0; i < 5; i++) {
        pids[i] = fork();
        if (pids[i] < 0) { perror("fork"); return 1; }
        if (pids[i] == 0) {
            volatile uint64_t h = work(i);   /* later children finish first */
            (void)h;
            if (statuses[i] < 0)
                kill(getpid(), SIGTERM);
            _exit(statuses[i]);
        }
    }
    for (int i = 0; i < 5; i++) {
        int st;
        pid_t r;
        while ((r = waitpid(pids[i], &st, 0)) < 0)
            ;                               /* SA_RESTART: EINTR is not expected */
        if (r != pids[i]) { puts("waitpid returned another pid"); return 1; }
        if (WIFEXITED(st))
            printf("child %d exited with status %d\n", i, WEXITSTATUS(st));
        else if (WIFSIGNALED(st))
            printf("child %d killed by signal %d\n", i, WTERMSIG(st));
        else
            printf("child %d: unexpected status\n", i);
    }
    printf("SIGCHLD count>=1: %s\n", chld_count >= 1 ? "yes" : "no");
    printf("SIGCHLD count<=5: %s\n", chld_count <= 5 ? "yes" : "no");
    printf("bad signo: %d\n", (int)bad_signo);
    printf("no more children: %s\n", waitpid(-1, NULL, WNOHANG) < 0 ? "yes" : "no");
    return 0;
}
