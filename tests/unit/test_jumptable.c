/* Unit tests of hp_jt_find: switch dispatches as GCC emits them at -O0 and
 * -O2, decoded and mangled from bytes, their tables in a fake memory. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "hotpath/ilist.h"
#include "hotpath/jumptable.h"
#include "hotpath/mangle.h"

/* Guest memory: a table of int32 offsets at TABLE (relative to TABLE, as
 * GCC's position-independent tables), code at CODE_LO..CODE_HI. */
#define TABLE 0x306cull
#define CODE_LO 0x1000ull
#define CODE_HI 0x2000ull
static int32_t table[8];
static unsigned table_len;
static bool table_writable;

/* A table of absolute addresses (non-PIE code, computed gotos). */
#define TABLE64 0x4000ull
static uint64_t table64[4] = {0x1200, 0x1210, 0x1220, 0x1230};

static bool fake_read(void *ctx, uint64_t a, unsigned size, uint64_t *v)
{
  (void)ctx;
  *v = 0;
  if (a >= TABLE64 && a + size <= TABLE64 + sizeof table64) {
    memcpy(v, (const uint8_t *)table64 + (a - TABLE64), size);
    return true;
  }
  if (table_writable || a < TABLE || a + size > TABLE + 4 * table_len)
    return false;
  memcpy(v, (const uint8_t *)table + (a - TABLE), size);
  return true;
}

static bool fake_code(void *ctx, uint64_t pc)
{
  (void)ctx;
  return pc >= CODE_LO && pc < CODE_HI;
}

static const struct hp_jt_mem mem = {NULL, fake_read, fake_code};

/* Decodes and mangles a block of bytes at pc. */
static void block(const uint8_t *b, size_t n, uint64_t pc, struct hp_ilist *l, struct hp_insn *v)
{
  struct hp_decode_limits lim = {64, n, false};
  *l = (struct hp_ilist){.v = v, .cap = 80};
  hp_decode_block(b, n, pc, &lim, l);
  ck_assert(hp_mangle_block(l, false));
  ck_assert_uint_eq(l->v[l->n - 1].op, HP_OP_JMP_IND);
}

static void set_table(unsigned n)
{
  table_len = n;
  table_writable = false;
  for (unsigned i = 0; i < n; i++)
    table[i] = (int32_t)(0x1100 + 0x10 * i - (int64_t)TABLE); /* case i at 0x1100 + 16 i */
}

/* GCC 12 -O0: the index from a stack slot, the table's address twice. */
static const uint8_t o0[] = {
    0x48, 0x8b, 0x45, 0xf0,                         /* mov rax, [rbp-0x10] */
    0x48, 0x8d, 0x14, 0x85, 0x00, 0x00, 0x00, 0x00, /* lea rdx, [rax*4] */
    0x48, 0x8d, 0x05, 0xf5, 0x1d, 0x00, 0x00,       /* lea rax, [rip+0x1df5] (0x306c) */
    0x8b, 0x04, 0x02,                               /* mov eax, [rdx+rax] */
    0x48, 0x98,                                     /* cdqe */
    0x48, 0x8d, 0x15, 0xe9, 0x1d, 0x00, 0x00,       /* lea rdx, [rip+0x1de9] (0x306c) */
    0x48, 0x01, 0xd0,                               /* add rax, rdx */
    0xff, 0xe0,                                     /* jmp rax */
};

START_TEST(o0_switch_static)
{
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  set_table(5);
  block(o0, sizeof o0, 0x1264, &l, v);
  ck_assert(hp_jt_find(&l, NULL, false, &mem, &jt));
  ck_assert_uint_eq(jt.p, 1); /* after the slot load: the index is rax */
  ck_assert_uint_eq(jt.idx, 0);
  ck_assert_uint_eq(jt.nguards, 0);
  ck_assert(!jt.keep_flags); /* the add writes them */
  ck_assert_uint_eq(jt.n, 5); /* the sixth entry is not readable */
  for (unsigned i = 0; i < 5; i++)
    ck_assert_uint_eq(jt.target[i], 0x1100 + 0x10 * i);
  ck_assert_uint_eq(jt.mem_lo, TABLE);
  ck_assert_uint_eq(jt.mem_hi, TABLE + 20);
}
END_TEST

START_TEST(o0_switch_stops_at_a_bad_target)
{
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  set_table(5);
  table[3] = 0x100000; /* outside the code */
  block(o0, sizeof o0, 0x1264, &l, v);
  ck_assert(hp_jt_find(&l, NULL, false, &mem, &jt));
  ck_assert_uint_eq(jt.n, 3);
}
END_TEST

START_TEST(writable_table_is_not_one)
{
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  set_table(5);
  table_writable = true;
  block(o0, sizeof o0, 0x1264, &l, v);
  ck_assert(!hp_jt_find(&l, NULL, false, &mem, &jt));
}
END_TEST

/* GCC -O2 with the table's address hoisted out of the loop into r8. */
static const uint8_t o2_hoisted[] = {
    0x49, 0x63, 0x14, 0xb0, /* movsxd rdx, [r8+rsi*4] */
    0x4c, 0x01, 0xc2,       /* add rdx, r8 */
    0xff, 0xe2,             /* jmp rdx */
};

START_TEST(o2_switch_guards_its_base)
{
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  uint64_t regs[16] = {0};
  set_table(4);
  block(o2_hoisted, sizeof o2_hoisted, 0x1860, &l, v);
  ck_assert(!hp_jt_find(&l, NULL, false, &mem, &jt)); /* r8 unknown */
  regs[8] = TABLE;
  ck_assert(hp_jt_find(&l, regs, false, &mem, &jt));
  ck_assert_uint_eq(jt.p, 0);
  ck_assert_uint_eq(jt.idx, 6); /* rsi */
  ck_assert_uint_eq(jt.nguards, 1);
  ck_assert_uint_eq(jt.guard[0], 8);
  ck_assert_uint_eq(jt.guard_val[0], TABLE);
  ck_assert_uint_eq(jt.n, 4);
  ck_assert_uint_eq(jt.target[2], 0x1120);
  /* The registers after the jump say the same of r8 (the tail keeps it). */
  ck_assert(hp_jt_find(&l, regs, true, &mem, &jt));
  ck_assert_uint_eq(jt.guard_val[0], TABLE);
}
END_TEST

/* The index register is also the destination (as in Lua's interpreter). */
static const uint8_t o2_same_reg[] = {
    0x48, 0x8d, 0x15, 0x00, 0x10, 0x00, 0x00, /* lea rdx, [rip+0x1000] */
    0x48, 0x63, 0x04, 0x82,                   /* movsxd rax, [rdx+rax*4] */
    0x48, 0x01, 0xd0,                         /* add rax, rdx */
    0xff, 0xe0,                               /* jmp rax */
};

START_TEST(o2_switch_base_in_block)
{
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  set_table(6);
  /* lea at 0x206c - 7 + 7 = ... placed so that rip+0x1000 is TABLE */
  block(o2_same_reg, sizeof o2_same_reg, TABLE - 0x1000 - 7, &l, v);
  ck_assert(hp_jt_find(&l, NULL, false, &mem, &jt));
  ck_assert_uint_eq(jt.p, 0); /* the lea is part of the tail: no guard */
  ck_assert_uint_eq(jt.idx, 0);
  ck_assert_uint_eq(jt.nguards, 0);
  ck_assert_uint_eq(jt.n, 6);
}
END_TEST

/* A guard register written before the dispatch point: its value at the
 * block's start says nothing there. */
static const uint8_t o2_base_written[] = {
    0x4d, 0x89, 0xc8,       /* mov r8, r9 */
    0x49, 0x63, 0x14, 0xb0, /* movsxd rdx, [r8+rsi*4] */
    0x4c, 0x01, 0xc2,       /* add rdx, r8 */
    0xff, 0xe2,             /* jmp rdx */
};

START_TEST(guard_written_before)
{
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  uint64_t regs[16] = {0};
  set_table(4);
  regs[8] = TABLE;
  block(o2_base_written, sizeof o2_base_written, 0x1860, &l, v);
  ck_assert(!hp_jt_find(&l, regs, false, &mem, &jt));
  regs[9] = TABLE; /* through r9: the mov is in the tail, r9 guarded */
  ck_assert(hp_jt_find(&l, regs, false, &mem, &jt));
  ck_assert_uint_eq(jt.p, 0);
  ck_assert_uint_eq(jt.guard[0], 9);
}
END_TEST

/* No instruction in the tail writes every flag: the dispatch's compare
 * would change flags the case (or a signal handler) may read, so the
 * dispatch keeps them. */
static const uint8_t no_flag_kill[] = {
    0x48, 0x63, 0x04, 0x82, /* movsxd rax, [rdx+rax*4] */
    0x48, 0x8d, 0x04, 0x10, /* lea rax, [rax+rdx] */
    0xff, 0xe0,             /* jmp rax */
};

START_TEST(flags_kept_unless_the_tail_writes_them)
{
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  uint64_t regs[16] = {0};
  set_table(4);
  regs[2] = TABLE;
  block(no_flag_kill, sizeof no_flag_kill, 0x1860, &l, v);
  ck_assert(hp_jt_find(&l, regs, false, &mem, &jt));
  ck_assert_uint_eq(jt.n, 4);
  ck_assert(jt.keep_flags);
}
END_TEST

/* Non-PIE code: `jmp [T + idx*8]`, a table of absolute addresses; nothing
 * before the jump writes the flags: the dispatch keeps them. */
static const uint8_t abs_jmp[] = {
    0xff, 0x24, 0xc5, 0x00, 0x40, 0x00, 0x00, /* jmp qword [rax*8 + 0x4000] */
};

START_TEST(absolute_table)
{
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  set_table(0);
  block(abs_jmp, sizeof abs_jmp, 0x1800, &l, v);
  ck_assert(hp_jt_find(&l, NULL, false, &mem, &jt));
  ck_assert(jt.keep_flags);
  ck_assert(!jt.unchecked); /* nothing bounds rax */
  ck_assert_uint_eq(jt.nslots, 4);
  ck_assert_uint_eq(jt.p, 0);
  ck_assert_uint_eq(jt.idx, 0);
  ck_assert_uint_eq(jt.n, 4);
  ck_assert_uint_eq(jt.target[3], 0x1230);
  ck_assert_uint_eq(jt.mem_lo, TABLE64);
  ck_assert_uint_eq(jt.mem_hi, TABLE64 + 32);
}
END_TEST

/* An index masked before the jump (Lua's `and eax, 0x7f` before its
 * computed goto): the table covers every value it can have, so the
 * dispatch needs no compare and leaves the flags alone. */
static void masked(const uint8_t *pre, size_t npre, bool unchecked, unsigned nslots)
{
  uint8_t b[32];
  memcpy(b, pre, npre);
  memcpy(b + npre, abs_jmp, sizeof abs_jmp);
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  set_table(0);
  block(b, npre + sizeof abs_jmp, 0x1800, &l, v);
  ck_assert(hp_jt_find(&l, NULL, false, &mem, &jt));
  ck_assert_msg(jt.unchecked == unchecked && jt.nslots == nslots, "unchecked %d, %u slots (n %u, p %u)", jt.unchecked,
                jt.nslots, jt.n, jt.p);
  if (unchecked)
    ck_assert(!jt.keep_flags); /* no compare: nothing to keep */
}

START_TEST(masked_index)
{
  static const uint8_t and3[] = {0x83, 0xe0, 0x03};                   /* and eax, 3 */
  static const uint8_t and7[] = {0x83, 0xe0, 0x07, 0x89, 0xc0};       /* and eax, 7; mov eax, eax */
  static const uint8_t byte[] = {0x0f, 0xb6, 0x45, 0xff};             /* movzx eax, byte [rbp-1] */
  static const uint8_t added[] = {0x83, 0xe0, 0x03, 0x83, 0xc0, 0x01}; /* and eax, 3; add eax, 1 */
  static const uint8_t other[] = {0x83, 0xe3, 0x03};                  /* and ebx, 3 (not the index) */
  static const uint8_t wide[] = {0x25, 0x00, 0x01, 0x00, 0x00};       /* and eax, 0x100: 512 values */
  /* (a tail that takes the `and` in has more entries, every index below
   * HP_JT_MAX, but needs the compare: the masked index wins) */
  masked(and3, sizeof and3, true, 4);
  masked(and7, sizeof and7, true, 8); /* after the and; entries 4..7 lead to the lookup */
  masked(byte, sizeof byte, true, 256);
  masked(added, sizeof added, true, 4); /* the bound holds where the tail starts (add eax, 1 in it): 3 cases */
  masked(other, sizeof other, false, 4);
  masked(wide, sizeof wide, false, 256);
  /* -O0 keeps the masked opcode in a local: followed through its store */
  /* and eax, 31; mov [rbp-4], eax; mov [rbp-8], ecx; mov eax, [rbp-4] */
  static const uint8_t local[] = {0x83, 0xe0, 0x1f, 0x89, 0x45, 0xfc, 0x89, 0x4d, 0xf8, 0x8b, 0x45, 0xfc};
  masked(local, sizeof local, true, 32); /* (the store to [rbp-8] misses it) */
  /* and eax, 31; mov [rbp-4], eax; mov [rdx], ecx; mov eax, [rbp-4] */
  static const uint8_t clobbered[] = {0x83, 0xe0, 0x1f, 0x89, 0x45, 0xfc, 0x89, 0x0a, 0x8b, 0x45, 0xfc};
  masked(clobbered, sizeof clobbered, false, 4); /* mov [rdx], ecx may reach it */
  /* The bound itself, before each element of `and eax, 7; mov eax, eax; jmp` */
  struct hp_insn v[80];
  struct hp_ilist l;
  uint8_t b[16];
  memcpy(b, and7, sizeof and7);
  memcpy(b + sizeof and7, abs_jmp, sizeof abs_jmp);
  block(b, sizeof and7 + sizeof abs_jmp, 0x1800, &l, v);
  ck_assert_uint_eq(hp_jt_index_bound(&l, 0, 0), 0);
  ck_assert_uint_eq(hp_jt_index_bound(&l, 1, 0), 8);
  ck_assert_uint_eq(hp_jt_index_bound(&l, 2, 0), 8);
  ck_assert_uint_eq(hp_jt_index_bound(&l, 2, 3), 0); /* rbx: nothing wrote it */
}
END_TEST

/* A computed goto (Lua's interpreter at -O2): the table's base hoisted into
 * r14; the instructions between compute other things (not the target) and
 * need no known values. */
static const uint8_t computed_goto[] = {
    0x49, 0x8b, 0x04, 0xc6, /* mov rax, [r14+rax*8] */
    0x48, 0xc1, 0xe3, 0x04, /* shl rbx, 4 */
    0x4c, 0x01, 0xd3,       /* add rbx, r10 */
    0x48, 0x8d, 0x4b, 0x40, /* lea rcx, [rbx+0x40] */
    0xff, 0xe0,             /* jmp rax */
};

START_TEST(computed_goto_slice)
{
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  uint64_t regs[16] = {0};
  set_table(0);
  regs[14] = TABLE64;
  block(computed_goto, sizeof computed_goto, 0x1800, &l, v);
  ck_assert(hp_jt_find(&l, regs, false, &mem, &jt));
  ck_assert_uint_eq(jt.p, 0);
  ck_assert_uint_eq(jt.idx, 0);
  ck_assert_uint_eq(jt.nguards, 1);
  ck_assert_uint_eq(jt.guard[0], 14);
  ck_assert_uint_eq(jt.n, 4);
  ck_assert(!jt.unchecked);
  /* After the jump, r14 still holds the base: a trace takes the same. */
  ck_assert(hp_jt_find(&l, regs, true, &mem, &jt));
  ck_assert_uint_eq(jt.guard[0], 14);
}
END_TEST

/* The same with the index masked first (Lua at -O2 with PIE): the guard's
 * compare stays, and the flags saved around it (the tail writes none),
 * the index's compare goes. */
START_TEST(masked_with_guard)
{
  static const uint8_t b[] = {
      0x83, 0xe0, 0x03,       /* and eax, 3 */
      0x49, 0x8b, 0x04, 0xc6, /* mov rax, [r14+rax*8] */
      0xff, 0xe0,             /* jmp rax */
  };
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  uint64_t regs[16] = {0};
  set_table(0);
  regs[14] = TABLE64;
  block(b, sizeof b, 0x1800, &l, v);
  ck_assert(hp_jt_find(&l, regs, false, &mem, &jt));
  ck_assert_uint_eq(jt.p, 1);
  ck_assert_uint_eq(jt.nguards, 1);
  ck_assert(jt.unchecked);
  ck_assert_uint_eq(jt.nslots, 4);
  ck_assert(jt.keep_flags);
}
END_TEST

/* A switch in a trace at -O0: its own range check (`cmp qword [rbp-16],
 * imm; ja default`, a side exit) before the index is loaded again from the
 * local bounds it (unsigned; the stitched side exit is taken above it). */
static void switch_checked(const uint8_t *check, size_t ncheck, const uint8_t *mid, size_t nmid, bool unchecked,
                           unsigned nslots)
{
  static const uint8_t load_jmp[] = {
      0x48, 0x8b, 0x45, 0xf0,                   /* mov rax, [rbp-0x10] */
      0xff, 0x24, 0xc5, 0x00, 0x40, 0x00, 0x00, /* jmp qword [rax*8 + 0x4000] */
  };
  struct hp_insn a[80], b[80], v[160];
  struct hp_decode_limits lim = {64, ncheck, false};
  struct hp_ilist la = {.v = a, .cap = 80};
  hp_decode_block(check, ncheck, 0x1700, &lim, &la);
  ck_assert(hp_mangle_block(&la, false));
  ck_assert_uint_eq(la.v[la.n - 2].op, HP_OP_EXIT_CC); /* cmp; jcc: the way on falls through (the EXIT) */
  uint8_t rest[32];
  memcpy(rest, mid, nmid);
  memcpy(rest + nmid, load_jmp, sizeof load_jmp);
  struct hp_ilist lb;
  block(rest, nmid + sizeof load_jmp, 0x1800, &lb, b);
  struct hp_ilist l = {.v = v, .cap = 160};
  memcpy(v, a, (la.n - 1) * sizeof *v);
  memcpy(v + la.n - 1, b, lb.n * sizeof *v);
  l.n = la.n - 1 + lb.n;
  l.pc = la.pc;
  set_table(0);
  struct hp_jt jt;
  ck_assert(hp_jt_find(&l, NULL, false, &mem, &jt));
  ck_assert_msg(jt.unchecked == unchecked && jt.nslots == nslots, "unchecked %d, %u slots (n %u, p %u)", jt.unchecked,
                jt.nslots, jt.n, jt.p);
}

START_TEST(switch_range_checked)
{
  static const uint8_t ja17[] = {0x48, 0x83, 0x7d, 0xf0, 0x11, 0x77, 0x10};  /* cmp qword [rbp-16], 17; ja */
  static const uint8_t jae3[] = {0x48, 0x83, 0x7d, 0xf0, 0x03, 0x73, 0x10};  /* cmp qword [rbp-16], 3; jae */
  static const uint8_t jg17[] = {0x48, 0x83, 0x7d, 0xf0, 0x11, 0x7f, 0x10};  /* cmp ...; jg: signed */
  static const uint8_t other[] = {0x48, 0x83, 0x7d, 0xe8, 0x11, 0x77, 0x10}; /* cmp qword [rbp-24], 17; ja */
  static const uint8_t dword[] = {0x83, 0x7d, 0xf0, 0x11, 0x77, 0x10};       /* cmp dword [rbp-16], 17: 4 bytes */
  static const uint8_t none[] = {0};
  static const uint8_t store[] = {0x48, 0x89, 0x4d, 0xf0}; /* mov [rbp-16], rcx */
  static const uint8_t nop[] = {0x48, 0x89, 0x4d, 0xe0};   /* mov [rbp-32], rcx: another local */
  switch_checked(ja17, sizeof ja17, none, 0, true, 32);
  switch_checked(jae3, sizeof jae3, none, 0, true, 4);
  switch_checked(jg17, sizeof jg17, none, 0, false, 4);
  switch_checked(other, sizeof other, none, 0, false, 4);
  switch_checked(dword, sizeof dword, none, 0, false, 4);
  switch_checked(ja17, sizeof ja17, store, sizeof store, false, 4);
  switch_checked(ja17, sizeof ja17, nop, sizeof nop, true, 32);
}
END_TEST

/* The cases' code for hp_jt_dead_tails: case i at 0x1100 + 16 i. */
static uint8_t cases[5][16];
static size_t fake_fetch(void *ctx, uint64_t pc, uint8_t *buf, size_t max)
{
  (void)ctx;
  if (pc < 0x1100 || pc >= 0x1140) /* case 4: code it cannot vouch for */
    return 0;
  size_t off = pc - 0x1100, n = 0x40 - off < max ? 0x40 - off : max;
  memcpy(buf, (const uint8_t *)cases + off, n);
  return n;
}

START_TEST(o0_dead_tails)
{
  static const uint8_t c0[] = {0x8b, 0x45, 0xf8, 0x8b, 0x55, 0xfc, 0x39, 0xd0, 0x7c, 0x00}; /* rax, rdx, flags written */
  static const uint8_t c1[] = {0x8b, 0x45, 0xf8, 0x01, 0xd0};                               /* add eax, edx: reads rdx */
  static const uint8_t c2[] = {0x8b, 0x45, 0xf8, 0xba, 0, 0, 0, 0, 0xeb, 0xd6};           /* ...; jmp case 0 */
  static const uint8_t c3[] = {0x8b, 0x45, 0xf8, 0x8b, 0x55, 0xfc, 0xc3};                 /* ret: the flags live */
  memset(cases, 0xcc, sizeof cases);
  memcpy(cases[0], c0, sizeof c0);
  memcpy(cases[1], c1, sizeof c1);
  memcpy(cases[2], c2, sizeof c2);
  memcpy(cases[3], c3, sizeof c3);
  struct hp_insn v[80];
  struct hp_ilist l;
  struct hp_jt jt;
  set_table(5);
  block(o0, sizeof o0, 0x1264, &l, v);
  ck_assert(hp_jt_find(&l, NULL, false, &mem, &jt));
  ck_assert(!jt.keep_flags);
  for (unsigned k = 0; k < 5; k++)
    ck_assert(!jt.tail_dead[k]); /* hp_jt_find marks none */
  ck_assert_uint_eq(hp_jt_dead_tails(&l, &jt, fake_fetch, NULL), 2);
  ck_assert(jt.tail_dead[0]);
  ck_assert(!jt.tail_dead[1]);
  ck_assert(jt.tail_dead[2]); /* through its jmp */
  ck_assert(!jt.tail_dead[3]);
  ck_assert(!jt.tail_dead[4]);
  ck_assert_uint_eq(jt.code_lo, 0x1100);
  ck_assert_uint_eq(jt.code_hi, 0x112a); /* the marked cases only: case 2 ends with its jmp */
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("jumptable");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, o0_switch_static);
  tcase_add_test(tc, masked_index);
  tcase_add_test(tc, masked_with_guard);
  tcase_add_test(tc, switch_range_checked);
  tcase_add_test(tc, o0_switch_stops_at_a_bad_target);
  tcase_add_test(tc, o0_dead_tails);
  tcase_add_test(tc, writable_table_is_not_one);
  tcase_add_test(tc, o2_switch_guards_its_base);
  tcase_add_test(tc, o2_switch_base_in_block);
  tcase_add_test(tc, guard_written_before);
  tcase_add_test(tc, flags_kept_unless_the_tail_writes_them);
  tcase_add_test(tc, absolute_table);
  tcase_add_test(tc, computed_goto_slice);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
