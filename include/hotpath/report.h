/* The optimization report (--report=FILE): one JSON document per process,
 * written at guest exit, whose format docs/report-schema.json describes:
 * the run (program, arguments, options, times, how it ended), the --stats
 * totals, the modules mapped, and every trace built with what the
 * optimizer did to it (or why it did not). */
#ifndef HOTPATH_REPORT_H
#define HOTPATH_REPORT_H
#include <stdbool.h>
#include <stdint.h>


#define HP_REPORT_VERSION 2

/* At start (--report only): the program and its arguments as typed. */
void hp_report_begin(int argc, char **argv, const char *exe_path);
/* At guest exit: writes the report if --report was given (FILE, or
 * FILE.PID in a child process: child). status: the exit status, when sig
 * is 0; else the process ends by signal sig. Counters must be collected
 * (hp_stats) first. */
void hp_report_write(int status, int sig, bool child);
/* The code cache is about to be flushed (under the lock, --report only):
 * its traces are copied (record, pc map, code, optimizer record) so the
 * report still lists them; at most HP_REPORT_KEPT_MAX, those that ran the
 * most guest instructions. */
#define HP_REPORT_KEPT_MAX 4096
void hp_report_keep_traces(void);

#endif
