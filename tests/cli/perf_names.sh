#!/bin/bash
# perf attributes samples in hotpath's code cache to the guest's functions
# by name (issue 13): `perf record` of a -O0 sample under hotpath with
# --perf-map, then `perf report` must name the sample's hot functions; the
# same through --jitdump and `perf inject --jit`, whose dump must also hold
# well-formed records with the fragments' code. Skipped (status 77) with the
# reason when perf is missing or cannot record here.
set -u
hp=$(realpath "$1")
prog=$(realpath "$2") # the crc32 sample at -O0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export PERF_BUILDID_DIR=$tmp/.debug # perf inject's jitted objects go there
fails=0
# the jitdump file, without perf: header, then code-load records naming
# guest functions, each with its code
"$hp" --jitdump "$prog" >/dev/null 2>&1 & pid=$!
wait $pid
dump=/tmp/jit-$pid.dump
out=$(/usr/bin/python3 - "$dump" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
magic, version, hsize, mach, _, pid, _, _ = struct.unpack_from("<6I2Q", d, 0)
assert (magic, version, hsize, mach) == (0x4A695444, 1, 40, 62), "header"
off, n, names = hsize, 0, []
while off < len(d):
    rid, size, _, _, _, vma, addr, csize, idx = struct.unpack_from("<2IQ2I4Q", d, off)
    assert rid == 0 and vma == addr and idx == n and size == 56 + d.index(b"\0", off + 56) + 1 - (off + 56) + csize, "record %d" % n
    names.append(d[off + 56:d.index(b"\0", off + 56)].decode())
    off += size
    n += 1
assert off == len(d) and n > 10, "records"
print(n, "records;", "crc32_table named" if any(" crc32_table+" in s for s in names) else "no crc32_table")
PY
)
rm -f "$dump"
case $out in
  *"crc32_table named") echo "ok: jitdump: $out" ;;
  *) echo "FAIL: jitdump file: $out"; fails=$((fails + 1)) ;;
esac
perf=$(command -v perf) || { echo "SKIP: perf is not installed (Debian package linux-perf)"; exit $((fails ? 1 : 77)); }
if ! "$perf" record -q -e cpu-clock -o "$tmp/probe.data" -- /bin/true >"$tmp/probe.log" 2>&1; then
  echo "SKIP: perf cannot record on this machine: $(head -3 "$tmp/probe.log")"
  exit $((fails ? 1 : 77))
fi
"$perf" record -q -e cpu-clock -o "$tmp/perf.data" -- "$hp" --perf-map "$prog" >"$tmp/out" 2>"$tmp/err" ||
  { echo "FAIL: perf record of hotpath: $(cat "$tmp/err")"; exit 1; }
"$perf" report -i "$tmp/perf.data" --stdio --no-children --sort sym 2>/dev/null >"$tmp/report"
top=$(grep '%' "$tmp/report" | head -8)
echo "$top"
for fn in crc32_table crc32_bitwise adler32; do
  echo "$top" | grep -q "hp:.* $fn+0x" || { echo "FAIL: perf report does not name $fn among the top symbols"; fails=$((fails + 1)); }
done
# --jitdump: perf record -k 1 (CLOCK_MONOTONIC), perf inject --jit
touch "$tmp/mark"
"$perf" record -q -k 1 -e cpu-clock -o "$tmp/jit.data" -- "$hp" --jitdump "$prog" >/dev/null 2>"$tmp/err" ||
  { echo "FAIL: perf record of hotpath --jitdump: $(cat "$tmp/err")"; fails=$((fails + 1)); }
"$perf" inject --jit -i "$tmp/jit.data" -o "$tmp/injected.data" 2>"$tmp/err" ||
  { echo "FAIL: perf inject --jit: $(cat "$tmp/err")"; fails=$((fails + 1)); }
jtop=$("$perf" report -i "$tmp/injected.data" --stdio --no-children --sort sym 2>/dev/null | grep '%' | head -8)
echo "$jtop"
echo "$jtop" | grep -q "hp:.* crc32_table+0x" || { echo "FAIL: perf report after inject --jit does not name crc32_table"; fails=$((fails + 1)); }
find /tmp -maxdepth 1 -name 'jit-*.dump' -newer "$tmp/mark" -delete 2>/dev/null
echo "$fails failed"
[ "$fails" -eq 0 ]
