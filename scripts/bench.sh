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
report=$(dirname "${BASH_SOURCE[0]}")/bench_report.py

if [ -n "$render" ]; then
    # recreate the compare results from the JSON file, then report as usual
    [ -r "$render" ] || die "cannot read $render"
    vars=$(/usr/bin/python3 "$report" unpack "$render" "$tmp" samples) \
        || die "$render is not a bench.sh JSON file"
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

# the table (and --json file): scripts/bench_report.py, shared with bench-realworld.sh
/usr/bin/python3 "$report" table --label sample --gap-min 0.2 "$tmp" "$runs" "$cpu" "$cores" \
    "$compiler" "$version" "$json_out" "$metric" "${samples[*]}" "${configs[@]}"
py_rc=$?
[ $py_rc -eq 0 ] || exit 1
exit $failed
