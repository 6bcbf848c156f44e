#!/usr/bin/env python3
import subprocess, sys, os, re, json, random
from multiprocessing import Pool

# Differential fuzzing of the optimizer (the fold pass above all): random
# -O0 programs with hot loops, run natively and under hotpath with several
# option sets; see scripts/fuzz/README (tests/fuzz runs genarms.py in CI).
#   usage: run.py GENERATOR FIRST_SEED END_SEED
#   GENERATOR: gen.py (C loops), genfault.py (the same, then a fault whose
#   handler prints every register), genasm.py (inline-asm loops), genarms.py
#   (loops whose body branches both ways)
#   HOTPATH: the binary (default: build/hotpath in the repository);
#   FUZZ_DIR: where programs, results and failures go (default
#   /tmp/hotpath-fuzz); NP: parallel jobs (default 2)
HERE = os.path.dirname(os.path.abspath(__file__))
HP = os.environ.get('HOTPATH', os.path.join(HERE, '..', '..', 'build', 'hotpath'))
D = HERE
OUT = os.environ.get('FUZZ_DIR', '/tmp/hotpath-fuzz')
W = OUT + '/w'
os.makedirs(W, exist_ok=True)
os.makedirs(OUT + '/fail', exist_ok=True)
if len(sys.argv) != 4:
    sys.exit('usage: run.py gen.py|genfault.py|genasm.py|genarms.py FIRST_SEED END_SEED')
GEN = sys.argv[1]


def run(cmd, timeout=60):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired:
        return b'', b'TIMEOUT', -999


def task(seed):
    R = random.Random(seed * 7 + 1)
    src = '%s/%s%d.c' % (W, GEN[:4], seed)
    with open(src, 'w') as f:
        subprocess.run(['python3', '%s/%s' % (D, GEN), str(seed)], stdout=f)
    variants = [('O0', ['-O0'])]
    if R.random() < 0.35:
        variants.append(('O0s', ['-O0', '-static']))
    if R.random() < 0.35:
        variants.append((R.choice(['O1', 'O2']), [R.choice(['-O1', '-O2'])]))
    if R.random() < 0.6:
        xf = R.choice(['-no-pie', '-mavx2', '-march=native', '-fstack-protector-all', '-ftrapv', '-mavx2'])
        variants.append(('O0' + xf.strip('-').replace('=', '').replace('-', '')[:8], ['-O0', xf]))
    res = []
    for vn, fl in variants:
        exe = '%s/%s%d.%s' % (W, GEN[:4], seed, vn)
        c = subprocess.run(['gcc', '-w'] + fl + [src, '-o', exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if c.returncode:
            res.append((seed, vn, 'COMPILEFAIL', c.stderr.decode()[:300].replace('\n',' ')))
            continue
        nat = run([exe], 20)
        if nat[2] == -999:
            res.append((seed, vn, 'NATTIMEOUT', ''))
            continue
        if run([exe], 20) != nat:
            res.append((seed, vn, 'NATNONDET', ''))
            continue
        st = run([HP, '--stats', '--log=%s.stats' % exe, exe])
        folded = 0
        try:
            t = open(exe + '.stats').read()
            m = re.search(r'instructions folded away \(copies, lea, add/sub/shl kept symbolic\)\s+(\d+)', t)
            folded = int(m.group(1)) if m else -1
        except Exception:
            folded = -2
        line = [seed, vn, 'folded=%d' % folded]
        bad = []
        cfgs = [('def', []), ('nofold', ['--disable-pass=fold']), ('thr3', ['--hot-threshold=3']), ('stats', None),
                ('nodefer', ['--disable-pass=defer', '--hot-threshold=2'])]  # written through: side traces share
        cfgs.append(R.choice([('far', ['--debug-far-cache']), ('mtb', ['--max-trace-blocks=%d' % R.randint(2, 6), '--hot-threshold=%d' % R.randint(1, 20)]),
                              ('farthr', ['--debug-far-cache', '--hot-threshold=2']), ('nolink', ['--no-link'])]))
        for cn, opts in cfgs:
            if opts is None:
                r = st
                same = r[0] == nat[0] and r[2] == nat[2]
            else:
                r = run([HP] + opts + [exe])
                same = r == nat
            if not same:
                strip = lambda b: b'\n'.join(l for l in b.split(b'\n') if not l.startswith(b' flags='))
                if strip(r[0]) == strip(nat[0]) and r[2] == nat[2] and (opts is None or r[1] == nat[1]):
                    cn += '(flagsonly)'
                elif opts and '--disable-pass=fold' not in opts:
                    r2 = run([HP, '--disable-pass=fold'] + opts + [exe])
                    cn += '(nofold-%s)' % ('ok' if r2 == nat else 'bad')
                bad.append(cn)
                with open('%s/fail/%s%d.%s.%s.txt' % (OUT, GEN[:4], seed, vn, cn), 'wb') as f:
                    f.write(b'NATIVE rc=%d\n' % nat[2] + nat[0] + nat[1] + b'\nHOTPATH rc=%d\n' % r[2] + r[0] + r[1])
        line.append('BAD:' + ','.join(bad) if bad else 'OK')
        res.append(tuple(line))
        if not bad:
            for suf in ['', '.stats']:
                try:
                    os.unlink(exe + suf)
                except OSError:
                    pass
    if all(r[-1] == 'OK' for r in res):
        os.unlink(src)
    return res


if __name__ == '__main__':
    a, b = int(sys.argv[2]), int(sys.argv[3])
    out = open('%s/results_%s.txt' % (OUT, GEN), 'a')
    with Pool(int(os.environ.get("NP", "2"))) as p:
        for res in p.imap_unordered(task, range(a, b)):
            for r in res:
                out.write(' '.join(map(str, r)) + '\n')
                out.flush()
