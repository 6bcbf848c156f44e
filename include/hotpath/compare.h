/* hotpath compare: run a program natively and under hotpath, alternating,
 * check the outputs are identical and report timings and the speed-up. */
#ifndef HOTPATH_COMPARE_H
#define HOTPATH_COMPARE_H

/* Exit codes of `hotpath compare`. */
enum {
    HP_COMPARE_OK = 0,          /* all runs identical, timings printed */
    HP_COMPARE_DIFFER = 1,      /* stdout or exit status differed in some run */
    HP_COMPARE_USAGE = 2,       /* bad command line */
    HP_COMPARE_ERROR = 3,       /* could not run at all (temp files, fork, ...) */
    HP_COMPARE_NOT_FOUND = 127, /* PROGRAM not found or not executable */
};

/* Entry point of the `compare` sub-command.  argv[0] is "compare"; the rest
 * is `[--runs N] [--json] [--stdin FILE|-] [HOTPATH-OPTIONS] [--] PROGRAM
 * [ARGS...]`.  Returns the process exit code (see above). */
int hp_compare_main(int argc, char **argv);

#endif
