/* Mangle stage: turns a decoded block's control transfers into exit, call,
 * return and lookup elements, adds the fall-through exit and, for code in
 * writable memory, the code-check prologue. Pure (works on the list only). */
#ifndef HOTPATH_MANGLE_H
#define HOTPATH_MANGLE_H
#include <stdbool.h>

#include "hotpath/ilist.h"

/* Room the list needs beyond the decoded elements. */
#define HP_MANGLE_EXTRA 3

/* check_code: the guest bytes are writable; the fragment compares them
 * with the bytes translated at each entry. Returns false if the list has no
 * room (its capacity must be n + HP_MANGLE_EXTRA). */
bool hp_mangle_block(struct hp_ilist *l, bool check_code);

#endif
