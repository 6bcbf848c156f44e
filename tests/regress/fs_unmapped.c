/* Guards the lazy-FS fault path (thread.h): hotpath's C code runs on the
 * guest's FS after most exits from the code cache, and code built with a
 * stack protector (the Debian Zydis that decodes guest code) reads fs:0x28.
 * Here the guest points FS at an unmapped address (it may: it uses no TLS
 * meanwhile) and runs code nobody has translated yet; hotpath must retry
 * such a read on its own FS instead of crashing, and the guest must still
 * run on its FS after: a page mapped there is what fs:0 reads. */
#include <asm/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static long raw_arch_prctl(long code, unsigned long addr)
{
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_arch_prctl), "D"(code), "S"(addr) : "rcx", "r11", "memory");
  return r;
}

/* mmap without glibc (whose errno lives in TLS): the page at addr. */
static long raw_map_page(void *addr)
{
  long r;
  register long flags __asm__("r10") = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
  register long fd __asm__("r8") = -1;
  register long off __asm__("r9") = 0;
  __asm__ volatile("syscall"
                   : "=a"(r)
                   : "0"((long)SYS_mmap), "D"(addr), "S"(4096L), "d"((long)(PROT_READ | PROT_WRITE)), "r"(flags),
                     "r"(fd), "r"(off)
                   : "rcx", "r11", "memory");
  return r;
}

/* Forty functions, each new code for the translator. */
#define F(n) __attribute__((noinline)) static uint64_t f##n(uint64_t x) { return x * (2 * n + 1) + n; }
#define F10(d) F(d##0) F(d##1) F(d##2) F(d##3) F(d##4) F(d##5) F(d##6) F(d##7) F(d##8) F(d##9)
F10(1) F10(2) F10(3) F10(4)
#define R(n) f##n,
#define R10(d) R(d##0) R(d##1) R(d##2) R(d##3) R(d##4) R(d##5) R(d##6) R(d##7) R(d##8) R(d##9)
static uint64_t (*const fns[])(uint64_t) = {R10(1) R10(2) R10(3) R10(4)};

int main(void)
{
  /* An address nothing is mapped at: a page mapped and unmapped again. */
  void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 1;
  munmap(p, 4096);
  unsigned long saved = 0, seen = 0;
  raw_arch_prctl(ARCH_GET_FS, (unsigned long)&saved);
  raw_arch_prctl(ARCH_SET_FS, (unsigned long)p);
  uint64_t acc = 1;
  for (unsigned i = 0; i < sizeof fns / sizeof fns[0]; i++)
    acc = fns[i](acc) ^ (acc >> 7);
  raw_arch_prctl(ARCH_GET_FS, (unsigned long)&seen);
  /* What FS really points at: a page there now, its first word read through fs. */
  unsigned long word = 0;
  long m = raw_map_page(p);
  if (m == (long)p) {
    *(volatile unsigned long *)p = 0x5eed;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(word));
  }
  raw_arch_prctl(ARCH_SET_FS, saved);
  printf("fs kept: %s, fs:0 %s, acc %llu\n", seen == (unsigned long)p ? "yes" : "no",
         m != (long)p ? "unmappable" : word == 0x5eed ? "reads the page" : "reads elsewhere", (unsigned long long)acc);
  return 0;
}
