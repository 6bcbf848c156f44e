/* Finds a library through $ORIGIN (issue 15, item 15): under --native,
 * ld.so took $ORIGIN from /proc/self/exe, which names hotpath, and the
 * library was not found (java finds its libraries so). It sits next to
 * this program in the build tree: libctor-print.so. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
  (void)argc;
  void *h = dlopen("$ORIGIN/libctor-print.so", RTLD_NOW);
  printf("%s: $ORIGIN/libctor-print.so %s\n", argv[0], h ? "loaded" : "not found");
  return h ? 0 : 1;
}
