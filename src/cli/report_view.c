/* `hotpath report FILE.json`: a text summary of a --report file (see
 * report_view.h). Reads the JSON with a small parser of its own. */
#include "hotpath/report_view.h"

#include "hotpath/report_html.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A parsed JSON value. */
struct jv {
  enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } t;
  double num;
  bool b;
  char *str;
  struct jv *items; /* array elements or object values */
  char **keys;      /* object keys */
  size_t n;
};

struct parser {
  const char *p, *start;
  bool bad;
};

static void ws(struct parser *P)
{
  while (*P->p == ' ' || *P->p == '\n' || *P->p == '\r' || *P->p == '\t')
    P->p++;
}

static char *parse_str(struct parser *P)
{
  if (*P->p != '"') {
    P->bad = true;
    return NULL;
  }
  P->p++;
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  while (s && *P->p && *P->p != '"') {
    char c = *P->p++;
    if (c == '\\') {
      if (!*P->p) /* a backslash at the very end */
        break;
      c = *P->p++;
      if (c == 'n')
        c = '\n';
      else if (c == 't')
        c = '\t';
      else if (c == 'r')
        c = '\r';
      else if (c == 'b')
        c = '\b';
      else if (c == 'f')
        c = '\f';
      else if (c == 'u') { /* our writer escapes control characters only */
        unsigned v = 0;
        for (int k = 0; k < 4 && *P->p; k++, P->p++)
          v = v * 16 + (unsigned)(*P->p <= '9' ? *P->p - '0' : (*P->p | 0x20) - 'a' + 10);
        c = v < 0x80 ? (char)v : '?';
      } else if (c != '"' && c != '\\' && c != '/') {
        P->bad = true;
      }
    }
    if (n + 2 > cap) {
      char *ns = realloc(s, cap *= 2);
      if (!ns) {
        free(s);
        s = NULL;
        break;
      }
      s = ns;
    }
    s[n++] = c;
  }
  if (!s || *P->p != '"') {
    P->bad = true;
    free(s);
    return NULL;
  }
  P->p++;
  s[n] = 0;
  return s;
}

static bool parse_value(struct parser *P, struct jv *v, int depth);

static bool push(struct jv *v, struct jv *item, char *key)
{
  struct jv *ni = realloc(v->items, (v->n + 1) * sizeof *ni);
  if (!ni)
    return false;
  v->items = ni;
  if (v->t == J_OBJ) {
    char **nk = realloc(v->keys, (v->n + 1) * sizeof *nk);
    if (!nk)
      return false;
    v->keys = nk;
    v->keys[v->n] = key;
  }
  v->items[v->n++] = *item;
  return true;
}

static bool parse_value(struct parser *P, struct jv *v, int depth)
{
  memset(v, 0, sizeof *v);
  ws(P);
  if (depth > 64)
    return !(P->bad = true);
  char c = *P->p;
  if (c == '{' || c == '[') {
    v->t = c == '{' ? J_OBJ : J_ARR;
    P->p++;
    ws(P);
    if (*P->p == (c == '{' ? '}' : ']')) {
      P->p++;
      return true;
    }
    for (;;) {
      char *key = NULL;
      if (v->t == J_OBJ) {
        ws(P);
        if (!(key = parse_str(P)))
          return false;
        ws(P);
        if (*P->p++ != ':')
          return !(P->bad = true);
      }
      struct jv item;
      if (!parse_value(P, &item, depth + 1) || !push(v, &item, key))
        return !(P->bad = true);
      ws(P);
      if (*P->p == ',') {
        P->p++;
        continue;
      }
      if (*P->p++ != (v->t == J_OBJ ? '}' : ']'))
        return !(P->bad = true);
      return true;
    }
  }
  if (c == '"') {
    v->t = J_STR;
    return (v->str = parse_str(P)) != NULL;
  }
  if (!strncmp(P->p, "true", 4) || !strncmp(P->p, "false", 5)) {
    v->t = J_BOOL;
    v->b = *P->p == 't';
    P->p += v->b ? 4 : 5;
    return true;
  }
  if (!strncmp(P->p, "null", 4)) {
    P->p += 4;
    return true;
  }
  char *end;
  v->t = J_NUM;
  v->num = strtod(P->p, &end);
  if (end == P->p)
    return !(P->bad = true);
  P->p = end;
  return true;
}

static const struct jv *get(const struct jv *o, const char *key)
{
  static const struct jv none = {.t = J_NULL};
  if (o && o->t == J_OBJ)
    for (size_t i = 0; i < o->n; i++)
      if (!strcmp(o->keys[i], key))
        return &o->items[i];
  return &none;
}

static double num(const struct jv *v) { return v->t == J_NUM ? v->num : 0; }
static const char *str(const struct jv *v) { return v->t == J_STR ? v->str : ""; }

static char *read_file(const char *path, const char **err)
{
  FILE *f = fopen(path, "r");
  if (!f) {
    *err = strerror(errno);
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += got;
    if (n + 1 == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        buf = NULL;
      }
      buf = nb;
    }
  }
  fclose(f);
  if (!buf) {
    *err = "out of memory";
    return NULL;
  }
  buf[n] = 0;
  return buf;
}

/* One trace's line (at most 100 columns): share of instructions run,
 * entries, where, instructions, what the optimizer did. */
/* s in at most `cols` columns: a long name is cut in its middle ("..."),
 * and a "+0x..." offset at its end is kept whole (a cut offset would name
 * another place). */
static const char *fit(const char *s, size_t cols, char *out, size_t outsz)
{
  size_t len = strlen(s);
  if (len <= cols || cols < 8 || cols >= outsz)
    return s;
  const char *plus = strrchr(s, '+');
  size_t tail = plus && strncmp(plus, "+0x", 3) == 0 && (size_t)(s + len - plus) <= cols / 2 ? (size_t)(s + len - plus) : 0;
  size_t head = cols - 3 - tail;
  memcpy(out, s, head);
  memcpy(out + head, "...", 3);
  memcpy(out + head + 3, s + len - tail, tail + 1);
  if (!tail)
    out[cols] = 0;
  return out;
}

#define WHAT_COLS 42
static void trace_line(const struct jv *t, double all)
{
  double run = num(get(t, "instructions_run_estimate"));
  char what[256];
  size_t n = 0;
  const struct jv *promo = get(t, "promote");
  if (get(t, "optimized")->b && promo->t == J_OBJ) {
    const struct jv *slots = get(promo, "slots");
    if (get(t, "fold_only")->b)
      n += (size_t)snprintf(what, sizeof what, "folded only (%s)", str(get(t, "not_promoted_because")));
    else
      n += (size_t)snprintf(what, sizeof what, "%zu in", slots->n);
    for (size_t k = 0; k < slots->n && n < sizeof what - 16; k++)
      n += (size_t)snprintf(what + n, sizeof what - n, " %s", str(get(&slots->items[k], "register")));
    if (get(promo, "calls_inlined")->b && n < sizeof what - 16)
      n += (size_t)snprintf(what + n, sizeof what - n, ", calls");
    if (get(promo, "stores_deferred")->b && n < sizeof what - 16)
      n += (size_t)snprintf(what + n, sizeof what - n, ", deferred");
    if (get(promo, "side_trace")->b && n < sizeof what - 16)
      n += (size_t)snprintf(what + n, sizeof what - n, ", side");
    const struct jv *fold = get(t, "fold");
    int folded = fold->t == J_OBJ ? (int)(num(get(fold, "instructions_absorbed")) + num(get(fold, "instructions_removed"))) : 0;
    if (folded > 0 && n < sizeof what - 16)
      n += (size_t)snprintf(what + n, sizeof what - n, ", %d folded", folded);
    if (num(get(promo, "stores_checked")) > 0 && n < sizeof what - 16)
      snprintf(what + n, sizeof what - n, ", %d checked", (int)num(get(promo, "stores_checked")));
  } else {
    snprintf(what, sizeof what, "-- %s", str(get(t, "not_optimized_because")));
  }
  int unchecked = (int)num(get(t, "returns_unchecked"));
  if (unchecked > 0 && strlen(what) < sizeof what - 24)
    snprintf(what + strlen(what), sizeof what - strlen(what), " (%d ret%s unchecked)", unchecked,
             unchecked > 1 ? "s" : "");
  if (get(t, "dropped")->b)
    snprintf(what, sizeof what, "-- dropped");
  if (strlen(what) > WHAT_COLS)
    strcpy(what + WHAT_COLS - 3, "...");
  const char *fn = str(get(t, "function")); /* the function when known, else module+offset */
  char cut[64];
  printf("  %5.1f%% %11.0f  %-28s %5.0f  %s\n", all > 0 ? 100.0 * run / all : 0.0, num(get(t, "entries")),
         fit(*fn ? fn : str(get(t, "where")), 28, cut, sizeof cut), num(get(t, "guest_instructions")), what);
}

int hp_report_view_main(int argc, char **argv)
{
  int top = 20;
  const char *path = NULL, *html = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], "--html=", 7) || !strcmp(argv[i], "--html")) {
      html = argv[i][6] == '=' ? argv[i] + 7 : (i + 1 < argc ? argv[++i] : "");
      if (!*html) {
        fprintf(stderr, "hotpath: report: --html needs an output file (--html OUT.html)\n");
        return 2;
      }
    } else if (!strncmp(argv[i], "--top=", 6)) {
      char *end;
      long v = strtol(argv[i] + 6, &end, 10);
      if (*end || v < 1 || v > 100000) {
        fprintf(stderr, "hotpath: report: --top=%s: must be between 1 and 100000\n", argv[i] + 6);
        return 2;
      }
      top = (int)v;
    } else if (!strcmp(argv[i], "--help")) {
      printf("usage: hotpath report [--top=N] [--html OUT.html] FILE.json\n"
             "Summarizes a --report file: the run, the totals, the hottest functions, the N (default 20)\n"
             "traces that ran the most guest instructions and what the optimizer did to each, and why\n"
             "traces were left alone.\n"
             "  --html OUT.html  also write one self-contained page: a chart of the hot functions,\n"
             "                   sortable tables, and the hottest traces' guest code beside the code\n"
             "                   hotpath runs for it (changed lines highlighted)\n");
      return 0;
    } else if (argv[i][0] == '-' || path) {
      fprintf(stderr,
              "hotpath: report: unexpected argument '%s' (usage: hotpath report [--top=N] [--html OUT.html] "
              "FILE.json)\n",
              argv[i]);
      return 2;
    } else {
      path = argv[i];
    }
  }
  if (!path) {
    fprintf(stderr, "hotpath: report: no file (usage: hotpath report [--top=N] [--html OUT.html] FILE.json)\n");
    return 2;
  }
  const char *err = NULL;
  char *text = read_file(path, &err);
  if (!text) {
    fprintf(stderr, "hotpath: report %s: %s\n", path, err);
    return 2;
  }
  struct parser P = {text, text, false};
  struct jv r;
  bool ok = parse_value(&P, &r, 0);
  ws(&P);
  if (!ok || P.bad || *P.p || r.t != J_OBJ || strcmp(str(get(&r, "format")), "hotpath-report") != 0) {
    fprintf(stderr, "hotpath: report %s: not a hotpath report (%s at byte %ld)\n", path,
            ok && !P.bad && !*P.p ? "no \"format\": \"hotpath-report\"" : "bad JSON", (long)(P.p - P.start));
    return 2;
  }
  /* (version 2: optimized also counts traces the fold pass alone changed) */
  if (num(get(&r, "version")) != 1 && num(get(&r, "version")) != 2) {
    fprintf(stderr, "hotpath: report %s: version %.0f, this hotpath reads versions 1 and 2\n", path,
            num(get(&r, "version")));
    return 2;
  }
  const struct jv *run = get(&r, "run"), *tot = get(&r, "totals"), *traces = get(&r, "traces");
  if (run->t != J_OBJ || tot->t != J_OBJ || traces->t != J_ARR) {
    fprintf(stderr, "hotpath: report %s: not a hotpath report (no run, totals or traces)\n", path);
    return 2;
  }
  if (html && hp_report_html(text, html) != 0)
    return 2;
  printf("hotpath report: %s", str(get(run, "program")));
  const struct jv *args = get(run, "arguments");
  for (size_t i = 1; i < args->n; i++)
    printf(" %s", str(&args->items[i]));
  printf("\n  pid %.0f, hotpath %s, --opt=%.0f; ", num(get(run, "pid")), str(get(run, "hotpath_version")),
         num(get(get(run, "options"), "opt")));
  if (get(run, "signal")->t == J_NUM)
    printf("died of signal %.0f", num(get(run, "signal")));
  else
    printf("exit status %.0f", num(get(run, "exit_status")));
  printf("; wall %.2f s, user %.2f s, sys %.2f s\n", num(get(run, "wall_seconds")), num(get(run, "user_seconds")),
         num(get(run, "sys_seconds")));
  double all = num(get(tot, "trace_insns_run")) + num(get(tot, "block_insns_run"));
  printf("  %.0f blocks, %.0f traces: %.0f loops with frame slots in registers (%.0f slots, %.0f in xmm registers),\n"
         "  %.0f side traces (in their loop's registers), %.0f dropped by a deopt, %.0f folded only;\n"
         "  %.0f%% of guest instructions run in traces;\n"
         "  optimizer time per trace: median %.1f us, max %.1f us\n",
         num(get(tot, "blocks_built")), num(get(tot, "traces_built")), num(get(tot, "opt_traces")),
         num(get(tot, "opt_slots_promoted")), num(get(tot, "opt_xmm_slots_promoted")),
         num(get(tot, "opt_traces_side")), num(get(tot, "opt_traces_deopt")), num(get(tot, "opt_traces_fold_only")),
         num(get(tot, "trace_share_percent")),
         num(get(tot, "opt_ns_median")) / 1000, num(get(tot, "opt_ns_max")) / 1000);
  /* Hot functions: the traces' estimates summed by function (the name
   * before "+0x"; module+offset for code without symbols is its own). */
  struct fn {
    char name[128];
    double run;
    unsigned traces;
  } fns[32];
  unsigned nfns = 0;
  for (size_t i = 0; i < traces->n; i++) {
    const struct jv *t = &traces->items[i];
    char name[128]; /* module+offset whole (a cut offset would merge places) */
    snprintf(name, sizeof name, "%s", *str(get(t, "function")) ? str(get(t, "function")) : str(get(t, "where")));
    char *plus = strstr(name, "+0x");
    if (plus && *str(get(t, "function")))
      *plus = 0;
    unsigned k;
    for (k = 0; k < nfns && strcmp(fns[k].name, name); k++)
      ;
    if (k == nfns) {
      if (nfns == 32)
        continue;
      snprintf(fns[nfns].name, sizeof fns[nfns].name, "%s", name);
      fns[nfns].run = 0;
      fns[nfns++].traces = 0;
    }
    fns[k].run += num(get(t, "instructions_run_estimate"));
    fns[k].traces++;
  }
  if (nfns)
    printf("\nhot functions (share of guest instructions run in their traces):\n");
  for (unsigned done = 0; done < nfns && done < 10; done++) {
    unsigned best = 0;
    for (unsigned k = 1; k < nfns; k++)
      if (fns[k].run > fns[best].run)
        best = k;
    if (fns[best].run < 0)
      break;
    char cut[64];
    printf("  %5.1f%%  %-40s %3u trace%s\n", all > 0 ? 100.0 * fns[best].run / all : 0.0,
           fit(fns[best].name, 40, cut, sizeof cut), fns[best].traces, fns[best].traces == 1 ? "" : "s");
    fns[best].run = -1;
  }
  printf("\nhot traces (share of guest instructions run, estimated from entries x length):\n");
  printf("  %6s %11s  %-28s %5s  %s\n", "share", "entries", "function (or module+offset)", "insns",
         "optimizer (slots in registers, or why not)");
  for (size_t i = 0; i < traces->n && i < (size_t)top; i++)
    trace_line(&traces->items[i], all);
  /* Why traces were left alone, most frequent first. */
  const char *why[64];
  unsigned count[64], nwhy = 0;
  for (size_t i = 0; i < traces->n; i++) {
    const char *w = str(get(&traces->items[i], "not_optimized_because"));
    if (!*w)
      continue;
    unsigned k;
    for (k = 0; k < nwhy && strcmp(why[k], w); k++)
      ;
    if (k == nwhy && nwhy < 64) {
      why[nwhy] = w;
      count[nwhy++] = 0;
    }
    if (k < nwhy)
      count[k]++;
  }
  if (nwhy)
    printf("\ntraces left alone, and why:\n");
  for (unsigned done = 0; done < nwhy; done++) {
    unsigned best = 0;
    for (unsigned k = 1; k < nwhy; k++)
      if (count[k] > count[best])
        best = k;
    printf("  %5u  %s\n", count[best], why[best]);
    count[best] = 0;
  }
  return 0;
}
