/* Cached parse of /proc/self/maps. */
#include "hotpath/memmap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct hp_region *regions;
static size_t nregions, cap;
static bool dirty = true;

static void reload(void)
{
  FILE *f = fopen("/proc/self/maps", "re");
  nregions = 0;
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    char perms[8];
    int off = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &s, &e, perms, &off) < 3)
      continue;
    if (nregions == cap) {
      cap = cap ? cap * 2 : 256;
      regions = realloc(regions, cap * sizeof *regions);
    }
    struct hp_region *r = &regions[nregions++];
    r->start = s;
    r->end = e;
    r->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
              (perms[2] == 'x' ? PROT_EXEC : 0);
    char *name = off ? line + off : (char *)"";
    name[strcspn(name, "\n")] = '\0';
    const char *base = strrchr(name, '/');
    snprintf(r->name, sizeof r->name, "%s", base ? base + 1 : name);
  }
  fclose(f);
  dirty = false;
}

static bool find(uintptr_t addr, struct hp_region *out)
{
  size_t lo = 0, hi = nregions;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (addr < regions[mid].start)
      hi = mid;
    else if (addr >= regions[mid].end)
      lo = mid + 1;
    else {
      *out = regions[mid];
      return true;
    }
  }
  return false;
}

bool hp_memmap_query(uintptr_t addr, struct hp_region *out)
{
  if (dirty)
    reload();
  if (find(addr, out))
    return true;
  reload(); /* a stack that grew, or a mapping made behind our back */
  return find(addr, out);
}

void hp_memmap_invalidate(void) { dirty = true; }

bool hp_memmap_query_cached(uintptr_t addr, struct hp_region *out) { return find(addr, out); }
