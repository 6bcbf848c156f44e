/* Mangle stage (see mangle.h). */
#include "hotpath/mangle.h"

#include <string.h>

static struct hp_insn *insert_at(struct hp_ilist *l, unsigned i)
{
  memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof l->v[0]);
  l->n++;
  struct hp_insn *in = &l->v[i];
  memset(in, 0, offsetof(struct hp_insn, zi));
  return in;
}

/* An exit element after element i, continuing at target. */
static void exit_after(struct hp_ilist *l, unsigned i, uint8_t kind, uint64_t target)
{
  uint64_t pc = l->v[i].pc;
  struct hp_insn *x = insert_at(l, i + 1);
  x->op = HP_OP_EXIT;
  x->pc = pc;
  x->exit_kind = kind;
  x->target = target;
}

bool hp_mangle_block(struct hp_ilist *l, bool check_code)
{
  if (l->n + HP_MANGLE_EXTRA > l->cap)
    return false;
  if (!l->n || !hp_op_ends_block(&l->v[l->n - 1]) || l->v[l->n - 1].op == HP_OP_GUEST) {
    /* A limit or the end of executable memory: go on at the next byte. */
    struct hp_insn *x = &l->v[l->n++];
    memset(x, 0, offsetof(struct hp_insn, zi));
    x->op = HP_OP_EXIT;
    x->pc = l->end;
    x->exit_kind = HP_EXIT_BRANCH;
    x->target = l->end;
  }
  for (unsigned i = 0; i < l->n; i++) {
    struct hp_insn *in = &l->v[i];
    uint64_t next = in->pc + in->len;
    switch (in->op) {
    case HP_OP_GUEST_JMP:
      in->op = HP_OP_EXIT;
      in->exit_kind = HP_EXIT_BRANCH;
      break;
    case HP_OP_GUEST_JCC:
      in->op = HP_OP_EXIT_CC;
      in->exit_kind = HP_EXIT_BRANCH;
      exit_after(l, i, HP_EXIT_BRANCH, next);
      break;
    case HP_OP_GUEST_JMP_IND:
      in->op = HP_OP_JMP_IND;
      break;
    case HP_OP_GUEST_CALL:
      in->op = HP_OP_CALL;
      break;
    case HP_OP_GUEST_CALL_IND:
      in->op = HP_OP_CALL_IND;
      break;
    case HP_OP_GUEST_RET:
      in->op = HP_OP_RET;
      break;
    case HP_OP_GUEST_RCX_BRANCH:
      in->op = HP_OP_RCX_BRANCH;
      break;
    case HP_OP_GUEST_SYSCALL:
      in->op = HP_OP_EXIT;
      in->exit_kind = HP_EXIT_SYSCALL;
      in->target = next;
      break;
    case HP_OP_GUEST_TRAP:
      /* Runs as it is (it traps or ends the program); if it returns, go on. */
      in->op = HP_OP_GUEST;
      exit_after(l, i, HP_EXIT_BRANCH, next);
      break;
    case HP_OP_STOP:
      in->target = in->pc;
      break;
    default:
      break;
    }
  }
  if (check_code && l->end > l->pc) {
    struct hp_insn *c = insert_at(l, 0);
    c->op = HP_OP_CODE_CHECK;
    c->pc = l->pc;
    c->target = l->pc;
    c->check_len = (uint16_t)(l->end - l->pc);
  }
  return true;
}
