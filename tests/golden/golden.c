/* Golden-file driver of the translator's pure stages: guest bytes from a
 * text file -> hp_decode_block -> hp_mangle_block -> hp_ilist_print, and with
 * --lower (or `lower` on the flags line) hp_lower into a plain buffer at a
 * fixed fake RX address, printed as disassembly, exits, pc map,
 * continuations and recovery records. No live guest memory is read and
 * nothing is published: the output depends on the input file only.
 *
 * Input:
 *   pc 0x401000                 first line: the guest pc of the first byte
 *   writable lower far max_bytes=N max_insns=N   optional flags line
 *   48 89 c8  c3                hex bytes (tokens of 2k hex digits), # comments
 *
 * Flags: writable = the bytes are in writable memory (code-check prologue);
 * lower = also lower; far = lower with force_far; record = lower as a
 * recording copy (struct hp_lower_opts .record: calls, returns and indirect
 * branches exit to the dispatcher); max_bytes / max_insns override the
 * decode limits (defaults as the block builder's: 64 instructions, 960
 * bytes, or 256 bytes when writable); analyze = decode only (no mangle)
 * and print, per element, the effects hp_analyze_insn finds (for elements
 * that are not HP_OP_GUEST: `analyze_insn: no`, then what hp_analyze_bytes
 * finds in their bytes).
 *
 * Trace mode: the recorded blocks of a trace, each decoded and mangled from
 * its own bytes, then stitched (hp_trace_stitch) and, with `lower`, lowered:
 *   trace 0x401000              first line: the trace head
 *   lower far writable ...      optional flags line (not record), for every block
 *   block 0x401000 next 0x401010   a recorded block: its pc, the pc that ran after it
 *   48 ff c9  75 f9             its hex bytes
 *   block 0x401010 next 0x401000   ...
 * Each block is printed (its mangled list, hp_trace_block_ok/_ends), then
 * the stitched list or `stitch failed` (a result, not an error: the tool
 * exits 0). With `promote` on the flags line (`promote defer`: deferred stores allowed), the stitched list then goes
 * through register promotion (hp_promote), printed again or with the
 * reason it was left alone (`defer`: the same, with deferred stores allowed),
 * before it is lowered (`retelide` first: the
 * return-guard removal, printed again). With `fold` (implies promote), the
 * promoted list (or, left alone, the list with hp_promote_none's empty
 * promotion: the fold pass alone) then goes through hp_fold, whose plan is printed per
 * element (gone, registers materialized first, the rewritten instruction,
 * what stays pending) before the lowering; with `liveness` too, the
 * loop-aware liveness of the promoted list, faults seeing all and not.
 * With `dispatch=N` (implies promote), the trace is promoted as a
 * dispatch whose jump table's tail starts at stitched element N (the
 * table is not searched: its final jump is lowered as a lookup). With
 * `misses`, the
 * trace's guard misses are counted (head counter 7, limit 4096), as
 * src/trace/record.c asks.
 *
 * thread-block offsets (gs:[...]) are printed by field name so that the
 * output does not depend on the layout of struct hp_thread. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <Zydis/Zydis.h>

#include "hotpath/analysis.h"
#include "hotpath/fold.h"
#include "hotpath/liveness.h"
#include "hotpath/ilist.h"
#include "hotpath/lower.h"
#include "hotpath/mangle.h"
#include "hotpath/promote.h"
#include "hotpath/retelide.h"
#include "hotpath/recovery.h"
#include "hotpath/stitch.h"
#include "hotpath/thread.h"
#include "hotpath/verify.h"

#define HOT_RX 0x7f0000000000ull
#define COLD_TOP (HOT_RX + 0x10000ull)
#define MAX_INPUT 4096
#define MAX_BLOCKS 32

static const char *prog = "golden";

static void die(const char *fmt, const char *arg)
{
  fprintf(stderr, "%s: ", prog);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  exit(2);
}

struct block_in {
  uint64_t pc, next;
  uint8_t bytes[MAX_INPUT];
  size_t n;
};

struct input {
  uint64_t pc;
  bool writable, lower, far, record, analyze, liveness, promote, defer, misses, retelide, fold, ret_wide;
  long max_bytes, max_insns; /* -1: default */
  unsigned dispatch; /* promote as a dispatch, its jump table's tail from this element (0: no) */
  uint8_t bytes[MAX_INPUT];
  size_t n;
  /* Trace mode. */
  bool trace;
  uint64_t head;
  struct block_in blocks[MAX_BLOCKS];
  unsigned nblocks;
};

static void parse_flags(struct input *in, char *line)
{
  for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
    if (!strcmp(tok, "writable"))
      in->writable = true;
    else if (!strcmp(tok, "lower"))
      in->lower = true;
    else if (!strcmp(tok, "far"))
      in->far = true;
    else if (!strcmp(tok, "ret_wide"))
      in->ret_wide = in->lower = true; /* returns index their table by 18 bits (pext) */
    else if (!strcmp(tok, "record"))
      in->record = in->lower = true;
    else if (!strcmp(tok, "analyze"))
      in->analyze = true;
    else if (!strcmp(tok, "liveness"))
      in->liveness = true;
    else if (!strcmp(tok, "promote"))
      in->promote = true;
    else if (!strcmp(tok, "defer"))
      in->promote = in->defer = true;
    else if (!strcmp(tok, "retelide"))
      in->retelide = true;
    else if (!strcmp(tok, "fold"))
      in->promote = in->fold = true;
    else if (!strcmp(tok, "misses"))
      in->misses = true;
    else if (!strncmp(tok, "max_bytes=", 10))
      in->max_bytes = strtol(tok + 10, NULL, 0);
    else if (!strncmp(tok, "dispatch=", 9))
      in->promote = true, in->dispatch = (unsigned)strtoul(tok + 9, NULL, 0);
    else if (!strncmp(tok, "max_insns=", 10))
      in->max_insns = strtol(tok + 10, NULL, 0);
    else
      die("unknown flag '%s'", tok);
  }
}

static void parse_hex(uint8_t *bytes, size_t *n, char *line)
{
  for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
    size_t len = strlen(tok);
    if (len % 2)
      die("odd number of hex digits in '%s'", tok);
    for (size_t i = 0; i < len; i += 2) {
      if (!isxdigit((unsigned char)tok[i]) || !isxdigit((unsigned char)tok[i + 1]))
        die("not hex: '%s'", tok);
      if (*n == MAX_INPUT)
        die("%s", "too many bytes");
      char two[3] = {tok[i], tok[i + 1], 0};
      bytes[(*n)++] = (uint8_t)strtoul(two, NULL, 16);
    }
  }
}

static uint64_t parse_u64(const char *path, const char *what, char **p)
{
  char *end;
  errno = 0;
  uint64_t v = strtoull(*p, &end, 0);
  if (errno || end == *p) {
    fprintf(stderr, "%s: %s: bad %s\n", prog, path, what);
    exit(2);
  }
  *p = end;
  return v;
}

/* "block 0xPC next 0xNEXT" */
static void parse_block(const char *path, struct input *in, char *p)
{
  if (in->nblocks == MAX_BLOCKS)
    die("%s: too many blocks", path);
  struct block_in *b = &in->blocks[in->nblocks++];
  p += 5;
  b->pc = parse_u64(path, "block pc", &p);
  while (isspace((unsigned char)*p))
    p++;
  if (strncmp(p, "next", 4) != 0 || !isspace((unsigned char)p[4]))
    die("%s: a block line is `block 0xPC next 0xNEXT`", path);
  p += 4;
  b->next = parse_u64(path, "block next", &p);
  while (isspace((unsigned char)*p))
    p++;
  if (*p)
    die("%s: junk after a block line", path);
}

static bool starts_word(const char *p, const char *w)
{
  size_t n = strlen(w);
  return strncmp(p, w, n) == 0 && (isspace((unsigned char)p[n]) || !p[n]);
}

static void read_input(const char *path, struct input *in)
{
  FILE *f = fopen(path, "r");
  if (!f)
    die("cannot open %s", path);
  char line[1024];
  int state = 0; /* 0: want the pc line, 1: flags line allowed, 2: bytes */
  while (fgets(line, sizeof line, f)) {
    char *hash = strchr(line, '#');
    if (hash)
      *hash = 0;
    char *p = line;
    while (isspace((unsigned char)*p))
      p++;
    if (!*p)
      continue;
    if (state == 0) {
      if (starts_word(p, "trace")) {
        in->trace = true;
        p += 5;
        in->head = parse_u64(path, "trace head", &p);
        state = 1;
        continue;
      }
      if (!starts_word(p, "pc"))
        die("%s: the first line must be `pc 0x...` or `trace 0x...`", path);
      char *end;
      errno = 0;
      in->pc = strtoull(p + 2, &end, 0);
      if (errno || end == p + 2)
        die("%s: bad pc", path);
      state = 1;
      continue;
    }
    if (in->trace && starts_word(p, "block")) {
      parse_block(path, in, p);
      state = 2;
      continue;
    }
    if (state == 1) {
      state = 2;
      /* A flags line starts with a letter that is not a hex digit pair. */
      if (isalpha((unsigned char)p[0]) && !(isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]))) {
        parse_flags(in, p);
        continue;
      }
    }
    if (!in->trace) {
      parse_hex(in->bytes, &in->n, p);
    } else {
      if (!in->nblocks)
        die("%s: bytes before the first `block` line", path);
      struct block_in *b = &in->blocks[in->nblocks - 1];
      parse_hex(b->bytes, &b->n, p);
    }
  }
  fclose(f);
  if (state == 0)
    die("%s: no pc line", path);
  if (in->analyze && (in->trace || in->lower))
    die("%s: analyze is decode only (no trace, lower or record)", path);
  if (in->trace && in->record)
    die("%s: record lowers one block, not a trace", path);
  if (in->trace && !in->nblocks)
    die("%s: a trace without blocks", path);
}

/* Thread-block fields emitted code addresses as gs:[offset]. */
struct field {
  long off;
  char name[24];
};
static struct field fields[64];
static unsigned nfields;

static void add_field(long off, const char *name)
{
  fields[nfields].off = off;
  snprintf(fields[nfields].name, sizeof fields[nfields].name, "%s", name);
  nfields++;
}

static void init_fields(void)
{
  static const char *const regs[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                       "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  char name[24];
  for (int r = 0; r < 16; r++) {
    snprintf(name, sizeof name, "gpr.%s", regs[r]);
    add_field((long)offsetof(struct hp_thread, gpr) + 8 * r, name);
  }
#define F(x) add_field((long)offsetof(struct hp_thread, x), #x)
  F(exit_routine);
  F(ibl_routine);
  F(ibl_table);
  F(ibl_mask);
  F(ibl_target);
  F(ibl_jump);
  F(ibl_lookups);
  F(spill_rax);
  F(spill_rcx);
  F(ret_mask);
  F(spill_rdx);
  F(spill_flags);
  F(spill_scratch);
  F(promo_rbp);
#undef F
  for (int r = 0; r < 16; r++) {
    snprintf(name, sizeof name, "promo_save.%s", regs[r]);
    add_field((long)offsetof(struct hp_thread, promo_save) + 8 * r, name);
    snprintf(name, sizeof name, "promo_xsave.xmm%d", r);
    add_field((long)offsetof(struct hp_thread, promo_xsave) + 16 * r, name);
  }
  add_field(HP_T_IBL_FAST, "ibl_fast");
  add_field(HP_T_IBL_FAST + 8, "ibl_fast+8");
  add_field(HP_T_RET_TABLE, "ret_table");
  add_field(HP_T_HEAD_COUNTERS + 4 * 7, "head_counters[7]"); /* `misses` */
}

static const char *field_name(long off)
{
  for (unsigned i = 0; i < nfields; i++)
    if (fields[i].off == off)
      return fields[i].name;
  return NULL;
}

/* "gs:[0x118]" -> "gs:[spill_rcx]"; "gs:[rcx*8+0x8008]" -> "gs:[rcx*8+ibl_fast+8]". */
static void symbolize(const char *in, char *out, size_t cap)
{
  size_t o = 0;
  while (*in && o + 1 < cap) {
    const char *gs = strncmp(in, "gs:[", 4) == 0 ? in : NULL;
    if (gs) {
      const char *close = strchr(gs, ']');
      const char *hex = close ? strstr(gs, "0x") : NULL;
      if (hex && hex < close) {
        char *end;
        long v = strtol(hex, &end, 16);
        const char *name = field_name(v);
        if (name && end == close) {
          int k = snprintf(out + o, cap - o, "%.*s%s]", (int)(hex - gs), gs, name);
          if (k > 0)
            o += (size_t)k < cap - o ? (size_t)k : cap - o - 1;
          in = close + 1;
          continue;
        }
      }
    }
    out[o++] = *in++;
  }
  out[o] = 0;
}

static const char *exit_kind_name(unsigned k)
{
  static const char *const names[] = {"branch", "syscall", "ibl-miss", "bad-insn", "no-exec",
                                      "stale",  "unsupported", "fault", "predict", "learn", "hot",
                                      "guard-misses", "deopt", "far"};
  return k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static const char *reg_name(unsigned r)
{
  static const char *const regs[17] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8",
                                       "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "flags"};
  static const char *const xmm[16] = {"xmm0", "xmm1", "xmm2",  "xmm3",  "xmm4",  "xmm5",  "xmm6",  "xmm7",
                                      "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"};
  if (r >= HP_REG_XMM0 && r < HP_REG_XMM0 + 16)
    return xmm[r - HP_REG_XMM0];
  return r < 17 ? regs[r] : "?";
}

static void print_regs(uint32_t m)
{
  if (!m) {
    printf(" -");
    return;
  }
  const char *sep = " ";
  for (unsigned r = 0; r < 16; r++)
    if (m & (1u << r)) {
      printf("%s%s", sep, reg_name(r));
      sep = ",";
    }
}

static void print_flags(uint8_t m)
{
  static const char *const names[7] = {"CF", "PF", "AF", "ZF", "SF", "OF", "DF"};
  if (!m) {
    printf(" -");
    return;
  }
  const char *sep = " ";
  for (unsigned f = 0; f < 7; f++)
    if (m & (1u << f)) {
      printf("%s%s", sep, names[f]);
      sep = ",";
    }
}

/* "r: rax,rcx w: rdx wp: - fr: - fw: CF,... fu: - mem: [rbp-0x8]:4 r vec: - fault: yes ctrl: -" */
static void print_effects(const struct hp_insn *in, const struct hp_insn_effects *e)
{
  printf("r:");
  print_regs(e->gpr_read);
  printf(" w:");
  print_regs(e->gpr_write);
  printf(" wp:");
  print_regs(e->gpr_write_partial);
  printf(" fr:");
  print_flags(e->flags_read);
  printf(" fw:");
  print_flags(e->flags_write);
  printf(" fu:");
  print_flags(e->flags_undef);
  printf(" mem:");
  if (!e->nmem)
    printf(" -");
  for (unsigned k = 0; k < e->nmem; k++) {
    const __typeof__(e->mem[0]) *m = &e->mem[k];
    printf(" [%s", m->seg == HP_SEG_FS ? "fs:" : m->seg == HP_SEG_GS ? "gs:" : "");
    bool any = false;
    if (m->base != HP_MEM_NONE) {
      printf("%s", m->base == HP_MEM_RIP ? "rip" : reg_name(m->base));
      any = true;
    }
    if (m->index != HP_MEM_NONE) {
      printf("%s%s*%u", any ? "+" : "", m->index == HP_MEM_VSIB ? "vsib" : reg_name(m->index), m->scale);
      any = true;
    }
    if (m->disp || !any)
      printf("%s%#llx", m->disp < 0 ? "-" : any ? "+" : "",
             m->disp < 0 ? -(unsigned long long)m->disp : (unsigned long long)m->disp);
    printf("]");
    if (m->base == HP_MEM_RIP)
      printf("=%#llx", (unsigned long long)(in->pc + in->len + (uint64_t)m->disp));
    if (m->size)
      printf(":%u", m->size);
    else
      printf(":?");
    printf(" %s%s", m->read ? "r" : "", m->write ? "w" : "");
  }
  printf(" vec: %s%s%s", e->vec_read ? "r" : "", e->vec_write ? "w" : "", e->vec_read || e->vec_write ? "" : "-");
  if (e->xmm) {
    printf(" xmm:");
    for (int r = 0; r < 32; r++)
      if (e->xmm & (1u << r))
        printf("%s%d", (e->xmm & ((1u << r) - 1)) ? "," : "", r);
  }
  if (e->xmm_all)
    printf(" xmm:all");
  printf(" fault: %s ctrl: %s\n", e->may_fault ? "yes" : "-", e->control ? "yes" : "-");
}

/* After mangle: what is live before each element ("all" = every GPR, or
 * every flag). */
static void liveness_mode_and_print(const struct hp_ilist *l, int mode);
static void liveness_and_print(const struct hp_ilist *l) { liveness_mode_and_print(l, 0); }

/* mode 0: hp_liveness; 1, 2: hp_liveness_loop with and without faults
 * seeing everything (the back edges see the loop's top). */
static void liveness_mode_and_print(const struct hp_ilist *l, int mode)
{
  struct hp_live *live = calloc(l->n + 1, sizeof *live);
  if (!live)
    die("%s", "out of memory");
  if (mode)
    hp_liveness_loop(l, NULL, NULL, live, mode == 1);
  else
    hp_liveness(l, live);
  printf("live before each element%s:\n",
         mode == 1 ? " (loop, a fault sees all)" : mode == 2 ? " (loop, what the code reads)" : "");
  for (unsigned i = 0; i <= l->n; i++) {
    if (i < l->n)
      printf("%#llx %-10s", (unsigned long long)l->v[i].pc, hp_op_name(l->v[i].op));
    else
      printf("%-19s", "end");
    printf(" gpr:");
    if (live[i].gpr == HP_LIVE_ALL_GPR)
      printf(" all");
    else
      print_regs(live[i].gpr);
    printf(" flags:");
    if (live[i].flags == HP_LIVE_ALL_FLAGS)
      printf(" all");
    else
      print_flags(live[i].flags);
    printf("\n");
  }
  free(live);
}

/* An element's instruction as text (text unchanged if it has none). */
static void insn_text(const ZydisFormatter *fmt, const struct hp_insn *in, char *text, size_t size)
{
  ZydisDecodedInstruction full;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (in->len && hp_insn_operands(in, &full, ops))
    ZydisFormatterFormatInstruction(fmt, &full, ops, full.operand_count_visible, text, size, in->pc, NULL);
}

static void print_expr(const struct hp_addr_expr *x)
{
  bool any = false;
  printf("[");
  if (x->base != HP_FOLD_NONE) {
    printf("%s", reg_name(x->base));
    any = true;
  }
  if (x->index != HP_FOLD_NONE) {
    printf("%s%s*%u", any ? "+" : "", reg_name(x->index), x->scale);
    any = true;
  }
  if (x->disp || !any)
    printf(any ? "%+d" : "%d", x->disp);
  printf("]");
}

static void print_pending(const struct hp_fold *f, uint16_t snap, uint16_t mask)
{
  const struct hp_fold_snap *s = &f->snap[snap];
  for (unsigned k = 0; k < s->n; k++)
    if ((mask >> s->order[k]) & 1) {
      printf(" %s=", reg_name(s->order[k]));
      print_expr(&s->e[s->order[k]]);
    }
}

/* Every trace is verified after each pass, as --opt-verify does
 * (src/opt/verify.h); a violation is printed (no expected file has one). */
static struct hp_insn verify_copy[4096];
static struct hp_ilist verify_before;
static void verify_keep(const struct hp_ilist *l)
{
  if (l->n > 4096)
    return;
  memcpy(verify_copy, l->v, l->n * sizeof l->v[0]);
  verify_before = *l;
  verify_before.v = verify_copy;
}
static void verify_print(const struct hp_ilist *l, enum hp_verify_pass pass, bool compare)
{
  struct hp_verify_error err;
  if (!hp_verify_trace(l, compare ? &verify_before : NULL, pass, &err))
    printf("verifier: after pass %s: element %d: %s\n", hp_verify_pass_name(pass), err.elem, err.what);
}

/* The fold pass's plan, element by element. */
static bool fold_and_print(struct hp_ilist *t)
{
  static struct hp_fold_elem elem[4096];
  static struct hp_fold_snap snap[512];
  static struct hp_fold_rewrite rw[256];
  static struct hp_fold f = {.elem = elem, .snap = snap, .snap_cap = 512, .rw = rw, .rw_cap = 256};
  static struct hp_insn_effects eff[4096];
  static bool known[4096];
  const char *why = NULL;
  if (t->n <= 4096)
    hp_analyze_list(t, eff, known);
  if (t->n > 4096 || !hp_fold(t, &f, eff, known, t->n, &why)) {
    printf("\nnot folded: %s\n", why ? why : "too long");
    return false;
  }
  t->fold = &f;
  verify_print(t, HP_VERIFY_FOLD, true);
  printf("\nfolded: %u absorbed, %u dead, %u rewritten, %u materialized, %u forwarded\n", f.absorbed, f.removed,
         f.rewritten, f.materialized, f.forwarded);
  ZydisFormatter fmt;
  ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL);
  for (unsigned i = 0; i < t->n; i++) {
    const struct hp_insn *in = &t->v[i];
    const struct hp_fold_elem *fe = &f.elem[i];
    char text[128] = "";
    insn_text(&fmt, in, text, sizeof text);
    printf("%#llx %-9s %-28s", (unsigned long long)in->pc, hp_op_name(in->op), text);
    if (fe->mat) {
      printf(" | first:");
      print_pending(&f, fe->pend, fe->mat);
    }
    if (fe->gone) {
      printf(" | gone");
    } else if (fe->rw) {
      const struct hp_fold_rewrite *r = &f.rw[fe->rw - 1];
      struct hp_insn as = *in;
      memcpy(as.bytes, r->bytes, r->zi.length);
      as.len = r->zi.length;
      char rtext[128] = "?";
      insn_text(&fmt, &as, rtext, sizeof rtext);
      printf(" | as: %s", rtext);
    }
    uint16_t left = (uint16_t)(f.snap[fe->pend].mask & ~fe->mat);
    if (left && !fe->gone) {
      printf(" | pending:");
      print_pending(&f, fe->pend, left);
    }
    printf("\n");
  }
  return true;
}

/* Decode only: each element's text and effects. */
static void analyze_and_print(const struct hp_ilist *l)
{
  ZydisFormatter fmt;
  ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL);
  printf("effects:\n");
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    char text[128] = "(no guest instruction)";
    insn_text(&fmt, in, text, sizeof text);
    printf("%#llx %s\n  ", (unsigned long long)in->pc, text);
    struct hp_insn_effects e;
    if (hp_analyze_insn(in, &e)) {
      print_effects(in, &e);
      continue;
    }
    printf("analyze_insn: no (op %s)", hp_op_name(in->op));
    if (in->len && hp_analyze_bytes(in->bytes, in->len, &e)) {
      printf("; bytes: ");
      print_effects(in, &e);
    } else {
      printf("; bytes: no\n");
    }
  }
}

static int lower_and_print(const struct hp_ilist *l, bool far, bool record, bool ret_wide)
{
  const struct hp_lower_opts opts = {.force_far = far, .record = record};
  struct hp_lower_sizes sz;
  hp_lower_sizes(l, &opts, &sz);
  struct hp_lowered_exit *exits = calloc(sz.exits + 1, sizeof *exits);
  uint32_t *pc_off = calloc(sz.pcs + 1, sizeof *pc_off);
  uint64_t *pc_guest = calloc(sz.pcs + 1, sizeof *pc_guest);
  uint8_t *pc_len = calloc(sz.pcs + 1, 1);
  struct hp_lowered_cont *conts = calloc(sz.conts + 1, sizeof *conts);
  struct hp_recov *recov = calloc(sz.recov + 1, sizeof *recov);
  uint8_t *hot = malloc(sz.hot);
  if (!exits || !pc_off || !pc_guest || !pc_len || !conts || !recov || !hot)
    die("%s", "out of memory");
  memset(hot, 0xcc, sz.hot);
  struct hp_lowered lo = {.exits = exits, .max_exits = sz.exits, .pc_off = pc_off, .pc_guest = pc_guest,
                          .pc_len = pc_len, .max_pc = sz.pcs, .conts = conts, .max_conts = sz.conts,
                          .recov = {recov, 0, sz.recov}};
  struct hp_emit e = {.rw = hot, .rx = HOT_RX, .cap = sz.hot, .ret_wide = ret_wide};
  printf("\nlowered%s%s at %#llx, cold_top %#llx:\n", far ? " (force_far)" : "",
         record ? " (record)" : "", (unsigned long long)HOT_RX, (unsigned long long)COLD_TOP);
  if (!hp_lower(l, &e, COLD_TOP, &opts, &lo)) {
    printf("hp_lower failed (overflow at %zu of %zu bytes)\n", e.pos, e.cap);
    return 1;
  }

  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisFormatter fmt;
  ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL);
  printf("hot code (%zu bytes):\n", e.pos);
  for (size_t pos = 0; pos < e.pos;) {
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, hot + pos, e.pos - pos, &in, ops))) {
      printf("  %04zx  (undecodable byte %02x)\n", pos, hot[pos]);
      pos++;
      continue;
    }
    char text[160], sym[200];
    ZydisFormatterFormatInstruction(&fmt, &in, ops, in.operand_count_visible, text, sizeof text,
                                    HOT_RX + pos, NULL);
    symbolize(text, sym, sizeof sym);
    printf("  %04zx  %s\n", pos, sym);
    pos += in.length;
  }

  unsigned expect = 0;
  for (unsigned i = 0; i < l->n; i++)
    expect += hp_op_exit_count(&l->v[i]);
  printf("exits (%u; hp_op_exit_count total %u):\n", lo.nexits, expect);
  for (unsigned k = 0; k < lo.nexits; k++) {
    const struct hp_lowered_exit *x = &lo.exits[k];
    uintptr_t stub = hp_lower_stub(COLD_TOP, k);
    printf("  %u %s -> %#llx stub %#llx", k, exit_kind_name(x->kind), (unsigned long long)x->target,
           (unsigned long long)stub);
    if (x->branch_pos) {
      int32_t rel;
      memcpy(&rel, hot + x->branch_pos, 4);
      uint64_t dest = HOT_RX + x->branch_pos + 4 + (int64_t)rel;
      /* Unlinked, a branch goes to its stub, or to the code that makes the
       * state exact before it (whose own jump must reach the stub). */
      uint64_t want = x->unlink_off ? HOT_RX + x->unlink_off : stub;
      printf(" branch@%04x%s", x->branch_pos, dest == want ? "" : " (NOT AIMED AT ITS STUB)");
      if (x->unlink_off) {
        memcpy(&rel, hot + x->stub_jmp, 4);
        if (HOT_RX + x->stub_jmp + 4 + (int64_t)rel != stub)
          printf(" (ITS EXACT-STATE CODE DOES NOT REACH THE STUB)");
      }
    }
    if (x->kind == HP_EXIT_PREDICT)
      printf(" tag@%04x", x->k_off);
    if (x->site >= 0)
      printf(" site=%d", x->site);
    if (x->back_edge)
      printf(" back-edge");
    if (x->unlink_off)
      printf(" unlinked->%04x", x->unlink_off);
    if (x->share_pos)
      printf(" share@%04x", x->share_pos);
    printf("\n");
  }
  printf("pc map (%u):\n", lo.npc);
  for (unsigned i = 0; i < lo.npc; i++)
    printf("  %04x %#llx len %u\n", pc_off[i], (unsigned long long)pc_guest[i], pc_len[i]);
  if (lo.nconts) {
    printf("continuations (%u):\n", lo.nconts);
    for (unsigned i = 0; i < lo.nconts; i++)
      printf("  %04x -> guest %#llx\n", conts[i].off, (unsigned long long)conts[i].guest);
  }
  printf("recovery (%u):\n", lo.recov.n);
  for (unsigned i = 0; i < lo.recov.n; i++) {
    const struct hp_recov *r = &recov[i];
    const char *name = field_name(r->slot);
    if (r->kind == HP_LOC_MEM_REG) { /* memory owed a register's value */
      const char *base = r->base_gs < 0 ? "rbp" : field_name(r->base_gs);
      printf("  [%04x, %04x) memory [%s%+d] (%u bytes) owed %s\n", r->start, r->end,
             r->base_gs < 0 ? "rbp" : base ? base : "?", r->slot, r->size, reg_name(r->reg));
      continue;
    }
    printf("  [%04x, %04x) %s ", r->start, r->end, reg_name(r->reg));
    switch (r->kind) {
    case HP_LOC_GS_SLOT:
      name ? printf("in gs:[%s]\n", name) : printf("in gs:[%#x]\n", (unsigned)r->slot);
      break;
    case HP_LOC_FLAGS_LAHF:
      name ? printf("lahf/seto in gs:[%s]\n", name) : printf("lahf/seto in gs:[%#x]\n", (unsigned)r->slot);
      break;
    case HP_LOC_REG:
      printf("in %s\n", reg_name((unsigned)r->slot & 15));
      break;
    case HP_LOC_EXPR: {
      struct hp_addr_expr x = {r->xbase, r->xindex, r->size, r->slot};
      printf("= ");
      print_expr(&x);
      printf("\n");
      break;
    }
    default:
      printf("kind %u\n", r->kind);
    }
  }
  if (lo.riprel_far)
    printf("riprel_far %u\n", lo.riprel_far);
  if (lo.spec_end)
    printf("speculative loads [%04x, %04x): a fault there goes to %04x\n", lo.spec_start, lo.spec_end,
           lo.deopt_off);
  else if (lo.deopt_off)
    printf("deopt exit at %04x\n", lo.deopt_off);
  if (lo.checks_code)
    printf("checks_code\n");
  return 0;
}

static struct hp_decode_limits limits(const struct input *in)
{
  return (struct hp_decode_limits){
      .max_insns = in->max_insns >= 0 ? (unsigned)in->max_insns : 64,
      .max_bytes = in->max_bytes >= 0 ? (size_t)in->max_bytes : (in->writable ? 256 : 64 * ZYDIS_MAX_INSTRUCTION_LENGTH),
      .stop_after_store = in->writable, /* as src/translate/builder.c */
  };
}

static void print_exit_counts(const struct hp_ilist *l)
{
  unsigned total = 0;
  printf("exits per element:");
  for (unsigned i = 0; i < l->n; i++) {
    printf(" %u", hp_op_exit_count(&l->v[i]));
    total += hp_op_exit_count(&l->v[i]);
  }
  printf(" (total %u)\n", total);
}

/* Trace mode: each block decoded and mangled, the recording stitched. */
static int run_trace(const struct input *in)
{
  struct hp_decode_limits lim = limits(in);
  unsigned cap = lim.max_insns + 1 + HP_MANGLE_EXTRA;
  static struct hp_recorded_block rec[MAX_BLOCKS];
  unsigned total = 0;
  printf("trace head %#llx, %u blocks\n", (unsigned long long)in->head, in->nblocks);
  for (unsigned k = 0; k < in->nblocks; k++) {
    const struct block_in *b = &in->blocks[k];
    struct hp_ilist l = {.v = calloc(cap, sizeof(struct hp_insn)), .cap = cap};
    if (!l.v)
      die("%s", "out of memory");
    unsigned ninsn = hp_decode_block(b->bytes, b->n, b->pc, &lim, &l);
    printf("\nblock %#llx next %#llx: decoded %u instructions, %u elements, guest bytes [%#llx, %#llx)\n",
           (unsigned long long)b->pc, (unsigned long long)b->next, ninsn, l.n, (unsigned long long)l.pc,
           (unsigned long long)l.end);
    if (!hp_mangle_block(&l, in->writable)) {
      printf("hp_mangle_block: no room\n");
      return 1;
    }
    hp_ilist_print(stdout, &l);
    printf("trace_block_ok %s, trace_block_ends %s\n", hp_trace_block_ok(&l) ? "yes" : "no",
           l.n && hp_trace_block_ends(&l) ? "yes" : "no");
    rec[k] = (struct hp_recorded_block){l.v, l.n, l.pc, l.end, b->next};
    total += l.n;
  }
  /* The capacity hp_trace_stitch asks for: the blocks' elements + 1. */
  unsigned scap = total + 1;
  struct hp_ilist t = {.v = calloc(scap, sizeof(struct hp_insn)), .cap = scap};
  if (!t.v)
    die("%s", "out of memory");
  printf("\n");
  if (!hp_trace_stitch(rec, in->nblocks, in->head, &t)) {
    printf("stitch failed\n");
    return 0;
  }
  printf("stitched %u elements, guest bytes [%#llx, %#llx):\n", t.n, (unsigned long long)t.pc,
         (unsigned long long)t.end);
  verify_print(&t, HP_VERIFY_STITCH, false);
  hp_ilist_print(stdout, &t);
  print_exit_counts(&t);
  if (in->misses) { /* guard misses counted in head counter 7, as a trace's */
    t.miss_counter = 7;
    t.miss_limit = 4096;
  }
  if (in->retelide) { /* before promotion, as the optimizer runs them */
    verify_keep(&t);
    static struct hp_insn_effects reff[4096];
    static bool rknown[4096];
    unsigned known = 0;
    if (t.n <= 4096) {
      hp_analyze_list(&t, reff, rknown);
      known = hp_retelide(&t, reff, rknown);
    }
    verify_print(&t, HP_VERIFY_RETELIDE, true);
    printf("\nretelide: %u returns known\n", known);
    hp_ilist_print(stdout, &t);
  }
  static struct hp_promotion promo;
  if (in->promote) {
    const char *why = NULL;
    verify_keep(&t);
    static struct hp_insn_effects eff[4096];
    static bool known[4096];
    if (t.n <= 4096)
      hp_analyze_list(&t, eff, known);
    t.jt_tail = in->dispatch; /* (the jump table itself is not searched here: no slots lowered) */
    bool done = t.n <= 4096 && hp_promote(&t, &promo, 0, in->defer, NULL, eff, known, &why);
    t.jt_tail = 0;
    if (done) {
      /* the guest's stack, as src/trace/record.c sets it (8 MiB) */
      promo.stack_lo = 0x7ffff7000000;
      promo.stack_hi = 0x7ffff7800000;
      verify_print(&t, HP_VERIFY_PROMOTE, true);
      verify_keep(&t);
      printf("\npromoted:\n");
      hp_ilist_print(stdout, &t);
      if (in->liveness) { /* with the promotion: its register accesses cannot fault */
        liveness_mode_and_print(&t, 1);
        liveness_mode_and_print(&t, 2);
      }
      if (in->fold)
        fold_and_print(&t);
    } else {
      printf("\nnot promoted: %s\n", why);
      if (in->fold) { /* the fold pass alone, as src/trace/record.c tries next */
        hp_promote_none(&t, &promo);
        printf("\nfold only:\n");
        if (!fold_and_print(&t))
          t.promo = NULL;
      }
    }
  }
  if (in->lower)
    return lower_and_print(&t, in->far, false, in->ret_wide);
  return 0;
}

int main(int argc, char **argv)
{
  static struct input in = {.max_bytes = -1, .max_insns = -1};
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--lower"))
      in.lower = true;
    else if (!strcmp(argv[i], "--far"))
      in.far = in.lower = true;
    else if (!strcmp(argv[i], "--record"))
      in.record = in.lower = true;
    else if (argv[i][0] == '-' || path)
      die("usage: golden [--lower] [--far] [--record] FILE.in (got '%s')", argv[i]);
    else
      path = argv[i];
  }
  if (!path)
    die("%s", "usage: golden [--lower] [--far] [--record] FILE.in");
  read_input(path, &in);
  init_fields();
  if (in.trace)
    return run_trace(&in);

  struct hp_decode_limits lim = limits(&in);
  unsigned cap = lim.max_insns + 1 + HP_MANGLE_EXTRA;
  struct hp_ilist l = {.v = calloc(cap, sizeof(struct hp_insn)), .cap = cap};
  if (!l.v)
    die("%s", "out of memory");
  unsigned ninsn = hp_decode_block(in.bytes, in.n, in.pc, &lim, &l);
  printf("decoded %u instructions, %u elements, guest bytes [%#llx, %#llx)\n", ninsn, l.n,
         (unsigned long long)l.pc, (unsigned long long)l.end);
  if (in.analyze) {
    hp_ilist_print(stdout, &l);
    analyze_and_print(&l);
    return 0;
  }
  if (!hp_mangle_block(&l, in.writable)) {
    printf("hp_mangle_block: no room\n");
    return 1;
  }
  hp_ilist_print(stdout, &l);
  print_exit_counts(&l);
  if (in.liveness)
    liveness_and_print(&l);
  if (in.lower)
    return lower_and_print(&l, in.far, in.record, in.ret_wide);
  return 0;
}
