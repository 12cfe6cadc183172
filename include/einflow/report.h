/* einflow report stage — renders results as JSON (fixed key order,
 * exact 64-bit counters) and as a short text table.
 *
 * Ownership: both renderers return malloc'd strings the caller frees.
 * results are borrowed. */
#ifndef EINFLOW_REPORT_H
#define EINFLOW_REPORT_H

#include "einflow/map.h"
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

/* The mapper's results (one per Einsum, in cascade order) as a mapping
 * file with comments. */
typedef struct {
    const char *arch_file, *workload_file;
    const char *dataflow;      /* the template's name                 */
    const char *objective;
    uint64_t seed;
} ef_map_meta;
char *ef_report_mapping_yaml(const ef_map_result *const *results, int count,
                             const ef_map_meta *meta);

#endif
