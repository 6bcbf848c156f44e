/* Command-line options: one X-macro table, from which parsing and --help are
 * generated (DynamoRIO style). */
#ifndef HOTPATH_OPTIONS_H
#define HOTPATH_OPTIONS_H
#include <stdbool.h>
#include <stdio.h>

/* X(type, field, "name", default, min, max, "ARG", "help"); type is BOOL, INT,
 * SIZE (bytes, with an optional K, M or G suffix: powers of 1024) or STR; min
 * and max bound INT and SIZE values (parsing rejects others). */
#define HP_OPTION_TABLE(X) \
  X(BOOL, native, "native", false, 0, 0, "", \
    "load the program, then jump to it natively without translating (tests the loader; a dynamic program is loaded by its ld.so, so $ORIGIN is its own)") \
  X(INT, opt, "opt", 2, 0, 2, "N", \
    "optimization level: 0 = basic blocks linked in the code cache; 1 = also traces (superblocks) of hot paths; 2 (default) = also the optimizer: loop traces get their frame slots in registers, every trace its address arithmetic and copies folded and stores forwarded to loads") \
  X(STR, disable_pass, "disable-pass", NULL, 0, 0, "NAME[,NAME]", \
    "do not run these optimizer passes (--opt=2); passes: retelide, promote, defer (promoted slots stored at exits), fold (addresses and copies folded, dead code removed; without promote it runs alone on every trace), side (side traces: the other arm of an if in an optimized loop keeps its registers), dispatch (a switch interpreter's dispatch and its cases share their locals in registers)") \
  X(INT, opt_limit, "opt-limit", -1, -1, 1000000000, "N", \
    "optimize only the first N traces, -1 (default) = all (bisecting a miscompile to one trace)") \
  X(BOOL, opt_verify, "opt-verify", false, 0, 0, "", \
    "check each trace after every optimizer pass (stitching, retelide, promote, fold, an unoptimized rebuild) against the invariants the later passes and the lowering rely on; at the first violation print 'hotpath: verifier: ...' (pass, trace head, element, what is wrong, the list) and abort (debugging; costs time only when a trace is built)") \
  X(BOOL, opt_exact_state, "opt-exact-state", false, 0, 0, "", \
    "--opt=2 keeps every guest register exact at every exit from translated code, even where the code there writes it before reading it (today: a switch's jump to a case runs the computation of the jump's target even when the case reads none of its results) (debugging)") \
  X(INT, hot_threshold, "hot-threshold", 50, 1, 1000000000, "N", \
    "executions of a trace head before it is first considered for a trace (default 50; it is traced once it has run 8x that at a rate that pays) (--opt=1 and 2)") \
  X(INT, max_trace_blocks, "max-trace-blocks", 64, 1, 256, "N", \
    "most blocks in one trace (default 64) (--opt=1 and 2)") \
  X(SIZE, cache_size, "cache-size", 1l << 30, 1l << 20, 1l << 40, "SIZE", \
    "most bytes of code cache: units mapped for translated code and their fragments' records (K/M/G suffixes; default 1G, at least 1M); when full, every fragment is flushed at once and the old code is unmapped when no thread can still run it") \
  X(BOOL, stats, "stats", false, 0, 0, "", \
    "print statistics at exit (to the log file if --log is given, else to stderr)") \
  X(BOOL, verbose, "verbose", false, 0, 0, "", \
    "log loader and translator events (level info) to stderr or the --log file") \
  X(STR, log, "log", NULL, 0, 0, "FILE", \
    "write log messages and --stats to FILE instead of stderr") \
  X(INT, log_level, "log-level", 0, 0, 2, "N", \
    "log level: 0 = errors only, 1 = info (same as --verbose), 2 = debug (every block and trace built)") \
  X(STR, profile_save, "profile-save", NULL, 0, 0, "FILE", \
    "at exit, add the trace heads of this run (module build-id and offset) to FILE, keeping the runs it holds (--opt=1 and 2)") \
  X(STR, profile_use, "profile-use", NULL, 0, 0, "FILE", \
    "trace the heads FILE names (--profile-save) at their first --hot-threshold executions, without waiting to prove their rate; entries of a module whose build-id changed are ignored with a notice") \
  X(STR, report, "report", NULL, 0, 0, "FILE", \
    "write an optimization report (JSON, docs/report-schema.json) to FILE at exit (FILE.PID in child processes); counts executions as --stats does") \
  X(INT, report_code, "report-code", 20, 0, 100000, "N", \
    "--report: the guest code and the code hotpath made of it, side by side, for the N traces that ran the most (default 20)") \
  X(BOOL, report_att, "report-att", false, 0, 0, "", \
    "--report: that code in AT&T syntax (default Intel)") \
  X(BOOL, no_follow_exec, "no-follow-exec", false, 0, 0, "", \
    "run programs the guest executes (execve) natively; by default they run under hotpath with the same options") \
  X(STR, exec_file, "exec-file", NULL, 0, 0, "FILE", \
    "run FILE with PROGRAM ARGS... as its whole argv (argv[0] = PROGRAM), as execve(FILE, argv) does: no PATH search (hotpath passes it when it follows an execve)") \
  X(INT, exec_root_pid, "exec-root-pid", 0, 0, 4194304, "PID", \
    "set by hotpath when it follows an execve: the process it was started for, which prints --stats and writes --report's FILE (others write FILE.PID)") \
  X(INT, exec_ss_flags, "exec-ss-flags", -1, -1, 0xffffffffl, "N", \
    "set by hotpath when it follows an execve: the sigaltstack flags the program had set (execve keeps them), when not 0") \
  X(BOOL, perf_map, "perf-map", false, 0, 0, "", \
    "write /tmp/perf-PID.map naming each fragment of the code cache (kind, module+offset, guest function); scripts/perf-map-report.py joins it with perf samples") \
  X(BOOL, jitdump, "jitdump", false, 0, 0, "", \
    "write /tmp/jit-PID.dump (perf's jitdump format: each fragment's name and code) for perf record -k 1 and perf inject --jit, so perf report and perf annotate show the guest functions and the code hotpath made") \
  X(BOOL, no_jump_tables, "no-jump-tables", false, 0, 0, "", \
    "do not translate switch jump tables (a `jmp reg` computed from an index and a constant table) into direct jumps to each case: every such jump goes through the indirect branch lookup (debugging)") \
  X(BOOL, no_link, "no-link", false, 0, 0, "", \
    "never link fragments to each other: every exit goes through the dispatcher (debugging)") \
  X(BOOL, debug_far_cache, "debug-far-cache", false, 0, 0, "", \
    "place code cache units out of rip-relative reach of guest code, forcing the scratch-register rewrite (testing)") \
  X(BOOL, debug_no_fsgsbase, "debug-no-fsgsbase", false, 0, 0, "", \
    "switch FS with arch_prctl even where the CPU has FSGSBASE (testing)") \
  X(BOOL, debug_eager_fs, "debug-eager-fs", false, 0, 0, "", \
    "switch to hotpath's own FS at every exit from the code cache, not only when its C code needs its TLS (testing)") \
  X(BOOL, debug_fs_poison, "debug-fs-poison", false, 0, 0, "", \
    "while hotpath's C code runs without its own FS, put an unreadable one in place, so that a use of its TLS there faults (testing; wins over --debug-eager-fs)") \
  X(BOOL, debug_narrow_returns, "debug-narrow-returns", false, 0, 0, "", \
    "index the return table by the return address's low 16 bits even where the CPU's pext is fast (by default 18 bits there) (testing)") \
  X(INT, debug_flush_every, "debug-flush-every", 0, 0, 1000000000, "N", \
    "flush the whole code cache (as when --cache-size is reached) after every N blocks built, 0 = never (testing)") \
  X(INT, debug_crash_after, "debug-crash-after", 0, 0, 1000000000, "N", \
    "fault inside hotpath on purpose after building N blocks, to test the internal-error report (testing)")

struct hp_options {
#define HP_OPT_FIELD_BOOL bool
#define HP_OPT_FIELD_INT long
#define HP_OPT_FIELD_SIZE long
#define HP_OPT_FIELD_STR const char *
#define HP_OPT_DECLARE(type, field, name, def, min, max, arg, help) HP_OPT_FIELD_##type field;
  HP_OPTION_TABLE(HP_OPT_DECLARE)
#undef HP_OPT_DECLARE
};

extern struct hp_options hp_opt;

/* Exit codes documented in the README and --help. */
enum {
  HP_STATUS_USAGE = 2,
  HP_STATUS_CACHE_FULL = 124,  /* --cache-size cannot hold one fragment */
  HP_STATUS_UNSUPPORTED = 125, /* guest did something hotpath cannot do yet */
  HP_STATUS_CANNOT_EXEC = 126,
  HP_STATUS_NOT_FOUND = 127,
};

/* Parses hotpath options from argv[1..] (stops at "--" or the first
 * non-option); options from the HOTPATH_OPTIONS environment variable are
 * applied first. Returns the index of PROGRAM in argv, or -1 after printing a
 * usage error (exit HP_STATUS_USAGE). --help/--version print and exit(0). */
int hp_options_parse(int argc, char **argv);

/* Parses one option string such as "--opt=0" or "--stats"; returns false and
 * prints an error if unknown or malformed. */
bool hp_option_set(const char *arg);

void hp_options_defaults(void);
/* Checks what the table cannot (--disable-pass names); prints and returns
 * false when something is wrong. */
bool hp_options_valid(void);
/* Whether --disable-pass leaves the optimizer pass name on. */
bool hp_opt_pass_enabled(const char *name);
void hp_usage(FILE *out);

#endif
