#!/bin/bash
# Counters that prove lazy FS (include/hotpath/thread.h) ran: most exits
# from the code cache are handled on the guest's FS, without switching to
# hotpath's (each switch is a system call where the CPU has no FSGSBASE);
# --debug-eager-fs switches at every exit and counts none; a guest that
# points FS at unmapped memory gets its Zydis canary reads retried; where
# the CPU has no FSGSBASE, exits while the guest's FS is 0 stay lazy too.
#
# usage: lazy_fs_test.sh HOTPATH PROGRAM FS_UNMAPPED
set -u
if [ $# -ne 3 ]; then
  echo "usage: lazy_fs_test.sh HOTPATH PROGRAM FS_UNMAPPED" >&2
  exit 2
fi
hp=$(realpath "$1") prog=$(realpath "$2") unmapped=$(realpath "$3")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
stat() { grep -F -- "  $2" "$1" | head -1 | awk '{print $NF}'; }
run() {
  local name=$1; shift
  "$hp" --stats --log="$tmp/$name.stats" $opts -- "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
  local st=$?
  [ $st -eq 0 ] || { fail "$name: exit status $st"; head -5 "$tmp/$name.err"; return 1; }
}

"$prog" >"$tmp/native.out" 2>&1 || fail "native run failed"
for mode in lazy poison eager; do
  case $mode in
    lazy) opts="--opt=2" ;;
    poison) opts="--opt=2 --debug-fs-poison" ;;
    eager) opts="--opt=2 --debug-eager-fs" ;;
  esac
  run $mode "$prog" || continue
  cmp -s "$tmp/native.out" "$tmp/$mode.out" || fail "$mode: output differs from the native run"
  entries=$(stat "$tmp/$mode.stats" "dispatcher entries")
  switches=$(stat "$tmp/$mode.stats" "switches to hotpath's own FS")
  lazy=$(stat "$tmp/$mode.stats" "exits from the cache that left the guest's FS")
  [ "${entries:-0}" -ge 200 ] || fail "$mode: only $entries dispatcher entries (the test proves nothing)"
  if [ $mode = eager ]; then
    [ "${switches:-1}" -eq 0 ] || fail "eager: $switches lazy switches counted (want 0: every exit switches at once)"
    [ "${lazy:-1}" -eq 0 ] || fail "eager: $lazy exits left the guest's FS in place (want 0)"
  else
    # The dynamic loader runs its first part with FS 0, where exits switch.
    [ "${lazy:-0}" -gt $((entries / 3)) ] ||
      fail "$mode: $lazy of $entries exits left the guest's FS in place (want more than a third)"
    [ "${switches:-0}" -lt $((lazy / 4)) ] ||
      fail "$mode: $switches switches to hotpath's FS for $lazy exits on the guest's FS (want fewer than a quarter)"
    # A recording runs each block it records from the dispatcher, on the
    # guest's FS: only building the trace switches (once per trace), so
    # the switches besides system calls are fewer than the blocks in the
    # traces built (at most the blocks recorded; this program makes few
    # system calls, which may or may not switch).
    syscalls=$(stat "$tmp/$mode.stats" "syscalls ")
    traced=$(stat "$tmp/$mode.stats" "blocks in traces built")
    [ "${traced:-0}" -ge 8 ] || fail "$mode: only $traced blocks in traces (the test proves nothing)"
    [ $((${switches:-0} - ${syscalls:-0})) -lt "${traced:-0}" ] ||
      fail "$mode: $switches switches to hotpath's FS, $syscalls system calls, $traced blocks in traces (want fewer switches beside the system calls than blocks recorded: the recording switched per block)"
    # Without FSGSBASE (each switch a system call), the loader's FS-0 part
    # runs on the null FS, whose fs:0x28 reads: every exit stays lazy.
    if ! grep -qw fsgsbase /proc/cpuinfo; then
      [ "${lazy:-0}" -eq "${entries:-1}" ] ||
        fail "$mode: $lazy of $entries exits left the guest's FS in place (no FSGSBASE: want all, FS 0 included)"
    fi
  fi
  echo "ok: $mode: $entries dispatcher entries, $lazy on the guest's FS, $switches switches to hotpath's FS"
done

opts="--opt=0"
if run unmapped "$unmapped"; then
  grep -q "^fs kept: yes, fs:0 reads the page" "$tmp/unmapped.out" || fail "unmapped: wrong output: $(cat "$tmp/unmapped.out")"
  retried=$(stat "$tmp/unmapped.stats" "reads of the guest's missing thread control block")
  [ "${retried:-0}" -gt 0 ] || fail "unmapped: no read retried on hotpath's FS (the test proves nothing)"
  echo "ok: unmapped FS: $retried reads retried"
fi
[ $fails -eq 0 ] && echo "all lazy FS counters as expected"
exit $((fails > 0))
