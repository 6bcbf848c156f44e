/* recursion: deep and wide recursion -- naive Fibonacci, the Ackermann
 * function and Towers of Hanoi -- each checked against a closed form or an
 * iterative computation, including the number of calls made.
 * usage: recursion [N]   (fib(N), ackermann(2, 40N), ackermann(3, N/4),
 *                         hanoi(N/2 + 4); default N = 40)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static long calls;

static long fib(int n)
{
    calls++;
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

static long ackermann(long m, long n)
{
    calls++;
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

static long moves;

static void hanoi(int disks, int from, int to, int via, long *towers)
{
    if (disks == 0)
        return;
    hanoi(disks - 1, from, via, to, towers);
    towers[from]--;
    towers[to]++;
    moves++;
    hanoi(disks - 1, via, to, from, towers);
}

static void check(const char *what, long got, long want)
{
    if (got != want) {
        fprintf(stderr, "recursion: MISMATCH: %s = %ld, expected %ld\n", what, got, want);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    long n = 40;
    if (argc > 1) {
        char *end;
        n = strtol(argv[1], &end, 10);
        if (*end != '\0' || n < 1 || n > 60) {
            fprintf(stderr, "usage: %s [N in 1..60]\n", argv[0]);
            return 2;
        }
    }

    /* fibonacci: value and call count 2*fib(n+1)-1 */
    calls = 0;
    long f = fib((int)n);
    long a = 0, b = 1;
    for (long i = 0; i < n; i++) {
        long t = a + b;
        a = b;
        b = t;
    }
    printf("fib(%ld) = %ld in %ld calls\n", n, f, calls);
    check("fib", f, a);
    check("fib calls", calls, 2 * b - 1);

    /* ackermann(2, k) = 2k + 3, ackermann(3, k) = 2^(k+3) - 3 */
    long k2 = 40 * n;
    calls = 0;
    long a2 = ackermann(2, k2);
    printf("ackermann(2, %ld) = %ld in %ld calls\n", k2, a2, calls);
    check("ackermann(2, k)", a2, 2 * k2 + 3);

    long k3 = n / 4;
    calls = 0;
    long a3 = ackermann(3, k3);
    printf("ackermann(3, %ld) = %ld in %ld calls\n", k3, a3, calls);
    check("ackermann(3, k)", a3, (1L << (k3 + 3)) - 3);

    /* hanoi: 2^d - 1 moves, all disks end on peg 2 */
    int disks = (int)(n / 2 + 4);
    long towers[3] = {disks, 0, 0};
    moves = 0;
    hanoi(disks, 0, 2, 1, towers);
    printf("hanoi(%d) = %ld moves\n", disks, moves);
    check("hanoi moves", moves, (1L << disks) - 1);
    check("disks on target peg", towers[2], disks);

    printf("recursion: verified\n");
    return 0;
}
