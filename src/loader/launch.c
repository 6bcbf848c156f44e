/* From a command line to a ready guest: PATH search, #! scripts, program and
 * interpreter mapping, brk reservation, stack and auxv. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "hotpath/loader.h"
#include "hotpath/log.h"
#include "hotpath/options.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

#define BRK_MAX (1ul << 40)

static bool fail(struct hp_error *err, int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  err->code = code;
  return false;
}

/* in with its control characters escaped (\r, \xNN), for messages: a CRLF
 * script's interpreter ends in \r. */
static void escape_controls(const char *in, char *out, size_t cap)
{
  size_t k = 0;
  for (const unsigned char *c = (const unsigned char *)in; *c && k + 5 < cap; c++) {
    if (*c == '\r')
      k += (size_t)snprintf(out + k, cap - k, "\\r");
    else if (*c < 0x20 || *c == 0x7f)
      k += (size_t)snprintf(out + k, cap - k, "\\x%02x", *c);
    else
      out[k++] = (char)*c;
  }
  out[k] = '\0';
}

/* Checks that path names an executable regular file, like execve would. */
static bool check_executable(const char *path, struct hp_error *err)
{
  struct stat st;
  if (stat(path, &st) != 0)
    return fail(err, errno == ENOENT || errno == ENOTDIR ? HP_STATUS_NOT_FOUND : HP_STATUS_CANNOT_EXEC,
                "%s: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode))
    return fail(err, HP_STATUS_CANNOT_EXEC, "%s: Is a directory", path);
  if (!S_ISREG(st.st_mode))
    return fail(err, HP_STATUS_CANNOT_EXEC, "%s: not a regular file", path);
  if (access(path, X_OK) != 0)
    return fail(err, HP_STATUS_CANNOT_EXEC, "%s: Permission denied", path);
  return true;
}

bool hp_find_program(const char *name, char *out, size_t outlen, struct hp_error *err)
{
  if (!*name)
    return fail(err, HP_STATUS_NOT_FOUND, "'': No such file or directory");
  if (strchr(name, '/')) {
    snprintf(out, outlen, "%s", name);
    return check_executable(out, err);
  }
  const char *path = getenv("PATH");
  if (!path)
    path = "/usr/local/bin:/bin:/usr/bin";
  bool saw_noexec = false;
  char cand[PATH_MAX];
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    if (len == 0)
      snprintf(cand, sizeof cand, "%s", name);
    else
      snprintf(cand, sizeof cand, "%.*s/%s", (int)len, p, name);
    struct stat st;
    if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(cand, X_OK) == 0) {
        snprintf(out, outlen, "%s", cand);
        return true;
      }
      saw_noexec = true;
    }
    if (!colon)
      break;
    p = colon + 1;
  }
  if (saw_noexec)
    return fail(err, HP_STATUS_CANNOT_EXEC, "%s: Permission denied", name);
  return fail(err, HP_STATUS_NOT_FOUND, "%s: command not found", name);
}

int hp_read_shebang(const char *path, char *interp, size_t ilen, char *arg, size_t alen, struct hp_error *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail(err, HP_STATUS_CANNOT_EXEC, "%s: %s", path, strerror(errno));
    return -1;
  }
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 2 || buf[0] != '#' || buf[1] != '!')
    return 0;
  buf[n] = '\0';
  char *nl = strchr(buf, '\n');
  if (nl)
    *nl = '\0';
  char *s = buf + 2;
  while (*s == ' ' || *s == '\t')
    s++;
  char *e = s;
  while (*e && *e != ' ' && *e != '\t')
    e++;
  if (e == s) {
    fail(err, HP_STATUS_CANNOT_EXEC, "%s: #! line names no interpreter", path);
    return -1;
  }
  snprintf(interp, ilen, "%.*s", (int)(e - s), s);
  while (*e == ' ' || *e == '\t')
    e++;
  /* Like Linux: the rest of the line, trailing blanks removed, is one argument. */
  size_t l = strlen(e);
  while (l && (e[l - 1] == ' ' || e[l - 1] == '\t' || e[l - 1] == '\r'))
    l--;
  snprintf(arg, alen, "%.*s", (int)l, e);
  return 1;
}

bool hp_file_privileged(const char *path, const struct stat *st)
{
  return (st->st_mode & (S_ISUID | S_ISGID)) || getxattr(path, "security.capability", NULL, 0) >= 0;
}

static uint64_t own_auxv(unsigned long type) { return getauxval(type); }

/* Copies auxv entries hotpath does not know about (e.g. AT_RSEQ_*) from its own. */
static size_t extra_auxv(struct hp_auxv *out, size_t max)
{
  static const uint64_t known[] = {AT_NULL, AT_IGNORE, AT_SYSINFO_EHDR, AT_MINSIGSTKSZ, AT_HWCAP,
                                   AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE,
                                   AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID,
                                   AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM};
  size_t n = 0;
  int fd = open("/proc/self/auxv", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  struct hp_auxv a;
  while (n < max && read(fd, &a, sizeof a) == (ssize_t)sizeof a && a.type != AT_NULL) {
    bool k = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
      k |= a.type == known[i];
    if (!k)
      out[n++] = a;
  }
  close(fd);
  return n;
}

static bool map_stack(struct hp_launch *L, bool exec, struct hp_error *err)
{
  struct rlimit rl;
  size_t size = 8ul << 20;
  if (getrlimit(RLIMIT_STACK, &rl) == 0) /* unlimited: as much as the cap */
    size = rl.rlim_cur == RLIM_INFINITY ? SIZE_MAX : rl.rlim_cur;
  if (size < (128ul << 10))
    size = 128ul << 10;
  if (size > (1ul << 30))
    size = 1ul << 30;
  size = HP_PAGE_UP(size);
  int prot = PROT_READ | PROT_WRITE | (exec ? PROT_EXEC : 0);
  /* Guard page + stack, reserved together so nothing lands in between.
   * The reservation counts against RLIMIT_AS (a native stack counts only
   * what it uses): under a tight one, smaller, down to 8 MiB. */
  char *r = mmap(NULL, size + HP_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  while (r == MAP_FAILED && errno == ENOMEM && size > (8ul << 20)) {
    size = HP_PAGE_UP(size / 2 > (8ul << 20) ? size / 2 : 8ul << 20);
    r = mmap(NULL, size + HP_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  }
  if (r == MAP_FAILED)
    return fail(err, HP_STATUS_CANNOT_EXEC, "cannot map a %zu-byte guest stack: %s", size, strerror(errno));
  if (mmap(r + HP_PAGE, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN | MAP_NORESERVE,
           -1, 0) == MAP_FAILED)
    return fail(err, HP_STATUS_CANNOT_EXEC, "cannot map guest stack: %s", strerror(errno));
  L->stack_lo = (uintptr_t)r + HP_PAGE;
  L->stack_hi = L->stack_lo + size;
  return true;
}

/* The program break starts right after the program's bss. Nothing is
 * reserved: like the kernel's, it grows while the address space after it is
 * free (the guest may map memory there itself). */
static void place_brk(struct hp_launch *L)
{
  L->brk_start = HP_PAGE_UP(L->prog.bss_end);
  L->brk_limit = L->brk_start + BRK_MAX;
}

bool hp_launch_prepare(int argc, char **argv, char **envp, struct hp_launch *L,
                       struct hp_error *err)
{
  memset(L, 0, sizeof *L);
  err->code = 0;
  char path[PATH_MAX];
  if (hp_opt.exec_file) { /* execve(FILE, argv): FILE as it is, argv[0] the caller's */
    if ((size_t)snprintf(path, sizeof path, "%s", hp_opt.exec_file) >= sizeof path)
      return fail(err, HP_STATUS_NOT_FOUND, "%s: File name too long", hp_opt.exec_file);
    if (!check_executable(path, err))
      return false;
  } else if (!hp_find_program(argv[0], path, sizeof path, err)) {
    return false;
  }

  /* #! scripts: the interpreter runs with [interp, arg?, script, args...]. */
  int gargc = argc;
  char **gargv = argv;
  char execfn[PATH_MAX];
  snprintf(execfn, sizeof execfn, "%s", path);
  for (int depth = 0;; depth++) {
    char interp[PATH_MAX], iarg[256];
    int s = hp_read_shebang(path, interp, sizeof interp, iarg, sizeof iarg, err);
    if (s < 0)
      return false;
    if (s == 0)
      break;
    if (depth >= HP_MAX_SCRIPT_DEPTH)
      return fail(err, HP_STATUS_CANNOT_EXEC, "%s: too many levels of #! interpreters", execfn);
    char **nargv = calloc((size_t)gargc + 3, sizeof *nargv);
    int k = 0;
    nargv[k++] = strdup(interp);
    if (iarg[0])
      nargv[k++] = strdup(iarg);
    nargv[k++] = strdup(path);
    for (int i = 1; i < gargc; i++)
      nargv[k++] = gargv[i];
    gargc = k;
    gargv = nargv;
    struct stat st;
    if (stat(interp, &st) != 0) {
      char shown[PATH_MAX * 4];
      escape_controls(interp, shown, sizeof shown);
      return fail(err, HP_STATUS_NOT_FOUND, "%s: bad interpreter %s: %s", path, shown, strerror(errno));
    }
    if (!check_executable(interp, err))
      return false;
    snprintf(path, sizeof path, "%s", interp);
  }

  if (!hp_image_load(path, false, &L->prog, err))
    return false;
  if (!realpath(path, L->exe_path))
    snprintf(L->exe_path, sizeof L->exe_path, "%s", path);
  if (L->prog.interp[0]) {
    L->has_interp = true;
    struct hp_error ierr = {0};
    if (!hp_image_load(L->prog.interp, true, &L->interp, &ierr)) {
      if (ierr.code == HP_STATUS_NOT_FOUND)
        return fail(err, HP_STATUS_NOT_FOUND, "%s: interpreter %s: No such file or directory", path,
                    L->prog.interp);
      return fail(err, ierr.code, "%s: interpreter %s", path, ierr.msg);
    }
  }
  L->entry_pc = L->has_interp ? L->interp.entry : L->prog.entry;
  /* --native, dynamically linked: nothing will intercept the program's
   * readlink("/proc/self/exe") (hotpath), from which ld.so would take
   * $ORIGIN. So ld.so runs as a program, as `ld.so --argv0 ARGV0 FILE`,
   * and maps FILE itself: $ORIGIN is FILE's real directory. */
  const struct hp_image *shown = &L->prog; /* the image the auxv describes */
  if (hp_opt.native && L->has_interp) {
    munmap((void *)L->prog.lo, L->prog.hi - L->prog.lo);
    char **nargv = calloc((size_t)gargc + 4, sizeof *nargv);
    int k = 0;
    nargv[k++] = L->prog.interp;
    nargv[k++] = "--argv0";
    nargv[k++] = gargv[0];
    nargv[k++] = L->exe_path;
    for (int i = 1; i < gargc; i++)
      nargv[k++] = gargv[i];
    gargc = k;
    gargv = nargv;
    shown = &L->interp;
  }
  place_brk(L);
  if (!map_stack(L, L->prog.exec_stack, err))
    return false;

  L->vdso = own_auxv(AT_SYSINFO_EHDR);
  struct hp_auxv aux[64];
  size_t n = 0;
#define AUX(t, v) aux[n++] = (struct hp_auxv){(t), (uint64_t)(v)}
  if (L->vdso)
    AUX(AT_SYSINFO_EHDR, L->vdso);
  if (own_auxv(AT_MINSIGSTKSZ))
    AUX(AT_MINSIGSTKSZ, own_auxv(AT_MINSIGSTKSZ));
  AUX(AT_HWCAP, own_auxv(AT_HWCAP));
  AUX(AT_PAGESZ, HP_PAGE);
  AUX(AT_CLKTCK, own_auxv(AT_CLKTCK));
  AUX(AT_PHDR, shown->phdr);
  AUX(AT_PHENT, shown->phent);
  AUX(AT_PHNUM, shown->phnum);
  AUX(AT_BASE, L->has_interp ? L->interp.bias : 0); /* ld.so as a program too: it takes no address from it */
  AUX(AT_FLAGS, 0);
  AUX(AT_ENTRY, shown->entry);
  AUX(AT_UID, getuid());
  AUX(AT_EUID, geteuid());
  AUX(AT_GID, getgid());
  AUX(AT_EGID, getegid());
  AUX(AT_SECURE, own_auxv(AT_SECURE));
  AUX(AT_RANDOM, 0);
  AUX(AT_HWCAP2, own_auxv(AT_HWCAP2));
  AUX(AT_EXECFN, 0);
  AUX(AT_PLATFORM, 0);
#undef AUX
  n += extra_auxv(aux + n, sizeof aux / sizeof aux[0] - n - 1);

  L->sp = hp_stack_build(L->stack_lo, L->stack_hi, gargc, gargv, envp, aux, n, execfn, &L->auxv);
  L->auxv_len = (n + 1) * 16;
  return true;
}

void hp_native_jump(uintptr_t pc, uintptr_t sp)
{
  fflush(NULL);
  register uintptr_t target __asm__("r15") = pc;
  __asm__ volatile("mov %0, %%rsp\n\t"
                   "xor %%eax, %%eax\n\t"
                   "xor %%ebx, %%ebx\n\t"
                   "xor %%ecx, %%ecx\n\t"
                   "xor %%edx, %%edx\n\t"
                   "xor %%esi, %%esi\n\t"
                   "xor %%edi, %%edi\n\t"
                   "xor %%ebp, %%ebp\n\t"
                   "xor %%r8d, %%r8d\n\t"
                   "xor %%r9d, %%r9d\n\t"
                   "xor %%r10d, %%r10d\n\t"
                   "xor %%r11d, %%r11d\n\t"
                   "xor %%r12d, %%r12d\n\t"
                   "xor %%r13d, %%r13d\n\t"
                   "xor %%r14d, %%r14d\n\t"
                   "jmp *%1\n\t"
                   :
                   : "r"(sp), "r"(target)
                   : "memory");
  __builtin_unreachable();
}
