/* Preloaded by tests/cli/loader_env.sh: a constructor that prints, so a
 * library loaded twice (once into hotpath, once into the program) shows. */
#include <stdio.h>

__attribute__((constructor)) static void announce(void) { fputs("preloaded constructor ran\n", stderr); }
