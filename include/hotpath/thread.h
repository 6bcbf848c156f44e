/* The per-thread block addressed through GS while the guest runs: guest
 * registers, the host stack to return to, spill slots for emitted code and
 * the xsave area for the guest's extended state. Emitted code and context.S
 * reach every field as gs:[offset]. */
#ifndef HOTPATH_THREAD_H
#define HOTPATH_THREAD_H

/* Byte offsets, shared with context.S; thread.c checks them with offsetof. */
#define HP_T_GPR 0
#define HP_T_RFLAGS 128
#define HP_T_GUEST_FS 136
#define HP_T_HOST_FS 144
#define HP_T_HOST_RSP 152
#define HP_T_ENTER_PC 160
#define HP_T_EXIT_REC 168
#define HP_T_SELF 176
#define HP_T_XMASK 184
#define HP_T_USE_FSGSBASE 192
#define HP_T_GUEST_WRFSBASE 196
#define HP_T_FS_LAZY 200
#define HP_T_FS_GUEST 204
/* fs_lazy: */
#define HP_FS_EAGER 0
#define HP_FS_LAZY 1
#define HP_FS_POISON 2
#define HP_T_XSAVE 16384
/* Per-thread direct-mapped indirect branch cache, after the xsave area:
 * 2^16 entries of {~guest pc, cache address}, indexed by the guest pc's low
 * 16 bits; the inline lookup at every indirect branch reads it. */
#define HP_T_IBL_FAST 32768
#define HP_IBL_FAST_BITS 16
/* Per-thread execution counters of trace heads (32 bits each), indexed by
 * the head's id: the head's code counts itself (trace/record.c). */
#define HP_T_HEAD_COUNTERS (HP_T_IBL_FAST + (16 << HP_IBL_FAST_BITS))
#define HP_MAX_HEADS 65536
/* Per-thread jump tables (the same in every thread): cache addresses of the
 * case slots of translated switch dispatches (translate/jumptable.c),
 * allocated in runs, one per dispatch site, freed with its cache generation
 * (fragment/ibl.c). */
#define HP_T_JT_TABLE (HP_T_HEAD_COUNTERS + 4 * HP_MAX_HEADS)
#define HP_JT_ENTRIES 16384
/* Misses of inline caches (32-bit counters; a site's is chosen by its
 * guest pc, sites may share one): every 65536th miss the site learns its
 * current target (hp_emit_inline_cache, hp_predict). */
#define HP_T_SITE_MISSES (HP_T_JT_TABLE + 8 * HP_JT_ENTRIES)
#define HP_SITE_MISS_SLOTS 4096
/* Per-thread return table, last: cache addresses of call continuations (0:
 * none), indexed by the guest return address's low 18 bits where the CPU's
 * pext is fast (a flag-free mask), else its low 16 bits (movzx); a
 * translated `ret` jumps through it (emit.c, fragment/ibl.c). Last in the
 * block, which ends with the table's width (hp_thread_block_size). */
#define HP_T_RET_TABLE (HP_T_SITE_MISSES + 4 * HP_SITE_MISS_SLOTS)
#define HP_RET_TABLE_BITS 18 /* room for the wider index */
#define HP_RET_TABLE_NARROW_BITS 16
#define HP_RET_BLOCKED_FAULTS 1
#define HP_RET_BLOCKED_EMPTY 2
#define HP_T_SIZE (HP_T_RET_TABLE + (8 << HP_RET_TABLE_BITS)) /* at most */
#define HP_RTQ_BYTES (64 * 1024)

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* The miss counter of the inline cache at guest pc (HP_T_SITE_MISSES). */
static inline int32_t hp_site_miss_slot(uint64_t pc)
{
  return HP_T_SITE_MISSES + 4 * (int32_t)((pc * 0x9e3779b97f4a7c15ull) >> 52 & (HP_SITE_MISS_SLOTS - 1));
}

/* Guest GPRs in x86 encoding order. */
enum hp_reg {
  HP_RAX, HP_RCX, HP_RDX, HP_RBX, HP_RSP, HP_RBP, HP_RSI, HP_RDI,
  HP_R8, HP_R9, HP_R10, HP_R11, HP_R12, HP_R13, HP_R14, HP_R15,
};

struct hp_exit;

struct hp_thread {
  uint64_t gpr[16];
  uint64_t rflags;
  uint64_t guest_fs;     /* guest FS base (ARCH_SET_FS is emulated against it) */
  uint64_t host_fs;      /* hotpath's own FS base (its glibc TLS) */
  uint64_t host_rsp;     /* hotpath's stack pointer inside hp_enter_cache */
  uint64_t enter_pc;     /* cache address hp_enter_cache jumps to */
  uint64_t exit_rec;     /* struct hp_exit * of the exit that left the cache */
  uint64_t self;
  uint64_t xsave_mask;
  uint32_t use_fsgsbase;
  uint32_t guest_wrfsbase; /* the guest can move FS without a system call (wrfsbase) */
  /* Lazy FS: where each switch of FS is a system call (no FSGSBASE), an exit
   * from the cache leaves the guest's FS in place (fs_guest = 1) and the
   * dispatcher's common paths (lookup, block building, linking) run on it,
   * touching no TLS; hp_fs_host() switches to hotpath's own before anything
   * that needs its glibc TLS. HP_FS_POISON (--debug-fs-poison) puts an
   * unreadable FS there instead, so that such a use faults. */
  uint32_t fs_lazy;
  uint32_t fs_guest;
  /* Fields only emitted code and C use (offsets via offsetof). */
  uint64_t exit_routine;  /* address of hp_cache_exit */
  uint64_t ibl_routine;   /* address of the indirect branch lookup */
  uint64_t ibl_table;     /* struct hp_ibl_entry * */
  uint64_t ibl_mask;      /* entries - 1 */
  uint64_t ibl_target;    /* guest target of the indirect branch (kept for a miss) */
  uint64_t ibl_jump;      /* cache address the lookup jumps to on a hit */
  uint64_t ibl_lookups;   /* lookups that reached the shared routine (--stats only) */
  uint64_t ibl_inline_lookups; /* every lookup, counted at its inline probe (--stats only) */
  uint64_t inline_cache_hits;  /* indirect call/jmp sites whose learnt target matched (--stats only) */
  uint64_t guard_misses;       /* trace guards whose target differed from the recorded one (--stats only) */
  uint64_t ret_mask;           /* 2^bits - 1: the return table's index mask, for pext (hp_ret_table_bits) */
  uint64_t spill_rax, spill_rcx, spill_rdx, spill_flags, spill_scratch;
  uint64_t promo_save[16]; /* guest values of the registers an optimized trace took */
  uint8_t promo_xsave[16][16]; /* the same for xmm registers (their low 128 bits) */
  uint64_t promo_rbp;      /* an optimized trace with inlined calls: its loop's rbp */
  uint64_t guest_gs;      /* what the guest set with ARCH_SET_GS (emulated only) */
  uint64_t ret_mismatches;     /* returns that reached another call's continuation (--stats only) */
  /* hotpath's side */
  uint64_t host_stack_lo, host_stack_size;
  uint64_t xsave_size;
  uint64_t cur_guest_pc;    /* what the dispatcher works on, for error messages */
  /* Signals (signal.c). */
  uint64_t sig_pending;     /* bit sig-1: arrived, not yet delivered to the guest */
  uint64_t sig_interrupt;   /* nonzero: a signal the guest does not block arrived since
                               hp_syscall looked: a blocking call must not start */
  uint64_t sig_info[65][16]; /* siginfo of each pending standard signal (128 bytes) */
  void *rt_queue;           /* queued realtime signals (signal.c), HP_RTQ_BYTES */
  volatile int in_dispatcher; /* 1 while hotpath's C code runs for this thread */
  void *enter_frag;         /* fragment about to be entered */
  void *trace_rec;          /* this thread's trace recording (trace/record.c) */
  uint64_t guest_ss_sp, guest_ss_size; /* guest's sigaltstack (emulated) */
  int32_t guest_ss_flags;   /* its flags as last set (the kernel's sas_ss_flags: the
                               frame's uc_stack shows them as they are) */
  uint64_t restart_pc, restart_nr; /* syscall to restart if the handler has SA_RESTART */
  uint64_t call_mask;       /* mask a sigsuspend/ppoll/pselect had when a signal ended it */
  bool call_mask_valid;
  uint64_t fault_err, fault_trapno; /* of the last synchronous fault in the cache */
  int tid;
  uint64_t clear_tid;       /* guest CLONE_CHILD_CLEARTID address of this thread */
  bool is_clone;            /* a guest thread hotpath started (not the first) */
  bool is_vfork_child;      /* runs in its parent's memory until it execs or exits */
  bool vm_process;          /* of a CLONE_VM process hotpath started (its own thread group
                               in this memory): its exits write no --stats or --report */
  bool vm_process_main;     /* that process's first thread (clone.c) */
  void *sigtab;             /* the guest's dispositions it sees (signal.c; NULL: the first) */
  bool seccomp_strict;      /* entered SECCOMP_MODE_STRICT (emulated): only read, write,
                               exit and rt_sigreturn; anything else is SIGKILL */
  /* The return table is blocked while an asynchronous signal waits
   * (fragment/ibl.c): HP_RET_BLOCKED_FAULTS, inaccessible (the next `ret`
   * faults and leaves the cache), or HP_RET_BLOCKED_EMPTY, all zero (every
   * `ret` misses); dirty: an update was skipped meanwhile. Under the lock. */
  uint8_t ret_blocked;
  bool ret_dirty;
  void *host_altstack;      /* hotpath's alternate signal stack for this thread */
  void *exit_jmp;           /* where the thread's dispatcher loop ends (jmp_buf) */
  struct hp_thread *next_live; /* registry of live threads */
  /* The code cache generation whose code and records this thread may still
   * use: noted when it is in the dispatcher (runtime/evict.c); cache_idle
   * while it uses none (a system call, a thread not started yet). */
  uint64_t cache_gen;
  bool cache_idle;
  uint8_t fault_exit_space[80]; /* struct hp_exit for synchronous faults */
  /* Fragments an asynchronous signal of this thread unlinked and holds
   * unlinked (hp_fragment_hold) until the thread comes out of the cache,
   * before its next safe point or system call (the records are still
   * there: hp_fragments_let_go). */
  void *held[8];
  uint8_t nheld;
  /* xsave needs 64-byte alignment; a page keeps the offset fixed for context.S. */
  uint8_t xsave[] __attribute__((aligned(HP_T_XSAVE)));
};

static inline uint32_t *hp_thread_head_counters(struct hp_thread *t)
{
  return (uint32_t *)((uint8_t *)t + HP_T_HEAD_COUNTERS);
}

static inline uint64_t *hp_thread_ibl_fast(struct hp_thread *t)
{
  return (uint64_t *)((uint8_t *)t + HP_T_IBL_FAST);
}

static inline uint64_t *hp_thread_jt_table(struct hp_thread *t)
{
  return (uint64_t *)((uint8_t *)t + HP_T_JT_TABLE);
}

static inline uint64_t *hp_thread_ret_table(struct hp_thread *t)
{
  return (uint64_t *)((uint8_t *)t + HP_T_RET_TABLE);
}

/* How many low bits of a guest return address index its thread's return
 * table: 18 where the CPU's pext is fast (Intel with BMI2, AMD from Zen 3:
 * the translated `ret` masks with it, leaving the flags alone), else 16
 * (movzx; also with --debug-narrow-returns). Fixed for the process. */
unsigned hp_ret_table_bits(void);
/* A thread block's bytes: the layout up to the return table, then the table
 * at that width. */
size_t hp_thread_block_size(void);
/* Allocates a thread block (page aligned, xsave area sized from CPUID) with
 * a fresh guest extended state, optionally with its own host stack. It is
 * registered as live until hp_thread_free. */
struct hp_thread *hp_thread_new(bool host_stack);
/* Bytes of the live threads' blocks, signal queues and host stacks. */
size_t hp_thread_bytes(void);
void hp_thread_free(struct hp_thread *t);
/* Calls fn for every live thread block (under the lock). */
void hp_thread_foreach(void (*fn)(struct hp_thread *, void *), void *arg);
/* In a fork child: only the calling thread survives. */
void hp_thread_forget_others(struct hp_thread *self);
/* Whether one guest thread (or CLONE_VM process) lives (hp_lock held). */
bool hp_thread_only_one(void);

/* The one lock of the translator: building, linking, the tables, shared
 * emulated state. Running in the cache takes none. A short spin, then a
 * futex; a signal handler may take it when its thread is not the holder. */
void hp_lock(void);
void hp_unlock(void);
/* Points GS at t (the calling OS thread's GS base) and records host FS. */
void hp_thread_attach(struct hp_thread *t);
/* The calling thread's block (read from GS base). */
struct hp_thread *hp_thread_current(void);
extern uint64_t hp_fs_poison_base; /* --debug-fs-poison's FS base */
/* The calling thread gets hotpath's FS back if the guest's (or the poison)
 * is in place: first thing in any code the dispatcher's lazy paths reach
 * that calls glibc beyond the string functions (errno, malloc, stdio).
 * Safe in any thread that has attached a block or detached (below): GS
 * names its block, or a stub; before the first attach, a no-op. */
void hp_fs_host(void);
/* GS names a stub from now on: the calling thread's block is about to be
 * freed, or it is a helper that inherited its creator's GS and never
 * attaches one. */
void hp_thread_detach(void);

/* context.S */
void hp_enter_cache(struct hp_thread *t);  /* returns when the guest leaves the cache */
void hp_cache_exit(void);                 /* target of gs:exit_routine, never called from C */

#endif
#endif
