/* computedgoto: GNU labels-as-values.  A threaded bytecode interpreter with
 * a dispatch table of label addresses, plus a position-independent table of
 * label differences (&&label - &&base). */
#include <stdint.h>
#include <stdio.h>

enum { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_DUP, OP_SWAP, OP_JNZ, OP_DEC, OP_PRINT, OP_HALT, OP_OVER, OP_DROP, OP_MOD };

static long run(const long *code, int trace)
{
    static void *const dispatch[] = {&&op_push, &&op_add, &&op_sub, &&op_mul, &&op_dup, &&op_swap, &&op_jnz,
                                     &&op_dec, &&op_print, &&op_halt, &&op_over, &&op_drop, &&op_mod};
    long stack[64];
    int sp = 0;
    const long *pc = code;
    long steps = 0;
#define NEXT do { steps++; goto *dispatch[*pc++]; } while (0)
    NEXT;
op_push:
    stack[sp++] = *pc++;
    NEXT;
op_add:
    sp--; stack[sp - 1] += stack[sp];
    NEXT;
op_sub:
    sp--; stack[sp - 1] -= stack[sp];
    NEXT;
op_mul:
    sp--; stack[sp - 1] *= stack[sp];
    NEXT;
op_mod:
    sp--; stack[sp - 1] %= stack[sp];
    NEXT;
op_dup:
    stack[sp] = stack[sp - 1]; sp++;
    NEXT;
op_over:
    stack[sp] = stack[sp - 2]; sp++;
    NEXT;
op_drop:
    sp--;
    NEXT;
op_swap: {
    long t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t;
    NEXT;
}
op_jnz: {
    long target = *pc++;
    if (stack[--sp] != 0)
        pc = code + target;
    NEXT;
}
op_dec:
    stack[sp - 1]--;
    NEXT;
op_print:
    if (trace)
        printf("  print %ld\n", stack[sp - 1]);
    NEXT;
op_halt:
#undef NEXT
    if (trace)
        printf("  steps %ld\n", steps);
    return sp > 0 ? stack[sp - 1] : 0;
}

/* label offsets relative to a base label, as used by PIC-friendly code */
__attribute__((noinline)) static int offsets(const unsigned char *prog, int n)
{
    static const int table[] = {&&l_inc - &&l_base, &&l_dbl - &&l_base, &&l_neg - &&l_base, &&l_end - &&l_base};
    int acc = 1, i = 0;
l_base:
    if (i >= n)
        return acc;
    goto *(&&l_base + table[prog[i++] & 3]);
l_inc:
    acc += 3;
    goto l_base;
l_dbl:
    acc = acc * 2 % 100003;
    goto l_base;
l_neg:
    acc = -acc + 1;
    goto l_base;
l_end:
    return acc * 1000;
}

/* state machine with a label pointer stored in a variable */
__attribute__((noinline)) static unsigned statemachine(const char *s)
{
    void *state = &&start;
    unsigned count = 0;
    goto *state;
start:
    if (!*s) return count;
    state = (*s == 'a') ? &&saw_a : &&start;
    s++;
    goto *state;
saw_a:
    if (!*s) return count;
    state = (*s == 'b') ? &&saw_ab : (*s == 'a') ? &&saw_a : &&start;
    s++;
    goto *state;
saw_ab:
    if (!*s) return count;
    if (*s == 'c') count++;
    state = (*s == 'a') ? &&saw_a : &&start;
    s++;
    goto *state;
}

int main(void)
{
    /* factorial of 10 */
    const long fact[] = {OP_PUSH, 1, OP_PUSH, 10,                    /* acc n */
                         OP_DUP, OP_JNZ, 8, OP_HALT,                 /* 4..7 */
                         OP_SWAP, OP_OVER, OP_MUL, OP_PRINT, OP_SWAP, /* 8..12: acc*n n */
                         OP_DEC, OP_DUP, OP_JNZ, 8, OP_DROP, OP_HALT};
    printf("fact: %ld\n", run(fact, 1));
    /* count down from 300000, summing i %% 7 */
    const long loop[] = {OP_PUSH, 0, OP_PUSH, 300000,                       /* sum i */
                         OP_SWAP, OP_OVER, OP_PUSH, 7, OP_MOD, OP_ADD, OP_SWAP, /* 4..10 */
                         OP_DEC, OP_DUP, OP_JNZ, 4, OP_DROP, OP_HALT};
    printf("loop: %ld\n", run(loop, 0));
    unsigned char prog[64];
    for (int i = 0; i < 64; i++)
        prog[i] = (unsigned char)((i * 7 + i / 5) % 3);
    printf("offsets: %d %d %d\n", offsets(prog, 20), offsets(prog, 64), offsets((const unsigned char *)"\3", 1));
    printf("statemachine: %u %u\n", statemachine("abcabcaabcabdabc"), statemachine("xxabababcc"));
    long acc = 0;
    for (int i = 0; i < 2000; i++)
        acc += offsets(prog + i % 40, 24) + (long)statemachine("aabcabcxabc");
    printf("acc: %ld\n", acc);
    return 0;
}
