/* exec_self: execv("/proc/self/exe") re-runs the program itself (as
 * self-restarting daemons do), with the arguments it was given.
 *
 * Guards against: the path reaching the kernel unchanged, which under
 * hotpath names hotpath's own binary: hotpath then started again and
 * rejected the program's arguments as options.
 *
 * Not meaningful under --native, where nothing is intercepted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 2 && strcmp(argv[1], "--child") == 0) {
    int gen = atoi(argv[2]);
    printf("child generation %d running, argc=%d\n", gen, argc);
    if (gen < 2) {
      char next[16];
      snprintf(next, sizeof next, "%d", gen + 1);
      char *av[] = {argv[0], "--child", next, NULL};
      execv("/proc/self/exe", av);
      perror("execv");
      return 1;
    }
    return 7;   /* the exit status must come back through both execs */
  }
  puts("parent: exec /proc/self/exe");
  char *av[] = {argv[0], "--child", "1", NULL};
  execv("/proc/self/exe", av);
  perror("execv");
  return 1;
}
