/* A guest whose FS base is 0 (the dynamic loader's first part, or a program
 * that sets it so): where the CPU has no FSGSBASE, hotpath runs it on a
 * "null FS" whose fs:0x28 only is readable, so that its exits need no FS
 * switch (thread.h, lazy FS). What the guest sees must not change: its FS
 * base reads 0 (arch_prctl), new code runs, and fs:0 faults as natively. */
#include <asm/prctl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long raw_arch_prctl(long code, unsigned long addr)
{
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_arch_prctl), "D"(code), "S"(addr) : "rcx", "r11", "memory");
  return r;
}

/* Forty functions, each new code for the translator (run with FS 0). */
#define F(n) __attribute__((noinline)) static uint64_t f##n(uint64_t x) { return x * (2 * n + 1) + n; }
#define F10(d) F(d##0) F(d##1) F(d##2) F(d##3) F(d##4) F(d##5) F(d##6) F(d##7) F(d##8) F(d##9)
F10(1) F10(2) F10(3) F10(4)
#define R(n) f##n,
#define R10(d) R(d##0) R(d##1) R(d##2) R(d##3) R(d##4) R(d##5) R(d##6) R(d##7) R(d##8) R(d##9)
static uint64_t (*const fns[])(uint64_t) = {R10(1) R10(2) R10(3) R10(4)};

int main(void)
{
  unsigned long saved = 0, seen = 1;
  raw_arch_prctl(ARCH_GET_FS, (unsigned long)&saved);
  raw_arch_prctl(ARCH_SET_FS, 0);
  uint64_t acc = 1;
  for (unsigned i = 0; i < sizeof fns / sizeof fns[0]; i++)
    acc = fns[i](acc) ^ (acc >> 7);
  raw_arch_prctl(ARCH_GET_FS, (unsigned long)&seen);
  raw_arch_prctl(ARCH_SET_FS, saved);
  printf("fs read back as 0: %s, acc %llu\n", seen == 0 ? "yes" : "no", (unsigned long long)acc);
  fflush(stdout);
  /* fs:0 with a base of 0: the child dies of SIGSEGV, as natively. */
  pid_t pid = fork();
  if (pid == 0) {
    raw_arch_prctl(ARCH_SET_FS, 0);
    unsigned long word;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(word));
    _exit((int)(word & 1) + 3);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  printf("fs:0 with FS 0: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "no fault");
  return 0;
}
