/* The program's loader variables (LD_*, GLIBC_TUNABLES, glibc's MALLOC_*
 * aliases) must not reach hotpath's own dynamic loader and libc: hotpath
 * passes them to itself with their first byte replaced by a marker (0x01
 * for L, 0x02 for G, 0x03 for M: same length, so an environment that fits
 * natively still fits) and gives them back to the program. Used by the
 * static launcher too: libc only. */
#ifndef HOTPATH_ENVHIDE_H
#define HOTPATH_ENVHIDE_H

#include <stdbool.h>

/* Whether "NAME=value" is a loader variable. */
bool hp_env_is_loader_var(const char *var);
/* Hides the loader variables in place; false (nothing changed) if some
 * variable already begins with a marker byte and would come back changed. */
bool hp_env_hide_loader_vars(char **envp);
/* Gives hidden variables their first byte back, in place; returns envp. */
char **hp_env_restore_loader_vars(char **envp);

#endif
