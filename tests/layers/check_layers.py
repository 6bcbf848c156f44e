#!/usr/bin/env python3
"""Checks that the source folders layer: a module may include the headers of
its own folder and of folders below it, never above (no dependency cycles
between folders). A header belongs to the folder of the .c file whose first
hotpath include it is (the module's own header)."""
import os
import re
import sys

# Levels: folders on one line may not include each other.
LEVEL = {"util": 0, "isa": 1, "emit": 2, "cache": 3, "fragment": 4, "translate": 5, "opt": 5, "loader": 5,
         "trace": 6, "report": 6, "runtime": 7, "cli": 8}
# Headers with no .c of their own: layout and inline helpers.
SHARED = {"thread.h": "util", "rawsys.h": "util", "ilist.h": "isa", "recovery.h": "isa",
          "loader.h": "loader", "dispatch.h": "runtime", "stitch.h": "trace", "trace.h": "trace"}

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
src = os.path.join(root, "src")
inc_re = re.compile(r'#include "hotpath/([a-z_]+\.h)"')
owner = dict(SHARED)
includes = {}
for folder in sorted(os.listdir(src)):
    d = os.path.join(src, folder)
    if not os.path.isdir(d):
        print(f"stray file in src/: {folder}")
        sys.exit(1)
    if folder not in LEVEL:
        print(f"src/{folder}: folder not in the layer table of {__file__}")
        sys.exit(1)
    for name in sorted(os.listdir(d)):
        if not name.endswith((".c", ".S")):
            continue
        path = os.path.join(d, name)
        incs = inc_re.findall(open(path).read())
        includes[f"{folder}/{name}"] = (folder, incs)
        own = name[:-2] + ".h"
        if incs and incs[0] == own:
            prev = owner.get(own)
            if prev and prev != folder:
                print(f"{own} claimed by src/{prev} and src/{folder}")
                sys.exit(1)
            owner[own] = folder
bad = 0
for f, (folder, incs) in sorted(includes.items()):
    for h in incs:
        o = owner.get(h)
        if o is None:
            print(f"src/{f}: includes {h}, which no module owns")
            bad += 1
        elif o != folder and LEVEL[o] >= LEVEL[folder]:
            print(f"src/{f}: includes {h} of src/{o} (level {LEVEL[o]}), not below src/{folder} (level {LEVEL[folder]})")
            bad += 1
print(f"{len(includes)} files checked, {bad} layering violations")
sys.exit(1 if bad else 0)
