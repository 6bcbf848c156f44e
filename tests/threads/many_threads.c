/* many_threads: create and join 1000 short-lived threads, 8 at a time; each
 * returns a value computed from its index; print a checksum. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define TOTAL 1000
#define BATCH 8

static __thread uint64_t tls_state = 77;

static void *worker(void *arg)
{
    uint64_t n = (uint64_t)(uintptr_t)arg;
    tls_state += n;
    uint64_t h = tls_state;
    for (int i = 0; i < 200; i++)
        h = h * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)i;
    return (void *)(uintptr_t)(h >> 16);
}

int main(void)
{
    uint64_t checksum = 0;
    int created = 0, joined = 0;
    for (int base = 0; base < TOTAL; base += BATCH) {
        pthread_t th[BATCH];
        int n = TOTAL - base < BATCH ? TOTAL - base : BATCH;
        for (int i = 0; i < n; i++) {
            if (pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(base + i)) != 0) {
                printf("pthread_create failed at %d\n", base + i);
                return 1;
            }
            created++;
        }
        for (int i = 0; i < n; i++) {
            void *r;
            if (pthread_join(th[i], &r) != 0) {
                printf("pthread_join failed at %d\n", base + i);
                return 1;
            }
            joined++;
            checksum = checksum * 1000003u ^ (uint64_t)(uintptr_t)r;
        }
    }
    printf("created %d, joined %d\n", created, joined);
    printf("checksum: %016llx\n", (unsigned long long)checksum);
    printf("main tls: %llu\n", (unsigned long long)tls_state);
    return 0;
}
