#!/bin/bash
# The main job: install what is missing, build, then run a -O0 sample under
# hotpath beside its native run (speed-up) and show what hotpath did: its
# statistics (--stats) and, for each trace, what the optimizer did
# (--log-level=2). usage: scripts/demo.sh [SAMPLE] (default crc32; see
# samples/ and docs/BENCHMARKS.md for the others).
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
build=${HOTPATH_BUILD:-build}
sample=${1:-crc32}
prog="$build/samples/$sample-O0"
echo "== hotpath compare: $prog (native vs. hotpath, alternating runs)"
"$build/hotpath" compare --runs 3 -- "$prog"
echo
echo "== what hotpath did (--stats)"
"$build/hotpath" --stats -- "$prog" >/dev/null
echo
echo "== what the optimizer did to each trace (--log-level=2)"
log=$(mktemp)
"$build/hotpath" --log-level=2 --log="$log" -- "$prog" >/dev/null
grep -E 'slots in registers:|not optimized:' "$log" | sed 's/^hotpath\[debug\]: //' || true
rm -f "$log"
