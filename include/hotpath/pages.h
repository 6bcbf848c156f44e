/* Zeroed memory for hotpath's big tables, mapped and written at once. */
#ifndef HOTPATH_PAGES_H
#define HOTPATH_PAGES_H
#include <stddef.h>

/* bytes of zeroed, private, read-write memory whose pages are already in
 * place: a table probed before it is written (open addressing) would
 * otherwise fault twice per fresh page (a read maps the shared zero page,
 * the write copies it). From 2 MiB on, it is aligned to 2 MiB and asks for
 * transparent huge pages: one fault per 2 MiB, and probes that miss the
 * caches do not miss the TLB as well. Aborts when out of memory. Free it
 * with hp_pages_free. */
void *hp_pages_zeroed(size_t bytes);
void hp_pages_free(void *p, size_t bytes);

#endif
