#include "hotpath/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotpath/options.h"
#include "hotpath/rawsys.h"
#include "hotpath/thread.h"

/* hotpath's own output sits at a high, close-on-exec descriptor, out of
 * the guest's way: the --log file, or a copy of the stderr it started with
 * (a program that closes stderr before exiting still gets --stats). */
struct own_out {
  FILE *f;
  int fd;
  dev_t dev;
  ino_t ino;
};
static struct own_out log_out = {NULL, -1, 0, 0}; /* --log FILE */
static struct own_out err_out = {NULL, -1, 0, 0}; /* the copy of stderr */

#define HIGH_FD_FLOOR 1000 /* or the top of a smaller table */

int hp_fd_high(int fd)
{
  struct rlimit rl;
  long top = HIGH_FD_FLOOR;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur <= (rlim_t)HIGH_FD_FLOOR + 16)
    top = (long)rl.rlim_cur - 1; /* a small table: its highest free numbers */
  /* The lowest free number >= f is f itself when f is free: from the top
   * down, the first free one (a few tries: hotpath keeps three). */
  for (long f = top; f > fd && f > top - 16; f--) {
    int high = fcntl(fd, F_DUPFD_CLOEXEC, (int)f);
    if (high == f) {
      close(fd);
      return high;
    }
    if (high >= 0)
      close(high);
  }
  return fd;
}

/* Keeps fd (moved high) as out; false if it cannot be used. */
static bool keep(struct own_out *out, int fd)
{
  fd = hp_fd_high(fd);
  struct stat st;
  FILE *f = fdopen(fd, "w");
  if (!f || fstat(fd, &st) != 0) {
    if (f)
      fclose(f);
    else
      close(fd);
    return false;
  }
  setvbuf(f, NULL, _IOLBF, 0);
  *out = (struct own_out){f, fd, st.st_dev, st.st_ino};
  return true;
}

/* Whether out is still the file it was (the guest may close its number or
 * put another file there). */
static bool usable(const struct own_out *out)
{
  struct stat st; /* a raw fstat: signal handlers ask too, maybe with the guest's TLS */
  return out->fd >= 0 && hp_raw_syscall(SYS_fstat, out->fd, (long)&st, 0, 0, 0, 0) == 0 && st.st_dev == out->dev &&
         st.st_ino == out->ino;
}

void hp_log_open(void)
{
  /* The copy of stderr only when hotpath will write there (statistics, a
   * log): every descriptor kept is one fewer for a program with a small
   * table. Errors go to fd 2 otherwise. */
  int fd = (hp_opt.stats || hp_opt.log_level > 0) && !hp_opt.log ? fcntl(2, F_DUPFD_CLOEXEC, 3) : -1;
  if (fd >= 0)
    keep(&err_out, fd);
  if (hp_opt.log) {
    /* Appending: forked children and programs hotpath follows into after
     * an execve (which open it again, without truncating) share it. */
    fd = open(hp_opt.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (hp_opt.exec_root_pid > 0 ? 0 : O_TRUNC), 0666);
    if (fd < 0 || !keep(&log_out, fd))
      hp_fatal(HP_STATUS_USAGE, "--log=%s: %s", hp_opt.log, strerror(errno));
  }
}

FILE *hp_log_stream(void) { return log_out.f ? log_out.f : err_out.f ? err_out.f : stderr; }

int hp_log_fd(void) { return usable(&err_out) ? err_out.fd : 2; }

bool hp_log_usable(void) { return log_out.f ? usable(&log_out) : err_out.f ? usable(&err_out) : true; }

/* Where error messages go: the copy of stderr while it is ours. */
static FILE *err_stream(void) { return err_out.f && usable(&err_out) ? err_out.f : stderr; }

int hp_log_level(void) { return (int)hp_opt.log_level; }

bool hp_write_all(int fd, const void *buf, size_t n)
{
  hp_fs_host();
  for (const char *p = buf; n;) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

void hp_log(int level, const char *fmt, ...)
{
  hp_fs_host();
  if (!hp_log_usable()) /* the guest closed it, or reused its number */
    return;
  static const char *names[] = {"error", "info", "debug"};
  FILE *f = hp_log_stream();
  va_list ap;
  va_start(ap, fmt);
  fprintf(f, "hotpath[%s]: ", names[level < 0 ? 0 : level > 2 ? 2 : level]);
  vfprintf(f, fmt, ap);
  fputc('\n', f);
  va_end(ap);
}

/* "hotpath: <msg>" on stderr and the log. */
static void report(const char *fmt, va_list ap)
{
  hp_fs_host();
  va_list ap2;
  va_copy(ap2, ap);
  FILE *err = err_stream();
  fputs("hotpath: ", err);
  vfprintf(err, fmt, ap);
  fputc('\n', err);
  fflush(err);
  if (log_out.f && usable(&log_out)) {
    fputs("hotpath: ", log_out.f);
    vfprintf(log_out.f, fmt, ap2);
    fputc('\n', log_out.f);
    fflush(log_out.f);
  }
  va_end(ap2);
}

void hp_fatal(int code, const char *fmt, ...)
{
  hp_fs_host();
  va_list ap;
  va_start(ap, fmt);
  report(fmt, ap);
  va_end(ap);
  exit(code);
}

void hp_abort(const char *fmt, ...)
{
  hp_fs_host();
  va_list ap;
  va_start(ap, fmt);
  report(fmt, ap);
  va_end(ap);
  abort();
}

static void (*describe_location)(char *buf, size_t len);

void hp_log_set_location_hook(void (*fn)(char *buf, size_t len)) { describe_location = fn; }

void hp_assert_fail(const char *expr, const char *file, int line)
{
  hp_fs_host();
  char where[256] = "no guest location";
  if (describe_location)
    describe_location(where, sizeof where);
  FILE *err = err_stream();
  fprintf(err, "hotpath: internal error: assertion '%s' failed at %s:%d (%s)\n", expr, file, line, where);
  fflush(err);
  abort();
}
