/* --perf-map and --jitdump writers. A child of fork writes files of its
 * own (its pid); each file is opened on the first fragment. */
#include "hotpath/perfout.h"

#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hotpath/builder.h"
#include "hotpath/fragment.h"
#include "hotpath/log.h"
#include "hotpath/memmap.h"
#include "hotpath/options.h"
#include "hotpath/symbols.h"
#include "hotpath/thread.h"

/* "hp:trace:prog+0x11e9 main+0x60": kind, guest location, guest function. */
static void fragment_name(const struct hp_fragment *f, char *out, size_t len)
{
  char where[96], sym[160] = "";
  hp_memmap_where(f->guest_pc, where, sizeof where);
  if (hp_symbolize(f->guest_pc, sym + 1, sizeof sym - 1)) /* the guest function, when known */
    sym[0] = ' ';
  snprintf(out, len, "hp:%s:%s%s", f->kind == HP_FRAG_TRACE ? "trace" : f->trace_head ? "head" : "block", where,
           sym);
}

/* A file of this process's: reopened (O_TRUNC) in a child of fork. */
struct out_file {
  int fd;
  pid_t pid;
};

static bool open_own(struct out_file *o, const char *pattern)
{
  if (o->fd >= 0 && o->pid == getpid())
    return true;
  if (o->fd >= 0)
    close(o->fd);
  o->pid = getpid();
  char path[64];
  snprintf(path, sizeof path, pattern, (int)o->pid);
  o->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  return o->fd >= 0;
}

static void perf_map_add(const struct hp_fragment *f, const char *name)
{
  static struct out_file o = {-1, 0};
  if (!open_own(&o, "/tmp/perf-%d.map"))
    return;
  char line[320];
  int n = snprintf(line, sizeof line, "%lx %x %s\n", (unsigned long)f->code, f->size, name);
  if (n > 0)
    hp_write_all(o.fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* perf's jitdump format (tools/perf/Documentation/jitdump-specification.txt):
 * a header, then one JIT_CODE_LOAD record per fragment with its code. perf
 * finds the file through an executable mapping of it, which perf record
 * notes; timestamps are CLOCK_MONOTONIC (perf record -k 1). */
struct jd_header {
  uint32_t magic, version, total_size, elf_mach, pad1, pid;
  uint64_t timestamp, flags;
};
struct jd_code_load {
  uint32_t id, total_size;
  uint64_t timestamp;
  uint32_t pid, tid;
  uint64_t vma, code_addr, code_size, code_index;
};
#define JD_MAGIC 0x4A695444u
#define JD_CODE_LOAD 0

static void jitdump_add(const struct hp_fragment *f, const char *name)
{
  static struct out_file o = {-1, 0};
  static uint64_t index;
  if (o.fd < 0 || o.pid != getpid()) {
    if (!open_own(&o, "/tmp/jit-%d.dump"))
      return;
    struct jd_header h = {JD_MAGIC, 1, sizeof h, EM_X86_64, 0, (uint32_t)o.pid, hp_now_ns(), 0};
    if (!hp_write_all(o.fd, &h, sizeof h) ||
        mmap(NULL, sizeof h, PROT_READ | PROT_EXEC, MAP_PRIVATE, o.fd, 0) == MAP_FAILED) { /* perf's marker */
      close(o.fd);
      o.fd = -1;
      return;
    }
    index = 0;
  }
  size_t nlen = strlen(name) + 1;
  struct jd_code_load r = {JD_CODE_LOAD, (uint32_t)(sizeof r + nlen + f->size), hp_now_ns(),
                           (uint32_t)o.pid, (uint32_t)syscall(SYS_gettid), f->code, f->code, f->size, index++};
  if (hp_write_all(o.fd, &r, sizeof r) && hp_write_all(o.fd, name, nlen))
    hp_write_all(o.fd, (const void *)f->code, f->size);
}

void hp_perf_fragment(const struct hp_fragment *f)
{
  hp_fs_host();
  char name[320];
  fragment_name(f, name, sizeof name);
  if (hp_opt.perf_map)
    perf_map_add(f, name);
  if (hp_opt.jitdump)
    jitdump_add(f, name);
}
