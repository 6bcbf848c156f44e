/* sa_flags: SA_SIGINFO fields for raise(), SA_NODEFER (a handler re-raising
 * itself nests, depth 2) versus the default (the re-raise is deferred until
 * the handler returns), sa_mask and the handler's signal mask / uc_sigmask,
 * SA_RESTART versus EINTR for a read() interrupted by SIGALRM, and last
 * SA_RESETHAND: the second raise(SIGUSR2) takes the default action and
 * kills the process (exit status compared by difftest). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

static const char *yesno(int b) { return b ? "yes" : "no"; }

/* SA_SIGINFO */
static volatile int info_signo, info_code, info_pid_ok, info_uid_ok;
static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    info_signo = si->si_signo;
    info_code = si->si_code;
    info_pid_ok = si->si_pid == getpid();
    info_uid_ok = si->si_uid == getuid();
}

/* re-raising handler: records nesting depth */
static volatile int depth, max_depth, runs;
static void on_reraise(int sig)
{
    depth++;
    runs++;
    if (depth > max_depth)
        max_depth = depth;
    if (runs == 1)
        raise(sig);
    depth--;
}

/* sa_mask and uc_sigmask */
static volatile int mask_has_self, mask_has_extra, uc_has_pre, uc_has_self, usr2_during, usr2_runs;
static volatile int in_usr1;
static void on_usr2_count(int sig)
{
    (void)sig;
    usr2_runs++;
    if (in_usr1)
        usr2_during = 1;
}
static void on_mask(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    ucontext_t *uc = ucv;
    sigset_t cur;
    in_usr1 = 1;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    mask_has_self = sigismember(&cur, sig);
    mask_has_extra = sigismember(&cur, SIGUSR2);
    uc_has_pre = sigismember(&uc->uc_sigmask, SIGPROF);  /* blocked before the handler */
    uc_has_self = sigismember(&uc->uc_sigmask, sig);
    raise(SIGUSR2);                 /* in sa_mask: deferred until we return */
    in_usr1 = 0;
}

/* SA_RESTART */
static int pipefd[2];
static volatile int alarm_runs;
static void on_alarm(int sig)
{
    (void)sig;
    alarm_runs++;
    char c = 'x';
    if (write(pipefd[1], &c, 1) != 1)
        alarm_runs += 100;
}

/* 200 ms: the read below must have started when it fires (a signal that
 * comes first runs its handler before the read, natively too, and the read
 * then takes its byte: the last read waits for ever). 10 ms was too short
 * under hotpath on a loaded VM with --debug-flush-every (a flush, then the
 * code translated again, between setitimer and read). */
static void one_shot_timer(void)
{
    struct itimerval it = { { 0, 0 }, { 0, 200000 } };
    setitimer(ITIMER_REAL, &it, NULL);
}

/* SA_RESETHAND */
static volatile int reset_runs;
static void on_reset(int sig) { (void)sig; reset_runs++; }

int main(void)
{
    struct rlimit rl = { 0, 0 };
    setrlimit(RLIMIT_CORE, &rl);
    struct sigaction sa, q;

    /* SA_SIGINFO */
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("SA_SIGINFO: si_signo SIGUSR1 %s, si_code SI_TKILL %s, si_pid ok %s, si_uid ok %s\n",
           yesno(info_signo == SIGUSR1), yesno(info_code == SI_TKILL), yesno(info_pid_ok), yesno(info_uid_ok));
    kill(getpid(), SIGUSR1);
    printf("kill(): si_code SI_USER %s\n", yesno(info_code == SI_USER));
    union sigval v = { .sival_int = 5 };
    sigqueue(getpid(), SIGUSR1, v);
    printf("sigqueue(): si_code SI_QUEUE %s\n", yesno(info_code == SI_QUEUE));

    /* SA_NODEFER */
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_reraise;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGUSR1, &sa, NULL);
    depth = max_depth = runs = 0;
    raise(SIGUSR1);
    printf("SA_NODEFER: runs %d, max depth %d\n", runs, max_depth);

    /* default: the signal is blocked while its handler runs */
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    depth = max_depth = runs = 0;
    raise(SIGUSR1);
    printf("default flags: runs %d, max depth %d\n", runs, max_depth);

    /* sa_mask + uc_sigmask */
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr2_count;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_sigaction = on_mask;
    sa.sa_flags = SA_SIGINFO;
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t prof, cur;
    sigemptyset(&prof);
    sigaddset(&prof, SIGPROF);
    sigprocmask(SIG_BLOCK, &prof, NULL);
    raise(SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &prof, NULL);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("sa_mask: in handler self blocked %s, SIGUSR2 blocked %s; uc_sigmask has pre-handler SIGPROF %s, has SIGUSR1 %s\n",
           yesno(mask_has_self), yesno(mask_has_extra), yesno(uc_has_pre), yesno(uc_has_self));
    printf("sa_mask: SIGUSR2 ran %d time(s), during SIGUSR1 handler %s; mask restored %s\n",
           usr2_runs, yesno(usr2_during), yesno(!sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGUSR2)));

    /* SA_RESTART versus EINTR */
    if (pipe(pipefd) != 0) { perror("pipe"); return 1; }
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    one_shot_timer();
    char buf[4];
    errno = 0;
    ssize_t n = read(pipefd[0], buf, sizeof buf);
    printf("SA_RESTART: read returned %zd (%c), alarm runs %d\n", n, n == 1 ? buf[0] : '-', alarm_runs);
    sa.sa_flags = 0;
    sigaction(SIGALRM, &sa, NULL);
    one_shot_timer();
    errno = 0;
    n = read(pipefd[0], buf, sizeof buf);
    int e = errno;
    printf("no SA_RESTART: read returned %zd, EINTR %s, alarm runs %d\n", n, yesno(e == EINTR), alarm_runs);
    n = read(pipefd[0], buf, sizeof buf);
    printf("byte written by the handler still there: %s\n", yesno(n == 1 && buf[0] == 'x'));

    /* SA_RESETHAND, last */
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_reset;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    sigaction(SIGUSR2, NULL, &q);
    printf("SA_RESETHAND: handler runs %d, disposition now SIG_DFL %s\n",
           reset_runs, yesno(q.sa_handler == SIG_DFL));
    puts("raising SIGUSR2 again: default action terminates");
    fflush(stdout);
    raise(SIGUSR2);
    puts("still alive after the second SIGUSR2");
    return 0;
}
