/* Zeroed memory for hotpath's big tables, mapped and written at once. */
#ifndef HOTPATH_PAGES_H
#define HOTPATH_PAGES_H
#include <stdbool.h>
#include <stddef.h>

/* bytes of zeroed, private, read-write memory whose pages are already in
 * place: a table probed before it is written (open addressing) would
 * otherwise fault twice per fresh page (a read maps the shared zero page,
 * the write copies it). From 2 MiB on, a mapping aligned to 2 MiB of
 * transparent huge pages; below that, small pages for the first 1 MiB of
 * such tables, then carved from shared 2 MiB chunks of huge pages (see
 * pages.c: on a paravirtualized VM each small page's first write costs
 * about 16 us; and probes that miss the caches do not miss the TLB as
 * well). Aborts when out of memory. Free it with hp_pages_free. */
void *hp_pages_zeroed(size_t bytes);
void hp_pages_free(void *p, size_t bytes);
/* bytes (whole pages) aligned to 2 MiB, asking for transparent huge
 * pages, faulted in as used; NULL where the address space has no room for
 * the alignment, or once hp_pages_stop_ahead was called (the advice is a
 * madvise call). */
void *hp_pages_huge(size_t bytes);

/* Memory that fills from one end is mapped ahead of its fill mark, one
 * system call per window, rather than one fault per page as each is first
 * touched (on a paravirtualized VM a fault costs tens of microseconds,
 * populating a page about one). *done bytes from that end are mapped; when
 * want passes them, the window [*from, *from + *len) to map (page-rounded,
 * up to want plus HP_PAGES_AHEAD, at most limit) is returned and *done
 * moved past it. */
#define HP_PAGES_AHEAD ((size_t)64 << 10)
bool hp_pages_window(size_t *done, size_t want, size_t limit, size_t *from, size_t *len);
/* Maps [p, p + len) now: written (MADV_POPULATE_WRITE), or only read (a
 * second view of shared pages). Best effort, with no errno (the guest's FS
 * may be in place): a kernel before 5.14 refuses, and the pages fault in
 * as used. */
void hp_pages_populate(void *p, size_t len, bool write);
/* No more of it: the guest installed a seccomp filter, which may kill
 * hotpath's own system calls; this one is only for speed. */
void hp_pages_stop_ahead(void);
/* Whether hp_pages_stop_ahead was called (system calls only for speed: none). */
bool hp_pages_ahead_stopped(void);

#endif
