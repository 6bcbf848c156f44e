/* Guest function names (see symbols.h). */
#include "hotpath/symbols.h"

#include "hotpath/memmap.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
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
  char build_id[41];  /* hex, "" if none */
  char debug[600];    /* the separate debug file its symbols came from, "" if none */
  bool loaded;
  struct sym *syms;   /* functions, by address */
  size_t nsyms;
  Elf64_Phdr *ph;     /* its program headers (file offset -> address) */
  size_t nph;
  Dwarf *dwarf;       /* its DWARF (or its debug file's), for source lines */
  bool dwarf_tried;
};

#define MAX_MODULES 64
static struct module mods[MAX_MODULES];
static unsigned nmods;

static int cmp_sym(const void *a, const void *b)
{
  const struct sym *x = a, *y = b;
  return (x->addr > y->addr) - (x->addr < y->addr);
}

/* The executable file mappings' full paths, from /proc/self/maps (new
 * ones only: called again for a module not seen yet, mapped since). */
static void find_paths(void)
{
  FILE *f = fopen("/proc/thread-self/maps", "r");
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

/* The GNU build-id note of e, as hex into out (41 bytes), "" if none. */
static void read_build_id(Elf *e, char *out)
{
  out[0] = '\0';
  for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
      continue;
    Elf_Data *d = elf_getdata(scn, NULL);
    GElf_Nhdr nh;
    size_t off = 0, name_off, desc_off;
    while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && !memcmp((char *)d->d_buf + name_off, "GNU", 4) &&
          nh.n_descsz <= 20) {
        const unsigned char *id = (const unsigned char *)d->d_buf + desc_off;
        for (size_t i = 0; i < nh.n_descsz; i++)
          snprintf(out + 2 * i, 3, "%02x", id[i]);
        return;
      }
    }
  }
}

/* The symbol table of e (.symtab, else .dynsym, none: NULL); *symtab says
 * which. */
static Elf_Scn *symbol_table(Elf *e, GElf_Shdr *sh_out, bool *symtab)
{
  Elf_Scn *best = NULL;
  *symtab = false;
  for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh))
      continue;
    if (sh.sh_type == SHT_SYMTAB || (sh.sh_type == SHT_DYNSYM && !best)) {
      best = scn;
      *sh_out = sh;
      *symtab = sh.sh_type == SHT_SYMTAB;
    }
  }
  return best;
}

/* Where separate debug files are looked up by build-id, as GDB does:
 * DIR/.build-id/xx/rest.debug (HOTPATH_DEBUG_FILE_DIRECTORY overrides
 * /usr/lib/debug). */
static Elf *debug_file(const struct module *m, int *fd, char *path, size_t len)
{
  const char *dir = getenv("HOTPATH_DEBUG_FILE_DIRECTORY");
  if (!m->build_id[0])
    return NULL;
  snprintf(path, len, "%s/.build-id/%.2s/%s.debug", dir && *dir ? dir : "/usr/lib/debug", m->build_id,
           m->build_id + 2);
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return NULL;
  Elf *e = elf_begin(*fd, ELF_C_READ, NULL);
  if (!e || elf_kind(e) != ELF_K_ELF) {
    if (e)
      elf_end(e);
    close(*fd);
    return NULL;
  }
  return e;
}

/* Reads the function symbols of m: .symtab, else those of its separate
 * debug file (found by build-id), else .dynsym. */
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
  read_build_id(e, m->build_id);
  GElf_Shdr best_sh;
  memset(&best_sh, 0, sizeof best_sh);
  bool symtab;
  Elf_Scn *best = symbol_table(e, &best_sh, &symtab);
  if (!symtab) { /* stripped: a debug file may have its .symtab */
    int dfd;
    GElf_Shdr dsh;
    bool dsymtab;
    Elf *de = debug_file(m, &dfd, m->debug, sizeof m->debug);
    Elf_Scn *ds = de ? symbol_table(de, &dsh, &dsymtab) : NULL;
    if (ds && dsymtab) {
      elf_end(e);
      close(fd);
      e = de, fd = dfd, best = ds, best_sh = dsh;
    } else {
      m->debug[0] = '\0';
      if (de) {
        elf_end(de);
        close(dfd);
      }
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

/* The module (loaded) whose file name is module; NULL if not mapped. A
 * name not seen is looked up again in /proc/self/maps once (a library
 * loaded since), then remembered as unknown. */
static struct module *module_of(const char *module)
{
  for (int pass = 0; pass < 2; pass++) {
    for (unsigned i = 0; i < nmods; i++)
      if (strcmp(mods[i].base, module) == 0) {
        if (!mods[i].loaded && mods[i].path[0])
          load(&mods[i]);
        return mods[i].path[0] ? &mods[i] : NULL;
      }
    if (pass == 0)
      find_paths();
  }
  if (nmods < MAX_MODULES) { /* unknown: not looked for again */
    struct module *m = &mods[nmods++];
    snprintf(m->path + 256, sizeof m->path - 256, "%s", module);
    m->path[0] = '\0';
    m->base = m->path + 256;
    m->loaded = true;
  }
  return NULL;
}

bool hp_module_ident(const char *module, const char **path, const char **build_id, const char **debug)
{
  struct module *m = module_of(module);
  if (!m)
    return false;
  *path = m->path;
  *build_id = m->build_id[0] ? m->build_id : NULL;
  *debug = m->debug[0] ? m->debug : NULL;
  return true;
}

/* The file offset as an address of the ELF (its loadable segments). */
static bool address_of(const struct module *m, uint64_t file_off, uint64_t *addr)
{
  for (size_t i = 0; i < m->nph; i++)
    if (m->ph[i].p_type == PT_LOAD && file_off >= m->ph[i].p_offset &&
        file_off < m->ph[i].p_offset + m->ph[i].p_filesz) {
      *addr = file_off - m->ph[i].p_offset + m->ph[i].p_vaddr;
      return true;
    }
  return false;
}

/* The module holding guest pc and pc as an address of its ELF file. */
static struct module *module_at(uintptr_t pc, uint64_t *addr)
{
  struct hp_region r;
  if (!hp_memmap_query(pc, &r) || !r.name[0])
    return NULL;
  struct module *m = module_of(r.name);
  return m && address_of(m, pc - r.start + r.file_off, addr) ? m : NULL;
}

bool hp_source_line(uintptr_t pc, char *where, size_t wlen, char *text, size_t tlen)
{
  uint64_t addr;
  struct module *m = module_at(pc, &addr);
  if (!m)
    return false;
  if (!m->dwarf_tried) {
    m->dwarf_tried = true;
    int fd = open(m->debug[0] ? m->debug : m->path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && !(m->dwarf = dwarf_begin(fd, DWARF_C_READ)))
      close(fd); /* kept open with its Dwarf otherwise */
  }
  Dwarf_Die cu;
  Dwarf_Line *line;
  const char *src;
  int lineno;
  if (!m->dwarf || !dwarf_addrdie(m->dwarf, addr, &cu) || !(line = dwarf_getsrc_die(&cu, addr)) ||
      !(src = dwarf_linesrc(line, NULL, NULL)) || dwarf_lineno(line, &lineno) != 0 || lineno <= 0)
    return false;
  const char *slash = strrchr(src, '/');
  snprintf(where, wlen, "%s:%d", slash ? slash + 1 : src, lineno);
  /* The line's text, when the source file is where the compiler saw it. */
  text[0] = '\0';
  char path[1024];
  Dwarf_Attribute at;
  const char *dir = src[0] == '/' ? NULL : dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &at));
  snprintf(path, sizeof path, "%s%s%s", dir ? dir : "", dir ? "/" : "", src);
  FILE *f = fopen(path, "r");
  if (f) {
    char buf[512];
    for (int n = 1; fgets(buf, sizeof buf, f); n += strchr(buf, '\n') != NULL)
      if (n == lineno) {
        buf[strcspn(buf, "\r\n")] = '\0';
        snprintf(text, tlen, "%s", buf);
        break;
      }
    fclose(f);
  }
  return true;
}

bool hp_symbolize(uintptr_t pc, char *buf, size_t len)
{
  uint64_t addr;
  struct module *m = module_at(pc, &addr);
  if (!m || !m->nsyms)
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
