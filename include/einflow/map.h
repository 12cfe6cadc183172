/* einflow map stage — the mapper: given an architecture, one Einsum of
 * a workload and a dataflow template, it samples legal mappings
 * (factorizations, imperfect ones included; loop orders; keep/bypass),
 * ranks them with a fast analytical estimate of the counts and the
 * cycles, and confirms the best few with the engine. The result is a
 * mapping like one a user writes, its nest and the engine's result.
 *
 * Deterministic for a seed when bounded by evaluations; a time bound
 * makes the result depend on the machine's speed.
 *
 * Ownership: ef_map_search fills an ef_map_result the caller releases
 * with ef_map_result_clear. arch, w and the dataflow are borrowed and
 * must outlive the result (its nest points into them). */
#ifndef EINFLOW_MAP_H
#define EINFLOW_MAP_H

#include "einflow/sim.h"
#include "einflow/stats.h"

#define EF_OBJECTIVES(X) X(LATENCY, "latency") X(ENERGY, "energy") X(EDP, "edp")
typedef enum {
#define X(k, s) EF_OBJECTIVE_##k,
    EF_OBJECTIVES(X)
#undef X
} ef_objective;

const char *ef_objective_name(ef_objective o);
/* "latency", "energy" or "edp" → *out; false for anything else. */
bool ef_objective_parse(const char *s, ef_objective *out);

/* Called now and then during a search (from the searching thread). */
typedef struct {
    const char *label;            /* ef_map_options.progress_label       */
    uint64_t considered, legal;
    uint64_t budget;              /* evaluations allowed (0: time only) */
    double elapsed_seconds;
    double best_estimate;         /* objective value of the best so far */
    int confirming;               /* > 0: running the engine on the
                                   * confirming-th best estimate         */
} ef_map_progress;

typedef struct {
    const ef_dataflow_spec *dataflow; /* NULL: the built-in "free"       */
    ef_objective objective;
    uint64_t seed;
    uint64_t evaluations;         /* candidates to consider; 0: default  */
    double time_limit_seconds;    /* 0: none                            */
    int confirm;                  /* best estimates run in the engine;
                                   * 0: none, the best estimate wins    */
    ef_sim_options sim;           /* how the engine runs them           */
    void (*progress)(void *ctx, const ef_map_progress *p);
    void *progress_ctx;
    const char *progress_label;   /* says which search is reporting     */
} ef_map_options;

#define EF_MAP_DEFAULT_EVALUATIONS 20000
#define EF_MAP_DEFAULT_CONFIRM 3

/* The analytical estimate of one mapping (map/estimate.c). */
typedef struct {
    double cycles;
    double energy_pj;
    double reads[EF_MAX_LEVELS][EF_NEST_MAX_OPS];   /* totals, all instances */
    double fills[EF_MAX_LEVELS][EF_NEST_MAX_OPS];
    double updates[EF_MAX_LEVELS][EF_NEST_MAX_OPS];
    double hops[EF_NEST_MAX_OPS];  /* NoC link traversals per operand */
    uint64_t steps;               /* temporal points (exact)            */
} ef_map_estimate;

typedef struct {
    ef_einsum_mapping_spec *mapping; /* owned: the best mapping         */
    ef_nest *nest;                /* owned: its nest                    */
    ef_result *result;            /* owned: the engine's result; NULL
                                   * when nothing was confirmed         */
    ef_stats stats;               /* of result                          */
    ef_map_estimate estimate;     /* the estimate that ranked it        */
    uint64_t considered;          /* distinct candidates generated      */
    uint64_t legal;               /* of those, legal mappings           */
    uint64_t confirmed;           /* engine runs                        */
    double seconds;               /* wall time of the search            */
    uint64_t active_pes;          /* PEs that perform at least one MAC  */
} ef_map_result;

/* Searches mappings of einsum e of w on arch. EF_ERR_MAPPING with a
 * diagnostic when no legal mapping exists in the template's space. */
ef_status ef_map_search(const ef_arch_spec *arch, const ef_workload *w, int e,
                        const ef_map_options *opt, ef_map_result *out,
                        ef_diags *diags);
void ef_map_result_clear(ef_map_result *r);

/* One search of a batch. */
typedef struct {
    const ef_arch_spec *arch;
    const ef_workload *workload;
    int einsum;
    ef_map_options options;
} ef_map_job;

/* Runs count searches on up to `threads` threads; out[i] gets job i's
 * result (the caller clears each). Returns the first failing job's
 * status; the results of the others are kept. */
ef_status ef_map_search_all(const ef_map_job *jobs, int count, int threads,
                            ef_map_result *out, ef_diags *diags);

/* The analytical estimate of a built nest (exposed for tests and bench). */
void ef_map_estimate_nest(const ef_nest *n, ef_map_estimate *out);

/* Objective value of a cycle count and an energy. */
double ef_map_objective_value(ef_objective o, double cycles, double energy_pj);

#endif
