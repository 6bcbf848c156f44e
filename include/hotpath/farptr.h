/* Far transfers through memory (`jmp far [m]` ff /5, `call far [m]` ff /3)
 * and far returns (`retf` cb, `retf imm16` ca): what each form reads and
 * pushes, and the address of its far pointer. Pure: no globals, no thread
 * block; the runtime (src/runtime/far.c) performs them.
 *
 * Measured on an AMD EPYC under Linux 6.18 (and as Intel's SDM documents
 * where the vendors differ):
 *   - the pointer is offset then 16-bit selector; the offset is 2 bytes with
 *     a 66 prefix, 4 by default, and with REX.W 8 on Intel but 4 on AMD
 *     (AMD ignores REX.W there: m16:32); the offset is zero-extended;
 *   - a far call pushes CS then the return address, each of the operand
 *     size (2, 4 or 8 bytes: REX.W gives 8 on AMD too), the return address
 *     truncated to it; a far return pops them at its operand size (the
 *     selector is the low 16 bits of its slot), then adds imm16 to rsp. */
#ifndef HOTPATH_FARPTR_H
#define HOTPATH_FARPTR_H
#include <stdbool.h>
#include <stdint.h>

enum hp_far_kind { HP_FAR_JMP, HP_FAR_CALL, HP_FAR_RET };

struct hp_far {
  uint8_t kind;     /* enum hp_far_kind */
  uint8_t len;      /* instruction length */
  uint8_t opsize;   /* bytes pushed (call) or popped (ret) per item: 2, 4, 8 */
  uint8_t offsize;  /* jmp/call: bytes of the pointer's offset (2, 4, 8) */
  uint16_t imm;     /* ret: bytes released after the pop */
  /* jmp/call: the pointer's address = seg base + base + index*scale + disp
   * (+ the next pc when riprel), truncated to 32 bits when addr32. */
  int8_t base, index; /* general register numbers (rax=0 ... r15=15), -1: none */
  uint8_t scale;
  bool riprel, addr32, fs;
  int64_t disp;
};

/* Decodes the far transfer at bytes[0, len) (amd: the CPU follows AMD's
 * rules). False if it is not one of the forms above. */
bool hp_far_decode(const uint8_t *bytes, unsigned len, bool amd, struct hp_far *out);
/* The address of a jmp/call's far pointer, from the guest registers
 * (gpr[16] in rax..r15 order), the instruction's pc and the FS base. */
uint64_t hp_far_pointer_address(const struct hp_far *f, const uint64_t gpr[16], uint64_t pc, uint64_t fs_base);
/* Whether every byte of [addr, addr+n) is a canonical 48-bit address. */
bool hp_far_canonical(uint64_t addr, uint64_t n);

#endif
