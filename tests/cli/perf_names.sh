#!/bin/bash
# perf attributes samples in hotpath's code cache to the guest's functions
# by name (issue 13: --perf-map): `perf record` of a -O0 sample under
# hotpath, then `perf report` must name the sample's hot functions. Skipped
# (status 77) with the reason when perf is missing or cannot record here.
set -u
hp=$(realpath "$1")
prog=$(realpath "$2") # the crc32 sample at -O0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
perf=$(command -v perf) || { echo "SKIP: perf is not installed (Debian package linux-perf)"; exit 77; }
if ! "$perf" record -q -e cpu-clock -o "$tmp/probe.data" -- /bin/true >"$tmp/probe.log" 2>&1; then
  echo "SKIP: perf cannot record on this machine: $(head -3 "$tmp/probe.log")"
  exit 77
fi
"$perf" record -q -e cpu-clock -o "$tmp/perf.data" -- "$hp" --perf-map "$prog" >"$tmp/out" 2>"$tmp/err" ||
  { echo "FAIL: perf record of hotpath: $(cat "$tmp/err")"; exit 1; }
"$perf" report -i "$tmp/perf.data" --stdio --no-children --sort sym 2>/dev/null >"$tmp/report"
top=$(grep '%' "$tmp/report" | head -8)
echo "$top"
fails=0
for fn in crc32_table crc32_bitwise adler32; do
  echo "$top" | grep -q "hp:.* $fn+0x" || { echo "FAIL: perf report does not name $fn among the top symbols"; fails=$((fails + 1)); }
done
echo "$fails failed"
[ "$fails" -eq 0 ]
