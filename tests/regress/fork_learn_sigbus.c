/* Regression (fork learning, src/runtime/clone.c): a parent built, before a
 * fork, the blocks its children had built: children ran code on the second
 * page of a file mapping, the program then cut the file to one page and
 * forked again; reading that page (past the end of the file) raised SIGBUS
 * inside hotpath. A learned block is built only where its bytes can be
 * read (process_vm_readv). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
  char path[] = "/tmp/truncXXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  unsigned char page[8192] = {0};
  const unsigned char code[] = {0xb8, 7, 0, 0, 0, 0xc3}; /* mov eax, 7; ret */
  memcpy(page + 4096, code, sizeof code);
  if (write(fd, page, sizeof page) != sizeof page) return 1;
  unsigned char *m = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
  int st;
  for (int k = 1; k <= 2; k++) { /* two children: the parent learns what more than one ran */
    pid_t c = fork();
    if (c == 0)
      _exit(((int (*)(void))(m + 4096))());
    waitpid(c, &st, 0);
    printf("child %d ran the file's code: %d\n", k, WEXITSTATUS(st));
  }
  if (ftruncate(fd, 4096) != 0) /* the file is shorter now: page 2 is gone */
    return 1;
  pid_t p = fork();
  if (p == 0)
    _exit(0);
  waitpid(p, &st, 0);
  printf("child 3: exit %d\n", WEXITSTATUS(st));
  return 0;
}
