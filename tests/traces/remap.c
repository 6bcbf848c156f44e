#define _GNU_SOURCE
/* Code changed by the system call that ends a trace recording, or by
 * another thread while a recording is under way. A hot loop calls generated
 * code (`mov eax, imm32; ret`) in a read+exec mapping of a memfd; right
 * after the call, a raw `syscall` inlined in the loop body (no libc wrapper,
 * whose entry could be a trace head) changes that code. A recording of the
 * loop's path (head -> the generated code -> the syscall) ends with the
 * syscall and the trace is built after it ran: the trace must not keep
 * the code that was there before. Each iteration checks what the code at
 * that address must give now.
 *  1. mmap(MAP_FIXED) of another page of the memfd over the code;
 *  2. mprotect PROT_NONE after even iterations (the next call must fault:
 *     the SIGSEGV handler returns for the code with eax = 0xdead), back to
 *     read+exec after odd ones;
 *  3. mprotect read+write+exec after even iterations, then the immediate
 *     rewritten by a plain store (the trace holds code that has become
 *     writable, without the check writable code gets);
 *  4. another thread maps the next page over the code while this one waits
 *     in a raw blocking read() right after calling it.
 * (Found with hotpath 77d4a6f: the trace is stitched from the instructions
 * decoded before the flush and published after it; parts 1, 4 fail in
 * every --opt=1 mode, 2 and 3 at -O2.) */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

/* Raw system calls, inlined: no libc wrapper (whose entry could be a trace
 * head) between the generated code and the syscall. */
static inline __attribute__((always_inline)) long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

/* A call to the code while it is PROT_NONE faults at its first byte: the
 * handler returns from it for the code, with eax = 0xdead. */
static uint8_t *code_page;
static void on_segv(int sig, siginfo_t *si, void *ucv)
{
  (void)sig;
  ucontext_t *uc = ucv;
  greg_t *g = uc->uc_mcontext.gregs;
  if ((uint8_t *)si->si_addr != code_page || (uint8_t *)g[REG_RIP] != code_page)
    _exit(3);
  g[REG_RIP] = (greg_t)*(uint64_t *)g[REG_RSP];
  g[REG_RSP] += 8;
  g[REG_RAX] = 0xdead;
}

/* Third part: another thread replaces the code while this one waits in a
 * blocking read (raw syscall) right after calling it; the recording of
 * this thread's path spans the other thread's mmap. */
static int fd_code, go_pipe[2];
static uint8_t *shared_page;
static volatile int want_remap = -1;

static void *remapper(void *arg)
{
  (void)arg;
  for (;;) {
    int k;
    while ((k = __atomic_load_n(&want_remap, __ATOMIC_ACQUIRE)) < 0)
      sched_yield();
    __atomic_store_n(&want_remap, -1, __ATOMIC_RELAXED);
    if (k == 1000) /* done */
      return NULL;
    if (mmap(shared_page, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd_code, (off_t)k * 4096) !=
        shared_page)
      _exit(2);
    char c = 1;
    if (write(go_pipe[1], &c, 1) != 1)
      _exit(2);
  }
}

int main(void)
{
  enum { K = 8, N = 400 };
  int fd = memfd_create("code", 0);
  if (fd < 0) {
    puts("no memfd");
    return 2;
  }
  for (int k = 0; k < K; k++) {
    uint8_t page[4096] = {0};
    uint32_t v = 1000 + (uint32_t)k;
    page[0] = 0xb8; /* mov eax, imm32 */
    memcpy(page + 1, &v, 4);
    page[5] = 0xc3; /* ret */
    if (write(fd, page, sizeof page) != (ssize_t)sizeof page)
      return 2;
  }
  uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED)
    return 2;
  uint32_t (*f)(void) = (uint32_t (*)(void))(uintptr_t)p;

  int stale = 0, first = -1;
  uint64_t sum = 0;
  for (int i = 0; i < N; i++) {
    uint32_t got = f(), want = 1000 + (uint32_t)(i % K);
    sum += got;
    if (got != want) {
      if (first < 0)
        first = i;
      stale++;
    }
    long r = sys6(9 /* mmap */, (long)p, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd,
                  (long)((i + 1) % K) * 4096);
    if (r != (long)p)
      return 2;
  }
  printf("mmap MAP_FIXED over the code: sum %llu, stale results %d", (unsigned long long)sum, stale);
  if (stale)
    printf(" (first at iteration %d)", first);
  printf("\n");

  /* mprotect ends the recording: PROT_NONE after even iterations (the
   * next call faults), read+exec again after odd ones. */
  code_page = p;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  int wrong = 0, faults = 0;
  first = -1;
  uint32_t v = 1000 + (uint32_t)(N % K);
  for (int i = 0; i < N; i++) {
    uint32_t got = f(), want = (i & 1) ? 0xdead : v;
    faults += got == 0xdead;
    if (got != want) {
      if (first < 0)
        first = i;
      wrong++;
    }
    sys6(10 /* mprotect */, (long)p, 4096, (i & 1) ? PROT_READ | PROT_EXEC : PROT_NONE, 0, 0, 0);
  }
  printf("mprotect PROT_NONE over the code: faults %d, wrong results %d", faults, wrong);
  if (wrong)
    printf(" (first at iteration %d)", first);
  printf("\n");
  /* mprotect to read+write+exec ends the recording (after even
   * iterations; read+exec again after odd ones), then the loop rewrites the
   * immediate with a plain store: code that is writable when the trace is
   * built must be checked like any writable code. */
  sys6(9 /* mmap */, (long)p, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0);
  int stale_rwx = 0;
  uint32_t cur = 1000;
  first = -1;
  for (int i = 0; i < N; i++) {
    uint32_t got = f();
    if (got != cur) {
      if (first < 0)
        first = i;
      stale_rwx++;
    }
    if (i & 1) {
      sys6(10 /* mprotect */, (long)p, 4096, PROT_READ | PROT_EXEC, 0, 0, 0);
    } else {
      sys6(10 /* mprotect */, (long)p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0);
      cur = 5000 + (uint32_t)i;
      memcpy(p + 1, &cur, 4);
    }
  }
  printf("mprotect read+write+exec, then rewritten: stale results %d", stale_rwx);
  if (stale_rwx)
    printf(" (first at iteration %d)", first);
  printf("\n");

  /* Another thread maps the next page while this one waits. */
  fd_code = fd;
  shared_page = p;
  sys6(9 /* mmap */, (long)p, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0);
  if (pipe(go_pipe))
    return 2;
  pthread_t th;
  pthread_create(&th, NULL, remapper, NULL);
  int stale_mt = 0;
  first = -1;
  for (int i = 0; i < N; i++) {
    uint32_t got = f(), want = 1000 + (uint32_t)(i % K);
    if (got != want) {
      if (first < 0)
        first = i;
      stale_mt++;
    }
    __atomic_store_n(&want_remap, (i + 1) % K, __ATOMIC_RELEASE);
    char c;
    if (sys6(0 /* read */, go_pipe[0], (long)&c, 1, 0, 0, 0) != 1)
      return 2;
  }
  __atomic_store_n(&want_remap, 1000, __ATOMIC_RELEASE);
  pthread_join(th, NULL);
  printf("mmap MAP_FIXED by another thread: stale results %d", stale_mt);
  if (stale_mt)
    printf(" (first at iteration %d)", first);
  printf("\n");
  int ok = !stale && !wrong && faults == N / 2 && !stale_rwx && !stale_mt;
  printf("%s\n", ok ? "ok" : "FAILED");
  return !ok;
}
