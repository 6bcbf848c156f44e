/* Block builder: the stages in order. decode (guest bytes -> list) ->
 * mangle (control transfers) -> lower (machine code in a cache reservation)
 * -> commit (records, stubs, publication). Only this file reads live guest
 * memory and the memory map; only commit publishes. */
#include "hotpath/builder.h"

#include <cpuid.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hotpath/arena.h"
#include "hotpath/cache.h"
#include "hotpath/ibl.h"
#include "hotpath/ilist.h"
#include "hotpath/jumptable.h"
#include "hotpath/log.h"
#include "hotpath/lower.h"
#include "hotpath/mangle.h"
#include "hotpath/memmap.h"
#include "hotpath/options.h"
#include "hotpath/perfout.h"
#include "hotpath/stats.h"
#include "hotpath/thread.h"

#define MAX_INSNS 64
#define MAX_CHECKED_BYTES 256 /* blocks of writable code stay short: their check is inline */
_Static_assert(HP_BLOCK_LIST_CAP >= MAX_INSNS + 1 + HP_MANGLE_EXTRA, "block list");

/* Code that can change under its translation: writable here, or a shared
 * mapping (a JIT's memfd mapped RX here and RW elsewhere writes it through
 * the other view, with no system call hotpath would see). */
static bool changeable(const struct hp_region *r) { return (r->prot & PROT_WRITE) || r->shared; }

/* How many bytes from pc can be decoded: to the end of its executable
 * region, or across into an adjacent executable one (*changes: either can
 * change under the translation; *exec_only: either is mapped without read
 * and write, which protection keys make unreadable here). */
static size_t decodable(uint64_t pc, const struct hp_region *r, bool *changes, bool *exec_only)
{
  size_t n = r->end - pc;
  *changes = changeable(r);
  *exec_only = !(r->prot & (PROT_READ | PROT_WRITE));
  if (n < ZYDIS_MAX_INSTRUCTION_LENGTH) {
    struct hp_region next;
    if (hp_memmap_query(r->end, &next) && (next.prot & PROT_EXEC)) {
      n += ZYDIS_MAX_INSTRUCTION_LENGTH;
      *changes |= changeable(&next);
      *exec_only |= !(next.prot & (PROT_READ | PROT_WRITE));
    }
  }
  return n;
}

uint64_t hp_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A block of anonymous memory (JIT code) keeps the bytes it was made from,
 * taken from its decoded instructions (what was translated, even if another
 * thread writes the page meanwhile): a reprotection that flushes it but
 * leaves them unchanged then revives it instead of translating again
 * (hp_fragment_revive). Only blocks whose translation depends on those
 * bytes alone: one range, no jump table (its entries), no code check, not
 * ended by bytes that did not decode (their bytes lie past the range). */
static void keep_source(struct hp_fragment *f, const struct hp_ilist *l)
{
  if (!l->anon || f->checks_code || f->nranges != 1 || f->ranges[0].lo != l->pc || !l->n ||
      (l->v[l->n - 1].op == HP_OP_STOP && !l->v[l->n - 1].len))
    return;
  /* One range: its elements with bytes are one run from l->pc (commit). */
  uint32_t len = (uint32_t)(f->ranges[0].hi - f->ranges[0].lo), at = 0;
  uint8_t *src = hp_arena_gen_alloc(len);
  for (unsigned i = 0; i < l->n; i++) {
    memcpy(src + at, l->v[i].bytes, l->v[i].len);
    at += l->v[i].len;
  }
  HP_ASSERT(at == len);
  struct hp_frag_trace *tr = hp_frag_tr_mut(f);
  tr->source = src;
  tr->source_len = len;
}

/* Commit: the fragment's records, its stubs in the cold part of the
 * reservation, then publication. */
static struct hp_fragment *commit(const struct hp_ilist *l, const struct hp_cache_reservation *r,
                                  size_t hot_used, const struct hp_lowered *lo, uint8_t kind,
                                  bool private_copy)
{
  /* Guest ranges: runs of contiguous instructions (one for a block, about
   * one per recorded block for a trace). */
  unsigned nr = 0;
  uint64_t run_end = 0;
  for (unsigned i = 0; i < l->n; i++)
    if (l->v[i].len) {
      nr += l->v[i].pc != run_end;
      run_end = l->v[i].pc + l->v[i].len;
    }
  if (!nr)
    nr = 1;
  bool jt = l->jt && lo->jt_n;
  nr += jt; /* the jump table's entries: a change there flushes the fragment */
  bool jt_code = jt && l->jt->code_hi;
  nr += jt_code; /* the cases whose liveness let their slots skip the tail: the same */
  /* The record and its arrays in one allocation (8-byte fields first). */
  size_t sz_f = (sizeof(struct hp_fragment) + 15) & ~(size_t)15;
  size_t sz_x = sizeof(struct hp_exit) * lo->nexits, sz_r = sizeof(struct hp_guest_range) * nr;
  size_t sz_c = sizeof(struct hp_continuation) * lo->nconts, sz_g = sizeof(uint64_t) * lo->npc;
  size_t sz_v = sizeof(struct hp_recov) * lo->recov.n, sz_o = sizeof(uint32_t) * lo->npc;
  uint8_t *mem = hp_arena_gen_alloc(sz_f + sz_x + sz_r + sz_c + sz_g + sz_v + sz_o + lo->npc);
  struct hp_fragment *f = (struct hp_fragment *)mem;
  memset(f, 0, sizeof *f);
  mem += sz_f;
  f->exits = (struct hp_exit *)mem;
  f->ranges = (struct hp_guest_range *)(mem += sz_x);
  f->conts = lo->nconts ? (struct hp_continuation *)(mem += sz_r) : (mem += sz_r, NULL);
  f->pc_guest = (uint64_t *)(mem += sz_c);
  f->recov = lo->recov.n ? (struct hp_recov *)(mem += sz_g) : (mem += sz_g, NULL);
  f->pc_off = (uint32_t *)(mem += sz_v);
  f->pc_len = (mem += sz_o);
  f->guest_pc = l->pc;
  for (unsigned i = 0; i < l->n; i++)
    f->ninsn += l->v[i].len != 0;
  f->code = r->hot_rx;
  if (kind == HP_FRAG_TRACE || lo->loop_off || lo->spec_end || lo->deopt_off) {
    /* Before publication: the signal handler reads the speculative range. */
    struct hp_frag_trace *tr = hp_frag_tr_mut(f);
    tr->loop_off = lo->loop_off;
    tr->spec_start = lo->spec_start;
    tr->spec_end = lo->spec_end;
    tr->deopt_off = lo->deopt_off;
    /* Its plan, for exits of traces with the same one that go past its
     * entry (hp_link): before publication, which links them. */
    const struct hp_promotion *p = l->promo;
    if (kind == HP_FRAG_TRACE && p && !p->fold_only && !p->deferred && lo->loop_off) {
      struct hp_promotion *keep = hp_arena_gen_alloc(sizeof *keep);
      *keep = *p;
      tr->plan = keep;
    }
  }
  f->size = (uint32_t)hot_used;
  f->kind = kind;
  f->unit = r->unit;
  f->checks_code = lo->checks_code;
  f->nexits = (uint16_t)lo->nexits;
  for (unsigned k = 0; k < lo->nexits; k++) {
    const struct hp_lowered_exit *d = &lo->exits[k];
    struct hp_exit *x = &f->exits[k];
    *x = (struct hp_exit){.kind = d->kind, .call = d->call, .target = d->target, .from = f, .k_off = d->k_off,
                          .site = -1};
    uintptr_t stub = hp_lower_stub(r->cold_top_rx, k);
    x->stub_off = (int32_t)((intptr_t)stub - (intptr_t)f->code); /* one unit */
    x->unlinked_off = d->unlink_off ? (int32_t)d->unlink_off : x->stub_off;
    x->back_edge = d->back_edge;
    x->share_off = d->share_pos;
    x->jt_slot = d->jt_slot;
    x->branch_off = d->kind == HP_EXIT_BRANCH || d->kind == HP_EXIT_PREDICT ? d->branch_pos : 0;
    if (d->site >= 0)
      x->site = (int16_t)d->site;
    struct hp_emit cold = {.rw = hp_cache_rw(r->unit, stub), .rx = stub, .cap = HP_EXIT_STUB_SIZE};
    hp_emit_exit_stub(&cold, (uintptr_t)x);
    HP_ASSERT(!cold.overflow);
  }
  f->nranges = 0;
  run_end = 0;
  for (unsigned i = 0; i < l->n; i++) {
    const struct hp_insn *in = &l->v[i];
    if (!in->len)
      continue;
    if (in->pc != run_end)
      f->ranges[f->nranges++] = (struct hp_guest_range){in->pc, in->pc};
    run_end = f->ranges[f->nranges - 1].hi = in->pc + in->len;
  }
  if (!f->nranges) /* nothing decoded (a stop at the first byte): the bytes it would
                     * take, so that making the next page executable flushes it */
    f->ranges[f->nranges++] = (struct hp_guest_range){l->pc, l->pc + ZYDIS_MAX_INSTRUCTION_LENGTH};
  if (jt) {
    f->ranges[f->nranges++] = (struct hp_guest_range){l->jt->mem_lo, l->jt->mem_hi};
    if (jt_code)
      f->ranges[f->nranges++] = (struct hp_guest_range){l->jt->code_lo, l->jt->code_hi};
    uintptr_t slots[HP_JT_MAX];
    for (unsigned i = 0; i < lo->jt_n; i++)
      slots[i] = r->hot_rx + lo->jt_off[i];
    hp_jt_table_set(l->jt->gs_first, lo->jt_n, slots); /* before anything can reach the dispatch */
    f->jt_first = l->jt->gs_first;
    f->jt_n = (uint16_t)lo->jt_n;
  }
  f->nconts = (uint16_t)lo->nconts;
  if (lo->nconts) {
    for (unsigned i = 0; i < lo->nconts; i++)
      f->conts[i] = (struct hp_continuation){r->hot_rx + lo->conts[i].off, r->hot_rx + lo->conts[i].entry,
                                             lo->conts[i].guest};
  }
  f->npc = lo->npc;
  memcpy(f->pc_off, lo->pc_off, sizeof *f->pc_off * lo->npc);
  memcpy(f->pc_guest, lo->pc_guest, sizeof *f->pc_guest * lo->npc);
  memcpy(f->pc_len, lo->pc_len, lo->npc);
  f->nrecov = (uint16_t)lo->recov.n;
  if (lo->recov.n) {
    memcpy(f->recov, lo->recov.v, sizeof *f->recov * lo->recov.n);
  }
  hp_cache_commit(r, hot_used, lo->nexits * HP_EXIT_STUB_SIZE);
  if (kind == HP_FRAG_BLOCK && !private_copy)
    keep_source(f, l);
  if (private_copy) {
    /* Runs once for a recording thread: found by faults (cache-pc index),
     * never by lookups, never linked. */
    f->removed = true;
    hp_cache_index_add(f->unit, f->code, f->size, f);
  } else {
    hp_fragment_publish(f);
    if (hp_opt.perf_map || hp_opt.jitdump)
      hp_perf_fragment(f);
  }
  return f;
}

struct hp_fragment *hp_translate_list(const struct hp_ilist *l, uint8_t kind, bool record)
{
  struct hp_lower_opts opts = {.force_far = hp_opt.debug_far_cache, .record = record};
  if (hp_stats_enabled() && !record) /* arena memory starts zeroed (freed with its generation) */
    opts.entry_counter = hp_arena_gen_alloc(sizeof(uint64_t));
  if (hp_stats_enabled() && !record && kind == HP_FRAG_TRACE) {
    opts.side_exits = &hp_stats.trace_side_exits;
    opts.callee_exits = &hp_stats.trace_callee_exits;
  }
  struct hp_lower_sizes sz;
  hp_lower_sizes(l, &opts, &sz);
  struct hp_lowered_exit exits[sz.exits ? sz.exits : 1];
  uint32_t pc_off[sz.pcs];
  uint64_t pc_guest[sz.pcs];
  uint8_t pc_len[sz.pcs];
  struct hp_lowered_cont conts[sz.conts ? sz.conts : 1];
  struct hp_recov recov[sz.recov];
  struct hp_lowered lo = {.exits = exits, .max_exits = sz.exits, .pc_off = pc_off, .pc_guest = pc_guest,
                          .pc_len = pc_len, .max_pc = sz.pcs, .conts = conts, .max_conts = sz.conts,
                          .recov = {recov, 0, sz.recov}};
  size_t hot = sz.hot;
  for (int attempt = 0;; attempt++) {
    struct hp_cache_reservation r;
    if (!hp_cache_reserve(l->pc, hot, sz.exits * HP_EXIT_STUB_SIZE, attempt == 2, &r))
      return NULL; /* --cache-size reached: hp_cache_full(); the dispatcher flushes */
    struct hp_emit e = {.rw = r.hot_rw, .rx = r.hot_rx, .cap = r.hot_cap, .count_lookups = hp_stats_enabled(),
                        .ret_wide = hp_ret_table_bits() > HP_RET_TABLE_NARROW_BITS};
    if (hp_lower(l, &e, r.cold_top_rx, &opts, &lo)) {
      hp_stats.riprel_far += lo.riprel_far;
      hp_stats.ibl_reg_sites += lo.reg_lookups;
      hp_stats.icall_reg_sites += lo.reg_calls;
      hp_stats.checked_fragments += lo.checks_code;
      hp_stats.jt_sites += lo.jt_n != 0;
      hp_stats.jt_unchecked += lo.jt_n != 0 && l->jt && l->jt->unchecked;
      hp_stats.jt_entries += lo.jt_n;
      hp_stats.jt_dead_slots += lo.jt_dead;
      hp_stats.opt_xslot_whole += lo.xslot_whole;
      r.unit->count_used += e.count_bytes;
      struct hp_fragment *f = commit(l, &r, e.pos, &lo, kind, record);
      if (opts.entry_counter)
        hp_frag_tr_mut(f)->entries = opts.entry_counter;
      return f;
    }
    /* Nothing was published: the reservation is abandoned. */
    if (lo.broken) {
      HP_ASSERT(kind == HP_FRAG_TRACE); /* blocks never pair calls with returns */
      return NULL;
    }
    hp_stats.emit_retries++;
    HP_ASSERT(attempt < 3);
    hot *= 2;
  }
}

/* Protection keys (CPUID 7.0 ECX bit 3): the kernel then makes PROT_EXEC-
 * only memory unreadable. */
static bool cpu_has_pku(void)
{
  static int known = -1;
  if (known < 0) {
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    known = (c >> 3) & 1;
  }
  return known;
}

bool hp_decode_guest_block(uint64_t pc, struct hp_ilist *l)
{
  struct hp_region region;
  /* The vsyscall page (above user space) is execute-only for real: the
   * dispatcher emulates it. */
  if (pc >> 47 || !hp_memmap_query(pc, &region) || !(region.prot & PROT_EXEC))
    return false;
  bool writable, exec_only;
  size_t avail = decodable(pc, &region, &writable, &exec_only);
  struct hp_decode_limits lim = {MAX_INSNS, writable ? MAX_CHECKED_BYTES : MAX_INSNS * ZYDIS_MAX_INSTRUCTION_LENGTH,
                                 writable};
  HP_ASSERT(l->cap >= HP_BLOCK_LIST_CAP);
  const uint8_t *bytes = (const uint8_t *)pc;
  uint8_t copy[MAX_INSNS * ZYDIS_MAX_INSTRUCTION_LENGTH];
  if (exec_only && cpu_has_pku()) {
    /* Execute-only memory (PROT_EXEC alone, here or in the next region an
     * instruction may run into), which execute-only protection
     * keys make unreadable here (without them, x86 reads what it can
     * execute): read through /proc/thread-self/mem (/proc/self is
     * the main thread's, unreadable once it has exited), which may read what the
     * program cannot; what it cannot read either (the vsyscall page) is
     * not translated. */
    size_t want = avail < sizeof copy ? avail : sizeof copy;
    hp_fs_host();
    int fd = open("/proc/thread-self/mem", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, copy, want, (off_t)pc) : -1;
    if (fd >= 0)
      close(fd);
    if (n <= 0)
      return false;
    bytes = copy;
    avail = (size_t)n;
  }
  hp_stats.guest_insns_translated += hp_decode_block(bytes, avail, pc, &lim, l);
  HP_ASSERT(hp_mangle_block(l, writable));
  l->anon = !region.name[0] && !region.shared;
  return true;
}

/* Jump table entries: read from memory nobody can change without a system
 * call that flushes the translation (not writable, not shared). */
struct jt_ctx {
  struct hp_region r, code; /* the last region read, the last region of code */
  bool have, have_code;
};
static bool jt_region(struct jt_ctx *c, uint64_t a, unsigned size)
{
  if (!c->have || a < c->r.start || a + size > c->r.end)
    c->have = hp_memmap_query(a, &c->r);
  return c->have && a + size > a && a + size <= c->r.end;
}
static bool jt_read(void *ctx, uint64_t a, unsigned size, uint64_t *v)
{
  struct jt_ctx *c = ctx;
  if (!jt_region(c, a, size) || !(c->r.prot & PROT_READ) || changeable(&c->r))
    return false;
  *v = 0;
  memcpy(v, (const void *)a, size);
  return true;
}
static size_t jt_fetch(void *ctx, uint64_t pc, uint8_t *buf, size_t max)
{
  struct jt_ctx *c = ctx;
  if (!jt_region(c, pc, 1) || !(c->r.prot & PROT_READ) || !(c->r.prot & PROT_EXEC) || changeable(&c->r))
    return 0;
  size_t n = c->r.end - pc < max ? (size_t)(c->r.end - pc) : max;
  memcpy(buf, (const void *)pc, n);
  return n;
}
/* (a table's targets are mostly in one mapping: one query for all) */
static bool jt_code(void *ctx, uint64_t pc)
{
  struct jt_ctx *c = ctx;
  if (pc >> 47)
    return false;
  if (!c->have_code || pc < c->code.start || pc >= c->code.end)
    c->have_code = hp_memmap_query(pc, &c->code);
  return c->have_code && (c->code.prot & PROT_EXEC);
}

bool hp_jt_probe(const struct hp_ilist *l, const uint64_t *regs, bool at_end, struct hp_jt *jt)
{
  if (hp_opt.no_jump_tables)
    return false;
  struct jt_ctx c = {.have = false, .have_code = false};
  struct hp_jt_mem m = {&c, jt_read, jt_code};
  return hp_jt_find(l, regs, at_end, &m, jt);
}

bool hp_jt_for_list(const struct hp_ilist *l, const uint64_t *regs, bool at_end, bool hot, bool probed,
                    struct hp_jt *jt)
{
  /* The thread blocks' tables are a ring of HP_JT_ENTRIES: blocks take
   * tables while it is less than half used, so that the traces of a
   * program with many switches (python's start-up alone translates some
   * 180 dispatch sites of 256 entries) still find room; where there is
   * none, the search (which evaluates every entry) is not made. */
  unsigned ring = hp_jt_table_room(), used = hp_jt_table_used();
  if (!hot && used + 2 > HP_JT_ENTRIES / 2)
    return false;
  if (ring < 2 || (!probed && !hp_jt_probe(l, regs, at_end, jt)))
    return false;
  if (!hot && jt->n > HP_JT_ENTRIES / 2 - used)
    jt->n = HP_JT_ENTRIES / 2 - used; /* later entries go through the lookup */
  if (jt->n > ring)
    jt->n = ring;
  if (jt->n < 2)
    return false;
  /* A quarter of the largest fragment the cache takes (a small
   * --cache-size): later entries go through the lookup. */
  size_t room = hp_cache_fragment_max() / 4, slot = hp_lower_jt_slot_bytes(l, jt->p);
  if (room < HP_LOWER_JT_DISPATCH_BYTES + 2 * slot)
    return false;
  if (jt->n > (room - HP_LOWER_JT_DISPATCH_BYTES) / slot)
    jt->n = (unsigned)((room - HP_LOWER_JT_DISPATCH_BYTES) / slot);
  /* Unchecked, every value the index can have has its entry (those past
   * n, and past a cut above, lead to the dispatch's own way on): where the
   * ring has no room for them, checked. */
  if (jt->unchecked && (jt->nslots > ring || (!hot && jt->nslots > HP_JT_ENTRIES / 2 - used))) {
    jt->unchecked = false;
    jt->keep_flags = jt->keep_flags_checked;
  }
  if (!jt->unchecked)
    jt->nslots = jt->n;
  int32_t first = hp_jt_table_alloc(jt->nslots);
  if (first < 0)
    return false; /* the thread blocks' tables are full: lookups as before */
  jt->gs_first = (uint32_t)first;
  /* The optimizer's liberty (not under --opt-exact-state): cases that read
   * nothing the tail leaves skip it (builder.h: which tables). Their code
   * is read as the entries are: from memory nobody can change without a
   * system call that flushes the translation. */
  if ((hot || jt->n <= 32) && hp_opt.opt >= 2 && !hp_opt.opt_exact_state) {
    struct jt_ctx c = {.have = false};
    hp_jt_dead_tails(l, jt, jt_fetch, &c);
  }
  return true;
}

struct hp_fragment *hp_build_block(uint64_t pc) { return hp_build_block_at(pc, NULL); }

/* The block a reprotection of its anonymous memory flushed, put back if
 * its bytes are as it was made from them and the memory is again what a
 * new translation would take alike (executable, neither writable nor
 * shared, anonymous, the whole block in it): a JIT that makes its code area
 * writable to add code and executable again keeps the code it had. */
struct hp_fragment *hp_revive_block(uint64_t pc)
{
  struct hp_fragment *f = pc >> 47 ? NULL : hp_fragment_suspended(pc);
  if (!f)
    return NULL;
  const struct hp_frag_trace *tr = hp_frag_tr(f);
  struct hp_region region;
  if (!hp_memmap_query(pc, &region) || !(region.prot & PROT_EXEC) || changeable(&region) || region.name[0] ||
      tr->source_len > region.end - pc || (!(region.prot & PROT_READ) && cpu_has_pku()) ||
      memcmp((const void *)pc, tr->source, tr->source_len) != 0)
    return NULL;
  hp_fragment_revive(f);
  hp_stats.blocks_revived++;
  HP_DEBUG("block 0x%lx revived: its %u bytes are unchanged", (unsigned long)pc, tr->source_len);
  return f;
}

static struct hp_fragment *build_at(uint64_t pc, const uint64_t *regs, bool tables)
{
  struct hp_fragment *back = hp_revive_block(pc);
  if (back)
    return back;
  uint64_t t0 = hp_stats_enabled() ? hp_now_ns() : 0; /* a clock read per block only when asked */
  struct hp_insn v[HP_BLOCK_LIST_CAP];
  struct hp_ilist l = {.v = v, .cap = HP_BLOCK_LIST_CAP};
  if (!hp_decode_guest_block(pc, &l))
    return NULL;
  static struct hp_jt jt; /* under the lock */
  if (tables && hp_jt_for_list(&l, regs, false, false, false, &jt))
    l.jt = &jt;
  struct hp_fragment *f = hp_translate_list(&l, HP_FRAG_BLOCK, false);
  if (!f)
    return NULL; /* the cache is full (hp_cache_full) */
  hp_stats.blocks_built++;
  if (hp_stats_enabled())
    hp_stats.translate_ns += hp_now_ns() - t0;
  HP_DEBUG("block 0x%lx-0x%lx: %u elements, %u bytes at %p", (unsigned long)pc, (unsigned long)l.end,
           l.n, f->size, (void *)f->code);
  return f;
}

struct hp_fragment *hp_build_block_at(uint64_t pc, const uint64_t *regs) { return build_at(pc, regs, true); }

struct hp_fragment *hp_build_block_guess(uint64_t pc) { return build_at(pc, NULL, false); }
