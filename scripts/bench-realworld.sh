#!/usr/bin/env bash
# bench-realworld.sh — benchmark hotpath on real third-party C code.
#
# Fetches the Debian (bookworm) source packages lua5.4, bzip2 and sqlite3
# through a private apt configuration, builds each program at -O0 and -O2
# with a plain gcc line, and measures fixed workloads with
# `hotpath compare --json`.  Not part of CI: it needs network access to the
# Debian archive on the first run and takes several minutes.
#
# Run with --help for usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
rw="$here/realworld"

usage() {
  cat <<EOF
usage: scripts/bench-realworld.sh [OPTIONS]

Benchmark hotpath on real-world C programs built at -O0 and -O2 from Debian
bookworm source packages: Lua 5.4 (CPU-bound script), bzip2 (compress and
decompress 20 MiB of generated text) and the sqlite3 shell (fixed SQL
workload).  Prints the same Markdown table as scripts/bench.sh on stdout;
progress goes to stderr.  Not part of CI.

For every workload, 'hotpath compare --json' measures the -O0 build natively
and under hotpath once per hotpath configuration (one per --opt level by
default), and the -O2 build natively and under hotpath (last configuration
only).

Options:
  --runs N          measured runs per side and measurement (default 5)
  --hotpath PATH    hotpath binary (default: build/hotpath in the repository)
  --only LIST       comma-separated workloads: lua, bzip2 (= bzip2-compress
                    and bzip2-decompress), bzip2-compress, bzip2-decompress,
                    sqlite3 (default: all)
  --levels LIST     --opt levels to measure (default: \$OPT_LEVELS, else the
                    levels 'hotpath --help' lists, else "0")
  --config OPTS     measure with these hotpath options instead of --opt=L
                    (repeatable), e.g. --config --native for the loader alone
  --metric M        wall (default): median wall time; cpu: median user+sys
                    time (steadier on a busy machine)
  --json FILE       also write all results (and the raw compare output) to FILE
  --render FILE     measure nothing: print the table again from a --json FILE
  --prepare-only    fetch, build and generate data, then stop (no hotpath
                    needed)
  -h, --help        show this help

Environment:
  OPT_LEVELS            default for --levels, e.g. OPT_LEVELS="0 1"
  HOTPATH_BENCH_CACHE   cache for apt state, sources, builds and data
                        (default \$HOME/.cache/hotpath-bench)
  HOTPATH_BENCH_MIRROR  Debian mirror URL (default: the one in /etc/apt)
  CC                    C compiler (default gcc)

Columns (as in bench.sh): speed-up = native -O0 / hotpath -O0; gap closed =
(native -O0 - hotpath -O0) / (native -O0 - native -O2), n/a when -O2 is less
than 5 % faster; overhead -O2 = hotpath -O2 / native -O2.  Each ratio uses the
native and hotpath timings of the same compare run.  The last row holds
geometric means over the workloads that did not fail (gap closed from the
geomean times).

Sources are fetched with 'apt-get source' using a private sources.list and
private lists/cache directories under the cache dir; the system's apt
configuration and lists are never modified.  dpkg-dev is installed with
apt-get if dpkg-source is missing.  Building the sqlite3 amalgamation needs
tclsh and make; without them sqlite3 is skipped.

Exit status: 0 ok, 1 some measurement failed (outputs differed, crash) or
the setup failed, 2 usage.
EOF
}

log() { printf '[bench-realworld] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage_error() { log "error: $* (see --help)"; exit 2; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- arguments ---------------------------------------------------------------
runs=5
hotpath="$repo/build/hotpath"
only="all"
levels=${OPT_LEVELS:-}
configs=()
metric=wall
json_out=""
render=""
prepare_only=0
need() { [ "$1" -ge 2 ] || usage_error "$2 needs a value"; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) need $# "$1"; runs=$2; shift 2 ;;
    --hotpath) need $# "$1"; hotpath=$2; shift 2 ;;
    --only) need $# "$1"; only=$2; shift 2 ;;
    --levels) need $# "$1"; levels=$2; shift 2 ;;
    --config) need $# "$1"; configs+=("$2"); shift 2 ;;
    --metric) need $# "$1"; metric=$2; shift 2 ;;
    --json) need $# "$1"; json_out=$2; shift 2 ;;
    --render) need $# "$1"; render=$2; shift 2 ;;
    --prepare-only) prepare_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
case $runs in ''|*[!0-9]*|0) usage_error "--runs needs a positive number" ;; esac
case $metric in wall|cpu) ;; *) usage_error "--metric is wall or cpu" ;; esac

# --- report ---------------------------------------------------------------------
# report DIR CPU CORES COMPILER VERSION: print the table (and write --json) from
# the compare results in DIR with scripts/bench_report.py, shared with bench.sh;
# then exit, 1 if something failed.
report() {
  local py_rc
  if python3 "$here/bench_report.py" table --label workload --gap-min 0.05 --commands \
      "$1" "$runs" "$2" "$3" "$4" "$5" "$json_out" "$metric" "${workloads[*]}" "${configs[@]}"; then
    py_rc=0
  else
    py_rc=$?
  fi
  [ -n "$json_out" ] && log "JSON written to $json_out"
  [ $py_rc = 0 ] || [ $py_rc = 1 ] || exit 1
  [ $py_rc = 0 ] || failed=1
  exit "$failed"
}

if [ -n "$render" ]; then
  # recreate the compare results from the JSON file, then report as usual
  [ -r "$render" ] || usage_error "cannot read $render"
  command -v python3 >/dev/null || die "python3 is needed for the report"
  work=$(mktemp -d "${TMPDIR:-/tmp}/hotpath-bench.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  vars=$(python3 "$here/bench_report.py" unpack "$render" "$work" workloads) \
    || usage_error "$render is not a bench-realworld.sh JSON file"
  cpu="" cores="" compiler="" version="" failed=0
  eval "$vars"
  report "$work" "$cpu" "$cores" "$compiler" "$version"
fi

CC=${CC:-gcc}
cache=${HOTPATH_BENCH_CACHE:-$HOME/.cache/hotpath-bench}

# Selected workloads, in table order.
all_workloads=(lua bzip2-compress bzip2-decompress sqlite3)
workloads=()
if [ "$only" = all ]; then
  workloads=("${all_workloads[@]}")
else
  IFS=, read -r -a req <<<"$only"
  for w in "${all_workloads[@]}"; do
    for r in "${req[@]}"; do
      if [ "$r" = "$w" ] || [[ $r:$w == bzip2:bzip2-* ]] || [ "$r:$w" = sqlite:sqlite3 ]; then
        workloads+=("$w")
        break
      fi
    done
  done
  for r in "${req[@]}"; do
    case $r in
      lua|bzip2|bzip2-compress|bzip2-decompress|sqlite3|sqlite) ;;
      *) usage_error "unknown workload '$r' (known: lua, bzip2, bzip2-compress, bzip2-decompress, sqlite3)" ;;
    esac
  done
fi
[ ${#workloads[@]} -gt 0 ] || usage_error "no workloads selected"

want_pkg() { # PKG -> is it needed by a selected workload?
  local w
  for w in "${workloads[@]}"; do
    case $1:$w in lua5.4:lua|bzip2:bzip2-*|sqlite3:sqlite3) return 0 ;; esac
  done
  return 1
}

if [ $prepare_only = 0 ]; then
  [ -x "$hotpath" ] || usage_error "no hotpath binary at $hotpath (build first, or use --hotpath)"
  hotpath=$(cd "$(dirname "$hotpath")" && pwd)/$(basename "$hotpath")
  # Hotpath configurations: --config OPTS..., else one --opt=L per level;
  # levels from --levels/$OPT_LEVELS, else from `hotpath --help`, else 0
  # (the same rules as scripts/bench.sh).
  if [ ${#configs[@]} -eq 0 ]; then
    if [ -z "$levels" ]; then
      optline=$("$hotpath" --help 2>&1 | grep -E -- '--opt' | head -n 1 || true)
      levels=$(grep -oE -- '--opt=[0-9](\|[0-9])+' <<<"$optline" | head -n 1 | cut -d= -f2 | tr '|' ' ' || true)
      [ -n "$levels" ] || levels=$(grep -oE '(^|[ ;,(])[0-9] =' <<<"$optline" | tr -dc '0-9 \n' | xargs || true)
      [ -n "$levels" ] || levels=0
    fi
    for l in $levels; do configs+=("--opt=$l"); done
  fi
  [ ${#configs[@]} -gt 0 ] || usage_error "no hotpath configuration to measure"
fi
command -v "$CC" >/dev/null || die "compiler '$CC' not found"
command -v python3 >/dev/null || die "python3 is needed for the report"

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
logs="$cache/logs"
mkdir -p "$logs" "$cache/src" "$cache/build" "$cache/data"
log "cache directory: $cache"
log "workloads: ${workloads[*]}; configurations: ${configs[*]:-(none)}; runs: $runs"

# Print the tail of a log file and fail.
fail_log() { # LOGFILE MESSAGE
  log "error: $2 (log: $1)"
  tail -n 20 "$1" >&2 || true
  exit 1
}

# --- private apt configuration -----------------------------------------------
apt_dir="$cache/apt"
suite=bookworm

# Find the Debian mirror the machine uses for $suite (deb822 .sources files
# first, then one-line sources.list entries); fall back to deb.debian.org.
find_mirror() {
  local m="" f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    m=$(awk -v want="$suite" '
      function flush() {
        if (uris != "" && types ~ /deb/ && enabled !~ /^[Nn]o/ && (" " suites " ") ~ (" " want " ") && !found) {
          print uris; found = 1
        }
        uris = ""; suites = ""; types = ""; enabled = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]*#/ { next }
      /^URIs:/ { sub(/^URIs:[ \t]*/, ""); split($0, u, /[ \t]+/); uris = u[1] }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^Types:/ { types = $0 }
      /^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); enabled = $0 }
      END { flush() }' "$f")
    [ -n "$m" ] && { echo "$m"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    m=$(awk -v want="$suite" '
      ($1 == "deb" || $1 == "deb-src") {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == want) { print $i; exit }
      }' "$f")
    [ -n "$m" ] && { echo "$m"; return; }
  done
  echo "http://deb.debian.org/debian"
}

apt_opts=()
apt_ready=0
setup_apt() {
  [ $apt_ready = 1 ] && return
  local mirror keyring line
  mirror=${HOTPATH_BENCH_MIRROR:-$(find_mirror)}
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  if [ -r "$keyring" ]; then
    line="deb-src [signed-by=$keyring] $mirror $suite main"
  else
    line="deb-src $mirror $suite main"
  fi
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  if [ ! -f "$apt_dir/sources.list" ] || [ "$(cat "$apt_dir/sources.list")" != "$line" ]; then
    printf '%s\n' "$line" >"$apt_dir/sources.list"
    rm -f "$apt_dir/.updated"
  fi
  apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
  )
  # As root, apt drops privileges to _apt for downloads, and _apt cannot
  # write below a private directory in root's home: download as root.
  if [ "$(id -u)" = 0 ]; then
    apt_opts+=(-o "APT::Sandbox::User=root")
  fi
  if [ ! -f "$apt_dir/.updated" ]; then
    log "apt-get update (private lists, $line)"
    apt-get "${apt_opts[@]}" update >"$logs/apt-update.log" 2>&1 \
      || fail_log "$logs/apt-update.log" "apt-get update failed"
    touch "$apt_dir/.updated"
  fi
  apt_ready=1
}

ensure_dpkg_source() {
  command -v dpkg-source >/dev/null && return
  log "dpkg-source not found: installing dpkg-dev"
  [ "$(id -u)" = 0 ] || die "dpkg-dev is missing; install it (apt-get install dpkg-dev) and rerun"
  apt-get install -y --no-install-recommends dpkg-dev >"$logs/install-dpkg-dev.log" 2>&1 \
    || fail_log "$logs/install-dpkg-dev.log" "installing dpkg-dev failed"
}

# Fetch and extract source package PKG into $cache/src/PKG (once).
fetch_source() {
  local pkg=$1 dest="$cache/src/$1" dl="$cache/src/.download-$1" dsc
  if [ -f "$dest/.hotpath-extracted" ]; then
    log "source $pkg: cached ($(cat "$dest/.hotpath-extracted"))"
    return
  fi
  ensure_dpkg_source
  setup_apt
  log "source $pkg: apt-get source --download-only"
  rm -rf "$dl" "$dest.tmp" "$dest"
  mkdir -p "$dl"
  if ! (cd "$dl" && apt-get "${apt_opts[@]}" source --download-only "$pkg") >"$logs/fetch-$pkg.log" 2>&1; then
    # The private lists may be stale (the archive moved on): refresh, retry.
    log "source $pkg: download failed; refreshing the private lists and retrying"
    rm -f "$apt_dir/.updated"
    apt_ready=0
    setup_apt
    (cd "$dl" && apt-get "${apt_opts[@]}" source --download-only "$pkg") >"$logs/fetch-$pkg.log" 2>&1 \
      || fail_log "$logs/fetch-$pkg.log" "apt-get source $pkg failed"
  fi
  dsc=$(find "$dl" -maxdepth 1 -name '*.dsc' | head -n 1)
  [ -n "$dsc" ] || fail_log "$logs/fetch-$pkg.log" "no .dsc downloaded for $pkg"
  log "source $pkg: dpkg-source -x $(basename "$dsc")"
  dpkg-source --no-copy -x "$dsc" "$dest.tmp" >>"$logs/fetch-$pkg.log" 2>&1 \
    || fail_log "$logs/fetch-$pkg.log" "dpkg-source -x $dsc failed"
  basename "$dsc" .dsc >"$dest.tmp/.hotpath-extracted"
  mv "$dest.tmp" "$dest"
  rm -rf "$dl"
}

# --- building ------------------------------------------------------------------
cc_version=$("$CC" --version | head -n 1)

# build_cmd OUT LOGNAME SOURCE-ID CMD... : run CMD (which writes OUT) unless
# OUT exists and was built from the same SOURCE-ID by the same command with
# the same compiler.
build_cmd() {
  local out=$1 name=$2 key t0
  key="$cc_version :: $3 :: ${*:4}"
  shift 3
  if [ -x "$out" ] && [ -f "$out.cmd" ] && [ "$(cat "$out.cmd")" = "$key" ]; then
    log "build $name: cached"
    return
  fi
  mkdir -p "$(dirname "$out")"
  rm -f "$out" "$out.cmd"
  log "build $name"
  t0=$(now)
  "$@" >"$logs/build-$name.log" 2>&1 || fail_log "$logs/build-$name.log" "building $name failed"
  printf '%s' "$key" >"$out.cmd"
  log "build $name: done in $(elapsed "$t0") s"
}

build_lua() { # LEVEL
  local o=$1 src="$cache/src/lua5.4/src" inc="$cache/build/lua/include" f files=()
  for f in "$src"/*.c; do
    case ${f##*/} in lua.c|luac.c) ;; *) files+=("$f") ;; esac
  done
  files+=("$src/lua.c")
  # Debian's luaconf.h includes a header that its build generates.
  mkdir -p "$inc"
  if grep -q 'lua5.4-deb-multiarch.h' "$src/luaconf.h"; then
    printf '#define DEB_HOST_MULTIARCH "%s"\n' "$("$CC" -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)" \
      >"$inc/lua5.4-deb-multiarch.h"
  fi
  build_cmd "$cache/build/lua/O$o/lua" "lua-O$o" "$(cat "$cache/src/lua5.4/.hotpath-extracted")" \
    "$CC" "-O$o" -g -std=gnu99 -DLUA_USE_LINUX -I"$inc" -I"$src" "${files[@]}" \
    -o "$cache/build/lua/O$o/lua" -lm -ldl
}

build_bzip2() { # LEVEL
  local o=$1 src="$cache/src/bzip2" f files=()
  for f in bzip2.c blocksort.c huffman.c crctable.c randtable.c compress.c decompress.c bzlib.c; do
    files+=("$src/$f")
  done
  build_cmd "$cache/build/bzip2/O$o/bzip2" "bzip2-O$o" "$(cat "$cache/src/bzip2/.hotpath-extracted")" \
    "$CC" "-O$o" -g -D_FILE_OFFSET_BITS=64 -I"$src" "${files[@]}" \
    -o "$cache/build/bzip2/O$o/bzip2"
}

# Debian's sqlite3 source package is the full source tree; generate the
# amalgamation (sqlite3.c, shell.c) with its configure + make (needs tclsh).
sqlite_amalg=""
prepare_sqlite_amalgamation() {
  local src="$cache/src/sqlite3" dir="$cache/build/sqlite3/amalgamation" t0
  if [ -f "$src/sqlite3.c" ] && [ -f "$src/shell.c" ]; then
    sqlite_amalg=$src
    return 0
  fi
  if [ -f "$dir/.ok" ] && [ "$(cat "$dir/.ok")" = "$(cat "$src/.hotpath-extracted")" ]; then
    log "sqlite3 amalgamation: cached"
    sqlite_amalg=$dir
    return 0
  fi
  if ! command -v tclsh >/dev/null || ! command -v make >/dev/null; then
    log "warning: skipping sqlite3: generating its amalgamation needs tclsh and make (apt-get install tcl make)"
    return 1
  fi
  log "sqlite3 amalgamation: configure && make sqlite3.c shell.c"
  t0=$(now)
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! (cd "$dir" && "$src/configure" --disable-tcl CC="$CC" && make sqlite3.c shell.c) \
      >"$logs/sqlite3-amalgamation.log" 2>&1; then
    log "warning: skipping sqlite3: generating the amalgamation failed (log: $logs/sqlite3-amalgamation.log)"
    tail -n 20 "$logs/sqlite3-amalgamation.log" >&2 || true
    return 1
  fi
  cat "$src/.hotpath-extracted" >"$dir/.ok"
  log "sqlite3 amalgamation: done in $(elapsed "$t0") s"
  sqlite_amalg=$dir
}

build_sqlite3() { # LEVEL
  local o=$1
  build_cmd "$cache/build/sqlite3/O$o/sqlite3" "sqlite3-O$o" "$(cat "$cache/src/sqlite3/.hotpath-extracted")" \
    "$CC" "-O$o" -g -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -I"$sqlite_amalg" \
    "$sqlite_amalg/sqlite3.c" "$sqlite_amalg/shell.c" -o "$cache/build/sqlite3/O$o/sqlite3" -lm
}

# --- fetch + build ------------------------------------------------------------
t_fetch=$(now)
for pkg in lua5.4 bzip2 sqlite3; do
  want_pkg "$pkg" && fetch_source "$pkg"
done
log "fetch: $(elapsed "$t_fetch") s"

t_build=$(now)
have_sqlite=0
if want_pkg sqlite3 && prepare_sqlite_amalgamation; then
  have_sqlite=1
fi
for o in 0 2; do
  want_pkg lua5.4 && build_lua "$o"
  want_pkg bzip2 && build_bzip2 "$o"
  [ $have_sqlite = 1 ] && build_sqlite3 "$o"
done
if want_pkg sqlite3 && [ $have_sqlite = 0 ]; then
  selected=()
  for w in "${workloads[@]}"; do [ "$w" = sqlite3 ] || selected+=("$w"); done
  workloads=("${selected[@]+"${selected[@]}"}")
  [ ${#workloads[@]} -gt 0 ] || die "no workloads left to run"
fi
log "build: $(elapsed "$t_build") s"

# --- data for bzip2 -------------------------------------------------------------
data_bytes=$((20 * 1024 * 1024))
data="$cache/data/text-20M.txt"
if want_pkg bzip2; then
  gen="$cache/build/gendata/gendata"
  build_cmd "$gen" gendata "$(sha256sum "$rw/gendata.c" | cut -d' ' -f1)" \
    "$CC" -O2 -Wall -o "$gen" "$rw/gendata.c"
  gen_key="$(sha256sum "$rw/gendata.c" | cut -d' ' -f1) $data_bytes"
  if [ -f "$data" ] && [ -f "$data.key" ] && [ "$(cat "$data.key")" = "$gen_key" ]; then
    log "data: cached $data"
  else
    log "data: generating $data ($data_bytes bytes)"
    rm -f "$data" "$data.key" "$data.bz2"
    "$gen" "$data_bytes" >"$data.tmp"
    mv "$data.tmp" "$data"
    printf '%s' "$gen_key" >"$data.key"
  fi
  bz_key="$gen_key $(cat "$cache/src/bzip2/.hotpath-extracted")"
  if [ -f "$data.bz2" ] && [ -f "$data.bz2.key" ] && [ "$(cat "$data.bz2.key")" = "$bz_key" ]; then
    log "data: cached $data.bz2"
  else
    log "data: compressing with the -O2 bzip2"
    "$cache/build/bzip2/O2/bzip2" -c "$data" >"$data.bz2.tmp"
    mv "$data.bz2.tmp" "$data.bz2"
    printf '%s' "$bz_key" >"$data.bz2.key"
  fi
fi

# Command line of workload W for build level O, as the array `cmd`.
cmd=()
workload_cmd() { # W O
  local b="$cache/build"
  case $1 in
    lua) cmd=("$b/lua/O$2/lua" "$rw/bench.lua") ;;
    bzip2-compress) cmd=("$b/bzip2/O$2/bzip2" -c "$data") ;;
    bzip2-decompress) cmd=("$b/bzip2/O$2/bzip2" -dc "$data.bz2") ;;
    sqlite3) cmd=("$b/sqlite3/O$2/sqlite3" :memory: ".read $rw/bench.sql") ;;
  esac
}

# --- smoke check: -O0 and -O2 builds agree, natively ----------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/hotpath-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
for w in "${workloads[@]}"; do
  for o in 0 2; do
    workload_cmd "$w" "$o"
    t0=$(now)
    (cd "$work" && "${cmd[@]}" </dev/null >"$work/out.O$o" 2>&1) \
      || { tail -n 20 "$work/out.O$o" >&2; die "$w -O$o failed natively: ${cmd[*]}"; }
    log "check $w -O$o: native run ok, $(elapsed "$t0") s"
  done
  if [ "$w" = bzip2-compress ]; then
    cmp -s "$work/out.O0" "$data.bz2" || die "$w: -O0 output differs from the reference .bz2"
    cmp -s "$work/out.O2" "$data.bz2" || die "$w: -O2 output differs from the reference .bz2"
  elif [ "$w" = bzip2-decompress ]; then
    cmp -s "$work/out.O0" "$data" || die "$w: -O0 output differs from the original data"
    cmp -s "$work/out.O2" "$data" || die "$w: -O2 output differs from the original data"
  else
    cmp -s "$work/out.O0" "$work/out.O2" || die "$w: -O0 and -O2 outputs differ"
  fi
  rm -f "$work"/out.O*
done

if [ $prepare_only = 1 ]; then
  log "prepared: sources, builds and data are in $cache"
  exit 0
fi

# --- measure --------------------------------------------------------------------
# measure NAME CONFIG CMD...: one `hotpath compare`, JSON into $work/NAME.json
failed=0
measure() {
  local name=$1 config=$2 t0 rc summary
  shift 2
  log "measure [$i/${#workloads[@]}] $name: $config ($runs runs per side)"
  t0=$(now)
  # shellcheck disable=SC2086  # CONFIG is a list of options
  if (cd "$work" && "$hotpath" compare --json --runs "$runs" $config -- "$@") \
      </dev/null >"$work/$name.json" 2>"$logs/compare-$name.log"; then
    rc=0
  else
    rc=$?
  fi
  summary=$(python3 - "$work/$name.json" "$metric" <<'EOF' 2>/dev/null || echo "no JSON result"
import json, sys
text = open(sys.argv[1]).read()
try:
    r = json.loads(text)
except ValueError:
    r = json.loads([l for l in text.splitlines() if l.strip().startswith("{")][-1])
key = "median_s" if sys.argv[2] == "wall" else "user_sys_median_s"
print("native %.3f s, hotpath %.3f s, identical: %s" % (
    r["native"][key], r["hotpath"][key], str(r.get("identical")).lower()))
EOF
)
  if [ $rc = 0 ]; then
    log "  $summary ($(elapsed "$t0") s)"
  else
    failed=1
    log "  hotpath compare exited with $rc: $summary (log: $logs/compare-$name.log)"
    sed 's/^/    /' "$logs/compare-$name.log" | head -n 20 >&2 || true
    [ -s "$work/$name.json" ] \
      || printf '{"error": "hotpath compare exited with %s"}\n' "$rc" >"$work/$name.json"
  fi
}

t_measure=$(now)
i=0
last=$((${#configs[@]} - 1))
for w in "${workloads[@]}"; do
  i=$((i + 1))
  : >"$work/$w.cmd"
  for o in 0 2; do
    workload_cmd "$w" "$o"
    printf 'O%s\t%s\n' "$o" "${cmd[*]}" >>"$work/$w.cmd"
  done
  workload_cmd "$w" 0
  for c in "${!configs[@]}"; do
    measure "$w.O0.$c" "${configs[$c]}" "${cmd[@]}"
  done
  workload_cmd "$w" 2
  measure "$w.O2" "${configs[$last]}" "${cmd[@]}"
done
log "measure: $(elapsed "$t_measure") s"

# --- report ---------------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
version=$("$hotpath" --version 2>/dev/null | head -n 1 || true)
report "$work" "${cpu:-unknown CPU}" "$(nproc)" "$cc_version" "$version"
