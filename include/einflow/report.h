/* einflow report stage — renders results as JSON (fixed key order,
 * exact 64-bit counters) and as a short text table.
 *
 * Ownership: both renderers return malloc'd strings the caller frees.
 * results are borrowed. */
#ifndef EINFLOW_REPORT_H
#define EINFLOW_REPORT_H

#include "einflow/sim.h"

typedef struct {
    const char *arch_file, *workload_file, *mapping_file;
    const char *engine;        /* "step"                               */
    const char *fold_model;    /* "overlap" or "scalesim"              */
    double wall_seconds;
    bool check_values;
    uint64_t seed;
} ef_run_meta;

/* One result per Einsum of the workload, in cascade order. */
char *ef_report_json(const ef_result *const *results, int count,
                     const ef_run_meta *meta);
char *ef_report_table(const ef_result *const *results, int count,
                      const ef_run_meta *meta);

#endif
