/* Block builder: decodes guest code from a pc to the first control transfer
 * and emits a fragment into the code cache. */
#ifndef HOTPATH_BUILDER_H
#define HOTPATH_BUILDER_H
#include <stdbool.h>
#include <stdint.h>

#include "hotpath/fragment.h"

/* Builds the block at pc and inserts it in the fragment table. Returns NULL
 * when pc is not in memory the guest mapped executable, or when the code
 * cache is full (then hp_cache_full() is true: flush, then build again). */
struct hp_fragment *hp_build_block(uint64_t pc);
/* The same for a thread about to run pc with guest registers regs (NULL:
 * unknown): a jump table whose computation reads registers besides its
 * index is taken with their values now, checked when it runs. */
struct hp_fragment *hp_build_block_at(uint64_t pc, const uint64_t *regs);
/* The block at pc built from its own bytes alone (at most 975 from pc,
 * and no further across a region than an instruction reaches): no jump
 * table is looked for, whose entries and cases may lie anywhere. For code
 * this process may never run, whose bytes the caller checked it can read
 * (clone.c: what children built). */
struct hp_fragment *hp_build_block_guess(uint64_t pc);
/* The block at pc that a reprotection of its JIT code (anonymous memory)
 * flushed, put back if its bytes and memory are as when it was made
 * (hp_fragment_revive); NULL if none. hp_build_block_at tries it first. */
struct hp_fragment *hp_revive_block(uint64_t pc);

struct hp_ilist;
/* Room a block's list needs (decoded elements and what mangle adds). */
#define HP_BLOCK_LIST_CAP 72
/* Decodes and mangles the block at pc from live guest memory into l
 * (capacity HP_BLOCK_LIST_CAP); false if pc is not readable executable
 * memory. */
bool hp_decode_guest_block(uint64_t pc, struct hp_ilist *l);
uint64_t hp_now_ns(void);
/* Lowers a mangled list into the cache and commits it as a fragment of the
 * given kind (the trace builder's entry as well). A recording copy (record)
 * is lowered in recording mode and committed without being published.
 * Returns NULL for a trace whose list cannot be lowered (it is dropped), and
 * when the code cache is full (hp_cache_full()). */
struct hp_fragment *hp_translate_list(const struct hp_ilist *l, uint8_t kind, bool record);

struct hp_jt;
/* Finds the jump table l's last element dispatches through (jumptable.h;
 * regs, at_end: as hp_jt_find) and gives it entries in the thread blocks'
 * tables; false if none (or --no-jump-tables). At --opt=2 (not
 * --opt-exact-state) it marks the cases that read nothing the tail leaves
 * (hp_jt_dead_tails) in every table of a trace (hot), and in a block's
 * table only when it has at most 32 entries: decoding ahead from every
 * case of every table (python3 -c pass: 16,000 entries in 91 tables) cost
 * 25 ms. probed: jt holds hp_jt_probe's result for l already (the search,
 * which evaluates every entry, is not made again). */
bool hp_jt_for_list(const struct hp_ilist *l, const uint64_t *regs, bool at_end, bool hot, bool probed,
                    struct hp_jt *jt);
/* The same without taking entries: is there one? */
bool hp_jt_probe(const struct hp_ilist *l, const uint64_t *regs, bool at_end, struct hp_jt *jt);

#endif
