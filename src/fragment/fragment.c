/* Fragment table (open addressing on guest pc, keys kept in the table), the
 * guest-page index used by range flushes, linking and removal. */
#include "hotpath/fragment.h"
#include "hotpath/ibl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hotpath/emit.h"
#include "hotpath/log.h"
#include "hotpath/options.h"
#include "hotpath/pages.h"
#include "hotpath/stats.h"
#include "hotpath/thread.h"

#define PAGE_SHIFT 12

/* Open addressing (linear probing): a slot holds a fragment pointer, and a
 * byte of tag per slot lies beside the slots: 0 empty, 1 removed, else
 * 0x80 | 7 bits of the pc's hash that the slot index does not use. A
 * lookup walks the tags and reads a slot (and the fragment's guest pc)
 * only when its tag matches, so a miss (every new block, and the targets
 * of its exits when it is built) reads tag bytes alone, 1 in 128 probes
 * aside: for 2^17 slots, 128 KiB of tags, where slots of {pc, fragment}
 * were 2 MiB that missed the caches on almost every probe. A hit reads the
 * fragment, which its caller reads anyway. */
#define TAG_EMPTY 0
#define TAG_REMOVED 1

static struct hp_fragment **table;
static uint8_t *tags;
static size_t table_mask, table_used; /* used includes removed slots */

static void table_put(struct hp_fragment *f);

static uint64_t hash64(uint64_t pc) { return pc * 0x9e3779b97f4a7c15ull; }
static size_t slot_of(uint64_t h) { return (size_t)(h >> 20) & table_mask; }
static uint8_t tag_of(uint64_t h) { return (uint8_t)(0x80 | ((h >> 13) & 0x7f)); }

static void table_grow(void)
{
  size_t old_size = table ? table_mask + 1 : 0;
  struct hp_fragment **old = table;
  uint8_t *old_tags = tags;
  size_t live = 0;
  for (size_t i = 0; i < old_size; i++)
    live += old_tags[i] >= 0x80;
  /* Doubling (not more): every page of a new table is written by the
   * rehash and the puts that follow, so a bigger step only touches more
   * pages; at most half full after a rehash, grown at half full. */
  size_t size = old_size ? old_size : (1u << 14);
  while ((live + 1) * 2 > size)
    size *= 2;
  table = hp_pages_zeroed(size * sizeof *table);
  tags = hp_pages_zeroed(size); /* probed before written */
  table_mask = size - 1;
  table_used = 0;
  /* The rehash reads each fragment's pc: prefetched a few live slots
   * ahead, those cache misses overlap instead of following each other. */
  enum { AHEAD = 16 };
  size_t ahead = 0;
  for (unsigned n = 0; n < AHEAD && ahead < old_size; ahead++)
    if (old_tags[ahead] >= 0x80) {
      __builtin_prefetch(old[ahead]);
      n++;
    }
  for (size_t i = 0; i < old_size; i++)
    if (old_tags[i] >= 0x80) {
      for (; ahead < old_size; ahead++)
        if (old_tags[ahead] >= 0x80) {
          __builtin_prefetch(old[ahead++]);
          break;
        }
      table_put(old[i]);
    }
  if (old) {
    hp_pages_free(old, old_size * sizeof *old);
    hp_pages_free(old_tags, old_size);
  }
}

struct hp_fragment *hp_fragment_lookup(uint64_t pc)
{
  if (!table)
    return NULL;
  uint64_t h = hash64(pc);
  uint8_t tag = tag_of(h);
  for (size_t i = slot_of(h);; i = (i + 1) & table_mask) {
    uint8_t t = tags[i];
    if (t == tag && table[i]->guest_pc == pc)
      return table[i];
    if (t == TAG_EMPTY)
      return NULL;
  }
}

static void table_put(struct hp_fragment *f)
{
  if (!table || (table_used + 1) * 2 > table_mask + 1)
    table_grow();
  uint64_t h = hash64(f->guest_pc);
  size_t i = slot_of(h);
  while (tags[i] >= 0x80)
    i = (i + 1) & table_mask;
  if (tags[i] == TAG_EMPTY)
    table_used++;
  table[i] = f;
  tags[i] = tag_of(h);
}

static void table_del(struct hp_fragment *f)
{
  for (size_t i = slot_of(hash64(f->guest_pc)); tags[i] != TAG_EMPTY; i = (i + 1) & table_mask)
    if (tags[i] >= 0x80 && table[i] == f) {
      table[i] = NULL;
      tags[i] = TAG_REMOVED;
      return;
    }
}

/* Guest page -> fragments with code on it: chained buckets; nodes of removed
 * fragments are dropped as walks meet them. */
struct page_node {
  uint64_t page;
  struct hp_fragment *f;
  struct page_node *next;
};
static struct page_node **pages;
static size_t pages_mask, npage_nodes;
static struct page_node *free_nodes;

static size_t page_hash(uint64_t page) { return (size_t)((page * 0x9e3779b97f4a7c15ull) >> 24); }

static void pages_insert_node(struct page_node *n)
{
  struct page_node **b = &pages[page_hash(n->page) & pages_mask];
  n->next = *b;
  *b = n;
}

static void pages_grow(void)
{
  size_t old_size = pages ? pages_mask + 1 : 0;
  struct page_node **old = pages;
  size_t size = old_size ? old_size * 4 : (1u << 12);
  pages = hp_pages_zeroed(size * sizeof *pages); /* buckets are read before written */
  pages_mask = size - 1;
  for (size_t i = 0; i < old_size; i++)
    for (struct page_node *n = old[i], *next; n; n = next) {
      next = n->next;
      pages_insert_node(n);
    }
  if (old)
    hp_pages_free(old, old_size * sizeof *old);
}

static void pages_add(uint64_t page, struct hp_fragment *f)
{
  if (!pages || npage_nodes + 1 > 4 * (pages_mask + 1))
    pages_grow();
  struct page_node *n = free_nodes;
  if (n)
    free_nodes = n->next;
  else
    n = hp_arena_gen_alloc(sizeof *n); /* freed with its generation */
  n->page = page;
  n->f = f;
  pages_insert_node(n);
  npage_nodes++;
}

static bool overlaps(const struct hp_fragment *f, uint64_t lo, uint64_t hi)
{
  for (unsigned i = 0; i < f->nranges; i++)
    if (f->ranges[i].lo < hi && f->ranges[i].hi > lo)
      return true;
  return false;
}

/* Blocks of anonymous memory that a range flush removed, by guest pc (the
 * last one removed at each pc), with the bytes they were made from
 * (hp_frag_trace.source): a JIT that reprotects its code area to add code
 * (LuaJIT makes it writable and executable again for each new trace)
 * would otherwise have every block of the area translated again each
 * time. Open addressing; an entry revived or replaced keeps its pc with a
 * NULL fragment. Records of the generation: emptied with it. */
struct suspended {
  uint64_t pc;
  struct hp_fragment *f;
  struct hp_exit *was_in; /* the exits that were linked into it (their next_in chain) */
};
static struct suspended *susp;
static size_t susp_mask, nsusp;

static size_t susp_slot(uint64_t pc) { return (size_t)((pc * 0x9e3779b97f4a7c15ull) >> 20) & susp_mask; }

static void susp_put(const struct suspended *s)
{
  size_t i = susp_slot(s->pc);
  while (susp[i].pc && susp[i].pc != s->pc)
    i = (i + 1) & susp_mask;
  nsusp += !susp[i].pc;
  susp[i] = *s;
}

static void suspend(struct hp_fragment *f, struct hp_exit *was_in)
{
  const struct hp_frag_trace *tr = hp_frag_tr(f);
  if (f->kind != HP_FRAG_BLOCK || !tr->source || f->trace_head || tr->head_id || tr->head_block)
    return;
  if (!susp || (nsusp + 1) * 2 > susp_mask + 1) {
    size_t old_size = susp ? susp_mask + 1 : 0;
    struct suspended *old = susp;
    size_t size = old_size ? old_size * 2 : 1u << 10;
    susp = hp_pages_zeroed(size * sizeof *susp);
    susp_mask = size - 1;
    nsusp = 0;
    for (size_t i = 0; i < old_size; i++)
      if (old[i].f)
        susp_put(&old[i]);
    if (old)
      hp_pages_free(old, old_size * sizeof *old);
  }
  susp_put(&(struct suspended){f->guest_pc, f, was_in});
}

bool hp_fragment_any_suspended(void) { return nsusp != 0; }

struct hp_fragment *hp_fragment_suspended(uint64_t guest_pc)
{
  if (!susp)
    return NULL;
  for (size_t i = susp_slot(guest_pc); susp[i].pc; i = (i + 1) & susp_mask)
    if (susp[i].pc == guest_pc) {
      struct hp_fragment *f = susp[i].f;
      return f && f->removed && f->guest_pc == guest_pc ? f : NULL;
    }
  return NULL;
}

/* Walks one bucket: drops nodes of removed fragments; removes the
 * fragments on page (any page if all) that overlap [lo, hi). */
static void flush_bucket(struct page_node **b, uint64_t page, bool all, uint64_t lo, uint64_t hi)
{
  for (struct page_node **pp = b; *pp;) {
    struct page_node *n = *pp;
    if ((all || n->page == page) && !n->f->removed && overlaps(n->f, lo, hi)) {
      struct hp_exit *was_in = n->f->incoming;
      hp_fragment_remove(n->f);
      hp_stats.flushed_fragments++;
      suspend(n->f, was_in);
    }
    if (n->f->removed) {
      *pp = n->next;
      n->next = free_nodes;
      free_nodes = n;
      npage_nodes--;
    } else {
      pp = &n->next;
    }
  }
}

/* Until a flush first meets translated code, the index above is not
 * kept (a node and a bucket miss per fragment; most programs never unmap
 * or reprotect code they ran): a set of the guest pages holding code
 * answers whether a range has any, and the fragments inserted wait in a
 * plain array. The first flush that finds code builds the index from that
 * array, and from then on each fragment is indexed as it is inserted. (A
 * fragment's record is referenced from here as from the index nodes.) */
static bool pages_kept;
static struct hp_fragment **unindexed;
static size_t nunindexed, unindexed_cap;
static uint64_t *code_pages; /* page + 1; 0: empty */
static size_t code_mask, ncode;
static uint64_t last_code_page = ~0ull;

static size_t code_slot(uint64_t page) { return (size_t)((page * 0x9e3779b97f4a7c15ull) >> 24) & code_mask; }

static void code_put(uint64_t page)
{
  size_t i = code_slot(page);
  while (code_pages[i] && code_pages[i] != page + 1)
    i = (i + 1) & code_mask;
  if (!code_pages[i]) {
    code_pages[i] = page + 1;
    ncode++;
  }
}

static void code_add(uint64_t page)
{
  if (page == last_code_page) /* consecutive fragments are often on one page */
    return;
  last_code_page = page;
  if (!code_pages || (ncode + 1) * 2 > code_mask + 1) {
    size_t old_size = code_pages ? code_mask + 1 : 0;
    uint64_t *old = code_pages;
    code_pages = hp_pages_zeroed((old_size ? old_size * 2 : 1u << 10) * sizeof *code_pages);
    code_mask = (old_size ? old_size * 2 : 1u << 10) - 1;
    ncode = 0;
    for (size_t i = 0; i < old_size; i++)
      if (old[i])
        code_put(old[i] - 1);
    if (old)
      hp_pages_free(old, old_size * sizeof *old);
  }
  code_put(page);
}

static bool code_has(uint64_t page)
{
  for (size_t i = code_slot(page); code_pages[i]; i = (i + 1) & code_mask)
    if (code_pages[i] == page + 1)
      return true;
  return false;
}

/* Whether a page of [first, last] holds (or held) translated code. */
static bool code_in(uint64_t first, uint64_t last)
{
  if (!code_pages)
    return false;
  if (last - first < ncode) {
    for (uint64_t p = first; p <= last; p++)
      if (code_has(p))
        return true;
    return false;
  }
  for (size_t i = 0; i <= code_mask; i++)
    if (code_pages[i] && code_pages[i] - 1 >= first && code_pages[i] - 1 <= last)
      return true;
  return false;
}

static void index_fragment(struct hp_fragment *f)
{
  for (unsigned i = 0; i < f->nranges; i++)
    for (uint64_t p = f->ranges[i].lo >> PAGE_SHIFT; p <= (f->ranges[i].hi - 1) >> PAGE_SHIFT; p++)
      if (pages_kept)
        pages_add(p, f);
      else
        code_add(p);
}

static void index_all(void)
{
  HP_DEBUG("a flush meets translated code: the guest-page index is kept from now on");
  pages_kept = true;
  for (size_t i = 0; i < nunindexed; i++)
    if (!unindexed[i]->removed)
      index_fragment(unindexed[i]);
  if (unindexed)
    hp_pages_free(unindexed, unindexed_cap * sizeof *unindexed);
  unindexed = NULL;
  nunindexed = unindexed_cap = 0;
}

static void note_unindexed(struct hp_fragment *f)
{
  if (nunindexed == unindexed_cap) {
    size_t cap = unindexed_cap ? unindexed_cap * 2 : 4096;
    struct hp_fragment **a = hp_pages_zeroed(cap * sizeof *a);
    if (unindexed) {
      memcpy(a, unindexed, nunindexed * sizeof *a);
      hp_pages_free(unindexed, unindexed_cap * sizeof *unindexed);
    }
    unindexed = a;
    unindexed_cap = cap;
  }
  unindexed[nunindexed++] = f;
}

void hp_fragments_flush_range(uint64_t lo, uint64_t hi)
{
  if (hi <= lo)
    return;
  uint64_t first = lo >> PAGE_SHIFT, last = (hi - 1) >> PAGE_SHIFT;
  if (!pages_kept) {
    if (!code_in(first, last))
      return;
    index_all();
  }
  if (!pages)
    return;
  if (last - first < pages_mask + 1) {
    for (uint64_t p = first; p <= last; p++)
      flush_bucket(&pages[page_hash(p) & pages_mask], p, false, lo, hi);
  } else {
    for (size_t i = 0; i <= pages_mask; i++)
      flush_bucket(&pages[i], 0, true, lo, hi);
  }
}

void hp_fragment_insert(struct hp_fragment *f)
{
  table_put(f);
  index_fragment(f);
  if (!pages_kept)
    note_unindexed(f);
}

static void unlink_exit(struct hp_exit *x);

/* f takes the place of the fragment old with the same guest pc (a trace
 * shadows its head block; a head gets a counting prologue). */
static void shadow(struct hp_fragment *f, struct hp_fragment *old)
{
  {
    table_del(old); /* keeps its code and records: threads inside it go on */
    /* A lookup entry that is a call's continuation stays (returns must
     * land on it); the block's own entry becomes the trace's. */
    uintptr_t known = hp_ibl_find(f->guest_pc);
    if (!known || known == old->code)
      hp_ibl_insert(f->guest_pc, f->code);
    struct hp_exit *in = old->incoming;
    old->incoming = NULL;
    for (struct hp_exit *x = in, *next; x; x = next) {
      next = x->next_in;
      unlink_exit(x);
      hp_link(x, f);
    }
  }
}

void hp_fragment_publish(struct hp_fragment *f)
{
  struct hp_fragment *old = hp_fragment_lookup(f->guest_pc);
  if (old)
    shadow(f, old);
  else if (f->kind == HP_FRAG_TRACE)
    hp_ibl_insert(f->guest_pc, f->code);
  hp_fragment_insert(f);
  hp_cache_index_add(f->unit, f->code, f->size, f);
  for (unsigned i = 0; i < f->nconts; i++) { /* returns to the call find its continuation */
    hp_ibl_insert(f->conts[i].guest, f->conts[i].entry);
    hp_ret_table_insert(f->conts[i].guest, f->conts[i].cache);
  }
}

void hp_fragment_revive(struct hp_fragment *f)
{
  HP_ASSERT(f->removed && !hp_fragment_lookup(f->guest_pc));
  struct hp_exit *was_in = NULL;
  for (size_t i = susp_slot(f->guest_pc); susp[i].pc; i = (i + 1) & susp_mask)
    if (susp[i].pc == f->guest_pc) {
      if (susp[i].f == f)
        was_in = susp[i].was_in;
      susp[i].f = NULL;
      break;
    }
  f->removed = false; /* its code never left the cache-pc index */
  table_put(f);
  /* The guest-page index (kept since the flush that removed it): a page
   * the flush did not walk still has f's node (a flush of its other page
   * only); one more there would pile up at every such flush. A block on
   * one page lost its node there (the flush walked that page's bucket). */
  bool one_page = f->nranges == 1 && f->ranges[0].lo >> PAGE_SHIFT == (f->ranges[0].hi - 1) >> PAGE_SHIFT;
  if (!pages_kept) { /* (a flush that found code made it so) */
    index_fragment(f);
    note_unindexed(f);
  }
  for (unsigned i = 0; i < f->nranges && pages_kept; i++)
    for (uint64_t pg = f->ranges[i].lo >> PAGE_SHIFT; pg <= (f->ranges[i].hi - 1) >> PAGE_SHIFT; pg++) {
      bool there = false;
      for (struct page_node *n = pages && !one_page ? pages[page_hash(pg) & pages_mask] : NULL; n && !there;
           n = n->next)
        there = n->page == pg && n->f == f;
      if (!there)
        pages_add(pg, f);
    }
  for (unsigned i = 0; i < f->nconts; i++) { /* returns to its calls find their continuations */
    hp_ibl_insert(f->conts[i].guest, f->conts[i].entry);
    hp_ret_table_insert(f->conts[i].guest, f->conts[i].cache);
  }
  /* The exits that were linked into it are linked again where they still
   * lead to its pc unlinked (their fragments live): no dispatcher round
   * trip each (a JIT's code area is reprotected whole, its blocks' links
   * to each other with it). The chain is as the removal left it, all of
   * it exits to this pc; one linked elsewhere since leads on into that
   * fragment's list: the walk stops at the first exit to another pc. */
  for (struct hp_exit *x = was_in, *next; x && x->target == f->guest_pc; x = next) {
    next = x->next_in; /* hp_link sets it */
    if (!x->linked && !x->from->removed)
      hp_link(x, f);
  }
}

void hp_fragment_restore(struct hp_fragment *f)
{
  if (f->removed || hp_fragment_lookup(f->guest_pc))
    return;
  table_put(f);
  /* A trace dropped: its continuations for the same returns went with it. */
  for (unsigned i = 0; i < f->nconts; i++) {
    if (!hp_ibl_find(f->conts[i].guest))
      hp_ibl_insert(f->conts[i].guest, f->conts[i].entry);
    hp_ret_table_insert(f->conts[i].guest, f->conts[i].cache);
  }
}

/* A jump-table slot's exit linked or unlinked: its case's entries follow
 * (hp_exit's jt_slot). Returns how many changed. */
static unsigned jt_aim(struct hp_exit *x, uintptr_t from, uintptr_t to)
{
  return x->jt_slot && x->from->jt_n ? hp_jt_table_retarget(x->from->jt_first, x->from->jt_n, from, to) : 0;
}

static void unlink_exit(struct hp_exit *x)
{
  struct hp_fragment *from = x->from;
  if (x->linked)
    jt_aim(x, x->linked->code + (x->shared ? hp_frag_tr(x->linked)->loop_off : 0), from->code + x->jt_slot);
  uint8_t *rw = hp_cache_rw(from->unit, from->code);
  if (x->shared) /* on through the restores to its branch, which was not linked */
    hp_patch_rel32(rw + x->share_off, from->code + x->share_off, from->code + x->share_off + 4);
  else
    hp_patch_rel32(rw + x->branch_off, from->code + x->branch_off, hp_exit_unlinked(x));
  x->shared = false;
  x->linked = NULL;
}

/* Exit x, if linked: out of its target's incoming list, its branch back
 * to where it goes unlinked. */
static void unlink_linked(struct hp_exit *x)
{
  struct hp_fragment *to = x->linked;
  if (!to)
    return;
  for (struct hp_exit **pp = &to->incoming; *pp; pp = &(*pp)->next_in)
    if (*pp == x) {
      *pp = x->next_in;
      break;
    }
  unlink_exit(x);
}

void hp_fragment_hold(struct hp_thread *t, struct hp_fragment *f)
{
  for (unsigned k = 0; k < t->nheld; k++)
    if (t->held[k] == f)
      return;
  if (t->nheld < sizeof t->held / sizeof t->held[0]) { /* (past that: as before, not held) */
    t->held[t->nheld++] = f;
    f->held++;
  }
}

void hp_fragments_let_go(struct hp_thread *t)
{
  for (unsigned k = 0; k < t->nheld; k++)
    ((struct hp_fragment *)t->held[k])->held--;
  t->nheld = 0;
}

void hp_fragment_unlink_outgoing(struct hp_fragment *f)
{
  for (unsigned i = 0; i < f->nexits; i++)
    unlink_linked(&f->exits[i]);
}

void hp_fragment_remove(struct hp_fragment *f)
{
  if (f->removed)
    return;
  table_del(f);
  hp_ibl_remove_exact(f->guest_pc, f->code); /* a shadowed block's entry is its trace's */
  for (unsigned i = 0; i < f->nconts; i++) {
    hp_ibl_remove_exact(f->conts[i].guest, f->conts[i].entry);
    hp_ret_table_remove(f->conts[i].guest, f->conts[i].cache);
  }
  for (struct hp_exit *x = f->incoming; x; x = x->next_in)
    unlink_exit(x);
  f->incoming = NULL;
  /* Its own outgoing links stay: they only matter if it runs, and it runs
   * only from a thread already inside it. Its code stays in the cache-pc
   * index for the same reason (a fault there still needs its records). */
  f->removed = true;
}

struct hp_fragment *hp_fragment_by_cache_pc(uintptr_t rx) { return hp_cache_owner_of(rx); }

void hp_fragments_flush_all(void)
{
  /* Every fragment of the generation is in the owner index of a live unit
   * (recording copies too). Each linked exit goes back to where it goes
   * unlinked (its stub, or an optimized trace's way to it): a thread still
   * running this code reaches the dispatcher at its next exit, a loop of
   * linked blocks or a trace's back edge included. */
  for (struct hp_cache_unit *u = hp_cache_units(); u; u = u->next)
    for (size_t i = 0; i < u->nowners; i++) {
      struct hp_fragment *f = u->owners[i].owner;
      if (!f)
        continue;
      for (unsigned k = 0; k < f->nexits; k++)
        if (f->exits[k].linked)
          unlink_exit(&f->exits[k]);
      f->incoming = NULL;
      f->removed = true;
      /* --stats and --report count instructions run from entries: the
       * records go away with the generation. */
      uint64_t *entries = hp_frag_tr(f)->entries;
      if (entries) {
        uint64_t n = *entries * f->ninsn;
        if (f->kind == HP_FRAG_TRACE)
          hp_stats.trace_insns_run += n;
        else
          hp_stats.block_insns_run += n;
        *entries = 0;
      }
    }
  /* Fresh tables: nothing of the old generation is found again. The page
   * index's nodes are records of the generation; until the index is kept,
   * the fragments waiting for it and the set of pages with code go too. */
  if (table) {
    hp_pages_free(table, (table_mask + 1) * sizeof *table);
    hp_pages_free(tags, table_mask + 1);
    table = NULL;
    tags = NULL;
    table_mask = table_used = 0;
  }
  if (pages) {
    hp_pages_free(pages, (pages_mask + 1) * sizeof *pages);
    pages = NULL;
    pages_mask = 0;
  }
  npage_nodes = 0;
  free_nodes = NULL;
  nunindexed = 0;
  if (code_pages) {
    hp_pages_free(code_pages, (code_mask + 1) * sizeof *code_pages);
    code_pages = NULL;
    code_mask = ncode = 0;
  }
  last_code_page = ~0ull;
  if (susp) {
    hp_pages_free(susp, (susp_mask + 1) * sizeof *susp);
    susp = NULL;
    susp_mask = nsusp = 0;
  }
}

size_t hp_fragment_table_bytes(void)
{
  return (table ? (table_mask + 1) * (sizeof *table + 1) : 0) + (pages ? (pages_mask + 1) * sizeof *pages : 0) +
         (code_pages ? (code_mask + 1) * sizeof *code_pages : 0) + unindexed_cap * sizeof *unindexed +
         (susp ? (susp_mask + 1) * sizeof *susp : 0);
}

bool hp_fragment_guest_at(const struct hp_fragment *f, uintptr_t rx, struct hp_guest_at *out)
{
  if (rx < f->code || rx >= f->code + f->size || !f->npc)
    return false;
  uint32_t off = (uint32_t)(rx - f->code);
  size_t lo = 0, hi = f->npc; /* last entry with pc_off <= off */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (f->pc_off[mid] <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t i = lo ? lo - 1 : 0;
  out->pc = f->pc_guest[i];
  out->next_pc = f->pc_guest[i] + f->pc_len[i];
  return true;
}

unsigned hp_fragment_recover(const struct hp_fragment *f, uintptr_t rx, uint64_t gpr[16],
                             uint64_t *rflags, uint8_t (*xmm)[16], const void *t)
{
  return hp_recovery_apply(f->recov, f->nrecov, (uint32_t)(rx - f->code), gpr, rflags, xmm, t);
}

unsigned hp_fragment_recover_memory(const struct hp_fragment *f, uintptr_t rx, const uint64_t gpr[16],
                                    const uint8_t (*xmm)[16], const void *t, struct hp_mem_write *out,
                                    unsigned max)
{
  return hp_recovery_memory(f->recov, f->nrecov, (uint32_t)(rx - f->code), gpr, xmm, t, out, max);
}

const struct hp_frag_trace hp_frag_tr_none;

struct hp_frag_trace *hp_frag_tr_mut(struct hp_fragment *f)
{
  if (!f->tr)
    f->tr = hp_arena_gen_alloc(sizeof *f->tr); /* zeroed; freed with its generation */
  return f->tr;
}

/* Where an exit keeps the offset of its far-jump trampoline (hp_exit's
 * k_off): its own for a branch, its learning exit's for an inline-cache
 * site (whose own k_off is the tag); NULL if it has none. */
static uint32_t *far_slot(struct hp_exit *x)
{
  if (x->kind == HP_EXIT_BRANCH)
    return &x->k_off;
  struct hp_fragment *f = x->from;
  for (unsigned i = 0; i < f->nexits; i++)
    if (f->exits[i].kind == HP_EXIT_LEARN && hp_exit_site(&f->exits[i]) == x)
      return &f->exits[i].k_off;
  return NULL;
}

/* Whether exits of optimized trace from may go past the entry of trace to
 * (struct hp_exit's share_off): the same slots in the same registers, the
 * same registers taken, the same checks at their entries (what one entry
 * established holds in the other's code: rsp and rbp are the entry's at
 * such an exit), stores written through in both. */
static bool shares_plan(const struct hp_fragment *from, const struct hp_fragment *to)
{
  /* (only optimized traces keep a plan: builder.c, with their loop_off) */
  const struct hp_promotion *a = hp_frag_tr(from)->plan, *b = hp_frag_tr(to)->plan;
  if (!a || !b || a->nslots != b->nslots || a->scratch != b->scratch || a->regs != b->regs || a->xregs != b->xregs ||
      a->lo != b->lo || a->hi != b->hi || a->frame_check != b->frame_check || a->rip_check != b->rip_check ||
      (a->rip_check && (a->rip_lo != b->rip_lo || a->rip_size != b->rip_size)) || a->stack_lo != b->stack_lo ||
      a->stack_hi != b->stack_hi || a->deferred || b->deferred)
    return false;
  for (unsigned k = 0; k < a->nslots; k++)
    if (a->slot[k].disp != b->slot[k].disp || a->slot[k].size != b->slot[k].size || a->slot[k].reg != b->slot[k].reg)
      return false;
  return true;
}

bool hp_link(struct hp_exit *x, struct hp_fragment *to)
{
  if ((x->kind != HP_EXIT_BRANCH && x->kind != HP_EXIT_PREDICT) || !x->branch_off || x->linked ||
      to->removed || to->guest_pc != x->target)
    return false;
  if (hp_opt.no_link && x->kind == HP_EXIT_BRANCH) /* --no-link: inline caches still learn */
    return false;
  struct hp_fragment *from = x->from;
  if (from->removed || from->held)
    return false;
  /* An optimized trace's back edge skips the code that makes the state
   * exact: it may only go round its own loop. */
  if (x->unlinked_off != x->stub_off && to != from)
    return false;
  uint8_t *rw = hp_cache_rw(from->unit, from->code);
  if (x->share_off && to != from && shares_plan(from, to)) {
    /* Into a trace with the same plan, past its entry: its registers as
     * they are (the restores here, the saves, checks and loads there are
     * the same code and would undo each other). */
    uintptr_t at = from->code + x->share_off, past = to->code + hp_frag_tr(to)->loop_off;
    if (hp_rel32_fits(at + 4, past)) {
      hp_patch_rel32(rw + x->share_off, at, past);
      hp_stats.jt_entries_aimed += jt_aim(x, from->code + x->jt_slot, past) != 0;
      x->shared = true;
      x->linked = to;
      x->next_in = to->incoming;
      to->incoming = x;
      hp_stats.links_made++;
      hp_stats.links_shared++;
      return true;
    }
  }
  uintptr_t field = from->code + x->branch_off;
  uintptr_t dest = to->code + (x->back_edge && to == from ? hp_frag_tr(to)->loop_off : 0);
  if (!hp_rel32_fits(field + 4, dest)) {
    /* Out of reach: through an absolute jump in the branch's own unit,
     * made once per exit and pointed anew at each relink. Code another
     * thread may be running is only ever changed by aligned stores (the
     * rel32, the trampoline's 8-byte target): a thread already on its way
     * through it reaches the old target, as through an old rel32. */
    struct hp_cache_unit *u = from->unit;
    uint32_t *slot = far_slot(x);
    if (slot && *slot) {
      uintptr_t tramp = from->code + (intptr_t)(int32_t)*slot;
      __atomic_store_n((uint64_t *)(hp_cache_rw(u, tramp) + 8), (uint64_t)dest, __ATOMIC_RELEASE);
      dest = tramp;
    } else {
      uintptr_t space = hp_cache_alloc_cold(u, HP_FAR_JUMP_SPACE);
      if (!space)
        return false;
      dest = hp_write_far_jump(hp_cache_rw(u, space), space, dest);
      hp_stats.far_link_trampolines++;
      if (slot)
        *slot = (uint32_t)(int32_t)(intptr_t)(dest - from->code);
    }
  }
  hp_patch_rel32(rw + x->branch_off, field, dest);
  /* (a slot with a shared jump has its restores after it: its entries
   * follow only shared links) */
  if (!x->share_off)
    hp_stats.jt_entries_aimed += jt_aim(x, from->code + x->jt_slot, to->code) != 0;
  x->linked = to;
  x->next_in = to->incoming;
  to->incoming = x;
  hp_stats.links_made++;
  return true;
}

static bool predict_frozen;

void hp_predict_freeze(void) { predict_frozen = true; }

void hp_predict(struct hp_exit *site, uint64_t target, struct hp_fragment *to)
{
  if (site->kind != HP_EXIT_PREDICT || site->from->removed || site->target == target)
    return;
  if (site->target) {
    /* Another target, after its misses reached their count. Unless
     * frozen, no other thread has ever run translated code (none can be
     * between the site's compare and its jump; nor this one: an
     * asynchronous signal waits for an exit from the cache). */
    if (predict_frozen || site->relearnt >= HP_PREDICT_RELEARN)
      return;
    site->relearnt++;
    hp_stats.sites_relearnt++;
    unlink_linked(site);
  } else {
    hp_stats.sites_learnt++;
  }
  site->target = target;
  /* The branch first, then the tag: a thread that sees the new tag also
   * sees where it leads (or the stub, which goes to the dispatcher). */
  hp_link(site, to);
  uint8_t *rw = hp_cache_rw(site->from->unit, site->from->code);
  __atomic_store_n((uint64_t *)(rw + site->k_off), ~target, __ATOMIC_RELEASE);
}
