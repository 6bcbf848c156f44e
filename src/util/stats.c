#include "hotpath/stats.h"

#include <stdio.h>

#include "hotpath/log.h"
#include "hotpath/options.h"

struct hp_stats hp_stats;

bool hp_stats_enabled(void) { return hp_opt.stats || hp_opt.report; }

void hp_stats_print(void)
{
  if (!hp_log_usable()) /* the guest closed it, or reused its number */
    return;
  FILE *f = hp_log_stream();
  fprintf(f, "hotpath statistics:\n");
#define HP_STAT_PRINT(name, desc) fprintf(f, "  %-62s %12llu\n", desc, (unsigned long long)hp_stats.name);
  HP_STATS_TABLE(HP_STAT_PRINT)
#undef HP_STAT_PRINT
  fflush(f);
}
