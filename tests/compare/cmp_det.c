/* Deterministic helper for the compare tests.
 * usage: cmp_det [cat] [exit=N] [signal]
 *   prints a fixed text; `cat` also copies stdin to stdout; exits with N
 *   (default 0), or kills itself with SIGTERM when `signal` is given. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int status = 0, cat = 0, sig = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "cat") == 0)
            cat = 1;
        else if (strncmp(argv[i], "exit=", 5) == 0)
            status = atoi(argv[i] + 5);
        else if (strcmp(argv[i], "signal") == 0)
            sig = 1;
    }
    unsigned long h = 5381;
    for (int i = 0; i < 2000; i++) {
        h = h * 33 + (unsigned long)i;
        if (i % 250 == 0)
            printf("line %d: %lu\n", i, h % 1000003);
    }
    fprintf(stderr, "cmp_det: this goes to stderr\n");
    if (cat) {
        int ch;
        long n = 0;
        while ((ch = getchar()) != EOF) {
            putchar(ch);
            n++;
        }
        printf("stdin: %ld bytes\n", n);
    }
    fflush(stdout);
    if (sig)
        raise(SIGTERM);
    return status;
}
