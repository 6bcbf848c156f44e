#!/bin/bash
# The program's loader variables are the program's (issue 15, item 6):
# LD_PRELOAD, LD_LIBRARY_PATH, LD_DEBUG, GLIBC_TUNABLES reach the program as
# natively and never hotpath's own loader or libc. Each case runs natively
# and under hotpath and compares stdout, stderr and status.
set -u
hp=$(realpath "$1")
ctor=$(realpath "$2")
origin_dlopen=$(realpath "$3")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
# same NAME -- env VAR=... program...: output (both streams) and status as natively
same() {
  local name=$1; shift 2
  local want got
  want=$("$@" 2>&1; echo "status $?")
  got=$(run_hp "$@" 2>&1; echo "status $?")
  if [ "$got" = "$want" ]; then
    echo "ok: $name"
  else
    echo "FAIL: $name"; echo "  natively: $want" | head -5; echo "  hotpath:  $got" | head -5
    fails=$((fails + 1))
  fi
}
# run_hp env VAR=... program...: the same command with hotpath (and the
# options in $hpopts) before the program
hpopts=
run_hp() {
  local args=("$@") i=1
  while [[ "${args[$i]}" == *=* ]]; do i=$((i + 1)); done
  "${args[@]:0:$i}" "$hp" $hpopts "${args[@]:$i}"
}
# a constructor of a preloaded library runs once, in the program
same preload-constructor -- env LD_PRELOAD="$ctor" /bin/echo hi
# ld.so's complaint about a missing preload is printed once
same preload-missing -- env LD_PRELOAD=/nonexistent/lib.so /bin/echo hi
# broken copies of hotpath's own libraries in LD_LIBRARY_PATH are the
# program's business (it does not use them)
mkdir "$tmp/lib"
for l in libelf.so.1 libz.so.1 libZydis.so.4.0 libdw.so.1; do echo broken > "$tmp/lib/$l"; done
same library-path-broken-libs -- env LD_LIBRARY_PATH="$tmp/lib" /bin/echo hi
# ... also in `hotpath compare`, whose hotpath runs start hotpath's core
# directly: its native runs get the variables, its core must not
if out=$(LD_LIBRARY_PATH="$tmp/lib" "$hp" compare --runs=1 /bin/echo hi 2>&1); then
  echo "ok: compare-library-path-broken-libs"
else
  echo "FAIL: compare with broken libraries in LD_LIBRARY_PATH:"; echo "$out" | tail -5; fails=$((fails + 1))
fi
# the launcher tells why it cannot start hotpath's core: missing (127) or
# not executable (126), with the file it tried
mkdir "$tmp/bin"; cp "$hp" "$tmp/bin/hotpath"
out=$("$tmp/bin/hotpath" /bin/true 2>&1); st=$?
if [ "$st" = 127 ] && [[ "$out" == *"hotpath-core: No such file"* ]]; then echo "ok: core-missing"; else
  echo "FAIL: launcher without its core: status $st: $out"; fails=$((fails + 1)); fi
cp "$(dirname "$hp")/hotpath-core" "$tmp/bin/"; chmod -x "$tmp/bin/hotpath-core"
out=$("$tmp/bin/hotpath" /bin/true 2>&1); st=$?
if [ "$st" = 126 ] && [[ "$out" == *"$tmp/bin/hotpath-core: Permission denied"* ]]; then echo "ok: core-not-executable"; else
  echo "FAIL: launcher with a core it cannot execute: status $st: $out"; fails=$((fails + 1)); fi
# the variables reach the program unchanged
same variables-reach-program -- env LD_PRELOAD="$ctor" LD_BIND_NOW=1 GLIBC_TUNABLES=glibc.malloc.tcache_count=0 \
  MALLOC_ARENA_MAX=2 /bin/sh -c 'env | grep -E "^(LD_|GLIBC_TUNABLES|MALLOC_)" | sort'
# ... and through an execve hotpath follows
same variables-through-exec -- env LD_BIND_NOW=1 /bin/sh -c 'exec /usr/bin/env' 
# $ORIGIN is the program's directory, also under --native (issue 15, item 15),
# also through a symbolic link (the kernel resolves it)
ln -s "$origin_dlopen" "$tmp/link"
for hpopts in --opt=2 --native; do
  same "origin $hpopts" -- env "$origin_dlopen"
  same "origin through a link $hpopts" -- env "$tmp/link"
done
hpopts=
# a variable that begins with a byte hotpath uses as a marker: everything is
# escaped instead, and comes back exactly (review finding: status 126)
for b in $'\x01' $'\x02' $'\x03' $'\x04'; do
  same "marker byte $(printf %q "$b")" -- env "${b}ODD=1" LD_PRELOAD="$ctor" LD_BIND_NOW=1 /usr/bin/env
done
same "marker byte through exec" -- env $'\x01ODD=1' LD_BIND_NOW=1 /bin/sh -c 'exec /usr/bin/env'
# ld.so's statistics are the program's only: as many reports as natively
want=$(LD_DEBUG=statistics /bin/true 2>&1 | grep -c 'runtime linker statistics')
got=$(LD_DEBUG=statistics "$hp" /bin/true 2>&1 | grep -c 'runtime linker statistics')
if [ "$got" = "$want" ]; then echo "ok: ld-debug-statistics ($got)"; else
  echo "FAIL: LD_DEBUG=statistics: $got reports under hotpath, $want natively"; fails=$((fails + 1)); fi
# an environment of loader variables that just fits natively fits under hotpath
# (hotpath hides them without making the environment longer)
out=$(/usr/bin/python3 - "$hp" <<'PY'
import subprocess, sys
def run(cmd, n):
    env = {"PATH": "/usr/bin:/bin"}
    env.update(("LD_X%d" % i, "v" * 40) for i in range(n))
    try:
        return subprocess.run(cmd, env=env, capture_output=True)
    except OSError:
        return None
lo, hi = 1000, 200000
while lo < hi - 1:
    mid = (lo + hi) // 2
    lo, hi = (mid, hi) if run(["/bin/true"], mid) else (lo, mid)
n = lo - 20
a, b = run(["/usr/bin/env"], n), run([sys.argv[1], "/usr/bin/env"], n)
print("same" if b and (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)
      else "differs: %s" % (b and (b.returncode, b.stderr[:200])))
PY
)
if [ "$out" = same ]; then echo "ok: loader variables up to the size limit"; else
  echo "FAIL: loader variables up to the size limit: $out"; fails=$((fails + 1)); fi
echo "$fails failed"
[ "$fails" -eq 0 ]
