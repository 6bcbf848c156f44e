#!/usr/bin/env python3
"""C -O0 loops with random inline-asm register arithmetic snippets (copies, lea, add/sub/shl,
partial writes, implicit-register instructions) operating on frame slots and a global buffer."""
import random, sys

R64 = ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10']
R32 = {'rax': 'eax', 'rcx': 'ecx', 'rdx': 'edx', 'rsi': 'esi', 'rdi': 'edi', 'r8': 'r8d', 'r9': 'r9d', 'r10': 'r10d'}
R16 = {'rax': 'ax', 'rcx': 'cx', 'rdx': 'dx', 'rsi': 'si', 'rdi': 'di', 'r8': 'r8w', 'r9': 'r9w', 'r10': 'r10w'}
R8 = {'rax': 'al', 'rcx': 'cl', 'rdx': 'dl', 'rsi': 'sil', 'rdi': 'dil', 'r8': 'r8b', 'r9': 'r9b', 'r10': 'r10b'}
HI = {'rax': 'ah', 'rcx': 'ch', 'rdx': 'dh'}
LEGACY = ['rax', 'rcx', 'rdx', 'rsi', 'rdi']
NSLOT = 6


def snippet(R, nins):
    L = []
    r = lambda: R.choice(R64)
    def q(x): return '%%%%%s' % x
    # load all regs from slots / i
    for k, reg in enumerate(R64):
        src = '%%[x%d]' % (k % NSLOT) if R.random() < 0.8 else '%[i]'
        if R.random() < 0.3:
            L.append('movl %s, %s' % (src, q(R32[reg])))
        elif R.random() < 0.2:
            L.append('movslq %s, %s' % (src, q(reg)))
        else:
            L.append('movq %s, %s' % (src, q(reg)))
    for _ in range(nins):
        a, b, c = r(), r(), r()
        k = R.randint(0, 62)
        s = R.choice([1, 2, 4, 8])
        d = R.choice([0, 1, 3, 8, -8, 16, 0x40, -0x100, 0x7fff])
        if k == 0: L.append('movq %s, %s' % (q(b), q(a)))
        elif k == 1: L.append('movl %s, %s' % (q(R32[b]), q(R32[a])))
        elif k == 2: L.append('leaq %d(%s,%s,%d), %s' % (d, q(b), q(c), s, q(a)))
        elif k == 3: L.append('leaq %d(,%s,%d), %s' % (d, q(b), s, q(a)))
        elif k == 4: L.append('leal %d(%s,%s,%d), %s' % (d, q(b), q(c), s, q(R32[a])))
        elif k == 5: L.append('addq %s, %s' % (q(b), q(a)))
        elif k == 6: L.append('subq %s, %s' % (q(b), q(a)))
        elif k == 7: L.append('addq $%d, %s' % (d, q(a)))
        elif k == 8: L.append('shlq $%d, %s' % (R.randint(1, 5), q(a)))
        elif k == 9: L.append('addl %s, %s' % (q(R32[b]), q(R32[a])))
        elif k == 10: L.append('subl $%d, %s' % (d, q(R32[a])))
        elif k == 11: L.append('shll $%d, %s' % (R.randint(1, 31), q(R32[a])))
        elif k == 12: L.append('movb $%d, %s' % (R.randint(0, 255), q(R8[a])))
        elif k == 13:
            h = R.choice(list(HI))
            L.append('movb $%d, %s' % (R.randint(0, 255), q(HI[h])))
        elif k == 14:
            h = R.choice(list(HI)); a2 = R.choice(LEGACY)
            L.append('movzbl %s, %s' % (q(HI[h]), q(R32[a2])))
        elif k == 15: L.append('movw %s, %s' % (q(R16[b]), q(R16[a])))
        elif k == 16: L.append('movzbl %s, %s' % (q(R8[b]), q(R32[a])))
        elif k == 17: L.append('movswq %s, %s' % (q(R16[b]), q(a)))
        elif k == 18: L.append('movslq %s, %s' % (q(R32[b]), q(a)))
        elif k == 19: L.append(R.choice(['cltq', 'cqto', 'cltd', 'cwtl']))
        elif k == 20: L.append('xchgq %s, %s' % (q(b), q(a)))
        elif k == 21: L.append('bswapq %s' % q(a))
        elif k == 22: L.append('%s %s' % (R.choice(['negq', 'notq', 'incq', 'decq']), q(a)))
        elif k == 23: L.append('imulq %s, %s' % (q(b), q(a)))
        elif k == 24: L.append('xorl %s, %s' % (q(R32[a]), q(R32[a])))
        elif k == 25:
            L.append('testq %s, %s' % (q(c), q(c)))
            L.append('%s %s, %s' % (R.choice(['cmovzq', 'cmovnzq', 'cmovsq', 'cmovlq']), q(b), q(a)))
        elif k == 26:
            L.append('addq %s, %s' % (q(c), q(b)))
            L.append('%s %s, %s' % (R.choice(['adcq', 'sbbq']), q(c), q(a)))
        elif k == 27:
            if a != 'rcx':
                L.append('shlq %%%%cl, %s' % q(a))
        elif k == 28: L.append('%s $%d, %s' % (R.choice(['rorq', 'rolq', 'sarq', 'shrq']), R.randint(1, 63), q(a)))
        elif k == 29:
            L.append('cmpq %s, %s' % (q(c), q(b)))
            L.append('set%s %s' % (R.choice(['z', 'l', 'b', 'a', 'g', 'nz']), q(R8[a])))
        elif k == 30: L.append('andl $%d, %s' % (R.choice([0xff, 0xfff0, 0x7fffffff, 0xffff]), q(R32[a])))
        elif k == 31: L.append('mulq %s' % q(b))
        elif k == 32: L.append('leaq %d(%s), %s' % (d, q(b), q(a)))
        elif k == 33: L.append('leal (%s,%s), %s' % (q(b), q(b), q(R32[a])))
        elif k == 34: L.append('addw %s, %s' % (q(R16[b]), q(R16[a])))
        elif k == 35: L.append('movq %s, %%[x%d]' % (q(a), R.randint(0, NSLOT - 1)))
        elif k == 36: L.append('addq %%[x%d], %s' % (R.randint(0, NSLOT - 1), q(a)))
        elif k == 37: L.append('movl %s, %%[x%d]' % (q(R32[a]), R.randint(0, NSLOT - 1)))
        elif k == 38: L.append('subl %s, %s' % (q(R32[b]), q(R32[a])))
        elif k == 39: L.append('movsbl %s, %s' % (q(R8[b]), q(R32[a])))
        elif k == 40: L.append('shrl $%d, %s' % (R.randint(1, 31), q(R32[a])))
        elif k == 41: L.append('movabsq $%d, %s' % (R.choice([0x123456789abcdef, -1, 0xffffffff, 0x80000000, -0x80000000]), q(a)))
        elif k == 42: L.append('movl $%d, %s' % (R.choice([-1, 0x80000000 - 2**32, 7, 0xfff]), q(R32[a])))
        elif k >= 51:
            x = R.randint(0, 19)
            if x == 0: L.append('addb %s, %s' % (q(R8[b]), q(R8[a])))
            elif x == 1: L.append('subb $%d, %s' % (R.randint(1, 200), q(R8[a])))
            elif x == 2: L.append('shlw $%d, %s' % (R.randint(1, 15), q(R16[a])))
            elif x == 3: L.append('shlb $%d, %s' % (R.randint(1, 7), q(R8[a])))
            elif x == 4: L.append('xaddq %s, %s' % (q(b), q(a)))
            elif x == 5: L.append('shldq $%d, %s, %s' % (R.randint(1, 63), q(b), q(a)))
            elif x == 6: L.append('shrdl $%d, %s, %s' % (R.randint(1, 31), q(R32[b]), q(R32[a])))
            elif x == 7: L.append('rclq $%d, %s' % (R.randint(1, 5), q(a)))
            elif x == 8: L.append('popcntq %s, %s' % (q(b), q(a)))
            elif x == 9: L.append('lzcntl %s, %s' % (q(R32[b]), q(R32[a])))
            elif x == 10: L.append('tzcntq %s, %s' % (q(b), q(a)))
            elif x == 11: L.append('btcq $%d, %s' % (R.randint(0, 63), q(a)))
            elif x == 12: L.append('cmpxchgq %s, %s' % (q(b), q(a)))
            elif x == 13: L.append('xchgl %s, %s' % (q(R32[b]), q(R32[a])))
            elif x == 14: L.append('xchgw %s, %s' % (q(R16[b]), q(R16[a])))
            elif x == 15: L.append('leaw %d(%s,%s), %s' % (R.randint(-100, 100), q(b), q(c), q(R16[a])))
            elif x == 16: L.append('andnq %s, %s, %s' % (q(c), q(b), q(a)))
            elif x == 17: L.append('shlxq %s, %s, %s' % (q(c), q(b), q(a)))
            elif x == 18: L.append('adcxq %s, %s' % (q(b), q(a)))
            else: L.append('movbeq %%[x%d], %s' % (R.randint(0, NSLOT - 1), q(a)))
        elif k >= 45:
            # flags-producing arithmetic consumed by a branch (possibly through mov/lea, or after jrcxz)
            L.append(R.choice(['addq %s, %s' % (q(b), q(a)), 'subq %s, %s' % (q(b), q(a)), 'shlq $%d, %s' % (R.randint(1, 4), q(a)),
                               'addl %s, %s' % (q(R32[b]), q(R32[a])), 'subq $%d, %s' % (d, q(a)), 'shll $%d, %s' % (R.randint(1, 4), q(R32[a]))]))
            lab = R.randint(10, 99)
            for _ in range(R.randint(0, 2)):
                c2, a2 = R.sample(R64, 2)
                L.append(R.choice(['movq %s, %s' % (q(c2), q(a2)), 'leaq 8(%s), %s' % (q(c2), q(a2)), 'leaq (%s,%s,4), %s' % (q(c2), q(c2), q(a2)), 'movl %s, %s' % (q(R32[c2]), q(R32[a2]))]))
            if R.random() < 0.3:
                L.append('jrcxz %d0f' % lab)
                L.append('incq %s' % q(r()))
                L.append('%d0:' % lab)
            cc = R.choice(['z', 'nz', 'c', 'nc', 's', 'ns', 'o', 'l', 'g', 'be', 'a', 'p'])
            L.append('j%s %d1f' % (cc, lab))
            L.append('xorq $%d, %s' % (R.randint(1, 1000), q(r())))
            L.append('%d1:' % lab)
            if R.random() < 0.4:
                L.append('set%s %s' % (R.choice(['z', 'c', 's', 'o']), q(R8[r()])))
        elif k >= 43:
            # memory access through computed address into buf (base from %[bp])
            base, idx, v = R.sample(R64, 3)
            L.append('movl %s, %s' % (q(R32[c if c not in (base,) else v]), q(R32[idx])))
            L.append('andl $0xfff8, %s' % q(R32[idx]))
            if R.random() < 0.5:
                L.append('movq %[bp], ' + q(base))
                mem = '%d(%s,%s,%d)' % (R.choice([0, 8, 16, 56]), q(base), q(idx), s)
            else:
                # base computed via lea chain from bp
                L.append('movq %[bp], ' + q(base))
                L.append('leaq 64(%s), %s' % (q(base), q(base)))
                L.append('leaq (%s,%s,%d), %s' % (q(base), q(idx), s, q(base)))
                mem = '-%d(%s)' % (R.choice([0, 8, 64]), q(base))
            op = R.randint(0, 5)
            if op == 0: L.append('movq %s, %s' % (mem, q(v)))
            elif op == 1: L.append('movq %s, %s' % (q(v), mem))
            elif op == 2: L.append('addq %s, %s' % (q(v), mem))
            elif op == 3: L.append('movl %s, %s' % (mem, q(R32[v])))
            elif op == 4: L.append('movzwl %s, %s' % (mem, q(R32[v])))
            else: L.append('movb %s, %s' % (q(R8[v]), mem))
    # fold all regs into acc (r11 is the accumulator)
    L.append('movq %[acc], %%r11')
    for reg in R64:
        L.append('rolq $7, %%r11')
        L.append('xorq %s, %%%%r11' % q(reg))
    L.append('movq %%r11, %[acc]')
    for k in range(NSLOT):
        if R.random() < 0.5:
            L.append('movq %s, %%[x%d]' % (q(R.choice(R64)), k))
    return L


def program(seed):
    R = random.Random(seed)
    o = '#define _GNU_SOURCE\n#include <stdio.h>\n#include <string.h>\n#include <sys/mman.h>\n#include <signal.h>\n#include <setjmp.h>\n#include <ucontext.h>\n'
    o += 'unsigned char *buf;\nint ga[4096];\nlong gshift;\nstatic sigjmp_buf jb; static char *stkref;\n'
    o += r'''static void cl(const char *nm, unsigned long v) {
    if (v >= 0x10000000ul && v < 0x10300000ul) printf(" %s=B+%lx", nm, v - 0x10000000ul);
    else if ((long)(v - (unsigned long)stkref) > -(1l << 20) && (long)(v - (unsigned long)stkref) < (1l << 20)) printf(" %s=S%+ld", nm, (long)(v - (unsigned long)stkref));
    else if ((long)v > -(1l << 40) && (long)v < (1l << 40)) printf(" %s=%lx", nm, v);
    else printf(" %s=other", nm);
}
static void handler(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv; greg_t *g = uc->uc_mcontext.gregs;
    static const char *names[] = {"r8","r9","r10","r11","r12","r13","r14","r15","rdi","rsi","rbp","rbx","rdx","rax","rcx","rsp"};
    static const int idx[] = {REG_R8,REG_R9,REG_R10,REG_R11,REG_R12,REG_R13,REG_R14,REG_R15,REG_RDI,REG_RSI,REG_RBP,REG_RBX,REG_RDX,REG_RAX,REG_RCX,REG_RSP};
    int i;
    printf("fault"); cl("addr", (unsigned long)si->si_addr); printf("\n regs:");
    for (i = 0; i < 16; i++) cl(names[i], (unsigned long)g[idx[i]]);
    printf("\n flags=%lx\n", (unsigned long)g[REG_EFL] & 0x8d5);
    siglongjmp(jb, 1);
}
'''
    o += '''static unsigned long hashb(const void *p, unsigned long n, unsigned long h) {
    const unsigned char *c = p; unsigned long i;
    for (i = 0; i < n; i++) h = h * 1099511628211ul ^ c[i];
    return h;
}
'''
    nk = R.randint(1, 3)
    for kk in range(nk):
        o += 'static __attribute__((noinline)) unsigned long kern%d(void) {\n' % kk
        o += '    long %s;\n' % ', '.join('x%d = %d' % (k, R.randint(-1000, 100000)) for k in range(NSLOT))
        o += '    long acc = 0, i; int j = 0; char *bp = (char *)buf + gshift; unsigned long s = 0;\n'
        N = R.randint(600, 3000)
        nest = R.random() < 0.4
        if nest:
            o += '    for (j = 0; j < %d; j++)\n' % R.randint(3, 8)
        o += '    for (i = 0; i < %d; i++) {\n' % N
        # some C -O0 address arithmetic around
        if R.random() < 0.7:
            o += '        s += ga[(i * %d + j) & 4095] + ga[(i + %d) & 4095];\n' % (R.randint(1, 5), R.randint(0, 9))
        L = snippet(R, R.randint(6, 60))
        o += '        __asm__ volatile(\n' + ''.join('            "%s\\n\\t"\n' % x for x in L)
        o += '            : %s, [acc] "+m"(acc)\n' % ', '.join('[x%d] "+m"(x%d)' % (k, k) for k in range(NSLOT))
        o += '            : [bp] "m"(bp), [i] "m"(i)\n'
        o += '            : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "cc", "memory");\n'
        if R.random() < 0.7:
            o += '        ga[(i * 3 + x%d) & 4095] += (int)acc;\n' % R.randint(0, NSLOT - 1)
        o += '    }\n'
        o += '    return s ^ acc ^ %s;\n}\n' % ' ^ '.join('(x%d * %d)' % (k, 2 * k + 1) for k in range(NSLOT))
    o += 'int main(void) {\n    volatile char here = 0; unsigned long h = 0; int k; struct sigaction sa;\n    stkref = (char *)&here;\n'
    o += '    __asm__ volatile("xor %%ebx,%%ebx; xor %%r12d,%%r12d; xor %%r13d,%%r13d; xor %%r14d,%%r14d; xor %%r15d,%%r15d" ::: "rbx","r12","r13","r14","r15");\n'
    o += '    memset(&sa, 0, sizeof sa); sa.sa_sigaction = handler; sa.sa_flags = SA_SIGINFO | SA_NODEFER; sigaction(SIGSEGV, &sa, 0);\n'
    o += '    mmap((void *)0x10093000, 0x200000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);\n'
    o += '    buf = mmap((void *)0x10000000, 600000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);\n'
    o += '    for (k = 0; k < 600000; k++) buf[k] = (unsigned char)(k * 2654435761u >> 13);\n'
    o += '    for (k = 0; k < 4096; k++) ga[k] = k * 7 - 1000;\n'
    for kk in range(nk):
        o += '    h ^= kern%d(); printf("kern%d %%lu\\n", h);\n' % (kk, kk)
        o += '    gshift = %d;\n    if (sigsetjmp(jb, 1) == 0) { h ^= kern%d(); printf("kern%d nofault %%lu\\n", h); } else printf("kern%d recovered\\n");\n    gshift = 0;\n' % (R.randint(100000, 600000), kk, kk, kk)
    o += '    h = hashb(buf, 600000, h); h = hashb(ga, sizeof ga, h);\n'
    o += '    printf("total %lu\\n", h);\n    return (int)(h & 63);\n}\n'
    return o


if __name__ == '__main__':
    print(program(int(sys.argv[1])))
