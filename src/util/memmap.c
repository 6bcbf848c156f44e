/* Cached parse of /proc/self/maps. */
#include "hotpath/memmap.h"

#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotpath/log.h"
#include "hotpath/rawsys.h"


static struct hp_region *regions;
static size_t nregions, cap;
static bool dirty = true;

/* /proc/self/maps is opened for each read and closed at once: hotpath
 * keeps no descriptor in the guest's table. When the guest has used every
 * descriptor (EMFILE), a helper task reads it: a thread of the same process
 * with a copy of the descriptor table (no CLONE_FILES), in which it can
 * close one to open the file. Closing in a copy releases no lock and
 * touches nothing of the guest's. */
struct maps_job {
  char *buf;
  size_t cap;
  long len; /* bytes read, or -errno */
};

static void maps_helper(void *arg) /* no TLS, no libc: raw system calls */
{
  struct maps_job *j = arg;
  hp_raw_syscall(SYS_close, 0, 0, 0, 0, 0, 0); /* EMFILE: every low number is in use */
  long fd = hp_raw_syscall(SYS_open, (long)"/proc/self/maps", O_RDONLY | O_CLOEXEC, 0, 0, 0, 0);
  if (fd < 0) {
    j->len = fd;
    return;
  }
  size_t n = 0;
  for (long r; n < j->cap && (r = hp_raw_syscall(SYS_read, fd, (long)(j->buf + n), (long)(j->cap - n), 0, 0, 0)) != 0;) {
    if (r == -EINTR)
      continue;
    if (r < 0) {
      j->len = r;
      return;
    }
    n += (size_t)r;
  }
  j->len = (long)n;
}

/* Runs maps_helper to completion; false if the task could not be made. */
static bool run_maps_helper(struct maps_job *j)
{
  static char stack[16384] __attribute__((aligned(16)));
  static int tid; /* cleared by the kernel, with a futex wake, when the helper ends */
  sigset_t all, old;
  sigfillset(&all);
  /* The helper inherits the mask: no signal of the guest's may land on it. */
  hp_raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&old, 8, 0, 0);
  long r = hp_clone_vm(CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
                           CLONE_CHILD_CLEARTID,
                       stack + sizeof stack, &tid, &tid, maps_helper, j, 0);
  hp_raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&old, 0, 8, 0, 0);
  if (r < 0)
    return false;
  for (int t; (t = __atomic_load_n(&tid, __ATOMIC_ACQUIRE)) != 0;)
    hp_raw_syscall(SYS_futex, (long)&tid, FUTEX_WAIT, t, 0, 0, 0);
  return true;
}

/* Reads the whole file, retrying on EINTR: hotpath's own signal handler
 * interrupts system calls (it has no SA_RESTART). */
static char *read_maps(size_t *len)
{
  static char *buf;
  static size_t cap;
  if (!cap)
    buf = malloc(cap = 65536);
  int fd;
  do
    fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  size_t n = 0;
  if (fd >= 0) {
    for (ssize_t r; (r = read(fd, buf + n, cap - n - 1)) != 0;) {
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        break;
      if ((n += (size_t)r) == cap - 1)
        buf = realloc(buf, cap *= 2);
    }
    close(fd);
  } else if (errno == EMFILE) {
    for (;;) { /* the helper reads once into the whole buffer: a bigger one if it filled it */
      struct maps_job j = {buf, cap - 1, -EIO};
      if (!run_maps_helper(&j) || j.len < 0)
        return NULL;
      if ((n = (size_t)j.len) < cap - 1)
        break;
      buf = realloc(buf, cap *= 2);
    }
  } else {
    return NULL;
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
