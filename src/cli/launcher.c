/* The `hotpath` command: a static executable that no dynamic loader runs,
 * so the program's loader variables (LD_PRELOAD, LD_LIBRARY_PATH, LD_DEBUG,
 * GLIBC_TUNABLES...) never apply to hotpath itself. It hides them
 * (hotpath/envhide.h) and executes hotpath's core, which is dynamically
 * linked and gives them back to the program it runs. Nothing else here:
 * no library of hotpath's is loaded before the names are hidden. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotpath/envhide.h"
#include "hotpath/options.h"

#define CORE_NAME "hotpath-core"

/* The core next to this file (the build tree), else where `meson install`
 * puts it (HP_CORE_FROM_BINDIR, relative to this file's directory). */
static const char *find_core(char *buf, size_t len)
{
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return NULL;
  self[n] = '\0';
  *strrchr(self, '/') = '\0';
  int w = snprintf(buf, len, "%s/%s", self, CORE_NAME);
  if (w > 0 && (size_t)w < len && access(buf, F_OK) == 0) /* not executable: say so (126) */
    return buf;
  if (HP_CORE_FROM_BINDIR[0] == '/')
    w = snprintf(buf, len, "%s/%s", HP_CORE_FROM_BINDIR, CORE_NAME);
  else
    w = snprintf(buf, len, "%s/%s/%s", self, HP_CORE_FROM_BINDIR, CORE_NAME);
  if (w < 0 || (size_t)w >= len) {
    errno = ENAMETOOLONG;
    return NULL;
  }
  return buf;
}

int main(int argc, char **argv, char **envp)
{
  (void)argc;
  char core[PATH_MAX];
  if (!find_core(core, sizeof core)) {
    fprintf(stderr, "hotpath: cannot find %s: %s\n", CORE_NAME, strerror(errno));
    return HP_STATUS_CANNOT_EXEC;
  }
  char **env = hp_env_hide_loader_vars(envp);
  if (!env) {
    fprintf(stderr, "hotpath: cannot hide the program's loader variables: %s\n", strerror(errno));
    return HP_STATUS_CANNOT_EXEC;
  }
  execve(core, argv, env);
  fprintf(stderr, "hotpath: cannot execute %s: %s\n", core, strerror(errno));
  return errno == ENOENT ? HP_STATUS_NOT_FOUND : HP_STATUS_CANNOT_EXEC;
}
