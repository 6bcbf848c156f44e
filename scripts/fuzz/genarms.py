#!/usr/bin/env python3
"""Generates a random C program (seeded: the same seed, the same program)
whose hot loop is what the optimizer works on at -O0: locals of mixed types
in frame slots, if/else arms taken in data-dependent proportions (side
traces), `continue`, calls (inlined into traces: one noinline, one with a
branch, one writing through a pointer), stores through pointers into
locals, globals, and array reads. It prints every local and global at the
end, so that a run under hotpath must print what the native run prints.

usage: genarms.py SEED > prog.c
"""
import random
import sys

TYPES = ["long", "int", "unsigned", "double", "float", "short", "char"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.nv = self.r.randint(3, 9)
        self.types = [self.r.choice(TYPES) for _ in range(self.nv)]

    def var(self):
        return "v%d" % self.r.randrange(self.nv)

    def expr(self, depth=0):
        r = self.r
        kind = r.randrange(8 if depth < 2 else 4)
        if kind == 0:
            return self.var()
        if kind == 1:
            return str(r.randint(-5, 50))
        if kind == 2:
            return "data[(i + %d) & 1023]" % r.randint(0, 1023)
        if kind == 3:
            return "g%d" % r.randrange(3)
        if kind == 4:
            return "(%s + %s)" % (self.expr(depth + 1), self.expr(depth + 1))
        if kind == 5:
            return "((long)%s ^ (long)%s)" % (self.expr(depth + 1), self.expr(depth + 1))
        if kind == 6:
            return "helper%d((long)%s)" % (r.randrange(2), self.expr(depth + 1))
        return "((long)%s >> %d)" % (self.expr(depth + 1), r.randint(0, 5))

    def cond(self):
        r = self.r
        kind = r.randrange(4)
        if kind == 0:
            return "(data[i & 1023] & %d)" % (1 << r.randint(0, 6))
        if kind == 1:
            return "(i %% %d == 0)" % r.randint(2, 7)
        if kind == 2:
            return "((long)%s & 1)" % self.var()
        return "(data[(i * 7) & 1023] %% %d < %d)" % (r.randint(3, 9), r.randint(1, 3))

    def stmt(self, depth=0):
        r = self.r
        kind = r.randrange(10 if depth < 2 else 6)
        if kind <= 2:
            return "%s += %s;" % (self.var(), self.expr())
        if kind == 3:
            return "%s = %s;" % (self.var(), self.expr())
        if kind == 4:
            return "*p%d += %s;" % (r.randrange(2), self.expr())
        if kind == 5:
            return "g%d += (long)%s;" % (r.randrange(3), self.expr())
        if kind == 6:
            return "if (%s) { %s } else { %s }" % (self.cond(), self.body(depth + 1), self.body(depth + 1))
        if kind == 7:
            return "if (%s) { %s }" % (self.cond(), self.body(depth + 1))
        if kind == 8:
            return "if (%s) continue;" % self.cond()
        return "bump(&x_l, (long)%s);" % self.expr()

    def body(self, depth=0):
        return " ".join(self.stmt(depth) for _ in range(self.r.randint(1, 3)))

    def program(self, seed):
        r = self.r
        out = [
            "#include <stdint.h>",
            "#include <stdio.h>",
            "static uint32_t data[1024];",
            "long g0, g1, g2;",
            "__attribute__((noinline)) static long helper0(long x) { return x * 3 + 1; }",
            "static long helper1(long x) { long y = x; if (y & 1) y += 7; return y ^ (y >> 2); }",
            "static void bump(long *p, long v) { *p += v & 15; }",
            "static void run(int n)",
            "{",
        ]
        for k in range(self.nv):
            out.append("  %s v%d = %d;" % (self.types[k], k, r.randint(0, 9)))
        out.append("  long x_l = 0, spare = 0;")
        # p0 into a local the loop also uses by name when v0 is a long
        if self.types[0] == "long":
            out.append("  long *p0 = &v0, *p1 = &spare;")
        else:
            out.append("  long *p0 = &spare, *p1 = &x_l;")
        out.append("  for (int r = 0; r < n; r++) {")
        out.append("    for (int i = 0; i < 300; i++) { %s }" % self.body())
        out.append("  }")
        out.append('  printf("%ld %ld %ld %ld %ld\\n", g0, g1, g2, x_l, spare);')
        for k in range(self.nv):
            if self.types[k] in ("double", "float"):
                out.append('  printf("v%d %%.6g\\n", (double)v%d);' % (k, k))
            else:
                out.append('  printf("v%d %%ld\\n", (long)v%d);' % (k, k))
        out.append("}")
        out.append("int main(void)")
        out.append("{")
        out.append("  uint64_t s = %du;" % (seed + 1))
        out.append("  for (int i = 0; i < 1024; i++) {")
        out.append("    s = s * 6364136223846793005ull + 1442695040888963407ull;")
        out.append("    data[i] = (uint32_t)(s >> 33);")
        out.append("  }")
        out.append("  run(60);")
        out.append("  return 0;")
        out.append("}")
        return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.stderr.write("usage: genarms.py SEED > prog.c\n")
        return 2
    seed = int(sys.argv[1])
    sys.stdout.write(Gen(seed).program(seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
