/* Basic-block builder. Unchanged instructions are copied byte for byte;
 * rip-relative ones get their disp32 adjusted; control transfers become
 * exits (direct: linkable branches to exit stubs; indirect: the lookup). */
#include "hotpath/builder.h"

#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <Zydis/Zydis.h>

#include "hotpath/cache.h"
#include "hotpath/emit.h"
#include "hotpath/log.h"
#include "hotpath/memmap.h"
#include "hotpath/options.h"
#include "hotpath/stats.h"

#define MAX_INSNS 64
#define MAX_CHECKED_BYTES 256 /* blocks of writable code stay short: their check is inline */
#define MAX_EXITS 5 /* an indirect call: continuation, site, learn; + stale */

static ZydisDecoder decoder;

void hp_builder_init(void)
{
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

struct pending_exit {
  uint8_t kind;
  uint64_t target;
  size_t branch_pos; /* rel32 field to aim at the stub; 0 = none */
  size_t k_off;      /* HP_EXIT_PREDICT: the site's tag */
  unsigned site;     /* HP_EXIT_LEARN: 1 + index of its HP_EXIT_PREDICT */
};

struct block {
  uint64_t pc, end;
  unsigned ninsn;
  uint32_t pcmap[MAX_INSNS + 1];
  struct pending_exit exits[MAX_EXITS];
  unsigned nexits;
  uintptr_t cont;      /* continuation after a call (0 = none) */
  uint64_t cont_guest; /* its guest pc: the call's return address */
};

static unsigned add_exit(struct block *b, uint8_t kind, uint64_t target, size_t branch_pos)
{
  b->exits[b->nexits] = (struct pending_exit){kind, target, branch_pos, 0, 0};
  return b->nexits++;
}

/* The inline cache of an indirect call or jmp; rcx = target. */
static void inline_cache(struct hp_emit *e, struct block *b)
{
  size_t k_off, jmp_off, learn_off;
  hp_emit_inline_cache(e, &k_off, &jmp_off, &learn_off);
  unsigned site = add_exit(b, HP_EXIT_PREDICT, 0, jmp_off);
  b->exits[site].k_off = k_off;
  unsigned learn = add_exit(b, HP_EXIT_LEARN, 0, learn_off);
  b->exits[learn].site = site + 1;
}

/* Indirect jumps worth an inline cache: through memory without an index
 * (PLT stubs, pointers in structs). Jump tables and `jmp reg` have many targets. */
static bool monomorphic_jmp(const ZydisDecodedOperand *op)
{
  return op->type == ZYDIS_OPERAND_TYPE_MEMORY && op->mem.index == ZYDIS_REGISTER_NONE;
}

/* An exit reached by a patchable jmp. */
static void exit_jmp(struct hp_emit *e, struct block *b, uint8_t kind, uint64_t target)
{
  add_exit(b, kind, target, hp_emit_jmp_rel32(e, hp_emit_here(e)));
}

static bool is_riprel(const ZydisDecodedInstruction *in)
{
  return (in->attributes & ZYDIS_ATTRIB_HAS_MODRM) && in->raw.modrm.mod == 0 && in->raw.modrm.rm == 5;
}

static uint64_t branch_target(const ZydisDecodedInstruction *in, uint64_t pc)
{
  return pc + in->length + (uint64_t)in->raw.imm[0].value.s;
}

/* How many bytes from pc can be decoded: to the end of its executable
 * region, or across into an adjacent executable one. */
static size_t decodable(uint64_t pc, const struct hp_region *r)
{
  size_t n = r->end - pc;
  if (n < ZYDIS_MAX_INSTRUCTION_LENGTH) {
    struct hp_region next;
    if (hp_memmap_query(r->end, &next) && (next.prot & PROT_EXEC))
      n += ZYDIS_MAX_INSTRUCTION_LENGTH;
  }
  return n;
}

/* Emits one control transfer; returns false if the block goes on. */
static bool emit_control(struct hp_emit *e, struct block *b, const ZydisDecodedInstruction *in,
                         ZydisDecoderContext *ctx, const uint8_t *bytes, uint64_t pc)
{
  uint64_t next = pc + in->length;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  switch (in->mnemonic) {
  case ZYDIS_MNEMONIC_JMP:
    if (in->raw.imm[0].is_relative) {
      exit_jmp(e, b, HP_EXIT_BRANCH, branch_target(in, pc));
      return true;
    }
    if (in->operand_count_visible != 1 || in->raw.modrm.reg == 5 /* far */)
      break;
    ZydisDecoderDecodeOperands(&decoder, ctx, in, ops, in->operand_count);
    if (!hp_emit_branch_target(e, in, &ops[0], next))
      break;
    if (monomorphic_jmp(&ops[0]))
      inline_cache(e, b);
    hp_emit_ibl_inline(e);
    return true;
  case ZYDIS_MNEMONIC_CALL: {
    bool direct = in->raw.imm[0].is_relative;
    if (!direct) {
      if (in->raw.modrm.reg == 3 /* far */)
        break;
      ZydisDecoderDecodeOperands(&decoder, ctx, in, ops, in->operand_count);
      if (!hp_emit_branch_target(e, in, &ops[0], next))
        break;
      hp_emit_park_target(e);
    }
    size_t call = hp_emit_call_push(e);
    b->cont = hp_emit_here(e);
    b->cont_guest = next;
    hp_emit_continuation(e, next);
    exit_jmp(e, b, HP_EXIT_BRANCH, next);
    hp_emit_call_body(e, call, next);
    if (direct) {
      exit_jmp(e, b, HP_EXIT_BRANCH, branch_target(in, pc));
    } else {
      hp_emit_unpark_target(e);
      inline_cache(e, b);
      hp_emit_ibl_inline(e);
    }
    return true;
  }
  case ZYDIS_MNEMONIC_RET:
    if (in->opcode != 0xc3 && in->opcode != 0xc2)
      break; /* far return */
    hp_emit_return(e, in->opcode == 0xc2 ? (uint16_t)in->raw.imm[0].value.u : 0);
    return true;
  case ZYDIS_MNEMONIC_JRCXZ:
  case ZYDIS_MNEMONIC_JECXZ:
  case ZYDIS_MNEMONIC_LOOP:
  case ZYDIS_MNEMONIC_LOOPE:
  case ZYDIS_MNEMONIC_LOOPNE: {
    /* jrcxz taken; jmp fallthrough; taken: jmp target */
    size_t rel8 = hp_emit_rcx_branch(e, bytes, in->length);
    exit_jmp(e, b, HP_EXIT_BRANCH, next);
    hp_patch_rel8_here(e, rel8);
    exit_jmp(e, b, HP_EXIT_BRANCH, branch_target(in, pc));
    return true;
  }
  case ZYDIS_MNEMONIC_SYSCALL:
    add_exit(b, HP_EXIT_SYSCALL, next, 0);
    return true;
  default:
    if (in->meta.category == ZYDIS_CATEGORY_COND_BR) {
      unsigned cc = in->opcode & 15; /* 7x rel8 and 0F 8x rel32 alike */
      add_exit(b, HP_EXIT_BRANCH, branch_target(in, pc), hp_emit_jcc_rel32(e, cc, hp_emit_here(e)));
      exit_jmp(e, b, HP_EXIT_BRANCH, next);
      return true;
    }
    break;
  }
  add_exit(b, HP_EXIT_UNSUPPORTED_INSN, pc, 0);
  return true;
}

static bool is_control(const ZydisDecodedInstruction *in)
{
  switch (in->meta.category) {
  case ZYDIS_CATEGORY_COND_BR:
  case ZYDIS_CATEGORY_UNCOND_BR:
  case ZYDIS_CATEGORY_CALL:
  case ZYDIS_CATEGORY_RET:
  case ZYDIS_CATEGORY_SYSCALL:
  case ZYDIS_CATEGORY_SYSRET:
    return true;
  default:
    return in->mnemonic == ZYDIS_MNEMONIC_IRET || in->mnemonic == ZYDIS_MNEMONIC_IRETD ||
           in->mnemonic == ZYDIS_MNEMONIC_IRETQ || in->mnemonic == ZYDIS_MNEMONIC_SYSENTER ||
           in->mnemonic == ZYDIS_MNEMONIC_SYSEXIT || in->mnemonic == ZYDIS_MNEMONIC_XBEGIN ||
           in->mnemonic == ZYDIS_MNEMONIC_JMP || in->mnemonic == ZYDIS_MNEMONIC_CALL;
  }
}

/* Instructions that end the program or trap natively: run them as they are
 * (the fault happens in the cache with the same signal), then stop. */
static bool ends_block_after_copy(const ZydisDecodedInstruction *in)
{
  switch (in->mnemonic) {
  case ZYDIS_MNEMONIC_INT3:
  case ZYDIS_MNEMONIC_INT:
  case ZYDIS_MNEMONIC_INT1:
  case ZYDIS_MNEMONIC_INTO:
  case ZYDIS_MNEMONIC_UD0:
  case ZYDIS_MNEMONIC_UD1:
  case ZYDIS_MNEMONIC_UD2:
  case ZYDIS_MNEMONIC_HLT:
    return true;
  default:
    return false;
  }
}

/* GS is hotpath's thread block: guest code that reads or changes it cannot
 * run as it is. */
static bool touches_gs(const ZydisDecodedInstruction *in, ZydisDecoderContext *ctx)
{
  if (in->attributes & ZYDIS_ATTRIB_HAS_SEGMENT_GS)
    return true;
  switch (in->mnemonic) {
  case ZYDIS_MNEMONIC_WRGSBASE:
  case ZYDIS_MNEMONIC_RDGSBASE:
  case ZYDIS_MNEMONIC_SWAPGS:
  case ZYDIS_MNEMONIC_LGS:
    return true;
  case ZYDIS_MNEMONIC_MOV:
  case ZYDIS_MNEMONIC_POP: {
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecoderDecodeOperands(&decoder, ctx, in, ops, in->operand_count);
    return ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[0].reg.value == ZYDIS_REGISTER_GS;
  }
  default:
    return false;
  }
}

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct hp_fragment *hp_build_block(uint64_t pc)
{
  struct hp_region region;
  /* Execute-only memory (the vsyscall page) cannot be read to translate it. */
  if (!hp_memmap_query(pc, &region) || !(region.prot & PROT_EXEC) || !(region.prot & PROT_READ))
    return NULL;
  uint64_t t0 = now_ns();
  bool writable = (region.prot & PROT_WRITE) != 0;
  size_t avail = decodable(pc, &region);
  size_t max_bytes = writable ? MAX_CHECKED_BYTES : MAX_INSNS * ZYDIS_MAX_INSTRUCTION_LENGTH;
  /* Worst case per guest instruction, plus exits and the code check. */
  size_t need = MAX_INSNS * 64 + MAX_EXITS * (HP_EXIT_STUB_SIZE + 8) + (writable ? 2048 : 0) + 64;
  struct hp_cache_unit *u = hp_cache_unit_for(pc, need);
  struct hp_emit e = {.rw = u->rw + u->used, .rx = u->rx + u->used, .cap = need};
  struct hp_fragment *f = hp_arena_alloc(sizeof *f);
  struct block b = {.pc = pc};
  size_t check_jmp = 0;
  if (writable) {
    /* Decode ahead to know the byte range the check must cover. */
    uint64_t p = pc;
    ZydisDecodedInstruction in;
    for (unsigned n = 0; n < MAX_INSNS && p - pc < max_bytes && p - pc < avail; n++) {
      if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, NULL, (void *)p, avail - (p - pc), &in)))
        break;
      p += in.length;
      if (is_control(&in) || ends_block_after_copy(&in))
        break;
    }
    if (p > pc) {
      check_jmp = hp_emit_code_check(&e, pc, (const uint8_t *)pc, p - pc);
      max_bytes = p - pc;
      hp_stats.checked_fragments++;
    }
  }
  uint64_t p = pc;
  bool done = false;
  while (!done) {
    if (b.ninsn == MAX_INSNS || p - pc >= max_bytes) {
      exit_jmp(&e, &b, HP_EXIT_BRANCH, p);
      break;
    }
    if (p - pc >= avail) { /* end of executable memory */
      exit_jmp(&e, &b, HP_EXIT_BRANCH, p);
      break;
    }
    ZydisDecodedInstruction in;
    ZydisDecoderContext ctx;
    ZyanStatus st = ZydisDecoderDecodeInstruction(&decoder, &ctx, (void *)p, avail - (p - pc), &in);
    b.pcmap[b.ninsn++] = (uint32_t)((p - pc) << 16 | (e.pos & 0xffff));
    const uint8_t *bytes = (const uint8_t *)p;
    if (!ZYAN_SUCCESS(st)) {
      add_exit(&b, st == ZYDIS_STATUS_NO_MORE_DATA ? HP_EXIT_NO_EXEC : HP_EXIT_BAD_INSN, p, 0);
      break;
    }
    hp_stats.guest_insns_translated++;
    if (touches_gs(&in, &ctx)) {
      add_exit(&b, HP_EXIT_UNSUPPORTED_INSN, p, 0); /* GS belongs to hotpath */
      break;
    }
    if (is_control(&in)) {
      done = emit_control(&e, &b, &in, &ctx, bytes, p);
      p += in.length;
      continue;
    }
    if (is_riprel(&in)) {
      ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
      ZydisDecoderDecodeOperands(&decoder, &ctx, &in, ops, in.operand_count);
      bool scratch;
      if (!hp_emit_riprel(&e, bytes, &in, ops, p, hp_opt.debug_far_cache, &scratch)) {
        add_exit(&b, HP_EXIT_UNSUPPORTED_INSN, p, 0);
        break;
      }
      hp_stats.riprel_far += scratch;
    } else {
      hp_emit_bytes(&e, bytes, in.length);
    }
    p += in.length;
    if (ends_block_after_copy(&in)) {
      exit_jmp(&e, &b, HP_EXIT_BRANCH, p);
      done = true;
    }
  }
  b.end = p;

  /* Exit records and their stubs. */
  f->exits = hp_arena_alloc(sizeof(struct hp_exit) * (b.nexits + (check_jmp ? 1 : 0)));
  if (check_jmp)
    add_exit(&b, HP_EXIT_STALE, pc, check_jmp);
  for (unsigned i = 0; i < b.nexits; i++) {
    struct hp_exit *x = &f->exits[i];
    *x = (struct hp_exit){.kind = b.exits[i].kind, .target = b.exits[i].target, .from = f};
    x->stub_off = (uint32_t)e.pos;
    x->branch_off = x->kind == HP_EXIT_BRANCH || x->kind == HP_EXIT_PREDICT ? (uint32_t)b.exits[i].branch_pos : 0;
    x->k_off = (uint32_t)b.exits[i].k_off;
    if (b.exits[i].site)
      x->site = &f->exits[b.exits[i].site - 1];
    if (b.exits[i].branch_pos && !e.overflow)
      hp_patch_rel32(e.rw + b.exits[i].branch_pos, e.rx + b.exits[i].branch_pos, hp_emit_here(&e));
    hp_emit_exit_stub(&e, (uintptr_t)x);
  }
  HP_ASSERT(!e.overflow);
  f->nexits = (uint16_t)b.nexits;
  f->guest_pc = pc;
  f->guest_end = b.end;
  f->code = e.rx;
  f->size = (uint32_t)e.pos;
  f->unit = u;
  f->ninsn = (uint16_t)b.ninsn;
  f->pcmap = hp_arena_alloc(sizeof(uint32_t) * b.ninsn);
  memcpy(f->pcmap, b.pcmap, sizeof(uint32_t) * b.ninsn);
  f->checks_code = check_jmp != 0;
  f->cont = b.cont;
  f->cont_guest = b.cont_guest;
  u->used += (e.pos + 15) & ~(size_t)15;
  hp_fragment_insert(f);
  if (f->cont) /* returns to this call find its continuation in the lookup */
    hp_ibl_insert(f->cont_guest, f->cont);
  hp_stats.blocks_built++;
  hp_stats.translate_ns += now_ns() - t0;
  HP_DEBUG("block 0x%lx-0x%lx: %u insns, %u bytes at %p", (unsigned long)pc, (unsigned long)b.end,
           b.ninsn, f->size, (void *)f->code);
  return f;
}
