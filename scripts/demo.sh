#!/bin/bash
# The main job: install what is missing, build, then run a -O0 sample under
# hotpath beside its native run (speed-up) and show what hotpath did (--stats).
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
build=${HOTPATH_BUILD:-build}
sample=${1:-matmul}
prog="$build/samples/$sample-O0"
echo "== hotpath compare: $prog (native vs. hotpath, alternating runs)"
"$build/hotpath" compare --runs 3 -- "$prog"
echo
echo "== what hotpath did (--stats)"
"$build/hotpath" --stats -- "$prog" >/dev/null
