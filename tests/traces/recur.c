/* Recursion inside hot loops: traces that record a call into a recursive
 * function and end where the path comes back to a head, return guards that
 * see the same function return to itself at different depths, mutual
 * recursion (two functions calling each other), Ackermann (deep, irregular
 * call/return patterns), and a recursive tree walk through function pointers.
 * Results are checked against iterative computations. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"

#define NI __attribute__((noinline, noclone))
NI static uint64_t fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static uint64_t fib_iter(unsigned n)
{
  uint64_t a = 0, b = 1;
  for (unsigned i = 0; i < n; i++) {
    uint64_t t = a + b;
    a = b;
    b = t;
  }
  return a;
}

NI static uint64_t ack(uint64_t m, uint64_t n)
{
  if (m == 0)
    return n + 1;
  if (n == 0)
    return ack(m - 1, 1);
  return ack(m - 1, ack(m, n - 1));
}

/* Closed forms for small m. */
static uint64_t ack_ref(uint64_t m, uint64_t n)
{
  switch (m) {
  case 0: return n + 1;
  case 1: return n + 2;
  case 2: return 2 * n + 3;
  default: return (1ull << (n + 3)) - 3; /* m == 3 */
  }
}

static int is_odd(unsigned n);
NI static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }
NI static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }

/* Mutual recursion with three functions and different work in each. */
static uint64_t rb(uint64_t x, unsigned d);
static uint64_t rc(uint64_t x, unsigned d);
NI static uint64_t ra(uint64_t x, unsigned d) { return d == 0 ? x : rb(x * 3 + 1, d - 1) + 1; }
NI static uint64_t rb(uint64_t x, unsigned d) { return d == 0 ? x : rc(x ^ 0x5a5a, d - 1) * 2; }
NI static uint64_t rc(uint64_t x, unsigned d) { return d == 0 ? x : ra(x + 17, d - 1) - 3; }

static uint64_t r3_ref(uint64_t x, unsigned d)
{
  /* Unwind: record the operations on the way down, apply on the way up. */
  int which[64];
  unsigned k = 0;
  int f = 0;
  while (d > 0) {
    which[k++] = f;
    if (f == 0)
      x = x * 3 + 1;
    else if (f == 1)
      x ^= 0x5a5a;
    else
      x += 17;
    f = (f + 1) % 3;
    d--;
  }
  while (k > 0) {
    f = which[--k];
    if (f == 0)
      x += 1;
    else if (f == 1)
      x *= 2;
    else
      x -= 3;
  }
  return x;
}

/* A binary tree walked recursively through a function pointer per node. */
struct node {
  struct node *l, *r;
  uint64_t v;
  uint64_t (*visit)(const struct node *);
};
static struct node pool[1023];

NI static uint64_t visit_sum(const struct node *n)
{
  uint64_t s = n->v;
  if (n->l)
    s += n->l->visit(n->l);
  if (n->r)
    s += n->r->visit(n->r);
  return s;
}
NI static uint64_t visit_xor(const struct node *n)
{
  uint64_t s = n->v * 3;
  if (n->l)
    s ^= n->l->visit(n->l);
  if (n->r)
    s += n->r->visit(n->r);
  return s;
}

static uint64_t walk_ref(unsigned i)
{
  /* Post-order over the implicit heap layout. */
  const struct node *n = &pool[i];
  uint64_t s = n->visit == visit_sum ? n->v : n->v * 3;
  if (2 * i + 1 < 1023) {
    uint64_t l = walk_ref(2 * i + 1), r = walk_ref(2 * i + 2);
    s = n->visit == visit_sum ? s + l + r : (s ^ l) + r;
  }
  return s;
}

int main(void)
{
  uint64_t got = 0, want = 0;
  for (int i = 0; i < 150; i++)
    got += fib(10 + (unsigned)(i % 8));
  for (int i = 0; i < 150; i++)
    want += fib_iter(10 + (unsigned)(i % 8));
  check("fib", got, want);

  got = want = 0;
  for (uint64_t m = 0; m <= 3; m++)
    for (uint64_t n = 0; n <= (m == 3 ? 5 : 60); n++) {
      got = got * 31 + ack(m, n);
      want = want * 31 + ack_ref(m, n);
    }
  check("ackermann", got, want);

  got = want = 0;
  for (unsigned i = 0; i < 3000; i++) {
    got += (uint64_t)is_even(i % 200) * i + (uint64_t)is_odd(i % 37);
    want += (uint64_t)((i % 200) % 2 == 0) * i + (uint64_t)((i % 37) % 2 == 1);
  }
  check("even/odd", got, want);

  got = want = 0;
  for (unsigned i = 0; i < 5000; i++) {
    got += ra(i, i % 40);
    want += r3_ref(i, i % 40);
  }
  check("three-way recursion", got, want);

  for (unsigned i = 0; i < 1023; i++) {
    pool[i].v = i * 7 + 1;
    pool[i].l = 2 * i + 1 < 1023 ? &pool[2 * i + 1] : 0;
    pool[i].r = 2 * i + 2 < 1023 ? &pool[2 * i + 2] : 0;
    pool[i].visit = (i % 5 == 2) ? visit_xor : visit_sum;
  }
  got = want = 0;
  for (int k = 0; k < 40; k++) {
    pool[k].visit = pool[k].visit == visit_sum ? visit_xor : visit_sum; /* change targets */
    got += pool[0].visit(&pool[0]);
    want += walk_ref(0);
  }
  check("tree walk", got, want);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails != 0;
}
