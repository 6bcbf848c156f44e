/* Hiding the program's loader variables from hotpath's own loader. */
#include "hotpath/envhide.h"

#include <stdlib.h>
#include <string.h>

static const char firsts[] = "LGM"; /* marker k + 1 stands for firsts[k] */
#define ESCAPE 4

bool hp_env_is_loader_var(const char *var)
{
  return strncmp(var, "LD_", 3) == 0 || strncmp(var, "GLIBC_TUNABLES=", 15) == 0 ||
         strncmp(var, "MALLOC_", 7) == 0;
}

/* Every variable with the escape byte in front. */
static char **escaped(char **envp)
{
  size_t n = 0;
  while (envp[n])
    n++;
  char **env = calloc(n + 1, sizeof *env);
  for (size_t i = 0; env && i < n; i++) {
    size_t len = strlen(envp[i]);
    if (!(env[i] = malloc(len + 2))) {
      hp_env_hidden_free(env, envp);
      return NULL;
    }
    env[i][0] = ESCAPE;
    memcpy(env[i] + 1, envp[i], len + 1);
  }
  return env;
}

char **hp_env_hide_loader_vars(char **envp)
{
  for (size_t i = 0; envp[i]; i++)
    if (envp[i][0] >= 1 && envp[i][0] <= ESCAPE)
      return escaped(envp);
  for (size_t i = 0; envp[i]; i++)
    if (hp_env_is_loader_var(envp[i]))
      envp[i][0] = (char)(strchr(firsts, envp[i][0]) - firsts + 1);
  return envp;
}

void hp_env_hidden_free(char **hidden, char **envp)
{
  if (!hidden || hidden == envp)
    return;
  for (size_t i = 0; hidden[i]; i++)
    free(hidden[i]);
  free(hidden);
}

char **hp_env_restore_loader_vars(char **envp)
{
  if (envp[0] && envp[0][0] == ESCAPE) {
    for (size_t i = 0; envp[i]; i++)
      envp[i] += envp[i][0] == ESCAPE;
    return envp;
  }
  for (size_t i = 0; envp[i]; i++)
    if (envp[i][0] >= 1 && envp[i][0] <= 3)
      envp[i][0] = firsts[envp[i][0] - 1];
  return envp;
}
