/* Address folding and copy propagation over an optimized loop trace (the
 * optimizer pass after promotion). -O0 code computes every address in
 * registers one step at a time (`mov rax, [i]; lea rdx, [rax*4]; mov rax,
 * [a]; add rax, rdx; mov eax, [rax]`); once the slots are in registers the
 * pass keeps such values symbolic, as base + index*scale + disp over machine
 * registers, and folds them into the addressing mode of the access that
 * uses them (`mov eax, [r15+r13*4]`), or a register copy into the
 * instruction that reads it (`cmp r13, r14`).
 *
 * A guest register whose value is symbolic ("pending") holds something
 * else in its machine register. It is made exact (materialized: one lea or
 * mov) before anything reads it that cannot take the expression, before the
 * machine registers of its expression change while the guest can still see
 * it, before every exit other than a side exit, and on the out-of-line path
 * of each side exit. A fault inside the trace rebuilds it from a recovery
 * record (HP_LOC_EXPR). What the pass absorbs can neither fault nor touch
 * memory: register copies, lea, and add/sub/shl whose flags are dead. It
 * also removes instructions whose only effects are dead registers and dead
 * flags (dead-code removal).
 *
 * The pass never changes the list: its result is a plan (struct hp_fold)
 * that the lowering follows while the list's promotion is followed, so an
 * unoptimized rebuild simply ignores it. Pure: no global state. */
#ifndef HOTPATH_FOLD_H
#define HOTPATH_FOLD_H
#include <stdbool.h>
#include <stdint.h>

#include "hotpath/ilist.h"

/* base + index*scale + disp over machine registers (HP_FOLD_NONE: absent). */
#define HP_FOLD_NONE 0xff
struct hp_addr_expr {
  uint8_t base, index, scale; /* scale 1, 2, 4 or 8 when there is an index */
  int32_t disp;
};

/* The guest registers pending at some point, with their expressions, in an
 * order that materializes them correctly (a register whose expression reads
 * another pending register's machine register comes first); any subset
 * keeps that order. */
struct hp_fold_snap {
  uint16_t mask;
  uint8_t n, order[16];
  struct hp_addr_expr e[16];
};

struct hp_fold_elem {
  uint16_t pend; /* snapshot pending before the element (0: none) */
  uint16_t mat;  /* of those, materialized before the element's code */
  uint16_t rw;   /* 1 + index of its rewritten form (0: its own bytes) */
  bool gone;     /* absorbed or dead: no code */
};

struct hp_fold_rewrite {
  uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
  ZydisDecodedInstruction zi;
};

/* The caller provides the arrays (elem: l->n entries); snap[0] is the empty
 * snapshot. */
struct hp_fold {
  struct hp_fold_elem *elem;
  struct hp_fold_snap *snap;
  unsigned nsnap, snap_cap;
  struct hp_fold_rewrite *rw;
  unsigned nrw, rw_cap;
  /* what it did */
  unsigned absorbed;     /* instructions kept symbolic (copies, lea, add/sub/shl) */
  unsigned removed;      /* dead instructions removed */
  unsigned rewritten;    /* instructions that read a folded address or a propagated copy */
  unsigned materialized; /* leas/movs that make a register exact again (hot path) */
};

/* Plans folding for l, which hp_promote marked (l->promo set): true when
 * the plan changes anything (then the lowering follows it through
 * l->fold), false with *why otherwise. */
bool hp_fold(const struct hp_ilist *l, struct hp_fold *f, const char **why);

/* The bytes and decoded form the lowering emits for element i. */
const uint8_t *hp_fold_bytes(const struct hp_ilist *l, unsigned i, const ZydisDecodedInstruction **zi);

#endif
