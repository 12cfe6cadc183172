/* Internal interface between the sim passes.
 *
 * Pass 1 (trace.c) walks the mapped loop nest tile by tile, counts
 * every access and records, per level, the sequence of tile
 * generations with the cycles each fill and drain occupies.
 * Pass 2 (step.c) replays those generations cycle by cycle against
 * the PE array to get cycles and stalls. values.c, when asked, pushes
 * real numbers through the same nest. */
#ifndef EF_SIM_ENGINE_H
#define EF_SIM_ENGINE_H

#include "einflow/sim.h"
#include "model/dimset.h"

/* A stall cause recorded per generation, decided in pass 1. */
typedef struct {
    uint64_t first_step;      /* ordinal of the first step using it     */
    uint64_t fill_cycles;     /* time to bring in its new words         */
    uint64_t drain_cycles;    /* time to write back its leaving outputs */
    uint64_t parent_gen[EF_MAX_LEVELS]; /* gen of each outer level      */
    int fill_source;          /* level most of the fill comes from      */
    bool fill_noc_bound;      /* NoC bandwidth was the limiting term    */
} ef_gen;

typedef struct {
    ef_gen *gens;
    uint64_t count, cap;
} ef_gen_list;

typedef struct {
    const ef_nest *n;
    ef_result *res;
    ef_gen_list gens[EF_MAX_LEVELS];
    uint64_t steps;           /* valid temporal steps                  */
} ef_trace;

ef_status ef_trace_run(ef_trace *t, ef_values *values, ef_diags *diags);
void ef_trace_free(ef_trace *t);

/* Pass 2: fills res->cycles and stalls from t's generations, one cycle
 * at a time, or (fast_forward) jumping over cycles in which nothing
 * but counters would change — the event engine; both give identical
 * results by construction, and the tests compare them. */
ef_status ef_step_run(ef_trace *t, bool fast_forward, ef_diags *diags);

/* Value tracking hooks used by trace.c; no-ops when values is NULL. */
struct ef_values {
    const ef_workload *w;
    double *data[EF_MAX_TENSORS * 4];   /* backing values, by tensor   */
    bool integral;                       /* exact comparison possible  */
};

#endif
