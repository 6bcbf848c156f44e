/* Far transfers through memory and far returns, performed for the guest
 * (see far.h; the forms' semantics are in farptr.h).
 *
 * Measured natively (AMD EPYC, Linux 6.18), all with the registers and rip
 * of the far instruction in the signal context:
 *   - selector 0..3 (null): #GP(0) -> SIGSEGV, si_code SI_KERNEL, si_addr 0,
 *     err 0, trapno 13;
 *   - a selector that is no usable code segment (a data segment such as
 *     0x2b, the kernel's 0x10, the TSS, beyond the GDT, an empty LDT's):
 *     #GP(selector & ~3), the same signal with err = selector & ~3;
 *   - selectors 0x30..0x33 (the user code segment at any RPL) go on in
 *     64-bit mode with CS 0x33; a far return needs RPL 3 (0x30: #GP(0x30));
 *   - a pointer (or, for a return, a stack slot) in unmapped memory: #PF,
 *     SIGSEGV with SEGV_MAPERR/ACCERR, si_addr the first byte of the access
 *     on a page that cannot be read (err 4); a non-canonical one: #GP(0)
 *     (#SS(0), SIGBUS, trapno 12 through rsp/rbp);
 *   - a far call's pushes (CS first, at rsp - size, then the return
 *     address) into unmapped memory: #PF at the first byte of the failing
 *     push on a bad page, err 6 (7: a read-only page);
 *   - a far return to a non-canonical address: #GP(0).
 * Selector 0x23 (__USER32_CS) switches to compatibility mode (32-bit
 * code), which hotpath does not run. */
#include "hotpath/far.h"

#include <cpuid.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hotpath/builder.h"
#include "hotpath/farptr.h"
#include "hotpath/ilist.h"
#include "hotpath/memmap.h"
#include "hotpath/rawsys.h"
#include "hotpath/thread.h"

#define PAGE 4096ull

static bool cpu_is_amd(void)
{
  static int known = -1;
  if (known < 0) {
    unsigned a, b, c, d;
    __cpuid(0, a, b, c, d);
    /* "AuthenticAMD" and "HygonGenuine" (an AMD design) */
    known = (b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163) ||
            (b == 0x6f677948 && d == 0x6e65476e && c == 0x656e6975);
  }
  return known;
}

static uint16_t current_cs(void)
{
  uint16_t cs;
  __asm__("mov %%cs, %0" : "=r"(cs));
  return cs;
}

/* The access rights of a selector as `lar` reads them (the CPU's own
 * checks for a user-mode reader), false if it cannot read them. */
static bool selector_rights(uint16_t sel, uint32_t *ar)
{
  uint32_t r = 0;
  uint8_t ok;
  __asm__("lar %2, %0\n\tsetz %1" : "=r"(r), "=q"(ok) : "r"((uint32_t)sel) : "cc");
  *ar = r;
  return ok;
}

static void gp(struct hp_far_fault *f, uint64_t err)
{
  memset(f, 0, sizeof *f);
  f->sig = SIGSEGV;
  f->code = SI_KERNEL;
  f->err = err;
  f->trapno = 13;
}

static void ss(struct hp_far_fault *f)
{
  memset(f, 0, sizeof *f);
  f->sig = SIGBUS;
  f->code = SI_KERNEL;
  f->trapno = 12;
}

/* Whether the page holding addr is in the page tables (/proc/thread-self/pagemap
 * bit 63): a write to a read-only page that was never touched finds no
 * page-table entry (#PF error code 6, not present), one that was read finds
 * the entry (7). True where the file cannot be read. */
static bool page_present(uint64_t addr)
{
  uint64_t e = 1ull << 63;
  int fd = open("/proc/thread-self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return true;
  if (pread(fd, &e, 8, (off_t)(addr / PAGE * 8)) != 8)
    e = 1ull << 63;
  close(fd);
  return e >> 63;
}

/* A page fault on [addr, addr+n): si_addr is the first byte on a page the
 * access cannot use (read: probed; write: from the memory map, so that
 * nothing is written to find it). */
static void page_fault(struct hp_far_fault *f, uint64_t addr, uint64_t n, bool write)
{
  memset(f, 0, sizeof *f);
  struct hp_region r = {0};
  bool mapped = false;
  uint64_t p = addr;
  hp_lock();
  hp_memmap_invalidate(); /* a stack may have grown */
  while (p < addr + n) {
    uint64_t end = (p | (PAGE - 1)) + 1;
    if (end > addr + n)
      end = addr + n;
    uint8_t tmp[16];
    mapped = hp_memmap_query(p, &r);
    if (write ? !mapped || !(r.prot & PROT_WRITE) : !hp_guest_read(tmp, (const void *)p, end - p))
      break;
    p = end;
  }
  if (p >= addr + n) { /* it changed meanwhile: report the start */
    p = addr;
    mapped = hp_memmap_query(p, &r);
  }
  hp_unlock();
  f->sig = SIGSEGV;
  f->code = mapped ? SEGV_ACCERR : SEGV_MAPERR;
  f->addr = p;
  f->err = write ? (mapped && (r.prot & PROT_READ) && page_present(p) ? 7 : 6) : 4;
  f->trapno = 14;
}

/* Reads n bytes of the guest at addr as the CPU would: false with *f set if
 * it faults (ss_seg: the access goes through SS, rsp or rbp based). */
static bool load(void *dst, uint64_t addr, unsigned n, bool ss_seg, struct hp_far_fault *f)
{
  if (!hp_far_canonical(addr, n)) {
    if (ss_seg)
      ss(f);
    else
      gp(f, 0);
    return false;
  }
  if (!hp_guest_read(dst, (const void *)addr, n)) {
    page_fault(f, addr, n, false);
    return false;
  }
  return true;
}

static bool store(uint64_t addr, const void *src, unsigned n, struct hp_far_fault *f)
{
  if (!hp_guest_write((void *)addr, src, n)) {
    page_fault(f, addr, n, true);
    return false;
  }
  return true;
}

/* The checks of a selector loaded into CS; HP_FAR_DONE if the code segment
 * is the one hotpath runs the guest in. */
static enum hp_far_result check_selector(uint16_t sel, bool ret, struct hp_far_fault *f)
{
  uint32_t ar;
  if ((sel & 0xfffc) == 0) {
    gp(f, 0);
    return HP_FAR_FAULT;
  }
  bool code = selector_rights(sel, &ar) && (ar & 0x1000) && (ar & 0x800); /* S, code */
  unsigned dpl = (ar >> 13) & 3;
  bool conforming = ar & 0x400;
  if (!code || (!conforming && dpl != 3) || (ret && (sel & 3) != 3)) {
    gp(f, sel & 0xfffc);
    return HP_FAR_FAULT;
  }
  if (!(ar & 0x8000)) { /* not present: #NP(selector) */
    memset(f, 0, sizeof *f);
    f->sig = SIGBUS;
    f->code = SI_KERNEL;
    f->err = sel & 0xfffc;
    f->trapno = 11;
    return HP_FAR_FAULT;
  }
  memset(f, 0, sizeof *f);
  f->sel = sel;
  if (!(ar & (1u << 21)) || (ar & (1u << 22))) { /* L clear (or L and D: reserved) */
    f->why = "compatibility mode (32-bit code) is not supported";
    return HP_FAR_UNSUPPORTED;
  }
  if ((sel & 0xfffc) != (current_cs() & 0xfffc)) {
    f->why = "a 64-bit code segment other than the one hotpath runs in is not supported";
    return HP_FAR_UNSUPPORTED;
  }
  return HP_FAR_DONE;
}

static uint64_t little(const uint8_t *b, unsigned n)
{
  uint64_t v = 0;
  memcpy(&v, b, n);
  return v;
}

enum hp_far_result hp_far_perform(struct hp_thread *t, uint64_t *pc, struct hp_far_fault *fault)
{
  /* The instruction as the block builder reads it (execute-only memory
   * too): the block at pc starts with it. */
  struct hp_insn v[HP_BLOCK_LIST_CAP];
  struct hp_ilist l = {.v = v, .cap = HP_BLOCK_LIST_CAP};
  hp_lock();
  bool ok = hp_decode_guest_block(*pc, &l);
  hp_unlock();
  const struct hp_insn *in = NULL;
  for (unsigned i = 0; ok && i < l.n && !in; i++)
    if (v[i].op == HP_OP_STOP)
      in = &v[i];
  struct hp_far f;
  memset(fault, 0, sizeof *fault);
  if (!in || in->pc != *pc || in->exit_kind != HP_EXIT_FAR || !hp_far_decode(in->bytes, in->len, cpu_is_amd(), &f)) {
    fault->why = "a far transfer hotpath cannot decode";
    return HP_FAR_UNSUPPORTED;
  }
  uint64_t *g = t->gpr;
  uint8_t buf[16];
  enum hp_far_result r;
  if (f.kind == HP_FAR_RET) {
    unsigned n = 2u * f.opsize;
    if (!load(buf, g[HP_RSP], n, true, fault))
      return HP_FAR_FAULT;
    uint64_t ip = little(buf, f.opsize);
    uint16_t sel = (uint16_t)little(buf + f.opsize, 2);
    if ((r = check_selector(sel, true, fault)) != HP_FAR_DONE)
      return r;
    if (!hp_far_canonical(ip, 1)) {
      gp(fault, 0);
      return HP_FAR_FAULT;
    }
    g[HP_RSP] += n + f.imm;
    *pc = ip;
    return HP_FAR_DONE;
  }
  uint64_t a = hp_far_pointer_address(&f, g, *pc, t->guest_fs);
  bool ss_seg = !f.fs && !f.riprel && (f.base == HP_RSP || f.base == HP_RBP);
  if (!load(buf, a, f.offsize + 2u, ss_seg, fault))
    return HP_FAR_FAULT;
  uint64_t off = little(buf, f.offsize);
  uint16_t sel = (uint16_t)little(buf + f.offsize, 2);
  if ((r = check_selector(sel, false, fault)) != HP_FAR_DONE)
    return r;
  if (!hp_far_canonical(off, 1)) { /* only an 8-byte offset can be */
    gp(fault, 0);
    return HP_FAR_FAULT;
  }
  if (f.kind == HP_FAR_CALL) {
    uint64_t sp = g[HP_RSP], w = f.opsize;
    if (!hp_far_canonical(sp - 2 * w, 2 * w)) {
      ss(fault);
      return HP_FAR_FAULT;
    }
    uint64_t cs = current_cs(), ret = *pc + f.len;
    if (!store(sp - w, &cs, (unsigned)w, fault) || !store(sp - 2 * w, &ret, (unsigned)w, fault))
      return HP_FAR_FAULT;
    g[HP_RSP] = sp - 2 * w;
  }
  *pc = off;
  return HP_FAR_DONE;
}
