#!/usr/bin/env python3
"""The results table of scripts/bench.sh and scripts/bench-realworld.sh.

Both scripts measure with `hotpath compare --json` and hand the results to
this module, which prints the Markdown table (stdout) and optionally writes
the JSON file.

usage: bench_report.py table [--label L] [--gap-min F] [--commands]
                             DIR RUNS CPU CORES COMPILER VERSION JSON-OUT METRIC NAMES CONFIG...
       bench_report.py unpack JSON-FILE DIR ARRAY

table: DIR holds NAME.O0.I.json (one per hotpath configuration I, 0-based)
and NAME.O2.json (the -O2 build under the last configuration), each the
stdout of `hotpath compare --json`.  JSON-OUT may be "" (no JSON file).
NAMES is space-separated; METRIC is wall or cpu.
    --label L     what a row is: "sample" (default) or "workload"; names
                  the first column and the list of rows in the JSON file
                  ("samples" / "workloads")
    --gap-min F   gap closed is n/a when -O2 is less than F (a fraction,
                  default 0.2) faster than -O0
    --commands    rows also carry command_O0 / command_O2, read from
                  NAME.cmd (lines "O0<TAB>command", "O2<TAB>command")
Exit status: 0 if every run produced identical output, 1 otherwise.

unpack: recreate DIR (the compare results, and NAME.cmd where the rows have
commands) from a JSON file written by `table`, and print shell assignments
for the other `table` arguments: runs, ARRAY=(names), configs=(...), cpu,
cores, compiler, version, and failed (1 if the file lists failures).

Definitions (medians; each compare run pairs its own native and hotpath
timings):
    speed-up     = native -O0 / hotpath -O0
    gap closed   = (native -O0 - hotpath -O0) / (native -O0 - native -O2)
    overhead -O2 = hotpath -O2 / native -O2
The geomean row holds geometric means over the rows that did not fail; its
gap closed is computed from the geomean times.
"""
import json
import math
import shlex
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


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def table(tmp, runs, cpu, cores, compiler, version, json_out, metric, names, configs,
          label="sample", gap_min=0.2, commands=False):
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
        # share of the native -O0 -> -O2 gap that hotpath closes; not
        # meaningful when -O2 is not clearly faster than -O0
        if t0 - t2 < gap_min * t0:
            return None
        return (t0 - thp) / (t0 - t2)

    rows, raw, failures = [], {}, []
    for s in names:
        r = {"name": s, "ok": True, "hotpath_O0": {}}
        o0 = [load(f"{tmp}/{s}.O0.{c}.json") for c in range(len(configs))]
        o2 = load(f"{tmp}/{s}.O2.json")
        raw[s] = {"O0": dict(zip(configs, o0)), "O2": o2}
        if commands:
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
        # gap closed of the geomean times (a mean of per-row shares is
        # dominated by rows where -O2 barely helps)
        g["gap_closed"] = (gap(geo["native_O0_s"], g["median_s"], geo["native_O2_s"])
                           if g["median_s"] and geo["native_O0_s"] and geo["native_O2_s"]
                           else None)
        geo["hotpath_O0"][c] = g

    def f(x, fmt="{:.3f}"):
        return "FAIL" if x is False else "n/a" if x is None else fmt.format(x)

    def pct(x):
        return f(x, "{:.0%}") if x is not None else "n/a"

    head = [label, "native -O0 (s)"]
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
                       "configs": configs, "o2_config": configs[-1], label + "s": rows,
                       "geomean": geo, "failures": failures, "raw": raw}, out, indent=1)
            out.write("\n")
    return 1 if failures else 0


def unpack(path, tmp, array):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    for s, r in d["raw"].items():
        for i, c in enumerate(d["configs"]):
            with open(f"{tmp}/{s}.O0.{i}.json", "w", encoding="utf-8") as out:
                json.dump(r["O0"][c], out)
        with open(f"{tmp}/{s}.O2.json", "w", encoding="utf-8") as out:
            json.dump(r["O2"], out)
    for r in d.get("samples", []) + d.get("workloads", []):
        if "command_O0" in r:
            with open(f"{tmp}/{r['name']}.cmd", "w", encoding="utf-8") as out:
                for o in ("O0", "O2"):
                    if r.get(f"command_{o}") is not None:
                        out.write(f"{o}\t{r[f'command_{o}']}\n")
    print("runs=%d" % d["runs"])
    print("%s=(%s)" % (array, " ".join(shlex.quote(s) for s in d["raw"])))
    print("configs=(%s)" % " ".join(shlex.quote(c) for c in d["configs"]))
    print("cpu=%s cores=%d" % (shlex.quote(d["machine"]["cpu"]), d["machine"]["cores"]))
    print("compiler=%s version=%s" % (shlex.quote(d["compiler"]),
                                      shlex.quote(d["hotpath_version"])))
    print("failed=%d" % bool(d["failures"]))
    return 0


def main(argv):
    args = argv[1:]
    if args[:1] == ["unpack"] and len(args) == 4:
        return unpack(*args[1:])
    if args[:1] != ["table"]:
        print(__doc__, file=sys.stderr)
        return 2
    args = args[1:]
    opts = {}
    while args and args[0] in ("--label", "--gap-min", "--commands"):
        if args[0] == "--commands":
            opts["commands"] = True
            args = args[1:]
        elif len(args) < 2:
            break
        elif args[0] == "--label":
            opts["label"] = args[1]
            args = args[2:]
        else:
            opts["gap_min"] = float(args[1])
            args = args[2:]
    if len(args) < 10:
        print(__doc__, file=sys.stderr)
        return 2
    return table(*args[:9], args[9:], **opts)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
