/* The program's loader variables (LD_*, GLIBC_TUNABLES, glibc's MALLOC_*
 * aliases) must not reach hotpath's own dynamic loader and libc: hotpath
 * passes them to itself hidden and gives them back to the program. Used by
 * the static launcher too: libc only.
 *
 * Usually in place, same length (an environment that fits natively still
 * fits): a loader variable's first byte is replaced by a marker, 0x01 for
 * L, 0x02 for G, 0x03 for M. That is only exact when no variable already
 * begins with a byte 0x01-0x04; otherwise every variable gets a 0x04 byte
 * in front (one byte more each), which tells the two apart: a hidden
 * environment whose first variable begins with 0x04 is of the second kind. */
#ifndef HOTPATH_ENVHIDE_H
#define HOTPATH_ENVHIDE_H

#include <stdbool.h>

/* Whether "NAME=value" is a loader variable. */
bool hp_env_is_loader_var(const char *var);
/* envp with the loader variables hidden: envp itself, changed in place, or
 * a new array (NULL if out of memory); hp_env_hidden_free frees what it
 * allocated. */
char **hp_env_hide_loader_vars(char **envp);
void hp_env_hidden_free(char **hidden, char **envp);
/* Gives hidden variables back, in place (first bytes, or pointers moved
 * past the 0x04 byte); returns envp. */
char **hp_env_restore_loader_vars(char **envp);

#endif
