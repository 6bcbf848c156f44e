#!/bin/bash
# Links out of a rel32's reach go through a far-jump trampoline, one per
# exit, pointed anew at each relink. far_relink calls JIT code terabytes
# away 400 times after flushing it (mprotect): its call site is relinked
# every round, and must not take a new trampoline each time (it took 407).
#
# usage: far_relink_test.sh HOTPATH FAR_RELINK
set -u
if [ $# -ne 2 ]; then
  echo "usage: far_relink_test.sh HOTPATH FAR_RELINK" >&2
  exit 2
fi
hp=$(realpath "$1") prog=$(realpath "$2")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# stat FILE DESCRIPTION-PREFIX: the counter's value
stat() { grep -F -- "  $2" "$1" | head -1 | awk '{print $NF}'; }

rounds=400
for opt in 0 1 2; do
  name=opt$opt
  "$hp" --stats --log="$tmp/$name.stats" --opt=$opt -- "$prog" $rounds </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
  st=$?
  [ $st -eq 0 ] || { fail "$name: exit status $st"; head -5 "$tmp/$name.err"; continue; }
  grep -q "^far_relink: $rounds rounds" "$tmp/$name.out" || fail "$name: wrong output: $(cat "$tmp/$name.out")"
  flushed=$(stat "$tmp/$name.stats" "fragments flushed by munmap/mprotect")
  tramps=$(stat "$tmp/$name.stats" "far-jump trampolines made")
  [ "${flushed:-0}" -ge $rounds ] || fail "$name: $flushed fragments flushed (want at least $rounds: one per round)"
  [ "${tramps:-0}" -gt 0 ] || fail "$name: no far-jump trampoline (the JIT code was in reach: the test proves nothing)"
  [ "${tramps:-0}" -lt 50 ] || fail "$name: $tramps far-jump trampolines for $rounds relinks (want one per exit, reused)"
  echo "ok: $name: $flushed fragments flushed, $tramps far-jump trampolines"
done
[ $fails -eq 0 ] && echo "far_relink_test: all ok" || echo "far_relink_test: $fails failure(s)"
exit $((fails > 0))
