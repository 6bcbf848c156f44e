/* Regression (fork learning, src/runtime/clone.c): a parent built, before a
 * fork, the blocks its children had built, reading memory it never runs
 * itself. Children call a switch whose jump table is on the second page of
 * a file mapped at a fixed address; the parent has a one-page file mapped
 * there instead: the table page lies past its end, and looking for the
 * jump table raised SIGBUS inside hotpath. Learned blocks now read their
 * own bytes only (hp_build_block_guess), after a check that they can. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#define X ((uint8_t *)0x6e0000000000ul)
static int mkfile(size_t len, const uint8_t *img)
{
  char path[] = "/tmp/jtXXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  if (write(fd, img, len) != (ssize_t)len) exit(9);
  return fd;
}
int main(void)
{
  static uint8_t img[8192];
  /* lea rdx,[rip+disp]; movsxd rax,[rdx+rdi*4]; add rax,rdx; jmp rax */
  const uint8_t code[] = {0x48, 0x8d, 0x15, 0, 0, 0, 0, 0x48, 0x63, 0x04, 0xba, 0x48, 0x01, 0xd0, 0xff, 0xe0};
  memcpy(img, code, sizeof code);
  int32_t disp = 4096 - 7;
  memcpy(img + 3, &disp, 4);
  for (int k = 0; k < 8; k++) {
    uint8_t *c = img + 0x100 + 16 * k; /* mov eax, 10+k; ret */
    c[0] = 0xb8; c[1] = (uint8_t)(10 + k); c[5] = 0xc3;
    int32_t e = (0x100 + 16 * k) - 4096;
    memcpy(img + 4096 + 4 * k, &e, 4);
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  int fa = mkfile(8192, img), fb = mkfile(4096, img);
  if (mmap(X, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fb, 0) != X) return 8;
  for (int round = 0; round < 5; round++) {
    pid_t p = fork();
    if (p == 0) {
      if (mmap(X, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fa, 0) != X) _exit(100);
      _exit(((int (*)(long))X)(round % 8));
    }
    int st;
    waitpid(p, &st, 0);
    printf("round %d: child %d\n", round, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
  }
  return 0;
}
