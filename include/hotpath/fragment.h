/* Fragments (translated blocks), their exits, the guest pc -> fragment table
 * and linking. */
#ifndef HOTPATH_FRAGMENT_H
#define HOTPATH_FRAGMENT_H
#include <stdbool.h>
#include <stdint.h>

#include "hotpath/cache.h"

enum hp_exit_kind {
  HP_EXIT_BRANCH,      /* direct branch to target; linkable */
  HP_EXIT_SYSCALL,     /* syscall instruction; continue at target */
  HP_EXIT_IBL_MISS,    /* indirect branch target not in the lookup table */
  HP_EXIT_BAD_INSN,    /* undecodable bytes at target: SIGILL */
  HP_EXIT_NO_EXEC,     /* instruction runs into non-executable memory at target: SIGSEGV */
  HP_EXIT_STALE,       /* the guest rewrote this fragment's code */
  HP_EXIT_UNSUPPORTED_INSN, /* an instruction hotpath cannot translate at target */
  HP_EXIT_FAULT,       /* a guest instruction faulted; target = its guest pc */
  HP_EXIT_PREDICT,     /* an indirect call/jmp site's inline cache hit: linkable to target
                          once the site has learnt it (target 0 until then) */
  HP_EXIT_LEARN,       /* that site's first execution: target in gs:ibl_target */
};

struct hp_fragment;

struct hp_exit {
  uint8_t kind;
  uint64_t target;          /* guest pc to continue at */
  struct hp_fragment *from;
  uint32_t branch_off;      /* offset of the patchable rel32 in from's code; 0 = none */
  uint32_t stub_off;        /* offset of the exit stub in from's code */
  uint32_t k_off;           /* HP_EXIT_PREDICT: offset of the site's 8-byte tag (~target) */
  struct hp_exit *site;     /* HP_EXIT_LEARN: the site's HP_EXIT_PREDICT */
  struct hp_fragment *linked;
  struct hp_exit *next_in;  /* next exit linked to the same fragment */
};

struct hp_fragment {
  uint64_t guest_pc, guest_end; /* guest bytes [guest_pc, guest_end) */
  uintptr_t code;               /* RX address of the entry */
  uint32_t size;
  struct hp_cache_unit *unit;
  struct hp_exit *exits;
  uint16_t nexits;
  uint16_t ninsn;
  uint32_t *pcmap;              /* per instruction: guest offset << 16 | cache offset */
  struct hp_exit *incoming;
  bool checks_code;             /* guest code is writable: fragment checks it at entry */
  uintptr_t cont;               /* a call's continuation in this fragment (0 = none)... */
  uint64_t cont_guest;          /* ...registered in the lookup for this return address */
  bool removed;
};

struct hp_fragment *hp_fragment_lookup(uint64_t guest_pc);
void hp_fragment_insert(struct hp_fragment *f);
/* Removes f from the table and the lookup, and unlinks every exit into it. */
void hp_fragment_remove(struct hp_fragment *f);
/* Aims every linked exit of f back at its stub (so f leaves the cache). */
void hp_fragment_unlink_outgoing(struct hp_fragment *f);
/* Removes every fragment with guest code in [lo, hi). */
void hp_fragments_flush_range(uint64_t lo, uint64_t hi);
/* The fragment whose code holds cache address rx (for faults), or NULL. */
struct hp_fragment *hp_fragment_by_cache_pc(uintptr_t rx);
/* The guest pc of the instruction at cache address rx inside f, and of the
 * one after it. */
uint64_t hp_fragment_guest_pc_at(const struct hp_fragment *f, uintptr_t rx);
uint64_t hp_fragment_guest_next_pc_at(const struct hp_fragment *f, uintptr_t rx);

/* Links exit x to fragment to (patches its branch). False if not linkable. */
bool hp_link(struct hp_exit *x, struct hp_fragment *to);
/* Teaches an inline-cache site its target (once): tag, then link. */
void hp_predict(struct hp_exit *site, uint64_t target, struct hp_fragment *to);

/* Indirect branch lookup table (guest pc -> cache address), in ibl.c. */
struct hp_ibl_entry { uint64_t guest, cache; };
void hp_ibl_init(void);
void hp_ibl_insert(uint64_t guest, uintptr_t cache);
/* The shared table's cache address for guest, 0 if none. */
uintptr_t hp_ibl_find(uint64_t guest);
void hp_ibl_remove(uint64_t guest);
/* Removes guest's entry only if it still maps to cache. */
void hp_ibl_remove_exact(uint64_t guest, uintptr_t cache);
struct hp_thread;
/* The thread's inline direct-mapped table: fill one entry, or empty it all. */
void hp_ibl_fast_insert(struct hp_thread *t, uint64_t guest, uintptr_t cache);
void hp_ibl_fast_clear(struct hp_thread *t);
/* Publishes the table in a thread block (also undoes hp_ibl_block). Both
 * take the lock: call them without it. */
void hp_ibl_attach(struct hp_thread *t);
/* Makes every lookup of this thread miss (async-signal safe for its own
 * thread): it then reaches the dispatcher at its next indirect branch. */
void hp_ibl_block(struct hp_thread *t);

#endif
