/* altstack_autodisarm: sigaltstack's SS_AUTODISARM and the frame's uc_stack,
 * as the kernel has them. An armed SS_AUTODISARM stack is reported with that
 * flag (never with SS_ONSTACK); delivering any signal disarms it (a query in
 * the handler says SS_DISABLE, a nested SA_ONSTACK signal stays on the
 * current stack, a new stack may be armed); rt_sigreturn re-arms it from
 * uc_stack, whatever the handler wrote there (errors ignored: EINVAL, EPERM
 * while the interrupted code runs on the stack); a handler left with
 * siglongjmp leaves it disarmed. uc_stack's flags are the ones last given to
 * sigaltstack (SS_ONSTACK included), not the mode a query reports.
 *
 * Guards against: hotpath accepting SS_AUTODISARM without applying it (the
 * stack stayed armed in the handler, the flag was not reported), writing the
 * query's mode into uc_stack, and rt_sigreturn ignoring uc_stack. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

#define ALTSZ 65536
static char alt[ALTSZ] __attribute__((aligned(16)));
static char alt2[ALTSZ] __attribute__((aligned(16)));
static sigjmp_buf env;
static uintptr_t outer_local;
static int edit; /* what the SIGUSR1 handler does to its uc_stack */

static const char *where(uintptr_t a)
{
  if (a >= (uintptr_t)alt && a < (uintptr_t)alt + ALTSZ)
    return "alt";
  if (a >= (uintptr_t)alt2 && a < (uintptr_t)alt2 + ALTSZ)
    return "alt2";
  return "main";
}

static void show(const char *what, const stack_t *s)
{
  const char *sp = s->ss_sp == alt ? "alt" : s->ss_sp == alt2 ? "alt2" : s->ss_sp ? "other" : "0";
  printf("%s: sp=%s size=%zu flags=%#x\n", what, sp, s->ss_size, (unsigned)s->ss_flags);
}

static void query(const char *what)
{
  stack_t s;
  memset(&s, 0x5a, sizeof s);
  int r = sigaltstack(NULL, &s);
  if (r)
    printf("%s: query failed\n", what);
  else
    show(what, &s);
}

static void arm(char *base, int flags)
{
  stack_t ss = {.ss_sp = base, .ss_size = ALTSZ, .ss_flags = flags};
  int r = sigaltstack(&ss, NULL);
  printf("arm %s flags=%#x: %d\n", base == alt ? "alt" : "alt2", (unsigned)flags, r);
}

static void on_usr2(int sig, siginfo_t *si, void *ucv)
{
  (void)sig, (void)si;
  ucontext_t *uc = ucv;
  char local;
  uintptr_t a = (uintptr_t)&local;
  printf("  nested handler on %s%s\n", where(a),
         outer_local && where(a) == where(outer_local) ? (a < outer_local ? ", below the outer one" : ", above the outer one") : "");
  show("  nested uc_stack", &uc->uc_stack);
  query("  nested query");
  if (edit == 3) /* the interrupted handler runs on the stack: EPERM, ignored */
    uc->uc_stack.ss_size = 4096;
}

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
  (void)sig, (void)si;
  ucontext_t *uc = ucv;
  char local;
  outer_local = (uintptr_t)&local;
  printf(" handler on %s\n", where(outer_local));
  show(" uc_stack", &uc->uc_stack);
  query(" query in handler");
  raise(SIGUSR2);
  query(" query after nested");
  if (edit == 1) { /* a new stack while the first is disarmed; SIGUSR2 goes there */
    arm(alt2, 0);
    query(" query with alt2");
    outer_local = 0;
    raise(SIGUSR2);
  } else if (edit == 2) {
    uc->uc_stack.ss_flags = SS_DISABLE;
  } else if (edit == 4) {
    uc->uc_stack.ss_flags = 0x100; /* EINVAL: the stack stays disarmed */
  } else if (edit == 5) {
    uc->uc_stack.ss_flags = 0; /* armed again, without SS_AUTODISARM */
  } else if (edit == 6) { /* rearmed with SS_AUTODISARM while on it: not in use */
    arm(alt, SS_AUTODISARM);
    query(" query rearmed on it");
  }
  outer_local = 0;
}

static void on_jump(int sig)
{
  (void)sig;
  char local;
  printf(" jump handler on %s\n", where((uintptr_t)&local));
  query(" query in jump handler");
  siglongjmp(env, 1);
}

static void on_plain(int sig, siginfo_t *si, void *ucv)
{
  (void)sig, (void)si;
  ucontext_t *uc = ucv;
  char local;
  printf(" plain handler on %s\n", where((uintptr_t)&local));
  show(" plain uc_stack", &uc->uc_stack);
  query(" plain query");
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | flags;
  sigaction(sig, &sa, NULL);
}

static void run(const char *what, int e)
{
  printf("%s\n", what);
  edit = e;
  raise(SIGUSR1);
  query("after return");
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  handle(SIGUSR1, on_usr1, SA_ONSTACK);
  handle(SIGUSR2, on_usr2, SA_ONSTACK);
  handle(SIGHUP, on_plain, 0);
  query("initial");

  arm(alt, SS_ONSTACK | SS_AUTODISARM);
  query("armed");
  run("onstack|autodisarm", 0);
  arm(alt, SS_AUTODISARM);
  query("armed");
  run("autodisarm", 0);
  run("a second stack armed in the handler", 1);
  run("uc_stack set to SS_DISABLE", 2);
  arm(alt, SS_AUTODISARM);
  run("uc_stack with bad flags", 4);
  arm(alt, SS_AUTODISARM);
  run("uc_stack without SS_AUTODISARM", 5);
  run("no SS_AUTODISARM, nested handler edits uc_stack", 3);
  arm(alt, SS_ONSTACK);
  run("onstack flag kept", 0);
  arm(alt, SS_AUTODISARM);
  run("rearmed in the handler", 6);

  printf("handler without SA_ONSTACK\n");
  arm(alt, SS_AUTODISARM);
  raise(SIGHUP);
  query("after return");

  printf("siglongjmp out\n");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_jump;
  sa.sa_flags = SA_ONSTACK | SA_NODEFER;
  sigaction(SIGTERM, &sa, NULL);
  if (!sigsetjmp(env, 1))
    raise(SIGTERM);
  query("after siglongjmp");
  arm(alt, SS_AUTODISARM);
  if (!sigsetjmp(env, 1))
    raise(SIGTERM);
  query("after second siglongjmp");

  stack_t ss = {.ss_flags = SS_DISABLE | SS_AUTODISARM};
  printf("disable|autodisarm: %d\n", sigaltstack(&ss, NULL));
  query("disabled");
  raise(SIGHUP);
  query("after return");
  return 0;
}
