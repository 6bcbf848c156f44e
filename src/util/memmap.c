/* Cached parse of /proc/self/maps. */
#include "hotpath/memmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotpath/log.h"

static struct hp_region *regions;
static size_t nregions, cap;
static bool dirty = true;

/* /proc/self/maps stays open from the first query on (before the guest
 * runs), so that a guest that has used up its descriptors still gets its
 * new code translated. It sits high in the table; it is checked before each
 * use (the guest may close it, put another file in its place, or fork: the
 * file is the parent's then) and opened again when it is not ours. */
static int maps_fd = -1;
static pid_t maps_pid;
static dev_t maps_dev;
static ino_t maps_ino;

static int maps_open(void)
{
  struct stat st;
  if (maps_fd >= 0 && maps_pid == getpid() && fstat(maps_fd, &st) == 0 && st.st_dev == maps_dev &&
      st.st_ino == maps_ino)
    return maps_fd;
  maps_fd = -1; /* not ours any more: leave whatever is there alone */
  int fd;
  do
    fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  fd = hp_fd_high(fd);
  maps_fd = fd;
  maps_pid = getpid();
  maps_dev = st.st_dev;
  maps_ino = st.st_ino;
  return fd;
}

/* Reads the whole file with raw read(2), retrying on EINTR: hotpath's own
 * signal handler interrupts system calls (it has no SA_RESTART). */
static char *read_maps(size_t *len)
{
  static char *buf;
  static size_t cap;
  int fd = maps_open();
  if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0)
    return NULL;
  size_t n = 0;
  for (;;) {
    if (cap - n < 4096) {
      cap = cap ? cap * 2 : 65536;
      buf = realloc(buf, cap);
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static void reload(void)
{
  size_t len;
  char *text = read_maps(&len);
  nregions = 0;
  if (!text)
    return;
  for (char *line = text; *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    unsigned long s, e, foff = 0;
    char perms[8];
    int off = 0;
    if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &s, &e, perms, &foff, &off) >= 3) {
      if (nregions == cap) {
        cap = cap ? cap * 2 : 256;
        regions = realloc(regions, cap * sizeof *regions);
      }
      struct hp_region *r = &regions[nregions++];
      r->start = s;
      r->end = e;
      r->file_off = foff;
      r->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                (perms[2] == 'x' ? PROT_EXEC : 0);
      r->shared = perms[3] == 's';
      const char *name = off ? line + off : "";
      const char *base = strrchr(name, '/');
      snprintf(r->name, sizeof r->name, "%s", base ? base + 1 : name);
    }
    if (!nl)
      break;
    line = nl + 1;
  }
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

void hp_memmap_where(uintptr_t addr, char *buf, size_t len)
{
  struct hp_region r;
  if (hp_memmap_query(addr, &r))
    snprintf(buf, len, "%s+0x%lx", r.name[0] ? r.name : "anonymous",
             (unsigned long)(addr - r.start + r.file_off));
  else
    snprintf(buf, len, "unmapped");
}
