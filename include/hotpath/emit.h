/* The emitter: the only module that knows x86 instruction encodings. Code is
 * written through the cache's RW view (rw) while all displacements are
 * computed against the RX view (rx) it will run from. */
#ifndef HOTPATH_EMIT_H
#define HOTPATH_EMIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <Zydis/Zydis.h>

#include "hotpath/recovery.h"

struct hp_emit {
  uint8_t *rw;  /* write view of byte 0 */
  uintptr_t rx; /* run address of byte 0 */
  size_t pos, cap;
  bool overflow; /* ran out of cap (or a short branch out of range): discard and retry */
  struct hp_recov_buf *recov; /* where guest registers are displaced (NULL: not recorded) */
  bool count_lookups; /* --stats: count every indirect branch lookup, inline ones too */
  bool ret_wide;      /* returns index their table by 18 bits (pext), not 16 */
  size_t count_bytes; /* of the above and other --stats counting code */
};

/* Labels: a position in the code that branches may name before it is
 * bound; binding fills every branch emitted so far, later ones directly. */
#define HP_LABEL_FIXUPS 8
struct hp_label {
  size_t pos;
  bool bound;
  unsigned nfix;
  size_t fix[HP_LABEL_FIXUPS];   /* offsets of rel8/rel32 fields */
  uint8_t fix_size[HP_LABEL_FIXUPS];
};
void hp_label_bind(struct hp_emit *e, struct hp_label *l);
void hp_emit_jmp_label(struct hp_emit *e, struct hp_label *l);  /* jmp rel32 */

static inline uintptr_t hp_emit_here(const struct hp_emit *e) { return e->rx + e->pos; }
bool hp_rel32_fits(uintptr_t next_insn, uintptr_t target);

/* Inline: most writes are 1-8 bytes of a size known here, which compile to
 * one store instead of a call to memcpy (7% of python's start-up). */
static inline void hp_emit_bytes(struct hp_emit *e, const void *p, size_t n)
{
  if (e->pos + n > e->cap) {
    e->overflow = true;
    return;
  }
  __builtin_memcpy(e->rw + e->pos, p, n);
  e->pos += n;
}
void hp_emit_nops(struct hp_emit *e, size_t n);

/* Patchable branches: padded so the rel32 field is 4-byte aligned (patched
 * with one aligned store). Return the offset of the rel32 field. */
size_t hp_emit_jmp_rel32(struct hp_emit *e, uintptr_t target);
size_t hp_emit_jcc_rel32(struct hp_emit *e, unsigned cc, uintptr_t target);
/* Sets a rel32 field (rw address) so that its branch goes to target. */
void hp_patch_rel32(uint8_t *field_rw, uintptr_t field_rx, uintptr_t target);

/* A plain (never patched) jmp rel32. */
void hp_emit_jmp_plain(struct hp_emit *e, uintptr_t target);

/* A short conditional branch of the jrcxz/loop family: the guest's prefix and
 * opcode bytes, its rel8 aimed at label l. */
void hp_emit_rcx_branch(struct hp_emit *e, const uint8_t *insn, size_t len, struct hp_label *l);

/* Exit stub: leaves the cache through hp_cache_exit with rax = rec. Stubs
 * live out of line, in the cold end of a cache unit; position independent. */
void hp_emit_exit_stub(struct hp_emit *e, uintptr_t rec);
#define HP_EXIT_STUB_SIZE 27
/* Writes an absolute jump to target (jmp [rip+2]; dq target, the address
 * 8-aligned) somewhere in the HP_FAR_JUMP_SPACE bytes at rx (rw: their
 * writable view); returns where it starts. */
#define HP_FAR_JUMP_SPACE 24
uintptr_t hp_write_far_jump(uint8_t *rw, uintptr_t rx, uintptr_t target);


/* Indirect branches: saves the guest rcx and loads rcx with the target
 * computed from the guest operand (before any push: `call [rsp+8]` works).
 * guest_next = address after the guest instruction. */
bool hp_emit_branch_target(struct hp_emit *e, const ZydisDecodedInstruction *in,
                           const ZydisDecodedOperand *op, uintptr_t guest_next);

/* A guest call is a real `call` (so the CPU's return stack buffer learns the
 * return), laid out as:
 *     call L                  hp_emit_call_push
 *   C: check [rsp-8]          hp_emit_continuation (the callee's ret lands here)
 *     jmp <guest return pc>   linkable exit
 *     (mov rax, imm64)        never run: a 64-bit guest return's 8 bytes
 *   L: [rsp] = guest return   hp_emit_call_body (binds L): `mov [rsp],
 *                             simm32`, or `lea rsp, [rsp+8]; push [imm64]`
 *     jmp <callee>            linkable exit, or the lookup
 * The pushed cache address is overwritten before any guest code runs (the
 * code before L must end in a jump). */
void hp_emit_call_push(struct hp_emit *e, struct hp_label *body);
/* Around the `call` of an indirect call: the target waits in a slot and the
 * guest's rcx is back, so a fault of the push (stack overflow) sees exact
 * guest registers. */
void hp_emit_park_target(struct hp_emit *e);
void hp_emit_unpark_target(struct hp_emit *e);
/* Returns the offset past the return-address check: the entry for ways in
 * other than the return table. */
size_t hp_emit_continuation(struct hp_emit *e, uint64_t guest_ret);
void hp_emit_call_body(struct hp_emit *e, struct hp_label *body, uint64_t guest_ret);

/* Traces and recording copies do not use real calls: the guest return
 * address is pushed (a faulting push leaves the guest's rsp and memory as
 * they were). Flags untouched. An address that is a sign-extended 32-bit
 * value: `push simm32`; any other (every PIE) is pushed from an 8-byte
 * constant: the returned offset (0: none needed) is a disp32 the caller
 * aims at one (hp_emit_const64). */
size_t hp_emit_push_ret(struct hp_emit *e, uint64_t guest_ret);
/* An 8-byte constant in the code, 8-aligned, held by a `mov rax, imm64`
 * that never runs (emit it where nothing falls through); returns its
 * offset. hp_emit_aim_rip points the rip-relative disp32 at disp_pos there. */
size_t hp_emit_const64(struct hp_emit *e, uint64_t v);
void hp_emit_aim_rip(struct hp_emit *e, size_t disp_pos, size_t target_pos);
/* rsp past a return address and imm bytes (lea: flags untouched). */
void hp_emit_drop_ret(struct hp_emit *e, uint16_t imm);
/* A return's target into rcx (guest rcx in spill_rcx) and rsp past the
 * return address and imm bytes. */
void hp_emit_pop_target(struct hp_emit *e, uint16_t imm);
/* rcx = target, guest rcx in spill_rcx: if target == expected, the guest
 * rcx is back and the code goes on; otherwise jumps to mismatch with
 * rcx = target (guest rcx still in spill_rcx). Flags untouched. */
void hp_emit_guard_target(struct hp_emit *e, uint64_t expected, struct hp_label *mismatch);

/* A return in a trace: rcx = [rsp] (guest rcx in spill_rcx; a fault there
 * is the ret's), to be guarded against the expected return address. */
void hp_emit_peek_target(struct hp_emit *e);
/* Cheaper guards, with rcx alone spilled (one store, one load on a match):
 * an indirect call's or jump's target in guest register reg (not rcx or
 * rsp), or a return's in [rsp] (the ret's fault, if any, is at its read).
 * Flag-free; a mismatch jumps to mismatch as hp_emit_guard_target's does
 * (rcx = target, guest rcx in spill_rcx). */
void hp_emit_guard_reg(struct hp_emit *e, int reg, uint64_t expected, struct hp_label *mismatch);
void hp_emit_guard_ret(struct hp_emit *e, uint64_t expected, struct hp_label *mismatch);

/* A guard's mismatch path (rcx = target, guest rcx in spill_rcx): one more
 * miss in the thread's head counter `counter`; the miss that reaches limit
 * jumps (rel32 at the returned offset) with the target parked in
 * gs:ibl_target and the guest's rcx back; otherwise rcx = target again.
 * Flags untouched. */
size_t hp_emit_miss_count(struct hp_emit *e, unsigned counter, uint32_t limit);

/* --stats: one more execution in the 8-byte counter at addr (a fragment's
 * entries); one more guard mismatch in the thread block. Flags untouched. */
void hp_emit_count_abs(struct hp_emit *e, uint64_t addr);
void hp_emit_count_guard_miss(struct hp_emit *e);

/* A trace head's prologue: gs:head counter += 1 (per thread, flag-free);
 * at threshold, a jump (its rel32 offset returned) to the head's hot exit. */
size_t hp_emit_head_count(struct hp_emit *e, unsigned counter, uint32_t threshold);

/* ret: the lookup, and on a hit a real `ret` to the continuation found
 * (predicted by the return stack); ret imm16: the lookup and a jump. */
void hp_emit_return(struct hp_emit *e, uint16_t imm);
/* The same after the peek (rcx = the return address, guest rcx in
 * spill_rcx, rsp not moved yet). */
void hp_emit_return_lookup(struct hp_emit *e, uint16_t imm);
/* pc is a return's probe of the return table (the load that faults when the
 * table is blocked): the address of that return's miss path, else 0. */
uintptr_t hp_emit_return_miss_of(uintptr_t pc);
/* pc is a return's push of its continuation (a hit of the probe), which
 * writes the slot below the guest return address: the address of that
 * return's miss path, else 0. */
uintptr_t hp_emit_return_push_of(uintptr_t pc);

/* Copies a guest instruction that uses a rip-relative operand, adjusting its
 * disp32; rewrites it through a scratch register when the target is out of
 * rel32 reach (or always with force_far; the scratch, never one of the
 * registers in the mask avoid, has its guest value recorded as living in
 * its spill slot meanwhile). in needs no operands.
 * Returns false if it cannot. */
bool hp_emit_riprel(struct hp_emit *e, const uint8_t *bytes, const ZydisDecodedInstruction *in,
                    uintptr_t guest_pc, bool force_far, unsigned avoid, bool *used_scratch);

/* Register promotion (optimized traces). Flags untouched unless said.
 * save/restore: the guest's value of reg to/from its promo_save slot in the
 * thread block (hp_emit_promo_save_off: that slot's gs offset). */
void hp_emit_promo_save(struct hp_emit *e, int reg);
void hp_emit_promo_restore(struct hp_emit *e, int reg);
int32_t hp_emit_promo_save_off(int reg);
/* mov reg32/64, [rbp+disp] and mov [rbp+disp], reg32/64 (size 4 or 8). */
/* The same for xmm register x (its low 128 bits; the upper ones are left
 * as they are). */
void hp_emit_promo_xsave(struct hp_emit *e, int x);
void hp_emit_promo_xrestore(struct hp_emit *e, int x);
int32_t hp_emit_promo_xsave_off(int x);
/* xmm register x = the float (size 4) or double (size 8) at [rbp+disp],
 * zero-extended (movss/movsd). */
void hp_emit_xslot_load(struct hp_emit *e, int x, int32_t disp, unsigned size);
/* A guest movss/movsd load of a slot that lives in xmm x (zero-extended):
 * a copy of x into the instruction's destination. */
bool hp_emit_guest_xslot_read(struct hp_emit *e, const ZydisDecodedInstruction *in, int x);
/* After a guest movss/movsd store of a slot that lives in xmm x: x takes
 * the stored low element of the source, zero-extended; src_clean: the
 * source is known to hold nothing above that element (a whole copy, which
 * the CPU does by renaming, instead of movq or xorps + movss). */
bool hp_emit_guest_xslot_update(struct hp_emit *e, const ZydisDecodedInstruction *in, int x, bool src_clean);
/* The xmm register in the ModRM reg field of a legacy SSE instruction. */
int hp_emit_modrm_xmm(const ZydisDecodedInstruction *in);
void hp_emit_slot_load(struct hp_emit *e, int reg, int32_t disp, unsigned size);
/* The same loads from [base+disp] (the slots reloaded inside an inlined
 * call, base holding the loop's rbp). */
void hp_emit_slot_load_from(struct hp_emit *e, int reg, int base, int32_t disp, unsigned size);
void hp_emit_xslot_load_from(struct hp_emit *e, int x, int base, int32_t disp, unsigned size);
/* The loop's rbp to / from the thread block (promo_rbp), for the checks and
 * reloads inside inlined calls. */
void hp_emit_promo_frame_save(struct hp_emit *e);
void hp_emit_promo_frame_load(struct hp_emit *e, int reg);
int32_t hp_emit_promo_frame_off(void); /* promo_rbp's gs offset */
/* After an inlined call's pop rbp / leave: jumps (the rel32 field
 * returned) when rbp differs from the loop's rbp saved at the entry. The
 * flags and rcx are kept. */
size_t hp_emit_rbp_check(struct hp_emit *e);
/* The entry check of an optimized trace with inlined calls: jumps (the
 * rel32 field returned, to be aimed by the caller) when rsp > rbp + lo,
 * i.e. when a slot lies below rsp. Clobbers scratch; rcx is kept, and the
 * flags unless flags_dead (then it is a sub and a js: no spill of rcx). */
size_t hp_emit_frame_check(struct hp_emit *e, int scratch, int32_t lo, bool flags_dead);
void hp_emit_slot_store(struct hp_emit *e, int reg, int32_t disp, unsigned size);
/* The entry check of an optimized trace that [rbp+lo, rbp+hi) lies inside
 * the guest's stack [s0, s1) (memory of this process alone: nothing but
 * the loop can change a slot while it runs): two jumps when it does not
 * (their rel32 fields in fields[], to aim with hp_patch_rel32). Clobbers
 * scratch; rcx is kept, and the flags unless flags_dead. */
void hp_emit_stack_check(struct hp_emit *e, int scratch, int32_t lo, int32_t hi, uint64_t s0, uint64_t s1,
                         bool flags_dead, size_t fields[2]);
/* Whether [a, a+size) overlaps [rbp+lo, rbp+hi): a jump when it does (its
 * rel32 field's offset returned). Clobbers scratch, and the status flags
 * when flags_dead (a cmp and jb); else it keeps them and rcx (the signs
 * of two differences, bswap/movzx/lea and jrcxz). */
size_t hp_emit_span_check(struct hp_emit *e, int scratch, uint64_t a, uint32_t size, int32_t lo, int32_t hi,
                          bool flags_dead);
/* Deferred stores written back: [base+disp] = reg (4 or 8 bytes), or the
 * float/double in xmm x (movss/movsd). */
void hp_emit_slot_store_to(struct hp_emit *e, int reg, int base, int32_t disp, unsigned size);
void hp_emit_xslot_store_to(struct hp_emit *e, int x, int base, int32_t disp, unsigned size);
/* Encodes req into out (*len: its size in, the length out); false if
 * Zydis cannot encode it. */
bool hp_emit_encode_request(const ZydisEncoderRequest *req, uint8_t *out, ZyanUSize *len);
/* mnemonic dst, src between registers, encoded into out (*len as for
 * hp_emit_encode_request). */
bool hp_emit_encode_reg_reg(ZydisMnemonic m, ZydisRegister dst, ZydisRegister src, uint8_t *out, ZyanUSize *len);
/* dst = base + index*scale + disp (0xff: no base / no index) without
 * touching the flags: mov dst, imm32 / mov dst, base / lea. */
void hp_emit_addr_expr(struct hp_emit *e, int dst, uint8_t base, uint8_t index, uint8_t scale, int32_t disp);
/* The guest instruction with its [rbp+disp] operand replaced by reg (same
 * width); false if it cannot be encoded so. */
bool hp_emit_guest_rm_reg(struct hp_emit *e, const uint8_t *bytes, const ZydisDecodedInstruction *in,
                          int reg);
/* Whether the memory operand of the guest instruction at guest_pc overlaps
 * [rbp+lo, rbp+hi): scratch = its address - rbp - (lo - size + 1), then an
 * unsigned compare with the hull's size and a jb rel32 (its field's offset
 * returned, to aim with hp_patch_rel32). Clobbers scratch, and the status
 * flags unless keep_flags. saved_frame: the hull is relative to the loop's
 * rbp saved by hp_emit_promo_frame_save (rbp is a callee's here), not to
 * rbp. 0 if the operand cannot be checked. */
size_t hp_emit_alias_check(struct hp_emit *e, int scratch, const uint8_t *bytes,
                           const ZydisDecodedInstruction *in, uint64_t guest_pc, int32_t lo, int32_t hi,
                           bool saved_frame, bool keep_flags);
/* With keep_flags, the check keeps the status flags in rax (lahf; seto al)
 * and rax in the thread block after computing the address, and puts both
 * back on its way on; the hit path must put them back too, first thing:
 * hp_emit_alias_flags_back does. (0 with keep_flags if scratch is rax.) */
void hp_emit_alias_flags_back(struct hp_emit *e);
/* The guest's status flags and rax, as a check or dispatch that set them
 * aside (keep_flags) left them in the thread block. */
void hp_emit_flags_back(struct hp_emit *e);

/* Prologue of a fragment whose guest code is in writable memory: compares
 * the guest bytes with the copy translated; on a mismatch jumps to a stub
 * whose address is patched into the rel32 field at the returned offset.
 * Flags and registers are preserved. */
size_t hp_emit_code_check(struct hp_emit *e, uintptr_t guest_pc, const uint8_t *expected,
                          size_t len);

/* The inline part of the lookup, emitted at every indirect branch: rcx =
 * guest target, guest rcx in spill_rcx. Probes the thread's direct-mapped
 * table without touching flags; on a miss goes to the shared routine. */
void hp_emit_ibl_inline(struct hp_emit *e);
/* A jump table's dispatch (translate/jumptable.c): for each guard register,
 * `cmp reg, [rip+disp32]` (guard_disp[g]: the disp32's position, aimed later
 * at the value) and `jne generic`; `cmp idx, n; jae generic` (not with n 0:
 * the index is known to be in the table); then `jmp gs:[8*(first + idx)]`
 * in the thread block's jump table (thread.h). The compares change the
 * status flags; keep_flags: saves them first (spill slots), for
 * hp_emit_flags_back at generic and at each slot. Returns its length. */
size_t hp_emit_jt_dispatch(struct hp_emit *e, const uint8_t *guards, unsigned nguards, size_t *guard_disp, int idx,
                           uint32_t n, uint32_t first, bool keep_flags, struct hp_label *generic);

/* The same lookup for `jmp r64` (r neither rcx nor rsp), reading the
 * target where the guest has it instead of copying it to rcx first: four
 * instructions fewer on the hit path (interpreters' switch dispatch). On a
 * hit the fragment's address passes through rax (rdx when r is rax), then
 * gs:ibl_jump; a miss enters the shared routine as hp_emit_ibl_inline's. */
void hp_emit_ibl_inline_reg(struct hp_emit *e, int r);

/* A one-entry inline cache for an indirect call or a `jmp [mem]` (PLT
 * stubs, function pointers: usually one target): rcx = target. The tag
 * (~target, 0 until learnt) is the 8 bytes at *k_off. Its target: a direct
 * jump (rel32 at *jmp_off) to the fragment; no target yet: a jump (rel32 at
 * *learn_off) to an exit where the dispatcher teaches the site, with the
 * target in gs:ibl_target; another target: on to the lookup, counting the
 * miss in the thread block's 32-bit counter at gs:miss_slot: every 65536th
 * miss takes the learn exit too (a site whose target changed, as a sort's
 * comparator from one call to the next, learns the new one). Flags
 * untouched. */
void hp_emit_inline_cache(struct hp_emit *e, int32_t miss_slot, size_t *k_off, size_t *jmp_off, size_t *learn_off);

/* The same for `call r64` (r neither rcx nor rsp), comparing the target
 * where the guest has it: the guest's rcx stays in place until the cache
 * is probed (one store and one load of the thread block on a hit, where
 * copying the target to rcx and parking it across the call took four
 * stores and three loads). Falls through to the lookup on a miss, with
 * every register the guest's (hp_emit_ibl_inline_reg). */
void hp_emit_inline_cache_reg(struct hp_emit *e, int r, int32_t miss_slot, size_t *k_off, size_t *jmp_off,
                              size_t *learn_off);

/* The indirect branch lookup routine (one per process): entered with rcx =
 * guest target and the guest's rcx in spill_rcx; miss_rec is the exit
 * record used on a miss. */
void hp_emit_ibl_routine(struct hp_emit *e, uintptr_t miss_rec, bool count);

#endif
