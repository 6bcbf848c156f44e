/* Trace stitching (see stitch.h). */
#include "hotpath/stitch.h"

#include <string.h>

static struct hp_insn *push(struct hp_ilist *out, const struct hp_insn *from)
{
  if (out->n == out->cap)
    return NULL;
  struct hp_insn *in = &out->v[out->n++];
  *in = *from;
  return in;
}

bool hp_trace_block_ok(const struct hp_ilist *l)
{
  for (unsigned i = 0; i < l->n; i++)
    if (l->v[i].op == HP_OP_CODE_CHECK || l->v[i].op == HP_OP_STOP)
      return false;
  return l->n > 0;
}

bool hp_trace_block_ends(const struct hp_ilist *l)
{
  const struct hp_insn *last = &l->v[l->n - 1];
  return last->op == HP_OP_RCX_BRANCH || (last->op == HP_OP_EXIT && last->exit_kind != HP_EXIT_BRANCH);
}

/* The block's control tail, continued at next. Returns false when the
 * block cannot have gone to next. *ends: nothing may follow. */
/* Calls inlined and not yet returned from: their callees. */
struct open_calls {
  uint64_t callee[HP_TRACE_MAX_OPEN_CALLS];
  unsigned n;
};

bool hp_trace_recursive_call(const uint64_t *callees, unsigned n, uint64_t callee)
{
  for (unsigned i = 0; i < n && i < HP_TRACE_MAX_OPEN_CALLS; i++)
    if (callees[i] == callee)
      return true;
  return n >= HP_TRACE_MAX_OPEN_CALLS;
}

static bool stitch_tail(const struct hp_insn *v, unsigned n, uint64_t next, struct hp_ilist *out,
                        struct open_calls *open, bool *ends)
{
  const struct hp_insn *last = &v[n - 1];
  *ends = false;
  if (last->op == HP_OP_EXIT && last->exit_kind == HP_EXIT_BRANCH && n >= 2 && v[n - 2].op == HP_OP_EXIT_CC) {
    const struct hp_insn *jcc = &v[n - 2];
    if (next == last->target) /* fell through: the taken direction is the side exit */
      return push(out, jcc) != NULL;
    if (next != jcc->target)
      return false;
    struct hp_insn *inv = push(out, jcc); /* taken: falling through leaves */
    if (!inv)
      return false;
    inv->cc ^= 1; /* x86 conditions come in pairs that differ in bit 0 */
    inv->target = last->target;
    return true;
  }
  struct hp_insn *in;
  switch (last->op) {
  case HP_OP_EXIT:
    if (last->exit_kind == HP_EXIT_BRANCH)
      return next == last->target; /* the jump disappears */
    *ends = true; /* a syscall: the trace ends with it */
    return push(out, last) != NULL;
  case HP_OP_RCX_BRANCH:
    *ends = true;
    return push(out, last) != NULL;
  case HP_OP_CALL:
  case HP_OP_CALL_IND:
    if (last->op == HP_OP_CALL && next != last->target)
      return false;
    if (!next || hp_trace_recursive_call(open->callee, open->n, next)) {
      /* A recursive call (or too deep): inlined, its returns would go to
       * ever other sites; it stays a call and the trace ends with it. */
      *ends = true;
      return push(out, last) != NULL;
    }
    if (!(in = push(out, last)))
      return false;
    if (last->op == HP_OP_CALL) {
      in->op = HP_OP_PUSH_RET;
      in->target = last->pc + last->len;
    } else {
      in->op = HP_OP_CALL_IND_GUARD;
      in->target = next;
    }
    open->callee[open->n++] = next;
    return true;
  case HP_OP_JMP_IND:
    if (!next) { /* the path does not go on in the trace: the jump stays */
      *ends = true;
      return push(out, last) != NULL;
    }
    if (!(in = push(out, last)))
      return false;
    in->op = HP_OP_JMP_IND_GUARD;
    in->target = next;
    return true;
  case HP_OP_RET:
    if (!open->n) {
      /* Returns from a call made outside the trace: a real return through
       * the lookup (the CPU's return stack pairs it with that call), and
       * the trace ends. */
      *ends = true;
      return push(out, last) != NULL;
    }
    open->n--;
    if (!(in = push(out, last)))
      return false;
    in->op = HP_OP_RET_GUARD;
    in->check_len = (uint16_t)last->target; /* imm16 */
    in->target = next;
    return true;
  default:
    return false;
  }
}

bool hp_trace_stitch(const struct hp_recorded_block *b, unsigned nb, uint64_t head,
                     struct hp_ilist *out)
{
  out->n = 0;
  out->pc = head;
  out->end = nb ? b[nb - 1].end : head;
  if (!nb || b[0].pc != head)
    return false;
  struct open_calls open = {.n = 0};
  for (unsigned i = 0; i < nb; i++) {
    const struct hp_recorded_block *r = &b[i];
    if (!r->n)
      return false;
    /* Everything before the control tail: the tail is the last element, or
     * the last two for a conditional branch and its fall-through. */
    unsigned tail = r->n - 1;
    if (tail >= 1 && r->v[tail].op == HP_OP_EXIT && r->v[tail - 1].op == HP_OP_EXIT_CC)
      tail--;
    for (unsigned k = 0; k < tail; k++) {
      if (r->v[k].op != HP_OP_GUEST || !push(out, &r->v[k]))
        return false;
    }
    bool ends;
    if (!stitch_tail(r->v, r->n, r->next, out, &open, &ends))
      return false;
    if (ends)
      return i == nb - 1;
  }
  /* Go on where the path went on; to the head: the trace loops on itself. */
  struct hp_insn x;
  memset(&x, 0, offsetof(struct hp_insn, zi));
  x.op = HP_OP_EXIT;
  x.exit_kind = HP_EXIT_BRANCH;
  x.pc = b[nb - 1].end;
  x.target = b[nb - 1].next;
  if (x.target == head) {
    x.flags |= HP_INSN_BACK_EDGE;
    /* A loop closed by a conditional branch: the branch goes back to the
     * head and the trace falls through to its exit, so that each turn
     * takes one branch, as natively. */
    struct hp_insn *last = out->n ? &out->v[out->n - 1] : NULL;
    if (last && last->op == HP_OP_EXIT_CC) {
      x.target = last->target;
      x.flags = 0;
      last->cc ^= 1; /* x86 conditions come in pairs: the low bit negates */
      last->target = head;
      last->flags |= HP_INSN_BACK_EDGE;
    }
  }
  /* A side exit to the head is a back edge too (the recording ran a loop's
   * last turn): linked to the trace itself. */
  for (unsigned k = 0; k < out->n; k++)
    if (out->v[k].op == HP_OP_EXIT_CC && out->v[k].target == head)
      out->v[k].flags |= HP_INSN_BACK_EDGE;
  return push(out, &x) != NULL;
}
