#!/bin/bash
# The main job: install what is missing, build, then run a -O0 sample under
# hotpath beside its native run (speed-up) and show what hotpath did: the
# report of a --report run (hotpath report: the totals, the hottest traces
# and what the optimizer did to each; also as an HTML page, written to
# build/demo-report.html or $HOTPATH_DEMO_HTML). usage: scripts/demo.sh [SAMPLE]
# (default matmul; see samples/ and docs/BENCHMARKS.md for the others).
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
echo "== what hotpath did: hotpath --report=FILE, then hotpath report FILE"
report=$(mktemp --suffix=.json)
html=${HOTPATH_DEMO_HTML:-$build/demo-report.html}
"$build/hotpath" --report="$report" -- "$prog" >/dev/null
"$build/hotpath" report --top=10 --html "$html" "$report"
rm -f "$report"
echo
echo "The same report as a page (the hot traces' code before and after, side by side): $html"
