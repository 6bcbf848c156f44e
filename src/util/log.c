#include "hotpath/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "hotpath/options.h"

static FILE *log_file;

void hp_log_open(void)
{
  if (hp_opt.log) {
    log_file = fopen(hp_opt.log, "we"); /* not inherited by programs the guest runs */
    if (!log_file)
      hp_fatal(HP_STATUS_USAGE, "--log=%s: %s", hp_opt.log, strerror(errno));
    setvbuf(log_file, NULL, _IOLBF, 0);
  }
}

FILE *hp_log_stream(void) { return log_file ? log_file : stderr; }

int hp_log_level(void) { return (int)hp_opt.log_level; }

void hp_log(int level, const char *fmt, ...)
{
  static const char *names[] = {"error", "info", "debug"};
  FILE *f = hp_log_stream();
  va_list ap;
  va_start(ap, fmt);
  fprintf(f, "hotpath[%s]: ", names[level < 0 ? 0 : level > 2 ? 2 : level]);
  vfprintf(f, fmt, ap);
  fputc('\n', f);
  va_end(ap);
}

void hp_fatal(int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("hotpath: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  if (log_file) {
    va_start(ap, fmt);
    fputs("hotpath: ", log_file);
    vfprintf(log_file, fmt, ap);
    fputc('\n', log_file);
    va_end(ap);
    fflush(log_file);
  }
  exit(code);
}

static void (*describe_location)(char *buf, size_t len);

void hp_log_set_location_hook(void (*fn)(char *buf, size_t len)) { describe_location = fn; }

void hp_assert_fail(const char *expr, const char *file, int line)
{
  char where[256] = "no guest location";
  if (describe_location)
    describe_location(where, sizeof where);
  fprintf(stderr, "hotpath: internal error: assertion '%s' failed at %s:%d (%s)\n", expr, file,
          line, where);
  abort();
}
