/* Guest function names (the report, --perf-map): the ELF symbols (.symtab, else .dynsym)
 * of the files the guest mapped, read with libelf on first use. Not
 * async-signal safe; under the lock (it caches). */
#ifndef HOTPATH_SYMBOLS_H
#define HOTPATH_SYMBOLS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "function" or "function+0xN" for the guest code at pc (in a mapped
 * file); false when its file has no symbol there (stripped, between
 * functions, not an ELF file) or pc is in no file. */
bool hp_symbolize(uintptr_t pc, char *buf, size_t len);
/* The mapped file whose name is module: its full path, its GNU build-id
 * (hex; NULL if none) and the separate debug file its symbols came from
 * (found by build-id under /usr/lib/debug/.build-id/ or
 * $HOTPATH_DEBUG_FILE_DIRECTORY/.build-id/ when the file has no .symtab;
 * NULL if none). False when no such file is mapped. */
bool hp_module_ident(const char *module, const char **path, const char **build_id, const char **debug);
/* The source line of the guest code at pc, from its file's DWARF line
 * table (libdw; its debug file's when it has one): "file.c:42" into where,
 * and that line's text into text ("" when the source file is not where the
 * compiler saw it). False without debug information. */
bool hp_source_line(uintptr_t pc, char *where, size_t wlen, char *text, size_t tlen);

#endif
