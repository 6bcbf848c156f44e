/* The dispatcher: guest pc -> fragment, build on a miss, link, handle exits
 * (syscalls, lookup misses, faults) and enter the cache again. */
#ifndef HOTPATH_DISPATCH_H
#define HOTPATH_DISPATCH_H
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

struct hp_launch;
struct hp_thread;

/* Runs the loaded guest under translation; never returns. */
noreturn void hp_run(struct hp_launch *launch);
/* The dispatch loop of one guest thread, starting at pc. */
noreturn void hp_dispatch_loop(struct hp_thread *t, uint64_t pc);
/* Ends the process the way the guest would have died: by signal sig. */
noreturn void hp_die_by_signal(int sig);
/* "guest pc 0x..., fragment 0x..., module libc.so.6+0x..." for error messages. */
void hp_describe_guest_location(char *buf, size_t len);
void hp_describe_pc(uint64_t pc, char *buf, size_t len);

#endif
