/* Regression: after fork, parent and child must share no memory the program
 * did not share itself. hotpath's fork waits for the child's copy of the
 * code cache on a word in a shared page, created at the first fork; the
 * child kept that page shared with its parent, so a fork in the child
 * cleared and set the word the parent waits on: a grandchild's finished
 * copy released the parent while its own new child was still copying the
 * cache the parent went on patching. The child here forks once (as a
 * shell does), then compares the shared mappings (by inode) in its own and
 * its parent's /proc/PID/maps: natively there are none in common. One is
 * shared on purpose, and not counted: the ring in which a child notes for
 * its parent the blocks it translated (memfd:hotpath-fork-learn,
 * src/runtime/clone.c), hints that only hotpath reads. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int shared_inodes(pid_t pid, unsigned long *out, int max)
{
  char path[64], line[512];
  int n = 0;
  snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f)) {
    char perms[8];
    unsigned long ino;
    if (sscanf(line, "%*s %7s %*s %*s %lu", perms, &ino) == 2 && perms[3] == 's' && ino && n < max &&
        !strstr(line, "memfd:hotpath-fork-learn"))
      out[n++] = ino;
  }
  fclose(f);
  return n;
}

int main(void)
{
  int go[2];
  if (pipe(go) != 0)
    return 1;
  pid_t p = fork();
  if (p < 0)
    return 2;
  if (p == 0) {
    pid_t g = fork(); /* a fork in the child, before the parent forks again */
    if (g == 0)
      _exit(7);
    int st = 0;
    waitpid(g, &st, 0);
    char c;
    if (read(go[0], &c, 1) != 1)
      _exit(3);
    unsigned long a[512], b[512];
    int na = shared_inodes(getppid(), a, 512), nb = shared_inodes(getpid(), b, 512), common = 0;
    for (int i = 0; i < na; i++)
      for (int j = 0; j < nb; j++)
        common += a[i] == b[j];
    printf("grandchild status %d; maps read: %d; mappings shared with the parent: %d\n", WEXITSTATUS(st),
           na >= 0 && nb >= 0, common);
    fflush(stdout);
    _exit(0);
  }
  if (write(go[1], "x", 1) != 1)
    return 4;
  int st = 0;
  waitpid(p, &st, 0);
  printf("child status %d\n", WEXITSTATUS(st));
  return 0;
}
