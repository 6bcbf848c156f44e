/* ret_stack_bottom: a `ret` whose return address is the lowest 8 bytes of
 * a writable mapping (a PROT_NONE page below, as at the bottom of a thread
 * stack), or whose slot below is read-only.  Natively `ret` only reads
 * its return address; hotpath's translated `ret` pushes its continuation
 * into the slot below (for the CPU's return stack) and used to die with
 * SIGSEGV there.  Now that push's fault sends the return to its lookup.
 * Also: recursion into a guard page faults at the `call`, as natively,
 * with the guest's registers (the handler prints them).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <ucontext.h>

/* rsb_call(sp): calls leaf with rsp = sp (the return address at sp - 8). */
void rsb_call(void *sp);
uint64_t rsb_sink;
/* rsb_deep(top): calls a leaf again and again, each time 8 bytes lower,
 * until the stack runs into the page below. */
void rsb_deep(void *top);
__asm__(".text\n"
        ".globl rsb_call\nrsb_call:\n mov %rsp, %rax\n mov %rdi, %rsp\n push %rax\n call rsb_leaf\n pop %rsp\n ret\n"
        "rsb_leaf:\n addq $1, rsb_sink(%rip)\n ret\n"
        ".globl rsb_deep\nrsb_deep:\n push %rbx\n push %rbp\n mov %rdi, %rsp\n"
        " movabs $0x1111111111111111, %rax\n movabs $0x2222222222222222, %rcx\n movabs $0x3333333333333333, %rdx\n"
        "1:\n call rsb_leaf2\n sub $8, %rsp\n jmp 1b\n"
        "rsb_leaf2:\n mov %rax, rsb_sink(%rip)\n ret\n"
        );

static sigjmp_buf jb;
static volatile uint64_t f_rip, f_rsp, f_rax, f_rcx, f_rdx, f_addr;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    ucontext_t *uc = ctx;
    f_rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    f_rsp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
    f_rax = (uint64_t)uc->uc_mcontext.gregs[REG_RAX];
    f_rcx = (uint64_t)uc->uc_mcontext.gregs[REG_RCX];
    f_rdx = (uint64_t)uc->uc_mcontext.gregs[REG_RDX];
    f_addr = (uint64_t)(uintptr_t)si->si_addr;
    siglongjmp(jb, 1);
}

int main(void)
{
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 2;
    /* Warm up: the continuation gets into the return table. */
    for (int i = 0; i < 1000; i++)
        rsb_call(m + 2 * 4096 + 64);
    /* The return address in the lowest 8 bytes above a PROT_NONE page. */
    mprotect(m, 4096, PROT_NONE);
    for (int i = 0; i < 1000; i++)
        rsb_call(m + 4096 + 16); /* pushes the old rsp at +8, the return address at +0 */
    printf("bottom of a mapping: %llu calls returned\n", (unsigned long long)rsb_sink);
    /* The slot below the return address on a read-only page. */
    mprotect(m + 4096, 4096, PROT_READ);
    for (int i = 0; i < 1000; i++)
        rsb_call(m + 2 * 4096 + 16);
    printf("read-only page below: %llu calls returned\n", (unsigned long long)rsb_sink);

    static char alt[65536];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    char *s = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        return 2;
    mprotect(s, 4096, PROT_NONE);
    if (!sigsetjmp(jb, 1))
        rsb_deep(s + 64 * 4096);
    printf("recursion into the guard page: fault at rsb_deep+%#llx, rsp at +%#llx, address at +%#llx, "
           "rax %#llx rcx %#llx rdx %#llx\n",
           (unsigned long long)(f_rip - (uint64_t)(uintptr_t)rsb_deep),
           (unsigned long long)(f_rsp - (uint64_t)(uintptr_t)s), (unsigned long long)(f_addr - (uint64_t)(uintptr_t)s),
           (unsigned long long)f_rax, (unsigned long long)f_rcx, (unsigned long long)f_rdx);
    return 0;
}
