/* A jump table whose address the dispatch loads from one mapping while the
 * table lies in another, far away (as an -fPIC program's tail call through
 * a const table of a shared library: `mov rax, [rip+tab@GOT]; jmp [rax +
 * idx*8]`). The memory the evaluation read is one guest range of the
 * fragment; spanning both mappings it covered terabytes, indexed page by
 * page: hotpath hung at every --opt level. Tables whose reads span more
 * than 64 KiB are left to the lookup. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

__asm__(".text\n"
        ".globl hp_jfm\nhp_jfm:\n"
        "    mov hp_jfm_ptr(%rip), %rdx\n"
        "    jmp *(%rdx,%rdi,8)\n"
        ".globl hp_jfm_c0\nhp_jfm_c0:\n mov $100, %eax\n ret\n"
        ".globl hp_jfm_c1\nhp_jfm_c1:\n mov $200, %eax\n ret\n");
int64_t hp_jfm(int64_t i);
extern char hp_jfm_c0[], hp_jfm_c1[];
__attribute__((aligned(4096))) uint64_t hp_jfm_ptr[512];

int main(void)
{
  uint64_t *t = mmap((void *)0x600000000000ull, 4096, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (t == MAP_FAILED) /* (taken: anywhere else is as far from the program) */
    t = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (t == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  t[0] = (uint64_t)hp_jfm_c0;
  t[1] = (uint64_t)hp_jfm_c1;
  if (mprotect(t, 4096, PROT_READ) != 0)
    return 1;
  hp_jfm_ptr[0] = (uint64_t)t;
  if (mprotect(hp_jfm_ptr, 4096, PROT_READ) != 0)
    return 1;
  int64_t sum = 0;
  for (int k = 0; k < 20000; k++)
    sum += hp_jfm(k & 1);
  printf("far table: %lld\n", (long long)sum);
  return 0;
}
