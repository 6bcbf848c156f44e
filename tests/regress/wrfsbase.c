/* wrfsbase: an FS base set by the guest with wrfsbase survives a trip through
 * hotpath (a system call leaves and re-enters the code cache), and %fs-relative
 * loads use it.  Without FSGSBASE (AT_HWCAP2 bit 1 clear) the program only says
 * so: wrfsbase would raise SIGILL natively too.
 *
 * Guards against: hotpath restoring the guest FS base from its own copy (last
 * set by arch_prctl) when it switched back to guest code, losing a base the
 * guest had set directly with wrfsbase. */
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/syscall.h>

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

static unsigned long area[8] = {0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666, 0x7777, 0x8888};

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE)) {
    puts("no fsgsbase");
    return 0;
  }
  unsigned long old, after_syscall, after_loop, via_fs0, via_fs8;
  long pid;
  /* No C library call (nothing that uses TLS) while FS points at area[]. */
  __asm__ volatile("rdfsbase %[old]\n\t"
                   "wrfsbase %[nw]\n\t"
                   "mov $%c[nr], %%eax\n\t"
                   "syscall\n\t"
                   "mov %%rax, %[pid]\n\t"
                   "rdfsbase %[as]\n\t"
                   "mov $1000, %%ecx\n"
                   "1:\n\t"
                   "dec %%ecx\n\t"
                   "jnz 1b\n\t"
                   "rdfsbase %[al]\n\t"
                   "mov %%fs:0, %[f0]\n\t"
                   "mov %%fs:8, %[f8]\n\t"
                   "wrfsbase %[old]"
                   : [old] "=&r"(old), [as] "=&r"(after_syscall), [al] "=&r"(after_loop), [f0] "=&r"(via_fs0),
                     [f8] "=&r"(via_fs8), [pid] "=&r"(pid)
                   : [nw] "r"(area), [nr] "i"(SYS_getpid)
                   : "rax", "rcx", "r11", "memory");
  printf("getpid ok: %d\n", pid > 0);
  printf("fs base after a syscall: %s, after a loop: %s\n", after_syscall == (unsigned long)area ? "kept" : "LOST",
         after_loop == (unsigned long)area ? "kept" : "LOST");
  printf("%%fs:0 and %%fs:8 read the new area: %d\n", via_fs0 == area[0] && via_fs8 == area[1]);
  return 0;
}
