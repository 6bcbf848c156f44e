/* hotpath report --html OUT.html FILE.json: one self-contained HTML page
 * (no network, no external assets) of a --report file: the run, a chart
 * of the hot functions, sortable tables of functions and traces, why
 * traces were left alone, and each hot trace's guest code beside the code
 * hotpath runs for it, changed lines highlighted. */
#ifndef HOTPATH_REPORT_HTML_H
#define HOTPATH_REPORT_HTML_H

/* Writes the page for the report text json (already checked to be a
 * hotpath report) to out_path. Returns 0, or 2 ("hotpath: report --html
 * OUT: why" on stderr). */
int hp_report_html(const char *json, const char *out_path);

#endif
