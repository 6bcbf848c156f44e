/* execve under hotpath (see exec.h). */
#include "hotpath/exec.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotpath/clone.h"
#include "hotpath/envhide.h"
#include "hotpath/loader.h"
#include "hotpath/log.h"
#include "hotpath/options.h"
#include "hotpath/rawsys.h"
#include "hotpath/signal.h"
#include "hotpath/thread.h"

#define MAX_ARGS_BYTES (2u << 20)        /* beyond: the kernel's E2BIG decides */

static char self_exe[PATH_MAX];
static char **own_opts;
static int nown_opts;

/* An option as the followed hotpath gets it: --log, --report and profile files by
 * absolute path (the program may change directory before its execve). */
static void keep_option(const char *a)
{
  static const char *const files[] = {"--log=", "--report=", "--profile-save=", "--profile-use="};
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
    size_t n = strlen(files[k]);
    char cwd[PATH_MAX];
    if (strncmp(a, files[k], n) == 0 && a[n] && a[n] != '/' && getcwd(cwd, sizeof cwd)) {
      size_t len = n + strlen(cwd) + 1 + strlen(a + n) + 1;
      char *abs = malloc(len);
      if (abs) {
        snprintf(abs, len, "%s%s/%s", files[k], cwd, a + n);
        a = abs;
      }
    }
  }
  own_opts[nown_opts++] = (char *)a;
}

void hp_exec_init(int argc, char **argv, int pi)
{
  ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
  self_exe[n > 0 ? n : 0] = '\0';
  /* The options in effect: HOTPATH_OPTIONS (unless this hotpath was itself
   * started by a followed execve, whose environment is the program's),
   * then the command line's. */
  const char *env = hp_opt.exec_root_pid > 0 ? NULL : getenv("HOTPATH_OPTIONS");
  char *copy = env ? strdup(env) : NULL;
  size_t nenv = 0;
  for (const char *c = copy; c && *c; c++)
    nenv += *c == ' ' || *c == '\t' || *c == '\n';
  own_opts = calloc((size_t)(pi > 0 ? pi : 1) + nenv + 1, sizeof *own_opts);
  if (!own_opts)
    return;
  for (char *save = NULL, *tok = copy ? strtok_r(copy, " \t\n", &save) : NULL; tok;
       tok = strtok_r(NULL, " \t\n", &save))
    keep_option(tok);
  for (int i = 1; i < pi && i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0 || strncmp(a, "--exec-file=", 12) == 0 || strncmp(a, "--exec-root-pid=", 16) == 0)
      continue; /* set afresh for each execve */
    keep_option(a);
  }
}

/* A guest string, copied (NULL: a bad pointer or longer than max). */
static char *guest_string(const char *g, size_t max, size_t *len)
{
  size_t cap = 256, n = 0;
  char *s = malloc(cap);
  while (s) {
    size_t chunk = 4096 - (((uintptr_t)g + n) & 4095);
    if (n + chunk + 1 > cap) {
      while (n + chunk + 1 > cap)
        cap *= 2;
      char *t = realloc(s, cap);
      if (!t)
        break;
      s = t;
    }
    if (!hp_guest_read(s + n, g + n, chunk))
      break;
    char *z = memchr(s + n, 0, chunk);
    if (z) {
      *len = (size_t)(z - s);
      return s;
    }
    n += chunk;
    if (n > max)
      break;
  }
  free(s);
  return NULL;
}

/* A guest NULL-terminated vector of strings, copied; *bytes grows by their
 * sizes. NULL: a bad pointer, or too big. */
static char **guest_vector(char *const *g, size_t *count, size_t *bytes)
{
  size_t cap = 16, n = 0;
  char **v = malloc(cap * sizeof *v);
  while (v && g) {
    char *p;
    if (!hp_guest_read(&p, &g[n], sizeof p))
      return NULL;
    if (n + 2 > cap) {
      char **t = realloc(v, (cap *= 2) * sizeof *v);
      if (!t)
        return NULL;
      v = t;
    }
    if (!p)
      break;
    size_t len;
    if (*bytes > MAX_ARGS_BYTES || !(v[n] = guest_string(p, MAX_ARGS_BYTES, &len)))
      return NULL;
    *bytes += len + 1 + sizeof p;
    n++;
  }
  if (v)
    v[n] = NULL;
  *count = n;
  return v;
}

/* Whether hotpath can run file as the kernel would run it: an x86-64 ELF
 * whose interpreter exists, or a #! script whose interpreter hotpath can
 * run; executable (for the effective ids, as execve checks), regular, and
 * with no privileges of its own (setuid, setgid or file capabilities: those
 * run natively, with them). */
static bool runs_under_hotpath(const char *file, int depth)
{
  struct stat st;
  if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) || faccessat(AT_FDCWD, file, X_OK, AT_EACCESS) != 0 ||
      hp_file_privileged(file, &st))
    return false;
  char interp[PATH_MAX], iarg[256];
  struct hp_error err;
  int script = hp_read_shebang(file, interp, sizeof interp, iarg, sizeof iarg, &err);
  if (script) /* #!interpreter [arg]: the interpreter must run too (-1: it cannot be read) */
    return script > 0 && depth < HP_MAX_SCRIPT_DEPTH && runs_under_hotpath(interp, depth + 1);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  unsigned char buf[256];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  bool ok = false;
  if ((size_t)n >= sizeof(Elf64_Ehdr) && memcmp(buf, ELFMAG, SELFMAG) == 0) {
    Elf64_Ehdr eh;
    memcpy(&eh, buf, sizeof eh);
    ok = eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_ident[EI_DATA] == ELFDATA2LSB && eh.e_machine == EM_X86_64 &&
         (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256;
    for (unsigned k = 0; ok && k < eh.e_phnum; k++) {
      Elf64_Phdr ph;
      if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + k * sizeof ph)) != (ssize_t)sizeof ph) {
        ok = false;
      } else if (ph.p_type == PT_INTERP) {
        char interp[PATH_MAX];
        if (ph.p_filesz == 0 || ph.p_filesz >= sizeof interp ||
            pread(fd, interp, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz) {
          ok = false;
        } else {
          interp[ph.p_filesz] = '\0';
          ok = faccessat(AT_FDCWD, interp, R_OK, AT_EACCESS) == 0;
        }
      }
    }
  }
  close(fd);
  return ok;
}

/* The file an execve or execveat names, when hotpath can follow it
 * (false: the kernel runs it). Files named through a descriptor (execveat
 * from a directory descriptor, fexecve, /proc/self/fd/N, /dev/fd/N) are
 * not followed: the kernel names them /dev/fd/N (AT_EXECFN, a script's
 * argument) and a close-on-exec descriptor is gone by the time a followed
 * hotpath would open it. */
static bool exec_file(int dirfd, const char *path, int flags, int at, char *out, size_t cap)
{
  if (at && (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))) /* AT_EXECVE_CHECK, bad flags */
    return false;
  if (!path[0] || (at && path[0] != '/' && dirfd != AT_FDCWD))
    return false;
  if (strncmp(path, "/proc/", 6) == 0 || strncmp(path, "/dev/fd/", 8) == 0)
    return false;
  if ((size_t)snprintf(out, cap, "%s", path) >= cap)
    return false;
  struct stat st;
  if ((flags & AT_SYMLINK_NOFOLLOW) && (lstat(out, &st) != 0 || S_ISLNK(st.st_mode)))
    return false;
  return true;
}

static void free_vector(char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

long hp_exec(int dirfd, const char *path, char *const *argv, char *const *envp, int flags, int at)
{
  fflush(NULL);
  char file[PATH_MAX];
  size_t plen, nargs = 0, nenv = 0, bytes = 0;
  char *gpath = NULL;
  char **gargv = NULL, **genv = NULL;
  if (!hp_opt.no_follow_exec && !hp_opt.native && self_exe[0] && (gpath = guest_string(path, PATH_MAX, &plen)) &&
      (gargv = guest_vector(argv, &nargs, &bytes)) && nargs > 0 && (genv = guest_vector(envp, &nenv, &bytes)) &&
      exec_file(dirfd, gpath, flags, at, file, sizeof file) &&
      runs_under_hotpath(file, 0)) {
    /* hotpath [its options] --exec-root-pid=P --exec-file=FILE -- ARGV... */
    size_t k = 0;
    char **nargv = calloc((size_t)nown_opts + nargs + 6, sizeof *nargv);
    char root[48], ssflags[48], fileopt[PATH_MAX + 16];
    snprintf(root, sizeof root, "--exec-root-pid=%d", (int)hp_process_root_pid());
    snprintf(fileopt, sizeof fileopt, "--exec-file=%s", file);
    /* execve keeps the sigaltstack flags; the new hotpath cannot see
     * all of them in the kernel. */
    struct hp_thread *t = hp_thread_current();
    snprintf(ssflags, sizeof ssflags, "--exec-ss-flags=%u", (unsigned)t->guest_ss_flags);
    if (nargv) {
      nargv[k++] = self_exe;
      for (int i = 0; i < nown_opts; i++)
        nargv[k++] = own_opts[i];
      nargv[k++] = root;
      if (t->guest_ss_flags)
        nargv[k++] = ssflags;
      nargv[k++] = fileopt;
      nargv[k++] = "--";
      for (size_t i = 0; i < nargs; i++)
        nargv[k++] = gargv[i];
      nargv[k] = NULL;
    }
    char **henv = hp_env_hide_loader_vars(genv); /* hotpath's ld.so must not see them */
    if (nargv && henv) {
      HP_INFO("execve %s: followed under hotpath", file);
      hp_raw_syscall(SYS_execve, (long)self_exe, (long)nargv, (long)henv, 0, 0, 0);
      /* hotpath could not execute itself (E2BIG with its options...): the
       * kernel runs the guest's execve as it asked. */
    }
    hp_env_hidden_free(henv, genv);
    free(nargv);
  }
  free(gpath);
  free_vector(gargv);
  free_vector(genv);
  stack_t host;
  hp_signal_exec_altstack(hp_thread_current(), &host, false);
  long r = at ? hp_raw_syscall(SYS_execveat, dirfd, (long)path, (long)argv, (long)envp, flags, 0)
              : hp_raw_syscall(SYS_execve, (long)path, (long)argv, (long)envp, 0, 0, 0);
  hp_signal_exec_altstack(hp_thread_current(), &host, true);
  return r;
}
