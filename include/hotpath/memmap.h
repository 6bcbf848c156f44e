/* What the process has mapped, from /proc/self/maps, cached and re-read when
 * the guest changes its mappings. Used to translate only code the guest
 * mapped executable, and to spot code that is also writable. */
#ifndef HOTPATH_MEMMAP_H
#define HOTPATH_MEMMAP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_region {
  uintptr_t start, end;
  uint64_t file_off; /* offset in the mapped file (0 for anonymous memory) */
  int prot; /* PROT_READ | PROT_WRITE | PROT_EXEC */
  bool shared; /* MAP_SHARED: its pages may be written through another mapping */
  char name[64]; /* file name (basename) or [stack], [vdso], "" */
};

/* The region holding addr; false if unmapped. */
bool hp_memmap_query(uintptr_t addr, struct hp_region *out);
/* Same, from what was read last, never re-reading (no allocation, no
 * locks: for crash reports). */
bool hp_memmap_query_cached(uintptr_t addr, struct hp_region *out);
/* Where addr is, for messages: "name+0xOFFSET" (in a mapped file, the
 * offset in the file, as perf names it, and the address objdump shows for
 * a PIE or shared object linked by GNU ld (where the file offsets of the
 * code equal its addresses); else the offset from the start of the
 * mapping; "anonymous" for unnamed memory) or "unmapped". */
void hp_memmap_where(uintptr_t addr, char *buf, size_t len);
/* The guest changed its mappings (mmap/munmap/mprotect/mremap/brk), where
 * it is not known: everything is read again. */
void hp_memmap_invalidate(void);
/* ... in [lo, hi) only. */
void hp_memmap_invalidate_range(uintptr_t lo, uintptr_t hi);

#endif
