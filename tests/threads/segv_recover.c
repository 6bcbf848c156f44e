/* segv_recover: a SA_SIGINFO SIGSEGV handler siglongjmps out of a write to
 * NULL and of a read from an unmapped page (mmap then munmap), 100 times
 * each; it records whether si_addr is the faulting address and whether
 * si_code is SEGV_MAPERR. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static void *volatile expected_addr;
static volatile int addr_ok, code_ok, signo_ok, handler_runs;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    handler_runs++;
    signo_ok = sig == SIGSEGV && si->si_signo == SIGSEGV;
    addr_ok = si->si_addr == expected_addr;
    code_ok = si->si_code == SEGV_MAPERR;
    siglongjmp(env, 1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);

    long pagesz = sysconf(_SC_PAGESIZE);
    volatile int null_caught = 0, null_addr = 0, null_code = 0;
    volatile int unm_caught = 0, unm_addr = 0, unm_code = 0, signo = 0;
    volatile int sink = 0;

    for (volatile int i = 0; i < 100; i++) {
        /* write to NULL (plus a small offset that varies) */
        int *volatile p = (int *)(uintptr_t)(8 * (i % 16));
        expected_addr = (void *)p;
        addr_ok = code_ok = signo_ok = 0;
        if (sigsetjmp(env, 1) == 0) {
            *p = i;
            puts("NULL write did not fault");
        } else {
            null_caught++;
            null_addr += addr_ok;
            null_code += code_ok;
            signo += signo_ok;
        }

        /* read from a page that was mapped and then unmapped */
        char *page = mmap(NULL, (size_t)pagesz, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED) { puts("mmap failed"); return 1; }
        page[0] = 1;
        munmap(page, (size_t)pagesz);
        volatile char *q = page + (i * 37) % pagesz;
        expected_addr = (void *)q;
        addr_ok = code_ok = signo_ok = 0;
        if (sigsetjmp(env, 1) == 0) {
            sink += *q;
            puts("unmapped read did not fault");
        } else {
            unm_caught++;
            unm_addr += addr_ok;
            unm_code += code_ok;
            signo += signo_ok;
        }
    }
    printf("NULL write: caught %d, si_addr ok %d, SEGV_MAPERR %d\n", null_caught, null_addr, null_code);
    printf("unmapped read: caught %d, si_addr ok %d, SEGV_MAPERR %d\n", unm_caught, unm_addr, unm_code);
    printf("si_signo ok: %d, handler runs: %d\n", signo, handler_runs);

    /* the mask was restored by siglongjmp: SIGSEGV must not be blocked */
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("SIGSEGV blocked after recovery: %s\n", sigismember(&cur, SIGSEGV) ? "yes" : "no");
    return sink;
}
