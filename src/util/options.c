#include "hotpath/options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hotpath/log.h"

struct hp_options hp_opt;

void hp_options_defaults(void)
{
#define HP_OPT_DEFAULT(type, field, name, def, min, max, arg, help) hp_opt.field = def;
  HP_OPTION_TABLE(HP_OPT_DEFAULT)
#undef HP_OPT_DEFAULT
}

void hp_usage(FILE *out)
{
  fprintf(out,
          "usage: hotpath [OPTIONS] [--] PROGRAM [ARGS...]\n"
          "       hotpath compare [--runs N] [--json] [--reference=PROG_O2] [--report[=FILE]] [OPTIONS]\n"
          "                       [--] PROGRAM [ARGS...]    (hotpath compare --help)\n"
          "       hotpath report [--top=N] [--html OUT.html] FILE.json    (summarizes a --report file)\n"
          "\n"
          "Runs an unmodified x86-64 Linux ELF program (or #! script) from hotpath's code cache.\n"
          "PROGRAM without a '/' is searched in PATH. Options may also be given in the\n"
          "HOTPATH_OPTIONS environment variable (applied before the command line).\n"
          "\n"
          "options:\n"
          "  --help                 print this help and exit\n"
          "  --version              print the version and exit\n");
#define HP_OPT_HELP(type, field, name, def, min, max, arg, help)                                   \
  {                                                                                      \
    char left[64];                                                                       \
    snprintf(left, sizeof left, "--%s%s%s", name, arg[0] ? "=" : "", arg);               \
    fprintf(out, "  %-22s %s\n", left, help);                                            \
  }
  HP_OPTION_TABLE(HP_OPT_HELP)
#undef HP_OPT_HELP
  fprintf(out,
          "\n"
          "exit status: the program's own, or\n"
          "  2    usage error (unknown option, missing PROGRAM)\n"
          "  124  --cache-size is too small for one fragment of the program\n"
          "  125  the program did something hotpath does not support yet (message says what)\n"
          "  126  PROGRAM cannot be executed (directory, no permission, not a supported ELF)\n"
          "  127  PROGRAM or its ELF interpreter was not found\n");
}

static bool parse_long(const char *name, const char *s, long min, long max, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 0);
  if (!*s || *end || errno) {
    fprintf(stderr, "hotpath: --%s: '%s' is not a number\n", name, s);
    return false;
  }
  if (v < min || v > max) {
    if (min == max)
      fprintf(stderr, "hotpath: --%s=%s: must be %ld\n", name, s, min);
    else
      fprintf(stderr, "hotpath: --%s=%s: must be between %ld and %ld\n", name, s, min, max);
    return false;
  }
  *out = v;
  return true;
}

/* A size in bytes: digits with an optional K, M or G (powers of 1024). */
static bool parse_size(const char *name, const char *s, long min, long max, long *out)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k')
    shift = 10;
  else if (*end == 'M' || *end == 'm')
    shift = 20;
  else if (*end == 'G' || *end == 'g')
    shift = 30;
  if (shift)
    end++;
  if (!*s || *s < '0' || *s > '9' || *end || errno || v > (~0ull >> 1) >> shift) {
    fprintf(stderr, "hotpath: --%s=%s: not a size (bytes, or a number with K, M or G)\n", name, s);
    return false;
  }
  v <<= shift;
  if (v < (unsigned long long)min || v > (unsigned long long)max) {
    fprintf(stderr, "hotpath: --%s=%s: must be between %ldM and %ldG\n", name, s, min >> 20, max >> 30);
    return false;
  }
  *out = (long)v;
  return true;
}

bool hp_option_set(const char *arg)
{
  if (strncmp(arg, "--", 2) != 0) {
    fprintf(stderr, "hotpath: %s: unknown option\n", arg);
    return false;
  }
  const char *body = arg + 2;
  const char *eq = strchr(body, '=');
  size_t nlen = eq ? (size_t)(eq - body) : strlen(body);
  const char *val = eq ? eq + 1 : NULL;
#define HP_OPT_MATCH(type, field, name, def, min, max, arg_, help)                        \
  if (strlen(name) == nlen && strncmp(body, name, nlen) == 0) {                          \
    HP_OPT_SET_##type(field, name, min, max);                                             \
  }
#define HP_OPT_SET_BOOL(field, name, min, max)                                                    \
  {                                                                                       \
    if (val) {                                                                            \
      fprintf(stderr, "hotpath: --%s takes no value\n", name);                            \
      return false;                                                                       \
    }                                                                                     \
    hp_opt.field = true;                                                                  \
    return true;                                                                          \
  }
#define HP_OPT_SET_INT(field, name, min, max)                                             \
  {                                                                                       \
    if (!val) {                                                                           \
      fprintf(stderr, "hotpath: --%s needs a value (--%s=N)\n", name, name);              \
      return false;                                                                       \
    }                                                                                     \
    return parse_long(name, val, min, max, &hp_opt.field);                                \
  }
#define HP_OPT_SET_SIZE(field, name, min, max)                                            \
  {                                                                                       \
    if (!val) {                                                                           \
      fprintf(stderr, "hotpath: --%s needs a value (--%s=SIZE)\n", name, name);           \
      return false;                                                                       \
    }                                                                                     \
    return parse_size(name, val, min, max, &hp_opt.field);                                \
  }
#define HP_OPT_SET_STR(field, name, min, max)                                                    \
  {                                                                                       \
    if (!val || !*val) {                                                                  \
      fprintf(stderr, "hotpath: --%s needs a value (--%s=...)\n", name, name);            \
      return false;                                                                       \
    }                                                                                     \
    hp_opt.field = val;                                                                   \
    return true;                                                                          \
  }
  HP_OPTION_TABLE(HP_OPT_MATCH)
#undef HP_OPT_MATCH
  fprintf(stderr, "hotpath: %s: unknown option\n", arg);
  return false;
}

/* The optimizer's passes, by the names --disable-pass takes. */
static const char *const pass_names[] = {"retelide", "promote", "defer", "fold", "side", "dispatch"};

/* Whether name is in the comma-separated list. */
static bool in_list(const char *list, const char *name)
{
  size_t n = strlen(name);
  for (const char *p = list; p && *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0)
      return true;
    p = comma ? comma + 1 : NULL;
  }
  return false;
}

bool hp_opt_pass_enabled(const char *name) { return !in_list(hp_opt.disable_pass, name); }

/* Checks option values that the table cannot express. */
bool hp_options_valid(void)
{
  if (hp_opt.verbose && hp_opt.log_level < 1)
    hp_opt.log_level = 1;
  for (const char *p = hp_opt.disable_pass; p && *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    bool known = false;
    for (size_t k = 0; k < sizeof pass_names / sizeof pass_names[0]; k++)
      known |= strlen(pass_names[k]) == len && strncmp(p, pass_names[k], len) == 0;
    if (!known) {
      fprintf(stderr, "hotpath: --disable-pass: unknown pass '%.*s' (passes: retelide, promote, defer, fold, side, dispatch)\n", (int)len, p);
      return false;
    }
    p = comma ? comma + 1 : NULL;
  }
  return true;
}

static bool parse_env_options(void)
{
  const char *env = getenv("HOTPATH_OPTIONS");
  if (!env)
    return true;
  char *copy = strdup(env);
  bool ok = true;
  for (char *save = NULL, *tok = strtok_r(copy, " \t\n", &save); tok;
       tok = strtok_r(NULL, " \t\n", &save)) {
    if (!hp_option_set(tok)) {
      fprintf(stderr, "hotpath: (in HOTPATH_OPTIONS)\n");
      ok = false;
      break;
    }
  }
  /* Values point into copy: it lives as long as the options do. */
  return ok;
}

int hp_options_parse(int argc, char **argv)
{
  hp_options_defaults();
  /* A hotpath that follows an execve (--exec-root-pid) has all its options
   * on its command line: HOTPATH_OPTIONS there is the program's, not ours. */
  bool followed = false;
  for (int k = 1; k < argc && argv[k][0] == '-' && strcmp(argv[k], "--") != 0; k++)
    followed |= strncmp(argv[k], "--exec-root-pid=", 16) == 0;
  if (!followed && !parse_env_options())
    goto usage;
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (a[0] != '-' || a[1] == '\0')
      break;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      hp_usage(stdout);
      exit(0);
    }
    if (strcmp(a, "--version") == 0) {
      printf("hotpath %s\n", HP_VERSION);
      exit(0);
    }
    if (!hp_option_set(a))
      goto usage;
  }
  if (!hp_options_valid())
    goto usage;
  if (i >= argc) {
    fprintf(stderr, "hotpath: missing PROGRAM\n");
    goto usage;
  }
  return i;
usage:
  fprintf(stderr, "usage: hotpath [OPTIONS] [--] PROGRAM [ARGS...]  (hotpath --help for more)\n");
  return -1;
}
