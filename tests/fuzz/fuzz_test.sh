#!/bin/bash
# Differential fuzzing of the optimizer: COUNT programs of scripts/fuzz/genarms.py
# (seeds FIRST..FIRST+COUNT-1), each built -O0 and run natively and under
# hotpath at --opt=2 with traces from a head's second run, once as is and
# once with stores written through (--disable-pass=defer: where side traces
# share their loop's registers most), every pass verified. Every run must
# print what the native run printed and exit as it did; and, summed over the
# programs, loops must have been promoted and side traces must have shared
# registers (else the programs no longer test what they are for).
#
# usage: fuzz_test.sh HOTPATH GENARMS.PY FIRST COUNT
set -u
if [ $# -ne 4 ]; then
  echo "usage: fuzz_test.sh HOTPATH GENARMS.PY FIRST COUNT" >&2
  exit 2
fi
hp=$(realpath "$1") gen=$(realpath "$2") first=$3 count=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0 loops=0 shared=0
modes=("--opt=2 --hot-threshold=2 --opt-verify" "--opt=2 --hot-threshold=2 --opt-verify --disable-pass=defer")
# sum NAME DESCRIPTION: the counter of a --stats file (0 if absent)
sum() {
  awk -v d="$2" '/^  / { n = $NF; line = $0; sub(/^  +/, "", line); sub(/[ \t]+[0-9]+[ \t]*$/, "", line)
    if (line == d) { print n; found = 1; exit } } END { if (!found) print 0 }' "$1"
}
for ((s = first; s < first + count; s++)); do
  /usr/bin/python3 "$gen" "$s" >"$tmp/p.c" || { echo "FAIL: seed $s: the generator failed"; fails=$((fails + 1)); continue; }
  if ! ${CC:-cc} -O0 -w -o "$tmp/p" "$tmp/p.c"; then
    echo "FAIL: seed $s: the program does not build"; fails=$((fails + 1)); continue
  fi
  "$tmp/p" >"$tmp/native.out" 2>&1
  want=$?
  for m in "${modes[@]}"; do
    # shellcheck disable=SC2086
    "$hp" $m --stats --log="$tmp/stats" "$tmp/p" >"$tmp/hp.out" 2>&1
    got=$?
    if [ $got -ne $want ] || ! cmp -s "$tmp/native.out" "$tmp/hp.out"; then
      echo "FAIL: seed $s, hotpath $m: exit $got (native $want), output:"
      diff "$tmp/native.out" "$tmp/hp.out" | head -5
      fails=$((fails + 1))
    fi
    loops=$((loops + $(sum "$tmp/stats" "loop traces optimized (frame slots promoted to registers)")))
    shared=$((shared + $(sum "$tmp/stats" "links from an optimized trace's exit past the entry of a trace with the same slots in the same registers (registers kept)")))
  done
done
echo "$count programs, 2 modes each: $fails failed; loop traces optimized $loops, shared links $shared"
[ "$loops" -gt 0 ] || { echo "FAIL: no loop trace was optimized"; fails=$((fails + 1)); }
[ "$shared" -gt 0 ] || { echo "FAIL: no side trace shared its loop's registers"; fails=$((fails + 1)); }
[ $fails -eq 0 ]
