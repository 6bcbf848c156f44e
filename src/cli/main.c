/* hotpath's core: options, the loader-variables re-exec, then load and run
 * (started by the static launcher, src/cli/launcher.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hotpath/compare.h"
#include "hotpath/dispatch.h"
#include "hotpath/envhide.h"
#include "hotpath/exec.h"
#include "hotpath/loader.h"
#include "hotpath/log.h"
#include "hotpath/options.h"
#include "hotpath/profile.h"
#include "hotpath/report.h"
#include "hotpath/report_view.h"

/* The `hotpath` launcher hid the program's loader variables before this
 * core's ld.so ran; run directly with some in its environment, the core
 * executes itself again with them hidden. */
static void reexec_without_loader_vars(char **argv, char **envp)
{
  size_t n = 0;
  for (size_t i = 0; envp[i]; i++)
    n += hp_env_is_loader_var(envp[i]);
  if (n == 0)
    return;
  char **env = hp_env_hide_loader_vars(envp);
  if (env)
    execve("/proc/self/exe", argv, env);
  fprintf(stderr, "hotpath: cannot re-execute itself without the loader variables: %s\n", strerror(errno));
  exit(HP_STATUS_CANNOT_EXEC);
}

/* hotpath's glibc registered rseq for this thread; the guest's glibc will
 * want its own (natively) or get ENOSYS (translated). */
static void unregister_rseq(void)
{
  if (__rseq_size == 0)
    return;
  void *area = (char *)__builtin_thread_pointer() + __rseq_offset;
  syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
}

/* A setuid or setgid program (or one with file capabilities) gets its
 * privileges only from the kernel's execve: run it natively, as the user
 * would want, rather than unprivileged under hotpath. */
static void run_privileged_natively(char **gargv, char **genv)
{
  char path[PATH_MAX];
  struct hp_error err;
  struct stat st;
  if (hp_opt.exec_file || !hp_find_program(gargv[0], path, sizeof path, &err) || stat(path, &st) != 0 ||
      !hp_file_privileged(path, &st))
    return;
  HP_INFO("%s is setuid, setgid or has capabilities: running it natively, with its privileges", path);
  fflush(NULL);
  execve(path, gargv, genv);
  fprintf(stderr, "hotpath: %s: %s\n", path, strerror(errno));
  exit(HP_STATUS_CANNOT_EXEC);
}

int main(int argc, char **argv, char **envp)
{
  if (argc > 1 && strcmp(argv[1], "compare") == 0) {
    hp_env_restore_loader_vars(envp); /* environ: compare runs the program natively too */
    return hp_compare_main(argc - 1, argv + 1);
  }
  if (argc > 1 && strcmp(argv[1], "report") == 0)
    return hp_report_view_main(argc - 1, argv + 1);
  reexec_without_loader_vars(argv, envp);
  int pi = hp_options_parse(argc, argv);
  if (pi < 0)
    return HP_STATUS_USAGE;
  hp_log_open();
  hp_exec_init(argc, argv, pi);
  char **genv = hp_env_restore_loader_vars(envp);
  run_privileged_natively(argv + pi, genv);
  static struct hp_launch launch;
  struct hp_error err;
  if (!hp_launch_prepare(argc - pi, argv + pi, genv, &launch, &err)) {
    fprintf(stderr, "hotpath: %s\n", err.msg);
    return err.code;
  }
  if (hp_opt.report)
    hp_report_begin(argc - pi, argv + pi, launch.exe_path);
  if (hp_opt.profile_use)
    hp_profile_load(hp_opt.profile_use);
  HP_INFO("loaded %s: entry 0x%lx, sp 0x%lx, brk 0x%lx", launch.exe_path,
          (unsigned long)launch.entry_pc, (unsigned long)launch.sp, (unsigned long)launch.brk_start);
  unregister_rseq();
  if (hp_opt.native)
    hp_native_jump(launch.entry_pc, launch.sp);
  hp_run(&launch);
}
