#!/bin/bash
# Tests of `hotpath compare` (the harness itself, not the translator).
# usage: compare_test.sh CASE HOTPATH "HOTPATH-OPTIONS" CMP_DET CMP_COUNTER
set -u
case_name=$1 hp=$2 opts=$3 det=$4 counter=$5
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out err=$tmp/err

# run_compare ARGS...: runs `hotpath compare ARGS`, sets $rc
run_compare() {
    # shellcheck disable=SC2086
    "$hp" compare "$@" </dev/null >"$out" 2>"$err"
    rc=$?
}

die() {
    echo "FAIL ($case_name): $*"
    echo "--- stdout:"; cat "$out"
    echo "--- stderr:"; cat "$err"
    exit 1
}

expect_rc() { [ "$rc" -eq "$1" ] || die "expected exit status $1, got $rc"; }
expect_out() { grep -q -- "$1" "$out" || die "stdout lacks '$1'"; }
expect_err() { grep -q -- "$1" "$err" || die "stderr lacks '$1'"; }

# shellcheck disable=SC2086
case $case_name in
identical)
    run_compare --runs 3 $opts -- "$det"
    expect_rc 0
    expect_out "identical in every run"
    expect_out "speed-up:"
    expect_out "^native "
    expect_out "^hotpath "
    [ ! -s "$err" ] || die "stderr should be empty (not a terminal)"
    ;;
identical-nonzero-exit)
    # a consistent non-zero exit status is still "identical"
    run_compare --runs 2 $opts "$det" exit=3
    expect_rc 0
    expect_out "exit status 3"
    ;;
identical-signal)
    run_compare --runs 2 $opts "$det" signal
    expect_rc 0
    expect_out "killed by signal 15"
    ;;
differ-output)
    # output changes from the 2nd invocation on: the hotpath warm-up run
    run_compare --runs 3 $opts -- "$counter" "$tmp/count" output 1
    expect_rc 1
    expect_err "outputs differ: hotpath warm-up run"
    expect_err "stdout differs at line 3"
    expect_err "changed at invocation 1"
    [ ! -s "$out" ] || die "stdout should be empty"
    ;;
differ-output-late)
    # invocations: 0 native warm-up, 1 hotpath warm-up, 2 native run 1,
    # 3 hotpath run 1, 4 native run 2 <- first to differ
    run_compare --runs 3 $opts -- "$counter" "$tmp/count" output 4
    expect_rc 1
    expect_err "outputs differ: native run 2 of 3"
    expect_err "changed at invocation 4"
    ;;
differ-status)
    run_compare --runs 3 $opts -- "$counter" "$tmp/count" status 3
    expect_rc 1
    expect_err "outputs differ: hotpath run 1 of 3"
    expect_err "exit differs: first native run: exit status 0; this run: exit status 1"
    ;;
json)
    run_compare --json --runs 4 $opts -- "$det" exit=0
    expect_rc 0
    "$py" -c '
import json, sys
d = json.load(sys.stdin)
assert d["runs"] == 4, d
assert d["identical"] is True, d
assert isinstance(d["program"], str) and d["program"].endswith("cmp_det"), d
assert d["args"] == ["exit=0"], d
assert isinstance(d["hotpath_options"], list), d
assert all(isinstance(o, str) for o in d["hotpath_options"]), d
assert d["hotpath_options"] == sys.argv[1].split(), d
assert d["exit_status"] == 0, d
for side in ("native", "hotpath"):
    s = d[side]
    for k in ("median_s", "min_s", "max_s", "user_sys_median_s"):
        assert isinstance(s[k], float) and s[k] >= 0, (side, k, s)
    assert s["min_s"] <= s["median_s"] <= s["max_s"], s
    assert len(s["wall_s"]) == 4, s
assert isinstance(d["speedup"], float) and d["speedup"] > 0, d
' "$opts" <"$out" || die "JSON check failed"
    ;;
json-differ)
    run_compare --json --runs 2 $opts -- "$counter" "$tmp/count" output 1
    expect_rc 1
    "$py" -c '
import json, sys
d = json.load(sys.stdin)
assert d["identical"] is False and d["failed_side"] == "hotpath" and d["failed_run"] == 0, d
' <"$out" || die "JSON check failed"
    ;;
stdin-replay)
    # every run must see the same stdin, or the outputs would differ
    printf 'some input\nfor every run\n' >"$tmp/input"
    run_compare --runs 3 --stdin "$tmp/input" $opts -- "$det" cat
    expect_rc 0
    # and `--stdin -` captures our own stdin once
    # shellcheck disable=SC2086
    "$hp" compare --runs 2 --stdin - $opts -- "$det" cat <"$tmp/input" >"$out" 2>"$err"
    rc=$?
    expect_rc 0
    ;;
usage)
    run_compare --runs 0 $opts "$det"; expect_rc 2; expect_err "hotpath: compare: --runs"
    run_compare --runs abc $opts "$det"; expect_rc 2
    run_compare --runs=-1 $opts "$det"; expect_rc 2
    run_compare $opts --runs; expect_rc 2
    run_compare $opts; expect_rc 2; expect_err "missing PROGRAM"
    run_compare --json --; expect_rc 2
    run_compare --stdin "$tmp/no-such-file" "$det"; expect_rc 2
    run_compare --help; expect_rc 0; expect_out "usage: hotpath compare"
    ;;
reference)
    # a second build timed natively in the same alternation (here the same
    # program: no gap to close)
    run_compare --runs 2 --reference="$det" $opts -- "$det" exit=0
    expect_rc 0
    expect_out "^reference "
    expect_out "^reference: .*x (native median / reference median)"
    expect_out "gap closed: "
    run_compare --json --runs 2 --reference "$det" $opts -- "$det"
    expect_rc 0
    "$py" -c '
import json, sys
d = json.load(sys.stdin)
assert d["reference_program"].endswith("cmp_det"), d
assert len(d["reference"]["wall_s"]) == 2 and d["reference_speedup"] > 0, d
assert d["gap_closed"] is None or isinstance(d["gap_closed"], float), d
' <"$out" || die "JSON check failed"
    # the reference must print the same
    run_compare --runs 2 --reference=/bin/true $opts -- "$det"
    expect_rc 1
    expect_err "outputs differ: reference warm-up run"
    run_compare --runs 2 --reference="$tmp/no-such-build" $opts -- "$det"
    expect_rc 127
    expect_err "hotpath: compare: --reference $tmp/no-such-build: program not found"
    run_compare --reference= "$det"; expect_rc 2; expect_err "hotpath: compare: --reference needs"
    ;;
report)
    # one more run under hotpath with --report, summarized after the table
    run_compare --runs 1 --report="$tmp/r.json" --opt=2 -- "$det"
    expect_rc 0
    expect_out "speed-up:"
    expect_out "^hotpath report: "
    expect_out "^hot functions"
    expect_out "^report: $tmp/r.json"
    "$py" -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["format"] == "hotpath-report", r' "$tmp/r.json" ||
        die "no report in $tmp/r.json"
    run_compare --runs 1 --report --opt=2 -- "$det"
    expect_rc 0
    expect_out "^hotpath report: "
    ls /tmp/hotpath-compare-*.json 2>/dev/null | grep -q . && die "the temporary report was left behind"
    run_compare --report= "$det"; expect_rc 2; expect_err "hotpath: compare: --report= needs"
    ;;
not-found)
    run_compare $opts -- "$tmp/no-such-program"; expect_rc 127
    expect_err "hotpath: compare: .*not found"
    run_compare $opts no-such-program-in-path-hopefully; expect_rc 127
    chmod -x "$tmp" 2>/dev/null; touch "$tmp/x"; chmod 644 "$tmp/x"; chmod +x "$tmp"
    run_compare $opts "$tmp/x"; expect_rc 127
    ;;
*)
    echo "unknown case $case_name"; exit 2 ;;
esac
echo "ok: $case_name"
exit 0
