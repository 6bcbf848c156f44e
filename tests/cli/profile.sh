#!/bin/bash
# Persistent profiles (issue 14): --profile-save records the trace heads of
# a run, merged with the runs the file holds; --profile-use traces them
# without waiting to prove their rate; a module whose build-id changed is
# ignored with a notice. Asserts on the counters that prove each part ran.
set -u
hp=$(realpath "$1")
prog_a=$(realpath "$2")   # a -O0 sample with hot loops
prog_b=$(realpath "$3")   # another one
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
stat_of() { # NAME FILE: the counter's value in --stats output (the line that starts with NAME)
  awk -v n="$1" '{ s = $0; sub(/^ +/, "", s) } substr(s, 1, length(n) + 1) == n " " { print $NF }' "$2"
}
prof=$tmp/p.prof
# 1. a run saves its heads: a header, then one line per head
"$hp" --stats --profile-save="$prof" "$prog_a" >"$tmp/out1" 2>"$tmp/err1" || fail "run with --profile-save failed"
saved=$(stat_of "trace heads of this run written by --profile-save" "$tmp/err1")
built=$(stat_of "traces built" "$tmp/err1")
[ "$(head -1 "$prof")" = "hotpath-profile 1" ] || fail "profile header: $(head -1 "$prof")"
lines=$(($(wc -l <"$prof") - 1))
[ "${saved:-0}" -gt 0 ] && [ "$lines" = "$saved" ] && [ "$saved" -le "$built" ] ||
  fail "saved $saved heads, $lines lines, $built traces built"
grep -q " $prog_a\$" "$prof" || fail "the program's own heads are not in the profile"
# 2. a second program's heads are added, the first's kept
"$hp" --profile-save="$prof" "$prog_b" >/dev/null 2>&1 || fail "second run failed"
grep -q " $prog_a\$" "$prof" && grep -q " $prog_b\$" "$prof" || fail "merge lost a program's heads"
cp "$prof" "$tmp/before"
"$hp" --profile-save="$prof" "$prog_a" >/dev/null 2>&1
# Saving the same program again keeps every entry and adds none twice (the
# heads a run traces depend on timing: a run on a busy machine may trace a
# few more or fewer, so the count itself may change).
[ -z "$(sort "$prof" | uniq -d)" ] || fail "saving the same run again duplicated entries: $(sort "$prof" | uniq -d | head -3)"
[ -z "$(comm -23 <(sort "$tmp/before") <(sort "$prof"))" ] || fail "saving the same run again lost entries"
# 3. the profile is used: its heads are traced, output unchanged
"$hp" --stats --profile-use="$prof" "$prog_a" >"$tmp/out3" 2>"$tmp/err3" || fail "run with --profile-use failed"
cmp -s "$tmp/out1" "$tmp/out3" || fail "output differs with --profile-use"
used=$(stat_of "trace heads named by --profile-use (traced without proving their rate)" "$tmp/err3")
[ "${used:-0}" -gt 0 ] || fail "no head traced from the profile (used=$used)"
# 4. a changed build-id: entries ignored, one notice
{ echo "hotpath-profile 1"
  grep " $prog_a\$" "$prof" | sed -E 's|^[0-9a-f]+ |0123456789abcdef0123456789abcdef01234567 |'; } >"$tmp/changed.prof"
"$hp" --stats --profile-use="$tmp/changed.prof" "$prog_a" >/dev/null 2>"$tmp/err4"
[ "$(grep -c "changed since it was profiled" "$tmp/err4")" = 1 ] || fail "no single notice for a changed module"
[ "$(stat_of "trace heads named by --profile-use (traced without proving their rate)" "$tmp/err4")" = 0 ] ||
  fail "heads of a changed module were used"
# 5. a missing profile: the run goes on
"$hp" --profile-use="$tmp/missing.prof" "$prog_a" >"$tmp/out5" 2>&1 && cmp -s "$tmp/out1" "$tmp/out5" ||
  fail "a missing profile stopped the run"
# 6. a profile hotpath cannot write: a message, the program's own status
"$hp" --profile-save="$tmp/no/such/dir/p" "$prog_a" >/dev/null 2>"$tmp/err6"; st=$?
[ $st = 0 ] && grep -q "profile-save=.*No such file" "$tmp/err6" || fail "unwritable profile: status $st, $(cat "$tmp/err6")"
echo "$fails failed"
[ "$fails" -eq 0 ]
