/* ELF launcher: validates and maps a program and its interpreter like the
 * kernel's binfmt_elf, and builds the guest's initial stack. */
#ifndef HOTPATH_LOADER_H
#define HOTPATH_LOADER_H
#include <limits.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_PAGE 4096ul
#define HP_PAGE_DOWN(x) ((uintptr_t)(x) & ~(HP_PAGE - 1))
#define HP_PAGE_UP(x) (((uintptr_t)(x) + HP_PAGE - 1) & ~(HP_PAGE - 1))

/* Errors a user can cause: message plus the documented exit code. */
struct hp_error {
  int code; /* HP_STATUS_NOT_FOUND, HP_STATUS_CANNOT_EXEC, ... ; 0 = no error */
  char msg[PATH_MAX + 256];
};

/* One mapped ELF file (the program or its interpreter). */
struct hp_image {
  uintptr_t bias;      /* load bias: runtime address - p_vaddr */
  uintptr_t entry;     /* runtime entry point */
  uintptr_t phdr;      /* runtime address of the program headers (AT_PHDR) */
  unsigned phnum, phent;
  uintptr_t lo, hi;    /* runtime span of the PT_LOAD segments, page-rounded */
  uintptr_t bss_end;   /* end of the highest segment's memory (brk starts here) */
  bool is_interp;      /* loaded as the ELF interpreter (placed by mmap) */
  bool exec_stack;     /* PT_GNU_STACK has PF_X, or is missing */
  char interp[PATH_MAX]; /* PT_INTERP path, "" if none */
};

/* Layout math of one PT_LOAD, exposed for unit tests. */
struct hp_segment_layout {
  uintptr_t map_start;   /* page-aligned start of the file mapping */
  size_t map_len;        /* length of the file mapping (page-rounded) */
  uintptr_t file_end;    /* bias + vaddr + filesz: zero from here... */
  uintptr_t zero_end;    /* ...to here (end of that page, or memsz end if smaller) */
  uintptr_t anon_start;  /* anonymous bss mapping [anon_start, anon_end) */
  uintptr_t anon_end;
  size_t file_offset;    /* page-aligned file offset for mmap */
};
bool hp_segment_layout(uintptr_t bias, uint64_t vaddr, uint64_t offset, uint64_t filesz,
                       uint64_t memsz, struct hp_segment_layout *out);

/* Validates an ELF file's header (magic, class, machine, type, PT_LOAD).
 * The file is already open. Returns false and fills err on rejection. */
bool hp_elf_check(int fd, const char *path, struct hp_error *err);

/* Maps an ELF file (the program, or its interpreter). Validates it first. */
bool hp_image_load(const char *path, bool is_interp, struct hp_image *img, struct hp_error *err);

/* Everything the guest needs to start. */
struct hp_launch {
  struct hp_image prog, interp;
  bool has_interp;
  char exe_path[PATH_MAX];   /* absolute path of the program (readlink /proc/self/exe) */
  uintptr_t entry_pc;        /* first guest pc: interpreter entry or program entry */
  uintptr_t sp;              /* guest rsp at start (points at argc) */
  uintptr_t stack_lo, stack_hi;
  uintptr_t brk_start, brk_limit; /* program break: starts after bss, grows while free */
  uintptr_t vdso;            /* AT_SYSINFO_EHDR passed to the guest */
  uintptr_t auxv;            /* guest address of its auxv */
  size_t auxv_len;           /* bytes, including AT_NULL */
};

/* Resolves PROGRAM (PATH search, #! scripts), maps it and its interpreter,
 * reserves the brk region and builds the stack. argv[0] is passed as typed. */
bool hp_launch_prepare(int argc, char **argv, char **envp, struct hp_launch *out,
                       struct hp_error *err);

/* Finds PROGRAM like execvp: with a '/', as is; else each PATH entry. */
bool hp_find_program(const char *name, char *out, size_t outlen, struct hp_error *err);

/* #! scripts in a chain, as the kernel allows. */
#define HP_MAX_SCRIPT_DEPTH 5
/* Reads a "#!interp [arg]" line: 1 if path is a script, 0 if not, -1 on
 * error (err says why). */
int hp_read_shebang(const char *path, char *interp, size_t ilen, char *arg, size_t alen, struct hp_error *err);
/* Whether the file gets privileges from execve (setuid, setgid, file
 * capabilities): hotpath runs those natively. st: its stat. */
bool hp_file_privileged(const char *path, const struct stat *st);

/* Initial stack construction, separated from mapping so it can be tested on
 * any buffer. Writes strings, random bytes, platform string, then argc/argv/
 * envp/auxv at the returned, 16-byte aligned sp. The auxv array is laid out
 * after envp; pairs are (type, value). Values of AT_RANDOM, AT_PLATFORM and
 * AT_EXECFN are filled in here (pass any value for them). */
struct hp_auxv { uint64_t type, val; };
uintptr_t hp_stack_build(uintptr_t stack_lo, uintptr_t stack_hi, int argc, char *const *argv,
                         char *const *envp, const struct hp_auxv *aux, size_t naux,
                         const char *execfn, uintptr_t *auxv_out);

/* Jumps to pc with rsp = sp and rdx = 0 (and all other GPRs zero). */
_Noreturn void hp_native_jump(uintptr_t pc, uintptr_t sp);

#endif
