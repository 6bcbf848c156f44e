#!/usr/bin/env python3
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import Gen, print_program

HDR = r'''#define _GNU_SOURCE
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <signal.h>
#include <setjmp.h>
#include <ucontext.h>
#include <sys/mman.h>
#define MAPSZ (4ul << 20)
#define GUARD (16ul << 20)
static sigjmp_buf jb;
static char *base;
static char *stkref;
static unsigned long gaddr[16], gsize[16]; static int ng;
static unsigned long kaddr[8]; static int nk;
static void classify(const char *nm, unsigned long v, unsigned long addr) {
    int i;
    if (v == addr && addr) { printf(" %s=ADDR", nm); return; }
    if (v >= (unsigned long)base && v <= (unsigned long)base + MAPSZ + GUARD) { printf(" %s=B+%ld", nm, (long)(v - (unsigned long)base)); return; }
    for (i = 0; i < ng; i++)
        if (v >= gaddr[i] && v <= gaddr[i] + gsize[i] + 64) { printf(" %s=G%d+%ld", nm, i, (long)(v - gaddr[i])); return; }
    if ((long)(v - (unsigned long)stkref) > -(1l << 20) && (long)(v - (unsigned long)stkref) < (1l << 20)) { printf(" %s=S%+ld", nm, (long)(v - (unsigned long)stkref)); return; }
    if ((long)v > -(1l << 24) && (long)v < (1l << 24)) { printf(" %s=%ld", nm, (long)v); return; }
    {
        int best = -1;
        for (i = 0; i < nk; i++) if (v >= kaddr[i] && v - kaddr[i] < 8192 && (best < 0 || kaddr[i] > kaddr[best])) best = i;
        if (best >= 0) { printf(" %s=K%d+%ld", nm, best, (long)(v - kaddr[best])); return; }
    }
    printf(" %s=other", nm);
}
static void handler(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    unsigned long a = (unsigned long)si->si_addr;
    static const char *names[] = {"r8","r9","r10","r11","r12","r13","r14","r15","rdi","rsi","rbp","rbx","rdx","rax","rcx","rsp","rip"};
    static const int idx[] = {REG_R8,REG_R9,REG_R10,REG_R11,REG_R12,REG_R13,REG_R14,REG_R15,REG_RDI,REG_RSI,REG_RBP,REG_RBX,REG_RDX,REG_RAX,REG_RCX,REG_RSP,REG_RIP};
    int i;
    printf("fault sig=%d code=%d", sig, si->si_code); classify("addr", a, 0); printf("\n regs:");
    for (i = 0; i < 17; i++) classify(names[i], (unsigned long)g[idx[i]], a);
    printf("\n flags=%lx\n", (unsigned long)g[REG_EFL] & 0x8d5);
    siglongjmp(jb, 1);
}
'''


class FGen(Gen):
    def program(s):
        s.fault = True
        s.galign = ' __attribute__((aligned(4096)))'
        src = Gen.program(s)
        R = s.R
        # cut off the generic main, keep everything before
        pre, _ = src.split('int main(void) {')
        inc, rest = pre.split('#include <string.h>\n', 1)
        rest = rest.replace('static char *stkref;\nstatic unsigned long gaddr[16], gsize[16]; static int ng;\n', '')
        rest = rest.replace('static unsigned long cls(', 'static unsigned long cls0(').replace('cls(peek', 'cls0(peek')
        o = HDR + rest
        o += 'int main(void) {\n    volatile char here = 0; unsigned long tot = 0, h = 0;\n    struct sigaction sa;\n'
        o += '    stkref = (char *)&here;\n    __asm__ volatile("xor %%ebx,%%ebx; xor %%r12d,%%r12d; xor %%r13d,%%r13d; xor %%r14d,%%r14d; xor %%r15d,%%r15d" ::: "rbx","r12","r13","r14","r15");\n'
        o += '    memset(&sa, 0, sizeof sa); sa.sa_sigaction = handler; sa.sa_flags = SA_SIGINFO | SA_NODEFER; sigaction(SIGSEGV, &sa, 0);\n'
        o += '    base = mmap(0, MAPSZ + GUARD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);\n'
        o += '    mprotect(base + MAPSZ, GUARD, PROT_NONE);\n    fill(base, MAPSZ, 77);\n'
        for i, (fn, call, code) in enumerate(s.kernels):
            o += '    kaddr[nk++] = (unsigned long)%s;\n' % fn
        o += s.globals_setup()
        for fn, call, code in s.kernels:
            m = s.kmarr[fn]
            typ = '%s (*)[%d]' % (m.et, m.cols) if m.dims == 2 else '%s *' % m.et
            o += '    {\n        char *mp = base + MAPSZ - %s; unsigned long v;\n' % m.need
            if m.isdouble() or m.et == 'struct S32':
                o += '        { unsigned long q; for (q = 0; q < (%s) / 8; q++) ((double *)mp)[q] = (double)(q %% 29) * 0.5; }\n' % m.need
            o += '        v = %s; printf("%s %%lu\\n", v); tot += v;\n' % (call.replace('MP', '(%s)mp' % typ), fn)
            shift = R.randint(1, max(1, m.nelem - 1)) if R.random() < 0.7 else R.randint(1, 3)
            o += '        if (sigsetjmp(jb, 1) == 0) {\n'
            o += '            mp += %d * %s;\n' % (shift, m.esz)
            o += '            v = %s; printf("%s nofault %%lu\\n", v); tot += v;\n' % (call.replace('MP', '(%s)mp' % typ), fn)
            o += '        } else printf("%s recovered\\n");\n    }\n' % fn
            gl = s.kglob.get(fn, [])
            if gl and R.random() < 0.8:
                g = R.choice(gl)
                o += '    if (sizeof %s >= 8192) {\n' % g.name
                o += '        char *pg = (char *)%s + 4096 * (%d %% (sizeof %s / 4096));\n' % (g.name, R.randint(0, 1000), g.name)
                o += '        if (pg + 4096 > (char *)%s + sizeof %s) pg -= 4096;\n' % (g.name, g.name)
                o += '        mprotect(pg, 4096, PROT_NONE);\n'
                o += '        if (sigsetjmp(jb, 1) == 0) {\n'
                o += '            unsigned long v = %s; printf("%s gnofault %%lu\\n", v); tot += v;\n' % (call.replace('MP', '(%s)(base + MAPSZ - %s)' % (typ, m.need)), fn)
                o += '        } else printf("%s grecovered\\n");\n' % fn
                o += '        mprotect(pg, 4096, PROT_READ | PROT_WRITE);\n    }\n'
        for g in s.globals:
            o += '    h = hashb(%s, sizeof %s, h); printf("%s %%lu\\n", h);\n' % (g.name, g.name, g.name)
        o += '    h = hashb(base, MAPSZ, h); printf("map %lu\\n", h);\n'
        o += '    printf("total %lu\\n", tot ^ h);\n    return (int)((tot ^ h) & 63);\n}\n'
        return o


if __name__ == '__main__':
    print_program(FGen, int(sys.argv[1]))
