/* Regression (issue 15, item 4): hotpath must not need a free descriptor in
 * the guest's table. With every descriptor in use it once took newly mapped
 * code for unmapped memory (it could not open /proc/self/maps) and
 * delivered SIGSEGV; fork failed with EAGAIN (a pipe to wait for the child's
 * copy of the cache); and a new cache unit (code out of reach of the others)
 * stopped with status 125 (a memfd per unit). The program lowers its own
 * descriptor limit, uses up every descriptor, then runs code it writes into
 * fresh mappings (each mmap invalidates hotpath's map), code far from
 * everything else, a thread and a forked child. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* mov eax, imm32; ret, written into a new mapping at hint (or anywhere). */
static int run_new_code(void *hint, int value)
{
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (hint ? MAP_FIXED_NOREPLACE : 0);
  unsigned char *p = mmap(hint, 4096, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED)
    return -1;
  unsigned char code[] = {0xb8, (unsigned char)value, 0, 0, 0, 0xc3};
  memcpy(p, code, sizeof code);
  if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
    return -2;
  return ((int (*)(void))p)();
}

static void *thread_main(void *arg)
{
  return (void *)(long)(run_new_code(NULL, 50) + (int)(long)arg);
}

int main(void)
{
  struct rlimit rl = {64, 64};
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 2;
  int opened = 0;
  while (open("/dev/null", O_RDONLY) >= 0)
    opened++;
  int e = errno;
  printf("descriptors used up: %s (%s)\n", opened > 0 ? "yes" : "no", strerror(e));
  int sum = 0;
  for (int k = 0; k < 4; k++)
    sum += run_new_code(NULL, 40 + k);
  printf("new code returned %d\n", sum);
  /* Terabytes away from the program, its libraries and the stack. */
  printf("far code returned %d\n", run_new_code((void *)0x300000000000ul, 77));
  pthread_t t;
  void *r = NULL;
  int err = pthread_create(&t, NULL, thread_main, (void *)1l);
  if (!err)
    pthread_join(t, &r);
  printf("thread: %s, returned %ld\n", strerror(err), (long)r);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0)
    _exit(run_new_code(NULL, 9));
  int st = 0;
  if (pid > 0)
    waitpid(pid, &st, 0);
  printf("fork: %s, child status %d\n", pid > 0 ? "ok" : strerror(errno), WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return sum == 40 + 41 + 42 + 43 ? 0 : 1;
}
