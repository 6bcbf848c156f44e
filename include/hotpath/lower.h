/* Lower stage: a mangled instruction list -> machine code through the
 * emitter, plus what the commit step needs to publish it: exits (with the
 * position of each one's branch), the cache-offset -> guest-pc map, the
 * continuations of calls and the state recovery records. It writes only the
 * buffer it is given (a cache reservation, or a test's buffer). */
#ifndef HOTPATH_LOWER_H
#define HOTPATH_LOWER_H
#include <stdbool.h>
#include <stdint.h>

#include "hotpath/emit.h"
#include "hotpath/ilist.h"
#include "hotpath/jumptable.h"
#include "hotpath/recovery.h"

struct hp_lowered_exit {
  uint8_t kind;
  uint64_t target;
  uint32_t branch_pos; /* rel32 field aimed at the stub; 0 = the stub is reached otherwise */
  uint32_t k_off;      /* HP_EXIT_PREDICT: the site's tag */
  int site;            /* HP_EXIT_LEARN: index of its HP_EXIT_PREDICT */
  bool back_edge;      /* a trace's exit to its own head */
  bool call;           /* the jump of a direct call to its callee */
  uint32_t unlink_off; /* unlinked, the branch goes here (code that makes the state
                          exact first), not to the stub; 0 = the stub */
  uint32_t stub_jmp;   /* with unlink_off: the rel32 of that code's jump to the stub */
  uint32_t share_pos;  /* HP_INSN_SHARE: the rel32 of its jump past the restores (hp_exit's
                          share_off); 0 = none */
  uint32_t jt_slot;    /* a jump-table slot that is this exit's jump alone, or its shared
                          jump first (hp_exit's jt_slot); 0 = none */
};

struct hp_lowered_cont {
  uint32_t off;   /* the `ret` entry (checks the return address) */
  uint32_t entry; /* past the check */
  uint64_t guest;
};

struct hp_lowered {
  /* Arrays sized by the caller from hp_lower_sizes. */
  struct hp_lowered_exit *exits;
  unsigned nexits, max_exits;
  uint32_t *pc_off;
  uint64_t *pc_guest;
  uint8_t *pc_len;
  unsigned npc, max_pc;
  struct hp_lowered_cont *conts;
  unsigned nconts, max_conts;
  struct hp_recov_buf recov;
  /* Counters. */
  uint32_t loop_off;   /* where a back edge linked to the fragment itself goes (past
                          the promoted slots' loads) */
  uint32_t spec_start, spec_end; /* an optimized trace's entry loads of slots the guest
                                    may not touch before leaving: a fault there is not
                                    the guest's, it goes to deopt_off (0, 0: none) */
  uint32_t deopt_off;  /* restores the registers and leaves through HP_EXIT_DEOPT */
  unsigned riprel_far;
  unsigned reg_lookups; /* jmp r64 sites looked up from their register */
  unsigned reg_calls;   /* call r64 sites whose inline cache compares their register */
  unsigned jt_dead;     /* jump-table slots without the tail (hp_jt_dead_tails) */
  unsigned xslot_whole;  /* float/double slot stores that copy their source whole (movaps) */
  /* The list's jump table (l->jt): the slot of each index (offsets of the
   * code that runs the tail and jumps to that case); jt_n = 0: none made. */
  unsigned jt_n;
  uint32_t jt_off[HP_JT_MAX];
  bool checks_code;
  bool broken; /* the list cannot be lowered (not a lack of room): do not retry */
};

/* Upper bounds for a list: hot bytes, exits, pc-map entries,
 * continuations, recovery records. */
struct hp_lower_sizes {
  size_t hot;
  unsigned exits, pcs, conts, recov;
};
struct hp_lower_opts {
  bool force_far; /* every rip-relative operand through a scratch register */
  bool record;    /* a recording copy: calls, returns and indirect branches exit to
                     the dispatcher (no real calls, no lookups, nothing linked) */
  uint64_t *entry_counter; /* --stats: counted at the fragment's entry (NULL: not counted) */
  /* --stats, traces: side exits taken (conditional branches leaving the
   * list), those inside an inlined call counted in callee_exits instead;
   * NULL: not counted. */
  uint64_t *side_exits, *callee_exits;
};
void hp_lower_sizes(const struct hp_ilist *l, const struct hp_lower_opts *o, struct hp_lower_sizes *s);
/* The hot bytes hp_lower_sizes counts for one case slot of a jump table
 * whose tail starts at element p of l (and for its dispatch: p = l->n). */
size_t hp_lower_jt_slot_bytes(const struct hp_ilist *l, unsigned p);
#define HP_LOWER_JT_DISPATCH_BYTES 128

/* Emits l into e (hot code); exit k's stub will be at hp_lower_stub(cold_top,
 * k) (stubs are stacked down from cold_top), and every exit's branch is
 * aimed at it. Returns false when e overflowed (retry with more room). */
bool hp_lower(const struct hp_ilist *l, struct hp_emit *e, uintptr_t cold_top,
              const struct hp_lower_opts *opts, struct hp_lowered *out);
static inline uintptr_t hp_lower_stub(uintptr_t cold_top, unsigned k)
{
  return cold_top - (uintptr_t)(k + 1) * HP_EXIT_STUB_SIZE;
}

#endif
