/* ac_flag: a program that sets EFLAGS.AC (alignment checking) and runs
 * code while it is set, as HotSpot's CPU probe does: a function in RWX
 * memory at an odd address sets AC and returns, another one (also odd,
 * also RWX) reads the flags and clears it; between them, with AC set, the
 * program makes a system call (getppid, aligned code only).
 *
 * Guards against: hotpath's own code faulting with SIGBUS (BUS_ADRALN)
 * where the program's does not: the check of writable code read the
 * guest's bytes as unaligned qwords, far-jump trampolines read their
 * target from an unaligned address, and hotpath's signal handler ran with
 * the guest's AC. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static const unsigned char set_ac[] = {0x9c, 0x81, 0x0c, 0x24, 0x00, 0x00, 0x04, 0x00, 0x9d, 0xc3};
/* pushf; pop rax; push rax; and dword [rsp], ~AC; popf; ret (rax: the flags) */
static const unsigned char clear_ac[] = {0x9c, 0x58, 0x50, 0x81, 0x24, 0x24, 0xff, 0xff, 0xfb, 0xff, 0x9d, 0xc3};
/* mov eax, SYS_getppid; syscall; ret */
static const unsigned char sys_getppid[] = {0xb8, SYS_getppid, 0, 0, 0, 0x0f, 0x05, 0xc3};

int main(void)
{
  unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 1;
  memcpy(p + 3, set_ac, sizeof set_ac);
  memcpy(p + 101, clear_ac, sizeof clear_ac);
  memcpy(p + 205, sys_getppid, sizeof sys_getppid);
  void (*s)(void) = (void (*)(void))(p + 3);
  long (*c)(void) = (long (*)(void))(p + 101);
  long (*g)(void) = (long (*)(void))(p + 205);
  long seen = 0, calls = 0;
  for (int i = 0; i < 2000; i++) {
    s();
    calls += g() > 0;
    seen += (c() >> 18) & 1;
  }
  printf("AC seen set %ld times, %ld system calls with AC set\n", seen, calls);
  return 0;
}
