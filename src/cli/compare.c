/* hotpath compare: run PROGRAM natively and under hotpath, alternating,
 * check that every run prints the same stdout and exits the same way as the
 * first native run, and report wall / CPU time medians and the speed-up.
 *
 *   hotpath compare [--runs N] [--json] [--stdin FILE|-] [--reference=PROG]
 *                   [--report[=FILE]] [HOTPATH-OPTIONS] [--] PROGRAM [ARGS...]
 *
 * With --reference, a second build of the program (the -O2 one) runs
 * natively in the same alternation and must print the same; the table then
 * says how much of the gap between the two builds hotpath closed. With
 * --report, one more run under hotpath writes a report, summarized below.
 */
#include "hotpath/compare.h"
#include "hotpath/envhide.h"
#include "hotpath/options.h"

#include "hotpath/report_view.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 1000
#define DEFAULT_RUNS 5

enum { NATIVE, HOTPATH, REFERENCE, SIDES };
static const char *const side_name[SIDES] = {"native", "hotpath", "reference"};

struct compare {
    int runs, json;
    const char *stdin_src;   /* NULL: /dev/null, "-": our stdin, else a file */
    char **hp_opts;          /* hotpath options, passed through */
    int n_hp_opts;
    char **prog_argv;        /* PROGRAM ARGS... as given */
    int prog_argc;
    char *path;              /* PROGRAM resolved against PATH */
    const char *reference;   /* --reference: another build of PROGRAM, run natively */
    char *ref_path;
    int report;              /* --report: one more hotpath run with --report */
    const char *report_file; /* its file (NULL: a temporary one) */
    char **argv[SIDES];      /* full argv of the native / hotpath / reference child */
    int sides;               /* 2, or 3 with a reference */
    int in_fd, ref_fd, out_fd, err_fd;
    int ref_status;
    double *wall[SIDES], *cpu[SIDES];
    int progress;
};

static void usage(FILE *f)
{
    fputs("usage: hotpath compare [--runs N] [--json] [--stdin FILE|-] [--reference=PROG]\n"
          "                       [--report[=FILE]] [HOTPATH-OPTIONS] [--] PROGRAM [ARGS...]\n"
          "\n"
          "Runs PROGRAM natively and under hotpath: one warm-up run each, then N runs\n"
          "each, alternating.  Every run's stdout and exit status must match the first\n"
          "native run.  Prints wall time median/min/max, median user+sys and the\n"
          "speed-up (native median / hotpath median).\n"
          "\n"
          "  --runs N        measured runs per side (default 5, at most 1000)\n"
          "  --json          print one JSON object instead of the table\n"
          "  --stdin FILE    feed FILE to every run ('-': read our stdin once and replay\n"
          "                  it); default: /dev/null\n"
          "  --reference=PROG  also time PROG (another build of PROGRAM, e.g. its -O2\n"
          "                  one) natively with the same arguments, in the same\n"
          "                  alternation; its output must match too.  Prints how much\n"
          "                  of the gap between PROGRAM and PROG hotpath closed:\n"
          "                  (native - hotpath) / (native - reference), medians\n"
          "  --report[=FILE] after the timed runs, one more run under hotpath with\n"
          "                  --report=FILE (default: a temporary file), summarized as\n"
          "                  `hotpath report` does (not with --json)\n"
          "  --help          show this help\n"
          "\n"
          "Other options before PROGRAM (or --) are passed to the hotpath run, e.g.\n"
          "--opt=1 or --native (use the --name=value form).\n"
          "Exit status: 0 identical, 1 a run differed, 2 usage error, 3 internal\n"
          "error, 127 PROGRAM not found.\n",
          f);
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hotpath: compare: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

/* Resolve PROGRAM like execvp would; NULL if not found / not executable. */
static char *resolve_program(const char *prog)
{
    struct stat st;
    if (strchr(prog, '/') != NULL) {
        if (stat(prog, &st) == 0 && S_ISREG(st.st_mode) && access(prog, X_OK) == 0)
            return strdup(prog);
        return NULL;
    }
    const char *path = getenv("PATH");
    if (path == NULL || *path == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path != '\0') {
        size_t len = strcspn(path, ":");
        char *cand;
        if (asprintf(&cand, "%.*s%s%s", (int)len, path, len ? "/" : "", prog) < 0)
            return NULL;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cand;
        free(cand);
        path += len + (path[len] == ':');
    }
    return NULL;
}

/* An unlinked, close-on-exec temporary file. */
static int temp_fd(void)
{
    const char *dir = getenv("TMPDIR");
    char *name;
    if (dir == NULL || *dir == '\0')
        dir = "/tmp";
    if (asprintf(&name, "%s/hotpath-compare-XXXXXX", dir) < 0)
        return -1;
    int fd = mkostemp(name, O_CLOEXEC);
    if (fd >= 0)
        unlink(name);
    free(name);
    return fd;
}

static int copy_fd(int from, int to)
{
    char buf[65536];
    ssize_t n;
    while ((n = read(from, buf, sizeof buf)) > 0)
        if (write(to, buf, n) != n)
            return -1;
    return n < 0 ? -1 : 0;
}

/* Whole contents of a (temp) file; *len gets the size. */
static char *slurp(int fd, size_t *len)
{
    struct stat st;
    char *buf = fstat(fd, &st) == 0 ? malloc(st.st_size + 1) : NULL;
    ssize_t n = buf != NULL ? pread(fd, buf, st.st_size, 0) : -1;
    if (n < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void describe_status(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "wait status %#x", status);
}

/* Run one side with stdout into out_fd; returns the wait status or -1. */
static int run_once(struct compare *c, int side, int out_fd, double *wall, double *cpu)
{
    if (ftruncate(out_fd, 0) != 0 || ftruncate(c->err_fd, 0) != 0 ||
        lseek(out_fd, 0, SEEK_SET) < 0 || lseek(c->err_fd, 0, SEEK_SET) < 0 ||
        lseek(c->in_fd, 0, SEEK_SET) < 0)
        return fail(-1, "cannot reset temporary files: %s", strerror(errno));
    fflush(NULL);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        return fail(-1, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (dup2(c->in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(c->err_fd, 2) < 0)
            _exit(127);
        /* hotpath's core runs dynamically linked: the program's loader
         * variables (given back for the native runs) must not reach its
         * ld.so, as the launcher ensures for `hotpath PROGRAM`. */
        extern char **environ;
        if (side == HOTPATH && !(environ = hp_env_hide_loader_vars(environ))) {
            dprintf(2, "hotpath: compare: cannot hide the program's loader variables\n");
            _exit(126);
        }
        execv(c->argv[side][0], c->argv[side]);
        dprintf(2, "hotpath: compare: cannot execute %s: %s\n", c->argv[side][0],
                strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return fail(-1, "wait4: %s", strerror(errno));
    *wall = now() - t0;
    *cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
    return status;
}

static void print_line(const char *label, const char *s, size_t len, int eof)
{
    if (eof)
        fprintf(stderr, "    %-16s | (end of output)\n", label);
    else
        fprintf(stderr, "    %-16s | %.*s%s\n", label, (int)(len > 200 ? 200 : len), s,
                len > 200 ? " [...]" : "");
}

/* Explain how the run's stdout differs from the reference on stderr. */
static void report_stdout_diff(struct compare *c)
{
    size_t rlen = 0, olen = 0;
    char *ref = slurp(c->ref_fd, &rlen), *out = slurp(c->out_fd, &olen);
    if (ref == NULL || out == NULL) {
        fprintf(stderr, "  stdout differs (cannot read the captured output)\n");
    } else {
        size_t i = 0, line = 1, bol = 0;
        while (i < rlen && i < olen && ref[i] == out[i]) {
            if (ref[i++] == '\n') {
                line++;
                bol = i;
            }
        }
        fprintf(stderr, "  stdout differs at line %zu (first native run: %zu bytes, this run: "
                "%zu bytes):\n", line, rlen, olen);
        print_line("first native run", ref + bol, strcspn(ref + bol, "\n"), bol >= rlen);
        print_line("this run", out + bol, strcspn(out + bol, "\n"), bol >= olen);
    }
    free(ref);
    free(out);
}

static void report_stderr_tail(struct compare *c)
{
    size_t len = 0;
    char *err = slurp(c->err_fd, &len);
    if (err != NULL && len > 0) {
        size_t start = len > 600 ? len - 600 : 0;
        fprintf(stderr, "  stderr of this run%s:\n", start ? " (last 600 bytes)" : "");
        fprintf(stderr, "%s%s", err + start, err[len - 1] == '\n' ? "" : "\n");
    }
    free(err);
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void json_head(const struct compare *c, int identical)
{
    printf("{\"runs\": %d, \"identical\": %s, \"program\": ", c->runs,
           identical ? "true" : "false");
    json_string(c->prog_argv[0]);
    printf(", \"args\": [");
    for (int i = 1; i < c->prog_argc; i++) {
        printf(i > 1 ? ", " : "");
        json_string(c->prog_argv[i]);
    }
    printf("], \"hotpath_options\": [");
    for (int i = 0; i < c->n_hp_opts; i++) {
        printf(i ? ", " : "");
        json_string(c->hp_opts[i]);
    }
    printf("]");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) /* sorts v */
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct stats {
    double median, min, max, cpu_median;
};

static struct stats summarize(const double *wall, const double *cpu, int n)
{
    double *s = malloc(2 * n * sizeof *s);
    memcpy(s, wall, n * sizeof *s);
    memcpy(s + n, cpu, n * sizeof *s);
    struct stats st = {median(s, n), 0, 0, median(s + n, n)};
    st.min = s[0];
    st.max = s[n - 1];
    free(s);
    return st;
}

static void report(const struct compare *c)
{
    struct stats st[SIDES] = {{0, 0, 0, 0}};
    for (int s = 0; s < c->sides; s++)
        st[s] = summarize(c->wall[s], c->cpu[s], c->runs);
    double speedup = st[HOTPATH].median > 0 ? st[NATIVE].median / st[HOTPATH].median : 0;
    /* The share of the native-to-reference gap hotpath closed (wall medians);
     * meaningless when the reference is not faster. */
    double gap = c->sides == 3 ? st[NATIVE].median - st[REFERENCE].median : 0;
    int gap_ok = c->sides == 3 && gap > 0.01 * st[NATIVE].median;
    double closed = gap_ok ? (st[NATIVE].median - st[HOTPATH].median) / gap : 0;
    char status[64];
    describe_status(c->ref_status, status, sizeof status);
    if (c->json) {
        json_head(c, 1);
        printf(", \"exit_status\": %d", WIFEXITED(c->ref_status) ? WEXITSTATUS(c->ref_status)
                                                                  : 128 + WTERMSIG(c->ref_status));
        for (int s = 0; s < c->sides; s++) {
            printf(", \"%s\": {\"median_s\": %.6f, \"min_s\": %.6f, \"max_s\": %.6f, "
                   "\"user_sys_median_s\": %.6f, \"wall_s\": [",
                   side_name[s], st[s].median, st[s].min, st[s].max, st[s].cpu_median);
            for (int i = 0; i < c->runs; i++)
                printf("%s%.6f", i ? ", " : "", c->wall[s][i]);
            printf("]}");
        }
        if (c->sides == 3) {
            printf(", \"reference_program\": ");
            json_string(c->reference);
            printf(", \"reference_speedup\": %.4f, \"gap_closed\": ",
                   st[REFERENCE].median > 0 ? st[NATIVE].median / st[REFERENCE].median : 0);
            if (gap_ok)
                printf("%.4f", closed);
            else
                printf("null");
        }
        printf(", \"speedup\": %.4f}\n", speedup);
        return;
    }
    printf("program:  ");
    for (int i = 0; i < c->prog_argc; i++)
        printf("%s%s", i ? " " : "", c->prog_argv[i]);
    printf("\nhotpath:  ");
    for (int i = 0; i < c->n_hp_opts; i++)
        printf("%s%s", i ? " " : "", c->hp_opts[i]);
    printf("%s\n", c->n_hp_opts ? "" : "(default options)");
    if (c->sides == 3)
        printf("reference: %s (native, same arguments)\n", c->reference);
    printf("runs:     %d per side after one warm-up each, alternating\n", c->runs);
    printf("outputs:  identical in every run (stdout, %s)\n\n", status);
    printf("          median wall    min wall    max wall   median user+sys\n");
    for (int s = 0; s < c->sides; s++)
        printf("%-9s%10.4f s %9.4f s %9.4f s %13.4f s\n", side_name[s], st[s].median,
               st[s].min, st[s].max, st[s].cpu_median);
    printf("\nspeed-up: %.2fx (native median / hotpath median)\n", speedup);
    if (c->sides == 3) {
        printf("reference: %.2fx (native median / reference median)\n",
               st[REFERENCE].median > 0 ? st[NATIVE].median / st[REFERENCE].median : 0);
        if (gap_ok)
            printf("gap closed: %.0f%% of the way from native to the reference "
                   "((native - hotpath) / (native - reference))\n", 100 * closed);
        else
            printf("gap closed: n/a (the reference is not faster than native)\n");
    }
}

/* A temporary report and those of the run's child processes (FILE.PID). */
static void remove_reports(const char *file)
{
    unlink(file);
    const char *base = strrchr(file, '/') + 1;
    size_t n = strlen(base);
    DIR *d = opendir("/tmp");
    for (struct dirent *de; d && (de = readdir(d));) {
        if (strncmp(de->d_name, base, n) == 0 && de->d_name[n] == '.' &&
            strspn(de->d_name + n + 1, "0123456789") == strlen(de->d_name + n + 1)) {
            char p[PATH_MAX];
            snprintf(p, sizeof p, "/tmp/%s", de->d_name);
            unlink(p);
        }
    }
    if (d)
        closedir(d);
}

/* --report: one more run under hotpath with --report=FILE, then the
 * summary of that file (hotpath report). */
static int report_run(struct compare *c)
{
    char tmp[] = "/tmp/hotpath-compare-XXXXXX.json";
    const char *file = c->report_file;
    if (!file) {
        int fd = mkstemps(tmp, 5);
        if (fd < 0)
            return fail(HP_COMPARE_ERROR, "cannot create a report file: %s", strerror(errno));
        close(fd);
        file = tmp;
    }
    char opt[PATH_MAX + 16];
    snprintf(opt, sizeof opt, "--report=%s", file);
    /* SELF --report=FILE OPTIONS... -- PATH ARGS... */
    char **argv = calloc(c->n_hp_opts + c->prog_argc + 4, sizeof(char *));
    char **save = c->argv[HOTPATH];
    argv[0] = save[0];
    argv[1] = opt;
    for (int i = 1; save[i]; i++)
        argv[i + 1] = save[i];
    c->argv[HOTPATH] = argv;
    if (c->progress)
        fprintf(stderr, "\rhotpath compare: hotpath with --report=%s", file);
    double wall, cpu;
    int status = run_once(c, HOTPATH, c->out_fd, &wall, &cpu);
    c->argv[HOTPATH] = save;
    free(argv);
    if (c->progress)
        fprintf(stderr, "\r%*s\r", (int)strlen(file) + 40, "");
    int rc = 0;
    if (status < 0) {
        rc = HP_COMPARE_ERROR;
    } else if (status != c->ref_status) {
        char a[64], b[64];
        describe_status(c->ref_status, a, sizeof a);
        describe_status(status, b, sizeof b);
        fprintf(stderr, "hotpath: compare: the --report run ended differently: %s, not %s\n", b, a);
        rc = HP_COMPARE_DIFFER;
    } else {
        printf("\n");
        fflush(stdout);
        char *rargv[] = {"report", "--top=10", (char *)file, NULL};
        rc = hp_report_view_main(3, rargv) == 0 ? 0 : HP_COMPARE_ERROR;
        if (c->report_file)
            printf("\nreport: %s (child processes: %s.PID)\n", file, file);
    }
    if (!c->report_file)
        remove_reports(tmp);
    return rc;
}

/* Run one side and check it against the reference; 0 if identical. */
static int run_and_check(struct compare *c, int side, int run)
{
    char label[64];
    if (run < 0)
        snprintf(label, sizeof label, "warm-up run");
    else
        snprintf(label, sizeof label, "run %d of %d", run + 1, c->runs);
    if (c->progress)
        fprintf(stderr, "\rhotpath compare: %-7s %-14s", side_name[side], label);
    int first = side == NATIVE && run < 0;
    double wall = 0, cpu = 0;
    int status = run_once(c, side, first ? c->ref_fd : c->out_fd, &wall, &cpu);
    if (status < 0)
        return HP_COMPARE_ERROR;
    if (run >= 0) {
        c->wall[side][run] = wall;
        c->cpu[side][run] = cpu;
    }
    if (first) {
        c->ref_status = status;
        return 0;
    }
    size_t rlen = 0, olen = 0;
    char *ref = slurp(c->ref_fd, &rlen), *out = slurp(c->out_fd, &olen);
    int same_out = ref != NULL && out != NULL && rlen == olen && memcmp(ref, out, rlen) == 0;
    free(ref);
    free(out);
    if (same_out && status == c->ref_status)
        return 0;

    if (c->progress)
        fprintf(stderr, "\r%50s\r", "");
    fprintf(stderr, "hotpath: compare: outputs differ: %s %s does not match the first native run\n",
            side_name[side], label);
    if (status != c->ref_status) {
        char a[64], b[64];
        describe_status(c->ref_status, a, sizeof a);
        describe_status(status, b, sizeof b);
        fprintf(stderr, "  exit differs: first native run: %s; this run: %s\n", a, b);
    }
    if (!same_out)
        report_stdout_diff(c);
    report_stderr_tail(c);
    if (c->json) {
        json_head(c, 0);
        printf(", \"failed_side\": \"%s\", \"failed_run\": %d}\n", side_name[side], run + 1);
    }
    return HP_COMPARE_DIFFER;
}

/* A hotpath option that hotpath itself would refuse: a usage error. */
static int usage_error(void)
{
    fputs("usage: hotpath compare [OPTIONS] [--] PROGRAM [ARGS...]  (hotpath compare --help for more)\n", stderr);
    return HP_COMPARE_USAGE;
}

static int parse_args(struct compare *c, int argc, char **argv)
{
    c->runs = DEFAULT_RUNS;
    c->hp_opts = calloc(argc, sizeof *c->hp_opts);
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (strcmp(a, "--json") == 0) {
            c->json = 1;
        } else if (strncmp(a, "--runs", 6) == 0 && (a[6] == '\0' || a[6] == '=')) {
            const char *v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : "");
            char *end;
            long n = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || n < 1 || n > MAX_RUNS)
                return fail(HP_COMPARE_USAGE, "--runs needs a number from 1 to %d, not '%s'",
                            MAX_RUNS, v);
            c->runs = (int)n;
        } else if (strncmp(a, "--reference", 11) == 0 && (a[11] == '\0' || a[11] == '=')) {
            c->reference = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : "");
            if (*c->reference == '\0')
                return fail(HP_COMPARE_USAGE, "--reference needs a program (another build of PROGRAM)");
        } else if (strcmp(a, "--report") == 0 || strncmp(a, "--report=", 9) == 0) {
            c->report = 1;
            c->report_file = a[8] == '=' ? a + 9 : NULL;
            if (c->report_file && *c->report_file == '\0')
                return fail(HP_COMPARE_USAGE, "--report= needs a file name");
        } else if (strncmp(a, "--stdin", 7) == 0 && (a[7] == '\0' || a[7] == '=')) {
            c->stdin_src = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : "");
            if (*c->stdin_src == '\0')
                return fail(HP_COMPARE_USAGE, "--stdin needs a file name or '-'");
        } else {
            /* a hotpath option: checked here (a usage error, not runs
             * that differ) */
            if (!hp_option_set(a)) {
                return usage_error();
            }
            c->hp_opts[c->n_hp_opts++] = argv[i];
        }
    }
    if (!hp_options_valid()) {
        return usage_error();
    }
    hp_options_defaults();
    if (i >= argc) {
        fail(0, "missing PROGRAM");
        usage(stderr);
        return HP_COMPARE_USAGE;
    }
    c->prog_argv = argv + i;
    c->prog_argc = argc - i;
    return 0;
}

static int setup(struct compare *c)
{
    c->path = resolve_program(c->prog_argv[0]);
    if (c->path == NULL)
        return fail(HP_COMPARE_NOT_FOUND, "%s: program not found or not executable",
                    c->prog_argv[0]);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return fail(HP_COMPARE_ERROR, "readlink /proc/self/exe: %s", strerror(errno));
    self[n] = '\0';

    c->sides = 2;
    if (c->reference) {
        c->ref_path = resolve_program(c->reference);
        if (c->ref_path == NULL)
            return fail(HP_COMPARE_NOT_FOUND, "--reference %s: program not found or not executable",
                        c->reference);
        c->sides = 3;
    }
    /* native: PATH ARGS...; hotpath: SELF OPTIONS... -- PATH ARGS...;
     * reference: REF ARGS... */
    c->argv[NATIVE] = calloc(c->prog_argc + 1, sizeof(char *));
    c->argv[REFERENCE] = calloc(c->prog_argc + 1, sizeof(char *));
    c->argv[HOTPATH] = calloc(c->n_hp_opts + c->prog_argc + 4, sizeof(char *));
    for (int s = 0; s < c->sides; s++) {
        c->wall[s] = calloc(c->runs, sizeof(double));
        c->cpu[s] = calloc(c->runs, sizeof(double));
    }
    int k = 0;
    c->argv[HOTPATH][k++] = strdup(self);
    for (int i = 0; i < c->n_hp_opts; i++)
        c->argv[HOTPATH][k++] = c->hp_opts[i];
    c->argv[HOTPATH][k++] = "--";
    for (int i = 0; i < c->prog_argc; i++) {
        c->argv[NATIVE][i] = i ? c->prog_argv[i] : c->path;
        c->argv[REFERENCE][i] = i ? c->prog_argv[i] : c->ref_path;
        c->argv[HOTPATH][k++] = i ? c->prog_argv[i] : c->path;
    }

    c->ref_fd = temp_fd();
    c->out_fd = temp_fd();
    c->err_fd = temp_fd();
    if (c->ref_fd < 0 || c->out_fd < 0 || c->err_fd < 0)
        return fail(HP_COMPARE_ERROR, "cannot create temporary files: %s", strerror(errno));
    if (c->stdin_src == NULL) {
        c->in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    } else {
        /* copy once into a temp file, replayed from the start for every run */
        int src = strcmp(c->stdin_src, "-") == 0 ? 0 : open(c->stdin_src, O_RDONLY);
        if (src < 0)
            return fail(HP_COMPARE_USAGE, "--stdin %s: %s", c->stdin_src, strerror(errno));
        c->in_fd = temp_fd();
        if (c->in_fd < 0 || copy_fd(src, c->in_fd) != 0)
            return fail(HP_COMPARE_ERROR, "cannot capture stdin: %s", strerror(errno));
        if (src != 0)
            close(src);
    }
    if (c->in_fd < 0)
        return fail(HP_COMPARE_ERROR, "cannot open /dev/null: %s", strerror(errno));
    return 0;
}

int hp_compare_main(int argc, char **argv)
{
    struct compare c;
    memset(&c, 0, sizeof c);
    for (int fd = 0; fd < 3; fd++) /* so temp files never land on fds 0-2 */
        if (fcntl(fd, F_GETFD) < 0)
            open("/dev/null", O_RDWR);
    int rc = parse_args(&c, argc, argv);
    if (rc != 0)
        return rc < 0 ? HP_COMPARE_OK : rc;
    rc = setup(&c);
    if (rc != 0)
        return rc;
    c.progress = isatty(2);

    /* warm-up: the first native run is the reference for all others */
    for (int r = -1; rc == 0 && r < c.runs; r++)
        for (int s = 0; rc == 0 && s < c.sides; s++)
            rc = run_and_check(&c, s, r);
    if (c.progress)
        fprintf(stderr, "\r%50s\r", "");
    if (rc == 0)
        report(&c);
    fflush(stdout);
    if (rc == 0 && c.report && !c.json)
        rc = report_run(&c);
    return rc;
}
