#!/bin/bash
# Counters that prove a parent builds, before a fork, the blocks its earlier
# children built (src/runtime/clone.c: learn_from_children): fork_learn's
# children run code the parent never runs; at every --opt level the parent
# must have built some of it before its later forks, and every run must
# print what the program prints natively. With the feature off the parent
# builds none (the counter is 0) while the output stays right.
#
# usage: fork_learn_test.sh HOTPATH FORK_LEARN
set -u
if [ $# -ne 2 ]; then
  echo "usage: fork_learn_test.sh HOTPATH FORK_LEARN" >&2
  exit 2
fi
hp=$(realpath "$1") prog=$(realpath "$2")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
D="before a fork, blocks translated because an earlier child of this process built them"

"$prog" >"$tmp/native" 2>&1 || fail "native run: exit status $?"
for opt in 0 1 2; do
  name="opt$opt"
  "$hp" --stats --log="$tmp/$name.stats" --opt=$opt -- "$prog" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
  st=$?
  [ $st -eq 0 ] || { fail "$name: exit status $st"; head -5 "$tmp/$name.err"; continue; }
  cmp -s "$tmp/native" "$tmp/$name.out" || fail "$name: output differs from the native run"
  n=$(grep -F -- "  $D" "$tmp/$name.stats" | head -1 | awk '{print $NF}')
  if [ -z "$n" ]; then
    fail "$name: no counter '$D' in --stats"
  elif [ "$n" -lt 20 ]; then
    fail "$name: '$D' is $n (want at least 20: the children's code)"
  else
    echo "ok: $name: $n blocks built before forks from what children built"
  fi
done
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
exit 0
