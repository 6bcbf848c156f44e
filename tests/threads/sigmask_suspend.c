/* sigmask_suspend: blocked signals stay pending until sigsuspend; standard
 * signals coalesce, realtime ones queue in order with their values;
 * sigwaitinfo / sigtimedwait take blocked signals without running the
 * handler; signalfd reads a raised signal. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1_runs, rt_runs;
static int rt_values[8];

static void on_usr1(int sig) { if (sig == SIGUSR1) usr1_runs++; }

static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig == SIGRTMIN && rt_runs < 8)
        rt_values[rt_runs] = si->si_value.sival_int;
    rt_runs++;
}

static const char *yesno(int b) { return b ? "yes" : "no"; }

static const char *code_name(int c)
{
    switch (c) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    default: return "other";
    }
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &sa, NULL);

    /* --- pending + sigsuspend --- */
    sigset_t block, old, pend, empty;
    sigemptyset(&empty);
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    printf("initially blocked SIGUSR1: %s\n", yesno(sigismember(&old, SIGUSR1)));
    raise(SIGUSR1);
    raise(SIGUSR1);
    raise(SIGUSR1);
    sigpending(&pend);
    printf("pending SIGUSR1: %s, handler runs so far: %d\n", yesno(sigismember(&pend, SIGUSR1)), (int)usr1_runs);
    errno = 0;
    int r = sigsuspend(&empty);
    printf("sigsuspend returned %d EINTR %s, handler runs: %d (standard signals coalesce)\n",
           r, yesno(errno == EINTR), (int)usr1_runs);
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    sigpending(&pend);
    printf("after sigsuspend: SIGUSR1 blocked %s, pending %s\n",
           yesno(sigismember(&cur, SIGUSR1)), yesno(sigismember(&pend, SIGUSR1)));

    /* --- realtime signals queue, in order, with values --- */
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &rt, NULL);
    for (int i = 0; i < 3; i++) {
        union sigval v = { .sival_int = 100 + i };
        sigqueue(getpid(), SIGRTMIN, v);
    }
    printf("rt handler runs while blocked: %d\n", (int)rt_runs);
    sigprocmask(SIG_UNBLOCK, &rt, NULL);
    printf("rt handler runs after unblock: %d, values %d %d %d\n",
           (int)rt_runs, rt_values[0], rt_values[1], rt_values[2]);

    /* --- sigwaitinfo on a blocked signal: the handler must not run --- */
    sigprocmask(SIG_BLOCK, &rt, NULL);
    union sigval v = { .sival_int = 4242 };
    sigqueue(getpid(), SIGRTMIN, v);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int s = sigwaitinfo(&rt, &si);
    printf("sigwaitinfo: SIGRTMIN %s, si_code %s, value %d, si_pid ok %s, handler runs %d\n",
           yesno(s == SIGRTMIN), code_name(si.si_code), si.si_value.sival_int,
           yesno(si.si_pid == getpid()), (int)rt_runs);

    /* SIGUSR1 is still blocked; glibc folds the kernel's SI_TKILL into SI_USER */
    raise(SIGUSR1);
    memset(&si, 0, sizeof si);
    s = sigwaitinfo(&block, &si);
    printf("sigwaitinfo: SIGUSR1 %s, si_code %s, handler runs %d\n",
           yesno(s == SIGUSR1), code_name(si.si_code), (int)usr1_runs);

    struct timespec zero = { 0, 0 };
    errno = 0;
    s = sigtimedwait(&block, &si, &zero);
    printf("sigtimedwait with nothing pending: %d EAGAIN %s\n", s, yesno(errno == EAGAIN));

    /* --- signalfd --- */
    sigset_t u2;
    sigemptyset(&u2);
    sigaddset(&u2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &u2, NULL);
    int fd = signalfd(-1, &u2, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0) { perror("signalfd"); return 1; }
    raise(SIGUSR2);                       /* thread-directed: SI_TKILL */
    kill(getpid(), SIGUSR2);              /* process-directed: separate queue */
    struct signalfd_siginfo info;
    for (int i = 1; i <= 2; i++) {
        memset(&info, 0, sizeof info);
        ssize_t n = read(fd, &info, sizeof info);
        printf("signalfd read %d: full %s, ssi_signo SIGUSR2 %s, ssi_code %s, ssi_pid ok %s\n", i,
               yesno(n == (ssize_t)sizeof info), yesno(info.ssi_signo == SIGUSR2),
               code_name(info.ssi_code), yesno(info.ssi_pid == (unsigned)getpid()));
    }
    errno = 0;
    ssize_t n = read(fd, &info, sizeof info);
    printf("signalfd read 3: %zd EAGAIN %s\n", n, yesno(errno == EAGAIN));
    sigpending(&pend);
    printf("SIGUSR2 still pending after reads: %s\n", yesno(sigismember(&pend, SIGUSR2)));
    close(fd);

    /* restore the original mask */
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("final handler runs: usr1 %d, rt %d\n", (int)usr1_runs, (int)rt_runs);
    return 0;
}
