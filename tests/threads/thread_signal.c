/* thread_signal: signals between threads.  Every step is sequenced by the
 * program (semaphores, joins, sigsuspend), so the event log, printed at the
 * end by main, is deterministic.  Handlers identify the thread they run in
 * through a __thread name.
 *  1. thread B: pthread_kill(main, SIGUSR1); main waits in sigsuspend
 *  2. thread A blocks SIGUSR1 with pthread_sigmask; main pthread_kills A;
 *     A sees it pending, unblocks it and the handler runs in A
 *  3. thread C: tgkill(pid, main tid, SIGUSR2); main waits in sigsuspend
 *  4. thread D: kill(pid, SIGUSR2) (process-directed); only main has it
 *     unblocked (in sigsuspend), so main takes it
 *  5. thread E unblocks SIGUSR1 and signals itself with pthread_kill and
 *     raise: the handler runs in E before the call returns */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread char my_name = '?';
static pthread_t main_thread;
static pid_t main_tid;

struct event { int sig; char thread; int code; int sender_ok; };
static struct event events[64];
static atomic_int nevents;
static volatile sig_atomic_t got_usr1, got_usr2;

static void handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int i = atomic_fetch_add(&nevents, 1);
    if (i < 64) {
        events[i].sig = sig;
        events[i].thread = my_name;
        events[i].code = si->si_code;
        events[i].sender_ok = si->si_pid == getpid();
    }
    if (sig == SIGUSR1) got_usr1++;
    else if (sig == SIGUSR2) got_usr2++;
}

static const char *code_name(int c)
{
    switch (c) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    default: return "other";
    }
}

static sem_t a_ready, a_go;
static int a_pending_seen, a_handled_after_unblock, e_sync1, e_sync2;

static void *thread_a(void *arg)
{
    (void)arg;
    my_name = 'A';
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    sem_post(&a_ready);
    while (sem_wait(&a_go) != 0 && errno == EINTR)
        ;
    sigset_t pend;
    sigpending(&pend);
    a_pending_seen = sigismember(&pend, SIGUSR1);
    int before = got_usr1;
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);     /* delivered here, in A */
    a_handled_after_unblock = got_usr1 == before + 1;
    return NULL;
}

static void *thread_b(void *arg)
{
    (void)arg;
    my_name = 'B';
    pthread_kill(main_thread, SIGUSR1);
    return NULL;
}

static void *thread_c(void *arg)
{
    (void)arg;
    my_name = 'C';
    syscall(SYS_tgkill, getpid(), main_tid, SIGUSR2);
    return NULL;
}

static void *thread_d(void *arg)
{
    (void)arg;
    my_name = 'D';
    kill(getpid(), SIGUSR2);
    return NULL;
}

static void *thread_e(void *arg)
{
    (void)arg;
    my_name = 'E';
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    int before = got_usr1;
    pthread_kill(pthread_self(), SIGUSR1);
    e_sync1 = got_usr1 == before + 1;
    raise(SIGUSR1);
    e_sync2 = got_usr1 == before + 2;
    return NULL;
}

static void wait_for(volatile sig_atomic_t *counter, int target, int unblock)
{
    sigset_t wait_mask;
    pthread_sigmask(SIG_BLOCK, NULL, &wait_mask);
    sigdelset(&wait_mask, unblock);
    while (*counter < target)
        sigsuspend(&wait_mask);
}

int main(void)
{
    my_name = 'M';
    main_thread = pthread_self();
    main_tid = (pid_t)syscall(SYS_gettid);
    sem_init(&a_ready, 0, 0);
    sem_init(&a_go, 0, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);

    /* block both in main; new threads inherit the mask */
    sigset_t both;
    sigemptyset(&both);
    sigaddset(&both, SIGUSR1);
    sigaddset(&both, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &both, NULL);

    pthread_t a, t;
    pthread_create(&a, NULL, thread_a, NULL);
    while (sem_wait(&a_ready) != 0 && errno == EINTR)
        ;

    /* 1 */
    pthread_create(&t, NULL, thread_b, NULL);
    wait_for(&got_usr1, 1, SIGUSR1);
    pthread_join(t, NULL);

    /* 2 */
    pthread_kill(a, SIGUSR1);
    sem_post(&a_go);
    pthread_join(a, NULL);

    /* 3 */
    pthread_create(&t, NULL, thread_c, NULL);
    wait_for(&got_usr2, 1, SIGUSR2);
    pthread_join(t, NULL);

    /* 4 */
    pthread_create(&t, NULL, thread_d, NULL);
    wait_for(&got_usr2, 2, SIGUSR2);
    pthread_join(t, NULL);

    /* 5 */
    pthread_create(&t, NULL, thread_e, NULL);
    pthread_join(t, NULL);

    sigset_t pend;
    sigpending(&pend);
    int n = atomic_load(&nevents);
    for (int i = 0; i < n && i < 64; i++)
        printf("event %d: %s in thread %c, si_code %s, si_pid ok %d\n", i + 1,
               events[i].sig == SIGUSR1 ? "SIGUSR1" : events[i].sig == SIGUSR2 ? "SIGUSR2" : "?",
               events[i].thread, code_name(events[i].code), events[i].sender_ok);
    printf("A saw SIGUSR1 pending: %d, handled on unblock: %d\n", a_pending_seen, a_handled_after_unblock);
    printf("E handled synchronously: pthread_kill %d, raise %d\n", e_sync1, e_sync2);
    printf("USR1 %d, USR2 %d, still pending: %d\n", (int)got_usr1, (int)got_usr2,
           sigismember(&pend, SIGUSR1) || sigismember(&pend, SIGUSR2));
    return 0;
}
