/* altstack_args: sigaltstack's argument checks, as the kernel makes them:
 * SS_DISABLE|SS_ONSTACK and unknown flags are EINVAL, a stack below
 * MINSIGSTKSZ is ENOMEM, SS_DISABLE with any size succeeds, and a failing
 * call leaves the old-stack result untouched and the stack unchanged.
 *
 * Guards against: hotpath taking SS_DISABLE|SS_ONSTACK as SS_DISABLE
 * (success), and writing the old stack before checking the new one. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static char buf[65536];

static void try(const char *what, int flags, size_t size)
{
  stack_t ss = {.ss_sp = buf, .ss_size = size, .ss_flags = flags};
  stack_t old;
  memset(&old, 0x5a, sizeof old);
  int r = sigaltstack(&ss, &old);
  printf("%s: %d %s, old %s\n", what, r, r ? strerror(errno) : "ok",
         old.ss_flags == 0x5a5a5a5a ? "untouched" : old.ss_flags == SS_DISABLE ? "disabled" : "set");
}

int main(void)
{
  try("disable|onstack", SS_DISABLE | SS_ONSTACK, sizeof buf);
  try("unknown flags", 0x100, sizeof buf);
  try("too small", 0, 100);
  try("set", 0, sizeof buf);
  try("too small again", 0, 100);
  try("onstack mode", SS_ONSTACK, sizeof buf);
  try("disable, size 0", SS_DISABLE, 0);
  stack_t now;
  sigaltstack(NULL, &now);
  printf("now: %s\n", now.ss_flags == SS_DISABLE ? "disabled" : "set");
  /* a bad pointer for the old stack: EFAULT, but the new one is set */
  stack_t ss = {.ss_sp = buf, .ss_size = sizeof buf, .ss_flags = 0};
  int r = sigaltstack(&ss, (stack_t *)8);
  sigaltstack(NULL, &now);
  printf("bad old pointer: %d %s, now %s\n", r, r ? strerror(errno) : "ok", now.ss_flags == SS_DISABLE ? "disabled" : "set");
  return 0;
}
