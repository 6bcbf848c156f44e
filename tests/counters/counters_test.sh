#!/bin/bash
# Assertions on the --stats counters that prove the translator's features ran:
# blocks are built, direct branches are linked (and are not with --no-link),
# linking keeps the dispatcher out of hot loops, indirect call/jmp sites learn
# their target and their inline caches hit, syscalls are seen, the
# scratch-register rip-relative rewrite happens exactly when the cache is out
# of reach.  A feature silently switched off fails here even when every
# program still prints the right output.
#
# usage: counters_test.sh HOTPATH LOOPS INDCALL FUNCPTR JUMPTABLE PHASE CALLCHAIN INTERP MTHOT PROMOTE INDSWAP PROMOTE2 FPROMOTE CPROMOTE RBPDATA DEFER FOLD NESTED CALLEEXIT HEADSELF XUPPER TLSLOOP CGOTO SIDETRACE DISPATCH
#   (executables of tests/programs: loops, indcall, funcptr, jumptable; of
#   tests/traces: phase, callchain, interp, mthot, promote (-O0), indswap, promote2 (-O0), fpromote (-O0), cpromote (-O0), rbpdata (-O0), defer (-O0), fold (-O0), nested (-O0), calleexit (-O0), headself (-O0), xupper (-O0), tlsloop (-O0), cgoto (-O0), sidetrace (-O0), dispatch (-O0))
# Counters are matched by their description (include/hotpath/stats.h).
set -u
if [ $# -ne 25 ]; then
  echo "usage: counters_test.sh HOTPATH LOOPS INDCALL FUNCPTR JUMPTABLE PHASE CALLCHAIN INTERP MTHOT PROMOTE INDSWAP PROMOTE2 FPROMOTE CPROMOTE RBPDATA DEFER FOLD NESTED CALLEEXIT HEADSELF XUPPER TLSLOOP CGOTO SIDETRACE DISPATCH" >&2
  exit 2
fi
hp=$(realpath "$1") loops=$(realpath "$2") indcall=$(realpath "$3") funcptr=$(realpath "$4") jumptable=$(realpath "$5")
phase=$(realpath "$6") callchain=$(realpath "$7") interp=$(realpath "$8") mthot=$(realpath "$9")
promote=$(realpath "${10}") indswap=$(realpath "${11}") promote2=$(realpath "${12}") fpromote=$(realpath "${13}") cpromote=$(realpath "${14}") rbpdata=$(realpath "${15}") defer=$(realpath "${16}") fold=$(realpath "${17}")
nested=$(realpath "${18}") calleexit=$(realpath "${19}") headself=$(realpath "${20}")
xupper=$(realpath "${21}") tlsloop=$(realpath "${22}") cgoto=$(realpath "${23}") sidetrace=$(realpath "${24}") dispatch=$(realpath "${25}")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

# run NAME [HOTPATH-OPTIONS...] -- PROGRAM [ARGS...]: runs PROGRAM under
# hotpath --stats with the statistics in $tmp/NAME.stats; the program must
# exit 0 (its stdout and stderr are kept in $tmp/NAME.out / NAME.err).
run() {
  local name=$1; shift
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  "$hp" --stats --log="$tmp/$name.stats" "${opts[@]}" -- "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
  local st=$?
  if [ $st -ne 0 ]; then
    fail "$name: hotpath ${opts[*]} -- $* exited with status $st (want 0); stderr:"
    head -5 "$tmp/$name.err"
  fi
}

# counter NAME DESCRIPTION: prints the counter of run NAME whose description
# is exactly DESCRIPTION.  A missing counter: says so on stderr and returns 1
# (the callers count the failure: this runs in a command substitution).
counter() {
  local v
  v=$(awk -v d="$2" '
    /^  / {
      n = $NF; line = $0
      sub(/^  +/, "", line); sub(/[ \t]+[0-9]+[ \t]*$/, "", line)
      if (line == d && n ~ /^[0-9]+$/) { print n; exit }
    }' "$tmp/$1.stats" 2>/dev/null)
  if [ -z "$v" ]; then
    {
      echo "FAIL: $1: no counter '$2' in the --stats output (was it renamed or dropped?)"
      [ -f "$tmp/$1.stats" ] && sed 's/^/    | /' "$tmp/$1.stats"
    } >&2
    return 1
  fi
  echo "$v"
}

# expect NAME DESCRIPTION OP VALUE: counter OP VALUE (OP: -gt -ge -eq -le -lt).
expect() {
  local v
  v=$(counter "$1" "$2") || { fails=$((fails + 1)); return; }
  if test "$v" "$3" "$4"; then
    echo "ok: $1: $2 = $v ($3 $4)"
  else
    fail "$1: $2 = $v, want $3 $4"
  fi
}

# ratio_at_least NAME_SMALL NAME_BIG DESCRIPTION FACTOR:
# the counter of NAME_BIG is at least FACTOR times that of NAME_SMALL.
ratio_at_least() {
  local a b
  a=$(counter "$1" "$3") || { fails=$((fails + 1)); return; }
  b=$(counter "$2" "$3") || { fails=$((fails + 1)); return; }
  if [ "$b" -ge $(($4 * a)) ] && [ "$a" -gt 0 ]; then
    echo "ok: $3: $1 $a, $2 $b (at least ${4}x)"
  else
    fail "$3: $1 $a, $2 $b: want $2 at least ${4}x $1 (and $1 > 0)"
  fi
}

B="blocks built"
T="time spent translating (ns)"
D="dispatcher entries (exits from the cache)"
L="links made"
S="indirect call/jmp sites that learnt their target"
SA="times an indirect call/jmp site learnt another target (65536 misses, one thread)"
H="indirect calls/jmps that hit their site's inline cache"
Y="syscalls"
R="rip-relative operands rewritten through a scratch register"

# The block translator's features at --opt=0 (traces replace some of them:
# guards instead of inline caches, trace units for code of several modules).
run loops --opt=0 -- "$loops"
run loops-nolink --opt=0 --no-link -- "$loops"
run loops-far --opt=0 --debug-far-cache -- "$loops"
run indcall --opt=0 -- "$indcall"
run funcptr --opt=0 -- "$funcptr"
run jumptable --opt=0 -- "$jumptable"
run jumptable-nojt --opt=0 --no-jump-tables -- "$jumptable"
run jumptable-traces -- "$jumptable"
run jumptable-exact --opt-exact-state -- "$jumptable"
run jumptable-flushes --debug-flush-every=20 -- "$jumptable"
run true --opt=0 -- /bin/true
run python --opt=0 -- /usr/bin/python3 -c pass
# Traces (--opt=2, the default, builds them as --opt=1 does).
run loops-traces -- "$loops"
run loops-traces-nolink --no-link -- "$loops"
run indcall-traces -- "$indcall"

# Blocks are built and translating takes time; syscalls are seen.
for n in loops indcall funcptr jumptable true python; do
  expect $n "$B" -gt 0
  expect $n "$T" -gt 0
  expect $n "$Y" -gt 0
done
expect true "$B" -gt 100
expect python "$B" -gt 100
# Blocks' jump tables take at most half of the thread blocks' ring of 16384
# entries, leaving the rest to traces (python's start-up alone has some 180
# dispatch sites of 256 entries: they used to take all of it).
expect python "entries of those jump tables" -le 8192
expect python "entries of those jump tables" -gt 0

# Direct branches are linked; with --no-link the only patched branches are
# the inline caches of indirect call/jmp sites (each links when it learns a
# target, and again each time it learns another), so links made is at most
# the number of times sites learnt.
expect loops "$L" -gt 1000
if nl_links=$(counter loops-nolink "$L") && nl_first=$(counter loops-nolink "$S") &&
   nl_again=$(counter loops-nolink "$SA"); then
  nl_sites=$((nl_first + nl_again))
  if [ "$nl_links" -le "$nl_sites" ]; then
    echo "ok: loops-nolink: $L = $nl_links <= $S + relearnt = $nl_sites"
  else
    fail "loops-nolink: $L = $nl_links with --no-link, more than the $nl_sites inline-cache sites: direct branches were linked"
  fi
else
  fails=$((fails + 1))
fi
# Linked, the loops stay in the cache: far fewer dispatcher entries.
ratio_at_least loops loops-nolink "$D" 100

# Indirect call/jmp sites learn their target and then hit their inline cache.
for n in indcall funcptr jumptable; do
  expect $n "$S" -gt 0
done
# A `call r64` (function pointers at -O0: call rdx) has its inline cache
# compare the guest's register in place (tests/golden/lower_call_reg).
expect funcptr "indirect call sites (call r64) whose inline cache compares the guest's register in place" -gt 0
# A switch's `jmp r64` is looked up from the guest's register in place.
expect jumptable "indirect jmp sites whose lookup reads the guest's register in place" -gt 0
# Its jump table is read at translation: the switch jumps straight to each
# case (blocks and traces), and no longer through the lookup.
J="switch jump tables translated (jmp reg sites dispatching straight to each case)"
expect jumptable "$J" -gt 0
expect jumptable-traces "$J" -gt 0
expect jumptable-nojt "$J" -eq 0
# At --opt=2 (the default) a case that reads nothing the computation of the
# jump's target leaves is entered without it; --opt-exact-state keeps it.
JD="jump-table slots that jump to their case at once (the case reads nothing the target's computation leaves; --opt=2)"
expect jumptable-traces "$JD" -gt 0
expect jumptable-exact "$JD" -eq 0
expect jumptable "$JD" -eq 0
# Once such a slot's exit is linked, its entries lead straight to the
# case's fragment (the dispatch's one jump instead of two); --no-link none.
JA="links of jump-table slots that aimed their entries at the case's fragment (the dispatch jumps there straight; relinks count again)"
expect jumptable-traces "$JA" -gt 0
expect jumptable-exact "$JA" -eq 0
run jumptable-nolink --no-link -- "$jumptable"
expect jumptable-nolink "$JA" -eq 0
# A switch in a block makes no trace heads of its cases: "backward" is
# measured against the block's own instructions, not the table and the
# cases' code the block counts among its guest ranges (each case used to
# become a head). With no trace ever hot, the heads are the same with and
# without jump tables.
HD="trace heads (targets of backward branches and trace exits)"
run jumptable-cold --hot-threshold=1000000000 -- "$jumptable"
run jumptable-cold-nojt --hot-threshold=1000000000 --no-jump-tables -- "$jumptable"
if a=$(counter jumptable-cold "$HD") && b=$(counter jumptable-cold-nojt "$HD"); then
  if [ "$a" -eq "$b" ] && [ "$a" -gt 0 ]; then
    echo "ok: $HD: $a with jump tables, $b without"
  else
    fail "$HD: $a with jump tables, $b without: want equal (and > 0)"
  fi
else
  fails=$((fails + 1))
fi
# Each flush's sites take new entries; those of freed generations are used
# again (the table holds 16384: more than that were handed out in all).
expect jumptable-flushes "entries of those jump tables" -gt 16384
# (Its dense switch runs 300,000 times; the lookups left are returns.)
LK="indirect branch lookups (returns, indirect jumps and calls)"
if nojt=$(counter jumptable-nojt "$LK") && jt=$(counter jumptable "$LK") && jtt=$(counter jumptable-traces "$LK"); then
  for run_n in jumptable:$jt jumptable-traces:$jtt; do
    if [ $((nojt - ${run_n#*:})) -ge 250000 ]; then
      echo "ok: ${run_n%%:*}: $LK = ${run_n#*:}, $nojt with --no-jump-tables"
    else
      fail "${run_n%%:*}: $LK = ${run_n#*:}, $nojt with --no-jump-tables: the switch still goes through the lookup"
    fi
  done
else
  fails=$((fails + 1))
fi
expect indcall "$H" -ge 1000
expect funcptr "$H" -ge 1000

# The scratch-register rewrite of rip-relative operands: everywhere when the
# cache is out of reach, nowhere when it is near the code.
expect loops-far "$R" -gt 100
for n in loops loops-nolink indcall funcptr jumptable true python; do
  expect $n "$R" -eq 0
done
# Out of reach, blocks are still linked (through trampolines).
expect loops-far "$L" -gt 1000
ratio_at_least loops-far loops-nolink "$D" 100

# Loops become traces; a trace's back edge is linked to its own entry, so a
# traced loop stays in the cache: fewer dispatcher entries than blocks alone
# with --no-link, and no trace is linked with --no-link.
TH="trace heads (targets of backward branches and trace exits)"
TB="traces built"
TI="guest instructions in traces built"
for n in loops-traces indcall-traces loops-traces-nolink; do
  expect $n "$TH" -gt 0
  expect $n "$TB" -gt 0
  expect $n "$TI" -gt 0
done
for n in loops indcall; do
  expect $n "$TB" -eq 0
done
expect loops-traces-nolink "$L" -le 100
# Counted in the code itself (--stats): most of a loop program runs in its
# traces; indirect calls whose target changes miss their guards.
SH="share of guest instructions run in traces (%, from those bounds)"
GM="trace guards whose target differed from the recorded one"
expect loops-traces "$SH" -ge 50
expect loops "$SH" -eq 0
expect indcall-traces "$GM" -gt 0
ratio_at_least loops-traces loops-traces-nolink "$D" 100

# The trace corpus (tests/traces): its hot loops really run as traces, at
# the default threshold and from the second execution of a head; phase's
# branches that change direction take side exits to the dispatcher; some
# trace of callchain has several blocks; with --opt=0 no trace is built.
TX="trace exits that reached the dispatcher"
TBB="blocks in traces built"
for n in phase callchain interp mthot; do
  run $n-traces -- "${!n}"
  run $n-traces-hot --hot-threshold=2 -- "${!n}"
  expect $n-traces "$TB" -gt 0
  expect $n-traces-hot "$TB" -gt 0
  expect $n-traces "$TI" -gt 0
done
# The shared return table is made only for a second thread (mthot) or a
# blocked return table: single-threaded runs write the first thread's only.
RS="shared return tables made (at a second thread or a first blocked return table; until then the first thread's is the only one)"
expect true "$RS" -eq 0
expect python "$RS" -eq 0
expect loops "$RS" -eq 0
expect mthot-traces "$RS" -eq 1
# headself takes a 5 kHz timer in its loop: the first thread's table is
# blocked, and the shared one made from it first (once).
run headself-opt0 --opt=0 -- "$headself"
expect headself-opt0 "$RS" -eq 1
run phase-opt0 --opt=0 -- "$phase"
expect phase-opt0 "$TB" -eq 0
expect phase-traces "$TX" -gt 0
expect phase-traces-hot "$TX" -gt 0
# Some trace of callchain holds several blocks (calls inlined).
if cc_tb=$(counter callchain-traces "$TB") && cc_bb=$(counter callchain-traces "$TBB"); then
  if [ "$cc_bb" -gt "$cc_tb" ]; then
    echo "ok: callchain-traces: $TBB = $cc_bb > $TB = $cc_tb"
  else
    fail "callchain-traces: $TBB = $cc_bb, not more than $TB = $cc_tb: no trace holds more than one block"
  fi
else
  fails=$((fails + 1))
fi

# Traces that stopped inside a callee (at another trace head) are cut back
# before the call, which the block keeps (with the one continuation of its
# return address).
expect callchain-traces "traces cut back before a call whose return they did not reach" -gt 0

# The optimizer (--opt=2): -O0 leaf loops get their locals in registers,
# accesses through pointers are checked; not at --opt=1, not with the pass
# disabled, and only as many traces as --opt-limit says.
OT="loop traces optimized (frame slots promoted to registers)"
OS="frame slots promoted to registers"
OR="instructions that use a promoted slot's register instead of memory"
OC="stores checked at run time against promoted slots"
run promote --opt=2 -- "$promote"
run promote-opt1 --opt=1 -- "$promote"
run promote-nopass --opt=2 --disable-pass=promote -- "$promote"
run promote-limit --opt=2 --opt-limit=2 -- "$promote"
expect promote "$OT" -ge 5
expect promote "$OS" -ge 8
expect promote "$OR" -ge 16
expect promote "$OC" -ge 3
expect promote-opt1 "$OT" -eq 0
expect promote-nopass "$OT" -eq 0
FO="traces folded without promotion (not loops, calls, lookups: stores forwarded, copies and addresses folded)"
# Computed gotos whose opcode is masked first: dispatched without a compare
# (at -O0 the masked opcode goes through a local); their handlers, traces
# that are not loops, folded without promotion, stores forwarded to loads.
JU="jump tables whose index is not compared (an and, a movzx or a range check before bounds it)"
run cgoto --opt=2 -- "$cgoto"
run cgoto-opt0 --opt=0 -- "$cgoto"
run cgoto-nofold --opt=2 --disable-pass=fold -- "$cgoto"
run cgoto-nopromote --opt=2 --disable-pass=promote -- "$cgoto"
expect cgoto "$JU" -ge 2
expect cgoto-opt0 "$JU" -ge 2
expect cgoto "$FO" -ge 4
expect cgoto-nopromote "$OT" -eq 0
expect cgoto-nopromote "$FO" -ge 4
expect cgoto-nopromote "loads of a frame slot that read what a store in the trace left there" -ge 4
expect cgoto-nofold "$FO" -eq 0
# (the limit counts every trace the optimizer changed: promoted loops,
# side traces, and folded without promotion)
SI="side traces: promoted with the slots and registers of the loop trace they end at"
if lim_ot=$(counter promote-limit "$OT") && lim_fo=$(counter promote-limit "$FO") &&
  lim_si=$(counter promote-limit "$SI"); then
  if [ $((lim_ot + lim_fo + lim_si)) -eq 2 ]; then
    echo "ok: promote-limit: traces optimized, loops ($lim_ot), side traces ($lim_si) or folded only ($lim_fo) = 2"
  else
    fail "promote-limit: traces optimized, loops ($lim_ot), side traces ($lim_si) or folded only ($lim_fo), want 2 in all"
  fi
else
  fails=$((fails + 1))
fi
# Side traces: the other arm of an if in an optimized loop takes the
# loop's plan, and the exits between the two go past each other's entry
# (--disable-pass=side: neither).
SL="links from an optimized trace's exit past the entry of a trace with the same slots in the same registers (registers kept)"
run sidetrace --opt=2 -- "$sidetrace"
run sidetrace-noside --opt=2 --disable-pass=side -- "$sidetrace"
expect sidetrace "$SI" -ge 6
expect sidetrace "$SL" -ge 8
expect sidetrace-noside "$SI" -eq 0
expect sidetrace-noside "$SL" -eq 0
# Dispatch traces: a switch interpreter's dispatch keeps its locals in
# registers and its cases' traces take its plan (side traces, linked past
# each other's entries); a case that calls a function cannot, and the
# dispatch is rebuilt without the plan. Not with --disable-pass=dispatch.
DT="of the loop traces optimized, dispatch traces (ending in a switch's jump table: the loop closes through the cases, side traces of theirs)"
DD="dispatch traces dropped (rebuilt as no dispatch) because a case's trace could not take their plan"
run dispatch --opt=2 -- "$dispatch"
run dispatch-nopass --opt=2 --disable-pass=dispatch -- "$dispatch"
expect dispatch "$DT" -ge 1
expect dispatch "$SI" -ge 8
expect dispatch "$SL" -ge 8
expect dispatch "$DD" -ge 1
expect dispatch-nopass "$DT" -eq 0
expect dispatch-nopass "$DD" -eq 0
# Optimized traces go when the process starts a second thread.
run promote2 --opt=2 -- "$promote2"
expect promote2 "$OT" -ge 3
expect promote2 "optimized traces dropped when the process started a second thread" -ge 1
# float and double locals go into xmm registers
OX="float and double slots among them, in xmm registers"
run fpromote --opt=2 -- "$fpromote"
expect fpromote "$OT" -ge 6
expect fpromote "$OX" -ge 6
# their stores copy a source that holds nothing above the element whole
XW="stores of float and double slots in xmm registers that copy their source whole (nothing above the element)"
expect fpromote "$XW" -ge 4
# and only those: xupper stores two locals from registers with data above
# the element (its own output checks that their loads see zeros there)
run xupper --opt=2 -- "$xupper"
expect xupper "$OX" -ge 4
expect xupper "$XW" -ge 2
# loops that read thread-local storage through FS (isalpha, errno, a
# __thread variable) are optimized
run tlsloop --opt=2 -- "$tlsloop"
expect tlsloop "$OT" -ge 3
expect fpromote "$OC" -ge 2
# loops that call functions: promoted across the inlined calls; the loop
# whose local lies below rsp fails its entry check and is rebuilt
run cpromote --opt=2 -- "$cpromote"
expect cpromote "optimized loop traces with inlined calls" -ge 5
expect cpromote "$OC" -ge 1
expect cpromote "optimized traces dropped: at their entry a slot was below rsp, outside the stack or unmapped" -ge 1
# inlined returns that no store can change are not checked (retelide): not
# at --opt=1, not with the pass disabled
RK="inlined returns whose check was removed (no store can reach their slot)"
run cpromote-opt1 --opt=1 -- "$cpromote"
run cpromote-noret --opt=2 --disable-pass=retelide -- "$cpromote"
expect cpromote "$RK" -ge 3
expect cpromote-opt1 "$RK" -eq 0
expect cpromote-noret "$RK" -eq 0
# returns find their call's continuation in the return table: with blocks
# only, all but a few of a call-heavy program's lookups stay inline
run callchain0 --opt=0 -- "$callchain"
if il=$(counter callchain0 "indirect branch lookups (returns, indirect jumps and calls)") &&
   im=$(counter callchain0 "indirect branch lookups that missed the inline table"); then
  if [ "$il" -ge 100000 ] && [ $((im * 100)) -le "$il" ]; then
    echo "ok: callchain0: $im of $il lookups missed the inline tables"
  else
    fail "callchain0: $im of $il lookups missed the inline tables (want >= 100000 lookups, <= 1% missed)"
  fi
else
  fails=$((fails + 1))
fi
# deferred stores: the loops of defer keep their written locals in
# registers only (their faults and signals check memory); the globals they
# touch are checked once at the entry; not with the pass disabled
OD="optimized traces whose slot stores wait for the exits (deferred)"
run defer --opt=2 -- "$defer"
run defer-nodefer --opt=2 --disable-pass=defer -- "$defer"
expect defer "$OD" -ge 6
expect defer "slot stores removed from loops by deferring them to the exits" -ge 12
expect defer "optimized traces whose globals are checked once at the entry, not per access" -ge 2
expect defer-nodefer "$OD" -eq 0
expect defer-nodefer "$OT" -ge 6
# the fold pass: fold's loops keep address arithmetic symbolic (absorbed),
# loads and stores read the folded addresses (rewritten); not with the pass
# disabled, where the same loops are still optimized
OF="optimized traces whose addresses and copies were folded (fold pass)"
run fold --opt=2 -- "$fold"
run fold-nofold --opt=2 --disable-pass=fold -- "$fold"
expect fold "$OF" -ge 8
expect fold "instructions folded away (copies, lea, add/sub/shl kept symbolic)" -ge 40
expect fold "instructions that read a folded address or propagated copy" -ge 15
# an address over i follows i++ instead of being computed in the loop
expect fold "folded addresses that followed a constant added to a register they read (i++ under a[i])" -ge 1
expect fold-nofold "folded addresses that followed a constant added to a register they read (i++ under a[i])" -eq 0
expect fold-nofold "$OF" -eq 0
expect fold-nofold "$OT" -ge 8
# nested loops: the inner loops' traces take in their enclosing loop's path
# back to their head, optimized as well (--opt=2) and at --opt=1
EXT="traces extended along their exit path back to their head (nested loops)"
run nested --opt=2 -- "$nested"
run nested1 --opt=1 -- "$nested"
expect nested "$EXT" -ge 4
expect nested "$OT" -ge 4
expect nested1 "$EXT" -ge 4
# a speculative entry load faults (rbp is a data pointer): the trace is rebuilt
run rbpdata --opt=2 -- "$rbpdata"
expect rbpdata "optimized traces dropped: at their entry a slot was below rsp, outside the stack or unmapped" -ge 1

# Guards whose recorded target no longer comes (a function pointer changed
# after the trace was built) make their trace leave after a number of
# misses, and it is rebuilt: misses stay bounded.
run indswap -- "$indswap"
expect indswap "traces dropped (to be rebuilt) because their guards kept missing" -ge 1
# Its last loop alternates two call targets 400k times: a trace that kept
# guarding one of them would miss 200k times; once the head's traces were
# dropped a few times, its indirect calls end the trace and stay calls.
expect indswap "trace guards whose target differed from the recorded one" -lt 150000
# Side exits are counted by kind: indswap's loops leave their traces by
# conditional branches, some inside the functions its traces inline.
SXO="trace side exits taken outside inlined calls (conditional branches leaving a trace)"
SXI="trace side exits taken inside an inlined call (its callee returns outside the trace)"
expect indswap "$SXO" -gt 1000
expect indswap "$SXI" -gt 1000
expect phase-traces "$SXO" -gt 1000

# A trace whose side exits inside its inlined call are taken half the time
# is dropped after a few thousand of them (each costs a mispredicted
# return), and its head's traces end before that call: of 3 million runs
# (1.5 million such exits with traces as they were) only the first few
# thousand leave inside the callee.
DROP="traces dropped (rebuilt without that call inlined) because exits inside an inlined call kept being taken"
NOINL="inlined calls given up (their head's traces end before them)"
RESET="trace side exits inside inlined calls that reached their limit slowly (counted afresh)"
CUT="traces cut back before a call whose return they did not reach"
for o in 1 2; do
  run calleexit-quick$o --opt=$o -- "$calleexit" quick
  expect calleexit-quick$o "$DROP" -ge 1
  expect calleexit-quick$o "$NOINL" -ge 1
  expect calleexit-quick$o "$SXI" -lt 100000
  # After an inlined call without branches: the rebuilt trace keeps that
  # one and is cut back before the block that makes the other.
  run calleexit-later$o --opt=$o -- "$calleexit" later
  expect calleexit-later$o "$NOINL" -ge 1
  expect calleexit-later$o "$CUT" -ge 1
  expect calleexit-later$o "$SXI" -lt 100000
  # On a nested loop's path: the extension that inlined the call goes, and
  # the next one stops at it (no cycle of rebuilds).
  run calleexit-nest$o --opt=$o -- "$calleexit" nest
  expect calleexit-nest$o "$EXT" -ge 1
  expect calleexit-nest$o "$NOINL" -ge 1
  expect calleexit-nest$o "$DROP" -le 4
  expect calleexit-nest$o "$SXI" -lt 100000
  # Exits taken once in 4096 runs reach the limit in tens of milliseconds
  # (some 17 million runs): the trace stays, its count starts afresh; in
  # two threads too (each thread's count is timed from its own start).
  for m in rare rare2; do
    run calleexit-$m$o --opt=$o -- "$calleexit" $m
    expect calleexit-$m$o "$RESET" -ge 1
    expect calleexit-$m$o "$DROP" -eq 0
  done
done

if [ $fails -ne 0 ]; then
  echo "$fails counter check(s) failed"
  exit 1
fi
echo "all counter checks passed"
exit 0
