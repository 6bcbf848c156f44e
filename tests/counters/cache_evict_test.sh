#!/bin/bash
# --cache-size: the counters that prove eviction ran and kept memory bounded.
# A program that makes far more JIT code than 1 MiB of cache holds (and a
# threaded one, with threads running and blocked while the cache flushes)
# must flush, unmap retired units and free their records, never map more
# than the limit, and keep its resident size far below what the same run
# takes with the default (1G) cache.
#
# usage: cache_evict_test.sh HOTPATH CACHE_EVICT CACHE_EVICT_THREADS
set -u
if [ $# -ne 3 ]; then
  echo "usage: cache_evict_test.sh HOTPATH CACHE_EVICT CACHE_EVICT_THREADS" >&2
  exit 2
fi
hp=$(realpath "$1") evict=$(realpath "$2") evict_threads=$(realpath "$3")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# stat FILE DESCRIPTION-PREFIX: the counter's value
stat() { grep -F -- "  $2" "$1" | head -1 | awk '{print $NF}'; }
# rss FILE: the guest's VmHWM line (kB), printed by the program's "rss" argument
rss() { awk '/^VmHWM:/ {print $2}' "$1"; }

limit=1048576
for opt in 0 1 2; do
  for prog in evict evict_threads; do
    exe=${!prog}
    name=$prog-opt$opt
    args=()
    [ $prog = evict ] && args=(rss)
    "$hp" --stats --log="$tmp/$name.stats" --opt=$opt --hot-threshold=2 --cache-size=1M -- "$exe" "${args[@]}" \
      </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
    st=$?
    [ $st -eq 0 ] || { fail "$name: exit status $st"; cat "$tmp/$name.err" | head -5; continue; }
    grep -q '^bad results: 0$' "$tmp/$name.out" || fail "$name: wrong results"
    f=$(stat "$tmp/$name.stats" "code cache flushes")
    u=$(stat "$tmp/$name.stats" "code cache units unmapped")
    b=$(stat "$tmp/$name.stats" "code cache bytes unmapped")
    r=$(stat "$tmp/$name.stats" "bytes of fragment records and lookup tables freed")
    peak=$(stat "$tmp/$name.stats" "code cache bytes mapped at most")
    lim=$(stat "$tmp/$name.stats" "code cache size limit")
    [ "${f:-0}" -ge 5 ] || fail "$name: $f flushes (want at least 5)"
    [ "${u:-0}" -gt 0 ] || fail "$name: no unit unmapped"
    [ "${b:-0}" -gt 0 ] || fail "$name: no bytes reclaimed"
    [ "${r:-0}" -gt 0 ] || fail "$name: no records freed"
    [ "${peak:-0}" -gt 0 ] && [ "$peak" -le $limit ] || fail "$name: peak cache bytes $peak (limit $limit)"
    [ "${lim:-0}" -eq $limit ] || fail "$name: limit reported as $lim"
    echo "ok: $name: $f flushes, $u units ($b bytes) unmapped, peak $peak"
  done
done

# Resident size: bounded with a small cache; the default cache holds it all.
small=$(rss "$tmp/evict-opt2.err")
"$hp" --stats --log="$tmp/big.stats" --opt=2 --hot-threshold=2 -- "$evict" rss </dev/null >"$tmp/big.out" 2>"$tmp/big.err"
big=$(rss "$tmp/big.err")
f=$(stat "$tmp/big.stats" "code cache flushes")
[ "${f:-1}" -eq 0 ] || fail "default cache: $f flushes (want none)"
if [ -z "$small" ] || [ -z "$big" ] || [ "$small" -gt 65536 ] || [ $((small * 4)) -gt "$big" ]; then
  fail "resident size with --cache-size=1M: ${small:-?} kB, default: ${big:-?} kB (want < 64 MiB and < a quarter)"
else
  echo "ok: resident size ${small} kB with --cache-size=1M, ${big} kB with the default"
fi

if [ $fails -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "all cache eviction counters as expected"
