/* hello: the smallest possible program; also built -static-pie and -no-pie. */
#include <stdio.h>

int main(void)
{
    printf("Hello, world!\n");
    fputs("hello on stderr\n", stderr);
    return 0;
}
