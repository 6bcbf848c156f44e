#include "hotpath/stats.h"

#include <stdio.h>

#include "hotpath/cache.h"
#include "hotpath/log.h"
#include "hotpath/thread.h"

struct hp_stats hp_stats;

void hp_stats_print(void)
{
  struct hp_thread *t = hp_thread_current();
  if (t)
    hp_stats.ibl_lookups = t->ibl_lookups;
  hp_stats.cache_bytes = hp_cache_bytes_used();
  hp_stats.cache_cold_bytes = hp_cache_cold_bytes_used();
  if (hp_stats.guest_insns_translated)
    hp_stats.cache_bytes_per_insn_x100 = hp_stats.cache_bytes * 100 / hp_stats.guest_insns_translated;
  FILE *f = hp_log_stream();
  fprintf(f, "hotpath statistics:\n");
#define HP_STAT_PRINT(name, desc) fprintf(f, "  %-62s %12llu\n", desc, (unsigned long long)hp_stats.name);
  HP_STATS_TABLE(HP_STAT_PRINT)
#undef HP_STAT_PRINT
  fflush(f);
}
