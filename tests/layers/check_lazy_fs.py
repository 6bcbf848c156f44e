#!/usr/bin/env python3
"""Checks hotpath-core's machine code for the lazy-FS rule (thread.h): the
functions the dispatcher calls while the guest's FS is still in place, and
everything they call directly, reach no C library function that may touch
hotpath's TLS (errno, malloc, stdio, locale) unless a function on the way
has switched with hp_fs_host() before it, and none of them addresses TLS
through %fs itself (a statically linked library's errno) but for the stack
protector's canary: what a function calls (or accesses) after its
first call of hp_fs_host (in address order, where GCC puts the cold paths
that switch) is not followed. Indirect
calls are allowed only in the functions listed here, each with the reason.
The binary must be bound at start-up: a lazily bound call would run the
dynamic linker's resolver, which uses TLS. Exit status 1 names each path
that breaks the rule."""
import collections
import re
import subprocess
import sys

# What the dispatcher loop (runtime/dispatch.c) calls on its lazy paths.
ROOTS = """hp_lock hp_unlock hp_evict_safe_point hp_cache_full hp_cache_clear_full
hp_fragment_lookup hp_build_block_at hp_trace_build_ahead hp_trace_recording hp_trace_edge
hp_link hp_ibl_find hp_ibl_insert hp_ibl_fast_insert hp_predict
hp_cache_request_flush hp_enter_cache hp_signal_ready hp_syscall_plain hp_syscall_passthrough
hp_evict_idle hp_trace_hot hp_trace_record_step
fast_update ret_update jt_update""".split()

# Library functions that touch no TLS when they succeed or cannot fail
# (string and memory functions; Zydis, which only reads the stack
# protector's canary at fs:0x28; clock_gettime through the vDSO).
PURE = set("""memcpy memmove memset memcmp memchr strlen strnlen strchr strrchr strcmp strncmp
ZydisDecoderDecodeFull ZydisDecoderDecodeInstruction ZydisDecoderInit
ZydisEncoderDecodedInstructionToEncoderRequest ZydisEncoderEncodeInstruction
ZydisRegisterGetClass ZydisRegisterGetId ZydisRegisterGetLargestEnclosing ZydisRegisterGetWidth
clock_gettime""".split())

# Functions whose indirect calls are known to land in TLS-free code.
INDIRECT_OK = {
    "hp_jt_find": "reads guest bytes through the builder's reader callback (builder.c)",
    "source": "the jump-table reader's own callback",
    "hp_live_in": "reads guest code through the builder's jump-table code reader (builder.c jt_fetch: memcpy)",
    "hp_thread_foreach": "its callbacks on the lazy paths are roots above",
    "_init": "not reached",
    "hp_enter_cache": "jumps into the code cache",
}

SWITCH = "hp_fs_host"
INDIRECT = "*"


def main():
    binary = sys.argv[1]
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True,
                         text=True, check=True).stdout
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    if not re.search(r"\(FLAGS\)\s+BIND_NOW|\(FLAGS_1\)\s+Flags:.*\bNOW\b", dyn):
        print("check_lazy_fs: %s is bound lazily (link it with -z now)" % binary)
        return 1
    calls = collections.defaultdict(list)
    defined = set()
    # Functions that address hotpath's TLS through %fs themselves (the
    # statically linked libelf and libdw set their error codes so), before
    # any switch to hotpath's FS in address order; only the stack
    # protector's canary at fs:0x28 may be read on the guest's FS.
    tls = set()
    switched = set()
    fn = None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            fn = m.group(1)
            defined.add(fn)
            continue
        if not fn:
            continue
        if "%fs:" in line and not re.search(r"%fs:0x28\b", line) and fn not in switched:
            tls.add(fn)
        m = re.search(r"\s(call|jmp)\s+[0-9a-f]+ <([^>+]*)(\+0x[0-9a-f]+)?>", line)
        if m and m.group(2) == SWITCH:
            switched.add(fn)
        if m:
            if m.group(2) != fn:
                calls[fn].append(m.group(2))
        elif re.search(r"\scall\s+\*", line) and "@plt" not in fn:  # jmp *: switch tables
            calls[fn].append(INDIRECT)
    # Roots the compiler renamed (foo.isra.0, foo.constprop.0) count by their base name.
    base = collections.defaultdict(list)
    for d in defined:
        base[d.split(".")[0]].append(d)
    missing = [r for r in ROOTS if not base.get(r)]
    if missing:
        print("check_lazy_fs: roots not found in the binary:", " ".join(missing))
        return 1
    parent = {}
    seen = set()
    stack = [d for r in ROOTS for d in base[r]]
    bad = []
    while stack:
        f = stack.pop()
        if f in seen:
            continue
        seen.add(f)
        callees = calls.get(f, [])
        if SWITCH in callees:
            callees = callees[:callees.index(SWITCH)]  # the rest runs on hotpath's FS
        if f.endswith("@plt"):
            name = f[:-4].split("@")[0]
            if name not in PURE:
                bad.append(f)
            continue
        if INDIRECT in callees and f not in INDIRECT_OK:
            bad.append(f + " (indirect call)")
        if f in tls:
            bad.append(f + " (addresses TLS through %fs)")
        for c in callees:
            if c != INDIRECT and c not in seen:
                parent.setdefault(c, f)
                stack.append(c)
    for b in sorted(bad):
        chain, x = [], b.split(" ")[0]
        while x in parent:
            x = parent[x]
            chain.append(x)
        print("lazy FS: %s <- %s" % (b, " <- ".join(chain)))
    if bad:
        print("check_lazy_fs: %d library call(s) reachable with the guest's FS in place; "
              "call hp_fs_host() first in the function that makes them" % len(bad))
        return 1
    print("check_lazy_fs: %d functions reachable from the lazy paths, no TLS use" % len(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
