/* State recovery records applied to a machine state (see recovery.h). */
#include "hotpath/recovery.h"

#include <string.h>

unsigned hp_recovery_memory(const struct hp_recov *v, unsigned n, uint32_t off, const uint64_t gpr[16],
                            const uint8_t (*xmm)[16], const void *tblock, struct hp_mem_write *out,
                            unsigned max)
{
  unsigned k = 0;
  for (unsigned i = 0; i < n && k < max; i++) {
    const struct hp_recov *r = &v[i];
    if (r->kind != HP_LOC_MEM_REG || off < r->start || off >= r->end || !r->size || r->size > 8)
      continue;
    uint64_t base = gpr[5];
    if (r->base_gs >= 0)
      memcpy(&base, (const uint8_t *)tblock + r->base_gs, 8);
    out[k].addr = base + (uint64_t)(int64_t)r->slot;
    out[k].size = r->size;
    if (r->reg >= HP_REG_XMM0) {
      if (r->reg >= HP_REG_XMM0 + 16 || !xmm)
        continue;
      memcpy(out[k].bytes, xmm[r->reg - HP_REG_XMM0], r->size);
    } else if (r->reg < 16) {
      memcpy(out[k].bytes, &gpr[r->reg], r->size);
    } else {
      continue;
    }
    k++;
  }
  return k;
}

unsigned hp_recovery_apply(const struct hp_recov *v, unsigned n, uint32_t off, uint64_t gpr[16],
                           uint64_t *rflags, uint8_t (*xmm)[16], const void *tblock)
{
  uint64_t machine[16];
  memcpy(machine, gpr, sizeof machine);
  unsigned applied = 0;
  for (unsigned i = 0; i < n; i++) {
    const struct hp_recov *r = &v[i];
    if (off < r->start || off >= r->end)
      continue;
    if (r->reg >= HP_REG_XMM0) {
      if (r->reg >= HP_REG_XMM0 + 16 || r->kind != HP_LOC_GS_SLOT || !xmm)
        continue;
      memcpy(xmm[r->reg - HP_REG_XMM0], (const uint8_t *)tblock + r->slot, 16);
      applied++;
      continue;
    }
    uint64_t val;
    switch (r->kind) {
    case HP_LOC_GS_SLOT:
    case HP_LOC_FLAGS_LAHF:
      memcpy(&val, (const uint8_t *)tblock + r->slot, 8);
      break;
    case HP_LOC_REG:
      val = machine[r->slot & 15];
      break;
    case HP_LOC_EXPR:
      val = (uint64_t)(int64_t)r->slot;
      if (r->xbase < 16)
        val += machine[r->xbase];
      if (r->xindex < 16)
        val += machine[r->xindex] * r->size;
      break;
    default:
      continue;
    }
    if (r->reg == HP_REG_FLAGS) {
      /* ah = SF ZF 0 AF 0 PF 1 CF (lahf), al = OF (seto) */
      uint64_t f = (*rflags & ~0x8d5ull) | ((val >> 8) & 0xd5);
      if (val & 0xff)
        f |= 0x800;
      *rflags = f;
    } else if (r->reg < 16) {
      gpr[r->reg] = val;
    }
    applied++;
  }
  return applied;
}
