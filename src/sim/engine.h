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

/* What one generation's transfers cost: its fill, and the write-back of
 * the generation before it (decided in pass 1, from the bytes moved). */
typedef struct {
    uint64_t fill_cycles, drain_cycles;
    int fill_source;          /* level most of the fill comes from      */
    bool fill_noc_bound;      /* NoC bandwidth was the limiting term    */
} ef_gen_cost;

/* What pass 2 needs of one generation besides its position. */
typedef struct {
    uint64_t steps;           /* steps of the generation, at least 1    */
    uint64_t step_off;        /* its first step after that of its pass
                               * through the run's pattern (below)      */
    uint64_t fill_cycles;     /* time to bring in its new words         */
    uint64_t drain_cycles;    /* time to write back its leaving outputs */
    int fill_source;          /* level most of the fill comes from      */
    bool fill_noc_bound;      /* NoC bandwidth was the limiting term    */
} ef_gen_shape;

/* Most generations in the pattern of one run. */
#define EF_GEN_PERIOD_MAX 8

/* Consecutive generations of one level under the same parent generation
 * (the one of the level above that holds them) whose shapes repeat a
 * pattern of `period` shapes: generation j of the run has shape
 * pattern[j % period] and starts (j / period) * cycle_steps +
 * step_off after the run's first step. A level whose tile changes at
 * every step but costs the same each time is one run per tile of its
 * parent instead of a record per generation; one whose tiles alternate
 * between a few kinds (a short last tile of an imperfect factor, a
 * clipped window) is one run too. Since a run never straddles a parent
 * generation, a generation's parents at every outer level follow from
 * its run's parent, level by level. */
typedef struct {
    uint64_t first_gen;       /* index of its first generation          */
    uint64_t first_step;      /* ordinal of that generation's first step */
    uint64_t count;           /* generations in the run, >= period      */
    uint64_t parent;          /* generation of level l - 1 (0 at level 1) */
    uint64_t shape_at;        /* its pattern: shapes[shape_at, + period) */
    uint64_t period;          /* 1 .. EF_GEN_PERIOD_MAX                 */
    uint64_t cycle_steps;     /* steps of one pass through the pattern  */
} ef_gen_run;

/* One level's generations, in order. Storage grows by need (doubling),
 * never with the product of the loop factors. Pass 1 appends with
 * ef_gens_push and ef_gens_repeat and ends with ef_gens_close; pass 2
 * only reads. */
typedef struct {
    ef_gen_run *runs;         /* owned, [cap_runs]; freed by ef_trace_free */
    uint64_t nruns, cap_runs;
    ef_gen_shape *shapes;     /* owned, [cap_shapes]: the runs' patterns */
    uint64_t nshapes, cap_shapes;
    uint64_t count;           /* generations, the open one included     */
    uint64_t limit;           /* more than this many is an error        */
    bool has_open;
    uint64_t open_step, open_parent; /* the last one pushed: its steps  */
    ef_gen_shape open;        /* and drain are known when the next comes */
} ef_gen_list;

/* Appends a generation whose first step is first_step, under generation
 * parent of the level above, with gc's fill; gc's drain cycles are those
 * of the generation before it. EF_ERR_OVERFLOW past the limit. */
ef_status ef_gens_push(ef_gen_list *gl, uint64_t first_step, uint64_t parent,
                       const ef_gen_cost *gc);
/* The last generation ends before step end_step and writes back in
 * drain_cycles. After it, every generation is in a run. */
ef_status ef_gens_close(ef_gen_list *gl, uint64_t end_step, uint64_t drain_cycles);
/* Appends k copies of generations [from, count), from >= 1, which end
 * with the open one: copy i (1..k) has first steps + i * step_shift and
 * parents + i * parent_shift. The open generation is first closed as
 * the copies say, ending before end_step and writing back like
 * generation from - 1 (a copy's first event repeats the one that closed
 * it); the last copy's last generation is left open. For pass 1's
 * repeated blocks of events. */
ef_status ef_gens_repeat(ef_gen_list *gl, uint64_t from, uint64_t k, uint64_t step_shift,
                         uint64_t parent_shift, uint64_t end_step);
/* The run holding generation g (< count, list closed). *hint is a run
 * index to try first (and its neighbours) before a binary search; it is
 * updated, so a caller walking forward pays O(1) per call. */
const ef_gen_run *ef_gens_run(const ef_gen_list *gl, uint64_t g, uint64_t *hint);
/* How many generations start before step s (list closed). */
uint64_t ef_gens_before_step(const ef_gen_list *gl, uint64_t s, uint64_t *hint);

/* Generation g of run r: its shape and its first step. */
static inline const ef_gen_shape *ef_gen_shape_of(const ef_gen_list *gl, const ef_gen_run *r,
                                                  uint64_t g) {
    uint64_t j = g - r->first_gen;
    return &gl->shapes[r->shape_at + (r->period == 1 ? 0 : j % r->period)];
}

static inline uint64_t ef_gen_first_step(const ef_gen_list *gl, const ef_gen_run *r,
                                         uint64_t g) {
    uint64_t j = g - r->first_gen;
    if (r->period == 1) return r->first_step + j * r->cycle_steps;
    return r->first_step + j / r->period * r->cycle_steps +
           gl->shapes[r->shape_at + j % r->period].step_off;
}

typedef struct {
    const ef_nest *n;
    ef_result *res;
    ef_gen_list gens[EF_MAX_LEVELS];
    uint64_t steps;           /* valid temporal steps                  */
} ef_trace;

ef_status ef_trace_run(ef_trace *t, ef_values *values, ef_diags *diags);
/* direct.c: the output of n's Einsum evaluated directly from v's
 * inputs (malloc'd, the output tensor's words), for the value check. */
double *ef_direct_eval(const ef_nest *n, const ef_values *v);
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
