/* The optimization report (see report.h and docs/report-schema.json). */
#include "hotpath/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "hotpath/builder.h"
#include "hotpath/cache.h"
#include "hotpath/fragment.h"
#include "hotpath/ilist.h"
#include "hotpath/rawsys.h"
#include "hotpath/memmap.h"
#include "hotpath/options.h"
#include "hotpath/stats.h"
#include "hotpath/symbols.h"
#include "hotpath/thread.h"

static int run_argc;
static char **run_argv;
static const char *run_exe;
static uint64_t run_start_ns;


void hp_report_begin(int argc, char **argv, const char *exe_path)
{
  run_argc = argc;
  run_argv = argv;
  run_exe = exe_path;
  run_start_ns = hp_now_ns();
}

/* Length of the well-formed UTF-8 sequence at p (2 to 4), 0 if none. */
static int utf8_len(const unsigned char *p)
{
  int n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : 0;
  for (int i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
      (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
    return 0; /* overlong, surrogate, past U+10FFFF */
  return n;
}

/* A JSON string: UTF-8 passed through, control characters escaped, bytes
 * that are not UTF-8 (argv can hold any) as U+FFFD, so that the file stays
 * valid JSON. */
static void jstr(FILE *f, const char *s)
{
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\') {
      fprintf(f, "\\%c", *p);
    } else if (*p < 0x20) {
      fprintf(f, "\\u%04x", *p);
    } else if (*p < 0x80) {
      fputc(*p, f);
    } else {
      int n = utf8_len(p);
      if (n) {
        fwrite(p, 1, (size_t)n, f);
        p += n - 1;
      } else {
        fputs("\\ufffd", f);
      }
    }
  }
  fputc('"', f);
}

static void write_run(FILE *f, int status, int sig)
{
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  getrusage(RUSAGE_SELF, &ru);
  fprintf(f, "  \"run\": {\n    \"program\": ");
  jstr(f, run_exe);
  fprintf(f, ",\n    \"arguments\": [");
  for (int i = 0; i < run_argc; i++) {
    fprintf(f, "%s", i ? ", " : "");
    jstr(f, run_argv[i]);
  }
  fprintf(f, "],\n    \"pid\": %d,\n    \"hotpath_version\": ", (int)getpid());
  jstr(f, HP_VERSION);
  fprintf(f, ",\n    \"options\": {");
  bool first = true;
#define HP_REPORT_OPT_BOOL(field) fprintf(f, "%s", hp_opt.field ? "true" : "false")
#define HP_REPORT_OPT_INT(field) fprintf(f, "%ld", hp_opt.field)
#define HP_REPORT_OPT_SIZE(field) fprintf(f, "%ld", hp_opt.field)
#define HP_REPORT_OPT_STR(field) (hp_opt.field ? jstr(f, hp_opt.field) : (void)fprintf(f, "null"))
#define HP_REPORT_OPT(type, field, name, def, min, max, arg, help)                                   \
  fprintf(f, "%s\n      \"%s\": ", first ? "" : ",", name);                                             \
  first = false;                                                                                     \
  HP_REPORT_OPT_##type(field);
  HP_OPTION_TABLE(HP_REPORT_OPT)
#undef HP_REPORT_OPT
  fprintf(f, "\n    },\n");
  fprintf(f, "    \"wall_seconds\": %.6f,\n", (double)(hp_now_ns() - run_start_ns) / 1e9);
  fprintf(f, "    \"user_seconds\": %.6f,\n", (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6);
  fprintf(f, "    \"sys_seconds\": %.6f,\n", (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
  if (sig)
    fprintf(f, "    \"exit_status\": null,\n    \"signal\": %d\n  },\n", sig);
  else
    fprintf(f, "    \"exit_status\": %d,\n    \"signal\": null\n  },\n", status);
}

static void write_totals(FILE *f)
{
  fprintf(f, "  \"totals\": {");
  bool first = true;
#define HP_REPORT_STAT(name, desc)                                                                   \
  fprintf(f, "%s\n    \"%s\": %llu", first ? "" : ",", #name, (unsigned long long)hp_stats.name);        \
  first = false;
  HP_STATS_TABLE(HP_REPORT_STAT)
#undef HP_REPORT_STAT
  fprintf(f, "\n  },\n");
}

/* Traces of flushed cache generations, copied at the flush. */
static struct hp_fragment *kept[HP_REPORT_KEPT_MAX];
static size_t nkept;

/* The guest's code mappings: those holding code hotpath translated (its
 * own libraries have the same names), one entry per mapping. */
#define MAX_MODULES 256
static void write_modules(FILE *f)
{
  struct hp_region mods[MAX_MODULES];
  unsigned n = 0;
  for (struct hp_cache_unit *u = hp_cache_units(); u; u = u->next)
    for (size_t i = 0; i < u->nowners; i++) {
      struct hp_region r;
      const struct hp_fragment *fr = u->owners[i].owner;
      uint64_t pc = fr->guest_pc;
      bool known = false;
      for (unsigned k = 0; k < n && !known; k++)
        known = pc >= mods[k].start && pc < mods[k].end;
      if (!known && n < MAX_MODULES && hp_memmap_query(pc, &r))
        mods[n++] = r;
    }
  for (size_t i = 0; i < nkept; i++) { /* traces of flushed generations */
    struct hp_region r;
    uint64_t pc = kept[i]->guest_pc;
    bool known = false;
    for (unsigned k = 0; k < n && !known; k++)
      known = pc >= mods[k].start && pc < mods[k].end;
    if (!known && n < MAX_MODULES && hp_memmap_query(pc, &r))
      mods[n++] = r;
  }
  fprintf(f, "  \"modules\": [");
  for (unsigned k = 0; k < n; k++) {
    fprintf(f, "%s\n    {\"name\": ", k ? "," : "");
    jstr(f, mods[k].name[0] ? mods[k].name : "anonymous");
    fprintf(f, ", \"code_start\": \"0x%lx\", \"code_end\": \"0x%lx\", \"file_offset\": \"0x%lx\"",
            (unsigned long)mods[k].start, (unsigned long)mods[k].end, (unsigned long)mods[k].file_off);
    const char *path, *id, *debug;
    if (mods[k].name[0] && hp_module_ident(mods[k].name, &path, &id, &debug)) {
      fprintf(f, ", \"path\": ");
      jstr(f, path);
      fprintf(f, ", \"build_id\": ");
      id ? jstr(f, id) : (void)fprintf(f, "null");
      fprintf(f, ", \"debug_file\": ");
      debug ? jstr(f, debug) : (void)fprintf(f, "null");
    }
    fprintf(f, "}");
  }
  fprintf(f, "\n  ],\n");
}


static uint64_t run_of(const struct hp_fragment *t)
{
  const uint64_t *entries = hp_frag_tr(t)->entries;
  return entries ? *entries * t->ninsn : 0;
}

static void *copy_of(const void *p, size_t n)
{
  if (!p || !n)
    return NULL;
  void *q = malloc(n);
  if (q)
    memcpy(q, p, n);
  return q;
}

static void free_kept(struct hp_fragment *c)
{
  free(c->pc_off);
  free(c->pc_guest);
  free(c->pc_len);
  if (c->tr) {
    free((void *)c->tr->kept_code);
    free(c->tr->entries);
    if (c->tr->opt) {
      free((void *)c->tr->opt->function);
      free((void *)c->tr->opt->guest);
      free((void *)c->tr->opt);
    }
    free(c->tr);
  }
  free(c);
}

/* A copy of trace t with what the report reads of it (nothing else). */
static struct hp_fragment *keep(const struct hp_fragment *t)
{
  struct hp_fragment *c = calloc(1, sizeof *c);
  struct hp_frag_trace *tr = calloc(1, sizeof *tr);
  if (!c || !tr) {
    free(c);
    free(tr);
    return NULL;
  }
  const struct hp_frag_trace *from = hp_frag_tr(t);
  c->tr = tr;
  c->guest_pc = t->guest_pc;
  c->code = t->code;
  c->size = t->size;
  c->kind = t->kind;
  c->removed = t->removed;
  c->ninsn = t->ninsn;
  c->npc = t->npc;
  c->pc_off = copy_of(t->pc_off, sizeof *t->pc_off * t->npc);
  c->pc_guest = copy_of(t->pc_guest, sizeof *t->pc_guest * t->npc);
  c->pc_len = copy_of(t->pc_len, t->npc);
  tr->kept_code = copy_of((const void *)t->code, t->size);
  tr->entries = copy_of(from->entries, sizeof *from->entries);
  if (from->opt) {
    struct hp_opt_record *o = copy_of(from->opt, sizeof *from->opt);
    if (o) {
      size_t bytes = 0;
      for (unsigned i = 0; i < t->npc; i++)
        bytes += t->pc_len[i];
      o->function = from->opt->function ? copy_of(from->opt->function, strlen(from->opt->function) + 1) : NULL;
      o->guest = copy_of(from->opt->guest, bytes);
    }
    tr->opt = o;
  }
  if ((t->npc && (!c->pc_off || !c->pc_guest || !c->pc_len)) || !tr->kept_code || !tr->entries ||
      (from->opt && !tr->opt)) {
    free_kept(c);
    return NULL;
  }
  return c;
}

void hp_report_keep_traces(void)
{
  if (!hp_opt.report)
    return;
  for (struct hp_cache_unit *u = hp_cache_units(); u; u = u->next)
    for (size_t i = 0; i < u->nowners; i++) {
      const struct hp_fragment *t = u->owners[i].owner;
      if (!t || t->kind != HP_FRAG_TRACE || !hp_frag_tr(t)->entries)
        continue;
      size_t at = nkept;
      if (nkept == HP_REPORT_KEPT_MAX) { /* full: in place of the one that ran least, if less */
        at = 0;
        for (size_t k = 1; k < nkept; k++)
          if (run_of(kept[k]) < run_of(kept[at]))
            at = k;
        if (run_of(kept[at]) >= run_of(t))
          continue;
      }
      struct hp_fragment *c = keep(t);
      if (!c)
        continue;
      if (at < nkept)
        free_kept(kept[at]);
      else
        nkept++;
      kept[at] = c;
    }
}

static int cmp_run(const void *a, const void *b)
{
  const struct hp_fragment *x = *(const struct hp_fragment *const *)a, *y = *(const struct hp_fragment *const *)b;
  const uint64_t *ex = hp_frag_tr(x)->entries, *ey = hp_frag_tr(y)->entries;
  uint64_t rx = ex ? *ex * x->ninsn : 0, ry = ey ? *ey * y->ninsn : 0;
  return (rx < ry) - (rx > ry);
}

/* The trace's code side by side: each guest instruction (from the pc map,
 * read back from guest memory) and the code hotpath made of it (from the
 * cache, up to the next guest instruction's), after what the trace's entry
 * does first. */
static void write_code(FILE *f, const struct hp_fragment *t, bool same_module)
{
  bool att = hp_opt.report_att;
  const struct hp_frag_trace *tr = hp_frag_tr(t);
  const uint8_t *code = tr->kept_code ? tr->kept_code : (const uint8_t *)t->code; /* flushed: its copy */
  const uint8_t *kept = tr->opt ? tr->opt->guest : NULL; /* its bytes when it was built */
  char text[160];
  fprintf(f, ",\n     \"code\": {\"syntax\": \"%s\", \"entry\": [", att ? "att" : "intel");
  for (uint32_t i = 0, off = 0, at = 0; i <= t->npc; i++) {
    uint32_t end = i < t->npc ? t->pc_off[i] : t->size;
    if (i > 0) {
      uint8_t g[16];
      unsigned glen = t->pc_len[i - 1];
      fprintf(f, "%s\n       {\"pc\": \"0x%lx\", \"guest\": ", i > 1 ? "," : "", (unsigned long)t->pc_guest[i - 1]);
      bool have = glen <= sizeof g &&
                  (kept ? (memcpy(g, kept + at, glen), true)
                        : same_module && hp_guest_read(g, (const void *)t->pc_guest[i - 1], glen));
      at += glen;
      unsigned len = have ? hp_format_insn(g, glen, t->pc_guest[i - 1], att, text, sizeof text) : 0;
      jstr(f, len ? text : "(code gone)");
      char line[128], src[256];
      if (same_module && hp_source_line(t->pc_guest[i - 1], line, sizeof line, src, sizeof src)) {
        fprintf(f, ", \"line\": ");
        jstr(f, line);
        if (src[0]) {
          fprintf(f, ", \"source\": ");
          jstr(f, src);
        }
      }
      fprintf(f, ", \"host\": [");
    }
    for (bool first = true; off < end; first = false) {
      unsigned len = hp_format_insn(code + off, end - off, t->code + off, att, text, sizeof text);
      fprintf(f, "%s", first ? "" : ", ");
      jstr(f, len ? text : "(bytes)");
      off += len ? len : 1;
    }
    fprintf(f, i == 0 ? "], \"insns\": [" : "]}");
  }
  fprintf(f, "]}");
}

static void write_trace(FILE *f, const struct hp_fragment *t, bool with_code)
{
  /* Named as when it was built (with --report every trace keeps its
   * record): its module may be gone or replaced now. */
  char now[96], sym[160];
  hp_memmap_where(t->guest_pc, now, sizeof now);
  const struct hp_opt_record *built = hp_frag_tr(t)->opt;
  const char *where = built ? built->where : now;
  const char *fn = built ? built->function : hp_symbolize(t->guest_pc, sym, sizeof sym) ? sym : NULL;
  bool same_module = strcmp(where, now) == 0;
  const uint64_t *counter = hp_frag_tr(t)->entries;
  uint64_t entries = counter ? *counter : 0;
  fprintf(f, "\n    {\"head\": \"0x%lx\", \"where\": ", (unsigned long)t->guest_pc);
  jstr(f, where);
  fprintf(f, ", \"function\": ");
  if (fn)
    jstr(f, fn);
  else
    fprintf(f, "null");
  fprintf(f, ", \"guest_instructions\": %u, \"code_bytes\": %u, \"entries\": %llu, "
             "\"instructions_run_estimate\": %llu, \"dropped\": %s",
          t->ninsn, t->size, (unsigned long long)entries, (unsigned long long)(entries * t->ninsn),
          t->removed ? "true" : "false");
  if (with_code && t->npc)
    write_code(f, t, same_module);
  const struct hp_opt_record *o = hp_frag_tr(t)->opt;
  if (!o) {
    fprintf(f, "}");
    return;
  }
  fprintf(f, ", \"blocks\": %u, \"optimizer_ns\": %u, \"returns_unchecked\": %u, \"optimized\": %s", o->blocks,
          o->optimizer_ns, o->returns_known, o->optimized ? "true" : "false");
  if (!o->optimized) {
    fprintf(f, ", \"not_optimized_because\": ");
    jstr(f, o->why ? o->why : "not asked");
    fprintf(f, "}");
    return;
  }
  const struct hp_promotion *p = &o->promo;
  if (p->fold_only) { /* the fold pass alone: why promotion left it */
    fprintf(f, ", \"fold_only\": true, \"not_promoted_because\": ");
    jstr(f, o->why ? o->why : "not a loop");
  }
  fprintf(f, ",\n     \"promote\": {\"slots\": [");
  for (unsigned k = 0; k < p->nslots; k++) {
    fprintf(f, "%s{\"frame_offset\": %d, \"size\": %u, \"register\": \"%s\", \"instructions_rewritten\": %u}",
            k ? ", " : "", p->slot[k].disp, p->slot[k].size, hp_promo_reg_name(p->slot[k].reg), p->slot[k].uses);
  }
  fprintf(f,
          "], \"stores_checked\": %u, \"calls_inlined\": %s, \"stores_deferred\": %s, \"loads_checked\": %u, "
          "\"globals_checked_at_entry\": %s, \"side_trace\": %s},\n     \"fold\": {\"instructions_absorbed\": %u, \"instructions_removed\": %u, "
          "\"instructions_rewritten\": %u, \"registers_materialized\": %u, \"loads_forwarded\": %u}}",
          p->checks, p->frame_check ? "true" : "false", p->deferred ? "true" : "false", p->load_checks,
          p->rip_check ? "true" : "false", p->side ? "true" : "false", o->fold_absorbed, o->fold_removed, o->fold_rewritten, o->fold_materialized,
          o->fold_forwarded);
}

static void write_traces(FILE *f)
{
  size_t n = 0, cap = 0;
  const struct hp_fragment **v = NULL;
  for (struct hp_cache_unit *u = hp_cache_units(); u; u = u->next)
    for (size_t i = 0; i < u->nowners; i++) {
      const struct hp_fragment *t = u->owners[i].owner;
      if (t->kind != HP_FRAG_TRACE)
        continue;
      if (n == cap) {
        cap = cap ? 2 * cap : 256;
        const struct hp_fragment **nv = realloc(v, cap * sizeof *v);
        if (!nv)
          break;
        v = nv;
      }
      v[n++] = t;
    }
  if (nkept) { /* and those of flushed generations */
    const struct hp_fragment **nv = realloc(v, (n + nkept) * sizeof *v);
    if (nv) {
      v = nv;
      for (size_t i = 0; i < nkept; i++)
        v[n++] = kept[i];
    }
  }
  if (n)
    qsort(v, n, sizeof *v, cmp_run);
  fprintf(f, "  \"traces\": [");
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "%s", i ? "," : "");
    write_trace(f, v[i], i < (size_t)hp_opt.report_code);
  }
  fprintf(f, "\n  ]\n");
  free(v);
}

void hp_report_write(int status, int sig, bool child)
{
  if (!hp_opt.report)
    return;
  char path[4096];
  if (!child)
    snprintf(path, sizeof path, "%s", hp_opt.report);
  else
    snprintf(path, sizeof path, "%s.%d", hp_opt.report, (int)getpid());
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "hotpath: report %s: %s\n", path, strerror(errno));
    return;
  }
  fprintf(f, "{\n  \"format\": \"hotpath-report\",\n  \"version\": %d,\n", HP_REPORT_VERSION);
  write_run(f, status, sig);
  hp_lock();
  write_totals(f);
  write_modules(f);
  write_traces(f);
  hp_unlock();
  fprintf(f, "}\n");
  if (fclose(f) != 0)
    fprintf(stderr, "hotpath: report %s: %s\n", path, strerror(errno));
}
