#!/bin/bash
# Differential test: run PROGRAM natively and under hotpath, compare stdout,
# stderr and exit status.
# usage: difftest.sh HOTPATH "HOTPATH-OPTIONS" [--stdin FILE] [--no-stderr] -- PROGRAM [ARGS...]
set -u
hp=$(realpath "$1"); opts=$2; shift 2
stdin=/dev/null; cmp_stderr=1
while [ $# -gt 0 ]; do
  case $1 in
    --stdin) stdin=$2; shift 2 ;;
    --no-stderr) cmp_stderr=0; shift ;;
    --) shift; break ;;
    *) echo "difftest: bad argument $1" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Paths given relative to the build directory stay valid after the cd.
[ "$stdin" = /dev/null ] || stdin=$(realpath "$stdin")
args=()
for a in "$@"; do
  if [[ "$a" == */* && -e "$a" && "$a" != /* ]]; then args+=("$(realpath "$a")"); else args+=("$a"); fi
done
set -- "${args[@]}"
cd "$tmp"
# Each side runs for at most $limit s. timeout(1) exits 124 when it had to
# stop the command with SIGTERM, or 137 when the command ignored SIGTERM and
# was killed 5 s later; either status once the limit has passed is a
# time-out (a program's own exit 124 is not).
limit=100
timed_out() { # STATUS START-SECONDS
  { [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; } && [ $((SECONDS - $2)) -ge $limit ]
}
start=$SECONDS
timeout -k 5 $limit "$@" <"$stdin" >n.out 2>n.err; nst=$?
n_timed_out=0; timed_out $nst $start && n_timed_out=1
start=$SECONDS
# shellcheck disable=SC2086
timeout -k 5 $limit "$hp" $opts -- "$@" <"$stdin" >h.out 2>h.err; hst=$?
h_timed_out=0; timed_out $hst $start && h_timed_out=1
fail=0
# A hang on either side is a failure, even when both sides hung (both 124).
if [ $n_timed_out = 1 ]; then echo "native run timed out (after $limit s, status $nst)"; fail=1; fi
if [ $h_timed_out = 1 ]; then echo "hotpath run timed out (after $limit s, status $hst)"; fail=1; fi
if [ $nst -ne $hst ]; then echo "exit status differs: native $nst, hotpath $hst"; fail=1; fi
if ! cmp -s n.out h.out; then echo "stdout differs:"; diff n.out h.out | head -20; fail=1; fi
if [ $cmp_stderr = 1 ] && ! cmp -s n.err h.err; then echo "stderr differs:"; diff n.err h.err | head -20; fail=1; fi
if [ $fail = 1 ]; then echo "command: $hp $opts -- $*"; exit 1; fi
echo "identical (exit $nst, $(wc -c <n.out) bytes of stdout)"
exit 0
