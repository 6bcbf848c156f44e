/* Far transfers performed by the runtime: `jmp far [m]`, `call far [m]`
 * and `retf` leave the cache (exit kind HP_EXIT_FAR) with the guest state
 * exact at the instruction; this module does what the CPU would. */
#ifndef HOTPATH_FAR_H
#define HOTPATH_FAR_H
#include <stdint.h>

struct hp_thread;

enum hp_far_result {
  HP_FAR_DONE,        /* performed: the guest goes on at *pc */
  HP_FAR_FAULT,       /* the CPU would fault here: deliver *fault at *pc */
  HP_FAR_UNSUPPORTED, /* a code segment hotpath cannot run in (compatibility
                         mode, an LDT segment): fault->why says which */
};

struct hp_far_fault {
  int sig, code;      /* SIGSEGV/SIGBUS, si_code */
  uint64_t addr;      /* si_addr */
  uint64_t err, trapno; /* what the kernel puts in the signal context */
  const char *why;    /* HP_FAR_UNSUPPORTED: static text */
  uint16_t sel;       /* HP_FAR_UNSUPPORTED: the selector */
};

/* Performs the far transfer at *pc with the guest registers of t. */
enum hp_far_result hp_far_perform(struct hp_thread *t, uint64_t *pc, struct hp_far_fault *fault);

#endif
