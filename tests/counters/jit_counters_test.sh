#!/bin/bash
# Counters that prove two JIT-code paths ran:
# - links out of a rel32's reach go through a far-jump trampoline, one per
#   exit, pointed anew at each relink. far_relink calls JIT code terabytes
#   away 400 times after flushing it (mprotect): its call site is relinked
#   every round, and must not take a new trampoline each time (it took 407);
# - blocks of anonymous memory that a reprotection flushed with their bytes
#   unchanged are put back, not translated again. jit_reprotect makes its
#   code area writable and executable again for each of 300 functions and
#   calls them all each round (LuaJIT's way): about 134,000 blocks flushed,
#   nearly all put back (before: each translated again), and put back with
#   the links they had and the blocks they lead to, not each through the
#   dispatcher (140,000 dispatcher entries before, about 51,000).
#
# usage: jit_counters_test.sh HOTPATH FAR_RELINK JIT_REPROTECT
set -u
if [ $# -ne 3 ]; then
  echo "usage: jit_counters_test.sh HOTPATH FAR_RELINK JIT_REPROTECT" >&2
  exit 2
fi
hp=$(realpath "$1") far=$(realpath "$2") reprotect=$(realpath "$3")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# stat FILE DESCRIPTION-PREFIX: the counter's value
stat() { grep -F -- "  $2" "$1" | head -1 | awk '{print $NF}'; }
# run NAME PROGRAM ARGS...: under hotpath --stats with the options in $opts
run() {
  local name=$1; shift
  "$hp" --stats --log="$tmp/$name.stats" $opts -- "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
  local st=$?
  [ $st -eq 0 ] || { fail "$name: exit status $st"; head -5 "$tmp/$name.err"; return 1; }
}

rounds=400
for opt in 0 1 2; do
  name=far-opt$opt opts="--opt=$opt"
  run $name "$far" $rounds || continue
  grep -q "^far_relink: $rounds rounds" "$tmp/$name.out" || fail "$name: wrong output: $(cat "$tmp/$name.out")"
  flushed=$(stat "$tmp/$name.stats" "fragments flushed by munmap/mprotect")
  tramps=$(stat "$tmp/$name.stats" "far-jump trampolines made")
  [ "${flushed:-0}" -ge $rounds ] || fail "$name: $flushed fragments flushed (want at least $rounds: one per round)"
  [ "${tramps:-0}" -gt 0 ] || fail "$name: no far-jump trampoline (the JIT code was in reach: the test proves nothing)"
  [ "${tramps:-0}" -lt 50 ] || fail "$name: $tramps far-jump trampolines for $rounds relinks (want one per exit, reused)"
  echo "ok: $name: $flushed fragments flushed, $tramps far-jump trampolines"
done

for opt in 0 1 2; do
  name=reprotect-opt$opt opts="--opt=$opt"
  run $name "$reprotect" 300 || continue
  grep -q "^jit_reprotect: 300 rounds, 0 wrong results" "$tmp/$name.out" || fail "$name: wrong output: $(cat "$tmp/$name.out")"
  flushed=$(stat "$tmp/$name.stats" "fragments flushed by munmap/mprotect")
  revived=$(stat "$tmp/$name.stats" "blocks of JIT code put back")
  built=$(stat "$tmp/$name.stats" "blocks built")
  entries=$(stat "$tmp/$name.stats" "dispatcher entries")
  [ "${flushed:-0}" -ge 100000 ] || fail "$name: $flushed fragments flushed (want 100000 or more)"
  [ "${revived:-0}" -ge $((flushed * 9 / 10)) ] || fail "$name: $revived of $flushed flushed blocks put back (want 90% or more)"
  [ "${built:-0}" -lt 20000 ] || fail "$name: $built blocks built (want fewer than 20000: those put back are not translated again)"
  [ "${entries:-0}" -lt $((flushed / 2)) ] ||
    fail "$name: $entries dispatcher entries for $flushed flushed blocks (want fewer than half: put back linked, with their successors)"
  echo "ok: $name: $flushed fragments flushed, $revived put back, $built blocks built, $entries dispatcher entries"
done
[ $fails -eq 0 ] && echo "jit_counters_test: all ok" || echo "jit_counters_test: $fails failure(s)"
exit $((fails > 0))
