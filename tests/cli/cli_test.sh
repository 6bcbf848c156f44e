#!/bin/bash
# The command line as a user meets it: options, exit codes, error messages.
set -u
hp=$(realpath "$1")
map_over_cache=$(realpath "$2")
rwx_gs=$(realpath "$3")
threads_fit=$(realpath "$4")
int80_calls=$(realpath "$5")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
# expect CODE PATTERN -- command...: exit status CODE and stderr matching PATTERN
expect() {
  local code=$1 pat=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local st=$?
  if [ "$st" -ne "$code" ] || { [ -n "$pat" ] && ! grep -qE -- "$pat" "$tmp/err" "$tmp/out"; }; then
    echo "FAIL: $* -> exit $st (want $code), output:"; cat "$tmp/err" "$tmp/out" | head -5
    fails=$((fails + 1))
  else
    echo "ok: $* -> $st"
  fi
}
printf 'hello\n' > "$tmp/text"; chmod +x "$tmp/text"
cp /bin/true "$tmp/noexec"; chmod 644 "$tmp/noexec"
head -c 40 /bin/true > "$tmp/trunc"; chmod +x "$tmp/trunc"
printf '#!/nonexistent/interp\n' > "$tmp/badscript"; chmod +x "$tmp/badscript"
printf '#!/bin/sh\necho "script $1"\nexit 4\n' > "$tmp/script.sh"; chmod +x "$tmp/script.sh"

expect 2 'usage: hotpath' -- "$hp"
expect 2 'unknown option' -- "$hp" --no-such-option /bin/true
expect 2 'opt=7: must be between 0 and 2' -- "$hp" --opt=7 /bin/true
expect 2 "disable-pass: unknown pass 'dce'" -- "$hp" --disable-pass=promote,dce /bin/true
expect 2 'disable-pass needs a value' -- "$hp" --disable-pass= /bin/true
expect 2 'opt-limit=-2: must be between -1 and' -- "$hp" --opt-limit=-2 /bin/true
expect 0 '' -- "$hp" --disable-pass=promote --opt-limit=0 /bin/true
expect 2 'log-level=5: must be between 0 and 2' -- "$hp" --log-level=5 /bin/true
expect 2 'not a number' -- "$hp" --opt=x /bin/true
# --cache-size: bytes or K/M/G, at least 1M, at most 1024G
expect 2 'cache-size=512K: must be between 1M and 1024G' -- "$hp" --cache-size=512K /bin/true
expect 2 'cache-size=2T: not a size' -- "$hp" --cache-size=2T /bin/true
expect 2 'cache-size=-1M: not a size' -- "$hp" --cache-size=-1M /bin/true
expect 2 'cache-size=: not a size' -- "$hp" --cache-size= /bin/true
expect 2 'cache-size needs a value' -- "$hp" --cache-size /bin/true
expect 2 'cache-size=99999999999G: not a size' -- "$hp" --cache-size=99999999999G /bin/true
expect 2 'cache-size=2000G: must be between' -- "$hp" --cache-size=2000G /bin/true
expect 0 '' -- "$hp" --cache-size=1M /bin/true
expect 0 '' -- "$hp" --cache-size=3g /bin/true
expect 0 '' -- "$hp" --cache-size=1048576 /bin/true
expect 0 'cache-size=SIZE' -- "$hp" --help
# hotpath options given to compare are checked there: a usage error (2)
expect 2 'bogus: unknown option' -- "$hp" compare --bogus /bin/true
expect 2 'opt=7: must be between 0 and 2' -- "$hp" compare --opt=7 /bin/true
expect 0 'usage: hotpath' -- "$hp" --help
expect 0 '^hotpath [0-9]' -- "$hp" --version
expect 127 'hotpath: .*No such file' -- "$hp" "$tmp/missing"
expect 127 'hotpath: no-such-cmd-xyz: command not found' -- "$hp" no-such-cmd-xyz
expect 127 'bad interpreter' -- "$hp" "$tmp/badscript"
expect 126 'Is a directory' -- "$hp" "$tmp"
expect 126 'Permission denied' -- "$hp" "$tmp/noexec"
expect 126 'not an ELF' -- "$hp" "$tmp/text"
expect 126 'truncated' -- "$hp" "$tmp/trunc"
expect 4 'script hi' -- "$hp" "$tmp/script.sh" hi
# a CRLF script's interpreter is named with its \r escaped
printf '#!/bin/sh\r\necho hi\r\n' > "$tmp/crlf.sh"; chmod +x "$tmp/crlf.sh"
expect 127 'bad interpreter /bin/sh\\r: No such file' -- "$hp" "$tmp/crlf.sh"
# five #! scripts in a chain run, as the kernel runs them; six do not
printf '#!/bin/sh\necho "chain $1"\n' > "$tmp/chain1"; chmod +x "$tmp/chain1"
for i in 2 3 4 5 6; do printf '#!%s\n' "$tmp/chain$((i - 1))" > "$tmp/chain$i"; chmod +x "$tmp/chain$i"; done
expect 0 'chain' -- "$hp" "$tmp/chain5"
expect 126 'too many levels of #! interpreters' -- "$hp" "$tmp/chain6"
expect 0 'blocks built' -- "$hp" --stats /bin/true
expect 0 '' -- env HOTPATH_OPTIONS=--native "$hp" /bin/true
expect 2 'HOTPATH_OPTIONS' -- env HOTPATH_OPTIONS=--bogus "$hp" /bin/true
expect 0 '' -- "$hp" --stats --log="$tmp/log" /bin/true
if ! grep -q 'blocks built' "$tmp/log"; then echo "FAIL: --log file has no stats"; fails=$((fails + 1)); fi
# hotpath's output is its own: --stats still reaches the stderr hotpath
# started with when the program closes its stderr (coreutils do at exit),
# and --log keeps its file out of the program's descriptors (its first
# open() gets 3, as natively)
expect 0 'blocks built' -- "$hp" --stats /bin/echo hi
expect 0 'blocks built' -- "$hp" --stats /bin/sh -c 'exec 2>&-; /bin/true'
out=$("$hp" --log="$tmp/log" /usr/bin/python3 -c 'import os; print(os.open("/dev/null", 0))')
[ "$out" = 3 ] || { echo "FAIL: with --log, the program's first descriptor is $out, not 3"; fails=$((fails + 1)); }
# ... also in a small descriptor table
out=$(ulimit -n 20; "$hp" --log="$tmp/log" /usr/bin/python3 -c 'import os; print(os.open("/dev/null", 0))')
[ "$out" = 3 ] || { echo "FAIL: ulimit -n 20: the program's first descriptor is $out, not 3"; fails=$((fails + 1)); }
# ... and bash still finds numbers from 10 up in a table of 13 (hotpath
# keeps no descriptor there without --stats or a log)
out=$(exec 10>&- 11>&- 12>&-; ulimit -n 13; "$hp" /bin/bash -c 'exec {fd}>/dev/null; exec {g}>/dev/null; echo $fd $g' 2>&1)
[ "$out" = "10 11" ] || { echo "FAIL: ulimit -n 13: bash's {fd} got '$out'"; fails=$((fails + 1)); }
# ... and a table of 4 leaves python the one free number it has natively:
# it gets as far, and fails the same way (issue 15, item 4)
want=$(ulimit -n 4; /usr/bin/python3 -c 'print(1)' 2>&1; echo "status $?")
out=$(ulimit -n 4; "$hp" /usr/bin/python3 -c 'print(1)' 2>&1; echo "status $?")
[ "$out" = "$want" ] || { echo "FAIL: ulimit -n 4: python3 under hotpath printed '$out', natively '$want'"; fails=$((fails + 1)); }
# hotpath's own address space is small (issue 15, item 14): a program and
# python start under a 100 MB limit; under 300 MB at least half as many
# threads fit as natively (each costs hotpath a host stack and a thread
# block; the code cache starts at 2 x 4 MiB and grows)
out=$(ulimit -v 100000; "$hp" /bin/echo ok 2>&1; "$hp" /usr/bin/python3 -c 'print("py ok")' 2>&1)
[ "$out" = "ok
py ok" ] || { echo "FAIL: ulimit -v 100000: '$out'"; fails=$((fails + 1)); }
want=$(ulimit -v 300000; "$threads_fit")
got=$(ulimit -v 300000; "$hp" "$threads_fit")
if [ "$got" -ge $((want / 2)) ] 2>/dev/null; then echo "ok: ulimit -v 300000: $got threads fit, $want natively"; else
  echo "FAIL: ulimit -v 300000: $got threads fit under hotpath, $want natively"; fails=$((fails + 1)); fi
# an unlimited stack under an address-space limit still starts
out=$(ulimit -s unlimited; ulimit -v 1500000; "$hp" /bin/echo ok 2>&1)
[ "$out" = ok ] || { echo "FAIL: ulimit -s unlimited -v 1500000: '$out'"; fails=$((fails + 1)); }
# a program argument that looks like hotpath's internal option is the program's
out=$(HOTPATH_OPTIONS=--stats "$hp" /bin/echo --exec-root-pid=1 2>&1 | grep -c '^  blocks built ')
[ "$out" = 1 ] || { echo "FAIL: HOTPATH_OPTIONS ignored for a program argument --exec-root-pid"; fails=$((fails + 1)); }
# --stats on a stderr pipe nobody reads: no SIGPIPE for the program
out=$(python3 -c 'import os, subprocess, sys
r, w = os.pipe(); os.close(r)
print(subprocess.run([sys.argv[1], "--stats", "/bin/true"], stderr=w).returncode)' "$hp")
[ "$out" = 0 ] || { echo "FAIL: --stats into a closed pipe: status $out"; fails=$((fails + 1)); }
# the log is appended to by the processes a script runs (forked, followed)
expect 0 '' -- "$hp" --verbose --log="$tmp/log" /bin/sh -c '/bin/true; echo done'
if tr -d '\000' < "$tmp/log" | cmp -s - "$tmp/log" && grep -q 'loaded /usr/bin/dash' "$tmp/log" &&
   grep -q 'loaded /usr/bin/true' "$tmp/log"; then
  echo "ok: --log shared by a script's processes"
else
  echo "FAIL: --log of a script's processes:"; head -3 "$tmp/log"; fails=$((fails + 1))
fi
# A fault in hotpath's own code is reported as an internal error with the
# guest pc and module, then hotpath aborts.
expect 134 'internal error: signal 11 at host pc' -- "$hp" --debug-crash-after=20 /bin/true
expect 134 'guest pc 0x[0-9a-f]+ \(ld-linux-x86-64.so.2\+0x[0-9a-f]+\), fragment 0x' -- "$hp" --debug-crash-after=20 /bin/true
# A guest that maps memory over the code cache gets a clear stop, not a crash.
expect 0 'no code cache here' -- "$map_over_cache"
expect 125 'hotpath: unsupported instruction at guest pc 0x[0-9a-f]+ \(anonymous\+0x1\) \(bytes 65 48 8b 04\)' -- "$hp" "$rwx_gs"
expect 125 'hotpath: the program wants to map memory at 0x[0-9a-f]+-0x[0-9a-f]+, where hotpath keeps its code cache' -- "$hp" "$map_over_cache"
# int 0x80: a 32-bit call that would change memory behind hotpath's back
# stops it, naming the call; the others are performed (counted, and
# exit_group through int 0x80 ends the program with --stats printed).
if "$int80_calls" refused >/dev/null 2>&1; then
  expect 0 'mmap2: mapped' -- "$int80_calls" refused
  expect 125 'hotpath: int 0x80 at 0x[0-9a-f]+: the 32-bit system call 192 \(mmap2\) is not supported' -- "$hp" "$int80_calls" refused
  expect 3 '100 getpid calls' -- "$hp" --opt=0 "$int80_calls" count
  expect 3 'int 0x80 system calls .* 101$' -- "$hp" --opt=0 --stats "$int80_calls" count
  expect 3 '' -- "$hp" "$int80_calls" exit
else
  # A kernel without 32-bit system calls: every int 0x80 faults natively
  # (SIGSEGV), those hotpath would refuse or emulate too.
  expect 139 '' -- "$int80_calls" refused
  expect 139 '' -- "$hp" "$int80_calls" refused
  expect 139 '' -- "$hp" --opt=0 "$int80_calls" count
  expect 139 '' -- "$int80_calls" exit
  expect 139 '' -- "$hp" "$int80_calls" exit
fi
# argv[0] is passed as typed; PATH search finds the program
out=$(cd /bin && PATH=/bin "$hp" sh -c 'echo $0')
[ "$out" = sh ] || { echo "FAIL: argv[0] '$out'"; fails=$((fails + 1)); }
# LD_* variables reach the guest, not hotpath
out=$(LD_HOTPATH_TEST=1 "$hp" /usr/bin/env | grep LD_HOTPATH_TEST)
[ "$out" = LD_HOTPATH_TEST=1 ] || { echo "FAIL: LD_ variable '$out'"; fails=$((fails + 1)); }
# /proc/self/exe is the guest's
out=$("$hp" /usr/bin/readlink /proc/self/exe)
[ "$out" = /usr/bin/readlink ] || { echo "FAIL: /proc/self/exe -> '$out'"; fails=$((fails + 1)); }
out=$("$hp" /bin/cat /proc/self/cmdline | tr '\0' ' ')
[ "$out" = "/bin/cat /proc/self/cmdline " ] || { echo "FAIL: cmdline '$out'"; fails=$((fails + 1)); }
# a setuid program runs natively, with its privileges (a note with --verbose)
if [ -u /usr/bin/passwd ]; then
  expect 0 'setuid, setgid or has capabilities: running it natively' -- "$hp" --verbose /usr/bin/passwd --help
fi
# execve: the program the guest executes runs under hotpath too (its loader
# message), with the guest's argv; not with --no-follow-exec
expect 0 'loaded /usr/bin/echo' -- "$hp" --verbose /bin/sh -c 'exec /bin/echo followed'
grep -q '^followed$' "$tmp/out" || { echo "FAIL: followed exec output"; fails=$((fails + 1)); }
# HOTPATH_OPTIONS that the program sets for its child is the program's business
expect 0 '' -- "$hp" /bin/sh -c 'HOTPATH_OPTIONS=--bogus /bin/echo hi'
grep -q '^hi$' "$tmp/out" || { echo "FAIL: HOTPATH_OPTIONS in the program's environment"; fails=$((fails + 1)); }
# ... and the options hotpath got from it reach the programs it follows
expect 0 'blocks built' -- env HOTPATH_OPTIONS=--stats "$hp" /usr/bin/env -i /bin/true
expect 0 '' -- "$hp" --verbose --no-follow-exec /bin/sh -c 'exec /bin/echo native'
if grep -q 'loaded /usr/bin/echo' "$tmp/err"; then echo "FAIL: --no-follow-exec followed"; fails=$((fails + 1)); fi
out=$("$hp" /bin/bash -c 'exec -a renamed /bin/sh -c "echo \$0"')
[ "$out" = renamed ] || { echo "FAIL: followed exec argv[0] '$out'"; fails=$((fails + 1)); }
# --stats comes from the program that ends the process; --report's FILE too,
# and children that exec write FILE.PID
expect 0 'blocks built' -- "$hp" --stats /bin/sh -c 'exec /bin/true'
rm -f "$tmp"/rep.json*
expect 0 '' -- "$hp" --report="$tmp/rep.json" /bin/sh -c '/bin/true; exec /usr/bin/env'
python3 - "$tmp" <<'PY' || fails=$((fails + 1))
import glob, json, sys
d = sys.argv[1]
root = json.load(open(d + "/rep.json"))["run"]
kids = [json.load(open(f))["run"] for f in glob.glob(d + "/rep.json.*")]
ok = root["program"] == "/usr/bin/env" and [k["program"] for k in kids] == ["/usr/bin/true"]
print(("ok" if ok else "FAIL") + ": exec reports:", root["program"], [k["program"] for k in kids])
sys.exit(0 if ok else 1)
PY
# --perf-map names every fragment in /tmp/perf-PID.map; the report script
# joins samples with it (one sample inside the first fragment, one outside).
"$hp" --perf-map /bin/true & pid=$!
wait $pid
map=/tmp/perf-$pid.map
if ! grep -qE '^[0-9a-f]+ [0-9a-f]+ hp:(block|head|trace):ld-linux-x86-64.so.2\+0x[0-9a-f]+$' "$map" 2>/dev/null; then
  echo "FAIL: --perf-map: no fragment lines in $map"; fails=$((fails + 1))
else
  first=$(head -1 "$map")
  name=${first#* * }
  out=$(printf '%x\n1\n' $((0x${first%% *} + 1)) | python3 "$(dirname "$0")/../../scripts/perf-map-report.py" "$map")
  echo "$out" | grep -qF " 50.0% $name" || { echo "FAIL: perf-map-report: '$out'"; fails=$((fails + 1)); }
  echo "$out" | grep -qF "50.0% (outside" || { echo "FAIL: perf-map-report outside: '$out'"; fails=$((fails + 1)); }
  # the first fragment is the dynamic loader's entry, named by its offset in
  # the file (as readelf, objdump and perf name it)
  entry=$(readelf -h "$(readlink -f /lib64/ld-linux-x86-64.so.2)" | awk '/Entry point/ {print $4}')
  [ "$name" = "hp:block:ld-linux-x86-64.so.2+$entry" ] ||
    { echo "FAIL: --perf-map first fragment '$name', want the loader's entry $entry"; fails=$((fails + 1)); }
  # fragments in functions the module's symbols name carry that name too
  grep -qE '^[0-9a-f]+ [0-9a-f]+ hp:block:ld-linux-x86-64.so.2\+0x[0-9a-f]+ __tunable_get_val(\+0x[0-9a-f]+)?$' "$map" ||
    { echo "FAIL: --perf-map: no fragment named by its function (__tunable_get_val)"; fails=$((fails + 1)); }
fi
rm -f "$map"
echo "$fails failures"
[ "$fails" -eq 0 ]
