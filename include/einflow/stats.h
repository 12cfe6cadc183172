/* einflow stats stage — derived metrics from raw counters: time at the
 * clock, utilization, per-level traffic, roofline and energy. Formulas
 * live here once; reporters only print what this computes.
 *
 * Ownership: plain value structs, nothing to free. */
#ifndef EINFLOW_STATS_H
#define EINFLOW_STATS_H

#include "einflow/sim.h"

typedef struct {
    uint64_t bytes;                /* reads + updates, toward the PEs   */
    double operational_intensity;  /* ops per byte; 0 when no traffic   */
    double bandwidth_bytes;        /* per cycle, all instances; 0 = inf */
    double attainable_ops;         /* per cycle                         */
    double achieved_ops;           /* per cycle                         */
    double used_bandwidth_bytes;   /* bytes / cycles                    */
    bool memory_bound;
} ef_roofline_level;

typedef struct {
    double seconds;
    double utilization;
    double peak_ops;               /* per cycle: PEs x MACs per PE      */
    bool has_energy;
    double energy_pj;
    double level_energy_pj[EF_MAX_LEVELS];
    double mac_energy_pj;
    ef_roofline_level roofline[EF_MAX_LEVELS];
} ef_stats;

void ef_stats_compute(const ef_result *r, ef_stats *out);

#endif
