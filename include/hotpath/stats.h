/* Named counters, printed by --stats at exit. */
#ifndef HOTPATH_STATS_H
#define HOTPATH_STATS_H
#include <stdbool.h>
#include <stdint.h>

#define HP_STATS_TABLE(X) \
  X(blocks_built, "blocks built") \
  X(guest_insns_translated, "guest instructions translated") \
  X(translate_ns, "time spent translating (ns)") \
  X(cache_bytes, "code cache bytes used") \
  X(cache_cold_bytes, "code cache bytes used by exit stubs and trampolines (cold)") \
  X(cache_count_bytes, "code cache bytes of --stats' own counting code (in the bytes used)") \
  X(cache_bytes_per_insn_x100, "code cache bytes per guest instruction translated (x100, without --stats' counting code)") \
  X(cache_limit, "code cache size limit (--cache-size, bytes)") \
  X(cache_mapped_bytes, "code cache bytes mapped at exit (units of translated code, live and retired)") \
  X(cache_mapped_peak, "code cache bytes mapped at most (bounded by --cache-size)") \
  X(cache_flushes, "code cache flushes (--cache-size reached: every fragment dropped)") \
  X(cache_bytes_reclaimed, "code cache bytes unmapped after flushes") \
  X(cache_units_unmapped, "code cache units unmapped after flushes") \
  X(cache_records_reclaimed, "bytes of fragment records and lookup tables freed after flushes") \
  X(cache_flush_waits, "waits of a thread for others to leave flushed code") \
  X(overhead_bytes, "hotpath's own memory mapped at exit beside the cache: records, tables, thread blocks, shared routines (bytes)") \
  X(overhead_record_bytes, "of which fragment records and arenas (bytes)") \
  X(overhead_thread_bytes, "of which thread blocks (bytes)") \
  X(emit_retries, "fragments emitted again after running out of reserved room") \
  X(dispatcher_entries, "dispatcher entries (exits from the cache)") \
  X(links_made, "links made") \
  X(links_shared, "links from an optimized trace's exit past the entry of a trace with the same slots in the same registers (registers kept)") \
  X(far_link_trampolines, "far-jump trampolines made for links out of rel32 reach (one per exit, reused by its relinks)") \
  X(links_ahead, "links made when a block was built (its targets existed)") \
  X(blocks_built_ahead, "certain successors built with a new block (ahead of their first run)") \
  X(fork_blocks_noted, "blocks this process built after a fork, noted for its parent's next fork") \
  X(fork_blocks_prebuilt, "before a fork, blocks translated because an earlier child of this process built them") \
  X(ibl_inline_lookups, "indirect branch lookups (returns, indirect jumps and calls)") \
  X(ibl_lookups, "indirect branch lookups that missed the inline table") \
  X(ibl_misses, "indirect branch lookup misses") \
  X(sites_learnt, "indirect call/jmp sites that learnt their target") \
  X(sites_relearnt, "times an indirect call/jmp site learnt another target (65536 misses, one thread)") \
  X(inline_cache_hits, "indirect calls/jmps that hit their site's inline cache") \
  X(ret_mismatches, "returns that reached another call's continuation (a shared return table entry)") \
  X(ret_table_bits, "low bits of a return address that choose its return table entry (18 where pext is fast, else 16)") \
  X(syscalls, "syscalls") \
  X(int80_calls, "int 0x80 system calls (32-bit; also counted in syscalls)") \
  X(lazy_fs_exits, "exits from the cache that left the guest's FS in place (lazy FS)") \
  X(fs_host_switches, "switches to hotpath's own FS on a dispatcher path that needed its TLS (lazy FS)") \
  X(lazy_fs_faults, "reads of the guest's missing thread control block retried on hotpath's FS (lazy FS)") \
  X(riprel_far, "rip-relative operands rewritten through a scratch register") \
  X(ibl_reg_sites, "indirect jmp sites whose lookup reads the guest's register in place") \
  X(icall_reg_sites, "indirect call sites (call r64) whose inline cache compares the guest's register in place") \
  X(jt_sites, "switch jump tables translated (jmp reg sites dispatching straight to each case)") \
  X(jt_entries, "entries of those jump tables") \
  X(jt_unchecked, "jump tables whose index is not compared (an and, a movzx or a range check before bounds it)") \
  X(ret_shared_made, "shared return tables made (at a second thread or a first blocked return table; until then the first thread's is the only one)") \
  X(jt_dead_slots, "jump-table slots that jump to their case at once (the case reads nothing the target's computation leaves; --opt=2)") \
  X(jt_entries_aimed, "links of jump-table slots that aimed their entries at the case's fragment (the dispatch jumps there straight; relinks count again)") \
  X(blocks_revived, "blocks of JIT code put back after a reprotection left their bytes unchanged (not translated again)") \
  X(checked_fragments, "fragments that check their code (writable code)") \
  X(stale_fragments, "fragments retranslated after the guest rewrote its code") \
  X(flushed_fragments, "fragments flushed by munmap/mprotect") \
  X(trace_heads, "trace heads (targets of backward branches and trace exits)") \
  X(profile_heads_used, "trace heads named by --profile-use (traced without proving their rate)") \
  X(profile_heads_saved, "trace heads of this run written by --profile-save") \
  X(traces_built, "traces built") \
  X(trace_blocks, "blocks in traces built") \
  X(trace_insns, "guest instructions in traces built") \
  X(trace_record_copies, "recording copies of blocks built (never linked, reused by later recordings)") \
  X(traces_abandoned, "recordings abandoned (signal, fault, untraceable code)") \
  X(trace_heads_given_up, "trace heads given up (linked as blocks)") \
  X(trace_races, "traces another thread built first") \
  X(traces_extended, "traces extended along their exit path back to their head (nested loops)") \
  X(traces_cut_at_calls, "traces cut back before a call whose return they did not reach") \
  X(trace_extensions_failed, "trace extensions given up (the path did not come back, or optimized worse)") \
  X(trace_backoffs, "trace head periods too slow to pay for a trace") \
  X(trace_heads_retired, "trace heads retired (lukewarm or given up: back to a plain block)") \
  X(trace_record_ns, "time spent recording traces (ns)") \
  X(trace_build_ns, "time spent building traces (ns)") \
  X(trace_exits, "trace exits that reached the dispatcher") \
  X(trace_side_exits, "trace side exits taken outside inlined calls (conditional branches leaving a trace)") \
  X(trace_callee_exits, "trace side exits taken inside an inlined call (its callee returns outside the trace)") \
  X(guard_misses, "trace guards whose target differed from the recorded one") \
  X(traces_dropped_misses, "traces dropped (to be rebuilt) because their guards kept missing") \
  X(callee_exit_resets, "trace side exits inside inlined calls that reached their limit slowly (counted afresh)") \
  X(traces_dropped_callee_exits, "traces dropped (rebuilt without that call inlined) because exits inside an inlined call kept being taken") \
  X(calls_not_inlined, "inlined calls given up (their head's traces end before them)") \
  X(opt_traces, "loop traces optimized (frame slots promoted to registers)") \
  X(opt_traces_fold_only, "traces folded without promotion (not loops, calls, lookups: stores forwarded, copies and addresses folded)") \
  X(opt_traces_side, "side traces: promoted with the slots and registers of the loop trace they end at") \
  X(opt_dispatch_dropped, "dispatch traces dropped (rebuilt as no dispatch) because a case's trace could not take their plan") \
  X(opt_traces_dispatch, "of the loop traces optimized, dispatch traces (ending in a switch's jump table: the loop closes through the cases, side traces of theirs)") \
  X(opt_traces_left, "traces the optimizer left as they were") \
  X(opt_traces_dropped, "optimized traces dropped when the process started a second thread") \
  X(opt_slots_promoted, "frame slots promoted to registers") \
  X(opt_xmm_slots_promoted, "float and double slots among them, in xmm registers") \
  X(opt_xslot_whole, "stores of float and double slots in xmm registers that copy their source whole (nothing above the element)") \
  X(opt_traces_calls, "optimized loop traces with inlined calls") \
  X(opt_returns_known, "inlined returns whose check was removed (no store can reach their slot)") \
  X(opt_traces_deopt, "optimized traces dropped: at their entry a slot was below rsp, outside the stack or unmapped") \
  X(opt_insns_rewritten, "instructions that use a promoted slot's register instead of memory") \
  X(opt_alias_checks, "stores checked at run time against promoted slots") \
  X(opt_traces_deferred, "optimized traces whose slot stores wait for the exits (deferred)") \
  X(opt_stores_deferred, "slot stores removed from loops by deferring them to the exits") \
  X(opt_load_checks, "loads checked at run time against deferred slots") \
  X(opt_traces_globals_checked, "optimized traces whose globals are checked once at the entry, not per access") \
  X(opt_traces_folded, "optimized traces whose addresses and copies were folded (fold pass)") \
  X(opt_fold_absorbed, "instructions folded away (copies, lea, add/sub/shl kept symbolic)") \
  X(opt_fold_removed, "dead instructions removed") \
  X(opt_fold_rewritten, "instructions that read a folded address or propagated copy") \
  X(opt_fold_materialized, "registers made exact again in the loop (lea/mov)") \
  X(opt_fold_forwarded, "loads of a frame slot that read what a store in the trace left there") \
  X(opt_fold_rebased, "folded addresses that followed a constant added to a register they read (i++ under a[i])") \
  X(opt_ns, "time spent in optimizer passes (ns)") \
  X(opt_ns_median, "optimizer time per trace, median (ns)") \
  X(opt_ns_max, "optimizer time per trace, maximum (ns)") \
  X(trace_insns_run, "guest instructions run in traces (upper bound: entries x length)") \
  X(block_insns_run, "guest instructions run in blocks (upper bound: entries x length)") \
  X(trace_share_percent, "share of guest instructions run in traces (%, from those bounds)")

struct hp_stats {
#define HP_STAT_FIELD(name, desc) uint64_t name;
  HP_STATS_TABLE(HP_STAT_FIELD)
#undef HP_STAT_FIELD
};

extern struct hp_stats hp_stats;

/* Prints the counters to the log stream (stderr without --log). */
void hp_stats_print(void);
/* Whether counters that cost time are kept (--stats or --report). */
bool hp_stats_enabled(void);

#endif
