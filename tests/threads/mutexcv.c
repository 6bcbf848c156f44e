/* mutexcv: 8 threads share a mutex-protected counter, take round-robin turns
 * through a condition variable, and bump C11 atomics.  Everything is printed
 * by the main thread after all threads have been joined. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define NTHREADS 8
#define ROUNDS 50
#define INCS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cond = PTHREAD_COND_INITIALIZER;
static int turn;                        /* id of the thread whose turn it is */
static char order[NTHREADS * ROUNDS + 1];
static int order_len;
static uint64_t turn_hash = 1469598103934665603ull;

static atomic_long atomic_sum;
static atomic_int atomic_count;
static _Atomic uint64_t atomic_xor;

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    long local = 0;
    for (int i = 0; i < INCS; i++) {
        pthread_mutex_lock(&lock);
        counter += id + 1;
        pthread_mutex_unlock(&lock);
        atomic_fetch_add(&atomic_sum, (long)(i % 7) + id);
        atomic_fetch_add_explicit(&atomic_count, 1, memory_order_relaxed);
        atomic_fetch_xor(&atomic_xor, (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1));
        local += i ^ id;
    }
    for (int r = 0; r < ROUNDS; r++) {
        pthread_mutex_lock(&turn_lock);
        while (turn != id)
            pthread_cond_wait(&turn_cond, &turn_lock);
        order[order_len++] = (char)('A' + id);
        turn_hash = (turn_hash ^ (uint64_t)(id * 131 + r)) * 1099511628211ull;
        turn = (turn + 1) % NTHREADS;
        pthread_cond_broadcast(&turn_cond);
        pthread_mutex_unlock(&turn_lock);
    }
    return (void *)(intptr_t)local;
}

int main(void)
{
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            puts("pthread_create failed");
            return 1;
        }
    long locals = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        locals += (long)(intptr_t)ret;
    }
    order[order_len] = '\0';
    printf("counter: %ld\n", counter);
    printf("atomic sum: %ld\n", atomic_load(&atomic_sum));
    printf("atomic count: %d\n", atomic_load(&atomic_count));
    printf("atomic xor: %016llx\n", (unsigned long long)atomic_load(&atomic_xor));
    printf("locals: %ld\n", locals);
    printf("turns: %d, first 24: %.24s\n", order_len, order);
    printf("turn hash: %016llx\n", (unsigned long long)turn_hash);
    return 0;
}
