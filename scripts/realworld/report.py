#!/usr/bin/env python3
"""Turn the `hotpath compare --json` results collected by bench-realworld.sh
into a Markdown table (stdout) and, optionally, a JSON file.

usage: report.py MANIFEST HEADER-JSON OPT-LEVELS [JSON-OUT]

MANIFEST is a tab-separated file, one line per compare run:
    workload  build(O0|O2)  opt-level  exit-status  result-file  command
where result-file holds the stdout of `hotpath compare --json`.
HEADER-JSON describes the machine/compiler/run settings.

Definitions (per workload and per --opt level L; each compare run pairs its
own native and hotpath timings, medians throughout):
    speed-up     = native -O0 / hotpath -O0
    gap closed   = (native -O0 - hotpath -O0) / (native -O0 - native -O2)
    -O2 overhead = hotpath -O2 / native -O2
The summary row holds geometric means, except "gap closed", which is the
arithmetic mean (it can be zero or negative).
Exit status: 0 if every run succeeded with identical output, 1 otherwise.
"""
import json
import math
import sys


def load_result(path):
    """Parse compare's stdout; tolerate extra non-JSON lines around it."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def median(res, side):
    try:
        v = float(res[side]["median_s"])
    except (KeyError, TypeError, ValueError):
        return None
    return v if v > 0 else None


def geomean(vals):
    vals = [v for v in vals if v is not None and v > 0]
    if not vals:
        return None
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def mean(vals):
    vals = [v for v in vals if v is not None]
    return sum(vals) / len(vals) if vals else None


def fmt_s(v):
    return "—" if v is None else f"{v:.3f}"


def fmt_x(v):
    return "—" if v is None else f"{v:.2f}×"


def fmt_pct(v):
    return "—" if v is None else f"{100 * v:.0f} %"


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    manifest, header_path, levels_str = argv[1:4]
    json_out = argv[4] if len(argv) == 5 else None
    levels = levels_str.split()
    with open(header_path, encoding="utf-8") as f:
        header = json.load(f)

    order = []
    runs = {}       # (workload, build, level) -> dict
    commands = {}   # (workload, build) -> command line
    with open(manifest, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            wl, build, level, status, path, cmd = line.split("\t", 5)
            if wl not in order:
                order.append(wl)
            res = load_result(path)
            runs[(wl, build, level)] = {"exit_status": int(status), "result": res}
            commands[(wl, build)] = cmd

    all_ok = True
    workloads = []
    for wl in order:
        entry = {"name": wl,
                 "command_O0": commands.get((wl, "O0")),
                 "command_O2": commands.get((wl, "O2")),
                 "native_O0_s": None, "native_O2_s": None, "levels": {}}
        for lv in levels:
            r0 = runs.get((wl, "O0", lv), {})
            r2 = runs.get((wl, "O2", lv), {})
            res0, res2 = r0.get("result"), r2.get("result")
            n0, h0 = median(res0, "native"), median(res0, "hotpath")
            n2, h2 = median(res2, "native"), median(res2, "hotpath")
            if entry["native_O0_s"] is None:
                entry["native_O0_s"] = n0
            if entry["native_O2_s"] is None:
                entry["native_O2_s"] = n2
            ok = True
            problems = []
            for build, r, res in (("O0", r0, res0), ("O2", r2, res2)):
                if not r:
                    ok = False
                    problems.append(f"-{build}: not run")
                    continue
                if res is None:
                    ok = False
                    problems.append(f"-{build}: no JSON (exit {r['exit_status']})")
                elif res.get("identical") is not True:
                    ok = False
                    problems.append(f"-{build}: output differs")
                elif r["exit_status"] != 0:
                    ok = False
                    problems.append(f"-{build}: compare exit {r['exit_status']}")
            all_ok = all_ok and ok
            speedup = n0 / h0 if n0 and h0 else None
            gap = None
            if n0 and h0 and n2 and n0 != n2:
                gap = (n0 - h0) / (n0 - n2)
            overhead = h2 / n2 if h2 and n2 else None
            entry["levels"][lv] = {
                "hotpath_O0_s": h0, "hotpath_O2_s": h2,
                "native_O0_s": n0, "native_O2_s": n2,
                "speedup": speedup, "gap_closed": gap, "overhead_O2": overhead,
                "ok": ok, "problems": problems,
                "compare_O0": res0, "compare_O2": res2,
                "exit_status_O0": r0.get("exit_status"),
                "exit_status_O2": r2.get("exit_status"),
            }
        workloads.append(entry)

    geo = {"native_O0_s": geomean([w["native_O0_s"] for w in workloads]),
           "native_O2_s": geomean([w["native_O2_s"] for w in workloads]),
           "levels": {}}
    for lv in levels:
        ls = [w["levels"][lv] for w in workloads]
        geo["levels"][lv] = {
            "hotpath_O0_s": geomean([x["hotpath_O0_s"] for x in ls]),
            "hotpath_O2_s": geomean([x["hotpath_O2_s"] for x in ls]),
            "speedup": geomean([x["speedup"] for x in ls]),
            "gap_closed_mean": mean([x["gap_closed"] for x in ls]),
            "overhead_O2": geomean([x["overhead_O2"] for x in ls]),
        }

    # Markdown.  With one level the columns are, in order: workload,
    # native -O0, hotpath -O0, speed-up, native -O2, gap closed, -O2 overhead.
    multi = len(levels) > 1
    def tag(lv):
        return f" (--opt={lv})" if multi else ""
    cols = ["workload", "native -O0 (s)"]
    for lv in levels:
        cols += [f"hotpath -O0{tag(lv)} (s)", f"speed-up{tag(lv)}"]
    cols.append("native -O2 (s)")
    cols += [f"-O0→-O2 gap closed{tag(lv)}" for lv in levels]
    cols += [f"hotpath on -O2{tag(lv)}" for lv in levels]

    print(f"Machine: {header['cpu']} ({header['cores']} cores), "
          f"{header['compiler']}; hotpath {header['hotpath']}; "
          f"{header['runs']} runs per side, medians; --opt levels: {' '.join(levels)}")
    print()
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(cols) - 1)) + "|")
    for w in workloads:
        row = [w["name"], fmt_s(w["native_O0_s"])]
        for lv in levels:
            x = w["levels"][lv]
            h0 = fmt_s(x["hotpath_O0_s"])
            if not x["ok"]:
                h0 += " ⚠"
            row += [h0, fmt_x(x["speedup"])]
        row.append(fmt_s(w["native_O2_s"]))
        row += [fmt_pct(w["levels"][lv]["gap_closed"]) for lv in levels]
        row += [fmt_x(w["levels"][lv]["overhead_O2"]) for lv in levels]
        print("| " + " | ".join(row) + " |")
    row = ["**geomean**", fmt_s(geo["native_O0_s"])]
    for lv in levels:
        g = geo["levels"][lv]
        row += [fmt_s(g["hotpath_O0_s"]), fmt_x(g["speedup"])]
    row.append(fmt_s(geo["native_O2_s"]))
    row += [fmt_pct(g) + " (mean)" if g is not None else fmt_pct(g)
            for g in (geo["levels"][lv]["gap_closed_mean"] for lv in levels)]
    row += [fmt_x(geo["levels"][lv]["overhead_O2"]) for lv in levels]
    print("| " + " | ".join(row) + " |")

    problems = [(w["name"], lv, p) for w in workloads for lv in levels
                for p in w["levels"][lv]["problems"]]
    if problems:
        print()
        for name, lv, p in problems:
            print(f"⚠ {name} --opt={lv} {p}")

    if json_out:
        doc = dict(header)
        doc["opt_levels"] = levels
        doc["workloads"] = workloads
        doc["geomean"] = geo
        doc["all_ok"] = all_ok
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
