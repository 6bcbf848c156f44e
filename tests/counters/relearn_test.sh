#!/bin/bash
# Counters that prove inline caches learn a new target: ic_phase calls
# through two sites that keep one target for 200,000 calls, then change it
# for good, three times. Built -O0 they are two `call r64` sites; -O2 they
# become one `jmp [mem]` site (a tail call through memory; the other a `jmp
# reg`, which has no inline cache). With one thread, at --opt=0, each site
# learns the new target after 65,536 misses: at least 6 (-O0) and 3 (-O2)
# learnt anew. Once a thread has run (ic_phase thread), none at any --opt
# level (another thread could be between a site's compare and its jump).
# At --opt=1 and 2 the loop runs in a trace, whose guards handle the change
# (tests/traces/indswap). Every run must print what the program prints
# natively.
#
# usage: relearn_test.sh HOTPATH IC_PHASE_O0 IC_PHASE_O2
set -u
if [ $# -ne 3 ]; then
  echo "usage: relearn_test.sh HOTPATH IC_PHASE_O0 IC_PHASE_O2" >&2
  exit 2
fi
hp=$(realpath "$1") o0=$(realpath "$2") o2=$(realpath "$3")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
stat() { grep -F -- "  $2" "$1" | head -1 | awk '{print $NF}'; }
D="times an indirect call/jmp site learnt another target (65536 misses, one thread)"

for build in O0 O2; do
  if [ $build = O0 ]; then prog=$o0 want=6; else prog=$o2 want=3; fi
  "$prog" >"$tmp/$build.native" 2>&1 || fail "$build: native run: exit status $?"
  for opt in 0 1 2; do
    for mode in "" thread; do
      name="$build-opt$opt${mode:+-$mode}"
      "$hp" --stats --log="$tmp/$name.stats" --opt=$opt -- "$prog" $mode </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
      st=$?
      [ $st -eq 0 ] || { fail "$name: exit status $st"; head -5 "$tmp/$name.err"; continue; }
      cmp -s "$tmp/$build.native" "$tmp/$name.out" || fail "$name: output differs from the native run"
      n=$(stat "$tmp/$name.stats" "$D")
      if [ -z "$n" ]; then
        fail "$name: no counter '$D' in --stats"
      elif [ -z "$mode" ] && [ $opt = 0 ] && [ "$n" -lt $want ]; then
        fail "$name: sites learnt anew $n times (want at least $want: three changes of target per site)"
      elif [ -n "$mode" ] && [ "$n" -ne 0 ]; then
        fail "$name: sites learnt anew $n times after a second thread (want 0)"
      else
        echo "ok: $name: sites learnt anew $n times"
      fi
    done
  done
done
echo "relearn_test: $fails failure(s)"
[ $fails -eq 0 ]
