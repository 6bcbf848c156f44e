/* Naming the code cache for perf: --perf-map (/tmp/perf-PID.map, one line
 * per fragment) and --jitdump (/tmp/jit-PID.dump, perf's jitdump format
 * with each fragment's code, for `perf inject --jit`). Under the lock. */
#ifndef HOTPATH_PERFOUT_H
#define HOTPATH_PERFOUT_H

struct hp_fragment;

/* f was published: add it to whichever of the two files is asked for. */
void hp_perf_fragment(const struct hp_fragment *f);

#endif
