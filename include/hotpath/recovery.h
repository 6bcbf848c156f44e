/* State recovery: where guest registers live while generated code has moved
 * them. Each record covers a stretch of a fragment's code [start, end) (byte
 * offsets) during which one guest register (or the status flags) is not in
 * its own machine register. A fault or signal at an offset rebuilds the
 * guest's registers from the records that cover it. Pure: no global state. */
#ifndef HOTPATH_RECOVERY_H
#define HOTPATH_RECOVERY_H
#include <stdbool.h>
#include <stdint.h>

enum hp_loc_kind {
  HP_LOC_GS_SLOT,    /* the guest register's value is at gs:[slot] */
  HP_LOC_FLAGS_LAHF, /* the status flags are at gs:[slot] as `lahf; seto al` left them in ax */
  HP_LOC_REG,        /* the guest register's value is in machine register slot */
  HP_LOC_MEM_REG,    /* not a register: guest memory [base + slot] (size bytes) is behind;
                        its value is in machine register reg (a GPR, or HP_REG_XMM0 + n:
                        its low bytes). base: the 8 bytes at gs:[base_gs], or machine
                        rbp when base_gs < 0 (a deferred store of an optimized trace) */
  HP_LOC_EXPR,       /* the guest register's value is machine xbase + xindex*size + slot
                        (xbase/xindex 0xff: none), an address the optimizer folded
                        (src/opt/fold.c) */
};

#define HP_REG_FLAGS 16 /* reg of a record about the status flags */
#define HP_REG_XMM0 32  /* reg of a record about xmm register n: HP_REG_XMM0 + n
                           (HP_LOC_GS_SLOT only: 16 bytes at gs:[slot]) */

struct hp_recov {
  uint32_t start, end;
  uint8_t reg;   /* guest register (x86 encoding order) or HP_REG_FLAGS */
  uint8_t kind;  /* enum hp_loc_kind */
  int32_t slot;  /* gs offset, or machine register; HP_LOC_MEM_REG: displacement */
  uint8_t size;  /* HP_LOC_MEM_REG: bytes */
  int32_t base_gs; /* HP_LOC_MEM_REG: see there */
  uint8_t xbase, xindex; /* HP_LOC_EXPR: see there */
};

/* A store the guest's memory is owed (HP_LOC_MEM_REG). */
struct hp_mem_write {
  uint64_t addr;
  uint8_t size;
  uint8_t bytes[8];
};

struct hp_recov_buf {
  struct hp_recov *v;
  unsigned n, cap;
};

/* Applies the records of v[0, n) that cover offset off: gpr[16] (x86 order),
 * *rflags and xmm[16] (the low 128 bits of each xmm register; NULL: records
 * about xmm registers are skipped) are the machine's values on entry and
 * the guest's on return; tblock is the thread block the gs: slots are read
 * from. Returns how many records applied. */
unsigned hp_recovery_apply(const struct hp_recov *v, unsigned n, uint32_t off, uint64_t gpr[16],
                           uint64_t *rflags, uint8_t (*xmm)[16], const void *tblock);

/* The stores owed at offset off by the HP_LOC_MEM_REG records of v[0, n)
 * that cover it, from the machine's registers (gpr, xmm as above; records
 * about xmm registers are skipped when xmm is NULL); at most max, into out.
 * Returns how many. The caller performs them before it applies the
 * register records (they read the machine's values). */
unsigned hp_recovery_memory(const struct hp_recov *v, unsigned n, uint32_t off, const uint64_t gpr[16],
                            const uint8_t (*xmm)[16], const void *tblock, struct hp_mem_write *out,
                            unsigned max);

#endif
