/* Unit tests for the loader: stack layout parsed back, segment rounding,
 * and every rejection path with its exit code. */
#include <check.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hotpath/envhide.h"
#include "hotpath/loader.h"
#include "hotpath/options.h"

static char tmpdir[] = "/tmp/hp-unit-XXXXXX";

static const char *tmp_path(const char *name)
{
  static char buf[4][PATH_MAX];
  static int k;
  char *p = buf[k++ & 3];
  snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
  return p;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
  close(fd);
  chmod(path, mode);
}

/* A minimal ELF64 x86-64 ET_DYN: one PT_LOAD covering the file, optionally
 * a PT_INTERP naming interp. */
static size_t make_elf(uint8_t *buf, unsigned char cls, uint16_t machine, bool with_load,
                       const char *interp)
{
  memset(buf, 0, 512);
  Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
  memcpy(eh->e_ident, ELFMAG, SELFMAG);
  eh->e_ident[EI_CLASS] = cls;
  eh->e_ident[EI_DATA] = ELFDATA2LSB;
  eh->e_ident[EI_VERSION] = EV_CURRENT;
  eh->e_type = ET_DYN;
  eh->e_machine = machine;
  eh->e_version = EV_CURRENT;
  eh->e_phoff = sizeof *eh;
  eh->e_ehsize = sizeof *eh;
  eh->e_phentsize = sizeof(Elf64_Phdr);
  Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof *eh);
  unsigned n = 0;
  size_t size = 256;
  if (interp) {
    strcpy((char *)buf + 200, interp);
    ph[n++] = (Elf64_Phdr){.p_type = PT_INTERP, .p_flags = PF_R, .p_offset = 200,
                           .p_vaddr = 200, .p_filesz = strlen(interp) + 1,
                           .p_memsz = strlen(interp) + 1, .p_align = 1};
  }
  if (with_load)
    ph[n++] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
                           .p_vaddr = 0, .p_filesz = size, .p_memsz = size, .p_align = 4096};
  else
    ph[n++] = (Elf64_Phdr){.p_type = PT_NOTE, .p_flags = PF_R, .p_offset = 0, .p_filesz = 4};
  eh->e_phnum = (uint16_t)n;
  return size;
}

static int launch_code(const char *path, char *msg, size_t msglen)
{
  char *argv[] = {(char *)path, NULL};
  char *envp[] = {NULL};
  struct hp_launch L;
  struct hp_error err = {0};
  bool ok = hp_launch_prepare(1, argv, envp, &L, &err);
  if (msg)
    snprintf(msg, msglen, "%s", err.msg);
  return ok ? 0 : err.code;
}

START_TEST(stack_parsed_back)
{
  size_t size = 64 * 1024;
  uint8_t *mem = aligned_alloc(4096, size);
  uintptr_t lo = (uintptr_t)mem, hi = lo + size;
  char *argv[] = {"prog", "a b", "", "last", NULL};
  char *envp[] = {"A=1", "PATH=/bin", NULL};
  struct hp_auxv aux[] = {{AT_PHDR, 0x1234}, {AT_PAGESZ, 4096}, {AT_RANDOM, 0},
                          {AT_PLATFORM, 0}, {AT_EXECFN, 0}, {AT_ENTRY, 0x5678}};
  uintptr_t auxv;
  uintptr_t sp = hp_stack_build(lo, hi, 4, argv, envp, aux, 6, "/path/prog", &auxv);
  ck_assert_uint_eq(sp % 16, 0);
  ck_assert(sp > lo && sp < hi);
  uint64_t *w = (uint64_t *)sp;
  ck_assert_uint_eq(w[0], 4);
  for (int i = 0; i < 4; i++)
    ck_assert_str_eq((char *)w[1 + i], argv[i]);
  ck_assert_uint_eq(w[5], 0);
  ck_assert_str_eq((char *)w[6], "A=1");
  ck_assert_str_eq((char *)w[7], "PATH=/bin");
  ck_assert_uint_eq(w[8], 0);
  uint64_t *a = &w[9];
  ck_assert_uint_eq((uintptr_t)a, auxv);
  ck_assert_uint_eq(a[0], AT_PHDR);
  ck_assert_uint_eq(a[1], 0x1234);
  ck_assert_uint_eq(a[2], AT_PAGESZ);
  ck_assert_uint_eq(a[3], 4096);
  ck_assert_uint_eq(a[4], AT_RANDOM);
  ck_assert(a[5] > sp && a[5] + 16 <= hi); /* 16 random bytes on the stack */
  ck_assert_uint_eq(a[6], AT_PLATFORM);
  ck_assert_str_eq((char *)a[7], "x86_64");
  ck_assert_uint_eq(a[8], AT_EXECFN);
  ck_assert_str_eq((char *)a[9], "/path/prog");
  ck_assert_uint_eq(a[10], AT_ENTRY);
  ck_assert_uint_eq(a[11], 0x5678);
  ck_assert_uint_eq(a[12], AT_NULL);
  /* Strings live above the table, inside the stack. */
  ck_assert((uintptr_t)w[1] > (uintptr_t)&a[13] && (uintptr_t)w[1] < hi);
  free(mem);
}
END_TEST

START_TEST(stack_alignment_all_counts)
{
  /* Off-by-8 alignment only shows for some argc/envc combinations. */
  size_t size = 64 * 1024;
  uint8_t *mem = aligned_alloc(4096, size);
  char *argv[8] = {"a", "b", "c", "d", "e", "f", "g", NULL};
  char *envp[8] = {"X=1", "Y=2", "Z=3", "W=4", NULL, NULL, NULL, NULL};
  struct hp_auxv aux[] = {{AT_PAGESZ, 4096}, {AT_RANDOM, 0}};
  for (int argc = 1; argc <= 7; argc++)
    for (int envc = 0; envc <= 4; envc++) {
      char *e[5] = {0};
      for (int i = 0; i < envc; i++)
        e[i] = envp[i];
      char *av[8] = {0};
      for (int i = 0; i < argc; i++)
        av[i] = argv[i];
      uintptr_t auxv;
      uintptr_t sp = hp_stack_build((uintptr_t)mem, (uintptr_t)mem + size, argc, av, e, aux, 2, "x", &auxv);
      ck_assert_uint_eq(sp % 16, 0);
      ck_assert_uint_eq(*(uint64_t *)sp, (uint64_t)argc);
    }
  free(mem);
}
END_TEST

START_TEST(segment_rounding)
{
  struct hp_segment_layout L;
  /* Typical RW segment: file bytes end mid-page, bss beyond. */
  ck_assert(hp_segment_layout(0x10000, 0x3dd0, 0x2dd0, 0x248, 0x2250, &L));
  ck_assert_uint_eq(L.map_start, 0x13000);
  ck_assert_uint_eq(L.file_offset, 0x2000);
  ck_assert_uint_eq(L.map_len, 0x2000);     /* 0x13000 .. page_up(0x14018) */
  ck_assert_uint_eq(L.file_end, 0x14018);
  ck_assert_uint_eq(L.zero_end, 0x15000);   /* rest of the last file page */
  ck_assert_uint_eq(L.anon_start, 0x15000);
  ck_assert_uint_eq(L.anon_end, 0x17000);   /* page_up(0x16020) */
  /* No bss: nothing to zero, nothing anonymous. */
  ck_assert(hp_segment_layout(0, 0x1000, 0x1000, 0x179, 0x179, &L));
  ck_assert_uint_eq(L.zero_end, L.file_end);
  ck_assert_uint_eq(L.anon_end, L.anon_start);
  ck_assert_uint_eq(L.map_len, 0x1000);
  /* Pure bss segment. */
  ck_assert(hp_segment_layout(0, 0x5000, 0, 0, 0x1800, &L));
  ck_assert_uint_eq(L.map_len, 0);
  ck_assert_uint_eq(L.anon_start, 0x5000);
  ck_assert_uint_eq(L.anon_end, 0x7000);
  /* Offset not congruent with address: rejected. */
  ck_assert(!hp_segment_layout(0, 0x1010, 0x1020, 0x10, 0x10, &L));
  /* filesz > memsz: rejected. */
  ck_assert(!hp_segment_layout(0, 0x1000, 0x1000, 0x20, 0x10, &L));
}
END_TEST

START_TEST(reject_missing)
{
  char msg[PATH_MAX + 256];
  ck_assert_int_eq(launch_code(tmp_path("does-not-exist"), msg, sizeof msg), HP_STATUS_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(msg, "No such file"));
  ck_assert_int_eq(launch_code("no-such-command-hotpath-test", msg, sizeof msg), HP_STATUS_NOT_FOUND);
}
END_TEST

START_TEST(reject_directory)
{
  char msg[PATH_MAX + 256];
  ck_assert_int_eq(launch_code(tmpdir, msg, sizeof msg), HP_STATUS_CANNOT_EXEC);
  ck_assert_ptr_nonnull(strstr(msg, "Is a directory"));
}
END_TEST

START_TEST(reject_no_exec_permission)
{
  char msg[PATH_MAX + 256];
  uint8_t buf[512];
  size_t n = make_elf(buf, ELFCLASS64, EM_X86_64, true, NULL);
  const char *p = tmp_path("noexec");
  write_file(p, buf, n, 0644);
  /* Even root needs an execute bit to execve. */
  ck_assert_int_eq(launch_code(p, msg, sizeof msg), HP_STATUS_CANNOT_EXEC);
  ck_assert_ptr_nonnull(strstr(msg, "Permission denied"));
}
END_TEST

START_TEST(reject_not_elf)
{
  char msg[PATH_MAX + 256];
  const char *p = tmp_path("text");
  write_file(p, "just text\n", 10, 0755);
  ck_assert_int_eq(launch_code(p, msg, sizeof msg), HP_STATUS_CANNOT_EXEC);
  ck_assert_ptr_nonnull(strstr(msg, "not an ELF"));
  const char *e = tmp_path("empty");
  write_file(e, "", 0, 0755);
  ck_assert_int_eq(launch_code(e, msg, sizeof msg), HP_STATUS_CANNOT_EXEC);
}
END_TEST

START_TEST(reject_32bit)
{
  char msg[PATH_MAX + 256];
  uint8_t buf[512];
  size_t n = make_elf(buf, ELFCLASS32, EM_386, true, NULL);
  const char *p = tmp_path("elf32");
  write_file(p, buf, n, 0755);
  ck_assert_int_eq(launch_code(p, msg, sizeof msg), HP_STATUS_CANNOT_EXEC);
  ck_assert_ptr_nonnull(strstr(msg, "32-bit"));
}
END_TEST

START_TEST(reject_other_machine)
{
  char msg[PATH_MAX + 256];
  uint8_t buf[512];
  size_t n = make_elf(buf, ELFCLASS64, EM_AARCH64, true, NULL);
  const char *p = tmp_path("aarch64");
  write_file(p, buf, n, 0755);
  ck_assert_int_eq(launch_code(p, msg, sizeof msg), HP_STATUS_CANNOT_EXEC);
  ck_assert_ptr_nonnull(strstr(msg, "aarch64"));
}
END_TEST

START_TEST(reject_truncated)
{
  char msg[PATH_MAX + 256];
  uint8_t buf[512];
  make_elf(buf, ELFCLASS64, EM_X86_64, true, NULL);
  const char *p = tmp_path("trunc30");
  write_file(p, buf, 30, 0755);
  ck_assert_int_eq(launch_code(p, msg, sizeof msg), HP_STATUS_CANNOT_EXEC);
  ck_assert_ptr_nonnull(strstr(msg, "truncated"));
  /* Header complete, program headers cut off. */
  const char *q = tmp_path("trunc80");
  write_file(q, buf, 80, 0755);
  ck_assert_int_eq(launch_code(q, msg, sizeof msg), HP_STATUS_CANNOT_EXEC);
  ck_assert_ptr_nonnull(strstr(msg, "truncated"));
}
END_TEST

START_TEST(reject_no_load)
{
  char msg[PATH_MAX + 256];
  uint8_t buf[512];
  size_t n = make_elf(buf, ELFCLASS64, EM_X86_64, false, NULL);
  const char *p = tmp_path("noload");
  write_file(p, buf, n, 0755);
  ck_assert_int_eq(launch_code(p, msg, sizeof msg), HP_STATUS_CANNOT_EXEC);
  ck_assert_ptr_nonnull(strstr(msg, "no loadable segment"));
}
END_TEST

START_TEST(reject_missing_interpreter)
{
  char msg[PATH_MAX + 256];
  uint8_t buf[512];
  size_t n = make_elf(buf, ELFCLASS64, EM_X86_64, true, "/nonexistent/ld-hotpath.so");
  const char *p = tmp_path("badinterp");
  write_file(p, buf, n, 0755);
  ck_assert_int_eq(launch_code(p, msg, sizeof msg), HP_STATUS_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(msg, "/nonexistent/ld-hotpath.so"));
  const char *s = tmp_path("badscript");
  write_file(s, "#!/nonexistent/sh-hotpath\necho\n", 31, 0755);
  ck_assert_int_eq(launch_code(s, msg, sizeof msg), HP_STATUS_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(msg, "bad interpreter"));
}
END_TEST

START_TEST(loads_real_program)
{
  char *argv[] = {"/bin/true", NULL};
  char *envp[] = {"X=1", NULL};
  struct hp_launch L;
  struct hp_error err = {0};
  ck_assert(hp_launch_prepare(1, argv, envp, &L, &err));
  ck_assert(L.has_interp);
  ck_assert_uint_eq(L.entry_pc, L.interp.entry);
  ck_assert_uint_eq(L.sp % 16, 0);
  ck_assert(L.sp > L.stack_lo && L.sp < L.stack_hi);
  ck_assert_uint_eq(*(uint64_t *)L.sp, 1);
  ck_assert(L.brk_start >= L.prog.bss_end);
  /* AT_PHDR points at the program's own headers. */
  uint64_t *a = (uint64_t *)L.auxv;
  bool phdr = false, base = false;
  for (; a[0] != AT_NULL; a += 2) {
    if (a[0] == AT_PHDR) {
      phdr = a[1] == L.prog.phdr;
      ck_assert_uint_eq(((Elf64_Phdr *)a[1])->p_type, PT_PHDR);
    }
    if (a[0] == AT_BASE)
      base = a[1] == L.interp.bias;
  }
  ck_assert(phdr && base);
}
END_TEST

START_TEST(script_shebang)
{
  const char *s = tmp_path("script.sh");
  write_file(s, "#!/bin/sh -e\necho hi\n", 21, 0755);
  char *argv[] = {(char *)s, "x", NULL};
  char *envp[] = {NULL};
  struct hp_launch L;
  struct hp_error err = {0};
  ck_assert(hp_launch_prepare(2, argv, envp, &L, &err));
  uint64_t *w = (uint64_t *)L.sp;
  ck_assert_uint_eq(w[0], 4);
  ck_assert_str_eq((char *)w[1], "/bin/sh");
  ck_assert_str_eq((char *)w[2], "-e");
  ck_assert_str_eq((char *)w[3], s);
  ck_assert_str_eq((char *)w[4], "x");
}
END_TEST

/* The launcher's hiding of loader variables: in place, same lengths, only
 * those variables, and back exactly; with a variable that begins with a
 * marker byte, every variable escaped instead, and back exactly. */
START_TEST(loader_vars_hidden_and_restored)
{
  char v[][40] = {"LD_PRELOAD=/x.so", "PATH=/bin", "GLIBC_TUNABLES=a=1", "MALLOC_ARENA_MAX=2",
                  "XLD_NOT=1", "LD_=", "MALLOCX=1"};
  char *env[8];
  for (int i = 0; i < 7; i++)
    env[i] = v[i];
  env[7] = NULL;
  ck_assert(hp_env_hide_loader_vars(env) == env);
  const char first[] = {1, 'P', 2, 3, 'X', 1, 'M'};
  for (int i = 0; i < 7; i++) {
    ck_assert_int_eq(env[i][0], first[i]);
    ck_assert(!hp_env_is_loader_var(env[i]));
  }
  ck_assert_str_eq(env[0] + 1, "D_PRELOAD=/x.so");
  hp_env_restore_loader_vars(env);
  ck_assert_str_eq(env[0], "LD_PRELOAD=/x.so");
  ck_assert_str_eq(env[2], "GLIBC_TUNABLES=a=1");
  ck_assert_str_eq(env[3], "MALLOC_ARENA_MAX=2");
  ck_assert_str_eq(env[5], "LD_=");
  ck_assert_str_eq(env[6], "MALLOCX=1");
  /* A variable that begins with a marker byte (or the escape byte): all
   * escaped, nothing of the original changed, everything back. */
  for (int odd = 1; odd <= 4; odd++) {
    char o[] = "?odd=1", path[] = "PATH=/bin", ld[] = "LD_BIND_NOW=1";
    o[0] = (char)odd;
    char *env2[] = {path, ld, o, NULL};
    char **h = hp_env_hide_loader_vars(env2);
    ck_assert(h && h != env2);
    ck_assert_str_eq(env2[1], "LD_BIND_NOW=1");
    for (int i = 0; i < 3; i++) {
      ck_assert_int_eq(h[i][0], 4);
      ck_assert(!hp_env_is_loader_var(h[i]));
    }
    char *copy[4] = {h[0], h[1], h[2], NULL};
    hp_env_restore_loader_vars(copy);
    ck_assert_str_eq(copy[0], "PATH=/bin");
    ck_assert_str_eq(copy[1], "LD_BIND_NOW=1");
    ck_assert_str_eq(copy[2], o);
    hp_env_hidden_free(h, env2);
  }
}
END_TEST


static Suite *loader_suite(void)
{
  Suite *s = suite_create("loader");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, stack_parsed_back);
  tcase_add_test(tc, stack_alignment_all_counts);
  tcase_add_test(tc, segment_rounding);
  tcase_add_test(tc, reject_missing);
  tcase_add_test(tc, reject_directory);
  tcase_add_test(tc, reject_no_exec_permission);
  tcase_add_test(tc, reject_not_elf);
  tcase_add_test(tc, reject_32bit);
  tcase_add_test(tc, reject_other_machine);
  tcase_add_test(tc, reject_truncated);
  tcase_add_test(tc, reject_no_load);
  tcase_add_test(tc, reject_missing_interpreter);
  tcase_add_test(tc, loads_real_program);
  tcase_add_test(tc, script_shebang);
  tcase_add_test(tc, loader_vars_hidden_and_restored);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  if (!mkdtemp(tmpdir))
    return 1;
  SRunner *sr = srunner_create(loader_suite());
  srunner_set_fork_status(sr, CK_FORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0)
    return 1;
  return failed == 0 ? 0 : 1;
}
