/* The guest's initial stack, laid out as the kernel's create_elf_tables does:
 * strings at the top, then platform string and AT_RANDOM bytes, then the
 * argc/argv/envp/auxv table at a 16-byte aligned sp. */
#include <elf.h>
#include <string.h>
#include <sys/random.h>

#include "hotpath/loader.h"

static uintptr_t push_bytes(uintptr_t *p, const void *data, size_t len)
{
  *p -= len;
  memcpy((void *)*p, data, len);
  return *p;
}

uintptr_t hp_stack_build(uintptr_t stack_lo, uintptr_t stack_hi, int argc, char *const *argv,
                         char *const *envp, const struct hp_auxv *aux, size_t naux,
                         const char *execfn, uintptr_t *auxv_out)
{
  (void)stack_lo;
  uintptr_t p = stack_hi - sizeof(void *);
  *(uint64_t *)p = 0; /* end marker, as the kernel leaves */
  uintptr_t execfn_at = push_bytes(&p, execfn, strlen(execfn) + 1);
  int envc = 0;
  while (envp[envc])
    envc++;
  uintptr_t env_at[envc + 1], arg_at[argc + 1];
  for (int i = envc - 1; i >= 0; i--)
    env_at[i] = push_bytes(&p, envp[i], strlen(envp[i]) + 1);
  for (int i = argc - 1; i >= 0; i--)
    arg_at[i] = push_bytes(&p, argv[i], strlen(argv[i]) + 1);
  p &= ~(uintptr_t)15;
  static const char platform[] = "x86_64";
  uintptr_t platform_at = push_bytes(&p, platform, sizeof platform);
  unsigned char rnd[16];
  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
    memset(rnd, 0x5a, sizeof rnd); /* cannot happen on Linux >= 3.17 without a signal */
  uintptr_t random_at = push_bytes(&p, rnd, sizeof rnd);

  /* Table: argc, argv..., NULL, envp..., NULL, auxv pairs incl. AT_NULL. */
  size_t words = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2 * (naux + 1);
  p &= ~(uintptr_t)15;
  p -= words * 8;
  p &= ~(uintptr_t)15;
  uint64_t *w = (uint64_t *)p;
  *w++ = (uint64_t)argc;
  for (int i = 0; i < argc; i++)
    *w++ = arg_at[i];
  *w++ = 0;
  for (int i = 0; i < envc; i++)
    *w++ = env_at[i];
  *w++ = 0;
  *auxv_out = (uintptr_t)w;
  for (size_t i = 0; i < naux; i++) {
    uint64_t v = aux[i].val;
    if (aux[i].type == AT_RANDOM)
      v = random_at;
    else if (aux[i].type == AT_PLATFORM)
      v = platform_at;
    else if (aux[i].type == AT_EXECFN)
      v = execfn_at;
    *w++ = aux[i].type;
    *w++ = v;
  }
  *w++ = AT_NULL;
  *w++ = 0;
  return p;
}
