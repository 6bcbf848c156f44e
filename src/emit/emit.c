/* Instruction encodings for generated code. Simple fixed forms are written
 * as bytes here; instructions derived from guest operands go through Zydis'
 * encoder. */
#include "hotpath/emit.h"

#include <stddef.h>
#include <string.h>

#include "hotpath/thread.h"

#define T_OFF(f) ((int32_t)offsetof(struct hp_thread, f))
#define T_GPR(r) ((int32_t)(offsetof(struct hp_thread, gpr) + 8 * (r)))

bool hp_rel32_fits(uintptr_t next_insn, uintptr_t target)
{
  int64_t d = (int64_t)(target - next_insn);
  return d >= INT32_MIN && d <= INT32_MAX;
}

static void u8(struct hp_emit *e, uint8_t b) { hp_emit_bytes(e, &b, 1); }
static void u32(struct hp_emit *e, uint32_t v) { hp_emit_bytes(e, &v, 4); }
static void u64(struct hp_emit *e, uint64_t v) { hp_emit_bytes(e, &v, 8); }

/* Recovery: from here on, guest register reg lives at gs:[slot]. Returns
 * the record's index for recov_close (or -1 when not recording). */
static int recov_open(struct hp_emit *e, int reg, int kind, int32_t slot)
{
  struct hp_recov_buf *b = e->recov;
  if (!b)
    return -1;
  if (b->n == b->cap) {
    e->overflow = true;
    return -1;
  }
  b->v[b->n] = (struct hp_recov){.start = (uint32_t)e->pos, .end = UINT32_MAX,
                                 .reg = (uint8_t)reg, .kind = (uint8_t)kind, .slot = slot};
  return (int)b->n++;
}

static void recov_close(struct hp_emit *e, int idx)
{
  if (idx >= 0)
    e->recov->v[idx].end = (uint32_t)e->pos;
}

static void fix_rel(struct hp_emit *e, size_t at, uint8_t size, size_t dest)
{
  if (e->overflow)
    return;
  int64_t d = (int64_t)dest - (int64_t)(at + size);
  if (size == 1) {
    if (d < -128 || d > 127) {
      e->overflow = true;
      return;
    }
    e->rw[at] = (uint8_t)(int8_t)d;
  } else {
    int32_t v = (int32_t)d;
    memcpy(e->rw + at, &v, 4);
  }
}

/* A rel field of `size` bytes at the current position, aimed at l. */
static void label_ref(struct hp_emit *e, struct hp_label *l, uint8_t size)
{
  size_t at = e->pos;
  if (size == 1)
    u8(e, 0);
  else
    u32(e, 0);
  if (l->bound) {
    fix_rel(e, at, size, l->pos);
  } else if (l->nfix < HP_LABEL_FIXUPS) {
    l->fix[l->nfix] = at;
    l->fix_size[l->nfix++] = size;
  } else {
    e->overflow = true;
  }
}

void hp_label_bind(struct hp_emit *e, struct hp_label *l)
{
  l->pos = e->pos;
  l->bound = true;
  for (unsigned i = 0; i < l->nfix; i++)
    fix_rel(e, l->fix[i], l->fix_size[i], l->pos);
  l->nfix = 0;
}

void hp_emit_jmp_label(struct hp_emit *e, struct hp_label *l)
{
  u8(e, 0xe9);
  label_ref(e, l, 4);
}


void hp_emit_nops(struct hp_emit *e, size_t n)
{
  /* Recommended multi-byte nops. */
  static const uint8_t nops[9][9] = {
      {0},
      {0x90},
      {0x66, 0x90},
      {0x0f, 0x1f, 0x00},
      {0x0f, 0x1f, 0x40, 0x00},
      {0x0f, 0x1f, 0x44, 0x00, 0x00},
      {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
      {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
      {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
  };
  while (n) {
    size_t k = n > 8 ? 8 : n;
    hp_emit_bytes(e, nops[k], k);
    n -= k;
  }
}

static void rel32_to(struct hp_emit *e, uintptr_t target)
{
  u32(e, (uint32_t)(int32_t)(int64_t)(target - (hp_emit_here(e) + 4)));
}

/* n bytes of padding before an instruction that runs: up to three CS
 * segment-override prefixes on it (ignored by branches and by instructions
 * without a memory operand; assemblers pad with them too), a nop for the
 * rest. */
static void pad_prefixes(struct hp_emit *e, size_t n)
{
  if (n > 3) {
    hp_emit_nops(e, n - 3);
    n = 3;
  }
  for (; n; n--)
    u8(e, 0x2e);
}

/* Pads so that after `opcode_len` more bytes the position is 4-aligned:
 * with CS segment-override prefixes on the branch itself (which a jmp or
 * jcc ignores), not nops, which the CPU would execute on the hot path
 * before every patchable side exit (sieve and arrays -O0: 7-8% faster). */
static void align_field(struct hp_emit *e, size_t opcode_len)
{
  size_t field = hp_emit_here(e) + opcode_len;
  pad_prefixes(e, (4 - (field & 3)) & 3);
}

size_t hp_emit_jmp_rel32(struct hp_emit *e, uintptr_t target)
{
  align_field(e, 1);
  u8(e, 0xe9);
  size_t at = e->pos;
  rel32_to(e, target);
  return at;
}

size_t hp_emit_jcc_rel32(struct hp_emit *e, unsigned cc, uintptr_t target)
{
  align_field(e, 2);
  u8(e, 0x0f);
  u8(e, (uint8_t)(0x80 | (cc & 15)));
  size_t at = e->pos;
  rel32_to(e, target);
  return at;
}

void hp_patch_rel32(uint8_t *field_rw, uintptr_t field_rx, uintptr_t target)
{
  int32_t v = (int32_t)(int64_t)(target - (field_rx + 4));
  /* One aligned 4-byte store: a thread running this code sees the old or
   * the new branch, never a mix. */
  __atomic_store_n((int32_t *)field_rw, v, __ATOMIC_RELEASE);
}

void hp_emit_jmp_plain(struct hp_emit *e, uintptr_t target)
{
  u8(e, 0xe9);
  rel32_to(e, target);
}

void hp_emit_rcx_branch(struct hp_emit *e, const uint8_t *insn, size_t len, struct hp_label *l)
{
  hp_emit_bytes(e, insn, len - 1); /* prefixes + opcode */
  label_ref(e, l, 1);
}

/* Aims the forward rel8 at offset `at` here; out of range is an emitter
 * bug, reported as an overflow (the builder asserts on it). */
static void set_rel8(struct hp_emit *e, size_t at)
{
  size_t d = e->pos - (at + 1);
  if (d > 127)
    e->overflow = true;
  else if (!e->overflow)
    e->rw[at] = (uint8_t)d;
}


/* mov gs:[off], r64 */
static void store_gs(struct hp_emit *e, int reg, int32_t off)
{
  uint8_t b[] = {0x65, (uint8_t)(0x48 | (reg >= 8 ? 4 : 0)), 0x89, (uint8_t)(0x04 | ((reg & 7) << 3)), 0x25};
  hp_emit_bytes(e, b, sizeof b);
  u32(e, (uint32_t)off);
}

/* mov r64, gs:[off] */
static void load_gs(struct hp_emit *e, int reg, int32_t off)
{
  uint8_t b[] = {0x65, (uint8_t)(0x48 | (reg >= 8 ? 4 : 0)), 0x8b, (uint8_t)(0x04 | ((reg & 7) << 3)), 0x25};
  hp_emit_bytes(e, b, sizeof b);
  u32(e, (uint32_t)off);
}

/* jmp qword gs:[off] */
static void jmp_gs(struct hp_emit *e, int32_t off)
{
  uint8_t b[] = {0x65, 0xff, 0x24, 0x25};
  hp_emit_bytes(e, b, sizeof b);
  u32(e, (uint32_t)off);
}

/* mov r64, imm64 */
static void mov_imm64(struct hp_emit *e, int reg, uint64_t v)
{
  u8(e, (uint8_t)(0x48 | (reg >= 8 ? 1 : 0)));
  u8(e, (uint8_t)(0xb8 | (reg & 7)));
  u64(e, v);
}

/* lea rsp, [rsp+disp] */
static void lea_rsp(struct hp_emit *e, int32_t disp)
{
  if (disp >= -128 && disp <= 127) {
    uint8_t b[] = {0x48, 0x8d, 0x64, 0x24, (uint8_t)(int8_t)disp};
    hp_emit_bytes(e, b, sizeof b);
  } else {
    uint8_t b[] = {0x48, 0x8d, 0xa4, 0x24};
    hp_emit_bytes(e, b, sizeof b);
    u32(e, (uint32_t)disp);
  }
}

void hp_emit_exit_stub(struct hp_emit *e, uintptr_t rec)
{
  store_gs(e, 0, T_GPR(HP_RAX)); /* 9 bytes */
  mov_imm64(e, 0, rec);          /* 10 bytes */
  jmp_gs(e, T_OFF(exit_routine)); /* 8 bytes */
}

uintptr_t hp_write_far_jump(uint8_t *rw, uintptr_t rx, uintptr_t target)
{
  /* jmp qword [rip+2]; int3; int3; dq target: the address 8-aligned, so
   * that the jump's read works while the guest has EFLAGS.AC set */
  size_t pad = (8 - (rx & 7)) & 7;
  uint8_t b[16] = {0xff, 0x25, 2, 0, 0, 0, 0xcc, 0xcc};
  memcpy(b + 8, &target, 8);
  memcpy(rw + pad, b, sizeof b);
  return rx + pad;
}

static ZydisRegister zreg64(int r)
{
  static const ZydisRegister map[16] = {
      ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
      ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
      ZYDIS_REGISTER_R8,  ZYDIS_REGISTER_R9,  ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
      ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15};
  return map[r];
}

static bool encode(struct hp_emit *e, ZydisEncoderRequest *req)
{
  uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
  ZyanUSize len = sizeof buf;
  if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(req, buf, &len)))
    return false;
  hp_emit_bytes(e, buf, len);
  return true;
}

bool hp_emit_encode_request(const ZydisEncoderRequest *req, uint8_t *out, ZyanUSize *len)
{
  if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(req, out, len)))
    return false;
  /* Decoded again, it must be what was asked: the encoder takes some
   * operands it cannot express (a general register where the form wants an
   * xmm register) and encodes something else. */
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, out, *len, &in, ops)) || in.length != *len ||
      in.mnemonic != req->mnemonic || in.operand_count_visible != req->operand_count)
    return false;
  for (unsigned i = 0; i < req->operand_count; i++) {
    const ZydisEncoderOperand *want = &req->operands[i];
    const ZydisDecodedOperand *got = &ops[i];
    if ((ZydisOperandType)got->type != want->type)
      return false;
    switch (want->type) {
    case ZYDIS_OPERAND_TYPE_REGISTER:
      if (got->reg.value != want->reg.value)
        return false;
      break;
    case ZYDIS_OPERAND_TYPE_MEMORY:
      if (got->mem.base != want->mem.base || got->mem.index != want->mem.index ||
          (want->mem.index != ZYDIS_REGISTER_NONE && got->mem.scale != want->mem.scale) ||
          got->mem.disp.value != want->mem.displacement)
        return false;
      break;
    case ZYDIS_OPERAND_TYPE_IMMEDIATE:
      if (got->imm.value.u != want->imm.u && (uint64_t)got->imm.value.s != want->imm.u &&
          (uint32_t)got->imm.value.u != (uint32_t)want->imm.u)
        return false;
      break;
    default:
      break;
    }
  }
  return true;
}

/* mnemonic dst, src (second operand filled in by the caller). */
static void two_operands(ZydisEncoderRequest *req, ZydisMnemonic m, ZydisRegister dst)
{
  memset(req, 0, sizeof *req);
  req->machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
  req->mnemonic = m;
  req->operand_count = 2;
  req->operands[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
  req->operands[0].reg.value = dst;
}

bool hp_emit_encode_reg_reg(ZydisMnemonic m, ZydisRegister dst, ZydisRegister src, uint8_t *out, ZyanUSize *len)
{
  ZydisEncoderRequest req;
  two_operands(&req, m, dst);
  req.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
  req.operands[1].reg.value = src;
  return hp_emit_encode_request(&req, out, len);
}

void hp_emit_addr_expr(struct hp_emit *e, int dst, uint8_t base, uint8_t index, uint8_t scale, int32_t disp)
{
  ZydisEncoderRequest req;
  two_operands(&req, ZYDIS_MNEMONIC_MOV, zreg64(dst));
  if (base == 0xff && index == 0xff) {
    req.operands[1].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
    req.operands[1].imm.s = disp;
  } else if (index == 0xff && !disp) {
    req.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req.operands[1].reg.value = zreg64(base);
  } else {
    req.mnemonic = ZYDIS_MNEMONIC_LEA;
    req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
    req.operands[1].mem.base = base == 0xff ? ZYDIS_REGISTER_NONE : zreg64(base);
    req.operands[1].mem.index = index == 0xff ? ZYDIS_REGISTER_NONE : zreg64(index);
    req.operands[1].mem.scale = index == 0xff ? 0 : scale;
    req.operands[1].mem.displacement = disp;
    req.operands[1].mem.size = 8;
  }
  if (!encode(e, &req))
    e->overflow = true; /* every such expression encodes: a bug */
}

static ZyanU64 segment_prefix(const ZydisDecodedInstruction *in)
{
  return in->attributes & (ZYDIS_ATTRIB_HAS_SEGMENT_FS | ZYDIS_ATTRIB_HAS_SEGMENT_GS);
}

static bool branch_target_load(struct hp_emit *e, const ZydisDecodedInstruction *in,
                               const ZydisDecodedOperand *op, uintptr_t guest_next);

bool hp_emit_branch_target(struct hp_emit *e, const ZydisDecodedInstruction *in,
                           const ZydisDecodedOperand *op, uintptr_t guest_next)
{
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  /* The load of the target may fault: the guest's rcx is in its slot. */
  int rec = recov_open(e, HP_RCX, HP_LOC_GS_SLOT, T_OFF(spill_rcx));
  bool ok = branch_target_load(e, in, op, guest_next);
  recov_close(e, rec);
  return ok;
}

static bool branch_target_load(struct hp_emit *e, const ZydisDecodedInstruction *in,
                               const ZydisDecodedOperand *op, uintptr_t guest_next)
{
  if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
    ZydisEncoderRequest req = {0};
    req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    req.mnemonic = ZYDIS_MNEMONIC_MOV;
    req.operand_count = 2;
    req.operands[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req.operands[0].reg.value = ZYDIS_REGISTER_RCX;
    req.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req.operands[1].reg.value = op->reg.value;
    return encode(e, &req);
  }
  if (op->type != ZYDIS_OPERAND_TYPE_MEMORY)
    return false;
  if (op->mem.base == ZYDIS_REGISTER_RIP) {
    /* Absolute address, then load: no reach limit. */
    if (segment_prefix(in))
      return false;
    mov_imm64(e, HP_RCX, guest_next + (uint64_t)op->mem.disp.value);
    uint8_t b[] = {0x48, 0x8b, 0x09}; /* mov rcx, [rcx] */
    hp_emit_bytes(e, b, sizeof b);
    return true;
  }
  ZydisEncoderRequest req = {0};
  req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
  req.mnemonic = ZYDIS_MNEMONIC_MOV;
  req.prefixes = segment_prefix(in);
  req.operand_count = 2;
  req.operands[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
  req.operands[0].reg.value = ZYDIS_REGISTER_RCX;
  req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
  req.operands[1].mem.base = op->mem.base;
  req.operands[1].mem.index = op->mem.index;
  req.operands[1].mem.scale = op->mem.index != ZYDIS_REGISTER_NONE ? op->mem.scale : 0;
  req.operands[1].mem.displacement = op->mem.disp.value;
  req.operands[1].mem.size = 8;
  return encode(e, &req);
}

void hp_emit_park_target(struct hp_emit *e)
{
  store_gs(e, HP_RCX, T_OFF(ibl_target));
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
}

void hp_emit_unpark_target(struct hp_emit *e)
{
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  load_gs(e, HP_RCX, T_OFF(ibl_target));
}

size_t hp_emit_const64(struct hp_emit *e, uint64_t v)
{
  hp_emit_nops(e, (8 - ((hp_emit_here(e) + 2) & 7)) & 7);
  mov_imm64(e, HP_RAX, v); /* never run: it holds the 8 bytes */
  return e->pos - 8;
}

void hp_emit_aim_rip(struct hp_emit *e, size_t disp_pos, size_t target_pos)
{
  if (e->overflow)
    return;
  int32_t d = (int32_t)((int64_t)target_pos - (int64_t)(disp_pos + 4));
  memcpy(e->rw + disp_pos, &d, 4);
}

size_t hp_emit_push_ret(struct hp_emit *e, uint64_t guest_ret)
{
  /* A push that faults (stack overflow) leaves rsp and memory as the
   * guest's call left them before pushing. rsp moves by a push (the CPU's
   * stack engine), not by an ALU `lea` whose result the guest's next push
   * or pop waits for, nor is it named by a store of the high half after
   * the push (which costs a synchronizing uop). */
  if ((int64_t)guest_ret == (int32_t)guest_ret) {
    uint8_t push[] = {0x68}; /* push simm32 */
    hp_emit_bytes(e, push, sizeof push);
    u32(e, (uint32_t)guest_ret);
    return 0;
  }
  /* From an 8-byte constant the caller places. */
  static const uint8_t push[] = {0xff, 0x35}; /* push qword [rip+disp32] */
  hp_emit_bytes(e, push, sizeof push);
  u32(e, 0);
  return e->pos - 4;
}

void hp_emit_drop_ret(struct hp_emit *e, uint16_t imm) { lea_rsp(e, 8 + (int32_t)imm); }

void hp_emit_pop_target(struct hp_emit *e, uint16_t imm)
{
  hp_emit_peek_target(e);
  lea_rsp(e, 8 + imm);
}

void hp_emit_guard_target(struct hp_emit *e, uint64_t expected, struct hp_label *mismatch)
{
  /* rcx - expected, with lea (no flags): zero iff they match. */
  store_gs(e, HP_RAX, T_OFF(spill_rax));
  mov_imm64(e, HP_RAX, (uint64_t)0 - expected);
  static const uint8_t cmp[] = {0x48, 0x8d, 0x0c, 0x01, /* lea rcx, [rcx+rax] */
                                0xe3, 0x00};            /* jrcxz match */
  hp_emit_bytes(e, cmp, sizeof cmp);
  struct hp_label match = {0};
  match.fix[0] = e->pos - 1;
  match.fix_size[0] = 1;
  match.nfix = 1;
  static const uint8_t back[] = {0x48, 0xf7, 0xd0,        /* not rax: expected - 1 */
                                 0x48, 0x8d, 0x4c, 0x01, 0x01}; /* lea rcx, [rcx+rax+1]: the target again */
  hp_emit_bytes(e, back, sizeof back);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  hp_emit_jmp_label(e, mismatch);
  hp_label_bind(e, &match);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
}

/* ecx = ++gs:head counter[counter] - limit (flag-free): zero at the limit
 * (32-bit results zero-extend into rcx, for jrcxz). */
static void count_to_limit(struct hp_emit *e, unsigned counter, uint32_t limit)
{
  int32_t slot = HP_T_HEAD_COUNTERS + 4 * (int32_t)counter;
  uint8_t ld[] = {0x65, 0x8b, 0x0c, 0x25}; /* mov ecx, gs:[slot] */
  hp_emit_bytes(e, ld, sizeof ld);
  u32(e, (uint32_t)slot);
  static const uint8_t inc[] = {0x8d, 0x49, 0x01}; /* lea ecx, [rcx+1] */
  hp_emit_bytes(e, inc, sizeof inc);
  uint8_t st[] = {0x65, 0x89, 0x0c, 0x25}; /* mov gs:[slot], ecx */
  hp_emit_bytes(e, st, sizeof st);
  u32(e, (uint32_t)slot);
  static const uint8_t sub[] = {0x8d, 0x89}; /* lea ecx, [rcx - limit] */
  hp_emit_bytes(e, sub, sizeof sub);
  u32(e, (uint32_t)-(int32_t)limit);
}

size_t hp_emit_miss_count(struct hp_emit *e, unsigned counter, uint32_t limit)
{
  store_gs(e, HP_RCX, T_OFF(ibl_target));
  count_to_limit(e, counter, limit);
  static const uint8_t jr[] = {0xe3, 0x02, 0xeb, 0x0e}; /* jrcxz hit; jmp on */
  hp_emit_bytes(e, jr, sizeof jr);
  load_gs(e, HP_RCX, T_OFF(spill_rcx)); /* hit: the guest's rcx back, then away */
  u8(e, 0xe9);
  size_t field = e->pos;
  u32(e, 0);
  load_gs(e, HP_RCX, T_OFF(ibl_target)); /* on: the target again */
  return field;
}

/* The end of a flag-free test whose guest rcx waits in spill_rcx: a jump
 * (its rel32 field returned) when rcx is 0, else on; rcx back either way. */
static size_t rcx_zero_jumps(struct hp_emit *e)
{
  static const uint8_t jz[] = {0xe3, 0x00}; /* jrcxz away */
  hp_emit_bytes(e, jz, sizeof jz);
  size_t away = e->pos - 1;
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  static const uint8_t on[] = {0xeb, 0x00}; /* jmp over the jump */
  hp_emit_bytes(e, on, sizeof on);
  size_t go = e->pos - 1;
  set_rel8(e, away);
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  size_t field = hp_emit_jmp_rel32(e, hp_emit_here(e));
  set_rel8(e, go);
  return field;
}

size_t hp_emit_head_count(struct hp_emit *e, unsigned counter, uint32_t threshold)
{
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  count_to_limit(e, counter, threshold);
  return rcx_zero_jumps(e); /* hot: the exit */
}

void hp_emit_call_push(struct hp_emit *e, struct hp_label *body)
{
  u8(e, 0xe8); /* call rel32: the CPU's return stack learns the continuation */
  label_ref(e, body, 4);
}

/* lea rcx, [rcx+d] (flags untouched). */
static void lea_rcx_disp(struct hp_emit *e, int32_t d)
{
  static const uint8_t b[] = {0x48, 0x8d, 0x89}; /* lea rcx, [rcx+disp32] */
  hp_emit_bytes(e, b, sizeof b);
  u32(e, (uint32_t)d);
}

/* rcx += v, |v| <= 2^32, in one or two leas (flags untouched). */
static void lea_rcx_add(struct hp_emit *e, int64_t v)
{
  if (!v)
    return;
  if (v == (int32_t)v) {
    lea_rcx_disp(e, (int32_t)v);
    return;
  }
  lea_rcx_disp(e, (int32_t)(v / 2));
  lea_rcx_disp(e, (int32_t)(v - v / 2));
}

/* rcx = f(rcx), zero iff rcx was v, flag-free and with no other register:
 * rcx - v in one or two leas where v is a sign-extended 32-bit value;
 * otherwise f(x) = bswap(x - a) - c, one-to-one, with a = v's low half
 * sign-extended (so v - a has a zero low half) and c = that difference's
 * high half byte-swapped. */
static void rcx_match(struct hp_emit *e, uint64_t v)
{
  int64_t a = (int32_t)(uint32_t)v;
  uint64_t k = v - (uint64_t)a;
  lea_rcx_add(e, -a);
  if (!k)
    return;
  static const uint8_t bswap[] = {0x48, 0x0f, 0xc9}; /* bswap rcx */
  hp_emit_bytes(e, bswap, sizeof bswap);
  lea_rcx_add(e, -(int64_t)__builtin_bswap32((uint32_t)(k >> 32)));
}

static void count_stat(struct hp_emit *e, int32_t off);

size_t hp_emit_continuation(struct hp_emit *e, uint64_t guest_ret)
{
  /* Entered by a `ret` through the return table (hp_emit_return_lookup):
   * guest rsp past the return address, which the guest slot [rsp-8] still
   * holds, and the guest rcx in spill_rcx. Two return addresses may share
   * a table entry: check that [rsp-8] is this call's, flag-free
   * (rcx_match). */
  int rec = recov_open(e, HP_RCX, HP_LOC_GS_SLOT, T_OFF(spill_rcx));
  /* [rsp-8] read through rcx, not as `mov rcx, [rsp-8]`: an rsp-relative
   * load right after `push rcx; ret 8` made AMD's memory renaming
   * mispredict on every return (a tight call/return loop of blocks ran
   * 5x slower than natively; 1.5x with this form, measured). */
  static const uint8_t ld[] = {0x48, 0x8d, 0x4c, 0x24, 0xf8, /* lea rcx, [rsp-8] */
                               0x48, 0x8b, 0x09};            /* mov rcx, [rcx] */
  hp_emit_bytes(e, ld, sizeof ld);
  rcx_match(e, guest_ret);
  static const uint8_t jrcxz[] = {0xe3, 0x00};
  hp_emit_bytes(e, jrcxz, sizeof jrcxz);
  size_t ok = e->pos - 1;
  /* Another return address: the lookup, with rsp already past it. */
  count_stat(e, T_OFF(ret_mismatches));
  hp_emit_bytes(e, ld, sizeof ld);
  jmp_gs(e, T_OFF(ibl_routine));
  set_rel8(e, ok);
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  recov_close(e, rec);
  return e->pos;
}

void hp_emit_peek_target(struct hp_emit *e)
{
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  int rec = recov_open(e, HP_RCX, HP_LOC_GS_SLOT, T_OFF(spill_rcx));
  uint8_t b[] = {0x48, 0x8b, 0x0c, 0x24}; /* mov rcx, [rsp]: faults as the guest's ret would */
  hp_emit_bytes(e, b, sizeof b);
  recov_close(e, rec);
}

void hp_emit_guard_reg(struct hp_emit *e, int reg, uint64_t expected, struct hp_label *mismatch)
{
  if (reg == HP_RCX || reg == HP_RSP) {
    e->overflow = true; /* the caller's bug: not a form this guard takes */
    return;
  }
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  /* rcx = reg - expected (lea: no flags), zero iff they match. */
  int64_t d = (int64_t)(0 - expected);
  if (d != (int32_t)d) {
    mov_imm64(e, HP_RCX, (uint64_t)d);
    uint8_t b[] = {(uint8_t)(0x48 | (reg >= 8 ? 2 : 0)), 0x8d, 0x0c, (uint8_t)(((reg & 7) << 3) | 1)}; /* lea rcx, [rcx+reg] */
    hp_emit_bytes(e, b, sizeof b);
  } else {
    uint8_t b[] = {(uint8_t)(0x48 | (reg >= 8 ? 1 : 0)), 0x8d, (uint8_t)(0x88 | (reg & 7))}; /* lea rcx, [reg+disp32] */
    hp_emit_bytes(e, b, sizeof b);
    if ((reg & 7) == 4)
      u8(e, 0x24); /* r12 as a base needs a SIB byte */
    u32(e, (uint32_t)(int32_t)d);
  }
  static const uint8_t jrcxz[] = {0xe3, 0x00};
  hp_emit_bytes(e, jrcxz, sizeof jrcxz);
  size_t match = e->pos - 1;
  uint8_t back[] = {(uint8_t)(0x48 | (reg >= 8 ? 4 : 0)), 0x89, (uint8_t)(0xc1 | ((reg & 7) << 3))}; /* mov rcx, reg */
  hp_emit_bytes(e, back, sizeof back);
  hp_emit_jmp_label(e, mismatch);
  set_rel8(e, match);
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
}

void hp_emit_guard_ret(struct hp_emit *e, uint64_t expected, struct hp_label *mismatch)
{
  hp_emit_peek_target(e);
  rcx_match(e, expected);
  static const uint8_t jrcxz[] = {0xe3, 0x00};
  hp_emit_bytes(e, jrcxz, sizeof jrcxz);
  size_t match = e->pos - 1;
  /* The target again (read once already; another thread unmapping the
   * stack in between would fault here, still as the ret). */
  int rec = recov_open(e, HP_RCX, HP_LOC_GS_SLOT, T_OFF(spill_rcx));
  static const uint8_t peek[] = {0x48, 0x8b, 0x0c, 0x24}; /* mov rcx, [rsp] */
  hp_emit_bytes(e, peek, sizeof peek);
  recov_close(e, rec);
  hp_emit_jmp_label(e, mismatch);
  set_rel8(e, match);
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
}

void hp_emit_call_body(struct hp_emit *e, struct hp_label *body, uint64_t guest_ret)
{
  /* The call lands here: overwrite the cache address it pushed. */
  /* One 8-byte store: the return path reloads it at once (the low 16 bits,
   * then all 64), and a load spanning two 4-byte stores cannot be
   * forwarded (a stall per call). */
  if ((int64_t)guest_ret == (int32_t)guest_ret) {
    hp_label_bind(e, body);
    uint8_t b[] = {0x48, 0xc7, 0x04, 0x24}; /* mov qword [rsp], simm32 */
    hp_emit_bytes(e, b, sizeof b);
    u32(e, (uint32_t)guest_ret);
    return;
  }
  /* A 64-bit address: dropped and pushed again from memory, the 8 bytes
   * held by a `mov rax, imm64` never executed (the code before the body
   * ends in a jump), its immediate 8-aligned for a guest running with
   * EFLAGS.AC. Two instructions where a spill, a load of the constant, the
   * store and a reload took four. */
  size_t k = hp_emit_const64(e, guest_ret);
  hp_label_bind(e, body);
  static const uint8_t drop[] = {0x48, 0x8d, 0x64, 0x24, 0x08}; /* lea rsp, [rsp+8] */
  hp_emit_bytes(e, drop, sizeof drop);
  static const uint8_t push[] = {0xff, 0x35}; /* push qword [rip+disp32] */
  hp_emit_bytes(e, push, sizeof push);
  u32(e, 0);
  hp_emit_aim_rip(e, e->pos - 4, k);
}

/* --stats' counting code: its bytes are kept apart (count_bytes), so that
 * the cache's bytes per guest instruction are those of a run without it. */
static void counted_from(struct hp_emit *e, size_t start) { e->count_bytes += e->pos - start; }

/* gs:[off] += 1 without touching flags (load, lea, store) through reg
 * (rax or rcx: one the caller has free). (Its callers tally it, with the
 * spills around it.) */
static void count_gs(struct hp_emit *e, int reg, int32_t off)
{
  load_gs(e, reg, off);
  uint8_t inc[] = {0x48, 0x8d, (uint8_t)(0x40 | (reg << 3) | reg), 0x01}; /* lea reg, [reg+1] (rax..rdi) */
  hp_emit_bytes(e, inc, sizeof inc);
  store_gs(e, reg, off);
}

/* --stats: one more in the thread block's counter at gs:off, through rax
 * (spilled around it; flags untouched). */
static void count_stat(struct hp_emit *e, int32_t off)
{
  if (!e->count_lookups)
    return;
  size_t start = e->pos;
  store_gs(e, HP_RAX, T_OFF(spill_rax));
  count_gs(e, HP_RAX, off);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  counted_from(e, start);
}

void hp_emit_count_guard_miss(struct hp_emit *e) { count_stat(e, T_OFF(guard_misses)); }

void hp_emit_count_abs(struct hp_emit *e, uint64_t addr)
{
  size_t start = e->pos;
  store_gs(e, HP_RAX, T_OFF(spill_rax));
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  mov_imm64(e, HP_RAX, addr);
  static const uint8_t inc[] = {0x48, 0x8b, 0x08,       /* mov rcx, [rax] */
                                0x48, 0x8d, 0x49, 0x01, /* lea rcx, [rcx+1] */
                                0x48, 0x89, 0x08};      /* mov [rax], rcx */
  hp_emit_bytes(e, inc, sizeof inc);
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  counted_from(e, start);
}

/* Probes the thread's direct-mapped table for the target in rcx without
 * touching flags. Falls through on a miss with rcx = target and rax/rdx
 * restored; on a hit jumps (via the jrcxz whose rel8 offset is returned, to
 * be aimed by the caller) with rdx = cache address, rax/rdx still spilled. */
static size_t fast_probe(struct hp_emit *e)
{
  store_gs(e, HP_RAX, T_OFF(spill_rax));
  store_gs(e, HP_RDX, T_OFF(spill_rdx));
  if (e->count_lookups) {
    size_t start = e->pos;
    count_gs(e, HP_RAX, T_OFF(ibl_inline_lookups));
    counted_from(e, start);
  }
  static const uint8_t probe1[] = {
      0x48, 0x89, 0xc8,       /* mov rax, rcx */
      0x0f, 0xb7, 0xc9,       /* movzx ecx, cx */
      0x48, 0x8d, 0x0c, 0x09, /* lea rcx, [rcx+rcx] */
      0x65, 0x48, 0x8b, 0x14, 0xcd}; /* mov rdx, gs:[rcx*8+disp32] */
  hp_emit_bytes(e, probe1, sizeof probe1);
  u32(e, HP_T_IBL_FAST + 8);
  static const uint8_t probe2[] = {0x65, 0x48, 0x8b, 0x0c, 0xcd}; /* mov rcx, gs:[rcx*8+disp32] */
  hp_emit_bytes(e, probe2, sizeof probe2);
  u32(e, HP_T_IBL_FAST);
  static const uint8_t cmp[] = {
      0x48, 0x8d, 0x4c, 0x01, 0x01, /* lea rcx, [rcx+rax+1]: zero iff tag == ~target */
      0xe3, 0x00};                  /* jrcxz hit */
  hp_emit_bytes(e, cmp, sizeof cmp);
  size_t jrcxz = e->pos - 1;
  static const uint8_t back[] = {0x48, 0x89, 0xc1}; /* mov rcx, rax */
  hp_emit_bytes(e, back, sizeof back);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  load_gs(e, HP_RDX, T_OFF(spill_rdx));
  return jrcxz;
}

void hp_emit_return(struct hp_emit *e, uint16_t imm)
{
  hp_emit_peek_target(e);
  hp_emit_return_lookup(e, imm);
}

/* The return table's probe, then `jrcxz miss` (hp_emit_return_miss_of). */
static const uint8_t ret_probe[] = {0x65, 0x48, 0x8b, 0x0c, 0xcd}; /* mov rcx, gs:[rcx*8+disp32] */

uintptr_t hp_emit_return_miss_of(uintptr_t pc)
{
  const uint8_t *p = (const uint8_t *)pc;
  if (memcmp(p, ret_probe, sizeof ret_probe) != 0 || *(const int32_t *)(p + 5) != HP_T_RET_TABLE || p[9] != 0xe3)
    return 0;
  return pc + 11 + (uintptr_t)(intptr_t)(int8_t)p[10];
}

uintptr_t hp_emit_return_push_of(uintptr_t pc)
{
  /* The probe, `jrcxz miss` over 4 bytes, then `push rcx; ret 8`. */
  if (*(const uint8_t *)pc != 0x51 || hp_emit_return_miss_of(pc - 11) != pc + 4)
    return 0;
  return pc + 4;
}

void hp_emit_return_lookup(struct hp_emit *e, uint16_t imm)
{
  if (imm) {
    lea_rsp(e, 8 + imm);
    hp_emit_ibl_inline(e);
    return;
  }
  /* The return table holds, per low 18 (pext) or 16 bits of a guest return
   * address (hp_ret_table_bits), the
   * cache address of a call continuation (0: none); the continuation checks
   * the whole address (hp_emit_continuation). On a hit, a real `ret` to it,
   * so the CPU's return stack predicts it: the continuation address is
   * pushed into the dead slot below the guest return address (below the
   * guest's rsp: nothing of the guest's lives there at a return), the guest
   * return address stays as natively, and `ret 8` pops both. Where that
   * slot cannot be written (the bottom of a stack, a read-only page), the
   * push faults and the signal handler sends the return to its miss path
   * (hp_emit_return_push_of), which writes nothing. */
  int rec = recov_open(e, HP_RCX, HP_LOC_GS_SLOT, T_OFF(spill_rcx));
  count_stat(e, T_OFF(ibl_inline_lookups));
  if (e->ret_wide) {
    /* rcx (the return address) & (2^18 - 1), flags untouched: pext with the
     * mask in the thread block (hp_ret_table_bits chooses this form only
     * where pext is fast). */
    hp_emit_bytes(e, (const uint8_t[]){0x65, 0xc4, 0xe2, 0xf2, 0xf5, 0x0c, 0x25}, 7); /* pext rcx, rcx, gs:[ret_mask] */
    u32(e, (uint32_t)T_OFF(ret_mask));
  } else {
    static const uint8_t low[] = {0x0f, 0xb7, 0xc9}; /* movzx ecx, cx */
    hp_emit_bytes(e, low, sizeof low);
  }
  hp_emit_bytes(e, ret_probe, sizeof ret_probe);
  u32(e, HP_T_RET_TABLE);
  static const uint8_t hit[] = {
      0xe3, 0x04,                   /* jrcxz miss */
      0x51,                         /* push rcx */
      0xc2, 0x08, 0x00,             /* ret 8 */
      0x48, 0x8b, 0x0c, 0x24};      /* miss: mov rcx, [rsp] */
  hp_emit_bytes(e, hit, sizeof hit);
  recov_close(e, rec);
  lea_rsp(e, 8);
  jmp_gs(e, T_OFF(ibl_routine));
}

/* Counts a miss of an inline cache in ecx (the thread block's 32-bit
 * counter at gs:miss_slot), flags untouched, and jumps (jrcxz: its rel8 is
 * the last byte emitted) every 65536th miss: the site learns anew. */
static size_t count_miss(struct hp_emit *e, int32_t miss_slot)
{
  uint8_t b[] = {0x65, 0x8b, 0x0c, 0x25, 0, 0, 0, 0, /* mov ecx, gs:[slot] */
                 0x8d, 0x49, 0x01,                   /* lea ecx, [rcx+1] */
                 0x65, 0x89, 0x0c, 0x25, 0, 0, 0, 0, /* mov gs:[slot], ecx */
                 0x0f, 0xb7, 0xc9,                   /* movzx ecx, cx */
                 0xe3, 0x00};                        /* jrcxz */
  memcpy(b + 4, &miss_slot, 4);
  memcpy(b + 15, &miss_slot, 4);
  hp_emit_bytes(e, b, sizeof b);
  return e->pos - 1;
}

void hp_emit_inline_cache(struct hp_emit *e, int32_t miss_slot, size_t *k_off, size_t *jmp_off, size_t *learn_off)
{
  store_gs(e, HP_RAX, T_OFF(spill_rax));
  /* mov rax, imm64: the tag at +2, 8-byte aligned so it is patched atomically */
  pad_prefixes(e, (8 - ((hp_emit_here(e) + 2) & 7)) & 7);
  *k_off = e->pos + 2;
  mov_imm64(e, HP_RAX, 0); /* 0 until the site learns a target; ~0 matches none */
  static const uint8_t cmp[] = {
      0x48, 0x8d, 0x4c, 0x01, 0x01, /* lea rcx, [rcx+rax+1]: zero iff target == ~tag */
      0xe3, 0x00,                   /* jrcxz hit */
      0x48, 0x91,                   /* xchg rax, rcx: rcx = tag */
      0xe3, 0x00,                   /* jrcxz learn: no target learnt yet */
      0x48, 0x91,                   /* xchg rax, rcx */
      0x48, 0xf7, 0xd0,             /* not rax */
      0x48, 0x8d, 0x0c, 0x01,       /* lea rcx, [rcx+rax]: the target again */
      0x48, 0x89, 0xc8};            /* mov rax, rcx: kept while rcx counts the miss */
  hp_emit_bytes(e, cmp, sizeof cmp);
  size_t jrcxz_hit = e->pos - 17, jrcxz_learn = e->pos - 13; /* the two rel8 bytes */
  size_t jrcxz_relearn = count_miss(e, miss_slot);
  static const uint8_t back[] = {0x48, 0x89, 0xc1}; /* mov rcx, rax */
  hp_emit_bytes(e, back, sizeof back);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  uint8_t skip[] = {0xeb, 0}; /* jmp on: the lookup */
  hp_emit_bytes(e, skip, sizeof skip);
  size_t to_lookup = e->pos - 1;
  set_rel8(e, jrcxz_hit);
  if (e->count_lookups) {
    size_t start = e->pos;
    count_gs(e, HP_RAX, T_OFF(inline_cache_hits));
    counted_from(e, start);
  }
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  *jmp_off = hp_emit_jmp_rel32(e, hp_emit_here(e));
  set_rel8(e, jrcxz_relearn);
  static const uint8_t inc[] = {0x48, 0x8d, 0x40, 0x01}; /* lea rax, [rax+1]: as the learn path has it */
  hp_emit_bytes(e, inc, sizeof inc);
  set_rel8(e, jrcxz_learn);
  /* learn: rax = target + 1; the dispatcher teaches the site, then goes on */
  static const uint8_t dec[] = {0x48, 0x8d, 0x48, 0xff}; /* lea rcx, [rax-1] */
  hp_emit_bytes(e, dec, sizeof dec);
  store_gs(e, HP_RCX, T_OFF(ibl_target));
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  *learn_off = hp_emit_jmp_rel32(e, hp_emit_here(e));
  set_rel8(e, to_lookup);
}

/* lea rcx, [rcx+r+1]; jrcxz (its rel8 is the last byte emitted): rcx is
 * zero, and the jump taken, iff r == ~rcx (a tag, or a table's entry). */
static void match_rcx_reg(struct hp_emit *e, int r)
{
  uint8_t b[] = {(uint8_t)(0x48 | (r >= 8 ? 2 : 0)), 0x8d, 0x4c, (uint8_t)(((r & 7) << 3) | 1), 0x01, 0xe3, 0x00};
  hp_emit_bytes(e, b, sizeof b);
}

/* mov rcx, r */
static void mov_rcx_reg(struct hp_emit *e, int r)
{
  uint8_t b[] = {(uint8_t)(0x48 | (r >= 8 ? 4 : 0)), 0x89, (uint8_t)(0xc1 | ((r & 7) << 3))};
  hp_emit_bytes(e, b, sizeof b);
}

void hp_emit_inline_cache_reg(struct hp_emit *e, int r, int32_t miss_slot, size_t *k_off, size_t *jmp_off,
                              size_t *learn_off)
{
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  /* mov rcx, imm64: the tag at +2, 8-byte aligned so it is patched atomically */
  pad_prefixes(e, (8 - ((hp_emit_here(e) + 2) & 7)) & 7);
  *k_off = e->pos + 2;
  mov_imm64(e, HP_RCX, 0); /* 0 until the site learns a target; ~0 matches none */
  match_rcx_reg(e, r);
  size_t jrcxz_hit = e->pos - 1;
  /* Another target, or none learnt yet: the tag again, read from the code */
  static const uint8_t tag[] = {0x48, 0x8b, 0x0d}; /* mov rcx, [rip+disp32] */
  hp_emit_bytes(e, tag, sizeof tag);
  u32(e, 0);
  hp_emit_aim_rip(e, e->pos - 4, *k_off);
  uint8_t learn[] = {0xe3, 0x00}; /* jrcxz learn */
  hp_emit_bytes(e, learn, sizeof learn);
  size_t jrcxz_learn = e->pos - 1;
  size_t jrcxz_relearn = count_miss(e, miss_slot);
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  uint8_t skip[] = {0xeb, 0}; /* jmp on: the lookup */
  hp_emit_bytes(e, skip, sizeof skip);
  size_t to_lookup = e->pos - 1;
  set_rel8(e, jrcxz_hit);
  if (e->count_lookups) { /* through rcx (0 here, spilled): the guest's rax is live */
    size_t start = e->pos;
    count_gs(e, HP_RCX, T_OFF(inline_cache_hits));
    counted_from(e, start);
  }
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  *jmp_off = hp_emit_jmp_rel32(e, hp_emit_here(e));
  set_rel8(e, jrcxz_learn);
  set_rel8(e, jrcxz_relearn);
  /* learn: the dispatcher teaches the site the target in gs:ibl_target */
  mov_rcx_reg(e, r);
  store_gs(e, HP_RCX, T_OFF(ibl_target));
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  *learn_off = hp_emit_jmp_rel32(e, hp_emit_here(e));
  set_rel8(e, to_lookup);
}

void hp_emit_ibl_inline(struct hp_emit *e)
{
  size_t jrcxz = fast_probe(e);
  jmp_gs(e, T_OFF(ibl_routine));
  set_rel8(e, jrcxz);
  store_gs(e, HP_RDX, T_OFF(ibl_jump));
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  load_gs(e, HP_RDX, T_OFF(spill_rdx));
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  jmp_gs(e, T_OFF(ibl_jump));
}

void hp_emit_ibl_inline_reg(struct hp_emit *e, int r)
{
  int t = r == HP_RAX ? HP_RDX : HP_RAX; /* the hit's cache address */
  int32_t t_slot = t == HP_RAX ? T_OFF(spill_rax) : T_OFF(spill_rdx);
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  if (e->count_lookups) { /* rcx is free here */
    size_t start = e->pos;
    count_gs(e, HP_RCX, T_OFF(ibl_inline_lookups));
    counted_from(e, start);
  }
  store_gs(e, t, t_slot);
  const uint8_t rb = r >= 8;
  uint8_t idx[] = {0x41, 0x0f, 0xb7, (uint8_t)(0xc8 | (r & 7)), /* movzx ecx, r16 */
                   0x48, 0x8d, 0x0c, 0x09};                     /* lea rcx, [rcx+rcx] */
  hp_emit_bytes(e, rb ? idx : idx + 1, rb ? sizeof idx : sizeof idx - 1);
  uint8_t ld[] = {0x65, 0x48, 0x8b, (uint8_t)(0x04 | (t << 3)), 0xcd}; /* mov t, gs:[rcx*8+disp32] */
  hp_emit_bytes(e, ld, sizeof ld);
  u32(e, HP_T_IBL_FAST + 8);
  static const uint8_t tag[] = {0x65, 0x48, 0x8b, 0x0c, 0xcd}; /* mov rcx, gs:[rcx*8+disp32] */
  hp_emit_bytes(e, tag, sizeof tag);
  u32(e, HP_T_IBL_FAST);
  match_rcx_reg(e, r);
  size_t hit = e->pos - 1;
  /* Miss: the shared routine's protocol (rcx = target, the rest restored). */
  mov_rcx_reg(e, r);
  load_gs(e, t, t_slot);
  jmp_gs(e, T_OFF(ibl_routine));
  set_rel8(e, hit);
  store_gs(e, t, T_OFF(ibl_jump));
  load_gs(e, t, t_slot);
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  jmp_gs(e, T_OFF(ibl_jump));
}

/* Registers an instruction reads or writes (all operands, hidden included). */
static bool uses_reg(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops, int r)
{
  ZydisRegister want = zreg64(r);
  for (unsigned i = 0; i < in->operand_count; i++) {
    const ZydisDecodedOperand *o = &ops[i];
    if (o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
        ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->reg.value) == want)
      return true;
    if (o->type == ZYDIS_OPERAND_TYPE_MEMORY &&
        (ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->mem.base) == want ||
         ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->mem.index) == want))
      return true;
  }
  return false;
}

/* `mov` between al/ax/eax/rax and [rip+d] as its absolute-address form
 * (moffs64: a0-a3), which needs no scratch register: one instruction
 * instead of four. The same access, so the same fault, at the same
 * instruction boundary. */
static bool moffs_mov(struct hp_emit *e, const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
                      uint64_t target)
{
  if (in->mnemonic != ZYDIS_MNEMONIC_MOV || in->operand_count_visible != 2 || segment_prefix(in) ||
      in->address_width != 64)
    return false;
  bool load = ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER;
  const ZydisDecodedOperand *reg = &ops[load ? 0 : 1], *mem = &ops[load ? 1 : 0];
  if (reg->type != ZYDIS_OPERAND_TYPE_REGISTER || mem->type != ZYDIS_OPERAND_TYPE_MEMORY ||
      mem->mem.base != ZYDIS_REGISTER_RIP)
    return false;
  uint8_t b[2];
  size_t n = 0;
  switch (reg->reg.value) {
  case ZYDIS_REGISTER_AL: b[n++] = load ? 0xa0 : 0xa2; break;
  case ZYDIS_REGISTER_AX: b[n++] = 0x66; b[n++] = load ? 0xa1 : 0xa3; break;
  case ZYDIS_REGISTER_EAX: b[n++] = load ? 0xa1 : 0xa3; break;
  case ZYDIS_REGISTER_RAX: b[n++] = 0x48; b[n++] = load ? 0xa1 : 0xa3; break;
  default: return false;
  }
  hp_emit_bytes(e, b, n);
  u64(e, target);
  return true;
}

bool hp_emit_riprel(struct hp_emit *e, const uint8_t *bytes, const ZydisDecodedInstruction *in,
                    uintptr_t guest_pc, bool force_far, unsigned avoid, bool *used_scratch)
{
  uintptr_t target = guest_pc + in->length + (uint64_t)in->raw.disp.value;
  uintptr_t next = hp_emit_here(e) + in->length;
  *used_scratch = false;
  if (!force_far && hp_rel32_fits(next, target)) {
    size_t at = e->pos;
    hp_emit_bytes(e, bytes, in->length);
    if (e->overflow)
      return true;
    int32_t d = (int32_t)(int64_t)(target - next);
    memcpy(e->rw + at + in->raw.disp.offset, &d, 4);
    return true;
  }
  /* Far: through a scratch register the instruction does not use. */
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction full;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, in->length, &full, ops)))
    return false;
  in = &full;
  if (moffs_mov(e, in, ops, target))
    return true;
  int scratch = -1;
  static const int order[] = {HP_R11, HP_R10, HP_R9, HP_R8, HP_RSI, HP_RDI, HP_RDX, HP_RBX};
  for (size_t i = 0; i < sizeof order / sizeof order[0] && scratch < 0; i++)
    if (!uses_reg(in, ops, order[i]) && !(avoid & (1u << order[i])))
      scratch = order[i];
  if (scratch < 0)
    return false;
  ZydisEncoderRequest req;
  if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(in, ops, in->operand_count_visible, &req)))
    return false;
  bool found = false;
  for (unsigned i = 0; i < req.operand_count; i++) {
    if (req.operands[i].type == ZYDIS_OPERAND_TYPE_MEMORY && req.operands[i].mem.base == ZYDIS_REGISTER_RIP) {
      req.operands[i].mem.base = zreg64(scratch);
      req.operands[i].mem.displacement = 0;
      found = true;
    }
  }
  if (!found)
    return false;
  if (in->mnemonic == ZYDIS_MNEMONIC_LEA) {
    /* lea reg, [rip+d] is just the constant. */
    ZydisRegister dst = ops[0].reg.value;
    if (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, dst) == 64) {
      for (int r = 0; r < 16; r++)
        if (zreg64(r) == dst) {
          mov_imm64(e, r, target);
          return true;
        }
    }
  }
  store_gs(e, scratch, T_OFF(spill_scratch));
  int rec = recov_open(e, scratch, HP_LOC_GS_SLOT, T_OFF(spill_scratch));
  mov_imm64(e, scratch, target);
  if (!encode(e, &req))
    return false;
  recov_close(e, rec);
  load_gs(e, scratch, T_OFF(spill_scratch));
  *used_scratch = true;
  return true;
}

/* The six status flags into rax and back (lahf/seto: nothing is pushed on
 * the guest stack). */
static void flags_to_rax(struct hp_emit *e)
{
  uint8_t b[] = {0x9f, 0x0f, 0x90, 0xc0}; /* lahf; seto al */
  hp_emit_bytes(e, b, sizeof b);
}
static void rax_to_flags(struct hp_emit *e)
{
  uint8_t b[] = {0x04, 0x7f, 0x9e}; /* add al, 0x7f (OF = al); sahf */
  hp_emit_bytes(e, b, sizeof b);
}

/* Saves rax and the six status flags into spill slots. */
static void save_flags(struct hp_emit *e)
{
  store_gs(e, HP_RAX, T_OFF(spill_rax));
  flags_to_rax(e);
  store_gs(e, HP_RAX, T_OFF(spill_flags));
}

static void restore_flags(struct hp_emit *e)
{
  load_gs(e, HP_RAX, T_OFF(spill_flags));
  rax_to_flags(e);
}

/* cmp byte [rax+i], v; jne (its rel32 field kept in fails[], at most 64:
 * a check covers at most 256 bytes, 46 compares) */
static void check_code_byte(struct hp_emit *e, size_t i, uint8_t v, size_t fails[64], size_t *nf)
{
  uint8_t b[] = {0x80, 0xb8}; /* cmp byte [rax+disp32], imm8 */
  hp_emit_bytes(e, b, sizeof b);
  u32(e, (uint32_t)i);
  u8(e, v);
  u8(e, 0x0f);
  u8(e, 0x85);
  if (*nf < 64)
    fails[(*nf)++] = e->pos;
  u32(e, 0);
}

size_t hp_emit_code_check(struct hp_emit *e, uintptr_t guest_pc, const uint8_t *expected,
                          size_t len)
{
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  save_flags(e);
  /* The compares read guest memory (a concurrent munmap makes them fault):
   * rax, rcx and the flags are in their slots until restored. */
  int rec[3] = {recov_open(e, HP_RAX, HP_LOC_GS_SLOT, T_OFF(spill_rax)),
                recov_open(e, HP_RCX, HP_LOC_GS_SLOT, T_OFF(spill_rcx)),
                recov_open(e, HP_REG_FLAGS, HP_LOC_FLAGS_LAHF, T_OFF(spill_flags))};
  mov_imm64(e, HP_RAX, guest_pc);
  size_t fails[64];
  size_t nf = 0;
  size_t i = 0;
  /* Bytes up to an 8-byte boundary, then aligned qwords: the guest may run
   * with EFLAGS.AC set (alignment checking), where an unaligned read of
   * its code would fault. */
  size_t lead = (8 - (guest_pc & 7)) & 7;
  for (; i < lead && i < len; i++)
    check_code_byte(e, i, expected[i], fails, &nf);
  for (; i + 8 <= len && nf < 63; i += 8) {
    uint64_t v;
    memcpy(&v, expected + i, 8);
    mov_imm64(e, HP_RCX, v);
    uint8_t b[] = {0x48, 0x3b, 0x88}; /* cmp rcx, [rax+disp32] */
    hp_emit_bytes(e, b, sizeof b);
    u32(e, (uint32_t)i);
    u8(e, 0x0f);
    u8(e, 0x85); /* jne rel32 */
    fails[nf++] = e->pos;
    u32(e, 0);
  }
  for (; i < len; i++)
    check_code_byte(e, i, expected[i], fails, &nf);
  for (int k = 0; k < 3; k++)
    recov_close(e, rec[k]);
  restore_flags(e);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  uint8_t skip[] = {0xeb, 0}; /* jmp over the failure path */
  hp_emit_bytes(e, skip, sizeof skip);
  size_t skip_at = e->pos - 1;
  size_t fail_at = e->pos;
  restore_flags(e);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  size_t jmp_at = hp_emit_jmp_rel32(e, hp_emit_here(e));
  set_rel8(e, skip_at);
  if (e->overflow)
    return jmp_at;
  for (size_t k = 0; k < nf; k++) {
    int32_t d = (int32_t)(fail_at - (fails[k] + 4));
    memcpy(e->rw + fails[k], &d, 4);
  }
  return jmp_at;
}

void hp_emit_ibl_routine(struct hp_emit *e, uintptr_t miss_rec, bool count)
{
  /* Entry: rcx = guest target, guest rcx in spill_rcx. */
  save_flags(e);
  if (count) {
    uint8_t inc[] = {0x65, 0x48, 0x83, 0x04, 0x25}; /* add qword gs:[d32], 1 */
    hp_emit_bytes(e, inc, sizeof inc);
    u32(e, (uint32_t)T_OFF(ibl_lookups));
    u8(e, 1);
  }
  store_gs(e, HP_RCX, T_OFF(ibl_target));
  /* Targets outside user space (they fault natively) never match: straight
   * to the dispatcher, which raises the guest's SIGSEGV. */
  uint8_t user[] = {0x48, 0x89, 0xc8,       /* mov rax, rcx */
                    0x48, 0xc1, 0xe8, 0x2f, /* shr rax, 47 */
                    0x0f, 0x85, 0, 0, 0, 0}; /* jnz miss (rel32) */
  hp_emit_bytes(e, user, sizeof user);
  size_t jnz_miss = e->pos - 4;
  uint8_t mv[] = {0x48, 0x89, 0xc8}; /* mov rax, rcx */
  hp_emit_bytes(e, mv, sizeof mv);
  uint8_t andm[] = {0x65, 0x48, 0x23, 0x04, 0x25}; /* and rax, gs:[mask] */
  hp_emit_bytes(e, andm, sizeof andm);
  u32(e, (uint32_t)T_OFF(ibl_mask));
  uint8_t shl[] = {0x48, 0xc1, 0xe0, 0x04}; /* shl rax, 4 */
  hp_emit_bytes(e, shl, sizeof shl);
  uint8_t addt[] = {0x65, 0x48, 0x03, 0x04, 0x25}; /* add rax, gs:[table] */
  hp_emit_bytes(e, addt, sizeof addt);
  u32(e, (uint32_t)T_OFF(ibl_table));
  /* An empty slot ends the probe before the compare, so a target of 0
   * never matches one. */
  size_t loop = e->pos;
  uint8_t cmpz[] = {0x48, 0x83, 0x38, 0x00, 0x74, 0}; /* cmp qword [rax], 0; je miss */
  hp_emit_bytes(e, cmpz, sizeof cmpz);
  size_t je_miss = e->pos - 1;
  uint8_t cmp[] = {0x48, 0x3b, 0x08, 0x74, 0}; /* cmp rcx, [rax]; je hit */
  hp_emit_bytes(e, cmp, sizeof cmp);
  size_t je_hit = e->pos - 1;
  uint8_t next[] = {0x48, 0x83, 0xc0, 0x10, 0xeb, 0}; /* add rax, 16; jmp loop */
  hp_emit_bytes(e, next, sizeof next);
  if (!e->overflow)
    e->rw[e->pos - 1] = (uint8_t)(int8_t)(loop - e->pos);
  /* hit */
  set_rel8(e, je_hit);
  uint8_t ld[] = {0x48, 0x8b, 0x40, 0x08}; /* mov rax, [rax+8] */
  hp_emit_bytes(e, ld, sizeof ld);
  store_gs(e, HP_RAX, T_OFF(ibl_jump));
  /* Fill the thread's inline table so the next lookup of this target stays
   * inline (flags are saved here, so and/shl/neg are free to use). */
  static const uint8_t fill[] = {
      0x0f, 0xb7, 0xc1,       /* movzx eax, cx */
      0x48, 0xc1, 0xe0, 0x04, /* shl rax, 4 */
      0x48, 0xf7, 0xd1,       /* not rcx: tags are ~guest, so an empty entry matches no target */
      0x65, 0x48, 0x89, 0x88}; /* mov gs:[rax+disp32], rcx */
  hp_emit_bytes(e, fill, sizeof fill);
  u32(e, HP_T_IBL_FAST);
  load_gs(e, HP_RCX, T_OFF(ibl_jump));
  static const uint8_t fill2[] = {0x65, 0x48, 0x89, 0x88}; /* mov gs:[rax+disp32], rcx */
  hp_emit_bytes(e, fill2, sizeof fill2);
  u32(e, HP_T_IBL_FAST + 8);
  restore_flags(e);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  jmp_gs(e, T_OFF(ibl_jump));
  /* miss: guest state back, then leave with the miss record */
  set_rel8(e, je_miss);
  if (!e->overflow) {
    int32_t d = (int32_t)(e->pos - (jnz_miss + 4));
    memcpy(e->rw + jnz_miss, &d, 4);
  }
  restore_flags(e);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  hp_emit_exit_stub(e, miss_rec);
}

/* Register promotion. */

int32_t hp_emit_promo_save_off(int reg) { return (int32_t)(T_OFF(promo_save) + 8 * reg); }
void hp_emit_promo_save(struct hp_emit *e, int reg) { store_gs(e, reg, hp_emit_promo_save_off(reg)); }
void hp_emit_promo_restore(struct hp_emit *e, int reg) { load_gs(e, reg, hp_emit_promo_save_off(reg)); }

int32_t hp_emit_promo_xsave_off(int x) { return (int32_t)(T_OFF(promo_xsave) + 16 * x); }

/* F3 [REX] 0F op modrm: movdqu between xmm x and gs:[off] */
static void xmm_gs(struct hp_emit *e, uint8_t op, int x, int32_t off)
{
  u8(e, 0x65);
  u8(e, 0xf3);
  if (x >= 8)
    u8(e, 0x44);
  u8(e, 0x0f);
  u8(e, op);
  u8(e, (uint8_t)(0x04 | ((x & 7) << 3))); /* [sib] */
  u8(e, 0x25);                             /* no base, no index: disp32 */
  u32(e, (uint32_t)off);
}
void hp_emit_promo_xsave(struct hp_emit *e, int x) { xmm_gs(e, 0x7f, x, hp_emit_promo_xsave_off(x)); }
void hp_emit_promo_xrestore(struct hp_emit *e, int x) { xmm_gs(e, 0x6f, x, hp_emit_promo_xsave_off(x)); }

/* ModRM (+SIB) and displacement of [base+disp] (always with a
 * displacement, so rbp and r13 need no special case). */
static void base_disp(struct hp_emit *e, int reg, int base, int32_t disp)
{
  bool d8 = disp >= -128 && disp <= 127;
  u8(e, (uint8_t)((d8 ? 0x40 : 0x80) | ((reg & 7) << 3) | (base & 7)));
  if ((base & 7) == 4)
    u8(e, 0x24); /* SIB: base only */
  if (d8)
    u8(e, (uint8_t)(int8_t)disp);
  else
    u32(e, (uint32_t)disp);
}

/* movss/movsd (op 0x10 load, 0x11 store) between xmm x and [base+disp] */
static void xslot_move(struct hp_emit *e, uint8_t op, int x, int base, int32_t disp, unsigned size)
{
  u8(e, size == 8 ? 0xf2 : 0xf3);
  if (x >= 8 || base >= 8)
    u8(e, (uint8_t)(0x40 | (x >= 8 ? 4 : 0) | (base >= 8 ? 1 : 0)));
  u8(e, 0x0f);
  u8(e, op);
  base_disp(e, x, base, disp);
}

void hp_emit_xslot_load_from(struct hp_emit *e, int x, int base, int32_t disp, unsigned size)
{
  xslot_move(e, 0x10, x, base, disp, size);
}

void hp_emit_xslot_store_to(struct hp_emit *e, int x, int base, int32_t disp, unsigned size)
{
  xslot_move(e, 0x11, x, base, disp, size);
}

void hp_emit_xslot_load(struct hp_emit *e, int x, int32_t disp, unsigned size)
{
  hp_emit_xslot_load_from(e, x, HP_RBP, disp, size);
}

/* [pfx] [REX] 0F op, modrm register form: reg field d, rm field s (xmm). */
static void xmm_rr(struct hp_emit *e, uint8_t pfx, uint8_t op, int d, int s)
{
  if (pfx)
    u8(e, pfx);
  if (d >= 8 || s >= 8)
    u8(e, (uint8_t)(0x40 | (d >= 8 ? 4 : 0) | (s >= 8 ? 1 : 0)));
  u8(e, 0x0f);
  u8(e, op);
  u8(e, (uint8_t)(0xc0 | ((d & 7) << 3) | (s & 7)));
}

int hp_emit_modrm_xmm(const ZydisDecodedInstruction *in)
{
  return (int)in->raw.modrm.reg | ((in->attributes & ZYDIS_ATTRIB_HAS_REX) && in->raw.rex.R ? 8 : 0);
}

static bool is_scalar_move(const ZydisDecodedInstruction *in)
{
  return in->encoding == ZYDIS_INSTRUCTION_ENCODING_LEGACY && (in->attributes & ZYDIS_ATTRIB_HAS_MODRM) &&
         in->raw.modrm.mod != 3 && (in->mnemonic == ZYDIS_MNEMONIC_MOVSD || in->mnemonic == ZYDIS_MNEMONIC_MOVSS);
}

bool hp_emit_guest_xslot_read(struct hp_emit *e, const ZydisDecodedInstruction *in, int x)
{
  if (!is_scalar_move(in) || in->opcode != 0x10)
    return false;
  xmm_rr(e, 0, 0x28, hp_emit_modrm_xmm(in), x); /* movaps dst, x: x holds the slot zero-extended */
  return true;
}

bool hp_emit_guest_xslot_update(struct hp_emit *e, const ZydisDecodedInstruction *in, int x, bool src_clean)
{
  if (!is_scalar_move(in) || in->opcode != 0x11)
    return false;
  int src = hp_emit_modrm_xmm(in);
  if (src_clean) {
    xmm_rr(e, 0, 0x28, x, src); /* movaps x, src: nothing above the element (a register rename) */
  } else if (in->mnemonic == ZYDIS_MNEMONIC_MOVSD) {
    xmm_rr(e, 0xf3, 0x7e, x, src); /* movq x, src: the low 64 bits, zero-extended */
  } else {
    xmm_rr(e, 0, 0x57, x, x);      /* xorps x, x */
    xmm_rr(e, 0xf3, 0x10, x, src); /* movss x, src: the low 32 bits into the zeros */
  }
  return true;
}

/* The end of a flag-free check whose guest rcx waits in spill_rcx: goes on
 * if rcx is 0, else jumps (the rel32 field returned); rcx back either way. */
static size_t rcx_zero_or_jump(struct hp_emit *e)
{
  static const uint8_t jrcxz[] = {0xe3, 0x00}; /* jrcxz ok */
  hp_emit_bytes(e, jrcxz, sizeof jrcxz);
  size_t ok = e->pos - 1;
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  u8(e, 0xe9);
  size_t field = e->pos;
  u32(e, 0);
  set_rel8(e, ok);
  load_gs(e, HP_RCX, T_OFF(spill_rcx));
  return field;
}

/* The top byte of rcx (a difference of user addresses: 0 when it is not
 * negative) decides: on when 0, else the jump (its rel32 field returned);
 * rcx back from spill_rcx either way. */
static size_t rcx_nonneg_or_jump(struct hp_emit *e)
{
  static const uint8_t top[] = {0x48, 0x0f, 0xc9, /* bswap rcx */
                                0x0f, 0xb6, 0xc9}; /* movzx ecx, cl */
  hp_emit_bytes(e, top, sizeof top);
  return rcx_zero_or_jump(e);
}

/* sub scratch, rbp/rsp (reg) */
static void sub_reg(struct hp_emit *e, int scratch, int reg)
{
  u8(e, (uint8_t)(0x48 | (scratch >= 8 ? 1 : 0)));
  u8(e, 0x29);
  u8(e, (uint8_t)(0xc0 | (reg << 3) | (scratch & 7)));
}

size_t hp_emit_frame_check(struct hp_emit *e, int scratch, int32_t lo, bool flags_dead)
{
  if (flags_dead) { /* scratch = rbp + lo - rsp: negative when a slot lies below rsp */
    uint8_t le[] = {(uint8_t)(0x48 | (scratch >= 8 ? 4 : 0)), 0x8d, (uint8_t)(0x80 | ((scratch & 7) << 3) | HP_RBP)};
    hp_emit_bytes(e, le, sizeof le); /* lea scratch, [rbp + lo] */
    u32(e, (uint32_t)lo);
    sub_reg(e, scratch, HP_RSP);
    return hp_emit_jcc_rel32(e, 0x8, hp_emit_here(e)); /* js */
  }
  /* Without touching the flags: rcx = rbp + lo - rsp, which is below 2^56
   * exactly when rsp <= rbp + lo (user addresses are below 2^47), i.e.
   * when its top byte is 0. */
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  uint8_t x = (uint8_t)(scratch >= 8 ? 1 : 0);
  uint8_t mv[] = {(uint8_t)(0x48 | x), 0x89, (uint8_t)(0xe0 | (scratch & 7))}; /* mov scratch, rsp */
  hp_emit_bytes(e, mv, sizeof mv);
  uint8_t nt[] = {(uint8_t)(0x48 | x), 0xf7, (uint8_t)(0xd0 | (scratch & 7))}; /* not scratch */
  hp_emit_bytes(e, nt, sizeof nt);
  /* lea rcx, [rbp + scratch + lo + 1] */
  uint8_t le[] = {(uint8_t)(0x48 | (scratch >= 8 ? 2 : 0)), 0x8d, 0x8c,
                  (uint8_t)(((scratch & 7) << 3) | HP_RBP)};
  hp_emit_bytes(e, le, sizeof le);
  u32(e, (uint32_t)(lo + 1));
  return rcx_nonneg_or_jump(e);
}

void hp_emit_stack_check(struct hp_emit *e, int scratch, int32_t lo, int32_t hi, uint64_t s0, uint64_t s1,
                         bool flags_dead, size_t fields[2])
{
  uint8_t x = (uint8_t)(scratch >= 8 ? 1 : 0), s = (uint8_t)(scratch & 7);
  if (flags_dead) { /* the same differences of user addresses, their sign tested */
    mov_imm64(e, scratch, (uint64_t)(int64_t)lo - s0);
    uint8_t ad[] = {(uint8_t)(0x48 | x), 0x01, (uint8_t)(0xc0 | (HP_RBP << 3) | s)}; /* add scratch, rbp */
    hp_emit_bytes(e, ad, sizeof ad);
    fields[0] = hp_emit_jcc_rel32(e, 0x8, hp_emit_here(e)); /* js */
    mov_imm64(e, scratch, s1 - (uint64_t)(int64_t)hi);
    sub_reg(e, scratch, HP_RBP);
    fields[1] = hp_emit_jcc_rel32(e, 0x8, hp_emit_here(e));
    return;
  }
  /* rcx = rbp + lo - s0 >= 0 */
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  mov_imm64(e, scratch, (uint64_t)(int64_t)lo - s0);
  uint8_t le[] = {(uint8_t)(0x48 | (x << 1)), 0x8d, 0x4c, (uint8_t)((s << 3) | HP_RBP), 0}; /* lea rcx, [rbp+scratch] */
  hp_emit_bytes(e, le, sizeof le);
  fields[0] = rcx_nonneg_or_jump(e);
  /* rcx = s1 - hi - rbp >= 0 (the guest's rcx is still in spill_rcx) */
  uint8_t mv[] = {(uint8_t)(0x48 | x), 0x89, (uint8_t)(0xc0 | (HP_RBP << 3) | s)}; /* mov scratch, rbp */
  hp_emit_bytes(e, mv, sizeof mv);
  uint8_t nt[] = {(uint8_t)(0x48 | x), 0xf7, (uint8_t)(0xd0 | s)}; /* not scratch: -rbp-1 */
  hp_emit_bytes(e, nt, sizeof nt);
  mov_imm64(e, HP_RCX, s1 - (uint64_t)(int64_t)hi + 1);
  uint8_t ad[] = {(uint8_t)(0x48 | (x << 1)), 0x8d, 0x0c, (uint8_t)((s << 3) | HP_RCX)}; /* lea rcx, [rcx+scratch] */
  hp_emit_bytes(e, ad, sizeof ad);
  fields[1] = rcx_nonneg_or_jump(e);
}

/* op reg32/64, [base+disp] */
static void base_slot(struct hp_emit *e, uint8_t opcode, int reg, int base, int32_t disp, unsigned size)
{
  uint8_t rex = (uint8_t)(0x40 | (size == 8 ? 8 : 0) | (reg >= 8 ? 4 : 0) | (base >= 8 ? 1 : 0));
  if (rex != 0x40)
    u8(e, rex);
  u8(e, opcode);
  base_disp(e, reg, base, disp);
}

void hp_emit_slot_load(struct hp_emit *e, int reg, int32_t disp, unsigned size)
{
  base_slot(e, 0x8b, reg, HP_RBP, disp, size);
}
void hp_emit_slot_load_from(struct hp_emit *e, int reg, int base, int32_t disp, unsigned size)
{
  base_slot(e, 0x8b, reg, base, disp, size);
}
void hp_emit_slot_store(struct hp_emit *e, int reg, int32_t disp, unsigned size)
{
  hp_emit_slot_store_to(e, reg, HP_RBP, disp, size);
}

size_t hp_emit_span_check(struct hp_emit *e, int scratch, uint64_t a, uint32_t size, int32_t lo, int32_t hi,
                          bool flags_dead)
{
  /* v = a + size - 1 - lo - rbp overlaps exactly when v <u hi - lo + size - 1 */
  uint8_t b = (uint8_t)(scratch >= 8 ? 1 : 0);
  uint32_t w = (uint32_t)((int64_t)hi - lo + size - 1);
  if (!flags_dead) {
    /* Without the flags: v and v - w are differences of user addresses
     * (below 2^56 in magnitude), so their top bytes t0, t1 are 0 or 0xff
     * by their signs; v <u w exactly when t0 = 0 and t1 = 0xff, i.e. when
     * t1 + ~t0 - 0xfe (= t1 - t0 - 0xff) is 0. */
    uint8_t s = (uint8_t)(scratch & 7);
    store_gs(e, HP_RCX, T_OFF(spill_rcx));
    mov_imm64(e, scratch, a + size - 1 - (uint64_t)(int64_t)lo);
    static const uint8_t nrbp[] = {0x48, 0x89, 0xe9, 0x48, 0xf7, 0xd1}; /* mov rcx, rbp; not rcx */
    hp_emit_bytes(e, nrbp, sizeof nrbp);
    uint8_t v[] = {(uint8_t)(0x48 | (b << 1)), 0x8d, 0x4c, (uint8_t)((s << 3) | HP_RCX), 0x01}; /* lea rcx, [rcx+scratch+1] */
    hp_emit_bytes(e, v, sizeof v);
    uint8_t vw[] = {(uint8_t)(0x48 | (b << 2)), 0x8d, (uint8_t)(0x80 | (s << 3) | HP_RCX)}; /* lea scratch, [rcx-w] */
    hp_emit_bytes(e, vw, sizeof vw);
    u32(e, (uint32_t)-(int32_t)w);
    static const uint8_t t0[] = {0x48, 0x0f, 0xc9, 0x0f, 0xb6, 0xc9, 0x48, 0xf7, 0xd1}; /* bswap rcx; movzx ecx, cl; not rcx */
    hp_emit_bytes(e, t0, sizeof t0);
    uint8_t t1[] = {(uint8_t)(0x48 | b), 0x0f, (uint8_t)(0xc8 | s),               /* bswap scratch */
                    (uint8_t)(0x40 | (b << 2) | b), 0x0f, 0xb6, (uint8_t)(0xc0 | (s << 3) | s)}; /* movzx scratch32, scratch8 */
    hp_emit_bytes(e, t1, sizeof t1);
    uint8_t sum[] = {(uint8_t)(0x48 | (b << 1)), 0x8d, 0x8c, (uint8_t)((s << 3) | HP_RCX)}; /* lea rcx, [rcx+scratch-0xfe] */
    hp_emit_bytes(e, sum, sizeof sum);
    u32(e, (uint32_t)-0xfe);
    return rcx_zero_jumps(e); /* overlap: the deopt exit */
  }
  mov_imm64(e, scratch, a + size - 1 - (uint64_t)(int64_t)lo);
  u8(e, (uint8_t)(0x48 | b)); /* sub scratch, rbp */
  u8(e, 0x29);
  u8(e, (uint8_t)(0xc0 | (HP_RBP << 3) | (scratch & 7)));
  u8(e, (uint8_t)(0x48 | b)); /* cmp scratch, imm32 */
  u8(e, 0x81);
  u8(e, (uint8_t)(0xf8 | (scratch & 7)));
  u32(e, w);
  return hp_emit_jcc_rel32(e, 0x2, hp_emit_here(e)); /* jb */
}

void hp_emit_slot_store_to(struct hp_emit *e, int reg, int base, int32_t disp, unsigned size)
{
  base_slot(e, 0x89, reg, base, disp, size);
}
void hp_emit_promo_frame_save(struct hp_emit *e) { store_gs(e, HP_RBP, T_OFF(promo_rbp)); }
int32_t hp_emit_promo_frame_off(void) { return (int32_t)T_OFF(promo_rbp); }

size_t hp_emit_rbp_check(struct hp_emit *e)
{
  /* rcx = rbp - promo_rbp without touching the flags; 0: the same */
  store_gs(e, HP_RCX, T_OFF(spill_rcx));
  load_gs(e, HP_RCX, T_OFF(promo_rbp));
  static const uint8_t cmp[] = {0x48, 0xf7, 0xd1,              /* not rcx */
                                0x48, 0x8d, 0x4c, 0x0d, 0x01}; /* lea rcx, [rbp+rcx+1] */
  hp_emit_bytes(e, cmp, sizeof cmp);
  return rcx_zero_or_jump(e);
}
void hp_emit_promo_frame_load(struct hp_emit *e, int reg) { load_gs(e, reg, T_OFF(promo_rbp)); }

static bool is_legacy_prefix(uint8_t b)
{
  return b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 ||
         b == 0x64 || b == 0x65 || b == 0x66 || b == 0x67;
}

bool hp_emit_guest_rm_reg(struct hp_emit *e, const uint8_t *bytes, const ZydisDecodedInstruction *in, int reg)
{
  if (in->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY || !(in->attributes & ZYDIS_ATTRIB_HAS_MODRM) ||
      (in->raw.modrm.mod == 3))
    return false;
  size_t len = in->length, modrm = in->raw.modrm.offset;
  size_t op_start, pfx_end;
  uint8_t rex = 0;
  if (in->attributes & ZYDIS_ATTRIB_HAS_REX) {
    pfx_end = in->raw.rex.offset;
    op_start = pfx_end + 1;
    rex = bytes[pfx_end];
  } else {
    pfx_end = 0;
    while (pfx_end < modrm && is_legacy_prefix(bytes[pfx_end]))
      pfx_end++;
    op_start = pfx_end;
  }
  size_t tail = modrm + 1 + (in->raw.modrm.rm == 4 ? 1 : 0); /* past modrm and sib */
  if (in->raw.disp.size)
    tail = in->raw.disp.offset + in->raw.disp.size / 8u;
  if (tail > len || op_start > modrm)
    return false;
  uint8_t out[ZYDIS_MAX_INSTRUCTION_LENGTH + 1];
  size_t n = 0;
  memcpy(out, bytes, pfx_end);
  n = pfx_end;
  uint8_t nrex = (uint8_t)(0x40 | (rex & 0x0c) | (reg >= 8 ? 1 : 0)); /* W and R kept; X dropped */
  if (nrex != 0x40 || rex)
    out[n++] = nrex;
  memcpy(out + n, bytes + op_start, modrm - op_start);
  n += modrm - op_start;
  out[n++] = (uint8_t)(0xc0 | (bytes[modrm] & 0x38) | (reg & 7));
  memcpy(out + n, bytes + tail, len - tail);
  n += len - tail;
  hp_emit_bytes(e, out, n);
  return true;
}

size_t hp_emit_alias_check(struct hp_emit *e, int scratch, const uint8_t *bytes,
                           const ZydisDecodedInstruction *in, uint64_t guest_pc, int32_t lo, int32_t hi,
                           bool saved_frame, bool keep_flags)
{
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction full;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, in->length, &full, ops)))
    return 0;
  const ZydisDecodedOperand *m = NULL;
  for (unsigned i = 0; i < full.operand_count; i++)
    if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.type == ZYDIS_MEMOP_TYPE_MEM) {
      if (m)
        return 0;
      m = &ops[i];
    }
  if (!m || !m->size || full.address_width != 64 || m->mem.segment == ZYDIS_REGISTER_FS ||
      m->mem.segment == ZYDIS_REGISTER_GS)
    return 0;
  int64_t size = m->size / 8;
  int64_t adj = -((int64_t)lo - size + 1);
  uint64_t span = (uint64_t)((int64_t)hi - lo + size - 1);
  if (m->mem.base == ZYDIS_REGISTER_RIP) {
    mov_imm64(e, scratch, guest_pc + full.length + (uint64_t)m->mem.disp.value + (uint64_t)adj);
  } else if (m->mem.base == ZYDIS_REGISTER_NONE && m->mem.index == ZYDIS_REGISTER_NONE) {
    mov_imm64(e, scratch, (uint64_t)m->mem.disp.value + (uint64_t)adj);
  } else {
    int64_t d = m->mem.disp.value + adj;
    if (d < INT32_MIN || d > INT32_MAX)
      return 0;
    ZydisEncoderRequest req;
    two_operands(&req, ZYDIS_MNEMONIC_LEA, zreg64(scratch));
    req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
    req.operands[1].mem.base = m->mem.base;
    req.operands[1].mem.index = m->mem.index;
    req.operands[1].mem.scale = m->mem.index == ZYDIS_REGISTER_NONE ? 0 : m->mem.scale;
    req.operands[1].mem.displacement = d;
    req.operands[1].mem.size = 8;
    if (!encode(e, &req))
      return 0;
  }
  /* The flags live: in rax (lahf; seto al) while the check runs, rax in
   * the thread block (the address is computed already). The flags stay in
   * rax, not stored: their store and reload lay on the path to sahf. A
   * scratch that is rax would lose the address. */
  if (keep_flags && scratch == HP_RAX)
    return 0;
  if (keep_flags) {
    store_gs(e, HP_RAX, T_OFF(spill_rax));
    flags_to_rax(e);
  }
  /* sub scratch, rbp (or the loop's rbp, saved at its entry); cmp
   * scratch, span; jb hit */
  if (saved_frame) {
    uint8_t sub[] = {0x65, (uint8_t)(0x48 | (scratch >= 8 ? 4 : 0)), 0x2b, (uint8_t)(0x04 | ((scratch & 7) << 3)), 0x25};
    hp_emit_bytes(e, sub, sizeof sub);
    u32(e, (uint32_t)T_OFF(promo_rbp));
  } else {
    uint8_t sub[] = {(uint8_t)(0x48 | (scratch >= 8 ? 1 : 0)), 0x29, (uint8_t)(0xc0 | (HP_RBP << 3) | (scratch & 7))};
    hp_emit_bytes(e, sub, sizeof sub);
  }
  if (span > INT32_MAX)
    return 0;
  uint8_t cmp[] = {(uint8_t)(0x48 | (scratch >= 8 ? 1 : 0)), 0x81, (uint8_t)(0xf8 | (scratch & 7))};
  hp_emit_bytes(e, cmp, sizeof cmp);
  u32(e, (uint32_t)span);
  u8(e, 0x0f);
  u8(e, 0x82);
  size_t field = e->pos;
  u32(e, 0);
  if (keep_flags)
    hp_emit_alias_flags_back(e);
  return field;
}

void hp_emit_alias_flags_back(struct hp_emit *e)
{
  rax_to_flags(e);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
}

void hp_emit_flags_back(struct hp_emit *e)
{
  restore_flags(e);
  load_gs(e, HP_RAX, T_OFF(spill_rax));
}

size_t hp_emit_jt_dispatch(struct hp_emit *e, const uint8_t *guards, unsigned nguards, size_t *guard_disp, int idx,
                           uint32_t n, uint32_t first, bool keep_flags, struct hp_label *generic)
{
  size_t start = e->pos;
  if (keep_flags) {
    save_flags(e);
    load_gs(e, HP_RAX, T_OFF(spill_rax));
  }
  for (unsigned g = 0; g < nguards; g++) {
    int r = guards[g];
    /* cmp r64, [rip+disp32] (the value the tail was evaluated with) */
    uint8_t b[] = {(uint8_t)(0x48 | (r >= 8 ? 4 : 0)), 0x3b, (uint8_t)(0x05 | ((r & 7) << 3))};
    hp_emit_bytes(e, b, sizeof b);
    guard_disp[g] = e->pos;
    u32(e, 0);
    uint8_t jne[] = {0x0f, 0x85};
    hp_emit_bytes(e, jne, sizeof jne);
    label_ref(e, generic, 4);
  }
  /* cmp idx, n; jae generic: the index is unsigned (n 0: known in range) */
  if (n) {
    uint8_t c[] = {(uint8_t)(0x48 | (idx >= 8 ? 1 : 0)), 0x81, (uint8_t)(0xf8 | (idx & 7))};
    hp_emit_bytes(e, c, sizeof c);
    u32(e, n);
    uint8_t jae[] = {0x0f, 0x83};
    hp_emit_bytes(e, jae, sizeof jae);
    label_ref(e, generic, 4);
  }
  /* jmp qword gs:[table + idx*8] (SIB without base: disp32) */
  uint8_t j[] = {0x65, 0x42, 0xff, 0x24, (uint8_t)(0xc5 | ((idx & 7) << 3))};
  if (idx >= 8)
    hp_emit_bytes(e, j, sizeof j);
  else {
    hp_emit_bytes(e, j, 1);
    hp_emit_bytes(e, j + 2, 3);
  }
  u32(e, (uint32_t)HP_T_JT_TABLE + 8 * first);
  return e->pos - start;
}
