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
                                   * confirming-th of to_confirm        */
    int to_confirm;
} ef_map_progress;

/* What a fused group fixes in the mapping of each of its Einsums
 * (map/fuse_search.c hands it to ef_map_search): the loops above the
 * fusion level, shared by the group; which tensors live on chip (the
 * group's intermediates: bypassed above the fusion level, kept there);
 * and how much of each rank the levels from the fusion level down must
 * cover — exactly the shared tile for a rank of the shared loops, so
 * that iteration g of them is the same slice in every Einsum. At a
 * shared fusion level the search then keeps every operand there and
 * nothing at the levels between it and the outermost one. At a per-PE
 * fusion level (per_pe) the shared loops include spatial ones, fixed
 * too (rows and cols); the intermediates are kept there and bypassed
 * above, and what the levels down to it keep of the other tensors is
 * searched (they stream, or the GLB keeps them). */
typedef struct {
    int rank;                     /* workload rank id                   */
    uint64_t factor;
} ef_map_loop;

typedef struct {
    int level;                    /* the fusion level (> 0)             */
    bool per_pe;                  /* it is a per-PE level               */
    ef_map_loop loops[EF_MAX_RANKS]; /* the shared loops, at the
                                   * outermost level, outermost first   */
    int loop_count;
    ef_map_loop rows[EF_MAX_RANKS]; /* per_pe: the shared spatial loops
                                   * (the spatial level's), outermost
                                   * first; none at a shared level     */
    int row_count;
    ef_map_loop cols[EF_MAX_RANKS];
    int col_count;
    uint64_t tile[EF_MAX_RANKS];  /* per rank: what the levels from
                                   * `level` down cover                 */
    bool shared[EF_MAX_RANKS];    /* covered exactly (a shared rank)    */
    bool on_chip[EF_MAX_TENSORS * 4]; /* by tensor id                   */
    /* a member of a group whose scores stay in the PEs below a shared
     * fusion level (docs/model.md 4.8): the per-PE level its inner
     * intermediates live at (0: none), bypassed above it and kept
     * there; its rows and cols are then fixed below the fusion level
     * and cover their part of the tile, and its own loops all lie at
     * that level */
    int inner_level;
    bool inner[EF_MAX_TENSORS * 4]; /* by tensor id                     */
} ef_map_fixed;

typedef struct {
    const ef_dataflow_spec *dataflow; /* NULL: the built-in "free"       */
    const ef_map_fixed *fixed;    /* NULL; else a fused group's member  */
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
    const ef_dataflow_spec *auto_vector; /* fused: the vector template the
                                   * caller gave Einsums without a
                                   * product by default; only those may
                                   * move to the array for FuseMax's
                                   * binding (NULL: any vector one may) */
} ef_map_options;

#define EF_MAP_DEFAULT_EVALUATIONS 20000
#define EF_MAP_DEFAULT_CONFIRM 3

/* The analytical estimate of one mapping (map/estimate.c). */
typedef struct {
    double cycles;
    double energy_pj;     /* dynamic, as summary.energy_pj: the mapper
                           * weighs leakage only through cycles       */
    double reads[EF_MAX_LEVELS][EF_NEST_MAX_OPS];   /* totals, all instances */
    double fills[EF_MAX_LEVELS][EF_NEST_MAX_OPS];
    double updates[EF_MAX_LEVELS][EF_NEST_MAX_OPS];
    double hops[EF_NEST_MAX_OPS];  /* NoC link traversals per operand */
    uint64_t steps;               /* temporal points (exact)            */
} ef_map_estimate;

/* How the `fused` dataflow (a template with fuse: true) mapped the
 * cascade an Einsum belongs to. */
typedef struct {
    bool asked;                   /* the dataflow asked for fusion       */
    int first, count;             /* its group: Einsums [first, first +
                                   * count); count 1: not fused         */
    int level;                    /* the fusion level; -1 when unfused  */
    ef_map_loop loops[EF_MAX_RANKS]; /* the group's shared loops        */
    int loop_count;
    ef_map_loop rows[EF_MAX_RANKS]; /* a per-PE level's shared spatial
                                   * loops                              */
    int row_count;
    ef_map_loop cols[EF_MAX_RANKS];
    int col_count;
    int inner_level;              /* scores in the PEs: the per-PE level
                                   * the inner intermediates live at;
                                   * -1 when none                       */
    bool inner[EF_MAX_TENSORS * 4]; /* ... which, by tensor id          */
    ef_map_loop inner_rows[EF_MAX_RANKS]; /* ... spread over the PEs by
                                   * the Einsums touching them          */
    int inner_row_count;
    ef_map_loop inner_cols[EF_MAX_RANKS];
    int inner_col_count;
    uint64_t tilings;             /* shared-loop tilings searched       */
    uint64_t tilings_confirmed;   /* of those, run in the engine        */
    char note[400];               /* why fewer Einsums were fused than
                                   * their intermediates would allow;
                                   * "" when nothing was given up       */
} ef_map_fusion;

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
    char dataflow[EF_MAX_NAME];   /* the template this Einsum's own
                                   * loops were searched in             */
    ef_unit unit;                 /* what computes its points           */
    ef_map_fusion fusion;         /* with a fuse: true dataflow         */
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

/* The template Einsum e is mapped with when the workload's dataflow is
 * df: df for a `+= a * b` product, and for every Einsum when df is a
 * vector template; for the others (elementwise, max=, sums of one
 * operand, division, exp) `vector` when the architecture has a vector
 * unit, else df. Borrowed pointers, one of df and vector. */
const ef_dataflow_spec *ef_map_dataflow_for(const ef_arch_spec *arch, const ef_einsum *e,
                                            const ef_dataflow_spec *df,
                                            const ef_dataflow_spec *vector);

/* Maps every Einsum of w's cascade as fused groups (docs/dataflows.md,
 * "fused"): consecutive Einsums that pass intermediates keep them on
 * chip at a fusion level, share the loops above it, and search their
 * own loops below it in dfs[e] (array or vector template, one per
 * Einsum), with the group's tiles fitting together. The fusion level
 * is the largest shared level that gives a legal group or a per-PE
 * level, and among candidate levels and shared tilings the engine's
 * result of the whole group decides (opt->confirm best estimates per
 * level; 0: the best estimate). When no legal
 * fusion exists, fewer Einsums are fused, or none, and out[e].fusion
 * says why. out[e] gets Einsum e's mapping, its nest (against arch),
 * the engine's result of its group (NULL with confirm 0) and the
 * search. Searches run on up to `threads` threads; the result does not
 * depend on their number. opt->dataflow and opt->fixed are ignored. */
ef_status ef_map_fused(const ef_arch_spec *arch, const ef_workload *w,
                       const ef_dataflow_spec *const *dfs, const ef_map_options *opt,
                       int threads, ef_map_result *out, ef_diags *diags);

/* The analytical estimate of a built nest (exposed for tests and bench). */
void ef_map_estimate_nest(const ef_nest *n, ef_map_estimate *out);
/* The same with n's energy costs (ef_energy_costs_of) given: they
 * depend on the architecture, the Einsum, the unit and the NoC only, so
 * a search computes them once, not per candidate. */
void ef_map_estimate_nest_costs(const ef_nest *n, const ef_energy_costs *costs,
                                ef_map_estimate *out);

/* Objective value of a cycle count and an energy. */
double ef_map_objective_value(ef_objective o, double cycles, double energy_pj);

#endif
