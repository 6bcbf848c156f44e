#!/usr/bin/env python3
"""Turn the `hotpath compare --json` results collected by bench-realworld.sh
into the same Markdown table as scripts/bench.sh (stdout) and, optionally,
a JSON file with the same layout as bench.sh's.

usage: report.py DIR RUNS CPU CORES COMPILER VERSION JSON-OUT METRIC WORKLOADS CONFIG...

DIR holds WORKLOAD.O0.I.json (one per hotpath configuration I, 0-based) and
WORKLOAD.O2.json (the -O2 build under the last configuration), each the
stdout of `hotpath compare --json`, and WORKLOAD.cmd (command lines).
JSON-OUT may be "" (no JSON file).  WORKLOADS is space-separated.

Definitions, as in bench.sh (medians; each compare run pairs its own native
and hotpath timings):
    speed-up     = native -O0 / hotpath -O0
    gap closed   = (native -O0 - hotpath -O0) / (native -O0 - native -O2),
                   n/a when -O2 is less than 5 % faster than -O0
    overhead -O2 = hotpath -O2 / native -O2
The geomean row holds geometric means over the workloads that did not fail;
its gap closed is computed from the geomean times.
Exit status: 0 if every run produced identical output, 1 otherwise.
"""
import json
import math
import sys


def load(path):
    """Parse compare's stdout; tolerate extra non-JSON lines around it."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return {"error": "no result file"}
    try:
        d = json.loads(text)
        return d if isinstance(d, dict) else {"error": "unexpected JSON"}
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return {"error": "no JSON in hotpath compare output"}


def read_cmd(path):
    try:
        with open(path, encoding="utf-8") as f:
            return dict(line.rstrip("\n").split("\t", 1) for line in f if "\t" in line)
    except OSError:
        return {}


def main(argv):
    if len(argv) < 11:
        print(__doc__, file=sys.stderr)
        return 2
    tmp, runs, cpu, cores, compiler, version, json_out, metric, names = argv[1:10]
    configs = argv[10:]
    key = "median_s" if metric == "wall" else "user_sys_median_s"
    names = names.split()
    runs = int(runs)

    def ok(d):
        return d.get("identical") is True

    def t(d, side):
        try:
            v = float(d[side][key])
        except (KeyError, TypeError, ValueError):
            return None
        return v if v > 0 else None

    def gap(t0, thp, t2):
        # share of the native -O0 -> -O2 gap that hotpath closes; undefined
        # when -O2 is not meaningfully faster than -O0 (less than 5%)
        if t0 - t2 < 0.05 * t0:
            return None
        return (t0 - thp) / (t0 - t2)

    def geomean(xs):
        xs = [x for x in xs if x is not None and x > 0]
        return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None

    rows, raw, failures = [], {}, []
    for s in names:
        r = {"name": s, "ok": True, "hotpath_O0": {}}
        o0 = [load(f"{tmp}/{s}.O0.{c}.json") for c in range(len(configs))]
        o2 = load(f"{tmp}/{s}.O2.json")
        raw[s] = {"O0": dict(zip(configs, o0)), "O2": o2}
        cmds = read_cmd(f"{tmp}/{s}.cmd")
        r["command_O0"], r["command_O2"] = cmds.get("O0"), cmds.get("O2")
        if not all(ok(d) for d in o0 + [o2]):
            r["ok"] = False
            failures.append(s)
        r["native_O0_s"] = t(o0[0], "native") if ok(o0[0]) else None
        r["native_O2_s"] = t(o2, "native") if ok(o2) else None
        r["hotpath_O2_s"] = t(o2, "hotpath") if ok(o2) else None
        r["overhead_O2"] = (r["hotpath_O2_s"] / r["native_O2_s"]
                            if r["hotpath_O2_s"] and r["native_O2_s"] else None)
        for c, d in zip(configs, o0):
            t0, thp = t(d, "native"), t(d, "hotpath")
            if ok(d) and t0 and thp:
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
        hs = [r["hotpath_O0"][c] for r in good if r["hotpath_O0"][c]]
        g = {"median_s": geomean(h["median_s"] for h in hs),
             "speedup": geomean(h["speedup"] for h in hs)}
        # gap closed of the geomean times (a mean of per-workload shares is
        # dominated by workloads where -O2 barely helps)
        g["gap_closed"] = (gap(geo["native_O0_s"], g["median_s"], geo["native_O2_s"])
                           if g["median_s"] and geo["native_O0_s"] and geo["native_O2_s"]
                           else None)
        geo["hotpath_O0"][c] = g

    def f(x, fmt="{:.3f}"):
        return "FAIL" if x is False else "n/a" if x is None else fmt.format(x)

    def pct(x):
        return f(x, "{:.0%}") if x is not None else "n/a"

    head = ["workload", "native -O0 (s)"]
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
        with open(json_out, "w", encoding="utf-8") as out:
            json.dump({"machine": {"cpu": cpu, "cores": int(cores)}, "compiler": compiler,
                       "hotpath_version": version, "runs": runs, "metric": metric,
                       "configs": configs, "o2_config": configs[-1], "workloads": rows,
                       "geomean": geo, "failures": failures, "raw": raw}, out, indent=1)
            out.write("\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
