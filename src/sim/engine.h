/* Internal interface between the sim passes.
 *
 * Pass 1 (schedule.c and the walks it runs) walks the mapped loop nest
 * tile by tile, counts every access and records the schedule: per
 * level, the sequence of tile generations with the transfers each fill,
 * drain and stream makes (gens.c stores them). Pass 2 (step.c) replays
 * those generations cycle by cycle against the PE array and the ports
 * and links to get cycles and stalls. With --check-values the exact
 * walk pushes real numbers through the same nest. */
#ifndef EF_SIM_ENGINE_H
#define EF_SIM_ENGINE_H

#include "einflow/sim.h"
#include "model/dimset.h"
#include "model/timing.h"

/* Transfers as pass 1 decides them and pass 2 replays them: every
 * distinct cost (model/timing.h) is stored once, and generations refer
 * to it by index. Index 0 is the free transfer. */
typedef struct {
    ef_xfer *items;           /* owned, [cap]                           */
    uint64_t count, cap;
    uint32_t *slots;          /* index + 1, open addressing; [mask + 1] */
    uint64_t mask;
    /* with a trace only: each transfer's bytes per resource, [cap],
     * and transfers that cost alike but move different bytes kept
     * apart (without one the set is as small as the timing allows) */
    bool with_bytes;
    uint64_t (*bytes)[EF_RES_COUNT]; /* owned, [bytes_cap]              */
    uint64_t bytes_cap;
} ef_xfer_set;

/* The index of x in the set (added if new); bytes: its demand's bytes
 * per resource, kept when the set is with_bytes. EF_ERR_NOMEM/OVERFLOW. */
ef_status ef_xfer_intern(ef_xfer_set *s, const ef_xfer *x, const uint64_t *bytes,
                         uint32_t *id);

/* A run's trace (trace.c): the sink, and where the run lies in it. */
typedef struct {
    const ef_trace_sink *sink;
    int einsum;               /* its place in the cascade               */
    uint64_t base_cycles;     /* the cascade's cycle of its cycle 0     */
} ef_tracer;
void ef_xfer_set_free(ef_xfer_set *s);

/* What one generation's transfers cost, as pass 1 pushes it: its fill,
 * the write-back of the generation before it, and (innermost level)
 * the operands and partial sums its own steps stream past the levels. */
typedef struct {
    uint32_t fill, drain, stream;
} ef_gen_cost;

/* One slot of a run's pattern: a generation shape repeated `times`
 * times in a row. */
typedef struct {
    uint64_t steps;           /* steps of the generation, at least 1    */
    uint64_t times;           /* consecutive generations of this shape  */
    uint64_t gen_off;         /* generations of the pattern before it   */
    uint64_t step_off;        /* steps of the pattern before it         */
    uint32_t fill;            /* transfer that brings in its new words  */
    uint32_t drain;           /* write-back of its leaving outputs      */
    uint32_t stream;          /* innermost level: what its steps stream
                               * (0 at other levels)                    */
} ef_gen_shape;

/* Most slots in the pattern of one run. */
#define EF_GEN_PERIOD_MAX 8

/* Consecutive generations of one level that repeat a pattern: a
 * sequence of up to EF_GEN_PERIOD_MAX slots, each a shape repeated some
 * number of times, cycle_gens generations and cycle_steps steps in all.
 * Generation j of the run (0-based) lies in pass j / cycle_gens through
 * the pattern, at position j % cycle_gens. The run's generations lie
 * under consecutive generations of the level above: per_parent of them
 * under each, from `parent` on (per_parent 0: all under `parent`), and
 * a run never splits a parent's generations unevenly. So a level whose
 * tile changes at every step costs one run for all the tiles of its
 * parent, however many there are, when they cost alike; one whose
 * tiles alternate between a few kinds (the short last tile of an
 * imperfect factor, a clipped window, a fill at each parent's first
 * tile) costs one run too. */
typedef struct {
    uint64_t first_gen;       /* index of its first generation          */
    uint64_t first_step;      /* ordinal of that generation's first step */
    uint64_t count;           /* generations in the run                 */
    uint64_t parent;          /* generation of level l - 1 (0 at level 1)
                               * of its first generation                */
    uint64_t per_parent;      /* generations under each parent, or 0    */
    uint64_t shape_at;        /* its pattern: shapes[shape_at, + period) */
    uint64_t period;          /* slots: 1 .. EF_GEN_PERIOD_MAX          */
    uint64_t cycle_gens;      /* generations of one pass: sum of times  */
    uint64_t cycle_steps;     /* steps of one pass                      */
} ef_gen_run;

/* One level's generations, in order. Storage grows by need (doubling),
 * with the runs, never with the product of the loop factors. Pass 1
 * appends with ef_gens_push and ef_gens_repeat and ends with
 * ef_gens_close; pass 2 only reads. */
typedef struct {
    ef_gen_run *runs;         /* owned, [cap_runs]; freed by ef_schedule_free */
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
 * parent of the level above, with gc's fill and stream; gc's drain is
 * that of the generation before it. EF_ERR_OVERFLOW past the limit. */
ef_status ef_gens_push(ef_gen_list *gl, uint64_t first_step, uint64_t parent,
                       const ef_gen_cost *gc);
/* The last generation ends before step end_step and writes back with
 * transfer drain. After it, every generation is in a run. */
ef_status ef_gens_close(ef_gen_list *gl, uint64_t end_step, uint32_t drain);
/* The open generation's stream, when it is known only after its steps
 * (the exact walk). */
void ef_gens_set_open_stream(ef_gen_list *gl, uint32_t stream);
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

/* The slot of run r at position pos (< cycle_gens) of its pattern. */
static inline const ef_gen_shape *ef_gen_slot(const ef_gen_list *gl, const ef_gen_run *r,
                                              uint64_t pos) {
    const ef_gen_shape *s = &gl->shapes[r->shape_at];
    if (r->period == 1) return s;
    uint64_t i = 0;
    while (i + 1 < r->period && s[i + 1].gen_off <= pos) i++;
    return &s[i];
}

/* Generation g of run r: its shape, its first step and its parent. */
static inline const ef_gen_shape *ef_gen_shape_of(const ef_gen_list *gl, const ef_gen_run *r,
                                                  uint64_t g) {
    return ef_gen_slot(gl, r, (g - r->first_gen) % r->cycle_gens);
}

static inline uint64_t ef_gen_first_step(const ef_gen_list *gl, const ef_gen_run *r,
                                         uint64_t g) {
    uint64_t j = g - r->first_gen, pos = j % r->cycle_gens;
    const ef_gen_shape *s = ef_gen_slot(gl, r, pos);
    return r->first_step + j / r->cycle_gens * r->cycle_steps + s->step_off +
           (pos - s->gen_off) * s->steps;
}

static inline uint64_t ef_gen_parent(const ef_gen_run *r, uint64_t g) {
    return r->per_parent ? r->parent + (g - r->first_gen) / r->per_parent : r->parent;
}

/* What pass 1 leaves for pass 2 (and the counters it fills in res). */
typedef struct {
    const ef_nest *n;
    ef_result *res;
    ef_gen_list gens[EF_MAX_LEVELS];
    ef_xfer_set xfers;        /* every transfer the generations use     */
    uint32_t whole_stream;    /* one level only: the stream of all steps */
    uint64_t steps;           /* valid temporal steps                  */
    const ef_tracer *trace;   /* NULL: none                             */
    bool budgeted;            /* pass 2 stops with EF_STOPPED once it is
                               * sure to take more than cycle_budget    */
    uint64_t cycle_budget;
} ef_schedule;

static inline const ef_xfer *ef_schedule_xfer(const ef_schedule *t, uint32_t id) {
    return &t->xfers.items[id];
}

/* Pass 1 (schedule.c): fills t's generations and t->res's counters;
 * values: the exact walk, which moves them through the nest. */
ef_status ef_walk_run(ef_schedule *t, ef_values *values, ef_diags *diags);
void ef_schedule_free(ef_schedule *t);
/* direct.c: the output of Einsum e of w evaluated directly from v's
 * inputs (malloc'd, the output tensor's words; a recurrence's step 0
 * holds its initial value), for the value checks. */
double *ef_direct_eval(const ef_workload *w, const ef_einsum *e, const ef_values *v);

/* values.c: compares the output n's walk left in v with its direct
 * evaluation; EF_ERR_VALUES with a located diagnostic on the first
 * difference, else res->values_checked. */
ef_status ef_values_compare_output(const ef_nest *n, ef_values *v, ef_result *res,
                                   ef_diags *diags);
/* Writes tensor's initial value (init:) into every step-0 element of
 * data, and NaN into every other element when others_nan (so that a
 * step read before it is written shows); no-op unless the tensor is a
 * recurrence's. */
void ef_values_init_steps(const ef_workload *w, int tensor, double *data, bool others_nan);

/* Pass 2: fills res->cycles and stalls from t's generations, one cycle
 * at a time, or (fast_forward) jumping over cycles in which nothing
 * but counters would change — the event engine; both give identical
 * results by construction, and the tests compare them. */
ef_status ef_step_run(ef_schedule *t, bool fast_forward, ef_diags *diags);

/* Pass 2 for the Einsums of a fused group (model/fuse.c) at once:
 * fills each t[i]->res's cycles, compute cycles and stalls (the cycles
 * its unit spent on it) and *group_cycles, from the first request to
 * the last write-back of the group (group.c). */
ef_status ef_group_run(ef_schedule *const *t, int count, int level, bool fast_forward,
                       uint64_t *group_cycles, ef_diags *diags);

/* trace.c, for a schedule with a tracer: transfer id's bytes started
 * at the run's cycle t; cycles [t, t + count) of its unit (computing
 * when cause is NULL, as ef_trace_sink says); the latest cycle a period
 * skip from cycle t may reach so that every skipped cycle lies outside
 * the window (UINT64_MAX: any; t: none). */
void ef_trace_xfer(const ef_schedule *tr, uint32_t id, uint64_t t);
void ef_trace_cycles(const ef_schedule *tr, uint64_t t, uint64_t count, uint64_t first_steps,
                     uint64_t later_steps, const char *cause);
uint64_t ef_trace_skip_limit(const ef_schedule *tr, uint64_t t);

/* sim.c: ef_sim_run and ef_sim_run_fused for a cascade's trace: the
 * nest (or group's first nest) is Einsum `einsum` of the cascade and
 * starts at its cycle base_cycles. */
ef_result *ef_sim_run_at(const ef_nest *nest, const ef_sim_options *options, ef_values *values,
                         ef_diags *diags, ef_status *status, int einsum, uint64_t base_cycles);
ef_status ef_sim_run_fused_at(ef_nest *const *nests, int count, int level,
                              const ef_sim_options *options, ef_values *values, ef_result **out,
                              ef_diags *diags, int einsum, uint64_t base_cycles);

/* The values a checked run pushes through the nest (values.c). */
struct ef_values {
    const ef_workload *w;
    double *data[EF_MAX_TENSORS * 4];   /* backing values, by tensor   */
    bool integral;                       /* exact comparison possible  */
};

#endif
