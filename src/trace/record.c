/* Trace heads, recording and building (see trace.h). */
#include "hotpath/trace.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hotpath/builder.h"
#include "hotpath/fragment.h"
#include "hotpath/jumptable.h"
#include "hotpath/log.h"
#include "hotpath/memmap.h"
#include "hotpath/options.h"
#include "hotpath/profile.h"
#include "hotpath/fold.h"
#include "hotpath/promote.h"
#include "hotpath/rawsys.h"
#include "hotpath/retelide.h"
#include "hotpath/stats.h"
#include "hotpath/stitch.h"
#include "hotpath/symbols.h"
#include "hotpath/thread.h"
#include "hotpath/verify.h"

#define REC_ELEMS 640      /* elements of the recorded blocks */
#define MAX_GUARDS 96      /* guarded indirect branches in one trace */
#define MAX_BLOCKS_CAP 256 /* --max-trace-blocks upper bound */
#define GIVE_UP_AFTER 4    /* failed recordings before a head is linked normally */
#define MAX_RETRACES 4     /* traces of one head dropped quickly for missing guards */
#define QUICK_DROP_NS 50000000ull /* a trace dropped within 50 ms of being built */
/* A trace whose side exits inside inlined calls reach their limit (4096 in
 * one thread) within this time takes more than a million a second, each a
 * mispredicted return (some 10 ns): at least 1% of the time, more than the
 * calls it inlined saved. */
#define QUICK_CALLEE_EXITS_NS 4000000ull

struct recording {
  bool active;
  bool invalid; /* code it recorded was unmapped or changed protection */
  uint64_t head;
  unsigned nblocks, nelems, nguards, failures;
  uint64_t callees[HP_TRACE_MAX_OPEN_CALLS]; /* calls on the path not yet returned from */
  unsigned ncallees;
  bool stop_after;    /* the last block returns from a call made before the trace */
  /* Extending trace parent (its head is head): its path, then on from
   * where it leaves until back at head (nested loops, extend_start). */
  struct hp_fragment *parent;
  unsigned parent_blocks; /* the parent's path: r->blocks[0, parent_blocks) */
  bool unguarded;     /* the head's traces kept missing: indirect jmps end them unguarded */
  /* Calls the head's traces do not inline (hp_trace_callee_exits): the
   * recording ends before them; all: before any call. */
  bool no_inline_all;
  uint8_t nno_inline;
  uint64_t no_inline[HP_CALLEE_SITES];
  const uint64_t *end_regs; /* the guest registers after the last block (a jump table's) */
  uint64_t t0;
  struct hp_recorded_block blocks[MAX_BLOCKS_CAP];
  struct hp_insn elems[REC_ELEMS];
  struct hp_insn out[REC_ELEMS + 1];
};

/* Its own function: what hp_trace_hot calls after it is checked as running
 * on the guest's FS (tests/layers/check_lazy_fs.py). */
__attribute__((noinline)) static void *new_recording(void)
{
  hp_fs_host();
  void *p = mmap(NULL, sizeof(struct recording), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  HP_ASSERT(p != MAP_FAILED);
  return p;
}

static struct recording *rec_of(struct hp_thread *t)
{
  if (!t->trace_rec)
    t->trace_rec = new_recording();
  return t->trace_rec;
}

bool hp_trace_recording(const struct hp_thread *t)
{
  return t->trace_rec && ((const struct recording *)t->trace_rec)->active;
}

/* The end of f's own instructions (not its other guest ranges: a jump
 * table's entries and the cases' code its dead-tail decision read, which
 * lie past the code and would make every case a backward target). */
static bool source_end(const struct hp_fragment *f, uint64_t *end)
{
  if (!f->npc)
    return false;
  uint64_t e = 0;
  for (uint32_t i = 0; i < f->npc; i++)
    if (f->pc_guest[i] + f->pc_len[i] > e)
      e = f->pc_guest[i] + f->pc_len[i];
  *end = e;
  return true;
}

static unsigned next_head_id = 1; /* under the lock; 0: none (HP_ilist.miss_counter) */

/* The block to at a new trace head gets a counting head: a small fragment
 * that counts executions in the thread block (leaving for the dispatcher at
 * the threshold) and jumps on to the block. It shadows the block (table,
 * lookup, links into it); the block stays, reached through it. */
static struct hp_fragment *make_head(struct hp_fragment *to)
{
  if (next_head_id >= HP_MAX_HEADS || to->checks_code) {
    to->no_trace = true;
    return to;
  }
  struct hp_insn v[2];
  memset(v, 0, sizeof v);
  v[0].op = HP_OP_HEAD_COUNT;
  v[0].pc = to->guest_pc;
  v[0].check_len = (uint16_t)next_head_id; /* HP_MAX_HEADS fits 16 bits */
  bool profiled = hp_opt.profile_use && hp_profile_wants(to->guest_pc);
  uint32_t threshold = (uint32_t)hp_opt.hot_threshold;
  v[0].target = threshold;
  v[1].op = HP_OP_EXIT;
  v[1].pc = to->guest_pc;
  v[1].exit_kind = HP_EXIT_BRANCH;
  v[1].target = to->guest_pc;
  struct hp_ilist l = {.v = v, .n = 2, .cap = 2, .pc = to->guest_pc, .end = to->guest_pc};
  struct hp_fragment *h = hp_translate_list(&l, HP_FRAG_BLOCK, false);
  if (!h) /* the cache is full: the block runs uncounted until the flush */
    return to;
  h->trace_head = true;
  struct hp_frag_trace *tr = hp_frag_tr_mut(h);
  tr->head_block = to;
  tr->head_id = next_head_id++;
  tr->threshold = threshold;
  tr->profiled = profiled;
  hp_stats.profile_heads_used += profiled;
  tr->hot_since = hp_now_ns(); /* its first threshold executions are timed from here */
  for (unsigned i = 0; i < h->nexits; i++)
    if (h->exits[i].kind == HP_EXIT_BRANCH)
      hp_link(&h->exits[i], to); /* on into the block */
  hp_stats.trace_heads++;
  return h;
}

/* Whether the edge from exit prev to fragment to makes to a trace head. */
static bool makes_head(const struct hp_exit *prev, const struct hp_fragment *to)
{
  if (hp_opt.opt < 1 || to->kind != HP_FRAG_BLOCK || to->trace_head || to->no_trace || !prev ||
      prev->kind != HP_EXIT_BRANCH)
    return false;
  const struct hp_fragment *from = prev->from;
  uint64_t end;
  /* Backward: the target lies before the end of the code that branched
   * (loops; a call to a function placed lower is not one); from a trace:
   * its exits start new traces. */
  return from->kind == HP_FRAG_TRACE || (!prev->call && source_end(from, &end) && prev->target < end);
}

struct hp_fragment *hp_trace_edge(struct hp_exit *prev, struct hp_fragment *to)
{
  /* A counting head's own exit goes on into its block, never back into the
   * head (that would count forever without running guest code). */
  struct hp_fragment *block = hp_frag_tr(to)->head_block;
  if (prev && prev->from == to && block && !block->removed)
    return block;
  struct hp_fragment *h = makes_head(prev, to) ? make_head(to) : to;
  /* Where a trace goes on after its last exit: when that gets hot, the
   * trace may take it in (hp_trace_hot). */
  if (prev && h->trace_head && h->kind == HP_FRAG_BLOCK && prev->from->kind == HP_FRAG_TRACE) {
    const struct hp_frag_trace *pt = hp_frag_tr(prev->from);
    if (!pt->nested && pt->end_exit == h->guest_pc && prev->target == h->guest_pc)
      hp_frag_tr_mut(h)->nest_parent = prev->from->guest_pc;
  }
  return h;
}

static void link_ahead(struct hp_fragment *f)
{
  for (unsigned i = 0; i < f->nexits; i++) {
    struct hp_exit *x = &f->exits[i];
    if (x->kind != HP_EXIT_BRANCH || x->linked)
      continue;
    struct hp_fragment *to = hp_fragment_lookup(x->target);
    if (to && to != f && !makes_head(x, to) && hp_link(x, to))
      hp_stats.links_ahead++;
  }
}

/* Whether f is a live block whose exits may be linked ahead. */
static bool links_ahead(const struct hp_fragment *f)
{
  return !hp_opt.no_link && f->kind == HP_FRAG_BLOCK && !f->removed;
}

void hp_trace_link_ahead(struct hp_fragment *f)
{
  if (links_ahead(f))
    link_ahead(f);
}

/* The guest pc block f certainly goes on at, if any: a direct call's
 * callee, or the target of its only exit when that is a direct branch (a
 * jmp, the fall-through of a block cut by a limit). A code check's stale
 * exit does not count: unchanged code goes on. (Building both ways of a
 * jcc ahead was measured: a fifth of those blocks never ran, and building
 * a block costs more than the dispatcher round trip it saves.) */
static bool certain_successor(const struct hp_fragment *f, uint64_t *pc)
{
  unsigned branches = 0;
  for (unsigned i = 0; i < f->nexits; i++) {
    const struct hp_exit *x = &f->exits[i];
    if (x->kind == HP_EXIT_BRANCH && x->call) {
      *pc = x->target;
      return true;
    }
    if (x->kind == HP_EXIT_BRANCH) {
      branches++;
      *pc = x->target;
    } else if (x->kind != HP_EXIT_STALE) {
      return false;
    }
  }
  return branches == 1;
}

#define BUILD_AHEAD 16  /* blocks built ahead of one dispatcher entry, at most */
#define REVIVE_AHEAD 64 /* blocks put back ahead of one, at most */

/* JIT code that a reprotection flushed comes back a block at a time as it
 * runs, each through the dispatcher: the blocks f's exits lead to (and
 * theirs) that can be put back without translating (their bytes compare
 * equal: hp_revive_block) are put back now, and linked ahead. */
static void revive_ahead(struct hp_fragment *f)
{
  struct hp_fragment *q[REVIVE_AHEAD];
  unsigned n = 0;
  q[n++] = f;
  for (unsigned k = 0; k < n; k++)
    for (unsigned i = 0; i < q[k]->nexits && n < REVIVE_AHEAD; i++) {
      const struct hp_exit *x = &q[k]->exits[i];
      if (x->kind != HP_EXIT_BRANCH || x->linked || hp_fragment_lookup(x->target))
        continue;
      struct hp_fragment *g = hp_revive_block(x->target);
      if (g)
        q[n++] = g;
    }
  for (unsigned k = 1; k < n; k++)
    link_ahead(q[k]);
}

void hp_trace_build_ahead(struct hp_fragment *f)
{
  if (!links_ahead(f))
    return;
  if (hp_fragment_any_suspended())
    revive_ahead(f);
  link_ahead(f);
  uint64_t next;
  for (unsigned n = 0; n < BUILD_AHEAD && certain_successor(f, &next) && !hp_fragment_lookup(next); n++) {
    struct hp_fragment *g = hp_build_block(next); /* NULL: not executable, found when reached */
    if (!g)
      return;
    hp_stats.blocks_built_ahead++;
    link_ahead(f);
    link_ahead(g);
    f = g;
  }
}

/* Nested loops: a loop trace leaves at its end each time its loop is done
 * (an inner loop's last turn), goes on through the enclosing loop's code and
 * comes back in at its head, paying the optimized trace's entry (registers
 * saved, slots loaded, checks) and exit each time. When the code after that
 * exit (here) gets hot, the recording starts with the trace's own path
 * (decoded again: the same blocks, since a change of them flushes the
 * trace), goes on from here, and may only end back at its head: the new
 * trace has the inner loop's back edge as a side exit linked to its own
 * loop, and the outer loop's path back to it, so both loops run inside it.
 * It replaces the parent if it is optimized as well (build). */
static void extend_start(struct recording *r, uint64_t parent_pc, uint64_t here)
{
  struct hp_fragment *p = hp_fragment_lookup(parent_pc);
  if (!p || p->kind != HP_FRAG_TRACE || p->removed)
    return;
  const struct hp_frag_trace *pt = hp_frag_tr(p);
  if (pt->nested || pt->end_exit != here || !pt->npath || pt->npath >= (unsigned)hp_opt.max_trace_blocks)
    return;
  unsigned nel = 0, ncallees = 0, nguards = 0;
  for (unsigned i = 0; i < pt->npath; i++) {
    struct hp_ilist l = {.v = &r->elems[nel], .cap = HP_BLOCK_LIST_CAP};
    if (nel + HP_BLOCK_LIST_CAP > REC_ELEMS || !hp_decode_guest_block(pt->path[i], &l) || !hp_trace_block_ok(&l) ||
        hp_trace_block_ends(&l))
      return;
    uint64_t next = i + 1 < pt->npath ? pt->path[i + 1] : here;
    r->blocks[i] = (struct hp_recorded_block){l.v, l.n, l.pc, l.end, next};
    nel += l.n;
    const struct hp_insn *tail = &l.v[l.n - 1];
    nguards += tail->op == HP_OP_CALL_IND || tail->op == HP_OP_JMP_IND || tail->op == HP_OP_RET;
    /* The calls open along the path, as the recorder counted them (the
     * last block's when the recording steps on from it). */
    bool last = i + 1 == pt->npath;
    if (!last && (tail->op == HP_OP_CALL || tail->op == HP_OP_CALL_IND)) {
      if (ncallees == HP_TRACE_MAX_OPEN_CALLS)
        return;
      r->callees[ncallees++] = next;
    } else if (!last && tail->op == HP_OP_RET) {
      if (!ncallees)
        return;
      ncallees--;
    }
  }
  r->nblocks = pt->npath;
  r->nelems = nel;
  r->ncallees = ncallees;
  r->nguards = nguards;
  r->head = parent_pc;
  r->parent = p;
  r->parent_blocks = pt->npath;
  /* The calls the trace's head no longer inlines (hp_trace_hot loaded the
   * exit head's). */
  const struct hp_frag_trace *h = hp_frag_tr(pt->shadowed ? pt->shadowed : p);
  r->no_inline_all = h->no_inline_all;
  r->nno_inline = h->nno_inline;
  memcpy(r->no_inline, h->no_inline, sizeof r->no_inline);
}

/* Traces must pay for themselves within the run: building one costs tens
 * of microseconds (recording included) and saves nanoseconds per
 * execution, so a head is traced only when it has run often and fast. Its
 * code asks the dispatcher after threshold executions, then after periods
 * of threshold x 2, x 4, ... executions; a period counts as fast if it took
 * at most HOT_WINDOW_NS per threshold executions (the first one timed from
 * when the head was made). After SUSTAIN_RUNS x threshold executions in fast
 * periods the head is traced; after two slow periods it is retired (the
 * plain block takes its place again, without a counter). Loops are traced
 * after a few hundred iterations; start-up code and code that a big program
 * runs now and then are not. */
#define HOT_WINDOW_NS 2000000ull
#define SUSTAIN_RUNS 8
#define MAX_PERIOD (1u << 16)

/* Head h goes back to its plain block (the block its exit is linked to). */
static struct hp_fragment *retire_head(struct hp_fragment *h)
{
  struct hp_fragment *block = hp_frag_tr(h)->head_block;
  if (!block || block->removed)
    return h;
  struct hp_exit *in = h->incoming;
  hp_fragment_remove(h); /* links into it go back to their stubs */
  block->no_trace = true;
  hp_fragment_restore(block);
  /* ... and on to the block, as the dispatcher would link each when next
   * taken (a round trip each). */
  bool home = hp_fragment_lookup(block->guest_pc) == block;
  for (struct hp_exit *x = in, *next; x && home; x = next) {
    next = x->next_in;
    hp_link(x, block);
  }
  hp_stats.trace_heads_retired++;
  return block;
}

bool hp_trace_hot(struct hp_thread *t, struct hp_fragment **fp)
{
  struct hp_fragment *f = *fp;
  if (hp_opt.opt < 1 || f->kind != HP_FRAG_BLOCK || !f->trace_head || f->removed)
    return false;
  struct hp_frag_trace *tr = hp_frag_tr_mut(f);
  uint32_t *counter = &hp_thread_head_counters(t)[tr->head_id];
  uint32_t threshold = tr->threshold;
  struct recording *r = rec_of(t);
  uint64_t now = hp_now_ns();
  uint32_t period = tr->period ? tr->period : 1; /* this period: threshold x period runs */
  bool fast = now - tr->hot_since <= HOT_WINDOW_NS * period;
  tr->runs += (uint64_t)threshold * period;
  tr->hot_since = now;
  if (!f->no_trace && !fast && ++tr->slow_periods >= 2) {
    *counter = 0;
    *fp = retire_head(f);
    return false;
  }
  if (f->no_trace) {
    /* Given up (its own block makes a call it no longer inlines, its
     * recordings kept failing): its code would go on counting every run
     * (a sort's comparison loop: a tenth of its time). */
    struct hp_fragment *block = retire_head(f);
    if (block != f) {
      *counter = 0;
      *fp = block;
      return false;
    }
  }
  bool ready = (fast && tr->runs >= (uint64_t)threshold * SUSTAIN_RUNS) || tr->profiled;
  if (f->no_trace || r->active || !ready) {
    /* Not now: the head's code counts a longer period before it asks again
     * (its counter starts that far below the threshold). */
    period = f->no_trace ? MAX_PERIOD : period < MAX_PERIOD ? period * 2 : period;
    /* The 32-bit counter must be able to wait that long. */
    while (period > 1 && (uint64_t)threshold * period > 0x7fffffffu)
      period /= 2;
    tr->period = period;
    hp_stats.trace_backoffs += !fast;
    *counter = threshold - threshold * period;
    return false;
  }
  *counter = 0;
  tr->hot_since = 0;
  tr->profiled = false; /* from here on a head like any other */
  r->active = true;
  r->invalid = false;
  r->ncallees = 0;
  r->stop_after = false;
  r->unguarded = tr->retraces >= MAX_RETRACES;
  r->no_inline_all = tr->no_inline_all;
  r->nno_inline = tr->nno_inline;
  memcpy(r->no_inline, tr->no_inline, sizeof r->no_inline);
  r->head = f->guest_pc;
  r->nblocks = r->nelems = r->nguards = 0;
  r->parent = NULL;
  r->t0 = hp_now_ns();
  if (tr->nest_parent)
    extend_start(r, tr->nest_parent, f->guest_pc);
  return true;
}

/* A head that cannot make a trace: link into it like any block. */
static void give_up(uint64_t head)
{
  struct hp_fragment *h = hp_fragment_lookup(head);
  if (h && h->kind == HP_FRAG_BLOCK) {
    h->no_trace = true;
    hp_stats.trace_heads_given_up++;
  }
}

static void end_recording(struct recording *r, bool failed)
{
  r->active = false;
  hp_stats.trace_record_ns += hp_now_ns() - r->t0;
  if (failed) {
    hp_stats.traces_abandoned++;
    /* An extension's head is its parent's (a trace): not given up. */
    if (!r->parent && ++r->failures >= GIVE_UP_AFTER) {
      give_up(r->head);
      r->failures = 0;
    }
  }
}

/* An extension that cannot be: its parent stays as it is, for good if
 * the reason does not depend on when it was recorded (retry: the path may
 * come back another time; a parent is tried NEST_TRIES times at most). */
#define NEST_TRIES 4
static void extend_fail_or_retry(struct recording *r, const char *why, bool retry)
{
  struct hp_frag_trace *pt = hp_frag_tr_mut(r->parent);
  if (!r->parent->removed && (!retry || ++pt->nest_tries >= NEST_TRIES))
    pt->nested = true;
  hp_stats.trace_extensions_failed++;
  end_recording(r, false);
  HP_DEBUG("trace 0x%lx not extended: %s", (unsigned long)r->head, why);
}

static void extend_fail(struct recording *r, const char *why)
{
  extend_fail_or_retry(r, why, false);
}

static bool loop_back(struct recording *r, unsigned from);
static void build(struct recording *r);
static void count_callee_exits(struct hp_ilist *l);

/* An extension's path that does not come back to the head: built if it
 * passed a branch that could have (its last turns may have left the
 * enclosing loop too), else given up. */
static void extend_end(struct recording *r, const char *why)
{
  if (loop_back(r, r->parent_blocks))
    build(r);
  else
    extend_fail_or_retry(r, why, true); /* this path: another may come back */
}

void hp_trace_abort(struct hp_thread *t)
{
  if (hp_trace_recording(t))
    end_recording(t->trace_rec, true);
}

/* Optimized traces, while the process has one thread (under the lock). */
#define MAX_OPTIMIZED 65536 /* (fold-only traces count: nearly every trace) */
static struct hp_fragment *optimized_traces[MAX_OPTIMIZED];
static unsigned noptimized_traces;
static bool threads_started;
static uint64_t guest_stack_lo, guest_stack_hi;

void hp_trace_set_stack(uint64_t lo, uint64_t hi)
{
  guest_stack_lo = lo;
  guest_stack_hi = hi;
}

/* The fold pass's plan for the trace being built (under the lock, which
 * builds one trace at a time); the lowering reads it. */
#define FOLD_SNAPS 512
#define FOLD_REWRITES 256
static struct hp_fold_elem fold_elems[REC_ELEMS + 1];
static struct hp_fold_snap fold_snaps[FOLD_SNAPS];
static struct hp_fold_rewrite fold_rewrites[FOLD_REWRITES];
static struct hp_insn_effects fold_effects[REC_ELEMS + 1];
static bool fold_known[REC_ELEMS + 1];
static struct hp_fold fold_plan = {.elem = fold_elems, .snap = fold_snaps, .snap_cap = FOLD_SNAPS,
                                   .rw = fold_rewrites, .rw_cap = FOLD_REWRITES};

/* Optimizer time per trace (the first OPT_TIMES traces), for --stats. */
#define OPT_TIMES 8192
static uint32_t opt_times[OPT_TIMES];
static unsigned nopt_times;

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

void hp_trace_opt_time_stats(void)
{
  if (!nopt_times)
    return;
  qsort(opt_times, nopt_times, sizeof opt_times[0], cmp_u32);
  hp_stats.opt_ns_median = opt_times[nopt_times / 2];
  hp_stats.opt_ns_max = opt_times[nopt_times - 1];
}

/* --opt-verify: a run-time option, not a build option: off, it costs one
 * test per pass of a trace being built (never anything in the code cache),
 * so release speed is unchanged and every build can verify real traces
 * (the test suite runs the samples and the trace corpus with it). Traces
 * are built under the lock, one at a time: one copy suffices. */
static struct hp_insn verify_copy[REC_ELEMS + 1];
static struct hp_ilist verify_before;

/* The list as the next pass receives it. */
static void verify_keep(const struct hp_ilist *l)
{
  if (!hp_opt.opt_verify)
    return;
  memcpy(verify_copy, l->v, l->n * sizeof l->v[0]);
  verify_before = *l;
  verify_before.v = verify_copy;
}

/* The list as pass left it (compared with verify_keep's copy if compare);
 * a violation is hotpath's bug: reported with the trace and aborted. */
static void verify(const struct hp_ilist *l, enum hp_verify_pass pass, bool compare)
{
  if (!hp_opt.opt_verify)
    return;
  struct hp_verify_error err;
  if (hp_verify_trace(l, compare ? &verify_before : NULL, pass, &err))
    return;
  char where[96], elem[96] = "the list";
  hp_memmap_where(l->pc, where, sizeof where);
  if (err.elem >= 0 && (unsigned)err.elem < l->n)
    snprintf(elem, sizeof elem, "element %d (%s at 0x%lx)", err.elem, hp_op_name(l->v[err.elem].op),
             (unsigned long)l->v[err.elem].pc);
  /* The list itself, after the message. */
  char *dump = NULL;
  size_t dump_len = 0;
  FILE *m = open_memstream(&dump, &dump_len);
  if (m) {
    hp_ilist_print(m, l);
    fclose(m);
  }
  hp_abort("verifier: after pass %s: trace 0x%lx (%s): %s: %s\n%s", hp_verify_pass_name(pass), (unsigned long)l->pc,
           where, elem, err.what, dump ? dump : "");
}

static struct hp_jt jt_scratch; /* under the lock */
/* The list being built was searched for a jump table already (optimize):
 * 0 not, 1 found (in jt_scratch), 2 none. */
static int jt_searched;

/* The first block of each case of jump table jt, one after another (a
 * dispatch's hint for the promotion: the slots and registers its cases
 * use); NULL when none can be read. */
static const struct hp_ilist *cases_ahead(const struct hp_jt *jt)
{
  static struct hp_insn v[4 * HP_BLOCK_LIST_CAP]; /* under the lock */
  static struct hp_insn one[HP_BLOCK_LIST_CAP];
  static struct hp_ilist ahead;
  ahead = (struct hp_ilist){.v = v, .cap = sizeof v / sizeof v[0]};
  for (unsigned k = 0; k < jt->n; k++) {
    unsigned same = 0;
    while (jt->target[same] != jt->target[k])
      same++;
    struct hp_ilist b = {.v = one, .cap = HP_BLOCK_LIST_CAP};
    if (same < k || !hp_decode_guest_block(jt->target[k], &b))
      continue;
    if (ahead.n + b.n > ahead.cap)
      break; /* (the cases seen so far) */
    memcpy(v + ahead.n, one, b.n * sizeof one[0]);
    ahead.n += b.n;
  }
  return ahead.n ? &ahead : NULL;
}

/* The optimizer on a stitched trace (--opt=2): return-guard removal on any
 * trace (*known: returns proven), then promotion on loop traces, else the
 * fold pass alone (promo->fold_only); true if either changed it, else
 * *whyp says why not; *ns: the time it took. */
static bool optimize(struct hp_ilist *l, struct hp_promotion *promo, bool conservative, const uint64_t *end_regs,
                     const struct hp_promotion *like, bool no_dispatch, const char **whyp, uint32_t *ns,
                     unsigned *known)
{
  static long optimized; /* traces the optimizer changed (--opt-limit) */
  *ns = 0;
  *known = 0;
  if (hp_opt.opt < 2) {
    *whyp = "--opt is below 2";
    return false;
  }
  if (hp_opt.opt_limit >= 0 && optimized >= hp_opt.opt_limit) {
    *whyp = "--opt-limit reached";
    return false;
  }
  uint64_t t_ret = hp_now_ns();
  /* Each element analyzed once for the passes (they only mark elements:
   * the bytes stay). */
  hp_analyze_list(l, fold_effects, fold_known);
  /* Not with threads: another thread could change a return address on
   * this thread's stack (such traces are dropped when one starts). */
  if (hp_opt_pass_enabled("retelide") && !threads_started && noptimized_traces < MAX_OPTIMIZED) {
    verify_keep(l);
    *known = hp_retelide(l, fold_effects, fold_known);
    verify(l, HP_VERIFY_RETELIDE, true);
  }
  *ns = (uint32_t)(hp_now_ns() - t_ret);
  optimized += *known != 0;
  if (threads_started) {
    *whyp = "the process has more than one thread";
    return false;
  }
  if (noptimized_traces == MAX_OPTIMIZED) {
    *whyp = "too many optimized traces";
    return false;
  }
  uint64_t t0 = hp_now_ns() - *ns;
  const char *why = "--disable-pass=promote";
  verify_keep(l);
  /* A switch's jump table at the end: found once here (the search reads
   * every entry), taken by build. Its tail is where the fold pass stops
   * (the slots run the tail per case); with it the trace may be promoted
   * as a dispatch (an interpreter's loop closes through its cases, which
   * share the plan). */
  unsigned fold_end = l->n;
  bool threaded = false; /* the table leads to the trace's own head: cases jump to cases */
  if (end_regs && l->n && l->v[l->n - 1].op == HP_OP_JMP_IND) {
    jt_searched = hp_jt_probe(l, end_regs, true, &jt_scratch) ? 1 : 2;
    if (jt_searched == 1)
      fold_end = jt_scratch.p;
    for (unsigned k = 0; jt_searched == 1 && k < jt_scratch.n; k++)
      threaded |= jt_scratch.target[k] == l->pc;
  }
  bool done = !conservative && hp_opt_pass_enabled("promote") && like && hp_opt_pass_enabled("side") &&
              hp_promote(l, promo, 0, false, like, fold_effects, fold_known, &why);
  if (like && !done && why && hp_log_level() >= HP_LOG_DEBUG)
    hp_log(HP_LOG_DEBUG, "trace 0x%lx: not a side trace: %s", (unsigned long)l->pc, why);
  if (!done && !conservative && hp_opt_pass_enabled("promote")) {
    /* (the table only as the pass's hint: build takes it for the lowering
     * once its thread-block entries are allocated) */
    bool dispatch = jt_searched == 1 && !no_dispatch && !threaded && hp_opt_pass_enabled("dispatch") &&
                    hp_opt_pass_enabled("side");
    l->jt_tail = dispatch ? jt_scratch.p : 0;
    l->ahead = dispatch ? cases_ahead(&jt_scratch) : NULL;
    done = hp_promote(l, promo, 0, hp_opt_pass_enabled("defer"), NULL, fold_effects, fold_known, &why);
    l->jt_tail = 0;
    l->ahead = NULL;
  }
  if (done && !hp_opt_pass_enabled("side")) /* no exit goes past another entry: none pays for it */
    for (unsigned i = 0; i < l->n; i++)
      l->v[i].flags &= (uint16_t)~HP_INSN_SHARE;
  if (done) {
    promo->stack_lo = guest_stack_lo;
    promo->stack_hi = guest_stack_hi;
    verify(l, HP_VERIFY_PROMOTE, true);
    verify_keep(l);
    const char *fwhy;
    l->fold = NULL;
    if (hp_opt_pass_enabled("fold") &&
        hp_fold(l, &fold_plan, fold_effects, fold_known, promo->dispatch ? fold_end : l->n, &fwhy)) {
      l->fold = &fold_plan;
      verify(l, HP_VERIFY_FOLD, true);
    }
  } else {
    verify(l, HP_VERIFY_PROMOTE, true); /* left alone: unchanged */
    /* Not promoted (not a loop, calls, lookups, rsp changing, no slot):
     * its copies and addresses folded and its stores forwarded to its
     * loads all the same (fold.h), up to a jump table's tail. */
    const char *fwhy;
    if (!conservative && hp_opt_pass_enabled("fold")) {
      hp_promote_none(l, promo);
      l->fold = NULL;
      if (hp_fold(l, &fold_plan, fold_effects, fold_known, fold_end, &fwhy)) {
        l->fold = &fold_plan;
        verify(l, HP_VERIFY_FOLD, true);
        done = true;
      } else {
        l->promo = NULL;
      }
    }
  }
  if (conservative)
    why = "an optimized trace of this head left through its deopt exit";
  *whyp = why;
  uint64_t dt = hp_now_ns() - t0;
  *ns = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
  hp_stats.opt_ns += dt;
  if (nopt_times < OPT_TIMES)
    opt_times[nopt_times++] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
  if (done && !*known)
    optimized++;
  else if (!done)
    hp_stats.opt_traces_left++;
  if (hp_log_level() >= HP_LOG_DEBUG) {
    /* Where (module+offset), and what: each slot and its register. */
    char where[96], what[400];
    hp_memmap_where(l->pc, where, sizeof where);
    size_t n = 0;
    if (done && promo->fold_only) {
      snprintf(what, sizeof what, "folded without promotion (%s): %u absorbed, %u forwarded, %u removed", why,
               fold_plan.absorbed, fold_plan.forwarded, fold_plan.removed);
    } else if (done) {
      n += (size_t)snprintf(what, sizeof what, "%u slots in registers:", promo->nslots);
      for (unsigned k = 0; k < promo->nslots && n < sizeof what - 40; k++)
        n += (size_t)snprintf(what + n, sizeof what - n, " [rbp-0x%x]->%s", (unsigned)-promo->slot[k].disp,
                              hp_promo_reg_name(promo->slot[k].reg));
      snprintf(what + n, sizeof what - n, "; %u stores checked%s%s", promo->checks,
               promo->deferred ? "; stores deferred to the exits" : "",
               promo->frame_check ? "; calls inlined (frame checked at entry)" : "");
    } else {
      snprintf(what, sizeof what, "not optimized: %s", why);
    }
    hp_log(HP_LOG_DEBUG, "trace 0x%lx (%s): %s", (unsigned long)l->pc, where, what);
  }
  return done;
}

static void unoptimize(struct hp_ilist *l)
{
  for (unsigned i = 0; i < l->n; i++)
    l->v[i].flags &= (uint16_t)~(HP_INSN_PROMOTED | HP_INSN_SLOT_WRITE | HP_INSN_ALIAS_CHECK | HP_INSN_IN_CALLEE |
                                 HP_INSN_KEEP_FLAGS | HP_INSN_RBP_CHECK | HP_INSN_PROBE_STORE | HP_INSN_SHARE);
  l->promo = NULL;
  l->fold = NULL;
}

/* A block that is only `jmp r64` (GCC -O0 sends every computed goto of a
 * function to one): a trace that reaches it goes on into it, though it is
 * a trace head, so that the jump ends the trace with the computation of
 * its target (a jump table, jt_at_end). */
static bool lone_jmp_reg(uint64_t pc)
{
  static struct hp_insn v[HP_BLOCK_LIST_CAP]; /* under the lock */
  struct hp_ilist l = {.v = v, .cap = HP_BLOCK_LIST_CAP};
  return !hp_opt.no_jump_tables && hp_decode_guest_block(pc, &l) && l.n == 1 && l.v[0].op == HP_OP_JMP_IND &&
         !(l.v[0].flags & HP_INSN_MONO);
}

/* Does the path recorded so far end with a switch's jump table? Its
 * computation may begin in the block before (at -O0, every case jumps to
 * one shared `jmp rax`): that block's elements, without its jump to the
 * last block (the trace drops it), then the last block's. */
static bool jt_at_end(const struct recording *r, const uint64_t *regs)
{
  static struct hp_insn both[2 * HP_BLOCK_LIST_CAP]; /* under the lock */
  const struct hp_recorded_block *last = &r->blocks[r->nblocks - 1];
  struct hp_ilist l = {.v = both, .n = 0, .cap = 2 * HP_BLOCK_LIST_CAP};
  if (r->nblocks >= 2) {
    const struct hp_recorded_block *prev = &r->blocks[r->nblocks - 2];
    const struct hp_insn *j = &prev->v[prev->n - 1];
    if (j->op == HP_OP_EXIT && j->exit_kind == HP_EXIT_BRANCH && j->target == last->pc) {
      memcpy(both, prev->v, sizeof *both * (prev->n - 1));
      l.n = prev->n - 1;
    }
  }
  memcpy(both + l.n, last->v, sizeof *both * last->n);
  l.n += last->n;
  return hp_jt_probe(&l, regs, true, &jt_scratch);
}

/* Whether recorded block b ends in a conditional branch one of whose ways
 * (taken, or the fall-through) goes to pc. */
static bool cond_tail_to(const struct hp_recorded_block *b, uint64_t pc)
{
  return b->n >= 2 && b->v[b->n - 1].op == HP_OP_EXIT && b->v[b->n - 2].op == HP_OP_EXIT_CC &&
         (b->v[b->n - 2].target == pc || b->v[b->n - 1].target == pc);
}

/* Whether an extension's promotion keeps every slot its parent promoted
 * (its longer path may use registers the parent's slots had). */
static bool keeps_slots(const struct hp_frag_trace *pt, bool promoted, const struct hp_promotion *p)
{
  if (!pt->promoted)
    return true;
  if (!promoted)
    return false;
  for (unsigned i = 0; i < pt->npath_slots; i++) {
    bool found = false;
    for (unsigned k = 0; k < p->nslots && !found; k++)
      found = pt->path_slots[i] == ((uint64_t)(int64_t)p->slot[k].disp << 8 | p->slot[k].size);
    if (!found)
      return false;
  }
  return true;
}

/* What a trace keeps for its extension (extend_start). */
static void keep_path(struct hp_fragment *f, const struct recording *r, const struct hp_ilist *out, bool promoted,
                      const struct hp_promotion *promo)
{
  struct hp_frag_trace *tr = hp_frag_tr_mut(f);
  tr->promoted = promoted && !promo->fold_only; /* (an extension needs to keep only slots) */
  tr->nested = r->parent != NULL; /* one level */
  const struct hp_insn *x = out->n ? &out->v[out->n - 1] : NULL;
  if (tr->nested || r->blocks[r->nblocks - 1].next != r->head || !x || x->op != HP_OP_EXIT ||
      x->exit_kind != HP_EXIT_BRANCH || (x->flags & HP_INSN_BACK_EDGE) || !x->target)
    return;
  /* The loop's last block must be the one that can go to that exit (a
   * conditional branch to the head or out): a lone `jmp head` after a
   * block leaving by its jcc makes that jcc the back edge, not its own. */
  if (!cond_tail_to(&r->blocks[r->nblocks - 1], x->target))
    return;
  uint64_t *path = hp_arena_gen_alloc(r->nblocks * sizeof *path);
  for (unsigned i = 0; i < r->nblocks; i++)
    path[i] = r->blocks[i].pc;
  tr->path = path;
  tr->npath = (uint16_t)r->nblocks;
  if (promoted && promo->nslots) {
    uint64_t *slots = hp_arena_gen_alloc(promo->nslots * sizeof *slots);
    for (unsigned k = 0; k < promo->nslots; k++)
      slots[k] = (uint64_t)(int64_t)promo->slot[k].disp << 8 | promo->slot[k].size;
    tr->path_slots = slots;
    tr->npath_slots = (uint16_t)promo->nslots;
  }
  tr->end_exit = x->target;
}

/* A recording that left its loop (it began in the loop's last turn) and
 * passed a conditional branch that could have gone back to the head (in
 * blocks [from, nblocks)): the trace is the loop, as a recording of any
 * other turn makes it (the way out is then its exit, which an extension may
 * take in later). False if it passed none. */
static bool loop_back(struct recording *r, unsigned from)
{
  for (unsigned i = from; i < r->nblocks; i++) {
    if (cond_tail_to(&r->blocks[i], r->head)) {
      r->nblocks = i + 1;
      r->blocks[i].next = r->head;
      r->end_regs = NULL;
      return true;
    }
  }
  return false;
}

/* A trace does not end inside a call it made: a call whose return is not
 * in the trace stays a real call with a continuation of its own, beside
 * the one of the block that holds the same call, and the return table
 * holds one continuation per return address, so the returns to one of
 * them would all be mispredicted. The trace is cut back to just before
 * the block that makes the outermost such call (not when that is the
 * head's block; extensions, which end at their head, are not cut). */
static void cut_open_calls(struct recording *r)
{
  unsigned outer = 0, depth = 0;
  for (unsigned i = 0; i < r->nblocks; i++) {
    const struct hp_insn *tail = &r->blocks[i].v[r->blocks[i].n - 1];
    if (tail->op == HP_OP_CALL || tail->op == HP_OP_CALL_IND) {
      if (!depth++)
        outer = i;
    } else if (tail->op == HP_OP_RET && depth) {
      depth--;
    }
  }
  if (depth && outer > 0) {
    r->nblocks = outer; /* the last block's next is the call's block */
    r->end_regs = NULL;
    hp_stats.traces_cut_at_calls++;
  }
}

/* A trace that ends where an optimized loop trace begins (a side exit's
 * path back to its loop, typically the other arm of an if in the loop):
 * that trace's plan, which it may share (hp_promote's like); NULL if none. */
static const struct hp_promotion *side_of(const struct hp_ilist *out, const struct recording *r)
{
  if (r->parent || !out->n)
    return NULL;
  const struct hp_insn *x = &out->v[out->n - 1];
  if (x->op != HP_OP_EXIT || x->exit_kind != HP_EXIT_BRANCH || (x->flags & HP_INSN_BACK_EDGE) || x->target == r->head)
    return NULL;
  const struct hp_fragment *t = hp_fragment_lookup(x->target);
  return t && !t->removed ? hp_frag_tr(t)->plan : NULL; /* (only optimized traces keep one) */
}

static bool drop_trace(struct hp_fragment *f, uint64_t now);

/* Dispatch traces built (under the lock): each with its table's targets,
 * the cases whose traces must take its plan for it to pay. */
#define MAX_DISPATCH 64
static struct {
  uint64_t pc;
  const uint64_t *target;
  unsigned n;
} dispatches[MAX_DISPATCH];
static unsigned ndispatches;

/* A case of dispatch trace d (at head pc) whose trace could not take its
 * plan: every run of that case would leave d's registers and enter them
 * again, which costs more than the plan saves (Lua's cases call
 * functions). d and the traces that took its plan go, to be rebuilt; d's
 * head is no dispatch any more. */
static void drop_dispatch(uint64_t pc)
{
  struct hp_fragment *d = hp_fragment_lookup(pc);
  if (!d || d->removed || d->kind != HP_FRAG_TRACE || !hp_frag_tr(d)->plan || !hp_frag_tr(d)->plan->dispatch)
    return;
  struct hp_fragment *head = hp_frag_tr(d)->shadowed;
  uint64_t now = hp_now_ns();
  if (!drop_trace(d, now))
    return;
  hp_frag_tr_mut(head)->no_dispatch = true;
  hp_stats.opt_dispatch_dropped++;
  for (unsigned i = 0; i < noptimized_traces; i++) {
    struct hp_fragment *g = optimized_traces[i];
    if (!g->removed && hp_frag_tr(g)->like_head == pc)
      drop_trace(g, now);
  }
  HP_DEBUG("trace 0x%lx dropped: a case's trace could not take its plan (no longer a dispatch)", (unsigned long)pc);
}

/* A trace at head pc, ending at end (its last exit's target, 0: none),
 * side trace of the trace at like_head (0: none): the dispatches it is a
 * case of, or ends at, go unless it took their plan. */
static void check_dispatches(uint64_t pc, uint64_t end, uint64_t like_head)
{
  for (unsigned i = 0; i < ndispatches; i++) {
    if (dispatches[i].pc == like_head || dispatches[i].pc == pc)
      continue;
    bool is_case = dispatches[i].pc == end;
    for (unsigned k = 0; k < dispatches[i].n && !is_case; k++)
      is_case = dispatches[i].target[k] == pc;
    if (is_case)
      drop_dispatch(dispatches[i].pc);
  }
}

/* Dispatch trace f (pc), with its table jt, joins the list (in place of
 * one no longer a dispatch, or of none). */
static void note_dispatch(const struct hp_fragment *f, const struct hp_jt *jt)
{
  unsigned i = 0;
  while (i < ndispatches) {
    const struct hp_fragment *d = hp_fragment_lookup(dispatches[i].pc);
    if (!d || d->removed || d->kind != HP_FRAG_TRACE || !hp_frag_tr(d)->plan || !hp_frag_tr(d)->plan->dispatch ||
        dispatches[i].pc == f->guest_pc)
      break;
    i++;
  }
  if (i == MAX_DISPATCH)
    return; /* (then not checked: its cases keep it whatever they are) */
  uint64_t *t = hp_arena_gen_alloc(jt->n * sizeof *t);
  memcpy(t, jt->target, jt->n * sizeof *t);
  dispatches[i].pc = f->guest_pc;
  dispatches[i].target = t;
  dispatches[i].n = jt->n;
  ndispatches += i == ndispatches;
}

static void build(struct recording *r)
{
  /* Once per trace (the recording's steps run on the guest's FS): the
   * optimizer, the verifier and --profile-save call the C library. */
  hp_fs_host();
  struct hp_fragment *cur = hp_fragment_lookup(r->head);
  if (r->parent) {
    /* An extension takes its parent's place, if the parent is still there. */
    if (cur && cur != r->parent && cur->kind == HP_FRAG_TRACE && hp_frag_tr(cur)->nested &&
        r->parent->removed) { /* another thread extended it first */
      end_recording(r, false);
      hp_stats.trace_races++;
      return;
    }
    if (cur != r->parent || cur->removed || !hp_frag_tr(cur)->shadowed || hp_frag_tr(cur)->shadowed->removed) {
      extend_fail(r, "the trace was replaced meanwhile");
      return;
    }
    cur = hp_frag_tr(cur)->shadowed;
  } else if (cur && cur->kind == HP_FRAG_TRACE) { /* another thread built it first */
    end_recording(r, false);
    hp_stats.trace_races++;
    return;
  }
  if (!r->parent && r->nblocks && r->blocks[r->nblocks - 1].next != r->head)
    loop_back(r, 0);
  struct hp_ilist out = {.v = r->out, .cap = REC_ELEMS + 1};
  if (!r->parent)
    cut_open_calls(r);
  if (!hp_trace_stitch(r->blocks, r->nblocks, r->head, &out)) {
    if (r->parent) {
      extend_fail(r, "its path cannot be stitched");
      return;
    }
    give_up(r->head);
    end_recording(r, true);
    return;
  }
  verify(&out, HP_VERIFY_STITCH, false);
  bool guarded = false;
  for (unsigned i = 0; i < out.n; i++)
    guarded |= out.v[i].op == HP_OP_CALL_IND_GUARD || out.v[i].op == HP_OP_JMP_IND_GUARD ||
               out.v[i].op == HP_OP_RET_GUARD;
  unsigned ids_from = next_head_id; /* ids this build takes, given back if it fails */
  if (guarded && next_head_id < HP_MAX_HEADS && cur && hp_frag_tr(cur)->retraces < MAX_RETRACES) {
    /* Its guards' misses are counted (the counter starts at 0 in every
     * thread's block: ids are reused only after a flush, which zeroes them). */
    out.miss_counter = next_head_id++;
    out.miss_limit = HP_TRACE_MISS_LIMIT;
  }
  if (cur)
    count_callee_exits(&out);
  uint64_t t0 = hp_now_ns();
  struct hp_promotion promo;
  const char *why = NULL;
  uint32_t opt_ns;
  unsigned known;
  jt_searched = 0;
  const struct hp_promotion *like = side_of(&out, r);
  bool promoted = optimize(&out, &promo, cur && hp_frag_tr(cur)->opt_conservative, r->end_regs, like,
                           cur && hp_frag_tr(cur)->no_dispatch, &why, &opt_ns, &known);
  if (r->parent) {
    if (!keeps_slots(hp_frag_tr(r->parent), promoted, &promo)) {
      next_head_id = ids_from; /* not used after all (the lock is held since) */
      extend_fail(r, promoted ? "fewer of its slots in registers" : why ? why : "not optimized");
      return;
    }
  }
  hp_stats.opt_returns_known += known;
  uint64_t like_head = like ? out.v[out.n - 1].target : 0; /* (side_of's) */
  if (!r->parent)
    check_dispatches(r->head, out.n && out.v[out.n - 1].op == HP_OP_EXIT ? out.v[out.n - 1].target : 0,
                     promoted && promo.side ? like_head : 0);
  if ((!promoted || promo.fold_only || promo.dispatch) && r->end_regs && jt_searched != 2 &&
      hp_jt_for_list(&out, r->end_regs, true, true, jt_searched == 1, &jt_scratch)) {
    out.jt = &jt_scratch; /* (the search optimize made: the fold plan ends at its tail, which lower.c checks) */
  }
  r->end_regs = NULL;
  struct hp_fragment *f = hp_translate_list(&out, HP_FRAG_TRACE, false);
  if (!f && r->parent && !hp_cache_full()) { /* the parent stays */
    next_head_id = ids_from;
    extend_fail(r, "the lowering could not follow the plan");
    return;
  }
  if (!f && promoted) { /* the lowering refused what the pass chose: unoptimized */
    verify_keep(&out);
    unoptimize(&out);
    verify(&out, HP_VERIFY_UNOPTIMIZE, true);
    promoted = false;
    why = "the lowering could not follow the plan (registers, exits)";
    f = hp_translate_list(&out, HP_FRAG_TRACE, false);
  }
  if (!f && hp_cache_full()) { /* no room: recorded again after the flush */
    next_head_id = ids_from;
    end_recording(r, false);
    return;
  }
  if (f && hp_opt.report) { /* arena memory: lives as long as the fragment's records */
    struct hp_opt_record *rec = hp_arena_gen_alloc(sizeof *rec);
    rec->optimized = promoted;
    rec->why = promoted && !promo.fold_only ? NULL : why; /* fold_only: why not promoted */
    if (promoted)
      rec->promo = promo;
    rec->optimizer_ns = opt_ns;
    rec->blocks = (uint16_t)r->nblocks;
    rec->returns_known = (uint16_t)known;
    if (promoted && out.fold) {
      rec->fold_absorbed = (uint16_t)fold_plan.absorbed;
      rec->fold_removed = (uint16_t)fold_plan.removed;
      rec->fold_rewritten = (uint16_t)fold_plan.rewritten;
      rec->fold_materialized = (uint16_t)fold_plan.materialized;
      rec->fold_forwarded = (uint16_t)fold_plan.forwarded;
    }
    hp_memmap_where(f->guest_pc, rec->where, sizeof rec->where);
    char sym[160];
    if (hp_symbolize(f->guest_pc, sym, sizeof sym)) {
      char *fn = hp_arena_gen_alloc(strlen(sym) + 1);
      rec->function = strcpy(fn, sym);
    }
    size_t bytes = 0;
    for (unsigned i = 0; i < f->npc; i++)
      bytes += f->pc_len[i];
    uint8_t *g = hp_arena_gen_alloc(bytes ? bytes : 1);
    bool ok = true;
    for (unsigned i = 0, at = 0; i < f->npc && ok; at += f->pc_len[i++])
      ok = hp_guest_read(g + at, (const void *)f->pc_guest[i], f->pc_len[i]);
    rec->guest = ok ? g : NULL;
    hp_frag_tr_mut(f)->opt = rec;
  }
  if (!f) {
    next_head_id = ids_from;
    give_up(r->head);
    end_recording(r, true);
    return;
  }
  unsigned ninsn = f->ninsn;
  if (r->parent) {
    /* The extension took the parent's place (table, lookup entry, links
     * into it: hp_fragment_publish); the parent goes, and the extension
     * shadows the parent's head in its turn. */
    hp_fragment_remove(r->parent);
    hp_stats.traces_extended++;
  }
  hp_frag_tr_mut(f)->shadowed = cur;
  keep_path(f, r, &out, promoted, &promo);
  if (promoted && promo.side)
    hp_frag_tr_mut(f)->like_head = like_head;
  if (promoted && promo.dispatch && out.jt)
    note_dispatch(f, out.jt);
  hp_frag_tr_mut(f)->hot_since = hp_now_ns(); /* a trace: when it was built */
  for (unsigned j = 0; j < out.ncallee; j++) {
    struct hp_frag_trace *ftr = hp_frag_tr_mut(f);
    ftr->callee_id[j] = out.callee_counter[j];
    ftr->callee_pc[j] = out.v[out.callee_elem[j]].pc;
    ftr->ncallee = (uint8_t)(j + 1);
  }
  /* Its back edges go to its own entry (as exits, so a signal can unlink them). */
  for (unsigned i = 0; i < f->nexits; i++)
    if (f->exits[i].kind == HP_EXIT_BRANCH && f->exits[i].target == f->guest_pc)
      hp_link(&f->exits[i], f);
  hp_stats.traces_built++;
  if (hp_opt.profile_save)
    hp_profile_note_trace(f->guest_pc);
  if (promoted || known) /* both assume one thread: dropped when another starts */
    optimized_traces[noptimized_traces++] = f;
  if (promoted && promo.fold_only)
    hp_stats.opt_traces_fold_only++;
  if (promoted && !promo.fold_only) {
    hp_stats.opt_traces += !promo.side; /* (loops) */
    hp_stats.opt_traces_side += promo.side;
    hp_stats.opt_traces_dispatch += promo.dispatch;
    hp_stats.opt_slots_promoted += promo.nslots;
    hp_stats.opt_alias_checks += promo.checks;
    hp_stats.opt_traces_deferred += promo.deferred;
    hp_stats.opt_load_checks += promo.load_checks;
    hp_stats.opt_traces_globals_checked += promo.rip_check;
    for (unsigned k = 0; k < promo.nslots; k++) {
      hp_stats.opt_insns_rewritten += promo.slot[k].uses;
      hp_stats.opt_stores_deferred += promo.deferred ? promo.slot[k].writes : 0;
      hp_stats.opt_xmm_slots_promoted += promo.slot[k].reg >= HP_PROMO_XMM;
    }
    hp_stats.opt_traces_calls += promo.frame_check;
  }
  if (promoted && out.fold) { /* promoted or not (fold_only) */
    hp_stats.opt_traces_folded++;
    hp_stats.opt_fold_absorbed += fold_plan.absorbed;
    hp_stats.opt_fold_removed += fold_plan.removed;
    hp_stats.opt_fold_rewritten += fold_plan.rewritten;
    hp_stats.opt_fold_materialized += fold_plan.materialized;
    hp_stats.opt_fold_forwarded += fold_plan.forwarded;
    hp_stats.opt_fold_rebased += fold_plan.rebased;
  }
  hp_stats.trace_blocks += r->nblocks;
  hp_stats.trace_insns += ninsn;
  hp_stats.trace_build_ns += hp_now_ns() - t0;
  r->failures = 0;
  end_recording(r, false);
  if (hp_log_level() >= HP_LOG_DEBUG) {
    char pcs[512];
    size_t n = 0;
    for (unsigned i = 0; i < r->nblocks && n + 20 < sizeof pcs; i++)
      n += (size_t)snprintf(pcs + n, sizeof pcs - n, " 0x%lx", (unsigned long)r->blocks[i].pc);
    hp_log(HP_LOG_DEBUG, "trace 0x%lx: %u blocks, %u insns, %u bytes at %p%s; blocks:%s", (unsigned long)r->head,
           r->nblocks, ninsn, f->size, (void *)f->code, r->parent ? " (extended: its exit path back to its head)" : "",
           pcs);
  }
}

static bool not_inlined(const struct recording *r, uint64_t call_pc)
{
  for (unsigned k = 0; k < r->nno_inline; k++)
    if (r->no_inline[k] == call_pc)
      return true;
  return r->no_inline_all;
}

struct hp_fragment *hp_trace_record_step(struct hp_thread *t, uint64_t pc)
{
  struct recording *r = rec_of(t);
  if (!r->active)
    return NULL;
  if (r->invalid) { /* its lists hold code that is gone */
    end_recording(r, true);
    return NULL;
  }
  if (r->nblocks) {
    struct hp_recorded_block *last = &r->blocks[r->nblocks - 1];
    last->next = pc;
    const struct hp_insn *lt = &last->v[last->n - 1];
    if (lt->op == HP_OP_JMP_IND) {
      /* Megamorphic: a lookup, not a guard. A switch's jump table: the
       * trace ends with a dispatch straight to every case, with the
       * registers it reads now (after the jump; checked when it runs). */
      if (r->parent) { /* an extension ends back at the head only */
        extend_end(r, "an indirect jump that ends traces");
        return NULL;
      }
      if (r->unguarded || jt_at_end(r, t->gpr)) {
        last->next = 0;
        r->end_regs = t->gpr;
        build(r);
        return NULL;
      }
    }
    if (lt->op == HP_OP_CALL_IND && r->unguarded && !r->parent) {
      /* The head's traces kept missing: an indirect call stays a call (the
       * return stack stays paired) and the trace ends there, as at indirect
       * jmps (before the call's block, cut_open_calls, unless that is the
       * head's block: the block then becomes a head of its own). */
      last->next = 0;
      build(r);
      return NULL;
    }
    if ((lt->op == HP_OP_CALL || lt->op == HP_OP_CALL_IND) && not_inlined(r, lt->pc)) {
      /* A call not to inline: the trace ends before the call's block
       * (cut_open_calls); a head whose own block makes the call has no
       * trace to build; an extension (which ends at its head) none. */
      if (r->parent) {
        extend_end(r, "a call its head no longer inlines");
      } else if (r->nblocks == 1) {
        give_up(r->head);
        end_recording(r, false);
      } else {
        build(r);
      }
      return NULL;
    }
    if (lt->op == HP_OP_CALL || lt->op == HP_OP_CALL_IND) {
      if (hp_trace_recursive_call(r->callees, r->ncallees, pc)) /* the trace ends with that call */
        r->stop_after = true;
      else
        r->callees[r->ncallees++] = pc;
    } else if (lt->op == HP_OP_RET) {
      if (r->ncallees)
        r->ncallees--;
      else
        r->stop_after = true; /* returns from a call made before the trace */
    }
    struct hp_ilist ll = {.v = (struct hp_insn *)last->v, .n = last->n};
    const struct hp_fragment *g = hp_fragment_lookup(pc);
    bool full = r->nblocks >= (unsigned)hp_opt.max_trace_blocks || r->nelems + HP_BLOCK_LIST_CAP > REC_ELEMS ||
                r->nguards >= MAX_GUARDS;
    if (r->parent) {
      /* An extension goes on through other heads and traces, and is built
       * only if it comes back to its head. */
      if (pc == r->head && !r->stop_after) {
        build(r);
        return NULL;
      }
      if (pc == r->head || hp_trace_block_ends(&ll) || r->stop_after || full) {
        extend_end(r, "its path did not come back to the head");
        return NULL;
      }
    } else if (pc == r->head || hp_trace_block_ends(&ll) || r->stop_after || full ||
               (g && (g->kind == HP_FRAG_TRACE || g->trace_head) && !lone_jmp_reg(pc))) {
      build(r);
      return NULL;
    }
  }
  struct hp_ilist l = {.v = &r->elems[r->nelems], .cap = HP_BLOCK_LIST_CAP};
  if (!hp_decode_guest_block(pc, &l) || !hp_trace_block_ok(&l)) {
    if (r->parent) {
      extend_end(r, "code that cannot be in a trace");
    } else if (r->nblocks) { /* the trace ends before this block */
      build(r);
    } else {
      give_up(pc);
      end_recording(r, true);
    }
    return NULL;
  }
  r->blocks[r->nblocks++] = (struct hp_recorded_block){l.v, l.n, l.pc, l.end, 0};
  r->nelems += l.n;
  const struct hp_insn *tail = &l.v[l.n - 1];
  r->nguards += tail->op == HP_OP_CALL_IND || tail->op == HP_OP_JMP_IND || tail->op == HP_OP_RET;
  /* A block's recording copy is kept for later recordings (it is never
   * linked and its code is not writable). */
  struct hp_fragment *g = hp_fragment_lookup(pc);
  if (g && hp_frag_tr(g)->record_copy)
    return hp_frag_tr(g)->record_copy;
  hp_stats.trace_record_copies++;
  struct hp_fragment *copy = hp_translate_list(&l, HP_FRAG_BLOCK, true);
  if (!copy) { /* the cache is full: recorded again after the flush */
    end_recording(r, false);
    return NULL;
  }
  if (g)
    hp_frag_tr_mut(g)->record_copy = copy;
  return copy;
}

/* Trace f leaves the table; its head takes its place again and counts
 * afresh (it was hot a moment ago, so its first period is timed from now,
 * not from when f was recorded). False if f was gone already. */
static bool drop_trace(struct hp_fragment *f, uint64_t now)
{
  struct hp_fragment *head = hp_frag_tr(f)->shadowed;
  if (f->kind != HP_FRAG_TRACE || f->removed || !head || head->removed)
    return false;
  hp_fragment_remove(f); /* links into it go back to their stubs */
  hp_fragment_restore(head);
  struct hp_frag_trace *tr = hp_frag_tr_mut(head);
  tr->hot_since = now;
  tr->period = 1;
  tr->runs = 0;
  tr->slow_periods = 0;
  return true;
}

void hp_trace_guard_misses(struct hp_fragment *f)
{
  uint64_t now = hp_now_ns();
  /* A trace that lived long paid for itself: only quick drops (a site
   * whose targets keep changing) count towards the limit. */
  bool quick = now - hp_frag_tr(f)->hot_since < QUICK_DROP_NS;
  if (!drop_trace(f, now))
    return;
  hp_frag_tr_mut(hp_frag_tr(f)->shadowed)->retraces += quick;
  hp_stats.traces_dropped_misses++;
  HP_DEBUG("trace 0x%lx dropped: its guards kept missing", (unsigned long)f->guest_pc);
}

void hp_trace_callee_exits(struct hp_thread *t, struct hp_fragment *f)
{
  uint64_t now = hp_now_ns();
  const struct hp_frag_trace *tr = hp_frag_tr(f);
  uint32_t *counters = hp_thread_head_counters(t);
  /* The site whose counter just reached the limit (every other is below:
   * each leaves here at the limit, and is set back to 0 unless the trace
   * goes). Its next counter: when this thread started it (ms + 1; 0: when
   * the trace was built). */
  unsigned j = 0;
  while (j < tr->ncallee && counters[tr->callee_id[j]] != HP_TRACE_CALLEE_EXIT_LIMIT)
    j++;
  if (f->kind != HP_FRAG_TRACE || f->removed || j == tr->ncallee)
    return;
  uint32_t *count = &counters[tr->callee_id[j]], *since = count + 1;
  uint32_t now_ms = (uint32_t)(now / 1000000); /* wraps: differences stay right */
  bool quick = *since ? (uint32_t)(now_ms + 1 - *since) < QUICK_CALLEE_EXITS_NS / 1000000
                      : now - tr->hot_since < QUICK_CALLEE_EXITS_NS;
  struct hp_fragment *head = tr->shadowed;
  uint64_t call = tr->callee_pc[j];
  if (!quick || !drop_trace(f, now)) {
    /* Rare enough (or the trace cannot go): this thread counts afresh. */
    *count = 0;
    *since = now_ms + 1;
    hp_stats.callee_exit_resets++;
    return;
  }
  hp_stats.traces_dropped_callee_exits++;
  struct hp_frag_trace *h = hp_frag_tr_mut(head);
  bool known = h->no_inline_all;
  for (unsigned k = 0; k < h->nno_inline; k++)
    known |= h->no_inline[k] == call;
  if (known) /* an extension recorded before its head gave the call up */
    return;
  if (h->nno_inline < HP_CALLEE_SITES)
    h->no_inline[h->nno_inline++] = call;
  else
    h->no_inline_all = true;
  hp_stats.calls_not_inlined++;
  HP_DEBUG("trace 0x%lx dropped: side exits inside its inlined call at 0x%lx kept being taken; its head's traces "
           "end before that call",
           (unsigned long)f->guest_pc, (unsigned long)call);
}

/* The outermost inlined calls of l (paired with their returns) with side
 * exits inside get a counter each, and the counter after it for its start
 * time (lowered on those exits' paths; hp_trace_callee_exits). */
static void count_callee_exits(struct hp_ilist *l)
{
  unsigned paired[l->n];
  hp_ilist_pair_calls(l, paired);
  l->ncallee = 0;
  l->callee_limit = HP_TRACE_CALLEE_EXIT_LIMIT;
  bool open = false, counted = false; /* inside an outermost call; it has a counter */
  unsigned call = 0, ret = 0;
  for (unsigned i = 0; i < l->n; i++) {
    unsigned op = l->v[i].op;
    if (open && i == ret) {
      open = false;
    } else if (!open && (op == HP_OP_PUSH_RET || op == HP_OP_CALL_IND_GUARD) && paired[i]) {
      open = true;
      counted = false;
      call = i;
      ret = paired[i] - 1;
    } else if (open && !counted && op == HP_OP_EXIT_CC && l->ncallee < HP_CALLEE_SITES &&
               next_head_id + 2 <= HP_MAX_HEADS) {
      l->callee_elem[l->ncallee] = call;
      l->callee_ret[l->ncallee] = ret;
      l->callee_counter[l->ncallee] = next_head_id;
      next_head_id += 2;
      l->ncallee++;
      counted = true;
    }
  }
}

void hp_trace_deopt(struct hp_fragment *f)
{
  struct hp_fragment *head = hp_frag_tr(f)->shadowed;
  if (!drop_trace(f, hp_now_ns()))
    return;
  hp_frag_tr_mut(head)->opt_conservative = true;
  hp_stats.opt_traces_deopt++;
  HP_DEBUG("trace 0x%lx dropped: its entry found a promoted slot below rsp or not mapped",
           (unsigned long)f->guest_pc);
}

void hp_trace_threads_start(void)
{
  hp_lock();
  hp_predict_freeze();
  if (!threads_started) {
    threads_started = true;
    uint64_t now = hp_now_ns();
    for (unsigned i = 0; i < noptimized_traces; i++)
      hp_stats.opt_traces_dropped += drop_trace(optimized_traces[i], now);
    noptimized_traces = 0;
  }
  hp_unlock();
}

static void flush_one(struct hp_thread *t, void *arg)
{
  const uint64_t *range = arg;
  struct recording *r = t->trace_rec;
  if (!r || !r->active)
    return;
  for (unsigned i = 0; i < r->nblocks; i++)
    if (r->blocks[i].pc < range[1] && r->blocks[i].end > range[0])
      r->invalid = true;
}

void hp_trace_flush_range(uint64_t lo, uint64_t hi)
{
  uint64_t range[2] = {lo, hi};
  hp_thread_foreach(flush_one, range);
}

static void flush_all_one(struct hp_thread *t, void *arg)
{
  (void)arg;
  struct recording *r = t->trace_rec;
  if (r && r->active)
    r->invalid = true;
  /* Head ids start again from 1: their counters too (a thread still in old
   * code may bump one: a head then asks a little early or late). */
  madvise(hp_thread_head_counters(t), 4ul * HP_MAX_HEADS, MADV_DONTNEED);
}

void hp_trace_flush_all(void)
{
  hp_thread_foreach(flush_all_one, NULL);
  next_head_id = 1;
  noptimized_traces = 0; /* gone with their generation */
}

void hp_trace_thread_exit(struct hp_thread *t)
{
  if (!t->trace_rec)
    return;
  hp_lock(); /* flushes walk every thread's recording under the lock */
  struct recording *r = t->trace_rec;
  t->trace_rec = NULL;
  hp_unlock();
  munmap(r, sizeof *r);
}
