/* Indirect branches whose target changes after the trace that guards them
 * was built: a function pointer called in a hot loop keeps one target for
 * many iterations, then switches, then alternates at several periods and
 * finally goes back; a vtable-style call through a struct; an indirect jump
 * through a pointer array (labels as values) whose index pattern changes; a
 * tail call through a pointer (an indirect jmp to a function); a call whose
 * two targets alternate for good. Every sum is
 * checked against a computation without indirect branches. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"

#define NI __attribute__((noinline, noclone))
NI static uint64_t fa(uint64_t x) { return x + 1; }
NI static uint64_t fb(uint64_t x) { return x * 3; }
NI static uint64_t fc(uint64_t x) { return x ^ 0x5555; }
NI static uint64_t fd(uint64_t x) { return (x >> 1) + 7; }

static uint64_t apply(int which, uint64_t x)
{
  switch (which) {
  case 0: return x + 1;
  case 1: return x * 3;
  case 2: return x ^ 0x5555;
  default: return (x >> 1) + 7;
  }
}

typedef uint64_t (*fn_t)(uint64_t);
static fn_t volatile cur = fa;
static fn_t const fns[4] = {fa, fb, fc, fd};

/* Which function iteration i of the schedule uses. */
static int schedule(int i)
{
  if (i < 50000)
    return 0;               /* long enough for the trace to be built on fa */
  if (i < 60000)
    return 1;               /* then a different target for a while */
  if (i < 70000)
    return (i / 1000) & 1;  /* back and forth every 1000 */
  if (i < 80000)
    return i & 1 ? 2 : 0;   /* every iteration */
  if (i < 90000)
    return i % 3 == 0 ? 3 : 1;
  return 0;                 /* and back to the first */
}

NI static void set_cur(int which) { cur = fns[which]; }

struct obj;
struct vt {
  uint64_t (*step)(struct obj *, uint64_t);
  uint64_t (*fin)(struct obj *);
};
struct obj {
  const struct vt *vt;
  uint64_t state;
};
NI static uint64_t step_add(struct obj *o, uint64_t x) { return o->state += x; }
NI static uint64_t step_mix(struct obj *o, uint64_t x) { return o->state = o->state * 31 + x; }
NI static uint64_t fin_id(struct obj *o) { return o->state; }
NI static uint64_t fin_neg(struct obj *o) { return ~o->state; }
static const struct vt vt_add = {step_add, fin_id}, vt_mix = {step_mix, fin_neg};

/* Indirect jumps through a table of label addresses. */
NI static uint64_t labels_run(int n, int pattern)
{
  static void *const tbl[4] = {&&l0, &&l1, &&l2, &&l3};
  uint64_t s = 0;
  int i = 0;
  int k;
next:
  if (i == n)
    return s;
  switch (pattern) {
  case 0: k = 0; break;
  case 1: k = i & 3; break;
  case 2: k = (i >> 8) & 3; break;
  default: k = i % 3 == 0 ? 3 : 1; break;
  }
  i++;
  goto *tbl[k];
l0: s += 1; goto next;
l1: s = s * 3 + 1; goto next;
l2: s ^= (uint64_t)i << 3; goto next;
l3: s -= 5; goto next;
}

static uint64_t labels_ref(int n, int pattern)
{
  uint64_t s = 0;
  for (int i = 0; i < n; i++) {
    int k;
    switch (pattern) {
    case 0: k = 0; break;
    case 1: k = i & 3; break;
    case 2: k = (i >> 8) & 3; break;
    default: k = i % 3 == 0 ? 3 : 1; break;
    }
    if (k == 0) s += 1;
    else if (k == 1) s = s * 3 + 1;
    else if (k == 2) s ^= (uint64_t)(i + 1) << 3;
    else s -= 5;
  }
  return s;
}

/* A tail call through a pointer: at -O2 an indirect jmp into the function. */
static fn_t volatile tail_target = fb;
NI static uint64_t tail(uint64_t x) { return tail_target(x + 2); }

int main(void)
{
  const int N = 100000;
  uint64_t got = 0, want = 0;
  int last = -1;
  for (int i = 0; i < N; i++) {
    int w = schedule(i);
    if (w != last) {
      set_cur(w);
      last = w;
    }
    got = cur(got) + (uint64_t)i;
  }
  for (int i = 0; i < N; i++)
    want = apply(schedule(i), want) + (uint64_t)i;
  check("function pointer schedule", got, want);

  /* Calls through a table indexed by a changing pattern (no store between). */
  got = want = 0;
  for (int i = 0; i < N; i++) {
    int w = i < N / 2 ? 2 : (i * 7 >> 4) & 3;
    got = fns[w](got) + 1;
    want = apply(w, want) + 1;
  }
  check("function pointer table", got, want);

  /* vtable: an object switches class after 30000 steps, then every 100. */
  struct obj o = {&vt_add, 1};
  uint64_t oref = 1;
  got = want = 0;
  for (int i = 0; i < 40000; i++) {
    if (i == 30000 || (i > 30000 && i % 100 == 0))
      o.vt = o.vt == &vt_add ? &vt_mix : &vt_add;
    int mix = o.vt == &vt_mix;
    got += o.vt->step(&o, (uint64_t)i);
    oref = mix ? oref * 31 + (uint64_t)i : oref + (uint64_t)i;
    want += oref;
    if ((i & 1023) == 0) {
      got ^= o.vt->fin(&o);
      want ^= mix ? ~oref : oref;
    }
  }
  check("vtable", got, want);

  got = want = 0;
  int pats[] = {0, 1, 2, 3, 0, 2};
  for (int k = 0; k < 6; k++) {
    got = got * 7 + labels_run(20000, pats[k]);
    want = want * 7 + labels_ref(20000, pats[k]);
  }
  check("label table", got, want);

  got = want = 0;
  for (int i = 0; i < 30000; i++) {
    if (i == 20000)
      tail_target = fd;
    got += tail((uint64_t)i);
    want += apply(i < 20000 ? 1 : 3, (uint64_t)i + 2);
  }
  check("tail call through pointer", got, want);

  /* Two targets in turn, for good: the traces of this loop keep missing
   * their guard, are dropped and rebuilt, and then end at the call, which
   * stays a call (tests/counters: few guard misses in all). */
  got = want = 0;
  for (int i = 0; i < 400000; i++) {
    got = fns[i & 1](got) + 1;
    want = apply(i & 1, want) + 1;
  }
  check("two targets in turn", got, want);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
