/* einflow sim stage — executes a checked nest and produces raw
 * counters: accesses per level, tensor and instance, NoC traffic,
 * cycles and stall cycles by cause.
 *
 * Ownership: ef_sim_run returns a result the caller frees with
 * ef_result_destroy (NULL accepted). The nest is borrowed. */
#ifndef EINFLOW_SIM_H
#define EINFLOW_SIM_H

#include "einflow/model.h"

typedef enum {
    EF_ENGINE_STEP,   /* reference: advances one cycle at a time        */
    EF_ENGINE_EVENT   /* jumps over cycles where nothing changes         */
} ef_engine;

typedef enum {
    EF_FOLD_OVERLAP,   /* default: a fold's drain overlaps the next fill */
    EF_FOLD_SCALESIM   /* SCALE-Sim's serial fold formula, exactly       */
} ef_fold_model;

/* --trace: what the engines did, cycle by cycle, for a window of
 * cycles (src/report/trace.c keeps and writes it). Cycles are the
 * cascade's: each Einsum (or fused group) starts where the one before
 * it ended. Both engines make the same calls for the window's cycles
 * up to how they cut them into intervals (the event engine reports a
 * jump as one call of many cycles), so a sink that adds calls up
 * cycle by cycle sees the same trace under either. Calls may reach
 * outside [begin_cycle, end_cycle): the sink clips. The sink is
 * borrowed for the run; einsum is the Einsum's place in the nests
 * given to ef_sim_run_cascade (0 for ef_sim_run). */
typedef struct ef_result ef_result;
typedef struct ef_trace_sink ef_trace_sink;
struct ef_trace_sink {
    uint64_t begin_cycle, end_cycle;  /* the window [begin, end)        */
    void *ctx;                        /* passed back to the calls       */
    /* cycles [t, t + count) of Einsum einsum's unit: computing when
     * cause is NULL (first_steps steps issued in cycle t, later_steps
     * in each of the others; 0 while a step of several cycles goes
     * on), else stalled on cause ("DRAM.read", "final_drain", ...) */
    void (*cycles)(void *ctx, int einsum, uint64_t t, uint64_t count, uint64_t first_steps,
                   uint64_t later_steps, const char *cause);
    /* a transfer of Einsum einsum moves bytes (per instance) across
     * resource res_name ("GLB.read", "noc GLB->RF", ...), holding it
     * from cycle t for hold_cycles cycles (0: unlimited bandwidth, all
     * in cycle t) */
    void (*bytes)(void *ctx, int einsum, const char *res_name, uint64_t t,
                  uint64_t hold_cycles, uint64_t bytes);
};

typedef struct {
    ef_engine engine;
    ef_fold_model fold_model;
    bool check_values;
    uint64_t seed;
    const ef_trace_sink *trace;   /* NULL: no trace, and no cost; the
                                   * cascade then runs on one thread    */
    /* NULL, or once pass 1 has counted the accesses (the counters of
     * `counted` are final, its cycles not yet known): the most cycles
     * worth simulating. A run that would take more stops with
     * EF_STOPPED and no result. The mapper's confirmations give up on a
     * candidate as soon as it cannot beat the best confirmed so far.
     * ef_sim_run only; a fused group runs whole. */
    uint64_t (*budget)(void *ctx, const ef_result *counted);
    void *budget_ctx;
} ef_sim_options;

/* Counters of one tensor at one level. Totals are sums over instances;
 * max_* are the largest single instance (Timeloop's per-instance). */
typedef struct {
    uint64_t reads, fills, updates;
    uint64_t max_reads, max_fills, max_updates;
    uint64_t utilized_words;      /* largest tile held by one instance  */
    uint64_t utilized_instances;  /* instances that ever held a word    */
} ef_tensor_counters;

typedef struct {
    ef_tensor_counters ops[EF_NEST_MAX_OPS];
} ef_level_counters;

typedef struct {
    uint64_t words_sent;          /* source reads put on the network    */
    uint64_t deliveries;          /* words arriving at a PE-level store */
    uint64_t hops;                /* link traversals, all tensors       */
    uint64_t op_hops[EF_NEST_MAX_OPS]; /* the same, per operand slot    */
    uint64_t reductions;          /* partial sums combined in flight    */
    uint64_t op_words_in[EF_NEST_MAX_OPS]; /* words_sent, per operand   */
    uint64_t words_returned;      /* partial sums and outputs arriving at
                                   * the shared level, after reduction  */
} ef_noc_counters;

/* every port and link (the vector unit's too), every level's latency,
 * the unit's latency, unknown, final_drain, systolic_skew,
 * systolic_fold and other_einsums */
#define EF_MAX_STALL_CAUSES (EF_MAX_LEVELS * 3 + 4 + 6)

typedef struct {
    char cause[2 * EF_MAX_NAME + 16]; /* "DRAM.read", "noc GLB->RF", ... */
    uint64_t cycles;
    uint64_t fill_cycles;         /* of them, charged before the Einsum's
                                   * first step (the pipeline's fill) */
} ef_stall;

struct ef_result {
    const ef_nest *nest;
    uint64_t ops;                 /* iteration points executed          */
    uint64_t masked_ops;          /* points the causal mask leaves out:
                                   * their steps run, their MACs are
                                   * gated (not in ops)                 */
    uint64_t cycles;
    uint64_t compute_cycles;      /* cycles in which MACs issued        */
    uint64_t steps;               /* steps issued (all PEs in lockstep) */
    uint64_t skew_cycles;         /* systolic fill/drain                */
    ef_level_counters levels[EF_MAX_LEVELS];
    ef_noc_counters noc;
    ef_stall stalls[EF_MAX_STALL_CAUSES];
    int stall_count;
    uint64_t stall_total;
    uint64_t generations[EF_MAX_LEVELS]; /* tile changes per level      */
    bool values_checked;
    uint64_t values_compared;
    /* a fused cascade (model/fuse.c): its Einsums share the units, and
     * each one's cycles are those its unit spent on it */
    int fused_count;              /* Einsums in its group; 0 unfused    */
    int fused_index;              /* its place in the group             */
    int fusion_level;             /* where the group's intermediates live */
    uint64_t span_cycles;         /* what it adds to the cascade's cycles:
                                   * its cycles unfused; the group's
                                   * cycles for the first of a fused
                                   * group, 0 for the others            */
};

/* Runs one nest. values: when options->check_values, the workload's
 * tensor values (by tensor id; NULL entries are generated from the
 * seed) are read and the output tensor's values written into values[],
 * which must have room for every tensor (ef_values_create). */
typedef struct ef_values ef_values;
ef_values *ef_values_create(const ef_workload *w, uint64_t seed);
void ef_values_destroy(ef_values *v);

/* --check-against: the run's final outputs (tensors an Einsum writes
 * and no other reads) compared with those of the same name in another
 * workload, evaluated directly from the same input values. An element
 * agrees when |a - b| <= tolerance x max(1, |a|, |b|). */
#define EF_CHECK_AGAINST_TOLERANCE 1e-9

typedef struct {
    char workload[EF_MAX_NAME];     /* the other workload's name       */
    int tensor_count;               /* outputs compared                */
    char tensors[EF_MAX_TENSORS * 4][EF_MAX_NAME];
    uint64_t words_compared;
    double max_abs_error;           /* largest |a - b|                 */
    double max_rel_error;           /* largest |a - b| / max(|a|, |b|) */
    double tolerance;               /* EF_CHECK_AGAINST_TOLERANCE      */
    bool passed;
} ef_values_check;

/* Evaluates `other` directly with v's input values (each input of
 * other must be an input of v's workload, same name and shape) and
 * compares the final outputs both have (same name; same shape, else an
 * error; none in common is an error). v holds a checked run's values
 * (ef_sim_run_cascade with check_values). Fills *out; EF_ERR_SPEC with
 * a diagnostic when the two cannot be compared, EF_ERR_VALUES (out
 * filled, passed false) when they disagree past the tolerance. */
ef_status ef_values_check_against(const ef_values *v, const ef_workload *other,
                                  ef_values_check *out, ef_diags *diags);

ef_result *ef_sim_run(const ef_nest *nest, const ef_sim_options *options,
                      ef_values *values, ef_diags *diags, ef_status *status);
void ef_result_destroy(ef_result *r);
/* The stall cause of a fused Einsum's cycles spent on the others of
 * its group. */
#define EF_STALL_OTHER_EINSUMS "other_einsums"

/* What r adds to its cascade's cycles (span_cycles when fused). */
static inline uint64_t ef_result_span_cycles(const ef_result *r) {
    return r->fused_count ? r->span_cycles : r->cycles;
}

/* Adds cycles to r's stall cause `cause` (a new one at the end). */
void ef_result_add_stall(ef_result *r, const char *cause, uint64_t cycles);

/* Runs the Einsums nests[0 .. count) of one fused group (model.h,
 * ef_fuse_groups; level: its fusion level) together; out[i] receives
 * nest i's result. With check_values, values flow as in ef_sim_run,
 * Einsum by Einsum. On failure out[] holds NULLs. */
ef_status ef_sim_run_fused(ef_nest *const *nests, int count, int level,
                           const ef_sim_options *options, ef_values *values,
                           ef_result **out, ef_diags *diags);

/* Runs count nests on up to `threads` threads; out[i] receives nest i's
 * result (caller destroys each). Identical results for any thread
 * count. With check_values the runs go in order on the calling thread,
 * since each Einsum's checked output feeds the next. On failure returns
 * the first failing nest's status; out[] holds what finished. */
ef_status ef_sim_run_all(ef_nest *const *nests, int count, const ef_sim_options *opt,
                         ef_values *values, int threads, ef_result **out,
                         ef_diags *diags);

/* Runs the Einsums of one cascade, in order: those fused on chip
 * (ef_fuse_groups) together, the others as ef_sim_run_all does.
 * EF_ERR_MAPPING with located diagnostics when the fusion is illegal. */
ef_status ef_sim_run_cascade(ef_nest *const *nests, int count, const ef_sim_options *opt,
                             ef_values *values, int threads, ef_result **out,
                             ef_diags *diags);

/* Calls fn(ctx, i) for i in [0, count) on up to `threads` threads
 * (1: in order on the calling thread). fn must write only what index i
 * owns. EF_ERR_NOMEM when no pool could be made (nothing ran). */
ef_status ef_parallel_for(int count, int threads, void (*fn)(void *ctx, int i), void *ctx);

#endif
