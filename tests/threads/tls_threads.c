/* tls_threads: __thread variables (initialized, zero-initialized, arrays and
 * a struct) per thread; each thread computes with its own copies and returns
 * a value; main prints the sums after joining. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NTHREADS 6

static __thread long tls_init = 12345;
static __thread long tls_zero;
static __thread int tls_arr[64];
static __thread struct { char name[16]; double d; } tls_rec = { "tls-record", 2.5 };
__thread int tls_extern_visible = 7;     /* global-dynamic / initial-exec model */

static long results[NTHREADS];
static int init_ok[NTHREADS];
static int final_ok[NTHREADS];

static long mix(long x, int i) { return (x * 31 + i) % 1000000007; }

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    init_ok[id] = tls_init == 12345 && tls_zero == 0 && tls_arr[17] == 0 &&
                  strcmp(tls_rec.name, "tls-record") == 0 && tls_rec.d == 2.5 &&
                  tls_extern_visible == 7;
    tls_init += id;
    tls_extern_visible *= id + 1;
    tls_rec.d *= id + 1;
    for (int i = 0; i < 50000; i++) {
        tls_zero = mix(tls_zero + id, i);
        tls_arr[i & 63] += (i % 5) + id;
        tls_init = mix(tls_init, i & 255);
    }
    long sum = 0;
    for (int i = 0; i < 64; i++)
        sum += tls_arr[i];
    final_ok[id] = tls_extern_visible == 7 * (id + 1) && tls_rec.d == 2.5 * (id + 1);
    results[id] = sum + tls_zero + tls_init + (long)tls_rec.d;
    return (void *)(intptr_t)(sum % 100000);
}

int main(void)
{
    pthread_t th[NTHREADS];
    /* main's own copies are changed first: threads must not see this */
    tls_init = -1;
    tls_zero = 99;
    tls_arr[17] = 5;
    tls_extern_visible = 1000;
    strcpy(tls_rec.name, "main");
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    long retsum = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        retsum += (long)(intptr_t)r;
    }
    long total = 0;
    for (int i = 0; i < NTHREADS; i++) {
        printf("thread %d: init_ok=%d final_ok=%d result=%ld\n", i, init_ok[i], final_ok[i], results[i]);
        total += results[i];
    }
    printf("total: %ld, returned sum: %ld\n", total, retsum);
    printf("main tls unchanged: %d\n", tls_init == -1 && tls_zero == 99 && tls_arr[17] == 5 &&
           tls_extern_visible == 1000 && strcmp(tls_rec.name, "main") == 0);
    return 0;
}
