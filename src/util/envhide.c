/* Hiding the program's loader variables from hotpath's own loader. */
#include "hotpath/envhide.h"

#include <string.h>

static const char firsts[] = "LGM"; /* marker k + 1 stands for firsts[k] */

bool hp_env_is_loader_var(const char *var)
{
  return strncmp(var, "LD_", 3) == 0 || strncmp(var, "GLIBC_TUNABLES=", 15) == 0 ||
         strncmp(var, "MALLOC_", 7) == 0;
}

bool hp_env_hide_loader_vars(char **envp)
{
  for (size_t i = 0; envp[i]; i++)
    if (envp[i][0] >= 1 && envp[i][0] <= 3)
      return false;
  for (size_t i = 0; envp[i]; i++)
    if (hp_env_is_loader_var(envp[i]))
      envp[i][0] = (char)(strchr(firsts, envp[i][0]) - firsts + 1);
  return true;
}

char **hp_env_restore_loader_vars(char **envp)
{
  for (size_t i = 0; envp[i]; i++)
    if (envp[i][0] >= 1 && envp[i][0] <= 3)
      envp[i][0] = firsts[envp[i][0] - 1];
  return envp;
}
