/* interp: a switch-dispatched stack-machine bytecode interpreter running
 * two small programs (Collatz step totals and a modular polynomial sum).
 * The results are checked against the same computations written in C.
 * usage: interp [N]   (Collatz for 1..N, polynomial over 0..8N; default 120000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum op {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_MOD, OP_SHR,
    OP_AND, OP_LT, OP_EQ, OP_JMP, OP_JZ, OP_JNZ, OP_DUP, OP_DROP, OP_INC,
};

#define MAXCODE 256
#define STACK 64
#define NVARS 8

struct vm {
    int64_t code[MAXCODE];
    int len;
    int64_t vars[NVARS];
    long executed;
};

static void emit(struct vm *vm, int64_t word)
{
    if (vm->len >= MAXCODE) {
        fprintf(stderr, "interp: program too long\n");
        exit(1);
    }
    vm->code[vm->len++] = word;
}

static int64_t run(struct vm *vm)
{
    int64_t stack[STACK];
    int sp = 0, pc = 0;
    for (;;) {
        int64_t op = vm->code[pc++];
        vm->executed++;
        switch (op) {
        case OP_HALT:
            return sp > 0 ? stack[sp - 1] : 0;
        case OP_PUSH:
            stack[sp++] = vm->code[pc++];
            break;
        case OP_LOAD:
            stack[sp++] = vm->vars[vm->code[pc++]];
            break;
        case OP_STORE:
            vm->vars[vm->code[pc++]] = stack[--sp];
            break;
        case OP_ADD:
            sp--;
            stack[sp - 1] += stack[sp];
            break;
        case OP_SUB:
            sp--;
            stack[sp - 1] -= stack[sp];
            break;
        case OP_MUL:
            sp--;
            stack[sp - 1] *= stack[sp];
            break;
        case OP_MOD:
            sp--;
            stack[sp - 1] %= stack[sp];
            break;
        case OP_SHR:
            sp--;
            stack[sp - 1] >>= stack[sp];
            break;
        case OP_AND:
            sp--;
            stack[sp - 1] &= stack[sp];
            break;
        case OP_LT:
            sp--;
            stack[sp - 1] = stack[sp - 1] < stack[sp];
            break;
        case OP_EQ:
            sp--;
            stack[sp - 1] = stack[sp - 1] == stack[sp];
            break;
        case OP_JMP:
            pc = (int)vm->code[pc];
            break;
        case OP_JZ:
            pc = stack[--sp] == 0 ? (int)vm->code[pc] : pc + 1;
            break;
        case OP_JNZ:
            pc = stack[--sp] != 0 ? (int)vm->code[pc] : pc + 1;
            break;
        case OP_DUP:
            stack[sp] = stack[sp - 1];
            sp++;
            break;
        case OP_DROP:
            sp--;
            break;
        case OP_INC:
            vm->vars[vm->code[pc++]]++;
            break;
        default:
            fprintf(stderr, "interp: bad opcode %lld at %d\n", (long long)op, pc - 1);
            exit(1);
        }
        if (sp < 0 || sp >= STACK) {
            fprintf(stderr, "interp: stack out of range at %d\n", pc);
            exit(1);
        }
    }
}

/* vars: 0 = i, 1 = x, 2 = steps, 3 = limit */
static void build_collatz(struct vm *vm, int64_t limit)
{
    vm->len = 0;
    emit(vm, OP_PUSH); emit(vm, 1); emit(vm, OP_STORE); emit(vm, 0);         /* i = 1 */
    emit(vm, OP_PUSH); emit(vm, 0); emit(vm, OP_STORE); emit(vm, 2);         /* steps = 0 */
    emit(vm, OP_PUSH); emit(vm, limit); emit(vm, OP_STORE); emit(vm, 3);
    int outer = vm->len;                                                      /* outer: */
    emit(vm, OP_LOAD); emit(vm, 3); emit(vm, OP_LOAD); emit(vm, 0);
    emit(vm, OP_LT); emit(vm, OP_JNZ); int to_done = vm->len; emit(vm, 0);  /* if limit < i: done */
    emit(vm, OP_LOAD); emit(vm, 0); emit(vm, OP_STORE); emit(vm, 1);         /* x = i */
    int inner = vm->len;                                                      /* inner: */
    emit(vm, OP_LOAD); emit(vm, 1); emit(vm, OP_PUSH); emit(vm, 1);
    emit(vm, OP_EQ); emit(vm, OP_JNZ); int to_next = vm->len; emit(vm, 0);  /* if x == 1: next */
    emit(vm, OP_INC); emit(vm, 2);                                            /* steps++ */
    emit(vm, OP_LOAD); emit(vm, 1); emit(vm, OP_PUSH); emit(vm, 1); emit(vm, OP_AND);
    emit(vm, OP_JZ); int to_even = vm->len; emit(vm, 0);
    emit(vm, OP_LOAD); emit(vm, 1); emit(vm, OP_PUSH); emit(vm, 3); emit(vm, OP_MUL);
    emit(vm, OP_PUSH); emit(vm, 1); emit(vm, OP_ADD); emit(vm, OP_STORE); emit(vm, 1);
    emit(vm, OP_JMP); emit(vm, inner);                                        /* x = 3x+1 */
    vm->code[to_even] = vm->len;                                              /* even: */
    emit(vm, OP_LOAD); emit(vm, 1); emit(vm, OP_PUSH); emit(vm, 1); emit(vm, OP_SHR);
    emit(vm, OP_STORE); emit(vm, 1);
    emit(vm, OP_JMP); emit(vm, inner);                                        /* x >>= 1 */
    vm->code[to_next] = vm->len;                                              /* next: */
    emit(vm, OP_INC); emit(vm, 0);
    emit(vm, OP_JMP); emit(vm, outer);
    vm->code[to_done] = vm->len;                                              /* done: */
    emit(vm, OP_LOAD); emit(vm, 2); emit(vm, OP_HALT);
}

/* vars: 0 = i, 1 = acc, 3 = limit; acc = sum (i*i*7 + 3i + 11) mod 1000003 */
static void build_poly(struct vm *vm, int64_t limit)
{
    vm->len = 0;
    emit(vm, OP_PUSH); emit(vm, 0); emit(vm, OP_STORE); emit(vm, 0);
    emit(vm, OP_PUSH); emit(vm, 0); emit(vm, OP_STORE); emit(vm, 1);
    emit(vm, OP_PUSH); emit(vm, limit); emit(vm, OP_STORE); emit(vm, 3);
    int loop = vm->len;
    emit(vm, OP_LOAD); emit(vm, 0); emit(vm, OP_LOAD); emit(vm, 3); emit(vm, OP_LT);
    emit(vm, OP_JZ); int to_done = vm->len; emit(vm, 0);
    emit(vm, OP_LOAD); emit(vm, 0); emit(vm, OP_DUP); emit(vm, OP_MUL);
    emit(vm, OP_PUSH); emit(vm, 7); emit(vm, OP_MUL);
    emit(vm, OP_LOAD); emit(vm, 0); emit(vm, OP_PUSH); emit(vm, 3); emit(vm, OP_MUL);
    emit(vm, OP_ADD); emit(vm, OP_PUSH); emit(vm, 11); emit(vm, OP_ADD);
    emit(vm, OP_PUSH); emit(vm, 1000003); emit(vm, OP_MOD);
    emit(vm, OP_LOAD); emit(vm, 1); emit(vm, OP_ADD); emit(vm, OP_STORE); emit(vm, 1);
    emit(vm, OP_INC); emit(vm, 0);
    emit(vm, OP_JMP); emit(vm, loop);
    vm->code[to_done] = vm->len;
    emit(vm, OP_LOAD); emit(vm, 1); emit(vm, OP_HALT);
}

int main(int argc, char **argv)
{
    long n = 120000;
    if (argc > 1) {
        char *end;
        n = strtol(argv[1], &end, 10);
        if (*end != '\0' || n < 1 || n > 100000000) {
            fprintf(stderr, "usage: %s [N in 1..100000000]\n", argv[0]);
            return 2;
        }
    }
    static struct vm vm;

    build_collatz(&vm, n);
    int64_t steps = run(&vm);
    long collatz_ops = vm.executed;
    int64_t expect_steps = 0;
    for (int64_t i = 1; i <= n; i++)
        for (int64_t x = i; x != 1; x = (x & 1) ? 3 * x + 1 : x >> 1)
            expect_steps++;
    printf("collatz 1..%ld: %lld steps (%ld bytecodes executed)\n", n, (long long)steps,
           collatz_ops);

    vm.executed = 0;
    build_poly(&vm, 8 * n);
    int64_t acc = run(&vm);
    int64_t expect_acc = 0;
    for (int64_t i = 0; i < 8 * n; i++)
        expect_acc += (i * i * 7 + 3 * i + 11) % 1000003;
    printf("polynomial 0..%ld: %lld (%ld bytecodes executed)\n", 8 * n, (long long)acc,
           vm.executed);

    if (steps != expect_steps || acc != expect_acc) {
        fprintf(stderr, "interp: MISMATCH: collatz %lld vs %lld, polynomial %lld vs %lld\n",
                (long long)steps, (long long)expect_steps, (long long)acc,
                (long long)expect_acc);
        return 1;
    }
    printf("interp: verified\n");
    return 0;
}
