#!/bin/bash
# Benchmark hotpath on the samples (see docs/BENCHMARKS.md).
#
# For every sample, `hotpath compare --json` measures
#   - the -O0 build natively and under hotpath, once per hotpath configuration
#     (one per --opt level by default), and
#   - the -O2 build natively and under hotpath (last configuration only),
# then prints a Markdown table: times, speed-up, share of the -O0 -> -O2 gap
# closed, and hotpath's overhead on the -O2 build, with geomeans.
#
# usage: scripts/bench.sh [--build DIR] [--runs N] [--samples a,b,c]
#                         [--levels "0 1 2"] [--config "OPTS"]... [--json FILE]
#   --build DIR     meson build directory (default: build)
#   --hotpath PATH  hotpath binary (default: DIR/hotpath)
#   --runs N        measured runs per side and measurement (default 5)
#   --samples LIST  comma-separated subset of the samples (default: all built)
#   --levels LIST   --opt levels to measure (default: $OPT_LEVELS, else the
#                   levels `hotpath --help` lists, else "0")
#   --config OPTS   measure with these hotpath options instead of --opt=L
#                   (repeatable), e.g. --config --native for the loader alone
#   --json FILE     also write all results (and the raw compare output) to FILE
#   --metric M      wall (default): median wall time; cpu: median user+sys time
#                   (steadier on a busy machine, but blind to time spent waiting)
#   --render FILE   measure nothing: print the table again from a --json FILE
# Exit status: 0 ok, 1 some measurement failed (outputs differed, crash), 2 usage.
set -u

build=build hp='' runs=5 sample_list='' levels=${OPT_LEVELS:-} json_out='' metric=wall render=''
configs=()
die() { echo "bench.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=${2:?}; shift 2 ;;
    --hotpath) hp=${2:?}; shift 2 ;;
    --runs) runs=${2:?}; shift 2 ;;
    --samples) sample_list=${2:?}; shift 2 ;;
    --levels) levels=${2:?}; shift 2 ;;
    --config) configs+=("${2:?}"); shift 2 ;;
    --json) json_out=${2:?}; shift 2 ;;
    --metric) metric=${2:?}; shift 2 ;;
    --render) render=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done
case $runs in ''|*[!0-9]*|0) die "--runs needs a positive number" ;; esac
case $metric in wall|cpu) ;; *) die "--metric is wall or cpu" ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

if [ -n "$render" ]; then
    # recreate the compare results from the JSON file, then report as usual
    [ -r "$render" ] || die "cannot read $render"
    vars=$(/usr/bin/python3 - "$render" "$tmp" <<'PY'
import json, shlex, sys
d = json.load(open(sys.argv[1]))
for s, r in d["raw"].items():
    for i, c in enumerate(d["configs"]):
        json.dump(r["O0"][c], open(f"{sys.argv[2]}/{s}.O0.{i}.json", "w"))
    json.dump(r["O2"], open(f"{sys.argv[2]}/{s}.O2.json", "w"))
print("runs=%d" % d["runs"])
print("samples=(%s)" % " ".join(shlex.quote(s) for s in d["raw"]))
print("configs=(%s)" % " ".join(shlex.quote(c) for c in d["configs"]))
print("cpu=%s cores=%d" % (shlex.quote(d["machine"]["cpu"]), d["machine"]["cores"]))
print("compiler=%s version=%s" % (shlex.quote(d["compiler"]), shlex.quote(d["hotpath_version"])))
print("failed=%d" % bool(d["failures"]))
PY
) || die "$render is not a bench.sh JSON file"
    eval "$vars"
else  # --- measure ------------------------------------------------------------

hp=${hp:-$build/hotpath}
[ -x "$hp" ] || die "no hotpath binary at $hp (build first, or use --build/--hotpath)"
[ -d "$build/samples" ] || die "no samples in $build/samples (build first)"

# --opt levels: "--opt=N ... 0 = ..., 1 = ..." or "--opt=0|1|2" in --help
if [ ${#configs[@]} -eq 0 ]; then
    if [ -z "$levels" ]; then
        optline=$("$hp" --help 2>&1 | grep -E -- '--opt' | head -1)
        levels=$(grep -oE -- '--opt=[0-9](\|[0-9])+' <<<"$optline" | head -1 | cut -d= -f2 | tr '|' ' ')
        [ -n "$levels" ] || levels=$(grep -oE '(^|[ ;,(])[0-9] =' <<<"$optline" | tr -dc '0-9 \n' | xargs)
        [ -n "$levels" ] || levels=0
    fi
    for l in $levels; do configs+=("--opt=$l"); done
fi

if [ -n "$sample_list" ]; then
    IFS=, read -r -a samples <<<"$sample_list"
else
    samples=()
    for f in "$build"/samples/*-O0; do
        n=${f##*/}
        samples+=("${n%-O0}")
    done
fi
for s in "${samples[@]}"; do
    if [ ! -x "$build/samples/$s-O0" ] || [ ! -x "$build/samples/$s-O2" ]; then
        die "sample '$s' is not built ($build/samples/$s-O0 / -O2)"
    fi
done

# measure NAME BINARY CONFIG: one `hotpath compare`, JSON into $tmp/NAME.json
measure() {
    local name=$1 bin=$2 config=$3
    # shellcheck disable=SC2086  # CONFIG is a list of options
    "$hp" compare --json --runs "$runs" $config -- "$bin" </dev/null \
        >"$tmp/$name.json" 2>"$tmp/$name.err"
    local rc=$?
    if [ $rc -ne 0 ]; then
        failed=1
        echo "bench.sh: $name: hotpath compare exited with $rc:" >&2
        sed 's/^/    /' "$tmp/$name.err" | head -20 >&2
        [ -s "$tmp/$name.json" ] || echo "{\"error\": \"hotpath compare exited with $rc\"}" >"$tmp/$name.json"
    fi
}

i=0
for s in "${samples[@]}"; do
    i=$((i + 1))
    for c in "${!configs[@]}"; do
        echo "bench.sh: [$i/${#samples[@]}] $s-O0 ${configs[$c]}" >&2
        measure "$s.O0.$c" "$build/samples/$s-O0" "${configs[$c]}"
    done
    last=$((${#configs[@]} - 1))
    echo "bench.sh: [$i/${#samples[@]}] $s-O2 ${configs[$last]}" >&2
    measure "$s.O2" "$build/samples/$s-O2" "${configs[$last]}"
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cores=$(nproc)
compiler=$(gcc --version | head -1)
version=$("$hp" --version 2>/dev/null | head -1)
fi  # --- end of measure ---------------------------------------------------------

/usr/bin/python3 - "$tmp" "$runs" "$cpu" "$cores" "$compiler" "$version" "$json_out" \
    "$metric" "${samples[*]}" "${configs[@]}" <<'PY'
import json, math, sys

tmp, runs, cpu, cores, compiler, version, json_out, metric, names = sys.argv[1:10]
configs = sys.argv[10:]
key = "median_s" if metric == "wall" else "user_sys_median_s"
names = names.split()
runs = int(runs)

def load(name):
    with open(f"{tmp}/{name}.json") as f:
        return json.load(f)

def ok(d):
    return d.get("identical") is True

def gap(t0, thp, t2):
    # share of the native -O0 -> -O2 gap that hotpath closes; not meaningful
    # when -O2 is not clearly faster than -O0 (by less than 20%)
    if t0 - t2 < 0.2 * t0:
        return None
    return (t0 - thp) / (t0 - t2)

def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None

rows, raw, failures = [], {}, []
for s in names:
    r = {"name": s, "ok": True, "hotpath_O0": {}}
    o0 = [load(f"{s}.O0.{c}") for c in range(len(configs))]
    o2 = load(f"{s}.O2")
    raw[s] = {"O0": dict(zip(configs, o0)), "O2": o2}
    if not all(ok(d) for d in o0 + [o2]):
        r["ok"] = False
        failures.append(s)
    r["native_O0_s"] = o0[0]["native"][key] if ok(o0[0]) else None
    r["native_O2_s"] = o2["native"][key] if ok(o2) else None
    r["hotpath_O2_s"] = o2["hotpath"][key] if ok(o2) else None
    r["overhead_O2"] = (o2["hotpath"][key] / o2["native"][key]) if ok(o2) else None
    for c, d in zip(configs, o0):
        if ok(d):
            t0, thp = d["native"][key], d["hotpath"][key]
            r["hotpath_O0"][c] = {
                "median_s": thp, "native_median_s": t0, "speedup": t0 / thp,
                "gap_closed": gap(t0, thp, r["native_O2_s"]) if r["native_O2_s"] else None}
        else:
            r["hotpath_O0"][c] = None
    rows.append(r)

good = [r for r in rows if r["ok"]]
geo = {"native_O0_s": geomean(r["native_O0_s"] for r in good),
       "native_O2_s": geomean(r["native_O2_s"] for r in good),
       "hotpath_O2_s": geomean(r["hotpath_O2_s"] for r in good),
       "overhead_O2": geomean(r["overhead_O2"] for r in good),
       "hotpath_O0": {}}
for c in configs:
    g = {"median_s": geomean(r["hotpath_O0"][c]["median_s"] for r in good),
         "speedup": geomean(r["hotpath_O0"][c]["speedup"] for r in good)}
    # gap closed of the geomean times (a mean of per-sample shares is
    # dominated by samples where -O2 barely helps)
    g["gap_closed"] = (gap(geo["native_O0_s"], g["median_s"], geo["native_O2_s"])
                       if g["median_s"] and geo["native_O2_s"] else None)
    geo["hotpath_O0"][c] = g

def f(x, fmt="{:.3f}"):
    return "FAIL" if x is False else "n/a" if x is None else fmt.format(x)

def pct(x):
    return f(x, "{:.0%}") if x is not None else "n/a"

head = ["sample", "native -O0 (s)"]
for c in configs:
    head += [f"hotpath {c} (s)", f"speed-up {c}", f"gap closed {c}"]
head += ["native -O2 (s)", f"hotpath -O2 {configs[-1]} (s)", "overhead -O2"]
print(f"Machine: {cpu}, {cores} cores; compiler: {compiler}; {version or 'hotpath'}; "
      f"{runs} runs per side after one warm-up, medians of "
      f"{'wall' if metric == 'wall' else 'user+sys'} time.")
print()
print("| " + " | ".join(head) + " |")
print("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")

def line(name, r):
    cells = [name, f(r["native_O0_s"])]
    for c in configs:
        h = r["hotpath_O0"][c]
        cells += [f(h["median_s"]), f(h["speedup"], "{:.2f}x"), pct(h["gap_closed"])] if h \
            else ["FAIL"] * 3
    cells += [f(r["native_O2_s"]), f(r["hotpath_O2_s"]), f(r["overhead_O2"], "{:.2f}x")]
    print("| " + " | ".join(cells) + " |")

for r in rows:
    line(r["name"] + ("" if r["ok"] else " (FAILED)"), r)
if good:
    line("**geomean**", geo)
if failures:
    print()
    print("Failed (outputs differed or hotpath failed; excluded from geomeans): "
          + ", ".join(failures))

if json_out:
    with open(json_out, "w") as out:
        json.dump({"machine": {"cpu": cpu, "cores": int(cores)}, "compiler": compiler,
                   "hotpath_version": version, "runs": runs, "metric": metric, "configs": configs,
                   "o2_config": configs[-1], "samples": rows, "geomean": geo,
                   "failures": failures, "raw": raw}, out, indent=1)
        out.write("\n")
PY
py_rc=$?
[ $py_rc -eq 0 ] || exit 1
exit $failed
