/* Validating and mapping one ELF file the way the kernel's binfmt_elf does. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotpath/loader.h"
#include "hotpath/options.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static bool fail(struct hp_error *err, int code, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(err->msg, sizeof err->msg, "%s: ", path);
  vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
  va_end(ap);
  err->code = code;
  return false;
}

bool hp_segment_layout(uintptr_t bias, uint64_t vaddr, uint64_t offset, uint64_t filesz,
                       uint64_t memsz, struct hp_segment_layout *out)
{
  if ((vaddr & (HP_PAGE - 1)) != (offset & (HP_PAGE - 1)) || filesz > memsz)
    return false;
  uintptr_t start = bias + vaddr;
  out->map_start = HP_PAGE_DOWN(start);
  out->file_offset = HP_PAGE_DOWN(offset);
  out->map_len = filesz ? HP_PAGE_UP(start + filesz) - out->map_start : 0;
  out->file_end = start + filesz;
  uintptr_t mem_end = start + memsz;
  /* The file page that holds the last file bytes also holds the first bss
   * bytes: zero it to its end, as the kernel does (ld.so's early malloc uses
   * the rest of that page and expects zeros). */
  uintptr_t page_end = HP_PAGE_UP(out->file_end);
  out->zero_end = filesz && mem_end > out->file_end ? page_end : out->file_end;
  out->anon_start = filesz ? page_end : out->map_start;
  out->anon_end = HP_PAGE_UP(mem_end);
  if (out->anon_end < out->anon_start)
    out->anon_end = out->anon_start;
  return true;
}

static const char *machine_name(unsigned m)
{
  switch (m) {
  case EM_386: return "i386";
  case EM_ARM: return "arm";
  case EM_AARCH64: return "aarch64";
  case EM_RISCV: return "riscv";
  case EM_PPC64: return "ppc64";
  case EM_S390: return "s390";
  case EM_MIPS: return "mips";
  default: return NULL;
  }
}

bool hp_elf_check(int fd, const char *path, struct hp_error *err)
{
  unsigned char ident[EI_NIDENT];
  ssize_t n = pread(fd, ident, sizeof ident, 0);
  if (n < 4 || memcmp(ident, ELFMAG, SELFMAG) != 0)
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "cannot execute: not an ELF executable or #! script");
  if (n < EI_NIDENT)
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "truncated ELF header");
  if (ident[EI_CLASS] == ELFCLASS32)
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "32-bit ELF is not supported (x86-64 only)");
  if (ident[EI_CLASS] != ELFCLASS64)
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "invalid ELF class %u", ident[EI_CLASS]);
  if (ident[EI_DATA] != ELFDATA2LSB)
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "big-endian ELF is not supported (x86-64 only)");
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "truncated ELF header");
  if (eh.e_machine != EM_X86_64) {
    const char *m = machine_name(eh.e_machine);
    if (m)
      return fail(err, HP_STATUS_CANNOT_EXEC, path, "ELF for %s, not x86-64", m);
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "ELF for machine %u, not x86-64", eh.e_machine);
  }
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "not an executable (ELF type %u)", eh.e_type);
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "bad program header size %u", eh.e_phentsize);
  struct stat st;
  if (fstat(fd, &st) != 0 || eh.e_phoff > (uint64_t)st.st_size ||
      (uint64_t)st.st_size - eh.e_phoff < (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr))
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "truncated ELF: program headers past end of file");
  if (eh.e_phnum == 0)
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "no loadable segment (no program headers)");
  return true;
}

/* Reads the program headers through libelf (after hp_elf_check). */
static bool read_phdrs(int fd, const char *path, Elf64_Ehdr *eh, Elf64_Phdr **ph,
                       struct hp_error *err)
{
  elf_version(EV_CURRENT);
  Elf *e = elf_begin(fd, ELF_C_READ, NULL);
  if (!e)
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "bad ELF: %s", elf_errmsg(-1));
  Elf64_Ehdr *h = elf64_getehdr(e);
  Elf64_Phdr *p = h ? elf64_getphdr(e) : NULL;
  if (!h || !p) {
    fail(err, HP_STATUS_CANNOT_EXEC, path, "bad ELF: %s", elf_errmsg(-1));
    elf_end(e);
    return false;
  }
  *eh = *h;
  *ph = malloc(sizeof(Elf64_Phdr) * h->e_phnum);
  memcpy(*ph, p, sizeof(Elf64_Phdr) * h->e_phnum);
  elf_end(e);
  return true;
}

static int prot_of(uint32_t flags)
{
  return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
         (flags & PF_X ? PROT_EXEC : 0);
}

static bool map_segments(int fd, const char *path, const Elf64_Ehdr *eh, const Elf64_Phdr *ph,
                         struct hp_image *img, struct hp_error *err)
{
  uintptr_t lo = UINTPTR_MAX, hi = 0, align = HP_PAGE;
  struct stat st;
  fstat(fd, &st);
  for (unsigned i = 0; i < eh->e_phnum; i++) {
    if (ph[i].p_type != PT_LOAD)
      continue;
    if (ph[i].p_filesz > ph[i].p_memsz)
      return fail(err, HP_STATUS_CANNOT_EXEC, path, "bad PT_LOAD: file size above memory size");
    if ((ph[i].p_vaddr - ph[i].p_offset) & (HP_PAGE - 1))
      return fail(err, HP_STATUS_CANNOT_EXEC, path, "bad PT_LOAD: offset and address not congruent");
    if (ph[i].p_offset + ph[i].p_filesz > (uint64_t)st.st_size)
      return fail(err, HP_STATUS_CANNOT_EXEC, path, "truncated ELF: segment past end of file");
    if (HP_PAGE_DOWN(ph[i].p_vaddr) < lo)
      lo = HP_PAGE_DOWN(ph[i].p_vaddr);
    if (HP_PAGE_UP(ph[i].p_vaddr + ph[i].p_memsz) > hi)
      hi = HP_PAGE_UP(ph[i].p_vaddr + ph[i].p_memsz);
    if (ph[i].p_align > align && (ph[i].p_align & (ph[i].p_align - 1)) == 0)
      align = ph[i].p_align;
  }
  if (hi == 0)
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "no loadable segment (no PT_LOAD)");
  size_t span = hi - lo;
  uintptr_t bias;
  if (eh->e_type == ET_DYN) {
    /* Reserve the whole span once, aligned to the largest p_align. */
    size_t slack = align > HP_PAGE ? align : 0;
    char *r = MAP_FAILED;
    if (!img->is_interp) {
      /* Like the kernel's ELF_ET_DYN_BASE: programs far below the shared
       * libraries, so the program break after them has room to grow. */
      uint64_t rnd = 0;
      if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
        rnd = 0;
      uintptr_t hint = 0x500000000000ul + ((rnd % (1ul << 18)) << 12);
      r = mmap((void *)hint, span + slack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    }
    if (r == MAP_FAILED)
      r = mmap(NULL, span + slack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED)
      return fail(err, HP_STATUS_CANNOT_EXEC, path, "cannot reserve %zu bytes: %s", span, strerror(errno));
    uintptr_t base = ((uintptr_t)r + align - 1) & ~(align - 1);
    if (base > (uintptr_t)r)
      munmap(r, base - (uintptr_t)r);
    if ((uintptr_t)r + span + slack > base + span)
      munmap((void *)(base + span), (uintptr_t)r + span + slack - (base + span));
    bias = base - lo;
  } else {
    void *r = mmap((void *)lo, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (r == MAP_FAILED || (uintptr_t)r != lo) {
      if (r != MAP_FAILED)
        munmap(r, span);
      return fail(err, HP_STATUS_CANNOT_EXEC, path,
                  "fixed address range 0x%lx-0x%lx is already in use by hotpath (%s)",
                  (unsigned long)lo, (unsigned long)hi, strerror(errno == 0 ? EEXIST : errno));
    }
    bias = 0;
  }
  img->bias = bias;
  img->lo = lo + bias;
  img->hi = hi + bias;
  img->bss_end = 0;
  for (unsigned i = 0; i < eh->e_phnum; i++) {
    const Elf64_Phdr *p = &ph[i];
    if (p->p_type != PT_LOAD || p->p_memsz == 0)
      continue;
    struct hp_segment_layout L;
    hp_segment_layout(bias, p->p_vaddr, p->p_offset, p->p_filesz, p->p_memsz, &L);
    int prot = prot_of(p->p_flags);
    if (L.map_len) {
      int mprot = L.zero_end > L.file_end ? prot | PROT_WRITE : prot;
      if (mmap((void *)L.map_start, L.map_len, mprot, MAP_PRIVATE | MAP_FIXED, fd,
               (off_t)L.file_offset) == MAP_FAILED)
        return fail(err, HP_STATUS_CANNOT_EXEC, path, "cannot map segment: %s", strerror(errno));
      if (L.zero_end > L.file_end) {
        memset((void *)L.file_end, 0, L.zero_end - L.file_end);
        if (mprot != prot)
          mprotect((void *)L.map_start, L.map_len, prot);
      }
    }
    if (L.anon_end > L.anon_start &&
        mmap((void *)L.anon_start, L.anon_end - L.anon_start, prot,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
      return fail(err, HP_STATUS_CANNOT_EXEC, path, "cannot map bss: %s", strerror(errno));
    if (bias + p->p_vaddr + p->p_memsz > img->bss_end)
      img->bss_end = bias + p->p_vaddr + p->p_memsz;
  }
  return true;
}

bool hp_image_load(const char *path, bool is_interp, struct hp_image *img, struct hp_error *err)
{
  memset(img, 0, sizeof *img);
  img->is_interp = is_interp;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(err, errno == ENOENT || errno == ENOTDIR ? HP_STATUS_NOT_FOUND : HP_STATUS_CANNOT_EXEC,
                path, "%s", strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(err, HP_STATUS_CANNOT_EXEC, path, "%s",
                S_ISDIR(st.st_mode) ? "Is a directory" : "not a regular file");
  }
  if (!hp_elf_check(fd, path, err)) {
    close(fd);
    return false;
  }
  Elf64_Ehdr eh = {0};
  Elf64_Phdr *ph = NULL;
  if (!read_phdrs(fd, path, &eh, &ph, err)) {
    close(fd);
    return false;
  }
  bool ok = true;
  bool has_load = false;
  img->exec_stack = false; /* no PT_GNU_STACK: not executable (x86-64 since Linux 5.8) */
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    if (ph[i].p_type == PT_LOAD)
      has_load = true;
    if (ph[i].p_type == PT_GNU_STACK)
      img->exec_stack = (ph[i].p_flags & PF_X) != 0;
    if (ph[i].p_type == PT_INTERP) {
      size_t len = ph[i].p_filesz;
      if (len == 0 || len >= sizeof img->interp ||
          pread(fd, img->interp, len, (off_t)ph[i].p_offset) != (ssize_t)len) {
        ok = fail(err, HP_STATUS_CANNOT_EXEC, path, "bad PT_INTERP");
        goto out;
      }
      img->interp[len] = '\0';
    }
  }
  if (!has_load) {
    ok = fail(err, HP_STATUS_CANNOT_EXEC, path, "no loadable segment (no PT_LOAD)");
    goto out;
  }
  if (!(ok = map_segments(fd, path, &eh, ph, img, err)))
    goto out;
  img->entry = img->bias + eh.e_entry;
  img->phnum = eh.e_phnum;
  img->phent = eh.e_phentsize;
  img->phdr = 0;
  for (unsigned i = 0; i < eh.e_phnum; i++)
    if (ph[i].p_type == PT_PHDR)
      img->phdr = img->bias + ph[i].p_vaddr;
  if (!img->phdr) {
    /* No PT_PHDR (static binaries): the PT_LOAD whose file range holds the table. */
    for (unsigned i = 0; i < eh.e_phnum; i++)
      if (ph[i].p_type == PT_LOAD && eh.e_phoff >= ph[i].p_offset &&
          eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize <= ph[i].p_offset + ph[i].p_filesz)
        img->phdr = img->bias + ph[i].p_vaddr + (eh.e_phoff - ph[i].p_offset);
  }
out:
  free(ph);
  close(fd);
  return ok;
}
