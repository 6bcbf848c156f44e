/* memmap_split: a JIT changes part of a code region (mprotect of one page
 * RW, munmap of one page, MAP_FIXED of data over one page, mremap of one
 * page away) and then runs code that ends at the edge of the changed part:
 * natively the fetch from the page that is no longer executable faults
 * (SIGSEGV at its first byte). Also: mprotect(PROT_GROWSDOWN | PROT_EXEC)
 * of one stack page makes the whole stack below it executable (glibc's
 * _dl_make_stack_executable), and a signal frame on an alternate stack
 * whose top page became read-only cannot be written (the process dies of
 * SIGSEGV).
 *
 * Guards against: the memory map cache marking only the changed range
 * stale, so the rest of the old region (its old end, its old protection)
 * was still believed: hotpath translated and ran the bytes past the edge
 * ("-> 7" where natively SIGSEGV), read an unmapped page while decoding
 * (internal error), refused code on the newly executable stack, and wrote
 * a signal frame into a read-only page (found in review). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define P 4096
static sigjmp_buf jb;
static volatile uintptr_t fault_addr, fault_rip;
static volatile int fault_sig;
static uint8_t *base;

static void on_fault(int s, siginfo_t *si, void *uc)
{
  fault_sig = s;
  fault_addr = (uintptr_t)si->si_addr;
  fault_rip = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
  siglongjmp(jb, 1);
}

static void call(const char *what, uint8_t *f)
{
  fault_sig = 0;
  if (!sigsetjmp(jb, 1)) {
    long r = ((long (*)(void))(uintptr_t)f)();
    printf("%-44s -> %ld\n", what, r);
  } else {
    printf("%-44s -> signal %d at %+ld, rip %+ld\n", what, fault_sig, (long)(fault_addr - (uintptr_t)base),
           (long)(fault_rip - (uintptr_t)base));
  }
}

/* mov eax, v; ret */
static void emit_ret(uint8_t *p, int v)
{
  p[0] = 0xb8;
  memcpy(p + 1, &v, 4);
  p[5] = 0xc3;
}

/* A region of n pages: page i returns i + 1 from its start, and its last
 * 4 bytes are nops running on into page i + 1. */
static uint8_t *code_region(uint8_t *at, int n)
{
  uint8_t *p = mmap(at, (size_t)n * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  for (int i = 0; i < n; i++) {
    emit_ret(p + i * P, i + 1);
    memset(p + (i + 1) * P - 4, 0x90, 4);
  }
  mprotect(p, (size_t)n * P, PROT_READ | PROT_EXEC);
  return p;
}

static void exec_stack(void)
{
  /* The stack page holding this frame; the code is in a buffer of the
   * frame, and the stack of the functions it calls is below. */
  uint8_t code[64];
  uintptr_t page = (uintptr_t)__builtin_frame_address(0) & ~(uintptr_t)(P - 1);
  emit_ret(code, 42);
  if (mprotect((void *)page, P, PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN) != 0) {
    printf("mprotect PROT_GROWSDOWN failed\n");
    return;
  }
  base = code;
  call("code on the stack made executable", code);
}

static void small_handler(int s) { (void)s; }

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  static char alt[65536];
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);

  /* Address space of our own, so that moving and fixed mappings hit nothing else. */
  uint8_t *area = mmap(NULL, 64 * P, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (area == MAP_FAILED)
    return 1;
  munmap(area, 64 * P);

  base = code_region(area, 4);
  call("page 0", base);
  call("page 2", base + 2 * P);
  mprotect(base + P, P, PROT_READ | PROT_WRITE);
  call("page 0 into page 1 made RW", base + P - 4);
  mprotect(base + P, P, PROT_READ | PROT_EXEC);
  call("page 0 into page 1 made RX again", base + P - 3);

  munmap(base + 2 * P, P);
  call("page 1 into page 2 unmapped", base + 2 * P - 4);
  call("page 3", base + 3 * P);

  base = code_region(area + 8 * P, 3);
  call("region 2: page 0", base);
  mmap(base + P, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  call("page 0 into page 1 mapped over (data)", base + P - 4);

  base = code_region(area + 16 * P, 3);
  call("region 3: page 2", base + 2 * P);
  mremap(base + P, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, area + 32 * P);
  call("page 0 into page 1 moved away", base + P - 4);
  call("page 1 where it moved to", area + 32 * P);

  exec_stack();

  /* A signal frame that does not fit: the top of the alternate stack became
   * read-only. */
  pid_t pid = fork();
  if (pid == 0) {
    uint8_t *st = mmap(NULL, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    st[0] = 1;
    raise(0); /* the table knows the region */
    mprotect(st + 3 * P, P, PROT_READ);
    stack_t s2 = {.ss_sp = st, .ss_size = 4 * P};
    sigaltstack(&s2, NULL);
    struct sigaction a2;
    memset(&a2, 0, sizeof a2);
    a2.sa_handler = small_handler;
    a2.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &a2, NULL);
    raise(SIGUSR1);
    printf("handler ran\n");
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  printf("frame on a read-only page: %s %d\n", WIFSIGNALED(status) ? "signal" : "exit",
         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  return 0;
}
