/* execve under hotpath: a program the guest executes runs under hotpath
 * too, with the same options (as DynamoRIO follows children), unless
 * --no-follow-exec. hotpath executes itself with the guest's argv and
 * environment (`--exec-file=FILE -- ARGV...`), after checking that the
 * kernel would accept the guest's execve; anything it cannot predict
 * (formats it does not run, setuid files, bad pointers) goes to the kernel
 * as the guest asked, so a failing execve fails with the native errno and
 * the caller goes on. */
#ifndef HOTPATH_EXEC_H
#define HOTPATH_EXEC_H
#include <stdint.h>

/* Keeps hotpath's own command line: options argv[1, pi) are passed on. */
void hp_exec_init(int argc, char **argv, int pi);

/* The guest's execve (at: execveat with dirfd and flags; path already
 * rewritten where it named /proc/self/exe). Returns only on failure:
 * -errno for the guest. */
long hp_exec(int dirfd, const char *path, char *const *argv, char *const *envp, int flags, int at);

#endif
