/* Far transfers through memory and far returns (see farptr.h). */
#include "hotpath/farptr.h"

#include <string.h>
#include <Zydis/Zydis.h>

#include "hotpath/ilist.h"

bool hp_far_decode(const uint8_t *bytes, unsigned len, bool amd, struct hp_far *out)
{
  ZydisDecoder dec;
  ZydisDecodedInstruction zi;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, len, &zi, ops)))
    return false;
  memset(out, 0, sizeof *out);
  out->len = zi.length;
  out->base = out->index = -1;
  /* The operand size: 16 with 66, 64 with REX.W (Zydis drops a REX that is
   * not right before the opcode), else 32. */
  unsigned w = zi.operand_width;
  if (w != 16 && w != 32 && w != 64)
    return false;
  out->opsize = (uint8_t)(w / 8);
  if (zi.mnemonic == ZYDIS_MNEMONIC_RET && (zi.opcode == 0xcb || zi.opcode == 0xca) &&
      zi.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT) {
    out->kind = HP_FAR_RET;
    out->imm = zi.opcode == 0xca ? (uint16_t)zi.raw.imm[0].value.u : 0;
    return true;
  }
  if (zi.opcode_map != ZYDIS_OPCODE_MAP_DEFAULT || zi.opcode != 0xff || zi.raw.modrm.mod == 3 ||
      (zi.raw.modrm.reg != 3 && zi.raw.modrm.reg != 5))
    return false;
  out->kind = zi.raw.modrm.reg == 3 ? HP_FAR_CALL : HP_FAR_JMP;
  out->offsize = (uint8_t)(amd && w == 64 ? 4 : w / 8);
  const ZydisDecodedOperand *m = NULL;
  for (unsigned i = 0; i < zi.operand_count; i++)
    if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
      m = &ops[i];
  if (!m)
    return false;
  if (m->mem.segment == ZYDIS_REGISTER_GS)
    return false; /* GS is hotpath's */
  out->fs = m->mem.segment == ZYDIS_REGISTER_FS;
  out->addr32 = zi.address_width == 32;
  out->riprel = m->mem.base == ZYDIS_REGISTER_RIP || m->mem.base == ZYDIS_REGISTER_EIP;
  if (!out->riprel) {
    int b = hp_gpr_num(m->mem.base), x = hp_gpr_num(m->mem.index);
    if ((b < 0 && m->mem.base != ZYDIS_REGISTER_NONE) || (x < 0 && m->mem.index != ZYDIS_REGISTER_NONE))
      return false;
    out->base = (int8_t)b;
    out->index = (int8_t)x;
  }
  out->scale = m->mem.scale ? m->mem.scale : 1;
  out->disp = m->mem.disp.has_displacement ? m->mem.disp.value : 0;
  return true;
}

uint64_t hp_far_pointer_address(const struct hp_far *f, const uint64_t gpr[16], uint64_t pc, uint64_t fs_base)
{
  uint64_t a = (uint64_t)f->disp;
  if (f->riprel)
    a += pc + f->len;
  if (f->base >= 0)
    a += gpr[f->base];
  if (f->index >= 0)
    a += gpr[f->index] * f->scale;
  if (f->addr32)
    a = (uint32_t)a;
  return a + (f->fs ? fs_base : 0);
}

static bool canonical(uint64_t a)
{
  return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

bool hp_far_canonical(uint64_t addr, uint64_t n)
{
  return canonical(addr) && canonical(addr + n - 1) && (addr >> 63) == ((addr + n - 1) >> 63);
}
