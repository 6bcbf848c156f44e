/* exitcode: prints on stdout and stderr, runs atexit handlers, exits with 3. */
#include <stdio.h>
#include <stdlib.h>

static int counter;

static void handler2(void)
{
    printf("atexit handler 2 (counter=%d)\n", counter);
    counter += 10;
}

static void handler1(void)
{
    printf("atexit handler 1 (counter=%d)\n", counter);
}

static int work(int n)
{
    int s = 0;
    for (int i = 1; i <= n; i++)
        s += i * i % 7;
    return s;
}

int main(void)
{
    atexit(handler1);   /* runs last */
    atexit(handler2);   /* runs first */
    for (int i = 0; i < 5; i++) {
        counter += work(100 * i);
        printf("step %d counter %d\n", i, counter);
    }
    fprintf(stderr, "about to exit with status 3\n");
    exit(3);
}
