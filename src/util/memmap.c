/* What the process has mapped: a cached parse of /proc/self/maps, with
 * single regions asked of the kernel where mappings changed. */
#include "hotpath/memmap.h"

#include <errno.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotpath/log.h"
#include "hotpath/rawsys.h"
#include "hotpath/thread.h"

static struct hp_region *regions;
static size_t nregions, cap;
static bool dirty = true; /* the whole table must be read again */
/* Ranges whose mappings changed since the table was read: their regions
 * are asked of the kernel one at a time (a JIT maps and protects code a
 * few pages at a time: reading the whole map for each cost most of its
 * time); too many, and the whole table is read again. */
#define MAX_STALE 16
struct stale_range {
  uintptr_t lo, hi;
};
static struct stale_range stale[MAX_STALE];
static unsigned nstale;

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
  long fd = hp_raw_syscall(SYS_open, (long)"/proc/thread-self/maps", O_RDONLY | O_CLOEXEC, 0, 0, 0, 0);
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
    fd = open("/proc/thread-self/maps", O_RDONLY | O_CLOEXEC);
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

static struct hp_region *grow_one(void)
{
  if (nregions == cap) {
    cap = cap ? cap * 2 : 256;
    regions = realloc(regions, cap * sizeof *regions);
  }
  return &regions[nregions++];
}

static void set_name(struct hp_region *r, const char *path)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strnlen(base, sizeof r->name - 1);
  memcpy(r->name, base, n);
  r->name[n] = '\0';
}

static unsigned long hex(char **p)
{
  unsigned long v = 0;
  for (;; (*p)++) {
    char c = **p;
    if (c >= '0' && c <= '9')
      v = v * 16 + (unsigned long)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v = v * 16 + (unsigned long)(c - 'a' + 10);
    else
      return v;
  }
}

static char *skip_field(char *p)
{
  while (*p && *p != ' ')
    p++;
  while (*p == ' ')
    p++;
  return p;
}

/* One line: "start-end perms offset dev inode   name". */
static void parse_line(char *line)
{
  char *p = line;
  unsigned long s = hex(&p);
  if (*p++ != '-')
    return;
  unsigned long e = hex(&p);
  if (*p++ != ' ' || strlen(p) < 5)
    return;
  struct hp_region *r = grow_one();
  r->start = s;
  r->end = e;
  r->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
  r->shared = p[3] == 's';
  p = skip_field(p);
  r->file_off = hex(&p);
  p = skip_field(skip_field(skip_field(p))); /* offset's end, dev, inode */
  set_name(r, p);
}

static void reload(void)
{
  size_t len;
  char *text = read_maps(&len);
  nregions = 0;
  nstale = 0;
  if (!text)
    return;
  for (char *line = text; *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    parse_line(line);
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

/* The kernel's PROCMAP_QUERY ioctl on /proc/self/maps (Linux 6.11): the one
 * region holding an address, without reading (and the kernel writing out)
 * the whole file. Layout from the kernel's UAPI (linux/fs.h). */
struct procmap_query {
  uint64_t size, query_flags, query_addr;
  uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
  uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
  uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY 0xc0686611ul /* _IOWR('f', 17, struct procmap_query) */
enum { VMA_READ = 1, VMA_WRITE = 2, VMA_EXEC = 4, VMA_SHARED = 8 };
static bool no_query_ioctl; /* an older kernel */

/* 1: found (out set), 0: nothing mapped at addr, -1: cannot tell. */
static int query_kernel(uintptr_t addr, struct hp_region *out)
{
  if (no_query_ioctl || addr >> 47) /* the vsyscall page is in the file, not a region */
    return -1;
  int fd;
  do
    fd = open("/proc/thread-self/maps", O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -1;
  char name[PATH_MAX];
  struct procmap_query q = {.size = sizeof q, .query_addr = addr,
                            .vma_name_addr = (uint64_t)(uintptr_t)name, .vma_name_size = sizeof name};
  int r;
  do
    r = ioctl(fd, PROCMAP_QUERY, &q);
  while (r < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (r < 0) {
    if (err == ENOENT)
      return 0;
    if (err == ENOTTY || err == EINVAL || err == EOPNOTSUPP)
      no_query_ioctl = true;
    return -1;
  }
  out->start = q.vma_start;
  out->end = q.vma_end;
  out->file_off = q.vma_offset;
  out->prot = (q.vma_flags & VMA_READ ? PROT_READ : 0) | (q.vma_flags & VMA_WRITE ? PROT_WRITE : 0) |
              (q.vma_flags & VMA_EXEC ? PROT_EXEC : 0);
  out->shared = q.vma_flags & VMA_SHARED;
  set_name(out, q.vma_name_size ? name : "");
  return 1;
}

/* r, fresh from the kernel, replaces what the table says of its range. */
static void remember(const struct hp_region *r)
{
  size_t i = 0;
  while (i < nregions && regions[i].end <= r->start)
    i++;
  size_t j = i;
  while (j < nregions && regions[j].start < r->end)
    j++;
  if (i == j) {
    grow_one();
    memmove(&regions[i + 1], &regions[i], (nregions - 1 - i) * sizeof *regions);
  } else {
    memmove(&regions[i + 1], &regions[j], (nregions - j) * sizeof *regions);
    nregions -= j - i - 1;
  }
  regions[i] = *r;
}

static bool is_stale(uintptr_t addr)
{
  for (unsigned i = 0; i < nstale; i++)
    if (addr >= stale[i].lo && addr < stale[i].hi)
      return true;
  return false;
}

/* [lo, hi) is known again: off the stale list (where a range would split
 * and the list is full, it stays stale). */
static void known_again(uintptr_t lo, uintptr_t hi)
{
  for (unsigned i = 0; i < nstale;) {
    struct stale_range s = stale[i];
    if (hi <= s.lo || lo >= s.hi) {
      i++;
      continue;
    }
    bool left = s.lo < lo, right = s.hi > hi;
    if (left && right && nstale == MAX_STALE) {
      i++;
      continue;
    }
    stale[i] = stale[--nstale];
    if (left)
      stale[nstale++] = (struct stale_range){s.lo, lo};
    if (right)
      stale[nstale++] = (struct stale_range){hi, s.hi};
  }
}

bool hp_memmap_query(uintptr_t addr, struct hp_region *out)
{
  if (!dirty && !is_stale(addr) && find(addr, out))
    return true;
  hp_fs_host(); /* the kernel is asked: errno, malloc */
  if (!dirty) { /* one region from the kernel is cheaper than the whole map */
    int q = query_kernel(addr, out);
    if (q == 1) {
      remember(out);
      known_again(out->start, out->end);
    }
    if (q >= 0)
      return q == 1;
  }
  reload(); /* the whole map: at start, after a change of unknown extent, or a stack that grew */
  return find(addr, out);
}

void hp_memmap_invalidate(void)
{
  dirty = true;
  nstale = 0;
}

void hp_memmap_invalidate_range(uintptr_t lo, uintptr_t hi)
{
  if (dirty)
    return;
  if (nstale == MAX_STALE) {
    hp_memmap_invalidate();
    return;
  }
  lo &= ~(uintptr_t)0xfff;
  hi = (hi + 0xfff) & ~(uintptr_t)0xfff;
  /* A change inside a region splits it, shrinks it or moves its end (and
   * mprotect with PROT_GROWSDOWN reaches down to the start of its region):
   * what the table says of the whole of every region it touches is stale,
   * not only of the changed pages. */
  for (size_t i = 0; i < nregions && regions[i].start < hi; i++)
    if (regions[i].end > lo) {
      if (regions[i].start < lo)
        lo = regions[i].start;
      if (regions[i].end > hi)
        hi = regions[i].end;
    }
  stale[nstale++] = (struct stale_range){lo, hi};
}

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
