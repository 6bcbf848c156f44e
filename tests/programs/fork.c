/* fork: children compute and print, the parent waits for each child before
 * printing, so output order is deterministic (stdout is flushed before every
 * fork).  Also a pipe from child to parent and a grandchild. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t work(int seed)
{
    uint64_t h = (uint64_t)seed;
    for (int i = 0; i < 100000; i++)
        h = h * 6364136223846793005ull + (uint64_t)i;
    return h;
}

static void report(const char *what, int status)
{
    if (WIFEXITED(status))
        printf("parent: %s exited with status %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("parent: %s killed by signal %d\n", what, WTERMSIG(status));
    else
        printf("parent: %s unexpected status\n", what);
}

static int global_value = 1000;

int main(void)
{
    printf("parent: before fork, global=%d\n", global_value);
    fflush(stdout);

    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        global_value += 1;   /* copy-on-write: parent must not see this */
        printf("child 1: work=%016llx global=%d getppid!=getpid: %d\n", (unsigned long long)work(1), global_value,
               getppid() != getpid());
        fflush(stdout);
        exit(7);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid) { perror("waitpid"); return 1; }
    report("child 1", st);
    printf("parent: global still %d\n", global_value);
    fflush(stdout);

    /* child returning from a function via _exit with a computed status */
    pid = fork();
    if (pid == 0) {
        uint64_t w = work(2);
        printf("child 2: work=%016llx\n", (unsigned long long)w);
        fflush(stdout);
        _exit((int)(w % 200));
    }
    waitpid(pid, &st, 0);
    report("child 2", st);
    fflush(stdout);

    /* pipe: child writes a computed message, parent reads it */
    int fds[2];
    if (pipe(fds) != 0) { perror("pipe"); return 1; }
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char msg[128];
        int n = snprintf(msg, sizeof msg, "message from child 3: %016llx", (unsigned long long)work(3));
        if (write(fds[1], msg, (size_t)n) != n) _exit(1);
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    char buf[256];
    size_t got = 0;
    ssize_t n;
    while ((n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    close(fds[0]);
    waitpid(pid, &st, 0);
    printf("parent: read '%s' (%zu bytes)\n", buf, got);
    report("child 3", st);
    fflush(stdout);

    /* grandchild: child forks again and reports the grandchild's status */
    pid = fork();
    if (pid == 0) {
        pid_t g = fork();
        if (g == 0) {
            printf("grandchild: work=%016llx\n", (unsigned long long)work(4));
            fflush(stdout);
            _exit(42);
        }
        int gst;
        waitpid(g, &gst, 0);
        printf("child 4: grandchild status %d\n", WIFEXITED(gst) ? WEXITSTATUS(gst) : -1);
        fflush(stdout);
        exit(WIFEXITED(gst) ? WEXITSTATUS(gst) + 1 : 99);
    }
    waitpid(pid, &st, 0);
    report("child 4", st);

    /* several children at once, reaped in pid order */
    pid_t kids[4];
    fflush(stdout);
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            _exit(10 + i * (int)(work(10 + i) % 3));
    }
    int sum = 0;
    for (int i = 0; i < 4; i++) {
        waitpid(kids[i], &st, 0);
        sum += WEXITSTATUS(st);
    }
    printf("parent: sum of 4 exit statuses %d\n", sum);
    printf("parent: no more children: %d\n", wait(NULL) == -1);
    return 0;
}
