/* spawn: posix_spawn of /bin/echo and /bin/sh (exit status 5), with file
 * actions (redirect to a pipe, to a file), a custom environment, and a
 * missing executable.  stdout is flushed before each spawn and the parent
 * waits before printing, so output order is deterministic. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void report(const char *what, pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        printf("%s: waitpid failed\n", what);
        return;
    }
    if (WIFEXITED(st))
        printf("%s: exit status %d\n", what, WEXITSTATUS(st));
    else
        printf("%s: abnormal termination\n", what);
}

int main(void)
{
    pid_t pid;
    char *echo_argv[] = {"echo", "hello", "from", "/bin/echo", NULL};
    fflush(stdout);
    int rc = posix_spawn(&pid, "/bin/echo", NULL, NULL, echo_argv, environ);
    if (rc == 0)
        report("echo", pid);     /* prints only after the child has exited */
    printf("posix_spawn echo rc=%d\n", rc);
    fflush(stdout);

    char *sh_argv[] = {"sh", "-c", "echo from sh; echo to stderr >&2; exit 5", NULL};
    rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, sh_argv, environ);
    if (rc == 0)
        report("sh", pid);
    fflush(stdout);

    /* capture child's stdout through a pipe */
    int fds[2];
    if (pipe(fds) != 0) { perror("pipe"); return 1; }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    char *env[] = {"HP_VAR=forty-two", "PATH=/bin:/usr/bin", NULL};
    char *sh2_argv[] = {"sh", "-c", "echo var=$HP_VAR; i=0; while [ $i -lt 5 ]; do echo line $i; i=$((i+1)); done", NULL};
    rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, sh2_argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    char buf[512];
    size_t got = 0;
    ssize_t n;
    while ((n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    close(fds[0]);
    printf("captured %zu bytes:\n%s", got, buf);
    if (rc == 0)
        report("sh with env", pid);

    /* redirect to a file in the current directory, then read it back */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "spawn_out.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *echo2_argv[] = {"echo", "-n", "written-to-file", NULL};
    fflush(stdout);
    rc = posix_spawnp(&pid, "echo", &fa, NULL, echo2_argv, env);
    posix_spawn_file_actions_destroy(&fa);
    if (rc == 0)
        report("echo to file", pid);
    FILE *f = fopen("spawn_out.tmp", "r");
    if (f) {
        got = fread(buf, 1, sizeof buf - 1, f);
        buf[got] = 0;
        fclose(f);
        unlink("spawn_out.tmp");
        printf("file contains '%s'\n", buf);
    }

    /* missing program: glibc reports the exec failure as the return value */
    char *bad_argv[] = {"nope", NULL};
    fflush(stdout);
    rc = posix_spawn(&pid, "/nonexistent/hotpath-test-binary", NULL, NULL, bad_argv, environ);
    printf("missing program: rc=%s\n", rc == ENOENT ? "ENOENT" : rc == 0 ? "0" : "other");
    if (rc == 0)
        report("missing", pid);

    /* spawn attributes: new process group, default signal set */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    char *sh3_argv[] = {"sh", "-c", "exit 3", NULL};
    rc = posix_spawn(&pid, "/bin/sh", NULL, &attr, sh3_argv, environ);
    posix_spawnattr_destroy(&attr);
    if (rc == 0)
        report("sh in own pgroup", pid);
    return 0;
}
