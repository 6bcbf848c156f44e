/* syscalls: a syscall-heavy mix: write(2) interleaved with stdio (after
 * fflush), getpid/getppid/gettid checks printed as booleans, brk/sbrk growth,
 * mmap/mprotect/mremap/munmap, file I/O in the current directory,
 * readlink("/proc/self/exe") compared with realpath(argv[0]), pipes and dup2,
 * uname, clock_gettime monotonicity, raw syscall() and an inline-asm
 * syscall instruction. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static long raw_write(int fd, const void *buf, size_t n)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"((long)SYS_write), "D"((long)fd), "S"(buf), "d"(n)
                     : "rcx", "r11", "memory");
    return ret;
}

int main(int argc, char **argv)
{
    (void)argc;
    printf("stdio line 1\n");
    fflush(stdout);
    const char msg[] = "write(2) line\n";
    ssize_t w = write(1, msg, sizeof msg - 1);
    printf("write returned %zd\n", w);
    fflush(stdout);
    const char msg2[] = "raw syscall line\n";
    long w2 = raw_write(1, msg2, sizeof msg2 - 1);
    printf("raw write returned %ld\n", w2);
    printf("bad fd write: %ld\n", raw_write(-1, msg2, 1));   /* -EBADF */

    pid_t pid = getpid();
    printf("getpid nonzero: %d, matches syscall: %d, gettid==pid: %d, ppid nonzero: %d\n", pid != 0,
           pid == (pid_t)syscall(SYS_getpid), gettid() == pid, getppid() != 0);
    printf("uid==euid: %d gid==egid: %d\n", getuid() == geteuid(), getgid() == getegid());

    /* brk / sbrk */
    void *b0 = sbrk(0);
    void *b1 = sbrk(65536);
    void *b2 = sbrk(0);
    int brk_ok = b1 == b0 && (char *)b2 - (char *)b0 == 65536;
    memset(b1, 0x5a, 65536);
    unsigned sum = 0;
    for (int i = 0; i < 65536; i += 256) sum += ((unsigned char *)b1)[i];
    void *b3 = sbrk(-32768);
    void *b4 = sbrk(0);
    int brk_rc = brk(b4);
    printf("sbrk grow ok: %d, memory usable: %u, shrink ok: %d %d, brk(cur)=%d\n", brk_ok, sum, b3 == b2,
           (char *)b2 - (char *)b4 == 32768, brk_rc);

    /* mmap family */
    size_t len = 1 << 20;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) { perror("mmap"); return 1; }
    int zero = 1;
    for (size_t i = 0; i < len; i += 4096) zero &= m[i] == 0;
    for (size_t i = 0; i < len; i++) m[i] = (unsigned char)(i ^ (i >> 8));
    printf("mmap zeroed: %d\n", zero);
    printf("mprotect ro: %d\n", mprotect(m, len, PROT_READ));
    printf("mprotect rw: %d\n", mprotect(m, len, PROT_READ | PROT_WRITE));
    unsigned char *m2 = mremap(m, len, len * 4, MREMAP_MAYMOVE);
    if (m2 == MAP_FAILED) { perror("mremap"); return 1; }
    unsigned long h = 0;
    for (size_t i = 0; i < len; i += 97) h = h * 31 + m2[i];
    m2[len * 4 - 1] = 1;
    printf("mremap kept data: %lx, tail writable: %d\n", h, m2[len * 4 - 1]);
    printf("munmap: %d\n", munmap(m2, len * 4));
    printf("munmap bad: %d\n", munmap((void *)1, 4096));
    void *fixed_hint = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    printf("PROT_NONE map ok: %d\n", fixed_hint != MAP_FAILED && munmap(fixed_hint, 8192) == 0);

    /* file I/O in the (temporary) current directory */
    const char *fname = "syscalls_test.tmp";
    int fd = open(fname, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { perror("open"); return 1; }
    char data[5000];
    for (int i = 0; i < 5000; i++) data[i] = (char)('A' + i % 26);
    printf("write file: %zd\n", write(fd, data, sizeof data));
    printf("lseek: %ld\n", (long)lseek(fd, 1000, SEEK_SET));
    char rb[100];
    ssize_t r = read(fd, rb, 26);
    printf("read: %zd '%.26s'\n", r, rb);
    r = pread(fd, rb, 10, 4990);
    printf("pread: %zd first=%c\n", r, rb[0]);
    struct stat stbuf;
    fstat(fd, &stbuf);
    printf("fstat size: %lld regular: %d\n", (long long)stbuf.st_size, S_ISREG(stbuf.st_mode));
    printf("ftruncate: %d\n", ftruncate(fd, 100));
    fstat(fd, &stbuf);
    printf("size after truncate: %lld\n", (long long)stbuf.st_size);
    int fd2 = dup(fd);
    int c2 = close(fd2), c1 = close(fd);
    printf("dup distinct: %d close: %d %d\n", fd2 != fd, c2, c1);
    int ul = unlink(fname);
    printf("unlink: %d exists after: %d\n", ul, access(fname, F_OK) == 0);

    /* pipe + dup2 */
    int p[2];
    if (pipe(p) != 0) { perror("pipe"); return 1; }
    fflush(stdout);
    int saved = dup(1);
    dup2(p[1], 1);
    printf("this goes into the pipe");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(p[1]);
    char pb[100];
    ssize_t pn = read(p[0], pb, sizeof pb - 1);
    pb[pn > 0 ? pn : 0] = 0;
    close(p[0]);
    printf("pipe round trip: '%s'\n", pb);

    /* /proc/self/exe must name the program, not the translator */
    char exe[PATH_MAX], real[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n >= 0) exe[n] = 0;
    int same = n > 0 && realpath(argv[0], real) && strcmp(exe, real) == 0;
    printf("/proc/self/exe == realpath(argv[0]): %d\n", same);

    struct utsname u;
    int un = uname(&u);
    printf("uname: %d sysname=%s machine=%s\n", un, u.sysname, u.machine);

    struct timespec t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct timespec d = {0, 1000000};
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    long ns = (t2.tv_sec - t1.tv_sec) * 1000000000L + (t2.tv_nsec - t1.tv_nsec);
    printf("monotonic advanced >= 1ms: %d\n", ns >= 1000000);
    time_t now = time(NULL);
    printf("time() plausible: %d\n", now > 1600000000);
    char cwd[PATH_MAX];
    printf("getcwd ok: %d\n", getcwd(cwd, sizeof cwd) != NULL);
    printf("sched_yield: %d\n", sched_yield());
    printf("getrandom 16: %ld\n", (long)syscall(SYS_getrandom, rb, 16, 0));
    printf("invalid syscall: %ld\n", syscall(100000));
    return 0;
}
