/* threads: pthreads with per-thread __thread state, a mutex-protected shared
 * counter, a condition-variable handoff and pthread_once.  All printing is
 * done by the main thread after joining, so output is deterministic. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define NTHREADS 4

static __thread long tls_acc = 100;
static __thread int tls_arr[16];
static long shared_counter;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs;

static long results[NTHREADS];
static int tls_initial_ok[NTHREADS];
static int tls_distinct[NTHREADS];

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static int token;           /* which thread may append next */
static char order[64];
static int order_len;

static void init_once(void)
{
    once_runs++;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    pthread_once(&once, init_once);
    tls_initial_ok[id] = tls_acc == 100 && tls_arr[5] == 0;
    for (int i = 0; i < 20000; i++) {
        tls_acc = (tls_acc * 33 + i + id) % 1000003;
        tls_arr[i & 15] += id + 1;
    }
    tls_distinct[id] = tls_arr[0] == 1250 * (id + 1);
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&lock);
        shared_counter += id + 1;
        pthread_mutex_unlock(&lock);
    }
    /* take turns in id order, three rounds */
    for (int round = 0; round < 3; round++) {
        pthread_mutex_lock(&q_lock);
        while (token != id)
            pthread_cond_wait(&q_cond, &q_lock);
        order[order_len++] = (char)('A' + id);
        token = (token + 1) % NTHREADS;
        pthread_cond_broadcast(&q_cond);
        pthread_mutex_unlock(&q_lock);
    }
    results[id] = tls_acc;
    return (void *)(intptr_t)(id * 10);
}

int main(void)
{
    pthread_t th[NTHREADS];
    tls_acc = 5;
    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            printf("pthread_create failed\n");
            return 1;
        }
    long retsum = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        retsum += (long)(intptr_t)ret;
    }
    for (int i = 0; i < NTHREADS; i++)
        printf("thread %d: acc=%ld tls_initial_ok=%d tls_private=%d\n", i, results[i],
               tls_initial_ok[i], tls_distinct[i]);
    printf("shared counter=%ld once_runs=%d retsum=%ld\n", shared_counter, once_runs, retsum);
    printf("turn order=%.*s\n", order_len, order);
    printf("main tls untouched: %ld %d\n", tls_acc, tls_arr[0]);
    return 0;
}
