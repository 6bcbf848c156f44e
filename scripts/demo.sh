#!/bin/bash
# The main job: install what is missing, build, then run a -O0 sample under
# hotpath beside its native run and its -O2 build's (speed-up, gap closed)
# and show what hotpath did: the report of one more run (hotpath report: the
# totals, the hottest traces and what the optimizer did to each; also as an
# HTML page, written to build/demo-report.html or $HOTPATH_DEMO_HTML).
# usage: scripts/demo.sh [SAMPLE]
# (default matmul; see samples/ and docs/BENCHMARKS.md for the others).
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
build=${HOTPATH_BUILD:-build}
sample=${1:-matmul}
prog="$build/samples/$sample-O0"
ref="$build/samples/$sample-O2"
html=${HOTPATH_DEMO_HTML:-$build/demo-report.html}
report=$(mktemp --suffix=.json)
echo "== hotpath compare: $prog natively, under hotpath, and its -O2 build natively (alternating runs),"
echo "   then what hotpath did (one more run with --report)"
"$build/hotpath" compare --runs 3 --reference="$ref" --report="$report" -- "$prog"
"$build/hotpath" report --html "$html" "$report" >/dev/null
rm -f "$report"
echo
echo "The same report as a page (the hot traces' code before and after, side by side): $html"
