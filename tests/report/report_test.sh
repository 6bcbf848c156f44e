#!/bin/bash
# --report=FILE: the JSON it writes follows docs/report-schema.json (checked
# with python3-jsonschema) and says what happened: how the run ended
# (status or signal), which traces the optimizer changed and how (a float
# slot in an xmm register, calls inlined), why others were left alone
# (the deopt exit), one file per process of a fork tree, and a clear error
# when FILE cannot be written.
#
# usage: report_test.sh HOTPATH SCHEMA FPROMOTE CPROMOTE SEGV SYMLIB
#   (FPROMOTE, CPROMOTE: tests/traces programs built -O0; SEGV: segv.c;
#   SYMLIB: symlib.c, a hot loop in libc's bsearch)
set -u
if [ $# -ne 6 ]; then
  echo "usage: report_test.sh HOTPATH SCHEMA FPROMOTE CPROMOTE SEGV SYMLIB" >&2
  exit 2
fi
hp=$(realpath "$1") schema=$(realpath "$2") fpromote=$(realpath "$3") cpromote=$(realpath "$4") segv=$(realpath "$5")
symlib=$(realpath "$6")
py=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# check FILE PYTHON-EXPRESSION...: FILE validates against the schema and
# each expression (r: the report) is true.
check() {
  local file=$1; shift
  "$py" - "$schema" "$file" "$@" <<'PY' || fails=$((fails + 1))
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
r = json.load(open(sys.argv[2]))
errors = list(Draft202012Validator(schema).iter_errors(r))
for e in errors[:5]:
    print(f"FAIL: {sys.argv[2]}: schema: {'/'.join(map(str, e.path))}: {e.message}")
ok = not errors
for expr in sys.argv[3:]:
    if not eval(expr, {"r": r}):
        print(f"FAIL: {sys.argv[2]}: not true: {expr}")
        ok = False
if ok:
    print(f"ok: {sys.argv[2]}: {len(r['traces'])} traces, {len(sys.argv) - 3} checks")
sys.exit(0 if ok else 1)
PY
}

"$hp" --report="$tmp/f.json" "$fpromote" >/dev/null || fail "fpromote exited $?"
check "$tmp/f.json" \
  "r['run']['exit_status'] == 0 and r['run']['signal'] is None" \
  "r['run']['program'] == '$fpromote'" \
  "r['run']['options']['report'] == '$tmp/f.json' and r['run']['options']['opt'] == 2" \
  "any(m['name'] == '$(basename "$fpromote")' for m in r['modules'])" \
  "any(s['register'].startswith('xmm') for t in r['traces'] if t['optimized'] for s in t['promote']['slots'])" \
  "sum(t['optimized'] for t in r['traces']) == r['totals']['opt_traces'] + r['totals']['opt_traces_side'] + r['totals']['opt_traces_fold_only']" \
  "sum(t.get('fold_only', False) for t in r['traces']) == r['totals']['opt_traces_fold_only'] > 0" \
  "all(t['promote']['slots'] == [] and t['not_promoted_because'] for t in r['traces'] if t.get('fold_only'))" \
  "len(r['traces']) == r['totals']['traces_built']" \
  "[t['instructions_run_estimate'] for t in r['traces']] == sorted((t['instructions_run_estimate'] for t in r['traces']), reverse=True)" \
  "r['traces'][0]['entries'] > 1000 and r['traces'][0]['where'].startswith('$(basename "$fpromote")+0x')" \
  "any((t['function'] or '').startswith('floats+0x') and t['optimized'] for t in r['traces'])" \
  "any((t['function'] or '').startswith('spin_until_handler+0x') for t in r['traces'])"

"$hp" --report="$tmp/c.json" "$cpromote" >/dev/null || fail "cpromote exited $?"
check "$tmp/c.json" \
  "sum(t.get('returns_unchecked', 0) for t in r['traces']) == r['totals']['opt_returns_known'] > 0" \
  "sum('code' in t for t in r['traces']) == min(20, len(r['traces']))" \
  "all(t['code']['syntax'] == 'intel' and len(t['code']['insns']) >= t['guest_instructions'] for t in r['traces'] if 'code' in t)" \
  "any('[rbp-' in x['guest'] and not any('[rbp-' in h for h in x['host']) and any(s['register'] in h for h in x['host'] for s in t['promote']['slots']) for t in r['traces'] if t['optimized'] and 'code' in t for x in t['code']['insns'])" \
  "any(t['optimized'] and t['promote']['calls_inlined'] for t in r['traces'])" \
  "sum(t['optimized'] and t['promote']['stores_deferred'] for t in r['traces']) == r['totals']['opt_traces_deferred'] > 0" \
  "sum(t['optimized'] and t['promote']['globals_checked_at_entry'] for t in r['traces']) == r['totals']['opt_traces_globals_checked']" \
  "any(t['dropped'] and t['optimized'] for t in r['traces'])" \
  "any('deopt' in t.get('not_optimized_because', '') for t in r['traces'])"

# Code cache flushes (as a full --cache-size makes them): the traces of
# flushed generations are still reported, with their code
"$hp" --debug-flush-every=30 --report="$tmp/fl.json" "$fpromote" >/dev/null || fail "fpromote (flushes) exited $?"
check "$tmp/fl.json" \
  "r['totals']['cache_flushes'] > 10" \
  "len(r['traces']) == r['totals']['traces_built'] > 0" \
  "any((t['function'] or '').startswith('floats+0x') and t['optimized'] for t in r['traces'])" \
  "sum('code' in t for t in r['traces']) == min(20, len(r['traces']))" \
  "all(len(t['code']['insns']) >= t['guest_instructions'] for t in r['traces'] if 'code' in t)"

# --opt=1: nothing optimized, and the report says why
"$hp" --opt=1 --report="$tmp/o1.json" "$fpromote" >/dev/null || fail "fpromote --opt=1 exited $?"
check "$tmp/o1.json" \
  "r['traces'] and all(t['not_optimized_because'] == '--opt is below 2' for t in r['traces'])"

# a process that dies of a fault it does not catch (as natively: SIGSEGV)
( "$hp" --report="$tmp/s.json" "$segv" arg1 >"$tmp/s.out" 2>/dev/null )
st=$?
[ $st -eq 139 ] || fail "segv exited $st under hotpath (want 139: SIGSEGV)"
[ "$(cat "$tmp/s.out")" = 3500000 ] || fail "segv output '$(cat "$tmp/s.out")'"
check "$tmp/s.json" "r['run']['signal'] == 11 and r['run']['exit_status'] is None" \
  "r['run']['arguments'] == ['$segv', 'arg1']" "len(r['traces']) >= 1"
# --stats on the same death: the statistics are printed, then the process
# dies of the fault (the delivery code holds the lock: no deadlock)
"$hp" --stats "$segv" >/dev/null 2>"$tmp/stats.err"
st=$?
[ $st -eq 139 ] || fail "segv --stats exited $st (want 139)"
grep -q "hotpath statistics" "$tmp/stats.err" || fail "segv --stats printed no statistics"
# a forked child that exits 3
out=$("$hp" --report="$tmp/k.json" /bin/sh -c '(exit 3); echo $?')
[ "$out" = 3 ] || fail "subshell output '$out'"
check "$tmp/k.json" "r['run']['exit_status'] == 0"
child=$(ls "$tmp"/k.json.* 2>/dev/null | head -1)
if [ -z "$child" ]; then
  fail "no report from the forked child (k.json.PID)"
else
  check "$child" "r['run']['exit_status'] == 3" "str(r['run']['pid']) == '${child##*.}'"
fi

# the report's counters are --stats' own
"$hp" --report="$tmp/cs.json" --stats --log="$tmp/cs.stats" "$cpromote" >/dev/null || fail "cpromote --stats exited $?"
for pair in "opt_traces:loop traces optimized (frame slots promoted to registers)" \
            "opt_slots_promoted:frame slots promoted to registers" \
            "opt_returns_known:inlined returns whose check was removed (no store can reach their slot)" \
            "traces_built:traces built"; do
  key=${pair%%:*} desc=${pair#*:}
  want=$(awk -v d="$desc" '{ line = $0; sub(/^ +/, "", line); n = $NF; sub(/[ \t]+[0-9]+[ \t]*$/, "", line)
                             if (line == d) print n }' "$tmp/cs.stats")
  check "$tmp/cs.json" "r['totals']['$key'] == ${want:-None}" >/dev/null || fail "report $key differs from --stats '$desc' ($want)"
done

# functions: a program without symbols (stripped: module+offset only) and a
# loop in a shared library's exported function (libc's bsearch)
strip -o "$tmp/stripped" "$cpromote"
"$hp" --report="$tmp/st.json" "$tmp/stripped" >/dev/null || fail "stripped cpromote exited $?"
check "$tmp/st.json" \
  "all(t['function'] is None for t in r['traces'] if t['where'].startswith('stripped+0x'))" \
  "sum(t['where'].startswith('stripped+0x') for t in r['traces']) >= 3"
# a stripped program whose separate debug file is installed by build-id
# (as Debian's -dbgsym packages do under /usr/lib/debug/.build-id/)
id=$(readelf -n "$cpromote" | awk '/Build ID/ {print $3}')
objcopy --only-keep-debug "$cpromote" "$tmp/cp.debug"
strip -o "$tmp/stripped2" "$cpromote"
mkdir -p "$tmp/debug/.build-id/${id:0:2}" && mv "$tmp/cp.debug" "$tmp/debug/.build-id/${id:0:2}/${id:2}.debug"
HOTPATH_DEBUG_FILE_DIRECTORY="$tmp/debug" "$hp" --report="$tmp/dbg.json" "$tmp/stripped2" >/dev/null ||
  fail "stripped2 exited $?"
check "$tmp/dbg.json" \
  "[m for m in r['modules'] if m['name'] == 'stripped2'][0]['build_id'] == '$id'" \
  "[m for m in r['modules'] if m['name'] == 'stripped2'][0]['debug_file'] == '$tmp/debug/.build-id/${id:0:2}/${id:2}.debug'" \
  "[m for m in r['modules'] if m['name'] == 'stripped2'][0]['path'] == '$tmp/stripped2'" \
  "sum(bool(t['function']) for t in r['traces'] if t['where'].startswith('stripped2+0x')) >= 3" \
  "any((t['function'] or '').startswith('main+0x') for t in r['traces'])"
check "$tmp/st.json" "[m for m in r['modules'] if m['name'] == 'stripped'][0]['debug_file'] is None"
"$hp" --report="$tmp/lib.json" "$symlib" >/dev/null || fail "symlib exited $?"
check "$tmp/lib.json" \
  "any(t['where'].startswith('libc.so.6+0x') and (t['function'] or '').startswith('bsearch+0x') for t in r['traces'])" \
  "any(x.get('line', '').startswith('symlib.c:') and 'bsearch(&key' in x.get('source', '') for t in r['traces'] if 'code' in t for x in t['code']['insns'])" \
  "any((t['function'] or '').startswith('main+0x') for t in r['traces'])"

# --report-code=N and --report-att: code for the N hottest traces, in AT&T syntax
"$hp" --report="$tmp/att.json" --report-code=2 --report-att "$cpromote" >/dev/null || fail "cpromote --report-att exited $?"
check "$tmp/att.json" \
  "sum('code' in t for t in r['traces']) == 2" \
  "all(t['code']['syntax'] == 'att' for t in r['traces'] if 'code' in t)" \
  "any('%rbp' in x['guest'] for t in r['traces'] if 'code' in t for x in t['code']['insns'])"

# hotpath report --html: one self-contained page, drawn by its script
# without errors in headless Chromium (Debian's chromium, scripts/deps.sh)
"$hp" report --html "$tmp/c.html" "$tmp/c.json" >/dev/null || fail "hotpath report --html exited $?"
grep -qE '<(link|img|iframe)|src=|https?://' "$tmp/c.html" && fail "the HTML page refers to something outside it"
chromium=$(command -v chromium || command -v chromium-browser)
if [ -z "$chromium" ]; then
  fail "no chromium to render the HTML report in (scripts/deps.sh installs Debian's chromium)"
else
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --enable-logging=stderr --v=0 \
    --user-data-dir="$tmp/chromium" --dump-dom "file://$tmp/c.html" >"$tmp/dom.html" 2>"$tmp/chromium.err"
  grep -q 'data-rendered="yes"' "$tmp/dom.html" || fail "HTML report: its script did not finish: $(grep -i -m3 'error\|uncaught' "$tmp/chromium.err")"
  grep -qi 'uncaught' "$tmp/chromium.err" && fail "HTML report: script error: $(grep -i -m3 uncaught "$tmp/chromium.err")"
  grep -q '<tr class="changed"><td class="pc">0x' "$tmp/dom.html" || fail "HTML report: no highlighted code line"
  grep -q 'class="bar"' "$tmp/dom.html" || fail "HTML report: no chart"
  "$hp" report --html "$tmp/lib.html" "$tmp/lib.json" >/dev/null || fail "hotpath report --html (symlib) exited $?"
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$tmp/chromium" --dump-dom "file://$tmp/lib.html" >"$tmp/dom2.html" 2>/dev/null
  grep -q '<tr class="src"><td colspan="3">symlib.c:[0-9]*:  found += bsearch' "$tmp/dom2.html" ||
    fail "HTML report: no source line for symlib's main loop"
  grep -q '<th>share</th>' "$tmp/dom.html" || fail "HTML report: no traces table"
  [ $fails -eq 0 ] && echo "ok: the HTML report renders in $("$chromium" --version 2>/dev/null)"
fi
"$hp" report --html /nonexistent/dir/x.html "$tmp/c.json" >/dev/null 2>"$tmp/err"; st=$?
[ $st -eq 2 ] && grep -qx 'hotpath: report --html /nonexistent/dir/x.html: No such file or directory' "$tmp/err" ||
  fail "report --html to an unwritable file: $st, $(cat "$tmp/err")"

# hotpath report: the text view
"$hp" report "$tmp/f.json" >"$tmp/view" || fail "hotpath report exited $?"
grep -q '^hot traces' "$tmp/view" || fail "hotpath report: no hot traces section"
grep -qE '^ +[0-9.]+%  floats +[0-9]+ traces?$' "$tmp/view" || fail "hotpath report: no hot function 'floats'"
grep -qE '^ +[0-9.]+% +[0-9]+  [a-z_]+\+0x[0-9a-f]+ +[0-9]+  [0-9]+ in .*xmm' "$tmp/view" ||
  fail "hotpath report: no trace line with an xmm register: $(head -12 "$tmp/view")"
awk 'length($0) > 100 { bad = 1 } END { exit bad }' "$tmp/view" || fail "hotpath report: lines over 100 columns"
[ "$("$hp" report --top=1 "$tmp/f.json" | grep -cE '^ +[0-9.]+% +[0-9]+  ')" = 1 ] || fail "hotpath report --top=1"
# A long function name is cut in its middle: the +0x offset stays whole
# (cut at the column's end, _PyEval_EvalFrameDefault+0x6e2 read as +0x6).
"$py" - "$tmp/f.json" "$tmp/long.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for t in r["traces"]:
    t["function"] = "a_function_name_much_longer_than_its_column+0x6e2"
json.dump(r, open(sys.argv[2], "w"))
PY
"$hp" report "$tmp/long.json" >"$tmp/view" || fail "hotpath report of long names exited $?"
grep -qE '^ +[0-9.]+% +[0-9]+  a_function_name_muc\.\.\.\+0x6e2 +[0-9]+  ' "$tmp/view" ||
  fail "hotpath report: long name not cut before its offset: $(grep -m1 "+0x6e2" "$tmp/view")"
# Code without symbols is listed by module+offset, each place its own row
# even when the module's name is long (a cut offset merged places).
"$py" - "$tmp/f.json" "$tmp/where.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k, t in enumerate(r["traces"]):
    t["function"] = ""
    t["where"] = "a_long_module_name_for_a_python_extension_built_somewhere.so+0x%x" % (0x1000 + k)
json.dump(r, open(sys.argv[2], "w"))
PY
"$hp" report "$tmp/where.json" >"$tmp/view" || fail "hotpath report of long module names exited $?"
[ "$(sed -n '/^hot functions/,/^$/p' "$tmp/view" | grep -c '+0x1[0-9a-f][0-9a-f][0-9a-f] ')" -ge 2 ] ||
  fail "hotpath report: places of a long module merged or cut: $(sed -n '/^hot functions/,/^$/p' "$tmp/view" | head -4)"
"$hp" report "$tmp/none.json" 2>"$tmp/err"; st=$?
[ $st -eq 2 ] && grep -qx "hotpath: report $tmp/none.json: No such file or directory" "$tmp/err" ||
  fail "hotpath report of a missing file: $st, $(cat "$tmp/err")"
printf '{"format": "hotpath-report", "version": 1, "run": [' >"$tmp/bad.json"
"$hp" report "$tmp/bad.json" 2>"$tmp/err"; st=$?
[ $st -eq 2 ] && grep -q "not a hotpath report (bad JSON at byte" "$tmp/err" ||
  fail "hotpath report of bad JSON: $st, $(cat "$tmp/err")"
"$hp" report 2>/dev/null; [ $? -eq 2 ] || fail "hotpath report without a file: not status 2"

# FILE cannot be written: a clear error, the guest's status unchanged
"$hp" --report=/nonexistent/dir/r.json /bin/sh -c 'exit 7' 2>"$tmp/err"
st=$?
[ $st -eq 7 ] || fail "exit status $st with an unwritable report (want 7)"
grep -qx 'hotpath: report /nonexistent/dir/r.json: No such file or directory' "$tmp/err" ||
  fail "unwritable report: stderr '$(cat "$tmp/err")'"

echo "$fails failures"
[ "$fails" -eq 0 ]
