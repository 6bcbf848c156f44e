/* exec_follow: programs executed by the guest (execve and its relatives)
 * run under hotpath too, and must behave as natively: the argv the caller
 * gives (argv[0] different from the path), the environment (an LD_*
 * variable included), /proc/self/exe, an ignored signal and the blocked
 * mask carried across, a relative path, execveat from a directory
 * descriptor, fexecve (with and without close-on-exec), a #! script, and
 * execve calls that fail (the caller goes on with the native errno:
 * ENOENT, EACCES for a file without x and for a directory, ENOEXEC for an
 * executable file of no known format, ENOENT for an empty path).
 *
 * Guards against: execve running the new program natively (nothing after
 * the first program was under hotpath), and the follow path changing what
 * the new program sees or turning a failing execve into a dead process.
 * tests/cli checks that the child really runs under hotpath. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int child_main(int argc, char **argv)
{
  printf("  child: argc=%d argv0=%s", argc, argv[0]);
  for (int i = 2; i < argc; i++)
    printf(" [%s]", argv[i]);
  const char *ld = getenv("LD_HOTPATH_TEST");
  const char *other = getenv("EXEC_FOLLOW_VAR");
  printf(" LD_HOTPATH_TEST=%s EXEC_FOLLOW_VAR=%s\n", ld ? ld : "(unset)", other ? other : "(unset)");
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  const char *base = strrchr(exe, '/');
  /* a memfd copy's is memfd:copy (deleted) */
  printf("  child: /proc/self/exe ends in %s\n", base ? base + 1 : exe);
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  printf("  child: SIGUSR1 %s, SIGUSR2 %s\n", sa.sa_handler == SIG_IGN ? "ignored" : "not ignored",
         sigismember(&cur, SIGUSR2) ? "blocked" : "not blocked");
  return 3;
}

/* Runs fn in a child process and reports how it ended. */
static void run(const char *what, void (*fn)(const char *), const char *self)
{
  printf("%s:\n", what);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    fn(self);
    printf("  returned: %s\n", strerror(errno));
    fflush(stdout);
    _exit(9);
  }
  int st;
  waitpid(p, &st, 0);
  printf("  status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static char *args[] = {"renamed-argv0", "--child", "one", "two words", NULL};

static void do_execve(const char *self) { execve(self, args, environ); }
static void do_proc_self(const char *self)
{
  (void)self;
  execv("/proc/self/exe", args);
}
static void do_relative(const char *self)
{
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", self);
  char *slash = strrchr(dir, '/');
  *slash = '\0';
  if (chdir(dir) != 0)
    return;
  char rel[PATH_MAX];
  snprintf(rel, sizeof rel, "./%s", slash + 1);
  execv(rel, args);
}
static void do_execveat_dir(const char *self)
{
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", self);
  char *slash = strrchr(dir, '/');
  *slash = '\0';
  int d = open(dir, O_RDONLY | O_DIRECTORY);
  syscall(SYS_execveat, d, slash + 1, args, environ, 0);
}
static void do_fexecve(const char *self)
{
  int fd = open(self, O_RDONLY);
  fexecve(fd, args, environ);
}
static void do_fexecve_cloexec(const char *self)
{
  int fd = open(self, O_RDONLY | O_CLOEXEC);
  fexecve(fd, args, environ);
}
static char script[64];
static void do_script(const char *self)
{
  (void)self;
  char *av[] = {script, "script-arg", NULL};
  execve(script, av, environ);
}
static void do_missing(const char *self)
{
  (void)self;
  execve("/nonexistent/exec_follow", args, environ);
}
static char noexec[64], garbage[64];
static void do_noexec(const char *self)
{
  (void)self;
  execve(noexec, args, environ);
}
static void do_garbage(const char *self)
{
  (void)self;
  execve(garbage, args, environ);
}
static void do_dir(const char *self)
{
  (void)self;
  execve("/tmp", args, environ);
}
static void do_empty(const char *self)
{
  (void)self;
  execve("", args, environ);
}
#ifndef AT_EXECVE_CHECK
#define AT_EXECVE_CHECK 0x10000
#endif
/* only checks (kernels from 6.14; EINVAL before): the caller goes on */
static void do_check_only(const char *self)
{
  long r = syscall(SYS_execveat, AT_FDCWD, self, args, environ, AT_EXECVE_CHECK);
  printf("  check only: %s\n", r == 0 ? "accepted" : r == -1 && errno == EINVAL ? "EINVAL" : "other");
  errno = 0;
}
static void do_bad_flags(const char *self) { syscall(SYS_execveat, AT_FDCWD, self, args, environ, 0x8000); }
/* a close-on-exec memfd copy of the program, run by its /proc/self/fd name */
static void do_memfd(const char *self)
{
  int in = open(self, O_RDONLY), fd = memfd_create("copy", MFD_CLOEXEC);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(fd, buf, (size_t)n) != n)
      return;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  execve(path, args, environ);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
    exit(1);
  close(fd);
  chmod(path, mode);
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 1 && strcmp(argv[1], "--child") == 0)
    return child_main(argc, argv);
  char self[PATH_MAX];
  if (!realpath("/proc/self/exe", self))
    return 1;
  setenv("LD_HOTPATH_TEST", "carried", 1);
  setenv("EXEC_FOLLOW_VAR", "plain", 1);
  signal(SIGUSR1, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &set, NULL);
  snprintf(script, sizeof script, "/tmp/exec_follow_%d.sh", (int)getpid());
  snprintf(noexec, sizeof noexec, "/tmp/exec_follow_%d.noexec", (int)getpid());
  snprintf(garbage, sizeof garbage, "/tmp/exec_follow_%d.garbage", (int)getpid());
  write_file(script, "#!/bin/sh\necho \"  script: $1\"\nexit 4\n", 0755);
  write_file(noexec, "#!/bin/sh\necho never\n", 0644);
  write_file(garbage, "this is no program\n", 0755);
  run("execve", do_execve, self);
  run("execv /proc/self/exe", do_proc_self, self);
  run("execv relative path", do_relative, self);
  run("execveat from a directory", do_execveat_dir, self);
  run("fexecve", do_fexecve, self);
  run("fexecve close-on-exec", do_fexecve_cloexec, self);
  run("#! script", do_script, self);
  run("missing file", do_missing, self);
  run("file without x", do_noexec, self);
  run("not a program", do_garbage, self);
  run("directory", do_dir, self);
  run("empty path", do_empty, self);
  run("execveat check only", do_check_only, self);
  run("execveat bad flags", do_bad_flags, self);
  run("memfd by /proc/self/fd", do_memfd, self);
  unlink(script);
  unlink(noexec);
  unlink(garbage);
  return 0;
}
