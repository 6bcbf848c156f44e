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
timeout 100 "$@" <"$stdin" >n.out 2>n.err; nst=$?
# shellcheck disable=SC2086
timeout 100 "$hp" $opts -- "$@" <"$stdin" >h.out 2>h.err; hst=$?
fail=0
if [ $nst -ne $hst ]; then echo "exit status differs: native $nst, hotpath $hst"; fail=1; fi
if ! cmp -s n.out h.out; then echo "stdout differs:"; diff n.out h.out | head -20; fail=1; fi
if [ $cmp_stderr = 1 ] && ! cmp -s n.err h.err; then echo "stderr differs:"; diff n.err h.err | head -20; fail=1; fi
if [ $fail = 1 ]; then echo "command: $hp $opts -- $*"; exit 1; fi
echo "identical (exit $nst, $(wc -c <n.out) bytes of stdout)"
exit 0
