#!/bin/bash
# The return table's index (src/fragment/ibl.c, hp_ret_table_bits): where
# pext is fast, 18 low bits of the return address choose the entry, so two
# call sites whose return addresses are 64 KiB apart (ret_alias) keep their
# own entries: at --opt=0 (blocks only, every return through the table) no
# return may reach the other call's continuation. With 16 bits, every
# return of one of them did (400k); the output is right either way (each
# continuation checks the whole address): --debug-narrow-returns, which
# keeps the 16-bit index, must show those returns (and the right output).
# Skipped (77) after that on a CPU without a fast pext, where the table is
# indexed by 16 bits on purpose.
#
# usage: ret_alias_test.sh HOTPATH RET_ALIAS
set -u
if [ $# -ne 2 ]; then
  echo "usage: ret_alias_test.sh HOTPATH RET_ALIAS" >&2
  exit 2
fi
hp=$(realpath "$1") prog=$(realpath "$2")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
stat() { grep -F -- "  $1" "$2" | head -1 | awk '{print $NF}'; }
BITS="low bits of a return address that choose its return table entry"
MISS="returns that reached another call's continuation"
LOOK="indirect branch lookups that missed the inline table"

"$prog" >"$tmp/native" 2>&1 || fail "native run: exit status $?"
"$hp" --stats --log="$tmp/narrow.stats" --opt=0 --debug-narrow-returns -- "$prog" </dev/null >"$tmp/narrow.out" 2>"$tmp/narrow.err"
st=$?
[ $st -eq 0 ] || { fail "narrow: exit status $st"; head -5 "$tmp/narrow.err"; }
cmp -s "$tmp/native" "$tmp/narrow.out" || fail "narrow: output differs from the native run"
bits=$(stat "$BITS" "$tmp/narrow.stats") miss=$(stat "$MISS" "$tmp/narrow.stats")
if [ "$bits" != 16 ]; then
  fail "narrow: '$BITS' is '$bits' (want 16)"
elif [ -z "$miss" ] || [ "$miss" -lt 100000 ]; then
  fail "narrow: '$MISS' is '$miss' (want at least 100000: the two sites share an entry)"
else
  echo "ok: --debug-narrow-returns: 16-bit return table, $miss returns reached the other call's continuation"
fi
"$hp" --stats --log="$tmp/opt0.stats" --opt=0 -- "$prog" </dev/null >"$tmp/opt0.out" 2>"$tmp/opt0.err"
st=$?
[ $st -eq 0 ] || { fail "exit status $st"; head -5 "$tmp/opt0.err"; }
cmp -s "$tmp/native" "$tmp/opt0.out" || fail "output differs from the native run"
bits=$(stat "$BITS" "$tmp/opt0.stats") miss=$(stat "$MISS" "$tmp/opt0.stats")
if [ -z "$bits" ] || [ -z "$miss" ]; then
  fail "no counters '$BITS' / '$MISS' in --stats"
elif [ "$bits" = 16 ]; then
  echo "skip: this CPU has no fast pext: the return table is indexed by 16 bits ($miss returns reached another call's continuation)"
  [ $fails -eq 0 ] && exit 77
elif [ "$bits" != 18 ]; then
  fail "'$BITS' is $bits (want 16 or 18)"
elif [ "$miss" -gt 1000 ]; then
  fail "'$MISS' is $miss with an 18-bit index (want at most 1000: the two sites differ in bit 16)"
elif [ "$(stat "$LOOK" "$tmp/opt0.stats")" -gt 10000 ]; then
  fail "'$LOOK' is $(stat "$LOOK" "$tmp/opt0.stats") (want at most 10000: the returns must hit the table)"
else
  echo "ok: 18-bit return table, $miss returns reached another call's continuation"
fi
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
exit 0
