/* Guest function names (the report, --perf-map): the ELF symbols (.symtab, else .dynsym)
 * of the files the guest mapped, read with libelf on first use. Not
 * async-signal safe; under the lock (it caches). */
#ifndef HOTPATH_SYMBOLS_H
#define HOTPATH_SYMBOLS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "function" or "function+0xN" for the code at file offset file_off of the
 * mapped file whose name (no directory) is module; false when the file has
 * no symbol there (stripped, between functions, not an ELF file). */
bool hp_symbolize(const char *module, uint64_t file_off, char *buf, size_t len);
/* The mapped file whose name is module: its full path, its GNU build-id
 * (hex; NULL if none) and the separate debug file its symbols came from
 * (found by build-id under /usr/lib/debug/.build-id/ or
 * $HOTPATH_DEBUG_FILE_DIRECTORY/.build-id/ when the file has no .symtab;
 * NULL if none). False when no such file is mapped. */
bool hp_module_ident(const char *module, const char **path, const char **build_id, const char **debug);
/* The source line of the code at file offset file_off of module, from its
 * DWARF line table (libdw; its debug file's when it has one): "file.c:42"
 * into where, and that line's text into text ("" when the source file is
 * not where the compiler saw it). False without debug information. */
bool hp_source_line(const char *module, uint64_t file_off, char *where, size_t wlen, char *text, size_t tlen);

#endif
