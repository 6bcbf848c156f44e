/* Persistent profiles: a text file, one trace head per line,
 *   BUILD-ID OFFSET PATH
 * (build-id in hex, "-" for a file without one; offset in the file, hex;
 * the module's full path, last since it may hold spaces), after a first
 * line naming the format. */
#include "hotpath/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "hotpath/log.h"
#include "hotpath/memmap.h"
#include "hotpath/stats.h"
#include "hotpath/symbols.h"
#include "hotpath/thread.h"

#define HEADER "hotpath-profile 1\n"

struct entry {
  char bid[41];
  uint64_t off;
  char *path;
};

struct entries {
  struct entry *v;
  size_t n, cap;
};

static struct entries loaded; /* --profile-use */
static struct entries built;  /* heads traced in this run */
/* Modules of the loaded profile found changed (build-id), said once each. */
static char *changed[32];
static unsigned nchanged;

static bool same(const struct entry *a, const struct entry *b)
{
  return a->off == b->off && strcmp(a->bid, b->bid) == 0 && strcmp(a->path, b->path) == 0;
}

static bool contains(const struct entries *es, const struct entry *e)
{
  for (size_t i = 0; i < es->n; i++)
    if (same(&es->v[i], e))
      return true;
  return false;
}

static void add(struct entries *es, const struct entry *e)
{
  if (contains(es, e))
    return;
  if (es->n == es->cap) {
    size_t cap = es->cap ? es->cap * 2 : 64;
    struct entry *v = realloc(es->v, cap * sizeof *v);
    if (!v)
      return;
    es->v = v;
    es->cap = cap;
  }
  struct entry *d = &es->v[es->n];
  *d = *e;
  if ((d->path = strdup(e->path)))
    es->n++;
}

/* The module and file offset of guest pc; false for code in no file. */
static bool identify(uintptr_t pc, struct entry *e)
{
  struct hp_region r;
  const char *path, *bid, *debug;
  if (!hp_memmap_query(pc, &r) || !r.name[0] || !hp_module_ident(r.name, &path, &bid, &debug) || !path[0])
    return false;
  snprintf(e->bid, sizeof e->bid, "%s", bid ? bid : "-");
  e->off = pc - r.start + r.file_off;
  e->path = (char *)path;
  return true;
}

/* Parses text (NUL-terminated, modified) into es; lines that do not parse
 * (a file cut short) are skipped. */
static void parse(char *text, struct entries *es)
{
  if (strncmp(text, HEADER, strlen(HEADER)) != 0)
    return;
  for (char *line = text + strlen(HEADER), *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    if (!nl)
      break; /* the last line has no end: cut short */
    *nl = '\0';
    struct entry e;
    int pos = 0;
    if (sscanf(line, "%40s %" SCNx64 " %n", e.bid, &e.off, &pos) == 2 && pos && line[pos] == '/') {
      e.path = line + pos;
      add(es, &e);
    }
  }
}

static char *read_all(int fd)
{
  size_t n = 0, cap = 65536;
  char *buf = malloc(cap);
  for (ssize_t r; buf && (r = read(fd, buf + n, cap - n - 1)) != 0;) {
    if (r < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if ((n += (size_t)r) == cap - 1) {
      char *b = realloc(buf, cap *= 2);
      if (!b)
        break;
      buf = b;
    }
  }
  if (buf)
    buf[n] = '\0';
  return buf;
}

void hp_profile_load(const char *file)
{
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    HP_INFO("profile %s: %s: running without it", file, strerror(errno));
    return;
  }
  flock(fd, LOCK_SH); /* not while another process writes it */
  char *text = read_all(fd);
  close(fd);
  if (text)
    parse(text, &loaded);
  free(text);
  HP_INFO("profile %s: %zu trace heads", file, loaded.n);
}

bool hp_profile_wants(uintptr_t pc)
{
  struct entry e;
  if (!loaded.n)
    return false;
  hp_fs_host(); /* identify reads maps and ELF files */
  if (!identify(pc, &e))
    return false;
  bool module_known = false;
  for (size_t i = 0; i < loaded.n; i++) {
    const struct entry *l = &loaded.v[i];
    if (strcmp(l->path, e.path) != 0)
      continue;
    if (strcmp(l->bid, e.bid) == 0) {
      if (l->off == e.off)
        return true;
      module_known = true;
    }
  }
  if (module_known)
    return false;
  /* Entries for this path, none with its build-id: the file changed. */
  for (size_t i = 0; i < loaded.n; i++)
    if (strcmp(loaded.v[i].path, e.path) == 0) {
      for (unsigned k = 0; k < nchanged; k++)
        if (strcmp(changed[k], e.path) == 0)
          return false;
      if (nchanged < sizeof changed / sizeof changed[0])
        changed[nchanged++] = strdup(e.path);
      hp_log(HP_LOG_ERROR, "profile: %s changed since it was profiled (build-id): its entries are ignored", e.path);
      return false;
    }
  return false;
}

void hp_profile_note_trace(uintptr_t pc)
{
  struct entry e;
  if (identify(pc, &e))
    add(&built, &e);
}

bool hp_profile_save(const char *file)
{
  int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return false;
  flock(fd, LOCK_EX); /* processes of one tree may end at once */
  struct entries all = {0};
  char *text = read_all(fd);
  if (text)
    parse(text, &all);
  free(text);
  /* A module profiled again with another build-id: its old entries go. */
  size_t kept = 0;
  for (size_t i = 0; i < all.n; i++) {
    bool stale = false;
    for (size_t j = 0; j < built.n && !stale; j++)
      stale = strcmp(built.v[j].path, all.v[i].path) == 0 && strcmp(built.v[j].bid, all.v[i].bid) != 0;
    if (stale)
      free(all.v[i].path);
    else
      all.v[kept++] = all.v[i];
  }
  all.n = kept;
  for (size_t j = 0; j < built.n; j++)
    add(&all, &built.v[j]);
  bool ok = lseek(fd, 0, SEEK_SET) == 0 && ftruncate(fd, 0) == 0 && hp_write_all(fd, HEADER, strlen(HEADER));
  for (size_t i = 0; ok && i < all.n; i++) {
    char line[128];
    int n = snprintf(line, sizeof line, "%s %" PRIx64 " ", all.v[i].bid, all.v[i].off);
    ok = hp_write_all(fd, line, (size_t)n) && hp_write_all(fd, all.v[i].path, strlen(all.v[i].path)) &&
         hp_write_all(fd, "\n", 1);
  }
  int err = errno;
  close(fd);
  for (size_t i = 0; i < all.n; i++)
    free(all.v[i].path);
  free(all.v);
  hp_stats.profile_heads_saved = built.n;
  errno = err;
  return ok;
}
