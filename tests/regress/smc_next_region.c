/* smc_next_region: read-only code at the end of a page whose next page is
 * RWX code: a store in the last instruction of the read-only page patches
 * the first instruction of the writable one, and later the program itself
 * rewrites the writable page. A block that starts in the read-only page
 * and runs on into the writable one must check those bytes.
 *
 * Guards against: the decision "writable code: check it" taken from the
 * block's first region only, so the block kept running the bytes it first
 * translated (found in review). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(void)
{
  unsigned char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 1;
  static const unsigned char store[] = {0xc6, 0x05, 0x01, 0, 0, 0, 42}; /* mov byte [rip+1], 42 */
  static const unsigned char ret1[] = {0xb8, 1, 0, 0, 0, 0xc3};          /* mov eax, 1; ret */
  static const unsigned char ret5[] = {0xb8, 5, 0, 0, 0, 0xc3};          /* mov eax, 5; ret */
  memcpy(p + 4096 - sizeof store, store, sizeof store);
  if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) /* the store's page: read-only code */
    return 1;
  int (*f)(void) = (int (*)(void))(p + 4096 - sizeof store);
  long patched = 0, rewritten = 0;
  for (int i = 0; i < 100; i++) {
    memcpy(p + 4096, ret1, sizeof ret1);
    patched += f();
  }
  memcpy(p + 4096, ret5, sizeof ret5); /* rewritten (its immediate patched again by the store) */
  for (int i = 0; i < 10; i++)
    rewritten += f();
  printf("patched by the store: %ld\nafter the rewrite: %ld\n", patched, rewritten);
  return 0;
}
