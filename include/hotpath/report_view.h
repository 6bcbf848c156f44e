/* hotpath report: the text view of a --report file (the run, the totals,
 * the hottest traces and what the optimizer did to each, why others were
 * left alone). */
#ifndef HOTPATH_REPORT_VIEW_H
#define HOTPATH_REPORT_VIEW_H

/* Entry point of the `report` sub-command: argv[0] is "report", then
 * `[--top=N] FILE.json`. Returns 0, or 2 (usage, unreadable file, not a
 * report: "hotpath: report FILE: why" on stderr). */
int hp_report_view_main(int argc, char **argv);

#endif
