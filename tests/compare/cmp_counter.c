/* Non-deterministic helper for the compare tests: counts its invocations in
 * a file and changes behaviour from invocation FROM (0-based) onwards.
 * usage: cmp_counter FILE output|status FROM
 *   output: stdout gains a line "changed at invocation N"
 *   status: stdout stays the same, the exit status becomes 1 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: cmp_counter FILE output|status FROM\n");
        return 2;
    }
    long n = 0, from = atol(argv[3]);
    FILE *f = fopen(argv[1], "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &n) != 1)
            n = 0;
        fclose(f);
    }
    f = fopen(argv[1], "w");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    fprintf(f, "%ld\n", n + 1);
    fclose(f);

    printf("first line\nsecond line\n");
    if (strcmp(argv[2], "output") == 0 && n >= from)
        printf("changed at invocation %ld\n", n);
    printf("last line\n");
    if (strcmp(argv[2], "status") == 0 && n >= from)
        return 1;
    return 0;
}
