#!/usr/bin/env python3
"""Where the time goes in hotpath's code cache, by fragment.

The code cache is a memfd mapping, which perf does not look up in
/tmp/perf-PID.map by itself; this joins the samples with that map:

    perf record -e cpu-clock -o perf.data -- build/hotpath --perf-map PROGRAM ARGS
    perf script -i perf.data -F ip | scripts/perf-map-report.py /tmp/perf-PID.map [N]

prints the N (default 20) fragments with the most samples, as
"share% hp:KIND:MODULE+OFFSET" (KIND: block, head or trace; OFFSET from the
start of the module's executable mapping), then the share outside the cache
(hotpath itself, the lookup routine, exit stubs, the kernel)."""
import bisect
import collections
import sys


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ('-h', '--help'):
        print(__doc__.strip())
        return 0 if len(sys.argv) > 1 else 2
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    frags = []
    with open(sys.argv[1]) as f:
        for line in f:
            start, size, name = line.rstrip('\n').split(' ', 2)
            frags.append((int(start, 16), int(size, 16), name))
    frags.sort()
    starts = [s for s, _, _ in frags]
    counts = collections.Counter()
    total = 0
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        ip = int(line, 16)
        total += 1
        i = bisect.bisect_right(starts, ip) - 1
        if i >= 0 and ip < frags[i][0] + frags[i][1]:
            counts[frags[i][2]] += 1
        else:
            counts['(outside the cache\'s fragments)'] += 1
    if not total:
        print('no samples', file=sys.stderr)
        return 1
    for name, n in counts.most_common(top):
        print(f'{100.0 * n / total:5.1f}% {name}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
