/* Symbolic stack frames of a trace with inlined calls, for the optimizer
 * passes (promote.c, retelide.c): rsp is the trace entry's rsp (RSP0) plus
 * a known delta; rbp is the entry's, a frame RSP0 + d, or unknown; stack
 * cells written by pushes remember a saved rbp or a pushed return address.
 * Pure: no global state. */
#ifndef HOTPATH_FRAMES_H
#define HOTPATH_FRAMES_H
#include <stdbool.h>
#include <stdint.h>

#include "hotpath/analysis.h"
#include "hotpath/ilist.h"

/* Symbolic values of rbp and of stack cells in a trace with inlined calls:
 * rsp is always the entry's rsp (RSP0) + delta. */
enum { HP_SYM_UNKNOWN, HP_SYM_OUTER /* rbp at the entry */, HP_SYM_FRAME /* RSP0 + d */, HP_SYM_RET /* a return address */ };
struct hp_sym {
  uint8_t kind;
  int32_t d;
};
#define HP_FRAME_CELLS 64

struct hp_frames {
  int32_t delta;  /* rsp - RSP0 */
  struct hp_sym rbp;
  bool dirty;     /* a store through an unknown address may have changed a cell */
  bool rbp_check; /* the last pop/leave took the loop's rbp from a cell while dirty */
  struct {
    int32_t at; /* RSP0 + at */
    struct hp_sym v;
  } cell[HP_FRAME_CELLS];
  unsigned ncells;
};

void hp_frames_init(struct hp_frames *f);
/* The cell at RSP0 + at (unknown if none). */
struct hp_sym hp_frames_cell(const struct hp_frames *f, int32_t at);
/* A store to [RSP0+at, +size): the cells it overlaps are unknown now. */
void hp_frames_clobber(struct hp_frames *f, int64_t at, int64_t size);
/* Cell at RSP0 + at holds v now; false when there are too many cells. */
bool hp_frames_set(struct hp_frames *f, int32_t at, struct hp_sym v);
/* rsp moved up to RSP0 + delta: cells below it are gone. */
void hp_frames_pop(struct hp_frames *f);
/* What a guest instruction does to rsp and rbp (push, pop, the prologue's
 * `mov rbp, rsp`, `sub/add rsp, imm`, leave); false for any other change
 * of either. */
bool hp_frames_track(struct hp_frames *f, const struct hp_insn *in, const struct hp_insn_effects *e);
/* Where a memory operand is, relative to RSP0, when the tracking knows
 * (based on rsp, or on rbp while it is a frame); false otherwise. */
bool hp_frames_address(const struct hp_frames *f, const struct hp_mem_operand *m, int64_t *at);

#endif
