/* switch: dense switches (compiled to jump tables), sparse switches,
 * fallthrough, switch on chars and enums. */
#include <stdio.h>

enum color { RED, ORANGE, YELLOW, GREEN, BLUE, INDIGO, VIOLET, NCOLORS };

__attribute__((noinline)) static long dense(unsigned op, long a, long b)
{
    switch (op) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return b ? a / b : -1;
    case 4: return b ? a % b : -2;
    case 5: return a & b;
    case 6: return a | b;
    case 7: return a ^ b;
    case 8: return a << (b & 7);
    case 9: return a >> (b & 7);
    case 10: return -a;
    case 11: return ~b;
    case 12: return a > b ? a : b;
    case 13: return a < b ? a : b;
    case 14: return a * a - b;
    case 15: return (a + b) / 2;
    case 16: return a * 3 + b * 5;
    case 17: return a - 2 * b;
    case 18: return (a ^ 0x5555) + b;
    case 19: return a % 17 + b % 13;
    default: return 12345;
    }
}

__attribute__((noinline)) static int sparse(int v)
{
    switch (v) {
    case 1: return 10;
    case 100: return 20;
    case 1000: return 30;
    case 10000: return 40;
    case 77777: return 50;
    case -5: return 60;
    case 123456789: return 70;
    default: return v & 1;
    }
}

__attribute__((noinline)) static int fallthrough(int v)
{
    int r = 0;
    switch (v % 8) {
    case 0: r += 1; /* fall through */
    case 1: r += 2; /* fall through */
    case 2: r += 4; break;
    case 3: r += 8; /* fall through */
    case 4: r += 16; /* fall through */
    case 5: r += 32; break;
    case 6: r += 64; /* fall through */
    default: r += 128;
    }
    return r;
}

__attribute__((noinline)) static int classify(char c)
{
    switch (c) {
    case 'a': case 'e': case 'i': case 'o': case 'u':
        return 1;
    case 'A' ... 'Z':
        return 2;
    case '0' ... '9':
        return 3;
    case ' ': case '\t': case '\n':
        return 4;
    case '.': case ',': case ';': case '!': case '?':
        return 5;
    default:
        return 0;
    }
}

__attribute__((noinline)) static const char *color_name(enum color c)
{
    switch (c) {
    case RED: return "red";
    case ORANGE: return "orange";
    case YELLOW: return "yellow";
    case GREEN: return "green";
    case BLUE: return "blue";
    case INDIGO: return "indigo";
    case VIOLET: return "violet";
    case NCOLORS: break;
    }
    return "?";
}

/* switch inside a loop driving a small state machine */
__attribute__((noinline)) static int state_machine(const char *s)
{
    int state = 0, tokens = 0;
    for (; *s; s++) {
        switch (state) {
        case 0:
            if (*s >= '0' && *s <= '9') state = 1;
            else if (*s == '"') state = 2;
            else if (*s != ' ') state = 3;
            break;
        case 1:
            if (*s < '0' || *s > '9') { tokens++; state = *s == ' ' ? 0 : 3; }
            break;
        case 2:
            if (*s == '"') { tokens++; state = 0; }
            break;
        case 3:
            if (*s == ' ') { tokens++; state = 0; }
            break;
        }
    }
    return tokens * 10 + state;
}

int main(void)
{
    unsigned long h = 0;
    for (unsigned op = 0; op < 24; op++) {
        long r = dense(op, 1000 + op, 37);
        printf("dense %2u -> %ld\n", op, r);
    }
    for (int i = 0; i < 100000; i++)
        h = h * 31 + (unsigned long)dense((unsigned)(i * 7) % 23, i, i % 29 + 1);
    printf("dense hash %lu\n", h);
    int vals[] = {1, 100, 1000, 10000, 77777, -5, 123456789, 2, 3, 101};
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++)
        printf("sparse(%d) = %d\n", vals[i], sparse(vals[i]));
    unsigned f = 0;
    for (int i = 0; i < 64; i++)
        f = f * 3 + (unsigned)fallthrough(i);
    printf("fallthrough sig %u\n", f);
    const char *text = "Hello World, 2024 is a year; It has 366 days!\tOK?\n";
    int cls[6] = {0};
    for (const char *p = text; *p; p++)
        cls[classify(*p)]++;
    printf("classes: %d %d %d %d %d %d\n", cls[0], cls[1], cls[2], cls[3], cls[4], cls[5]);
    for (int c = 0; c <= NCOLORS; c++)
        printf("color %d %s\n", c, color_name((enum color)c));
    printf("tokens: %d\n", state_machine("abc 123 \"quoted str\" x9 42 end"));
    return 0;
}
