/* Fragments (translated blocks), their exits, the guest pc -> fragment table
 * and linking. */
#ifndef HOTPATH_FRAGMENT_H
#define HOTPATH_FRAGMENT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpath/cache.h"
#include "hotpath/ilist.h"
#include "hotpath/recovery.h"


struct hp_fragment;

struct hp_exit {
  uint64_t target;          /* guest pc to continue at */
  struct hp_fragment *from;
  struct hp_fragment *linked;
  struct hp_exit *next_in;  /* next exit linked to the same fragment */
  uint32_t branch_off;      /* offset of the patchable rel32 in from's code; 0 = none */
  /* HP_EXIT_PREDICT: offset of the site's 8-byte tag (~target) in from's
   * code. HP_EXIT_BRANCH, and HP_EXIT_LEARN for its site: offset from
   * from's code of the far-jump trampoline its links out of rel32 reach
   * go through, 0 until one is needed (hp_link reuses it). */
  uint32_t k_off;
  /* From from's code (hp_exit_stub, hp_exit_unlinked: same unit, within
   * 2 GiB): the exit's stub (cold code), and where the branch goes
   * unlinked: the stub, or code that makes the guest state exact on the way
   * to it. */
  int32_t stub_off, unlinked_off;
  int16_t site;             /* HP_EXIT_LEARN: index in from's exits of the site's
                               HP_EXIT_PREDICT (hp_exit_site); -1: none */
  uint8_t kind;
  bool call;                /* a direct call's jump to its callee (not a loop edge) */
  bool back_edge;           /* an optimized trace's exit to its own loop */
  /* HP_INSN_SHARE: offset of the rel32 of a jump, after the exit has made
   * the guest's registers exact but before it restores the registers its
   * trace's plan took, to the next instruction; 0: none. Linked to a trace
   * with the same plan (fragment.c shares_plan), it goes past that trace's
   * entry (shared) instead of the branch at branch_off. */
  uint32_t share_off;
  bool shared;
  uint8_t relearnt;         /* HP_EXIT_PREDICT: times it learnt another target */
  /* A jump-table slot that is this exit's jump alone (the case reads
   * nothing the tail leaves): its offset in from's code, which the table
   * entries for its case hold while it is unlinked; linked, they hold the
   * target's entry, so the dispatch goes there straight. In a dispatch
   * trace the slot begins with the shared jump (share_off), its restores
   * after it: the entries follow only a shared link (past the target's
   * entry). 0: none. */
  uint32_t jt_slot;
};

enum hp_fragment_kind { HP_FRAG_BLOCK, HP_FRAG_TRACE };

/* Guest bytes a fragment was translated from (flushing and the writable
 * code check use them). */
struct hp_guest_range {
  uint64_t lo, hi;
};

/* A call's continuation: where the callee's return lands in the cache. */
struct hp_continuation {
  uintptr_t cache; /* entered by a `ret` through the return table: checks the address */
  uintptr_t entry; /* entered by any other way (lookups, the dispatcher) */
  uint64_t guest;  /* the call's return address */
};

/* What only trace heads (their counting copies), traces, blocks recorded
 * into traces and, with --stats or --report, every fragment have: most
 * fragments are plain blocks, which have none (these fields would cost
 * them 100 bytes each). Read it with hp_frag_tr (zeros for a plain block),
 * write it through hp_frag_tr_mut. */
struct hp_frag_trace {
  uint64_t runs;                /* executions of a head counted so far */
  uint64_t hot_since;           /* a head: when its current period began (ns); a trace:
                                   when it was built */
  struct hp_fragment *head_block; /* a counting head: the block it leads to */
  struct hp_fragment *shadowed; /* a trace: the fragment it took the place of */
  const struct hp_opt_record *opt; /* a trace: what the optimizer did (--report) */
  struct hp_fragment *record_copy; /* a block: this pc's private copy for trace recording */
  uint64_t *entries;            /* --stats, --report: times its code was entered (or looped) */
  uint32_t head_id;             /* a trace head's counter (gs head counters) */
  uint32_t period;              /* a head runs threshold x period times between asks */
  uint32_t threshold;           /* a head: executions in its first period (its code's limit) */
  uint32_t loop_off;            /* its back edges' target (past an optimized trace's loads) */
  const struct hp_promotion *plan; /* an optimized trace whose stores are written through:
                                      its plan, which shared exits into it must have too */
  uint32_t spec_start, spec_end; /* speculative entry loads (see struct hp_lowered) */
  uint32_t deopt_off;           /* where a fault in them goes */
  uint8_t slow_periods;         /* periods it ran too slowly to pay for a trace */
  uint8_t retraces;             /* a head: traces dropped soon after being built for
                                   missing guards */
  bool profiled;                /* a head the profile names: traced when it first asks */
  bool opt_conservative;        /* a head: its optimized trace left through its deopt
                                   exit: its traces are no longer optimized */
  bool no_dispatch;             /* a head: a trace of one of its dispatch's cases could not
                                   take its plan: its traces are no dispatches */
  uint64_t like_head;           /* a side trace: the head of the trace whose plan it took */
  const uint8_t *kept_code;     /* --report's copy of a flushed trace: its code (the
                                   fragment's code is then only the address it had) */
  const uint8_t *source;        /* a block of anonymous memory: the guest bytes it was
                                   made from, [guest_pc, +source_len) (hp_fragment_revive) */
  uint32_t source_len;
  /* Nested loops (record.c, "extensions"): a trace keeps the path it was
   * recorded along and where it goes on when it leaves at its end; a head
   * reached from there names the trace, whose path is then recorded on
   * from the head until it comes back to the trace's own head. */
  const uint64_t *path;         /* a trace: its blocks' guest pcs */
  const uint64_t *path_slots;   /* a trace: its promoted slots (disp << 8 | size) */
  uint64_t end_exit;            /* a trace: the target of its last exit, 0: none */
  uint64_t nest_parent;         /* a head: the trace whose last exit leads here */
  uint16_t npath, npath_slots;
  uint8_t nest_tries;           /* a trace: extensions given up whose path may differ */
  bool promoted;                /* a trace: frame slots in registers */
  bool nested;                  /* a trace: extended, or its extension failed */
  /* A head: calls its traces no longer inline (their side exits inside
   * were taken too often): a recording ends before them; no_inline_all:
   * before any call (more sites than that). */
  uint64_t no_inline[HP_CALLEE_SITES];
  uint8_t nno_inline;
  bool no_inline_all;
  /* A trace: its counted inlined calls (struct hp_ilist), each with its
   * call's guest pc. */
  uint8_t ncallee;
  uint32_t callee_id[HP_CALLEE_SITES];
  uint64_t callee_pc[HP_CALLEE_SITES];
};

struct hp_fragment {
  uint64_t guest_pc;            /* entry */
  uintptr_t code;               /* RX address of the entry (hot code) */
  struct hp_frag_trace *tr;     /* heads and traces; NULL for a plain block */
  struct hp_cache_unit *unit;
  struct hp_exit *exits;
  struct hp_guest_range *ranges;
  struct hp_continuation *conts;
  /* Cache offset -> guest pc, per guest instruction, in code order. */
  uint32_t *pc_off;
  uint64_t *pc_guest;
  uint8_t *pc_len;
  struct hp_recov *recov;       /* where guest registers live, by code stretch */
  struct hp_exit *incoming;
  uint32_t size;                /* hot code bytes */
  uint32_t ninsn;               /* guest instructions it holds */
  uint32_t npc;
  uint16_t nexits, nranges, nconts, nrecov;
  /* Its jump table's entries in the thread blocks (hp_jt_table_alloc),
   * jt_n = 0: none. */
  uint32_t jt_first;
  uint16_t jt_n;
  /* Threads whose asynchronous signal unlinked f's exits and that have not
   * come out of the cache since: while nonzero, no exit of f is linked
   * again (another thread running f would otherwise relink them before
   * the signalled one, back from its handler, reaches them). Lock held. */
  uint16_t held;
  uint8_t kind;                 /* enum hp_fragment_kind */
  bool checks_code;             /* guest code is writable: fragment checks it at entry */
  bool removed;                 /* out of the table (or a recording copy): never linked to */
  bool trace_head;              /* a block at a trace head: its prologue counts executions */
  bool no_trace;                /* a head whose trace could not be built */
};

/* f's head and trace fields (all zero for a plain block). */
extern const struct hp_frag_trace hp_frag_tr_none;
static inline const struct hp_frag_trace *hp_frag_tr(const struct hp_fragment *f)
{
  return f->tr ? f->tr : &hp_frag_tr_none;
}
/* The same, to write: a plain block gets them (zeroed) on first use. */
struct hp_frag_trace *hp_frag_tr_mut(struct hp_fragment *f);

/* Exit x's stub, where its branch goes unlinked (RX addresses), and for
 * HP_EXIT_LEARN the inline-cache site it teaches (NULL if none). */
static inline uintptr_t hp_exit_stub(const struct hp_exit *x) { return x->from->code + (intptr_t)x->stub_off; }
static inline uintptr_t hp_exit_unlinked(const struct hp_exit *x)
{
  return x->from->code + (intptr_t)x->unlinked_off;
}
static inline struct hp_exit *hp_exit_site(const struct hp_exit *x)
{
  return x->site >= 0 ? &x->from->exits[x->site] : NULL;
}

/* The guest state at a cache address inside f. */
struct hp_guest_at {
  uint64_t pc;      /* guest pc of the instruction there */
  uint64_t next_pc; /* and of the one after it */
};
/* Finds the guest instruction whose translation holds rx (false if rx is
 * not in f's code); async-signal safe. */
bool hp_fragment_guest_at(const struct hp_fragment *f, uintptr_t rx, struct hp_guest_at *out);
/* Rebuilds the guest's registers at rx inside f (machine values in gpr,
 * rflags and xmm, the low 128 bits of xmm0-15 (NULL: not rebuilt), on
 * entry), from f's recovery records and thread block t. */
unsigned hp_fragment_recover(const struct hp_fragment *f, uintptr_t rx, uint64_t gpr[16],
                             uint64_t *rflags, uint8_t (*xmm)[16], const void *t);

/* The stores to guest memory owed at rx inside f (deferred stores of an
 * optimized trace), from the machine's registers; see hp_recovery_memory. */
unsigned hp_fragment_recover_memory(const struct hp_fragment *f, uintptr_t rx, const uint64_t gpr[16],
                                    const uint8_t (*xmm)[16], const void *t, struct hp_mem_write *out,
                                    unsigned max);

struct hp_fragment *hp_fragment_lookup(uint64_t guest_pc);
void hp_fragment_insert(struct hp_fragment *f);
/* Puts a block that a fragment shadowed back into the table (the
 * shadowing one was removed). */
void hp_fragment_restore(struct hp_fragment *f);
/* Removes f from the table and the lookup, and unlinks every exit into it. */
void hp_fragment_remove(struct hp_fragment *f);
/* The block of anonymous memory at guest_pc that a range flush removed
 * (it keeps the bytes it was made from: hp_frag_trace.source), if it is
 * still in this cache generation; NULL if none. */
struct hp_fragment *hp_fragment_suspended(uint64_t guest_pc);
/* Whether this cache generation has such blocks at all. */
bool hp_fragment_any_suspended(void);
/* Puts such a block back (the caller found its bytes unchanged, in memory
 * that a new translation would treat alike): the table, the guest-page
 * index, its continuations; links into it are made again as they are
 * used. */
void hp_fragment_revive(struct hp_fragment *f);
/* Aims every linked exit of f back at its stub (so f leaves the cache). */
void hp_fragment_unlink_outgoing(struct hp_fragment *f);
/* An asynchronous signal of thread t unlinked f: no exit of f is linked
 * again until t lets go of its holds (hp_fragment's held, the thread
 * block's held), once out of the cache or gone. Lock held. */
struct hp_thread;
void hp_fragment_hold(struct hp_thread *t, struct hp_fragment *f);
void hp_fragments_let_go(struct hp_thread *t);
/* Publishes a fragment just committed to the cache: the table, the cache-pc
 * index, the guest-page index and its continuations in the lookup. A
 * fragment for a guest pc that has one already shadows it (a trace its head
 * block, a counting head the plain block): it takes the table entry and
 * lookup entry, and the links into the old one are moved to it. */
void hp_fragment_publish(struct hp_fragment *f);
/* Removes every fragment with guest code in [lo, hi); visits only the
 * fragments on the guest pages of the range (or every page with code, when
 * fewer). */
void hp_fragments_flush_range(uint64_t lo, uint64_t hi);
/* Eviction (under the lock): every fragment of the live cache units is
 * unlinked (exits back to their stubs) and marked removed, its entry counts
 * go to the --stats totals, and the fragment table and guest-page index
 * start empty. The records and code stay until the generation is reclaimed. */
void hp_fragments_flush_all(void);
/* Bytes of the fragment table and the guest-page index (fixed overhead). */
size_t hp_fragment_table_bytes(void);
/* The fragment whose hot code holds cache address rx, or NULL. O(log n),
 * without the lock (safe in a signal handler). */
struct hp_fragment *hp_fragment_by_cache_pc(uintptr_t rx);

/* Links exit x to fragment to (patches its branch). False if not linkable. */
bool hp_link(struct hp_exit *x, struct hp_fragment *to);
/* Teaches an inline-cache site its target: the first time, and again (a
 * site whose misses reached their count, HP_T_SITE_MISSES) until the
 * process first creates a second thread or a process sharing its memory
 * (a vfork child excepted: its parent waits in the dispatcher), at most
 * HP_PREDICT_RELEARN times: link, then tag.
 * With threads, another thread may be between a site's compare and its
 * jump, and must not reach the new target with the old one: sites then keep
 * what they learnt (hp_predict_freeze, called before a second thread or a
 * process sharing the memory starts). */
#define HP_PREDICT_RELEARN 64
void hp_predict(struct hp_exit *site, uint64_t target, struct hp_fragment *to);
void hp_predict_freeze(void);

#endif
