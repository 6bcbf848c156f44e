/* raise_abort: print, flush, then abort(): the process must die from
 * SIGABRT (exit status compared by difftest).  Core dumps are disabled. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int main(void)
{
    struct rlimit rl = { 0, 0 };
    setrlimit(RLIMIT_CORE, &rl);
    puts("about to abort");
    fputs("stderr before abort\n", stderr);
    fflush(stdout);
    abort();
}
