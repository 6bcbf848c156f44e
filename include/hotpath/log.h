/* Logging: errors always, info/debug by level, to stderr or the --log file.
 * hotpath never writes to the guest's stdout. */
#ifndef HOTPATH_LOG_H
#define HOTPATH_LOG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdnoreturn.h>

enum hp_log_level { HP_LOG_ERROR = 0, HP_LOG_INFO = 1, HP_LOG_DEBUG = 2 };

/* After options are parsed: the --log file, or a copy of stderr, at a
 * high close-on-exec descriptor (hp_fd_high), so that the guest's own
 * descriptors (its first open() gets 3) and its closing stderr leave
 * hotpath's output alone. */
void hp_log_open(void);
FILE *hp_log_stream(void);            /* where --stats and logs go */
/* Where errors go, for raw writes in signal handlers: the copy of stderr
 * while it is ours, else 2. */
int hp_log_fd(void);
/* False when the guest has closed that descriptor or put another file in
 * its place: hotpath then writes nothing there. */
bool hp_log_usable(void);
/* fd moved to a high close-on-exec number (>= 1000, or the top of a
 * smaller table; the old one closed); fd itself if there is no room. */
int hp_fd_high(int fd);
int hp_log_level(void);
/* Writes all of buf to fd (short writes and EINTR retried); false on error. */
bool hp_write_all(int fd, const void *buf, size_t n);
void hp_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "hotpath: <msg>" on stderr (and the log), then exit(code). */
noreturn void hp_fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define HP_INFO(...) do { if (hp_log_level() >= HP_LOG_INFO) hp_log(HP_LOG_INFO, __VA_ARGS__); } while (0)
#define HP_DEBUG(...) do { if (hp_log_level() >= HP_LOG_DEBUG) hp_log(HP_LOG_DEBUG, __VA_ARGS__); } while (0)

/* "hotpath: <msg>" on stderr (and the log), then abort(): an internal
 * check found hotpath's own state wrong (SIGABRT, a core dump if enabled). */
noreturn void hp_abort(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Who describes where the guest was for hp_assert_fail (the runtime sets
 * it: this module sits below it). */
void hp_log_set_location_hook(void (*fn)(char *buf, size_t len));

/* Internal invariant: prints where the guest was (pc, fragment, module) and aborts. */
noreturn void hp_assert_fail(const char *expr, const char *file, int line);
#define HP_ASSERT(e) do { if (!(e)) hp_assert_fail(#e, __FILE__, __LINE__); } while (0)

#endif
