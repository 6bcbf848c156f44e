/* Regression: a fork under a small file size limit (ulimit -f). hotpath's
 * child copies the code cache by writing it into a file of its own; a file
 * bigger than RLIMIT_FSIZE raised SIGXFSZ, which killed every child (found
 * by review). The child runs code the parent never ran and exits with a
 * status of its own. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static int child_work(int x)
{
  int s = 0;
  for (int i = 0; i < x; i++)
    s += i % 7;
  return s;
}

int main(void)
{
  struct rlimit rl = {1 << 20, 1 << 20};
  if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
    return 1;
  for (int n = 0; n < 3; n++) {
    pid_t pid = fork();
    if (pid == 0)
      _exit(child_work(100 + n) % 50);
    int st = 0;
    waitpid(pid, &st, 0);
    printf("child %d: %s %d\n", n, WIFEXITED(st) ? "exit" : "signal",
           WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
  }
  return 0;
}
