/* Function names for the report (see symbols.h). */
#include "hotpath/symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sym {
  uint64_t addr, size;
  char *name;
};

struct module {
  char path[512];
  const char *base;   /* its file name */
  bool loaded;
  struct sym *syms;   /* functions, by address */
  size_t nsyms;
  Elf64_Phdr *ph;     /* its program headers (file offset -> address) */
  size_t nph;
};

#define MAX_MODULES 64
static struct module mods[MAX_MODULES];
static unsigned nmods;

static int cmp_sym(const void *a, const void *b)
{
  const struct sym *x = a, *y = b;
  return (x->addr > y->addr) - (x->addr < y->addr);
}

/* The executable file mappings' full paths, from /proc/self/maps. */
static void find_paths(void)
{
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f)
    return;
  char line[1024];
  while (fgets(line, sizeof line, f) && nmods < MAX_MODULES) {
    char perms[8], path[512];
    if (sscanf(line, "%*x-%*x %7s %*s %*s %*s %511s", perms, path) != 2 || perms[2] != 'x' || path[0] != '/')
      continue;
    bool seen = false;
    for (unsigned i = 0; i < nmods && !seen; i++)
      seen = strcmp(mods[i].path, path) == 0;
    if (seen)
      continue;
    struct module *m = &mods[nmods++];
    snprintf(m->path, sizeof m->path, "%s", path);
    const char *slash = strrchr(m->path, '/');
    m->base = slash ? slash + 1 : m->path;
  }
  fclose(f);
}

/* Reads the function symbols of m: .symtab, else .dynsym. */
static void load(struct module *m)
{
  m->loaded = true;
  int fd = open(m->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  elf_version(EV_CURRENT);
  Elf *e = elf_begin(fd, ELF_C_READ, NULL);
  size_t nph = 0;
  if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nph) != 0) {
    if (e)
      elf_end(e);
    close(fd);
    return;
  }
  m->ph = calloc(nph ? nph : 1, sizeof *m->ph);
  for (size_t i = 0; m->ph && i < nph; i++) {
    GElf_Phdr p;
    if (gelf_getphdr(e, (int)i, &p))
      m->ph[m->nph++] = (Elf64_Phdr){.p_type = p.p_type, .p_offset = p.p_offset, .p_vaddr = p.p_vaddr,
                                     .p_filesz = p.p_filesz};
  }
  Elf_Scn *best = NULL;
  GElf_Shdr best_sh;
  memset(&best_sh, 0, sizeof best_sh);
  for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh))
      continue;
    if (sh.sh_type == SHT_SYMTAB || (sh.sh_type == SHT_DYNSYM && !best)) {
      best = scn;
      best_sh = sh;
    }
  }
  Elf_Data *d = best ? elf_getdata(best, NULL) : NULL;
  size_t n = d && best_sh.sh_entsize ? best_sh.sh_size / best_sh.sh_entsize : 0;
  m->syms = calloc(n ? n : 1, sizeof *m->syms);
  for (size_t i = 0; m->syms && i < n; i++) {
    GElf_Sym s;
    if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value)
      continue;
    const char *name = elf_strptr(e, best_sh.sh_link, s.st_name);
    if (!name || !*name)
      continue;
    m->syms[m->nsyms++] = (struct sym){s.st_value, s.st_size, strdup(name)};
  }
  if (m->nsyms)
    qsort(m->syms, m->nsyms, sizeof *m->syms, cmp_sym);
  elf_end(e);
  close(fd);
}

bool hp_symbolize(const char *module, uint64_t file_off, char *buf, size_t len)
{
  if (!nmods)
    find_paths();
  struct module *m = NULL;
  for (unsigned i = 0; i < nmods && !m; i++)
    if (strcmp(mods[i].base, module) == 0)
      m = &mods[i];
  if (!m)
    return false;
  if (!m->loaded)
    load(m);
  /* The file offset as an address of the ELF (its loadable segments). */
  uint64_t addr = 0;
  bool mapped = false;
  for (size_t i = 0; i < m->nph && !mapped; i++)
    if (m->ph[i].p_type == PT_LOAD && file_off >= m->ph[i].p_offset &&
        file_off < m->ph[i].p_offset + m->ph[i].p_filesz) {
      addr = file_off - m->ph[i].p_offset + m->ph[i].p_vaddr;
      mapped = true;
    }
  if (!mapped || !m->nsyms)
    return false;
  size_t lo = 0, hi = m->nsyms; /* the last symbol at or below addr */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (m->syms[mid].addr <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (!lo)
    return false;
  const struct sym *s = &m->syms[lo - 1];
  if (s->size && addr >= s->addr + s->size)
    return false; /* between functions */
  if (addr == s->addr)
    snprintf(buf, len, "%s", s->name);
  else
    snprintf(buf, len, "%s+0x%lx", s->name, (unsigned long)(addr - s->addr));
  return true;
}
